#pragma once
// The duty-cycle ledger of the transmit scheduler (shared/spec/timing.md §5.3): a pure,
// I/O-free record of the air time booked per key, checked against a sliding window.
//
// A key is whatever the scheduler limits together: a sub-band ("radio0/L") or, for
// per-channel regions, a channel ("radio0/868100000"). Times are int64 µs on one monotonic
// time line (the scheduler converts radio counter values before calling in). A frame occupies
// [start, start + airtime). The rule: for every window of length W, the air time of the key's
// frames inside the window (partial overlap counted) stays <= budget_us (= W × ratio).
//
// Frames are reserve()d when queued (they may lie in the future), then commit()ed when handed
// to the radio, or release()d when cancelled or displaced. Both kinds count in every check.
//
// Exact semantics of fits(): the new frame [a, b) is admitted iff every window that touches
// it — [t - W, t] for t in [a, b + W] — holds at most budget_us of air time (existing frames
// plus the new one). Windows far from the new frame are not looked at, so a window that was
// already over budget (a budget lowered by a reload, a frame reserved without a check) does
// not block frames elsewhere, but does block any frame touching it.
//
// Not thread-safe: the scheduler owns one ledger and calls it from one thread (or under its
// own lock). Times must stay within ±2^62 µs so that t ± W ± airtime cannot overflow.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace forwarder::core {

class DutyCycleLedger {
public:
    static constexpr int64_t kDefaultWindowUs = 3'600'000'000; // 1 h (timing.md §5.3)

    // Throws std::invalid_argument unless window_us > 0.
    explicit DutyCycleLedger(int64_t window_us = kDefaultWindowUs);

    int64_t window_us() const { return window_; }

    // Would a new frame [start_us, start_us + airtime_us) on `key` keep every window touching
    // it within budget_us, counting every committed and reserved frame of the key? This
    // includes the windows ending at later reserved frames, so a new frame that pushes an
    // already admitted future frame over budget is refused.
    // Cost: O(log n) when the air time in [start − W, end + W] plus the frame's own stays
    // within budget_us (the usual case: the past hour and a few queued frames). Otherwise the
    // window ends where the load can peak are evaluated, O(1) amortised each, skipping runs of
    // them that a prefix-sum bound proves safe: O(log n + m) at worst, m = frames of the key
    // starting in [start − W − longest airtime, end + W], reached only when the band is loaded
    // to its budget across that whole range. Measured at -O2: ~40 ns on the fast path,
    // ~0.3 µs with 360 or 3600 frames around the new one at half the budget, ~15 µs with 720
    // frames at exactly the budget on both sides.
    bool fits(const std::string& key, int64_t start_us, uint32_t airtime_us,
              int64_t budget_us) const;

    // The earliest start >= start_us at which fits() holds, or nullopt if it never does, i.e.
    // when min(airtime, W) > budget_us (a frame longer than the budget). Exact to the µs:
    // fits(result − 1) is false whenever result > start_us. Meant for refusal messages ("band
    // L: 35.9 s of 36 s used in the last hour; fits again at +12 min").
    // Cost: that of fits(start_us) when it fits there; else O(k log k), k = frames of the key
    // ending after start_us − W (one sweep over their 4k breakpoints, then a sort of the
    // forbidden intervals). Measured at -O2: ~16 µs for a full 1 % band (360 frames), ~0.2 ms
    // for a full 10 % band (3600 frames).
    std::optional<int64_t> earliest_fit(const std::string& key, int64_t start_us,
                                        uint32_t airtime_us, int64_t budget_us) const;

    // Records a queued frame. `id` identifies it in commit()/release(); reserving an id that is
    // still recorded replaces the earlier entry, committed or not (so do not reuse the id of a
    // transmitted frame). No check here: call fits() first. O(n) worst case (insertion into
    // the sorted per-key vector), O(1) amortised when appended.
    void reserve(uint64_t id, const std::string& key, int64_t start_us, uint32_t airtime_us);
    // The frame went on air: the entry stays, and release() no longer removes it (air time
    // that was used cannot be given back). No-op for an unknown id. O(log n).
    void commit(uint64_t id);
    // The reserved frame was cancelled or displaced: forgets it. No-op for an unknown or a
    // committed id. O(n) worst case.
    void release(uint64_t id);

