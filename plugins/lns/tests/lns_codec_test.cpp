// Table-driven tests of the LNS codec against the vectors in tests/vectors (a copy of
// shared/vectors: TTS, ChirpStack and Basics Station reference data) and spec lns.md.
#include "lns_codec.hpp"
#include "lora_frame.hpp"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

using namespace forwarder::lns;
using namespace forwarder::support;
using Poco::Dynamic::Var;
using JsonObject = Poco::JSON::Object;
using JsonArray = Poco::JSON::Array;

namespace {

const std::filesystem::path kVectors = FORWARDER_VECTORS_DIR;

std::string read_vector(const std::string& name)
{
    std::ifstream in(kVectors / name, std::ios::binary);
    EXPECT_TRUE(in) << "missing vector " << name;
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

std::string trimmed(std::string text)
{
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
        text.pop_back();
    }
    return text;
}

std::string repeat(const std::string& text, int count)
{
    std::string out;
    for (int i = 0; i < count; ++i) {
        out += text;
    }
    return out;
}

JsonObject::Ptr parse_json(const std::string& text)
{
    Poco::JSON::Parser parser;
    return parser.parse(text).extract<JsonObject::Ptr>();
}

// Case-insensitive key lookup (servers spell some keys differently: Mhdr, Fcnt, msgType).
Var field(const JsonObject& object, const std::string& key)
{
    for (auto it = object.begin(); it != object.end(); ++it) {
        if (it->first.size() == key.size() &&
            std::equal(key.begin(), key.end(), it->first.begin(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) ==
                       std::tolower(static_cast<unsigned char>(b));
            })) {
            return it->second;
        }
    }
    return {};
}

int64_t as_int(const Var& value)
{
    if (value.type() == typeid(Poco::UInt64)) {
        return static_cast<int64_t>(value.extract<Poco::UInt64>());
    }
    EXPECT_EQ(value.type(), typeid(Poco::Int64)) << "not an integer: " << value.toString();
    return value.type() == typeid(Poco::Int64) ? value.extract<Poco::Int64>() : 0;
}

uint64_t as_uint(const Var& value)
{
    if (value.type() == typeid(Poco::UInt64)) {
        return value.extract<Poco::UInt64>();
    }
    return static_cast<uint64_t>(as_int(value));
}

double as_double(const Var& value)
{
    if (value.type() == typeid(double)) {
        return value.extract<double>();
    }
    return static_cast<double>(as_int(value));
}

std::string bytes(const std::string& hex)
{
    std::string out;
    EXPECT_TRUE(parse_hex(hex, out)) << hex;
    return out;
}

uint64_t eui_of(const std::string& text)
{
    uint64_t eui = 0;
    EXPECT_TRUE(parse_eui(text, eui)) << text;
    return eui;
}

Decoded decode_ok(const std::string& json)
{
    Decoded decoded;
    std::string error;
    EXPECT_TRUE(decode_message(json, decoded, error)) << error << "\n" << json;
    return decoded;
}

template <typename T> T decode_as(const std::string& json)
{
    Decoded decoded = decode_ok(json);
    EXPECT_TRUE(std::holds_alternative<T>(decoded.message)) << json;
    if (auto* value = std::get_if<T>(&decoded.message)) {
        return *value;
    }
    return T{};
}

std::string decode_error(const std::string& json)
{
    Decoded decoded;
    std::string error;
    EXPECT_FALSE(decode_message(json, decoded, error)) << json;
    return error;
}

RouterConfig config_from(const std::string& file)
{
    return decode_as<RouterConfig>(read_vector(file));
}

void put_le(std::string& out, uint64_t value, int count)
{
    for (int i = 0; i < count; ++i) {
        out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
    }
}

// Rebuilds the PHYPayload from an uplink message the way TTS and CS do (§7.4, §10.1).
std::string rebuild_phy(const JsonObject& message)
{
    const std::string msgtype = field(message, "msgtype").toString();
    std::string phy;
    if (msgtype == "jreq") {
        phy.push_back(static_cast<char>(as_int(field(message, "MHdr"))));
        put_le(phy, eui_of(field(message, "JoinEui").toString()), 8);
        put_le(phy, eui_of(field(message, "DevEui").toString()), 8);
        put_le(phy, static_cast<uint64_t>(as_int(field(message, "DevNonce"))), 2);
        put_le(phy, static_cast<uint32_t>(as_int(field(message, "MIC"))), 4);
    } else if (msgtype == "updf" || msgtype == "dndf") {
        phy.push_back(static_cast<char>(as_int(field(message, "MHdr"))));
        put_le(phy, static_cast<uint32_t>(as_int(field(message, "DevAddr"))), 4);
        phy.push_back(static_cast<char>(as_int(field(message, "FCtrl"))));
        put_le(phy, static_cast<uint64_t>(as_int(field(message, "FCnt"))), 2);
        phy += bytes(field(message, "FOpts").toString());
        const int64_t port = as_int(field(message, "FPort"));
        if (port >= 0) {
            phy.push_back(static_cast<char>(port));
        }
        phy += bytes(field(message, "FRMPayload").toString());
        put_le(phy, static_cast<uint32_t>(as_int(field(message, "MIC"))), 4);
    } else {
        phy = bytes(field(message, "FRMPayload").toString());
    }
    return phy;
}

// Uplink metadata as given by a server-side vector (DR, Freq and upinfo).
UplinkMeta meta_from(const JsonObject& message)
{
    UplinkMeta meta;
    meta.dr = static_cast<int>(as_int(field(message, "DR")));
    meta.freq_hz = as_uint(field(message, "Freq"));
    const JsonObject& upinfo = *field(message, "upinfo").extract<JsonObject::Ptr>();
    Var rctx = field(upinfo, "rctx");
    if (rctx.isEmpty()) {
        rctx = field(upinfo, "rtcx"); // TTS's struct tag
    }
    meta.rctx = static_cast<uint32_t>(as_int(rctx));
    meta.xtime = as_uint(field(upinfo, "xtime"));
    meta.gpstime = as_uint(field(upinfo, "gpstime"));
    meta.rssi = as_double(field(upinfo, "rssi"));
    meta.snr = as_double(field(upinfo, "snr"));
    meta.rxtime = as_double(field(upinfo, "rxtime"));
    return meta;
}

std::vector<uint64_t> multi_sf_freqs(const forwarder::v1::RadioConfig& radio)
{
    std::vector<uint64_t> freqs;
    for (const auto& channel : radio.multi_sf_channels()) {
        freqs.push_back(channel.frequency_hz());
        EXPECT_EQ(channel.bandwidth_hz(), 125000u);
        EXPECT_EQ(channel.min_spreading_factor(), 7u);
        EXPECT_EQ(channel.max_spreading_factor(), 12u);
    }
    return freqs;
}

std::vector<uint64_t> rf_centres(const forwarder::v1::RadioConfig& radio)
{
    std::vector<uint64_t> centres;
    for (const auto& chain : radio.rf_chains()) {
        centres.push_back(chain.center_frequency_hz());
    }
    return centres;
}

forwarder::v1::Modulation lora(uint32_t sf, uint32_t bw_hz)
{
    forwarder::v1::Modulation modulation;
    modulation.mutable_lora()->set_spreading_factor(sf);
    modulation.mutable_lora()->set_bandwidth_hz(bw_hz);
    return modulation;
}

forwarder::v1::Modulation fsk()
{
    forwarder::v1::Modulation modulation;
    modulation.mutable_fsk()->set_bitrate(50000);
    return modulation;
}

UplinkMeta default_meta()
{
    UplinkMeta meta;
    meta.dr = 5;
    meta.freq_hz = 868100000;
    meta.xtime = 0x0011000000087154ULL;
    return meta;
}

std::string encode_ok(const std::string& phy, const RouterConfig& config = {}, bool heard = false,
                      const UplinkMeta& meta = default_meta())
{
    std::string json, why;
    EXPECT_TRUE(encode_uplink(phy, meta, config, heard, json, why)) << why;
    return json;
}

std::string encode_dropped(const std::string& phy, const RouterConfig& config = {},
                           bool heard = false, const UplinkMeta& meta = default_meta())
{
    std::string json, why;
    EXPECT_FALSE(encode_uplink(phy, meta, config, heard, json, why)) << json;
    EXPECT_TRUE(json.empty());
    EXPECT_FALSE(why.empty());
    return why;
}

const char* const kDnmsgBase = R"({"msgtype":"dnmsg","DevEui":"00-00-00-00-00-00-00-01","dC":0,)"
                               R"("diid":1,"pdu":"0102","RxDelay":1,"RX1DR":2,)"
                               R"("RX1Freq":868500000,"xtime":4785074604634452)";

std::string dnmsg_with(const std::string& extra)
{
    return std::string(kDnmsgBase) + extra + "}";
}

} // namespace

// ---- vector coverage --------------------------------------------------------------------

TEST(Vectors, EveryFileIsCoveredByATest)
{
    // Each file below is read by at least one test in this file; CUPS data belongs to the
    // CUPS codec. A new vector file fails here until it is given a test (or excluded).
    const std::set<std::string> used = {
        "basicstation_ref/pysys_router_config_EU863_6ch.json",
        "basicstation_ref/pysys_router_config_KR920.json",
        "basicstation_ref/pysys_router_config_US902_8ch.json",
        "basicstation_ref/selftest_lora_frames.json",
        "chirpstack/cs_dnmsg_classA_rx1_rx2.json",
        "chirpstack/cs_dnmsg_classB.json",
        "chirpstack/cs_dntxed.json",
        "chirpstack/cs_eui64_cases.json",
        "chirpstack/cs_jreq.json",
        "chirpstack/cs_propdf.json",
        "chirpstack/cs_router_config_eu868_3ch.json",
        "chirpstack/cs_router_config_eu868_8ch_std_fsk.json",
        "chirpstack/cs_router_info_request.json",
        "chirpstack/cs_router_info_response.json",
        "chirpstack/cs_timesync_response.json",
        "chirpstack/cs_timesync_transfer.json",
        "chirpstack/cs_updf_fport_no_payload.json",
        "chirpstack/cs_updf_fport_payload.json",
        "chirpstack/cs_updf_no_fport.json",
        "chirpstack/cs_uplink_expected_phypayload.json",
        "tts/tts_dnmsg_classA_timestamp.json",
        "tts/tts_dnmsg_classB_absolute.json",
        "tts/tts_id6_cases.json",
        "tts/tts_marshal_dntxed.json",
        "tts/tts_marshal_jreq.json",
        "tts/tts_marshal_timesync_req.json",
        "tts/tts_marshal_updf.json",
        "tts/tts_router_config_eu868_testfp_debug.json",
        "tts/tts_router_config_eu868_testfp_prod.json",
        "tts/tts_router_config_us915_unittest.json",
        "tts/tts_router_info_error_empty_eui.json",
        "tts/tts_router_info_request_plain.json",
        "tts/tts_router_info_request_prefixed.json",
        "tts/tts_router_info_response.json",
        "tts/tts_timesync_response_example.json",
        "tts/tts_timesync_transfer_muxtime_only.json",
        "tts/tts_timesync_transfer_xtime_gps_unittest.json",
        "tts/tts_version_debug.json",
        "tts/tts_version_prod.json",
        "tts/tts_ws_jreq_rtt.json",
        "tts/tts_ws_updf_rtt.json",
        "README.md",
    };
    const std::set<std::string> cups = {
        "tts/tts_cups_response_lns_token.json",
        "tts/tts_cups_token_credentials.json",
        "tts/tts_cups_update_info_request.json",
    };
    size_t files = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(kVectors)) {
        if (!entry.is_regular_file()) {
            continue;
        }
        ++files;
        const std::string name = entry.path().lexically_relative(kVectors).generic_string();
        EXPECT_TRUE(used.count(name) == 1 || cups.count(name) == 1)
            << "vector without a test: " << name;
    }
    EXPECT_EQ(files, used.size() + cups.size());
    // Every JSON vector is well-formed JSON.
    for (const std::string& name : used) {
        if (name.ends_with(".json")) {
            Poco::JSON::Parser parser;
            EXPECT_NO_THROW(parser.parse(read_vector(name))) << name;
        }
    }
}

// ---- EUIs and ID6 ---------------------------------------------------------------------

TEST(Eui, Id6FormatFollowsTheReferenceTable)
{
    const std::pair<uint64_t, const char*> cases[] = {
        {0x0000000000000000, "::0"},
        {0x0000000000000001, "::1"},
        {0x0000000000020001, "::2:1"},
        {0x0004000000000000, "4::"},
        {0x0004000300000000, "4:3::"},
        {0x0004000000000001, "4::1"},
        {0x008000000000FD46, "80::fd46"},
        {0xB827EBFFFE6151CF, "b827:ebff:fe61:51cf"},
        {0x0000000300020000, "0:3:2:0"},
        {0x000000FFFE000001, "0:ff:fe00:1"},
        {0x1111111111111111, "1111:1111:1111:1111"},
    };
    for (const auto& [eui, text] : cases) {
        EXPECT_EQ(format_id6(eui), text);
        uint64_t back = 0;
        EXPECT_TRUE(parse_eui(text, back)) << text;
        EXPECT_EQ(back, eui) << text;
    }
}

