#include "gps_clock.hpp"

#include "clock.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace forwarder::core {

namespace {

// Inputs beyond these are refused, so that every intermediate fits in int64 with room to spare
// (2^62 µs ≈ 146 000 years).
constexpr uint64_t kMaxUs = uint64_t{1} << 62;
constexpr uint64_t kMaxGpsSecond = kMaxUs / kUsPerSecond;
constexpr int64_t kCounterHalfRange = int64_t{1} << 31;

void set_reason(std::string* reason, std::string text)
{
    if (reason)
        *reason = std::move(text);
}

std::string format_ppm(double ppm)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%+.2f ppm", ppm);
    return buf;
}

uint64_t age_of(uint64_t since_mono_us, uint64_t now_mono_us)
{
    // A query stamped before the reference (out-of-order caller) counts as fresh.
    return now_mono_us > since_mono_us ? now_mono_us - since_mono_us : 0;
}

bool is_pps(TimeSource source)
{
    return source == TimeSource::pps_gps || source == TimeSource::pps_lns;
}

int64_t floor_div(int64_t a, int64_t b) // b > 0
{
    const int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

int64_t ceil_div(int64_t a, int64_t b) // b > 0
{
    const int64_t q = a / b;
    return (a % b != 0 && a > 0) ? q + 1 : q;
}

// Checks shared by both round-trip variants.
bool round_trip_usable(uint64_t tx_mono_us, uint64_t rx_mono_us, uint64_t server_gps_us,
                       uint64_t pps_mono_us, std::string* reason)
{
    if (server_gps_us == 0) {
        set_reason(reason, "gpstime 0 carries no time");
        return false;
    }
    if (tx_mono_us >= kMaxUs || rx_mono_us >= kMaxUs || server_gps_us >= kMaxUs ||
        pps_mono_us >= kMaxUs) {
        set_reason(reason, "time value out of range");
        return false;
    }
    if (rx_mono_us < tx_mono_us) {
        set_reason(reason, "reply received before the request was sent");
        return false;
    }
    if (rx_mono_us - tx_mono_us >= 2 * static_cast<uint64_t>(kUsPerSecond)) {
        set_reason(reason, "round trip of " + std::to_string(rx_mono_us - tx_mono_us) +
                               " us is not below 2 s");
        return false;
    }
    return true;
}

} // namespace

const char* time_source_name(TimeSource source)
{
    switch (source) {
    case TimeSource::none:
        return "none";
    case TimeSource::lns_transfer:
        return "lns_transfer";
    case TimeSource::pps_lns:
        return "pps_lns";
    case TimeSource::pps_gps:
        return "pps_gps";
    }
    return "unknown";
}

GpsClock::GpsClock(Limits limits) : limits_(limits) {}

void GpsClock::reset()
{
    pps_ = {};
    transfer_ = {};
    pps_samples_ = 0;
    aberrant_ = 0;
    drift_samples_ = 0;
    drift_sum_ = 0.0;
    drift_filtered_ = 0.0;
}

bool GpsClock::pps_valid(uint64_t now_mono_us) const
{
    return pps_.set && age_of(pps_.mono_us, now_mono_us) <= limits_.pps_max_age_us;
}

bool GpsClock::transfer_valid(uint64_t now_mono_us) const
{
    return transfer_.set && age_of(transfer_.mono_us, now_mono_us) <= limits_.transfer_max_age_us;
}

double GpsClock::drift_ppm() const
{
    return drift_settled() ? drift_filtered_ : (drift_samples_ ? drift_sum_ / drift_samples_ : 0.0);
}

bool GpsClock::drift_settled() const
{
    return drift_samples_ >= std::max<uint32_t>(limits_.initial_average, 1);
}

void GpsClock::absorb_drift(double error_ppm)
{
    if (!drift_settled()) {
        drift_sum_ += error_ppm;
        ++drift_samples_;
        if (drift_settled())
            drift_filtered_ = drift_sum_ / drift_samples_;
        return;
    }
    drift_filtered_ += limits_.filter * (error_ppm - drift_filtered_);
    if (drift_samples_ < std::numeric_limits<uint32_t>::max())
        ++drift_samples_;
}

void GpsClock::seed(uint32_t count_us, uint64_t gps_second, TimeSource source, uint64_t mono_us,
                    bool keep_drift)
{
    pps_ = {true, count_us, gps_second, mono_us, source};
    pps_samples_ = 1;
    aberrant_ = 0;
    if (!keep_drift) {
        drift_samples_ = 0;
        drift_sum_ = 0.0;
        drift_filtered_ = 0.0;
    }
}

