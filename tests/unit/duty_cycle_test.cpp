#include "duty_cycle.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

using namespace forwarder::core;

namespace {

constexpr int64_t kSec = 1'000'000;
constexpr int64_t kHour = 3600 * kSec;
constexpr int64_t kOnePercent = 36 * kSec; // budget of a 1 % band over an hour
const std::string kBandL = "radio0/L";
const std::string kBandM = "radio0/M";

// Reserves and commits a transmitted frame.
void book(DutyCycleLedger& ledger, uint64_t id, const std::string& key, int64_t start,
          int64_t airtime)
{
    ledger.reserve(id, key, start, static_cast<uint32_t>(airtime));
    ledger.commit(id);
}

// Checks that `r` is the exact earliest fit: fits at r, and not one µs earlier (when later
// than the requested start).
void expect_exact_earliest(const DutyCycleLedger& ledger, const std::string& key, int64_t from,
                           uint32_t airtime, int64_t budget, std::optional<int64_t> r)
{
    ASSERT_TRUE(r.has_value());
    EXPECT_GE(*r, from);
    EXPECT_TRUE(ledger.fits(key, *r, airtime, budget)) << "at " << *r;
    if (*r > from) {
        EXPECT_FALSE(ledger.fits(key, *r - 1, airtime, budget)) << "at " << *r - 1;
        EXPECT_FALSE(ledger.fits(key, from, airtime, budget));
    }
}

} // namespace

TEST(DutyCycle, RejectsNonPositiveWindow)
{
    EXPECT_THROW(DutyCycleLedger(0), std::invalid_argument);
    EXPECT_THROW(DutyCycleLedger(-1), std::invalid_argument);
    EXPECT_EQ(DutyCycleLedger().window_us(), kHour);
    EXPECT_EQ(DutyCycleLedger(kSec).window_us(), kSec);
}

TEST(DutyCycle, OnePercentBandFitsExactly)
{
    DutyCycleLedger ledger;
    // 35 frames of 1 s within the hour.
    for (int i = 0; i < 35; ++i)
        book(ledger, static_cast<uint64_t>(i), kBandL, i * 60 * kSec, kSec);
    EXPECT_EQ(ledger.used_us(kBandL, 35 * 60 * kSec), 35 * kSec);

    const int64_t at = 40 * 60 * kSec;
    EXPECT_TRUE(ledger.fits(kBandL, at, kSec, kOnePercent));         // 36 s in the hour
    EXPECT_FALSE(ledger.fits(kBandL, at, kSec + 1, kOnePercent));    // one µs more
    EXPECT_TRUE(ledger.fits(kBandL, at, kSec + 1, kOnePercent + 1)); // with a µs more budget

    book(ledger, 100, kBandL, at, kSec);
    EXPECT_EQ(ledger.used_us(kBandL, at + kSec), kOnePercent);
    EXPECT_FALSE(ledger.fits(kBandL, at + 2 * kSec, 1, kOnePercent));
    EXPECT_TRUE(ledger.fits(kBandL, at + 2 * kSec, 0, kOnePercent)); // nothing on air
}

TEST(DutyCycle, EmptyLedger)
{
    DutyCycleLedger ledger;
    EXPECT_TRUE(ledger.fits(kBandL, 0, kOnePercent, kOnePercent));
    EXPECT_EQ(ledger.earliest_fit(kBandL, 5, kSec, kOnePercent), 5);
    EXPECT_EQ(ledger.used_us(kBandL, 0), 0);
    EXPECT_TRUE(ledger.keys().empty());
    EXPECT_EQ(ledger.entries(kBandL), 0u);
}

TEST(DutyCycle, WindowSlides)
{
    DutyCycleLedger ledger;
    // Exhaust the band: 36 frames of 1 s, one every 10 s, in [0, 351 s).
    for (int i = 0; i < 36; ++i)
        book(ledger, static_cast<uint64_t>(i), kBandL, i * 10 * kSec, kSec);
    EXPECT_FALSE(ledger.fits(kBandL, 400 * kSec, kSec, kOnePercent));
    EXPECT_FALSE(ledger.fits(kBandL, 400 * kSec, 1, kOnePercent));

    // Once the first frame has left the window, a 1 s frame fits again: at +W exactly.
    EXPECT_FALSE(ledger.fits(kBandL, kHour - 1, kSec, kOnePercent));
    EXPECT_TRUE(ledger.fits(kBandL, kHour, kSec, kOnePercent));
    auto r = ledger.earliest_fit(kBandL, 400 * kSec, kSec, kOnePercent);
    EXPECT_EQ(r, kHour);
    expect_exact_earliest(ledger, kBandL, 400 * kSec, kSec, kOnePercent, r);

    // After a full W past the last frame, the whole budget is back.
    EXPECT_EQ(ledger.used_us(kBandL, 351 * kSec + kHour), 0);
    EXPECT_TRUE(ledger.fits(kBandL, 351 * kSec + kHour, kOnePercent, kOnePercent));
}

