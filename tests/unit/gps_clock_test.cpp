#include "gps_clock.hpp"

#include "clock.hpp"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

using namespace forwarder::core;

namespace {

constexpr uint64_t kSecond = 1'000'000;
constexpr uint64_t kGps0 = 1'384'035'218; // GPS second of Unix 1 700 000 000
constexpr uint64_t kMono0 = 7'000'000'000;

// A simulated radio: sample i is the PPS edge of GPS second kGps0 + i, taken at host time
// kMono0 + i s, latched by a counter that starts at `start` and runs `ppm` fast.
struct Radio {
    uint32_t start;
    double ppm = 0.0;

    // Counter value `us` GPS µs after the edge of sample 0 (may be negative); wraps mod 2^32.
    uint32_t count_at(int64_t us) const
    {
        const double ticks = static_cast<double>(us) * (1.0 + ppm * 1e-6);
        return start + static_cast<uint32_t>(std::llround(ticks));
    }
    uint32_t count(int64_t i) const { return count_at(i * static_cast<int64_t>(kSecond)); }
    static uint64_t gps_s(int64_t i) { return kGps0 + i; }
    static uint64_t gps_us(int64_t i, int64_t offset_us = 0)
    {
        return gps_s(i) * kSecond + offset_us;
    }
    static uint64_t mono(int64_t i) { return kMono0 + i * kSecond; }

    // Feeds samples first..last (inclusive) from `source`; all must be accepted.
    void feed(GpsClock& clock, int64_t first, int64_t last,
              TimeSource source = TimeSource::pps_gps) const
    {
        for (int64_t i = first; i <= last; ++i) {
            std::string why;
            ASSERT_TRUE(clock.add_pps(count(i), gps_s(i), source, mono(i), &why))
                << "sample " << i << ": " << why;
        }
    }
};

int32_t count_error(uint32_t expected, uint32_t got)
{
    return counter_diff(expected, got);
}

} // namespace

// --- GPS <-> UTC -----------------------------------------------------------------------------

