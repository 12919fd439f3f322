#include "beacon.hpp"
#include "clock.hpp"
#include "scheduler.hpp"

#include <forwarder/plugin.h>

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <thread>

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

    uint32_t caps = 0;
    // Listen before talk: busy while this returns true for (frequency, count_us).
    std::function<bool(uint64_t, uint32_t)> busy;
    uint32_t capabilities() const override { return caps; }
    TxStatus channel_clear(uint64_t freq, uint32_t, uint32_t count_us, uint32_t) override
    {
        ++lbt_checks;
        return busy && busy(freq, count_us) ? TxStatus::busy : TxStatus::ok;
    }
    int lbt_checks = 0;
    uint32_t lead_time_us() const override { return lead; }
    std::function<void()> on_read;
    bool counter_now(uint32_t& c) override
    {
        if (on_read) {
            on_read();
        }
        c = now;
        return true;
    }
    TxStatus transmit(const std::string& bytes, uint32_t count_us, std::string& error) override
    {
        forwarder::v1::TxRequest req;
        EXPECT_TRUE(req.ParseFromString(bytes));
        if (fail_transmit) {
            error = "SPI timeout";
            return TxStatus::error;
        }
        sent.push_back({count_us, now});
        last = req;
        return TxStatus::ok;
    }
    forwarder::v1::TxRequest last;
};

