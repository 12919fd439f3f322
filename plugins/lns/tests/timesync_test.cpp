// timesync request bookkeeping (lns.md §7.7): bursts, pauses, reply matching.
#include "timesync.hpp"

#include <gtest/gtest.h>

#include <vector>

using namespace forwarder::lns;

namespace {

// Sends whatever is due at 1 ms steps from `from` to `to`; returns the send times.
std::vector<uint64_t> run(TimesyncRequests& requests, bool wanted, uint64_t from, uint64_t to)
{
    std::vector<uint64_t> sent;
    for (uint64_t t = from; t < to; t += 1000) {
        if (requests.due(wanted, t)) {
            requests.sent(t);
            sent.push_back(t);
        }
    }
    return sent;
}

} // namespace

TEST(Timesync, BurstsOfTenEvery71msThenAFiveSecondPause)
{
    TimesyncRequests requests;
    EXPECT_EQ(requests.next_us(), 0u);
    const uint64_t t0 = 1'000'000'000;
    const auto sent = run(requests, true, t0, t0 + 11'300'000);
    // Two bursts of 10, the second 5 s after the last request of the first, and the third
    // burst starting 5 s after the second ended.
    ASSERT_EQ(sent.size(), 21u);
    for (size_t i = 1; i < 10; ++i) {
        EXPECT_EQ(sent[i] - sent[i - 1], 71'000u) << i;
    }
    EXPECT_EQ(sent[10] - sent[9], 5'000'000u);
    for (size_t i = 11; i < 20; ++i) {
        EXPECT_EQ(sent[i] - sent[i - 1], 71'000u) << i;
    }
    EXPECT_EQ(sent[20] - sent[19], 5'000'000u);
    EXPECT_EQ(requests.next_us(), sent[20] + 71'000u);
}

TEST(Timesync, NotWantedStopsAndAFreshWishStartsAFullBurstAtOnce)
{
    TimesyncRequests requests;
    const uint64_t t0 = 5'000'000;
    EXPECT_EQ(run(requests, true, t0, t0 + 200'000).size(), 3u); // 0, 71, 142 ms
    EXPECT_TRUE(run(requests, false, t0 + 200'000, t0 + 10'000'000).empty());
    EXPECT_EQ(requests.next_us(), 0u);
    const auto again = run(requests, true, t0 + 10'000'000, t0 + 11'000'000);
    ASSERT_EQ(again.size(), 10u);
    EXPECT_EQ(again.front(), t0 + 10'000'000);
    EXPECT_EQ(requests.next_us(), again.back() + 5'000'000u);
}

TEST(Timesync, RepliesMatchRecentRequestsOnce)
{
    TimesyncRequests requests;
    for (uint64_t i = 0; i < 40; ++i) {
        requests.sent(1000 + i);
    }
    EXPECT_FALSE(requests.match(1000)); // forgotten: only the last 30 are kept
    EXPECT_FALSE(requests.match(1009));
    EXPECT_TRUE(requests.match(1010));
    EXPECT_FALSE(requests.match(1010)); // a duplicate reply counts once
    EXPECT_TRUE(requests.match(1039));
    EXPECT_FALSE(requests.match(77));
    requests.reset();
    EXPECT_FALSE(requests.match(1020)); // a new connection knows no earlier request
    EXPECT_EQ(requests.next_us(), 0u);
}

TEST(Timesync, XtimeDeltaIsSigned48Bit)
{
    const uint64_t session = 0x0173000000000000ull; // unit 1, session 0x73
    EXPECT_EQ(xtime_delta(session | 5'000'000, session | 2'000'000), 3'000'000);
    EXPECT_EQ(xtime_delta(session | 2'000'000, session | 5'000'000), -3'000'000);
    // Across the 48-bit wrap, and with different upper bits (only 47..0 count).
    EXPECT_EQ(xtime_delta(session | 10, 0x0011FFFFFFFFFFF6ull), 20);
    EXPECT_EQ(xtime_delta(12345, session | 12345), 0);
}
