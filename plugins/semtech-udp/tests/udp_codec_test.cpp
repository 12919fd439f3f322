// Tests of the Semtech UDP (GWMP v2) codec against shared/spec/semtech-udp.md: framing,
// rxpk / stat encoding (strict types, key order), PUSH_DATA splitting, tolerant txpk parsing,
// TX_ACK mapping and the strict server-side decoders.
#include "udp_codec.hpp"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <vector>

using namespace forwarder::udp;
namespace v1 = forwarder::v1;
using Poco::Dynamic::Var;
using JsonObject = Poco::JSON::Object;
using JsonArray = Poco::JSON::Array;

namespace {

std::string bytes(std::initializer_list<int> values)
{
    std::string out;
    for (int v : values) {
        out += static_cast<char>(v);
    }
    return out;
}

JsonObject::Ptr parse_json(const std::string& text)
{
    Poco::JSON::Parser parser;
    return parser.parse(text).extract<JsonObject::Ptr>();
}

// The keys of a flat JSON object in the order they are written (our encoders never nest).
std::vector<std::string> key_order(const std::string& json)
{
    std::vector<std::string> keys;
    bool in_string = false;
    std::string current;
    for (size_t i = 0; i < json.size(); ++i) {
        const char c = json[i];
        if (in_string) {
            if (c == '"') {
                in_string = false;
                if (i + 1 < json.size() && json[i + 1] == ':') {
                    keys.push_back(current);
                }
            } else {
                current += c;
            }
        } else if (c == '"') {
            in_string = true;
            current.clear();
        }
    }
    return keys;
}

// The raw text of the value of `key` in a flat JSON object.
std::string raw_value(const std::string& json, const std::string& key)
{
    const std::string marker = "\"" + key + "\":";
    const size_t at = json.find(marker);
    if (at == std::string::npos) {
        return "<absent>";
    }
    size_t end = at + marker.size();
    if (json[end] == '"') {
        end = json.find('"', end + 1) + 1;
    } else {
        while (end < json.size() && json[end] != ',' && json[end] != '}') {
            ++end;
        }
    }
    return json.substr(at + marker.size(), end - at - marker.size());
}

std::string payload32()
{
    std::string out;
    for (int i = 0; i < 32; ++i) {
        out += static_cast<char>(i);
    }
    return out;
}

// The spec's §3.1 example uplink (with a valid payload and a µs GPS time).
v1::Uplink example_uplink()
{
    v1::Uplink up;
    up.set_count_us(3512348611u);
    up.set_gps_time_us(1285579871592567ull);
    up.set_fine_timestamp_ns(85224290);
    up.set_if_chain(2);
    up.set_rf_chain(0);
    up.set_frequency_hz(866349812);
    up.set_modem_id(3);
    up.set_crc(v1::CRC_OK);
    auto* lora = up.mutable_modulation()->mutable_lora();
    lora->set_spreading_factor(7);
    lora->set_bandwidth_hz(125000);
    lora->set_coding_rate(v1::CR_4_6);
    up.set_rssi_signal_dbm(-37.4f);
    up.set_snr_db(5.1f);
    up.set_frequency_offset_hz(-3313);
    up.set_rssi_channel_dbm(-35.2f);
    up.set_payload(payload32());
    up.set_radio(1);
    return up;
}

v1::Uplink fsk_uplink()
{
    v1::Uplink up;
    up.set_count_us(12);
    up.set_frequency_hz(868800000);
    up.set_crc(v1::CRC_BAD);
    up.mutable_modulation()->mutable_fsk()->set_bitrate(50000);
    up.set_rssi_channel_dbm(-80);
    up.set_payload("abc");
    return up;
}

std::string txpk(const std::string& fields)
{
    return "{\"txpk\":{" + fields + "}}";
}

const std::string kLoraTxpk =
    R"({"txpk":{"imme":true,"freq":864.123456,"rfch":0,"powe":14,"modu":"LORA","datr":"SF11BW125",)"
    R"("codr":"4/6","ipol":false,"size":32,"data":"H3P3N2i9qc4yt7rK7ldqoeCVJGBybzPY5h1Dd7P7p8v"}})";
const std::string kFskTxpk =
    R"({"txpk":{"imme":true,"freq":861.3,"rfch":0,"powe":12,"modu":"FSK","datr":50000,)"
    R"("fdev":3000,"size":32,"data":"H3P3N2i9qc4yt7rK7ldqoeCVJGBybzPY5h1Dd7P7p8v"}})";
const std::string kLoraFields =
    R"("freq":868.1,"rfch":0,"modu":"LORA","datr":"SF7BW125","codr":"4/5","size":3,"data":"YWJj")";

// The ParseError message of parse_pull_resp, "" when it succeeds.
std::string pull_resp_error(const std::string& json)
{
    try {
        parse_pull_resp(json);
    } catch (const ParseError& e) {
        return e.what();
    }
    return "";
}

std::string push_data_error(const std::string& json)
{
    try {
        parse_push_data(json);
    } catch (const ParseError& e) {
        return e.what();
    }
    return "";
}

bool starts_with(const std::string& text, const std::string& prefix)
{
    return text.rfind(prefix, 0) == 0;
}

} // namespace

// ---- framing --------------------------------------------------------------------------------

TEST(Header, TooShortIsRefused)
{
    EXPECT_FALSE(parse_header(""));
    EXPECT_FALSE(parse_header(bytes({2, 0, 1})));
    EXPECT_TRUE(parse_header(bytes({2, 0, 1, 1})));
}

TEST(Header, VersionsOneAndTwoOnly)
{
    const auto v1_header = parse_header(bytes({1, 0x12, 0x34, 4}));
    ASSERT_TRUE(v1_header);
    EXPECT_EQ(v1_header->version, 1);
    EXPECT_EQ(v1_header->type, PacketType::pull_ack);
    EXPECT_TRUE(parse_header(bytes({2, 0, 0, 0})));
    EXPECT_FALSE(parse_header(bytes({3, 0, 0, 0})));
    EXPECT_FALSE(parse_header(bytes({0, 0, 0, 0})));
    EXPECT_FALSE(parse_header(bytes({0xFF, 0, 0, 0})));
}

TEST(Header, TypesUpToFive)
{
    for (int type = 0; type <= 5; ++type) {
        const auto header = parse_header(bytes({2, 0, 0, type}));
        ASSERT_TRUE(header) << type;
        EXPECT_EQ(static_cast<int>(header->type), type);
    }
    EXPECT_FALSE(parse_header(bytes({2, 0, 0, 6})));
    EXPECT_FALSE(parse_header(bytes({2, 0, 0, 0xFF})));
}

TEST(Header, TokenIsBigEndian)
{
    const auto header = parse_header(bytes({2, 0xAB, 0xCD, 3, '{', '}'}));
    ASSERT_TRUE(header);
    EXPECT_EQ(header->token, 0xABCD);
    EXPECT_EQ(header->type, PacketType::pull_resp);
}

TEST(Framing, PullDataMatchesSpecExample)
{
    EXPECT_EQ(encode_pull_data(0x3A7C, 0xB827EBFFFE6151CFull),
              bytes({0x02, 0x3a, 0x7c, 0x02, 0xb8, 0x27, 0xeb, 0xff, 0xfe, 0x61, 0x51, 0xcf}));
}

