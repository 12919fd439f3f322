// Unit tests of the virtual radio plugin class: options, counter, UDP injection, tx_log.
// The plugin's objects are linked into this executable; nothing is dlopen'ed.
#include "virtual_radio.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern "C" const void* forwarder_plugin_entry(const uint32_t* offered, size_t n_offered,
                                              uint32_t* chosen);

namespace fv = forwarder::virtual_radio;
namespace v1 = forwarder::v1;
using forwarder::sdk::Error;

namespace {

uint64_t clock_us(clockid_t clock)
{
    timespec ts{};
    ::clock_gettime(clock, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

// A host that records what the plugin does. Its clock is set by the test, or is the real
// CLOCK_MONOTONIC with `real_clock`.
struct FakeHost {
    std::atomic<uint64_t> now_us{1000000};
    std::atomic<bool> real_clock{false};
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<std::pair<uint32_t, std::string>> published;
    std::map<std::string, int64_t> stats;
    std::vector<std::pair<int, std::string>> logs;

    static FakeHost& of(fwd_host* host) { return *reinterpret_cast<FakeHost*>(host); }
    static int publish(fwd_host* host, uint32_t topic, const void* data, size_t len)
    {
        FakeHost& self = of(host);
        std::lock_guard lock(self.mutex);
        self.published.emplace_back(topic, std::string(static_cast<const char*>(data), len));
        self.changed.notify_all();
        return FWD_OK;
    }
    static void log(fwd_host* host, int level, const char* message)
    {
        FakeHost& self = of(host);
        std::lock_guard lock(self.mutex);
        self.logs.emplace_back(level, message);
    }
    static uint64_t monotonic_us(fwd_host* host)
    {
        return of(host).real_clock ? clock_us(CLOCK_MONOTONIC) : of(host).now_us.load();
    }
    static void stat_add(fwd_host* host, const char* name, int64_t delta)
    {
        FakeHost& self = of(host);
        std::lock_guard lock(self.mutex);
        self.stats[name] += delta;
        self.changed.notify_all();
    }
    static void stat_set(fwd_host* host, const char* name, int64_t value)
    {
        FakeHost& self = of(host);
        std::lock_guard lock(self.mutex);
        self.stats[name] = value;
        self.changed.notify_all();
    }

    fwd_host_api_v1 api{sizeof(fwd_host_api_v1), &publish,  &log,
                        &monotonic_us,           &stat_add, &stat_set};
    forwarder::sdk::Host host() { return {reinterpret_cast<fwd_host*>(this), &api}; }

    int64_t stat(const std::string& name)
    {
        std::lock_guard lock(mutex);
        auto it = stats.find(name);
        return it == stats.end() ? 0 : it->second;
    }
    // Waits until `done` (called with the mutex held) is true, up to 2 s.
    template <class F> bool wait_for(F done)
    {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, std::chrono::seconds(2), done);
    }
    std::vector<std::string> logs_at(int level)
    {
        std::lock_guard lock(mutex);
        std::vector<std::string> out;
        for (const auto& [l, m] : logs) {
            if (l == level) {
                out.push_back(m);
            }
        }
        return out;
    }
};

fwd_create_info_v1 create_info(int32_t radio_index = 1)
{
    return fwd_create_info_v1{sizeof(fwd_create_info_v1), "radio1", radio_index, 0x0011223344556677,
                              "/etc/forwarder/forwarder.yaml"};
}

std::string error_of(const std::string& yaml)
{
    try {
        fv::VirtualRadio::check(yaml);
    } catch (const Error& e) {
        return e.what();
    }
    ADD_FAILURE() << "no error for: " << yaml;
    return "";
}

// A UDP port that was free a moment ago.
uint16_t free_udp_port()
{
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    ::close(fd);
    return ntohs(address.sin_port);
}

void send_udp(uint16_t port, const std::string& datagram)
{
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::sendto(fd, datagram.data(), datagram.size(), 0,
                       reinterpret_cast<sockaddr*>(&address), sizeof address),
              static_cast<ssize_t>(datagram.size()));
    ::close(fd);
}

std::string temp_path(const std::string& name)
{
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir != nullptr ? dir : "/tmp") + "/virtual_radio_test_" +
           std::to_string(::getpid()) + "_" + name;
}

std::string read_file(const std::string& path)
{
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

} // namespace

// --- Options ------------------------------------------------------------------------

TEST(VirtualRadioOptions, EmptyOptionsUseDefaults)
{
    for (const char* yaml : {"", "{}", "\n", "~"}) {
        const fv::Options options = fv::parse_options(yaml);
        EXPECT_FALSE(options.uplink_udp.has_value()) << yaml;
        EXPECT_TRUE(options.tx_log.empty());
        EXPECT_EQ(options.counter_start_us, 0u);
        EXPECT_FALSE(options.eui.has_value());
        EXPECT_EQ(options.lead_time_us, 5000u);
        EXPECT_FALSE(options.pps);
        EXPECT_EQ(options.lbt_scan_us, 5000u);
    }
}

