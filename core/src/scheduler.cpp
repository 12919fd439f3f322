#include "scheduler.hpp"

#include "airtime.hpp"
#include "beacon.hpp"
#include "clock.hpp"
#include "log.hpp"

#include <forwarder/plugin.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace forwarder::core {

using forwarder::v1::TxOutcome;

namespace {
constexpr const char* kComponent = "scheduler";
constexpr uint32_t kMaxWaitUs = 50'000;
// Beacons are queued this long before their air time (they need lead_time ahead at least).
constexpr uint32_t kBeaconLookaheadUs = 4'000'000;
// Above every downlink: those rank by transport priority × 256 + request priority (0..255).
constexpr uint32_t kBeaconPriority = 0xFFFFFFFFu;

std::string ms(int64_t us)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f ms", static_cast<double>(us) / 1000.0);
    return buf;
}

std::string mhz(uint64_t hz)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f MHz", static_cast<double>(hz) / 1e6);
    return buf;
}

// Outcomes after which another placement (alternative, radio, retry) may succeed.
bool placement_problem(TxOutcome o)
{
    switch (o) {
    case forwarder::v1::TOO_LATE:
    case forwarder::v1::COLLISION_PACKET:
    case forwarder::v1::COLLISION_BEACON:
    case forwarder::v1::TX_FREQ:
    case forwarder::v1::TX_POWER:
    case forwarder::v1::DUTY_CYCLE:
    case forwarder::v1::QUEUE_FULL:
    case forwarder::v1::CHANNEL_BUSY:
    case forwarder::v1::DWELL_TIME:
    case forwarder::v1::TOO_EARLY:
    case forwarder::v1::GPS_UNLOCKED:
        return true;
    default:
        return false;
    }
}

uint32_t bandwidth_of(const forwarder::v1::TxRequest& r)
{
    if (r.modulation().has_lora()) {
        return r.modulation().lora().bandwidth_hz();
    }
    return 200'000; // FSK channel width as the HALs sense it
}
} // namespace

const char* outcome_name(TxOutcome outcome)
{
    return forwarder::v1::TxOutcome_Name(outcome).c_str();
}

Scheduler::Scheduler(EventBus& bus, Stats& stats, SchedulerConfig config,
                     std::vector<TxRadio*> radios)
    : bus_(bus), stats_(stats), config_(config),
      ledger_(static_cast<int64_t>(config.duty_cycle_window_us))
{
    for (TxRadio* r : radios) {
        RadioState state;
        state.radio = r;
        radios_.push_back(std::move(state));
    }
    if (!config_.region.empty()) {
        configured_region_ = support::find_region(config_.region);
        for (auto& s : radios_) {
            s.region = configured_region_;
        }
    }
    if (!config_.duty_cycle) {
        log_warn(kComponent, "duty-cycle limits are off (scheduler.duty_cycle: off): the "
                             "operator is responsible for the regulatory limits");
    }
    inbox_ =
        bus_.subscribe("scheduler",
                       FWD_TOPIC_BIT(FWD_TOPIC_TX_REQUEST) | FWD_TOPIC_BIT(FWD_TOPIC_RADIO_CONFIG) |
                           FWD_TOPIC_BIT(FWD_TOPIC_TIME_REFERENCE),
                       1024);
}

Scheduler::~Scheduler()
{
    stop();
}

void Scheduler::start()
{
    if (running_.exchange(true)) {
        return;
    }
    thread_ = std::thread([this] { run(); });
}

void Scheduler::stop()
{
    if (running_.exchange(false)) {
        inbox_->wake();
        thread_.join();
    }
    // Requests still in the inbox get their one answer too.
    std::vector<Event> events;
    inbox_->pop_all(events, std::chrono::microseconds(0));
    for (const auto& e : events) {
        handle(e);
    }
    cancel_all();
}

void Scheduler::run()
{
    std::vector<Event> events;
    uint32_t wait_us = kMaxWaitUs;
    while (running_.load()) {
        inbox_->pop_all(events, std::chrono::microseconds(wait_us));
        beat(heartbeat_, monotonic_us());
        for (const auto& e : events) {
            handle(e);
        }
        wait_us = run_due();
    }
}

void Scheduler::handle(const Event& event)
{
    const std::string requester = event.source != nullptr ? *event.source : std::string("?");
    if (event.topic == FWD_TOPIC_TX_REQUEST) {
        forwarder::v1::TxRequest request;
        if (!request.ParseFromString(*event.bytes)) {
            // Without an id there is nobody to answer; count it and tell the operator.
            stats_.add("scheduler.malformed_tx_requests", 1);
            log_warn(kComponent, "ignored a malformed TxRequest from " + requester + " (" +
                                     std::to_string(event.bytes->size()) +
                                     " bytes that are not a forwarder.v1.TxRequest)");
            return;
        }
        submit(request, *event.bytes, requester);
    } else if (event.topic == FWD_TOPIC_RADIO_CONFIG) {
        forwarder::v1::RadioConfig config;
        if (!config.ParseFromString(*event.bytes)) {
            stats_.add("scheduler.malformed_radio_configs", 1);
            log_warn(kComponent, "ignored a malformed RadioConfig from " + requester);
            return;
        }
        configure(config);
    } else if (event.topic == FWD_TOPIC_TIME_REFERENCE) {
        forwarder::v1::TimeReference reference;
        if (!reference.ParseFromString(*event.bytes)) {
            stats_.add("scheduler.malformed_time_references", 1);
            return;
        }
        if (gps_ != nullptr) {
            gps_->on_reference(reference, monotonic_us());
        }
    }
}