static_assert(utc_to_gps_us(1'700'000'000 * 1'000'000LL) == 1'384'035'218 * 1'000'000LL);
static_assert(gps_to_utc_us(1'384'035'218 * 1'000'000LL) == 1'700'000'000 * 1'000'000LL);

TEST(GpsTime, UtcConversions)
{
    // 2017-01-01T00:00:00Z, the day the offset became 18 s.
    EXPECT_EQ(utc_to_gps_us(1'483'228'800LL * 1'000'000), 1'167'264'018LL * 1'000'000);
    EXPECT_EQ(utc_to_gps_us(1'700'000'000LL * 1'000'000 + 123'456),
              1'384'035'218LL * 1'000'000 + 123'456);
    EXPECT_EQ(gps_to_utc_us(1'384'035'218LL * 1'000'000 + 999'999),
              1'700'000'000LL * 1'000'000 + 999'999);
    // The epoch constants themselves (fixed offset: the epoch maps 18 s early).
    EXPECT_EQ(gps_to_utc_us(0), (315'964'800LL - 18) * 1'000'000);
    for (int64_t unix_s = 1'483'228'800; unix_s < 1'483'228'800 + 100'000'000; unix_s += 9'999'991)
        EXPECT_EQ(gps_to_utc_us(utc_to_gps_us(unix_s * 1'000'000)), unix_s * 1'000'000);
}

TEST(GpsTime, SourceNames)
{
    EXPECT_STREQ(time_source_name(TimeSource::none), "none");
    EXPECT_STREQ(time_source_name(TimeSource::lns_transfer), "lns_transfer");
    EXPECT_STREQ(time_source_name(TimeSource::pps_lns), "pps_lns");
    EXPECT_STREQ(time_source_name(TimeSource::pps_gps), "pps_gps");
}

// --- GpsClock, repeated for counters that wrap at various points of the sequence -------------

class GpsClockTest : public ::testing::TestWithParam<uint32_t> {
protected:
    Radio radio(double ppm = 0.0) const { return Radio{GetParam(), ppm}; }
};

INSTANTIATE_TEST_SUITE_P(CounterStarts, GpsClockTest,
                         ::testing::Values(0x00100000u,                  // far from the wrap
                                           0xFFFFFFFFu - 3'000'000u + 1, // wraps after ~3 s
                                           0xFFFFFFFFu - 16'500'000u,    // mid initial average
                                           0xFFFFFFFFu));                // wraps at once

TEST_P(GpsClockTest, StartsUnsynchronized)
{
    GpsClock clock;
    EXPECT_FALSE(clock.synchronized(kMono0));
    const ClockState st = clock.state(kMono0);
    EXPECT_EQ(st.source, TimeSource::none);
    EXPECT_FALSE(st.valid);
    uint32_t count = 0;
    uint64_t gps = 0;
    EXPECT_FALSE(clock.to_count(Radio::gps_us(0), kMono0, count));
    EXPECT_FALSE(clock.to_gps(GetParam(), kMono0, gps));
}

TEST_P(GpsClockTest, PerfectPpsGivesExactRoundTrips)
{
    const Radio r = radio();
    GpsClock clock;
    r.feed(clock, 0, 9);
    const uint64_t now = Radio::mono(9);

    const ClockState st = clock.state(now);
    EXPECT_EQ(st.source, TimeSource::pps_gps);
    EXPECT_TRUE(st.valid);
    EXPECT_EQ(st.drift_ppm, 0.0);
    EXPECT_EQ(st.age_us, 0u);
    EXPECT_EQ(st.pps_samples, 10u);
    EXPECT_FALSE(st.drift_settled);
    EXPECT_TRUE(clock.synchronized(now));

    // Every earlier edge, including those on the other side of the wrap.
    for (int64_t i = 0; i <= 9; ++i) {
        uint32_t count = 0;
        uint64_t gps = 0;
        ASSERT_TRUE(clock.to_count(Radio::gps_us(i), now, count));
        EXPECT_EQ(count, r.count(i)) << i;
        ASSERT_TRUE(clock.to_gps(r.count(i), now, gps));
        EXPECT_EQ(gps, Radio::gps_us(i)) << i;
    }
    // Sub-second instants up to a minute either side of the reference.
    for (int64_t s = -50; s <= 50; s += 7) {
        for (int64_t sub : {0, 1, 499'999, 999'999}) {
            const int64_t offset = (9 + s) * static_cast<int64_t>(kSecond) + sub;
            const uint64_t gps_us = Radio::gps_us(0, offset);
            uint32_t count = 0;
            uint64_t gps = 0;
            ASSERT_TRUE(clock.to_count(gps_us, now, count));
            EXPECT_EQ(count, r.count_at(offset)) << offset;
            ASSERT_TRUE(clock.to_gps(count, now, gps));
            EXPECT_EQ(gps, gps_us) << offset;
        }
    }
}

TEST_P(GpsClockTest, EstimatesCrystalError)
{
    for (double ppm : {5.0, -5.0}) {
        const Radio r = radio(ppm);
        GpsClock clock;
        r.feed(clock, 0, 15); // 16 samples
        const uint64_t now = Radio::mono(15);
        const ClockState st = clock.state(now);
        EXPECT_NEAR(st.drift_ppm, ppm, 0.1);
        EXPECT_EQ(st.pps_samples, 16u);

        // 20 s ahead of the last edge: uncorrected this would be 100 µs off.
        for (int64_t sub : {0, 123'456, 999'999}) {
            const int64_t offset = 35 * static_cast<int64_t>(kSecond) + sub;
            uint32_t count = 0;
            uint64_t gps = 0;
            ASSERT_TRUE(clock.to_count(Radio::gps_us(0, offset), now, count));
            EXPECT_LE(std::abs(count_error(r.count_at(offset), count)), 2) << ppm;
            ASSERT_TRUE(clock.to_gps(r.count_at(offset), now, gps));
            EXPECT_LE(std::llabs(static_cast<int64_t>(gps - Radio::gps_us(0, offset))), 2) << ppm;
        }

        // The initial average completes with the 16th crystal sample (17th edge).
        EXPECT_FALSE(st.drift_settled);
        r.feed(clock, 16, 16);
        EXPECT_TRUE(clock.state(Radio::mono(16)).drift_settled);
        EXPECT_NEAR(clock.state(Radio::mono(16)).drift_ppm, ppm, 0.1);
    }
}

TEST_P(GpsClockTest, FiltersJitteryCrystal)
{
    // +3 ppm with a deterministic ±1 µs latch jitter.
    const Radio r = radio(3.0);
    GpsClock clock;
    const int jitter[] = {0, 1, -1, 1, 0, -1};
    for (int64_t i = 0; i < 300; ++i) {
        const uint32_t count = r.count(i) + static_cast<uint32_t>(jitter[i % 6]);
        ASSERT_TRUE(clock.add_pps(count, Radio::gps_s(i), TimeSource::pps_gps, Radio::mono(i)));
    }
    const ClockState st = clock.state(Radio::mono(299));
    EXPECT_TRUE(st.drift_settled);
    EXPECT_NEAR(st.drift_ppm, 3.0, 0.5);
    uint32_t count = 0;
    const int64_t offset = 319 * static_cast<int64_t>(kSecond);
    ASSERT_TRUE(clock.to_count(Radio::gps_us(0, offset), Radio::mono(299), count));
    EXPECT_LE(std::abs(count_error(r.count_at(offset), count)), 12);
}

TEST_P(GpsClockTest, RejectsAberrantSamplesAndReseedsAfterThree)
{
    const Radio r = radio();
    GpsClock clock;
    r.feed(clock, 0, 4);
    std::string why;

    // +20 ppm and -20 ppm steps are rejected; the reference stays at sample 4.
    EXPECT_FALSE(clock.add_pps(r.count(4) + 1'000'020u, Radio::gps_s(5), TimeSource::pps_gps,
                               Radio::mono(5), &why));
    EXPECT_NE(why.find("crystal error"), std::string::npos) << why;
    EXPECT_FALSE(clock.add_pps(r.count(4) + 999'980u, Radio::gps_s(5), TimeSource::pps_gps,
                               Radio::mono(5), &why));
    EXPECT_EQ(clock.state(Radio::mono(5)).pps_samples, 5u);
    uint64_t gps = 0;
    ASSERT_TRUE(clock.to_gps(r.count(4), Radio::mono(5), gps));
    EXPECT_EQ(gps, Radio::gps_us(4));

    // +9 ppm is inside the window.
    GpsClock tolerant;
    r.feed(tolerant, 0, 0);
    EXPECT_TRUE(tolerant.add_pps(r.count(0) + 1'000'009u, Radio::gps_s(1), TimeSource::pps_gps,
                                 Radio::mono(1), &why))
        << why;

    // A good sample resets the aberrant run (two bad ones went before).
    r.feed(clock, 5, 5);
    // Two bad, one good: still no re-seed.
    for (uint32_t k = 1; k <= 2; ++k)
        EXPECT_FALSE(clock.add_pps(r.count(5) + k * 1'000'020u, Radio::gps_s(5 + k),
                                   TimeSource::pps_gps, Radio::mono(5 + k)));
    r.feed(clock, 8, 8);
    EXPECT_EQ(clock.state(Radio::mono(8)).pps_samples, 7u);

    // Three bad in a row: the third re-seeds from itself.
    for (uint32_t k = 1; k <= 2; ++k)
        EXPECT_FALSE(clock.add_pps(r.count(8) + k * 1'000'020u, Radio::gps_s(8 + k),
                                   TimeSource::pps_gps, Radio::mono(8 + k), &why));
    EXPECT_NE(why.find("aberrant 2/3"), std::string::npos) << why;
    const uint32_t reseed_count = r.count(8) + 3u * 1'000'020u;
    EXPECT_TRUE(
        clock.add_pps(reseed_count, Radio::gps_s(11), TimeSource::pps_gps, Radio::mono(11), &why));
    EXPECT_NE(why.find("re-seeded"), std::string::npos) << why;
    const ClockState st = clock.state(Radio::mono(11));
    EXPECT_TRUE(st.valid);
    EXPECT_EQ(st.pps_samples, 1u);
    ASSERT_TRUE(clock.to_gps(reseed_count, Radio::mono(11), gps));
    EXPECT_EQ(gps, Radio::gps_us(11));
    uint32_t count = 0;
    ASSERT_TRUE(clock.to_count(Radio::gps_us(12), Radio::mono(11), count));
    EXPECT_EQ(count, reseed_count + 1'000'000u);
    // The new reference chain continues normally.
    EXPECT_TRUE(clock.add_pps(reseed_count + 1'000'000u, Radio::gps_s(12), TimeSource::pps_gps,
                              Radio::mono(12), &why))
        << why;
}

TEST_P(GpsClockTest, RepeatsAndOutOfOrderSamples)
{
    const Radio r = radio();
    GpsClock clock;
    r.feed(clock, 0, 3);
    std::string why;
    // An exact repeat is ignored and never builds up to a re-seed.
    for (int n = 0; n < 5; ++n)
        EXPECT_FALSE(
            clock.add_pps(r.count(3), Radio::gps_s(3), TimeSource::pps_gps, Radio::mono(3), &why));
    EXPECT_NE(why.find("repeat"), std::string::npos) << why;
    r.feed(clock, 4, 4);
    EXPECT_EQ(clock.state(Radio::mono(4)).pps_samples, 5u);
    // An earlier second is aberrant.
    EXPECT_FALSE(
        clock.add_pps(r.count(2), Radio::gps_s(2), TimeSource::pps_gps, Radio::mono(4), &why));
    EXPECT_NE(why.find("not after"), std::string::npos) << why;
    // Not a PPS source.
    EXPECT_FALSE(
        clock.add_pps(r.count(5), Radio::gps_s(5), TimeSource::lns_transfer, Radio::mono(5), &why));
    EXPECT_FALSE(clock.add_pps(r.count(5), Radio::gps_s(5), TimeSource::none, Radio::mono(5)));
}

TEST_P(GpsClockTest, PpsExpiresAfterThirtySeconds)
{
    const Radio r = radio(5.0);
    GpsClock clock;
    r.feed(clock, 0, 20);
    const uint64_t last = Radio::mono(20);
    uint32_t count = 0;
    uint64_t gps = 0;

    EXPECT_TRUE(clock.synchronized(last + 30 * kSecond));
    EXPECT_TRUE(clock.to_count(Radio::gps_us(25), last + 30 * kSecond, count));
    EXPECT_FALSE(clock.synchronized(last + 30 * kSecond + 1));
    EXPECT_FALSE(clock.to_count(Radio::gps_us(25), last + 30 * kSecond + 1, count));
    EXPECT_FALSE(clock.to_gps(r.count(25), last + 30 * kSecond + 1, gps));
    const ClockState stale = clock.state(last + 30 * kSecond + 1);
    EXPECT_EQ(stale.source, TimeSource::pps_gps);
    EXPECT_FALSE(stale.valid);
    EXPECT_EQ(stale.age_us, 30 * kSecond + 1);
    EXPECT_EQ(stale.drift_ppm, 0.0);

    // The next edge seeds a new reference and the crystal estimate starts over.
    std::string why;
    EXPECT_TRUE(
        clock.add_pps(r.count(60), Radio::gps_s(60), TimeSource::pps_gps, Radio::mono(60), &why));
    EXPECT_NE(why.find("expired"), std::string::npos) << why;
    const ClockState fresh = clock.state(Radio::mono(60));
    EXPECT_TRUE(fresh.valid);
    EXPECT_EQ(fresh.pps_samples, 1u);
    EXPECT_EQ(fresh.drift_ppm, 0.0);
    EXPECT_FALSE(fresh.drift_settled);
}

TEST_P(GpsClockTest, TransferExpiresAfterTenMinutes)
{
    const Radio r = radio();
    GpsClock clock;
    std::string why;
    EXPECT_FALSE(clock.add_transfer(r.count(0), 0, Radio::mono(0), &why)); // gpstime 0
    EXPECT_FALSE(clock.synchronized(Radio::mono(0)));
    ASSERT_TRUE(clock.add_transfer(r.count(0), Radio::gps_us(0), Radio::mono(0), &why)) << why;

    const uint64_t limit = Radio::mono(0) + 600 * kSecond;
    const ClockState st = clock.state(limit);
    EXPECT_EQ(st.source, TimeSource::lns_transfer);
    EXPECT_TRUE(st.valid);
    EXPECT_EQ(st.age_us, 600 * kSecond);
    EXPECT_EQ(st.pps_samples, 0u);

    uint32_t count = 0;
    uint64_t gps = 0;
    for (int64_t s : {-600, -1, 0, 1, 300, 600}) {
        ASSERT_TRUE(clock.to_count(Radio::gps_us(s, 17), limit, count));
        EXPECT_EQ(count, r.count_at(s * static_cast<int64_t>(kSecond) + 17));
        ASSERT_TRUE(clock.to_gps(count, limit, gps));
        EXPECT_EQ(gps, Radio::gps_us(s, 17));
    }
    EXPECT_FALSE(clock.synchronized(limit + 1));
    EXPECT_FALSE(clock.to_count(Radio::gps_us(1), limit + 1, count));
    EXPECT_FALSE(clock.to_gps(r.count(1), limit + 1, gps));
    EXPECT_EQ(clock.state(limit + 1).source, TimeSource::lns_transfer);
    EXPECT_FALSE(clock.state(limit + 1).valid);

    // A newer transfer replaces the old one.
    ASSERT_TRUE(clock.add_transfer(r.count(700), Radio::gps_us(700, 2'000), Radio::mono(700)));
    ASSERT_TRUE(clock.to_gps(r.count(700), Radio::mono(700), gps));
    EXPECT_EQ(gps, Radio::gps_us(700, 2'000));
}

TEST_P(GpsClockTest, ValidPpsBeatsTransfer)
{
    const Radio r = radio();
    GpsClock clock;
    // A coarse transfer 3 ms off, then exact PPS.
    ASSERT_TRUE(clock.add_transfer(r.count(0), Radio::gps_us(0, 3'000), Radio::mono(0)));
    r.feed(clock, 1, 5);
    // A later transfer while PPS is valid is stored but not used.
    ASSERT_TRUE(clock.add_transfer(r.count(5), Radio::gps_us(5, 3'000), Radio::mono(5)));

    EXPECT_EQ(clock.state(Radio::mono(5)).source, TimeSource::pps_gps);
    uint64_t gps = 0;
    ASSERT_TRUE(clock.to_gps(r.count(0), Radio::mono(5), gps));
    EXPECT_EQ(gps, Radio::gps_us(0));
    uint32_t count = 0;
    ASSERT_TRUE(clock.to_count(Radio::gps_us(5), Radio::mono(5), count));
    EXPECT_EQ(count, r.count(5));

    // PPS lost: fall back to the (still valid) transfer.
    const uint64_t later = Radio::mono(5) + 31 * kSecond;
    const ClockState st = clock.state(later);
    EXPECT_EQ(st.source, TimeSource::lns_transfer);
    EXPECT_TRUE(st.valid);
    EXPECT_EQ(st.age_us, 31 * kSecond);
    ASSERT_TRUE(clock.to_gps(r.count(5), later, gps));
    EXPECT_EQ(gps, Radio::gps_us(5, 3'000));
}

TEST_P(GpsClockTest, SourceRanking)
{
    const Radio r = radio();
    GpsClock clock;
    std::string why;
    // The LNS round trip solved a label one second off.
    for (int64_t i = 0; i <= 3; ++i)
        ASSERT_TRUE(
            clock.add_pps(r.count(i), Radio::gps_s(i) + 1, TimeSource::pps_lns, Radio::mono(i)));
    EXPECT_EQ(clock.state(Radio::mono(3)).source, TimeSource::pps_lns);

    // The receiver's GPS time disagrees and wins at once.
    EXPECT_TRUE(
        clock.add_pps(r.count(4), Radio::gps_s(4), TimeSource::pps_gps, Radio::mono(4), &why));
    EXPECT_NE(why.find("re-seeded"), std::string::npos) << why;
    EXPECT_EQ(clock.state(Radio::mono(4)).source, TimeSource::pps_gps);
    uint64_t gps = 0;
    ASSERT_TRUE(clock.to_gps(r.count(4), Radio::mono(4), gps));
    EXPECT_EQ(gps, Radio::gps_us(4));

    // Lower-ranked samples are ignored while pps_gps is valid, right or wrong, and never
    // accumulate into a re-seed.
    for (int64_t i = 5; i <= 9; ++i) {
        EXPECT_FALSE(clock.add_pps(r.count(i), Radio::gps_s(i) + 1, TimeSource::pps_lns,
                                   Radio::mono(i), &why));
        EXPECT_NE(why.find("ignored"), std::string::npos) << why;
    }
    EXPECT_FALSE(clock.add_pps(r.count(9), Radio::gps_s(9), TimeSource::pps_lns, Radio::mono(9)));
    ASSERT_TRUE(clock.to_gps(r.count(9), Radio::mono(9), gps));
    EXPECT_EQ(gps, Radio::gps_us(9));

    // A consistent better sample upgrades a pps_lns chain without re-seeding it.
    GpsClock upgrade;
    r.feed(upgrade, 0, 2, TimeSource::pps_lns);
    EXPECT_TRUE(
        upgrade.add_pps(r.count(3), Radio::gps_s(3), TimeSource::pps_gps, Radio::mono(3), &why));
    EXPECT_EQ(upgrade.state(Radio::mono(3)).source, TimeSource::pps_gps);
    EXPECT_EQ(upgrade.state(Radio::mono(3)).pps_samples, 4u);
}

TEST_P(GpsClockTest, ConvertsFarFromTheReferenceAcrossTheWrap)
{
    for (double ppm : {0.0, 5.0}) {
        const Radio r = radio(ppm);
        GpsClock clock;
        r.feed(clock, 0, 17);
        const uint64_t now = Radio::mono(17);
        const int64_t ref = 17 * static_cast<int64_t>(kSecond);
        // Up to ±2147 s (2^31 µs ≈ 2147.48 s) from the reference, through the wrap.
        for (int64_t s : {-2147, -2000, -600, -3, 3, 600, 2000, 2146}) {
            const int64_t offset = ref + s * static_cast<int64_t>(kSecond) + 250'000;
            uint32_t count = 0;
            uint64_t gps = 0;
            ASSERT_TRUE(clock.to_count(Radio::gps_us(0, offset), now, count)) << s;
            EXPECT_LE(std::abs(count_error(r.count_at(offset), count)), 2) << ppm << " " << s;
            ASSERT_TRUE(clock.to_gps(r.count_at(offset), now, gps)) << s;
            EXPECT_LE(std::llabs(static_cast<int64_t>(gps - Radio::gps_us(0, offset))), 2)
                << ppm << " " << s;
        }
        // Beyond half the counter range the counter value would be ambiguous.
        uint32_t count = 0;
        EXPECT_FALSE(clock.to_count(Radio::gps_us(17 + 2148), now, count));
        EXPECT_FALSE(clock.to_count(Radio::gps_us(17) - 2148 * kSecond, now, count));
    }
}

TEST_P(GpsClockTest, ResetForgetsEverything)
{
    const Radio r = radio(5.0);
    GpsClock clock;
    r.feed(clock, 0, 20);
    ASSERT_TRUE(clock.add_transfer(r.count(20), Radio::gps_us(20), Radio::mono(20)));
    clock.reset();
    const uint64_t now = Radio::mono(20);
    EXPECT_FALSE(clock.synchronized(now));
    const ClockState st = clock.state(now);
    EXPECT_EQ(st.source, TimeSource::none);
    EXPECT_FALSE(st.valid);
    EXPECT_EQ(st.pps_samples, 0u);
    EXPECT_EQ(st.drift_ppm, 0.0);
    uint32_t count = 0;
    uint64_t gps = 0;
    EXPECT_FALSE(clock.to_count(Radio::gps_us(20), now, count));
    EXPECT_FALSE(clock.to_gps(r.count(20), now, gps));

    // The radio restarted: a counter from 0 seeds a fresh reference.
    std::string why;
    EXPECT_TRUE(clock.add_pps(0, Radio::gps_s(21), TimeSource::pps_gps, Radio::mono(21), &why));
    EXPECT_EQ(why, "seeded");
    EXPECT_EQ(clock.state(Radio::mono(21)).pps_samples, 1u);
    EXPECT_EQ(clock.state(Radio::mono(21)).drift_ppm, 0.0);
}

TEST_P(GpsClockTest, RoundTripLabelFeedsTheClock)
{
    const Radio r = radio();
    // The server's reply carries GPS time of sample 2 + 0.3 s; the PPS edge of sample 1 was
    // seen at host time mono(1).
    const auto label = solve_round_trip(Radio::mono(2) + 250'000, Radio::mono(2) + 400'000,
                                        Radio::gps_us(2, 300'000), Radio::mono(1));
    ASSERT_TRUE(label.has_value());
    EXPECT_EQ(*label, Radio::gps_s(1));
    GpsClock clock;
    ASSERT_TRUE(clock.add_pps(r.count(1), *label, TimeSource::pps_lns, Radio::mono(1)));
    ASSERT_TRUE(clock.add_pps(r.count(2), *label + 1, TimeSource::pps_lns, Radio::mono(2)));
    EXPECT_EQ(clock.state(Radio::mono(2)).source, TimeSource::pps_lns);
    uint64_t gps = 0;
    ASSERT_TRUE(clock.to_gps(r.count_at(2'300'000), Radio::mono(2), gps));
    EXPECT_EQ(gps, Radio::gps_us(2, 300'000));
}

// --- Round trip -------------------------------------------------------------------------------

namespace {
constexpr uint64_t kPps = 10'000'000'000; // host time of a PPS edge
constexpr uint64_t kServerSecond = kGps0 + 5;
} // namespace

TEST(RoundTrip, UniqueCandidate)
{
    std::string why;
    // Candidate kPps + 2.3 s lies in [2.25 s, 2.4 s]: that edge is kServerSecond, so the edge
    // at kPps is two seconds earlier.
    auto label = solve_round_trip(kPps + 2'250'000, kPps + 2'400'000,
                                  kServerSecond * kSecond + 300'000, kPps, &why);
    ASSERT_TRUE(label.has_value()) << why;
    EXPECT_EQ(*label, kServerSecond - 2);

    // The PPS edge may also be after the round trip (negative k).
    label = solve_round_trip(kPps - 3'750'000, kPps - 3'600'000, kServerSecond * kSecond + 300'000,
                             kPps, &why);
    ASSERT_TRUE(label.has_value()) << why;
    EXPECT_EQ(*label, kServerSecond + 4);

    // Inclusive bounds, zero-length round trip.
    label = solve_round_trip(kPps + 2'300'000, kPps + 2'300'000, kServerSecond * kSecond + 300'000,
                             kPps, &why);
    ASSERT_TRUE(label.has_value()) << why;
    EXPECT_EQ(*label, kServerSecond - 2);

    // Integer-second server time.
    label = solve_round_trip(kPps + 900'000, kPps + 1'100'000, kServerSecond * kSecond, kPps, &why);
    ASSERT_TRUE(label.has_value()) << why;
    EXPECT_EQ(*label, kServerSecond - 1);
}

TEST(RoundTrip, ZeroCandidates)
{
    std::string why;
    EXPECT_FALSE(solve_round_trip(kPps + 2'350'000, kPps + 2'400'000,
                                  kServerSecond * kSecond + 300'000, kPps, &why));
    EXPECT_NE(why.find("no PPS second"), std::string::npos) << why;
}

TEST(RoundTrip, TwoCandidates)
{
    std::string why;
    // 1.5 s round trip holds both kPps + 2.3 s and kPps + 3.3 s.
    EXPECT_FALSE(solve_round_trip(kPps + 2'200'000, kPps + 3'700'000,
                                  kServerSecond * kSecond + 300'000, kPps, &why));
    EXPECT_NE(why.find("2 PPS seconds"), std::string::npos) << why;
    // Exactly 1 s with candidates on both bounds.
    EXPECT_FALSE(solve_round_trip(kPps + 2'300'000, kPps + 3'300'000,
                                  kServerSecond * kSecond + 300'000, kPps, &why));
}

TEST(RoundTrip, RefusesLongOrInvalidRoundTrips)
{
    std::string why;
    EXPECT_FALSE(
        solve_round_trip(kPps, kPps + 2'000'000, kServerSecond * kSecond + 300'000, kPps, &why));
    EXPECT_NE(why.find("2 s"), std::string::npos) << why;
    EXPECT_FALSE(solve_round_trip(kPps, kPps + 5'000'000, kServerSecond * kSecond, kPps, &why));
    EXPECT_FALSE(solve_round_trip(kPps + 10, kPps, kServerSecond * kSecond + 300'000, kPps, &why));
    EXPECT_NE(why.find("before"), std::string::npos) << why;
    EXPECT_FALSE(solve_round_trip(kPps + 200'000, kPps + 400'000, 0, kPps, &why));
    EXPECT_NE(why.find("gpstime 0"), std::string::npos) << why;
    EXPECT_FALSE(solve_round_trip(kPps, kPps + 100'000, ~uint64_t{0}, kPps, &why));

    EXPECT_FALSE(solve_round_trip_fuzzy(kPps, kPps + 2'000'000, kServerSecond * kSecond + 300'000,
                                        kPps, &why));
    EXPECT_FALSE(solve_round_trip_fuzzy(kPps + 10, kPps, kServerSecond * kSecond, kPps, &why));
}

TEST(RoundTrip, FuzzyTakesTheMidpoint)
{
    std::string why;
    const uint64_t edge_label = kServerSecond;
    // Midpoint kPps + 2.4 s; a server 350 ms behind reads label + 2.05 s there. The exact
    // algorithm finds no candidate in [2.1 s, 2.7 s]; the fuzzy one rounds to the right label.
    const uint64_t server = edge_label * kSecond + 2'050'000;
    EXPECT_FALSE(solve_round_trip(kPps + 2'100'000, kPps + 2'700'000, server, kPps, &why));
    auto label = solve_round_trip_fuzzy(kPps + 2'100'000, kPps + 2'700'000, server, kPps, &why);
    ASSERT_TRUE(label.has_value()) << why;
    EXPECT_EQ(*label, edge_label);

    // A server 400 ms ahead: still the nearest second.
    label = solve_round_trip_fuzzy(kPps + 2'100'000, kPps + 2'700'000,
                                   edge_label * kSecond + 2'800'000, kPps, &why);
    ASSERT_TRUE(label.has_value()) << why;
    EXPECT_EQ(*label, edge_label);

    // Edge after the round trip.
    label = solve_round_trip_fuzzy(kPps - 1'500'000, kPps - 500'000,
                                   edge_label * kSecond - 1'000'000 + 20'000, kPps, &why);
    ASSERT_TRUE(label.has_value()) << why;
    EXPECT_EQ(*label, edge_label);
}
