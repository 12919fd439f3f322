// Unit tests of the virtual radio's wire formats (rxpk datagrams in, tx_log lines out).
#include "base64.hpp"
#include "rxpk_codec.hpp"

#include <forwarder/plugin.hpp>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <gtest/gtest.h>

#include <string>

namespace fv = forwarder::virtual_radio;
namespace v1 = forwarder::v1;

namespace {

fv::RxContext context()
{
    fv::RxContext ctx;
    ctx.radio = 2;
    ctx.counter_now = 123456;
    ctx.received_mono_us = 987654321;
    return ctx;
}

fv::DecodeResult decode(const std::string& text)
{
    return fv::decode_rxpk(text, context());
}

// Decodes a datagram expected to be rejected and returns the error.
std::string error_of(const std::string& text)
{
    const fv::DecodeResult result = decode(text);
    EXPECT_FALSE(result.ok()) << text;
    EXPECT_TRUE(result.uplinks.empty()) << text;
    EXPECT_EQ(result.error.find('\n'), std::string::npos) << result.error;
    return result.error;
}

// One LoRa item with `extra` JSON members appended.
std::string lora_item(const std::string& extra = "")
{
    return R"({"freq":868.1,"modu":"LORA","datr":"SF7BW125","codr":"4/5","rssi":-42,"lsnr":9.5,)"
           R"("size":3,"data":"AQID")" +
           extra + "}";
}

std::string datagram(const std::string& items)
{
    return R"({"rxpk":[)" + items + "]}";
}

} // namespace

// --- Good datagrams -----------------------------------------------------------------

TEST(RxpkDecode, LoRaItemWithAllFields)
{
    const auto result = decode(
        R"({"rxpk":[{"time":"2013-03-31T16:21:17.528002Z","tmst":3512348611,"chan":2,"rfch":1,)"
        R"("freq":866.349812,"stat":1,"modu":"LORA","datr":"SF12BW500","codr":"4/6","rssi":-35,)"
        R"("rssis":-37,"lsnr":5.1,"foff":-125,"size":4,"data":"3q2+7w=="}]})");
    ASSERT_TRUE(result.ok()) << result.error;
    ASSERT_EQ(result.uplinks.size(), 1u);
    const v1::Uplink& up = result.uplinks[0];
    EXPECT_EQ(up.payload(), std::string("\xde\xad\xbe\xef"));
    EXPECT_EQ(up.radio(), 2u);
    EXPECT_EQ(up.count_us(), 3512348611u);
    EXPECT_EQ(up.frequency_hz(), 866349812u);
    ASSERT_TRUE(up.modulation().has_lora());
    EXPECT_EQ(up.modulation().lora().spreading_factor(), 12u);
    EXPECT_EQ(up.modulation().lora().bandwidth_hz(), 500000u);
    EXPECT_EQ(up.modulation().lora().coding_rate(), v1::CR_4_6);
    EXPECT_FLOAT_EQ(up.rssi_channel_dbm(), -35.0f);
    EXPECT_FLOAT_EQ(up.rssi_signal_dbm(), -37.0f);
    EXPECT_FLOAT_EQ(up.snr_db(), 5.1f);
    EXPECT_EQ(up.crc(), v1::CRC_OK);
    EXPECT_EQ(up.if_chain(), 2u);
    EXPECT_EQ(up.rf_chain(), 1u);
    EXPECT_EQ(up.frequency_offset_hz(), -125);
    EXPECT_EQ(up.received_mono_us(), 987654321u);
    EXPECT_FALSE(up.has_fine_timestamp_ns());
    EXPECT_FALSE(up.has_gps_time_us());
}

TEST(RxpkDecode, MinimalLoRaItemUsesDefaults)
{
    const auto result =
        decode(R"({"rxpk":[{"freq":868.1,"datr":"SF7BW125","codr":"4/5","data":"AQID"}]})");
    ASSERT_TRUE(result.ok()) << result.error;
    ASSERT_EQ(result.uplinks.size(), 1u);
    const v1::Uplink& up = result.uplinks[0];
    EXPECT_EQ(up.frequency_hz(), 868100000u);
    EXPECT_EQ(up.count_us(), 123456u); // no tmst: the counter now
    EXPECT_EQ(up.crc(), v1::CRC_OK);   // no stat: CRC OK
    EXPECT_EQ(up.modulation().lora().spreading_factor(), 7u);
    EXPECT_EQ(up.modulation().lora().bandwidth_hz(), 125000u);
    EXPECT_EQ(up.modulation().lora().coding_rate(), v1::CR_4_5);
    EXPECT_EQ(up.rssi_channel_dbm(), 0.0f);
    EXPECT_EQ(up.if_chain(), 0u);
}

