// Per-transport uplink filters: the matching rules, the text parsers, the config section and
// the bus gate that applies them before an uplink enters a transport's queue.
#include "bus.hpp"
#include "config.hpp"
#include "uplink_filter.hpp"

#include <forwarder/plugin.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace forwarder::core;
namespace v1 = forwarder::v1;

namespace {

void put_le(std::string& out, uint64_t value, int bytes)
{
    for (int i = 0; i < bytes; ++i) {
        out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
    }
}

std::string data_up(uint32_t dev_addr)
{
    std::string f(1, '\x40'); // unconfirmed data up
    put_le(f, dev_addr, 4);
    f += '\x00';     // FCtrl
    put_le(f, 7, 2); // FCnt
    f += '\x01';     // FPort
    f += "abc";      // FRMPayload
    put_le(f, 0x11223344, 4);
    return f;
}

std::string join_request(uint64_t join_eui)
{
    std::string f(1, '\x00');
    put_le(f, join_eui, 8);
    put_le(f, 0x0102030405060708ull, 8);
    put_le(f, 0x1234, 2);
    put_le(f, 0x55667788, 4);
    return f;
}

v1::Uplink uplink(std::string payload, v1::CrcStatus crc = v1::CRC_OK, uint64_t freq = 868100000,
                  uint32_t sf = 7)
{
    v1::Uplink u;
    u.set_payload(std::move(payload));
    u.set_crc(crc);
    u.set_frequency_hz(freq);
    u.mutable_modulation()->mutable_lora()->set_spreading_factor(sf);
    u.mutable_modulation()->mutable_lora()->set_bandwidth_hz(125000);
    return u;
}

const char* refuse(const UplinkFilter& f, const v1::Uplink& u)
{
    return f.refuse(u);
}

} // namespace

TEST(UplinkFilter, DefaultPassesCrcValidFramesOnly)
{
    UplinkFilter f;
    EXPECT_EQ(refuse(f, uplink("x")), nullptr);
    EXPECT_STREQ(refuse(f, uplink("x", v1::CRC_BAD)), "crc");
    EXPECT_STREQ(refuse(f, uplink("x", v1::CRC_NONE)), "crc");
    EXPECT_FALSE(f.passes_everything());
    EXPECT_TRUE(UplinkFilter::everything().passes_everything());
    EXPECT_EQ(refuse(UplinkFilter::everything(), uplink("x", v1::CRC_BAD)), nullptr);
}

TEST(UplinkFilter, LorawanOnlyDropsOtherLoraTraffic)
{
    UplinkFilter f;
    f.lorawan_only = true;
    EXPECT_EQ(refuse(f, uplink(data_up(0x26011234))), nullptr);
    EXPECT_EQ(refuse(f, uplink(join_request(0x70B3D57ED0000001ull))), nullptr);
    EXPECT_STREQ(refuse(f, uplink(std::string("\x40\x01\x02", 3))), "lorawan"); // too short
    EXPECT_STREQ(refuse(f, uplink(std::string(20, '\x41'))), "lorawan");        // RFU bits
    EXPECT_STREQ(refuse(f, uplink("")), "lorawan");
}

TEST(UplinkFilter, NetIdAndDevAddrPrefixesSelectDataFrames)
{
    UplinkFilter f;
    f.net_ids = {0x000013}; // TTN: DevAddr 26000000/7
    EXPECT_EQ(refuse(f, uplink(data_up(0x26ABCDEF))), nullptr);
    EXPECT_EQ(refuse(f, uplink(data_up(0x27ABCDEF))), nullptr);
    EXPECT_STREQ(refuse(f, uplink(data_up(0x28000001))), "net_id");
    // Join requests carry no DevAddr: the NetID filter does not touch them.
    EXPECT_EQ(refuse(f, uplink(join_request(1))), nullptr);
    // A prefix widens the accepted set (either list may match).
    DevAddrPrefix p;
    ASSERT_TRUE(parse_dev_addr_prefix("28000000/8", p));
    f.dev_addr_prefixes = {p};
    EXPECT_EQ(refuse(f, uplink(data_up(0x28000001))), nullptr);
    EXPECT_STREQ(refuse(f, uplink(data_up(0x29000001))), "net_id");
    // Non-LoRaWAN frames pass address filters unless lorawan_only is set.
    EXPECT_EQ(refuse(f, uplink("zz")), nullptr);
}