bool GpsClock::add_pps(uint32_t count_us, uint64_t gps_second, TimeSource source, uint64_t mono_us,
                       std::string* reason)
{
    if (!is_pps(source)) {
        set_reason(reason, std::string("not a PPS source: ") + time_source_name(source));
        return false;
    }
    if (gps_second > kMaxGpsSecond || mono_us >= kMaxUs) {
        set_reason(reason, "time value out of range");
        return false;
    }
    if (!pps_valid(mono_us)) {
        set_reason(reason, pps_.set ? "seeded (previous reference expired)" : "seeded");
        seed(count_us, gps_second, source, mono_us, false);
        return true;
    }
    if (source < pps_.source) {
        set_reason(reason, std::string("ignored: ") + time_source_name(source) + " while a " +
                               time_source_name(pps_.source) + " reference is valid");
        return false;
    }

    const int64_t d_gps =
        (static_cast<int64_t>(gps_second) - static_cast<int64_t>(pps_.gps_second)) * kUsPerSecond;
    const int64_t d_count = counter_diff(pps_.count_us, count_us);
    if (d_gps == 0 && d_count == 0) {
        set_reason(reason, "ignored: repeat of the reference sample");
        return false;
    }

    std::string problem;
    double error_ppm = 0.0;
    if (d_gps <= 0) {
        problem = "GPS second " + std::to_string(gps_second) + " not after the reference's " +
                  std::to_string(pps_.gps_second);
    } else if (d_gps >= kCounterHalfRange) {
        problem = "GPS second too far from the reference for the 32-bit counter";
    } else {
        error_ppm = static_cast<double>(d_count - d_gps) * 1e6 / static_cast<double>(d_gps);
        if (!(std::fabs(error_ppm) <= limits_.max_drift_ppm))
            problem = "crystal error " + format_ppm(error_ppm) + " outside +/-" +
                      format_ppm(limits_.max_drift_ppm).substr(1);
    }

    if (problem.empty()) {
        aberrant_ = 0;
        absorb_drift(error_ppm);
        pps_ = {true, count_us, gps_second, mono_us, source};
        if (pps_samples_ < std::numeric_limits<uint32_t>::max())
            ++pps_samples_;
        set_reason(reason, "accepted (" + format_ppm(error_ppm) + ")");
        return true;
    }

    if (source > pps_.source) {
        // The better source wins at once (e.g. a receiver's GPS time against a label solved
        // from the LNS round trip).
        set_reason(reason, std::string("re-seeded: ") + time_source_name(source) +
                               " disagrees with the " + time_source_name(pps_.source) +
                               " reference (" + problem + ")");
        seed(count_us, gps_second, source, mono_us, true);
        return true;
    }

    ++aberrant_;
    const uint32_t limit = std::max<uint32_t>(limits_.aberrant_reseed, 1);
    if (aberrant_ >= limit) {
        set_reason(reason, "re-seeded after " + std::to_string(aberrant_) +
                               " consecutive aberrant samples (" + problem + ")");
        seed(count_us, gps_second, source, mono_us, true);
        return true;
    }
    set_reason(reason, "rejected: " + problem + " (aberrant " + std::to_string(aberrant_) + "/" +
                           std::to_string(limit) + ")");
    return false;
}

bool GpsClock::add_transfer(uint32_t count_us, uint64_t gps_us, uint64_t mono_us,
                            std::string* reason)
{
    if (gps_us == 0) {
        set_reason(reason, "gpstime 0 carries no time");
        return false;
    }
    if (gps_us >= kMaxUs || mono_us >= kMaxUs) {
        set_reason(reason, "time value out of range");
        return false;
    }
    transfer_ = {true, count_us, gps_us, mono_us};
    set_reason(reason, "accepted");
    return true;
}

std::optional<GpsClock::Active> GpsClock::active(uint64_t now_mono_us) const
{
    if (pps_valid(now_mono_us))
        return Active{pps_.count_us, static_cast<int64_t>(pps_.gps_second) * kUsPerSecond,
                      drift_ppm()};
    if (transfer_valid(now_mono_us))
        return Active{transfer_.count_us, static_cast<int64_t>(transfer_.gps_us), 0.0};
    return std::nullopt;
}

TimeSource GpsClock::source(uint64_t now_mono_us) const
{
    if (pps_valid(now_mono_us))
        return pps_.source;
    if (transfer_valid(now_mono_us))
        return TimeSource::lns_transfer;
    return TimeSource::none;
}

bool GpsClock::synchronized(uint64_t now_mono_us) const
{
    return source(now_mono_us) != TimeSource::none;
}