void Scheduler::configure(const forwarder::v1::RadioConfig& config)
{
    std::lock_guard lock(mutex_);
    if (config.radio() >= radios_.size()) {
        return;
    }
    auto& state = radios_[config.radio()];
    state.tx_min_hz = config.tx_frequency_min_hz();
    state.tx_max_hz = config.tx_frequency_max_hz();
    // A plan that lists RF chains says which can transmit; without any, assume it can.
    state.tx_capable = config.rf_chains().empty() ||
                       std::any_of(config.rf_chains().begin(), config.rf_chains().end(),
                                   [](const auto& chain) { return chain.tx_enabled(); });
    if (config.max_eirp_dbm() > 0) {
        state.max_eirp_dbm = config.max_eirp_dbm();
    }
    if (configured_region_ == nullptr) {
        state.region = config.region().empty() ? nullptr : support::find_region(config.region());
        if (state.region == nullptr && !config.region().empty() &&
            state.unknown_region != config.region()) {
            state.unknown_region = config.region();
            log_error(kComponent,
                      "radio " + std::to_string(config.radio()) + ": region '" + config.region() +
                          "' is unknown; transmitting within the TX range with no "
                          "duty-cycle, dwell-time or LBT rules (known regions: " +
                          support::region_names() + "; set scheduler.region to choose one)");
        }
    }
    if (config.has_beaconing()) {
        state.beaconing = config.beaconing();
    } else {
        state.beaconing.reset();
    }
}

const support::Region* Scheduler::region(uint32_t radio) const
{
    std::lock_guard lock(mutex_);
    return radio < radios_.size() ? radios_[radio].region : nullptr;
}

void Scheduler::publish_result(const PlannedTx& tx, TxOutcome outcome, const std::string& detail,
                               bool admitted)
{
    if (tx.beacon) {
        if (outcome == forwarder::v1::OK) {
            stats_.add("scheduler.beacons_sent", 1);
        } else {
            stats_.add("scheduler.beacons_failed", 1);
            log_warn(kComponent, "beacon at counter " + std::to_string(tx.count_us) + " on radio " +
                                     std::to_string(tx.radio) +
                                     " not sent: " + outcome_name(outcome) + " (" + detail + ")");
        }
        return;
    }
    forwarder::v1::TxResult result;
    result.set_id(tx.id);
    result.set_outcome(outcome);
    result.set_radio(tx.radio);
    result.set_count_us(tx.count_us);
    result.set_detail(detail);
    result.set_requester(tx.requester);
    result.set_airtime_us(tx.airtime_us);
    result.set_alternative(tx.alternative);
    result.set_frequency_hz(tx.frequency_hz);
    result.set_retries_used(tx.retries_used);
    result.set_power_dbm(tx.power_dbm);
    result.set_power_limited(tx.power_limited);
    if (admitted) {
        result.set_admitted(true);
        bus_.publish(FWD_TOPIC_TX_RESULT, result.SerializeAsString());
        return;
    }
    if (outcome == forwarder::v1::OK) {
        stats_.add("scheduler.tx_ok", 1);
        if (tx.alternative > 0) {
            stats_.add("scheduler.tx_ok_alternative", 1);
        }
        if (tx.radio != tx.request.radio()) {
            stats_.add("scheduler.tx_ok_other_radio", 1);
        }
    } else {
        stats_.add("scheduler.tx_rejected", 1);
        stats_.add(std::string("scheduler.tx_") + outcome_name(outcome), 1);
        log_debug(kComponent, "tx " + std::to_string(tx.id) + " from " + tx.requester + ": " +
                                  outcome_name(outcome) + " (" + detail + ")");
    }
    bus_.publish(FWD_TOPIC_TX_RESULT, result.SerializeAsString());
}

bool Scheduler::read_now(uint32_t radio, uint32_t& now)
{
    auto& state = radios_[radio];
    if (!state.radio->counter_now(now)) {
        return false;
    }
    if (!state.have_now) {
        state.ext = CounterExtender(now);
        state.have_now = true;
    }
    state.ext.extend(now);
    state.last_now = now;
    state.last_now_mono_us = monotonic_us();
    return true;
}

void Scheduler::submit(const forwarder::v1::TxRequest& request, std::string bytes,
                       const std::string& requester)
{
    stats_.add("scheduler.tx_requests", 1);
    PlannedTx tx;
    tx.id = request.id();
    tx.requester = requester;
    tx.radio = request.radio();
    tx.priority = std::min<uint32_t>(request.priority(), 255);
    tx.request = request;
    tx.bytes = std::move(bytes);

    std::lock_guard lock(mutex_);
    if (auto it = requester_priority_.find(requester); it != requester_priority_.end()) {
        tx.priority += it->second << 8;
    }
    tx.uid = next_uid_++;
    if (tx.radio >= radios_.size()) {
        publish_result(tx, forwarder::v1::RADIO_ERROR,
                       "no radio " + std::to_string(tx.radio) + " (" +
                           std::to_string(radios_.size()) + " configured)");
        return;
    }
    if (auto rejection = place(tx, 0, false)) {
        finish_refused(tx, *rejection);
        return;
    }
    inbox_->wake();
}

void Scheduler::finish_refused(PlannedTx& tx, const Rejection& last)
{
    std::string detail = last.detail;
    if (tx.failures.size() > 1) {
        detail.clear();
        for (const auto& f : tx.failures) {
            detail += (detail.empty() ? "" : "; ") + f;
        }
    }
    publish_result(tx, last.outcome, detail);
}

