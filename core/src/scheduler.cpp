#include "scheduler.hpp"

#include "airtime.hpp"
#include "clock.hpp"
#include "log.hpp"

#include <forwarder/plugin.h>

#include <algorithm>
#include <cmath>

namespace forwarder::core {

using forwarder::v1::TxOutcome;

namespace {
constexpr const char* kComponent = "scheduler";
constexpr uint32_t kMaxWaitUs = 50'000;
} // namespace

const char* outcome_name(TxOutcome outcome)
{
    return forwarder::v1::TxOutcome_Name(outcome).c_str();
}

Scheduler::Scheduler(EventBus& bus, Stats& stats, SchedulerConfig config,
                     std::vector<TxRadio*> radios)
    : bus_(bus), stats_(stats), config_(config)
{
    for (TxRadio* r : radios) {
        RadioState state;
        state.radio = r;
        radios_.push_back(std::move(state));
    }
    inbox_ = bus_.subscribe(
        "scheduler", FWD_TOPIC_BIT(FWD_TOPIC_TX_REQUEST) | FWD_TOPIC_BIT(FWD_TOPIC_RADIO_CONFIG),
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
    if (config.max_eirp_dbm() > 0) {
        state.max_eirp_dbm = config.max_eirp_dbm();
    }
}

void Scheduler::publish_result(const PlannedTx& tx, TxOutcome outcome, const std::string& detail)
{
    forwarder::v1::TxResult result;
    result.set_id(tx.id);
    result.set_outcome(outcome);
    result.set_radio(tx.radio);
    result.set_count_us(tx.count_us);
    result.set_detail(detail);
    result.set_requester(tx.requester);
    result.set_airtime_us(tx.airtime_us);
    if (outcome == forwarder::v1::OK) {
        stats_.add("scheduler.tx_ok", 1);
    } else {
        stats_.add("scheduler.tx_rejected", 1);
        stats_.add(std::string("scheduler.tx_") + outcome_name(outcome), 1);
        log_debug(kComponent, "tx " + std::to_string(tx.id) + " from " + tx.requester + ": " +
                                  outcome_name(outcome) + " (" + detail + ")");
    }
    bus_.publish(FWD_TOPIC_TX_RESULT, result.SerializeAsString());
}

void Scheduler::submit(const forwarder::v1::TxRequest& request, std::string bytes,
                       const std::string& requester)
{
    stats_.add("scheduler.tx_requests", 1);
    PlannedTx tx;
    tx.id = request.id();
    tx.requester = requester;
    tx.radio = request.radio();
    tx.priority = request.priority();
    tx.airtime_us = airtime_us(request);
    tx.request = request;
    tx.bytes = std::move(bytes);

    std::lock_guard lock(mutex_);
    if (tx.radio >= radios_.size()) {
        publish_result(tx, forwarder::v1::RADIO_ERROR,
                       "no radio " + std::to_string(tx.radio) + " (" +
                           std::to_string(radios_.size()) + " configured)");
        return;
    }
    auto& state = radios_[tx.radio];
    uint32_t now = 0;
    if (!state.radio->counter_now(now)) {
        publish_result(tx, forwarder::v1::RADIO_ERROR, "cannot read the radio's counter");
        return;
    }
    if (auto rejection = admit(tx, state, now)) {
        publish_result(tx, rejection->outcome, rejection->detail);
        return;
    }
    insert(std::move(tx), state, now);
    inbox_->wake();
}

std::optional<Rejection> Scheduler::admit(PlannedTx& tx, RadioState& state, uint32_t now)
{
    const auto& req = tx.request;
    if (tx.airtime_us == 0) {
        return Rejection{forwarder::v1::RADIO_ERROR, "invalid or missing modulation"};
    }
    const uint64_t freq = req.frequency_hz();
    if (freq == 0 || (state.tx_max_hz != 0 && (freq < state.tx_min_hz || freq > state.tx_max_hz))) {
        return Rejection{forwarder::v1::TX_FREQ, "frequency " + std::to_string(freq) +
                                                     " Hz outside the TX range [" +
                                                     std::to_string(state.tx_min_hz) + ", " +
                                                     std::to_string(state.tx_max_hz) + "] Hz"};
    }
    if (state.max_eirp_dbm && req.power_dbm() > *state.max_eirp_dbm + 1e-3f) {
        return Rejection{forwarder::v1::TX_POWER, "power " + std::to_string(req.power_dbm()) +
                                                      " dBm above max EIRP " +
                                                      std::to_string(*state.max_eirp_dbm) + " dBm"};
    }
    const uint32_t lead = state.radio->lead_time_us();
    const int64_t min_ahead =
        static_cast<int64_t>(lead) + config_.start_delay_us + config_.margin_us;
    // (The hand-over slack is not required at admission: a frame that arrives late is
    // handed over at once.)

    switch (req.timing().when_case()) {
    case forwarder::v1::TxTiming::kImmediate:
        if (!place_immediate(tx, state, now)) {
            return Rejection{forwarder::v1::COLLISION_PACKET,
                             "no free slot for an immediate frame"};
        }
        break;
    case forwarder::v1::TxTiming::kCountUs:
        tx.count_us = req.timing().count_us();
        break;
    case forwarder::v1::TxTiming::kGpsTimeUs:
        if (!gps_mapper_ || !gps_mapper_(tx.radio, req.timing().gps_time_us(), tx.count_us)) {
            return Rejection{forwarder::v1::GPS_UNLOCKED, "no GPS time reference"};
        }
        break;
    default:
        return Rejection{forwarder::v1::RADIO_ERROR, "request has no timing"};
    }

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
        auto lowest =
            std::min_element(state.timeline.begin(), state.timeline.end(),
                             [](const auto& a, const auto& b) { return a.priority < b.priority; });
        if (lowest->priority >= tx.priority) {
            return Rejection{forwarder::v1::QUEUE_FULL,
                             std::to_string(state.timeline.size()) + " frames already queued"};
        }
    }
    for (auto& rule : rules_) {
        if (auto r = rule->check(tx, state.timeline)) {
            return r;
        }
    }
    const auto hits = collisions(tx, state, now);
    for (size_t i : hits) {
        if (state.timeline[i].priority >= tx.priority) {
            return Rejection{forwarder::v1::COLLISION_PACKET,
                             "overlaps frame " + std::to_string(state.timeline[i].id) +
                                 " at counter " + std::to_string(state.timeline[i].count_us)};
        }
    }
    // Every colliding frame has a lower priority: they yield to this one.
    for (auto it = hits.rbegin(); it != hits.rend(); ++it) {
        PlannedTx displaced = std::move(state.timeline[*it]);
        state.timeline.erase(state.timeline.begin() + static_cast<std::ptrdiff_t>(*it));
        publish_result(displaced, forwarder::v1::COLLISION_PACKET,
                       "displaced by higher-priority frame " + std::to_string(tx.id));
    }
    if (state.timeline.size() >= config_.queue_size) {
        auto lowest =
            std::min_element(state.timeline.begin(), state.timeline.end(),
                             [](const auto& a, const auto& b) { return a.priority < b.priority; });
        PlannedTx displaced = std::move(*lowest);
        state.timeline.erase(lowest);
        publish_result(displaced, forwarder::v1::QUEUE_FULL,
                       "displaced by higher-priority frame " + std::to_string(tx.id));
    }
    return std::nullopt;
}

// Occupied span of a frame, relative to `now`: [start − start_delay, start + airtime + guard).
static std::pair<int64_t, int64_t> span(const PlannedTx& tx, uint32_t now,
                                        const SchedulerConfig& config)
{
    const int64_t start = counter_diff(now, tx.count_us);
    return {start - config.start_delay_us, start + tx.airtime_us + config.guard_us};
}

std::vector<size_t> Scheduler::collisions(const PlannedTx& tx, const RadioState& state,
                                          uint32_t now) const
{
    std::vector<size_t> hits;
    const auto [a0, a1] = span(tx, now, config_);
    for (size_t i = 0; i < state.timeline.size(); ++i) {
        const auto [b0, b1] = span(state.timeline[i], now, config_);
        if (a0 < b1 && b0 < a1) {
            hits.push_back(i);
        }
    }
    return hits;
}

bool Scheduler::place_immediate(PlannedTx& tx, const RadioState& state, uint32_t now) const
{
    // As soon as possible: two lead times out (time to hand it over), or right after the
    // first queued frame that leaves a gap.
    const uint32_t lead = state.radio->lead_time_us();
    const uint32_t earliest = now + 2 * lead + config_.start_delay_us + config_.margin_us;
    std::vector<uint32_t> candidates{earliest};
    for (const auto& q : state.timeline) {
        candidates.push_back(q.count_us + q.airtime_us + config_.guard_us + config_.start_delay_us);
    }
    std::sort(candidates.begin(), candidates.end(), [now](uint32_t a, uint32_t b) {
        return counter_diff(now, a) < counter_diff(now, b);
    });
    for (uint32_t c : candidates) {
        if (counter_diff(now, c) < counter_diff(now, earliest)) {
            continue;
        }
        tx.count_us = c;
        if (collisions(tx, state, now).empty()) {
            return true;
        }
    }
    return false;
}

void Scheduler::insert(PlannedTx tx, RadioState& state, uint32_t now)
{
    const int64_t at = counter_diff(now, tx.count_us);
    auto pos = std::find_if(state.timeline.begin(), state.timeline.end(),
                            [&](const PlannedTx& q) { return counter_diff(now, q.count_us) > at; });
    state.timeline.insert(pos, std::move(tx));
}

uint32_t Scheduler::run_due()
{
    uint32_t next_wait = kMaxWaitUs;
    std::lock_guard lock(mutex_);
    for (auto& state : radios_) {
        if (state.timeline.empty()) {
            continue;
        }
        const uint32_t lead = state.radio->lead_time_us();
        while (!state.timeline.empty()) {
            uint32_t now = 0;
            if (!state.radio->counter_now(now)) {
                for (auto& tx : state.timeline) {
                    publish_result(tx, forwarder::v1::RADIO_ERROR,
                                   "cannot read the radio's counter");
                }
                state.timeline.clear();
                break;
            }
            PlannedTx& front = state.timeline.front();
            const int64_t ahead = counter_diff(now, front.count_us);
            const int64_t handover = static_cast<int64_t>(lead) + config_.handover_slack_us;
            if (ahead > handover) {
                next_wait = std::min<uint32_t>(next_wait, static_cast<uint32_t>(ahead - handover));
                break;
            }
            PlannedTx tx = std::move(front);
            state.timeline.erase(state.timeline.begin());
            if (ahead < static_cast<int64_t>(config_.start_delay_us)) {
                publish_result(tx, forwarder::v1::TOO_LATE,
                               "missed the hand-over: " + std::to_string(ahead) +
                                   " µs left before TX time");
                continue;
            }
            std::string error;
            if (!state.radio->transmit(tx.bytes, tx.count_us, error)) {
                publish_result(tx, forwarder::v1::RADIO_ERROR,
                               "driver refused the frame: " + error);
                continue;
            }
            for (auto& rule : rules_) {
                rule->on_transmitted(tx);
            }
            publish_result(tx, forwarder::v1::OK,
                           "handed to the radio " + std::to_string(ahead) + " µs before TX time");
        }
    }
    return next_wait;
}

void Scheduler::cancel_all()
{
    std::lock_guard lock(mutex_);
    for (auto& state : radios_) {
        for (const auto& tx : state.timeline) {
            publish_result(tx, forwarder::v1::CANCELLED, "forwarder stopping");
        }
        state.timeline.clear();
    }
}

size_t Scheduler::queued(uint32_t radio) const
{
    std::lock_guard lock(mutex_);
    return radio < radios_.size() ? radios_[radio].timeline.size() : 0;
}

} // namespace forwarder::core
