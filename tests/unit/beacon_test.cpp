#include "beacon.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>

using namespace forwarder::core;

namespace {

std::string hex(const std::string& bytes)
{
    std::string out;
    char buf[4];
    for (unsigned char c : bytes) {
        std::snprintf(buf, sizeof buf, "%02X", c);
        if (!out.empty())
            out += ' ';
        out += buf;
    }
    return out;
}

uint16_t crc_of_hex(const std::vector<uint8_t>& bytes)
{
    return beacon_crc16(bytes.data(), bytes.size());
}

// The worked examples of timing.md §8.4 (L2 1.0.4 §13.4).
constexpr uint64_t kExampleTime = 0xCC020000; // 3 422 683 136 s
const GatewayInfo kExampleInfo{0, 0.087901, 4.927368};
const char* const kSf9Frame = "00 00 00 00 02 CC A2 7E 00 01 20 00 00 81 03 DE 55";
const char* const kSf10Frame = "00 00 00 00 00 02 CC A2 7E 00 01 20 00 00 81 03 00 50 D4";

constexpr uint64_t kSecond = 1'000'000;

} // namespace

TEST(BeaconCrc, CheckValueIsXmodem)
{
    const std::string text = "123456789";
    EXPECT_EQ(beacon_crc16(reinterpret_cast<const uint8_t*>(text.data()), text.size()), 0x31C3);
    EXPECT_EQ(beacon_crc16(nullptr, 0), 0x0000);
}

TEST(BeaconCrc, WorkedExampleCrcs)
{
    EXPECT_EQ(crc_of_hex({0x00, 0x00, 0x00, 0x00, 0x02, 0xCC}), 0x7EA2);
    EXPECT_EQ(crc_of_hex({0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xCC}), 0x7EA2); // leading zero
    EXPECT_EQ(crc_of_hex({0x00, 0x01, 0x20, 0x00, 0x00, 0x81, 0x03}), 0x55DE);
    EXPECT_EQ(crc_of_hex({0x00, 0x01, 0x20, 0x00, 0x00, 0x81, 0x03, 0x00}), 0xD450);
}

TEST(BeaconLayout, LoRaWANTable)
{
    struct Row {
        uint32_t sf;
        BeaconLayout layout;
    };
    const Row rows[] = {
        {8, {1, 7, 19}}, {9, {2, 8, 17}}, {10, {3, 9, 19}}, {11, {4, 10, 21}}, {12, {5, 11, 23}},
    };
    for (const auto& row : rows) {
        SCOPED_TRACE(row.sf);
        const auto layout = beacon_layout(row.sf);
        ASSERT_TRUE(layout);
        EXPECT_EQ(*layout, row.layout);
        EXPECT_EQ(check_layout(*layout), "");
        // Trailing RFU: 3/0/1/2/3 bytes.
        const uint32_t trailing_rfu = layout->length - 2 - (layout->infodesc_offset + 7);
        const uint32_t expected_rfu[] = {3, 0, 1, 2, 3};
        EXPECT_EQ(trailing_rfu, expected_rfu[row.sf - 8]);
        EXPECT_EQ(encode_beacon(*layout, kExampleTime, kExampleInfo).size(), layout->length);
    }
    EXPECT_FALSE(beacon_layout(7));
    EXPECT_FALSE(beacon_layout(13));
    EXPECT_FALSE(beacon_layout(0));
}

TEST(BeaconEncode, WorkedExampleSf9)
{
    const auto layout = beacon_layout(9);
    ASSERT_TRUE(layout);
    EXPECT_EQ(hex(encode_beacon(*layout, kExampleTime, kExampleInfo)), kSf9Frame);
    EXPECT_EQ(hex(encode_beacon({2, 8, 17}, kExampleTime, kExampleInfo)), kSf9Frame);
}

TEST(BeaconEncode, WorkedExampleSf10)
{
    const auto layout = beacon_layout(10);
    ASSERT_TRUE(layout);
    EXPECT_EQ(hex(encode_beacon(*layout, kExampleTime, kExampleInfo)), kSf10Frame);
    EXPECT_EQ(hex(encode_beacon({3, 9, 19}, kExampleTime, kExampleInfo)), kSf10Frame);
}