TEST(Framing, PushDataCarriesEuiThenJson)
{
    const std::string packet = encode_push_data(0x0102, 0x0011223344556677ull, "{\"stat\":{}}");
    EXPECT_EQ(packet.substr(0, 12),
              bytes({2, 1, 2, 0, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77}));
    EXPECT_EQ(packet.substr(12), "{\"stat\":{}}");
    EXPECT_EQ(packet_eui(packet), 0x0011223344556677ull);
}

TEST(Framing, TxAckWithAndWithoutJson)
{
    const std::string plain = encode_tx_ack(0xFFFE, 0xB827EBFFFE6151CFull, "");
    EXPECT_EQ(plain,
              bytes({0x02, 0xff, 0xfe, 0x05, 0xb8, 0x27, 0xeb, 0xff, 0xfe, 0x61, 0x51, 0xcf}));
    const std::string body = R"({"txpk_ack":{"error":"TOO_LATE"}})";
    const std::string with_json = encode_tx_ack(7, 1, body);
    EXPECT_EQ(with_json.size(), 12 + body.size());
    EXPECT_EQ(with_json.substr(12), body);
    EXPECT_EQ(packet_eui(with_json), 1u);
}

TEST(Framing, ServerPackets)
{
    EXPECT_EQ(encode_ack(PacketType::push_ack, 0x1234), bytes({2, 0x12, 0x34, 1}));
    EXPECT_EQ(encode_ack(PacketType::pull_ack, 0xBEEF, 1), bytes({1, 0xBE, 0xEF, 4}));
    const std::string resp = encode_pull_resp(0x0A0B, kLoraTxpk);
    EXPECT_EQ(resp.substr(0, 4), bytes({2, 0x0A, 0x0B, 3}));
    EXPECT_EQ(resp.substr(4), kLoraTxpk); // no EUI
    const auto header = parse_header(resp);
    ASSERT_TRUE(header);
    EXPECT_EQ(header->token, 0x0A0B);
    EXPECT_EQ(header_size(header->type), 4u);
    EXPECT_EQ(header_size(PacketType::push_data), 12u);
}

TEST(Framing, PacketEuiNeedsTwelveBytesAndAnEuiType)
{
    const std::string pull = encode_pull_data(1, 0x8000000000000001ull);
    EXPECT_EQ(packet_eui(pull), 0x8000000000000001ull);
    EXPECT_FALSE(packet_eui(pull.substr(0, 11)));
    EXPECT_FALSE(packet_eui(encode_pull_resp(1, "{\"txpk\":{\"imme\":true}}")));
    EXPECT_FALSE(packet_eui(encode_ack(PacketType::push_ack, 1) + std::string(8, 'x')));
}

// ---- rxpk -----------------------------------------------------------------------------------

TEST(Rxpk, SpecExampleExactly)
{
    const std::string json = rxpk_json(example_uplink(), false);
    EXPECT_EQ(json, R"({"jver":1,"tmst":3512348611,"time":"2020-10-01T09:30:53.592567Z",)"
                    R"("tmms":1285579871592,"ftime":85224290,"chan":2,"rfch":0,)"
                    R"("freq":866.349812,"mid":3,"stat":1,"modu":"LORA","datr":"SF7BW125",)"
                    R"("codr":"4/6","rssis":-37,"lsnr":5.1,"foff":-3313,"rssi":-35,"size":32,)"
                    R"("data":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="})");
}

TEST(Rxpk, KeyOrderOfTheSx1302Forwarder)
{
    const std::vector<std::string> expected = {
        "jver", "tmst", "time", "tmms",  "ftime", "chan", "rfch", "freq", "mid",  "stat",
        "modu", "datr", "codr", "rssis", "lsnr",  "foff", "rssi", "size", "data", "brd"};
    EXPECT_EQ(key_order(rxpk_json(example_uplink(), true)), expected);
}

TEST(Rxpk, ValuesAndIntegerTypes)
{
    const std::string json = rxpk_json(example_uplink(), true);
    const auto object = parse_json(json);
    EXPECT_EQ(object->getValue<uint64_t>("tmst"), 3512348611u);
    EXPECT_EQ(object->getValue<uint64_t>("tmms"), 1285579871592u);
    EXPECT_EQ(object->getValue<std::string>("time"), "2020-10-01T09:30:53.592567Z");
    EXPECT_EQ(object->getValue<int>("brd"), 1);
    for (const char* key : {"tmst", "tmms", "ftime", "chan", "rfch", "mid", "stat", "rssis", "foff",
                            "rssi", "size", "brd"}) {
        const std::string raw = raw_value(json, key);
        EXPECT_EQ(raw.find_first_not_of("-0123456789"), std::string::npos) << key << "=" << raw;
        const Var value = object->get(key);
        EXPECT_TRUE(value.type() == typeid(Poco::Int64) || value.type() == typeid(Poco::UInt64))
            << key;
    }
    EXPECT_EQ(raw_value(json, "lsnr"), "5.1");
    EXPECT_EQ(raw_value(json, "freq"), "866.349812");
}

TEST(Rxpk, GpsTimeToUtcSubtractsLeapSeconds)
{
    v1::Uplink up = example_uplink();
    // GPS epoch + 18 s = the Unix second 315964800 in UTC.
    up.set_gps_time_us(18000000);
    EXPECT_EQ(raw_value(rxpk_json(up, false), "time"), "\"1980-01-06T00:00:00.000000Z\"");
    EXPECT_EQ(raw_value(rxpk_json(up, false), "tmms"), "18000");
    // 2024-01-01T00:00:00Z = Unix 1704067200 = GPS 1388102418 s.
    up.set_gps_time_us(1388102418000001ull);
    EXPECT_EQ(raw_value(rxpk_json(up, false), "time"), "\"2024-01-01T00:00:00.000001Z\"");
    EXPECT_EQ(raw_value(rxpk_json(up, false), "tmms"), "1388102418000");
    // Leap day.
    up.set_gps_time_us((1709164800ull - 315964800 + 18) * 1000000 + 999999);
    EXPECT_EQ(raw_value(rxpk_json(up, false), "time"), "\"2024-02-29T00:00:00.999999Z\"");
}

TEST(Rxpk, NoGpsNoFineTimestamp)
{
    v1::Uplink up = example_uplink();
    up.clear_gps_time_us();
    up.clear_fine_timestamp_ns();
    const std::string json = rxpk_json(up, false);
    for (const char* key : {"time", "tmms", "ftime", "brd"}) {
        EXPECT_EQ(raw_value(json, key), "<absent>") << key;
    }
}

TEST(Rxpk, Fsk)
{
    const std::string json = rxpk_json(fsk_uplink(), false);
    EXPECT_EQ(json, R"({"jver":1,"tmst":12,"chan":0,"rfch":0,"freq":868.800000,"mid":0,)"
                    R"("stat":-1,"modu":"FSK","datr":50000,"rssi":-80,"size":3,"data":"YWJj"})");
}

