// End-to-end tests: the real forwarder binary with a real YAML file and the real plugins,
// frames injected over UDP on 127.0.0.1, results read from files the plugins write.
#include "harness.hpp"

#include <base64.hpp>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <csignal>
#include <filesystem>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

using namespace forwarder::testing;
using namespace std::chrono_literals;

namespace {

const std::string kBinary = FORWARDER_BINARY;
const std::string kPluginDir = FORWARDER_PLUGIN_DIR;
const std::string kTestPluginDir = FORWARDER_TEST_PLUGIN_DIR;
const std::string kSourceDir = FORWARDER_SOURCE_DIR;

Poco::JSON::Object::Ptr json(const std::string& line)
{
    return Poco::JSON::Parser().parse(line).extract<Poco::JSON::Object::Ptr>();
}

class ForwarderTest : public ::testing::Test {
protected:
    ForwarderTest()
    {
        // One plugin directory with the shipped plugins and the test-only ones.
        plugins_ = dir_ / "plugins";
        std::filesystem::create_directories(plugins_);
        for (const auto& d : {kPluginDir, kTestPluginDir}) {
            for (const auto& e : std::filesystem::directory_iterator(d)) {
                if (e.path().extension() == ".so") {
                    std::filesystem::create_symlink(e.path(),
                                                    plugins_ + "/" + e.path().filename().string());
                }
            }
        }
        port_ = free_udp_port();
    }

    std::string config(const std::string& radio_extra, const std::string& transports)
    {
        const std::string path = dir_ / "forwarder.yaml";
        write_file(path, "gateway:\n  eui: \"0016c001ff10a235\"\n  log: {level: debug}\n"
                         "plugin_dir: " +
                             plugins_ +
                             "\nradios:\n  - driver: virtual\n    options:\n"
                             "      uplink_udp: \"127.0.0.1:" +
                             std::to_string(port_) + "\"\n      tx_log: " + (dir_ / "tx.jsonl") +
                             "\n" + radio_extra + "transports:\n" + transports +
                             "stats: {interval_s: 1}\n" + top_extra_);
        return path;
    }

    std::string capture_entry() const
    {
        // Every CRC class (the default filter passes CRC-valid frames only).
        return "  - plugin: capture\n    options: {path: " + (dir_ / "capture.jsonl") +
               "}\n    filter: {crc: any}\n";
    }

    std::string echo_entry(const std::string& options) const
    {
        return "  - plugin: test-echo\n    options: {results: " + (dir_ / "results.jsonl") +
               (options.empty() ? "" : ", " + options) + "}\n";
    }

    std::unique_ptr<Process> start(const std::string& cfg)
    {
        auto p = std::make_unique<Process>(std::vector<std::string>{kBinary, "--config", cfg},
                                           dir_.path());
        EXPECT_TRUE(p->wait_for_err("] running", 10s)) << p->err();
        return p;
    }

    // SIGTERM must stop everything and exit 0 within 2 s.
    void stop(Process& p, int sig = SIGTERM)
    {
        const auto t0 = std::chrono::steady_clock::now();
        p.signal(sig);
        int code = -1;
        ASSERT_TRUE(p.wait(5s, code)) << "did not stop";
        EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
        EXPECT_EQ(code, 0) << p.err();
    }

    static std::string rxpk(const std::string& extra = "")
    {
        return R"({"freq":868.1,"datr":"SF7BW125","codr":"4/5","rssi":-35,"lsnr":5.5,)"
               R"("size":4,"data":"QAECAw==")" +
               extra + "}";
    }

    TempDir dir_;
    std::string plugins_;
    int port_ = 0;
    std::string top_extra_; // more top-level YAML (scheduler:, time:)
};

} // namespace

TEST(Cli, VersionHelpAndUsageErrors)
{
    std::string out, err;
    EXPECT_EQ(run({kBinary, "--version"}, out, err), 0);
    EXPECT_EQ(out.rfind("forwarder 0.1.0", 0), 0u) << out;
    EXPECT_EQ(run({kBinary, "--help"}, out, err), 0);
    EXPECT_NE(out.find("--check-config FILE"), std::string::npos);
    EXPECT_EQ(run({kBinary}, out, err), 2);
    EXPECT_NE(err.find("no configuration"), std::string::npos);
    EXPECT_EQ(run({kBinary, "--log-level", "loud", "-c", "x.yaml"}, out, err), 2);
    EXPECT_EQ(run({kBinary, "--frobnicate"}, out, err), 2);
}