TEST(BeaconEncode, WorkedExampleDecodes)
{
    const auto frame = encode_beacon({2, 8, 17}, kExampleTime, kExampleInfo);
    const auto decoded = decode_beacon({2, 8, 17}, frame);
    ASSERT_TRUE(decoded);
    EXPECT_TRUE(decoded->common_crc_ok);
    EXPECT_TRUE(decoded->info_crc_ok);
    EXPECT_EQ(decoded->prec, 0);
    EXPECT_EQ(decoded->time, 0xCC020000u);
    EXPECT_EQ(decoded->info_desc, 0);
    EXPECT_EQ(decoded->latitude_raw, 0x002001);
    EXPECT_EQ(decoded->longitude_raw, 0x038100);
    EXPECT_NEAR(decoded->latitude, 0.087901, 1e-6);
    EXPECT_NEAR(decoded->longitude, 4.927368, 1e-6);
    EXPECT_FALSE(decode_beacon({2, 8, 17}, frame.substr(1)));
    EXPECT_FALSE(decode_beacon({2, 9, 17}, frame));
}

TEST(BeaconEncode, TimeWrapsModulo2To32)
{
    const BeaconLayout layout{2, 8, 17};
    const uint64_t wrapped = (uint64_t{3} << 32) + kExampleTime;
    EXPECT_EQ(hex(encode_beacon(layout, wrapped, kExampleInfo)), kSf9Frame);

    const auto frame = encode_beacon(layout, (uint64_t{1} << 32) + 128, std::nullopt);
    const auto decoded = decode_beacon(layout, frame);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->time, 128u);
    EXPECT_TRUE(decoded->common_crc_ok);
    EXPECT_EQ(hex(frame.substr(2, 4)), "80 00 00 00");
}

TEST(BeaconEncode, ParamCarriesPrec)
{
    const BeaconLayout layout{2, 8, 17};
    for (uint8_t prec = 0; prec <= 3; ++prec) {
        const auto frame = encode_beacon(layout, kExampleTime, kExampleInfo, prec);
        ASSERT_EQ(frame.size(), 17u);
        EXPECT_EQ(static_cast<uint8_t>(frame[0]), 0);
        EXPECT_EQ(static_cast<uint8_t>(frame[1]), prec);
        const auto decoded = decode_beacon(layout, frame);
        ASSERT_TRUE(decoded);
        EXPECT_EQ(decoded->prec, prec);
        EXPECT_TRUE(decoded->common_crc_ok);
    }
    EXPECT_EQ(encode_beacon(layout, kExampleTime, kExampleInfo, 4), "");
}

TEST(BeaconEncode, CoordinatesClampAtPoles)
{
    EXPECT_EQ(encode_coordinate(90.0, 90.0), 8388607);
    EXPECT_EQ(encode_coordinate(-90.0, 90.0), -8388608);
    EXPECT_EQ(encode_coordinate(180.0, 180.0), 8388607);
    EXPECT_EQ(encode_coordinate(-180.0, 180.0), -8388608);
    EXPECT_EQ(encode_coordinate(1000.0, 90.0), 8388607);
    EXPECT_EQ(encode_coordinate(-1e300, 180.0), -8388608);
    EXPECT_EQ(encode_coordinate(INFINITY, 180.0), 8388607);
    EXPECT_EQ(encode_coordinate(NAN, 90.0), 0);
    EXPECT_EQ(encode_coordinate(0.0, 90.0), 0);

    const BeaconLayout layout{2, 8, 17};
    auto frame = encode_beacon(layout, kExampleTime, GatewayInfo{0, 90.0, 180.0});
    EXPECT_EQ(hex(frame.substr(9, 6)), "FF FF 7F FF FF 7F");
    frame = encode_beacon(layout, kExampleTime, GatewayInfo{0, -90.0, -180.0});
    EXPECT_EQ(hex(frame.substr(9, 6)), "00 00 80 00 00 80");
    frame = encode_beacon(layout, kExampleTime, GatewayInfo{0, 95.0, -200.0});
    EXPECT_EQ(hex(frame.substr(9, 6)), "FF FF 7F 00 00 80");
    const auto decoded = decode_beacon(layout, frame);
    ASSERT_TRUE(decoded);
    EXPECT_TRUE(decoded->info_crc_ok);
    EXPECT_EQ(decoded->latitude_raw, 8388607);
    EXPECT_EQ(decoded->longitude_raw, -8388608);
    EXPECT_DOUBLE_EQ(decoded->longitude, -180.0);
}

