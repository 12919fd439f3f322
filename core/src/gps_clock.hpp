#pragma once
// Per-radio mapping between a concentrator's 32-bit µs counter and GPS time (timing.md §1, §9;
// lns.md §8.5). Pure and I/O-free: every call that needs "now" takes the host monotonic time
// explicitly, so the owner decides where time comes from (and tests inject it).
//
// Time bases:
//   * counter   - the radio's free-running 32-bit µs counter (`count_us`, wraps every 2^32 µs);
//   * mono      - the host monotonic clock in µs (only used to age references);
//   * GPS       - µs since 1980-01-06T00:00:00Z, no leap seconds.
//
// Sources, best first: PPS + receiver GPS time, PPS + LNS round trip, LNS {xtime, gpstime}
// transfer, none. A PPS reference is valid for `pps_max_age_us` after its last accepted sample,
// a transfer for `transfer_max_age_us`.
#include <cstdint>
#include <optional>
#include <string>

namespace forwarder::core {

// GPS time constants and UTC conversions: clock.hpp.

// Ordered worst to best: a larger value is a better source.
enum class TimeSource { none, lns_transfer, pps_lns, pps_gps };
const char* time_source_name(TimeSource source);

struct ClockState {
    // The best valid source. When nothing is valid: the kind of the most recent (stale)
    // reference with valid == false, or none if there never was one (or after reset()).
    TimeSource source = TimeSource::none;
    bool valid = false;
    // Crystal error applied to conversions (counter runs fast when positive); 0 for a
    // transfer or when nothing is valid.
    double drift_ppm = 0.0;
    // Host time since the active (or most recent stale) reference was taken; 0 for none.
    uint64_t age_us = 0;
    // Accepted PPS samples in the current reference chain (0 unless a PPS source is valid).
    uint32_t pps_samples = 0;
    // The initial crystal average is complete (beacons want this on top of `valid`).
    bool drift_settled = false;
};

// Tunables of a GpsClock (defaults from timing.md §9). Declared outside the class so that it
// can be a default argument of the constructor; use it as GpsClock::Limits.
struct GpsClockLimits {
    uint64_t pps_max_age_us = 30'000'000;
    uint64_t transfer_max_age_us = 600'000'000;
    double max_drift_ppm = 10.0;
    uint32_t initial_average = 16; // crystal samples averaged before filtering
    double filter = 1.0 / 256;     // low-pass coefficient after the initial average
    uint32_t aberrant_reseed = 3;  // consecutive rejections that re-seed the reference
};

class GpsClock {
public:
    using Limits = GpsClockLimits;

    explicit GpsClock(Limits limits = {});

    // A PPS edge latched at counter value `count_us`, which `source` (pps_gps or pps_lns) says
    // is GPS second `gps_second`; `mono_us` = host time of the sample, for ageing only.
    //
    // * No valid PPS reference (none yet, or expired): the sample seeds a new one, and the
    //   crystal estimate restarts from 0 ppm.
    // * Otherwise the crystal error implied by the step from the reference,
    //   (Δcounter − ΔGPS) / ΔGPS, must be within ±max_drift_ppm, and the GPS second must be
    //   after the reference's. An accepted sample becomes the reference and feeds the crystal
    //   estimate: the mean of the first `initial_average` errors, then a low-pass filter with
    //   coefficient `filter`.
    // * A rejected sample leaves the reference alone and returns false. The
    //   `aberrant_reseed`-th consecutive rejection instead re-seeds the reference from that
    //   sample (keeping the crystal estimate) and returns true.
    // * A sample from a lower-ranked source than a valid reference is refused without counting
    //   as aberrant; a sample from a higher-ranked source that disagrees re-seeds at once.
    // * An exact repeat of the reference is ignored (false, not aberrant).
    // `reason`, when given, receives why a sample was refused or how it was used.
    bool add_pps(uint32_t count_us, uint64_t gps_second, TimeSource source, uint64_t mono_us,
                 std::string* reason = nullptr);