TEST(Cli, DescribePrintsDeclaredOptions)
{
    std::string out, err;
    ASSERT_EQ(run({kBinary, "--describe", "virtual"}, out, err), 0) << err;
    EXPECT_NE(out.find("kind:        radio"), std::string::npos) << out;
    for (const char* o : {"uplink_udp", "tx_log", "counter_start_us", "eui", "lead_time_us"}) {
        EXPECT_NE(out.find(std::string("  ") + o + " ("), std::string::npos) << o;
    }
}

TEST(Cli, DefaultConfigChecksWithoutOpeningTheNetwork)
{
    // Hold the default config's UDP port: --check-config must not need it.
    std::string out, err;
    EXPECT_EQ(run({kBinary, "--check-config", kSourceDir + "/config/forwarder.yaml"}, out, err), 0)
        << err;
    EXPECT_NE(out.find("OK (1 radio, 2 transports)"), std::string::npos) << out;
}

TEST_F(ForwarderTest, CheckConfigReportsPluginOptionErrorsWithLocation)
{
    const auto cfg = config("      lead_time_us: soon\n", capture_entry());
    std::string out, err;
    EXPECT_EQ(run({kBinary, "--check-config", cfg}, out, err), 1);
    EXPECT_NE(err.find(cfg + ":10:21: radios[0].options.lead_time_us: expected an integer"),
              std::string::npos)
        << err;
}

TEST_F(ForwarderTest, UplinksFlowFromVirtualRadioToCapture)
{
    auto p = start(config("", capture_entry()));
    send_udp(port_, "{\"rxpk\":[" + rxpk(",\"tmst\":123456,\"chan\":2,\"rfch\":1,\"stat\":1") +
                        R"(,{"freq":868.8,"modu":"FSK","datr":50000,"rssi":-80,"size":2,)"
                        R"("data":"AAE=","stat":-1}]})");
    send_udp(port_, "this is not json");
    send_udp(port_, R"({"rxpk":[{"freq":868.1,"datr":"SF99BW125","size":1,"data":"AA=="}]})");
    send_udp(port_, "{\"rxpk\":[" + rxpk() + "]}");
    const auto lines = wait_lines(dir_ / "capture.jsonl", 3, 10s);
    ASSERT_EQ(lines.size(), 3u) << p->err();
    auto a = json(lines[0]);
    EXPECT_EQ(a->getValue<std::string>("type"), "uplink");
    EXPECT_EQ(a->getValue<uint32_t>("count_us"), 123456u);
    EXPECT_EQ(a->getValue<std::string>("datr"), "SF7BW125");
    EXPECT_EQ(a->getValue<std::string>("codr"), "4/5");
    EXPECT_NEAR(a->getValue<double>("freq"), 868.1, 1e-6);
    EXPECT_EQ(a->getValue<int>("chan"), 2);
    EXPECT_EQ(a->getValue<int>("rfch"), 1);
    EXPECT_EQ(a->getValue<std::string>("crc"), "ok");
    EXPECT_EQ(a->getValue<std::string>("data"), "QAECAw==");
    auto b = json(lines[1]);
    EXPECT_EQ(b->getValue<std::string>("modu"), "FSK");
    EXPECT_EQ(b->getValue<int>("datr"), 50000);
    EXPECT_EQ(b->getValue<std::string>("crc"), "bad");
    auto c = json(lines[2]);
    EXPECT_EQ(c->getValue<std::string>("data"), "QAECAw==");
    // Malformed datagrams are reported (rate-limited) and survived.
    EXPECT_TRUE(p->wait_for_err("malformed datagram from 127.0.0.1", 2s)) << p->err();
    EXPECT_TRUE(p->running());
    stop(*p);
    EXPECT_NE(p->err().find("uplinks 3"), std::string::npos) << p->err();
}

TEST_F(ForwarderTest, StopsOnSigintToo)
{
    auto p = start(config("", capture_entry()));
    stop(*p, SIGINT);
}