TEST(RxpkDecode, FrequencyIsRoundedToHz)
{
    for (const auto& [freq, hz] :
         std::initializer_list<std::pair<const char*, uint64_t>>{{"868.1", 868100000},
                                                                 {"868.3", 868300000},
                                                                 {"869.525", 869525000},
                                                                 {"923.3", 923300000},
                                                                 {"902.3", 902300000},
                                                                 {"868", 868000000},
                                                                 {"433.175", 433175000}}) {
        const auto result = decode(datagram(R"({"freq":)" + std::string(freq) +
                                            R"(,"datr":"SF9BW125","codr":"4/5","data":""})"));
        ASSERT_TRUE(result.ok()) << result.error;
        EXPECT_EQ(result.uplinks[0].frequency_hz(), hz) << freq;
    }
}

TEST(RxpkDecode, FskItem)
{
    const auto result = decode(
        R"({"rxpk":[{"freq":868.8,"modu":"FSK","datr":50000,"rssi":-75,"size":3,"data":"AQID"}]})");
    ASSERT_TRUE(result.ok()) << result.error;
    ASSERT_EQ(result.uplinks.size(), 1u);
    const v1::Uplink& up = result.uplinks[0];
    ASSERT_TRUE(up.modulation().has_fsk());
    EXPECT_EQ(up.modulation().fsk().bitrate(), 50000u);
    EXPECT_EQ(up.frequency_hz(), 868800000u);
    EXPECT_FLOAT_EQ(up.rssi_channel_dbm(), -75.0f);
    EXPECT_EQ(up.payload(), "\x01\x02\x03");
}

TEST(RxpkDecode, NumericDatrWithoutModuIsFsk)
{
    const auto result = decode(datagram(R"({"freq":868.8,"datr":50000,"data":"AQID"})"));
    ASSERT_TRUE(result.ok()) << result.error;
    EXPECT_TRUE(result.uplinks[0].modulation().has_fsk());
}

TEST(RxpkDecode, SeveralItemsKeepTheirOrder)
{
    const auto result = decode(datagram(
        lora_item(R"(,"tmst":1)") + "," +
        R"({"freq":868.3,"datr":"SF8BW250","codr":"4/8","data":"BAUG","tmst":2,"stat":-1},)" +
        R"({"freq":868.5,"datr":"SF5BW125","codr":"OFF","data":"","stat":0})"));
    ASSERT_TRUE(result.ok()) << result.error;
    ASSERT_EQ(result.uplinks.size(), 3u);
    EXPECT_EQ(result.uplinks[0].count_us(), 1u);
    EXPECT_EQ(result.uplinks[0].frequency_hz(), 868100000u);
    EXPECT_EQ(result.uplinks[1].count_us(), 2u);
    EXPECT_EQ(result.uplinks[1].frequency_hz(), 868300000u);
    EXPECT_EQ(result.uplinks[1].modulation().lora().spreading_factor(), 8u);
    EXPECT_EQ(result.uplinks[1].modulation().lora().bandwidth_hz(), 250000u);
    EXPECT_EQ(result.uplinks[1].modulation().lora().coding_rate(), v1::CR_4_8);
    EXPECT_EQ(result.uplinks[1].payload(), "\x04\x05\x06");
    EXPECT_EQ(result.uplinks[1].crc(), v1::CRC_BAD);
    EXPECT_EQ(result.uplinks[2].count_us(), 123456u);
    EXPECT_EQ(result.uplinks[2].modulation().lora().spreading_factor(), 5u);
    EXPECT_EQ(result.uplinks[2].modulation().lora().coding_rate(), v1::CR_OFF);
    EXPECT_EQ(result.uplinks[2].crc(), v1::CRC_NONE);
    EXPECT_TRUE(result.uplinks[2].payload().empty());
    for (const auto& up : result.uplinks) {
        EXPECT_EQ(up.radio(), 2u);
        EXPECT_EQ(up.received_mono_us(), 987654321u);
    }
}

TEST(RxpkDecode, StatValues)
{
    const std::pair<const char*, v1::CrcStatus> cases[] = {
        {"1", v1::CRC_OK}, {"-1", v1::CRC_BAD}, {"0", v1::CRC_NONE}, {"null", v1::CRC_OK}};
    for (const auto& [stat, crc] : cases) {
        const auto result = decode(datagram(lora_item(R"(,"stat":)" + std::string(stat))));
        ASSERT_TRUE(result.ok()) << result.error;
        EXPECT_EQ(result.uplinks[0].crc(), crc) << stat;
    }
}