TEST(BeaconEncode, NegativeCoordinatesAreTwosComplement)
{
    const double lat = -33.9, lng = -70.6;
    const auto lat_raw = static_cast<int32_t>(std::lround(lat * 8388608.0 / 90.0));
    const auto lng_raw = static_cast<int32_t>(std::lround(lng * 8388608.0 / 180.0));
    EXPECT_EQ(lat_raw, -3159709);
    EXPECT_EQ(lng_raw, -3290198);

    const BeaconLayout layout{5, 11, 23}; // SF12
    const auto frame = encode_beacon(layout, kExampleTime, GatewayInfo{2, lat, lng});
    ASSERT_EQ(frame.size(), 23u);
    EXPECT_EQ(static_cast<uint8_t>(frame[11]), 2); // InfoDesc
    const auto lat_bits = static_cast<uint32_t>(lat_raw) & 0xFFFFFF;
    const auto lng_bits = static_cast<uint32_t>(lng_raw) & 0xFFFFFF;
    EXPECT_EQ(lat_bits, 0xCFC963u);
    EXPECT_EQ(lng_bits, 0xCDCBAAu);
    EXPECT_EQ(hex(frame.substr(12, 6)), "63 C9 CF AA CB CD");
    EXPECT_EQ(hex(frame.substr(18, 3)), "00 00 00"); // trailing RFU

    const auto decoded = decode_beacon(layout, frame);
    ASSERT_TRUE(decoded);
    EXPECT_TRUE(decoded->common_crc_ok);
    EXPECT_TRUE(decoded->info_crc_ok);
    EXPECT_EQ(decoded->info_desc, 2);
    EXPECT_EQ(decoded->latitude_raw, lat_raw);
    EXPECT_EQ(decoded->longitude_raw, lng_raw);
    EXPECT_NEAR(decoded->latitude, lat, 90.0 / 8388608.0);
    EXPECT_NEAR(decoded->longitude, lng, 180.0 / 8388608.0);
}

TEST(BeaconEncode, WithoutPositionTheGatewayPartFailsItsCrc)
{
    const BeaconLayout layout{3, 9, 19};
    const auto frame = encode_beacon(layout, kExampleTime, std::nullopt);
    EXPECT_EQ(hex(frame), "00 00 00 00 00 02 CC A2 7E 00 00 00 00 00 00 00 00 FF FF");
    const auto decoded = decode_beacon(layout, frame);
    ASSERT_TRUE(decoded);
    EXPECT_TRUE(decoded->common_crc_ok);
    EXPECT_FALSE(decoded->info_crc_ok);

    // A non-finite coordinate is treated as no position.
    EXPECT_EQ(encode_beacon(layout, kExampleTime, GatewayInfo{0, NAN, 4.0}), frame);
    EXPECT_EQ(encode_beacon(layout, kExampleTime, GatewayInfo{0, 1.0, INFINITY}), frame);
}

TEST(BeaconEncode, RejectsBadInput)
{
    EXPECT_EQ(encode_beacon({2, 8, 16}, kExampleTime, kExampleInfo), "");
    EXPECT_EQ(encode_beacon({2, 8, 17}, kExampleTime, GatewayInfo{3, 1.0, 2.0}), "");
    EXPECT_EQ(encode_beacon({}, kExampleTime, std::nullopt), "");
}