TEST(VirtualRadioOptions, AllOptions)
{
    const fv::Options options = fv::parse_options("uplink_udp: \"127.0.0.1:1780\"\n"
                                                  "tx_log: /tmp/tx.jsonl\n"
                                                  "counter_start_us: 4294967000\n"
                                                  "eui: \"0016c001FF10A235\"\n"
                                                  "lead_time_us: 20000\n"
                                                  "pps: true\n"
                                                  "lbt_scan_us: 128\n");
    ASSERT_TRUE(options.uplink_udp.has_value());
    EXPECT_EQ(options.uplink_udp->text, "127.0.0.1:1780");
    EXPECT_EQ(options.uplink_udp->port, 1780);
    EXPECT_EQ(options.uplink_udp->address.ss_family, AF_INET);
    EXPECT_EQ(options.tx_log, "/tmp/tx.jsonl");
    EXPECT_EQ(options.counter_start_us, 4294967000u);
    EXPECT_EQ(options.eui, 0x0016C001FF10A235u);
    EXPECT_EQ(options.lead_time_us, 20000u);
    EXPECT_TRUE(options.pps);
    EXPECT_EQ(options.lbt_scan_us, 128u);
    EXPECT_FALSE(fv::parse_options("pps: false").pps);
    EXPECT_FALSE(fv::parse_options("pps: ~").pps);
    EXPECT_EQ(fv::parse_options("lbt_scan_us: 5000").lbt_scan_us, 5000u);
    EXPECT_EQ(fv::parse_options("lbt_scan_us: ~").lbt_scan_us, 5000u);
}

TEST(VirtualRadioOptions, UplinkUdpForms)
{
    EXPECT_EQ(fv::parse_endpoint("uplink_udp", "[::1]:1700").address.ss_family, AF_INET6);
    EXPECT_EQ(fv::parse_endpoint("uplink_udp", "0.0.0.0:65535").port, 65535);
    EXPECT_EQ(fv::parse_endpoint("uplink_udp", "localhost:1").address.ss_family, AF_INET);
    EXPECT_NO_THROW(fv::VirtualRadio::check("uplink_udp: ~"));
}

TEST(VirtualRadioOptions, BadUplinkUdp)
{
    EXPECT_EQ(error_of("uplink_udp: abc"),
              "uplink_udp: expected HOST:PORT with a port 1..65535, got 'abc'");
    EXPECT_EQ(error_of("uplink_udp: \"127.0.0.1:0\""),
              "uplink_udp: expected HOST:PORT with a port 1..65535, got '127.0.0.1:0'");
    EXPECT_EQ(error_of("uplink_udp: \"127.0.0.1:65536\""),
              "uplink_udp: expected HOST:PORT with a port 1..65535, got '127.0.0.1:65536'");
    EXPECT_EQ(error_of("uplink_udp: \"127.0.0.1:\""),
              "uplink_udp: expected HOST:PORT with a port 1..65535, got '127.0.0.1:'");
    EXPECT_EQ(error_of("uplink_udp: \"127.0.0.1:17x\""),
              "uplink_udp: expected HOST:PORT with a port 1..65535, got '127.0.0.1:17x'");
    EXPECT_EQ(error_of("uplink_udp: \"[::1]\""),
              "uplink_udp: expected HOST:PORT with a port 1..65535, got '[::1]'");
    const std::string bad_host = "uplink_udp: expected HOST:PORT with HOST an IPv4 address or a "
                                 "bracketed IPv6 address such as [::1], got ";
    EXPECT_EQ(error_of("uplink_udp: \"::1:1700\""), bad_host + "'::1:1700'");
    EXPECT_EQ(error_of("uplink_udp: \"gateway.local:1700\""), bad_host + "'gateway.local:1700'");
    EXPECT_EQ(error_of("uplink_udp: \"[127.0.0.1]:1700\""), bad_host + "'[127.0.0.1]:1700'");
    EXPECT_EQ(error_of("uplink_udp: \"256.0.0.1:1700\""), bad_host + "'256.0.0.1:1700'");
    EXPECT_EQ(error_of("uplink_udp: [1, 2]"), "uplink_udp: expected a string, got a list");
}

TEST(VirtualRadioOptions, BadNumbers)
{
    EXPECT_EQ(error_of("counter_start_us: -1"),
              "counter_start_us: expected an integer 0..4294967295, got '-1'");
    EXPECT_EQ(error_of("counter_start_us: 4294967296"),
              "counter_start_us: expected an integer 0..4294967295, got '4294967296'");
    EXPECT_EQ(error_of("counter_start_us: soon"),
              "counter_start_us: expected an integer 0..4294967295, got 'soon'");
    EXPECT_EQ(error_of("lead_time_us: 1.5"),
              "lead_time_us: expected an integer 0..1000000, got '1.5'");
    EXPECT_EQ(error_of("lead_time_us: 2000000"),
              "lead_time_us: expected an integer 0..1000000, got '2000000'");
    EXPECT_EQ(error_of("lead_time_us: {a: 1}"),
              "lead_time_us: expected an integer 0..1000000, got a mapping");
}

TEST(VirtualRadioOptions, BadPpsAndLbtScan)
{
    EXPECT_EQ(error_of("pps: maybe"), "pps: expected true or false, got 'maybe'");
    EXPECT_EQ(error_of("pps: 2"), "pps: expected true or false, got '2'");
    EXPECT_EQ(error_of("pps: [true]"), "pps: expected true or false, got a list");
    EXPECT_EQ(error_of("lbt_scan_us: 127"),
              "lbt_scan_us: expected an integer 128..5000, got '127'");
    EXPECT_EQ(error_of("lbt_scan_us: 5001"),
              "lbt_scan_us: expected an integer 128..5000, got '5001'");
    EXPECT_EQ(error_of("lbt_scan_us: 5ms"),
              "lbt_scan_us: expected an integer 128..5000, got '5ms'");
    EXPECT_EQ(error_of("lbt_scan_us: {a: 1}"),
              "lbt_scan_us: expected an integer 128..5000, got a mapping");
}