TEST(RxpkDecode, TmstRange)
{
    auto result = decode(datagram(lora_item(R"(,"tmst":0)")));
    ASSERT_TRUE(result.ok()) << result.error;
    EXPECT_EQ(result.uplinks[0].count_us(), 0u);
    result = decode(datagram(lora_item(R"(,"tmst":4294967295)")));
    ASSERT_TRUE(result.ok()) << result.error;
    EXPECT_EQ(result.uplinks[0].count_us(), 4294967295u);
}

TEST(RxpkDecode, EmptyRxpkArrayIsNoFrames)
{
    const auto result = decode(R"({"rxpk":[]})");
    ASSERT_TRUE(result.ok()) << result.error;
    EXPECT_TRUE(result.uplinks.empty());
}

TEST(RxpkDecode, UnknownFieldsAndWhitespaceAreIgnored)
{
    const auto result =
        decode("  \n{\"rxpk\":[" + lora_item(R"(,"brd":0,"aesk":0,"tmms":1234,"rsig":[])") +
               "],\"stat\":{}}\r\n");
    ASSERT_TRUE(result.ok()) << result.error;
    EXPECT_EQ(result.uplinks.size(), 1u);
}

TEST(RxpkDecode, UnpaddedBase64IsAccepted)
{
    const auto result =
        decode(datagram(R"({"freq":868.1,"datr":"SF7BW125","codr":"4/5","size":2,"data":"AQI"})"));
    ASSERT_TRUE(result.ok()) << result.error;
    EXPECT_EQ(result.uplinks[0].payload(), "\x01\x02");
}

TEST(RxpkDecode, DecoderIsReusable)
{
    fv::RxpkDecoder decoder;
    std::vector<v1::Uplink> out;
    std::string error;
    ASSERT_TRUE(decoder.decode(datagram(lora_item() + "," + lora_item()), context(), out, error));
    EXPECT_EQ(out.size(), 2u);
    EXPECT_FALSE(decoder.decode("{", context(), out, error));
    EXPECT_TRUE(out.empty());
    EXPECT_FALSE(error.empty());
    ASSERT_TRUE(decoder.decode(datagram(lora_item(R"(,"tmst":7)")), context(), out, error))
        << error;
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].count_us(), 7u);
    EXPECT_TRUE(error.empty());
}

// --- Malformed datagrams ------------------------------------------------------------

TEST(RxpkMalformed, NotJson)
{
    EXPECT_EQ(error_of("hello"), R"(expected a JSON object {"rxpk":[...]}, got "hello")");
    EXPECT_EQ(error_of(R"({"rxpk":[)").rfind("not JSON: ", 0), 0u);
    EXPECT_EQ(error_of(R"({"rxpk":[]} trailing)").rfind("not JSON: ", 0), 0u);
    EXPECT_EQ(error_of(R"({rxpk:[]})").rfind("not JSON: ", 0), 0u);
    EXPECT_EQ(error_of(std::string("\x02\x12\x34\x00", 4)),
              R"(expected a JSON object {"rxpk":[...]}, got "\x02\x124\x00")");
}

TEST(RxpkMalformed, Empty)
{
    EXPECT_EQ(error_of(""), R"(empty datagram, expected a JSON object {"rxpk":[...]})");
    EXPECT_EQ(error_of(" \n"), R"(empty datagram, expected a JSON object {"rxpk":[...]})");
}

TEST(RxpkMalformed, NotAnObject)
{
    EXPECT_EQ(error_of("[1,2]"), R"(expected a JSON object {"rxpk":[...]}, got an array)");
    EXPECT_EQ(error_of("42"), R"(expected a JSON object {"rxpk":[...]}, got "42")");
    EXPECT_EQ(error_of(R"("rxpk")"), R"(expected a JSON object {"rxpk":[...]}, got "\"rxpk\"")");
}

TEST(RxpkMalformed, NoRxpk)
{
    EXPECT_EQ(error_of(R"({"stat":{"time":"2014-01-12 08:59:28 GMT"}})"),
              R"(rxpk: missing, expected a JSON object {"rxpk":[...]})");
    EXPECT_EQ(error_of("{}"), R"(rxpk: missing, expected a JSON object {"rxpk":[...]})");
    EXPECT_EQ(error_of(R"({"rxpk":null})"),
              R"(rxpk: missing, expected a JSON object {"rxpk":[...]})");
}

