#pragma once
// xtime bookkeeping (lns.md §3.1), pure: no I/O, no locking (the caller holds its lock).
#include <cstdint>

namespace forwarder::lns {

// Per radio: the xtime session and the 32→48-bit counter extension (§3.1). The extension
// follows the host's monotonic clock, so any gap between uplinks is bridged correctly.
class RadioClock {
public:
    explicit RadioClock(uint32_t radio, uint8_t session) : radio_(radio), session_(session) {}
    // True when `count_us` read at `mono_us` is far (> 2 s) from where the counter should
    // be: the concentrator's counter restarted, so the xtime session must be renewed.
    bool restarted(uint32_t count_us, uint64_t mono_us) const;
    // xtime of a frame received at counter `count_us`, host monotonic time `mono_us`.
    uint64_t xtime(uint32_t count_us, uint64_t mono_us);
    bool known() const { return known_; }
    // The extended counter value this radio had (or will have) at host time `mono_us`, and
    // the host time of an extended counter value: how one radio's time converts to another's.
    int64_t ext_at(uint64_t mono_us) const { return predict(mono_us); }
    uint64_t mono_at(int64_t ext) const
    {
        return last_mono_ + static_cast<uint64_t>(ext - last_ext_);
    }
    // xtime of `count_us` near now (no state change); 0 if no uplink was seen yet.
    uint64_t xtime_near(uint32_t count_us, uint64_t mono_us) const;
    uint64_t xtime_now(uint64_t mono_us) const;
    uint8_t session() const { return session_; }
    uint64_t bits() const { return (uint64_t{radio_ & 0x7F} << 56) | (uint64_t{session_} << 48); }

private:
    int64_t predict(uint64_t mono_us) const
    {
        return last_ext_ + static_cast<int64_t>(mono_us - last_mono_);
    }
    uint32_t radio_;
    uint8_t session_;
    bool known_ = false;
    int64_t last_ext_ = 0;
    uint64_t last_mono_ = 0;
};

} // namespace forwarder::lns
