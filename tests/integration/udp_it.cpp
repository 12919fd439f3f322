// End-to-end tests of the Semtech UDP transport: the real forwarder binary (virtual radio +
// forwarder-semtech-udp.so) against a GWMP test server (udp_server.hpp) on 127.0.0.1 / ::1.
// Every wait is bounded.
#include "harness.hpp"
#include "udp_server.hpp"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <gtest/gtest.h>

#include <csignal>
#include <ctime>
#include <regex>
#include <set>

using namespace forwarder::testing;
using namespace std::chrono_literals;
using Poco::JSON::Object;
using Type = forwarder::udp::PacketType;

namespace {

const std::string kBinary = FORWARDER_BINARY;
const std::string kPluginDir = FORWARDER_PLUGIN_DIR;
constexpr uint64_t kEui = 0x0016C001FF10A235ull;
constexpr uint32_t kDevAddr = 0x26011F2A; // NetID 000013

Object::Ptr json(const std::string& text)
{
    try {
        return Poco::JSON::Parser().parse(text).extract<Object::Ptr>();
    } catch (...) {
        return nullptr;
    }
}

size_t occurrences(const std::string& text, const std::string& needle)
{
    size_t n = 0;
    for (size_t pos = text.find(needle); pos != std::string::npos;
         pos = text.find(needle, pos + 1)) {
        ++n;
    }
    return n;
}

// "YYYY-MM-DD hh:mm:ss GMT" or RFC 3339 "YYYY-MM-DDThh:mm:ss.ffffffZ" -> Unix µs.
int64_t utc_us(const std::string& text, bool rfc3339)
{
    std::tm tm{};
    int us = 0;
    if (rfc3339) {
        if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%6dZ", &tm.tm_year, &tm.tm_mon,
                        &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &us) != 7) {
            return -1;
        }
    } else if (std::sscanf(text.c_str(), "%4d-%2d-%2d %2d:%2d:%2d GMT", &tm.tm_year, &tm.tm_mon,
                           &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6) {
        return -1;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return static_cast<int64_t>(timegm(&tm)) * 1'000'000 + us;
}

int64_t now_unix_us()
{
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

bool has_rxpk(const GwmpDatagram& d)
{
    return d.json.find("\"rxpk\"") != std::string::npos;
}
bool has_stat(const GwmpDatagram& d)
{
    return d.json.find("\"stat\":{") != std::string::npos;
}

class UdpTest : public ::testing::Test {
protected:
    UdpTest() { radio_port_ = free_udp_port(); }

    // The forwarder with one virtual radio (plus `radio_extra`, indented option lines) and a
    // semtech-udp transport "udp" to `server` (plus `udp_extra` option lines); metrics on an
    // ephemeral port; EU868 rules. `top_extra`: more top-level YAML.
    std::unique_ptr<Process> start(const UdpServer& server, const std::string& udp_extra = "",
                                   const std::string& radio_extra = "",
                                   const std::string& top_extra = "")
    {
        const std::string cfg = dir_ / "forwarder.yaml";
        write_file(cfg, "gateway:\n  eui: \"0016c001ff10a235\"\n  log: {level: debug}\n"
                        "plugin_dir: " +
                            kPluginDir +
                            "\nradios:\n  - driver: virtual\n    options:\n"
                            "      uplink_udp: \"127.0.0.1:" +
                            std::to_string(radio_port_) +
                            "\"\n      tx_log: " + (dir_ / "tx.jsonl") + "\n" + radio_extra +
                            "transports:\n  - plugin: semtech-udp\n    name: udp\n"
                            "    options:\n      server: \"" +
                            server.host() + "\"\n      port_up: " + std::to_string(server.port()) +
                            "\n      port_down: " + std::to_string(server.port()) +
                            "\n      keepalive: 1\n" + udp_extra +
                            "stats: {interval_s: 1}\nmetrics: {listen: \"127.0.0.1:0\"}\n"
                            "scheduler: {region: EU868}\n" +
                            top_extra);
        auto p = std::make_unique<Process>(std::vector<std::string>{kBinary, "--config", cfg},
                                           dir_.path());
        EXPECT_TRUE(p->wait_for_err("] running", 10s)) << p->err();
        metrics_port_ = metrics_port_from_log(p->err());
        EXPECT_NE(metrics_port_, 0) << p->err();
        return p;
    }

    // Waits until the transport reports its downlink path up (a PULL_ACK came back).
    static bool path_up(const Process& p, const UdpServer& server)
    {
        const std::string host =
            std::string(server.host()) == "::1" ? "[::1]" : std::string(server.host());
        return p.wait_for_err(
            "downlink path to " + host + ":" + std::to_string(server.port()) + " is up", 10s);
    }

    static void stop(Process& p)
    {
        p.signal(SIGTERM);
        int code = -1;
        ASSERT_TRUE(p.wait(5s, code)) << "did not stop";
        EXPECT_EQ(code, 0) << p.err();
    }

    // Injects one uplink (no tmst: the radio stamps it with its counter) and returns the rxpk
    // object the server received for it (null if none within 5 s).
    Object::Ptr uplink(UdpServer& server, uint16_t fcnt)
    {
        const size_t from = server.mark();
        send_udp(radio_port_, rxpk_datagram(rxpk_item(data_frame_b64(kDevAddr, fcnt))));
        const auto d = server.wait_for(Type::push_data, has_rxpk, 5s, from);
        if (!d) {
            return nullptr;
        }
        auto body = json(d->json);
        if (!body || !body->has("rxpk")) {
            return nullptr;
        }
        return body->getArray("rxpk")->getObject(0);
    }

    // Sends a PULL_RESP with `token` and waits for the TX_ACK with that token.
    std::optional<GwmpDatagram> downlink(UdpServer& server, uint16_t token, const std::string& body)
    {
        const size_t from = server.mark();
        if (!server.send_pull_resp(token, body)) {
            return std::nullopt;
        }
        return server.wait_for(
            Type::tx_ack, [token](const GwmpDatagram& d) { return d.token == token; }, 5s, from);
    }

    static std::string txpk_tmst(uint32_t tmst, double freq, const std::string& data_b64,
                                 int powe = 14)
    {
        return "{\"txpk\":{\"imme\":false,\"tmst\":" + std::to_string(tmst) +
               ",\"freq\":" + std::to_string(freq) +
               ",\"rfch\":0,\"powe\":" + std::to_string(powe) +
               ",\"modu\":\"LORA\",\"datr\":\"SF7BW125\",\"codr\":\"4/5\",\"ipol\":true,"
               "\"size\":" +
               std::to_string(decoded_size(data_b64)) + ",\"data\":\"" + data_b64 + "\"}}";
    }
    static size_t decoded_size(const std::string& b64)
    {
        std::string bytes;
        forwarder::support::base64_decode(b64, bytes);
        return bytes.size();
    }

    TempDir dir_;
    int radio_port_ = 0;
    int metrics_port_ = 0;
};

const std::string kDownA = "YAEAAAAAAQAAAAAA"; // 12 bytes
const std::string kDownB = "YAIAAAAAAgAAAAAA";
const std::string kDownC = "YAMAAAAAAwAAAAAA";

} // namespace

// 1. Uplinks as PUSH_DATA with strictly typed rxpk; stat objects with ackr and time.
TEST_F(UdpTest, PushDataCarriesRxpkAndStatReportsAckRatio)
{
    UdpServer server;
    ASSERT_TRUE(server.ok());
    auto p = start(server, "      stat_interval: 1\n      push_timeout: 1000\n",
                   "      temperature_c: 41.5\n");
    ASSERT_TRUE(path_up(*p, server)) << p->err();

    const std::string data = data_frame_b64(kDevAddr, 7);
    const size_t from = server.mark();
    send_udp(radio_port_, rxpk_datagram(R"({"tmst":123456789,"chan":2,"rfch":1,"freq":868.3,)"
                                        R"("datr":"SF9BW125","codr":"4/6","rssi":-42,)"
                                        R"("rssis":-44,"lsnr":-3.5,"foff":-120,"data":")" +
                                        data + "\"}"));
    const auto push = server.wait_for(Type::push_data, has_rxpk, 5s, from);
    ASSERT_TRUE(push) << p->err();
    EXPECT_EQ(push->eui, kEui);
    EXPECT_EQ(push->version, 2);
    // Exactly the sx1302 forwarder's keys, order and number formats (strict integer types).
    EXPECT_EQ(push->json, "{\"rxpk\":[{\"jver\":1,\"tmst\":123456789,\"chan\":2,\"rfch\":1,"
                          "\"freq\":868.300000,\"mid\":0,\"stat\":1,\"modu\":\"LORA\","
                          "\"datr\":\"SF9BW125\",\"codr\":\"4/6\",\"rssis\":-44,\"lsnr\":-3.5,"
                          "\"foff\":-120,\"rssi\":-42,\"size\":17,\"data\":\"" +
                              data + "\",\"brd\":0}]}");
    // And it reads back with the strict server-side decoder.
    forwarder::udp::PushData decoded;
    ASSERT_NO_THROW(decoded = forwarder::udp::parse_push_data(push->json)) << push->json;
    ASSERT_EQ(decoded.uplinks.size(), 1u);
    EXPECT_EQ(decoded.uplinks[0].count_us(), 123456789u);
    EXPECT_EQ(decoded.uplinks[0].frequency_hz(), 868300000u);
    EXPECT_EQ(decoded.uplinks[0].crc(), forwarder::v1::CRC_OK);
    auto rx = json(push->json)->getArray("rxpk")->getObject(0);
    for (const char* k : {"tmst", "chan", "rfch", "stat", "rssi", "rssis", "foff", "size", "brd"}) {
        EXPECT_TRUE(rx->get(k).isInteger()) << k;
    }

    // Stat every second. The first covers an interval without pushes (ackr 0.0); every later
    // one covers acknowledged pushes only.
    const auto stats = server.wait_count(Type::push_data, 4, 10s, has_stat, from);
    ASSERT_EQ(stats.size(), 4u) << p->err();
    const std::regex time_format(R"(^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} GMT$)");
    uint32_t rxnb = 0, rxok = 0, rxfw = 0;
    for (size_t i = 0; i < stats.size(); ++i) {
        forwarder::udp::PushData s;
        ASSERT_NO_THROW(s = forwarder::udp::parse_push_data(stats[i].json)) << stats[i].json;
        ASSERT_TRUE(s.stat);
        auto st = json(stats[i].json)->getObject("stat");
        const auto time = st->getValue<std::string>("time");
        EXPECT_TRUE(std::regex_match(time, time_format)) << time;
        EXPECT_NEAR(static_cast<double>(utc_us(time, false)), static_cast<double>(now_unix_us()),
                    30e6)
            << time;
        for (const char* k : {"rxnb", "rxok", "rxfw", "dwnb", "txnb"}) {
            EXPECT_TRUE(st->get(k).isInteger()) << k;
        }
        rxnb += s.stat->rxnb;
        rxok += s.stat->rxok;
        rxfw += s.stat->rxfw;
        if (i >= 1) {
            EXPECT_EQ(s.stat->ackr, 100.0) << stats[i].json;
            EXPECT_NE(stats[i].json.find("\"ackr\":100.0"), std::string::npos) << stats[i].json;
        }
    }
    EXPECT_EQ(rxnb, 1u);
    EXPECT_EQ(rxok, 1u);
    EXPECT_EQ(rxfw, 1u);
    // The radio's temperature (published with the gateway stats every second).
    EXPECT_NE(stats.back().json.find("\"temp\":41.5"), std::string::npos) << stats.back().json;

    // PUSH_ACKs lost: from the second stat on, ackr 0.0, and push_unacked counts them.
    const auto before = scrape_metrics(metrics_port_);
    ASSERT_TRUE(before.ok) << before.error;
    const double unacked = before.value("forwarder_stat", {{"name", "udp.push_unacked"}}, 0);
    server.set_push_ack(false);
    const size_t off = server.mark();
    const auto later = server.wait_count(Type::push_data, 3, 10s, has_stat, off);
    ASSERT_EQ(later.size(), 3u) << p->err();
    for (size_t i = 1; i < later.size(); ++i) {
        forwarder::udp::PushData s = forwarder::udp::parse_push_data(later[i].json);
        ASSERT_TRUE(s.stat);
        EXPECT_EQ(s.stat->ackr, 0.0) << later[i].json;
        EXPECT_NE(later[i].json.find("\"ackr\":0.0"), std::string::npos) << later[i].json;
    }
    const auto after = wait_metrics(
        metrics_port_,
        [&](const Scrape& s) {
            return s.value("forwarder_stat", {{"name", "udp.push_unacked"}}, 0) >= unacked + 2;
        },
        5s);
    ASSERT_TRUE(after.ok) << after.error;
    EXPECT_GE(after.value("forwarder_stat", {{"name", "udp.push_unacked"}}, 0), unacked + 2)
        << after.text;
    EXPECT_EQ(after.types.at("forwarder_stat"), "untyped");
    stop(*p);
}