TEST(RxpkMalformed, RxpkNotAnArray)
{
    EXPECT_EQ(error_of(R"({"rxpk":{}})"), "rxpk: expected an array of frames, got an object");
    EXPECT_EQ(error_of(R"({"rxpk":"x"})"), R"(rxpk: expected an array of frames, got "x")");
    EXPECT_EQ(error_of(R"({"rxpk":[1]})"), "rxpk[0]: expected an object, got 1");
    EXPECT_EQ(error_of(R"({"rxpk":[[]]})"), "rxpk[0]: expected an object, got an array");
}

TEST(RxpkMalformed, BadDatr)
{
    const std::string expected = R"(rxpk[0].datr: expected "SF<5..12>BW<125|250|500>", got )";
    for (const char* datr : {"SF13BW125", "SF4BW125", "SF7BW126", "SF7", "sf7bw125", "SF07BW125",
                             "SF7BW125 ", "SFBW125", "SF7BW", "FSK"}) {
        const std::string item =
            R"({"freq":868.1,"datr":")" + std::string(datr) + R"(","codr":"4/5","data":"AQID"})";
        EXPECT_EQ(error_of(datagram(item)), expected + "\"" + datr + "\"");
    }
    EXPECT_EQ(error_of(datagram(R"({"freq":868.1,"modu":"LORA","datr":7,"codr":"4/5","data":""})")),
              expected + "7");
    EXPECT_EQ(error_of(datagram(R"({"freq":868.1,"codr":"4/5","data":""})")),
              R"(rxpk[0].datr: missing, expected "SF<5..12>BW<125|250|500>")");
}

TEST(RxpkMalformed, BadFskDatr)
{
    const std::string expected =
        "rxpk[0].datr: expected an FSK bitrate in bit/s (an integer 1..1000000), got ";
    EXPECT_EQ(error_of(datagram(R"({"freq":868.8,"modu":"FSK","datr":"50000","data":""})")),
              expected + "\"50000\"");
    EXPECT_EQ(error_of(datagram(R"({"freq":868.8,"modu":"FSK","datr":0,"data":""})")),
              expected + "0");
    EXPECT_EQ(error_of(datagram(R"({"freq":868.8,"modu":"FSK","datr":500.5,"data":""})")),
              expected + "500.5");
    EXPECT_EQ(error_of(datagram(R"({"freq":868.8,"modu":"FSK","data":""})")),
              "rxpk[0].datr: missing, expected the FSK bitrate in bit/s");
}

TEST(RxpkMalformed, BadModu)
{
    EXPECT_EQ(error_of(datagram(lora_item(R"(,"modu":"GFSK")"))),
              R"(rxpk[0].modu: expected "LORA" or "FSK", got "GFSK")");
}

TEST(RxpkMalformed, BadCodr)
{
    const std::string expected =
        R"(rxpk[0].codr: expected "4/5", "4/6", "4/7", "4/8" or "OFF", got )";
    EXPECT_EQ(error_of(datagram(R"({"freq":868.1,"datr":"SF7BW125","codr":"4/9","data":""})")),
              expected + "\"4/9\"");
    EXPECT_EQ(error_of(datagram(R"({"freq":868.1,"datr":"SF7BW125","codr":5,"data":""})")),
              expected + "5");
    EXPECT_EQ(error_of(datagram(R"({"freq":868.1,"datr":"SF7BW125","data":""})")),
              R"(rxpk[0].codr: missing, expected "4/5", "4/6", "4/7", "4/8" or "OFF")");
}

TEST(RxpkMalformed, BadBase64)
{
    for (const char* data :
         {"@@@@", "AQID!", "Q", "QUI=QUI=", "Q===", "QUI==", "AQ ID", "AQ\\nID", "-_8="}) {
        const std::string error =
            error_of(datagram(R"({"freq":868.1,"datr":"SF7BW125","codr":"4/5","data":")" +
                              std::string(data) + "\"}"));
        EXPECT_EQ(error.rfind("rxpk[0].data: not valid base64: ", 0), 0u) << data << ": " << error;
    }
    EXPECT_EQ(error_of(datagram(R"({"freq":868.1,"datr":"SF7BW125","codr":"4/5","data":123})")),
              "rxpk[0].data: expected a base64 string, got 123");
    EXPECT_EQ(error_of(datagram(R"({"freq":868.1,"datr":"SF7BW125","codr":"4/5"})")),
              "rxpk[0].data: missing, expected the payload in base64");
}

