#include "bus.hpp"

#include <forwarder/plugin.h>

#include <gtest/gtest.h>

#include <thread>

using namespace forwarder::core;
using namespace std::chrono_literals;

TEST(EventBus, DeliversOnlySubscribedTopics)
{
    EventBus bus;
    auto up = bus.subscribe("a", FWD_TOPIC_BIT(FWD_TOPIC_UPLINK), 8);
    auto tx = bus.subscribe("b", FWD_TOPIC_BIT(FWD_TOPIC_TX_RESULT), 8);
    EXPECT_EQ(bus.publish(FWD_TOPIC_UPLINK, std::string("u1")), 1u);
    EXPECT_EQ(bus.publish(FWD_TOPIC_TX_RESULT, std::string("r1")), 1u);
    EXPECT_EQ(bus.publish(FWD_TOPIC_GATEWAY_STATS, std::string("s")), 0u);
    std::vector<Event> got;
    ASSERT_TRUE(up->pop_all(got, 0us));
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(*got[0].bytes, "u1");
    ASSERT_TRUE(tx->pop_all(got, 0us));
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(*got[0].bytes, "r1");
}

TEST(EventBus, PublisherDoesNotReceiveItsOwnEvents)
{
    EventBus bus;
    auto a = bus.subscribe("a", FWD_TOPIC_BIT(FWD_TOPIC_TX_REQUEST), 8);
    auto b = bus.subscribe("b", FWD_TOPIC_BIT(FWD_TOPIC_TX_REQUEST), 8);
    EXPECT_EQ(bus.publish(FWD_TOPIC_TX_REQUEST, std::string("x"), a.get()), 1u);
    EXPECT_EQ(a->depth(), 0u);
    EXPECT_EQ(b->depth(), 1u);
}

TEST(EventBus, FullQueueDropsOldestAndCounts)
{
    EventBus bus;
    auto sub = bus.subscribe("slow", FWD_TOPIC_BIT(FWD_TOPIC_UPLINK), 3);
    for (int i = 0; i < 5; ++i) {
        bus.publish(FWD_TOPIC_UPLINK, std::to_string(i));
    }
    EXPECT_EQ(sub->dropped(), 2u);
    EXPECT_EQ(bus.dropped(), 2u);
    std::vector<Event> got;
    ASSERT_TRUE(sub->pop_all(got, 0us));
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(*got[0].bytes, "2");
    EXPECT_EQ(*got[2].bytes, "4");
}

TEST(EventBus, ClosedSubscriptionDrainsThenEnds)
{
    EventBus bus;
    auto sub = bus.subscribe("s", FWD_TOPIC_BIT(FWD_TOPIC_UPLINK), 8);
    bus.publish(FWD_TOPIC_UPLINK, std::string("last"));
    sub->close();
    bus.publish(FWD_TOPIC_UPLINK, std::string("after close"));
    std::vector<Event> got;
    ASSERT_TRUE(sub->pop_all(got, 0us));
    ASSERT_EQ(got.size(), 1u);
    EXPECT_FALSE(sub->pop_all(got, 10ms));
}

TEST(EventBus, ManyPublishersOneConsumerNothingLostUnderCapacity)
{
    EventBus bus;
    constexpr int kThreads = 4, kEach = 5000;
    auto sub = bus.subscribe("c", FWD_TOPIC_BIT(FWD_TOPIC_UPLINK), kThreads * kEach);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < kEach; ++i) {
                bus.publish(FWD_TOPIC_UPLINK, std::string("x"));
            }
        });
    }
    size_t received = 0;
    std::vector<Event> got;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (received < kThreads * kEach && std::chrono::steady_clock::now() < deadline) {
        sub->pop_all(got, 10ms);
        received += got.size();
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(received, static_cast<size_t>(kThreads * kEach));
    EXPECT_EQ(sub->dropped(), 0u);
}

TEST(EventBus, PublishNeverBlocksOnASlowConsumer)
{
    EventBus bus;
    auto sub = bus.subscribe("never-read", FWD_TOPIC_BIT(FWD_TOPIC_UPLINK), 16);
    for (int i = 0; i < 100000; ++i) {
        bus.publish(FWD_TOPIC_UPLINK, std::string("x"));
    }
    EXPECT_EQ(sub->depth(), 16u);
    EXPECT_EQ(sub->dropped(), 100000u - 16u);
}