TEST_F(ForwarderTest, DownlinkIsTransmittedJustInTime)
{
    auto p = start(config("", capture_entry() + echo_entry("delay_us: 300000, repeat: 2")));
    send_udp(port_, "{\"rxpk\":[" + rxpk() + "]}");
    const auto results = wait_lines(dir_ / "results.jsonl", 2, 10s);
    ASSERT_EQ(results.size(), 2u) << p->err();
    // The second request for the same slot collides with the first; it is answered first.
    auto collided = json(results[0]);
    EXPECT_EQ(collided->getValue<uint64_t>("id"), 2u);
    EXPECT_EQ(collided->getValue<std::string>("outcome"), "COLLISION_PACKET");
    auto ok = json(results[1]);
    EXPECT_EQ(ok->getValue<uint64_t>("id"), 1u);
    EXPECT_EQ(ok->getValue<std::string>("outcome"), "OK");

    const auto captured = wait_lines(dir_ / "capture.jsonl", 3, 5s);
    ASSERT_GE(captured.size(), 1u);
    const uint32_t up_count = json(captured[0])->getValue<uint32_t>("count_us");
    const auto tx = wait_lines(dir_ / "tx.jsonl", 1, 5s);
    ASSERT_EQ(tx.size(), 1u);
    auto t = json(tx[0]);
    const uint32_t count = t->getValue<uint32_t>("count_us");
    EXPECT_EQ(count, up_count + 300000u);
    EXPECT_EQ(ok->getValue<uint32_t>("count_us"), count);
    const uint32_t handed = t->getValue<uint32_t>("handed_at_us");
    // Handed over about lead_time_us (5 ms) before TX, never later than the start-up delay.
    EXPECT_LE(static_cast<int32_t>(count - handed), 5000 + 20000);
    EXPECT_GE(static_cast<int32_t>(count - handed), 1500);
    EXPECT_NEAR(t->getValue<double>("freq"), 868.1, 1e-6);
    EXPECT_EQ(t->getValue<std::string>("datr"), "SF7BW125");
    EXPECT_EQ(t->getValue<bool>("ipol"), true);
    EXPECT_EQ(t->getValue<bool>("imme"), false);
    EXPECT_EQ(t->getValue<std::string>("data"), "QAECAw==");
    EXPECT_EQ(t->getValue<int>("size"), 4);
    // The capture transport sees every TxResult too.
    const auto all = wait_lines(dir_ / "capture.jsonl", 3, 5s);
    EXPECT_EQ(all.size(), 3u);
    stop(*p);
}

TEST_F(ForwarderTest, LateAndUnlockedRequestsGetPreciseReasons)
{
    auto p = start(config("", echo_entry("delay_us: 1000, malformed: true") +
                                  "  - plugin: test-echo\n    name: gps\n    options: {results: " +
                                  (dir_ / "gps.jsonl") + ", gps: true}\n"));
    send_udp(port_, "{\"rxpk\":[" + rxpk() + "]}");
    const auto late = wait_lines(dir_ / "results.jsonl", 1, 10s);
    ASSERT_EQ(late.size(), 1u) << p->err();
    EXPECT_EQ(json(late[0])->getValue<std::string>("outcome"), "TOO_LATE");
    const auto gps = wait_lines(dir_ / "gps.jsonl", 1, 10s);
    ASSERT_EQ(gps.size(), 1u);
    EXPECT_EQ(json(gps[0])->getValue<std::string>("outcome"), "GPS_UNLOCKED");
    EXPECT_TRUE(p->wait_for_err("ignored a malformed TxRequest from test-echo", 2s)) << p->err();
    EXPECT_TRUE(read_lines(dir_ / "tx.jsonl").empty());
    stop(*p);
}

TEST_F(ForwarderTest, CounterWrapDuringScheduling)
{
    // The counter starts 1.5 s before 2^32; a downlink 2.5 s after the uplink wraps.
    auto p = start(config("      counter_start_us: 4293467296\n",
                          capture_entry() + echo_entry("delay_us: 2500000")));
    send_udp(port_, "{\"rxpk\":[" + rxpk() + "]}");
    const auto results = wait_lines(dir_ / "results.jsonl", 1, 10s);
    ASSERT_EQ(results.size(), 1u) << p->err();
    EXPECT_EQ(json(results[0])->getValue<std::string>("outcome"), "OK");
    const uint32_t up = json(read_lines(dir_ / "capture.jsonl")[0])->getValue<uint32_t>("count_us");
    const auto tx = read_lines(dir_ / "tx.jsonl");
    ASSERT_EQ(tx.size(), 1u);
    const uint32_t count = json(tx[0])->getValue<uint32_t>("count_us");
    EXPECT_GT(up, 4290000000u);
    EXPECT_EQ(count, static_cast<uint32_t>(up + 2500000u));
    EXPECT_LT(count, up); // wrapped
    stop(*p);
}

