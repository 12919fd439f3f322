#pragma once
// The one clock of the process: CLOCK_MONOTONIC in microseconds, plus the modular
// arithmetic for 32-bit concentrator counters (they wrap every 2^32 µs ≈ 71.6 min).
#include <cstdint>

namespace forwarder::core {

uint64_t monotonic_us();

// --- GPS time -----------------------------------------------------------------------------
inline constexpr int64_t kUsPerSecond = 1'000'000;
// Unix time of the GPS epoch, 1980-01-06T00:00:00Z.
inline constexpr int64_t kGpsEpochUnixSeconds = 315'964'800;
// GPS - UTC, constant since 2017-01-01 (no leap second has been announced after that).
inline constexpr int64_t kGpsUtcLeapSeconds = 18;

// Unix µs (UTC) -> GPS µs and back, with the fixed 18 s leap offset: exact for instants from
// 2017-01-01 on; earlier instants are off by the leap seconds inserted since. Signed so that
// instants before the GPS epoch do not wrap.
constexpr int64_t utc_to_gps_us(int64_t unix_us)
{
    return unix_us - (kGpsEpochUnixSeconds - kGpsUtcLeapSeconds) * kUsPerSecond;
}
constexpr int64_t gps_to_utc_us(int64_t gps_us)
{
    return gps_us + (kGpsEpochUnixSeconds - kGpsUtcLeapSeconds) * kUsPerSecond;
}

// Unix seconds (UTC) -> whole GPS seconds since the GPS epoch; instants before it give 0.
constexpr uint64_t utc_to_gps_seconds(int64_t unix_seconds)
{
    const int64_t gps = unix_seconds - kGpsEpochUnixSeconds + kGpsUtcLeapSeconds;
    return gps < 0 ? 0 : static_cast<uint64_t>(gps);
}

// Signed distance from counter value `from` to `to`, modulo 2^32. Valid while the true
// distance is below 2^31 µs (≈ 35.8 min).
constexpr int32_t counter_diff(uint32_t from, uint32_t to)
{
    return static_cast<int32_t>(to - from);
}

// Extends a wrapping 32-bit counter to 64 bits. Readings must come less than 2^31 µs apart.
class CounterExtender {
public:
    explicit CounterExtender(uint32_t first = 0) : ext_(first) {}
    int64_t extend(uint32_t counter)
    {
        ext_ += counter_diff(static_cast<uint32_t>(ext_), counter);
        return ext_;
    }
    // Extension of `counter` relative to the last reading, without moving the reference.
    int64_t project(uint32_t counter) const
    {
        return ext_ + counter_diff(static_cast<uint32_t>(ext_), counter);
    }

private:
    int64_t ext_;
};

} // namespace forwarder::core