// 2. PULL_DATA: 12 bytes with the EUI, every keepalive, a new token each time.
TEST_F(UdpTest, PullDataEveryKeepaliveWithFreshTokens)
{
    UdpServer server;
    ASSERT_TRUE(server.ok());
    auto p = start(server, "      stat_interval: 0\n");
    const auto pulls = server.wait_count(Type::pull_data, 4, 10s);
    ASSERT_EQ(pulls.size(), 4u) << p->err();
    std::set<uint16_t> tokens;
    for (size_t i = 0; i < pulls.size(); ++i) {
        EXPECT_EQ(pulls[i].bytes.size(), 12u);
        EXPECT_EQ(pulls[i].version, 2);
        EXPECT_EQ(pulls[i].eui, kEui);
        EXPECT_TRUE(pulls[i].json.empty());
        EXPECT_EQ(pulls[i].from_port, pulls[0].from_port) << "one downlink socket while acked";
        tokens.insert(pulls[i].token);
        if (i > 0) {
            const auto gap = pulls[i].at - pulls[i - 1].at;
            EXPECT_GT(gap, 500ms);
            EXPECT_LT(gap, 2500ms);
        }
    }
    EXPECT_EQ(tokens.size(), pulls.size()) << "tokens must change";
    const auto m = wait_metrics(
        metrics_port_,
        [](const Scrape& s) {
            return s.value("forwarder_transport_connected", {{"transport", "udp"}}) == 1;
        },
        5s);
    ASSERT_TRUE(m.ok) << m.error;
    EXPECT_EQ(m.value("forwarder_transport_connected", {{"transport", "udp"}}), 1) << m.text;
    EXPECT_EQ(m.types.at("forwarder_transport_connected"), "gauge");
    stop(*p);
}

