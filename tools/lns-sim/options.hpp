// Command line of forwarder-lns-sim.
#pragma once

#include "cli_args.hpp"
#include "regions.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace lns_sim {

enum class DownlinkMode { None, Rx1, Rx2, Rx1Rx2, ClassC, ClassB, Tts };

struct SendFile {
    std::string path;
    std::string content;
};

struct Options {
    std::string listen = "127.0.0.1:6090";
    std::string tls_cert;
    std::string tls_key;
    std::string client_ca;
    std::vector<std::pair<std::string, std::string>> tokens; // required header name, value
    std::optional<std::string> discovery_error;
    std::optional<std::string> muxs_uri;
    std::string region = "EU863";
    const RegionPlan* plan = nullptr;
    DrStyle dr_style = DrStyle::Tts;
    DownlinkMode downlink = DownlinkMode::None;
    int rx1_dr_offset = 0;
    double transfer_interval = 0;
    bool timesync = false;              // answer timesync requests (shape 1)
    bool transfer_after_uplink = false; // {xtime, gpstime} after each uplink (shape 4, as CS)
    bool beacon = false;                // bcning in router_config
    std::vector<SendFile> send_files;
    double ping_interval = 0;
    std::optional<uint64_t> half_open_after;
    uint64_t exit_after_messages = 0;
    double duration = 0;
    bool pretty = false;

    bool tls() const { return !tls_cert.empty(); }
};

using forwarder::support::UsageError;

extern const char* const kUsage;

// Returns nullopt for --help. Throws UsageError; reads --send and --token-file files.
std::optional<Options> parse_options(int argc, char** argv);

const char* downlink_mode_name(DownlinkMode mode);

} // namespace lns_sim
