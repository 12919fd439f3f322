// The core clock thread's logic, driven step by step with injected times: PPS edges labelled
// by a GPS receiver, by LNS timesync round trips, and LNS time transfers; all across the
// 2^32 counter wrap.
#include "clock.hpp"
#include "time_keeper.hpp"

#include <forwarder/plugin.h>

#include <gtest/gtest.h>

using namespace forwarder::core;

namespace {

class PpsRadio : public TxRadio {
public:
    explicit PpsRadio(bool pps) : caps_(pps ? FWD_RADIO_CAP_PPS : 0) {}
    uint32_t now = 0;
    std::optional<std::pair<uint32_t, uint64_t>> edge;
    uint32_t lead_time_us() const override { return 5000; }
    bool counter_now(uint32_t& c) override
    {
        c = now;
        return true;
    }
    TxStatus transmit(const std::string&, uint32_t, std::string&) override { return TxStatus::ok; }
    uint32_t capabilities() const override { return caps_; }
    bool last_pps(uint32_t& count, uint64_t& mono) override
    {
        if (!edge) {
            return false;
        }
        count = edge->first;
        mono = edge->second;
        return true;
    }

private:
    uint32_t caps_;
};

constexpr uint32_t kStart = 0xFFFFFFFFu - 3'500'000; // wraps after the 4th edge
constexpr uint64_t kGps0 = 1'400'000'000;            // GPS second of the first edge

class TimeKeeperTest : public ::testing::Test {
protected:
    TimeKeeperTest() : base_(monotonic_us()) {}

    // PPS edge k: counter kStart + k s at host time base + k s; the keeper polls 200 µs later.
    void edge(TimeKeeper& keeper, PpsRadio& radio, uint32_t k)
    {
        const uint32_t count = kStart + k * 1'000'000u;
        const uint64_t mono = base_ + k * 1'000'000ull;
        radio.edge = std::pair{count, mono};
        radio.now = count + 200;
        keeper.poll_pps(mono + 200);
    }

    uint64_t mono(uint32_t k, uint64_t plus = 0) const { return base_ + k * 1'000'000ull + plus; }

    EventBus bus_;
    Stats stats_;
    uint64_t base_;
};

} // namespace