    // An LNS transfer: counter value `count_us` corresponds to GPS µs `gps_us`. The latest one
    // replaces any earlier one; it is used only while no PPS reference is valid, without
    // crystal correction. gps_us == 0 ("means nothing", lns.md §8.5) is refused.
    bool add_transfer(uint32_t count_us, uint64_t gps_us, uint64_t mono_us,
                      std::string* reason = nullptr);

    ClockState state(uint64_t now_mono_us) const;
    bool synchronized(uint64_t now_mono_us) const; // any valid source
    TimeSource source(uint64_t now_mono_us) const; // best valid source, none if none

    // Conversions through the best valid reference, with the crystal correction. False when no
    // reference is valid, or when the target lies 2^31 µs (≈ 35.8 min) or more of counter time
    // from the reference (the counter value would be ambiguous), or the result is before the
    // GPS epoch. Counter values are compared modulo 2^32, so they work across the wrap.
    bool to_count(uint64_t gps_us, uint64_t now_mono_us, uint32_t& count_us) const;
    bool to_gps(uint32_t count_us, uint64_t now_mono_us, uint64_t& gps_us) const;

    void reset(); // e.g. the radio restarted (its counter restarted): forget everything

    const Limits& limits() const { return limits_; }

private:
    struct PpsRef {
        bool set = false;
        uint32_t count_us = 0;
        uint64_t gps_second = 0;
        uint64_t mono_us = 0;
        TimeSource source = TimeSource::none;
    };
    struct TransferRef {
        bool set = false;
        uint32_t count_us = 0;
        uint64_t gps_us = 0;
        uint64_t mono_us = 0;
    };
    struct Active {
        uint32_t count_us;
        int64_t gps_us;
        double drift_ppm;
    };

    bool pps_valid(uint64_t now_mono_us) const;
    bool transfer_valid(uint64_t now_mono_us) const;
    std::optional<Active> active(uint64_t now_mono_us) const;
    double drift_ppm() const;
    bool drift_settled() const;
    void seed(uint32_t count_us, uint64_t gps_second, TimeSource source, uint64_t mono_us,
              bool keep_drift);
    void absorb_drift(double error_ppm);

    Limits limits_;
    PpsRef pps_;
    TransferRef transfer_;
    uint32_t pps_samples_ = 0;
    uint32_t aberrant_ = 0;
    uint32_t drift_samples_ = 0;
    double drift_sum_ = 0.0;
    double drift_filtered_ = 0.0;
};

// The LNS round-trip algorithm with PPS (lns.md §8.5). The gateway sent a timesync at host
// monotonic `tx_mono_us` and got the reply at `rx_mono_us`, carrying the server's GPS time
// `server_gps_us`; `pps_mono_us` is the host monotonic time of a recent PPS edge.
//
// Assumption: PPS edges are exactly 1 s apart in host time, so the candidate host instants of
// the server's GPS time are pps_mono_us + k·1 s + (server_gps_us mod 1 s) for integer k. This
// holds as well as the driver's host timestamp of the edge and the host oscillator (typically
// ≤ 100 ppm, i.e. ≤ 0.1 ms per second between the edge and the round trip) allow; give a PPS
// edge close to the round trip.
//
// Returns the GPS second label of the edge at `pps_mono_us` when exactly one candidate lies in
// [tx_mono_us, rx_mono_us] (inclusive) and the round trip is < 2 s; nullopt otherwise (zero or
// several candidates, round trip ≥ 2 s, rx before tx, gpstime 0, out of range), with `reason`.
std::optional<uint64_t> solve_round_trip(uint64_t tx_mono_us, uint64_t rx_mono_us,
                                         uint64_t server_gps_us, uint64_t pps_mono_us,
                                         std::string* reason = nullptr);

// `pps: fuzzy` variant for servers whose second boundaries are not PPS-aligned: the server's
// GPS time is placed at the midpoint of [tx, rx], and the edge's label is that GPS time moved
// back to the edge and rounded to the nearest second (correct while the server's error plus
// the path asymmetry stays below 0.5 s). Same refusals for round trip, order and range.
std::optional<uint64_t> solve_round_trip_fuzzy(uint64_t tx_mono_us, uint64_t rx_mono_us,
                                               uint64_t server_gps_us, uint64_t pps_mono_us,
                                               std::string* reason = nullptr);

} // namespace forwarder::core
