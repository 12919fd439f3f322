// End-to-end tests with several transports at once: the real forwarder (virtual radio) with an
// LNS transport (forwarder-lns-sim), a Semtech UDP transport (udp_server.hpp) and a capture
// file, each with its own uplink filter and downlink priority. Every wait is bounded.
#include "harness.hpp"
#include "lns_sim.hpp"
#include "udp_server.hpp"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <gtest/gtest.h>

#include <array>
#include <csignal>
#include <set>

using namespace forwarder::testing;
using namespace std::chrono_literals;
using Poco::JSON::Object;
using Type = forwarder::udp::PacketType;

namespace {

const std::string kBinary = FORWARDER_BINARY;
const std::string kPluginDir = FORWARDER_PLUGIN_DIR;
constexpr uint32_t kNetA = 0x26011F2A; // NetID 000013 (type 0, NwkID 0x13)
constexpr uint32_t kNetB = 0x00ABCDEF; // NetID 000000

bool has_rxpk(const GwmpDatagram& d)
{
    return d.json.find("\"rxpk\"") != std::string::npos;
}

// The rxpk objects of every PUSH_DATA received so far, in order.
std::vector<Object::Ptr> rxpks(const UdpServer& server)
{
    std::vector<Object::Ptr> out;
    for (const auto& d : server.of(Type::push_data)) {
        if (!has_rxpk(d)) {
            continue;
        }
        auto body = parse(d.json);
        if (!body) {
            continue;
        }
        auto arr = body->getArray("rxpk");
        for (size_t i = 0; i < arr->size(); ++i) {
            out.push_back(arr->getObject(static_cast<unsigned>(i)));
        }
    }
    return out;
}

std::vector<Object::Ptr> wait_rxpks(const UdpServer& server, size_t n,
                                    std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto got = rxpks(server);
    while (got.size() < n && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
        got = rxpks(server);
    }
    return got;
}

// Lines of the capture file of one type ("uplink", "tx_result", ...).
std::vector<Object::Ptr> capture_lines(const std::string& path, const std::string& type)
{
    std::vector<Object::Ptr> out;
    for (const auto& line : read_lines(path)) {
        auto o = parse(line);
        if (o && o->has("type") && o->getValue<std::string>("type") == type) {
            out.push_back(o);
        }
    }
    return out;
}

std::vector<Object::Ptr> wait_capture(const std::string& path, const std::string& type, size_t n,
                                      std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto got = capture_lines(path, type);
    while (got.size() < n && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
        got = capture_lines(path, type);
    }
    return got;
}

// FCnt of a data frame in base64 (bytes 6..7, little-endian); -1 if not a data frame.
int fcnt_of(const std::string& b64)
{
    std::string f;
    if (!forwarder::support::base64_decode(b64, f) || f.size() < 8 ||
        (static_cast<uint8_t>(f[0]) & 0xE0) != 0x40) {
        return -1;
    }
    return static_cast<uint8_t>(f[6]) | static_cast<uint8_t>(f[7]) << 8;
}

// A join request: JoinEUI 70B3D57ED0001234, DevEUI 0004A30B001C0530, DevNonce `nonce`.
std::string join_request_b64(uint16_t nonce)
{
    std::string f(1, '\0');
    for (uint64_t eui : {0x70B3D57ED0001234ull, 0x0004A30B001C0530ull}) {
        for (int i = 0; i < 8; ++i) {
            f += static_cast<char>((eui >> (8 * i)) & 0xFF);
        }
    }
    f += static_cast<char>(nonce & 0xFF);
    f += static_cast<char>(nonce >> 8);
    f += std::string("\x01\x02\x03\x04", 4);
    return forwarder::support::base64_encode(f);
}

class FanoutTest : public ::testing::Test {
protected:
    FanoutTest() { radio_port_ = free_udp_port(); }