TEST(Eui, DashedFormat)
{
    EXPECT_EQ(format_eui_dashed(0xEFCDAB8967452301), "EF-CD-AB-89-67-45-23-01");
    EXPECT_EQ(format_eui_dashed(1), "00-00-00-00-00-00-00-01");
}

TEST(Eui, ParserRules)
{
    const std::pair<const char*, uint64_t> good[] = {
        {"ff:fe00:1", 0x000000FFFE000001},
        {"3C:4D:A1:B2:C3:D4", 0x3C4DA1B2C3D4}, // 5 colons: concatenated, like the reference
        {"0000000000000001", 1},
        {"00-00-00-00-00-00-00-01", 1},
        {"B827:EBFF:FE61:51CF", 0xB827EBFFFE6151CF},
        {"router-80::fd46", 0x008000000000FD46},
        {"muxs-::0", 0},
        {"a::b:c", 0x000A0000000B000C},
    };
    for (const auto& [text, eui] : good) {
        uint64_t value = 0;
        EXPECT_TRUE(parse_eui(text, value)) << text;
        EXPECT_EQ(value, eui) << text;
    }
    const char* bad[] = {"",
                         "::",
                         "xyz",
                         "01-02:03",
                         "1:2:3:4:5:6:7:8:9",
                         "1-2-3-4-5-6-7-8-9",
                         "11223344556677889",
                         "1:::2",
                         "12345::1",
                         ":1:2",
                         "1:2:",
                         "ROUTER-1::2",
                         "router-aa-bb",
                         " ::1",
                         "::1 "};
    for (const char* text : bad) {
        uint64_t value = 0;
        EXPECT_FALSE(parse_eui(text, value)) << text;
    }
}