// 3. Class A downlink (RX1), immediate downlink, lowered power.
TEST_F(UdpTest, PullRespClassAImmediateAndLoweredPower)
{
    UdpServer server;
    ASSERT_TRUE(server.ok());
    auto p = start(server, "      stat_interval: 0\n");
    ASSERT_TRUE(path_up(*p, server)) << p->err();

    auto rx = uplink(server, 1);
    ASSERT_TRUE(rx) << p->err();
    const uint32_t t = rx->getValue<uint32_t>("tmst");
    auto ack = downlink(server, 0x1234, txpk_tmst(t + 1'000'000u, 868.1, kDownA));
    ASSERT_TRUE(ack) << p->err();
    EXPECT_EQ(ack->bytes.size(), 12u) << "success is a TX_ACK without JSON: " << ack->json;
    EXPECT_EQ(ack->eui, kEui);
    auto tx = wait_lines(dir_ / "tx.jsonl", 1, 5s);
    ASSERT_EQ(tx.size(), 1u) << p->err();
    auto line = json(tx[0]);
    EXPECT_EQ(line->getValue<uint32_t>("count_us"), t + 1'000'000u);
    EXPECT_NEAR(line->getValue<double>("freq"), 868.1, 1e-6);
    EXPECT_EQ(line->getValue<int>("powe"), 14);
    EXPECT_EQ(line->getValue<std::string>("data"), kDownA);
    EXPECT_EQ(line->getValue<std::string>("datr"), "SF7BW125");
    EXPECT_EQ(line->getValue<bool>("ipol"), true);
    EXPECT_EQ(line->getValue<bool>("imme"), false);

    // imme: sent now.
    ack = downlink(server, 0x2345,
                   "{\"txpk\":{\"imme\":true,\"freq\":869.525,\"rfch\":0,\"powe\":14,"
                   "\"modu\":\"LORA\",\"datr\":\"SF9BW125\",\"codr\":\"4/5\",\"ipol\":true,"
                   "\"size\":12,\"data\":\"" +
                       kDownB + "\"}}");
    ASSERT_TRUE(ack) << p->err();
    EXPECT_EQ(ack->bytes.size(), 12u) << ack->json;
    tx = wait_lines(dir_ / "tx.jsonl", 2, 5s);
    ASSERT_EQ(tx.size(), 2u) << p->err();
    line = json(tx[1]);
    EXPECT_EQ(line->getValue<bool>("imme"), true);
    EXPECT_NEAR(line->getValue<double>("freq"), 869.525, 1e-6);
    EXPECT_EQ(line->getValue<std::string>("data"), kDownB);

    // 30 dBm on 868.1 MHz: EU868 allows 16 dBm there; sent at 16 dBm, TX_ACK says so.
    rx = uplink(server, 2);
    ASSERT_TRUE(rx) << p->err();
    const uint32_t t2 = rx->getValue<uint32_t>("tmst");
    ack = downlink(server, 0x3456, txpk_tmst(t2 + 1'000'000u, 868.1, kDownC, 30));
    ASSERT_TRUE(ack) << p->err();
    EXPECT_EQ(ack->json, "{\"txpk_ack\":{\"error\":\"NONE\",\"warn\":\"TX_POWER\",\"value\":16}}");
    tx = wait_lines(dir_ / "tx.jsonl", 3, 5s);
    ASSERT_EQ(tx.size(), 3u) << p->err();
    line = json(tx[2]);
    EXPECT_EQ(line->getValue<std::string>("data"), kDownC);
    EXPECT_EQ(line->getValue<int>("powe"), 16);
    const auto parsed = forwarder::udp::parse_tx_ack(ack->json);
    ASSERT_TRUE(parsed.value);
    EXPECT_EQ(*parsed.value, line->getValue<double>("powe"));
    stop(*p);
}