TEST(DutyCycle, SingleFullFrameBlocksForOneWindow)
{
    DutyCycleLedger ledger;
    book(ledger, 1, kBandL, 0, kOnePercent);
    EXPECT_FALSE(ledger.fits(kBandL, kOnePercent, 1, kOnePercent));
    EXPECT_FALSE(ledger.fits(kBandL, kHour - 1, kOnePercent, kOnePercent));
    EXPECT_TRUE(ledger.fits(kBandL, kHour, kOnePercent, kOnePercent));
    EXPECT_EQ(ledger.earliest_fit(kBandL, kOnePercent, 1, kOnePercent), kHour);
    EXPECT_EQ(ledger.earliest_fit(kBandL, kOnePercent, kOnePercent, kOnePercent), kHour);
}

TEST(DutyCycle, PartialOverlapAtWindowEdgeCountsPartially)
{
    DutyCycleLedger ledger;
    book(ledger, 1, kBandL, 0, 10 * kSec);
    EXPECT_EQ(ledger.used_us(kBandL, 5 * kSec), 5 * kSec);
    EXPECT_EQ(ledger.used_us(kBandL, kHour), 10 * kSec);
    EXPECT_EQ(ledger.used_us(kBandL, kHour + 4 * kSec), 6 * kSec);
    EXPECT_EQ(ledger.used_us(kBandL, kHour + 10 * kSec), 0);

    // 20 s more later on: 30 s. With an 8 s frame, at most 6 s of the first frame may remain
    // in the window ending at the new frame's end.
    book(ledger, 2, kBandL, 1000 * kSec, 20 * kSec);
    const int64_t expected = kHour - 6 * kSec;
    EXPECT_FALSE(ledger.fits(kBandL, expected - 1, 8 * kSec, kOnePercent));
    EXPECT_TRUE(ledger.fits(kBandL, expected, 8 * kSec, kOnePercent));
    auto r = ledger.earliest_fit(kBandL, 2000 * kSec, 8 * kSec, kOnePercent);
    EXPECT_EQ(r, expected);
    expect_exact_earliest(ledger, kBandL, 2000 * kSec, 8 * kSec, kOnePercent, r);
}

TEST(DutyCycle, NewEarlierFrameMustNotPushReservedFutureFrameOverBudget)
{
    DutyCycleLedger ledger;
    ledger.reserve(7, kBandL, 1000 * kSec, 36 * kSec); // queued, uses the whole budget
    // The window ending at the new frame's end holds only the new frame...
    EXPECT_EQ(ledger.used_us(kBandL, kSec), 0);
    // ...but the one ending at the reserved frame's end would hold 37 s.
    EXPECT_FALSE(ledger.fits(kBandL, 0, kSec, kOnePercent));
    // Far enough before it, a frame fits again.
    EXPECT_TRUE(ledger.fits(kBandL, 1036 * kSec - kHour - kSec, kSec, kOnePercent));
    EXPECT_FALSE(ledger.fits(kBandL, 1036 * kSec - kHour - kSec + 1, kSec, kOnePercent));
    // After it: no window may hold the new frame and all of the reserved one.
    auto r = ledger.earliest_fit(kBandL, 0, kSec, kOnePercent);
    EXPECT_EQ(r, 1000 * kSec + kHour);
    expect_exact_earliest(ledger, kBandL, 0, kSec, kOnePercent, r);
}