TEST(Rxpk, CrcStatus)
{
    v1::Uplink up = fsk_uplink();
    const std::pair<v1::CrcStatus, const char*> cases[] = {{v1::CRC_OK, "1"},
                                                           {v1::CRC_BAD, "-1"},
                                                           {v1::CRC_NONE, "0"},
                                                           {v1::CRC_STATUS_UNSPECIFIED, "0"}};
    for (const auto& [crc, text] : cases) {
        up.set_crc(crc);
        EXPECT_EQ(raw_value(rxpk_json(up, false), "stat"), text);
    }
}

TEST(Rxpk, RssiRoundedAndClamped)
{
    v1::Uplink up = example_uplink();
    up.set_rssi_channel_dbm(-35.6f);
    up.set_rssi_signal_dbm(-40000);
    EXPECT_EQ(raw_value(rxpk_json(up, false), "rssi"), "-36");
    EXPECT_EQ(raw_value(rxpk_json(up, false), "rssis"), "-32768");
    up.set_rssi_channel_dbm(std::numeric_limits<float>::quiet_NaN());
    up.set_snr_db(std::numeric_limits<float>::infinity());
    const std::string json = rxpk_json(up, false);
    EXPECT_EQ(raw_value(json, "rssi"), "0");
    EXPECT_EQ(raw_value(json, "lsnr"), "0.0");
    EXPECT_NO_THROW(parse_json(json));
    up.set_snr_db(-7.25f);
    EXPECT_EQ(raw_value(rxpk_json(up, false), "lsnr"), "-7.2");
    up.set_snr_db(-0.01f);
    EXPECT_EQ(raw_value(rxpk_json(up, false), "lsnr"), "0.0");
}

TEST(Rxpk, CodingRatesAndUnspecified)
{
    v1::Uplink up = example_uplink();
    up.mutable_modulation()->mutable_lora()->set_coding_rate(v1::CR_OFF);
    EXPECT_EQ(raw_value(rxpk_json(up, false), "codr"), "\"OFF\"");
    up.mutable_modulation()->mutable_lora()->set_coding_rate(v1::CR_4_8);
    EXPECT_EQ(raw_value(rxpk_json(up, false), "codr"), "\"4/8\"");
    up.mutable_modulation()->mutable_lora()->set_coding_rate(v1::CODING_RATE_UNSPECIFIED);
    EXPECT_EQ(raw_value(rxpk_json(up, false), "codr"), "<absent>");
}

TEST(Rxpk, WithoutModulationThrows)
{
    v1::Uplink up = example_uplink();
    up.clear_modulation();
    EXPECT_THROW(rxpk_json(up, false), std::invalid_argument);
}

// ---- stat -----------------------------------------------------------------------------------

TEST(Stat, TimeFormatAndOrder)
{
    Stat stat;
    stat.unix_time_s = 1389517168;
    stat.latitude = 46.24;
    stat.longitude = 3.2523;
    stat.altitude_m = 145;
    stat.rxnb = 2;
    stat.rxok = 2;
    stat.rxfw = 2;
    stat.ackr = 100;
    stat.dwnb = 2;
    stat.txnb = 2;
    stat.temperature_c = 35.26;
    const std::string json = stat_json(stat);
    EXPECT_EQ(json, R"({"time":"2014-01-12 08:59:28 GMT","lati":46.24000,"long":3.25230,)"
                    R"("alti":145,"rxnb":2,"rxok":2,"rxfw":2,"ackr":100.0,"dwnb":2,"txnb":2,)"
                    R"("temp":35.3})");
    EXPECT_NO_THROW(parse_json(json));
}

TEST(Stat, TimeIsAlwaysTwentyThreeCharacters)
{
    Stat stat;
    for (int64_t t : {int64_t{0}, int64_t{951782400}, int64_t{4102444799}}) {
        stat.unix_time_s = t;
        const std::string time = raw_value(stat_json(stat), "time");
        EXPECT_EQ(time.size(), 25u) << time; // with the quotes
        EXPECT_EQ(time.substr(time.size() - 5), " GMT\"");
    }
    stat.unix_time_s = 951782400; // 2000-02-29
    EXPECT_EQ(raw_value(stat_json(stat), "time"), "\"2000-02-29 00:00:00 GMT\"");
    stat.unix_time_s = 4102444799;
    EXPECT_EQ(raw_value(stat_json(stat), "time"), "\"2099-12-31 23:59:59 GMT\"");
}

TEST(Stat, PositionBothOrNeither)
{
    Stat stat;
    stat.latitude = 10;
    stat.altitude_m = 3;
    std::string json = stat_json(stat);
    EXPECT_EQ(raw_value(json, "lati"), "<absent>");
    EXPECT_EQ(raw_value(json, "long"), "<absent>");
    EXPECT_EQ(raw_value(json, "alti"), "<absent>");
    EXPECT_EQ(raw_value(json, "temp"), "<absent>");
    stat.longitude = -20.123456;
    json = stat_json(stat);
    EXPECT_EQ(raw_value(json, "lati"), "10.00000");
    EXPECT_EQ(raw_value(json, "long"), "-20.12346");
    EXPECT_EQ(raw_value(json, "alti"), "3");
    const std::vector<std::string> expected = {"time", "lati", "long", "alti", "rxnb",
                                               "rxok", "rxfw", "ackr", "dwnb", "txnb"};
    EXPECT_EQ(key_order(json), expected);
}

TEST(Stat, AckrOneDecimal)
{
    Stat stat;
    stat.ackr = 66.66666;
    EXPECT_EQ(raw_value(stat_json(stat), "ackr"), "66.7");
    stat.ackr = 0;
    EXPECT_EQ(raw_value(stat_json(stat), "ackr"), "0.0");
}

// ---- PUSH_DATA bodies -----------------------------------------------------------------------

TEST(PushDataBodies, EmptyInputs)
{
    EXPECT_TRUE(push_data_bodies({}, "").empty());
    const auto only_stat = push_data_bodies({}, stat_json(Stat{}));
    ASSERT_EQ(only_stat.size(), 1u);
    EXPECT_EQ(only_stat[0], "{\"stat\":" + stat_json(Stat{}) + "}");
    const auto one = push_data_bodies({rxpk_json(fsk_uplink(), false)}, "");
    ASSERT_EQ(one.size(), 1u);
    EXPECT_EQ(one[0], "{\"rxpk\":[" + rxpk_json(fsk_uplink(), false) + "]}");
}

