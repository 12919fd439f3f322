#pragma once
// The event bus: typed publish/subscribe between plugins and the core.
//
// Each subscriber owns one bounded queue. Publishing never blocks: when a subscriber's
// queue is full its oldest event is dropped and counted, so a slow transport can never
// stall a radio's receive thread. Payloads are shared between subscribers, not copied.
#include "uplink_filter.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

namespace forwarder::core {

struct Event {
    uint32_t topic = 0;
    std::shared_ptr<const std::string> bytes; // serialized forwarder.v1 message
    const std::string* source = nullptr;      // publishing instance's name (outlives the bus)
};

// A transport's uplink filter with its counters ("<instance>.uplinks_accepted",
// "<instance>.uplinks_filtered" and one "<instance>.uplinks_filtered.<reason>" per reason).
struct UplinkGate {
    UplinkFilter filter;
    std::atomic<int64_t>* accepted = nullptr;
    std::atomic<int64_t>* filtered = nullptr;
    std::vector<std::pair<std::string, std::atomic<int64_t>*>> by_reason;
    void count_filtered(const char* reason) const;
};

class Subscription {
public:
    Subscription(std::string name, uint32_t topic_mask, size_t capacity);

    const std::string& name() const { return name_; }
    bool wants(uint32_t topic) const { return topic < 32 && (topic_mask_ & (1u << topic)) != 0; }

    // Queues one event; drops the oldest if full. Never blocks beyond the queue's mutex.
    void push(const Event& event);
    // Moves every queued event into `out` (cleared first). Waits up to `timeout` for the
    // first one. Returns false if the subscription is closed and empty.
    bool pop_all(std::vector<Event>& out, std::chrono::microseconds timeout);
    // Wakes a waiting consumer; later pops return what is left, then false.
    void close();
    // Wakes a waiting consumer once without closing (e.g. its timers changed).
    void wake();

    // Uplinks pass this gate before they are queued (transports). Replaceable at any time.
    void set_uplink_gate(std::shared_ptr<const UplinkGate> gate);
    std::shared_ptr<const UplinkGate> uplink_gate() const;

    uint64_t dropped() const { return dropped_.load(); }
    size_t capacity() const { return capacity_; }
    uint64_t queued_total() const { return queued_.load(); }
    size_t depth() const;

private:
    const std::string name_;
    const uint32_t topic_mask_;
    const size_t capacity_;
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<Event> queue_;
    bool closed_ = false;
    bool woken_ = false;
    std::atomic<uint64_t> dropped_{0};
    std::atomic<uint64_t> queued_{0};
    mutable std::mutex gate_mutex_;
    std::shared_ptr<const UplinkGate> gate_;
};

class EventBus {
public:
    std::shared_ptr<Subscription> subscribe(std::string name, uint32_t topic_mask, size_t capacity);
    // Removes a subscription (closing it): a transport removed by a configuration reload.
    void unsubscribe(const std::shared_ptr<Subscription>& sub);
    // Delivers to every subscriber of `topic` except `exclude` (a publisher does not
    // receive its own events). Returns the number of subscribers reached.
    size_t publish(uint32_t topic, std::shared_ptr<const std::string> bytes,
                   const Subscription* exclude = nullptr, const std::string* source = nullptr);
    size_t publish(uint32_t topic, std::string bytes, const Subscription* exclude = nullptr,
                   const std::string* source = nullptr)
    {
        return publish(topic, std::make_shared<const std::string>(std::move(bytes)), exclude,
                       source);
    }
    uint64_t published() const { return published_.load(); }
    uint64_t dropped() const;
    std::vector<std::shared_ptr<Subscription>> subscriptions() const;

private:
    mutable std::shared_mutex mutex_;
    std::vector<std::shared_ptr<Subscription>> subscriptions_;
    std::atomic<uint64_t> published_{0};
};

} // namespace forwarder::core