TEST(VirtualRadioOptions, BadEui)
{
    const std::string expected = "eui: expected 16 hex digits (e.g. \"0016C001FF10A235\"), got ";
    EXPECT_EQ(error_of("eui: \"0016C001FF10A23\""), expected + "'0016C001FF10A23'");
    EXPECT_EQ(error_of("eui: \"0016C001FF10A2355\""), expected + "'0016C001FF10A2355'");
    EXPECT_EQ(error_of("eui: \"0016C001FF10A23G\""), expected + "'0016C001FF10A23G'");
    EXPECT_EQ(error_of("eui: \"00-16-C0-01-FF-10-A2-35\""), expected + "'00-16-C0-01-FF-10-A2-35'");
}

TEST(VirtualRadioOptions, UnknownOptionsAndBadShapes)
{
    EXPECT_EQ(error_of("uplink: \"127.0.0.1:1780\""),
              "uplink: unknown option, expected one of uplink_udp, tx_log, counter_start_us, eui, "
              "lead_time_us, pps, lbt_scan_us, temperature_c");
    EXPECT_EQ(error_of("[1, 2]"), "options: expected a mapping of option: value, got a list");
    EXPECT_EQ(error_of("temperature_c: 200"),
              "temperature_c: expected a temperature in °C (-40..125)");
    EXPECT_EQ(error_of("temperature_c: warm"),
              "temperature_c: expected a temperature in °C (-40..125)");
    EXPECT_EQ(error_of("tx_log: \"\""), "tx_log: expected a file path, got an empty string");
    EXPECT_EQ(error_of("tx_log: [a]"), "tx_log: expected a string, got a list");
    EXPECT_EQ(error_of("a: [1,").rfind("options: not valid YAML: ", 0), 0u);
}

TEST(VirtualRadioOptions, DeclaredTable)
{
    std::vector<std::string> names;
    for (const fwd_option* option = fv::kOptions; option->name != nullptr; ++option) {
        names.emplace_back(option->name);
        EXPECT_EQ(option->required, 0) << option->name;
        EXPECT_NE(option->description, nullptr) << option->name;
    }
    EXPECT_EQ(names,
              (std::vector<std::string>{"uplink_udp", "tx_log", "counter_start_us", "eui",
                                        "lead_time_us", "pps", "lbt_scan_us", "temperature_c"}));
    EXPECT_EQ(fv::kOptions[2].type, static_cast<uint32_t>(FWD_OPT_INT));
    EXPECT_STREQ(fv::kOptions[2].default_value, "0");
    EXPECT_STREQ(fv::kOptions[4].default_value, "5000");
    EXPECT_EQ(fv::kOptions[5].type, static_cast<uint32_t>(FWD_OPT_BOOL));
    EXPECT_STREQ(fv::kOptions[5].default_value, "false");
    EXPECT_EQ(fv::kOptions[6].type, static_cast<uint32_t>(FWD_OPT_INT));
    EXPECT_STREQ(fv::kOptions[6].default_value, "5000");
}

// --- The descriptor (via the entry function linked into this test; nothing is loaded) ---

TEST(VirtualRadioPlugin, Descriptor)
{
    const uint32_t offered[] = {7, FWD_ABI_VERSION_1};
    uint32_t chosen = 0;
    const auto* plugin =
        static_cast<const fwd_plugin_v1*>(forwarder_plugin_entry(offered, 2, &chosen));
    ASSERT_NE(plugin, nullptr);
    EXPECT_EQ(chosen, FWD_ABI_VERSION_1);
    EXPECT_EQ(plugin->abi_version, FWD_ABI_VERSION_1);
    EXPECT_STREQ(plugin->name, "virtual");
    EXPECT_EQ(plugin->kind, static_cast<uint32_t>(FWD_KIND_RADIO));
    EXPECT_EQ(plugin->subscriptions, FWD_TOPIC_BIT(FWD_TOPIC_RADIO_CONFIG));
    EXPECT_EQ(plugin->options, fv::kOptions);
    EXPECT_NE(plugin->lead_time_us, nullptr);
    EXPECT_NE(plugin->counter_now, nullptr);
    EXPECT_NE(plugin->transmit, nullptr);

    char err[256] = "";
    EXPECT_EQ(plugin->check("uplink_udp: abc", err, sizeof err), FWD_ERROR);
    EXPECT_STREQ(err, "uplink_udp: expected HOST:PORT with a port 1..65535, got 'abc'");
    EXPECT_EQ(plugin->check("{}", err, sizeof err), FWD_OK);

    const uint32_t only_future[] = {3};
    EXPECT_EQ(forwarder_plugin_entry(only_future, 1, &chosen), nullptr);
}

