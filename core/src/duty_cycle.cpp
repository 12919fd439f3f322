#include "duty_cycle.hpp"

#include <algorithm>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <utility>

// How the checks work.
//
// Let f(t) be the air time of the existing frames in the window [t − W, t] and g(t) that of the
// new frame [a, b). Both are continuous and piecewise linear in t with integer breakpoints, so
// the maximum of f + g over the windows touching the new frame, t ∈ [a, b + W], is reached at
// a point where the slope decreases or at an end of that range:
//   * fixed points, from the existing frames: their ends e_i (the right edge leaves a frame)
//     and their starts plus W, s_i + W (the left edge enters a frame);
//   * moving points, from the new frame: b and a + W (g peaks at min(airtime, W) there),
//     and the ends a and b + W (g = 0 there).
// fits() evaluates f + g at all of them. f(t) = C(t) − C(t − W), where C(x) is the air time
// before x, found from prefix sums; the fixed points are visited in start order with fingers,
// so each evaluation is O(1) amortised, and runs of them that cannot exceed the budget (by the
// bound of safe_until()) are skipped.
//
// earliest_fit() turns each of these points into the set of new starts x that it forbids:
//   * fixed point t with f(t) = v: forbids x with v + |[x, x + A) ∩ [t − W, t]| > budget, an
//     interval of x computed in closed form;
//   * moving point t = x + c (c ∈ {0, A, W, A + W}): forbids x with f(x + c) > budget − g_c,
//     i.e. a super-level set of f shifted by c. One sweep over the breakpoints of f (s_i, e_i,
//     s_i + W, e_i + W, where its slope changes by ±1) yields f exactly, piece by piece, and
//     the integer runs where it exceeds each level.
// The answer is the first integer >= start not covered by any forbidden interval. Since a start
// is forbidden by these sets exactly when fits() refuses it, the result agrees with fits() to
// the µs.

namespace forwarder::core {

namespace {

int64_t overlap(int64_t s, int64_t e, int64_t lo, int64_t hi)
{
    return std::max<int64_t>(0, std::min(e, hi) - std::max(s, lo));
}

struct Interval {
    int64_t lo;
    int64_t hi; // inclusive
};

// Appends [lo, hi] to sorted runs, merging with the last run when they touch.
void add_run(std::vector<Interval>& runs, int64_t lo, int64_t hi)
{
    if (lo > hi)
        return;
    if (!runs.empty() && lo <= runs.back().hi + 1) {
        runs.back().hi = std::max(runs.back().hi, hi);
        return;
    }
    runs.push_back({lo, hi});
}

// Integers t in [p, q] where v + slope × (t − p) > level, appended to `runs`.
void add_superlevel(std::vector<Interval>& runs, int64_t p, int64_t q, int64_t v, int64_t slope,
                    int64_t level)
{
    if (slope == 0) {
        if (v > level)
            add_run(runs, p, q);
    } else if (slope > 0) {
        if (v > level)
            add_run(runs, p, q);
        else
            add_run(runs, p + (level - v) / slope + 1, q);
    } else if (v > level) {
        // Largest d with d × |slope| < v − level.
        add_run(runs, p, std::min(q, p + (v - level - 1) / -slope));
    }
}

} // namespace

// ---------------------------------------------------------------------------------------------
// Track

size_t DutyCycleLedger::Track::first_starting_at_or_after(int64_t x) const
{
    auto it = std::lower_bound(entries_.begin(), entries_.end(), x,
                               [](const Entry& e, int64_t v) { return e.start < v; });
    return static_cast<size_t>(it - entries_.begin());
}

size_t DutyCycleLedger::Track::overlaps(size_t i, size_t j) const
{
    return entries_[i].end > entries_[j].start ? 1 : 0;
}

void DutyCycleLedger::Track::rebuild_from(size_t pos)
{
    prefix_.resize(entries_.size() + 1);
    for (size_t i = pos; i < entries_.size(); ++i)
        prefix_[i + 1] = prefix_[i] + (entries_[i].end - entries_[i].start);
}

void DutyCycleLedger::Track::recompute_max_airtime()
{
    max_airtime_ = 0;
    for (const Entry& e : entries_)
        max_airtime_ = std::max(max_airtime_, e.end - e.start);
}

void DutyCycleLedger::Track::insert(const Entry& entry)
{
    auto it = std::upper_bound(entries_.begin(), entries_.end(), entry,
                               [](const Entry& l, const Entry& r) {
                                   return l.start != r.start ? l.start < r.start : l.id < r.id;
                               });
    size_t pos = static_cast<size_t>(it - entries_.begin());
    if (pos > 0 && pos < entries_.size())
        overlapping_pairs_ -= overlaps(pos - 1, pos);
    entries_.insert(it, entry);
    if (pos > 0)
        overlapping_pairs_ += overlaps(pos - 1, pos);
    if (pos + 1 < entries_.size())
        overlapping_pairs_ += overlaps(pos, pos + 1);
    rebuild_from(pos);
    max_airtime_ = std::max(max_airtime_, entry.end - entry.start);
}

DutyCycleLedger::Entry* DutyCycleLedger::Track::find(uint64_t id, int64_t start)
{
    for (size_t i = first_starting_at_or_after(start);
         i < entries_.size() && entries_[i].start == start; ++i) {
        if (entries_[i].id == id)
            return &entries_[i];
    }
    return nullptr;
}

bool DutyCycleLedger::Track::erase(uint64_t id, int64_t start)
{
    Entry* e = find(id, start);
    if (!e)
        return false;
    size_t pos = static_cast<size_t>(e - entries_.data());
    int64_t airtime = e->end - e->start;
    if (pos > 0)
        overlapping_pairs_ -= overlaps(pos - 1, pos);
    if (pos + 1 < entries_.size())
        overlapping_pairs_ -= overlaps(pos, pos + 1);
    if (pos > 0 && pos + 1 < entries_.size())
        overlapping_pairs_ += overlaps(pos - 1, pos + 1);
    entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(pos));
    rebuild_from(pos);
    if (airtime == max_airtime_)
        recompute_max_airtime();
    return true;
}

