#pragma once
// Named counters of the core and of every plugin instance. Lock-free increments on the hot
// path: a counter is looked up once (under a mutex) and then updated atomically.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace forwarder::core {

class Stats {
public:
    // The counter named `name`, created at 0. The reference stays valid for the Stats' life.
    std::atomic<int64_t>& counter(const std::string& name);
    void add(const std::string& name, int64_t delta) { counter(name).fetch_add(delta); }
    void set(const std::string& name, int64_t value) { counter(name).store(value); }
    int64_t get(const std::string& name) const;
    std::vector<std::pair<std::string, int64_t>> snapshot() const;

private:
    mutable std::mutex mutex_;
    std::map<std::string, std::unique_ptr<std::atomic<int64_t>>> counters_;
};

} // namespace forwarder::core
