#include "bus.hpp"

#include <forwarder/plugin.h>

#include <algorithm>
#include <cstring>
#include <optional>

namespace forwarder::core {

void UplinkGate::count_filtered(const char* reason) const
{
    if (filtered != nullptr) {
        filtered->fetch_add(1, std::memory_order_relaxed);
    }
    for (const auto& [name, counter] : by_reason) {
        if (std::strcmp(name.c_str(), reason) == 0) {
            counter->fetch_add(1, std::memory_order_relaxed);
            return;
        }
    }
}

void Subscription::set_uplink_gate(std::shared_ptr<const UplinkGate> gate)
{
    std::lock_guard lock(gate_mutex_);
    gate_ = std::move(gate);
}

std::shared_ptr<const UplinkGate> Subscription::uplink_gate() const
{
    std::lock_guard lock(gate_mutex_);
    return gate_;
}

Subscription::Subscription(std::string name, uint32_t topic_mask, size_t capacity)
    : name_(std::move(name)), topic_mask_(topic_mask), capacity_(capacity == 0 ? 1 : capacity)
{
}

void Subscription::push(const Event& event)
{
    bool was_empty = false;
    {
        std::lock_guard lock(mutex_);
        if (closed_) {
            return;
        }
        if (queue_.size() >= capacity_) {
            queue_.pop_front();
            dropped_.fetch_add(1, std::memory_order_relaxed);
        }
        was_empty = queue_.empty();
        queue_.push_back(event);
    }
    queued_.fetch_add(1, std::memory_order_relaxed);
    // A consumer only sleeps on an empty queue, so only the first event needs a wake-up.
    if (was_empty) {
        cv_.notify_one();
    }
}

bool Subscription::pop_all(std::vector<Event>& out, std::chrono::microseconds timeout)
{
    out.clear();
    std::unique_lock lock(mutex_);
    if (queue_.empty() && !closed_ && !woken_) {
        cv_.wait_for(lock, timeout, [&] { return !queue_.empty() || closed_ || woken_; });
    }
    woken_ = false;
    out.reserve(queue_.size());
    for (auto& e : queue_) {
        out.push_back(std::move(e));
    }
    queue_.clear();
    return !(closed_ && out.empty());
}

void Subscription::close()
{
    {
        std::lock_guard lock(mutex_);
        closed_ = true;
    }
    cv_.notify_all();
}

void Subscription::wake()
{
    {
        std::lock_guard lock(mutex_);
        woken_ = true;
    }
    cv_.notify_all();
}

size_t Subscription::depth() const
{
    std::lock_guard lock(mutex_);
    return queue_.size();
}

std::shared_ptr<Subscription> EventBus::subscribe(std::string name, uint32_t topic_mask,
                                                  size_t capacity)
{
    auto sub = std::make_shared<Subscription>(std::move(name), topic_mask, capacity);
    std::unique_lock lock(mutex_);
    subscriptions_.push_back(sub);
    return sub;
}

size_t EventBus::publish(uint32_t topic, std::shared_ptr<const std::string> bytes,
                         const Subscription* exclude, const std::string* source)
{
    published_.fetch_add(1, std::memory_order_relaxed);
    Event event{topic, std::move(bytes), source};
    size_t reached = 0;
    // An uplink is parsed at most once, and only if some subscriber filters it.
    std::optional<forwarder::v1::Uplink> uplink;
    bool unparsable = false;
    std::shared_lock lock(mutex_);
    for (const auto& sub : subscriptions_) {
        if (sub.get() == exclude || !sub->wants(topic)) {
            continue;
        }
        if (topic == FWD_TOPIC_UPLINK) {
            if (auto gate = sub->uplink_gate()) {
                if (!gate->filter.passes_everything()) {
                    if (!uplink && !unparsable) {
                        uplink.emplace();
                        unparsable = !uplink->ParseFromString(*event.bytes);
                    }
                    // An unparsable uplink passes: the transport counts it as malformed.
                    const char* why = unparsable ? nullptr : gate->filter.refuse(*uplink);
                    if (why != nullptr) {
                        gate->count_filtered(why);
                        continue;
                    }
                }
                if (gate->accepted != nullptr) {
                    gate->accepted->fetch_add(1, std::memory_order_relaxed);
                }
            }
        }
        sub->push(event);
        ++reached;
    }
    return reached;
}

void EventBus::unsubscribe(const std::shared_ptr<Subscription>& sub)
{
    if (!sub) {
        return;
    }
    sub->close();
    std::unique_lock lock(mutex_);
    subscriptions_.erase(std::remove(subscriptions_.begin(), subscriptions_.end(), sub),
                         subscriptions_.end());
}

uint64_t EventBus::dropped() const
{
    std::shared_lock lock(mutex_);
    uint64_t total = 0;
    for (const auto& sub : subscriptions_) {
        total += sub->dropped();
    }
    return total;
}

std::vector<std::shared_ptr<Subscription>> EventBus::subscriptions() const
{
    std::shared_lock lock(mutex_);
    return subscriptions_;
}

} // namespace forwarder::core