TEST(DutyCycle, EarliestFitInAGapBetweenReservedFrames)
{
    DutyCycleLedger ledger;
    book(ledger, 1, kBandL, 0, 31 * kSec);
    ledger.reserve(2, kBandL, kHour + 100 * kSec, 30 * kSec);
    // A 6 s frame: blocked by the first until at most 30 s of it remain in the window ending
    // at the new frame's end (start W − 5 s); fits there, before the reserved one.
    auto r = ledger.earliest_fit(kBandL, 40 * kSec, 6 * kSec, kOnePercent);
    EXPECT_EQ(r, kHour - 5 * kSec);
    expect_exact_earliest(ledger, kBandL, 40 * kSec, 6 * kSec, kOnePercent, r);
    // A 7 s frame there would share a window with all of the reserved frame (37 s); before
    // it there is no room either, so it must wait until at most 29 s of the reserved frame
    // remain in the window ending at its end: start = reserved start + 1 s + W − 7 s.
    auto r7 = ledger.earliest_fit(kBandL, 40 * kSec, 7 * kSec, kOnePercent);
    expect_exact_earliest(ledger, kBandL, 40 * kSec, 7 * kSec, kOnePercent, r7);
    EXPECT_EQ(r7, kHour + 101 * kSec + kHour - 7 * kSec);
}

TEST(DutyCycle, ReleaseGivesBudgetBackCommitKeepsIt)
{
    DutyCycleLedger ledger;
    ledger.reserve(1, kBandL, 100 * kSec, 30 * kSec);
    EXPECT_TRUE(ledger.contains(1));
    EXPECT_FALSE(ledger.fits(kBandL, 200 * kSec, 10 * kSec, kOnePercent));
    ledger.release(1);
    EXPECT_FALSE(ledger.contains(1));
    EXPECT_TRUE(ledger.fits(kBandL, 200 * kSec, 10 * kSec, kOnePercent));
    EXPECT_EQ(ledger.used_us(kBandL, 200 * kSec), 0);
    EXPECT_TRUE(ledger.keys().empty());
    ledger.release(1);  // unknown: no-op
    ledger.commit(42);  // unknown: no-op
    ledger.release(42); // unknown: no-op

    ledger.reserve(2, kBandL, 100 * kSec, 30 * kSec);
    ledger.commit(2);
    EXPECT_FALSE(ledger.fits(kBandL, 200 * kSec, 10 * kSec, kOnePercent));
    ledger.release(2); // transmitted air time is not given back
    EXPECT_TRUE(ledger.contains(2));
    EXPECT_FALSE(ledger.fits(kBandL, 200 * kSec, 10 * kSec, kOnePercent));
    EXPECT_EQ(ledger.used_us(kBandL, 200 * kSec), 30 * kSec);
}

TEST(DutyCycle, ReserveWithAKnownIdReplacesTheEntry)
{
    DutyCycleLedger ledger;
    ledger.reserve(1, kBandL, 0, 30 * kSec);
    ledger.reserve(1, kBandM, 10 * kSec, 20 * kSec);
    EXPECT_EQ(ledger.used_us(kBandL, kHour / 2), 0);
    EXPECT_EQ(ledger.used_us(kBandM, kHour / 2), 20 * kSec);
    EXPECT_EQ(ledger.keys(), std::vector<std::string>{kBandM});
    ledger.release(1);
    EXPECT_TRUE(ledger.keys().empty());
}

TEST(DutyCycle, KeysAreIndependent)
{
    DutyCycleLedger ledger;
    book(ledger, 1, kBandL, 0, kOnePercent);
    EXPECT_FALSE(ledger.fits(kBandL, kOnePercent, kSec, kOnePercent));
    EXPECT_TRUE(ledger.fits(kBandM, kOnePercent, kOnePercent, kOnePercent));
    EXPECT_EQ(ledger.used_us(kBandM, kOnePercent), 0);
    book(ledger, 2, kBandM, kOnePercent, kOnePercent);
    EXPECT_EQ(ledger.keys(), (std::vector<std::string>{kBandL, kBandM}));
    EXPECT_EQ(ledger.entries(kBandL), 1u);
    EXPECT_EQ(ledger.entries(kBandM), 1u);
    EXPECT_EQ(ledger.earliest_fit(kBandL, 0, kSec, kOnePercent), kHour);
    EXPECT_EQ(ledger.earliest_fit(kBandM, 0, kSec, kOnePercent), kOnePercent + kHour);
    ledger.clear();
    EXPECT_TRUE(ledger.keys().empty());
    EXPECT_FALSE(ledger.contains(1));
    EXPECT_TRUE(ledger.fits(kBandL, kOnePercent, kOnePercent, kOnePercent));
}