void Scheduler::apply_alternative(PlannedTx& tx, uint32_t index) const
{
    const auto& req = tx.request;
    tx.alternative = index;
    tx.frequency_hz = req.frequency_hz();
    tx.power_dbm = req.power_dbm();
    tx.power_limited = false;
    if (index == 0) {
        tx.immediate = req.timing().when_case() == forwarder::v1::TxTiming::kImmediate;
        tx.class_b = req.timing().when_case() == forwarder::v1::TxTiming::kGpsTimeUs;
        tx.airtime_us = airtime_us(req);
        return;
    }
    // An alternative overrides what it sets; the driver gets a request describing the
    // placement actually used.
    const auto& alt = req.alternatives(static_cast<int>(index - 1));
    forwarder::v1::TxRequest placed = req;
    placed.clear_alternatives();
    *placed.mutable_timing() = alt.timing();
    if (alt.frequency_hz() != 0) {
        placed.set_frequency_hz(alt.frequency_hz());
    }
    if (alt.has_modulation()) {
        *placed.mutable_modulation() = alt.modulation();
    }
    if (alt.power_dbm() != 0) {
        placed.set_power_dbm(alt.power_dbm());
    }
    tx.frequency_hz = placed.frequency_hz();
    tx.power_dbm = placed.power_dbm();
    tx.immediate = placed.timing().when_case() == forwarder::v1::TxTiming::kImmediate;
    tx.class_b = placed.timing().when_case() == forwarder::v1::TxTiming::kGpsTimeUs;
    tx.airtime_us = airtime_us(placed);
    tx.bytes = placed.SerializeAsString();
}

std::optional<Rejection> Scheduler::place(PlannedTx& tx, uint32_t first, bool skip_own_radio,
                                          std::optional<Rejection> prior)
{
    const auto n_alternatives = static_cast<uint32_t>(tx.request.alternatives_size());
    const uint32_t home = tx.request.radio();
    std::optional<Rejection> last;
    std::string original_bytes = tx.alternative == 0 ? tx.bytes : std::string();
    for (uint32_t alt = first; alt <= n_alternatives; ++alt) {
        if (alt == 0 && !original_bytes.empty()) {
            tx.bytes = original_bytes;
        } else if (alt == 0) {
            tx.bytes = tx.request.SerializeAsString();
        }
        apply_alternative(tx, alt);
        // The radios to try: the requested one, then (antenna diversity) every other radio
        // whose TX range covers the frequency.
        std::vector<uint32_t> candidates;
        if (!(skip_own_radio && alt == first)) {
            candidates.push_back(home);
        }
        if (config_.antenna_diversity && !tx.request.pin_radio()) {
            for (uint32_t r = 0; r < radios_.size(); ++r) {
                const auto& s = radios_[r];
                if (r != home && s.tx_capable && s.tx_max_hz != 0 &&
                    tx.frequency_hz >= s.tx_min_hz && tx.frequency_hz <= s.tx_max_hz) {
                    candidates.push_back(r);
                }
            }
        }
        if (skip_own_radio && alt == first) {
            candidates.erase(std::remove(candidates.begin(), candidates.end(), tx.radio),
                             candidates.end());
        }
        // Each candidate starts from the placement as given (admit() may lower the power).
        const std::string placed_bytes = tx.bytes;
        const float placed_power = tx.power_dbm;
        for (uint32_t r : candidates) {
            tx.bytes = placed_bytes;
            tx.power_dbm = placed_power;
            tx.power_limited = false;
            Admitted admitted;
            auto rejection = admit(tx, r, admitted);
            if (!rejection) {
                uint32_t now = radios_[r].last_now;
                insert(std::move(tx), radios_[r], now);
                // Frames this one displaced look for another placement.
                for (auto& d : admitted.displaced) {
                    requeue(std::move(d), forwarder::v1::COLLISION_PACKET,
                            "displaced by a higher-priority frame");
                }
                return std::nullopt;
            }
            std::string label = alt == 0 ? "as requested" : "alternative " + std::to_string(alt);
            if (r != home) {
                label += " on radio " + std::to_string(r);
            }
            tx.failures.push_back(label + ": " + outcome_name(rejection->outcome) + " (" +
                                  rejection->detail + ")");
            last = rejection;
            // A radio that cannot be read is one candidate out; an invalid request is final.
            const bool candidate_failed =
                rejection->outcome == forwarder::v1::RADIO_ERROR && tx.airtime_us != 0;
            if (!placement_problem(rejection->outcome) && !candidate_failed) {
                return last;
            }
        }
    }
    if (!last) {
        // Nothing else to try: the reason that sent us here stands.
        if (prior) {
            return prior;
        }
        last = Rejection{forwarder::v1::RADIO_ERROR, "no radio can send it"};
        tx.failures.push_back(last->detail);
    }
    return last;
}

void Scheduler::requeue(PlannedTx tx, TxOutcome outcome, const std::string& detail)
{
    retire(tx);
    tx.failures.push_back((tx.alternative == 0 ? std::string("as requested")
                                               : "alternative " + std::to_string(tx.alternative)) +
                          ": " + outcome_name(outcome) + " (" + detail + ")");
    if (tx.beacon) {
        publish_result(tx, outcome, detail);
        return;
    }
    std::optional<Rejection> rejection;
    const uint32_t retries =
        tx.request.retries() != 0 ? tx.request.retries() : config_.class_c_retries;
    const uint32_t step = tx.request.retry_step_us() != 0 ? tx.request.retry_step_us()
                                                          : config_.class_c_retry_step_us;
    if (tx.immediate && tx.retries_used < retries) {
        // Class C: the same placement again, a short backoff later.
        ++tx.retries_used;
        tx.not_before = tx.count_us + step;
        tx.not_before_radio = tx.radio;
        const uint32_t alt = tx.alternative;
        rejection = place(tx, alt, false, Rejection{outcome, detail});
    } else {
        // Other radios for this placement first, then the next alternatives.
        const uint32_t alt = tx.alternative;
        rejection = place(tx, alt, true, Rejection{outcome, detail});
    }
    if (rejection) {
        finish_refused(tx, *rejection);
    }
    // The new placement may be due before the current wait ends (e.g. on a radio this pass
    // of run_due() has already looked at): look again at once.
    inbox_->wake();
}