TEST(RxpkMalformed, SizeMismatch)
{
    EXPECT_EQ(error_of(datagram(
                  R"({"freq":868.1,"datr":"SF7BW125","codr":"4/5","size":5,"data":"AQID"})")),
              "rxpk[0].size: 5 does not match the 3 bytes of data");
    EXPECT_EQ(error_of(datagram(
                  R"({"freq":868.1,"datr":"SF7BW125","codr":"4/5","size":-1,"data":"AQID"})")),
              "rxpk[0].size: expected the payload length in bytes, got -1");
}

TEST(RxpkMalformed, BadFreq)
{
    EXPECT_EQ(error_of(datagram(R"({"datr":"SF7BW125","codr":"4/5","data":"AQID"})")),
              "rxpk[0].freq: missing, expected the frequency in MHz (e.g. 868.1)");
    const std::string expected =
        "rxpk[0].freq: expected a frequency in MHz (a number > 0 and <= 10000), got ";
    EXPECT_EQ(error_of(datagram(R"({"freq":"868.1","datr":"SF7BW125","codr":"4/5","data":""})")),
              expected + "\"868.1\"");
    EXPECT_EQ(error_of(datagram(R"({"freq":-868.1,"datr":"SF7BW125","codr":"4/5","data":""})")),
              expected + "-868.1");
    EXPECT_EQ(error_of(datagram(R"({"freq":0,"datr":"SF7BW125","codr":"4/5","data":""})")),
              expected + "0");
    EXPECT_EQ(error_of(datagram(R"({"freq":true,"datr":"SF7BW125","codr":"4/5","data":""})")),
              expected + "true");
}

TEST(RxpkMalformed, BadStat)
{
    const std::string expected =
        "rxpk[0].stat: expected 1 (CRC OK), -1 (CRC bad) or 0 (no CRC), got ";
    EXPECT_EQ(error_of(datagram(lora_item(R"(,"stat":2)"))), expected + "2");
    EXPECT_EQ(error_of(datagram(lora_item(R"(,"stat":"1")"))), expected + "\"1\"");
    EXPECT_EQ(error_of(datagram(lora_item(R"(,"stat":true)"))), expected + "true");
}

TEST(RxpkMalformed, BadTmst)
{
    const std::string expected =
        "rxpk[0].tmst: expected a counter value (an integer 0..4294967295), got ";
    EXPECT_EQ(error_of(datagram(lora_item(R"(,"tmst":-1)"))), expected + "-1");
    EXPECT_EQ(error_of(datagram(lora_item(R"(,"tmst":4294967296)"))), expected + "4294967296");
    EXPECT_EQ(error_of(datagram(lora_item(R"(,"tmst":1.5)"))), expected + "1.5");
    EXPECT_EQ(error_of(datagram(lora_item(R"(,"tmst":18446744073709551615)"))),
              expected + "18446744073709551615");
}

TEST(RxpkMalformed, BadSignalAndChainFields)
{
    EXPECT_EQ(error_of(datagram(lora_item(R"(,"rssi":"-40")"))),
              R"(rxpk[0].rssi: expected a number of dBm, got "-40")");
    EXPECT_EQ(error_of(datagram(lora_item(R"(,"rssis":[])"))),
              "rxpk[0].rssis: expected a number of dBm, got an array");
    EXPECT_EQ(error_of(datagram(lora_item(R"(,"lsnr":{})"))),
              "rxpk[0].lsnr: expected a number of dB, got an object");
    EXPECT_EQ(error_of(datagram(lora_item(R"(,"chan":-1)"))),
              "rxpk[0].chan: expected an IF chain number >= 0, got -1");
    EXPECT_EQ(error_of(datagram(lora_item(R"(,"rfch":0.5)"))),
              "rxpk[0].rfch: expected an RF chain number >= 0, got 0.5");
    EXPECT_EQ(error_of(datagram(lora_item(R"(,"foff":3000000000)"))),
              "rxpk[0].foff: expected a frequency offset in Hz (an integer), got 3000000000");
}

TEST(RxpkMalformed, OneBadItemRejectsTheWholeDatagram)
{
    EXPECT_EQ(error_of(datagram(lora_item() + "," + lora_item() + "," + lora_item(R"(,"stat":5)"))),
              "rxpk[2].stat: expected 1 (CRC OK), -1 (CRC bad) or 0 (no CRC), got 5");
}