    // Three transports: "lns" to the sim, "udp" to the GWMP server, "capture" to a file, each
    // with the given extra entry lines (filter:, priority:, indented by 4).
    std::unique_ptr<Process> start(const Sim& sim, const UdpServer& server,
                                   const std::string& lns_extra, const std::string& udp_extra,
                                   const std::string& capture_extra)
    {
        const std::string cfg = dir_ / "forwarder.yaml";
        write_file(cfg,
                   "gateway:\n  eui: \"0016c001ff10a235\"\n  log: {level: debug}\n"
                   "plugin_dir: " +
                       kPluginDir +
                       "\nradios:\n  - driver: virtual\n    options:\n"
                       "      uplink_udp: \"127.0.0.1:" +
                       std::to_string(radio_port_) + "\"\n      tx_log: " + (dir_ / "tx.jsonl") +
                       "\ntransports:\n"
                       "  - plugin: lns\n    name: lns\n    options:\n"
                       "      uri: \"ws://127.0.0.1:" +
                       std::to_string(sim.port()) +
                       "\"\n      backoff_initial_ms: 200\n      backoff_max_s: 2\n" + lns_extra +
                       "  - plugin: semtech-udp\n    name: udp\n    options:\n"
                       "      server: \"127.0.0.1\"\n      port_up: " +
                       std::to_string(server.port()) +
                       "\n      port_down: " + std::to_string(server.port()) +
                       "\n      keepalive: 1\n      stat_interval: 0\n" + udp_extra +
                       "  - plugin: capture\n    name: capture\n    options: {path: " +
                       (dir_ / "capture.jsonl") + "}\n" + capture_extra +
                       "stats: {interval_s: 1}\nmetrics: {listen: \"127.0.0.1:0\"}\n"
                       "scheduler: {region: EU868}\n");
        auto p = std::make_unique<Process>(std::vector<std::string>{kBinary, "--config", cfg},
                                           dir_.path());
        EXPECT_TRUE(p->wait_for_err("] running", 10s)) << p->err();
        metrics_port_ = metrics_port_from_log(p->err());
        EXPECT_NE(metrics_port_, 0) << p->err();
        // Both network paths up before traffic.
        EXPECT_TRUE(p->wait_for_err("router_config: region", 10s)) << p->err();
        EXPECT_TRUE(p->wait_for_err(
            "downlink path to 127.0.0.1:" + std::to_string(server.port()) + " is up", 10s))
            << p->err();
        return p;
    }

    static void stop(Process& p)
    {
        p.signal(SIGTERM);
        int code = -1;
        ASSERT_TRUE(p.wait(5s, code)) << "did not stop";
        EXPECT_EQ(code, 0) << p.err();
    }

    void inject(const std::string& data_b64, int stat = 1)
    {
        send_udp(radio_port_,
                 rxpk_datagram(rxpk_item(data_b64, ",\"stat\":" + std::to_string(stat))));
    }

    std::string capture_path() const { return dir_ / "capture.jsonl"; }

    TempDir dir_;
    int radio_port_ = 0;
    int metrics_port_ = 0;
};

} // namespace