TEST(PushDataBodies, SplitsKeepsOrderAndStatFirst)
{
    std::vector<std::string> rxpks;
    for (uint32_t i = 0; i < 40; ++i) {
        v1::Uplink up = example_uplink();
        up.set_count_us(i);
        up.set_payload(std::string(i * 5 % 200, static_cast<char>(i)));
        rxpks.push_back(rxpk_json(up, false));
    }
    Stat stat;
    stat.rxnb = 40;
    const std::string stat_object = stat_json(stat);
    for (size_t limit : {size_t{700}, size_t{1000}, size_t{1400}, size_t{5000}}) {
        std::vector<size_t> counts;
        const auto bodies = push_data_bodies(rxpks, stat_object, limit, &counts);
        ASSERT_FALSE(bodies.empty());
        ASSERT_EQ(counts.size(), bodies.size());
        std::vector<uint32_t> seen;
        for (size_t b = 0; b < bodies.size(); ++b) {
            EXPECT_LE(bodies[b].size(), limit) << "body " << b << " limit " << limit;
            JsonObject::Ptr root;
            ASSERT_NO_THROW(root = parse_json(bodies[b])) << bodies[b];
            EXPECT_EQ(root->has("stat"), b == 0) << b;
            if (root->has("rxpk")) {
                const auto list = root->getArray("rxpk");
                EXPECT_GE(list->size(), 1u);
                EXPECT_EQ(counts[b], list->size()) << "body " << b;
                for (unsigned i = 0; i < list->size(); ++i) {
                    seen.push_back(list->getObject(i)->getValue<uint32_t>("tmst"));
                }
            }
            if (!root->has("rxpk")) {
                EXPECT_EQ(counts[b], 0u) << "body " << b;
            }
            // And the strict decoder takes every body.
            EXPECT_NO_THROW(parse_push_data(bodies[b]));
        }
        ASSERT_EQ(seen.size(), rxpks.size()) << limit;
        for (uint32_t i = 0; i < seen.size(); ++i) {
            EXPECT_EQ(seen[i], i);
        }
        if (limit == 5000) {
            EXPECT_LT(bodies.size(), 10u);
        }
    }
}

TEST(PushDataBodies, OversizedRxpkGetsItsOwnBody)
{
    v1::Uplink big = example_uplink();
    big.set_payload(std::string(255, 'x'));
    const std::string small = rxpk_json(fsk_uplink(), false);
    const std::string large = rxpk_json(big, false);
    ASSERT_GT(large.size(), 300u);
    const auto bodies = push_data_bodies({small, large, small}, "", 300);
    ASSERT_EQ(bodies.size(), 3u);
    EXPECT_EQ(bodies[0], "{\"rxpk\":[" + small + "]}");
    EXPECT_EQ(bodies[1], "{\"rxpk\":[" + large + "]}");
    EXPECT_EQ(bodies[2], "{\"rxpk\":[" + small + "]}");
}

TEST(PushDataBodies, StatAloneWhenItDoesNotFitWithTheFirstRxpk)
{
    const std::string rxpk = rxpk_json(example_uplink(), false);
    const std::string stat = stat_json(Stat{});
    const size_t limit = rxpk.size() + 20; // room for one rxpk but not the stat too
    const auto bodies = push_data_bodies({rxpk, rxpk}, stat, limit);
    ASSERT_EQ(bodies.size(), 3u);
    EXPECT_EQ(bodies[0], "{\"stat\":" + stat + "}");
    EXPECT_EQ(bodies[1], "{\"rxpk\":[" + rxpk + "]}");
    EXPECT_EQ(bodies[2], "{\"rxpk\":[" + rxpk + "]}");
    // With enough room, both share the first body.
    const auto together = push_data_bodies({rxpk, rxpk}, stat, 2 * rxpk.size() + stat.size() + 30);
    ASSERT_EQ(together.size(), 1u);
    EXPECT_EQ(together[0], "{\"rxpk\":[" + rxpk + "," + rxpk + "],\"stat\":" + stat + "}");
    EXPECT_EQ(together[0].size(), 2 * rxpk.size() + stat.size() + 20);
}

TEST(PushDataBodies, ExactLimitIsAllowed)
{
    const std::string rxpk = rxpk_json(fsk_uplink(), false);
    const std::string two = "{\"rxpk\":[" + rxpk + "," + rxpk + "]}";
    EXPECT_EQ(push_data_bodies({rxpk, rxpk}, "", two.size()).size(), 1u);
    EXPECT_EQ(push_data_bodies({rxpk, rxpk}, "", two.size() - 1).size(), 2u);
}

// ---- txpk -----------------------------------------------------------------------------------

TEST(Txpk, SpecLoraExample)
{
    const Txpk out = parse_pull_resp(kLoraTxpk);
    const auto& r = out.request;
    EXPECT_TRUE(r.timing().has_immediate());
    EXPECT_TRUE(r.timing().immediate());
    EXPECT_EQ(r.frequency_hz(), 864123456u);
    EXPECT_EQ(r.rf_chain(), 0u);
    EXPECT_FLOAT_EQ(r.power_dbm(), 14);
    EXPECT_TRUE(out.power_given);
    ASSERT_TRUE(r.modulation().has_lora());
    EXPECT_EQ(r.modulation().lora().spreading_factor(), 11u);
    EXPECT_EQ(r.modulation().lora().bandwidth_hz(), 125000u);
    EXPECT_EQ(r.modulation().lora().coding_rate(), v1::CR_4_6);
    EXPECT_FALSE(r.invert_iq());
    EXPECT_TRUE(r.crc());
    EXPECT_FALSE(r.implicit_header());
    EXPECT_EQ(r.preamble(), 8u);
    EXPECT_EQ(r.payload().size(), 32u);
    EXPECT_TRUE(out.warnings.empty());
    EXPECT_FALSE(out.board);
    EXPECT_FALSE(out.antenna);
    EXPECT_EQ(r.id(), 0u);
    EXPECT_EQ(r.radio(), 0u);
    EXPECT_EQ(r.priority(), 0u);
}

TEST(Txpk, SpecFskExample)
{
    const Txpk out = parse_pull_resp(kFskTxpk);
    const auto& r = out.request;
    EXPECT_TRUE(r.timing().immediate());
    EXPECT_EQ(r.frequency_hz(), 861300000u);
    EXPECT_FLOAT_EQ(r.power_dbm(), 12);
    ASSERT_TRUE(r.modulation().has_fsk());
    EXPECT_EQ(r.modulation().fsk().bitrate(), 50000u);
    EXPECT_EQ(r.modulation().fsk().frequency_deviation_hz(), 3000u);
    EXPECT_EQ(r.preamble(), 5u);
    EXPECT_EQ(r.payload().size(), 32u);
    EXPECT_TRUE(out.warnings.empty());
}

TEST(Txpk, TimingPrecedence)
{
    auto timing = [](const std::string& fields) {
        return parse_pull_resp(txpk(fields + "," + kLoraFields)).request.timing();
    };
    EXPECT_TRUE(timing(R"("imme":true,"tmst":5,"tmms":7)").immediate());
    const auto tmst = timing(R"("imme":false,"tmst":4294967295,"tmms":7)");
    ASSERT_EQ(tmst.when_case(), v1::TxTiming::kCountUs);
    EXPECT_EQ(tmst.count_us(), 4294967295u);
    const auto tmms = timing(R"("tmms":1285579871592)");
    ASSERT_EQ(tmms.when_case(), v1::TxTiming::kGpsTimeUs);
    EXPECT_EQ(tmms.gps_time_us(), 1285579871592000u);
    EXPECT_EQ(timing(R"("tmst":0)").when_case(), v1::TxTiming::kCountUs);
    EXPECT_TRUE(timing(R"("imme":1)").immediate());
}