TEST_F(ForwarderTest, BadPluginsAreRefusedAndNothingStarts)
{
    struct Case {
        std::string entry;
        std::string expected;
        bool found_by_check; // false: only `create` can tell (the plugin has no `check`)
    };
    const Case cases[] = {
        {"  - plugin: broken-abi\n", "forwarder-broken-abi.so: wrong ABI version", true},
        {"  - plugin: broken-no-entry\n",
         "forwarder-broken-no-entry.so: not a forwarder plugin: it does not export", true},
        {"  - plugin: nonexistent\n", "forwarder-nonexistent.so: unknown plugin 'nonexistent'",
         true},
        {"  - plugin: broken-create\n    options:\n      level: 5\n",
         ":16:14: transports[1].options.level: must be between 1 and 3", false},
        {"  - plugin: virtual\n", "forwarder-virtual.so: is a radio plugin", true},
    };
    for (const auto& c : cases) {
        const auto cfg = config("", capture_entry() + c.entry);
        std::string out, err;
        EXPECT_EQ(run({kBinary, "--config", cfg}, out, err), 1) << c.entry;
        EXPECT_NE(err.find(c.expected), std::string::npos) << c.expected << "\n" << err;
        EXPECT_EQ(err.find("started"), std::string::npos) << err;
        EXPECT_FALSE(std::filesystem::exists(dir_ / "capture.jsonl")) << c.entry;
        // The same error from --check-config.
        if (c.found_by_check) {
            EXPECT_EQ(run({kBinary, "--check-config", cfg}, out, err), 1);
            EXPECT_NE(err.find(c.expected), std::string::npos) << c.expected << "\n" << err;
        }
    }
}

TEST_F(ForwarderTest, BadConfigFilesGiveOneLocatedError)
{
    const std::string cfg = dir_ / "bad.yaml";
    write_file(cfg, "radios:\n  - driver: virtual\n    options:\n      uplink_udp: [1\n");
    std::string out, err;
    EXPECT_EQ(run({kBinary, "-c", cfg}, out, err), 1);
    EXPECT_NE(err.find(cfg + ":"), std::string::npos) << err;
    EXPECT_NE(err.find("invalid YAML"), std::string::npos) << err;
    EXPECT_EQ(run({kBinary, "-c", dir_ / "missing.yaml"}, out, err), 1);
    EXPECT_NE(err.find("missing.yaml: cannot read the file"), std::string::npos) << err;
}

TEST_F(ForwarderTest, PortInUseIsAClearStartError)
{
    // Something else holds the radio's UDP port: the start fails, naming the option.
    const int fd = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    const auto cfg = config("", capture_entry());
    std::string out, err;
    EXPECT_EQ(run({kBinary, "--config", cfg}, out, err), 1);
    EXPECT_NE(err.find("radios[0].options.uplink_udp: cannot bind"), std::string::npos) << err;
    close(fd);
}

// --- Transmit rules and time (virtual radio with PPS and busy channels) ------------------

namespace {

int64_t gps_now_s()
{
    const auto unix_s = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    return unix_s - 315'964'800 + 18;
}

} // namespace

