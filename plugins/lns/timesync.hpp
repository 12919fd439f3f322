#pragma once
// timesync requests of the gateway (lns.md §7.7, §8.5; timing.md §9), pure: no I/O, no locking,
// every call takes the host monotonic time. The owner (the I/O thread) sends the messages.
#include <cstddef>
#include <cstdint>
#include <deque>

namespace forwarder::lns {

// While wanted (a radio has PPS edges without GPS second labels), requests go out in bursts
// of `kBurst`, `kStepUs` apart, then pause `kPauseUs`, like the reference station. Replies
// are matched against the txtimes of the last `kRemembered` requests.
class TimesyncRequests {
public:
    static constexpr unsigned kBurst = 10;
    static constexpr uint64_t kStepUs = 71'000;
    static constexpr uint64_t kPauseUs = 5'000'000;
    static constexpr size_t kRemembered = 3 * kBurst;

    // Should a request go out at `now_us`? Not wanted resets the burst, so that the next
    // wish starts a fresh burst at once.
    bool due(bool wanted, uint64_t now_us);
    // A request with this txtime (host monotonic µs) was sent.
    void sent(uint64_t txtime_us);
    // When the next request is due (0: none scheduled, i.e. now once wanted).
    uint64_t next_us() const { return next_us_; }
    // True if `txtime_us` is the txtime of a remembered request; each matches once.
    bool match(uint64_t txtime_us);
    // A new connection: nothing sent yet, nothing to match.
    void reset();

private:
    std::deque<uint64_t> sent_;
    uint64_t next_us_ = 0;
    unsigned in_burst_ = 0;
};

// Signed distance `later - earlier` of two xtimes' counters (bits 47..0, modulo 2^48).
int64_t xtime_delta(uint64_t later, uint64_t earlier);

} // namespace forwarder::lns