TEST(Txpk, TimingErrors)
{
    EXPECT_EQ(pull_resp_error(txpk(kLoraFields)),
              "txpk.tmst: missing (one of imme, tmst or tmms is required)");
    EXPECT_EQ(pull_resp_error(txpk(R"("imme":false,)" + kLoraFields)),
              "txpk.imme: false without tmst or tmms");
    EXPECT_TRUE(
        starts_with(pull_resp_error(txpk(R"("tmst":4294967296,)" + kLoraFields)), "txpk.tmst:"));
    EXPECT_TRUE(starts_with(pull_resp_error(txpk(R"("tmst":-1,)" + kLoraFields)), "txpk.tmst:"));
    EXPECT_TRUE(starts_with(pull_resp_error(txpk(R"("tmst":"5",)" + kLoraFields)), "txpk.tmst:"));
    EXPECT_TRUE(starts_with(pull_resp_error(txpk(R"("imme":"yes",)" + kLoraFields)), "txpk.imme:"));
}

TEST(Txpk, CodingRateAliases)
{
    const std::pair<const char*, v1::CodingRate> cases[] = {
        {"4/5", v1::CR_4_5}, {"4/6", v1::CR_4_6}, {"4/7", v1::CR_4_7}, {"4/8", v1::CR_4_8},
        {"2/3", v1::CR_4_6}, {"1/2", v1::CR_4_8}, {"2/4", v1::CR_4_8}};
    for (const auto& [text, rate] : cases) {
        const auto out = parse_pull_resp(txpk(std::string(R"("imme":true,"freq":868.1,)") +
                                              R"("modu":"LORA","datr":"SF9BW125","codr":")" + text +
                                              R"(","data":"YWJj","size":3,"rfch":0)"));
        EXPECT_EQ(out.request.modulation().lora().coding_rate(), rate) << text;
    }
    for (const char* bad : {"OFF", "4/9", "", "45"}) {
        const std::string error = pull_resp_error(
            txpk(std::string(R"("imme":true,"freq":868.1,"modu":"LORA","datr":"SF9BW125",)") +
                 R"("codr":")" + bad + R"(","data":"YWJj")"));
        EXPECT_TRUE(starts_with(error, "txpk.codr:")) << bad << ": " << error;
    }
}

TEST(Txpk, ModulationCaseInsensitive)
{
    const std::string fsk = R"("imme":true,"freq":868.8,"datr":50000,"fdev":25000,"data":"YWJj")";
    for (const char* modu : {"FSK", "Fsk", "fsk"}) {
        const auto out = parse_pull_resp(txpk(fsk + R"(,"modu":")" + modu + "\""));
        EXPECT_TRUE(out.request.modulation().has_fsk()) << modu;
    }
    const auto lora = parse_pull_resp(txpk(R"("imme":true,"freq":868.1,"modu":"LoRa",)"
                                           R"("datr":"SF12BW500","codr":"4/5","data":"YWJj")"));
    EXPECT_EQ(lora.request.modulation().lora().spreading_factor(), 12u);
    EXPECT_EQ(lora.request.modulation().lora().bandwidth_hz(), 500000u);
    EXPECT_TRUE(starts_with(pull_resp_error(txpk(fsk + R"(,"modu":"LR-FHSS")")), "txpk.modu:"));
}

TEST(Txpk, DatrStringOrNumber)
{
    const std::string fsk = R"("imme":true,"freq":868.8,"modu":"FSK","fdev":25000,"data":"YWJj")";
    EXPECT_EQ(
        parse_pull_resp(txpk(fsk + R"(,"datr":"50000")")).request.modulation().fsk().bitrate(),
        50000u);
    EXPECT_EQ(
        parse_pull_resp(txpk(fsk + R"(,"datr":50000.0)")).request.modulation().fsk().bitrate(),
        50000u);
    EXPECT_TRUE(starts_with(pull_resp_error(txpk(fsk + R"(,"datr":"SF7BW125")")), "txpk.datr:"));
    EXPECT_TRUE(starts_with(pull_resp_error(txpk(fsk + R"(,"datr":100)")), "txpk.datr:"));
    const std::string lora = R"("imme":true,"freq":868.1,"modu":"LORA","codr":"4/5","data":"YWJj")";
    EXPECT_EQ(pull_resp_error(txpk(lora + R"(,"datr":50000)")),
              "txpk.datr: expected \"SF<n>BW<k>\" for LoRa");
    EXPECT_TRUE(starts_with(pull_resp_error(txpk(lora + R"(,"datr":"SF13BW125")")), "txpk.datr:"));
    EXPECT_TRUE(starts_with(pull_resp_error(txpk(lora + R"(,"datr":"SF7BW200")")), "txpk.datr:"));
}

TEST(Txpk, MissingMandatoryFieldsNameTheField)
{
    const std::string lora_base = R"("imme":true,"rfch":0,"size":3)";
    const std::pair<std::string, std::string> lora_fields[] = {{"freq", R"("freq":868.1)"},
                                                               {"modu", R"("modu":"LORA")"},
                                                               {"datr", R"("datr":"SF7BW125")"},
                                                               {"codr", R"("codr":"4/5")"},
                                                               {"data", R"("data":"YWJj")"}};
    for (const auto& [missing, _] : lora_fields) {
        std::string fields = lora_base;
        for (const auto& [key, text] : lora_fields) {
            if (key != missing) {
                fields += "," + text;
            }
        }
        EXPECT_EQ(pull_resp_error(txpk(fields)), "txpk." + missing + ": missing") << missing;
    }
    // FSK needs fdev, not codr.
    EXPECT_EQ(pull_resp_error(txpk(R"("imme":true,"freq":868.8,"modu":"FSK","datr":50000,)"
                                   R"("data":"YWJj")")),
              "txpk.fdev: missing");
    // A null value counts as missing.
    EXPECT_EQ(pull_resp_error(txpk(R"("imme":true,"freq":null,"modu":"LORA","datr":"SF7BW125",)"
                                   R"("codr":"4/5","data":"YWJj")")),
              "txpk.freq: missing");
}

TEST(Txpk, RootErrors)
{
    EXPECT_EQ(pull_resp_error("{}"), "txpk: missing");
    EXPECT_EQ(pull_resp_error(R"({"txpk":[1]})"), "txpk: not an object");
    EXPECT_EQ(pull_resp_error("[1]"), "not a JSON object");
    EXPECT_TRUE(starts_with(pull_resp_error("{\"txpk\":"), "invalid JSON"));
    EXPECT_TRUE(starts_with(pull_resp_error(""), "invalid JSON"));
    EXPECT_THROW(parse_pull_resp("nonsense"), std::runtime_error);
}

