// A test radio for worker processes: publishes one uplink every `interval_ms`, writes each
// transmitted frame to `tx_log` (with its pid), chatters on stdout like a HAL, and crashes
// (abort()) when the file `crash_file` appears (the file is removed first) or when asked
// to transmit a frame whose payload is "CRASH".
#include <forwarder/plugin.hpp>

#include "forwarder.pb.h"

#include <yaml-cpp/yaml.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <unistd.h>

namespace {

const fwd_option kOptions[] = {
    {"interval_ms", FWD_OPT_INT, 0, "1000", "one uplink every interval_ms"},
    {"crash_file", FWD_OPT_STRING, 0, nullptr, "abort() when this file appears (removed first)"},
    {"tx_log", FWD_OPT_STRING, 0, nullptr, "file to append transmitted frames to (JSON lines)"},
    {"frequency_hz", FWD_OPT_INT, 0, "868100000", "uplink frequency"},
    {nullptr, 0, 0, nullptr, nullptr}};

class CrashyRadio : public forwarder::sdk::RadioPlugin {
public:
    CrashyRadio(forwarder::sdk::Host host, const fwd_create_info_v1& info, const std::string& yaml)
        : host_(host), index_(static_cast<uint32_t>(info.radio_index))
    {
        const YAML::Node n = YAML::Load(yaml);
        if (n["interval_ms"]) {
            interval_ms_ = n["interval_ms"].as<int>();
            if (interval_ms_ < 10) {
                throw forwarder::sdk::Error("interval_ms: must be at least 10");
            }
        }
        if (n["crash_file"]) {
            crash_file_ = n["crash_file"].as<std::string>();
        }
        if (n["tx_log"]) {
            tx_log_ = n["tx_log"].as<std::string>();
        }
        if (n["frequency_hz"]) {
            frequency_hz_ = n["frequency_hz"].as<uint64_t>();
        }
    }

    static void check(const std::string& yaml)
    {
        const YAML::Node n = YAML::Load(yaml);
        if (n["interval_ms"] && n["interval_ms"].as<int>() < 10) {
            throw forwarder::sdk::Error("interval_ms: must be at least 10");
        }
    }

    void start() override
    {
        std::printf("crashy: HAL chatter from pid %d\n", static_cast<int>(getpid()));
        std::fflush(stdout);
        running_ = true;
        thread_ = std::thread([this] { run(); });
    }

    void stop() override
    {
        running_ = false;
        if (thread_.joinable()) {
            thread_.join();
        }
    }

    uint32_t lead_time_us() override { return 20000; }
    uint32_t counter_now() override { return static_cast<uint32_t>(host_.monotonic_us()); }

    void transmit(std::string_view tx_request, uint32_t count_us) override
    {
        forwarder::v1::TxRequest req;
        if (!req.ParseFromArray(tx_request.data(), static_cast<int>(tx_request.size()))) {
            throw forwarder::sdk::Error("malformed TxRequest");
        }
        if (req.payload() == "CRASH") {
            std::abort();
        }
        if (!tx_log_.empty()) {
            std::lock_guard lock(mutex_);
            if (FILE* f = std::fopen(tx_log_.c_str(), "a")) {
                std::fprintf(f, "{\"count_us\":%u,\"pid\":%d,\"radio\":%u}\n", count_us,
                             static_cast<int>(getpid()), index_);
                std::fclose(f);
            }
        }
    }

private:
    void run()
    {
        while (running_) {
            if (!crash_file_.empty() && access(crash_file_.c_str(), F_OK) == 0) {
                unlink(crash_file_.c_str());
                std::printf("crashy: crashing on request\n");
                std::fflush(stdout);
                std::abort();
            }
            forwarder::v1::Uplink up;
            up.set_payload(std::string("\x40\x01\x02\x03", 4));
            up.set_radio(index_);
            up.set_count_us(counter_now());
            up.set_frequency_hz(frequency_hz_);
            auto* lora = up.mutable_modulation()->mutable_lora();
            lora->set_spreading_factor(7);
            lora->set_bandwidth_hz(125000);
            lora->set_coding_rate(forwarder::v1::CR_4_5);
            up.set_crc(forwarder::v1::CRC_OK);
            up.set_rssi_channel_dbm(-40);
            up.set_snr_db(7);
            up.set_received_mono_us(host_.monotonic_us());
            host_.publish(FWD_TOPIC_UPLINK, up.SerializeAsString());
            for (int waited = 0; running_ && waited < interval_ms_; waited += 10) {
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
        }
    }

    forwarder::sdk::Host host_;
    uint32_t index_;
    int interval_ms_ = 1000;
    std::string crash_file_;
    std::string tx_log_;
    uint64_t frequency_hz_ = 868100000;
    std::mutex mutex_;
    std::atomic<bool> running_{false};
    std::thread thread_;
};

} // namespace

FORWARDER_PLUGIN(CrashyRadio, "test-crashy", FWD_KIND_RADIO, "1.0.0",
                 "test radio: periodic uplinks, HAL-like chatter, crashes on request", kOptions, 0)