// 4. Every refusal answered with the exact TX_ACK error JSON.
//
// KNOWN PLUGIN BUG (not fixed here; fails this test intermittently, ~2 runs in 5 on a loaded
// 2-core machine, at the second uplink() below): plugins/semtech-udp/udp_transport.cpp:515,
// send_uplinks() drops an uplink as expired when `now - queued_us` underflows. `now` is read
// at the top of the I/O loop (line 702); an uplink queued by the delivery thread after that
// read has queued_us > now, the unsigned difference is huge, and the frame is counted in
// uplinks_dropped instead of being sent (metrics: forwarder_transport_uplinks_dropped_total
// {transport="udp",reason="transport"} 1, no PUSH_DATA). Here the uplink is injected right
// after three TX_ACKs, while the I/O thread is mid-iteration. The same pattern is in
// downlink_radio() (line 624: a just-queued uplink makes the search stop early and the
// downlink falls back to option `radio`).
TEST_F(UdpTest, TxAckErrors)
{
    UdpServer server;
    ASSERT_TRUE(server.ok());
    auto p = start(server, "      stat_interval: 0\n");
    ASSERT_TRUE(path_up(*p, server)) << p->err();
    auto rx = uplink(server, 1);
    ASSERT_TRUE(rx) << p->err();
    const uint32_t t = rx->getValue<uint32_t>("tmst");
    auto error = [](const std::string& code) {
        return "{\"txpk_ack\":{\"error\":\"" + code + "\"}}";
    };

    auto ack = downlink(server, 0x0101, txpk_tmst(t - 1'000'000u, 868.1, kDownA));
    ASSERT_TRUE(ack) << p->err();
    EXPECT_EQ(ack->json, error("TOO_LATE"));
    EXPECT_EQ(ack->eui, kEui);

    ack = downlink(server, 0x0202, txpk_tmst(t + 1'000'000u, 915.0, kDownA));
    ASSERT_TRUE(ack) << p->err();
    EXPECT_EQ(ack->json, error("TX_FREQ"));

    // GPS time without any GPS synchronisation.
    const uint64_t gps_ms =
        static_cast<uint64_t>(now_unix_us() / 1000) - 315'964'800'000ull + 18'000ull + 5'000ull;
    ack = downlink(server, 0x0303,
                   "{\"txpk\":{\"tmms\":" + std::to_string(gps_ms) +
                       ",\"freq\":868.1,\"rfch\":0,\"powe\":14,\"modu\":\"LORA\","
                       "\"datr\":\"SF7BW125\",\"codr\":\"4/5\",\"ipol\":true,\"size\":12,"
                       "\"data\":\"" +
                       kDownA + "\"}}");
    ASSERT_TRUE(ack) << p->err();
    EXPECT_EQ(ack->json, error("GPS_UNLOCKED"));

    // Two PULL_RESPs for the same time: the first is taken, the second collides.
    rx = uplink(server, 2);
    ASSERT_TRUE(rx) << p->err() << server.dump() << scrape_metrics(metrics_port_).text;
    const uint32_t t2 = rx->getValue<uint32_t>("tmst");
    ack = downlink(server, 0x0404, txpk_tmst(t2 + 1'000'000u, 868.1, kDownA));
    ASSERT_TRUE(ack) << p->err();
    EXPECT_EQ(ack->bytes.size(), 12u) << ack->json;
    ack = downlink(server, 0x0505, txpk_tmst(t2 + 1'000'000u, 868.1, kDownB));
    ASSERT_TRUE(ack) << p->err();
    EXPECT_EQ(ack->json, error("COLLISION_PACKET"));

    // Unparsable PULL_RESPs: UNKNOWN rather than silence.
    ack = downlink(server, 0x0606, "{\"txpk\":{\"tmst\":12,");
    ASSERT_TRUE(ack) << p->err();
    EXPECT_EQ(ack->json, error("UNKNOWN"));
    ack = downlink(server, 0x0707,
                   "{\"txpk\":{\"tmst\":" + std::to_string(t2 + 2'000'000u) +
                       ",\"rfch\":0,\"powe\":14,\"modu\":\"LORA\",\"datr\":\"SF7BW125\","
                       "\"codr\":\"4/5\",\"ipol\":true,\"size\":12,\"data\":\"" +
                       kDownA + "\"}}");
    ASSERT_TRUE(ack) << p->err();
    EXPECT_EQ(ack->json, error("UNKNOWN"));

    // Only the one good frame went out; the scheduler counted each refusal by its reason.
    const auto tx = wait_lines(dir_ / "tx.jsonl", 1, 5s);
    ASSERT_EQ(tx.size(), 1u);
    EXPECT_EQ(json(tx[0])->getValue<std::string>("data"), kDownA);
    const auto m = wait_metrics(
        metrics_port_,
        [](const Scrape& s) {
            return s.value("forwarder_downlinks_total", {{"outcome", "OK"}}) == 1;
        },
        5s);
    ASSERT_TRUE(m.ok) << m.error;
    for (const char* outcome : {"OK", "TOO_LATE", "TX_FREQ", "GPS_UNLOCKED", "COLLISION_PACKET"}) {
        EXPECT_EQ(m.value("forwarder_downlinks_total", {{"outcome", outcome}}), 1)
            << outcome << "\n"
            << m.text;
    }
    EXPECT_EQ(m.value("forwarder_transport_downlinks_received_total", {{"transport", "udp"}}), 7)
        << m.text;
    stop(*p);
}