std::optional<Rejection> Scheduler::admit(PlannedTx& tx, uint32_t radio, Admitted& out)
{
    auto& state = radios_[radio];
    const auto& req = tx.request;
    uint32_t now = 0;
    if (!read_now(radio, now)) {
        return Rejection{forwarder::v1::RADIO_ERROR, "cannot read the radio's counter"};
    }
    if (tx.airtime_us == 0) {
        return Rejection{forwarder::v1::RADIO_ERROR, "invalid or missing modulation"};
    }
    const support::Region* region = state.region;
    const uint64_t freq = tx.frequency_hz;
    uint64_t lo = state.tx_min_hz, hi = state.tx_max_hz;
    if (hi == 0 && region != nullptr) {
        lo = region->tx_min_hz;
        hi = region->tx_max_hz;
    }
    if (freq == 0 || (hi != 0 && (freq < lo || freq > hi))) {
        return Rejection{forwarder::v1::TX_FREQ,
                         "frequency " + std::to_string(freq) + " Hz outside the TX range [" +
                             std::to_string(lo) + ", " + std::to_string(hi) + "] Hz"};
    }
    // Power: the lowest of the transport's max EIRP, the region's and the sub-band's; a
    // request above it is sent at the limit (as Semtech's TX_POWER warning does), counted.
    std::optional<float> limit = state.max_eirp_dbm;
    if (region != nullptr) {
        float regional = region->max_eirp_dbm;
        const auto* band = support::find_sub_band(*region, freq, tx.power_dbm);
        if (band == nullptr && region->duty_cycle_scope == support::DutyCycleScope::sub_band) {
            return Rejection{forwarder::v1::TX_FREQ,
                             mhz(freq) + " lies in no " + std::string(region->name) + " sub-band"};
        }
        if (band != nullptr) {
            regional = std::min(regional, band->max_eirp_dbm);
        }
        limit = limit ? std::min(*limit, regional) : regional;
    }
    if (limit && tx.power_dbm > *limit + 1e-3f) {
        stats_.add("scheduler.tx_power_limited", 1);
        tx.power_dbm = *limit;
        tx.power_limited = true;
        forwarder::v1::TxRequest placed;
        if (placed.ParseFromString(tx.bytes)) {
            placed.set_power_dbm(*limit);
            tx.bytes = placed.SerializeAsString();
        }
    }
    // Dwell time.
    const bool dwell = config_.dwell_time.value_or(
        region != nullptr && region->dwell_time_default && region->dwell_time_us != 0);
    const uint32_t dwell_limit = region != nullptr && region->dwell_time_us != 0
                                     ? region->dwell_time_us
                                     : config_.dwell_limit_us;
    if (dwell && !tx.beacon && tx.airtime_us > dwell_limit) {
        return Rejection{forwarder::v1::DWELL_TIME,
                         "air time " + ms(tx.airtime_us) + " above the " + ms(dwell_limit) +
                             " dwell-time limit" +
                             (region != nullptr ? " of " + std::string(region->name) : "")};
    }

    const uint32_t lead = state.radio->lead_time_us();
    const int64_t min_ahead =
        static_cast<int64_t>(lead) + config_.start_delay_us + config_.margin_us;
    // (The hand-over slack is not required at admission: a frame that arrives late is
    // handed over at once.)
    const uint32_t home = req.radio();
    if (tx.immediate) {
        if (tx.not_before != 0 && tx.not_before_radio != radio) {
            // The backoff was set on another radio's counter: carry it over.
            uint32_t other_now = 0;
            if (!read_now(tx.not_before_radio, other_now)) {
                return Rejection{forwarder::v1::RADIO_ERROR,
                                 "cannot read radio " + std::to_string(tx.not_before_radio) +
                                     "'s counter"};
            }
            tx.not_before = now + static_cast<uint32_t>(counter_diff(other_now, tx.not_before));
            tx.not_before_radio = radio;
        }
        if (!place_immediate(tx, state, now)) {
            return Rejection{forwarder::v1::COLLISION_PACKET,
                             "no free slot for an immediate frame"};
        }
    } else if (tx.class_b) {
        const uint64_t gps_us =
            tx.alternative == 0
                ? req.timing().gps_time_us()
                : req.alternatives(static_cast<int>(tx.alternative - 1)).timing().gps_time_us();
        if (gps_ == nullptr || !gps_->to_count(radio, gps_us, tx.count_us)) {
            return Rejection{forwarder::v1::GPS_UNLOCKED,
                             "radio " + std::to_string(radio) + " has no GPS time reference"};
        }
    } else {
        const auto& timing = tx.alternative == 0
                                 ? req.timing()
                                 : req.alternatives(static_cast<int>(tx.alternative - 1)).timing();
        if (timing.when_case() != forwarder::v1::TxTiming::kCountUs) {
            return Rejection{forwarder::v1::RADIO_ERROR, "request has no timing"};
        }
        tx.count_us = timing.count_us();
        if (radio != home) {
            // The time is on the requested radio's counter: carry it over to this one.
            // Read this radio before and after the home radio: the midpoint pairs with the
            // home reading, so the read latency does not shift the time.
            uint32_t home_now = 0, after = 0;
            if (!read_now(home, home_now) || !read_now(radio, after)) {
                return Rejection{forwarder::v1::RADIO_ERROR,
                                 "cannot read radio " + std::to_string(home) + "'s counter"};
            }
            const uint32_t mid = now + static_cast<uint32_t>(counter_diff(now, after) / 2);
            tx.count_us = mid + static_cast<uint32_t>(counter_diff(home_now, tx.count_us));
        }
    }
    tx.radio = radio;

    const int64_t ahead = counter_diff(now, tx.count_us);
    if (ahead < min_ahead) {
        return Rejection{forwarder::v1::TOO_LATE,
                         "TX time " + std::to_string(tx.count_us) + " is " + std::to_string(ahead) +
                             " µs from now (counter " + std::to_string(now) + "); needs at least " +
                             std::to_string(min_ahead) + " µs"};
    }
    if (ahead > static_cast<int64_t>(config_.max_ahead_us)) {
        return Rejection{forwarder::v1::TOO_EARLY, "TX time is " + std::to_string(ahead) +
                                                       " µs ahead; at most " +
                                                       std::to_string(config_.max_ahead_us)};
    }
    if (state.timeline.size() >= config_.queue_size) {
        // A higher-priority request may still take the slot of the lowest queued one below.
        auto lowest = std::min_element(
            state.timeline.begin(), state.timeline.end(),
            [](const auto& a, const auto& b) { return a.second.priority < b.second.priority; });
        if (lowest->second.priority >= tx.priority) {
            return Rejection{forwarder::v1::QUEUE_FULL,
                             std::to_string(state.timeline.size()) + " frames already queued"};
        }
    }
    for (auto& rule : rules_) {
        if (auto r = rule->check(tx, state.timeline)) {
            return r;
        }
    }
    if (!tx.beacon) {
        if (auto r = beacon_rule(tx, radio)) {
            return r;
        }
    }
    const auto hits = collisions(tx, state, now);
    for (const auto& it : hits) {
        const auto& q = it->second;
        if (q.priority >= tx.priority) {
            return Rejection{
                q.beacon ? forwarder::v1::COLLISION_BEACON : forwarder::v1::COLLISION_PACKET,
                "overlaps " + std::string(q.beacon ? "beacon" : "frame") + " " +
                    std::to_string(q.id) + " at counter " + std::to_string(q.count_us)};
        }
    }
    // Frames this one would displace do not count against its duty cycle.
    std::vector<const PlannedTx*> yielding;
    for (const auto& it : hits) {
        if (!it->second.dc_key.empty() && ledger_.contains(it->second.uid)) {
            yielding.push_back(&it->second);
            ledger_.release(it->second.uid);
        }
    }
    if (auto dc = duty_cycle_rule(tx, state, radio)) {
        for (const PlannedTx* q : yielding) {
            ledger_.reserve(q->uid, q->dc_key, state.ext.project(q->count_us), q->airtime_us);
        }
        return dc;
    }
    // Every colliding frame has a lower priority: they yield to this one.
    for (const auto& it : hits) {
        out.displaced.push_back(std::move(it->second));
        state.timeline.erase(it);
    }
    if (state.timeline.size() >= config_.queue_size) {
        auto lowest = std::min_element(
            state.timeline.begin(), state.timeline.end(),
            [](const auto& a, const auto& b) { return a.second.priority < b.second.priority; });
        out.displaced.push_back(std::move(lowest->second));
        state.timeline.erase(lowest);
    }
    return std::nullopt;
}

