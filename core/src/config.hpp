#pragma once
// forwarder.yaml: loading and validation. Every error names the file, line, column and
// key path, e.g. "forwarder.yaml:12:7: transports[0].plugin: expected a plugin name".
#include "log.hpp"
#include "scheduler.hpp"
#include "time_keeper.hpp"
#include "uplink_filter.hpp"

#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace forwarder::core {

class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// "file:line:col: path: message" for a node (line and column 1-based).
std::string located(const std::string& file, const YAML::Node& node, const std::string& path,
                    const std::string& message);

// Where a radio driver runs: `auto` = in a worker process for every driver but `virtual`.
enum class ProcessMode { automatic, worker, in_process };

// One `radios:` or `transports:` entry.
struct PluginSpec {
    std::string plugin;    // driver / plugin name → forwarder-<plugin>.so
    std::string name;      // instance name (unique); defaults to radioN / the plugin name
    std::string path;      // key path, e.g. "transports[1]"
    YAML::Node node;       // the entry itself (for error locations)
    YAML::Node options;    // the `options:` mapping (may be null)
    size_t queue_size = 0; // bus queue capacity for this instance's subscriptions
    ProcessMode process = ProcessMode::automatic; // radios only: `process: auto|worker|inline`
    UplinkFilter filter;                          // transports only: which uplinks it receives
    uint32_t priority = 0; // transports only: ranks its downlinks above lower ones (0..255)
    // Radios only: a local channel plan (`channel_plan:`), published at start for servers that
    // send none (Semtech UDP); a transport's plan (LNS router_config) replaces it.
    std::optional<forwarder::v1::RadioConfig> channel_plan;
    // Whether this radio runs in its own worker process.
    bool runs_in_worker() const
    {
        return process == ProcessMode::worker ||
               (process == ProcessMode::automatic && plugin != "virtual");
    }
};

struct Config {
    std::string file;
    std::string gateway_eui_text = "auto";
    uint64_t gateway_eui = 0;
    LogLevel log_level = LogLevel::info;
    bool log_level_set = false;
    std::string log_file;
    std::string plugin_dir;
    std::vector<PluginSpec> radios;
    std::vector<PluginSpec> transports;
    SchedulerConfig scheduler;
    TimeConfig time;
    uint32_t stats_interval_s = 60; // 0 = no periodic GatewayStats
    std::string metrics_listen;     // `metrics.listen`: Prometheus endpoint; empty = none
    // Each top-level section as YAML text, to tell what a reload changed.
    std::map<std::string, std::string> section_text;
};

constexpr size_t kDefaultQueueSize = 4096;

// Reads and validates `path` (structure only: plugin options are checked by the host).
Config load_config(const std::string& path);

// Parses "16 hex digits" (dashes or colons allowed between bytes); false if malformed.
bool parse_eui(const std::string& text, uint64_t& eui);
std::string format_eui(uint64_t eui);
// The EUI-64 of the first non-loopback network interface's MAC (FFFE inserted); 0 if none.
uint64_t eui_from_mac();

} // namespace forwarder::core