TEST_F(TimeKeeperTest, GpsReceiverLabelsPpsEdgesAcrossTheWrap)
{
    PpsRadio radio(true);
    TimeKeeper keeper(bus_, stats_, {}, {&radio});
    EXPECT_EQ(keeper.status(mono(0)).radios(0).source(), forwarder::v1::TIME_SOURCE_NONE);
    for (uint32_t k = 0; k <= 6; ++k) {
        edge(keeper, radio, k);
        GpsFix fix;
        fix.gps_second = kGps0 + k;
        fix.received_mono_us = mono(k, 100'000);
        fix.latitude = 52.1;
        fix.longitude = 5.2;
        keeper.on_fix(fix, mono(k, 100'000));
    }
    EXPECT_FALSE(keeper.beacon_ready(0)); // the crystal estimate needs 16 samples
    const auto status = keeper.status(mono(6, 200'000));
    EXPECT_EQ(status.radios(0).source(), forwarder::v1::PPS_GPS);
    EXPECT_TRUE(status.radios(0).pps());
    EXPECT_TRUE(status.radios(0).gps_second_known());
    EXPECT_TRUE(keeper.precise(0));
    const uint32_t c6 = kStart + 6'000'000u;
    ASSERT_LT(c6, kStart); // wrapped
    uint64_t gps = 0;
    ASSERT_TRUE(keeper.to_gps(0, c6 + 500'000, gps));
    EXPECT_NEAR(static_cast<double>(gps), (kGps0 + 6) * 1e6 + 500'000, 2.0);
    // A time before the wrap, converted with the reference after it.
    ASSERT_TRUE(keeper.to_gps(0, kStart + 1'000'000u, gps));
    EXPECT_NEAR(static_cast<double>(gps), (kGps0 + 1) * 1e6, 2.0);
    uint32_t count = 0;
    ASSERT_TRUE(keeper.to_count(0, (kGps0 + 7) * 1'000'000, count));
    EXPECT_NEAR(static_cast<double>(counter_diff(c6 + 1'000'000u, count)), 0.0, 2.0);
    EXPECT_EQ(keeper.position(), (std::pair{52.1, 5.2}));

    // Uplinks get the GPS time of their counter value.
    forwarder::v1::Uplink up;
    up.set_radio(0);
    up.set_count_us(c6 + 250'000);
    std::string bytes = up.SerializeAsString();
    ASSERT_TRUE(keeper.stamp_uplink(bytes));
    ASSERT_TRUE(up.ParseFromString(bytes));
    EXPECT_NEAR(static_cast<double>(up.gps_time_us()), (kGps0 + 6) * 1e6 + 250'000, 2.0);
}

TEST_F(TimeKeeperTest, LnsRoundTripLabelsPpsEdges)
{
    PpsRadio radio(true);
    TimeKeeper keeper(bus_, stats_, {}, {&radio});
    for (uint32_t k = 0; k <= 3; ++k) {
        edge(keeper, radio, k);
    }
    auto status = keeper.status(mono(3, 300));
    EXPECT_TRUE(status.radios(0).pps());
    EXPECT_FALSE(status.radios(0).gps_second_known()); // a transport should ask for time
    // timesync sent 200 ms after edge 3, answered 200 ms later with the server's GPS time
    // 300 ms after that edge's second.
    forwarder::v1::TimeReference ref;
    ref.mutable_round_trip()->set_sent_mono_us(mono(3, 200'000));
    ref.mutable_round_trip()->set_received_mono_us(mono(3, 400'000));
    ref.mutable_round_trip()->set_gps_time_us((kGps0 + 3) * 1'000'000 + 300'000);
    keeper.on_reference(ref, mono(3, 400'000));
    for (uint32_t k = 4; k <= 6; ++k) {
        edge(keeper, radio, k);
    }
    status = keeper.status(mono(6, 300));
    EXPECT_EQ(status.radios(0).source(), forwarder::v1::PPS_LNS);
    EXPECT_TRUE(status.radios(0).gps_second_known());
    uint64_t gps = 0;
    ASSERT_TRUE(keeper.to_gps(0, kStart + 6'000'000u, gps));
    EXPECT_NEAR(static_cast<double>(gps), (kGps0 + 6) * 1e6, 2.0);
    EXPECT_EQ(stats_.get("clock.round_trips_solved"), 1);
    // A round trip of 2 s or more is not used.
    forwarder::v1::TimeReference slow = ref;
    slow.mutable_round_trip()->set_received_mono_us(mono(3, 2'300'000));
    PpsRadio other(true);
    TimeKeeper keeper2(bus_, stats_, {}, {&other});
    for (uint32_t k = 0; k <= 3; ++k) {
        edge(keeper2, other, k);
    }
    keeper2.on_reference(slow, mono(3, 400'000));
    EXPECT_EQ(keeper2.status(mono(3, 500'000)).radios(0).source(), forwarder::v1::TIME_SOURCE_NONE);
}

TEST_F(TimeKeeperTest, LnsTransferWorksWithoutPpsButIsNotPrecise)
{
    PpsRadio radio(false);
    radio.now = kStart;
    TimeKeeper keeper(bus_, stats_, {}, {&radio});
    forwarder::v1::TimeReference ref;
    ref.set_radio(0);
    ref.mutable_transfer()->set_count_us(kStart + 100);
    ref.mutable_transfer()->set_gps_time_us(kGps0 * 1'000'000);
    keeper.on_reference(ref, mono(0));
    keeper.poll_pps(mono(0, 1000));
    const auto status = keeper.status(mono(0, 1000));
    EXPECT_EQ(status.radios(0).source(), forwarder::v1::LNS_TRANSFER);
    EXPECT_FALSE(status.radios(0).pps());
    EXPECT_FALSE(status.radios(0).gps_second_known());
    EXPECT_FALSE(keeper.precise(0)); // no beacons, no uplink time stamps
    // Class B still works: GPS time → counter, across the wrap.
    uint32_t count = 0;
    ASSERT_TRUE(keeper.to_count(0, (kGps0 + 5) * 1'000'000, count));
    EXPECT_EQ(count, kStart + 100 + 5'000'000u);
    forwarder::v1::Uplink up;
    up.set_count_us(kStart + 200);
    std::string bytes = up.SerializeAsString();
    EXPECT_FALSE(keeper.stamp_uplink(bytes));
    // A transfer for a radio that does not exist is ignored.
    ref.set_radio(5);
    keeper.on_reference(ref, mono(0, 2000));
}

TEST_F(TimeKeeperTest, ALabelFromOneRoundTripHoldsForHoursOfCrystalDrift)
{
    // A crystal 8 ppm fast: after 3.5 h the counter is 100 ms off whole seconds from the
    // first labelled edge. Labels must follow from edge to edge, not from that first one.
    PpsRadio radio(true);
    TimeKeeper keeper(bus_, stats_, {}, {&radio});
    auto count_at = [](uint32_t k) { return kStart + static_cast<uint32_t>(k * 1'000'008ull); };
    auto drifting_edge = [&](uint32_t k) {
        radio.edge = std::pair{count_at(k), mono(k)};
        radio.now = count_at(k) + 200;
        keeper.poll_pps(mono(k, 200));
    };
    for (uint32_t k = 0; k <= 3; ++k) {
        drifting_edge(k);
    }
    forwarder::v1::TimeReference ref;
    ref.mutable_round_trip()->set_sent_mono_us(mono(3, 200'000));
    ref.mutable_round_trip()->set_received_mono_us(mono(3, 400'000));
    ref.mutable_round_trip()->set_gps_time_us((kGps0 + 3) * 1'000'000 + 300'000);
    keeper.on_reference(ref, mono(3, 400'000));
    constexpr uint32_t kEdges = 14'000; // 3.9 h
    for (uint32_t k = 4; k <= kEdges; ++k) {
        drifting_edge(k);
    }
    const auto status = keeper.status(mono(kEdges, 300));
    EXPECT_EQ(status.radios(0).source(), forwarder::v1::PPS_LNS);
    EXPECT_NEAR(status.radios(0).drift_ppm(), 8.0, 0.1);
    EXPECT_TRUE(keeper.beacon_ready(0));
}