TEST(BeaconLayout, CheckRejectsInconsistentLayouts)
{
    EXPECT_EQ(check_layout({2, 8, 17}), "");
    EXPECT_EQ(check_layout({5, 11, 32}), "");  // longest accepted
    EXPECT_EQ(check_layout({1, 7, 16}), "");   // no trailing RFU
    EXPECT_NE(check_layout({0, 6, 15}), "");   // no Param byte
    EXPECT_NE(check_layout({}), "");           // all zero
    EXPECT_NE(check_layout({2, 7, 17}), "");   // InfoDesc overlaps CRC1
    EXPECT_NE(check_layout({2, 9, 18}), "");   // gap after CRC1
    EXPECT_NE(check_layout({2, 8, 16}), "");   // CRC2 does not fit
    EXPECT_NE(check_layout({2, 8, 8}), "");    // length ends inside
    EXPECT_NE(check_layout({5, 11, 33}), "");  // too long
    EXPECT_NE(check_layout({40, 46, 55}), ""); // too long
    EXPECT_NE(check_layout({0xFFFFFFFF, 5, 14}), "");
    EXPECT_NE(check_layout({0xFFFFFFFA, 0, 9}), ""); // offsets that wrap
}

TEST(BeaconTiming, NextBeacon)
{
    constexpr uint64_t P = kBeaconPeriodUs;
    EXPECT_EQ(next_beacon_gps_us(0), 0u);
    EXPECT_EQ(next_beacon_gps_us(1), 0u);
    EXPECT_EQ(next_beacon_gps_us(1499), 0u);
    EXPECT_EQ(next_beacon_gps_us(1500), 0u); // emission exactly now
    EXPECT_EQ(next_beacon_gps_us(1501), P);

    const uint64_t b = kExampleTime * kSecond; // k = 26 739 712
    EXPECT_EQ(b % P, 0u);
    EXPECT_EQ(next_beacon_gps_us(b), b);            // exact boundary: emission still ahead
    EXPECT_EQ(next_beacon_gps_us(b + 1), b);        // 1 µs after
    EXPECT_EQ(next_beacon_gps_us(b + 1499), b);     // just before the 1.5 ms delay
    EXPECT_EQ(next_beacon_gps_us(b + 1500), b);     // at the emission
    EXPECT_EQ(next_beacon_gps_us(b + 1501), b + P); // emission passed
    EXPECT_EQ(next_beacon_gps_us(b - 1), b);
    EXPECT_EQ(next_beacon_gps_us(b - P + 1501), b);
    EXPECT_EQ(next_beacon_gps_us(b - P + 1500), b - P);
    EXPECT_EQ(beacon_emission_gps_us(b), b + 1500);
}

