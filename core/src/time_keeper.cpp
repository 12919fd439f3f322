#include "time_keeper.hpp"

#include "clock.hpp"
#include "log.hpp"

#include <forwarder/plugin.h>

#include <cmath>
#include <cstdlib>

namespace forwarder::core {

namespace {
constexpr const char* kComponent = "clock";
constexpr uint64_t kPollIntervalUs = 100'000;
constexpr uint64_t kStatusIntervalUs = 10'000'000;
constexpr uint64_t kPpsFreshUs = 2'000'000;
// A PPS edge is labelled from an anchor only when it lies this close to a whole number of
// seconds from it (crystal error over 35 min stays far below).
constexpr int64_t kLabelToleranceUs = 100'000;
constexpr int32_t kSameEdgeUs = 500'000;

forwarder::v1::TimeSource to_proto(TimeSource s)
{
    switch (s) {
    case TimeSource::lns_transfer:
        return forwarder::v1::LNS_TRANSFER;
    case TimeSource::pps_lns:
        return forwarder::v1::PPS_LNS;
    case TimeSource::pps_gps:
        return forwarder::v1::PPS_GPS;
    default:
        return forwarder::v1::TIME_SOURCE_NONE;
    }
}
} // namespace

TimeKeeper::TimeKeeper(EventBus& bus, Stats& stats, TimeConfig config, std::vector<TxRadio*> radios)
    : bus_(bus), stats_(stats), config_(std::move(config))
{
    for (TxRadio* r : radios) {
        RadioTime rt;
        rt.radio = r;
        rt.can_pps = (r->capabilities() & FWD_RADIO_CAP_PPS) != 0;
        radios_.push_back(std::move(rt));
    }
    // No topics: the queue only wakes the thread when a GPS fix arrives.
    inbox_ = bus_.subscribe("clock", 0, 1);
}

TimeKeeper::~TimeKeeper()
{
    stop();
}

void TimeKeeper::start()
{
    if (running_.exchange(true)) {
        return;
    }
    if (config_.gps) {
        gps_ = make_gps_source(
            *config_.gps,
            [this](const GpsFix& fix) {
                {
                    std::lock_guard lock(fixes_mutex_);
                    if (fixes_.size() < 64) {
                        fixes_.push_back(fix);
                    }
                }
                inbox_->wake();
            },
            [](int level, const std::string& message) {
                switch (level) {
                case 0:
                case 1:
                    log_debug("gps", message);
                    break;
                case 2:
                    log_info("gps", message);
                    break;
                case 3:
                    log_warn("gps", message);
                    break;
                default:
                    log_error("gps", message);
                }
            });
        if (gps_) {
            gps_->start();
            log_info(kComponent, "GPS time from " + gps_->describe());
        }
    }
    thread_ = std::thread([this] { run(); });
}

void TimeKeeper::stop()
{
    if (running_.exchange(false)) {
        inbox_->wake();
        thread_.join();
    }
    if (gps_) {
        gps_->stop();
        gps_.reset();
    }
}

void TimeKeeper::run()
{
    std::vector<Event> events;
    std::vector<GpsFix> fixes;
    while (running_.load()) {
        inbox_->pop_all(events, std::chrono::microseconds(kPollIntervalUs));
        const uint64_t now = monotonic_us();
        beat(heartbeat_, now);
        poll_pps(now);
        {
            std::lock_guard lock(fixes_mutex_);
            fixes.swap(fixes_);
        }
        for (const auto& fix : fixes) {
            on_fix(fix, now);
        }
        fixes.clear();
        publish_status(now, false);
    }
}

void TimeKeeper::label_edge(RadioTime& rt, uint32_t radio, uint32_t count, uint64_t edge_mono,
                            uint64_t now_mono_us)
{
    if (!rt.anchor) {
        return;
    }
    const int64_t ext = rt.ext.project(count);
    const int64_t delta = ext - rt.anchor->ext_count;
    const int64_t seconds = (delta >= 0 ? delta + 500'000 : delta - 500'000) / 1'000'000;
    if (std::llabs(delta - seconds * 1'000'000) > kLabelToleranceUs) {
        return;
    }
    const auto label = static_cast<uint64_t>(static_cast<int64_t>(rt.anchor->gps_second) + seconds);
    std::string reason;
    if (rt.clock.add_pps(count, label, rt.anchor->source, now_mono_us, &reason)) {
        // The accepted edge becomes the anchor, so crystal drift never accumulates past the
        // labelling tolerance however long ago the label came (an LNS round trip, say).
        rt.anchor = Anchor{ext, label, rt.anchor->source};
    } else if (!reason.empty()) {
        log_debug(kComponent, "radio " + std::to_string(radio) + ": PPS sample refused: " + reason);
    }
    (void)edge_mono;
}

void TimeKeeper::poll_pps(uint64_t now_mono_us)
{
    // Read the drivers without holding our lock: a driver may take its own lock here and,
    // on its receive thread, publish an uplink that stamp_uplink() stamps under ours.
    struct Reading {
        bool counter = false, pps = false;
        uint32_t now_count = 0, count = 0;
        uint64_t edge = 0;
    };
    std::vector<Reading> readings(radios_.size());
    for (size_t i = 0; i < radios_.size(); ++i) {
        if (radios_[i].can_pps) { // immutable after construction
            auto& r = readings[i];
            r.counter = radios_[i].radio->counter_now(r.now_count);
            r.pps = radios_[i].radio->last_pps(r.count, r.edge);
        }
    }
    std::lock_guard lock(mutex_);
    for (uint32_t i = 0; i < radios_.size(); ++i) {
        auto& rt = radios_[i];
        const auto& r = readings[i];
        if (!rt.can_pps) {
            continue;
        }
        if (r.counter) {
            if (!rt.ext_started) {
                rt.ext = CounterExtender(r.now_count);
                rt.ext_started = true;
            }
            rt.ext.extend(r.now_count);
        }
        if (!r.pps || !rt.ext_started) {
            continue;
        }
        // The same edge again (drivers may report it with a few µs of jitter): edges are
        // a second apart.
        if (rt.last_edge_count &&
            std::abs(counter_diff(*rt.last_edge_count, r.count)) < kSameEdgeUs) {
            continue;
        }
        rt.last_edge_count = r.count;
        rt.last_edge_mono_us = r.edge;
        stats_.add("clock.radio" + std::to_string(i) + ".pps_edges", 1);
        label_edge(rt, i, r.count, r.edge, now_mono_us);
    }
    update_synchronized(now_mono_us);
}

void TimeKeeper::update_synchronized(uint64_t now_mono_us)
{
    bool any = false;
    for (const auto& rt : radios_) {
        const auto state = rt.clock.state(now_mono_us);
        any = any || (state.valid && state.source >= TimeSource::pps_lns);
    }
    any_synchronized_.store(any);
}

void TimeKeeper::on_fix(const GpsFix& fix, uint64_t now_mono_us)
{
    // The edge the fix names may be newer than the last poll: look first.
    poll_pps(now_mono_us);
    std::lock_guard lock(mutex_);
    if (fix.latitude && fix.longitude) {
        position_ = std::pair{*fix.latitude, *fix.longitude};
    }
    if (!fix.gps_second) {
        return;
    }
    for (uint32_t i = 0; i < radios_.size(); ++i) {
        auto& rt = radios_[i];
        if (!rt.last_edge_count || fix.received_mono_us < rt.last_edge_mono_us ||
            fix.received_mono_us - rt.last_edge_mono_us >= 1'000'000) {
            continue;
        }
        const auto label =
            static_cast<uint64_t>(static_cast<int64_t>(*fix.gps_second) + config_.gps_offset_s);
        rt.anchor = Anchor{rt.ext.project(*rt.last_edge_count), label, TimeSource::pps_gps};
        label_edge(rt, i, *rt.last_edge_count, rt.last_edge_mono_us, now_mono_us);
    }
    update_synchronized(now_mono_us);
}

void TimeKeeper::on_reference(const forwarder::v1::TimeReference& ref, uint64_t now_mono_us)
{
    std::lock_guard lock(mutex_);
    if (ref.has_transfer()) {
        if (ref.radio() >= radios_.size()) {
            return;
        }
        std::string reason;
        if (radios_[ref.radio()].clock.add_transfer(
                ref.transfer().count_us(), ref.transfer().gps_time_us(), now_mono_us, &reason)) {
            stats_.add("clock.transfers", 1);
        } else {
            log_debug(kComponent, "time transfer refused: " + reason);
        }
        return;
    }
    if (!ref.has_round_trip()) {
        return;
    }
    const auto& rtp = ref.round_trip();
    for (uint32_t i = 0; i < radios_.size(); ++i) {
        auto& rt = radios_[i];
        if (!rt.last_edge_count || (now_mono_us > rt.last_edge_mono_us &&
                                    now_mono_us - rt.last_edge_mono_us > kPpsFreshUs)) {
            continue;
        }
        std::string reason;
        auto label = config_.fuzzy_round_trip
                         ? solve_round_trip_fuzzy(rtp.sent_mono_us(), rtp.received_mono_us(),
                                                  rtp.gps_time_us(), rt.last_edge_mono_us, &reason)
                         : solve_round_trip(rtp.sent_mono_us(), rtp.received_mono_us(),
                                            rtp.gps_time_us(), rt.last_edge_mono_us, &reason);
        if (!label) {
            stats_.add("clock.round_trips_unsolved", 1);
            log_debug(kComponent,
                      "radio " + std::to_string(i) + ": timesync round trip not used: " + reason);
            continue;
        }
        stats_.add("clock.round_trips_solved", 1);
        if (rt.anchor && rt.anchor->source == TimeSource::pps_gps &&
            rt.clock.source(now_mono_us) == TimeSource::pps_gps) {
            continue; // a GPS receiver labels the edges better
        }
        rt.anchor = Anchor{rt.ext.project(*rt.last_edge_count), *label, TimeSource::pps_lns};
        label_edge(rt, i, *rt.last_edge_count, rt.last_edge_mono_us, now_mono_us);
    }
    update_synchronized(now_mono_us);
}

forwarder::v1::TimeStatus TimeKeeper::status(uint64_t now_mono_us) const
{
    std::lock_guard lock(mutex_);
    forwarder::v1::TimeStatus s;
    s.set_monotonic_us(now_mono_us);
    for (uint32_t i = 0; i < radios_.size(); ++i) {
        const auto& rt = radios_[i];
        const auto state = rt.clock.state(now_mono_us);
        auto* r = s.add_radios();
        r->set_radio(i);
        r->set_source(state.valid ? to_proto(state.source) : forwarder::v1::TIME_SOURCE_NONE);
        r->set_pps(rt.last_edge_count.has_value() &&
                   now_mono_us - rt.last_edge_mono_us <= kPpsFreshUs);
        r->set_gps_second_known(state.valid && state.source >= TimeSource::pps_lns);
        r->set_drift_ppm(state.drift_ppm);
    }
    return s;
}

void TimeKeeper::publish_status(uint64_t now_mono_us, bool force)
{
    auto s = status(now_mono_us);
    // Compare without the timestamp and the drift (which moves every second).
    forwarder::v1::TimeStatus key = s;
    key.clear_monotonic_us();
    for (auto& r : *key.mutable_radios()) {
        r.clear_drift_ppm();
    }
    const std::string text = key.SerializeAsString();
    bool changed = false;
    {
        std::lock_guard lock(mutex_);
        changed = text != last_status_;
        if (!force && !changed && now_mono_us - last_status_mono_us_ < kStatusIntervalUs) {
            return;
        }
        last_status_ = text;
        last_status_mono_us_ = now_mono_us;
    }
    if (changed) {
        for (const auto& r : s.radios()) {
            log_info(kComponent, "radio " + std::to_string(r.radio()) + ": time source " +
                                     forwarder::v1::TimeSource_Name(r.source()) +
                                     (r.pps() ? ", PPS present" : ", no PPS"));
            stats_.set("clock.radio" + std::to_string(r.radio()) + ".source",
                       static_cast<int64_t>(r.source()));
        }
    }
    bus_.publish(FWD_TOPIC_TIME_STATUS, s.SerializeAsString());
}

bool TimeKeeper::to_count(uint32_t radio, uint64_t gps_us, uint32_t& count_us) const
{
    std::lock_guard lock(mutex_);
    return radio < radios_.size() &&
           radios_[radio].clock.to_count(gps_us, monotonic_us(), count_us);
}

bool TimeKeeper::to_gps(uint32_t radio, uint32_t count_us, uint64_t& gps_us) const
{
    std::lock_guard lock(mutex_);
    return radio < radios_.size() && radios_[radio].clock.to_gps(count_us, monotonic_us(), gps_us);
}

bool TimeKeeper::precise(uint32_t radio) const
{
    std::lock_guard lock(mutex_);
    if (radio >= radios_.size()) {
        return false;
    }
    const auto state = radios_[radio].clock.state(monotonic_us());
    return state.valid && state.source >= TimeSource::pps_lns;
}

bool TimeKeeper::beacon_ready(uint32_t radio) const
{
    std::lock_guard lock(mutex_);
    if (radio >= radios_.size()) {
        return false;
    }
    const auto state = radios_[radio].clock.state(monotonic_us());
    return state.valid && state.source >= TimeSource::pps_lns && state.drift_settled;
}

std::optional<std::pair<double, double>> TimeKeeper::position() const
{
    std::lock_guard lock(mutex_);
    return position_;
}

bool TimeKeeper::stamp_uplink(std::string& bytes) const
{
    if (!any_synchronized_.load(std::memory_order_relaxed)) {
        return false;
    }
    forwarder::v1::Uplink up;
    if (!up.ParseFromString(bytes) || up.has_gps_time_us()) {
        return false;
    }
    // Only a PPS-based clock is good enough for uplink time stamps.
    uint64_t gps = 0;
    if (!precise(up.radio()) || !to_gps(up.radio(), up.count_us(), gps)) {
        return false;
    }
    up.set_gps_time_us(gps);
    bytes = up.SerializeAsString();
    return true;
}

} // namespace forwarder::core