TEST_F(ForwarderTest, ListenBeforeTalkRefusesOnABusyChannelAndDutyCycleCanBeOff)
{
    top_extra_ = "scheduler: {region: KR920, duty_cycle: off}\n";
    auto p = start(config("", capture_entry() + echo_entry("delay_us: 1500000")));
    EXPECT_TRUE(p->wait_for_err("duty-cycle limits are off", 2s)) << p->err();
    send_udp(port_, "{\"rxpk\":[" + rxpk() + "]}");
    const auto captured = wait_lines(dir_ / "capture.jsonl", 1, 5s);
    ASSERT_GE(captured.size(), 1u) << p->err();
    const uint32_t up = json(captured[0])->getValue<uint32_t>("count_us");
    // The echo answers on the uplink's 868.1 MHz: outside KR920 (TX_FREQ). Mark 922.1 MHz
    // busy and send an uplink there instead.
    const auto refused = wait_lines(dir_ / "results.jsonl", 1, 5s);
    ASSERT_EQ(refused.size(), 1u);

    EXPECT_EQ(json(refused[0])->getValue<std::string>("outcome"), "TX_FREQ");
    send_udp(port_, "{\"busy\":[{\"freq\":922.1,\"from_us\":" + std::to_string(up) +
                        ",\"to_us\":" + std::to_string(up + 60'000'000u) + "}]}");
    send_udp(port_, "{\"rxpk\":[" +
                        std::string(R"({"freq":922.1,"datr":"SF7BW125","codr":"4/5","rssi":-35,)"
                                    R"("lsnr":5.5,"size":4,"data":"QAECAw=="})") +
                        "]}");
    const auto results = wait_lines(dir_ / "results.jsonl", 2, 5s);
    ASSERT_EQ(results.size(), 2u) << p->err();
    EXPECT_EQ(json(results[1])->getValue<std::string>("outcome"), "CHANNEL_BUSY");
    EXPECT_TRUE(p->wait_for_err("CHANNEL_BUSY (listen before talk: 922.100 MHz busy)", 2s))
        << p->err();
    EXPECT_TRUE(read_lines(dir_ / "tx.jsonl").empty());
    // Cleared: the next one goes out.
    send_udp(port_, "{\"busy\":[]}");
    send_udp(port_, "{\"rxpk\":[" +
                        std::string(R"({"freq":922.1,"datr":"SF7BW125","codr":"4/5","rssi":-35,)"
                                    R"("lsnr":5.5,"size":4,"data":"QAECAw=="})") +
                        "]}");
    const auto after = wait_lines(dir_ / "results.jsonl", 3, 5s);
    ASSERT_EQ(after.size(), 3u);
    EXPECT_EQ(json(after[2])->getValue<std::string>("outcome"), "OK");
    stop(*p);
}

TEST_F(ForwarderTest, PpsAndGpsTimeGiveUplinkGpsTimeAndBeacons)
{
    // GPS time shifted so that a beacon (GPS k·128 s) falls 24 s after start: beacons wait
    // for the crystal estimate (16 PPS intervals) after the clock is synchronised.
    const int64_t now = gps_now_s();
    const int64_t next = (now / 128 + 1) * 128;
    const int64_t offset = next - 24 - now; // shifted "now" is 24 s before beacon time `next`
    top_extra_ = "scheduler:\n  region: EU868\n  beacon: {enabled: true, latitude: 0.087901, "
                 "longitude: 4.927368}\ntime:\n  gps: {source: system, offset_s: " +
                 std::to_string(offset) + "}\n";
    auto p = start(config("      pps: true\n", capture_entry()));
    EXPECT_TRUE(p->wait_for_err("time source PPS_GPS", 5s)) << p->err();
    // Uplinks now carry GPS time.
    send_udp(port_, "{\"rxpk\":[" + rxpk() + "]}");
    const auto captured = wait_lines(dir_ / "capture.jsonl", 1, 5s);
    ASSERT_GE(captured.size(), 1u) << p->err();
    auto up = json(captured[0]);
    ASSERT_TRUE(up->has("gps_time_us")) << captured[0];
    const auto gps_s = static_cast<int64_t>(up->getValue<uint64_t>("gps_time_us") / 1'000'000);
    EXPECT_NEAR(static_cast<double>(gps_s), static_cast<double>(gps_now_s() + offset), 2.0);
    // One beacon, with the LoRaWAN layout and the time of its period.
    const auto tx = wait_lines(dir_ / "tx.jsonl", 1, 30s);
    ASSERT_EQ(tx.size(), 1u) << p->err();
    auto b = json(tx[0]);
    EXPECT_NEAR(b->getValue<double>("freq"), 869.525, 1e-6);
    EXPECT_EQ(b->getValue<std::string>("datr"), "SF9BW125");
    EXPECT_EQ(b->getValue<bool>("ipol"), false);
    std::string bytes;
    ASSERT_TRUE(forwarder::support::base64_decode(b->getValue<std::string>("data"), bytes));
    ASSERT_EQ(bytes.size(), 17u);
    const uint32_t time = static_cast<uint8_t>(bytes[2]) | static_cast<uint8_t>(bytes[3]) << 8 |
                          static_cast<uint8_t>(bytes[4]) << 16 |
                          static_cast<uint32_t>(static_cast<uint8_t>(bytes[5])) << 24;
    EXPECT_EQ(time % 128, 0u);
    EXPECT_EQ(static_cast<int64_t>(time), next);
    EXPECT_EQ(bytes.substr(8, 7), std::string("\x00\x01\x20\x00\x00\x81\x03", 7));
    // Its counter value is 1.5 ms after a PPS edge (an edge is at counter value gps_time −
    // GPS second boundary; the uplink's stamp gives the mapping).
    const uint32_t up_count = up->getValue<uint32_t>("count_us");
    const uint64_t up_gps = up->getValue<uint64_t>("gps_time_us");
    const uint32_t beacon_count = b->getValue<uint32_t>("count_us");
    const int64_t expected =
        static_cast<int64_t>(time) * 1'000'000 + 1500 - static_cast<int64_t>(up_gps);
    EXPECT_NEAR(static_cast<double>(static_cast<int32_t>(beacon_count - up_count)),
                static_cast<double>(expected), 20.0);
    stop(*p);
}