// 8. Each transport gets exactly what its filter passes; the metrics count it per transport.
TEST_F(FanoutTest, EachTransportGetsWhatItsFilterPasses)
{
    Sim sim(dir_, {"--region", "EU863"});
    ASSERT_NE(sim.port(), 0) << sim.err();
    UdpServer server;
    ASSERT_TRUE(server.ok());
    auto p =
        start(sim, server, "", "    filter: {net_ids: [\"000013\"]}\n", "    filter: {crc: any}\n");

    // In order, one datagram each (frame, CRC) -> who gets it:
    const std::string a1 = data_frame_b64(kNetA, 1);   // network A, CRC ok: all three
    const std::string b2 = data_frame_b64(kNetB, 2);   // network B, CRC ok: lns, capture
    const std::string a3 = data_frame_b64(kNetA, 3);   // CRC bad: capture
    const std::string join = join_request_b64(0x0404); // join (no NetID): all three
    const std::string a5 = data_frame_b64(kNetA, 5);   // no CRC: capture
    const std::string a6 = data_frame_b64(kNetA, 6);   // network A, CRC ok: all three
    inject(a1);
    inject(b2);
    inject(a3, -1);
    inject(join);
    inject(a5, 0);
    inject(a6);

    const auto cap = wait_capture(capture_path(), "uplink", 6, 10s);
    ASSERT_EQ(cap.size(), 6u) << p->err();
    const std::vector<std::string> all = {a1, b2, a3, join, a5, a6};
    for (size_t i = 0; i < all.size(); ++i) {
        EXPECT_EQ(cap[i]->getValue<std::string>("data"), all[i]) << i;
    }
    EXPECT_EQ(cap[2]->getValue<std::string>("crc"), "bad");
    EXPECT_EQ(cap[4]->getValue<std::string>("crc"), "none");

    const auto up = wait_rxpks(server, 3, 10s);
    ASSERT_EQ(up.size(), 3u) << p->err();
    EXPECT_EQ(up[0]->getValue<std::string>("data"), a1);
    EXPECT_EQ(up[1]->getValue<std::string>("data"), join);
    EXPECT_EQ(up[2]->getValue<std::string>("data"), a6);

    const auto updf = sim.wait_messages("updf", 3, 10s);
    ASSERT_EQ(updf.size(), 3u) << p->err();
    EXPECT_EQ(updf[0]->getValue<int64_t>("DevAddr"), static_cast<int64_t>(kNetA));
    EXPECT_EQ(updf[0]->getValue<int>("FCnt"), 1);
    EXPECT_EQ(updf[1]->getValue<int64_t>("DevAddr"), static_cast<int64_t>(kNetB));
    EXPECT_EQ(updf[1]->getValue<int>("FCnt"), 2);
    EXPECT_EQ(updf[2]->getValue<int>("FCnt"), 6);
    EXPECT_EQ(sim.wait_messages("jreq", 1, 5s).size(), 1u);

    // Nothing more arrives anywhere (the last frame, a6, came after everything else).
    EXPECT_EQ(rxpks(server).size(), 3u);
    EXPECT_EQ(sim.messages("updf").size(), 3u);
    EXPECT_EQ(sim.messages("jreq").size(), 1u);
    EXPECT_EQ(capture_lines(capture_path(), "uplink").size(), 6u);

    const auto m = wait_metrics(
        metrics_port_,
        [](const Scrape& s) {
            return s.value("forwarder_transport_uplinks_forwarded_total", {{"transport", "lns"}}) ==
                       4 &&
                   s.value("forwarder_transport_uplinks_forwarded_total", {{"transport", "udp"}}) ==
                       3;
        },
        5s);
    ASSERT_TRUE(m.ok) << m.error << "\n" << m.text;
    const std::map<std::string, std::array<double, 3>> expect = {
        // received (accepted by the filter), forwarded, filtered
        {"lns", {4, 4, 2}},
        {"udp", {3, 3, 3}},
        {"capture", {6, 6, 0}},
    };
    for (const auto& [t, v] : expect) {
        EXPECT_EQ(m.value("forwarder_transport_uplinks_received_total", {{"transport", t}}), v[0])
            << t << "\n"
            << m.text;
        EXPECT_EQ(m.value("forwarder_transport_uplinks_forwarded_total", {{"transport", t}}), v[1])
            << t << "\n"
            << m.text;
        EXPECT_EQ(m.value("forwarder_transport_uplinks_filtered_total", {{"transport", t}}, 0),
                  v[2])
            << t << "\n"
            << m.text;
    }
    EXPECT_EQ(m.types.at("forwarder_transport_uplinks_forwarded_total"), "counter");
    EXPECT_EQ(m.types.at("forwarder_transport_uplinks_filtered_total"), "counter");
    // The reasons: udp refused one frame by NetID and two by CRC.
    EXPECT_EQ(m.value("forwarder_stat", {{"name", "udp.uplinks_filtered.net_id"}}), 1) << m.text;
    EXPECT_EQ(m.value("forwarder_stat", {{"name", "udp.uplinks_filtered.crc"}}), 2) << m.text;
    EXPECT_EQ(m.value("forwarder_stat", {{"name", "lns.uplinks_filtered.crc"}}), 2) << m.text;
    stop(*p);
}