TEST(Txpk, WrongTypesNameTheField)
{
    const std::pair<std::string, std::string> cases[] = {
        {R"("freq":"868.1")", "txpk.freq:"}, {R"("freq":-1)", "txpk.freq:"},
        {R"("freq":0)", "txpk.freq:"},       {R"("freq":1e-7)", "txpk.freq:"},
        {R"("powe":"14")", "txpk.powe:"},    {R"("ipol":"true")", "txpk.ipol:"},
        {R"("ncrc":2)", "txpk.ncrc:"},       {R"("prea":-1)", "txpk.prea:"},
        {R"("prea":8.5)", "txpk.prea:"},     {R"("brd":-1)", "txpk.brd:"},
        {R"("ant":"0")", "txpk.ant:"},       {R"("size":"3")", "txpk.size:"},
        {R"("rfch":1.5)", "txpk.rfch:"}};
    for (const auto& [field, prefix] : cases) {
        // The later duplicate key wins in Poco, so append the bad field last.
        const std::string error =
            pull_resp_error(txpk(R"("imme":true,)" + kLoraFields + "," + field));
        EXPECT_TRUE(starts_with(error, prefix)) << field << ": " << error;
    }
}

TEST(Txpk, FlagsAndOptionalFields)
{
    const auto out = parse_pull_resp(txpk(R"("imme":true,)" + kLoraFields +
                                          R"(,"ipol":true,"ncrc":true,"nhdr":true,"brd":1,"ant":2,)"
                                          R"("unknown":{"nested":[1,2]},"rfch":1)"));
    EXPECT_TRUE(out.request.invert_iq());
    EXPECT_FALSE(out.request.crc());
    EXPECT_TRUE(out.request.implicit_header());
    EXPECT_EQ(out.board, 1u);
    EXPECT_EQ(out.antenna, 2u);
    EXPECT_EQ(out.request.rf_chain(), 1u);

    const auto plain = parse_pull_resp(txpk(R"("imme":true,)" + kLoraFields + R"(,"ncrc":false)"));
    EXPECT_TRUE(plain.request.crc());
    EXPECT_FALSE(plain.request.invert_iq());
    EXPECT_FALSE(plain.power_given);
    EXPECT_EQ(plain.request.power_dbm(), 0);
}

TEST(Txpk, FrequencyRoundedToNearestHz)
{
    auto freq = [](const std::string& mhz) {
        return parse_pull_resp(txpk(R"("imme":true,"modu":"LORA","datr":"SF7BW125",)"
                                    R"("codr":"4/5","data":"","freq":)" +
                                    mhz))
            .request.frequency_hz();
    };
    EXPECT_EQ(freq("869.525"), 869525000u);
    EXPECT_EQ(freq("923.3"), 923300000u);
    EXPECT_EQ(freq("868.1000004"), 868100000u);
    EXPECT_EQ(freq("868.1000006"), 868100001u);
    EXPECT_EQ(freq("2425"), 2425000000u);
}

TEST(Txpk, PreambleDefaultsAndMinimums)
{
    auto lora = [](const std::string& extra) {
        return parse_pull_resp(txpk(R"("imme":true,)" + kLoraFields + extra)).request.preamble();
    };
    auto fsk = [](const std::string& extra) {
        return parse_pull_resp(txpk(R"("imme":true,"freq":868.8,"modu":"FSK","datr":50000,)"
                                    R"("fdev":25000,"data":"YWJj")" +
                                    extra))
            .request.preamble();
    };
    EXPECT_EQ(lora(""), 8u);
    EXPECT_EQ(lora(R"(,"prea":0)"), 6u);
    EXPECT_EQ(lora(R"(,"prea":5)"), 6u);
    EXPECT_EQ(lora(R"(,"prea":6)"), 6u);
    EXPECT_EQ(lora(R"(,"prea":12)"), 12u);
    EXPECT_EQ(fsk(""), 5u);
    EXPECT_EQ(fsk(R"(,"prea":1)"), 3u);
    EXPECT_EQ(fsk(R"(,"prea":3)"), 3u);
    EXPECT_EQ(fsk(R"(,"prea":4)"), 4u);
}

TEST(Txpk, Base64PaddedOrNot)
{
    auto payload = [](const std::string& data) {
        return parse_pull_resp(txpk(R"("imme":true,"freq":868.1,"modu":"LORA","datr":"SF7BW125",)"
                                    R"("codr":"4/5","data":")" +
                                    data + "\""))
            .request.payload();
    };
    EXPECT_EQ(payload("YWI="), "ab");
    EXPECT_EQ(payload("YWI"), "ab");
    EXPECT_EQ(payload("YQ=="), "a");
    EXPECT_EQ(payload("YQ"), "a");
    EXPECT_EQ(payload(""), "");
    const std::string base = R"("imme":true,"freq":868.1,"modu":"LORA","datr":"SF7BW125",)"
                             R"("codr":"4/5","data":)";
    EXPECT_EQ(pull_resp_error(txpk(base + R"("YW J")")), "txpk.data: not base64");
    EXPECT_EQ(pull_resp_error(txpk(base + R"("Y")")), "txpk.data: not base64");
    EXPECT_EQ(pull_resp_error(txpk(base + "3")), "txpk.data: not a string");
    // At most 255 bytes.
    std::string too_long(344, 'A'); // 258 bytes
    EXPECT_EQ(pull_resp_error(txpk(base + "\"" + too_long + "\"")),
              "txpk.data: 258 bytes (max 255)");
}

TEST(Txpk, SizeMismatchAndMissingAreWarnings)
{
    const std::string base = R"("imme":true,"rfch":0,"freq":868.1,"modu":"LORA","datr":"SF7BW125",)"
                             R"("codr":"4/5","data":"AAECAwQFBgcICQ==")";
    const auto mismatch = parse_pull_resp(txpk(base + R"(,"size":12)"));
    ASSERT_EQ(mismatch.warnings.size(), 1u);
    EXPECT_EQ(mismatch.warnings[0], "txpk.size 12 differs from the 10 bytes of data");
    EXPECT_EQ(mismatch.request.payload().size(), 10u);
    const auto missing = parse_pull_resp(txpk(base));
    ASSERT_EQ(missing.warnings.size(), 1u);
    EXPECT_EQ(missing.warnings[0], "txpk.size: missing");
    EXPECT_TRUE(parse_pull_resp(txpk(base + R"(,"size":10)")).warnings.empty());
    const auto no_rfch = parse_pull_resp(txpk(
        R"("imme":true,)" + kLoraFields.substr(kLoraFields.find("\"modu")) + R"(,"freq":868.1)"));
    ASSERT_EQ(no_rfch.warnings.size(), 1u);
    EXPECT_EQ(no_rfch.warnings[0], "txpk.rfch: missing, using 0");
}

TEST(Txpk, ServerStyles)
{
    // TTS: imme always present, tmst for class A, ncrc, no prea; powe unsigned integer.
    const auto tts = parse_pull_resp(
        R"({"txpk":{"imme":false,"tmst":1000000,"freq":868.3,"rfch":0,"powe":14,"modu":"LORA",)"
        R"("datr":"SF7BW125","codr":"4/5","ipol":true,"ncrc":true,"size":3,"data":"YWJj"}})");
    EXPECT_EQ(tts.request.timing().count_us(), 1000000u);
    EXPECT_TRUE(tts.request.invert_iq());
    EXPECT_FALSE(tts.request.crc());
    // ChirpStack FSK: "Fsk", brd and ant.
    const auto cs = parse_pull_resp(
        R"({"txpk":{"imme":false,"tmms":1400000000000,"freq":868.8,"rfch":0,"powe":14,)"
        R"("modu":"Fsk","datr":50000,"fdev":25000,"prea":5,"size":3,"data":"YWJj","brd":0,)"
        R"("ant":0}})");
    EXPECT_EQ(cs.request.timing().gps_time_us(), 1400000000000000u);
    EXPECT_EQ(cs.request.modulation().fsk().frequency_deviation_hz(), 25000u);
    EXPECT_EQ(cs.board, 0u);
    EXPECT_EQ(cs.antenna, 0u);
}