TEST(DutyCycle, FrameLongerThanBudgetNeverFits)
{
    DutyCycleLedger ledger;
    EXPECT_FALSE(ledger.fits(kBandL, 0, kOnePercent + 1, kOnePercent));
    EXPECT_EQ(ledger.earliest_fit(kBandL, 0, kOnePercent + 1, kOnePercent), std::nullopt);
    book(ledger, 1, kBandL, 0, kSec);
    EXPECT_FALSE(ledger.fits(kBandL, 10 * kHour, kOnePercent + 1, kOnePercent));
    EXPECT_EQ(ledger.earliest_fit(kBandL, 0, kOnePercent + 1, kOnePercent), std::nullopt);
    EXPECT_EQ(ledger.earliest_fit(kBandL, 0, 1, -1), std::nullopt);
    // The window bounds what one frame can put into it: with a 100 % budget anything fits.
    DutyCycleLedger short_window(kSec);
    EXPECT_TRUE(short_window.fits(kBandL, 0, 3 * kSec, kSec));
}

TEST(DutyCycle, PruneKeepsAnswersFromNowOn)
{
    DutyCycleLedger ledger;
    DutyCycleLedger unpruned;
    std::mt19937_64 rng(7);
    for (uint64_t id = 0; id < 300; ++id) {
        int64_t start = static_cast<int64_t>(rng() % (4 * kHour));
        uint32_t airtime = static_cast<uint32_t>(rng() % (2 * kSec));
        for (auto* l : {&ledger, &unpruned}) {
            l->reserve(id, kBandL, start, airtime);
            if (id % 3 != 0)
                l->commit(id);
        }
    }
    const int64_t now = 2 * kHour + kHour / 3;
    ledger.prune(now);
    EXPECT_LT(ledger.entries(kBandL), unpruned.entries(kBandL));
    EXPECT_GT(ledger.entries(kBandL), 0u);
    for (int64_t t = now; t < now + 3 * kHour; t += 97 * kSec + 12345) {
        EXPECT_EQ(ledger.used_us(kBandL, t), unpruned.used_us(kBandL, t)) << t;
        for (int64_t budget : {kOnePercent, 10 * kOnePercent, 100 * kOnePercent}) {
            EXPECT_EQ(ledger.fits(kBandL, t, kSec, budget), unpruned.fits(kBandL, t, kSec, budget))
                << t;
            EXPECT_EQ(ledger.earliest_fit(kBandL, t, kSec, budget),
                      unpruned.earliest_fit(kBandL, t, kSec, budget))
                << t;
        }
    }
    // Everything ended long ago: all gone, ids included.
    ledger.prune(100 * kHour);
    EXPECT_TRUE(ledger.keys().empty());
    EXPECT_FALSE(ledger.contains(1));
}