    // Air time of `key` within (at_us − W, at_us], partial overlap counted, committed and
    // reserved. O(log n) (plus the entries overlapping a window edge).
    int64_t used_us(const std::string& key, int64_t at_us) const;

    // Forgets every entry (committed or still reserved) that ended at or before now_us − W,
    // in the keys that start with `key_prefix` (all keys when empty: keys whose times run
    // on different clocks are pruned separately). Answers for times >= now_us do not change.
    // Call periodically to bound memory. O(n).
    void prune(int64_t now_us, std::string_view key_prefix = {});

    // Keys that currently hold at least one entry, sorted.
    std::vector<std::string> keys() const;
    // Number of entries (committed + reserved) recorded for `key`.
    size_t entries(const std::string& key) const;
    // Is `id` currently recorded (reserved or committed)?
    bool contains(uint64_t id) const { return ids_.count(id) != 0; }

    // Forgets everything. Use only when the previous bookings stop meaning anything under the
    // new keys, e.g. when a new channel plan or region replaces the set of sub-bands (Basic
    // Station resets its duty-cycle state on every router_config). Not for a mere budget change:
    // the air time already used still counts against the new budget.
    void clear();

private:
    struct Entry {
        int64_t start;
        int64_t end;
        uint64_t id;
        bool committed;
    };

    // The entries of one key, sorted by (start, id), with prefix sums of their air time.
    class Track {
    public:
        bool empty() const { return entries_.empty(); }
        size_t size() const { return entries_.size(); }
        void insert(const Entry& entry);
        Entry* find(uint64_t id, int64_t start);
        // Removes the entry; returns false if absent.
        bool erase(uint64_t id, int64_t start);
        // Removes the entries ending at or before `cutoff`, appending their ids to `dropped`.
        void prune(int64_t cutoff, std::vector<uint64_t>& dropped);

        // Air time of the track before x: Σ |[start, end) ∩ (−∞, x)|.
        int64_t cumulative(int64_t x) const;
        // Same, with `hint` a finger into the entries (kNoHint: binary search) that is moved to
        // the position of x, so that calls with slowly increasing x cost O(1) amortised.
        int64_t cumulative(int64_t x, size_t& hint) const;
        // Air time within the window [t − W, t].
        int64_t window_sum(int64_t t, int64_t window) const;
        bool admits(int64_t a, int64_t b, int64_t window, int64_t budget) const;
        int64_t earliest(int64_t a, int64_t airtime, int64_t window, int64_t budget) const;

        static constexpr size_t kNoHint = static_cast<size_t>(-1);

    private:
        size_t first_starting_at_or_after(int64_t x) const;
        // 1 if entries_[i] (i < j) reaches into entries_[j].
        size_t overlaps(size_t i, size_t j) const;
        // The last time up to which no window end t >= t0 can exceed `budget` with the new
        // frame (of load <= peak), given C(t0), f(t0) and k(t0), the number of entries
        // starting before t0; INT64_MIN if it proves nothing, INT64_MAX if it covers all.
        int64_t safe_until(int64_t c_t0, int64_t f_t0, size_t k_t0, int64_t budget,
                           int64_t peak) const;
        void rebuild_from(size_t pos);
        void recompute_max_airtime();

        std::vector<Entry> entries_;
        std::vector<int64_t> prefix_{0}; // prefix_[i]: air time of entries_[0, i)
        int64_t max_airtime_ = 0;        // an upper bound of every entry's air time
        // Adjacent entries that overlap in time; with none, the entries' ends are sorted too.
        size_t overlapping_pairs_ = 0;
    };

    struct Location {
        std::string key;
        int64_t start;
    };

    const Track* find_track(const std::string& key) const;

    int64_t window_;
    std::map<std::string, Track, std::less<>> tracks_;
    std::unordered_map<uint64_t, Location> ids_;
};

} // namespace forwarder::core