// GPS time of radio 0: counter `base_count` is GPS `base_gps` (no drift); radio 1 is unknown.
class FakeGps : public GpsTime {
public:
    uint32_t base_count = 0;
    uint64_t base_gps = 0;
    bool synced = true;
    bool to_count(uint32_t radio, uint64_t gps_us, uint32_t& count_us) const override
    {
        if (!synced || radio != 0) {
            return false;
        }
        count_us = base_count + static_cast<uint32_t>(gps_us - base_gps);
        return true;
    }
    bool to_gps(uint32_t radio, uint32_t count_us, uint64_t& gps_us) const override
    {
        if (!synced || radio != 0) {
            return false;
        }
        gps_us = base_gps +
                 static_cast<uint64_t>(static_cast<int64_t>(counter_diff(base_count, count_us)));
        return true;
    }
    bool precise(uint32_t radio) const override { return synced && radio == 0; }
    bool beacon_ready(uint32_t radio) const override { return precise(radio); }
    std::optional<std::pair<double, double>> position() const override
    {
        return std::pair{0.087901, 4.927368};
    }
    // A transfer re-bases radio 0's clock.
    void on_reference(const forwarder::v1::TimeReference& ref, uint64_t) override
    {
        if (ref.has_transfer()) {
            base_count = ref.transfer().count_us();
            base_gps = ref.transfer().gps_time_us();
            synced = true;
        }
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
    SchedulerConfig c;
    c.class_c_retries = 0; // a missed hand-over is final here
    auto& s = scheduler(c);
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
    FakeGps gps;
    gps.base_count = radio_.now + 500'000;
    gps.base_gps = 1'400'000'000'000'000ull;
    s.set_gps_time(&gps);
    r.set_id(2);
    submit(r);
    ASSERT_EQ(s.queued(0), 1u);
    radio_.now += 500'000 - radio_.lead;
    s.run_due();
    ASSERT_EQ(radio_.sent.size(), 1u);
    EXPECT_EQ(radio_.sent[0].count_us, gps.base_count);
}

TEST_F(SchedulerTest, TimeReferencesAreAppliedInBusOrderWithRequests)
{
    // A transport publishes a time transfer and right after it a class B request: the request
    // must see the transfer (the scheduler applies references from its own inbox).
    auto& s = scheduler();
    FakeGps gps;
    gps.synced = false;
    s.set_gps_time(&gps);
    forwarder::v1::TimeReference ref;
    ref.mutable_transfer()->set_count_us(radio_.now);
    ref.mutable_transfer()->set_gps_time_us(1'400'000'000'000'000ull);
    bus_.publish(FWD_TOPIC_TIME_REFERENCE, ref.SerializeAsString());
    auto r = request(1, 0);
    r.mutable_timing()->set_gps_time_us(1'400'000'000'000'000ull + 300'000);
    bus_.publish(FWD_TOPIC_TX_REQUEST, r.SerializeAsString());
    s.start();
    for (int i = 0; i < 200 && s.queued(0) == 0 && outcome(1) == TxOutcome{}; ++i) {
        std::this_thread::sleep_for(5ms);
    }
    s.stop();
    EXPECT_EQ(outcome(1), forwarder::v1::CANCELLED); // queued (not GPS_UNLOCKED), then stopped
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
    // Above the max EIRP: sent at the limit (counted), like Semtech's TX_POWER warning.
    r = request(2, radio_.now + 500'000);
    r.set_power_dbm(27);
    submit(r);
    EXPECT_EQ(s.queued(0), 1u);
    radio_.now += 500'000 - radio_.lead;
    s.run_due();
    EXPECT_EQ(outcome(2), forwarder::v1::OK);
    EXPECT_FLOAT_EQ(radio_.last.power_dbm(), 16.0f);
    EXPECT_EQ(stats_.get("scheduler.tx_power_limited"), 1);
    // The result says so, with the power used (Semtech UDP answers with a TX_POWER warning).
    EXPECT_TRUE(results()[2].power_limited());
    EXPECT_FLOAT_EQ(results()[2].power_dbm(), 16.0f);
}

TEST_F(SchedulerTest, AdmissionIsReportedBeforeTheFinalResultWhenAsked)
{
    auto& s = scheduler();
    auto r = request(1, radio_.now + 300'000);
    r.set_report_admission(true);
    submit(r);
    auto late = request(2, radio_.now - 1000);
    late.set_report_admission(true);
    submit(late);
    std::vector<Event> got;
    results_->pop_all(got, 0us);
    ASSERT_EQ(got.size(), 2u);
    forwarder::v1::TxResult first, second;
    ASSERT_TRUE(first.ParseFromString(*got[0].bytes));
    ASSERT_TRUE(second.ParseFromString(*got[1].bytes));
    // Queued: a provisional OK at once (not counted as sent); refused: only the final result.
    EXPECT_EQ(first.id(), 1u);
    EXPECT_TRUE(first.admitted());
    EXPECT_EQ(first.outcome(), forwarder::v1::OK);
    EXPECT_EQ(first.count_us(), r.timing().count_us());
    EXPECT_EQ(second.id(), 2u);
    EXPECT_FALSE(second.admitted());
    EXPECT_EQ(second.outcome(), forwarder::v1::TOO_LATE);
    EXPECT_EQ(stats_.get("scheduler.tx_ok"), 0);
    radio_.now += 300'000 - radio_.lead;
    s.run_due();
    results_->pop_all(got, 0us);
    ASSERT_EQ(got.size(), 1u);
    forwarder::v1::TxResult final_result;
    ASSERT_TRUE(final_result.ParseFromString(*got[0].bytes));
    EXPECT_EQ(final_result.id(), 1u);
    EXPECT_FALSE(final_result.admitted());
    EXPECT_EQ(final_result.outcome(), forwarder::v1::OK);
}

TEST_F(SchedulerTest, TransportPriorityRanksAboveRequestPriority)
{
    auto& s = scheduler();
    s.set_requester_priority("private", 1);
    const uint32_t t = radio_.now + 300'000;
    // A request priority of 255 from a priority-0 transport ...
    auto a = request(1, t, 255);
    sched_->submit(a, a.SerializeAsString(), "public");
    // ... yields to priority 0 from a priority-1 transport,
    auto b = request(2, t, 0);
    sched_->submit(b, b.SerializeAsString(), "private");
    EXPECT_EQ(outcome(1), forwarder::v1::COLLISION_PACKET);
    EXPECT_NE(results()[1].detail().find("displaced"), std::string::npos);
    // and a later request of the lower transport is refused outright.
    auto c = request(3, t, 255);
    sched_->submit(c, c.SerializeAsString(), "public");
    EXPECT_EQ(outcome(3), forwarder::v1::COLLISION_PACKET);
    radio_.now = t - radio_.lead;
    s.run_due();
    EXPECT_EQ(outcome(2), forwarder::v1::OK);
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

TEST_F(SchedulerTest, AnIdleRadioIsReadOnlyNowAndThen)
{
    auto& s = scheduler();
    int reads = 0;
    radio_.on_read = [&] { ++reads; };
    for (int i = 0; i < 100; ++i) {
        s.run_due();
    }
    EXPECT_EQ(reads, 1); // the first pass; the next is due 10 s later
    submit(request(1, radio_.now + 500'000));
    const int before = reads;
    s.run_due();
    EXPECT_GT(reads, before); // something queued: every pass reads it
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

// --- Regional rules, alternatives, LBT, antenna diversity, class B ---------------------

namespace {

forwarder::v1::TxRequest lora_request(uint64_t id, uint32_t count_us, uint64_t freq, uint32_t sf,
                                      size_t bytes = 23)
{
    forwarder::v1::TxRequest r;
    r.set_id(id);
    r.set_payload(std::string(bytes, 'p'));
    r.set_frequency_hz(freq);
    auto* lora = r.mutable_modulation()->mutable_lora();
    lora->set_spreading_factor(sf);
    lora->set_bandwidth_hz(125000);
    lora->set_coding_rate(forwarder::v1::CR_4_5);
    r.set_power_dbm(14);
    r.mutable_timing()->set_count_us(count_us);
    return r;
}

// Class A: RX2 one second after RX1 on `freq` at SF12.
void add_rx2(forwarder::v1::TxRequest& r, uint64_t freq)
{
    auto* alt = r.add_alternatives();
    alt->mutable_timing()->set_count_us(r.timing().count_us() + 1'000'000);
    alt->set_frequency_hz(freq);
    auto* lora = alt->mutable_modulation()->mutable_lora();
    lora->set_spreading_factor(12);
    lora->set_bandwidth_hz(125000);
    lora->set_coding_rate(forwarder::v1::CR_4_5);
}

} // namespace

TEST_F(SchedulerTest, DutyCycleBudgetIsExhaustedThenRecoveredOverSimulatedTime)
{
    SchedulerConfig c;
    c.region = "EU868";
    c.idle_read_interval_us = 0; // simulated time: read on every pass, as real time would
    auto& s = scheduler(c);
    radio_.now = 0xFFFFFFFFu - 30'000'000; // the counter wraps during the first minute
    // Band M (868.0-868.6 MHz) allows 1 %: 36 s of air time per hour. SF12, 51 bytes without
    // CRC lasts 2.302 s, so 15 frames fit (34.5 s) and the 16th does not.
    uint64_t id = 0;
    int sent_ok = 0;
    for (int i = 0; i < 16; ++i) {
        submit(lora_request(++id, radio_.now + 3'000'000, 868'100'000, 12, 51));
        radio_.now += 3'000'000 - radio_.lead;
        s.run_due();
        sent_ok += outcome(id) == forwarder::v1::OK ? 1 : 0;
        radio_.now += radio_.lead;
    }
    EXPECT_EQ(sent_ok, 15);
    EXPECT_EQ(outcome(16), forwarder::v1::DUTY_CYCLE);
    EXPECT_NE(results()[16].detail().find("band M"), std::string::npos) << results()[16].detail();
    // Another band is independent: 868.7-869.2 MHz is N (0.1 %, 3.6 s per hour).
    submit(lora_request(++id, radio_.now + 3'000'000, 868'900'000, 12, 51));
    EXPECT_EQ(s.queued(0), 1u);
    s.cancel_all();
    results();
    // The usage is visible per band.
    bool found = false;
    for (const auto& u : s.duty_cycle_usage()) {
        if (u.key == "radio0/M") {
            found = true;
            EXPECT_GT(u.used_us, 34'000'000);
            EXPECT_EQ(u.budget_us, 36'000'000);
        }
    }
    EXPECT_TRUE(found);
    // An hour later (the counter is read every minute, as the scheduler thread does, and
    // wraps on the way) the budget is back.
    for (int minute = 0; minute < 60; ++minute) {
        radio_.now += 60'000'000;
        s.run_due();
    }
    submit(lora_request(++id, radio_.now + 3'000'000, 868'100'000, 12, 51));
    radio_.now += 3'000'000 - radio_.lead;
    s.run_due();
    EXPECT_EQ(outcome(id), forwarder::v1::OK);
}

TEST_F(SchedulerTest, DutyCycleRefusalFallsBackToRx2AndCanBeTurnedOff)
{
    SchedulerConfig c;
    c.region = "EU868";
    c.duty_cycle_window_us = 100'000'000; // 1 s per 100 s in band M
    auto& s = scheduler(c);
    submit(lora_request(1, radio_.now + 500'000, 868'100'000, 12, 23)); // 1.48 s > 1 s budget
    EXPECT_EQ(outcome(1), forwarder::v1::DUTY_CYCLE);
    auto r = lora_request(2, radio_.now + 500'000, 868'100'000, 12, 23);
    add_rx2(r, 869'525'000); // band P, 10 %
    submit(r);
    radio_.now += 1'500'000 - radio_.lead;
    s.run_due();
    ASSERT_EQ(outcome(2), forwarder::v1::OK);
    EXPECT_EQ(results()[2].alternative(), 1u);
    EXPECT_EQ(results()[2].frequency_hz(), 869'525'000u);
    ASSERT_EQ(radio_.sent.size(), 1u);
    EXPECT_EQ(radio_.last.frequency_hz(), 869'525'000u);
    EXPECT_EQ(radio_.last.modulation().lora().spreading_factor(), 12u);

    SchedulerConfig off = c;
    off.duty_cycle = false;
    auto& s2 = scheduler(off);
    submit(lora_request(3, radio_.now + 500'000, 868'100'000, 12, 23));
    EXPECT_EQ(s2.queued(0), 1u);
}

TEST_F(SchedulerTest, DwellTimeLimitsAirTimeWhereTheRegionRequiresIt)
{
    SchedulerConfig c;
    c.region = "AS923-1";
    c.duty_cycle = false;
    c.lbt = LbtMode::off;
    auto& s = scheduler(c);
    submit(lora_request(1, radio_.now + 500'000, 923'200'000, 12, 23)); // 1.48 s
    EXPECT_EQ(outcome(1), forwarder::v1::DWELL_TIME);
    EXPECT_NE(results()[1].detail().find("400.0 ms"), std::string::npos);
    submit(lora_request(2, radio_.now + 3'000'000, 923'200'000, 9, 23)); // 185 ms
    EXPECT_EQ(s.queued(0), 1u);
    c.dwell_time = false;
    auto& s2 = scheduler(c);
    submit(lora_request(3, radio_.now + 500'000, 923'200'000, 12, 23));
    EXPECT_EQ(s2.queued(0), 1u);
}

TEST_F(SchedulerTest, UnknownFrequenciesAndRegionsAreHandledExplicitly)
{
    SchedulerConfig c;
    c.region = "EU868";
    scheduler(c);
    // 868.65 MHz lies between ETSI sub-bands M and N.
    submit(lora_request(1, radio_.now + 500'000, 868'650'000, 7));
    EXPECT_EQ(outcome(1), forwarder::v1::TX_FREQ);
    // A RadioConfig naming an unknown region: no rules, but nothing is dropped silently.
    auto& s = scheduler();
    forwarder::v1::RadioConfig rc;
    rc.set_region("MARS433");
    s.configure(rc);
    EXPECT_EQ(s.region(0), nullptr);
    submit(lora_request(2, radio_.now + 500'000, 868'650'000, 7));
    EXPECT_EQ(s.queued(0), 1u);
    rc.set_region("EU863"); // an alias
    s.configure(rc);
    ASSERT_NE(s.region(0), nullptr);
    EXPECT_EQ(s.region(0)->name, "EU868");
}

TEST_F(SchedulerTest, ListenBeforeTalkBusyTriesTheAlternative)
{
    SchedulerConfig c;
    c.region = "AS923-1"; // LBT required
    auto& s = scheduler(c);
    radio_.now = 0xFFFFFFFFu - 700'000; // RX1 before the wrap, RX2 after it
    radio_.caps = FWD_RADIO_CAP_LBT;
    radio_.busy = [](uint64_t freq, uint32_t) { return freq == 923'200'000; };
    // No alternative: CHANNEL_BUSY at hand-over.
    submit(lora_request(1, radio_.now + 200'000, 923'200'000, 7));
    radio_.now += 200'000 - radio_.lead;
    s.run_due();
    EXPECT_EQ(outcome(1), forwarder::v1::CHANNEL_BUSY);
    EXPECT_TRUE(radio_.sent.empty());
    // With RX2 on a clear channel: sent there one second later.
    auto r = lora_request(2, radio_.now + 200'000, 923'200'000, 7);
    add_rx2(r, 923'400'000);
    r.mutable_alternatives(0)->mutable_modulation()->mutable_lora()->set_spreading_factor(9);
    submit(r);
    radio_.now += 200'000 - radio_.lead;
    s.run_due();
    EXPECT_EQ(outcome(2), forwarder::v1::TX_OUTCOME_UNSPECIFIED); // RX2 still queued
    radio_.now += 1'000'000;
    s.run_due();
    ASSERT_EQ(outcome(2), forwarder::v1::OK);
    EXPECT_EQ(results()[2].alternative(), 1u);
    EXPECT_EQ(radio_.lbt_checks, 3);
    // A driver without the capability: transmitted with a warning (lbt: auto) ...
    radio_.caps = 0;
    submit(lora_request(3, radio_.now + 200'000, 923'200'000, 7));
    radio_.now += 200'000 - radio_.lead;
    s.run_due();
    EXPECT_EQ(outcome(3), forwarder::v1::OK);
    // ... or refused (lbt: on).
    c.lbt = LbtMode::on;
    auto& s2 = scheduler(c);
    submit(lora_request(4, radio_.now + 200'000, 923'400'000, 7));
    radio_.now += 200'000 - radio_.lead;
    s2.run_due();
    EXPECT_EQ(outcome(4), forwarder::v1::CHANNEL_BUSY);
}

TEST_F(SchedulerTest, ClassCRetriesOnAShortBackoff)
{
    SchedulerConfig c;
    c.region = "KR920";
    auto& s = scheduler(c);
    radio_.caps = FWD_RADIO_CAP_LBT;
    int busy_checks = 2;
    radio_.busy = [&](uint64_t, uint32_t) { return busy_checks-- > 0; };
    auto r = lora_request(1, 0, 922'100'000, 7);
    r.mutable_timing()->set_immediate(true);
    submit(r);
    for (int i = 0; i < 1000 && outcome(1) == forwarder::v1::TX_OUTCOME_UNSPECIFIED; ++i) {
        radio_.now += 1000;
        s.run_due();
    }
    ASSERT_EQ(outcome(1), forwarder::v1::OK);
    EXPECT_EQ(results()[1].retries_used(), 2u);
    // Two refusals 100 ms apart: at least 200 ms after the first try.
    EXPECT_GE(stats_.get("scheduler.lbt_busy"), 2);
}

TEST_F(SchedulerTest, AntennaDiversityUsesAnotherRadioCoveringTheFrequency)
{
    auto& s = scheduler();
    radio1_.now = radio_.now + 777'777; // its own counter
    for (uint32_t radio : {0u, 1u}) {
        forwarder::v1::RadioConfig rc;
        rc.set_radio(radio);
        rc.set_tx_frequency_min_hz(863'000'000);
        rc.set_tx_frequency_max_hz(870'000'000);
        s.configure(rc);
    }
    const uint32_t t = radio_.now + 500'000;
    submit(lora_request(1, t, 869'525'000, 7));
    auto r = lora_request(2, t, 869'525'000, 7); // same time: collides on radio 0
    submit(r);
    EXPECT_EQ(s.queued(0), 1u);
    EXPECT_EQ(s.queued(1), 1u);
    radio_.now += 500'000 - radio_.lead;
    radio1_.now += 500'000 - radio_.lead;
    s.run_due();
    ASSERT_EQ(outcome(2), forwarder::v1::OK);
    EXPECT_EQ(results()[2].radio(), 1u);
    ASSERT_EQ(radio1_.sent.size(), 1u);
    EXPECT_EQ(radio1_.sent[0].count_us, t + 777'777);
    // A radio whose channel plan enables no TX chain is not a candidate.
    forwarder::v1::RadioConfig rx_only;
    rx_only.set_radio(1);
    rx_only.set_tx_frequency_min_hz(863'000'000);
    rx_only.set_tx_frequency_max_hz(870'000'000);
    rx_only.add_rf_chains()->set_tx_enabled(false);
    s.configure(rx_only);
    const uint32_t t2 = radio_.now + 400'000;
    submit(lora_request(5, t2, 869'525'000, 7));
    submit(lora_request(6, t2, 869'525'000, 7));
    EXPECT_EQ(outcome(6), forwarder::v1::COLLISION_PACKET);
    // pin_radio keeps a frame where it was asked for.
    auto pinned = lora_request(3, radio_.now + 500'000, 869'525'000, 7);
    pinned.set_pin_radio(true);
    submit(pinned);
    auto pinned2 = pinned;
    pinned2.set_id(4);
    submit(pinned2);
    EXPECT_EQ(outcome(4), forwarder::v1::COLLISION_PACKET);
}

TEST_F(SchedulerTest, DisplacedFrameFallsBackToItsAlternative)
{
    auto& s = scheduler();
    const uint32_t t = radio_.now + 500'000;
    auto low = lora_request(1, t, 869'525'000, 7);
    low.set_pin_radio(true);
    add_rx2(low, 869'525'000);
    submit(low);
    auto high = lora_request(2, t, 869'525'000, 7);
    high.set_priority(10);
    high.set_pin_radio(true);
    submit(high);
    EXPECT_EQ(s.queued(0), 2u);
    for (int i = 0; i < 2000 && radio_.sent.size() < 2; ++i) {
        radio_.now += 1000;
        s.run_due();
    }
    ASSERT_EQ(outcome(1), forwarder::v1::OK);
    EXPECT_EQ(results()[1].alternative(), 1u);
    EXPECT_EQ(outcome(2), forwarder::v1::OK);
    EXPECT_EQ(results()[2].alternative(), 0u);
}

TEST_F(SchedulerTest, BeaconsGoOutAtGpsMultiplesOf128sWithTheRightBytesAcrossTheWrap)
{
    SchedulerConfig c;
    c.region = "EU868";
    c.beacon.mode = BeaconConfig::Mode::on;
    auto& s = scheduler(c);
    // GPS time 3 422 683 136 s (a beacon time, timing.md §8.4) is 2 s after "now", and the
    // counter wraps 1 s from now.
    radio_.now = 0xFFFFFFFFu - 1'000'000;
    FakeGps gps;
    gps.base_count = radio_.now + 2'000'000;
    gps.base_gps = 3'422'683'136ull * 1'000'000;
    s.set_gps_time(&gps);
    for (int i = 0; i < 300 && radio_.sent.empty(); ++i) {
        radio_.now += 10'000;
        s.run_due();
    }
    ASSERT_EQ(radio_.sent.size(), 1u);
    EXPECT_EQ(radio_.sent[0].count_us, gps.base_count + kBeaconDelayUs);
    const auto& b = radio_.last;
    EXPECT_EQ(b.payload(), std::string("\x00\x00\x00\x00\x02\xCC\xA2\x7E\x00\x01\x20\x00\x00\x81"
                                       "\x03\xDE\x55",
                                       17));
    EXPECT_EQ(b.frequency_hz(), 869'525'000u);
    EXPECT_EQ(b.modulation().lora().spreading_factor(), 9u);
    EXPECT_TRUE(b.implicit_header());
    EXPECT_FALSE(b.invert_iq());
    EXPECT_EQ(b.preamble(), 10u);
    EXPECT_EQ(stats_.get("scheduler.beacons_sent"), 1);
    // The next one is planned 128 s later; nothing in between.
    for (int i = 0; i < 13'000; ++i) {
        radio_.now += 10'000;
        s.run_due();
    }
    ASSERT_EQ(radio_.sent.size(), 2u);
    EXPECT_EQ(radio_.sent[1].count_us, gps.base_count + 128'000'000 + kBeaconDelayUs);
    // Time sync lost: beaconing is suspended.
    gps.synced = false;
    for (int i = 0; i < 130; ++i) {
        radio_.now += 1'000'000;
        s.run_due();
    }
    EXPECT_EQ(radio_.sent.size(), 2u);
}

TEST_F(SchedulerTest, ClassBPingSlotsKeepOutOfTheBeaconGuard)
{
    SchedulerConfig c;
    c.region = "EU868";
    c.beacon.mode = BeaconConfig::Mode::on;
    auto& s = scheduler(c);
    FakeGps gps;
    gps.base_count = radio_.now + 10'000'000; // a beacon 10 s from now
    gps.base_gps = 1'000'000ull * 128 * 10'000'000;
    s.set_gps_time(&gps);
    const uint64_t beacon = gps.base_gps + kBeaconDelayUs;
    auto ping = lora_request(1, 0, 869'525'000, 9);
    ping.mutable_timing()->set_gps_time_us(beacon - 1'000'000); // inside the 3 s guard
    submit(ping);
    EXPECT_EQ(outcome(1), forwarder::v1::COLLISION_BEACON);
    ping.set_id(2);
    ping.mutable_timing()->set_gps_time_us(beacon + 3'000'000); // after BEACON_RESERVED
    submit(ping);
    EXPECT_EQ(s.queued(0), 1u);
    // Class A may use the guard time as long as it stays off the beacon's own air.
    auto a = lora_request(3, gps.base_count - 1'000'000, 869'525'000, 7);
    submit(a);
    EXPECT_EQ(s.queued(0), 2u);
    auto clash = lora_request(4, gps.base_count - 10'000, 869'525'000, 7);
    submit(clash);
    EXPECT_EQ(outcome(4), forwarder::v1::COLLISION_BEACON);
}

TEST_F(SchedulerTest, ClassBFramesAreRetimedAtHandOverWithTheLatestSync)
{
    auto& s = scheduler();
    FakeGps gps;
    gps.base_count = radio_.now;
    gps.base_gps = 1'400'000'000'000'000ull;
    s.set_gps_time(&gps);
    auto r = request(1, 0);
    r.mutable_timing()->set_gps_time_us(gps.base_gps + 500'000);
    submit(r);
    ASSERT_EQ(s.queued(0), 1u);
    gps.base_count += 37; // a new PPS sample moved the mapping by 37 µs
    radio_.now += 500'000 - radio_.lead;
    s.run_due();
    ASSERT_EQ(radio_.sent.size(), 1u);
    EXPECT_EQ(radio_.sent[0].count_us, gps.base_count + 500'000);
    EXPECT_EQ(stats_.get("scheduler.class_b_retimed"), 1);
    // Sync lost while queued: refused at hand-over, not sent at a stale time.
    r.set_id(2);
    r.mutable_timing()->set_gps_time_us(gps.base_gps + 1'000'000);
    submit(r);
    gps.synced = false;
    radio_.now += 500'040; // hand-over time of frame 2
    s.run_due();
    EXPECT_EQ(outcome(2), forwarder::v1::GPS_UNLOCKED);
    EXPECT_EQ(radio_.sent.size(), 1u);
}
