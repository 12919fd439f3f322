#pragma once
// One plugin instance and the host services it sees: publishing onto the bus, logging,
// the clock and counters, plus its own delivery thread for subscribed topics.
#include "bus.hpp"
#include "config.hpp"
#include "heartbeat.hpp"
#include "plugin_loader.hpp"
#include "scheduler.hpp"
#include "stats.hpp"

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>

namespace forwarder::core {
class PluginInstance;
}

struct fwd_host {
    forwarder::core::PluginInstance* instance;
};

namespace forwarder::core {

// What the gateway needs of a radio, wherever its driver runs: in this process
// (PluginInstance) or in a worker process of its own (RadioWorker).
class RadioInstance : public TxRadio {
public:
    // Throw ConfigError, located at the option the plugin names when it can be.
    virtual void create() = 0;
    virtual void start() = 0;
    virtual void stop() = 0;
    virtual const std::string& name() const = 0;
    // "<plugin name> <plugin version>" for log lines.
    virtual std::string plugin_text() const = 0;
    // A filter that may rewrite each published Uplink (GPS time stamps).
    virtual void set_uplink_stamper(std::function<bool(std::string&)> stamper) = 0;
};

class PluginInstance : public RadioInstance {
public:
    PluginInstance(std::shared_ptr<LoadedPlugin> plugin, PluginSpec spec, std::string config_file,
                   int32_t radio_index, uint64_t gateway_eui, EventBus& bus, Stats& stats);
    ~PluginInstance() override;

    PluginInstance(const PluginInstance&) = delete;
    PluginInstance& operator=(const PluginInstance&) = delete;

    // Throws ConfigError, located at the option the plugin names when it can be.
    void create() override;
    void start() override;
    void stop() override;

    const std::string& name() const override { return spec_.name; }
    std::string plugin_text() const override
    {
        return std::string(descriptor().name) + " " + descriptor().version;
    }
    const fwd_plugin_v1& descriptor() const { return *plugin_->descriptor; }

    // TxRadio (radio plugins only).
    uint32_t lead_time_us() const override;
    bool counter_now(uint32_t& count_us) override;
    TxStatus transmit(const std::string& tx_request, uint32_t count_us,
                      std::string& error) override;
    uint32_t capabilities() const override;
    TxStatus channel_clear(uint64_t frequency_hz, uint32_t bandwidth_hz, uint32_t count_us,
                           uint32_t airtime_us) override;
    bool last_pps(uint32_t& count_us, uint64_t& edge_mono_us) override;

    // Radio plugins: a filter that may rewrite each published Uplink (GPS time stamps).
    void set_uplink_stamper(std::function<bool(std::string&)> stamper) override
    {
        uplink_stamper_ = std::move(stamper);
    }

    // Stamped on every pass of this instance's delivery thread (watchdog). Before start().
    void set_heartbeat(Beat b) { heartbeat_ = std::move(b); }
    const PluginSpec& spec() const { return spec_; }

    // Transports: which uplinks enter this instance's queue (replaceable while running).
    void set_uplink_filter(const UplinkFilter& filter);

    // Host services, called through the C table.
    int publish(uint32_t topic, const void* data, size_t len);
    void log(int level, const char* message);
    std::atomic<int64_t>& counter(const char* name);

private:
    void deliver_loop();

    std::shared_ptr<LoadedPlugin> plugin_;
    PluginSpec spec_;
    std::string config_file_;
    int32_t radio_index_;
    uint64_t gateway_eui_;
    EventBus& bus_;
    Stats& stats_;
    fwd_host host_{this};
    void* self_ = nullptr;
    bool started_ = false;
    std::shared_ptr<Subscription> inbox_;
    std::thread deliver_thread_;
    Beat heartbeat_;
    std::atomic<bool> delivering_{false};
    std::atomic<int64_t>* published_uplinks_ = nullptr;
    std::function<bool(std::string&)> uplink_stamper_;
    std::mutex counters_mutex_;
    std::unordered_map<std::string, std::atomic<int64_t>*> counters_;
};

const fwd_host_api_v1& host_api();

} // namespace forwarder::core