// 9. The UDP server dies halfway through a stream: the others still get every frame, in order.
TEST_F(FanoutTest, OneServerDiesMidTrafficOthersGetEverything)
{
    Sim sim(dir_, {"--region", "EU863"});
    ASSERT_NE(sim.port(), 0) << sim.err();
    UdpServer server;
    ASSERT_TRUE(server.ok());
    auto p = start(sim, server, "", "", "");

    constexpr int kFrames = 200;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kFrames; ++i) {
        std::this_thread::sleep_until(t0 + i * 10ms); // 100 frames/s (pacing only)
        if (i == kFrames / 2) {
            server.stop();
        }
        inject(data_frame_b64(kNetA, static_cast<uint16_t>(i)));
    }

    const auto updf = sim.wait_messages("updf", kFrames, 20s);
    ASSERT_EQ(updf.size(), static_cast<size_t>(kFrames)) << p->err();
    for (int i = 0; i < kFrames; ++i) {
        ASSERT_EQ(updf[static_cast<size_t>(i)]->getValue<int>("FCnt"), i) << "lns, frame " << i;
    }
    const auto cap = wait_capture(capture_path(), "uplink", kFrames, 20s);
    ASSERT_EQ(cap.size(), static_cast<size_t>(kFrames)) << p->err();
    for (int i = 0; i < kFrames; ++i) {
        ASSERT_EQ(fcnt_of(cap[static_cast<size_t>(i)]->getValue<std::string>("data")), i)
            << "capture, frame " << i;
    }
    // The UDP server saw a gap-free prefix of the stream, up to about where it died.
    const auto up = rxpks(server);
    ASSERT_GE(up.size(), static_cast<size_t>(kFrames / 4)) << p->err();
    ASSERT_LE(up.size(), static_cast<size_t>(kFrames / 2 + 1));
    for (size_t i = 0; i < up.size(); ++i) {
        ASSERT_EQ(fcnt_of(up[i]->getValue<std::string>("data")), static_cast<int>(i));
    }
    // The forwarder kept running and lost nothing on the way to the live transports.
    ASSERT_TRUE(p->running()) << p->err();
    const auto m = wait_metrics(
        metrics_port_,
        [](const Scrape& s) {
            return s.value("forwarder_transport_uplinks_forwarded_total",
                           {{"transport", "capture"}}) == 200;
        },
        5s);
    ASSERT_TRUE(m.ok) << m.error;
    for (const char* t : {"lns", "capture"}) {
        EXPECT_EQ(m.value("forwarder_transport_uplinks_forwarded_total", {{"transport", t}}),
                  kFrames)
            << t << "\n"
            << m.text;
        EXPECT_EQ(m.value("forwarder_transport_uplinks_dropped_total",
                          {{"transport", t}, {"reason", "queue"}}, 0),
                  0)
            << t;
    }
    EXPECT_EQ(m.value("forwarder_transport_uplinks_received_total", {{"transport", "udp"}}),
              kFrames);
    stop(*p);
}

