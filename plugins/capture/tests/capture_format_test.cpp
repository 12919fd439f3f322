#include "capture_format.hpp"

#include <gtest/gtest.h>

using namespace forwarder::capture;

TEST(CaptureFormat, LoRaUplink)
{
    forwarder::v1::Uplink up;
    up.set_payload(std::string("\x40\x01\x02\x03", 4));
    up.set_radio(1);
    up.set_count_us(4294967295u);
    up.set_frequency_hz(868100000);
    auto* lora = up.mutable_modulation()->mutable_lora();
    lora->set_spreading_factor(7);
    lora->set_bandwidth_hz(125000);
    lora->set_coding_rate(forwarder::v1::CR_4_5);
    up.set_rssi_channel_dbm(-35);
    up.set_rssi_signal_dbm(-36);
    up.set_snr_db(5.5f);
    up.set_crc(forwarder::v1::CRC_OK);
    up.set_if_chain(2);
    up.set_rf_chain(1);
    EXPECT_EQ(format_uplink(up),
              "{\"type\":\"uplink\",\"radio\":1,\"count_us\":4294967295,\"freq\":868.100000,"
              "\"modu\":\"LORA\",\"datr\":\"SF7BW125\",\"codr\":\"4/5\",\"rssi\":-35.0,"
              "\"rssis\":-36.0,\"lsnr\":5.5,\"crc\":\"ok\",\"chan\":2,\"rfch\":1,\"size\":4,"
              "\"data\":\"QAECAw==\"}");
}

TEST(CaptureFormat, FskUplinkWithGpsTime)
{
    forwarder::v1::Uplink up;
    up.set_frequency_hz(868800000);
    up.mutable_modulation()->mutable_fsk()->set_bitrate(50000);
    up.set_crc(forwarder::v1::CRC_BAD);
    up.set_gps_time_us(1300000000000000ull);
    up.set_fine_timestamp_ns(123);
    const auto line = format_uplink(up);
    EXPECT_NE(line.find("\"modu\":\"FSK\",\"datr\":50000,"), std::string::npos) << line;
    EXPECT_NE(line.find("\"crc\":\"bad\""), std::string::npos);
    EXPECT_NE(line.find("\"ftime\":123,\"gps_time_us\":1300000000000000,"), std::string::npos);
    EXPECT_NE(line.find("\"size\":0,\"data\":\"\"}"), std::string::npos);
}

TEST(CaptureFormat, TxResultEscapesText)
{
    forwarder::v1::TxResult r;
    r.set_id(7);
    r.set_outcome(forwarder::v1::TOO_LATE);
    r.set_count_us(10);
    r.set_requester("lns");
    r.set_detail("quote \" and\nnewline");
    EXPECT_EQ(format_tx_result(r),
              "{\"type\":\"tx_result\",\"id\":7,\"outcome\":\"TOO_LATE\",\"radio\":0,"
              "\"count_us\":10,\"airtime_us\":0,\"requester\":\"lns\","
              "\"detail\":\"quote \\\" and\\nnewline\"}");
    r.set_frequency_hz(869525000);
    r.set_alternative(1);
    r.set_retries_used(2);
    r.set_detail("");
    EXPECT_EQ(format_tx_result(r),
              "{\"type\":\"tx_result\",\"id\":7,\"outcome\":\"TOO_LATE\",\"radio\":0,"
              "\"count_us\":10,\"airtime_us\":0,\"freq\":869.525000,\"alternative\":1,"
              "\"retries\":2,\"requester\":\"lns\",\"detail\":\"\"}");
    // A provisional result of a queued frame, sent at a lowered power.
    r.set_outcome(forwarder::v1::OK);
    r.set_admitted(true);
    r.set_power_limited(true);
    r.set_power_dbm(16.15f);
    r.set_alternative(0);
    r.set_retries_used(0);
    EXPECT_EQ(format_tx_result(r),
              "{\"type\":\"tx_admitted\",\"id\":7,\"outcome\":\"OK\",\"radio\":0,"
              "\"count_us\":10,\"airtime_us\":0,\"freq\":869.525000,"
              "\"power_limited_dbm\":16.1,\"requester\":\"lns\",\"detail\":\"\"}");
}