// 5. Three PULL_DATA without PULL_ACK: path lost (connected 0, new sockets); acks again: up.
TEST_F(UdpTest, KeepaliveLossAndRecovery)
{
    UdpServer server;
    ASSERT_TRUE(server.ok());
    auto p = start(server, "      stat_interval: 0\n");
    ASSERT_TRUE(path_up(*p, server)) << p->err();
    const std::string peer = "downlink path to 127.0.0.1:" + std::to_string(server.port());
    auto m = wait_metrics(
        metrics_port_,
        [](const Scrape& s) {
            return s.value("forwarder_transport_connected", {{"transport", "udp"}}) == 1;
        },
        5s);
    ASSERT_TRUE(m.ok) << m.error;
    EXPECT_EQ(m.value("forwarder_transport_connections_total", {{"transport", "udp"}}), 1)
        << m.text;
    const uint16_t first_port = server.of(Type::pull_data).front().from_port;

    server.set_pull_ack(false);
    const size_t lost_at = server.mark();
    ASSERT_TRUE(p->wait_for_err(peer + " lost", 10s)) << p->err();
    // At least three unanswered PULL_DATA came before that.
    EXPECT_GE(server.of(Type::pull_data, lost_at).size(), 3u);
    m = wait_metrics(
        metrics_port_,
        [](const Scrape& s) {
            return s.value("forwarder_transport_connected", {{"transport", "udp"}}) == 0;
        },
        5s);
    ASSERT_TRUE(m.ok) << m.error;
    EXPECT_EQ(m.value("forwarder_transport_connected", {{"transport", "udp"}}), 0) << m.text;
    EXPECT_EQ(occurrences(p->err(), peer + " is up"), 1u);

    // New sockets: the next PULL_DATA comes from another source port.
    const size_t reopened = server.mark();
    server.set_pull_ack(true);
    const auto next = server.wait_for(Type::pull_data, 5s, reopened);
    ASSERT_TRUE(next) << p->err();
    EXPECT_NE(next->from_port, first_port);
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (occurrences(p->err(), peer + " is up") < 2 &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
    }
    EXPECT_EQ(occurrences(p->err(), peer + " is up"), 2u) << p->err();
    m = wait_metrics(
        metrics_port_,
        [](const Scrape& s) {
            return s.value("forwarder_transport_connected", {{"transport", "udp"}}) == 1;
        },
        5s);
    ASSERT_TRUE(m.ok) << m.error;
    EXPECT_EQ(m.value("forwarder_transport_connected", {{"transport", "udp"}}), 1) << m.text;
    EXPECT_EQ(m.value("forwarder_transport_connections_total", {{"transport", "udp"}}), 2)
        << m.text;
    EXPECT_GE(m.value("forwarder_transport_connection_failures_total", {{"transport", "udp"}}), 1)
        << m.text;
    stop(*p);
}

