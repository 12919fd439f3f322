#include "plugin_host.hpp"

#include "clock.hpp"
#include "log.hpp"
#include "options.hpp"

namespace forwarder::core {

namespace {

constexpr size_t kErrorSize = 512;

int api_publish(fwd_host* host, uint32_t topic, const void* data, size_t len)
{
    return host->instance->publish(topic, data, len);
}

void api_log(fwd_host* host, int level, const char* message)
{
    host->instance->log(level, message);
}

uint64_t api_monotonic_us(fwd_host*)
{
    return monotonic_us();
}

void api_stat_add(fwd_host* host, const char* name, int64_t delta)
{
    host->instance->counter(name).fetch_add(delta, std::memory_order_relaxed);
}

void api_stat_set(fwd_host* host, const char* name, int64_t value)
{
    host->instance->counter(name).store(value, std::memory_order_relaxed);
}

const fwd_host_api_v1 kHostApi{sizeof(fwd_host_api_v1), api_publish,  api_log,
                               api_monotonic_us,        api_stat_add, api_stat_set};

// Which topics each kind may publish: radios produce uplinks, transports requests, channel
// plans and link status, bootstrap plugins credentials; results and statistics come only
// from the core.
bool may_publish(uint32_t kind, uint32_t topic)
{
    switch (kind) {
    case FWD_KIND_RADIO:
        return topic == FWD_TOPIC_UPLINK;
    case FWD_KIND_TRANSPORT:
        return topic == FWD_TOPIC_TX_REQUEST || topic == FWD_TOPIC_RADIO_CONFIG ||
               topic == FWD_TOPIC_LINK_STATUS || topic == FWD_TOPIC_TIME_REFERENCE;
    case FWD_KIND_BOOTSTRAP:
        return topic == FWD_TOPIC_CREDENTIALS;
    default:
        return false;
    }
}

} // namespace

const fwd_host_api_v1& host_api()
{
    return kHostApi;
}

PluginInstance::PluginInstance(std::shared_ptr<LoadedPlugin> plugin, PluginSpec spec,
                               std::string config_file, int32_t radio_index, uint64_t gateway_eui,
                               EventBus& bus, Stats& stats)
    : plugin_(std::move(plugin)), spec_(std::move(spec)), config_file_(std::move(config_file)),
      radio_index_(radio_index), gateway_eui_(gateway_eui), bus_(bus), stats_(stats)
{
    published_uplinks_ = &stats_.counter("core.uplinks_received");
}

PluginInstance::~PluginInstance()
{
    stop();
    bus_.unsubscribe(inbox_);
    if (self_ != nullptr) {
        descriptor().destroy(self_);
        self_ = nullptr;
    }
}

void PluginInstance::create()
{
    const auto& d = descriptor();
    validate_options(d.options, spec_.options, config_file_, spec_.node, spec_.path);
    const std::string yaml = options_yaml(spec_.options);
    fwd_create_info_v1 info{sizeof(fwd_create_info_v1), spec_.name.c_str(), radio_index_,
                            gateway_eui_, config_file_.c_str()};
    char err[kErrorSize] = {0};
    self_ = d.create(&host_, &kHostApi, &info, yaml.c_str(), err, sizeof err);
    if (self_ == nullptr) {
        throw ConfigError(locate_plugin_error(err[0] ? err : "create failed (no reason given)",
                                              config_file_, spec_.node, spec_.options, spec_.path));
    }
    if (d.subscriptions != 0) {
        inbox_ = bus_.subscribe(spec_.name, d.subscriptions, spec_.queue_size);
        if (d.kind == FWD_KIND_TRANSPORT) {
            set_uplink_filter(spec_.filter);
        }
    }
}

void PluginInstance::set_uplink_filter(const UplinkFilter& filter)
{
    if (!inbox_) {
        return;
    }
    auto gate = std::make_shared<UplinkGate>();
    gate->filter = filter;
    gate->accepted = &stats_.counter(spec_.name + ".uplinks_accepted");
    gate->filtered = &stats_.counter(spec_.name + ".uplinks_filtered");
    for (const char* reason : {"crc", "lorawan", "net_id", "join_eui", "frequency", "data_rate"}) {
        gate->by_reason.emplace_back(reason,
                                     &stats_.counter(spec_.name + ".uplinks_filtered." + reason));
    }
    inbox_->set_uplink_gate(std::move(gate));
    spec_.filter = filter;
}

void PluginInstance::start()
{
    char err[kErrorSize] = {0};
    if (descriptor().start(self_, err, sizeof err) != FWD_OK) {
        throw ConfigError(locate_plugin_error(err[0] ? err : "start failed (no reason given)",
                                              config_file_, spec_.node, spec_.options, spec_.path));
    }
    started_ = true;
    if (inbox_) {
        delivering_ = true;
        deliver_thread_ = std::thread([this] { deliver_loop(); });
    }
}

void PluginInstance::stop()
{
    if (!started_) {
        return;
    }
    started_ = false;
    if (deliver_thread_.joinable()) {
        delivering_ = false;
        inbox_->close(); // the loop delivers what is queued, then ends
        deliver_thread_.join();
    }
    descriptor().stop(self_);
}

void PluginInstance::deliver_loop()
{
    std::vector<Event> batch;
    const auto deliver = descriptor().deliver;
    const auto& counter_name = spec_.name;
    std::atomic<int64_t>& delivered = stats_.counter(counter_name + ".delivered");
    while (inbox_->pop_all(batch, std::chrono::milliseconds(200))) {
        beat(heartbeat_, monotonic_us());
        for (const auto& e : batch) {
            deliver(self_, e.topic, e.bytes->data(), e.bytes->size());
        }
        delivered.fetch_add(static_cast<int64_t>(batch.size()), std::memory_order_relaxed);
    }
}

uint32_t PluginInstance::lead_time_us() const
{
    return descriptor().lead_time_us(self_);
}

bool PluginInstance::counter_now(uint32_t& count_us)
{
    return descriptor().counter_now(self_, &count_us) == FWD_OK;
}

TxStatus PluginInstance::transmit(const std::string& tx_request, uint32_t count_us,
                                  std::string& error)
{
    char err[kErrorSize] = {0};
    const int rc = descriptor().transmit(self_, tx_request.data(), tx_request.size(), count_us, err,
                                         sizeof err);
    if (rc == FWD_OK) {
        return TxStatus::ok;
    }
    if (rc == FWD_BUSY && plugin_->abi_version >= FWD_ABI_VERSION_2) {
        error = err[0] ? err : "channel busy";
        return TxStatus::busy;
    }
    error = err[0] ? err : "transmit failed (no reason given)";
    return TxStatus::error;
}

uint32_t PluginInstance::capabilities() const
{
    return plugin_->radio_capabilities;
}

TxStatus PluginInstance::channel_clear(uint64_t frequency_hz, uint32_t bandwidth_hz,
                                       uint32_t count_us, uint32_t airtime_us)
{
    if (plugin_->channel_clear == nullptr) {
        return TxStatus::ok;
    }
    const int rc = plugin_->channel_clear(self_, frequency_hz, bandwidth_hz, count_us, airtime_us);
    return rc == FWD_OK ? TxStatus::ok : rc == FWD_BUSY ? TxStatus::busy : TxStatus::error;
}

bool PluginInstance::last_pps(uint32_t& count_us, uint64_t& edge_mono_us)
{
    return plugin_->last_pps != nullptr &&
           plugin_->last_pps(self_, &count_us, &edge_mono_us) == FWD_OK;
}

int PluginInstance::publish(uint32_t topic, const void* data, size_t len)
{
    if (topic == 0 || topic >= FWD_TOPIC_COUNT_ || !may_publish(descriptor().kind, topic)) {
        counter("rejected_publish").fetch_add(1, std::memory_order_relaxed);
        return FWD_ERROR;
    }
    std::string bytes(static_cast<const char*>(data), len);
    if (topic == FWD_TOPIC_UPLINK) {
        published_uplinks_->fetch_add(1, std::memory_order_relaxed);
        if (uplink_stamper_) {
            uplink_stamper_(bytes);
        }
    }
    bus_.publish(topic, std::move(bytes), inbox_.get(), &spec_.name);
    return FWD_OK;
}

void PluginInstance::log(int level, const char* message)
{
    const int clamped = level < FWD_LOG_TRACE   ? FWD_LOG_TRACE
                        : level > FWD_LOG_ERROR ? FWD_LOG_ERROR
                                                : level;
    Log::write(static_cast<LogLevel>(clamped), spec_.name, message ? message : "");
}

std::atomic<int64_t>& PluginInstance::counter(const char* name)
{
    std::lock_guard lock(counters_mutex_);
    auto it = counters_.find(name);
    if (it != counters_.end()) {
        return *it->second;
    }
    auto& c = stats_.counter(spec_.name + "." + name);
    counters_.emplace(name, &c);
    return c;
}

} // namespace forwarder::core