TEST(DutyCycle, TenPercentBandPerformanceSanity)
{
    // 3600 frames of 100 ms, one every 2 s over two hours: 180 s per hour, 360 s over the
    // two hours around the middle, so fits() cannot take its fast path there.
    DutyCycleLedger ledger;
    const int64_t budget = 360 * kSec;
    for (uint64_t i = 0; i < 3600; ++i)
        book(ledger, i, kBandL, static_cast<int64_t>(i) * 2 * kSec + kSec, 100'000);
    size_t admitted = 0;
    for (int i = 0; i < 100'000; ++i) {
        if (ledger.fits(kBandL, kHour + (i % 1000) * 1000, 100'000, budget))
            ++admitted;
    }
    EXPECT_EQ(admitted, 100'000u);
    EXPECT_FALSE(ledger.fits(kBandL, kHour, 180 * kSec + 1, budget));
    auto r = ledger.earliest_fit(kBandL, kHour, 181 * kSec, budget);
    expect_exact_earliest(ledger, kBandL, kHour, 181 * kSec, budget, r);
}

// ---------------------------------------------------------------------------------------------
// Randomised comparison against a brute-force reference.

namespace {

struct RefEntry {
    std::string key;
    int64_t start;
    int64_t end;
    bool committed;
};

class Reference {
public:
    explicit Reference(int64_t window) : w_(window) {}

    static int64_t overlap(int64_t s, int64_t e, int64_t lo, int64_t hi)
    {
        return std::max<int64_t>(0, std::min(e, hi) - std::max(s, lo));
    }

    int64_t sum(const std::string& key, int64_t t) const
    {
        int64_t total = 0;
        for (const auto& [id, e] : entries_) {
            if (e.key == key)
                total += overlap(e.start, e.end, t - w_, t);
        }
        return total;
    }

    // Every window ending at a breakpoint (every entry boundary, and every boundary + W) that
    // touches the new frame, checked by summing all entries.
    bool fits(const std::string& key, int64_t x, int64_t airtime, int64_t budget) const
    {
        std::vector<int64_t> ends = {x, x + airtime, x + w_, x + airtime + w_};
        for (const auto& [id, e] : entries_) {
            if (e.key == key) {
                for (int64_t t : {e.start, e.end, e.start + w_, e.end + w_})
                    ends.push_back(t);
            }
        }
        for (int64_t t : ends) {
            if (t < x || t > x + airtime + w_)
                continue;
            if (sum(key, t) + overlap(x, x + airtime, t - w_, t) > budget)
                return false;
        }
        return true;
    }

    void reserve(uint64_t id, const std::string& key, int64_t start, int64_t airtime)
    {
        entries_[id] = {key, start, start + airtime, false};
    }
    void commit(uint64_t id)
    {
        auto it = entries_.find(id);
        if (it != entries_.end())
            it->second.committed = true;
    }
    void release(uint64_t id)
    {
        auto it = entries_.find(id);
        if (it != entries_.end() && !it->second.committed)
            entries_.erase(it);
    }
    void prune(int64_t now)
    {
        for (auto it = entries_.begin(); it != entries_.end();)
            it = it->second.end <= now - w_ ? entries_.erase(it) : std::next(it);
    }
    size_t count(const std::string& key) const
    {
        return static_cast<size_t>(std::count_if(
            entries_.begin(), entries_.end(), [&](const auto& p) { return p.second.key == key; }));
    }
    std::vector<std::string> keys() const
    {
        std::vector<std::string> out;
        for (const auto& [id, e] : entries_)
            out.push_back(e.key);
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
        return out;
    }

private:
    int64_t w_;
    std::map<uint64_t, RefEntry> entries_;
};

struct RandomStats {
    int checked_earliest, delayed_earliest, fitting, refused;
    size_t most_entries;
};

struct RandomConfig {
    int64_t window;
    uint64_t seed;
    int operations;
    int64_t short_airtime; // most frames are at most this long, a quarter up to W / 4
    size_t key_count;      // 1 to 3
    int reserve_percent;   // share of the operations that reserve a frame
    int64_t max_advance;   // how far `now` moves at a prune
};

void run_random(const RandomConfig& config, RandomStats& stats)
{
    const int64_t window = config.window;
    const int operations = config.operations;
    DutyCycleLedger ledger(window);
    Reference ref(window);
    std::mt19937_64 rng(config.seed);
    auto uniform = [&](int64_t lo, int64_t hi) {
        return lo + static_cast<int64_t>(rng() % static_cast<uint64_t>(hi - lo + 1));
    };
    std::vector<std::string> keys = {"a", "b", "c"};
    keys.resize(config.key_count);
    const int64_t max_airtime = std::max<int64_t>(2, window / 4);
    uint64_t next_id = 1;
    int64_t now = 0;
    int checked_earliest = 0, delayed_earliest = 0, fitting = 0, refused = 0;
    size_t most_entries = 0;

    for (int op = 0; op < operations; ++op) {
        SCOPED_TRACE("op " + std::to_string(op));
        const std::string& key = keys[static_cast<size_t>(uniform(0, int64_t(keys.size()) - 1))];
        // Mostly short frames (dense ledgers), some long ones.
        const int64_t airtime =
            uniform(0, 3) == 0 ? uniform(0, max_airtime) : uniform(0, config.short_airtime);
        const int64_t budget = uniform(window / 10, window / 2);
        const int roll = static_cast<int>(uniform(0, 99)) < config.reserve_percent
                             ? 0
                             : 30 + static_cast<int>(uniform(0, 69));
        if (roll < 30) {
            const int64_t start = now + uniform(-window, 3 * window);
            const bool ok = ref.fits(key, start, airtime, budget);
            ASSERT_EQ(ledger.fits(key, start, static_cast<uint32_t>(airtime), budget), ok);
            // Mostly as the scheduler would (only what fits), sometimes regardless, which
            // also produces overlapping frames and windows already over budget.
            if (ok || uniform(0, 5) == 0) {
                uint64_t id = (next_id > 1 && uniform(0, 19) == 0)
                                  ? static_cast<uint64_t>(uniform(1, int64_t(next_id) - 1))
                                  : next_id++;
                ledger.reserve(id, key, start, static_cast<uint32_t>(airtime));
                ref.reserve(id, key, start, airtime);
            }
        } else if (roll < 38) {
            const uint64_t id = static_cast<uint64_t>(uniform(1, int64_t(next_id)));
            ledger.commit(id);
            ref.commit(id);
        } else if (roll < 48) {
            const uint64_t id = static_cast<uint64_t>(uniform(1, int64_t(next_id)));
            ledger.release(id);
            ref.release(id);
        } else if (roll < 53) {
            now += uniform(0, config.max_advance);
            ledger.prune(now);
            ref.prune(now);
        } else if (roll < 75) {
            const int64_t x = now + uniform(0, 3 * window);
            const bool ok = ref.fits(key, x, airtime, budget);
            ASSERT_EQ(ledger.fits(key, x, static_cast<uint32_t>(airtime), budget), ok)
                << "fits x=" << x << " A=" << airtime << " B=" << budget;
            ++(ok ? fitting : refused);
        } else if (roll < 85) {
            const int64_t t = now + uniform(0, 4 * window);
            ASSERT_EQ(ledger.used_us(key, t), ref.sum(key, t)) << "used t=" << t;
        } else {
            const int64_t x = now + uniform(0, 3 * window);
            const int64_t b = uniform(0, 3) == 0 ? uniform(0, window) : budget;
            const auto r = ledger.earliest_fit(key, x, static_cast<uint32_t>(airtime), b);
            if (std::min(airtime, window) > b) {
                ASSERT_EQ(r, std::nullopt);
                continue;
            }
            ASSERT_TRUE(r.has_value());
            ASSERT_GE(*r, x);
            ASSERT_TRUE(ref.fits(key, *r, airtime, b)) << "earliest x=" << x << " r=" << *r;
            // No earlier start fits: every µs by the ledger (itself checked against the
            // reference above), a sample of them by the reference.
            for (int64_t y = x; y < std::min(*r, x + 20'000); ++y) {
                ASSERT_FALSE(ledger.fits(key, y, static_cast<uint32_t>(airtime), b))
                    << "earliest x=" << x << " r=" << *r << " y=" << y;
            }
            if (*r > x) {
                ++delayed_earliest;
                ASSERT_FALSE(ref.fits(key, *r - 1, airtime, b));
                for (int i = 0; i < 8; ++i) {
                    const int64_t y = uniform(x, *r - 1);
                    ASSERT_FALSE(ref.fits(key, y, airtime, b)) << "y=" << y;
                }
            }
            ++checked_earliest;
        }
        if (op % 50 == 0) {
            ASSERT_EQ(ledger.keys(), ref.keys());
            for (const auto& k : keys) {
                ASSERT_EQ(ledger.entries(k), ref.count(k));
                most_entries = std::max(most_entries, ledger.entries(k));
            }
        }
    }
    stats = {checked_earliest, delayed_earliest, fitting, refused, most_entries};
}

// The run exercised both answers and non-trivial earliest fits.
void expect_coverage(const RandomStats& s, int operations)
{
    EXPECT_GT(s.checked_earliest, operations / 20);
    EXPECT_GT(s.delayed_earliest, s.checked_earliest / 5);
    EXPECT_GT(s.fitting, operations / 40);
    EXPECT_GT(s.refused, operations / 40);
    EXPECT_GT(s.most_entries, 10u);
}

} // namespace

TEST(DutyCycle, RandomisedAgainstBruteForce)
{
    RandomStats stats{};
    run_random({1000, 1, 2000, 1000 / 32, 3, 30, 1000 / 2}, stats);
    expect_coverage(stats, 2000);
}

TEST(DutyCycle, RandomisedAgainstBruteForceShortWindow)
{
    RandomStats stats{};
    run_random({37, 2, 2000, 5, 3, 30, 37 / 2}, stats);
    expect_coverage(stats, 2000);
}

TEST(DutyCycle, RandomisedAgainstBruteForceDense)
{
    // Short frames, mostly reserving: close to a hundred entries per window, so the shortcuts
    // of fits() (skipping candidates that cannot exceed the budget) take effect.
    RandomStats stats{};
    run_random({10'000, 3, 800, 30, 1, 60, 10'000 / 20}, stats);
    EXPECT_GT(stats.most_entries, 60u);
    EXPECT_GT(stats.delayed_earliest, 10);
    EXPECT_GT(stats.fitting, 5);
    EXPECT_GT(stats.refused, 5);
}
