#include "clock.hpp"
#include "scheduler.hpp"

#include <forwarder/plugin.h>

#include <gtest/gtest.h>

#include <map>
#include <random>

using namespace forwarder::core;
using forwarder::v1::TxOutcome;
using namespace std::chrono_literals;

namespace {

class FakeRadio : public TxRadio {
public:
    uint32_t now = 1'000'000;
    uint32_t lead = 5000;
    bool fail_transmit = false;
    struct Sent {
        uint32_t count_us;
        uint32_t handed_at;
    };
    std::vector<Sent> sent;

    uint32_t lead_time_us() const override { return lead; }
    bool counter_now(uint32_t& c) override
    {
        c = now;
        return true;
    }
    bool transmit(const std::string& bytes, uint32_t count_us, std::string& error) override
    {
        forwarder::v1::TxRequest req;
        EXPECT_TRUE(req.ParseFromString(bytes));
        if (fail_transmit) {
            error = "SPI timeout";
            return false;
        }
        sent.push_back({count_us, now});
        return true;
    }
};

class SchedulerTest : public ::testing::Test {
protected:
    SchedulerTest()
    {
        results_ = bus_.subscribe("results", FWD_TOPIC_BIT(FWD_TOPIC_TX_RESULT), 10000);
    }

    Scheduler& scheduler(SchedulerConfig config = {})
    {
        config.handover_slack_us = slack_;
        sched_ = std::make_unique<Scheduler>(bus_, stats_, config,
                                             std::vector<TxRadio*>{&radio_, &radio1_});
        return *sched_;
    }

    static forwarder::v1::TxRequest request(uint64_t id, uint32_t count_us, uint32_t priority = 0)
    {
        forwarder::v1::TxRequest r;
        r.set_id(id);
        r.set_payload(std::string(23, 'p'));
        r.set_frequency_hz(869525000);
        auto* lora = r.mutable_modulation()->mutable_lora();
        lora->set_spreading_factor(7);
        lora->set_bandwidth_hz(125000);
        lora->set_coding_rate(forwarder::v1::CR_4_5);
        r.set_power_dbm(14);
        r.set_priority(priority);
        r.mutable_timing()->set_count_us(count_us);
        return r;
    }

    void submit(const forwarder::v1::TxRequest& r)
    {
        sched_->submit(r, r.SerializeAsString(), "test");
    }

    // Every result published so far, by id.
    std::map<uint64_t, forwarder::v1::TxResult> results()
    {
        std::vector<Event> got;
        results_->pop_all(got, 0us);
        for (const auto& e : got) {
            forwarder::v1::TxResult r;
            EXPECT_TRUE(r.ParseFromString(*e.bytes));
            EXPECT_EQ(all_.count(r.id()), 0u) << "second result for id " << r.id();
            all_[r.id()] = r;
        }
        return all_;
    }

    TxOutcome outcome(uint64_t id)
    {
        auto all = results();
        return all.count(id) ? all[id].outcome() : forwarder::v1::TX_OUTCOME_UNSPECIFIED;
    }

    EventBus bus_;
    Stats stats_;
    FakeRadio radio_, radio1_;
    std::unique_ptr<Scheduler> sched_;
    std::shared_ptr<Subscription> results_;
    std::map<uint64_t, forwarder::v1::TxResult> all_;
    uint32_t slack_ = 0; // hand-over exactly at the lead time unless a test says otherwise
};

} // namespace

TEST_F(SchedulerTest, HandsFrameOverJustInTimeThenReportsOk)
{
    auto& s = scheduler();
    const uint32_t t = radio_.now + 100000;
    submit(request(1, t));
    EXPECT_EQ(s.queued(0), 1u);
    EXPECT_EQ(s.run_due(), 50000u); // the wait is capped; the frame is due in 95 ms
    EXPECT_TRUE(radio_.sent.empty());
    radio_.now = t - radio_.lead - 1;
    s.run_due();
    EXPECT_TRUE(radio_.sent.empty());
    radio_.now = t - radio_.lead;
    s.run_due();
    ASSERT_EQ(radio_.sent.size(), 1u);
    EXPECT_EQ(radio_.sent[0].count_us, t);
    EXPECT_EQ(outcome(1), forwarder::v1::OK);
    EXPECT_EQ(results()[1].count_us(), t);
    EXPECT_GT(results()[1].airtime_us(), 56000u);
}

TEST_F(SchedulerTest, TooLateWhenInsideLeadAndMargins)
{
    scheduler();
    submit(request(1, radio_.now + radio_.lead + 1500 + 1000 - 1));
    submit(request(2, radio_.now - 5000));
    submit(request(3, radio_.now + radio_.lead + 1500 + 1000));
    EXPECT_EQ(outcome(1), forwarder::v1::TOO_LATE);
    EXPECT_EQ(outcome(2), forwarder::v1::TOO_LATE);
    EXPECT_EQ(outcome(3), forwarder::v1::TX_OUTCOME_UNSPECIFIED); // queued, no answer yet
}

