#include "airtime.hpp"

#include "forwarder.pb.h"

#include <gtest/gtest.h>

using namespace forwarder::core;

namespace {

struct Row {
    uint32_t sf, bw, bytes;
    double uplink_ms, downlink_ms;
};

// Reference values of shared/spec/timing.md §10 (preamble 8, CR 4/5, explicit header).
const Row kTable[] = {
    {7, 125000, 13, 46.3, 41.2},      {7, 125000, 23, 61.7, 56.6},
    {7, 125000, 51, 102.7, 97.5},     {7, 125000, 222, 348.4, 348.4},
    {8, 125000, 23, 113.2, 102.9},    {9, 125000, 23, 205.8, 185.3},
    {10, 125000, 23, 370.7, 370.7},   {11, 125000, 23, 823.3, 741.4},
    {12, 125000, 23, 1482.8, 1482.8}, {12, 125000, 51, 2465.8, 2302.0},
    {7, 250000, 23, 30.8, 28.3},      {8, 500000, 23, 28.3, 25.7},
    {12, 500000, 23, 329.7, 329.7},
};

} // namespace

TEST(Airtime, MatchesReferenceTable)
{
    for (const auto& row : kTable) {
        LoRaFrame f;
        f.spreading_factor = row.sf;
        f.bandwidth_hz = row.bw;
        f.payload_bytes = row.bytes;
        f.crc = true;
        EXPECT_NEAR(lora_airtime_us(f) / 1000.0, row.uplink_ms, 0.1)
            << "SF" << row.sf << " BW" << row.bw << " " << row.bytes << " B uplink";
        f.crc = false;
        EXPECT_NEAR(lora_airtime_us(f) / 1000.0, row.downlink_ms, 0.1)
            << "SF" << row.sf << " BW" << row.bw << " " << row.bytes << " B downlink";
    }
}

TEST(Airtime, Fsk50kbit)
{
    EXPECT_NEAR(fsk_airtime_us(23, 50000) / 1000.0, 5.44, 0.01);
}

TEST(Airtime, FromTxRequestAndInvalidModulation)
{
    forwarder::v1::TxRequest req;
    req.set_payload(std::string(23, 'x'));
    EXPECT_EQ(airtime_us(req), 0u);
    auto* lora = req.mutable_modulation()->mutable_lora();
    lora->set_spreading_factor(7);
    lora->set_bandwidth_hz(125000);
    lora->set_coding_rate(forwarder::v1::CR_4_5);
    EXPECT_NEAR(airtime_us(req) / 1000.0, 56.6, 0.1);
    lora->set_spreading_factor(13);
    EXPECT_EQ(airtime_us(req), 0u);
}