bool Scheduler::beaconing(uint32_t radio) const
{
    return config_.beacon.mode == BeaconConfig::Mode::on
               ? config_.beacon.radio == radio
               : config_.beacon.mode == BeaconConfig::Mode::automatic &&
                     radios_[radio].beaconing.has_value();
}

std::optional<Rejection> Scheduler::beacon_rule(const PlannedTx& tx, uint32_t radio) const
{
    if (!beaconing(radio) || gps_ == nullptr || !gps_->precise(radio)) {
        return std::nullopt;
    }
    uint64_t start_gps = 0;
    if (!gps_->to_gps(radio, tx.count_us, start_gps)) {
        return std::nullopt;
    }
    // The longest beacon (SF12/125 kHz, 23 bytes) bounds the air time when the exact
    // modulation is not at hand.
    const uint32_t beacon_air = 1'400'000;
    if (auto hit = beacon_conflict(start_gps, start_gps + tx.airtime_us + config_.guard_us,
                                   tx.class_b, beacon_air, config_.start_delay_us)) {
        return Rejection{forwarder::v1::COLLISION_BEACON,
                         "too close to the beacon at GPS " + std::to_string(*hit / 1'000'000) +
                             " s" + (tx.class_b ? " (class B keeps out of the beacon guard)" : "")};
    }
    return std::nullopt;
}

std::optional<Rejection> Scheduler::duty_cycle_rule(PlannedTx& tx, RadioState& state,
                                                    uint32_t radio)
{
    tx.dc_key.clear();
    const support::Region* region = state.region;
    if (!config_.duty_cycle || region == nullptr ||
        region->duty_cycle_scope == support::DutyCycleScope::none) {
        return std::nullopt;
    }
    const auto* band = support::find_sub_band(*region, tx.frequency_hz, tx.power_dbm);
    if (band == nullptr || band->duty_cycle >= 1.0) {
        return std::nullopt;
    }
    if (region->lbt.replaces_duty_cycle && lbt_active(state, radio)) {
        return std::nullopt; // e.g. KR920: listen before talk instead of a duty cycle
    }
    std::string key = "radio" + std::to_string(radio) + "/";
    key += region->duty_cycle_scope == support::DutyCycleScope::channel
               ? std::to_string(tx.frequency_hz)
               : std::string(band->name);
    const auto budget =
        static_cast<int64_t>(static_cast<double>(ledger_.window_us()) * band->duty_cycle);
    const int64_t start = state.ext.project(tx.count_us);
    if (!ledger_.fits(key, start, tx.airtime_us, budget)) {
        const int64_t used = ledger_.used_us(key, start);
        std::string when;
        if (auto at = ledger_.earliest_fit(key, start, tx.airtime_us, budget)) {
            when = "; fits again in " + std::to_string((*at - start) / 1'000'000) + " s";
        }
        return Rejection{forwarder::v1::DUTY_CYCLE,
                         std::string(region->name) + " band " + std::string(band->name) + " (" +
                             mhz(tx.frequency_hz) + ", " +
                             std::to_string(band->duty_cycle * 100.0).substr(0, 4) +
                             " %): " + ms(used) + " of " + ms(budget) + " used in the last " +
                             std::to_string(ledger_.window_us() / 1'000'000) + " s" + when};
    }
    tx.dc_key = key;
    return std::nullopt;
}