void DutyCycleLedger::Track::prune(int64_t cutoff, std::vector<uint64_t>& dropped)
{
    // Only entries starting at or before the cutoff can have ended by then.
    auto limit =
        entries_.begin() + static_cast<std::ptrdiff_t>(first_starting_at_or_after(cutoff + 1));
    auto kept = std::remove_if(entries_.begin(), limit, [&](const Entry& e) {
        if (e.end > cutoff)
            return false;
        dropped.push_back(e.id);
        return true;
    });
    if (kept == limit)
        return;
    entries_.erase(kept, limit);
    rebuild_from(0);
    recompute_max_airtime();
    overlapping_pairs_ = 0;
    for (size_t i = 0; i + 1 < entries_.size(); ++i)
        overlapping_pairs_ += overlaps(i, i + 1);
}

int64_t DutyCycleLedger::Track::cumulative(int64_t x) const
{
    size_t hint = kNoHint;
    return cumulative(x, hint);
}

int64_t DutyCycleLedger::Track::cumulative(int64_t x, size_t& k) const
{
    const size_t n = entries_.size();
    if (k > n) {
        k = first_starting_at_or_after(x);
    } else {
        while (k < n && entries_[k].start < x)
            ++k;
        while (k > 0 && entries_[k - 1].start >= x)
            --k;
    }
    // entries_[0, k) start before x; take away the parts of them that lie at or after x. Only
    // entries starting after x − max_airtime_ can reach past x.
    int64_t c = prefix_[k];
    for (size_t j = k; j > 0; --j) {
        const Entry& e = entries_[j - 1];
        if (e.start + max_airtime_ <= x)
            break;
        if (e.end > x)
            c -= e.end - x;
    }
    return c;
}

int64_t DutyCycleLedger::Track::window_sum(int64_t t, int64_t window) const
{
    return cumulative(t) - cumulative(t - window);
}

