// End-to-end tests of the LNS transport: the real forwarder (virtual radio + lns plugin)
// against forwarder-lns-sim over ws:// and wss:// on 127.0.0.1, with certificates made at
// test time by make_certs.sh. Every wait is bounded.
#include "harness.hpp"
#include "lns_sim.hpp"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <netinet/in.h>
#include <set>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace forwarder::testing;
using namespace std::chrono_literals;
using Poco::JSON::Object;

namespace {

const std::string kBinary = FORWARDER_BINARY;
const std::string kPluginDir = FORWARDER_PLUGIN_DIR;
const std::string kSourceDir = FORWARDER_SOURCE_DIR;

// A LoRaWAN unconfirmed data up frame: DevAddr 26011F2A, FCnt `fcnt`, FPort 1.
std::string data_frame_b64(int fcnt)
{
    unsigned char f[] = {0x40,
                         0x2A,
                         0x1F,
                         0x01,
                         0x26,
                         0x00,
                         static_cast<unsigned char>(fcnt & 0xFF),
                         static_cast<unsigned char>(fcnt >> 8),
                         0x01,
                         0xAA,
                         0xBB,
                         0xCC,
                         0x11,
                         0x22,
                         0x33,
                         0x44};
    static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    for (size_t i = 0; i < sizeof f; i += 3) {
        const unsigned v =
            f[i] << 16 | (i + 1 < sizeof f ? f[i + 1] << 8 : 0) | (i + 2 < sizeof f ? f[i + 2] : 0);
        out += a[v >> 18 & 63];
        out += a[v >> 12 & 63];
        out += i + 1 < sizeof f ? a[v >> 6 & 63] : '=';
        out += i + 2 < sizeof f ? a[v & 63] : '=';
    }
    return out;
}

std::string item(int fcnt, const std::string& extra = "")
{
    return R"({"freq":868.1,"datr":"SF7BW125","codr":"4/5","rssi":-42,"lsnr":7.5,"data":")" +
           data_frame_b64(fcnt) + "\"" + extra + "}";
}

std::string rxpk(int fcnt)
{
    return "{\"rxpk\":[" + item(fcnt) + "]}";
}

class LnsTest : public ::testing::Test {
protected:
    LnsTest()
    {
        std::string out, err;
        certs_ = dir_ / "certs";
        EXPECT_EQ(run({"/bin/bash", kSourceDir + "/tests/integration/make_certs.sh", certs_}, out,
                      err, 60s),
                  0)
            << err;
        radio_port_ = free_udp_port();
    }

    // Starts the forwarder with a virtual radio (plus `radio_options`, indented lines) and an
    // lns transport with `lns_options`.
    std::unique_ptr<Process> start(const std::string& lns_options,
                                   const std::string& radio_options = "")
    {
        const std::string cfg = dir_ / "forwarder.yaml";
        write_file(cfg, "gateway:\n  eui: \"0016c001ff10a235\"\n  log: {level: debug}\n"
                        "plugin_dir: " +
                            kPluginDir +
                            "\nradios:\n  - driver: virtual\n    options:\n"
                            "      uplink_udp: \"127.0.0.1:" +
                            std::to_string(radio_port_) +
                            "\"\n      tx_log: " + (dir_ / "tx.jsonl") + "\n" + radio_options +
                            "transports:\n  - plugin: lns\n    options:\n" + lns_options +
                            "stats: {interval_s: 0}\n");
        auto p = std::make_unique<Process>(std::vector<std::string>{kBinary, "--config", cfg},
                                           dir_.path());
        EXPECT_TRUE(p->wait_for_err("] running", 10s)) << p->err();
        return p;
    }

    static void stop(Process& p)
    {
        p.signal(SIGTERM);
        int code = -1;
        ASSERT_TRUE(p.wait(5s, code));
        EXPECT_EQ(code, 0) << p.err();
    }

    std::string ws(int port) const
    {
        return "      uri: \"ws://127.0.0.1:" + std::to_string(port) + "\"\n" +
               "      ping_interval_s: 2\n      backoff_initial_ms: 200\n      backoff_max_s: 2\n";
    }
    std::string wss(int port, const std::string& trust = "ca.pem") const
    {
        return "      uri: \"wss://127.0.0.1:" + std::to_string(port) +
               "\"\n      trust: " + certs_ + "/" + trust +
               "\n      backoff_initial_ms: 200\n      backoff_max_s: 2\n";
    }
    std::vector<std::string> server_tls(const std::string& name = "server") const
    {
        return {"--tls-cert", certs_ + "/" + name + ".pem", "--tls-key",
                certs_ + "/" + name + ".key"};
    }

