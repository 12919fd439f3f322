#pragma once
// The event bus: typed publish/subscribe between plugins and the core.
//
// Each subscriber owns one bounded queue. Publishing never blocks: when a subscriber's
// queue is full its oldest event is dropped and counted, so a slow transport can never
// stall a radio's receive thread. Payloads are shared between subscribers, not copied.
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

    uint64_t dropped() const { return dropped_.load(); }
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
};

class EventBus {
public:
    std::shared_ptr<Subscription> subscribe(std::string name, uint32_t topic_mask, size_t capacity);
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