TEST(RxpkMalformed, LongValuesAreShortenedInErrors)
{
    const std::string error = error_of(datagram(
        R"({"freq":868.1,"datr":")" + std::string(500, 'X') + R"(","codr":"4/5","data":""})"));
    EXPECT_LT(error.size(), 150u);
    EXPECT_NE(error.find("...\""), std::string::npos);
}

// --- tx_log lines -------------------------------------------------------------------

namespace {

v1::TxRequest lora_request()
{
    v1::TxRequest request;
    request.set_id(42);
    request.set_payload(std::string("\x01\x02\x03", 3));
    request.set_frequency_hz(868100000);
    auto* lora = request.mutable_modulation()->mutable_lora();
    lora->set_spreading_factor(7);
    lora->set_bandwidth_hz(125000);
    lora->set_coding_rate(v1::CR_4_5);
    request.set_power_dbm(14);
    request.set_invert_iq(true);
    request.mutable_timing()->set_count_us(1000000);
    return request;
}

} // namespace

TEST(TxLogLine, LoRa)
{
    EXPECT_EQ(fv::format_tx_log_line(lora_request(), 1000000, 995000),
              R"({"count_us":1000000,"handed_at_us":995000,"freq":868.100000,"datr":"SF7BW125",)"
              R"("codr":"4/5","powe":14,"ipol":true,"size":3,"data":"AQID","imme":false})");
}

TEST(TxLogLine, LoRaVariants)
{
    v1::TxRequest request = lora_request();
    request.set_frequency_hz(869525000);
    request.mutable_modulation()->mutable_lora()->set_spreading_factor(12);
    request.mutable_modulation()->mutable_lora()->set_bandwidth_hz(500000);
    request.mutable_modulation()->mutable_lora()->set_coding_rate(v1::CR_4_8);
    request.set_power_dbm(27);
    request.set_invert_iq(false);
    request.clear_payload();
    request.mutable_timing()->set_immediate(true);
    EXPECT_EQ(fv::format_tx_log_line(request, 4294967295u, 0),
              R"({"count_us":4294967295,"handed_at_us":0,"freq":869.525000,"datr":"SF12BW500",)"
              R"("codr":"4/8","powe":27,"ipol":false,"size":0,"data":"","imme":true})");
}

TEST(TxLogLine, FractionalAndNegativePower)
{
    v1::TxRequest request = lora_request();
    request.set_power_dbm(14.5f);
    EXPECT_NE(fv::format_tx_log_line(request, 1, 0).find(R"("powe":14.5,)"), std::string::npos);
    request.set_power_dbm(-3);
    EXPECT_NE(fv::format_tx_log_line(request, 1, 0).find(R"("powe":-3,)"), std::string::npos);
    request.set_power_dbm(12.3f);
    EXPECT_NE(fv::format_tx_log_line(request, 1, 0).find(R"("powe":12.3,)"), std::string::npos);
}

TEST(TxLogLine, Fsk)
{
    v1::TxRequest request = lora_request();
    request.mutable_modulation()->mutable_fsk()->set_bitrate(50000);
    request.set_frequency_hz(868800000);
    request.set_invert_iq(false);
    EXPECT_EQ(fv::format_tx_log_line(request, 10, 5),
              R"({"count_us":10,"handed_at_us":5,"freq":868.800000,"datr":50000,"codr":null,)"
              R"("powe":14,"ipol":false,"size":3,"data":"AQID","imme":false})");
}

TEST(TxLogLine, UnspecifiedCodingRateIsNull)
{
    v1::TxRequest request = lora_request();
    request.mutable_modulation()->mutable_lora()->set_coding_rate(v1::CODING_RATE_UNSPECIFIED);
    EXPECT_NE(fv::format_tx_log_line(request, 1, 0).find(R"("codr":null,)"), std::string::npos);
}

TEST(TxLogLine, LongPayloadStaysOnOneLineAndParses)
{
    v1::TxRequest request = lora_request();
    std::string payload;
    for (int i = 0; i < 250; ++i) {
        payload.push_back(static_cast<char>(i * 7));
    }
    request.set_payload(payload);
    const std::string line = fv::format_tx_log_line(request, 1, 0);
    EXPECT_EQ(line.find_first_of("\r\n"), std::string::npos);

    Poco::JSON::Parser parser;
    const auto object = parser.parse(line).extract<Poco::JSON::Object::Ptr>();
    EXPECT_EQ(object->getValue<int>("size"), 250);
    std::string decoded;
    ASSERT_TRUE(forwarder::support::base64_decode(object->getValue<std::string>("data"), decoded));
    EXPECT_EQ(decoded, payload);
    EXPECT_DOUBLE_EQ(object->getValue<double>("freq"), 868.1);
}