// Occupied span of a frame, relative to `now`: [start − start_delay, start + airtime + guard).
static std::pair<int64_t, int64_t> span(const PlannedTx& tx, uint32_t now,
                                        const SchedulerConfig& config)
{
    const int64_t start = counter_diff(now, tx.count_us);
    return {start - config.start_delay_us, start + tx.airtime_us + config.guard_us};
}

std::vector<Timeline::iterator> Scheduler::collisions(const PlannedTx& tx, RadioState& state,
                                                      uint32_t now) const
{
    std::vector<Timeline::iterator> hits;
    const auto [a0, a1] = span(tx, now, config_);
    // Only frames starting near this one can overlap it: the longest queued span before, a
    // beacon's reserved time before and its guard after.
    const int64_t key = state.ext.project(tx.count_us);
    const int64_t lo = key - config_.start_delay_us - state.max_span_us - kBeaconReservedUs;
    const int64_t hi =
        key + tx.airtime_us + config_.guard_us + config_.start_delay_us + kBeaconGuardUs;
    for (auto it = state.timeline.lower_bound(lo); it != state.timeline.end() && it->first <= hi;
         ++it) {
        const auto& q = it->second;
        if (q.uid == tx.uid) {
            continue;
        }
        auto [b0, b1] = span(q, now, config_);
        if (q.beacon && tx.class_b) {
            // Ping slots keep out of the beacon's guard and reserved time.
            const int64_t emission = counter_diff(now, q.count_us);
            b0 = emission - kBeaconGuardUs;
            b1 = emission + kBeaconReservedUs;
        }
        if (a0 < b1 && b0 < a1) {
            hits.push_back(it);
        }
    }
    return hits;
}

bool Scheduler::place_immediate(PlannedTx& tx, RadioState& state, uint32_t now) const
{
    // As soon as possible: two lead times out (time to hand it over), or right after the
    // first queued frame that leaves a gap.
    const uint32_t lead = state.radio->lead_time_us();
    uint32_t earliest = now + 2 * lead + config_.start_delay_us + config_.margin_us;
    if (tx.not_before != 0 && counter_diff(earliest, tx.not_before) > 0 &&
        counter_diff(now, tx.not_before) < static_cast<int32_t>(config_.max_ahead_us)) {
        earliest = tx.not_before;
    }
    // Walk the timeline from the first frame that could overlap, moving the candidate past
    // each frame in the way: the candidates stay in time order, so this is one pass.
    tx.count_us = earliest;
    const int64_t key = state.ext.project(earliest);
    auto it = state.timeline.lower_bound(key - config_.start_delay_us - state.max_span_us -
                                         kBeaconReservedUs);
    for (size_t steps = 0; steps <= state.timeline.size() + 1; ++steps) {
        if (collisions(tx, state, now).empty()) {
            return true;
        }
        // Skip to the end of the next frame at or after the candidate that is in the way.
        bool moved = false;
        for (; it != state.timeline.end(); ++it) {
            const auto& q = it->second;
            const uint32_t after =
                q.count_us +
                (q.beacon ? std::max<uint32_t>(q.airtime_us, kBeaconReservedUs) : q.airtime_us) +
                config_.guard_us + config_.start_delay_us;
            if (counter_diff(tx.count_us, after) > 0) {
                tx.count_us = after;
                ++it;
                moved = true;
                break;
            }
        }
        if (!moved) {
            return false;
        }
        if (counter_diff(now, tx.count_us) > static_cast<int64_t>(config_.max_ahead_us)) {
            return false;
        }
    }
    return false;
}

void Scheduler::insert(PlannedTx tx, RadioState& state, uint32_t now)
{
    if (!tx.dc_key.empty()) {
        ledger_.reserve(tx.uid, tx.dc_key, state.ext.project(tx.count_us), tx.airtime_us);
    }
    (void)now;
    if (state.timeline.empty()) {
        state.max_span_us = 0;
    }
    state.max_span_us = std::max(state.max_span_us, tx.airtime_us + config_.guard_us);
    if (tx.request.report_admission() && !tx.admission_reported && !tx.beacon) {
        tx.admission_reported = true;
        publish_result(tx, forwarder::v1::OK, "queued", true);
    }
    const int64_t key = state.ext.project(tx.count_us);
    state.timeline.emplace(key, std::move(tx));
}

void Scheduler::retire(const PlannedTx& tx)
{
    if (!tx.dc_key.empty()) {
        ledger_.release(tx.uid);
    }
}

bool Scheduler::lbt_active(RadioState& state, uint32_t radio)
{
    const bool required = state.region != nullptr && state.region->lbt.required;
    if (config_.lbt == LbtMode::off || (config_.lbt == LbtMode::automatic && !required)) {
        if (required && config_.lbt == LbtMode::off && !state.lbt_warned) {
            state.lbt_warned = true;
            log_warn(kComponent, "radio " + std::to_string(radio) + ": region " +
                                     std::string(state.region->name) +
                                     " requires listen before talk, but scheduler.lbt is off");
        }
        return false;
    }
    if ((state.radio->capabilities() & FWD_RADIO_CAP_LBT) == 0 &&
        config_.lbt == LbtMode::automatic) {
        if (!state.lbt_warned) {
            state.lbt_warned = true;
            log_warn(kComponent, "radio " + std::to_string(radio) + ": region " +
                                     std::string(state.region->name) +
                                     " requires listen before talk, but the driver cannot sense "
                                     "the channel; transmitting without it (scheduler.lbt: on "
                                     "refuses instead)");
        }
        return false;
    }
    return true;
}

