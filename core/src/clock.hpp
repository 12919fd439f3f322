#pragma once
// The one clock of the process: CLOCK_MONOTONIC in microseconds, plus the modular
// arithmetic for 32-bit concentrator counters (they wrap every 2^32 µs ≈ 71.6 min).
#include <cstdint>

namespace forwarder::core {

uint64_t monotonic_us();

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