ClockState GpsClock::state(uint64_t now_mono_us) const
{
    ClockState st;
    if (pps_valid(now_mono_us)) {
        st.source = pps_.source;
        st.valid = true;
        st.drift_ppm = drift_ppm();
        st.age_us = age_of(pps_.mono_us, now_mono_us);
        st.pps_samples = pps_samples_;
        st.drift_settled = drift_settled();
    } else if (transfer_valid(now_mono_us)) {
        st.source = TimeSource::lns_transfer;
        st.valid = true;
        st.age_us = age_of(transfer_.mono_us, now_mono_us);
    } else if (pps_.set && (!transfer_.set || pps_.mono_us >= transfer_.mono_us)) {
        st.source = pps_.source;
        st.age_us = age_of(pps_.mono_us, now_mono_us);
    } else if (transfer_.set) {
        st.source = TimeSource::lns_transfer;
        st.age_us = age_of(transfer_.mono_us, now_mono_us);
    }
    return st;
}

bool GpsClock::to_count(uint64_t gps_us, uint64_t now_mono_us, uint32_t& count_us) const
{
    const auto ref = active(now_mono_us);
    if (!ref || gps_us >= kMaxUs)
        return false;
    const int64_t d_gps = static_cast<int64_t>(gps_us) - ref->gps_us;
    // Counter µs elapsed = GPS µs elapsed · (1 + error); written as a correction term so that
    // the large part stays exact.
    const double d_gps_f = static_cast<double>(d_gps);
    const int64_t d_count = d_gps + std::llround(d_gps_f * ref->drift_ppm * 1e-6);
    if (d_count >= kCounterHalfRange || d_count <= -kCounterHalfRange)
        return false;
    count_us = ref->count_us + static_cast<uint32_t>(d_count); // modulo 2^32
    return true;
}

bool GpsClock::to_gps(uint32_t count_us, uint64_t now_mono_us, uint64_t& gps_us) const
{
    const auto ref = active(now_mono_us);
    if (!ref)
        return false;
    const int64_t d_count = counter_diff(ref->count_us, count_us);
    // GPS µs elapsed = counter µs / (1 + e) = counter µs − counter µs · e / (1 + e).
    const double e = ref->drift_ppm * 1e-6;
    const int64_t d_gps = d_count - std::llround(static_cast<double>(d_count) * e / (1.0 + e));
    const int64_t result = ref->gps_us + d_gps;
    if (result < 0)
        return false;
    gps_us = static_cast<uint64_t>(result);
    return true;
}

std::optional<uint64_t> solve_round_trip(uint64_t tx_mono_us, uint64_t rx_mono_us,
                                         uint64_t server_gps_us, uint64_t pps_mono_us,
                                         std::string* reason)
{
    if (!round_trip_usable(tx_mono_us, rx_mono_us, server_gps_us, pps_mono_us, reason))
        return std::nullopt;
    const int64_t second = static_cast<int64_t>(server_gps_us / kUsPerSecond);
    const int64_t fraction = static_cast<int64_t>(server_gps_us % kUsPerSecond);
    // Candidate k: host time pps_mono_us + k·1 s + fraction, inside [tx, rx].
    const int64_t base = static_cast<int64_t>(pps_mono_us) + fraction;
    const int64_t k_first = ceil_div(static_cast<int64_t>(tx_mono_us) - base, kUsPerSecond);
    const int64_t k_last = floor_div(static_cast<int64_t>(rx_mono_us) - base, kUsPerSecond);
    const int64_t candidates = k_last - k_first + 1;
    if (candidates <= 0) {
        set_reason(reason, "no PPS second fits the round trip");
        return std::nullopt;
    }
    if (candidates > 1) {
        set_reason(reason, std::to_string(candidates) + " PPS seconds fit the round trip");
        return std::nullopt;
    }
    // The server's GPS second `second` began at the edge pps_mono_us + k_first·1 s.
    const int64_t label = second - k_first;
    if (label < 0) {
        set_reason(reason, "solved label before the GPS epoch");
        return std::nullopt;
    }
    set_reason(reason, "solved");
    return static_cast<uint64_t>(label);
}

std::optional<uint64_t> solve_round_trip_fuzzy(uint64_t tx_mono_us, uint64_t rx_mono_us,
                                               uint64_t server_gps_us, uint64_t pps_mono_us,
                                               std::string* reason)
{
    if (!round_trip_usable(tx_mono_us, rx_mono_us, server_gps_us, pps_mono_us, reason))
        return std::nullopt;
    const int64_t mid = static_cast<int64_t>(tx_mono_us + (rx_mono_us - tx_mono_us) / 2);
    // GPS time at the edge, assuming the server's time was read at the midpoint.
    const int64_t at_edge =
        static_cast<int64_t>(server_gps_us) - (mid - static_cast<int64_t>(pps_mono_us));
    const int64_t label = floor_div(at_edge + kUsPerSecond / 2, kUsPerSecond);
    if (label < 0) {
        set_reason(reason, "solved label before the GPS epoch");
        return std::nullopt;
    }
    set_reason(reason, "solved (fuzzy)");
    return static_cast<uint64_t>(label);
}

} // namespace forwarder::core
