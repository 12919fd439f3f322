#pragma once
// Liveness of the daemon's threads, for the systemd watchdog: each long-running core thread
// (scheduler, clock, every plugin's delivery thread, the main loop) stamps its beat on every
// pass of its loop; the watchdog is fed only while no beat is older than a limit, so systemd
// restarts a daemon one of whose threads hangs (a driver call that never returns, a deadlock).
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace forwarder::core {

using Beat = std::shared_ptr<std::atomic<uint64_t>>; // monotonic µs of the last pass

class Heartbeats {
public:
    // A beat named `name` (e.g. "scheduler", "transport lns"), stamped now. Replaces an
    // earlier beat of that name.
    Beat add(const std::string& name);
    void remove(const std::string& name);
    // Beats older than `limit_us` at `now_us`, with their age in µs.
    std::vector<std::pair<std::string, uint64_t>> stalled(uint64_t now_us, uint64_t limit_us) const;

private:
    mutable std::mutex mutex_;
    std::map<std::string, Beat> beats_;
};

inline void beat(const Beat& b, uint64_t now_us)
{
    if (b) {
        b->store(now_us, std::memory_order_relaxed);
    }
}

} // namespace forwarder::core