// ---- TX_ACK ---------------------------------------------------------------------------------

TEST(TxAck, EveryOutcomeHasACode)
{
    const std::pair<v1::TxOutcome, const char*> cases[] = {
        {v1::TX_OUTCOME_UNSPECIFIED, "UNKNOWN"},
        {v1::OK, "NONE"},
        {v1::TOO_LATE, "TOO_LATE"},
        {v1::TOO_EARLY, "TOO_EARLY"},
        {v1::COLLISION_PACKET, "COLLISION_PACKET"},
        {v1::COLLISION_BEACON, "COLLISION_BEACON"},
        {v1::TX_FREQ, "TX_FREQ"},
        {v1::TX_POWER, "TX_POWER"},
        {v1::GPS_UNLOCKED, "GPS_UNLOCKED"},
        {v1::DUTY_CYCLE, "COLLISION_PACKET"},
        {v1::QUEUE_FULL, "COLLISION_PACKET"},
        {v1::RADIO_ERROR, "UNKNOWN"},
        {v1::CANCELLED, "UNKNOWN"},
        {v1::CHANNEL_BUSY, "COLLISION_PACKET"},
        {v1::DWELL_TIME, "COLLISION_PACKET"}};
    std::set<int> covered;
    for (const auto& [outcome, code] : cases) {
        covered.insert(outcome);
        EXPECT_STREQ(tx_ack_error(outcome), code) << outcome;
        const std::string body = tx_ack_json(outcome, std::nullopt);
        if (outcome == v1::OK) {
            EXPECT_EQ(body, "");
            EXPECT_EQ(parse_tx_ack(body).error, "NONE");
        } else {
            EXPECT_EQ(body, std::string(R"({"txpk_ack":{"error":")") + code + "\"}}");
            EXPECT_EQ(parse_tx_ack(body).error, code);
            // A lowered power does not turn a failure into a warning.
            EXPECT_EQ(tx_ack_json(outcome, 10.0f), body);
        }
    }
    // Every value of the enum is covered by the table above.
    for (int value = v1::TxOutcome_MIN; value <= v1::TxOutcome_MAX; ++value) {
        if (v1::TxOutcome_IsValid(value)) {
            EXPECT_TRUE(covered.count(value)) << "TxOutcome " << value << " not tested";
        }
    }
    EXPECT_STREQ(tx_ack_error(static_cast<v1::TxOutcome>(99)), "UNKNOWN");
}

TEST(TxAck, LoweredPowerWarning)
{
    EXPECT_EQ(tx_ack_json(v1::OK, 14.0f),
              R"({"txpk_ack":{"error":"NONE","warn":"TX_POWER","value":14}})");
    EXPECT_EQ(tx_ack_json(v1::OK, 12.9f),
              R"({"txpk_ack":{"error":"NONE","warn":"TX_POWER","value":12}})");
    EXPECT_EQ(tx_ack_json(v1::OK, -2.5f),
              R"({"txpk_ack":{"error":"NONE","warn":"TX_POWER","value":-3}})");
    EXPECT_EQ(tx_ack_json(v1::OK, std::numeric_limits<float>::quiet_NaN()), "");
    const TxAck ack = parse_tx_ack(tx_ack_json(v1::OK, 20.7f));
    EXPECT_EQ(ack.error, "NONE");
    EXPECT_EQ(ack.warn, "TX_POWER");
    ASSERT_TRUE(ack.value);
    EXPECT_EQ(*ack.value, 20);
}

TEST(TxAck, ParseVariants)
{
    EXPECT_EQ(parse_tx_ack(R"({"txpk_ack":{"error":"NONE"}})").error, "NONE");
    EXPECT_EQ(parse_tx_ack(R"({"txpk_ack":{}})").error, "NONE");
    EXPECT_EQ(parse_tx_ack(R"({"other":1})").error, "NONE");
    const TxAck warn_only = parse_tx_ack(R"({"txpk_ack":{"warn":"TX_POWER","value":"14"}})");
    EXPECT_EQ(warn_only.error, "NONE");
    EXPECT_EQ(warn_only.warn, "TX_POWER");
    EXPECT_EQ(warn_only.value, 14.0);
    EXPECT_THROW(parse_tx_ack(R"({"txpk_ack":{"value":"x"}})"), ParseError);
    EXPECT_THROW(parse_tx_ack(R"({"txpk_ack":{"error":3}})"), ParseError);
    EXPECT_THROW(parse_tx_ack(R"({"txpk_ack":"NONE"})"), ParseError);
    EXPECT_THROW(parse_tx_ack("{"), ParseError);
}

// ---- server-side PUSH_DATA ------------------------------------------------------------------

TEST(PushData, RoundTripLora)
{
    const v1::Uplink original = example_uplink();
    const PushData decoded = parse_push_data("{\"rxpk\":[" + rxpk_json(original, true) + "]}");
    ASSERT_EQ(decoded.uplinks.size(), 1u);
    EXPECT_FALSE(decoded.stat);
    const v1::Uplink& up = decoded.uplinks[0];
    EXPECT_EQ(up.payload(), original.payload());
    EXPECT_EQ(up.radio(), original.radio());
    EXPECT_EQ(up.count_us(), original.count_us());
    EXPECT_EQ(up.frequency_hz(), original.frequency_hz());
    EXPECT_EQ(up.modulation().lora().spreading_factor(), 7u);
    EXPECT_EQ(up.modulation().lora().bandwidth_hz(), 125000u);
    EXPECT_EQ(up.modulation().lora().coding_rate(), v1::CR_4_6);
    EXPECT_EQ(up.rssi_channel_dbm(), -35);
    EXPECT_EQ(up.rssi_signal_dbm(), -37);
    EXPECT_FLOAT_EQ(up.snr_db(), 5.1f);
    EXPECT_EQ(up.crc(), v1::CRC_OK);
    EXPECT_EQ(up.if_chain(), 2u);
    EXPECT_EQ(up.rf_chain(), 0u);
    EXPECT_EQ(up.fine_timestamp_ns(), original.fine_timestamp_ns());
    ASSERT_TRUE(up.has_gps_time_us());
    EXPECT_EQ(up.gps_time_us(), original.gps_time_us()); // µs precision through "time"
    EXPECT_EQ(up.frequency_offset_hz(), -3313);
    EXPECT_EQ(up.modem_id(), 3u);
    // Encoding the decoded uplink gives the same text.
    EXPECT_EQ(rxpk_json(up, true), rxpk_json(original, true));
}

