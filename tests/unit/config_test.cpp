#include "config.hpp"
#include "gateway.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace forwarder::core;

namespace {

class ConfigTest : public ::testing::Test {
protected:
    std::string write(const std::string& text)
    {
        path_ = (std::filesystem::temp_directory_path() /
                 ("fwd-config-" + std::to_string(getpid()) + ".yaml"))
                    .string();
        std::ofstream(path_) << text;
        return path_;
    }
    ~ConfigTest() override { std::filesystem::remove(path_); }

    // The error message load_config (and, with plugins, Gateway::check) gives.
    std::string error_of(const std::string& text, bool with_plugins = false)
    {
        const auto file = write(text);
        try {
            Config c = load_config(file);
            if (with_plugins) {
                Gateway g(c, FORWARDER_PLUGIN_DIR);
                g.check();
            }
        } catch (const ConfigError& e) {
            return e.what();
        }
        return "";
    }

    std::string path_;
};

const char* kMinimal = "radios:\n  - driver: virtual\n";

} // namespace

TEST_F(ConfigTest, MinimalConfigHasDefaults)
{
    Config c = load_config(write(kMinimal));
    ASSERT_EQ(c.radios.size(), 1u);
    EXPECT_EQ(c.radios[0].plugin, "virtual");
    EXPECT_EQ(c.radios[0].name, "radio0");
    EXPECT_EQ(c.gateway_eui_text, "auto");
    EXPECT_EQ(c.scheduler.max_ahead_us, 600'000'000u);
    EXPECT_EQ(c.stats_interval_s, 60u);
}

TEST_F(ConfigTest, RadioProcessModes)
{
    Config c = load_config(write("radios:\n  - driver: virtual\n  - driver: sx1302\n"
                                 "  - driver: virtual\n    process: worker\n"
                                 "  - driver: sx1302\n    process: inline\n"));
    ASSERT_EQ(c.radios.size(), 4u);
    EXPECT_FALSE(c.radios[0].runs_in_worker()); // auto: virtual stays in the daemon
    EXPECT_TRUE(c.radios[1].runs_in_worker());  // auto: hardware drivers get a worker
    EXPECT_TRUE(c.radios[2].runs_in_worker());
    EXPECT_FALSE(c.radios[3].runs_in_worker());
}