TEST(VirtualRadioPlugin, DescriptorV2HasLbtAndPps)
{
    const uint32_t offered[] = {FWD_ABI_VERSION_2, FWD_ABI_VERSION_1};
    uint32_t chosen = 0;
    const auto* plugin =
        static_cast<const fwd_plugin_v2*>(forwarder_plugin_entry(offered, 2, &chosen));
    ASSERT_NE(plugin, nullptr);
    EXPECT_EQ(chosen, FWD_ABI_VERSION_2);
    EXPECT_EQ(plugin->v1.abi_version, FWD_ABI_VERSION_2);
    EXPECT_EQ(plugin->struct_size, sizeof(fwd_plugin_v2));
    EXPECT_EQ(plugin->radio_capabilities, FWD_RADIO_CAP_LBT | FWD_RADIO_CAP_PPS);
    ASSERT_NE(plugin->channel_clear, nullptr);
    ASSERT_NE(plugin->last_pps, nullptr);

    // Through the C calls: pps off, no busy windows.
    FakeHost fake;
    const fwd_create_info_v1 info = create_info();
    char err[256] = "";
    void* self = plugin->v1.create(reinterpret_cast<fwd_host*>(&fake), &fake.api, &info, "{}", err,
                                   sizeof err);
    ASSERT_NE(self, nullptr) << err;
    uint32_t count = 7;
    uint64_t edge = 7;
    EXPECT_EQ(plugin->last_pps(self, &count, &edge), FWD_ERROR);
    EXPECT_EQ(plugin->channel_clear(self, 868100000, 125000, 1000000, 50000), FWD_OK);
    plugin->v1.destroy(self);

    self = plugin->v1.create(reinterpret_cast<fwd_host*>(&fake), &fake.api, &info,
                             "pps: true\ncounter_start_us: 0", err, sizeof err);
    ASSERT_NE(self, nullptr) << err;
    static_cast<fv::VirtualRadio*>(self)->apply_busy({{868100000, 0, 100000}}, fake.now_us);
    EXPECT_EQ(plugin->channel_clear(self, 868100000, 125000, 50000, 50000), FWD_BUSY);
    EXPECT_EQ(plugin->last_pps(self, &count, &edge), FWD_OK);
    plugin->v1.destroy(self);
}

// --- PPS --------------------------------------------------------------------------------

TEST(VirtualRadioPps, OffByDefault)
{
    FakeHost fake;
    fv::VirtualRadio radio(fake.host(), create_info(), "{}");
    uint32_t count = 123;
    uint64_t edge = 456;
    EXPECT_FALSE(radio.last_pps(count, edge));
    EXPECT_EQ(count, 123u);
    EXPECT_EQ(edge, 456u);
    fv::VirtualRadio off(fake.host(), create_info(), "pps: false");
    EXPECT_FALSE(off.last_pps(count, edge));
}

TEST(VirtualRadioPps, EdgesOnHostUtcSeconds)
{
    FakeHost fake;
    fake.real_clock = true;
    fv::VirtualRadio radio(fake.host(), create_info(), "pps: true\ncounter_start_us: 4294000000");
    for (int i = 0; i < 5; ++i) {
        const uint64_t mono_before = clock_us(CLOCK_MONOTONIC);
        uint32_t count = 0;
        uint64_t edge = 0;
        ASSERT_TRUE(radio.last_pps(count, edge));
        const uint64_t mono_after = clock_us(CLOCK_MONOTONIC);
        const uint64_t utc_now = clock_us(CLOCK_REALTIME);
        const uint64_t mono_now = clock_us(CLOCK_MONOTONIC);

        // The edge lies within the last second.
        EXPECT_LE(edge, mono_after);
        EXPECT_GT(edge + 1000000, mono_before);
        // The counter was latched at the edge.
        EXPECT_EQ(count, radio.counter_at(edge));
        // The edge's UTC is a whole second (within a few ms of reading the clocks).
        const uint64_t edge_utc = utc_now - (mono_now - edge);
        const uint64_t phase = edge_utc % 1000000;
        EXPECT_LT(std::min(phase, 1000000 - phase), 5000u) << "edge UTC " << edge_utc;
        std::this_thread::sleep_for(std::chrono::milliseconds(37));
    }
}

TEST(VirtualRadioPps, EdgeFollowsTheHostClock)
{
    FakeHost fake;
    fake.now_us = 50000000;
    fv::VirtualRadio radio(fake.host(), create_info(), "pps: true\ncounter_start_us: 4294967000");
    uint32_t count = 0;
    uint64_t edge = 0;
    ASSERT_TRUE(radio.last_pps(count, edge));
    EXPECT_LE(edge, 50000000u);
    EXPECT_GT(edge, 49000000u);
    EXPECT_EQ(count, radio.counter_at(edge));
    EXPECT_EQ(count, static_cast<uint32_t>(4294967000u - (50000000u - edge)));
}

// --- Counter --------------------------------------------------------------------------

TEST(VirtualRadioPlugin, CounterStartsAtOptionAndWraps)
{
    FakeHost fake;
    fake.now_us = 5000000;
    fv::VirtualRadio radio(fake.host(), create_info(), "counter_start_us: 4294967000");
    EXPECT_EQ(radio.counter_now(), 4294967000u);
    fake.now_us += 295;
    EXPECT_EQ(radio.counter_now(), 4294967295u);
    fake.now_us += 1;
    EXPECT_EQ(radio.counter_now(), 0u);
    fake.now_us += 1000;
    EXPECT_EQ(radio.counter_now(), 1000u);
    EXPECT_EQ(radio.lead_time_us(), 5000u);
}

// --- UDP injection ----------------------------------------------------------------------

TEST(VirtualRadioPlugin, ConstructorOpensNoSocket)
{
    FakeHost fake;
    const uint16_t port = free_udp_port();
    fv::VirtualRadio radio(fake.host(), create_info(),
                           "uplink_udp: \"127.0.0.1:" + std::to_string(port) + "\"");
    // The port is still free: binding it ourselves works.
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    ::close(fd);
}