TEST(UplinkFilter, JoinEuiRangesSelectJoinRequests)
{
    UplinkFilter f;
    EuiRange r;
    ASSERT_TRUE(parse_eui_range("70B3D57ED0000000-70B3D57ED0FFFFFF", r));
    f.join_euis = {r};
    EXPECT_EQ(refuse(f, uplink(join_request(0x70B3D57ED0000000ull))), nullptr);
    EXPECT_EQ(refuse(f, uplink(join_request(0x70B3D57ED0FFFFFFull))), nullptr);
    EXPECT_STREQ(refuse(f, uplink(join_request(0x70B3D57ED1000000ull))), "join_eui");
    EXPECT_EQ(refuse(f, uplink(data_up(0x01020304))), nullptr); // data frames unaffected
}

TEST(UplinkFilter, FrequenciesAndDataRates)
{
    UplinkFilter f;
    f.frequencies_hz = {868100000, 868300000};
    std::string dr;
    ASSERT_TRUE(parse_data_rate("SF7BW125", dr));
    f.data_rates = {dr};
    ASSERT_TRUE(parse_data_rate("50000", dr));
    f.data_rates.push_back(dr);
    EXPECT_EQ(refuse(f, uplink("x", v1::CRC_OK, 868100400)), nullptr); // within 500 Hz
    EXPECT_STREQ(refuse(f, uplink("x", v1::CRC_OK, 868500000)), "frequency");
    EXPECT_STREQ(refuse(f, uplink("x", v1::CRC_OK, 868300000, 12)), "data_rate");
    auto fsk = uplink("x", v1::CRC_OK, 868300000);
    fsk.mutable_modulation()->mutable_fsk()->set_bitrate(50000);
    EXPECT_EQ(refuse(f, fsk), nullptr);
}

TEST(UplinkFilter, Parsers)
{
    DevAddrPrefix p;
    EXPECT_TRUE(parse_dev_addr_prefix("26000000/7", p));
    EXPECT_EQ(p.prefix, 0x26000000u);
    EXPECT_EQ(p.bits, 7u);
    EXPECT_TRUE(p.matches(0x27FFFFFF));
    EXPECT_FALSE(p.matches(0x28000000));
    EXPECT_TRUE(parse_dev_addr_prefix("260B1234", p));
    EXPECT_EQ(p.bits, 32u);
    EXPECT_TRUE(parse_dev_addr_prefix("00000000/0", p));
    EXPECT_TRUE(p.matches(0xFFFFFFFF));
    EXPECT_FALSE(parse_dev_addr_prefix("2600000/7", p));
    EXPECT_FALSE(parse_dev_addr_prefix("26000000/33", p));
    EXPECT_FALSE(parse_dev_addr_prefix("26000000/x", p));

    uint32_t id = 0;
    EXPECT_TRUE(parse_net_id("000013", id));
    EXPECT_EQ(id, 0x13u);
    EXPECT_TRUE(parse_net_id("0x600001", id));
    EXPECT_EQ(id, 0x600001u);
    EXPECT_TRUE(parse_net_id("19", id));
    EXPECT_EQ(id, 19u);
    EXPECT_TRUE(parse_net_id("16777215", id));
    EXPECT_EQ(id, 0xFFFFFFu);
    EXPECT_FALSE(parse_net_id("16777216", id));
    EXPECT_FALSE(parse_net_id("00001G", id));

    EuiRange r;
    EXPECT_TRUE(parse_eui_range("70-B3-D5-7E-D0-00-00-00", r));
    EXPECT_EQ(r.first, r.last);
    EXPECT_EQ(r.first, 0x70B3D57ED0000000ull);
    EXPECT_TRUE(parse_eui_range("70-B3-D5-7E-D0-00-00-00 - 70-B3-D5-7E-D0-00-00-FF", r));
    EXPECT_EQ(r.last, 0x70B3D57ED00000FFull);
    EXPECT_FALSE(parse_eui_range("70B3D57ED0FFFFFF-70B3D57ED0000000", r)); // reversed
    EXPECT_FALSE(parse_eui_range("70B3D57ED00000", r));

    std::string dr;
    EXPECT_TRUE(parse_data_rate("SF12BW500", dr));
    EXPECT_EQ(dr, "SF12BW500");
    EXPECT_FALSE(parse_data_rate("SF13BW125", dr));
    EXPECT_FALSE(parse_data_rate("0", dr));
}