// 6. The same over IPv6 (::1).
TEST_F(UdpTest, Ipv6Server)
{
    UdpServer server(true);
    if (!server.ok()) {
        GTEST_SKIP() << "::1 cannot be bound here";
    }
    auto p = start(server, "      stat_interval: 0\n");
    ASSERT_TRUE(path_up(*p, server)) << p->err();
    EXPECT_TRUE(p->wait_for_err("sending to [::1]:" + std::to_string(server.port()), 1s))
        << p->err();
    auto rx = uplink(server, 5);
    ASSERT_TRUE(rx) << p->err();
    EXPECT_EQ(rx->getValue<std::string>("data"), data_frame_b64(kDevAddr, 5));
    const auto pull = server.wait_for(Type::pull_data, 1s);
    ASSERT_TRUE(pull);
    EXPECT_EQ(pull->bytes.size(), 12u);
    const uint32_t t = rx->getValue<uint32_t>("tmst");
    auto ack = downlink(server, 0x6666, txpk_tmst(t + 1'000'000u, 868.1, kDownA));
    ASSERT_TRUE(ack) << p->err();
    EXPECT_EQ(ack->bytes.size(), 12u) << ack->json;
    const auto tx = wait_lines(dir_ / "tx.jsonl", 1, 5s);
    ASSERT_EQ(tx.size(), 1u) << p->err();
    EXPECT_EQ(json(tx[0])->getValue<uint32_t>("count_us"), t + 1'000'000u);
    stop(*p);
}