TEST(VirtualRadioPlugin, BindFailureNamesTheAddress)
{
    FakeHost fake;
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    const std::string endpoint = "127.0.0.1:" + std::to_string(ntohs(address.sin_port));

    fv::VirtualRadio radio(fake.host(), create_info(), "uplink_udp: \"" + endpoint + "\"");
    try {
        radio.start();
        ADD_FAILURE() << "start() did not fail";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()),
                  "uplink_udp: cannot bind " + endpoint + ": Address already in use");
    }
    radio.stop();
    ::close(fd);
}

TEST(VirtualRadioPlugin, InjectsUplinksAndCountsMalformedDatagrams)
{
    FakeHost fake;
    fake.now_us = 10000000;
    const uint16_t port = free_udp_port();
    fv::VirtualRadio radio(fake.host(), create_info(3),
                           "uplink_udp: \"127.0.0.1:" + std::to_string(port) +
                               "\"\ncounter_start_us: 100");
    radio.start();
    fake.now_us += 500; // counter is now 600

    send_udp(port, R"({"rxpk":[{"freq":868.3,"datr":"SF9BW125","codr":"4/5","rssi":-80,)"
                   R"("lsnr":7,"size":2,"data":"AQI="},)"
                   R"({"freq":868.5,"datr":"SF10BW125","codr":"4/5","tmst":77,"data":"AQ=="}]})");
    ASSERT_TRUE(fake.wait_for([&] { return fake.published.size() == 2; }));
    {
        std::lock_guard lock(fake.mutex);
        EXPECT_EQ(fake.published[0].first, static_cast<uint32_t>(FWD_TOPIC_UPLINK));
        v1::Uplink first;
        ASSERT_TRUE(first.ParseFromString(fake.published[0].second));
        EXPECT_EQ(first.radio(), 3u);
        EXPECT_EQ(first.frequency_hz(), 868300000u);
        EXPECT_EQ(first.count_us(), 600u);
        EXPECT_EQ(first.received_mono_us(), 10000500u);
        EXPECT_EQ(first.payload(), "\x01\x02");
        v1::Uplink second;
        ASSERT_TRUE(second.ParseFromString(fake.published[1].second));
        EXPECT_EQ(second.count_us(), 77u);
        EXPECT_EQ(second.modulation().lora().spreading_factor(), 10u);
    }
    EXPECT_TRUE(fake.wait_for([&] { return fake.stats["uplinks"] == 2; }));

    // Malformed: counted, warned about once per second at most, nothing published.
    send_udp(port, "not json");
    send_udp(port, R"({"rxpk":[{"freq":868.1}]})");
    EXPECT_TRUE(fake.wait_for([&] { return fake.stats["malformed_datagrams"] == 2; }));
    const auto warnings = fake.logs_at(FWD_LOG_WARN);
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("from 127.0.0.1:"), std::string::npos) << warnings[0];
    EXPECT_NE(warnings[0].find(
                  R"(expected a JSON object {"rxpk":[...]} or {"busy":[...]}, got "not json")"),
              std::string::npos)
        << warnings[0];
    fake.now_us += 1000000;
    send_udp(port, "{}");
    EXPECT_TRUE(fake.wait_for([&] { return fake.stats["malformed_datagrams"] == 3; }));
    const auto later = fake.logs_at(FWD_LOG_WARN);
    ASSERT_EQ(later.size(), 2u);
    EXPECT_NE(later[1].find("rxpk: missing"), std::string::npos) << later[1];
    EXPECT_NE(later[1].find("(and 1 more malformed datagrams since the last warning)"),
              std::string::npos)
        << later[1];
    {
        std::lock_guard lock(fake.mutex);
        EXPECT_EQ(fake.published.size(), 2u);
    }

    const auto before = std::chrono::steady_clock::now();
    radio.stop();
    EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::milliseconds(500));
    radio.stop(); // idempotent
}

TEST(VirtualRadioPlugin, ListensOnIpv6Loopback)
{
    const int probe = ::socket(AF_INET6, SOCK_DGRAM, 0);
    sockaddr_in6 address{};
    address.sin6_family = AF_INET6;
    address.sin6_addr = in6addr_loopback;
    if (probe < 0 || ::bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        if (probe >= 0) {
            ::close(probe);
        }
        GTEST_SKIP() << "no IPv6 loopback here";
    }
    socklen_t length = sizeof address;
    ::getsockname(probe, reinterpret_cast<sockaddr*>(&address), &length);
    const uint16_t port = ntohs(address.sin6_port);
    ::close(probe);

    FakeHost fake;
    fv::VirtualRadio radio(fake.host(), create_info(),
                           "uplink_udp: \"[::1]:" + std::to_string(port) + "\"");
    radio.start();
    const int fd = ::socket(AF_INET6, SOCK_DGRAM, 0);
    const std::string datagram =
        R"({"rxpk":[{"freq":868.1,"datr":"SF7BW125","codr":"4/5","data":"AQID"}]})";
    ASSERT_EQ(::sendto(fd, datagram.data(), datagram.size(), 0,
                       reinterpret_cast<sockaddr*>(&address), sizeof address),
              static_cast<ssize_t>(datagram.size()));
    ::close(fd);
    EXPECT_TRUE(fake.wait_for([&] { return fake.published.size() == 1; }));
    radio.stop();
}

// --- Transmit -------------------------------------------------------------------------