    TempDir dir_;
    std::string certs_;
    int radio_port_ = 0;
};

} // namespace

TEST_F(LnsTest, ClassARx1OverPlainWebsocket)
{
    Sim sim(dir_, {"--region", "EU863", "--downlink", "rx1"});
    ASSERT_NE(sim.port(), 0) << sim.err();
    // A token file is configured but ws:// must never carry it.
    write_file(dir_ / "tc.key", "Authorization: Bearer NNSXS.SECRET\r\n");
    auto fwd = start(ws(sim.port()) + "      key: " + (dir_ / "tc.key") + "\n");

    const auto versions = sim.wait_messages("version", 1, 10s);
    ASSERT_EQ(versions.size(), 1u) << fwd->err();
    EXPECT_EQ(versions[0]->getValue<int>("protocol"), 2);
    EXPECT_TRUE(versions[0]->has("features"));
    EXPECT_TRUE(versions[0]->has("model"));
    for (const auto& c : sim.wait_events("connect", 2, 5s)) {
        EXPECT_EQ(c->getValue<std::string>("host"), "127.0.0.1:" + std::to_string(sim.port()));
        EXPECT_FALSE(c->getObject("headers")->has("Authorization")) << "token sent over ws://";
    }
    ASSERT_TRUE(fwd->wait_for_err("router_config: region EU863", 5s)) << fwd->err();

    send_udp(radio_port_, rxpk(7));
    const auto up = sim.wait_messages("updf", 1, 10s);
    ASSERT_EQ(up.size(), 1u) << fwd->err();
    EXPECT_EQ(up[0]->getValue<int>("DR"), 5);
    EXPECT_EQ(up[0]->getValue<int64_t>("Freq"), 868100000);
    EXPECT_EQ(up[0]->getValue<int>("FCnt"), 7);
    EXPECT_EQ(up[0]->getValue<int64_t>("DevAddr"), 0x26011F2A);
    const auto upinfo = up[0]->getObject("upinfo");
    ASSERT_TRUE(upinfo);
    // No fine timestamp: -1, not a uint32 wrapped to 4294967295.
    EXPECT_EQ(upinfo->getValue<int64_t>("fts"), -1);
    const auto xtime = upinfo->getValue<uint64_t>("xtime");
    const auto count = static_cast<uint32_t>(xtime);
    EXPECT_NE((xtime >> 48) & 0xFF, 0u) << "session id must not be 0";
    EXPECT_EQ(upinfo->getValue<int>("rssi"), -42);

    const auto txed = sim.wait_messages("dntxed", 1, 10s);
    ASSERT_EQ(txed.size(), 1u) << fwd->err();
    EXPECT_EQ(txed[0]->getValue<int64_t>("diid"), 1);
    const auto tx = wait_lines(dir_ / "tx.jsonl", 1, 5s);
    ASSERT_EQ(tx.size(), 1u);
    auto t = parse(tx[0]);
    EXPECT_EQ(t->getValue<uint32_t>("count_us"), count + 1000000u);
    EXPECT_EQ(t->getValue<std::string>("datr"), "SF7BW125");
    EXPECT_NEAR(t->getValue<double>("freq"), 868.1, 1e-6);
    EXPECT_EQ(txed[0]->getValue<uint64_t>("xtime"), xtime + 1000000u);
    stop(*fwd);
}

