#pragma once
// The core's clock thread: one GpsClock per radio, fed by
//   * PPS edges the radio drivers latch (ABI 2, FWD_RADIO_CAP_PPS), labelled with GPS seconds
//     by a GPS receiver (gpsd, NMEA, or the host clock) or by LNS timesync round trips;
//   * LNS time transfers {xtime, gpstime} (coarse, no PPS needed).
// Transports' TimeReferences reach it through the scheduler, in bus order with their
// TxRequests. It answers the scheduler's GPS-time questions (class B, beacons), stamps uplinks with
// gps_time_us while a radio is truly synchronised, and publishes TimeStatus so transports
// know whether to ask their servers for time.
#include "bus.hpp"
#include "gps_clock.hpp"
#include "gps_source.hpp"
#include "scheduler.hpp"
#include "stats.hpp"

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace forwarder::core {

struct TimeConfig {
    std::optional<GpsSourceConfig> gps; // absent: no GPS receiver
    bool fuzzy_round_trip = false;      // LNS round trips: midpoint instead of exact PPS fit
    int64_t gps_offset_s = 0;           // added to the receiver's GPS seconds (tests, demos)
};

class TimeKeeper final : public GpsTime {
public:
    TimeKeeper(EventBus& bus, Stats& stats, TimeConfig config, std::vector<TxRadio*> radios);
    ~TimeKeeper() override;

    void start();
    // Stamped on every pass of the clock thread (watchdog). Set before start().
    void set_heartbeat(Beat b) { heartbeat_ = std::move(b); }
    void stop();

    // GpsTime (any thread).
    bool to_count(uint32_t radio, uint64_t gps_us, uint32_t& count_us) const override;
    bool to_gps(uint32_t radio, uint32_t count_us, uint64_t& gps_us) const override;
    bool precise(uint32_t radio) const override;
    bool beacon_ready(uint32_t radio) const override;
    std::optional<std::pair<double, double>> position() const override;

    // Adds gps_time_us to a serialized Uplink when its radio is synchronised; returns false
    // (bytes untouched) otherwise. Cheap when nothing is synchronised.
    bool stamp_uplink(std::string& bytes) const;

    // The thread's steps, public so tests can drive them with their own times.
    void poll_pps(uint64_t now_mono_us);
    void on_fix(const GpsFix& fix, uint64_t now_mono_us);
    void on_reference(const forwarder::v1::TimeReference& reference, uint64_t now_mono_us) override;
    forwarder::v1::TimeStatus status(uint64_t now_mono_us) const;

private:
    struct Anchor {
        int64_t ext_count = 0; // extended counter of a labelled PPS edge
        uint64_t gps_second = 0;
        TimeSource source = TimeSource::none;
    };
    struct RadioTime {
        TxRadio* radio = nullptr;
        bool can_pps = false;
        GpsClock clock;
        CounterExtender ext;
        bool ext_started = false;
        std::optional<uint32_t> last_edge_count;
        uint64_t last_edge_mono_us = 0;
        uint64_t last_poll_mono_us = 0;
        std::optional<Anchor> anchor;
    };

    void run();
    void label_edge(RadioTime& rt, uint32_t radio, uint32_t count, uint64_t edge_mono,
                    uint64_t now_mono_us);
    void publish_status(uint64_t now_mono_us, bool force);
    void update_synchronized(uint64_t now_mono_us); // with mutex_ held

    EventBus& bus_;
    Stats& stats_;
    TimeConfig config_;
    mutable std::mutex mutex_; // guards radios_, position_, last_status_
    std::vector<RadioTime> radios_;
    std::optional<std::pair<double, double>> position_;
    std::string last_status_;
    uint64_t last_status_mono_us_ = 0;
    std::atomic<bool> any_synchronized_{false};

    std::unique_ptr<GpsSource> gps_;
    std::mutex fixes_mutex_;
    std::vector<GpsFix> fixes_;
    std::shared_ptr<Subscription> inbox_;
    std::thread thread_;
    Beat heartbeat_;
    std::atomic<bool> running_{false};
};

} // namespace forwarder::core