// 7. PPS + GPS time: rxpk carry tmms (GPS ms) and time (UTC = GPS − 18 s), consistent.
TEST_F(UdpTest, GpsTimeInRxpk)
{
    UdpServer server;
    ASSERT_TRUE(server.ok());
    auto p = start(server, "      stat_interval: 0\n", "      pps: true\n",
                   "time:\n  gps: {source: system}\n");
    ASSERT_TRUE(p->wait_for_err("time source PPS_GPS", 30s)) << p->err();
    const size_t from = server.mark();
    send_udp(radio_port_, rxpk_datagram(rxpk_item(data_frame_b64(kDevAddr, 9))));
    const auto push = server.wait_for(Type::push_data, has_rxpk, 5s, from);
    ASSERT_TRUE(push) << p->err();
    const int64_t host_us = now_unix_us();
    // time then tmms, right after tmst; tmms an integer.
    const std::regex shape(
        R"re(^\{"rxpk":\[\{"jver":1,"tmst":\d+,"time":"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)","tmms":(\d+),"chan":)re");
    std::smatch match;
    ASSERT_TRUE(std::regex_search(push->json, match, shape)) << push->json;
    const int64_t utc = utc_us(match[1].str(), true);
    const int64_t tmms = std::stoll(match[2].str());
    ASSERT_GT(utc, 0);
    // GPS ms -> Unix ms: + GPS epoch − 18 leap seconds. Same millisecond as `time`.
    EXPECT_EQ(tmms + 315'964'800'000ll - 18'000ll, utc / 1000) << push->json;
    EXPECT_NEAR(static_cast<double>(utc), static_cast<double>(host_us), 5e6) << push->json;
    // The strict decoder agrees (gps_time_us to the µs from time).
    const auto decoded = forwarder::udp::parse_push_data(push->json);
    ASSERT_EQ(decoded.uplinks.size(), 1u);
    ASSERT_TRUE(decoded.uplinks[0].has_gps_time_us());
    EXPECT_EQ(static_cast<int64_t>(decoded.uplinks[0].gps_time_us()) / 1000, tmms);
    stop(*p);
}
