#include "gateway.hpp"

#include "clock.hpp"
#include "log.hpp"
#include "options.hpp"
#include "radio_worker.hpp"

#include <algorithm>
#include <map>

namespace forwarder::core {

namespace {
constexpr const char* kComponent = "core";
}

Gateway::Gateway(Config config, std::string plugin_dir)
    : config_(std::move(config)), plugin_dir_(std::move(plugin_dir))
{
}

Gateway::~Gateway()
{
    stop();
}

std::shared_ptr<LoadedPlugin> Gateway::load(const PluginSpec& spec, bool radio)
{
    std::shared_ptr<LoadedPlugin> plugin;
    try {
        plugin = load_plugin(plugin_dir_, spec.plugin);
    } catch (const LoadError& e) {
        throw ConfigError(located(config_.file, spec.node, spec.path, e.what()));
    }
    const uint32_t kind = plugin->descriptor->kind;
    const bool ok =
        radio ? kind == FWD_KIND_RADIO : (kind == FWD_KIND_TRANSPORT || kind == FWD_KIND_BOOTSTRAP);
    if (!ok) {
        throw ConfigError(located(config_.file, spec.node, spec.path,
                                  plugin->path + ": is a " + plugin_kind_name(kind) + " plugin; `" +
                                      (radio ? "radios" : "transports") + ":` needs a " +
                                      (radio ? "radio" : "transport or bootstrap") + " plugin"));
    }
    return plugin;
}

// A bootstrap plugin (CUPS) provides the LNS's address and credentials; with no `lns`
// transport configured, one is added that waits for them.
void Gateway::add_implicit_lns(Config& config,
                               const std::vector<std::shared_ptr<LoadedPlugin>>& transports) const
{
    const PluginSpec* bootstrap = nullptr;
    for (size_t i = 0; i < transports.size(); ++i) {
        if (config.transports[i].plugin == "lns") {
            return;
        }
        if (transports[i]->descriptor->kind == FWD_KIND_BOOTSTRAP && bootstrap == nullptr) {
            bootstrap = &config.transports[i];
        }
    }
    if (bootstrap == nullptr) {
        return;
    }
    PluginSpec lns;
    lns.plugin = "lns";
    lns.name = "lns";
    for (const auto& t : config.transports) {
        if (t.name == lns.name) {
            lns.name = "lns-" + bootstrap->name;
        }
    }
    lns.path = bootstrap->path + " (implicit lns transport)";
    lns.node.reset(bootstrap->node);
    lns.options = YAML::Node(YAML::NodeType::Map);
    lns.options["wait_for_credentials"] = true;
    lns.queue_size = kDefaultQueueSize;
    log_info(kComponent, "no lns transport configured: adding one for the LNS that " +
                             bootstrap->name + " provides");
    config.transports.push_back(std::move(lns));
}

std::unique_ptr<PluginInstance> Gateway::make_transport(const PluginSpec& spec,
                                                        std::shared_ptr<LoadedPlugin> plugin)
{
    auto inst = std::make_unique<PluginInstance>(std::move(plugin), spec, config_.file, -1,
                                                 config_.gateway_eui, bus_, stats_);
    inst->create();
    return inst;
}

void Gateway::check()
{
    {
        std::vector<std::shared_ptr<LoadedPlugin>> transports;
        for (const auto& spec : config_.transports) {
            transports.push_back(load(spec, false));
        }
        add_implicit_lns(config_, transports);
    }
    for (const auto* list : {&config_.radios, &config_.transports}) {
        const bool radio = list == &config_.radios;
        for (const auto& spec : *list) {
            auto plugin = load(spec, radio);
            const auto& d = *plugin->descriptor;
            validate_options(d.options, spec.options, config_.file, spec.node, spec.path);
            if (d.check != nullptr) {
                char err[512] = {0};
                if (d.check(options_yaml(spec.options).c_str(), err, sizeof err) != FWD_OK) {
                    throw ConfigError(locate_plugin_error(err[0] ? err : "invalid options",
                                                          config_.file, spec.node, spec.options,
                                                          spec.path));
                }
            }
        }
    }
}

void Gateway::create()
{
    uint64_t eui = config_.gateway_eui;
    if (config_.gateway_eui_text == "auto") {
        eui = eui_from_mac();
        config_.gateway_eui = eui;
    }
    log_info(kComponent, "gateway EUI " + format_eui(eui) + ", plugins from " + plugin_dir_);
    // Load everything first: a bad plugin anywhere is reported before any instance exists.
    std::vector<std::shared_ptr<LoadedPlugin>> radio_plugins, transport_plugins;
    for (const auto& spec : config_.radios) {
        radio_plugins.push_back(load(spec, true));
    }
    for (const auto& spec : config_.transports) {
        transport_plugins.push_back(load(spec, false));
    }
    const size_t configured = config_.transports.size();
    add_implicit_lns(config_, transport_plugins);
    for (size_t i = configured; i < config_.transports.size(); ++i) {
        transport_plugins.push_back(load(config_.transports[i], false));
    }
    for (size_t i = 0; i < config_.radios.size(); ++i) {
        std::unique_ptr<RadioInstance> inst;
        if (config_.radios[i].runs_in_worker()) {
            inst = std::make_unique<RadioWorker>(radio_plugins[i], config_.radios[i], config_.file,
                                                 static_cast<int32_t>(i), eui, bus_, stats_);
        } else {
            inst =
                std::make_unique<PluginInstance>(radio_plugins[i], config_.radios[i], config_.file,
                                                 static_cast<int32_t>(i), eui, bus_, stats_);
        }
        inst->create();
        radios_.push_back(std::move(inst));
    }
    for (size_t i = 0; i < config_.transports.size(); ++i) {
        transports_.push_back(make_transport(config_.transports[i], transport_plugins[i]));
    }
    std::vector<TxRadio*> tx_radios;
    for (auto& r : radios_) {
        tx_radios.push_back(r.get());
    }
    time_keeper_ = std::make_unique<TimeKeeper>(bus_, stats_, config_.time, tx_radios);
    scheduler_ = std::make_unique<Scheduler>(bus_, stats_, config_.scheduler, tx_radios);
    scheduler_->set_gps_time(time_keeper_.get());
    scheduler_->set_heartbeat(heartbeats_.add("scheduler"));
    time_keeper_->set_heartbeat(heartbeats_.add("clock"));
    for (const auto& t : config_.transports) {
        if (t.priority != 0) {
            scheduler_->set_requester_priority(t.name, t.priority);
        }
    }
    for (auto& r : radios_) {
        r->set_uplink_stamper([keeper = time_keeper_.get()](std::string& bytes) {
            return keeper->stamp_uplink(bytes);
        });
    }
}

void Gateway::start()
{
    started_at_us_ = monotonic_us();
    try {
        if (!config_.metrics_listen.empty()) {
            metrics_ = std::make_unique<MetricsServer>(config_.metrics_listen,
                                                       [this] { return collect_metrics_now(); });
            try {
                metrics_->start();
            } catch (const std::exception& e) {
                throw ConfigError(config_.file + ": " + e.what());
            }
        }
        // Local channel plans first: the radios' and the scheduler's queues hold them until they
        // start; a plan from a transport (LNS router_config) arrives later and replaces it.
        for (const auto& spec : config_.radios) {
            if (spec.channel_plan) {
                bus_.publish(FWD_TOPIC_RADIO_CONFIG, spec.channel_plan->SerializeAsString());
                log_info(kComponent,
                         spec.name + ": local channel plan (" +
                             std::to_string(spec.channel_plan->multi_sf_channels_size()) +
                             " multi-SF channels" +
                             (spec.channel_plan->has_std_channel() ? ", LoRa std" : "") +
                             (spec.channel_plan->has_fsk_channel() ? ", FSK" : "") +
                             (spec.channel_plan->region().empty()
                                  ? std::string()
                                  : ", " + spec.channel_plan->region()) +
                             ")");
            }
        }
        time_keeper_->start();
        scheduler_->start();
        for (auto& t : transports_) {
            t->set_heartbeat(heartbeats_.add("transport " + t->name()));
            t->start();
            log_info(kComponent, "started transport " + t->name() + " (" + t->descriptor().name +
                                     " " + t->descriptor().version + ")");
        }
        for (auto& r : radios_) {
            r->start();
            log_info(kComponent, "started radio " + r->name() + " (" + r->plugin_text() + ")");
        }
    } catch (...) {
        stop();
        throw;
    }
    {
        std::lock_guard lock(stats_mutex_);
        stopping_ = false;
    }
    stats_thread_ = std::thread([this] { stats_loop(); });
}

void Gateway::stop()
{
    {
        std::lock_guard lock(stats_mutex_);
        stopping_ = true;
    }
    stats_cv_.notify_all();
    if (stats_thread_.joinable()) {
        stats_thread_.join();
    }
    if (metrics_) {
        metrics_->stop();
    }
    {
        std::lock_guard lock(transports_mutex_);
        for (auto& t : transports_) {
            t->stop();
        }
    }
    if (scheduler_) {
        scheduler_->stop();
    }
    if (time_keeper_) {
        time_keeper_->stop();
    }
    for (auto& r : radios_) {
        r->stop();
    }
}

std::string Gateway::stats_line() const
{
    return "uplinks " + std::to_string(stats_.get("core.uplinks_received")) + ", tx requests " +
           std::to_string(stats_.get("scheduler.tx_requests")) + " (ok " +
           std::to_string(stats_.get("scheduler.tx_ok")) + ", rejected " +
           std::to_string(stats_.get("scheduler.tx_rejected")) + "), bus drops " +
           std::to_string(bus_.dropped());
}

void Gateway::publish_stats()
{
    forwarder::v1::GatewayStats s;
    const uint64_t now = monotonic_us();
    s.set_monotonic_us(now);
    s.set_uptime_s((now - started_at_us_) / 1000000u);
    s.set_uplinks_received(static_cast<uint64_t>(stats_.get("core.uplinks_received")));
    s.set_tx_requests(static_cast<uint64_t>(stats_.get("scheduler.tx_requests")));
    s.set_tx_ok(static_cast<uint64_t>(stats_.get("scheduler.tx_ok")));
    s.set_tx_rejected(static_cast<uint64_t>(stats_.get("scheduler.tx_rejected")));
    s.set_bus_dropped(bus_.dropped());
    update_gauges();
    for (const auto& [name, value] : stats_.snapshot()) {
        auto* c = s.add_counters();
        c->set_name(name);
        c->set_value(value);
    }
    bus_.publish(FWD_TOPIC_GATEWAY_STATS, s.SerializeAsString());
    log_info(kComponent, "stats: " + stats_line());
}

size_t Gateway::transport_count() const
{
    std::lock_guard lock(transports_mutex_);
    return transports_.size();
}

std::vector<std::pair<std::string, uint64_t>> Gateway::stalled(uint64_t limit_us) const
{
    return heartbeats_.stalled(monotonic_us(), limit_us);
}

namespace {

// What makes a running transport instance different from a spec: anything but its filter
// and priority, which are applied in place.
bool same_instance(const PluginSpec& a, const PluginSpec& b)
{
    return a.plugin == b.plugin && a.queue_size == b.queue_size &&
           options_yaml(a.options) == options_yaml(b.options);
}

std::string section(const Config& c, const std::string& key)
{
    auto it = c.section_text.find(key);
    return it == c.section_text.end() ? std::string() : it->second;
}

std::string join_names(const std::vector<std::string>& names)
{
    std::string out;
    for (const auto& n : names) {
        out += (out.empty() ? "" : ", ") + n;
    }
    return out;
}

} // namespace

std::string Gateway::reload(Config next)
{
    // 1. Everything that can fail happens before anything running is touched: load the
    //    plugins, check their options, create the new instances (not started).
    std::vector<std::shared_ptr<LoadedPlugin>> plugins;
    for (const auto& spec : next.transports) {
        plugins.push_back(load(spec, false));
    }
    const size_t configured = next.transports.size();
    add_implicit_lns(next, plugins);
    for (size_t i = configured; i < next.transports.size(); ++i) {
        plugins.push_back(load(next.transports[i], false));
    }
    std::map<std::string, PluginInstance*> running;
    for (auto& t : transports_) {
        running[t->name()] = t.get();
    }
    std::vector<std::unique_ptr<PluginInstance>> created(next.transports.size());
    std::vector<std::string> added, restarted, removed, refiltered;
    for (size_t i = 0; i < next.transports.size(); ++i) {
        const auto& spec = next.transports[i];
        auto it = running.find(spec.name);
        if (it != running.end() && same_instance(it->second->spec(), spec)) {
            continue;
        }
        created[i] = make_transport(spec, plugins[i]); // throws ConfigError: nothing changed
        (it == running.end() ? added : restarted).push_back(spec.name);
    }
    for (const auto& [name, inst] : running) {
        const bool kept = std::any_of(next.transports.begin(), next.transports.end(),
                                      [&](const PluginSpec& s) { return s.name == name; });
        if (!kept) {
            removed.push_back(name);
        }
    }

    // 2. Stop what goes away or is replaced, then start the new instances.
    std::vector<std::unique_ptr<PluginInstance>> old;
    {
        std::lock_guard lock(transports_mutex_);
        old.swap(transports_);
    }
    std::vector<std::unique_ptr<PluginInstance>> next_instances;
    std::vector<std::string> failed;
    for (size_t i = 0; i < next.transports.size(); ++i) {
        const auto& spec = next.transports[i];
        auto it = std::find_if(old.begin(), old.end(),
                               [&](const auto& t) { return t && t->name() == spec.name; });
        if (!created[i]) {
            // Unchanged instance: keep it running, apply its filter and priority.
            if (!((*it)->spec().filter == spec.filter)) {
                (*it)->set_uplink_filter(spec.filter);
                refiltered.push_back(spec.name);
            }
            next_instances.push_back(std::move(*it));
        } else {
            if (it != old.end()) {
                (*it)->stop();
                heartbeats_.remove("transport " + spec.name);
                it->reset(); // destroyed before its successor starts (sockets, files)
            }
            created[i]->set_heartbeat(heartbeats_.add("transport " + spec.name));
            try {
                created[i]->start();
                log_info(kComponent,
                         "started transport " + spec.name + " (" + created[i]->plugin_text() + ")");
                next_instances.push_back(std::move(created[i]));
            } catch (const std::exception& e) {
                heartbeats_.remove("transport " + spec.name);
                log_error(kComponent, e.what());
                failed.push_back(spec.name);
            }
        }
        scheduler_->set_requester_priority(spec.name, spec.priority);
    }
    for (auto& t : old) {
        if (t) {
            t->stop();
            heartbeats_.remove("transport " + t->name());
            scheduler_->set_requester_priority(t->name(), 0);
            log_info(kComponent, "stopped transport " + t->name());
            t.reset();
        }
    }
    {
        std::lock_guard lock(transports_mutex_);
        transports_ = std::move(next_instances);
    }

    // 3. The metrics endpoint may move; the rest needs a restart.
    if (next.metrics_listen != config_.metrics_listen) {
        if (metrics_) {
            metrics_->stop();
            metrics_.reset();
        }
        if (!next.metrics_listen.empty()) {
            metrics_ = std::make_unique<MetricsServer>(next.metrics_listen,
                                                       [this] { return collect_metrics_now(); });
            try {
                metrics_->start();
            } catch (const std::exception& e) {
                log_error(kComponent, next.file + ": " + e.what());
                metrics_.reset();
            }
        }
    }
    std::vector<std::string> need_restart;
    for (const char* key : {"radios", "scheduler", "time", "stats", "plugin_dir"}) {
        if (section(next, key) != section(config_, key)) {
            need_restart.push_back(key);
        }
    }
    if (next.gateway_eui_text != config_.gateway_eui_text) {
        need_restart.push_back("gateway.eui");
    }
    if (!need_restart.empty()) {
        log_warn(kComponent, "reload: changes to " + join_names(need_restart) +
                                 " take effect at the next restart; the radios keep running "
                                 "as they are");
    }
    // Keep what did not change; take the new transports, filters, metrics and log settings.
    const uint64_t eui = config_.gateway_eui;
    Config applied = std::move(next);
    for (const char* key : {"radios", "scheduler", "time", "stats", "plugin_dir"}) {
        applied.section_text[key] = section(config_, key);
    }
    applied.radios = config_.radios;
    applied.scheduler = config_.scheduler;
    applied.time = config_.time;
    applied.stats_interval_s = config_.stats_interval_s;
    applied.plugin_dir = config_.plugin_dir;
    applied.gateway_eui_text = config_.gateway_eui_text;
    applied.gateway_eui = eui;
    config_ = std::move(applied);

    std::string summary = "reloaded " + config_.file;
    const auto part = [&](const char* what, const std::vector<std::string>& names) {
        if (!names.empty()) {
            summary += std::string("; ") + what + " " + join_names(names);
        }
    };
    part("added", added);
    part("restarted", restarted);
    part("removed", removed);
    part("new filter for", refiltered);
    part("FAILED to start", failed);
    if (added.empty() && restarted.empty() && removed.empty() && refiltered.empty() &&
        failed.empty()) {
        summary += "; transports unchanged";
    }
    return summary;
}

void Gateway::update_gauges()
{
    // Duty-cycle usage per radio and band: air time in the window and the budget.
    for (const auto& u : scheduler_->duty_cycle_usage()) {
        stats_.set("scheduler.duty_cycle." + u.key + ".used_us", u.used_us);
        stats_.set("scheduler.duty_cycle." + u.key + ".budget_us", u.budget_us);
    }
    for (uint32_t i = 0; i < radios_.size(); ++i) {
        const std::string radio = "radio" + std::to_string(i);
        stats_.set("scheduler.queued." + radio, static_cast<int64_t>(scheduler_->queued(i)));
        // The scheduler reads an idle radio's counter every 10 s: extrapolate from that read
        // on the host clock (the crystals differ by a few ppm at most).
        uint32_t count = 0;
        uint64_t read_at = 0;
        if (scheduler_->last_counter(i, count, read_at)) {
            const uint64_t since = monotonic_us() - read_at;
            stats_.set("scheduler.counter_us." + radio,
                       static_cast<uint32_t>(count + static_cast<uint32_t>(since)));
        }
    }
}

std::vector<MetricFamily> Gateway::collect_metrics_now()
{
    MetricsInput in;
    if (scheduler_) {
        update_gauges();
    }
    in.stats = stats_.snapshot();
    for (const auto& sub : bus_.subscriptions()) {
        in.queues.push_back({sub->name(), sub->depth(), sub->capacity(), sub->dropped()});
    }
    {
        std::lock_guard lock(transports_mutex_);
        for (const auto& t : transports_) {
            in.transports.push_back(t->name());
        }
    }
    for (const auto& r : radios_) {
        in.radios.push_back(r->name());
    }
    in.uptime_s = (monotonic_us() - started_at_us_) / 1000000u;
    in.rss_bytes = process_rss_bytes();
    return collect_metrics(in);
}

void Gateway::stats_loop()
{
    if (config_.stats_interval_s == 0) {
        return;
    }
    std::unique_lock lock(stats_mutex_);
    while (!stopping_) {
        if (stats_cv_.wait_for(lock, std::chrono::seconds(config_.stats_interval_s),
                               [&] { return stopping_; })) {
            break;
        }
        lock.unlock();
        publish_stats();
        lock.lock();
    }
}

} // namespace forwarder::core
