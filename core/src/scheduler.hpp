#pragma once
// The transmit scheduler: the only path from a transport's TxRequest to a radio.
//
// One timeline per radio, ordered by TX time. A request is admitted or refused at once with
// a precise reason (TOO_LATE, TOO_EARLY, COLLISION_PACKET, COLLISION_BEACON, TX_FREQ,
// GPS_UNLOCKED, QUEUE_FULL, DUTY_CYCLE, DWELL_TIME, RADIO_ERROR, or whatever an added
// AdmissionRule says), and an admitted frame is handed to its driver `lead_time_us` before
// its TX time, after listen before talk where the region requires it (CHANNEL_BUSY).
//
// A refused or displaced frame tries its alternatives in order (class A: RX2), each first on
// its own radio and then on any other TX-capable radio covering the frequency (antenna
// diversity); an immediate (class C) frame is retried on a short backoff. Every request ends
// in exactly one TxResult, which says which placement was used.
//
// Regional rules come from the region (the operator's `scheduler.region`, else the region of
// the transport's RadioConfig): TX range and EIRP, duty cycle over a sliding window per radio
// and sub-band (or channel), dwell time, LBT. Class B: beacons are generated and queued at
// GPS k·128 s + 1.5 ms while the radio's clock is synchronised, and no ping-slot frame may
// start in a beacon's guard/reserved time.
//
// Counter values are 32-bit µs and wrap: all comparisons use modular differences; the duty
// cycle ledger runs on each radio's extended (64-bit) counter.
#include "bus.hpp"
#include "clock.hpp"
#include "duty_cycle.hpp"
#include "forwarder.pb.h"
#include "heartbeat.hpp"
#include "stats.hpp"

#include <region.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace forwarder::core {

enum class TxStatus { ok, busy, error };

// What the scheduler needs of a radio driver.
class TxRadio {
public:
    virtual ~TxRadio() = default;
    virtual uint32_t lead_time_us() const = 0;
    virtual bool counter_now(uint32_t& count_us) = 0;
    virtual TxStatus transmit(const std::string& tx_request, uint32_t count_us,
                              std::string& error) = 0;
    // FWD_RADIO_CAP_* bits (ABI version 2).
    virtual uint32_t capabilities() const { return 0; }
    virtual TxStatus channel_clear(uint64_t /*frequency_hz*/, uint32_t /*bandwidth_hz*/,
                                   uint32_t /*count_us*/, uint32_t /*airtime_us*/)
    {
        return TxStatus::ok;
    }
    virtual bool last_pps(uint32_t& /*count_us*/, uint64_t& /*edge_mono_us*/) { return false; }
};

enum class LbtMode {
    automatic, // where the region requires it and the driver can sense; warn once otherwise
    on,        // always; a driver that cannot sense gets CHANNEL_BUSY refusals
    off        // never (a warning is logged where the region requires it)
};

struct BeaconConfig {
    enum class Mode { automatic, on, off };
    Mode mode = Mode::automatic; // automatic: when the transport's RadioConfig asks for it
    uint32_t radio = 0;          // which radio sends beacons
    std::optional<double> latitude, longitude; // gateway position for the beacon's Info field
    uint8_t info_desc = 0;
    std::optional<float> power_dbm; // default: the region's beacon power
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
    // A radio with nothing queued and no beacons is read this often (its 32-bit counter is
    // extended from the readings, which must come less than 35 min apart).
    uint64_t idle_read_interval_us = 10'000'000;

    std::string region;                            // operator override of the RadioConfig's
    bool duty_cycle = true;                        // regulatory duty-cycle limits
    uint64_t duty_cycle_window_us = 3'600'000'000; // sliding window
    std::optional<bool> dwell_time;                // default: the region's rule
    uint32_t dwell_limit_us = 400'000;
    LbtMode lbt = LbtMode::automatic;
    uint32_t class_c_retries = 10; // immediate frames refused at hand-over
    uint32_t class_c_retry_step_us = 100'000;
    bool antenna_diversity = true;
    BeaconConfig beacon;
};