// --- Concentrator drivers: the SX1302 driver linked with the fake libloragw ------------------

TEST(Sx1302Driver, LoadsThroughTheRealLoaderAndChecksBoardProfiles)
{
    const std::string dir = FORWARDER_FAKEHAL_PLUGIN_DIR;
    std::string out, err;
    ASSERT_EQ(run({kBinary, "--plugin-dir", dir, "--describe", "sx1302"}, out, err), 0) << err;
    EXPECT_NE(out.find("abi:         2"), std::string::npos) << out;
    EXPECT_NE(out.find("board (string)"), std::string::npos);
    TempDir tmp;
    const std::string good = tmp / "good.yaml";
    write_file(good, "plugin_dir: " + dir +
                         "\nradios:\n  - driver: sx1302\n    options:\n      board: rak2287\n"
                         "      boards_dir: " +
                         kSourceDir +
                         "/config/boards\n"
                         "      board_overrides: {com_path: /dev/spidev1.0}\n");
    EXPECT_EQ(run({kBinary, "--check-config", good}, out, err), 0) << err;
    const std::string bad = tmp / "bad.yaml";
    write_file(bad, "plugin_dir: " + dir +
                        "\nradios:\n  - driver: sx1302\n    options:\n      board: rak9999\n");
    EXPECT_EQ(run({kBinary, "--check-config", bad}, out, err), 1);
    EXPECT_NE(err.find("bad.yaml:5:14: radios[0].options.board: board 'rak9999': no such "
                       "profile"),
              std::string::npos)
        << err;
    EXPECT_NE(err.find("known: ic880a"), std::string::npos) << err;
}

// A local channel plan starts a concentrator when no transport sends one (Semtech UDP).
TEST(Sx1302Driver, LocalChannelPlanStartsTheConcentrator)
{
    TempDir tmp;
    const std::string plugins = tmp / "plugins";
    std::filesystem::create_directories(plugins);
    std::filesystem::create_symlink(std::string(FORWARDER_FAKEHAL_PLUGIN_DIR) +
                                        "/forwarder-sx1302.so",
                                    plugins + "/forwarder-sx1302.so");
    std::filesystem::create_symlink(kPluginDir + "/forwarder-capture.so",
                                    plugins + "/forwarder-capture.so");
    const std::string radio = "radios:\n  - driver: sx1302\n    options: {board: rak2287, "
                              "boards_dir: " +
                              kSourceDir + "/config/boards, board_overrides: {reset: none}}\n";
    const std::string cfg = tmp / "f.yaml";
    write_file(cfg, "plugin_dir: " + plugins + "\n" + radio +
                        "    channel_plan:\n      region: eu863\n"
                        "      multi_sf: [867.1, 867.3, 867.5, 867.7, 867.9, 868.1, 868.3, 868.5]\n"
                        "      lora_std: {frequency: 868.3, bandwidth: 250, spreading_factor: 7}\n"
                        "      fsk: {frequency: 868.8}\n"
                        "transports:\n  - plugin: capture\n    options: {path: " +
                        (tmp / "capture.jsonl") + "}\n");
    Process p({kBinary, "--config", cfg}, tmp.path());
    EXPECT_TRUE(p.wait_for_err("radio0: local channel plan (8 multi-SF channels, LoRa std, FSK, "
                               "EU868)",
                               10s))
        << p.err();
    EXPECT_TRUE(p.wait_for_err("concentrator started", 10s)) << p.err();
    p.signal(SIGTERM);
    int code = -1;
    EXPECT_TRUE(p.wait(5s, code));
    EXPECT_EQ(code, 0);

    std::string out, err;
    write_file(cfg, "plugin_dir: " + plugins + "\n" + radio +
                        "    channel_plan:\n      multi_sf: [867.1, 8671]\n");
    EXPECT_EQ(run({kBinary, "--check-config", cfg}, out, err), 1);
    EXPECT_NE(err.find(":6:25: radios[0].channel_plan.multi_sf[1]: expected a frequency in MHz"),
              std::string::npos)
        << err;
    write_file(cfg,
               "plugin_dir: " + plugins + "\n" + radio + "    channel_plan: {region: EU868}\n");
    EXPECT_EQ(run({kBinary, "--check-config", cfg}, out, err), 1);
    EXPECT_NE(err.find("radios[0].channel_plan: lists no channel"), std::string::npos) << err;
}