TEST_F(LnsTest, ClassARx1CollisionFallsBackToRx2)
{
    Sim sim(dir_, {"--region", "EU863", "--downlink", "rx1rx2"});
    ASSERT_NE(sim.port(), 0) << sim.err();
    auto fwd = start(ws(sim.port()));
    ASSERT_TRUE(fwd->wait_for_err("router_config: region EU863", 10s)) << fwd->err();
    // Two uplinks with the same time stamp: both downlinks want the same RX1 slot. Each is one
    // TxRequest for RX1 with RX2 (one second later) as its alternative; the scheduler places
    // the second one in RX2 when RX1 is taken.
    // (Items of one datagram without `tmst` share the counter value of its arrival.)
    send_udp(radio_port_, "{\"rxpk\":[" + item(1) + "," + item(2) + "]}");
    const auto up = sim.wait_messages("updf", 2, 10s);
    ASSERT_EQ(up.size(), 2u) << fwd->err();
    const auto count =
        static_cast<uint32_t>(up[0]->getObject("upinfo")->getValue<uint64_t>("xtime"));
    const auto txed = sim.wait_messages("dntxed", 2, 10s);
    ASSERT_EQ(txed.size(), 2u) << fwd->err();
    std::set<int64_t> diids;
    for (const auto& m : txed) {
        diids.insert(m->getValue<int64_t>("diid"));
    }
    EXPECT_EQ(diids, (std::set<int64_t>{1, 2}));
    const auto tx = wait_lines(dir_ / "tx.jsonl", 2, 5s);
    ASSERT_EQ(tx.size(), 2u);
    std::set<uint32_t> counts;
    std::set<std::string> datr;
    for (const auto& line : tx) {
        counts.insert(parse(line)->getValue<uint32_t>("count_us"));
        datr.insert(parse(line)->getValue<std::string>("datr"));
    }
    EXPECT_EQ(counts, (std::set<uint32_t>{count + 1000000u, count + 2000000u}));
    EXPECT_EQ(datr, (std::set<std::string>{"SF7BW125", "SF12BW125"}));
    // dntxed reports what was really used: RX2's frequency and data rate for the second.
    bool saw_rx2 = false;
    for (const auto& m : txed) {
        if (m->getValue<int64_t>("Freq") == 869525000) {
            saw_rx2 = true;
            EXPECT_EQ(m->getValue<int>("DR"), 0);
        }
    }
    EXPECT_TRUE(saw_rx2);
    stop(*fwd);
}

TEST_F(LnsTest, ClassARx1BusyChannelFallsBackToRx2)
{
    // KR920 needs listen before talk. The virtual radio's counter starts at 10^9 and 922.1 MHz
    // (the uplink channel, hence RX1) is busy for the next 35 minutes: RX1 is refused at
    // hand-over (CHANNEL_BUSY) and the frame goes out on its alternative, RX2 (921.9 MHz DR0,
    // one second later). dntxed reports what was used.
    Sim sim(dir_, {"--region", "KR920", "--downlink", "rx1rx2"});
    ASSERT_NE(sim.port(), 0) << sim.err();
    auto fwd = start(ws(sim.port()), "      counter_start_us: 1000000000\n");
    ASSERT_TRUE(fwd->wait_for_err("router_config: region KR920 (KR920)", 10s)) << fwd->err();
    send_udp(radio_port_, R"({"busy":[{"freq":922.1,"from_us":1000000000,"to_us":3147483647}]})");
    send_udp(radio_port_, R"({"rxpk":[{"freq":922.1,"datr":"SF7BW125","codr":"4/5","rssi":-50,)"
                          R"("lsnr":9,"data":")" +
                              data_frame_b64(11) + "\"}]}");
    const auto up = sim.wait_messages("updf", 1, 10s);
    ASSERT_EQ(up.size(), 1u) << fwd->err();
    EXPECT_EQ(up[0]->getValue<int64_t>("Freq"), 922100000);
    const auto count =
        static_cast<uint32_t>(up[0]->getObject("upinfo")->getValue<uint64_t>("xtime"));
    const auto dn = sim.wait_events("downlink", 1, 5s);
    ASSERT_EQ(dn.size(), 1u);
    EXPECT_EQ(dn[0]->getObject("msg")->getValue<int64_t>("RX1Freq"), 922100000);
    EXPECT_EQ(dn[0]->getObject("msg")->getValue<int64_t>("RX2Freq"), 921900000);

    const auto txed = sim.wait_messages("dntxed", 1, 10s);
    ASSERT_EQ(txed.size(), 1u) << "no dntxed: the scheduler did not use the RX2 alternative\n"
                               << fwd->err();
    EXPECT_EQ(txed[0]->getValue<int64_t>("diid"), 1);
    EXPECT_EQ(txed[0]->getValue<int64_t>("Freq"), 921900000);
    EXPECT_EQ(txed[0]->getValue<int>("DR"), 0);
    const auto tx = wait_lines(dir_ / "tx.jsonl", 1, 5s);
    ASSERT_EQ(tx.size(), 1u);
    auto t = parse(tx[0]);
    EXPECT_EQ(t->getValue<uint32_t>("count_us"), count + 2000000u);
    EXPECT_NEAR(t->getValue<double>("freq"), 921.9, 1e-6);
    EXPECT_EQ(t->getValue<std::string>("datr"), "SF12BW125");
    EXPECT_EQ(static_cast<uint32_t>(txed[0]->getValue<uint64_t>("xtime")), count + 2000000u);
    stop(*fwd);
}