// 9b. The same with the LNS dying instead: semtech-udp and capture still get every frame.
// (Also exposes the semtech-udp age-check race, see TxAckErrors in udp_it.cpp: a frame queued
// while the I/O thread is mid-iteration can be dropped as "expired".)
TEST_F(FanoutTest, LnsDiesMidTrafficOthersGetEverything)
{
    Sim sim(dir_, {"--region", "EU863"});
    ASSERT_NE(sim.port(), 0) << sim.err();
    UdpServer server;
    ASSERT_TRUE(server.ok());
    auto p = start(sim, server, "", "", "");

    constexpr int kFrames = 200;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kFrames; ++i) {
        std::this_thread::sleep_until(t0 + i * 10ms); // 100 frames/s (pacing only)
        if (i == kFrames / 2) {
            sim.stop();
        }
        inject(data_frame_b64(kNetA, static_cast<uint16_t>(i)));
    }
    const auto up = wait_rxpks(server, kFrames, 20s);
    ASSERT_EQ(up.size(), static_cast<size_t>(kFrames)) << p->err();
    for (int i = 0; i < kFrames; ++i) {
        ASSERT_EQ(fcnt_of(up[static_cast<size_t>(i)]->getValue<std::string>("data")), i)
            << "udp, frame " << i;
    }
    const auto cap = wait_capture(capture_path(), "uplink", kFrames, 20s);
    ASSERT_EQ(cap.size(), static_cast<size_t>(kFrames)) << p->err();
    for (int i = 0; i < kFrames; ++i) {
        ASSERT_EQ(fcnt_of(cap[static_cast<size_t>(i)]->getValue<std::string>("data")), i)
            << "capture, frame " << i;
    }
    // The sim saw a gap-free prefix, up to about where it died.
    const auto updf = sim.messages("updf");
    ASSERT_GE(updf.size(), static_cast<size_t>(kFrames / 4)) << p->err();
    ASSERT_LE(updf.size(), static_cast<size_t>(kFrames / 2));
    for (size_t i = 0; i < updf.size(); ++i) {
        ASSERT_EQ(updf[i]->getValue<int>("FCnt"), static_cast<int>(i));
    }
    ASSERT_TRUE(p->running()) << p->err();
    stop(*p);
}

namespace {

std::string txpk(uint32_t tmst, const std::string& data_b64)
{
    std::string bytes;
    forwarder::support::base64_decode(data_b64, bytes);
    return "{\"txpk\":{\"imme\":false,\"tmst\":" + std::to_string(tmst) +
           ",\"freq\":868.1,\"rfch\":0,\"powe\":14,\"modu\":\"LORA\",\"datr\":\"SF7BW125\","
           "\"codr\":\"4/5\",\"ipol\":true,\"size\":" +
           std::to_string(bytes.size()) + ",\"data\":\"" + data_b64 + "\"}}";
}

const std::string kUdpFrame = "YAEAAAAAAQAAAAAA";

// The final tx_result lines of the capture file by requester.
std::map<std::string, std::string> outcomes(const std::string& capture)
{
    std::map<std::string, std::string> out;
    for (const auto& r : capture_lines(capture, "tx_result")) {
        out[r->getValue<std::string>("requester")] = r->getValue<std::string>("outcome");
    }
    return out;
}

} // namespace

// 10a. Both networks want RX1 of the same uplink on radio 0; udp has priority 10: its frame
// goes out (whichever request came first), the LNS one does not.
TEST_F(FanoutTest, CollisionHigherPriorityTransportWins)
{
    Sim sim(dir_, {"--region", "EU863", "--downlink", "rx1"});
    ASSERT_NE(sim.port(), 0) << sim.err();
    UdpServer server;
    ASSERT_TRUE(server.ok());
    auto p = start(sim, server, "", "    priority: 10\n", "    filter: {crc: any}\n");

    const size_t from = server.mark();
    inject(data_frame_b64(kNetA, 1));
    const auto push = server.wait_for(Type::push_data, has_rxpk, 5s, from);
    ASSERT_TRUE(push) << p->err();
    const uint32_t t =
        parse(push->json)->getArray("rxpk")->getObject(0)->getValue<uint32_t>("tmst");
    const size_t before_resp = server.mark();
    ASSERT_TRUE(server.send_pull_resp(0x4242, txpk(t + 1'000'000u, kUdpFrame)));
    const auto ack = server.wait_for(
        Type::tx_ack, [](const GwmpDatagram& d) { return d.token == 0x4242; }, 5s, before_resp);
    ASSERT_TRUE(ack) << p->err();
    EXPECT_EQ(ack->bytes.size(), 12u) << ack->json;
    ASSERT_EQ(sim.wait_events("downlink", 1, 5s).size(), 1u) << p->err();

    // Final verdicts for both (the capture records every TxResult with its requester).
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (outcomes(capture_path()).size() < 2 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
    }
    const auto verdicts = outcomes(capture_path());
    ASSERT_EQ(verdicts.size(), 2u) << read_file(capture_path()) << p->err();
    EXPECT_EQ(verdicts.at("udp"), "OK");
    EXPECT_EQ(verdicts.at("lns"), "COLLISION_PACKET");
    const auto tx = read_lines(dir_ / "tx.jsonl");
    ASSERT_EQ(tx.size(), 1u);
    EXPECT_EQ(parse(tx[0])->getValue<std::string>("data"), kUdpFrame);
    EXPECT_EQ(parse(tx[0])->getValue<uint32_t>("count_us"), t + 1'000'000u);
    EXPECT_EQ(sim.messages("dntxed").size(), 0u);
    const auto m = wait_metrics(
        metrics_port_,
        [](const Scrape& s) {
            return s.value("forwarder_downlinks_total", {{"outcome", "OK"}}) == 1;
        },
        5s);
    ASSERT_TRUE(m.ok) << m.error;
    EXPECT_EQ(m.value("forwarder_downlinks_total", {{"outcome", "OK"}}), 1) << m.text;
    EXPECT_EQ(m.value("forwarder_downlinks_total", {{"outcome", "COLLISION_PACKET"}}), 1) << m.text;
    stop(*p);
}