int64_t DutyCycleLedger::Track::safe_until(int64_t c_t0, int64_t f_t0, size_t k_t0, int64_t budget,
                                           int64_t peak) const
{
    // For t >= t0: f(t) − f(t0) = (C(t) − C(t0)) − (C(t − W) − C(t0 − W)) <= C(t) − C(t0), and
    // C(t) <= prefix_[k(t)], k(t) the number of entries starting before t. So every t <=
    // entries_[K].start, K the last index with prefix_[K] <= C(t0) + budget − peak − f(t0),
    // has f(t) + g(t) <= budget. Only K >= k(t0) reaches past t0; K is found by galloping
    // from k(t0), in O(log(K − k(t0))).
    const int64_t threshold = c_t0 + budget - peak - f_t0;
    const size_t n = entries_.size();
    if (prefix_[k_t0] > threshold)
        return std::numeric_limits<int64_t>::min();
    size_t lo = k_t0; // prefix_[lo] <= threshold
    size_t step = 1;
    while (lo + step <= n && prefix_[lo + step] <= threshold) {
        lo += step;
        step *= 2;
    }
    const size_t hi = std::min(lo + step, n + 1); // prefix_[hi] > threshold, or hi = n + 1
    auto it = std::upper_bound(prefix_.begin() + static_cast<std::ptrdiff_t>(lo) + 1,
                               prefix_.begin() + static_cast<std::ptrdiff_t>(hi), threshold);
    const size_t k = static_cast<size_t>(it - prefix_.begin()) - 1;
    return k >= n ? std::numeric_limits<int64_t>::max() : entries_[k].start;
}

bool DutyCycleLedger::Track::admits(int64_t a, int64_t b, int64_t window, int64_t budget) const
{
    constexpr int64_t kAll = std::numeric_limits<int64_t>::max();
    const int64_t w = window;
    const int64_t peak = std::min(b - a, w);
    auto load = [&](int64_t t, int64_t f) { return f + overlap(a, b, t - w, t); };

    // Fast path: everything within reach of the new frame, plus its own peak, fits.
    if (cumulative(b + w) - cumulative(a - w) + peak <= budget)
        return true;

    // Moving points.
    size_t k_a = kNoHint;
    const int64_t c_a = cumulative(a, k_a);
    const int64_t f_a = c_a - cumulative(a - w);
    if (load(a, f_a) > budget)
        return false;
    for (int64_t t : {b, a + w, b + w}) {
        if (load(t, window_sum(t, w)) > budget)
            return false;
    }
    // Every candidate up to this one is safe, by the bound of safe_until() from t0 = a.
    const int64_t safe_from_a = safe_until(c_a, f_a, k_a, budget, peak);
    if (safe_from_a >= b + w)
        return true;

    const size_t n = entries_.size();
    // Fixed points e_i in [a, b + W]. e_i >= a implies s_i >= a − max_airtime_. Past an
    // evaluated e_i, the bound only covers later ends, which the following entries have when
    // no two entries overlap.
    int64_t safe = safe_from_a;
    size_t h_right = kNoHint, h_left = kNoHint;
    for (size_t i = first_starting_at_or_after(a - max_airtime_);
         i < n && entries_[i].start <= b + w;) {
        const int64_t t = entries_[i].end;
        if (t < a || t > b + w) {
            ++i;
        } else if (t <= safe) {
            if (safe == kAll)
                break;
            // Entries starting at or before safe − max_airtime_ end by safe.
            i = std::max(i + 1, first_starting_at_or_after(safe - max_airtime_ + 1));
            h_right = h_left = kNoHint;
        } else {
            const int64_t c_t = cumulative(t, h_right);
            const int64_t f_t = c_t - cumulative(t - w, h_left);
            if (load(t, f_t) > budget)
                return false;
            if (overlapping_pairs_ == 0)
                safe = std::max(safe, safe_until(c_t, f_t, h_right, budget, peak));
            ++i;
        }
    }
    // Fixed points s_i + W in [a, b + W], in increasing order.
    safe = safe_from_a;
    h_right = h_left = kNoHint;
    for (size_t i = first_starting_at_or_after(a - w); i < n && entries_[i].start <= b;) {
        const int64_t t = entries_[i].start + w;
        if (t <= safe) {
            if (safe == kAll)
                break;
            i = std::max(i + 1, first_starting_at_or_after(safe - w + 1));
            h_right = h_left = kNoHint;
        } else {
            const int64_t c_t = cumulative(t, h_right);
            const int64_t f_t = c_t - cumulative(t - w, h_left);
            if (load(t, f_t) > budget)
                return false;
            safe = std::max(safe, safe_until(c_t, f_t, h_right, budget, peak));
            ++i;
        }
    }
    return true;
}

