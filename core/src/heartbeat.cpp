#include "heartbeat.hpp"

#include "clock.hpp"

namespace forwarder::core {

Beat Heartbeats::add(const std::string& name)
{
    auto b = std::make_shared<std::atomic<uint64_t>>(monotonic_us());
    std::lock_guard lock(mutex_);
    beats_[name] = b;
    return b;
}

void Heartbeats::remove(const std::string& name)
{
    std::lock_guard lock(mutex_);
    beats_.erase(name);
}

std::vector<std::pair<std::string, uint64_t>> Heartbeats::stalled(uint64_t now_us,
                                                                  uint64_t limit_us) const
{
    std::vector<std::pair<std::string, uint64_t>> out;
    std::lock_guard lock(mutex_);
    for (const auto& [name, b] : beats_) {
        const uint64_t last = b->load(std::memory_order_relaxed);
        if (now_us > last && now_us - last > limit_us) {
            out.emplace_back(name, now_us - last);
        }
    }
    return out;
}

} // namespace forwarder::core