// 10b. The other way round: lns has priority 10, udp (default 0) asks second for the same
// airtime and gets TX_ACK COLLISION_PACKET; the LNS frame goes out.
TEST_F(FanoutTest, CollisionLowerPriorityTransportGetsCollisionPacket)
{
    Sim sim(dir_, {"--region", "EU863", "--downlink", "rx1"});
    ASSERT_NE(sim.port(), 0) << sim.err();
    UdpServer server;
    ASSERT_TRUE(server.ok());
    auto p = start(sim, server, "    priority: 10\n", "", "    filter: {crc: any}\n");

    const size_t from = server.mark();
    inject(data_frame_b64(kNetA, 1));
    const auto push = server.wait_for(Type::push_data, has_rxpk, 5s, from);
    ASSERT_TRUE(push) << p->err();
    const uint32_t t =
        parse(push->json)->getArray("rxpk")->getObject(0)->getValue<uint32_t>("tmst");
    // Second: only once the LNS frame is queued on the radio.
    const auto queued = wait_metrics(
        metrics_port_,
        [](const Scrape& s) {
            for (const auto& [k, v] : s.series) {
                if (k.rfind("forwarder_scheduler_queued_frames{", 0) == 0 && v >= 1) {
                    return true;
                }
            }
            return false;
        },
        900ms);
    ASSERT_TRUE(queued.ok) << queued.error;
    const size_t before_resp = server.mark();
    ASSERT_TRUE(server.send_pull_resp(0x4343, txpk(t + 1'000'000u, kUdpFrame)));
    const auto ack = server.wait_for(
        Type::tx_ack, [](const GwmpDatagram& d) { return d.token == 0x4343; }, 5s, before_resp);
    ASSERT_TRUE(ack) << p->err();
    EXPECT_EQ(ack->json, "{\"txpk_ack\":{\"error\":\"COLLISION_PACKET\"}}");
    EXPECT_EQ(ack->bytes.size(), 12u + ack->json.size());

    ASSERT_EQ(sim.wait_messages("dntxed", 1, 5s).size(), 1u) << p->err();
    const auto tx = wait_lines(dir_ / "tx.jsonl", 1, 5s);
    ASSERT_EQ(tx.size(), 1u);
    EXPECT_NE(parse(tx[0])->getValue<std::string>("data"), kUdpFrame);
    EXPECT_EQ(parse(tx[0])->getValue<uint32_t>("count_us"), t + 1'000'000u);
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (outcomes(capture_path()).size() < 2 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
    }
    const auto verdicts = outcomes(capture_path());
    EXPECT_EQ(verdicts.count("udp") ? verdicts.at("udp") : "", "COLLISION_PACKET");
    EXPECT_EQ(verdicts.count("lns") ? verdicts.at("lns") : "", "OK");
    stop(*p);
}