int64_t DutyCycleLedger::Track::earliest(int64_t a, int64_t airtime, int64_t window,
                                         int64_t budget) const
{
    const int64_t w = window;
    const int64_t peak = std::min(airtime, w);

    // Entries ending at or before a − W cannot reach a window touching a frame starting at or
    // after a, so f is computed from the others only; it is exact for t >= a.
    const size_t first = first_starting_at_or_after(a - w - max_airtime_);
    size_t count = 0;
    for (size_t i = first; i < entries_.size(); ++i)
        count += entries_[i].end > entries_[i].start ? 1 : 0;
    // (time, change of slope), in four runs: starts, ends, starts + W, ends + W.
    std::vector<std::pair<int64_t, int>> events(4 * count);
    size_t next = 0;
    for (size_t i = first; i < entries_.size(); ++i) {
        const Entry& e = entries_[i];
        if (e.end == e.start)
            continue;
        events[next] = {e.start, +1};
        events[count + next] = {e.end, -1};
        events[2 * count + next] = {e.start + w, -1};
        events[3 * count + next] = {e.end + w, +1};
        ++next;
    }
    if (overlapping_pairs_ == 0) {
        // Without overlaps, the ends are sorted like the starts: each run is sorted already.
        auto run = [&](size_t k) {
            return events.begin() + static_cast<std::ptrdiff_t>(k * count);
        };
        std::inplace_merge(run(0), run(1), run(2));
        std::inplace_merge(run(2), run(3), run(4));
        std::inplace_merge(run(0), run(2), run(4));
    } else {
        std::sort(events.begin(), events.end());
    }

    std::vector<Interval> forbidden; // starts x >= a that fits() refuses
    auto forbid = [&](int64_t lo, int64_t hi) {
        if (hi >= a && lo <= hi)
            forbidden.push_back({lo, hi});
    };
    std::vector<Interval> above_edge; // t with f(t) > budget
    std::vector<Interval> above_peak; // t with f(t) > budget − peak
    const int64_t level_edge = budget;
    const int64_t level_peak = budget - peak;

    int64_t f = 0; // f at the current breakpoint (no frame precedes the first one)
    int64_t slope = 0;
    for (size_t j = 0; j < events.size();) {
        const int64_t p = events[j].first;
        // The window [p − W, p] against a frame [x, x + A).
        const int64_t room = budget - f;
        if (room < 0)
            forbid(p - airtime - w, p);
        else if (airtime > room && w > room)
            forbid(p - w - airtime + room + 1, p - room - 1);

        for (; j < events.size() && events[j].first == p; ++j)
            slope += events[j].second;
        if (j == events.size())
            break;
        const int64_t q = events[j].first;
        add_superlevel(above_edge, p, q, f, slope, level_edge);
        add_superlevel(above_peak, p, q, f, slope, level_peak);
        f += slope * (q - p);
    }

    for (const Interval& r : above_edge) {
        forbid(r.lo, r.hi);                             // window ending at x
        forbid(r.lo - airtime - w, r.hi - airtime - w); // window starting at x + A
    }
    for (const Interval& r : above_peak) {
        forbid(r.lo - airtime, r.hi - airtime); // window ending at x + A
        forbid(r.lo - w, r.hi - w);             // window starting at x
    }

    std::sort(forbidden.begin(), forbidden.end(),
              [](const Interval& l, const Interval& r) { return l.lo < r.lo; });
    int64_t x = a;
    for (const Interval& iv : forbidden) {
        if (iv.lo > x)
            break;
        x = std::max(x, iv.hi + 1);
    }
    return x;
}