// A frame being planned or queued.
struct PlannedTx {
    uint64_t id = 0;  // the requester's id
    uint64_t uid = 0; // the scheduler's own, unique
    std::string requester;
    uint32_t radio = 0;    // where it is placed
    uint32_t count_us = 0; // preamble start on `radio`
    uint32_t airtime_us = 0;
    uint32_t priority = 0;
    std::string bytes; // serialized TxRequest of the placement, as handed to the driver
    forwarder::v1::TxRequest request; // as requested (with its alternatives)
    uint32_t alternative = 0;         // 0 = the request itself, n = alternatives[n-1]
    uint64_t frequency_hz = 0;        // of the placement
    float power_dbm = 0;
    bool power_limited = false;      // power_dbm was lowered to the regulatory limit
    bool admission_reported = false; // the provisional TxResult went out (report_admission)
    bool immediate = false;
    bool class_b = false; // GPS-timed (ping slot): keeps out of beacon guard times
    bool beacon = false;
    uint32_t retries_used = 0;
    uint32_t not_before = 0;           // immediate retries: earliest counter value (0 = none) ...
    uint32_t not_before_radio = 0;     // ... on this radio's counter
    std::string dc_key;                // duty-cycle ledger key, empty when unlimited
    std::vector<std::string> failures; // what was tried before, for the final detail
};

// A radio's queued frames, keyed by the radio's extended (64-bit) counter at TX start, so
// insertion and the collision search around a time are O(log n).
using Timeline = std::multimap<int64_t, PlannedTx>;

struct Rejection {
    forwarder::v1::TxOutcome outcome;
    std::string detail;
};

// A pluggable admission check.
class AdmissionRule {
public:
    virtual ~AdmissionRule() = default;
    virtual std::optional<Rejection> check(const PlannedTx& tx, const Timeline& timeline) = 0;
    // Called when a frame was handed to its radio.
    virtual void on_transmitted(const PlannedTx& /*tx*/) {}
};

// The radio clocks' view of GPS time (the core's TimeKeeper); absent = no GPS time at all.
class GpsTime {
public:
    virtual ~GpsTime() = default;
    virtual bool to_count(uint32_t radio, uint64_t gps_us, uint32_t& count_us) const = 0;
    virtual bool to_gps(uint32_t radio, uint32_t count_us, uint64_t& gps_us) const = 0;
    // PPS-based (good enough for uplink time stamps and the beacon guard) ...
    virtual bool precise(uint32_t radio) const = 0;
    // ... and with the crystal correction established (needed to send beacons).
    virtual bool beacon_ready(uint32_t radio) const = 0;
    virtual std::optional<std::pair<double, double>> position() const = 0;
    // A time fact from a transport. The scheduler applies it in bus order, so a class B
    // request that follows it on the bus already sees its effect.
    virtual void on_reference(const forwarder::v1::TimeReference& reference,
                              uint64_t now_mono_us) = 0;
};

class Scheduler {
public:
    Scheduler(EventBus& bus, Stats& stats, SchedulerConfig config, std::vector<TxRadio*> radios);
    ~Scheduler();

    void add_rule(std::unique_ptr<AdmissionRule> rule) { rules_.push_back(std::move(rule)); }
    void set_gps_time(GpsTime* gps) { gps_ = gps; }

    // Starts the timer thread, which consumes TxRequest and RadioConfig events from the bus.
    void start();
    // Stops the thread; every frame still queued ends with a CANCELLED result.
    void stop();

    // The thread's steps, public so tests can drive them without timing.
    void handle(const Event& event);
    void submit(const forwarder::v1::TxRequest& request, std::string bytes,
                const std::string& requester);
    void configure(const forwarder::v1::RadioConfig& config);
    // Hands due frames to their radios and plans beacons; returns µs until the next frame is
    // due (capped).
    uint32_t run_due();
    void cancel_all();

