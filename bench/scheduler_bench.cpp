// Transmit-scheduler benchmark: admission decisions with 1,000 frames queued on a radio.
//
//   scheduler-bench [ROUNDS]
//
// Each round fills one radio's timeline with 1,000 frames (SF7, 23 bytes, 500 ms apart, EU868
// band P with its 10 % duty cycle tracked), then times 24 further requests: a mix that
// collides (refused), fits a gap (admitted), needs its RX2 alternative, or is immediate.
// Prints decisions per second and the per-decision latency percentiles. The radio is an
// in-process double (no driver cost); the result events are published on the real bus.
// Bounded: ROUNDS (default 500) × 24 decisions.
#include "bus.hpp"
#include "scheduler.hpp"
#include "stats.hpp"

#include <forwarder/plugin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

using namespace forwarder::core;

namespace {

class BenchRadio : public TxRadio {
public:
    uint32_t now = 4'000'000'000u; // wraps during the round
    uint32_t lead_time_us() const override { return 40'000; }
    bool counter_now(uint32_t& c) override
    {
        c = now;
        return true;
    }
    TxStatus transmit(const std::string&, uint32_t, std::string&) override { return TxStatus::ok; }
};

forwarder::v1::TxRequest make(uint64_t id, uint32_t count_us, bool rx2, bool immediate)
{
    forwarder::v1::TxRequest r;
    r.set_id(id);
    r.set_payload(std::string(23, 'x'));
    r.set_frequency_hz(869'525'000);
    auto* lora = r.mutable_modulation()->mutable_lora();
    lora->set_spreading_factor(7);
    lora->set_bandwidth_hz(125'000);
    lora->set_coding_rate(forwarder::v1::CR_4_5);
    r.set_power_dbm(14);
    if (immediate) {
        r.mutable_timing()->set_immediate(true);
    } else {
        r.mutable_timing()->set_count_us(count_us);
    }
    if (rx2) {
        auto* alt = r.add_alternatives();
        alt->mutable_timing()->set_count_us(count_us + 1'000'000);
        alt->set_frequency_hz(869'525'000);
    }
    return r;
}

} // namespace

int main(int argc, char** argv)
{
    const int rounds = argc > 1 ? std::clamp(std::atoi(argv[1]), 1, 100'000) : 500;
    constexpr int kQueued = 1000;
    constexpr int kTimed = 24;
    std::mt19937 rng(7);
    std::vector<double> latencies;
    latencies.reserve(static_cast<size_t>(rounds) * kTimed);
    uint64_t admitted = 0, refused = 0;
    for (int round = 0; round < rounds; ++round) {
        EventBus bus;
        Stats stats;
        auto sink = bus.subscribe("sink", FWD_TOPIC_BIT(FWD_TOPIC_TX_RESULT), 1 << 16);
        BenchRadio radio;
        SchedulerConfig config;
        config.region = "EU868";
        config.queue_size = 2048;
        Scheduler scheduler(bus, stats, config, {&radio});
        uint64_t id = 1;
        for (int i = 0; i < kQueued; ++i) {
            const auto r = make(id++, radio.now + 1'000'000 + static_cast<uint32_t>(i) * 500'000,
                                false, false);
            scheduler.submit(r, r.SerializeAsString(), "bench");
        }
        for (int i = 0; i < kTimed; ++i) {
            const uint32_t slot = 1'000'000 + static_cast<uint32_t>(rng() % kQueued) * 500'000;
            // 0: collides with a queued frame; 1: fits the gap after it; 2: collides but has
            // RX2; 3: immediate.
            const int kind = static_cast<int>(rng() % 4);
            const uint32_t at = radio.now + slot + (kind == 1 ? 250'000 : 10'000);
            const auto r = make(id++, at, kind == 2, kind == 3);
            const std::string bytes = r.SerializeAsString();
            const auto t0 = std::chrono::steady_clock::now();
            scheduler.submit(r, bytes, "bench");
            const auto t1 = std::chrono::steady_clock::now();
            latencies.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
        }
        const size_t queued = scheduler.queued(0);
        admitted += queued - kQueued;
        refused += kTimed - (queued - kQueued);
        scheduler.cancel_all();
    }
    std::sort(latencies.begin(), latencies.end());
    auto pct = [&](double p) {
        return latencies[std::min(latencies.size() - 1,
                                  static_cast<size_t>(p * static_cast<double>(latencies.size())))];
    };
    double total = 0;
    for (double l : latencies) {
        total += l;
    }
    const double mean = total / static_cast<double>(latencies.size());
    std::printf("scheduler decisions with %d frames queued: %zu decisions (%llu admitted, %llu "
                "refused)\n",
                kQueued, latencies.size(), static_cast<unsigned long long>(admitted),
                static_cast<unsigned long long>(refused));
    std::printf("  per decision: mean %.2f µs, p50 %.2f µs, p99 %.2f µs, p99.9 %.2f µs, max "
                "%.2f µs\n",
                mean, pct(0.5), pct(0.99), pct(0.999), latencies.back());
    std::printf("  throughput: %.0f decisions/s on one thread\n", 1e6 / mean);
    return 0;
}