TEST(BeaconTiming, Us915FrequencyHopping)
{
    std::vector<uint64_t> freqs;
    for (uint64_t n = 0; n < 8; ++n)
        freqs.push_back(923'300'000 + n * 600'000);
    EXPECT_EQ(beacon_frequency(freqs, 0), 923'300'000u);
    EXPECT_EQ(beacon_frequency(freqs, 127), 923'300'000u);
    EXPECT_EQ(beacon_frequency(freqs, 128), 923'900'000u);
    EXPECT_EQ(beacon_frequency(freqs, 7 * 128), 927'500'000u);
    EXPECT_EQ(beacon_frequency(freqs, 8 * 128), 923'300'000u);
    for (uint64_t k = 0; k < 20; ++k)
        EXPECT_EQ(beacon_frequency(freqs, k * 128), 923'300'000 + (k % 8) * 600'000);
    // Example time: k = 26 739 712 ≡ 0 (mod 8); the next beacons follow.
    EXPECT_EQ(beacon_frequency(freqs, kExampleTime), 923'300'000u);
    EXPECT_EQ(beacon_frequency(freqs, kExampleTime + 3 * 128), 925'100'000u);
    // Single EU868 frequency; empty list.
    EXPECT_EQ(beacon_frequency({869'525'000}, kExampleTime + 128), 869'525'000u);
    EXPECT_EQ(beacon_frequency({}, kExampleTime), 0u);
}

TEST(BeaconConflict, ClassBRespectsGuardAndReserved)
{
    const uint64_t b = kExampleTime * kSecond;
    const uint64_t e = beacon_emission_gps_us(b);
    const uint32_t air = 152'600;                                // SF9/125 kHz beacon
    auto class_b = [&](uint64_t start, uint64_t len = 100'000) { // 100 ms
        return beacon_conflict(start, start + len, true, air);
    };
    EXPECT_EQ(class_b(e - kBeaconGuardUs), b);                // guard start
    EXPECT_EQ(class_b(e - 1 * kSecond), b);                   // inside the guard
    EXPECT_EQ(class_b(e + 1 * kSecond), b);                   // in reserved
    EXPECT_EQ(class_b(e + kBeaconReservedUs - 1), b);         // last reserved µs
    EXPECT_EQ(class_b(e - kBeaconGuardUs - 1), std::nullopt); // just before the guard
    EXPECT_EQ(class_b(e + kBeaconReservedUs), std::nullopt);  // first ping slot
    EXPECT_EQ(class_b(e + 60 * kSecond), std::nullopt);       // mid period
    EXPECT_EQ(class_b(e + kBeaconPeriodUs - kBeaconGuardUs), b + kBeaconPeriodUs); // next one
    // Starting before the guard but running into the beacon air.
    EXPECT_EQ(class_b(e - kBeaconGuardUs - 1, kBeaconGuardUs), b);
    // Around the GPS epoch.
    EXPECT_EQ(beacon_conflict(0, 100, true, air), 0u);
    EXPECT_EQ(beacon_conflict(kBeaconReservedUs + 1500, kBeaconReservedUs + 1600, true, air),
              std::nullopt);
}

TEST(BeaconConflict, ClassAMayUseTheGuardButNotTheBeaconAir)
{
    const uint64_t b = kExampleTime * kSecond;
    const uint64_t e = beacon_emission_gps_us(b);
    const uint32_t air = 152'600;
    const uint64_t ms = 1000;
    auto class_a = [&](uint64_t start, uint64_t end) {
        return beacon_conflict(start, end, false, air);
    };
    // In the guard and in the reserved time: allowed.
    EXPECT_EQ(class_a(e - 2 * kSecond, e - 2 * kSecond + 100 * ms), std::nullopt);
    EXPECT_EQ(class_a(e - kBeaconGuardUs, e - 1500), std::nullopt); // ends as the beacon starts
    EXPECT_EQ(class_a(e + air, e + air + 100 * ms), std::nullopt);  // starts as the beacon ends
    EXPECT_EQ(class_a(e + 1 * kSecond, e + 1 * kSecond + 100 * ms), std::nullopt);
    // Overlapping the beacon air (including its start-up): refused.
    EXPECT_EQ(class_a(e - 100 * ms, e - 1499), b);
    EXPECT_EQ(class_a(e - 100 * ms, e + 10 * ms), b);
    EXPECT_EQ(class_a(e + 100 * ms, e + 200 * ms), b);
    EXPECT_EQ(class_a(e + air - 1, e + air + 100 * ms), b);
    EXPECT_EQ(class_a(e - 1 * kSecond, e + 1 * kSecond), b); // covers it
    // A long frame reaching the next beacon.
    EXPECT_EQ(class_a(e + 10 * kSecond, e + kBeaconPeriodUs), b + kBeaconPeriodUs);
    // A larger start delay widens the beacon's protected air.
    EXPECT_EQ(beacon_conflict(e - 5 * ms, e - 4 * ms, false, air, 1500), std::nullopt);
    EXPECT_EQ(beacon_conflict(e - 5 * ms, e - 4 * ms, false, air, 5000), b);
    // end < start is an empty interval at start.
    EXPECT_EQ(class_a(e + 100 * ms, e), b);
    EXPECT_EQ(class_a(e + 500 * ms, e), std::nullopt);
}
