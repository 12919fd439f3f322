#include "bus.hpp"

namespace forwarder::core {

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
    std::shared_lock lock(mutex_);
    for (const auto& sub : subscriptions_) {
        if (sub.get() != exclude && sub->wants(topic)) {
            sub->push(event);
            ++reached;
        }
    }
    return reached;
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
