#include "timesync.hpp"

#include <algorithm>

namespace forwarder::lns {

bool TimesyncRequests::due(bool wanted, uint64_t now_us)
{
    if (!wanted) {
        next_us_ = 0;
        in_burst_ = 0;
        return false;
    }
    return next_us_ == 0 || now_us >= next_us_;
}

void TimesyncRequests::sent(uint64_t txtime_us)
{
    sent_.push_back(txtime_us);
    while (sent_.size() > kRemembered) {
        sent_.pop_front();
    }
    if (++in_burst_ >= kBurst) {
        in_burst_ = 0;
        next_us_ = txtime_us + kPauseUs;
    } else {
        next_us_ = txtime_us + kStepUs;
    }
}

bool TimesyncRequests::match(uint64_t txtime_us)
{
    auto it = std::find(sent_.begin(), sent_.end(), txtime_us);
    if (it == sent_.end()) {
        return false;
    }
    sent_.erase(it);
    return true;
}

void TimesyncRequests::reset()
{
    sent_.clear();
    next_us_ = 0;
    in_burst_ = 0;
}

int64_t xtime_delta(uint64_t later, uint64_t earlier)
{
    // Bits 63..48 shift out; the arithmetic shift back sign-extends the 48-bit difference.
    return static_cast<int64_t>((later - earlier) << 16) >> 16;
}

} // namespace forwarder::lns