void Scheduler::plan_beacon(RadioState& state, uint32_t radio)
{
    if (!beaconing(radio)) {
        return;
    }
    const support::Region* region = state.region;
    if (gps_ == nullptr || !gps_->beacon_ready(radio)) {
        if (!state.beacon_suspended_logged) {
            state.beacon_suspended_logged = true;
            log_warn(kComponent, "beaconing on radio " + std::to_string(radio) +
                                     " suspended: no PPS-based GPS time with an established "
                                     "crystal correction");
        }
        return;
    }
    uint64_t gps_now = 0;
    if (!gps_->to_gps(radio, state.last_now, gps_now)) {
        return;
    }
    const uint64_t beacon = next_beacon_gps_us(gps_now + state.radio->lead_time_us() +
                                               config_.start_delay_us + config_.margin_us);
    if (beacon <= state.next_beacon_gps_us ||
        beacon_emission_gps_us(beacon) - gps_now > kBeaconLookaheadUs) {
        return;
    }
    if (state.beacon_suspended_logged) {
        state.beacon_suspended_logged = false;
        log_info(kComponent, "beaconing on radio " + std::to_string(radio) + " resumed");
    }
    state.next_beacon_gps_us = beacon;

    forwarder::v1::TxRequest req;
    std::vector<uint64_t> freqs;
    BeaconLayout layout;
    if (state.beaconing) {
        *req.mutable_modulation() = state.beaconing->modulation();
        freqs.assign(state.beaconing->frequencies_hz().begin(),
                     state.beaconing->frequencies_hz().end());
        layout = {state.beaconing->time_offset(), state.beaconing->infodesc_offset(),
                  state.beaconing->length()};
    } else if (region != nullptr) {
        const auto* dr = support::data_rate(*region, region->beacon.data_rate);
        if (dr == nullptr || dr->kind != support::DataRate::Kind::lora) {
            return;
        }
        auto* lora = req.mutable_modulation()->mutable_lora();
        lora->set_spreading_factor(dr->spreading_factor);
        lora->set_bandwidth_hz(dr->bandwidth_hz);
        freqs = region->beacon.frequencies_hz;
        if (auto l = beacon_layout(dr->spreading_factor)) {
            layout = *l;
        }
    }
    if (!req.modulation().has_lora() || freqs.empty() || !check_layout(layout).empty()) {
        log_warn(kComponent, "beaconing on radio " + std::to_string(radio) +
                                 ": no usable beacon plan (region, data rate, frequencies or "
                                 "layout missing)");
        return;
    }
    req.mutable_modulation()->mutable_lora()->set_coding_rate(forwarder::v1::CR_4_5);
    std::optional<GatewayInfo> info;
    std::optional<std::pair<double, double>> position;
    if (config_.beacon.latitude && config_.beacon.longitude) {
        position = std::pair{*config_.beacon.latitude, *config_.beacon.longitude};
    } else {
        position = gps_->position();
    }
    if (position) {
        info = GatewayInfo{config_.beacon.info_desc, position->first, position->second};
    }
    const uint64_t seconds = beacon / 1'000'000;
    req.set_payload(encode_beacon(layout, seconds, info));
    req.set_frequency_hz(beacon_frequency(freqs, seconds));
    req.set_power_dbm(config_.beacon.power_dbm.value_or(
        region != nullptr
            ? (region->beacon.power_dbm != 0 ? region->beacon.power_dbm : region->default_eirp_dbm)
            : 14.0f));
    req.set_preamble(kBeaconPreambleSymbols);
    req.set_implicit_header(true);
    req.set_crc(false);
    req.set_invert_iq(false);
    req.set_radio(radio);
    req.set_pin_radio(true);
    req.set_priority(kBeaconPriority);
    req.mutable_timing()->set_gps_time_us(beacon_emission_gps_us(beacon));

    PlannedTx tx;
    tx.uid = next_uid_++;
    tx.id = seconds;
    tx.requester = "beacon";
    tx.radio = radio;
    tx.priority = kBeaconPriority;
    tx.beacon = true;
    tx.request = req;
    tx.bytes = req.SerializeAsString();
    if (auto rejection = place(tx, 0, false)) {
        publish_result(tx, rejection->outcome, rejection->detail);
        return;
    }
    stats_.add("scheduler.beacons_queued", 1);
}