TEST_F(SchedulerTest, TooEarlyBeyondTenMinutes)
{
    scheduler();
    submit(request(1, radio_.now + 600'000'001));
    submit(request(2, radio_.now + 600'000'000));
    EXPECT_EQ(outcome(1), forwarder::v1::TOO_EARLY);
    EXPECT_EQ(outcome(2), forwarder::v1::TX_OUTCOME_UNSPECIFIED);
}

TEST_F(SchedulerTest, OverlappingFramesCollideUsingAirtime)
{
    scheduler();
    const uint32_t t = radio_.now + 1'000'000;
    submit(request(1, t));
    // SF7/125 kHz 23 B lasts 56.6 ms: a frame starting 50 ms later overlaps.
    submit(request(2, t + 50'000));
    // Ends more than guard + start delay before t: fine.
    submit(request(3, t - 60'000));
    // Starts after the first ends plus the guard and the next start-up.
    submit(request(4, t + 56'600 + 1000 + 1500 + 100));
    EXPECT_EQ(outcome(2), forwarder::v1::COLLISION_PACKET);
    EXPECT_NE(results()[2].detail().find("overlaps frame 1"), std::string::npos);
    EXPECT_EQ(outcome(3), forwarder::v1::TX_OUTCOME_UNSPECIFIED);
    EXPECT_EQ(outcome(4), forwarder::v1::TX_OUTCOME_UNSPECIFIED);
    EXPECT_EQ(sched_->queued(0), 3u);
}

TEST_F(SchedulerTest, HigherPriorityDisplacesLowerOne)
{
    scheduler();
    const uint32_t t = radio_.now + 1'000'000;
    submit(request(1, t, 10));
    submit(request(2, t + 1000, 200));
    EXPECT_EQ(outcome(1), forwarder::v1::COLLISION_PACKET);
    EXPECT_NE(results()[1].detail().find("displaced"), std::string::npos);
    submit(request(3, t, 200)); // equal priority does not displace
    EXPECT_EQ(outcome(3), forwarder::v1::COLLISION_PACKET);
    EXPECT_EQ(sched_->queued(0), 1u);
}

TEST_F(SchedulerTest, CounterWrapIsHandled)
{
    auto& s = scheduler();
    radio_.now = 0xFFFFFFFFu - 50'000;
    const uint32_t t = radio_.now + 200'000; // wraps past 2^32
    ASSERT_LT(t, radio_.now);
    submit(request(1, t));
    submit(request(2, t - 30'000)); // collides across the wrap
    EXPECT_EQ(outcome(2), forwarder::v1::COLLISION_PACKET);
    s.run_due();
    EXPECT_TRUE(radio_.sent.empty());
    radio_.now = t - radio_.lead; // the counter has wrapped
    s.run_due();
    ASSERT_EQ(radio_.sent.size(), 1u);
    EXPECT_EQ(radio_.sent[0].count_us, t);
    EXPECT_EQ(outcome(1), forwarder::v1::OK);
}

TEST_F(SchedulerTest, ImmediateFramesGoAsapWithoutOverlap)
{
    auto& s = scheduler();
    for (uint64_t id = 1; id <= 3; ++id) {
        auto r = request(id, 0);
        r.mutable_timing()->set_immediate(true);
        submit(r);
    }
    EXPECT_EQ(s.queued(0), 3u);
    radio_.now += 1'000'000;
    // Handed over late: all three are missed, each with one TOO_LATE result.
    s.run_due();
    for (uint64_t id = 1; id <= 3; ++id) {
        EXPECT_EQ(outcome(id), forwarder::v1::TOO_LATE);
    }
    auto r = request(4, 0);
    r.mutable_timing()->set_immediate(true);
    submit(r);
    auto r5 = r;
    r5.set_id(5);
    submit(r5);
    for (int i = 0; i < 400 && radio_.sent.size() < 2; ++i) {
        radio_.now += 1000;
        s.run_due();
    }
    ASSERT_EQ(radio_.sent.size(), 2u);
    const int64_t gap = counter_diff(radio_.sent[0].count_us, radio_.sent[1].count_us);
    EXPECT_GE(gap, static_cast<int64_t>(results()[4].airtime_us()) + 1000 + 1500);
    EXPECT_EQ(outcome(4), forwarder::v1::OK);
    EXPECT_EQ(outcome(5), forwarder::v1::OK);
}

TEST_F(SchedulerTest, GpsTimingNeedsAReference)
{
    auto& s = scheduler();
    auto r = request(1, 0);
    r.mutable_timing()->set_gps_time_us(1'400'000'000'000'000ull);
    submit(r);
    EXPECT_EQ(outcome(1), forwarder::v1::GPS_UNLOCKED);
    s.set_gps_mapper([this](uint32_t, uint64_t, uint32_t& c) {
        c = radio_.now + 500'000;
        return true;
    });
    r.set_id(2);
    submit(r);
    EXPECT_EQ(s.queued(0), 1u);
}

TEST_F(SchedulerTest, FrequencyAndPowerLimitsFromRadioConfig)
{
    auto& s = scheduler();
    forwarder::v1::RadioConfig rc;
    rc.set_radio(0);
    rc.set_tx_frequency_min_hz(863000000);
    rc.set_tx_frequency_max_hz(870000000);
    rc.set_max_eirp_dbm(16);
    s.configure(rc);
    auto r = request(1, radio_.now + 500'000);
    r.set_frequency_hz(915000000);
    submit(r);
    EXPECT_EQ(outcome(1), forwarder::v1::TX_FREQ);
    r = request(2, radio_.now + 500'000);
    r.set_power_dbm(27);
    submit(r);
    EXPECT_EQ(outcome(2), forwarder::v1::TX_POWER);
    submit(request(3, radio_.now + 500'000)); // 869.525 MHz, 14 dBm
    EXPECT_EQ(s.queued(0), 1u);
}

TEST_F(SchedulerTest, QueueFullAndUnknownRadioAndBadModulation)
{
    SchedulerConfig c;
    c.queue_size = 2;
    scheduler(c);
    submit(request(1, radio_.now + 1'000'000));
    submit(request(2, radio_.now + 2'000'000));
    submit(request(3, radio_.now + 3'000'000));
    EXPECT_EQ(outcome(3), forwarder::v1::QUEUE_FULL);
    auto r = request(4, radio_.now + 4'000'000);
    r.set_radio(7);
    submit(r);
    EXPECT_EQ(outcome(4), forwarder::v1::RADIO_ERROR);
    r = request(5, radio_.now + 4'000'000);
    r.clear_modulation();
    submit(r);
    EXPECT_EQ(outcome(5), forwarder::v1::RADIO_ERROR);
}

TEST_F(SchedulerTest, DriverFailureIsARadioError)
{
    auto& s = scheduler();
    radio_.fail_transmit = true;
    submit(request(1, radio_.now + 100'000));
    radio_.now += 100'000 - radio_.lead;
    s.run_due();
    EXPECT_EQ(outcome(1), forwarder::v1::RADIO_ERROR);
    EXPECT_NE(results()[1].detail().find("SPI timeout"), std::string::npos);
}

TEST_F(SchedulerTest, RadiosHaveSeparateTimelines)
{
    auto& s = scheduler();
    const uint32_t t = radio_.now + 300'000;
    submit(request(1, t));
    auto r = request(2, t);
    r.set_radio(1);
    submit(r);
    EXPECT_EQ(s.queued(0), 1u);
    EXPECT_EQ(s.queued(1), 1u);
}

TEST_F(SchedulerTest, MalformedRequestIsCountedNotAnswered)
{
    auto& s = scheduler();
    static const std::string source = "bad-transport";
    s.handle(
        Event{FWD_TOPIC_TX_REQUEST, std::make_shared<const std::string>("\xff\xff\xff"), &source});
    EXPECT_TRUE(results().empty());
    EXPECT_EQ(stats_.get("scheduler.malformed_tx_requests"), 1);
}

TEST_F(SchedulerTest, EveryRequestEndsInExactlyOneResult)
{
    auto& s = scheduler();
    std::mt19937 rng(42);
    constexpr uint64_t kRequests = 2000;
    for (uint64_t id = 1; id <= kRequests; ++id) {
        const int64_t offset = static_cast<int64_t>(rng() % 1'400'000'000) - 100'000'000;
        auto r = request(id, static_cast<uint32_t>(radio_.now + offset), rng() % 4);
        if (rng() % 10 == 0) {
            r.mutable_timing()->set_immediate(true);
        }
        r.set_radio(rng() % 3); // radio 2 does not exist
        submit(r);
        radio_.now += rng() % 20'000;
        radio1_.now = radio_.now;
        s.run_due();
    }
    s.cancel_all();
    const auto all = results(); // fails on a duplicate
    EXPECT_EQ(all.size(), kRequests);
}

TEST_F(SchedulerTest, StopCancelsQueuedFrames)
{
    auto& s = scheduler();
    s.start();
    submit(request(1, radio_.now + 10'000'000));
    s.stop();
    EXPECT_EQ(outcome(1), forwarder::v1::CANCELLED);
}

TEST_F(SchedulerTest, SlackHandsOverEarlierThanTheLeadTime)
{
    slack_ = 10000;
    auto& s = scheduler();
    const uint32_t t = radio_.now + 100000;
    submit(request(1, t));
    radio_.now = t - radio_.lead - 10001;
    s.run_due();
    EXPECT_TRUE(radio_.sent.empty());
    radio_.now = t - radio_.lead - 10000;
    s.run_due();
    ASSERT_EQ(radio_.sent.size(), 1u);
    EXPECT_EQ(outcome(1), forwarder::v1::OK);
}