    size_t queued(uint32_t radio) const;
    // Downlinks of `requester` rank by (priority, request priority): a transport's priority
    // (0..255, default 0) decides between networks, the request's own within one.
    void set_requester_priority(const std::string& requester, uint32_t priority);
    // Stamped on every pass of the scheduler thread (watchdog). Set before start().
    void set_heartbeat(Beat b) { heartbeat_ = std::move(b); }
    // The radio's counter as last read by the scheduler and the host monotonic time of that
    // read; false before the first read.
    bool last_counter(uint32_t radio, uint32_t& count_us, uint64_t& read_mono_us) const;
    // Air time used in the last window / the budget, per duty-cycle key ("radio0/L").
    struct BandUsage {
        std::string key;
        int64_t used_us = 0;
        int64_t budget_us = 0;
    };
    std::vector<BandUsage> duty_cycle_usage();
    // The region in force for a radio (nullptr = none known).
    const support::Region* region(uint32_t radio) const;

private:
    struct RadioState {
        TxRadio* radio = nullptr;
        Timeline timeline;
        uint32_t max_span_us = 0; // longest air time + guard queued (bounds the search)
        uint64_t tx_min_hz = 0, tx_max_hz = 0;
        bool tx_capable = true;     // some RF chain of its channel plan may transmit
        uint32_t read_failures = 0; // consecutive counter reads that failed in run_due()
        uint64_t last_read_mono_us = 0;
        std::optional<float> max_eirp_dbm;
        const support::Region* region = nullptr;
        std::string unknown_region; // the last unknown name reported, to report it once
        CounterExtender ext;
        uint32_t last_now = 0;
        uint64_t last_now_mono_us = 0; // host monotonic time of that read
        bool have_now = false;
        std::optional<forwarder::v1::Beaconing> beaconing; // from the RadioConfig
        uint64_t next_beacon_gps_us = 0;                   // last beacon planned
        bool beacon_suspended_logged = false;
        bool lbt_warned = false;
    };
    struct Admitted {
        std::vector<PlannedTx> displaced;
    };

    void run();
    // `admitted`: the provisional result of a request with report_admission (not counted).
    std::map<std::string, uint32_t> requester_priority_;
    Beat heartbeat_;
    void publish_result(const PlannedTx& tx, forwarder::v1::TxOutcome outcome,
                        const std::string& detail, bool admitted = false);
    bool read_now(uint32_t radio, uint32_t& now);
    // Places `tx` starting with alternative `first`; on success it is queued.
    std::optional<Rejection> place(PlannedTx& tx, uint32_t first, bool skip_own_radio,
                                   std::optional<Rejection> prior = std::nullopt);
    void apply_alternative(PlannedTx& tx, uint32_t index) const;
    std::optional<Rejection> admit(PlannedTx& tx, uint32_t radio, Admitted& out);
    bool place_immediate(PlannedTx& tx, RadioState& state, uint32_t now) const;
    std::vector<Timeline::iterator> collisions(const PlannedTx& tx, RadioState& state,
                                               uint32_t now) const;
    bool beaconing(uint32_t radio) const; // beacons wanted on this radio
    std::optional<Rejection> beacon_rule(const PlannedTx& tx, uint32_t radio) const;
    std::optional<Rejection> duty_cycle_rule(PlannedTx& tx, RadioState& state, uint32_t radio);
    void insert(PlannedTx tx, RadioState& state, uint32_t now);
    void requeue(PlannedTx tx, forwarder::v1::TxOutcome outcome, const std::string& detail);
    void finish_refused(PlannedTx& tx, const Rejection& last);
    bool lbt_active(RadioState& state, uint32_t radio);
    void plan_beacon(RadioState& state, uint32_t radio);
    void retire(const PlannedTx& tx); // frees its duty-cycle reservation

    EventBus& bus_;
    Stats& stats_;
    SchedulerConfig config_;
    std::vector<RadioState> radios_;
    std::vector<std::unique_ptr<AdmissionRule>> rules_;
    GpsTime* gps_ = nullptr;
    const support::Region* configured_region_ = nullptr;
    DutyCycleLedger ledger_;
    uint64_t next_uid_ = 1;
    uint64_t last_prune_us_ = 0;
    std::shared_ptr<Subscription> inbox_;
    std::thread thread_;
    std::atomic<bool> running_{false};
    mutable std::mutex mutex_; // guards radios_ and the ledger (thread vs. tests/stop)
};

const char* outcome_name(forwarder::v1::TxOutcome outcome);

} // namespace forwarder::core