TEST(TxLogLine, RequestWithoutModulationIsAnError)
{
    v1::TxRequest request = lora_request();
    request.clear_modulation();
    EXPECT_THROW(fv::format_tx_log_line(request, 1, 0), forwarder::sdk::Error);
}

// --- Busy datagrams (listen before talk) ------------------------------------------------

namespace {

fv::DecodeResult decode_any(const std::string& text)
{
    return fv::decode_datagram(text, context());
}

std::string busy_error_of(const std::string& text)
{
    const fv::DecodeResult result = decode_any(text);
    EXPECT_FALSE(result.ok()) << text;
    EXPECT_TRUE(result.uplinks.empty()) << text;
    EXPECT_FALSE(result.busy.present) << text;
    EXPECT_TRUE(result.busy.windows.empty()) << text;
    EXPECT_EQ(result.error.find('\n'), std::string::npos) << result.error;
    return result.error;
}

} // namespace

TEST(BusyDecode, Windows)
{
    const auto result =
        decode_any(R"( {"busy":[{"freq":868.1,"from_us":1000,"to_us":6000},)"
                   R"({"freq":869.525,"from_us":4294967000,"to_us":500,"note":"wraps"}]} )");
    ASSERT_TRUE(result.ok()) << result.error;
    EXPECT_TRUE(result.uplinks.empty());
    ASSERT_TRUE(result.busy.present);
    ASSERT_EQ(result.busy.windows.size(), 2u);
    EXPECT_EQ(result.busy.windows[0].frequency_hz, 868100000u);
    EXPECT_EQ(result.busy.windows[0].from_us, 1000u);
    EXPECT_EQ(result.busy.windows[0].to_us, 6000u);
    EXPECT_EQ(result.busy.windows[1].frequency_hz, 869525000u);
    EXPECT_EQ(result.busy.windows[1].from_us, 4294967000u);
    EXPECT_EQ(result.busy.windows[1].to_us, 500u);
}

TEST(BusyDecode, EmptyListClears)
{
    const auto result = decode_any(R"({"busy":[]})");
    ASSERT_TRUE(result.ok()) << result.error;
    EXPECT_TRUE(result.busy.present);
    EXPECT_TRUE(result.busy.windows.empty());
}

TEST(BusyDecode, RxpkAndBusyTogether)
{
    const auto result = decode_any(R"({"rxpk":[)" + lora_item() +
                                   R"(],"busy":[{"freq":868.3,"from_us":1,"to_us":2}]})");
    ASSERT_TRUE(result.ok()) << result.error;
    EXPECT_EQ(result.uplinks.size(), 1u);
    ASSERT_TRUE(result.busy.present);
    EXPECT_EQ(result.busy.windows.size(), 1u);

    // A plain rxpk datagram has no busy list.
    const auto plain = decode_any(datagram(lora_item()));
    ASSERT_TRUE(plain.ok()) << plain.error;
    EXPECT_FALSE(plain.busy.present);

    // A bad rxpk item drops the busy list too, and the other way round.
    EXPECT_EQ(busy_error_of(R"({"rxpk":[{"freq":868.1}],"busy":[]})").rfind("rxpk[0].", 0), 0u);
    EXPECT_EQ(busy_error_of(R"({"rxpk":[)" + lora_item() + R"(],"busy":[{"freq":868.3}]})"),
              "busy[0].from_us: missing, expected a counter value (an integer 0..4294967295)");
}

TEST(BusyDecode, RxpkOnlyDecoderIgnoresBusy)
{
    // The rxpk-only form keeps its messages and ignores a busy member.
    EXPECT_EQ(decode(R"({"busy":[]})").error,
              R"(rxpk: missing, expected a JSON object {"rxpk":[...]})");
    EXPECT_TRUE(decode(R"({"rxpk":[],"busy":7})").ok());
}

TEST(BusyMalformed, Shapes)
{
    EXPECT_EQ(busy_error_of("{}"),
              R"(rxpk: missing, expected a JSON object {"rxpk":[...]} or {"busy":[...]})");
    EXPECT_EQ(busy_error_of(R"({"busy":null})"),
              R"(rxpk: missing, expected a JSON object {"rxpk":[...]} or {"busy":[...]})");
    EXPECT_EQ(busy_error_of("[]"),
              R"(expected a JSON object {"rxpk":[...]} or {"busy":[...]}, got an array)");
    EXPECT_EQ(busy_error_of(R"({"busy":{}})"),
              "busy: expected an array of busy windows, got an object");
    EXPECT_EQ(busy_error_of(R"({"busy":"868.1"})"),
              R"(busy: expected an array of busy windows, got "868.1")");
    EXPECT_EQ(busy_error_of(R"({"busy":[{"freq":868.1,"from_us":1,"to_us":2},3]})"),
              R"(busy[1]: expected an object {"freq":MHz,"from_us":N,"to_us":M}, got 3)");
    EXPECT_EQ(busy_error_of(R"({"busy":[)").rfind("not JSON: ", 0), 0u);
}