TEST_F(LnsTest, ClassARx2OnlyIsOneRequestOnRx2)
{
    Sim sim(dir_, {"--region", "EU863", "--downlink", "rx2"});
    ASSERT_NE(sim.port(), 0) << sim.err();
    auto fwd = start(ws(sim.port()));
    ASSERT_TRUE(fwd->wait_for_err("router_config: region EU863", 10s)) << fwd->err();
    send_udp(radio_port_, rxpk(4));
    const auto up = sim.wait_messages("updf", 1, 10s);
    ASSERT_EQ(up.size(), 1u) << fwd->err();
    const auto count =
        static_cast<uint32_t>(up[0]->getObject("upinfo")->getValue<uint64_t>("xtime"));
    const auto txed = sim.wait_messages("dntxed", 1, 10s);
    ASSERT_EQ(txed.size(), 1u) << fwd->err();
    EXPECT_EQ(txed[0]->getValue<int64_t>("Freq"), 869525000);
    EXPECT_EQ(txed[0]->getValue<int>("DR"), 0);
    const auto tx = wait_lines(dir_ / "tx.jsonl", 1, 5s);
    ASSERT_EQ(tx.size(), 1u);
    EXPECT_EQ(parse(tx[0])->getValue<uint32_t>("count_us"), count + 2000000u);
    EXPECT_EQ(parse(tx[0])->getValue<std::string>("datr"), "SF12BW125");
    stop(*fwd);
}

