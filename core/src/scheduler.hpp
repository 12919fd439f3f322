#pragma once
// The transmit scheduler: the only path from a transport's TxRequest to a radio.
//
// One timeline per radio, ordered by TX time. A request is admitted or rejected at once
// with a precise reason (TOO_LATE, TOO_EARLY, COLLISION_PACKET, TX_FREQ, TX_POWER,
// GPS_UNLOCKED, QUEUE_FULL, RADIO_ERROR, or whatever an added AdmissionRule says — duty
// cycle, dwell time and LBT slot in there), and an admitted frame is handed to its driver
// `lead_time_us` before its TX time. Every request ends in exactly one TxResult.
// Counter values are 32-bit µs and wrap: all comparisons use modular differences.
#include "bus.hpp"
#include "forwarder.pb.h"
#include "stats.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace forwarder::core {

// What the scheduler needs of a radio driver.
class TxRadio {
public:
    virtual ~TxRadio() = default;
    virtual uint32_t lead_time_us() const = 0;
    virtual bool counter_now(uint32_t& count_us) = 0;
    virtual bool transmit(const std::string& tx_request, uint32_t count_us, std::string& error) = 0;
};

struct SchedulerConfig {
    uint32_t max_ahead_us = 600'000'000; // further ahead → TOO_EARLY (10 min)
    uint32_t start_delay_us = 1500;      // radio start-up before the preamble
    uint32_t guard_us = 1000;            // minimum gap between two frames
    uint32_t margin_us = 1000;           // extra slack required at admission
    // Frames are handed over this much earlier than the driver's lead time, so a thread
    // woken late by a busy CPU still meets the lead time.
    uint32_t handover_slack_us = 10000;
    size_t queue_size = 32; // frames queued per radio
};

// A frame being planned or queued.
struct PlannedTx {
    uint64_t id = 0;
    std::string requester;
    uint32_t radio = 0;
    uint32_t count_us = 0; // preamble start
    uint32_t airtime_us = 0;
    uint32_t priority = 0;
    std::string bytes; // serialized TxRequest, as handed to the driver
    forwarder::v1::TxRequest request;
};

struct Rejection {
    forwarder::v1::TxOutcome outcome;
    std::string detail;
};

class Scheduler;

// A pluggable admission check (duty cycle, dwell time, LBT, beacon reservation...).
class AdmissionRule {
public:
    virtual ~AdmissionRule() = default;
    virtual std::optional<Rejection> check(const PlannedTx& tx,
                                           const std::vector<PlannedTx>& timeline) = 0;
    // Called when a frame was handed to its radio (e.g. to book duty cycle).
    virtual void on_transmitted(const PlannedTx& /*tx*/) {}
};

class Scheduler {
public:
    Scheduler(EventBus& bus, Stats& stats, SchedulerConfig config, std::vector<TxRadio*> radios);
    ~Scheduler();

    void add_rule(std::unique_ptr<AdmissionRule> rule) { rules_.push_back(std::move(rule)); }
    // Maps a GPS time to a radio counter value; without one, GPS-timed requests are
    // answered GPS_UNLOCKED.
    using GpsMapper = std::function<bool(uint32_t radio, uint64_t gps_us, uint32_t& count_us)>;
    void set_gps_mapper(GpsMapper mapper) { gps_mapper_ = std::move(mapper); }

    // Starts the timer thread, which consumes TxRequest and RadioConfig events from the bus.
    void start();
    // Stops the thread; every frame still queued ends with a CANCELLED result.
    void stop();

    // The thread's steps, public so tests can drive them without timing.
    void handle(const Event& event);
    void submit(const forwarder::v1::TxRequest& request, std::string bytes,
                const std::string& requester);
    void configure(const forwarder::v1::RadioConfig& config);
    // Hands due frames to their radios; returns µs until the next frame is due (capped).
    uint32_t run_due();
    void cancel_all();

    size_t queued(uint32_t radio) const;

private:
    struct RadioState {
        TxRadio* radio = nullptr;
        std::vector<PlannedTx> timeline; // ordered by TX time
        uint64_t tx_min_hz = 0, tx_max_hz = 0;
        std::optional<float> max_eirp_dbm;
    };

    void run();
    void publish_result(const PlannedTx& tx, forwarder::v1::TxOutcome outcome,
                        const std::string& detail);
    std::optional<Rejection> admit(PlannedTx& tx, RadioState& state, uint32_t now);
    bool place_immediate(PlannedTx& tx, const RadioState& state, uint32_t now) const;
    std::vector<size_t> collisions(const PlannedTx& tx, const RadioState& state,
                                   uint32_t now) const;
    void insert(PlannedTx tx, RadioState& state, uint32_t now);

    EventBus& bus_;
    Stats& stats_;
    SchedulerConfig config_;
    std::vector<RadioState> radios_;
    std::vector<std::unique_ptr<AdmissionRule>> rules_;
    GpsMapper gps_mapper_;
    std::shared_ptr<Subscription> inbox_;
    std::thread thread_;
    std::atomic<bool> running_{false};
    mutable std::mutex mutex_; // guards radios_ (thread vs. tests/stop)
};

const char* outcome_name(forwarder::v1::TxOutcome outcome);

} // namespace forwarder::core