TEST(BusyMalformed, MissingFields)
{
    EXPECT_EQ(busy_error_of(R"({"busy":[{"from_us":1,"to_us":2}]})"),
              "busy[0].freq: missing, expected the frequency in MHz (e.g. 868.1)");
    EXPECT_EQ(busy_error_of(R"({"busy":[{"freq":null,"from_us":1,"to_us":2}]})"),
              "busy[0].freq: missing, expected the frequency in MHz (e.g. 868.1)");
    EXPECT_EQ(busy_error_of(R"({"busy":[{"freq":868.1,"to_us":2}]})"),
              "busy[0].from_us: missing, expected a counter value (an integer 0..4294967295)");
    EXPECT_EQ(busy_error_of(R"({"busy":[{"freq":868.1,"from_us":1,"to_us":2},)"
                            R"({"freq":868.1,"from_us":1}]})"),
              "busy[1].to_us: missing, expected a counter value (an integer 0..4294967295)");
}

TEST(BusyMalformed, NotNumbers)
{
    const std::string freq = "busy[0].freq: expected a frequency in MHz (a number > 0 and <= "
                             "10000), got ";
    EXPECT_EQ(busy_error_of(R"({"busy":[{"freq":"868.1","from_us":1,"to_us":2}]})"),
              freq + "\"868.1\"");
    EXPECT_EQ(busy_error_of(R"({"busy":[{"freq":0,"from_us":1,"to_us":2}]})"), freq + "0");
    EXPECT_EQ(busy_error_of(R"({"busy":[{"freq":-868.1,"from_us":1,"to_us":2}]})"),
              freq + "-868.1");
    EXPECT_EQ(busy_error_of(R"({"busy":[{"freq":true,"from_us":1,"to_us":2}]})"), freq + "true");

    const std::string counter = "expected a counter value (an integer 0..4294967295), got ";
    EXPECT_EQ(busy_error_of(R"({"busy":[{"freq":868.1,"from_us":"1","to_us":2}]})"),
              "busy[0].from_us: " + counter + "\"1\"");
    EXPECT_EQ(busy_error_of(R"({"busy":[{"freq":868.1,"from_us":1.5,"to_us":2}]})"),
              "busy[0].from_us: " + counter + "1.5");
    EXPECT_EQ(busy_error_of(R"({"busy":[{"freq":868.1,"from_us":-1,"to_us":2}]})"),
              "busy[0].from_us: " + counter + "-1");
    EXPECT_EQ(busy_error_of(R"({"busy":[{"freq":868.1,"from_us":1,"to_us":4294967296}]})"),
              "busy[0].to_us: " + counter + "4294967296");
    EXPECT_EQ(busy_error_of(R"({"busy":[{"freq":868.1,"from_us":1,"to_us":[2]}]})"),
              "busy[0].to_us: " + counter + "an array");
}

TEST(BusyMalformed, ToNotAfterFrom)
{
    const std::string expected = "busy[0].to_us: expected a counter value after from_us ";
    const std::string tail = " (exclusive end, at most 2147483647 us later), got ";
    EXPECT_EQ(busy_error_of(R"({"busy":[{"freq":868.1,"from_us":6000,"to_us":1000}]})"),
              expected + "6000" + tail + "1000");
    EXPECT_EQ(busy_error_of(R"({"busy":[{"freq":868.1,"from_us":6000,"to_us":6000}]})"),
              expected + "6000" + tail + "6000");
    // 2^31 us or more after from_us reads as before it (the counter wraps).
    EXPECT_EQ(busy_error_of(R"({"busy":[{"freq":868.1,"from_us":0,"to_us":2147483648}]})"),
              expected + "0" + tail + "2147483648");
    EXPECT_TRUE(decode_any(R"({"busy":[{"freq":868.1,"from_us":0,"to_us":2147483647}]})").ok());
    // Across the wrap it is after.
    EXPECT_TRUE(decode_any(R"({"busy":[{"freq":868.1,"from_us":4294967295,"to_us":0}]})").ok());
}
