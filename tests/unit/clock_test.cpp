#include "clock.hpp"

#include <gtest/gtest.h>

using namespace forwarder::core;

TEST(Clock, CounterDiffWrapsModulo2To32)
{
    EXPECT_EQ(counter_diff(0xFFFFFF00u, 0x00000100u), 0x200);
    EXPECT_EQ(counter_diff(0x00000100u, 0xFFFFFF00u), -0x200);
    EXPECT_EQ(counter_diff(5, 5), 0);
}

TEST(Clock, ExtenderCarriesAcrossWraps)
{
    CounterExtender ext(0xFFFF0000u);
    EXPECT_EQ(ext.extend(0xFFFF0000u), 0xFFFF0000ll);
    EXPECT_EQ(ext.extend(0x00010000u), 0x100010000ll);
    // Far beyond the first wrap, in steps under 2^31.
    int64_t expected = 0x100010000ll;
    for (int i = 0; i < 5; ++i) {
        expected += 0x70000000ll;
        EXPECT_EQ(ext.extend(static_cast<uint32_t>(expected)), expected);
    }
    EXPECT_EQ(ext.project(static_cast<uint32_t>(expected - 10)), expected - 10);
}

TEST(Clock, MonotonicNeverGoesBack)
{
    uint64_t last = monotonic_us();
    for (int i = 0; i < 1000; ++i) {
        const uint64_t now = monotonic_us();
        ASSERT_GE(now, last);
        last = now;
    }
}