TEST(VirtualRadioPlugin, TransmitAppendsToTxLog)
{
    const std::string path = temp_path("tx.jsonl");
    std::remove(path.c_str());
    {
        std::ofstream(path) << "earlier line\n";
    }

    FakeHost fake;
    fake.now_us = 1000;
    fv::VirtualRadio radio(fake.host(), create_info(), "tx_log: " + path + "\nlead_time_us: 7000");
    EXPECT_EQ(radio.lead_time_us(), 7000u);
    radio.start();

    v1::TxRequest request;
    request.set_payload("\x01\x02\x03");
    request.set_frequency_hz(869525000);
    auto* lora = request.mutable_modulation()->mutable_lora();
    lora->set_spreading_factor(9);
    lora->set_bandwidth_hz(125000);
    lora->set_coding_rate(v1::CR_4_5);
    request.set_power_dbm(27);
    request.set_invert_iq(true);
    request.mutable_timing()->set_count_us(1000000);
    fake.now_us += 993000;
    radio.transmit(request.SerializeAsString(), 1000000);
    request.mutable_timing()->set_immediate(true);
    radio.transmit(request.SerializeAsString(), 993000);

    EXPECT_EQ(read_file(path),
              "earlier line\n"
              R"({"count_us":1000000,"handed_at_us":993000,"freq":869.525000,"datr":"SF9BW125",)"
              R"("codr":"4/5","powe":27,"ipol":true,"size":3,"data":"AQID","imme":false})"
              "\n"
              R"({"count_us":993000,"handed_at_us":993000,"freq":869.525000,"datr":"SF9BW125",)"
              R"("codr":"4/5","powe":27,"ipol":true,"size":3,"data":"AQID","imme":true})"
              "\n");
    EXPECT_EQ(fake.stat("tx_frames"), 2);

    EXPECT_THROW(radio.transmit("\xff\xff\xff", 0), Error);
    EXPECT_EQ(fake.stat("tx_frames"), 2);
    radio.stop();
    std::remove(path.c_str());
}

TEST(VirtualRadioPlugin, TransmitWithoutTxLogOnlyCounts)
{
    FakeHost fake;
    fv::VirtualRadio radio(fake.host(), create_info(), "{}");
    radio.start();
    v1::TxRequest request;
    request.mutable_modulation()->mutable_fsk()->set_bitrate(50000);
    radio.transmit(request.SerializeAsString(), 0);
    EXPECT_EQ(fake.stat("tx_frames"), 1);
    radio.stop();
}

TEST(VirtualRadioPlugin, UnwritableTxLogFailsStart)
{
    FakeHost fake;
    fv::VirtualRadio radio(fake.host(), create_info(), "tx_log: /nonexistent-dir/tx.jsonl");
    try {
        radio.start();
        ADD_FAILURE() << "start() did not fail";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()),
                  "tx_log: cannot open /nonexistent-dir/tx.jsonl: No such file or directory");
    }
}

// --- RadioConfig ------------------------------------------------------------------------

TEST(VirtualRadioPlugin, StoresItsRadioConfig)
{
    FakeHost fake;
    fv::VirtualRadio radio(fake.host(), create_info(1), "");
    EXPECT_FALSE(radio.radio_config().has_value());

    v1::RadioConfig other;
    other.set_radio(0);
    radio.deliver(FWD_TOPIC_RADIO_CONFIG, other.SerializeAsString());
    EXPECT_FALSE(radio.radio_config().has_value());

    v1::RadioConfig config;
    config.set_radio(1);
    config.set_region("EU868");
    auto* chain = config.add_rf_chains();
    chain->set_center_frequency_hz(867500000);
    chain->set_tx_enabled(true);
    config.add_multi_sf_channels()->set_frequency_hz(868100000);
    config.add_multi_sf_channels()->set_frequency_hz(868300000);
    config.set_max_eirp_dbm(16);
    radio.deliver(FWD_TOPIC_RADIO_CONFIG, config.SerializeAsString());
    ASSERT_TRUE(radio.radio_config().has_value());
    EXPECT_EQ(radio.radio_config()->region(), "EU868");
    EXPECT_EQ(radio.radio_config()->multi_sf_channels_size(), 2);

    const auto infos = fake.logs_at(FWD_LOG_INFO);
    ASSERT_FALSE(infos.empty());
    EXPECT_NE(infos.back().find("region EU868"), std::string::npos) << infos.back();
    EXPECT_NE(infos.back().find("868.100000, 868.300000"), std::string::npos) << infos.back();

    radio.deliver(FWD_TOPIC_RADIO_CONFIG, "\xff\xff");
    EXPECT_EQ(radio.radio_config()->region(), "EU868");
    EXPECT_FALSE(fake.logs_at(FWD_LOG_WARN).empty());
}

// --- Listen before talk -------------------------------------------------------------------

namespace {

constexpr uint64_t kF868_1 = 868100000;
constexpr uint32_t kBw125 = 125000;

} // namespace

TEST(VirtualRadioLbt, ClearWithoutBusyWindows)
{
    FakeHost fake;
    fv::VirtualRadio radio(fake.host(), create_info(), "{}");
    EXPECT_TRUE(radio.channel_clear(kF868_1, kBw125, 1000000, 50000));
    EXPECT_EQ(fake.stat("lbt_clear"), 1);
    EXPECT_EQ(fake.stat("lbt_busy"), 0);
}

