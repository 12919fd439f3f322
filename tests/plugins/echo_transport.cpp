// A test transport: answers every uplink with TxRequests (like a network server's class A
// downlink at uplink time + delay) and writes every TxResult addressed to it as a JSON line.
#include <forwarder/plugin.hpp>

#include "forwarder.pb.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

namespace {

const fwd_option kOptions[] = {
    {"delay_us", FWD_OPT_INT, 0, "1000000", "TX time = uplink count_us + delay_us"},
    {"immediate", FWD_OPT_BOOL, 0, "false", "send immediately instead of at a counter value"},
    {"gps", FWD_OPT_BOOL, 0, "false", "time requests by GPS time (expects GPS_UNLOCKED)"},
    {"repeat", FWD_OPT_INT, 0, "1", "requests per uplink (the same slot: the rest collide)"},
    {"radio", FWD_OPT_INT, 0, "-1", "radio index to send on; -1 = the uplink's radio"},
    {"power", FWD_OPT_FLOAT, 0, "14", "TX power dBm"},
    {"results", FWD_OPT_STRING, 1, nullptr, "file to write TxResult JSON lines to"},
    {"malformed", FWD_OPT_BOOL, 0, "false", "also publish one malformed TxRequest per uplink"},
    {"hang_ms", FWD_OPT_INT, 0, "0",
     "block the delivery thread this long (at most 10 s) on an uplink whose payload is \"hang\" "
     "(watchdog tests)"},
    {nullptr, 0, 0, nullptr, nullptr}};

struct Settings {
    long long delay_us = 1000000;
    bool immediate = false;
    bool gps = false;
    int repeat = 1;
    int radio = -1;
    float power = 14;
    bool malformed = false;
    int hang_ms = 0;
    std::string results;

    static Settings parse(const std::string& yaml)
    {
        const YAML::Node n = YAML::Load(yaml);
        Settings s;
        if (n["delay_us"])
            s.delay_us = n["delay_us"].as<long long>();
        if (n["immediate"])
            s.immediate = n["immediate"].as<bool>();
        if (n["gps"])
            s.gps = n["gps"].as<bool>();
        if (n["repeat"])
            s.repeat = n["repeat"].as<int>();
        if (n["radio"])
            s.radio = n["radio"].as<int>();
        if (n["power"])
            s.power = n["power"].as<float>();
        if (n["malformed"])
            s.malformed = n["malformed"].as<bool>();
        if (n["hang_ms"])
            s.hang_ms = std::min(n["hang_ms"].as<int>(), 10000);
        s.results = n["results"].as<std::string>();
        if (s.repeat < 1 || s.repeat > 100) {
            throw forwarder::sdk::Error("repeat: must be between 1 and 100");
        }
        return s;
    }
};

class EchoTransport : public forwarder::sdk::Plugin {
public:
    EchoTransport(forwarder::sdk::Host host, const fwd_create_info_v1& info,
                  const std::string& yaml)
        : host_(host), name_(info.instance_name), settings_(Settings::parse(yaml))
    {
    }
    ~EchoTransport() override
    {
        if (out_ != nullptr)
            std::fclose(out_);
    }
    static void check(const std::string& yaml) { Settings::parse(yaml); }

    void start() override
    {
        out_ = std::fopen(settings_.results.c_str(), "a");
        if (out_ == nullptr)
            throw forwarder::sdk::Error("results: cannot open " + settings_.results);
    }

    void deliver(uint32_t topic, std::string_view bytes) override
    {
        if (topic == FWD_TOPIC_UPLINK) {
            forwarder::v1::Uplink up;
            if (!up.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
                return;
            if (up.payload() == "hang" && settings_.hang_ms > 0) {
                std::this_thread::sleep_for(std::chrono::milliseconds(settings_.hang_ms));
                return;
            }
            for (int i = 0; i < settings_.repeat; ++i) {
                forwarder::v1::TxRequest req;
                req.set_id(next_id_++);
                req.set_payload(up.payload());
                req.set_radio(settings_.radio >= 0 ? static_cast<uint32_t>(settings_.radio)
                                                   : up.radio());
                req.set_frequency_hz(up.frequency_hz());
                *req.mutable_modulation() = up.modulation();
                req.set_power_dbm(settings_.power);
                req.set_invert_iq(true);
                if (settings_.immediate) {
                    req.mutable_timing()->set_immediate(true);
                } else if (settings_.gps) {
                    req.mutable_timing()->set_gps_time_us(1'000'000'000'000ull);
                } else {
                    req.mutable_timing()->set_count_us(
                        static_cast<uint32_t>(up.count_us() + settings_.delay_us));
                }
                host_.publish(FWD_TOPIC_TX_REQUEST, req.SerializeAsString());
            }
            if (settings_.malformed) {
                host_.publish(FWD_TOPIC_TX_REQUEST, std::string("\xff\xff\xff", 3));
            }
        } else if (topic == FWD_TOPIC_TX_RESULT) {
            forwarder::v1::TxResult r;
            if (!r.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
                return;
            if (r.requester() != name_)
                return;
            std::fprintf(out_,
                         "{\"id\":%llu,\"outcome\":\"%s\",\"radio\":%u,\"count_us\":%u,"
                         "\"airtime_us\":%u}\n",
                         static_cast<unsigned long long>(r.id()),
                         forwarder::v1::TxOutcome_Name(r.outcome()).c_str(), r.radio(),
                         r.count_us(), r.airtime_us());
            std::fflush(out_);
        }
    }

private:
    forwarder::sdk::Host host_;
    std::string name_;
    Settings settings_;
    FILE* out_ = nullptr;
    std::atomic<uint64_t> next_id_{1};
};

} // namespace

FORWARDER_PLUGIN(EchoTransport, "test-echo", FWD_KIND_TRANSPORT, "1.0.0",
                 "test transport: answers each uplink with TxRequests, logs TxResults", kOptions,
                 FWD_TOPIC_BIT(FWD_TOPIC_UPLINK) | FWD_TOPIC_BIT(FWD_TOPIC_TX_RESULT))
