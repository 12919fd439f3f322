#include "radio_clock.hpp"

namespace forwarder::lns {

namespace {
constexpr uint64_t kMask48 = 0xFFFFFFFFFFFFull;
}

bool RadioClock::restarted(uint32_t count_us, uint64_t mono_us) const
{
    if (!known_) {
        return false;
    }
    const int64_t predicted = predict(mono_us);
    const int32_t off = static_cast<int32_t>(count_us - static_cast<uint32_t>(predicted));
    return off > 2'000'000 || off < -2'000'000;
}

uint64_t RadioClock::xtime(uint32_t count_us, uint64_t mono_us)
{
    if (!known_) {
        known_ = true;
        last_ext_ = count_us;
    } else {
        const int64_t predicted = predict(mono_us);
        last_ext_ = predicted + static_cast<int32_t>(count_us - static_cast<uint32_t>(predicted));
    }
    last_mono_ = mono_us;
    return bits() | (static_cast<uint64_t>(last_ext_) & kMask48);
}

uint64_t RadioClock::xtime_near(uint32_t count_us, uint64_t mono_us) const
{
    if (!known_) {
        return 0;
    }
    const int64_t predicted = predict(mono_us);
    const int64_t ext =
        predicted + static_cast<int32_t>(count_us - static_cast<uint32_t>(predicted));
    return bits() | (static_cast<uint64_t>(ext) & kMask48);
}

uint64_t RadioClock::xtime_now(uint64_t mono_us) const
{
    return known_ ? bits() | (static_cast<uint64_t>(predict(mono_us)) & kMask48) : 0;
}

} // namespace forwarder::lns