TEST(VirtualRadioLbt, ListenWindowOverlap)
{
    FakeHost fake;
    fake.now_us = 10000000;
    fv::VirtualRadio radio(fake.host(), create_info(), "counter_start_us: 1000000");
    radio.apply_busy({{kF868_1, 1100000, 1110000}}, fake.now_us);
    EXPECT_EQ(radio.busy_window_count(), 1u);

    // The listen window is [count - 5000, count); the busy window [1100000, 1110000).
    EXPECT_TRUE(radio.channel_clear(kF868_1, kBw125, 1100000, 50000));  // adjacent before
    EXPECT_FALSE(radio.channel_clear(kF868_1, kBw125, 1100001, 50000)); // 1 us overlap
    EXPECT_FALSE(radio.channel_clear(kF868_1, kBw125, 1105000, 50000)); // inside
    EXPECT_FALSE(radio.channel_clear(kF868_1, kBw125, 1114999, 50000)); // 1 us overlap
    EXPECT_TRUE(radio.channel_clear(kF868_1, kBw125, 1115000, 50000));  // adjacent after
    // Only the listen window counts, not the air time after it.
    EXPECT_TRUE(radio.channel_clear(kF868_1, kBw125, 1090000, 1000000));
    EXPECT_EQ(fake.stat("lbt_busy"), 3);
    EXPECT_EQ(fake.stat("lbt_clear"), 3);

    const auto debug = fake.logs_at(FWD_LOG_DEBUG);
    ASSERT_FALSE(debug.empty());
    EXPECT_NE(debug.back().find("868.100000 MHz"), std::string::npos) << debug.back();
    EXPECT_NE(debug.back().find("clear"), std::string::npos) << debug.back();
    bool logged_busy = false;
    for (const std::string& line : debug) {
        logged_busy |=
            line.find("busy (busy window 868.100000 MHz [1100000, 1110000))") != std::string::npos;
    }
    EXPECT_TRUE(logged_busy);
}

TEST(VirtualRadioLbt, OtherFrequencies)
{
    FakeHost fake;
    fv::VirtualRadio radio(fake.host(), create_info(), "counter_start_us: 1000000");
    radio.apply_busy({{kF868_1, 1100000, 1110000}}, fake.now_us);
    // The adjacent 125 kHz channel 200 kHz away is clear, a 500 kHz channel there is not.
    EXPECT_TRUE(radio.channel_clear(868300000, kBw125, 1105000, 50000));
    EXPECT_FALSE(radio.channel_clear(868300000, 500000, 1105000, 50000));
    EXPECT_TRUE(radio.channel_clear(867900000, kBw125, 1105000, 50000));
    // Within bandwidth / 2 (inclusive) counts.
    EXPECT_FALSE(radio.channel_clear(868162500, kBw125, 1105000, 50000));
    EXPECT_FALSE(radio.channel_clear(868037500, kBw125, 1105000, 50000));
    EXPECT_TRUE(radio.channel_clear(868162501, kBw125, 1105000, 50000));
    EXPECT_TRUE(radio.channel_clear(869525000, kBw125, 1105000, 50000));
}

TEST(VirtualRadioLbt, ScanTimeOption)
{
    FakeHost fake;
    fv::VirtualRadio long_scan(fake.host(), create_info(), "counter_start_us: 1000000");
    fv::VirtualRadio short_scan(fake.host(), create_info(),
                                "counter_start_us: 1000000\nlbt_scan_us: 128");
    for (fv::VirtualRadio* radio : {&long_scan, &short_scan}) {
        radio->apply_busy({{kF868_1, 1100000, 1110000}}, fake.now_us);
    }
    EXPECT_FALSE(long_scan.channel_clear(kF868_1, kBw125, 1112000, 50000));
    EXPECT_TRUE(short_scan.channel_clear(kF868_1, kBw125, 1112000, 50000));
    EXPECT_FALSE(short_scan.channel_clear(kF868_1, kBw125, 1110127, 50000));
    EXPECT_TRUE(short_scan.channel_clear(kF868_1, kBw125, 1110128, 50000));
}

TEST(VirtualRadioLbt, AcrossTheCounterWrap)
{
    FakeHost fake;
    fake.now_us = 20000000;
    // The counter is 4294965295 now and wraps to 0 in 2001 us.
    fv::VirtualRadio radio(fake.host(), create_info(), "counter_start_us: 4294965295");
    radio.apply_busy({{kF868_1, 4294966000, 3000}, {869525000, 10000, 20000}}, fake.now_us);
    for (int pass = 0; pass < 2; ++pass) {
        SCOPED_TRACE(pass);
        EXPECT_FALSE(radio.channel_clear(kF868_1, kBw125, 1000, 50000));       // after the wrap
        EXPECT_FALSE(radio.channel_clear(kF868_1, kBw125, 4294967295, 50000)); // before it
        EXPECT_FALSE(radio.channel_clear(kF868_1, kBw125, 7999, 50000));
        EXPECT_TRUE(radio.channel_clear(kF868_1, kBw125, 8000, 50000));       // adjacent after
        EXPECT_TRUE(radio.channel_clear(kF868_1, kBw125, 4294966000, 50000)); // adjacent before
        EXPECT_FALSE(radio.channel_clear(kF868_1, kBw125, 4294966001, 50000));
        // A window after the wrap, a listen window across it.
        EXPECT_FALSE(radio.channel_clear(869525000, kBw125, 15000, 50000));
        EXPECT_TRUE(radio.channel_clear(869525000, kBw125, 4000, 50000));
        EXPECT_FALSE(radio.channel_clear(869525000, kBw125, 10001, 50000));
        EXPECT_TRUE(radio.channel_clear(869525000, kBw125, 2000, 50000));
        // The same answers once the counter itself has wrapped.
        fake.now_us += 3000;
    }
    EXPECT_EQ(radio.counter_now(), 3999u);
}

