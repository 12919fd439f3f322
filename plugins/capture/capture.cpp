// The capture transport: every uplink, TxResult and stats report as one JSON line, to
// stdout or a file — the operator's "tcpdump" of the bus.
#include "capture_format.hpp"

#include <forwarder/plugin.hpp>

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>

namespace forwarder::capture {
namespace {

const fwd_option kOptions[] = {
    {"path", FWD_OPT_STRING, 0, "-", "file to append JSON lines to; \"-\" for standard output"},
    {"format", FWD_OPT_STRING, 0, "json", "output format; only \"json\" (one object per line)"},
    {"stats", FWD_OPT_BOOL, 0, "false", "also write the periodic gateway statistics"},
    {nullptr, 0, 0, nullptr, nullptr}};

struct Settings {
    std::string path = "-";
    bool stats = false;

    static Settings parse(const std::string& yaml)
    {
        Settings s;
        YAML::Node n;
        try {
            n = YAML::Load(yaml);
        } catch (const YAML::Exception& e) {
            throw sdk::Error(std::string("options: invalid YAML: ") + e.what());
        }
        if (n["path"]) {
            s.path = n["path"].as<std::string>();
            if (s.path.empty()) {
                throw sdk::Error("path: must not be empty (use \"-\" for standard output)");
            }
        }
        if (n["format"]) {
            const auto f = n["format"].as<std::string>();
            if (f != "json") {
                throw sdk::Error("format: unsupported format '" + f + "' (supported: json)");
            }
        }
        if (n["stats"]) {
            s.stats = n["stats"].as<bool>();
        }
        return s;
    }
};

class Capture : public sdk::Plugin {
public:
    Capture(sdk::Host host, const fwd_create_info_v1&, const std::string& yaml)
        : host_(host), settings_(Settings::parse(yaml))
    {
    }
    ~Capture() override { close(); }

    static void check(const std::string& yaml) { Settings::parse(yaml); }

    void start() override
    {
        if (settings_.path == "-") {
            out_ = stdout;
            return;
        }
        out_ = std::fopen(settings_.path.c_str(), "a");
        if (out_ == nullptr) {
            throw sdk::Error("path: cannot open " + settings_.path + ": " + std::strerror(errno));
        }
        host_.info("writing JSON lines to " + settings_.path);
    }

    void stop() override { close(); }

    void deliver(uint32_t topic, std::string_view bytes) override
    {
        std::string line;
        if (topic == FWD_TOPIC_UPLINK) {
            forwarder::v1::Uplink up;
            if (!up.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
                return malformed("Uplink");
            }
            line = format_uplink(up);
        } else if (topic == FWD_TOPIC_TX_RESULT) {
            forwarder::v1::TxResult r;
            if (!r.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
                return malformed("TxResult");
            }
            line = format_tx_result(r);
        } else if (topic == FWD_TOPIC_GATEWAY_STATS) {
            if (!settings_.stats) {
                return;
            }
            forwarder::v1::GatewayStats s;
            if (!s.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
                return malformed("GatewayStats");
            }
            line = format_stats(s);
        } else {
            return;
        }
        line.push_back('\n');
        if (out_ == nullptr) {
            return;
        }
        // Flushed per line so `tail -f` and pipes see each frame as it arrives.
        if (std::fwrite(line.data(), 1, line.size(), out_) != line.size() ||
            std::fflush(out_) != 0) {
            host_.stat_add("write_errors");
            const uint64_t now = host_.monotonic_us();
            if (now - last_error_log_us_ > 10'000'000) {
                last_error_log_us_ = now;
                host_.error("cannot write to " + settings_.path + ": " + std::strerror(errno));
            }
            return;
        }
        host_.stat_add("lines");
        if (topic == FWD_TOPIC_UPLINK) {
            host_.stat_add("uplinks_forwarded");
        }
    }

private:
    void malformed(const char* what)
    {
        host_.stat_add("malformed_events");
        host_.warn(std::string("ignored an event that is not a valid ") + what);
    }

    void close()
    {
        if (out_ != nullptr && out_ != stdout) {
            std::fclose(out_);
        } else if (out_ == stdout) {
            std::fflush(stdout);
        }
        out_ = nullptr;
    }

    sdk::Host host_;
    Settings settings_;
    FILE* out_ = nullptr;
    uint64_t last_error_log_us_ = 0;
};

} // namespace
} // namespace forwarder::capture

FORWARDER_PLUGIN(forwarder::capture::Capture, "capture", FWD_KIND_TRANSPORT, "1.0.0",
                 "writes every uplink and TxResult as one JSON line to stdout or a file",
                 forwarder::capture::kOptions,
                 FWD_TOPIC_BIT(FWD_TOPIC_UPLINK) | FWD_TOPIC_BIT(FWD_TOPIC_TX_RESULT) |
                     FWD_TOPIC_BIT(FWD_TOPIC_GATEWAY_STATS))