namespace {

// Stands in for systemd's notification socket ($NOTIFY_SOCKET): collects sd_notify datagrams.
class NotifySocket {
public:
    explicit NotifySocket(const std::string& path) : path_(path)
    {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
        EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    }
    ~NotifySocket()
    {
        ::close(fd_);
        ::unlink(path_.c_str());
    }
    // The next datagram containing `text`, waiting at most `timeout`; skipped ones are kept in
    // seen(). Empty if none came.
    std::string wait_for(const std::string& text, std::chrono::milliseconds timeout)
    {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 50) != 1) {
                continue;
            }
            char buf[4096];
            const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) {
                continue;
            }
            std::string msg(buf, static_cast<size_t>(n));
            seen_.push_back(msg);
            if (msg.find(text) != std::string::npos) {
                return msg;
            }
        }
        return {};
    }
    // How many datagrams containing `text` arrive within `window`.
    int count(const std::string& text, std::chrono::milliseconds window)
    {
        int n = 0;
        const auto end = std::chrono::steady_clock::now() + window;
        while (std::chrono::steady_clock::now() < end) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                end - std::chrono::steady_clock::now());
            if (left.count() <= 0 || wait_for(text, left).empty()) {
                break;
            }
            ++n;
        }
        return n;
    }
    const std::vector<std::string>& seen() const { return seen_; }

private:
    std::string path_;
    int fd_ = -1;
    std::vector<std::string> seen_;
};

// Sets the systemd environment for the next child only.
struct SystemdEnv {
    SystemdEnv(const std::string& socket, uint64_t watchdog_us)
    {
        ::setenv("NOTIFY_SOCKET", socket.c_str(), 1);
        if (watchdog_us != 0) {
            ::setenv("WATCHDOG_USEC", std::to_string(watchdog_us).c_str(), 1);
        }
    }
    ~SystemdEnv()
    {
        ::unsetenv("NOTIFY_SOCKET");
        ::unsetenv("WATCHDOG_USEC");
    }
};

} // namespace