TEST(UplinkFilter, BusGateFiltersPerSubscriptionAndCounts)
{
    EventBus bus;
    auto all = bus.subscribe("capture", FWD_TOPIC_BIT(FWD_TOPIC_UPLINK), 16);
    auto ttn = bus.subscribe("ttn", FWD_TOPIC_BIT(FWD_TOPIC_UPLINK), 16);
    std::atomic<int64_t> accepted{0}, filtered{0}, by_net{0};
    auto gate = std::make_shared<UplinkGate>();
    gate->filter.net_ids = {0x13};
    gate->accepted = &accepted;
    gate->filtered = &filtered;
    gate->by_reason.emplace_back("net_id", &by_net);
    ttn->set_uplink_gate(gate);

    EXPECT_EQ(bus.publish(FWD_TOPIC_UPLINK, uplink(data_up(0x26000001)).SerializeAsString()), 2u);
    EXPECT_EQ(bus.publish(FWD_TOPIC_UPLINK, uplink(data_up(0x48000001)).SerializeAsString()), 1u);
    EXPECT_EQ(bus.publish(FWD_TOPIC_UPLINK, uplink("x", v1::CRC_BAD).SerializeAsString()), 1u);
    // Other topics are not filtered.
    EXPECT_EQ(all->depth(), 3u);
    EXPECT_EQ(ttn->depth(), 1u);
    EXPECT_EQ(accepted.load(), 1);
    EXPECT_EQ(filtered.load(), 2);
    EXPECT_EQ(by_net.load(), 1);
}

TEST(UplinkFilter, ConfigSectionAndErrors)
{
    const auto path = (std::filesystem::temp_directory_path() /
                       ("fwd-filter-" + std::to_string(getpid()) + ".yaml"))
                          .string();
    auto load = [&](const std::string& filter) {
        std::ofstream(path) << "radios:\n  - driver: virtual\ntransports:\n  - plugin: capture\n"
                               "    priority: 7\n    filter:\n"
                            << filter;
        return load_config(path);
    };
    const auto cfg = load("      crc: [ok, bad]\n      lorawan_only: true\n"
                          "      net_ids: [\"000013\"]\n      dev_addr_prefixes: 26000000/7\n"
                          "      join_euis: [\"70B3D57ED0000000-70B3D57ED0FFFFFF\"]\n"
                          "      frequencies: [868.1, 868.3]\n      data_rates: [SF7BW125]\n");
    const auto& f = cfg.transports.at(0).filter;
    EXPECT_TRUE(f.crc_ok);
    EXPECT_TRUE(f.crc_bad);
    EXPECT_FALSE(f.crc_none);
    EXPECT_TRUE(f.lorawan_only);
    EXPECT_EQ(f.net_ids, std::vector<uint32_t>{0x13});
    ASSERT_EQ(f.dev_addr_prefixes.size(), 1u);
    ASSERT_EQ(f.join_euis.size(), 1u);
    EXPECT_EQ(f.frequencies_hz, (std::vector<uint64_t>{868100000, 868300000}));
    EXPECT_EQ(f.data_rates, std::vector<std::string>{"SF7BW125"});
    EXPECT_EQ(cfg.transports.at(0).priority, 7u);

    auto error = [&](const std::string& filter) {
        try {
            load(filter);
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    EXPECT_NE(error("      net_ids: [\"00001G\"]\n")
                  .find(":7:17: transports[0].filter.net_ids[0]: "
                        "expected a NetID"),
              std::string::npos)
        << error("      net_ids: [\"00001G\"]\n");
    EXPECT_NE(error("      crc: [good]\n")
                  .find("transports[0].filter.crc[0]: expected ok, bad, "
                        "none or any"),
              std::string::npos);
    EXPECT_NE(error("      colour: red\n").find("transports[0].filter.colour: unknown key"),
              std::string::npos);
    EXPECT_NE(error("      frequencies: [868.1MHz]\n")
                  .find("transports[0].filter.frequencies[0]: expected a frequency in MHz"),
              std::string::npos);
    EXPECT_NE(error("      crc: []\n").find("no uplink would pass"), std::string::npos);
    std::filesystem::remove(path);
}