TEST_F(LnsTest, TimesyncRequestsOnlyWhilePpsLacksGpsSeconds)
{
    {
        // No PPS: the core reports none, so no timesync request goes out.
        Sim sim(dir_, {"--timesync"});
        auto fwd = start(ws(sim.port()));
        ASSERT_TRUE(fwd->wait_for_err("router_config", 10s)) << fwd->err();
        EXPECT_TRUE(sim.wait_messages("timesync", 1, 3s).empty()) << fwd->err();
        stop(*fwd);
    }
    // The virtual radio's PPS edges fall on the host's UTC seconds, and lns-sim answers with
    // the host's UTC as GPS time: the round trip labels the edges, so the requests stop.
    Sim sim(dir_, {"--timesync"});
    auto fwd = start(ws(sim.port()), "      pps: true\n");
    const auto requests = sim.wait_messages("timesync", 1, 25s);
    ASSERT_GE(requests.size(), 1u) << "no timesync request (does the core publish TimeStatus "
                                      "with pps for the virtual radio?)\n"
                                   << fwd->err();
    EXPECT_TRUE(fwd->wait_for_err("timesync: PPS without GPS seconds on radio 0", 1s))
        << fwd->err();
    // Replies to our requests are answered by lns-sim with the echoed txtime.
    EXPECT_GE(sim.wait_events("sent", 2, 5s).size(), 2u); // router_config + a reply
    // Requests stop once the core knows the GPS seconds: no new one for longer than the
    // 5 s pause between bursts.
    auto last_change = std::chrono::steady_clock::now();
    size_t seen = sim.count("timesync");
    const auto deadline = last_change + 30s;
    while (std::chrono::steady_clock::now() < deadline &&
           std::chrono::steady_clock::now() - last_change < 7s) {
        std::this_thread::sleep_for(100ms);
        if (const size_t n = sim.count("timesync"); n != seen) {
            seen = n;
            last_change = std::chrono::steady_clock::now();
        }
    }
    EXPECT_GE(std::chrono::steady_clock::now() - last_change, 7s)
        << "timesync requests did not stop (" << seen << " sent)\n"
        << fwd->err();
    EXPECT_NE(fwd->err().find("timesync: GPS seconds known"), std::string::npos) << fwd->err();
    // Every request: integer µs of the host's monotonic clock, 71 ms apart within a burst,
    // the bursts 5 s apart.
    const auto all = sim.messages("timesync");
    int64_t previous = 0;
    for (const auto& m : all) {
        ASSERT_TRUE(m->get("txtime").isInteger()) << m->get("txtime").toString();
        const auto txtime = m->getValue<int64_t>("txtime");
        EXPECT_GT(txtime, 0);
        if (previous != 0) {
            EXPECT_GE(txtime - previous, 70'000) << "requests closer than 71 ms";
        }
        previous = txtime;
    }
    stop(*fwd);
}

TEST_F(LnsTest, BeaconingFromRouterConfig)
{
    // The second router_config (sent with --send after the first) has an unusable bcning:
    // a warning, no beaconing, and the session goes on.
    write_file(dir_ / "bad_bcning.json",
               R"({"msgtype":"router_config","region":"EU863","hwspec":"sx1301/1",)"
               R"("freq_range":[863000000,870000000],"DRs":[[12,125,0],[11,125,0],[10,125,0],)"
               R"([9,125,0],[8,125,0],[7,125,0],[7,250,0],[0,0,0]],"sx1301_conf":[{"radio_0":)"
               R"({"enable":true,"freq":867500000},"radio_1":{"enable":true,"freq":868500000},)"
               R"("chan_multiSF_0":{"enable":true,"radio":1,"if":-400000}}],)"
               R"("bcning":{"DR":3,"layout":[2,8],"freqs":[869525000]}})");
    Sim sim(dir_, {"--region", "EU863", "--beacon", "--send", dir_ / "bad_bcning.json"});
    auto fwd = start(ws(sim.port()));
    const auto sent = sim.wait_events("sent", 1, 10s);
    ASSERT_GE(sent.size(), 1u);
    const auto bcning = sent[0]->getObject("msg")->getObject("bcning");
    ASSERT_TRUE(bcning);
    EXPECT_EQ(bcning->getValue<int>("DR"), 3);
    EXPECT_TRUE(fwd->wait_for_err("router_config: region EU863 (EU868), 1 concentrator(s)", 10s))
        << fwd->err();
    EXPECT_TRUE(
        fwd->wait_for_err("beaconing DR3 (SF9/125 kHz) on 869525000 Hz, layout [2,8,17]", 5s))
        << fwd->err();
    // The radio gets the canonical region name.
    EXPECT_TRUE(fwd->wait_for_err("radio config for radio 0, region EU868", 5s)) << fwd->err();
    EXPECT_TRUE(fwd->wait_for_err(
        "router_config: bcning.layout: expected [time_off, infodesc_off, bcn_len]; no beaconing",
        10s))
        << fwd->err();
    EXPECT_TRUE(fwd->wait_for_err("Hz, no beaconing", 5s)) << fwd->err();
    send_udp(radio_port_, rxpk(9));
    EXPECT_EQ(sim.wait_messages("updf", 1, 10s).size(), 1u) << fwd->err();
    EXPECT_EQ(sim.wait_events("connect", 3, 1s).size(), 2u) << "reconnected after bad bcning";
    EXPECT_EQ(fwd->err().find("malformed"), std::string::npos) << fwd->err();
    stop(*fwd);
}

TEST_F(LnsTest, ClassBWithAChirpStackTimeTransfer)
{
    // As ChirpStack with timesync_interval: after the uplink a {xtime, gpstime} transfer, then
    // a class B dnmsg at a ping slot ~3 s ahead. The core maps gpstime to the radio counter
    // through the transfer: count = uplink count + (gpstime - transfer gpstime).
    Sim sim(dir_, {"--region", "EU863", "--transfer-after-uplink", "--downlink", "classb"});
    auto fwd = start(ws(sim.port()));
    ASSERT_TRUE(fwd->wait_for_err("router_config", 10s)) << fwd->err();
    send_udp(radio_port_, rxpk(21));
    const auto up = sim.wait_messages("updf", 1, 10s);
    ASSERT_EQ(up.size(), 1u) << fwd->err();
    const auto xtime = up[0]->getObject("upinfo")->getValue<uint64_t>("xtime");
    const auto dn = sim.wait_events("downlink", 1, 5s);
    ASSERT_EQ(dn.size(), 1u);
    const auto dnmsg = dn[0]->getObject("msg");
    EXPECT_EQ(dnmsg->getValue<int>("dC"), 1);
    const auto gpstime = dnmsg->getValue<int64_t>("gpstime");
    int64_t transfer_gps = 0;
    for (const auto& e : sim.events()) {
        if (e->getValue<std::string>("event") == "sent") {
            const auto m = e->getObject("msg");
            if (m && m->getValue<std::string>("msgtype") == "timesync" && m->has("xtime")) {
                EXPECT_EQ(m->getValue<uint64_t>("xtime"), xtime);
                transfer_gps = m->getValue<int64_t>("gpstime");
            }
        }
    }
    ASSERT_NE(transfer_gps, 0) << "no time transfer sent";
    EXPECT_GT(gpstime - transfer_gps, 3'000'000);
    EXPECT_LT(gpstime - transfer_gps, 10'000'000);

    const auto txed = sim.wait_messages("dntxed", 1, 15s);
    ASSERT_EQ(txed.size(), 1u) << fwd->err();
    EXPECT_EQ(txed[0]->getValue<int64_t>("gpstime"), gpstime);
    EXPECT_EQ(txed[0]->getValue<int64_t>("Freq"), 869525000);
    EXPECT_EQ(txed[0]->getValue<int>("DR"), 3);
    const auto tx = wait_lines(dir_ / "tx.jsonl", 1, 5s);
    ASSERT_EQ(tx.size(), 1u);
    const auto t = parse(tx[0]);
    const auto expected =
        static_cast<uint32_t>(xtime) + static_cast<uint32_t>(gpstime - transfer_gps);
    EXPECT_NEAR(
        static_cast<double>(static_cast<int32_t>(t->getValue<uint32_t>("count_us") - expected)),
        0.0, 2.0);
    EXPECT_EQ(t->getValue<std::string>("datr"), "SF9BW125");
    EXPECT_NEAR(t->getValue<double>("freq"), 869.525, 1e-6);
    stop(*fwd);
}

TEST_F(LnsTest, TlsWithTokenAndDerTrust)
{
    Sim sim(dir_, [&] {
        auto a = server_tls();
        a.insert(a.end(),
                 {"--token", "Authorization: Bearer NNSXS.TESTTOKEN", "--region", "US902"});
        return a;
    }());
    ASSERT_NE(sim.port(), 0) << sim.err();
    auto fwd = start(wss(sim.port(), "ca.der") + "      key: " + certs_ + "/tc.key\n");
    const auto connects = sim.wait_events("connect", 2, 10s);
    ASSERT_EQ(connects.size(), 2u) << fwd->err() << sim.err();
    EXPECT_EQ(connects[0]->getValue<std::string>("endpoint"), "router-info");
    EXPECT_EQ(connects[1]->getValue<std::string>("endpoint"), "traffic");
    for (const auto& c : connects) {
        EXPECT_EQ(c->getObject("headers")->getValue<std::string>("Authorization"),
                  "Bearer NNSXS.TESTTOKEN");
    }
    ASSERT_TRUE(fwd->wait_for_err("router_config: region US902", 5s)) << fwd->err();
    // The token never appears in the forwarder's logs.
    EXPECT_EQ(fwd->err().find("NNSXS.TESTTOKEN"), std::string::npos);
    stop(*fwd);
}

TEST_F(LnsTest, MissingTokenIsHttp401)
{
    Sim sim(dir_, [&] {
        auto a = server_tls();
        a.insert(a.end(), {"--token", "Authorization: Bearer NNSXS.TESTTOKEN"});
        return a;
    }());
    auto fwd = start(wss(sim.port()));
    EXPECT_TRUE(fwd->wait_for_err("HTTP 401", 10s)) << fwd->err();
    stop(*fwd);
}

TEST_F(LnsTest, WrongCaAndWrongHostNameAreRejected)
{
    {
        Sim sim(dir_, server_tls());
        auto fwd = start(wss(sim.port(), "other-ca.pem"));
        EXPECT_TRUE(fwd->wait_for_err("TLS", 10s)) << fwd->err();
        EXPECT_TRUE(sim.wait_events("connect", 1, 500ms).empty());
        stop(*fwd);
    }
    {
        Sim sim(dir_, server_tls("wrong-host"));
        auto fwd = start(wss(sim.port()));
        EXPECT_TRUE(fwd->wait_for_err("TLS", 10s)) << fwd->err();
        EXPECT_TRUE(sim.wait_events("connect", 1, 500ms).empty());
        stop(*fwd);
    }
    {
        // The operator may switch the host-name check off explicitly.
        Sim sim(dir_, server_tls("wrong-host"));
        auto fwd = start(wss(sim.port()) + "      tls_verify_hostname: false\n");
        EXPECT_EQ(sim.wait_events("connect", 2, 10s).size(), 2u) << fwd->err();
        stop(*fwd);
    }
}

TEST_F(LnsTest, MutualTlsFromAStationDirectory)
{
    Sim sim(dir_, [&] {
        auto a = server_tls();
        a.insert(a.end(), {"--client-ca", certs_ + "/ca.pem"});
        return a;
    }());
    // A Basic Station home directory: tc.uri, tc.trust, tc.crt, tc.key.
    const std::string station = dir_ / "station";
    std::filesystem::create_directories(station);
    write_file(station + "/tc.uri", "wss://127.0.0.1:" + std::to_string(sim.port()) + "\n");
    std::filesystem::copy_file(certs_ + "/ca.pem", station + "/tc.trust");
    std::filesystem::copy_file(certs_ + "/client.pem", station + "/tc.crt");
    std::filesystem::copy_file(certs_ + "/client.key", station + "/tc.key");
    auto fwd = start("      station_dir: " + station + "\n      backoff_initial_ms: 200\n");
    const auto connects = sim.wait_events("connect", 2, 10s);
    ASSERT_EQ(connects.size(), 2u) << fwd->err() << sim.err();
    EXPECT_EQ(connects[1]->getValue<std::string>("client_cn"), "0016c001ff10a235");
    stop(*fwd);
}

TEST_F(LnsTest, ServerRestartLosesNoUplink)
{
    auto sim = std::make_unique<Sim>(dir_, std::vector<std::string>{"--region", "EU863"});
    const int port = sim->port();
    auto fwd = start(ws(port));
    ASSERT_TRUE(fwd->wait_for_err("router_config", 10s)) << fwd->err();
    std::vector<Object::Ptr> before;
    constexpr int kFrames = 60;
    for (int i = 0; i < kFrames; ++i) {
        send_udp(radio_port_, rxpk(i));
        std::this_thread::sleep_for(25ms);
        if (i == 20) {
            sim->stop();
            before = sim->messages("updf");
            sim.reset();
        }
        if (i == 40) {
            sim = std::make_unique<Sim>(dir_, std::vector<std::string>{"--region", "EU863"}, port);
        }
    }
    std::set<int> fcnts;
    for (const auto& m : before) {
        fcnts.insert(m->getValue<int>("FCnt"));
    }
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (fcnts.size() < kFrames && std::chrono::steady_clock::now() < deadline) {
        for (const auto& m : sim->messages("updf")) {
            fcnts.insert(m->getValue<int>("FCnt"));
        }
        std::this_thread::sleep_for(50ms);
    }
    EXPECT_EQ(fcnts.size(), static_cast<size_t>(kFrames)) << fwd->err();
    stop(*fwd);
}

TEST_F(LnsTest, HalfOpenLinkIsDetectedByMissingPongs)
{
    Sim sim(dir_, {"--half-open-after", "1"}); // after `version`
    auto fwd = start(ws(sim.port()) + "      ping_interval_s: 1\n");
    EXPECT_TRUE(fwd->wait_for_err("dead link", 10s)) << fwd->err();
    // ... and reconnects straight to the traffic endpoint (no new discovery).
    const auto connects = sim.wait_events("connect", 3, 10s);
    ASSERT_EQ(connects.size(), 3u);
    EXPECT_EQ(connects[2]->getValue<std::string>("endpoint"), "traffic");
    stop(*fwd);
}

TEST_F(LnsTest, MalformedServerMessageIsSkippedConnectionKept)
{
    write_file(dir_ / "bad.json",
               R"({"msgtype":"dnmsg","DevEui":"01-01-01-01-01-01-01-01","dC":0,"diid":"x"})");
    write_file(dir_ / "unknown.json", R"({"msgtype":"frobnicate","x":1})");
    write_file(dir_ / "garbage.json", "{not json");
    Sim sim(dir_, {"--send", dir_ / "bad.json", "--send", dir_ / "unknown.json", "--send",
                   dir_ / "garbage.json", "--region", "EU863"});
    auto fwd = start(ws(sim.port()));
    EXPECT_TRUE(fwd->wait_for_err("ignored a malformed message", 10s)) << fwd->err();
    send_udp(radio_port_, rxpk(3));
    EXPECT_EQ(sim.wait_messages("updf", 1, 10s).size(), 1u);
    EXPECT_EQ(sim.wait_events("connect", 3, 1s).size(), 2u) << "reconnected after a bad message";
    stop(*fwd);
}

TEST_F(LnsTest, DiscoveryErrorIsReported)
{
    Sim sim(dir_, {"--discovery-error", "Unknown gateway"});
    auto fwd = start(ws(sim.port()));
    EXPECT_TRUE(fwd->wait_for_err("rejected by the server: Unknown gateway", 10s)) << fwd->err();
    stop(*fwd);
}

TEST_F(LnsTest, TtsStyleAndClassCDownlinks)
{
    {
        // TTS rewrites xtime to target − 1 s with RxDelay 1 (§3.2): TX at uplink + 1 s.
        Sim sim(dir_, {"--region", "EU863", "--downlink", "tts"});
        auto fwd = start(ws(sim.port()));
        ASSERT_TRUE(fwd->wait_for_err("router_config", 10s)) << fwd->err();
        send_udp(radio_port_, rxpk(1));
        const auto up = sim.wait_messages("updf", 1, 10s);
        ASSERT_EQ(up.size(), 1u);
        const auto count =
            static_cast<uint32_t>(up[0]->getObject("upinfo")->getValue<uint64_t>("xtime"));
        ASSERT_EQ(sim.wait_messages("dntxed", 1, 10s).size(), 1u) << fwd->err();
        const auto tx = wait_lines(dir_ / "tx.jsonl", 1, 5s);
        ASSERT_EQ(tx.size(), 1u);
        EXPECT_EQ(parse(tx[0])->getValue<uint32_t>("count_us"), count + 1000000u);
        stop(*fwd);
    }
    std::filesystem::remove(dir_ / "tx.jsonl");
    {
        // Class C with RX2 fields only: sent as soon as possible, on RX2.
        Sim sim(dir_, {"--region", "EU863", "--downlink", "classc"});
        auto fwd = start(ws(sim.port()));
        ASSERT_TRUE(fwd->wait_for_err("router_config", 10s)) << fwd->err();
        send_udp(radio_port_, rxpk(2));
        ASSERT_EQ(sim.wait_messages("dntxed", 1, 10s).size(), 1u) << fwd->err();
        const auto tx = wait_lines(dir_ / "tx.jsonl", 1, 5s);
        ASSERT_EQ(tx.size(), 1u);
        auto t = parse(tx[0]);
        EXPECT_EQ(t->getValue<bool>("imme"), true);
        EXPECT_NEAR(t->getValue<double>("freq"), 869.525, 1e-6);
        EXPECT_EQ(t->getValue<std::string>("datr"), "SF12BW125");
        stop(*fwd);
    }
}

TEST_F(LnsTest, GetxtimeAndRuncmdAllowList)
{
    const std::string marker = dir_ / "ran";
    write_file(dir_ / "getxtime.json", R"({"msgtype":"getxtime","MuxTime":1554300787.5})");
    write_file(dir_ / "allowed.json",
               R"({"msgtype":"runcmd","command":"touch","arguments":[")" + marker + "\"]}");
    write_file(dir_ / "refused.json",
               R"({"msgtype":"runcmd","command":"rm","arguments":["-rf","/"]})");
    Sim sim(dir_, {"--send", dir_ / "refused.json", "--send", dir_ / "allowed.json", "--send",
                   dir_ / "getxtime.json"});
    auto fwd = start(ws(sim.port()) + "      runcmd_allow: [touch]\n");
    EXPECT_TRUE(fwd->wait_for_err("runcmd refused: 'rm' is not in runcmd_allow", 10s))
        << fwd->err();
    const auto reply = sim.wait_messages("getxtime", 1, 10s);
    ASSERT_EQ(reply.size(), 1u) << fwd->err();
    EXPECT_DOUBLE_EQ(reply[0]->getValue<double>("MuxTime"), 1554300787.5);
    EXPECT_TRUE(reply[0]->has("ustime"));
    EXPECT_TRUE(reply[0]->has("UTCtime"));
    EXPECT_TRUE(reply[0]->getArray("xtimes"));
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!std::filesystem::exists(marker) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
    }
    EXPECT_TRUE(std::filesystem::exists(marker));
    stop(*fwd);
}

TEST_F(LnsTest, StopsWithin2sWhileTheServerHangsTheHandshake)
{
    // A TCP listener that never answers: the TLS handshake (and the upgrade) would wait for
    // connect_timeout_s; SIGTERM must not.
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(listen(fd, 4), 0);
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    auto fwd = start(wss(ntohs(addr.sin_port)) + "      connect_timeout_s: 60\n");
    std::this_thread::sleep_for(500ms); // now inside the handshake
    const auto t0 = std::chrono::steady_clock::now();
    fwd->signal(SIGTERM);
    int code = -1;
    ASSERT_TRUE(fwd->wait(5s, code));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
    EXPECT_EQ(code, 0) << fwd->err();
    close(fd);
}