TEST_F(ForwarderTest, SystemdReadinessWatchdogReloadAndStopping)
{
    NotifySocket sd(dir_ / "notify.sock");
    const auto cfg = config("", capture_entry());
    std::unique_ptr<Process> p;
    {
        SystemdEnv env(dir_ / "notify.sock", 600'000);
        p = start(cfg);
    }
    const auto ready = sd.wait_for("READY=1", 5s);
    EXPECT_NE(ready.find("STATUS=running: 1 radio, 1 transport"), std::string::npos) << ready;
    // Keep-alives every quarter of WatchdogSec while every thread runs.
    EXPECT_GE(sd.count("WATCHDOG=1", 1500ms), 4);
    p->signal(SIGHUP);
    EXPECT_FALSE(sd.wait_for("RELOADING=1", 5s).empty());
    EXPECT_FALSE(sd.wait_for("READY=1", 5s).empty());
    EXPECT_TRUE(p->wait_for_err("reloaded " + cfg + "; transports unchanged", 5s)) << p->err();
    p->signal(SIGTERM);
    EXPECT_FALSE(sd.wait_for("STOPPING=1", 5s).empty());
    int code = -1;
    ASSERT_TRUE(p->wait(5s, code));
    EXPECT_EQ(code, 0);
}

TEST_F(ForwarderTest, WatchdogKeepAlivesStopWhileAThreadHangs)
{
    NotifySocket sd(dir_ / "notify.sock");
    const auto cfg = config("", echo_entry("hang_ms: 4000"));
    std::unique_ptr<Process> p;
    {
        SystemdEnv env(dir_ / "notify.sock", 1'000'000);
        p = start(cfg);
    }
    ASSERT_FALSE(sd.wait_for("READY=1", 5s).empty());
    ASSERT_FALSE(sd.wait_for("WATCHDOG=1", 2s).empty());
    // The test transport blocks its delivery thread for 4 s on this frame.
    send_udp(port_, "{\"rxpk\":[" +
                        rxpk(",\"stat\":1").replace(rxpk().find("QAECAw=="), 8, "aGFuZw==") + "]}");
    EXPECT_TRUE(p->wait_for_err("not answering the systemd watchdog: no progress in transport "
                                "test-echo",
                                3s))
        << p->err();
    // Silence for the rest of the hang (systemd would restart the daemon after WatchdogSec),
    // once the keep-alives sent before it are read ...
    sd.count("WATCHDOG=1", 100ms);
    EXPECT_EQ(sd.count("WATCHDOG=1", 1200ms), 0);
    // ... and keep-alives again once the thread runs.
    EXPECT_FALSE(sd.wait_for("WATCHDOG=1", 4s).empty());
    stop(*p);
}

TEST_F(ForwarderTest, SighupReloadsTransportsAndFiltersWithoutTouchingRadios)
{
    const auto cfg = config("", capture_entry());
    auto p = start(cfg);
    const std::string bad_crc = "{\"rxpk\":[" + rxpk(",\"stat\":-1") + "]}";
    const std::string good = "{\"rxpk\":[" + rxpk(",\"stat\":1") + "]}";
    send_udp(port_, bad_crc);
    ASSERT_EQ(wait_lines(dir_ / "capture.jsonl", 1, 5s).size(), 1u) << p->err();

    // Capture now with the default filter (CRC-valid only), plus a second transport.
    config("", "  - plugin: capture\n    options: {path: " + (dir_ / "capture.jsonl") + "}\n" +
                   echo_entry(""));
    p->signal(SIGHUP);
    ASSERT_TRUE(p->wait_for_err("added test-echo; new filter for capture", 5s)) << p->err();
    send_udp(port_, bad_crc);
    send_udp(port_, good);
    const auto lines = wait_lines(dir_ / "capture.jsonl", 2, 5s);
    ASSERT_EQ(lines.size(), 2u) << p->err();
    EXPECT_NE(lines[1].find("\"crc\":\"ok\""), std::string::npos) << lines[1];
    // The new transport answers the good frame (its TxRequest gets a result).
    EXPECT_EQ(wait_lines(dir_ / "results.jsonl", 1, 5s).size(), 1u) << p->err();

    // A broken file is refused and everything keeps running as it was.
    write_file(cfg, "radios: [oops\n");
    p->signal(SIGHUP);
    EXPECT_TRUE(p->wait_for_err("reload refused, the running configuration stays: " + cfg, 5s))
        << p->err();
    send_udp(port_, good);
    EXPECT_EQ(wait_lines(dir_ / "capture.jsonl", 3, 5s).size(), 3u) << p->err();

    // Radio changes wait for a restart; removing a transport stops it.
    config("      lead_time_us: 6000\n", capture_entry());
    p->signal(SIGHUP);
    EXPECT_TRUE(p->wait_for_err("reload: changes to radios take effect at the next restart", 5s))
        << p->err();
    EXPECT_TRUE(p->wait_for_err("removed test-echo; new filter for capture", 5s)) << p->err();
    EXPECT_TRUE(p->wait_for_err("stopped transport test-echo", 5s));
    // The radio was started once and never restarted.
    const std::string err = p->err();
    EXPECT_EQ(err.find("started radio radio0"), err.rfind("started radio radio0")) << err;
    stop(*p);
}