TEST(PushData, RoundTripFskAndStat)
{
    Stat stat;
    stat.unix_time_s = 1700000000;
    stat.latitude = -33.86785;
    stat.longitude = 151.20732;
    stat.altitude_m = -5;
    stat.rxnb = 10;
    stat.rxok = 9;
    stat.rxfw = 8;
    stat.ackr = 87.5;
    stat.dwnb = 3;
    stat.txnb = 2;
    stat.temperature_c = -4.5;
    const auto bodies = push_data_bodies({rxpk_json(fsk_uplink(), false)}, stat_json(stat));
    ASSERT_EQ(bodies.size(), 1u);
    const PushData decoded = parse_push_data(bodies[0]);
    ASSERT_EQ(decoded.uplinks.size(), 1u);
    const v1::Uplink& up = decoded.uplinks[0];
    EXPECT_EQ(up.modulation().fsk().bitrate(), 50000u);
    EXPECT_EQ(up.crc(), v1::CRC_BAD);
    EXPECT_EQ(up.payload(), "abc");
    EXPECT_FALSE(up.has_gps_time_us());
    ASSERT_TRUE(decoded.stat);
    const Stat& s = *decoded.stat;
    EXPECT_EQ(s.unix_time_s, stat.unix_time_s);
    EXPECT_DOUBLE_EQ(*s.latitude, -33.86785);
    EXPECT_DOUBLE_EQ(*s.longitude, 151.20732);
    EXPECT_EQ(s.altitude_m, -5);
    EXPECT_EQ(s.rxnb, 10u);
    EXPECT_EQ(s.rxok, 9u);
    EXPECT_EQ(s.rxfw, 8u);
    EXPECT_DOUBLE_EQ(s.ackr, 87.5);
    EXPECT_EQ(s.dwnb, 3u);
    EXPECT_EQ(s.txnb, 2u);
    EXPECT_DOUBLE_EQ(*s.temperature_c, -4.5);
    EXPECT_EQ(stat_json(s), stat_json(stat));
}

TEST(PushData, SpecExampleDecodes)
{
    const PushData decoded = parse_push_data(
        R"({"rxpk":[{"tmst":3512348611,"time":"2020-10-01T09:30:52.592567Z","tmms":1285579871592,)"
        R"("ftime":85224290,"chan":2,"rfch":0,"freq":866.349812,"mid":3,"stat":1,"modu":"LORA",)"
        R"("datr":"SF7BW125","codr":"4/6","rssi":-35,"lsnr":5.1,"foff":-3313,"size":32,)"
        R"("data":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}]})");
    ASSERT_EQ(decoded.uplinks.size(), 1u);
    // The example's "time" is one second off its tmms, so tmms wins (to the ms).
    EXPECT_EQ(decoded.uplinks[0].gps_time_us(), 1285579871592000u);
    EXPECT_EQ(decoded.uplinks[0].frequency_hz(), 866349812u);
}

TEST(PushData, StrictTypesFailTheDatagram)
{
    const std::string good =
        R"("tmst":1,"freq":868.1,"modu":"LORA","datr":"SF7BW125","codr":"4/5","rssi":-35,)"
        R"("size":3,"data":"YWJj")";
    EXPECT_EQ(push_data_error("{\"rxpk\":[{" + good + "}]}"), "");
    const std::pair<std::string, std::string> cases[] = {
        {R"("rssi":-35.5)", "rxpk[0].rssi: not an integer"},
        {R"("rssi":-35.0)", "rxpk[0].rssi: not an integer"},
        {R"("rssi":40000)", "rxpk[0].rssi:"},
        {R"("size":256)", "rxpk[0].size:"},
        {R"("tmst":4294967296)", "rxpk[0].tmst:"},
        {R"("tmst":-1)", "rxpk[0].tmst:"},
        {R"("chan":256)", "rxpk[0].chan:"},
        {R"("stat":128)", "rxpk[0].stat:"},
        {R"("modu":"Fsk")", "rxpk[0].modu:"},
        {R"("modu":"LR-FHSS")", "rxpk[0].modu:"},
        {R"("datr":7)", "rxpk[0].datr:"},
        {R"("codr":"4/9")", "rxpk[0].codr:"},
        {R"("data":"YWI")", "rxpk[0].data: not padded base64"},
        {R"("time":"2020-10-01 09:30:52Z")", "rxpk[0].time:"},
        {R"("freq":"868.1")", "rxpk[0].freq:"},
        {R"("freq":0.0000004)", "rxpk[0].freq: below 1 Hz"},
        {R"("lsnr":"5")", "rxpk[0].lsnr:"}};
    for (const auto& [field, prefix] : cases) {
        const std::string error = push_data_error("{\"rxpk\":[{" + good + "," + field + "}]}");
        EXPECT_TRUE(starts_with(error, prefix)) << field << ": " << error;
    }
    // Stat errors fail the whole datagram, rxpk included.
    EXPECT_TRUE(
        starts_with(push_data_error("{\"rxpk\":[{" + good +
                                    R"(}],"stat":{"time":"2014-01-12T08:59:28Z","rxnb":1,"rxok":1,)"
                                    R"("rxfw":1,"ackr":100,"dwnb":0,"txnb":0}})"),
                    "stat.time: expected \"YYYY-MM-DD hh:mm:ss GMT\""));
    EXPECT_EQ(push_data_error(R"({"stat":{"time":"2014-01-12 08:59:28 GMT","rxnb":1}})"),
              "stat.rxok: missing");
    EXPECT_EQ(push_data_error(R"({"rxpk":{}})"), "rxpk: not an array");
    EXPECT_EQ(push_data_error(R"({"rxpk":[1]})"), "rxpk[0]: not an object");
    EXPECT_EQ(push_data_error("{\"rxpk\":[{" + good + "},{}]}"), "rxpk[1].tmst: missing");
}

TEST(PushData, GpsTimeFromTmmsAndTime)
{
    const std::string base = R"("tmst":1,"freq":868.1,"modu":"LORA","datr":"SF7BW125",)"
                             R"("size":0,"data":"")";
    auto gps = [&](const std::string& fields) {
        const auto up = parse_push_data("{\"rxpk\":[{" + base + fields + "}]}").uplinks.at(0);
        return up.has_gps_time_us() ? std::optional<uint64_t>(up.gps_time_us()) : std::nullopt;
    };
    EXPECT_EQ(gps(""), std::nullopt);
    EXPECT_EQ(gps(R"(,"time":"2020-10-01T09:30:53.592567Z")"), std::nullopt); // time alone
    EXPECT_EQ(gps(R"(,"tmms":1285579871592)"), 1285579871592000u);
    EXPECT_EQ(gps(R"(,"tmms":1285579871592,"time":"2020-10-01T09:30:53.592567Z")"),
              1285579871592567u);
    EXPECT_EQ(gps(R"(,"tmms":1285579871592,"time":"2020-10-01T11:30:53.592567+02:00")"),
              1285579871592567u);
}

TEST(PushData, EmptyBodies)
{
    EXPECT_TRUE(parse_push_data("{}").uplinks.empty());
    EXPECT_FALSE(parse_push_data("{}").stat);
    EXPECT_TRUE(parse_push_data(R"({"rxpk":[]})").uplinks.empty());
    EXPECT_THROW(parse_push_data(""), ParseError);
    EXPECT_THROW(parse_push_data("[]"), ParseError);
}