TEST(VirtualRadioLbt, EmptyListClearsAndOldWindowsExpire)
{
    FakeHost fake;
    fake.now_us = 5000000;
    fv::VirtualRadio radio(fake.host(), create_info(), "counter_start_us: 0");
    radio.apply_busy({{kF868_1, 0, 100000}}, fake.now_us);
    radio.apply_busy({{kF868_1, 200000, 300000}, {868300000, 0, 100000}}, fake.now_us);
    EXPECT_EQ(radio.busy_window_count(), 3u);
    EXPECT_EQ(fake.stat("busy_windows"), 3);
    EXPECT_FALSE(radio.channel_clear(kF868_1, kBw125, 50000, 1000));
    radio.apply_busy({}, fake.now_us);
    EXPECT_EQ(radio.busy_window_count(), 0u);
    EXPECT_EQ(fake.stat("busy_windows"), 0);
    EXPECT_TRUE(radio.channel_clear(kF868_1, kBw125, 50000, 1000));
    EXPECT_TRUE(radio.channel_clear(kF868_1, kBw125, 250000, 1000));

    // Windows that ended more than a minute ago are dropped.
    radio.apply_busy({{kF868_1, 0, 100000}, {kF868_1, 1000000, 2000000}}, fake.now_us);
    fake.now_us += 100001 + fv::VirtualRadio::kBusyRetentionUs; // counter 60.100001 s
    EXPECT_TRUE(radio.channel_clear(kF868_1, kBw125, 60000000, 1000));
    EXPECT_EQ(radio.busy_window_count(), 1u);
}

TEST(VirtualRadioLbt, KeepsAtMostTheLimit)
{
    FakeHost fake;
    fv::VirtualRadio radio(fake.host(), create_info(), "counter_start_us: 0");
    std::vector<fv::BusyWindow> windows;
    for (uint32_t i = 0; i < 300; ++i) {
        windows.push_back({kF868_1, 10000 * i, 10000 * i + 5000});
    }
    radio.apply_busy(windows, fake.now_us);
    EXPECT_EQ(radio.busy_window_count(), fv::VirtualRadio::kMaxBusyWindows);
    // The ones ending first were dropped, the later ones kept.
    EXPECT_TRUE(radio.channel_clear(kF868_1, kBw125, 10000 * 10 + 3000, 1000));
    EXPECT_FALSE(radio.channel_clear(kF868_1, kBw125, 10000 * 299 + 3000, 1000));
    EXPECT_FALSE(radio.channel_clear(kF868_1, kBw125, 10000 * 44 + 3000, 1000));
    EXPECT_TRUE(radio.channel_clear(kF868_1, kBw125, 10000 * 43 + 3000, 1000));
}

TEST(VirtualRadioLbt, BusyDatagramsOverUdp)
{
    FakeHost fake;
    fake.now_us = 10000000;
    const uint16_t port = free_udp_port();
    fv::VirtualRadio radio(fake.host(), create_info(),
                           "uplink_udp: \"127.0.0.1:" + std::to_string(port) +
                               "\"\ncounter_start_us: 4294967000");
    radio.start();

    send_udp(port, R"({"busy":[{"freq":868.1,"from_us":4294967200,"to_us":2000},)"
                   R"({"freq":868.3,"from_us":5000,"to_us":6000}]})");
    ASSERT_TRUE(fake.wait_for([&] { return fake.stats["busy_datagrams"] == 1; }));
    EXPECT_EQ(radio.busy_window_count(), 2u);
    EXPECT_EQ(fake.stat("busy_windows"), 2);
    EXPECT_FALSE(radio.channel_clear(kF868_1, kBw125, 1000, 20000));
    EXPECT_FALSE(radio.channel_clear(868300000, kBw125, 6000, 20000));
    EXPECT_TRUE(radio.channel_clear(868300000, kBw125, 5000, 20000));

    // Malformed busy datagrams are dropped as a whole, counted and warned about.
    send_udp(port, R"({"busy":[{"freq":868.5,"from_us":1,"to_us":3},{"freq":868.5,"from_us":3,)"
                   R"("to_us":1}]})");
    ASSERT_TRUE(fake.wait_for([&] { return fake.stats["malformed_datagrams"] == 1; }));
    EXPECT_EQ(radio.busy_window_count(), 2u);
    const auto warnings = fake.logs_at(FWD_LOG_WARN);
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("uplink_udp: ignored a malformed datagram from 127.0.0.1:"),
              std::string::npos)
        << warnings[0];
    EXPECT_NE(warnings[0].find("busy[1].to_us: expected a counter value after from_us 3"),
              std::string::npos)
        << warnings[0];
    // Rate-limited like malformed rxpk datagrams.
    send_udp(port, R"({"busy":[{"from_us":1,"to_us":3}]})");
    ASSERT_TRUE(fake.wait_for([&] { return fake.stats["malformed_datagrams"] == 2; }));
    EXPECT_EQ(fake.logs_at(FWD_LOG_WARN).size(), 1u);

    send_udp(port, R"({"busy":[]})");
    ASSERT_TRUE(fake.wait_for([&] { return fake.stats["busy_datagrams"] == 2; }));
    EXPECT_EQ(radio.busy_window_count(), 0u);
    EXPECT_TRUE(radio.channel_clear(kF868_1, kBw125, 1000, 20000));
    {
        std::lock_guard lock(fake.mutex);
        EXPECT_TRUE(fake.published.empty());
    }
    radio.stop();
}