TEST_F(ConfigTest, FullConfig)
{
    Config c = load_config(write(R"(gateway:
  eui: "00-16-c0-01-ff-10-a2-35"
  log: {level: debug, file: /tmp/x.log}
radios:
  - driver: virtual
    options: {uplink_udp: "127.0.0.1:1780"}
  - driver: virtual
    name: second
transports:
  - plugin: capture
    queue_size: 100
scheduler: {guard_us: 2000, queue_size: 16}
stats: {interval_s: 0}
)"));
    EXPECT_EQ(c.gateway_eui, 0x0016c001ff10a235ull);
    EXPECT_EQ(c.log_level, LogLevel::debug);
    EXPECT_EQ(c.log_file, "/tmp/x.log");
    ASSERT_EQ(c.radios.size(), 2u);
    EXPECT_EQ(c.radios[1].name, "second");
    EXPECT_EQ(c.transports[0].queue_size, 100u);
    EXPECT_EQ(c.scheduler.guard_us, 2000u);
    EXPECT_EQ(c.scheduler.queue_size, 16u);
    EXPECT_EQ(c.stats_interval_s, 0u);
}

TEST_F(ConfigTest, ErrorsNameFileLineColumnAndKeyPath)
{
    struct Case {
        std::string yaml;
        std::string expected; // after "<file>:"
    };
    const Case cases[] = {
        {"radios: [\n", "2:1: invalid YAML"},
        {"- a\n- b\n", "1:1: expected a mapping"},
        {"radio:\n  - driver: virtual\n", "1:1: radio: unknown key"},
        {"transports: []\n", "radios: at least one radio is required"},
        {"radios:\n  - drvier: virtual\n", "2:5: radios[0].drvier: unknown key"},
        {"radios:\n  - name: x\n", "2:5: radios[0]: missing `driver:`"},
        {"radios:\n  - driver: [a]\n", "2:13: radios[0].driver: expected a string"},
        {"radios:\n  - driver: ../evil\n",
         "2:13: radios[0].driver: '../evil' is not a plugin name"},
        {"radios: virtual\n", "1:9: radios: expected a list"},
        {"gateway:\n  eui: 12zz\nradios:\n  - driver: virtual\n",
         "2:8: gateway.eui: expected `auto` or 16 hex digits"},
        {"gateway:\n  log: {level: loud}\nradios:\n  - driver: virtual\n",
         "2:16: gateway.log.level: expected trace"},
        {"radios:\n  - driver: virtual\nscheduler:\n  guard_us: -4\n",
         "4:13: scheduler.guard_us: expected a number"},
        {"radios:\n  - driver: virtual\nscheduler:\n  queue_size: 0\n",
         "4:15: scheduler.queue_size: must be between 1 and 1024"},
        {"radios:\n  - driver: virtual\n  - driver: virtual\n    name: radio0\n",
         "radios[1].name: instance name 'radio0' is used twice"},
        {"radios:\n  - driver: virtual\n    options: [1, 2]\n",
         "3:14: radios[0].options: expected a mapping"},
        {"radios:\n  - driver: virtual\n    process: fork\n",
         "3:14: radios[0].process: expected auto, worker or inline, got 'fork'"},
        {"radios:\n  - driver: virtual\ntransports:\n  - plugin: capture\n    process: worker\n",
         "5:5: transports[0].process: unknown key"},
    };
    for (const auto& c : cases) {
        const std::string err = error_of(c.yaml);
        EXPECT_EQ(err.rfind(path_ + ":", 0), 0u) << err;
        EXPECT_NE(err.find(c.expected), std::string::npos)
            << "yaml:\n"
            << c.yaml << "error: " << err << "\nexpected: " << c.expected;
    }
}

TEST_F(ConfigTest, MissingFileIsNamed)
{
    try {
        load_config("/nonexistent/forwarder.yaml");
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_STREQ(e.what(), "/nonexistent/forwarder.yaml: cannot read the file");
    }
}

TEST_F(ConfigTest, PluginOptionsCheckedAgainstDeclaredTable)
{
    EXPECT_NE(error_of("radios:\n  - driver: virtual\n    options:\n      uplink_upd: x\n", true)
                  .find("4:7: radios[0].options.uplink_upd: unknown option (this plugin takes:"),
              std::string::npos);
    EXPECT_NE(
        error_of("radios:\n  - driver: virtual\n    options:\n      lead_time_us: soon\n", true)
            .find("4:21: radios[0].options.lead_time_us: expected an integer"),
        std::string::npos);
    // The plugin's own check points at the option it names.
    const auto err = error_of(
        "radios:\n  - driver: virtual\n    options:\n      uplink_udp: \"nonsense\"\n", true);
    EXPECT_NE(err.find(":4:19: radios[0].options.uplink_udp: "), std::string::npos) << err;
    EXPECT_NE(error_of("radios:\n  - driver: capture\n", true).find("is a transport plugin"),
              std::string::npos);
    EXPECT_NE(error_of("radios:\n  - driver: virtual\ntransports:\n  - plugin: nope\n", true)
                  .find("4:5: transports[0]: "),
              std::string::npos);
}

TEST(Eui, ParseAndFormat)
{
    uint64_t eui = 0;
    EXPECT_TRUE(parse_eui("0016c001ff10a235", eui));
    EXPECT_EQ(format_eui(eui), "0016c001ff10a235");
    EXPECT_TRUE(parse_eui("00:16:C0:01:FF:10:A2:35", eui));
    EXPECT_EQ(eui, 0x0016c001ff10a235ull);
    EXPECT_FALSE(parse_eui("0016c001ff10a2", eui));
    EXPECT_FALSE(parse_eui("0016c001ff10a2zz", eui));
}

TEST_F(ConfigTest, TransmitRulesAndTime)
{
    Config c = load_config(write(std::string(kMinimal) +
                                 "scheduler:\n  region: eu863\n  duty_cycle: off\n"
                                 "  duty_cycle_window_s: 600\n  dwell_time: on\n  lbt: on\n"
                                 "  class_c_retries: 3\n  antenna_diversity: false\n"
                                 "  beacon: {enabled: true, radio: 0, latitude: -33.9, "
                                 "longitude: 151.2, power_dbm: 20}\n"
                                 "time:\n  gps: {source: gpsd, host: 127.0.0.1, port: 2947}\n"
                                 "  round_trip: fuzzy\n"));
    EXPECT_EQ(c.scheduler.region, "eu863");
    EXPECT_FALSE(c.scheduler.duty_cycle);
    EXPECT_EQ(c.scheduler.duty_cycle_window_us, 600'000'000u);
    EXPECT_EQ(c.scheduler.dwell_time, true);
    EXPECT_EQ(c.scheduler.lbt, LbtMode::on);
    EXPECT_EQ(c.scheduler.class_c_retries, 3u);
    EXPECT_FALSE(c.scheduler.antenna_diversity);
    EXPECT_EQ(c.scheduler.beacon.mode, BeaconConfig::Mode::on);
    EXPECT_DOUBLE_EQ(*c.scheduler.beacon.latitude, -33.9);
    ASSERT_TRUE(c.time.gps.has_value());
    EXPECT_EQ(c.time.gps->kind, "gpsd");
    EXPECT_TRUE(c.time.fuzzy_round_trip);

    const std::string m = kMinimal;
    Config none = load_config(write(m + "time:\n  gps: {source: none}\n  round_trip: fuzzy\n"));
    EXPECT_FALSE(none.time.gps.has_value());
    EXPECT_TRUE(none.time.fuzzy_round_trip);
    const auto unknown = error_of(m + "scheduler:\n  region: MARS433\n");
    EXPECT_NE(unknown.find(":4:11: scheduler.region: unknown region 'MARS433'; known: EU868"),
              std::string::npos)
        << unknown;
    EXPECT_NE(error_of(m + "scheduler:\n  lbt: maybe\n").find("scheduler.lbt: expected auto, on"),
              std::string::npos);
    EXPECT_NE(error_of(m + "scheduler:\n  beacon: {latitude: 10}\n")
                  .find("scheduler.beacon: latitude and longitude go together"),
              std::string::npos);
    EXPECT_NE(error_of(m + "time:\n  gps: {source: nmea}\n")
                  .find("time.gps.device: an nmea source needs the serial device"),
              std::string::npos);
    EXPECT_NE(error_of(m + "time:\n  gps: {source: glonass}\n")
                  .find(":4:17: time.gps.source: expected gpsd, nmea, system or none"),
              std::string::npos);
}