// ---------------------------------------------------------------------------------------------
// DutyCycleLedger

DutyCycleLedger::DutyCycleLedger(int64_t window_us) : window_(window_us)
{
    if (window_us <= 0)
        throw std::invalid_argument("duty-cycle window must be positive");
}

const DutyCycleLedger::Track* DutyCycleLedger::find_track(const std::string& key) const
{
    auto it = tracks_.find(key);
    return it == tracks_.end() ? nullptr : &it->second;
}

bool DutyCycleLedger::fits(const std::string& key, int64_t start_us, uint32_t airtime_us,
                           int64_t budget_us) const
{
    // On its own, the frame puts min(A, W) into the windows that contain as much of it as
    // they can.
    if (std::min<int64_t>(airtime_us, window_) > budget_us)
        return false;
    const Track* track = find_track(key);
    if (!track)
        return true;
    return track->admits(start_us, start_us + airtime_us, window_, budget_us);
}

std::optional<int64_t> DutyCycleLedger::earliest_fit(const std::string& key, int64_t start_us,
                                                     uint32_t airtime_us, int64_t budget_us) const
{
    if (std::min<int64_t>(airtime_us, window_) > budget_us)
        return std::nullopt;
    const Track* track = find_track(key);
    if (!track || track->admits(start_us, start_us + airtime_us, window_, budget_us))
        return start_us;
    return track->earliest(start_us, airtime_us, window_, budget_us);
}

void DutyCycleLedger::reserve(uint64_t id, const std::string& key, int64_t start_us,
                              uint32_t airtime_us)
{
    auto known = ids_.find(id);
    if (known != ids_.end()) {
        auto it = tracks_.find(known->second.key);
        if (it != tracks_.end()) {
            it->second.erase(id, known->second.start);
            if (it->second.empty())
                tracks_.erase(it);
        }
        ids_.erase(known);
    }
    auto it = tracks_.find(key);
    if (it == tracks_.end())
        it = tracks_.emplace(key, Track{}).first;
    it->second.insert({start_us, start_us + airtime_us, id, false});
    ids_.emplace(id, Location{key, start_us});
}

void DutyCycleLedger::commit(uint64_t id)
{
    auto known = ids_.find(id);
    if (known == ids_.end())
        return;
    auto it = tracks_.find(known->second.key);
    if (it == tracks_.end())
        return;
    if (Entry* e = it->second.find(id, known->second.start))
        e->committed = true;
}

void DutyCycleLedger::release(uint64_t id)
{
    auto known = ids_.find(id);
    if (known == ids_.end())
        return;
    auto it = tracks_.find(known->second.key);
    if (it != tracks_.end()) {
        Entry* e = it->second.find(id, known->second.start);
        if (e && e->committed)
            return;
        it->second.erase(id, known->second.start);
        if (it->second.empty())
            tracks_.erase(it);
    }
    ids_.erase(known);
}

int64_t DutyCycleLedger::used_us(const std::string& key, int64_t at_us) const
{
    const Track* track = find_track(key);
    return track ? track->window_sum(at_us, window_) : 0;
}

void DutyCycleLedger::prune(int64_t now_us, std::string_view key_prefix)
{
    std::vector<uint64_t> dropped;
    for (auto it = tracks_.begin(); it != tracks_.end();) {
        if (it->first.compare(0, key_prefix.size(), key_prefix) != 0) {
            ++it;
            continue;
        }
        it->second.prune(now_us - window_, dropped);
        it = it->second.empty() ? tracks_.erase(it) : std::next(it);
    }
    for (uint64_t id : dropped)
        ids_.erase(id);
}

std::vector<std::string> DutyCycleLedger::keys() const
{
    std::vector<std::string> out;
    out.reserve(tracks_.size());
    for (const auto& [key, track] : tracks_)
        out.push_back(key);
    return out;
}

size_t DutyCycleLedger::entries(const std::string& key) const
{
    const Track* track = find_track(key);
    return track ? track->size() : 0;
}

void DutyCycleLedger::clear()
{
    tracks_.clear();
    ids_.clear();
}

} // namespace forwarder::core