TEST(Eui, TtsId6Table)
{
    const JsonObject::Ptr table = parse_json(read_vector("tts/tts_id6_cases.json"));
    const JsonArray& marshal = *table->getArray("marshal");
    ASSERT_EQ(marshal.size(), 3u);
    for (size_t i = 0; i < marshal.size(); ++i) {
        const JsonObject& c = *marshal.getObject(static_cast<unsigned>(i));
        const uint64_t eui = eui_of(c.getValue<std::string>("eui"));
        std::string prefix = c.getValue<std::string>("prefix");
        std::transform(prefix.begin(), prefix.end(), prefix.begin(),
                       [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
        const std::string expected = c.getValue<std::string>("json");
        EXPECT_EQ("\"" + (prefix.empty() ? "" : prefix + "-") + format_id6(eui) + "\"", expected);
    }

    // Where the reference rules (which we follow) differ from TTS's id6 parser: a 6-group
    // MAC-like value is a 48-bit EUI for the reference (spec §2.3), TTS rejects it.
    const std::map<std::string, uint64_t> reference_accepts = {
        {"\"aa:bb:cc:01:02:03\"", 0xAABBCC010203},
        {"\"aa-bb-cc-01-02-03\"", 0xAABBCC010203},
    };
    const JsonArray& unmarshal = *table->getArray("unmarshal");
    ASSERT_EQ(unmarshal.size(), 21u);
    for (size_t i = 0; i < unmarshal.size(); ++i) {
        const JsonObject& c = *unmarshal.getObject(static_cast<unsigned>(i));
        const std::string json = c.getValue<std::string>("json");
        bool ok = c.getValue<bool>("ok");
        uint64_t expected = ok ? eui_of(c.getValue<std::string>("eui")) : 0;
        if (auto it = reference_accepts.find(json); it != reference_accepts.end()) {
            ok = true;
            expected = it->second;
        }
        // 1. As a DevEui value in a dnmsg (covers the unquoted integer and invalid tokens).
        const std::string message =
            R"({"msgtype":"dnmsg","DevEui":)" + json +
            R"(,"dC":0,"diid":1,"pdu":"00","RX1DR":0,"RX1Freq":1,"xtime":1})";
        Decoded decoded;
        std::string error;
        EXPECT_EQ(decode_message(message, decoded, error), ok) << json << " " << error;
        if (ok) {
            ASSERT_TRUE(std::holds_alternative<Downlink>(decoded.message));
            EXPECT_EQ(std::get<Downlink>(decoded.message).dev_eui, expected) << json;
        }
        // 2. Quoted strings directly through parse_eui.
        if (json.size() >= 2 && json.front() == '"' && json.back() == '"') {
            uint64_t value = 0;
            EXPECT_EQ(parse_eui(json.substr(1, json.size() - 2), value), ok) << json;
            if (ok) {
                EXPECT_EQ(value, expected) << json;
            }
        }
    }

    // Discovery queries TTS answers with an error: the router values (with embedded quotes)
    // are not EUIs for us either, and none of them is something our encoder produces.
    const JsonArray& queries = *table->getArray("discover_queries_ws_test");
    for (size_t i = 0; i < queries.size(); ++i) {
        const JsonObject::Ptr query =
            parse_json(queries.getObject(static_cast<unsigned>(i))->getValue<std::string>("query"));
        if (query->has("router")) {
            uint64_t value = 0;
            EXPECT_FALSE(parse_eui(query->getValue<std::string>("router"), value));
        } else {
            EXPECT_FALSE(query->has("router"));
        }
    }
}

TEST(Eui, ChirpStackEui64Table)
{
    const JsonObject::Ptr table = parse_json(read_vector("chirpstack/cs_eui64_cases.json"));
    const JsonArray& unmarshal = *table->getArray("unmarshal");
    ASSERT_EQ(unmarshal.size(), 6u);
    for (size_t i = 0; i < unmarshal.size(); ++i) {
        const JsonObject& c = *unmarshal.getObject(static_cast<unsigned>(i));
        uint64_t value = 0;
        const std::string text = c.getValue<std::string>("text");
        ASSERT_TRUE(parse_eui(text, value)) << text;
        EXPECT_EQ(value, eui_of(c.getValue<std::string>("eui"))) << text;
    }
    // CS writes four 4-digit groups; our ID6 output is the reference form, which CS parses.
    EXPECT_EQ(format_id6(0x0102030405060708), "102:304:506:708");
}

// ---- discovery --------------------------------------------------------------------------

TEST(Discovery, RequestIsPlainId6)
{
    EXPECT_EQ(encode_router_info_request(0x1111111111111111),
              trimmed(read_vector("tts/tts_router_info_request_plain.json")));
    // The prefixed TTS form names the same EUI; we never send the prefix (CS rejects it).
    const JsonObject::Ptr prefixed =
        parse_json(read_vector("tts/tts_router_info_request_prefixed.json"));
    const uint64_t eui = eui_of(prefixed->getValue<std::string>("router"));
    EXPECT_EQ(eui, 0x1111111111111111u);
    EXPECT_EQ(encode_router_info_request(eui).find("router-", 10), std::string::npos);
    // CS's request form (full 4-digit groups) parses to the same EUI as our form.
    const JsonObject::Ptr cs = parse_json(read_vector("chirpstack/cs_router_info_request.json"));
    const uint64_t cs_eui = eui_of(cs->getValue<std::string>("router"));
    EXPECT_EQ(cs_eui, 0x0102030405060708u);
    EXPECT_EQ(encode_router_info_request(cs_eui), R"({"router":"102:304:506:708"})");
}

TEST(Discovery, TtsResponse)
{
    RouterInfo info;
    std::string error;
    ASSERT_TRUE(decode_router_info(read_vector("tts/tts_router_info_response.json"), info, error))
        << error;
    EXPECT_EQ(info.error, "");
    EXPECT_EQ(info.router, "router-1111:1111:1111:1111");
    EXPECT_EQ(info.muxs, "muxs-::0");
    EXPECT_EQ(info.uri, "wss://thethings.example.com:8887/traffic/eui-1111111111111111");
    WsUri uri;
    ASSERT_TRUE(parse_ws_uri(info.uri, true, uri, error)) << error;
    EXPECT_TRUE(uri.tls);
    EXPECT_EQ(uri.host, "thethings.example.com");
    EXPECT_EQ(uri.port, 8887);
    EXPECT_EQ(uri.path, "/traffic/eui-1111111111111111");
}

TEST(Discovery, ChirpStackResponse)
{
    RouterInfo info;
    std::string error;
    ASSERT_TRUE(
        decode_router_info(read_vector("chirpstack/cs_router_info_response.json"), info, error));
    EXPECT_EQ(info.error, "");
    WsUri uri;
    ASSERT_TRUE(parse_ws_uri(info.uri, true, uri, error)) << error;
    EXPECT_FALSE(uri.tls);
    EXPECT_EQ(uri.host, "127.0.0.1");
    EXPECT_EQ(uri.port, 3001);
    EXPECT_EQ(uri.path, "/gateway/0102030405060708");
}

TEST(Discovery, ErrorResponseIsARejection)
{
    RouterInfo info;
    std::string error;
    ASSERT_TRUE(
        decode_router_info(read_vector("tts/tts_router_info_error_empty_eui.json"), info, error));
    EXPECT_EQ(info.error, "Empty router EUI provided");
    EXPECT_EQ(info.uri, "");

    // No uri / an unusable uri: not a server error; the caller's parse_ws_uri rejects it.
    WsUri uri;
    ASSERT_TRUE(decode_router_info(R"({"router":"::1","muxs":"::0"})", info, error));
    EXPECT_EQ(info.error, "");
    EXPECT_FALSE(parse_ws_uri(info.uri, true, uri, error));
    ASSERT_TRUE(decode_router_info(R"({"uri":"wss://h/x","unknown":[1,2]})", info, error));
    EXPECT_EQ(info.error, "");
    EXPECT_FALSE(parse_ws_uri(info.uri, true, uri, error));
    EXPECT_NE(error.find("port"), std::string::npos) << error;
    ASSERT_TRUE(decode_router_info(R"({"uri":"wss://h:1","error":""})", info, error));
    EXPECT_EQ(info.error, "server error without text");
    ASSERT_TRUE(decode_router_info(R"({"uri":"wss://h:1/p","error":5})", info, error));
    EXPECT_EQ(info.error, "server error without text");

    EXPECT_FALSE(decode_router_info("not json", info, error));
    EXPECT_FALSE(decode_router_info("[]", info, error));
    EXPECT_FALSE(decode_router_info(R"({"uri":5})", info, error));
    EXPECT_NE(error.find("uri"), std::string::npos);
}

TEST(Discovery, WsUriRules)
{
    WsUri uri;
    std::string error;
    EXPECT_TRUE(parse_ws_uri("ws://host:80  \n", false, uri, error));
    EXPECT_EQ(uri.host, "host");
    EXPECT_EQ(uri.port, 80);
    EXPECT_EQ(uri.path, "");
    EXPECT_TRUE(parse_ws_uri("WSS://[::1]:8887/traffic", true, uri, error));
    EXPECT_TRUE(uri.tls);
    EXPECT_EQ(uri.host, "::1");
    EXPECT_EQ(uri.path, "/traffic");
    const std::pair<const char*, bool> bad[] = {
        {"ws://host", false},       {"wss://host:/x", true},    {"http://host:80", false},
        {"ws://:80", false},        {"ws://host:65536", false}, {"ws://host:0", false},
        {"ws://host:80", true},     {"ws://us@host:80", false}, {"ws://[::1/x", true},
        {"ws://host:80/a b", true}, {"host:80", false},         {"ws://host:8o", false},
    };
    for (const auto& [text, require_path] : bad) {
        EXPECT_FALSE(parse_ws_uri(text, require_path, uri, error)) << text;
        EXPECT_FALSE(error.empty());
    }
    EXPECT_FALSE(
        parse_ws_uri("ws://" + std::string(121, 'a') + ":1", false, uri, error)); // 128 chars
    EXPECT_TRUE(parse_ws_uri("ws://" + std::string(120, 'a') + ":1", false, uri, error));
}

// ---- router_config ----------------------------------------------------------------------

struct RouterConfigCase {
    const char* file;
    const char* region_text;
    Region region;
    std::optional<std::vector<uint32_t>> net_ids;
    bool join_eui_filter;
    uint64_t freq_min, freq_max;
    std::vector<uint64_t> centres;
    std::vector<uint64_t> multi_sf;
    uint64_t std_freq; // 0 = none
    uint32_t std_bw;
    uint32_t std_sf;
    uint64_t fsk_freq; // 0 = none
    float max_eirp;
    int dr7_sf; // 0 FSK (EU), -1 reference US undefined, 0 TTS undefined
    int dr8_sf; // -1 CS/reference, 0 TTS
    bool beacon;
    const char* warning; // substring of one warning, or nullptr for none
};

class RouterConfigVectors : public ::testing::TestWithParam<RouterConfigCase> {};

TEST_P(RouterConfigVectors, Decodes)
{
    const RouterConfigCase& c = GetParam();
    const Decoded decoded = decode_ok(read_vector(c.file));
    ASSERT_TRUE(std::holds_alternative<RouterConfig>(decoded.message));
    const RouterConfig& config = std::get<RouterConfig>(decoded.message);
    EXPECT_EQ(config.region_text, c.region_text);
    EXPECT_EQ(config.region, c.region);
    EXPECT_EQ(config.hwspec, "sx1301/1");
    EXPECT_EQ(config.net_ids, c.net_ids);
    EXPECT_EQ(config.join_euis.has_value(), c.join_eui_filter);
    EXPECT_EQ(config.freq_min, c.freq_min);
    EXPECT_EQ(config.freq_max, c.freq_max);
    EXPECT_FALSE(config.json_join_eui_key);
    ASSERT_TRUE(decoded.mux_time.has_value());
    ASSERT_EQ(config.radios.size(), 1u);
    const auto& radio = config.radios[0];
    EXPECT_EQ(radio.radio(), 0u);
    EXPECT_EQ(rf_centres(radio), c.centres);
    EXPECT_TRUE(radio.rf_chains(0).tx_enabled());
    EXPECT_EQ(multi_sf_freqs(radio), c.multi_sf);
    EXPECT_EQ(radio.has_std_channel(), c.std_freq != 0);
    if (c.std_freq != 0) {
        EXPECT_EQ(radio.std_channel().frequency_hz(), c.std_freq);
        EXPECT_EQ(radio.std_channel().bandwidth_hz(), c.std_bw);
        EXPECT_EQ(radio.std_channel().min_spreading_factor(), c.std_sf);
        EXPECT_EQ(radio.std_channel().max_spreading_factor(), c.std_sf);
    }
    EXPECT_EQ(radio.has_fsk_channel(), c.fsk_freq != 0);
    if (c.fsk_freq != 0) {
        EXPECT_EQ(radio.fsk_channel().frequency_hz(), c.fsk_freq);
        EXPECT_EQ(radio.fsk_channel().bitrate(), 50000u);
    }
    EXPECT_EQ(radio.tx_frequency_min_hz(), c.freq_min);
    EXPECT_EQ(radio.tx_frequency_max_hz(), c.freq_max);
    EXPECT_FLOAT_EQ(radio.max_eirp_dbm(), c.max_eirp);
    EXPECT_EQ(radio.region(), region_name(c.region)); // EU868, US915, KR920: family = canonical
    EXPECT_EQ(config.region_canonical, radio.region());
    EXPECT_EQ(config.drs[7].sf, c.dr7_sf);
    EXPECT_EQ(config.drs[8].sf, c.dr8_sf);
    EXPECT_EQ(config.beaconing.has_value(), c.beacon);
    EXPECT_EQ(radio.has_beaconing(), c.beacon);
    if (c.warning == nullptr) {
        EXPECT_TRUE(config.warnings.empty()) << config.warnings.front();
    } else {
        ASSERT_EQ(config.warnings.size(), 1u);
        EXPECT_NE(config.warnings[0].find(c.warning), std::string::npos) << config.warnings[0];
    }
}

const std::vector<uint64_t> kTtsEuMultiSf = {868100000, 868300000, 868500000, 867100000,
                                             867300000, 867500000, 867700000, 867900000};

INSTANTIATE_TEST_SUITE_P(
    All, RouterConfigVectors,
    ::testing::Values(RouterConfigCase{"tts/tts_router_config_eu868_testfp_prod.json",
                                       "EU863",
                                       Region::EU868,
                                       std::nullopt,
                                       false,
                                       863000000,
                                       870000000,
                                       {867500000, 868500000},
                                       kTtsEuMultiSf,
                                       868300000,
                                       250000,
                                       7,
                                       868800000,
                                       16,
                                       0,
                                       0,
                                       true,
                                       nullptr},
                      RouterConfigCase{"tts/tts_router_config_eu868_testfp_debug.json",
                                       "EU863",
                                       Region::EU868,
                                       std::nullopt,
                                       false,
                                       863000000,
                                       870000000,
                                       {867500000, 868500000},
                                       kTtsEuMultiSf,
                                       868300000,
                                       250000,
                                       7,
                                       868800000,
                                       16,
                                       0,
                                       0,
                                       true,
                                       nullptr},
                      RouterConfigCase{"tts/tts_router_config_us915_unittest.json",
                                       "US902",
                                       Region::US915,
                                       std::nullopt,
                                       false,
                                       909000000,
                                       925000000,
                                       {922300000},
                                       {},
                                       0,
                                       0,
                                       0,
                                       0,
                                       26,
                                       0,
                                       12,
                                       true,
                                       nullptr},
                      RouterConfigCase{"chirpstack/cs_router_config_eu868_3ch.json",
                                       "EU863",
                                       Region::EU868,
                                       std::vector<uint32_t>{66051},
                                       true,
                                       863000000,
                                       870000000,
                                       {868500000},
                                       {868100000, 868300000, 868500000},
                                       0,
                                       0,
                                       0,
                                       0,
                                       16,
                                       0,
                                       -1,
                                       false,
                                       nullptr},
                      RouterConfigCase{"chirpstack/cs_router_config_eu868_8ch_std_fsk.json",
                                       "EU863",
                                       Region::EU868,
                                       std::vector<uint32_t>{66051},
                                       true,
                                       863000000,
                                       870000000,
                                       {867500000, 868500000},
                                       {867100000, 867300000, 867500000, 867700000, 867900000,
                                        868100000, 868300000, 868500000},
                                       868300000,
                                       250000,
                                       7,
                                       0,
                                       16,
                                       0,
                                       -1,
                                       false,
                                       "chan_FSK"},
                      RouterConfigCase{
                          "basicstation_ref/pysys_router_config_EU863_6ch.json",
                          "EU868",
                          Region::EU868,
                          std::nullopt,
                          false,
                          863000000,
                          870000000,
                          {868475000, 869287500},
                          {868100000, 868300000, 868500000, 868850000, 869050000, 869525000},
                          0,
                          0,
                          0,
                          0,
                          16,
                          0,
                          -1,
                          false,
                          nullptr},
                      RouterConfigCase{"basicstation_ref/pysys_router_config_US902_8ch.json",
                                       "US915",
                                       Region::US915,
                                       std::nullopt,
                                       false,
                                       902000000,
                                       928000000,
                                       {902700000, 903300000},
                                       {902300000, 902500000, 902700000, 902900000, 903100000,
                                        903300000, 903500000, 903700000},
                                       903000000,
                                       500000,
                                       8,
                                       0,
                                       30,
                                       -1,
                                       12,
                                       false,
                                       "chan_Lora_std"},
                      RouterConfigCase{"basicstation_ref/pysys_router_config_KR920.json",
                                       "KR920",
                                       Region::KR920,
                                       std::nullopt,
                                       false,
                                       920900000,
                                       923300000,
                                       {922300000},
                                       {922100000, 922300000, 922500000},
                                       0,
                                       0,
                                       0,
                                       0,
                                       23,
                                       0,
                                       -1,
                                       false,
                                       nullptr}));

TEST(RouterConfig, TtsDebugFlagsAreIgnored)
{
    const RouterConfig prod = config_from("tts/tts_router_config_eu868_testfp_prod.json");
    const RouterConfig debug = config_from("tts/tts_router_config_eu868_testfp_debug.json");
    ASSERT_EQ(prod.radios.size(), debug.radios.size());
    EXPECT_EQ(prod.radios[0].SerializeAsString(), debug.radios[0].SerializeAsString());
    ASSERT_TRUE(prod.beaconing.has_value());
    EXPECT_EQ(prod.beaconing->dr, 3);
    EXPECT_EQ(prod.beaconing->layout, (std::array<int, 3>{2, 8, 17}));
    EXPECT_EQ(prod.beaconing->freqs, std::vector<uint64_t>{869525000});
    EXPECT_FALSE(prod.max_eirp.has_value());
    // TTS writes FSK and every undefined DR as [0,0,0].
    for (size_t i = 7; i < 16; ++i) {
        EXPECT_EQ(prod.drs[i].sf, 0) << i;
    }
}

TEST(RouterConfig, BeaconingReachesEveryRadioConfig)
{
    const RouterConfig eu = config_from("tts/tts_router_config_eu868_testfp_prod.json");
    ASSERT_FALSE(eu.radios.empty());
    for (const auto& radio : eu.radios) {
        ASSERT_TRUE(radio.has_beaconing());
        const auto& b = radio.beaconing();
        ASSERT_TRUE(b.modulation().has_lora());
        EXPECT_EQ(b.modulation().lora().spreading_factor(), 9u); // DR3
        EXPECT_EQ(b.modulation().lora().bandwidth_hz(), 125000u);
        EXPECT_EQ(b.modulation().lora().coding_rate(), forwarder::v1::CR_4_5);
        EXPECT_EQ(std::vector<uint64_t>(b.frequencies_hz().begin(), b.frequencies_hz().end()),
                  std::vector<uint64_t>{869525000});
        EXPECT_EQ(b.time_offset(), 2u);
        EXPECT_EQ(b.infodesc_offset(), 8u);
        EXPECT_EQ(b.length(), 17u);
    }
    // US915: DR8 = SF12/500 kHz, 8 frequencies hopped by the core (the last is outside TTS's
    // freq_range, which is only the first radio's TX range: kept, not a reason to refuse).
    const RouterConfig us = config_from("tts/tts_router_config_us915_unittest.json");
    ASSERT_TRUE(us.radios[0].has_beaconing());
    const auto& b = us.radios[0].beaconing();
    EXPECT_EQ(b.modulation().lora().spreading_factor(), 12u);
    EXPECT_EQ(b.modulation().lora().bandwidth_hz(), 500000u);
    EXPECT_EQ(b.frequencies_hz_size(), 8);
    EXPECT_EQ(b.frequencies_hz(7), 927500000u);
    EXPECT_EQ(b.length(), 23u);
    EXPECT_TRUE(us.warnings.empty()) << us.warnings.front();
    // Two concentrators: both carry it.
    const std::string two =
        R"({"msgtype":"router_config","region":"EU863","hwspec":"sx1301/2","DRs":[[12,125,0],)"
        R"([11,125,0],[10,125,0],[9,125,0]],"bcning":{"DR":3,"layout":[2,8,17],)"
        R"("freqs":[869525000]},"sx1301_conf":[{"radio_0":{"enable":true,"freq":868000000}},)"
        R"({"radio_0":{"enable":true,"freq":867000000}}]})";
    const RouterConfig both = decode_as<RouterConfig>(two);
    ASSERT_EQ(both.radios.size(), 2u);
    EXPECT_TRUE(both.radios[0].has_beaconing());
    EXPECT_TRUE(both.radios[1].has_beaconing());
    EXPECT_EQ(both.radios[1].beaconing().SerializeAsString(),
              both.radios[0].beaconing().SerializeAsString());
}

TEST(RouterConfig, BadBeaconingIsAWarningNotAnError)
{
    const std::string head =
        R"({"msgtype":"router_config","region":"EU863","hwspec":"sx1301/1",)"
        R"("DRs":[[12,125,0],[11,125,0],[10,125,0],[9,125,0],[8,125,0],[7,125,0],[7,250,0],)"
        R"([0,0,0],[-1,0,0]],)";
    const std::string conf = R"("sx1301_conf":[{"radio_0":{"enable":true,"freq":868000000}}]})";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {R"({"DR":3,"layout":[1,2],"freqs":[869525000]})", "bcning.layout"},
        {R"({"layout":[2,8,17],"freqs":[869525000]})", "bcning.DR: missing"},
        {R"({"DR":3,"layout":[2,8,17]})", "bcning.freqs: missing"},
        {R"({"DR":3,"layout":[2,"8",17],"freqs":[869525000]})", "bcning.layout[1]"},
        {R"({"DR":3,"layout":[2,8,17],"freqs":[-1]})", "bcning.freqs[0]"},
        {R"({"DR":16,"layout":[2,8,17],"freqs":[869525000]})", "bcning.DR"},
        {R"("every 128 s")", "bcning: not an object"},
        {R"({"DR":8,"layout":[2,8,17],"freqs":[869525000]})", "bcning.DR: DR8"}, // undefined
        {R"({"DR":7,"layout":[2,8,17],"freqs":[869525000]})", "bcning.DR: DR7"}, // FSK
        {R"({"DR":3,"layout":[2,8,17],"freqs":[]})", "bcning.freqs: 0 frequencies"},
        {R"({"DR":3,"layout":[2,8,17],"freqs":[1,2,3,4,5,6,7,8,9]})",
         "bcning.freqs: 9 frequencies"},
        {R"({"DR":3,"layout":[2,8,17],"freqs":[869525000,0]})", "bcning.freqs: frequency 0"},
        {R"({"DR":3,"layout":[0,6,15],"freqs":[869525000]})", "bcning.layout"},
        {R"({"DR":3,"layout":[2,9,17],"freqs":[869525000]})", "bcning.layout"},
        {R"({"DR":3,"layout":[2,8,16],"freqs":[869525000]})", "bcning.layout"},
        {R"({"DR":3,"layout":[2,8,33],"freqs":[869525000]})", "bcning.layout"},
    };
    for (const auto& [bcning, warning] : cases) {
        const std::string json = head + R"("bcning":)" + bcning + "," + conf;
        Decoded decoded;
        std::string error;
        ASSERT_TRUE(decode_message(json, decoded, error)) << bcning << ": " << error;
        const RouterConfig& config = std::get<RouterConfig>(decoded.message);
        EXPECT_FALSE(config.beaconing.has_value()) << bcning;
        ASSERT_EQ(config.radios.size(), 1u);
        EXPECT_FALSE(config.radios[0].has_beaconing()) << bcning;
        EXPECT_EQ(config.radios[0].region(), "EU868");
        ASSERT_EQ(config.warnings.size(), 1u) << bcning;
        EXPECT_NE(config.warnings[0].find(warning), std::string::npos)
            << bcning << " -> " << config.warnings[0];
        EXPECT_NE(config.warnings[0].find("no beaconing"), std::string::npos);
    }
    // null: no beaconing, nothing to warn about; the SF12 and 8-frequency limits are fine.
    for (const std::string& bcning :
         {std::string("null"),
          std::string(R"({"DR":0,"layout":[5,11,23],"freqs":[1,2,3,4,5,6,7,8]})")}) {
        const RouterConfig config =
            decode_as<RouterConfig>(head + R"("bcning":)" + bcning + "," + conf);
        EXPECT_TRUE(config.warnings.empty()) << bcning;
        EXPECT_EQ(config.radios[0].has_beaconing(), bcning != "null");
    }
}

TEST(RouterConfig, CanonicalRegionNames)
{
    // The sx1301_conf below puts its multi-SF channels on `freqs`.
    auto config = [](const std::string& region, const std::vector<uint64_t>& freqs) {
        const uint64_t centre = freqs.empty() ? 923000000 : freqs.front();
        std::string json = R"({"msgtype":"router_config","region":")" + region +
                           R"(","hwspec":"sx1301/1","sx1301_conf":[{"radio_0":{"enable":true,)" +
                           R"("freq":)" + std::to_string(centre) + "}";
        for (size_t i = 0; i < freqs.size(); ++i) {
            json +=
                R"(,"chan_multiSF_)" + std::to_string(i) + R"(":{"enable":true,"radio":0,"if":)" +
                std::to_string(static_cast<int64_t>(freqs[i]) - static_cast<int64_t>(centre)) + "}";
        }
        return decode_as<RouterConfig>(json + "}]}");
    };
    const struct {
        const char* region;
        std::vector<uint64_t> freqs;
        const char* canonical;
        bool warning;
    } cases[] = {
        {"EU863", {868100000}, "EU868", false},
        {"US902", {902300000}, "US915", false},
        {"AU915", {916800000}, "AU915", false},
        {"KR920", {922100000}, "KR920", false},
        {"IN865", {865062500}, "IN865", false},
        {"RU864", {868900000}, "RU864", false},
        {"CN470", {486300000}, "CN470", false},
        // AS923 as TTS and CS send it for every group: the group from the default channels.
        {"AS923", {923200000, 923400000, 922200000}, "AS923-1", false},
        {"AS923", {921400000, 921600000}, "AS923-2", false},
        {"AS923", {916600000, 916800000, 917000000}, "AS923-3", false},
        {"AS923", {917300000, 917500000, 917700000}, "AS923-4", false},
        {"AS_923", {921600000, 921800000}, "AS923-2", false},
        {"AS923", {922000000}, "AS923-1", true},
        // Explicit names win over the channels.
        {"AS923-1", {921400000}, "AS923-1", false},
        {"AS923JP", {923200000}, "AS923-1", false},
        {"AS923-2", {923200000}, "AS923-2", false},
        {"AS_923_3", {916600000}, "AS923-3", false},
        {"AS923-4", {917300000}, "AS923-4", false},
        {"IL915", {916300000}, "IL915", false},
        {"ZZ999", {868100000}, "", true},
    };
    for (const auto& c : cases) {
        const RouterConfig rc = config(c.region, c.freqs);
        EXPECT_EQ(rc.region_canonical, c.canonical) << c.region;
        EXPECT_EQ(rc.radios[0].region(), c.canonical) << c.region;
        EXPECT_EQ(rc.warnings.size(), c.warning ? 1u : 0u) << c.region;
    }
}

TEST(RouterConfig, TtsUs915Unittest)
{
    const Decoded decoded = decode_ok(read_vector("tts/tts_router_config_us915_unittest.json"));
    EXPECT_EQ(decoded.mux_time, 0.0);
    const RouterConfig& config = std::get<RouterConfig>(decoded.message);
    ASSERT_TRUE(config.beaconing.has_value());
    EXPECT_EQ(config.beaconing->dr, 8);
    EXPECT_EQ(config.beaconing->layout, (std::array<int, 3>{5, 11, 23}));
    EXPECT_EQ(config.beaconing->freqs.size(), 8u);
    EXPECT_EQ(config.beaconing->freqs.back(), 927500000u);
    // TTS never sets dnonly: DR8..13 are [12..7,500,0].
    for (int i = 8; i <= 13; ++i) {
        EXPECT_EQ(config.drs[i].sf, 20 - i);
        EXPECT_EQ(config.drs[i].bw_khz, 500);
        EXPECT_FALSE(config.drs[i].dnonly);
    }
    EXPECT_EQ(config.radios[0].rf_chains_size(), 1); // radio_1 disabled (with a frequency)
}

TEST(RouterConfig, ChirpStackFiltersAreExact)
{
    const RouterConfig config = config_from("chirpstack/cs_router_config_eu868_3ch.json");
    ASSERT_TRUE(config.join_euis.has_value());
    ASSERT_EQ(config.join_euis->size(), 1u);
    EXPECT_EQ(config.join_euis->at(0).first, 0u);
    EXPECT_EQ(config.join_euis->at(0).second, 72623859790382856ULL); // > 2^53, exact
    EXPECT_EQ(config.drs[8].sf, -1);
    EXPECT_FALSE(config.drs[8].dnonly);
}

TEST(RouterConfig, ReferenceUs902DnOnlyAndStdChannelFromDrTable)
{
    const RouterConfig config = config_from("basicstation_ref/pysys_router_config_US902_8ch.json");
    for (int i = 8; i <= 13; ++i) {
        EXPECT_TRUE(config.drs[i].dnonly) << i;
    }
    ASSERT_TRUE(config.max_eirp.has_value());
    EXPECT_EQ(*config.max_eirp, 30.0);
}

TEST(RouterConfig, Variants)
{
    // JoinEUI key, bounds above 2^63, sx1302_conf alias, two concentrators, radio_1 only.
    const std::string json =
        R"({"msgtype":"router_config","region":"AS923-1","hwspec":"sx1301/2","NetID":[],)"
        R"("JoinEUI":[[9223372036854775808,18446744073709551615],["00-00-00-00-00-00-00-01",2]],)"
        R"("freq_range":[915000000,928000000],"max_eirp":20.5,"DRs":[[12,125,0]],)"
        R"("sx1302_conf":[{"radio_0":{"enable":true,"freq":923200000},)"
        R"("chan_multiSF_0":{"enable":true,"rf_chain":0,"freq":-200000},)"
        R"("chan_multiSF_1":{"enable":true,"radio":0,"freq":923400000},)"
        R"("chan_multiSF_2":{"enable":true,"radio":1,"if":0}},)"
        R"({"radio_0":{"enable":false},"radio_1":{"enable":true,"freq":924000000,"tx_enable":true},)"
        R"("chan_FSK":{"enable":true,"radio":1,"if":100000,"datarate":50000,"bandwidth":250000}}],)"
        R"("unknown":{"x":[1,2,3]},"nocca":true})";
    const RouterConfig config = decode_as<RouterConfig>(json);
    EXPECT_EQ(config.region, Region::AS923);
    EXPECT_EQ(config.region_text, "AS923-1");
    EXPECT_TRUE(config.json_join_eui_key);
    EXPECT_FALSE(config.net_ids.has_value()); // [] means no filter
    ASSERT_TRUE(config.join_euis.has_value());
    EXPECT_EQ(config.join_euis->at(0).first, 9223372036854775808ULL);
    EXPECT_EQ(config.join_euis->at(0).second, 18446744073709551615ULL);
    EXPECT_EQ(config.join_euis->at(1).first, 1u);
    EXPECT_EQ(config.drs[0].sf, 12);
    EXPECT_EQ(config.drs[1].sf, -1); // missing entries are undefined
    ASSERT_EQ(config.radios.size(), 2u);
    const auto& first = config.radios[0];
    EXPECT_EQ(multi_sf_freqs(first), (std::vector<uint64_t>{923000000, 923400000}));
    EXPECT_FLOAT_EQ(first.max_eirp_dbm(), 20.5f);
    EXPECT_EQ(first.region(), "AS923-1");
    EXPECT_EQ(config.region_canonical, "AS923-1");
    const auto& second = config.radios[1];
    EXPECT_EQ(second.radio(), 1u);
    ASSERT_EQ(second.rf_chains_size(), 2);
    EXPECT_EQ(second.rf_chains(0).center_frequency_hz(), 0u); // disabled placeholder
    EXPECT_FALSE(second.rf_chains(0).tx_enabled());
    EXPECT_TRUE(second.rf_chains(1).tx_enabled());
    ASSERT_TRUE(second.has_fsk_channel());
    EXPECT_EQ(second.fsk_channel().frequency_hz(), 924100000u);
    EXPECT_EQ(second.fsk_channel().rf_chain(), 1u);
    EXPECT_EQ(second.fsk_channel().bandwidth_hz(), 250000u);
    // chan_multiSF_2 of the first entry names the disabled radio 1.
    ASSERT_EQ(config.warnings.size(), 1u);
    EXPECT_NE(config.warnings[0].find("chan_multiSF_2"), std::string::npos);
}

TEST(RouterConfig, UnknownRegionKeepsConservativeDefaults)
{
    const std::string json = R"({"msgtype":"router_config","region":"XX123","hwspec":"sx1301/1",)"
                             R"("sx1301_conf":[{"radio_0":{"enable":true,"freq":868000000}}]})";
    const RouterConfig config = decode_as<RouterConfig>(json);
    EXPECT_EQ(config.region, Region::unknown);
    EXPECT_FLOAT_EQ(config.radios[0].max_eirp_dbm(), 14.0f);
    EXPECT_EQ(config.radios[0].region(), ""); // only canonical names; the log names XX123
    EXPECT_EQ(config.region_canonical, "");
    ASSERT_EQ(config.warnings.size(), 1u);
    EXPECT_NE(config.warnings[0].find("XX123"), std::string::npos);
}

TEST(Regions, NamesServersSend)
{
    const std::pair<const char*, Region> names[] = {
        {"EU868", Region::EU868}, {"EU863", Region::EU868},     {"US915", Region::US915},
        {"US902", Region::US915}, {"AU915", Region::AU915},     {"KR920", Region::KR920},
        {"AS923", Region::AS923}, {"AS923-1", Region::AS923},   {"AS923JP", Region::AS923},
        {"IL915", Region::IL915}, {"IN865", Region::IN865},     {"RU864", Region::RU864},
        {"CN470", Region::CN470}, {"CN779", Region::CN779},     {"EU433", Region::EU433},
        {"MA869", Region::MA869}, {"ISM2400", Region::ISM2400}, {"eu863", Region::EU868},
        {"", Region::unknown},    {"EU", Region::unknown},
    };
    for (const auto& [name, region] : names) {
        EXPECT_EQ(region_from_name(name), region) << name;
    }
    EXPECT_STREQ(region_name(Region::US915), "US915");
    EXPECT_EQ(default_max_eirp(Region::EU868), 16);
    EXPECT_EQ(default_max_eirp(Region::US915), 26);
    EXPECT_EQ(default_max_eirp(Region::AU915), 30);
    EXPECT_EQ(default_max_eirp(Region::KR920), 23);
    EXPECT_EQ(default_max_eirp(Region::AS923), 16);
    EXPECT_EQ(default_max_eirp(Region::IN865), 30);
    EXPECT_EQ(default_max_eirp(Region::RU864), 16);
    EXPECT_EQ(default_max_eirp(Region::CN470), 19);
    EXPECT_EQ(default_max_eirp(Region::IL915), 14);
    EXPECT_EQ(default_max_eirp(Region::unknown), 14);
}

TEST(DataRates, UplinkAndDownlinkLookup)
{
    const RouterConfig tts_us = config_from("tts/tts_router_config_us915_unittest.json");
    const RouterConfig ref_us = config_from("basicstation_ref/pysys_router_config_US902_8ch.json");
    const RouterConfig tts_eu = config_from("tts/tts_router_config_eu868_testfp_prod.json");
    const RouterConfig cs_eu = config_from("chirpstack/cs_router_config_eu868_3ch.json");

    EXPECT_EQ(find_uplink_dr(ref_us, lora(8, 500000)), 4); // not the dnonly DR12
    EXPECT_EQ(find_uplink_dr(tts_us, lora(8, 500000)), 4); // lowest index
    EXPECT_EQ(find_uplink_dr(ref_us, lora(10, 125000)), 0);
    EXPECT_EQ(find_uplink_dr(ref_us, lora(12, 500000)), -1); // DR8 is downlink only
    EXPECT_EQ(find_uplink_dr(tts_us, lora(12, 500000)), 8);  // TTS never sets dnonly
    EXPECT_EQ(find_uplink_dr(tts_eu, lora(12, 125000)), 0);
    EXPECT_EQ(find_uplink_dr(tts_eu, lora(7, 250000)), 6);
    EXPECT_EQ(find_uplink_dr(tts_eu, fsk()), 7);
    EXPECT_EQ(find_uplink_dr(tts_us, fsk()), 5); // TTS's undefined [0,0,0] look like FSK
    EXPECT_EQ(find_uplink_dr(ref_us, fsk()), -1);
    EXPECT_EQ(find_uplink_dr(cs_eu, lora(7, 500000)), -1);
    EXPECT_EQ(find_uplink_dr(cs_eu, forwarder::v1::Modulation{}), -1);

    forwarder::v1::Modulation modulation;
    ASSERT_TRUE(dr_modulation(ref_us, 8, modulation));
    EXPECT_EQ(modulation.lora().spreading_factor(), 12u);
    EXPECT_EQ(modulation.lora().bandwidth_hz(), 500000u);
    EXPECT_EQ(modulation.lora().coding_rate(), forwarder::v1::CR_4_5);
    EXPECT_FALSE(dr_modulation(ref_us, 5, modulation));
    EXPECT_FALSE(dr_modulation(ref_us, 16, modulation));
    EXPECT_FALSE(dr_modulation(ref_us, -1, modulation));
    ASSERT_TRUE(dr_modulation(cs_eu, 7, modulation));
    EXPECT_TRUE(modulation.has_fsk());
    EXPECT_EQ(modulation.fsk().bitrate(), 50000u);
}

// ---- downlinks --------------------------------------------------------------------------

TEST(Downlink, TtsClassATimestamp)
{
    const Decoded decoded = decode_ok(read_vector("tts/tts_dnmsg_classA_timestamp.json"));
    ASSERT_TRUE(decoded.mux_time.has_value());
    EXPECT_DOUBLE_EQ(*decoded.mux_time, 1554300787.123456);
    const Downlink& d = std::get<Downlink>(decoded.message);
    EXPECT_EQ(d.msgtype, "dnmsg");
    EXPECT_EQ(d.dev_eui, 1u);
    EXPECT_EQ(d.device_class, 0);
    EXPECT_EQ(d.diid, 1);
    EXPECT_EQ(d.pdu, bytes("596d7868616d74686332356b4a334d3d3d"));
    EXPECT_EQ(d.priority, 25u);
    EXPECT_EQ(d.rctx, 2u);
    EXPECT_EQ(d.rx_delay_s, 1);
    ASSERT_TRUE(d.rx1.has_value());
    EXPECT_EQ(d.rx1->dr, 2);
    EXPECT_EQ(d.rx1->freq_hz, 868500000u);
    EXPECT_FALSE(d.rx2.has_value());
    ASSERT_TRUE(d.xtime.has_value());
    EXPECT_EQ(*d.xtime, 4785074604634452u);
    // TX = (xtime & 0xFFFFFFFFFFFF) + RxDelay s, session 0x11, unit 0.
    EXPECT_EQ((*d.xtime & 0xFFFFFFFFFFFFULL) + d.rx_delay_s * 1000000ULL, 1553300u);
    EXPECT_EQ((*d.xtime >> 48) & 0xFF, 0x11u);
    EXPECT_EQ(*d.xtime >> 56, 0u);
    EXPECT_FALSE(d.gpstime.has_value());
}

TEST(Downlink, TtsClassBAbsolute)
{
    const Downlink d = decode_as<Downlink>(read_vector("tts/tts_dnmsg_classB_absolute.json"));
    EXPECT_EQ(d.device_class, 1);
    EXPECT_EQ(d.diid, 2);
    ASSERT_TRUE(d.rx1.has_value());
    EXPECT_EQ(d.rx1->dr, 2);
    EXPECT_EQ(d.rx1->freq_hz, 869525000u);
    EXPECT_EQ(d.rx_delay_s, 0); // DR/Freq alias
    ASSERT_TRUE(d.gpstime.has_value());
    EXPECT_EQ(*d.gpstime, 795673808111638u);
    EXPECT_FALSE(d.xtime.has_value());
}

TEST(Downlink, ChirpStackClassAWithRx2)
{
    const Downlink d = decode_as<Downlink>(read_vector("chirpstack/cs_dnmsg_classA_rx1_rx2.json"));
    EXPECT_EQ(d.dev_eui, 0x0101010101010101u);
    EXPECT_EQ(d.device_class, 0);
    EXPECT_EQ(d.diid, 1234);
    EXPECT_EQ(d.pdu, bytes("01020304"));
    EXPECT_EQ(d.priority, 1u);
    EXPECT_EQ(d.rx_delay_s, 1);
    ASSERT_TRUE(d.rx1 && d.rx2);
    EXPECT_EQ(d.rx1->dr, 2);
    EXPECT_EQ(d.rx1->freq_hz, 868100000u);
    EXPECT_EQ(d.rx2->dr, 1);
    EXPECT_EQ(d.rx2->freq_hz, 868200000u);
    EXPECT_EQ(d.xtime, 4u);
    EXPECT_EQ(d.rctx, 3u);
}

TEST(Downlink, ChirpStackClassB)
{
    const Decoded decoded = decode_ok(read_vector("chirpstack/cs_dnmsg_classB.json"));
    const Downlink& d = std::get<Downlink>(decoded.message);
    EXPECT_EQ(d.device_class, 1);
    ASSERT_TRUE(d.rx1.has_value());
    EXPECT_EQ(d.rx1->freq_hz, 868100000u);
    EXPECT_EQ(d.rx_delay_s, 0);
    EXPECT_EQ(d.gpstime, 1000000u);
    EXPECT_EQ(d.xtime, 4u);
    EXPECT_EQ(d.rctx, 3u);
    EXPECT_TRUE(decoded.mux_time.has_value());
}

TEST(Downlink, FieldVariants)
{
    // RxDelay 0 -> 1, absent -> 1.
    EXPECT_EQ(decode_as<Downlink>(dnmsg_with(R"(,"RxDelay":0)")).rx_delay_s, 1);
    std::string no_delay = dnmsg_with("");
    no_delay.replace(no_delay.find(R"("RxDelay":1,)"), 12, "");
    EXPECT_EQ(decode_as<Downlink>(no_delay).rx_delay_s, 1);
    EXPECT_EQ(decode_as<Downlink>(dnmsg_with(R"(,"RxDelay":5)")).rx_delay_s, 5);
    // RX2Freq 0 = no RX2.
    EXPECT_FALSE(decode_as<Downlink>(dnmsg_with(R"(,"RX2DR":0,"RX2Freq":0)")).rx2.has_value());
    // DevEui forms; the DevEUI key; legacy seqno.
    for (const char* eui :
         {R"("0000000000000001")", R"("::1")", "1", R"("00:00:00:00:00:00:00:01")"}) {
        const std::string json =
            R"({"msgtype":"dnmsg","DevEUI":)" + std::string(eui) +
            R"(,"dC":0,"seqno":77,"pdu":"0A0b","RX1DR":1,"RX1Freq":1,"xtime":9})";
        const Downlink d = decode_as<Downlink>(json);
        EXPECT_EQ(d.dev_eui, 1u) << eui;
        EXPECT_EQ(d.diid, 77);
        EXPECT_EQ(d.pdu, std::string("\x0a\x0b", 2));
    }
    // diid beyond 32 bits and negative values are echoed exactly.
    EXPECT_EQ(decode_as<Downlink>(dnmsg_with(R"(,"diid":9007199254740993)")).diid,
              9007199254740993);
    // An integral float is accepted where an integer is required.
    EXPECT_EQ(decode_as<Downlink>(dnmsg_with(R"(,"RX1Freq":868100000.0)")).rx1->freq_hz,
              868100000u);
    // priority, preamble, addcrc, dnmode.
    const Downlink d = decode_as<Downlink>(
        dnmsg_with(R"(,"priority":255,"preamble":16,"addcrc":1,"dnmode":"updn")"));
    EXPECT_EQ(d.priority, 255u);
    EXPECT_EQ(d.preamble, 16u);
    EXPECT_TRUE(d.addcrc);
    // 255-byte pdu is the maximum.
    EXPECT_EQ(
        decode_as<Downlink>(dnmsg_with(R"(,"pdu":")" + std::string(510, 'a') + "\"")).pdu.size(),
        255u);
    // Class C: RX2 only, no xtime (transmit now).
    const Downlink c = decode_as<Downlink>(
        R"({"msgtype":"dnmsg","DevEui":"01-01-01-01-01-01-01-01","dC":2,"diid":5,"pdu":"01",)"
        R"("RX2DR":0,"RX2Freq":869525000,"priority":1})");
    EXPECT_EQ(c.device_class, 2);
    EXPECT_FALSE(c.rx1.has_value());
    EXPECT_EQ(c.rx2->freq_hz, 869525000u);
    EXPECT_FALSE(c.xtime.has_value());
    // Large xtime exactly.
    EXPECT_EQ(decode_as<Downlink>(dnmsg_with(R"(,"xtime":18577348462904186)")).xtime,
              18577348462904186u);
}

TEST(Downlink, DnframeAndDnsched)
{
    const Downlink frame = decode_as<Downlink>(
        R"({"msgtype":"dnframe","DevEui":"00-00-00-00-11-00-00-01","DR":5,"Freq":868300000,)"
        R"("xtime":32369622594166374,"seqno":3,"pdu":"ABCD","rctx":1,"asap":true,"MuxTime":5.25})");
    EXPECT_EQ(frame.msgtype, "dnframe");
    EXPECT_EQ(frame.dev_eui, 0x0000000011000001u);
    EXPECT_EQ(frame.rx1->dr, 5);
    EXPECT_EQ(frame.rx_delay_s, 0);
    EXPECT_EQ(frame.xtime, 32369622594166374u);
    EXPECT_EQ(frame.diid, 3);
    EXPECT_TRUE(frame.asap);
    EXPECT_EQ(frame.device_class, 2);

    const Decoded decoded = decode_ok(
        R"({"msgtype":"dnsched","MuxTime":1554300787.1,"schedule":[)"
        R"({"diid":7,"priority":0,"DR":3,"Freq":869525000,"gpstime":1238336005000000,"pdu":"00","rctx":0},)"
        R"({"DR":3,"Freq":869525000,"ontime":1238336006.5,"pdu":"01"},)"
        R"({"DR":3,"Freq":869525000,"xtime":32369622594166374,"pdu":"02","addcrc":true}]})");
    EXPECT_DOUBLE_EQ(*decoded.mux_time, 1554300787.1);
    const auto& entries = std::get<DownlinkSchedule>(decoded.message).entries;
    ASSERT_EQ(entries.size(), 3u);
    EXPECT_EQ(entries[0].msgtype, "dnsched");
    EXPECT_EQ(entries[0].dev_eui, 0u);
    EXPECT_EQ(entries[0].diid, 7);
    EXPECT_EQ(entries[0].device_class, 1);
    EXPECT_EQ(entries[0].gpstime, 1238336005000000u);
    EXPECT_EQ(entries[1].gpstime, 1238336006500000u); // ontime seconds -> µs
    EXPECT_EQ(entries[1].device_class, 1);
    EXPECT_EQ(entries[2].xtime, 32369622594166374u);
    EXPECT_EQ(entries[2].device_class, 0);
    EXPECT_EQ(entries[2].rx_delay_s, 0);
    EXPECT_TRUE(entries[2].addcrc);
}

// ---- timesync and other LNS messages ----------------------------------------------------

TEST(TimeSync, AllFourShapes)
{
    // 1: TTS reply; txtime is its float echo of the request.
    Decoded decoded = decode_ok(read_vector("tts/tts_timesync_response_example.json"));
    TimeSync sync = std::get<TimeSync>(decoded.message);
    EXPECT_EQ(sync.txtime_us, 123);
    EXPECT_EQ(sync.gpstime_us, 1238336005123456);
    EXPECT_FALSE(sync.xtime.has_value());
    EXPECT_DOUBLE_EQ(*decoded.mux_time, 1554300787.123456);
    // 2: CS reply, no MuxTime.
    decoded = decode_ok(read_vector("chirpstack/cs_timesync_response.json"));
    sync = std::get<TimeSync>(decoded.message);
    EXPECT_EQ(sync.txtime_us, 7725234050);
    EXPECT_EQ(sync.gpstime_us, 1238336005123456);
    EXPECT_FALSE(decoded.mux_time.has_value());
    // 3: TTS transfer: MuxTime only, gpstime 0 means nothing.
    decoded = decode_ok(read_vector("tts/tts_timesync_transfer_muxtime_only.json"));
    sync = std::get<TimeSync>(decoded.message);
    EXPECT_FALSE(sync.txtime_us || sync.gpstime_us || sync.xtime);
    EXPECT_DOUBLE_EQ(*decoded.mux_time, 123.000000456);
    // 4: CS transfer: xtime + gpstime.
    decoded = decode_ok(read_vector("chirpstack/cs_timesync_transfer.json"));
    sync = std::get<TimeSync>(decoded.message);
    EXPECT_EQ(sync.xtime, 2u);
    EXPECT_EQ(sync.gpstime_us, 1238336005123456);
    EXPECT_FALSE(sync.txtime_us.has_value());
}

TEST(TimeSync, TtsUnitTestTransferHasNegativeGpsTime)
{
    const std::string text = read_vector("tts/tts_timesync_transfer_xtime_gps_unittest.json");
    EXPECT_NE(decode_error(text).find("timesync: gpstime"), std::string::npos);
    // With a sane gpstime the 64-bit xtime survives exactly.
    std::string fixed = text;
    fixed.replace(fixed.find("-315964343999999"), 16, "1238336005123456");
    const Decoded decoded = decode_ok(fixed);
    const TimeSync& sync = std::get<TimeSync>(decoded.message);
    EXPECT_EQ(sync.xtime, 18577348462904186u);
    EXPECT_EQ(sync.gpstime_us, 1238336005123456);
    EXPECT_DOUBLE_EQ(*decoded.mux_time, 123.000000456);
}

TEST(Messages, GetxtimeRuncmdErrorUnknown)
{
    Decoded decoded = decode_ok(R"({"msgtype":"getxtime","MuxTime":1554300787.5})");
    EXPECT_TRUE(std::holds_alternative<GetXtime>(decoded.message));
    EXPECT_DOUBLE_EQ(*decoded.mux_time, 1554300787.5);

    const RunCmd cmd =
        decode_as<RunCmd>(R"({"msgtype":"runcmd","command":"ls","arguments":["-l","/tmp"]})");
    EXPECT_EQ(cmd.command, "ls");
    EXPECT_EQ(cmd.arguments, (std::vector<std::string>{"-l", "/tmp"}));

    EXPECT_EQ(decode_as<ServerError>(R"({"msgtype":"error","error":"bad thing"})").text,
              "bad thing");

    decoded = decode_ok(R"({"msgtype":"rmtsh","user":"x","start":0,"MuxTime":2})");
    ASSERT_TRUE(std::holds_alternative<Ignored>(decoded.message));
    EXPECT_EQ(std::get<Ignored>(decoded.message).msgtype, "rmtsh");
    EXPECT_EQ(decoded.mux_time, 2.0);
    EXPECT_EQ(decode_as<Ignored>(R"({"msgtype":"whatever","x":{"y":[]}})").msgtype, "whatever");
    // Unknown message with a weird MuxTime is still ignored, not an error.
    EXPECT_FALSE(decode_ok(R"({"msgtype":"whatever","MuxTime":"x"})").mux_time.has_value());
    // Case-insensitive fallback for the msgtype key (one CS test writes msgType).
    decoded = decode_ok(R"({"msgType":"getxtime"})");
    EXPECT_TRUE(std::holds_alternative<GetXtime>(decoded.message));
    EXPECT_FALSE(decoded.mux_time.has_value());
}

struct Malformed {
    std::string json;
    const char* error; // expected substring
};

TEST(Messages, MalformedInputsNameTheField)
{
    const std::string rc_head = R"({"msgtype":"router_config","hwspec":"sx1301/1",)";
    const std::string rc_conf = R"("sx1301_conf":[{"radio_0":{"enable":true,"freq":868000000}}])";
    const std::string dn_head = R"({"msgtype":"dnmsg","DevEui":"::1","dC":0,"diid":1,"pdu":"01",)";
    const std::vector<Malformed> cases = {
        {"not json", "invalid JSON"},
        {"[1,2]", "not a JSON object"},
        {"{}", "msgtype: missing"},
        {R"({"msgtype":5})", "msgtype: not a string"},
        {R"({"msgtype":"dnmsg"} trailing)", "invalid JSON"},
        {std::string(100, '[') + std::string(100, ']'), "invalid JSON"},
        // router_config
        {R"({"msgtype":"router_config",)" + rc_conf + "}", "router_config: hwspec: missing"},
        {rc_head + R"("region":"EU868"})", "router_config: sx1301_conf: missing"},
        {rc_head + R"("sx1301_conf":[]})", "router_config: sx1301_conf: empty"},
        {rc_head + R"("sx1301_conf":{}})", "router_config: sx1301_conf: not an array"},
        {R"({"msgtype":"router_config","hwspec":"sx1301/2",)" + rc_conf + "}",
         "router_config: hwspec"},
        {R"({"msgtype":"router_config","hwspec":"sx1301",)" + rc_conf + "}",
         "router_config: hwspec"},
        {rc_head + R"("region":5,)" + rc_conf + "}", "router_config: region: not a string"},
        {rc_head + R"("NetID":"x",)" + rc_conf + "}", "router_config: NetID: not an array"},
        {rc_head + R"("NetID":[-1],)" + rc_conf + "}", "router_config: NetID[0]"},
        {rc_head + R"("JoinEui":[[5,4]],)" + rc_conf + "}", "router_config: JoinEui[0]"},
        {rc_head + R"("JoinEui":[[1]],)" + rc_conf + "}", "router_config: JoinEui[0]"},
        {rc_head + R"("JoinEui":[["zz",1]],)" + rc_conf + "}", "router_config: JoinEui[0][0]"},
        {rc_head + R"("freq_range":[1,2,3],)" + rc_conf + "}", "router_config: freq_range"},
        {rc_head + R"("freq_range":[3,2],)" + rc_conf + "}", "router_config: freq_range"},
        {rc_head + R"("DRs":[[7,125,0],[7,125,0],[7,125,0],[7,126,0]],)" + rc_conf + "}",
         "router_config: DRs[3]"},
        {rc_head + R"("DRs":[[13,125,0]],)" + rc_conf + "}", "router_config: DRs[0]"},
        {rc_head + R"("DRs":[[7.5,125,0]],)" + rc_conf + "}", "router_config: DRs[0][0]"},
        {rc_head + R"("DRs":[[-1,0,0])" + repeat(",[-1,0,0]", 16) + "]," + rc_conf + "}",
         "router_config: DRs: 17 entries"},
        {rc_head + R"("max_eirp":"high",)" + rc_conf + "}", "router_config: max_eirp"},
        {rc_head + R"("MuxTime":"now",)" + rc_conf + "}", "router_config: MuxTime"},
        {rc_head + R"("sx1301_conf":[{"radio_0":{"enable":true,"freq":868100000.5}}]})",
         "router_config: sx1301_conf[0].radio_0.freq: not an integer"},
        {rc_head + R"("sx1301_conf":[{"radio_0":{"enable":"yes","freq":868100000}}]})",
         "router_config: sx1301_conf[0].radio_0.enable"},
        {rc_head + R"("sx1301_conf":[{"radio_0":{"enable":true,"freq":868000000},)"
                   R"("chan_multiSF_0":{"enable":true,"radio":0,"if":"x"}}]})",
         "router_config: sx1301_conf[0].chan_multiSF_0.if"},
        {rc_head + R"("sx1301_conf":[{"radio_0":{"enable":true,"freq":868000000},)"
                   R"("chan_Lora_std":{"enable":true,"radio":0,"if":0,"bandwidth":300000}}]})",
         "router_config: sx1301_conf[0].chan_Lora_std.bandwidth"},
        {rc_head + R"("sx1301_conf":[{"radio_0":{"enable":true,"freq":868000000},)"
                   R"("chan_multiSF_0":{"enable":true,"radio":9,"if":0}}]})",
         "router_config: sx1301_conf[0].chan_multiSF_0.radio"},
        {rc_head + R"("sx1301_conf":[5]})", "router_config: sx1301_conf[0]: not an object"},
        // dnmsg
        {R"({"msgtype":"dnmsg","dC":0,"diid":1,"pdu":"01","RX1DR":0,"RX1Freq":1,"xtime":1})",
         "dnmsg: DevEui: missing"},
        {R"({"msgtype":"dnmsg","DevEui":"nope","dC":0,"diid":1,"pdu":"01","RX1DR":0,"RX1Freq":1,"xtime":1})",
         "dnmsg: DevEui"},
        {R"({"msgtype":"dnmsg","DevEui":-1,"dC":0,"diid":1,"pdu":"01","RX1DR":0,"RX1Freq":1,"xtime":1})",
         "dnmsg: DevEui"},
        {R"({"msgtype":"dnmsg","DevEui":"::1","diid":1,"pdu":"01","RX1DR":0,"RX1Freq":1,"xtime":1})",
         "dnmsg: dC: missing"},
        {R"({"msgtype":"dnmsg","DevEui":"::1","dC":3,"diid":1,"pdu":"01","RX1DR":0,"RX1Freq":1,"xtime":1})",
         "dnmsg: dC"},
        {R"({"msgtype":"dnmsg","DevEui":"::1","dC":0,"pdu":"01","RX1DR":0,"RX1Freq":1,"xtime":1})",
         "dnmsg: diid: missing"},
        {R"({"msgtype":"dnmsg","DevEui":"::1","dC":0,"diid":1.5,"pdu":"01","RX1DR":0,"RX1Freq":1,"xtime":1})",
         "dnmsg: diid: not an integer"},
        {R"({"msgtype":"dnmsg","DevEui":"::1","dC":0,"diid":1,"RX1DR":0,"RX1Freq":1,"xtime":1})",
         "dnmsg: pdu: missing"},
        {dn_head + R"("pdu":"012","RX1DR":0,"RX1Freq":1,"xtime":1})", "dnmsg: pdu: odd"},
        {dn_head + R"("pdu":"0g","RX1DR":0,"RX1Freq":1,"xtime":1})", "dnmsg: pdu: not a hex"},
        {dn_head + R"("pdu":"","RX1DR":0,"RX1Freq":1,"xtime":1})", "dnmsg: pdu: empty"},
        {dn_head + R"("pdu":")" + std::string(512, '0') + R"(","RX1DR":0,"RX1Freq":1,"xtime":1})",
         "dnmsg: pdu: 256 bytes"},
        {dn_head + R"("pdu":5,"RX1DR":0,"RX1Freq":1,"xtime":1})", "dnmsg: pdu: not a string"},
        {dn_head + R"("RX1DR":0,"xtime":1})", "dnmsg: RX1Freq: missing"},
        {dn_head + R"("RX1Freq":1,"xtime":1})", "dnmsg: RX1DR: missing"},
        {dn_head + R"("RX1DR":16,"RX1Freq":1,"xtime":1})", "dnmsg: RX1DR"},
        {dn_head + R"("RX1DR":1,"RX1Freq":0,"xtime":1})", "dnmsg: RX1Freq: 0"},
        {dn_head + R"("RX1DR":1,"RX1Freq":1.5,"xtime":1})", "dnmsg: RX1Freq: not an integer"},
        {dn_head + R"("RX1DR":1,"RX1Freq":1,"RX2DR":1,"xtime":1})", "dnmsg: RX2Freq: missing"},
        {dn_head + R"("RX1DR":1,"RX1Freq":1,"RxDelay":16,"xtime":1})", "dnmsg: RxDelay"},
        {dn_head + R"("RX1DR":1,"RX1Freq":1,"xtime":-1})", "dnmsg: xtime: negative"},
        {dn_head + R"("RX1DR":1,"RX1Freq":1,"xtime":1.5})", "dnmsg: xtime: not an integer"},
        {dn_head + R"("RX1DR":1,"RX1Freq":1,"xtime":"1"})", "dnmsg: xtime: not an integer"},
        {dn_head + R"("RX1DR":1,"RX1Freq":1,"xtime":1,"priority":256})", "dnmsg: priority"},
        {dn_head + R"("RX1DR":1,"RX1Freq":1,"xtime":1,"rctx":-2})", "dnmsg: rctx"},
        {dn_head + R"("RX1DR":1,"RX1Freq":1,"xtime":1,"addcrc":2})", "dnmsg: addcrc"},
        {dn_head + R"("RX1DR":1,"RX1Freq":1,"xtime":1,"MuxTime":[]})", "dnmsg: MuxTime"},
        {dn_head + R"("xtime":1})", "dnmsg: no window"},
        {dn_head + R"("RX1DR":1,"RX1Freq":1})", "dnmsg: xtime: missing (dC 0)"},
        {R"({"msgtype":"dnmsg","DevEui":"::1","dC":1,"diid":1,"pdu":"01","DR":1,"Freq":1})",
         "dnmsg: gpstime: missing (dC 1)"},
        {R"({"msgtype":"dnmsg","DevEui":"::1","dC":1,"diid":1,"pdu":"01","RX2DR":1,"RX2Freq":1,"gpstime":5})",
         "dnmsg: DR/Freq: missing (dC 1)"},
        {R"({"msgtype":"dnmsg","DevEui":"::1","dC":2,"diid":1,"pdu":"01","RX1DR":1,"RX1Freq":1})",
         "dnmsg: RX2DR/RX2Freq or xtime: missing (dC 2)"},
        {R"({"msgtype":"dnmsg","DevEui":"::1","dC":1,"diid":1,"pdu":"01","DR":1,"Freq":1,"gpstime":-5})",
         "dnmsg: gpstime: negative"},
        // dnframe, dnsched
        {R"({"msgtype":"dnframe","DevEui":"::1","DR":1,"Freq":1,"diid":1,"pdu":"01"})",
         "dnframe: xtime: missing"},
        {R"({"msgtype":"dnframe","DevEui":"::1","xtime":1,"diid":1,"pdu":"01"})",
         "dnframe: DR/Freq: missing"},
        {R"({"msgtype":"dnframe","DevEui":"::1","DR":1,"Freq":1,"xtime":1,"pdu":"01"})",
         "dnframe: diid: missing"},
        {R"({"msgtype":"dnsched"})", "dnsched: schedule: missing"},
        {R"({"msgtype":"dnsched","schedule":[{"Freq":1,"gpstime":1,"pdu":"01"}]})",
         "dnsched: schedule[0].DR: missing"},
        {R"({"msgtype":"dnsched","schedule":[{"DR":1,"Freq":1,"pdu":"01"}]})",
         "dnsched: schedule[0].needs exactly one"},
        {R"({"msgtype":"dnsched","schedule":[{"DR":1,"Freq":1,"pdu":"01","gpstime":1,"xtime":2}]})",
         "dnsched: schedule[0].needs exactly one"},
        {R"({"msgtype":"dnsched","schedule":[{"DR":1,"Freq":1,"pdu":"01","ontime":-1}]})",
         "dnsched: schedule[0].ontime"},
        {R"({"msgtype":"dnsched","schedule":[7]})", "dnsched: schedule[0]: not an object"},
        // timesync
        {R"({"msgtype":"timesync","txtime":"1"})", "timesync: txtime: not an integer"},
        {R"({"msgtype":"timesync","txtime":-1})", "timesync: txtime"},
        {R"({"msgtype":"timesync","gpstime":-1})", "timesync: gpstime: negative"},
        {R"({"msgtype":"timesync","gpstime":1.5})", "timesync: gpstime: not an integer"},
        {R"({"msgtype":"timesync","xtime":-2,"gpstime":1})", "timesync: xtime: negative"},
        {R"({"msgtype":"timesync","gpstime":0,"MuxTime":"x"})", "timesync: MuxTime"},
        // runcmd, error, getxtime
        {R"({"msgtype":"runcmd"})", "runcmd: command: missing"},
        {R"({"msgtype":"runcmd","command":"x","arguments":[1]})", "runcmd: arguments[0]"},
        {R"({"msgtype":"runcmd","command":"x","arguments":"a"})", "runcmd: arguments"},
        {R"({"msgtype":"error","error":5})", "error: error: not a string"},
        {R"({"msgtype":"getxtime","MuxTime":true})", "getxtime: MuxTime"},
    };
    for (const Malformed& c : cases) {
        const std::string error = decode_error(c.json);
        EXPECT_NE(error.find(c.error), std::string::npos)
            << "expected \"" << c.error << "\" in \"" << error << "\" for " << c.json;
        EXPECT_EQ(error.find('\n'), std::string::npos);
    }
}

TEST(Messages, MalformedVectorPayloads)
{
    // TTS's updf test vector carries a base64 FRMPayload: not hex, rejected where we read hex.
    const JsonObject::Ptr updf = parse_json(read_vector("tts/tts_marshal_updf.json"));
    std::string out;
    EXPECT_FALSE(parse_hex(updf->getValue<std::string>("FRMPayload"), out));
    EXPECT_TRUE(out.empty());
    EXPECT_NE(
        decode_error(dnmsg_with(R"(,"pdu":")" + updf->getValue<std::string>("FRMPayload") + "\""))
            .find("pdu"),
        std::string::npos);
}

// ---- uplinks ------------------------------------------------------------------------------

TEST(Uplink, ReferenceSelftestFrames)
{
    Poco::JSON::Parser parser;
    const JsonArray::Ptr frames =
        parser.parse(read_vector("basicstation_ref/selftest_lora_frames.json"))
            .extract<JsonArray::Ptr>();
    ASSERT_EQ(frames->size(), 8u);
    int accepted = 0, rejected = 0;
    for (size_t i = 0; i < frames->size(); ++i) {
        const JsonObject& c = *frames->getObject(static_cast<unsigned>(i));
        const std::string phy = bytes(c.getValue<std::string>("frame_hex"));
        if (c.has("expect_fragment")) {
            const std::string json = encode_ok(phy, {}, true);
            EXPECT_NE(json.find(c.getValue<std::string>("expect_fragment")), std::string::npos)
                << json;
            EXPECT_EQ(json.rfind("{\"msgtype\":", 0), 0u);
            EXPECT_EQ(rebuild_phy(*parse_json(json)), phy);
            ++accepted;
        } else {
            encode_dropped(phy, {}, true);
            ++rejected;
        }
    }
    EXPECT_EQ(accepted, 4);
    EXPECT_EQ(rejected, 4);
}

TEST(Uplink, ExactMessageAsObservedOnTheReference)
{
    UplinkMeta meta;
    meta.ref_time = 1795570752.408342;
    meta.dr = 5;
    meta.freq_hz = 868300000;
    meta.rctx = 0;
    meta.xtime = 32369622593166374;
    meta.gpstime = 0;
    meta.fts = -1;
    meta.rssi = -50;
    meta.snr = 9;
    meta.rxtime = 1795570752.408343;
    const std::string phy = bytes("40feffffff000000010102fbffffff");
    EXPECT_EQ(encode_ok(phy, {}, false, meta),
              R"({"msgtype":"updf","MHdr":64,"DevAddr":-2,"FCtrl":0,"FCnt":0,"FOpts":"","FPort":1,)"
              R"("FRMPayload":"0102","MIC":-5,"RefTime":1795570752.408342,"DR":5,"Freq":868300000,)"
              R"("upinfo":{"rctx":0,"xtime":32369622593166374,"gpstime":0,"fts":-1,"rssi":-50,)"
              R"("snr":9,"rxtime":1795570752.408343}})");
    meta.snr = -2.25;
    meta.rssi = -97.6;
    meta.fts = 123456;
    meta.ref_time = 0;
    const std::string json = encode_ok(phy, {}, false, meta);
    EXPECT_NE(json.find(R"("RefTime":0.000000,)"), std::string::npos) << json;
    EXPECT_NE(json.find(R"("fts":123456,"rssi":-98,"snr":-2.25,)"), std::string::npos) << json;
}

// CS uplink vectors in reverse: the PHYPayload CS rebuilds, fed to our encoder, must give the
// same fields, and CS's rebuild from our message must give the same bytes.
TEST(Uplink, ChirpStackPhyPayloadsInReverse)
{
    const JsonObject::Ptr expected =
        parse_json(read_vector("chirpstack/cs_uplink_expected_phypayload.json"));
    size_t checked = 0;
    for (auto it = expected->begin(); it != expected->end(); ++it) {
        SCOPED_TRACE(it->first);
        const JsonObject::Ptr vector = parse_json(read_vector("chirpstack/" + it->first));
        const std::string phy = bytes(it->second.toString());
        const UplinkMeta meta = meta_from(*vector);
        const std::string msgtype = field(*vector, "msgtype").toString();
        ++checked;
        if (msgtype == "propdf") {
            // CS's test payload 01020304 is not a proprietary frame (MHDR 0x01: major 1).
            const std::string why = encode_dropped(phy, {}, false, meta);
            EXPECT_NE(why.find("major"), std::string::npos) << why;
            continue;
        }
        const JsonObject::Ptr ours = parse_json(encode_ok(phy, {}, false, meta));
        EXPECT_EQ(ours->getValue<std::string>("msgtype"), msgtype);
        EXPECT_EQ(rebuild_phy(*ours), phy);
        EXPECT_EQ(rebuild_phy(*vector), phy);
        if (msgtype == "jreq") {
            for (const char* key : {"MHdr", "DevNonce", "MIC"}) {
                EXPECT_EQ(as_int(field(*ours, key)), as_int(field(*vector, key))) << key;
            }
            for (const char* key : {"JoinEui", "DevEui"}) {
                EXPECT_EQ(eui_of(ours->getValue<std::string>(key)),
                          eui_of(field(*vector, key).toString()))
                    << key;
            }
        } else {
            for (const char* key : {"MHdr", "DevAddr", "FCtrl", "FCnt", "MIC"}) {
                EXPECT_EQ(as_int(field(*ours, key)), as_int(field(*vector, key))) << key;
            }
            // CS's frames say FOptsLen 0 (FCtrl 0x80) while its struct carries FOpts 0102, so
            // a gateway (which must follow FCtrl) sees FPort 1 and the rest as FRMPayload.
            EXPECT_EQ(ours->getValue<std::string>("FOpts"), "");
            EXPECT_EQ(as_int(field(*ours, "FPort")), 1);
        }
        EXPECT_EQ(as_int(field(*ours, "DR")), meta.dr);
        EXPECT_EQ(as_uint(field(*ours, "Freq")), meta.freq_hz);
        const JsonObject& upinfo = *ours->getObject("upinfo");
        EXPECT_EQ(as_uint(upinfo.get("xtime")), 2u);
        EXPECT_EQ(as_int(upinfo.get("rctx")), 1);
        EXPECT_EQ(as_int(upinfo.get("rssi")), 120);
        EXPECT_EQ(as_double(upinfo.get("snr")), 5.5);
        EXPECT_FALSE(upinfo.has("rtcx"));
    }
    EXPECT_EQ(checked, 5u);
    EXPECT_EQ(
        encode_ok(bytes("e001020304")).find(R"({"msgtype":"propdf","FRMPayload":"E001020304",)"),
        0u);
}

// TTS marshal/RTT vectors: rebuild the frame as TTS would, encode it, compare field by field.
TEST(Uplink, TtsVectorsFieldForField)
{
    for (const char* file :
         {"tts/tts_marshal_jreq.json", "tts/tts_ws_jreq_rtt.json", "tts/tts_ws_updf_rtt.json"}) {
        SCOPED_TRACE(file);
        const JsonObject::Ptr vector = parse_json(read_vector(file));
        const std::string phy = rebuild_phy(*vector);
        const UplinkMeta meta = meta_from(*vector);
        const JsonObject::Ptr ours = parse_json(encode_ok(phy, {}, false, meta));
        EXPECT_EQ(rebuild_phy(*ours), phy);
        const std::string msgtype = vector->getValue<std::string>("msgtype");
        EXPECT_EQ(ours->getValue<std::string>("msgtype"), msgtype);
        if (msgtype == "jreq") {
            EXPECT_EQ(as_int(ours->get("DevNonce")), 18000);
            EXPECT_EQ(as_int(ours->get("MIC")), 12345678);
            EXPECT_EQ(ours->getValue<std::string>("JoinEui"), "22-22-22-22-22-22-22-22");
            EXPECT_EQ(ours->getValue<std::string>("DevEui"), "11-11-11-11-11-11-11-11");
        } else {
            EXPECT_EQ(as_int(ours->get("DevAddr")), 287454020);
            EXPECT_EQ(as_int(ours->get("FCtrl")), 48);
            EXPECT_EQ(as_int(ours->get("FCnt")), 25); // TTS spells it Fcnt
            EXPECT_EQ(as_int(ours->get("MIC")), 12345678);
        }
        EXPECT_EQ(as_double(ours->get("RefTime")), 0.0);
        EXPECT_EQ(as_int(ours->get("DR")), 1);
        EXPECT_EQ(as_int(ours->get("Freq")), 868300000);
        const JsonObject& upinfo = *ours->getObject("upinfo");
        EXPECT_EQ(as_uint(upinfo.get("xtime")), 12666373963464220u); // > 2^53, exact
        EXPECT_EQ(as_int(upinfo.get("rctx")), 0);
        EXPECT_EQ(as_int(upinfo.get("rssi")), 89);
        EXPECT_EQ(as_double(upinfo.get("snr")), 9.25);
        EXPECT_EQ(as_double(upinfo.get("rxtime")), 1548059982.0);
        EXPECT_EQ(upinfo.get("xtime").type(), typeid(Poco::Int64)); // integer, not a float
    }
}

TEST(Uplink, FrameRules)
{
    // Data frames: FOpts and FPort.
    std::string json = encode_ok(bytes("40010000000203000a0b0c14aabb01020304"));
    EXPECT_NE(json.find(R"("DevAddr":1,"FCtrl":2,"FCnt":3,"FOpts":"0A0B","FPort":12,)"
                        R"("FRMPayload":"14AABB","MIC":67305985)"),
              std::string::npos)
        << json;
    json = encode_ok(bytes("80010000000203000a0b01020304")); // confirmed up, no FPort
    EXPECT_NE(json.find(R"("msgtype":"updf","MHdr":128,)"), std::string::npos);
    EXPECT_NE(json.find(R"("FOpts":"0A0B","FPort":-1,"FRMPayload":"",)"), std::string::npos);
    // Too short, bad RFU bits, FOpts overflow.
    encode_dropped(bytes("4001000000000000010203")); // 11 bytes
    EXPECT_NE(encode_dropped(bytes("44010000000000000101020304")).find("RFU"), std::string::npos);
    encode_dropped(bytes("400100000005000001020304"));
    EXPECT_NE(encode_dropped(std::string()).find("empty"), std::string::npos);
    // Heard downlinks only on request.
    const std::string down = bytes("60010000000000000101020304");
    encode_dropped(down);
    EXPECT_EQ(encode_ok(down, {}, true).rfind(R"({"msgtype":"dndf","MHdr":96,)", 0), 0u);
    const std::string accept = bytes("20" + std::string(32, '1'));
    encode_dropped(accept);
    EXPECT_EQ(encode_ok(accept, {}, true).rfind(R"({"msgtype":"jacc","FRMPayload":"20)", 0), 0u);
    // Proprietary frames of any length.
    EXPECT_EQ(encode_ok(bytes("e0")).rfind(R"({"msgtype":"propdf","FRMPayload":"E0",)", 0), 0u);
    // xtime 0 and an unknown DR are never sent.
    UplinkMeta meta = default_meta();
    meta.xtime = 0;
    EXPECT_NE(encode_dropped(bytes("e0"), {}, false, meta).find("xtime"), std::string::npos);
    meta = default_meta();
    meta.dr = -1;
    encode_dropped(bytes("e0"), {}, false, meta);
}

TEST(Uplink, Rejoins)
{
    // Type 0 (19 bytes) and type 1 (24 bytes) are forwarded whole; 23 bytes is not a rejoin.
    const std::string type0 = bytes("c000030201"
                                    "0807060504030201"
                                    "0500"
                                    "a0a1a2a3");
    ASSERT_EQ(type0.size(), 19u);
    const std::string json0 = encode_ok(type0);
    EXPECT_EQ(json0.rfind(R"({"msgtype":"rejoin","MHdr":192,"FRMPayload":"C000030201)", 0), 0u)
        << json0;
    EXPECT_EQ(rebuild_phy(*parse_json(json0)), type0);
    const std::string type1 = bytes("c001"
                                    "0807060504030201"
                                    "1817161514131211"
                                    "0500"
                                    "a0a1a2a3");
    ASSERT_EQ(type1.size(), 24u);
    EXPECT_EQ(encode_ok(type1).rfind(R"({"msgtype":"rejoin","MHdr":192,)", 0), 0u);
    encode_dropped(bytes("c0" + std::string(44, '0')));   // 23 bytes (the reference's check)
    encode_dropped(bytes("c001" + std::string(34, '0'))); // type 1 with 19 bytes

    // Filters: type 1 by JoinEui, types 0/2 by the NetID they carry.
    RouterConfig config;
    config.join_euis = std::vector<std::pair<uint64_t, uint64_t>>{{0, 0x0102030405060707}};
    encode_dropped(type1, config);
    config.join_euis->front().second = 0x0102030405060708;
    encode_ok(type1, config);
    config.net_ids = std::vector<uint32_t>{0x010203};
    encode_ok(type0, config);
    config.net_ids = std::vector<uint32_t>{0x010204};
    EXPECT_NE(encode_dropped(type0, config).find("NetID"), std::string::npos);
}

TEST(Uplink, NetIdFilter)
{
    // CS router_config: NetID 66051 = 0x010203, type 0, NwkID 3 -> DevAddr 0x06000000..0x07FFFFFF.
    const RouterConfig config = config_from("chirpstack/cs_router_config_eu868_3ch.json");
    auto updf = [](uint32_t dev_addr) {
        std::string phy = bytes("40");
        put_le(phy, dev_addr, 4);
        return phy + bytes("0000000102a0a1a2a3");
    };
    EXPECT_NE(encode_ok(updf(0x06000001), config).find(R"("DevAddr":100663297,)"),
              std::string::npos);
    encode_ok(updf(0x07FFFFFF), config);
    EXPECT_NE(encode_dropped(updf(0x08000001), config).find("NetID"), std::string::npos);
    encode_dropped(updf(0xFFFFFFF6), config); // no valid DevAddr prefix
    encode_ok(updf(0xFFFFFFF6), RouterConfig{});

    // Type 1 NetID 0x200013 (NwkID 0x13): DevAddr 10|010011|... = 0x93xxxxxx. The reference's
    // 7-bit rule would compare 0x13 with DevAddr >> 25 = 0x49 and drop it; we accept it.
    RouterConfig type1;
    type1.net_ids = std::vector<uint32_t>{0x200013};
    encode_ok(updf(0x93000001), type1);
    encode_dropped(updf(0x94000001), type1);
    encode_dropped(updf(0x13000001), type1); // type-0 DevAddr with the same bits

    EXPECT_EQ(dev_addr_type(0x00000000), 0);
    EXPECT_EQ(dev_addr_type(0x80000000), 1);
    EXPECT_EQ(dev_addr_type(0xFE000000), 7);
    EXPECT_EQ(dev_addr_type(0xFF000000), -1);
    // Type 3 (11-bit NwkID, 17-bit NwkAddr) and type 7 (17-bit NwkID, 7-bit NwkAddr).
    EXPECT_TRUE(dev_addr_matches_net_id(0xE0000000u | (0x5A5u << 17) | 0x1, (3u << 21) | 0x5A5));
    EXPECT_TRUE(
        dev_addr_matches_net_id(0xFE000000u | (0x1ABCDu << 7) | 0x7F, (7u << 21) | 0x1ABCD));
    EXPECT_FALSE(dev_addr_matches_net_id(0xFE000000u | (0x1ABCDu << 7), (7u << 21) | 0x1ABCE));
}

TEST(Uplink, JoinEuiFilterWithLargeBounds)
{
    // CS range [0, 72623859790382856 = 0x0102030405060708], inclusive.
    const RouterConfig config = config_from("chirpstack/cs_router_config_eu868_3ch.json");
    auto jreq = [](uint64_t join_eui) {
        std::string phy = bytes("00");
        put_le(phy, join_eui, 8);
        return phy + bytes("08070605040302011400f6ffffff");
    };
    EXPECT_NE(
        encode_ok(jreq(0x0102030405060708), config).find(R"("JoinEui":"01-02-03-04-05-06-07-08")"),
        std::string::npos);
    EXPECT_NE(encode_dropped(jreq(0x0102030405060709), config).find("JoinEui"), std::string::npos);
    RouterConfig high;
    high.join_euis =
        std::vector<std::pair<uint64_t, uint64_t>>{{0x8000000000000000, 0xFFFFFFFFFFFFFFFF}};
    encode_ok(jreq(0xFFFFFFFFFFFFFFFF), high);
    encode_dropped(jreq(0x7FFFFFFFFFFFFFFF), high);
}

// ---- gateway -> LNS messages ------------------------------------------------------------

TEST(Encode, VersionMatchesTtsVectors)
{
    VersionInfo info{"test-station", "1.0.0", "test-package", "test-model", "prod gps"};
    EXPECT_EQ(encode_version(info), trimmed(read_vector("tts/tts_version_prod.json")));
    info = {"test-station-rc1", "1.0.0", "test-package", "test-model", "rmtsh gps"};
    const JsonObject::Ptr ours = parse_json(encode_version(info));
    const JsonObject::Ptr debug = parse_json(read_vector("tts/tts_version_debug.json"));
    for (auto it = debug->begin(); it != debug->end(); ++it) {
        EXPECT_EQ(ours->get(it->first).toString(), it->second.toString()) << it->first;
        EXPECT_EQ(ours->get(it->first).type(), it->second.type()) << it->first;
    }
    EXPECT_EQ(encode_version({"forwarder 0.1.0", "", "", "linux", "prod"}),
              R"({"msgtype":"version","station":"forwarder 0.1.0","firmware":null,"package":null,)"
              R"("model":"linux","protocol":2,"features":"prod"})");
    EXPECT_NE(encode_version({"a\"b\\c\n", "", "", "m", ""}).find(R"("a\"b\\c\n")"),
              std::string::npos);
}

TEST(Encode, DntxedShape)
{
    TxReport report;
    report.diid = 1;
    report.dev_eui = 0x0000000011000001;
    report.dr = 5;
    report.freq_hz = 868300000;
    report.xtime = 32369622594166374;
    report.txtime = 2436.156572;
    EXPECT_EQ(encode_dntxed(report),
              R"({"msgtype":"dntxed","seqno":1,"diid":1,"DR":5,"Freq":868300000,)"
              R"("DevEui":"00-00-00-00-11-00-00-01","rctx":0,"xtime":32369622594166374,)"
              R"("txtime":2436.156572,"gpstime":0})");

    // Every field TTS models is there with its type; the DevEui names the same EUI.
    const JsonObject::Ptr tts = parse_json(read_vector("tts/tts_marshal_dntxed.json"));
    report = {};
    report.diid = as_int(tts->get("diid"));
    report.dev_eui = eui_of(tts->getValue<std::string>("DevEui"));
    report.rctx = static_cast<uint32_t>(as_int(tts->get("rctx")));
    report.xtime = as_uint(tts->get("xtime"));
    report.txtime = as_double(tts->get("txtime"));
    report.gpstime = as_uint(tts->get("gpstime"));
    const JsonObject::Ptr ours = parse_json(encode_dntxed(report));
    for (auto it = tts->begin(); it != tts->end(); ++it) {
        ASSERT_TRUE(ours->has(it->first)) << it->first;
        if (it->first == "DevEui") {
            EXPECT_EQ(eui_of(ours->getValue<std::string>("DevEui")), report.dev_eui);
        } else if (it->first == "txtime") {
            EXPECT_EQ(as_double(ours->get("txtime")), 1552906698.0);
        } else {
            EXPECT_EQ(ours->get(it->first).toString(), it->second.toString()) << it->first;
        }
    }
    // CS reads only diid, as uint32.
    const JsonObject::Ptr cs = parse_json(read_vector("chirpstack/cs_dntxed.json"));
    report.diid = as_int(cs->get("diid"));
    const JsonObject::Ptr ours_cs = parse_json(encode_dntxed(report));
    EXPECT_EQ(ours_cs->get("diid").type(), typeid(Poco::Int64));
    EXPECT_EQ(as_int(ours_cs->get("diid")), 12345);
}

TEST(Encode, TimesyncRequestIsIntegerMicroseconds)
{
    // TTS's own test sends a fractional txtime, which CS would ignore: we send an integer.
    const JsonObject::Ptr tts = parse_json(read_vector("tts/tts_marshal_timesync_req.json"));
    EXPECT_EQ(tts->get("txtime").type(), typeid(double));
    const std::string ours = encode_timesync_request(1234567890);
    EXPECT_EQ(ours, R"({"msgtype":"timesync","txtime":1234567890})");
    EXPECT_EQ(parse_json(ours)->get("txtime").type(), typeid(Poco::Int64));
    // A TTS-style float echo of our request decodes back to the same value.
    EXPECT_EQ(decode_as<TimeSync>(R"({"msgtype":"timesync","txtime":1234567890.0,"gpstime":1})")
                  .txtime_us,
              1234567890);
}

TEST(Encode, GetxtimeReply)
{
    EXPECT_EQ(
        encode_getxtime_reply(1795570760.5, 12.345678, 1795570760.1, {32369622594166374, 0, 0, 0}),
        R"({"msgtype":"getxtime","MuxTime":1795570760.500000,"ustime":12.345678,)"
        R"("UTCtime":1795570760.100000,"xtimes":[32369622594166374,0,0,0]})");
}

TEST(Hex, Helpers)
{
    EXPECT_EQ(format_hex(std::string("\x00\xab\xff", 3)), "00ABFF");
    std::string out;
    EXPECT_TRUE(parse_hex("00abFF", out));
    EXPECT_EQ(out, std::string("\x00\xab\xff", 3));
    EXPECT_TRUE(parse_hex("", out));
    EXPECT_TRUE(out.empty());
    EXPECT_FALSE(parse_hex("0", out));
    EXPECT_FALSE(parse_hex("0x", out));
    EXPECT_FALSE(parse_hex("0 ", out));
}
