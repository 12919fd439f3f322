#include "stats.hpp"

namespace forwarder::core {

std::atomic<int64_t>& Stats::counter(const std::string& name)
{
    std::lock_guard lock(mutex_);
    auto& slot = counters_[name];
    if (!slot) {
        slot = std::make_unique<std::atomic<int64_t>>(0);
    }
    return *slot;
}

int64_t Stats::get(const std::string& name) const
{
    std::lock_guard lock(mutex_);
    auto it = counters_.find(name);
    return it == counters_.end() ? 0 : it->second->load();
}

std::vector<std::pair<std::string, int64_t>> Stats::snapshot() const
{
    std::lock_guard lock(mutex_);
    std::vector<std::pair<std::string, int64_t>> out;
    out.reserve(counters_.size());
    for (const auto& [name, value] : counters_) {
        out.emplace_back(name, value->load());
    }
    return out;
}

} // namespace forwarder::core
