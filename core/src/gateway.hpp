#pragma once
// The running forwarder: plugins loaded and created from a Config, wired through the bus
// and the scheduler, started and stopped in order.
#include "bus.hpp"
#include "config.hpp"
#include "metrics.hpp"
#include "plugin_host.hpp"
#include "scheduler.hpp"
#include "stats.hpp"
#include "time_keeper.hpp"

#include <condition_variable>
#include <memory>
#include <thread>
#include <vector>

namespace forwarder::core {

class Gateway {
public:
    Gateway(Config config, std::string plugin_dir);
    ~Gateway();

    // Loads every plugin and checks its options (plugins' own `check` included) without
    // creating anything: what --check-config does. Throws ConfigError / LoadError.
    void check();
    // Loads and creates every instance; any failure throws and nothing is started.
    void create();
    // Starts scheduler, transports, then radios. On failure, stops what started and throws.
    void start();
    // Stops transports (delivering what is queued), the scheduler (cancelling what is
    // queued), then radios.
    void stop();

    // Applies a new configuration while running (SIGHUP): transports are added, removed or
    // restarted, filters and priorities updated, the metrics address applied; radios keep
    // running. Changes that need a restart (radios, scheduler, time, stats, gateway EUI,
    // plugin_dir) are logged and left as they are. Throws ConfigError with nothing changed
    // when a new or changed transport cannot be loaded or created. Returns a summary line.
    std::string reload(Config next);
    // Core threads whose heartbeat is older than `limit_us` (name, age in µs).
    std::vector<std::pair<std::string, uint64_t>> stalled(uint64_t limit_us) const;
    // A heartbeat for a thread outside the gateway (the main loop).
    Beat heartbeat(const std::string& name) { return heartbeats_.add(name); }
    size_t transport_count() const;

    EventBus& bus() { return bus_; }
    Stats& stats() { return stats_; }
    Scheduler* scheduler() { return scheduler_.get(); }
    TimeKeeper* time_keeper() { return time_keeper_.get(); }
    const Config& config() const { return config_; }
    std::string stats_line() const;

private:
    std::shared_ptr<LoadedPlugin> load(const PluginSpec& spec, bool radio);
    void add_implicit_lns(Config& config,
                          const std::vector<std::shared_ptr<LoadedPlugin>>& transports) const;
    std::unique_ptr<PluginInstance> make_transport(const PluginSpec& spec,
                                                   std::shared_ptr<LoadedPlugin> plugin);
    void stats_loop();
    void publish_stats();
    // Refreshes the gauges only the core can read (duty cycle, queues, radio counters).
    void update_gauges();
    std::vector<MetricFamily> collect_metrics_now();

    Config config_;
    std::string plugin_dir_;
    EventBus bus_;
    Stats stats_;
    std::vector<std::unique_ptr<RadioInstance>> radios_;
    mutable std::mutex transports_mutex_; // transports_ changes on reload (metrics read it)
    std::vector<std::unique_ptr<PluginInstance>> transports_;
    Heartbeats heartbeats_;
    std::unique_ptr<TimeKeeper> time_keeper_;
    std::unique_ptr<Scheduler> scheduler_;
    std::unique_ptr<MetricsServer> metrics_;
    std::thread stats_thread_;
    std::mutex stats_mutex_;
    std::condition_variable stats_cv_;
    bool stopping_ = false;
    uint64_t started_at_us_ = 0;
};

} // namespace forwarder::core
