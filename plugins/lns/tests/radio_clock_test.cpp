#include "radio_clock.hpp"

#include <gtest/gtest.h>

using forwarder::lns::RadioClock;

namespace {
constexpr uint64_t kMask48 = 0xFFFFFFFFFFFFull;
}

TEST(RadioClock, XtimeCarriesUnitSessionAndCounter)
{
    RadioClock clock(1, 0x73);
    const uint64_t x = clock.xtime(0x100f4ac6, 1'000'000);
    EXPECT_EQ(x >> 56, 1u);
    EXPECT_EQ((x >> 48) & 0xFF, 0x73u);
    EXPECT_EQ(x & kMask48, 0x100f4ac6u);
}

TEST(RadioClock, ExtendsPastTheCounterWrapAcrossLongGaps)
{
    RadioClock clock(0, 1);
    uint64_t mono = 5'000'000;
    uint32_t count = 0xFFFF0000u;
    EXPECT_EQ(clock.xtime(count, mono) & kMask48, 0xFFFF0000u);
    // 3 hours later (more than two wraps, longer than half a wrap between readings).
    const uint64_t gap = 3ull * 3600 * 1000000;
    mono += gap;
    count = static_cast<uint32_t>(0xFFFF0000ull + gap);
    EXPECT_EQ(clock.xtime(count, mono) & kMask48, 0xFFFF0000ull + gap);
    EXPECT_FALSE(clock.restarted(static_cast<uint32_t>(count + 1000), mono + 1000));
}

TEST(RadioClock, DetectsACounterRestart)
{
    RadioClock clock(0, 1);
    clock.xtime(500'000'000, 1'000'000);
    EXPECT_FALSE(clock.restarted(500'000'000 + 60'000, 1'060'000));
    EXPECT_TRUE(clock.restarted(1'000, 1'060'000)); // back near zero: restarted
}

TEST(RadioClock, ConvertsBetweenRadiosThroughTheHostClock)
{
    RadioClock a(0, 1), b(1, 2);
    a.xtime(1'000'000, 50'000'000); // radio 0 read 1 s at host 50 s
    b.xtime(7'000'000, 50'000'000); // radio 1 read 7 s at the same moment
    const int64_t target_a = 2'000'000;
    EXPECT_EQ(b.ext_at(a.mono_at(target_a)), 8'000'000);
}

TEST(RadioClock, NearAndNowNeedAReading)
{
    RadioClock clock(2, 9);
    EXPECT_EQ(clock.xtime_now(1), 0u);
    EXPECT_EQ(clock.xtime_near(5, 1), 0u);
    clock.xtime(100, 1'000);
    EXPECT_EQ(clock.xtime_now(2'000) & kMask48, 1'100u);
    EXPECT_EQ(clock.xtime_near(50, 2'000) & kMask48, 50u);
}