uint32_t Scheduler::run_due()
{
    uint32_t next_wait = kMaxWaitUs;
    std::lock_guard lock(mutex_);
    for (uint32_t index = 0; index < radios_.size(); ++index) {
        auto& state = radios_[index];
        // An idle radio is read only now and then (the counter extension needs a reading
        // every 35 min): through SPI, USB or a worker process a read is not free.
        const uint64_t mono = monotonic_us();
        if (state.timeline.empty() && !beaconing(index) && state.have_now &&
            mono - state.last_read_mono_us < config_.idle_read_interval_us) {
            continue;
        }
        state.last_read_mono_us = mono;
        uint32_t now = 0;
        if (!read_now(index, now)) {
            // A glitch is retried on the next pass; a radio that stays unreadable fails its
            // queue (its frames could not be timed anyway).
            if (++state.read_failures < 3) {
                continue;
            }
            for (auto& [key, tx] : state.timeline) {
                retire(tx);
                publish_result(tx, forwarder::v1::RADIO_ERROR, "cannot read the radio's counter");
            }
            state.timeline.clear();
            continue;
        }
        state.read_failures = 0;
        plan_beacon(state, index);
        const uint32_t lead = state.radio->lead_time_us();
        while (!state.timeline.empty()) {
            if (!read_now(index, now)) {
                break;
            }
            PlannedTx& front = state.timeline.begin()->second;
            const int64_t ahead = counter_diff(now, front.count_us);
            const int64_t handover = static_cast<int64_t>(lead) + config_.handover_slack_us;
            if (ahead > handover) {
                next_wait = std::min<uint32_t>(next_wait, static_cast<uint32_t>(ahead - handover));
                break;
            }
            PlannedTx tx = std::move(front);
            state.timeline.erase(state.timeline.begin());
            if (ahead < static_cast<int64_t>(config_.start_delay_us)) {
                std::string why =
                    "missed the hand-over: " + std::to_string(ahead) + " µs left before TX time";
                requeue(std::move(tx), forwarder::v1::TOO_LATE, why);
                continue;
            }
            if (tx.class_b) {
                // GPS-timed: convert again with the latest time sync, as late as possible.
                const auto& timing =
                    tx.alternative == 0
                        ? tx.request.timing()
                        : tx.request.alternatives(static_cast<int>(tx.alternative - 1)).timing();
                uint32_t count = 0;
                if (gps_ == nullptr || !gps_->to_count(index, timing.gps_time_us(), count)) {
                    requeue(std::move(tx), forwarder::v1::GPS_UNLOCKED,
                            "time sync lost before hand-over");
                    continue;
                }
                const int32_t moved = counter_diff(tx.count_us, count);
                if (moved != 0) {
                    stats_.add("scheduler.class_b_retimed", 1);
                    if (std::abs(moved) > static_cast<int32_t>(config_.guard_us)) {
                        log_warn(kComponent, "class B frame " + std::to_string(tx.id) + " moved " +
                                                 std::to_string(moved) + " µs by a new time sync");
                    }
                    tx.count_us = count;
                }
            }
            if (!tx.beacon && lbt_active(state, index)) {
                const TxStatus clear =
                    (state.radio->capabilities() & FWD_RADIO_CAP_LBT) == 0
                        ? TxStatus::error
                        : state.radio->channel_clear(tx.frequency_hz, bandwidth_of(tx.request),
                                                     tx.count_us, tx.airtime_us);
                if (clear != TxStatus::ok) {
                    stats_.add("scheduler.lbt_busy", 1);
                    std::string why =
                        clear == TxStatus::busy
                            ? "listen before talk: " + mhz(tx.frequency_hz) + " busy"
                            : "listen before talk required but the driver cannot sense";
                    requeue(std::move(tx), forwarder::v1::CHANNEL_BUSY, why);
                    continue;
                }
            }
            std::string error;
            const TxStatus status = state.radio->transmit(tx.bytes, tx.count_us, error);
            if (status == TxStatus::busy) {
                stats_.add("scheduler.lbt_busy", 1);
                requeue(std::move(tx), forwarder::v1::CHANNEL_BUSY,
                        "the driver found the channel busy: " + error);
                continue;
            }
            if (status != TxStatus::ok) {
                retire(tx);
                publish_result(tx, forwarder::v1::RADIO_ERROR,
                               "driver refused the frame: " + error);
                continue;
            }
            if (!tx.dc_key.empty()) {
                ledger_.commit(tx.uid);
            }
            for (auto& rule : rules_) {
                rule->on_transmitted(tx);
            }
            publish_result(tx, forwarder::v1::OK,
                           "handed to the radio " + std::to_string(ahead) + " µs before TX time");
        }
    }
    // Keep the ledger small: forget what left every window.
    const uint64_t mono = monotonic_us();
    if (mono - last_prune_us_ > 10'000'000) {
        last_prune_us_ = mono;
        // Each radio's keys run on its own extended counter.
        for (uint32_t r = 0; r < radios_.size(); ++r) {
            if (radios_[r].have_now) {
                ledger_.prune(radios_[r].ext.project(radios_[r].last_now),
                              "radio" + std::to_string(r) + "/");
            }
        }
    }
    return next_wait;
}

std::vector<Scheduler::BandUsage> Scheduler::duty_cycle_usage()
{
    std::lock_guard lock(mutex_);
    std::vector<BandUsage> out;
    for (const auto& key : ledger_.keys()) {
        const auto slash = key.find('/');
        const uint32_t radio = static_cast<uint32_t>(std::stoul(key.substr(5, slash - 5)));
        if (radio >= radios_.size() || !radios_[radio].have_now) {
            continue;
        }
        auto& state = radios_[radio];
        BandUsage u;
        u.key = key;
        u.used_us = ledger_.used_us(key, state.ext.project(state.last_now));
        if (state.region != nullptr) {
            const std::string band = key.substr(slash + 1);
            for (const auto& b : state.region->sub_bands) {
                if (band == b.name ||
                    (state.region->duty_cycle_scope == support::DutyCycleScope::channel &&
                     !state.region->sub_bands.empty())) {
                    u.budget_us = static_cast<int64_t>(static_cast<double>(ledger_.window_us()) *
                                                       b.duty_cycle);
                    break;
                }
            }
        }
        out.push_back(u);
    }
    return out;
}

void Scheduler::cancel_all()
{
    std::lock_guard lock(mutex_);
    for (auto& state : radios_) {
        for (const auto& [key, tx] : state.timeline) {
            retire(tx);
            publish_result(tx, forwarder::v1::CANCELLED, "forwarder stopping");
        }
        state.timeline.clear();
    }
}

void Scheduler::set_requester_priority(const std::string& requester, uint32_t priority)
{
    std::lock_guard lock(mutex_);
    requester_priority_[requester] = std::min<uint32_t>(priority, 255);
}

bool Scheduler::last_counter(uint32_t radio, uint32_t& count_us, uint64_t& read_mono_us) const
{
    std::lock_guard lock(mutex_);
    if (radio >= radios_.size() || !radios_[radio].have_now) {
        return false;
    }
    count_us = radios_[radio].last_now;
    read_mono_us = radios_[radio].last_now_mono_us;
    return true;
}

size_t Scheduler::queued(uint32_t radio) const
{
    std::lock_guard lock(mutex_);
    return radio < radios_.size() ? radios_[radio].timeline.size() : 0;
}

} // namespace forwarder::core
