#pragma once
// What the libloragw driver tests share: a host that records what a plugin publishes, logs and
// counts, and the EU868 channel plan The Things Stack sends.
#include <forwarder/plugin.hpp>

#include "forwarder.pb.h"

#include <time.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace forwarder::lgw::testing {

namespace v1 = forwarder::v1;
using namespace std::chrono_literals;

inline uint64_t mono_us()
{
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

// A host that records what the plugin publishes and logs.
struct FakeHost {
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<std::pair<uint32_t, std::string>> published;
    std::map<std::string, int64_t> stats;
    std::vector<std::pair<int, std::string>> logs;

    static FakeHost& of(fwd_host* host) { return *reinterpret_cast<FakeHost*>(host); }
    static int publish(fwd_host* host, uint32_t topic, const void* data, size_t len)
    {
        FakeHost& self = of(host);
        std::lock_guard lock(self.mutex);
        self.published.emplace_back(topic, std::string(static_cast<const char*>(data), len));
        self.changed.notify_all();
        return FWD_OK;
    }
    static void log(fwd_host* host, int level, const char* message)
    {
        FakeHost& self = of(host);
        std::lock_guard lock(self.mutex);
        self.logs.emplace_back(level, message);
        self.changed.notify_all();
    }
    static uint64_t monotonic_us(fwd_host*) { return mono_us(); }
    static void stat_add(fwd_host* host, const char* name, int64_t delta)
    {
        FakeHost& self = of(host);
        std::lock_guard lock(self.mutex);
        self.stats[name] += delta;
        self.changed.notify_all();
    }
    static void stat_set(fwd_host* host, const char* name, int64_t value)
    {
        FakeHost& self = of(host);
        std::lock_guard lock(self.mutex);
        self.stats[name] = value;
    }
    fwd_host_api_v1 api{sizeof(fwd_host_api_v1), &publish,  &log,
                        &monotonic_us,           &stat_add, &stat_set};
    forwarder::sdk::Host host() { return {reinterpret_cast<fwd_host*>(this), &api}; }

    template <class P> bool wait_for(P predicate, std::chrono::milliseconds timeout = 3s)
    {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, timeout, predicate);
    }
    bool logged(const std::string& text)
    {
        for (const auto& [level, line] : logs) {
            if (line.find(text) != std::string::npos) {
                return true;
            }
        }
        return false;
    }
    int64_t stat(const std::string& name)
    {
        std::lock_guard lock(mutex);
        auto it = stats.find(name);
        return it == stats.end() ? 0 : it->second;
    }
};

// EU868 as The Things Stack sends it: 8 multi-SF channels, a 250 kHz std channel, FSK.
inline v1::RadioConfig eu868_plan(bool with_rf_chains)
{
    v1::RadioConfig plan;
    plan.set_radio(0);
    plan.set_region("EU868");
    if (with_rf_chains) {
        auto* r0 = plan.add_rf_chains();
        r0->set_center_frequency_hz(867'500'000);
        r0->set_tx_enabled(true);
        auto* r1 = plan.add_rf_chains();
        r1->set_center_frequency_hz(868'500'000);
    }
    const uint64_t freqs[8] = {868'100'000, 868'300'000, 868'500'000, 867'100'000,
                               867'300'000, 867'500'000, 867'700'000, 867'900'000};
    for (uint64_t f : freqs) {
        auto* ch = plan.add_multi_sf_channels();
        ch->set_frequency_hz(f);
        ch->set_rf_chain(f >= 868'000'000 ? 1 : 0);
        ch->set_bandwidth_hz(125'000);
        ch->set_min_spreading_factor(7);
        ch->set_max_spreading_factor(12);
    }
    auto* std = plan.mutable_std_channel();
    std->set_frequency_hz(868'300'000);
    std->set_rf_chain(1);
    std->set_bandwidth_hz(250'000);
    std->set_min_spreading_factor(7);
    std->set_max_spreading_factor(7);
    auto* fsk = plan.mutable_fsk_channel();
    fsk->set_frequency_hz(868'800'000);
    fsk->set_rf_chain(1);
    fsk->set_bitrate(50'000);
    fsk->set_bandwidth_hz(125'000);
    plan.set_tx_frequency_min_hz(863'000'000);
    plan.set_tx_frequency_max_hz(870'000'000);
    return plan;
}

} // namespace forwarder::lgw::testing
