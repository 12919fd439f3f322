// The SX1302 driver against the fake libloragw (hal-drivers/fake-loragw): options, the
// channel plan → HAL configuration, receptions → Uplink, TxRequest → lgw_send, LBT refusal,
// lgw_start failures retried with backoff, the counter across its wrap, PPS.
#include "lgw_radio.hpp"

// The fake's header may be read as C++ here (the real HAL's may not: the driver reaches it
// only through its C glue).
#define FAKE_LGW_ALLOW_CXX 1
extern "C" {
#include <fake_loragw.h>
#include <loragw_hal.h>
}

#include <gtest/gtest.h>

#include "driver_test_support.hpp"

#include <time.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace fs = forwarder::lgw;
namespace v1 = forwarder::v1;
using namespace std::chrono_literals;

using namespace forwarder::lgw::testing;

namespace {

const char* kGains = "tx_gain_lut:\n"
                     "  - {rf_power: 12, pa_gain: 0, pwr_idx: 15}\n"
                     "  - {rf_power: 14, pa_gain: 0, pwr_idx: 17}\n"
                     "  - {rf_power: 16, pa_gain: 1, pwr_idx: 1}\n"
                     "  - {rf_power: 27, pa_gain: 1, pwr_idx: 14}\n";

} // namespace

TEST(Sx1302Options, DefaultsAndErrorsNameTheOption)
{
    auto o = fs::parse_options("{}");
    EXPECT_FALSE(o.usb);
    EXPECT_EQ(o.com_path, "/dev/spidev0.0");
    EXPECT_EQ(o.lead_time_us, 40'000u);
    EXPECT_TRUE(o.radios[0].tx_enable);
    o = fs::parse_options("com_type: usb\n");
    EXPECT_TRUE(o.usb);
    EXPECT_EQ(o.com_path, "/dev/ttyACM0");
    auto error = [](const std::string& yaml) {
        try {
            fs::parse_options(yaml);
        } catch (const forwarder::sdk::Error& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    EXPECT_EQ(error("com_type: i2c\n").rfind("com_type: expected spi or usb", 0), 0u);
    EXPECT_EQ(error("clksrc: 2\n").rfind("clksrc: expected an integer 0..1", 0), 0u);
    EXPECT_EQ(error("radios: [{type: SX9999}]\n").rfind("radios[0].type: expected SX1250", 0), 0u);
    EXPECT_EQ(error("tx_gain_lut: [{rf_power: 14, pwr_idx: 40}]\n")
                  .rfind("tx_gain_lut[0].pwr_idx: expected an integer 0..22", 0),
              0u);
    EXPECT_EQ(error("frobnicate: 1\n").rfind("frobnicate: unknown option", 0), 0u);
}

TEST(Sx1302Plan, ChannelPlanBecomesCentresAndIfOffsets)
{
    const auto o = fs::parse_options(kGains);
    for (bool given : {true, false}) {
        const auto c = fs::hal_config(o, eu868_plan(given));
        SCOPED_TRACE(given ? "centres from the plan" : "centres derived");
        EXPECT_TRUE(c.radios[0].enable);
        EXPECT_TRUE(c.radios[1].enable);
        EXPECT_TRUE(c.radios[0].tx_enable);
        EXPECT_EQ(c.gain_count[0], 4);
        for (int i = 0; i < 8; ++i) {
            const auto& ch = c.multi_sf[i];
            EXPECT_TRUE(ch.enable);
            const uint32_t center = c.radios[ch.rf_chain].center_hz;
            EXPECT_LE(std::abs(ch.if_hz) + 62'500, 800'000) << i;
            EXPECT_EQ(center + ch.if_hz, eu868_plan(true).multi_sf_channels(i).frequency_hz());
        }
        EXPECT_EQ(c.lora_std.datarate, 7u);
        EXPECT_EQ(c.lora_std.bandwidth_hz, 250'000u);
        EXPECT_EQ(c.fsk.datarate, 50'000u);
        EXPECT_EQ(c.radios[c.fsk.rf_chain].center_hz + c.fsk.if_hz, 868'800'000u);
    }
    const auto given = fs::hal_config(o, eu868_plan(true));
    EXPECT_EQ(given.radios[0].center_hz, 867'500'000u);
    EXPECT_EQ(given.multi_sf[0].if_hz, -400'000); // 868.1 MHz on radio 1 at 868.5
    // A channel out of reach is refused with its frequency.
    auto bad = eu868_plan(true);
    bad.mutable_multi_sf_channels(0)->set_frequency_hz(869'525'000);
    try {
        fs::hal_config(o, bad);
        FAIL() << "accepted";
    } catch (const forwarder::sdk::Error& e) {
        EXPECT_NE(std::string(e.what()).find("869525000 Hz is 1025000 Hz from radio 1"),
                  std::string::npos)
            << e.what();
    }
}

TEST(Sx1302Plan, GainForPicksTheHighestAtOrBelow)
{
    const auto o = fs::parse_options(kGains);
    EXPECT_EQ(fs::gain_for(o.gains[0], 14)->rf_power, 14);
    EXPECT_EQ(fs::gain_for(o.gains[0], 15.5f)->rf_power, 14);
    EXPECT_EQ(fs::gain_for(o.gains[0], 30)->rf_power, 27);
    EXPECT_EQ(fs::gain_for(o.gains[0], 2)->rf_power, 12);
    EXPECT_EQ(fs::gain_for({}, 14), nullptr);
}

// --- The plugin against the fake HAL ---------------------------------------------------------

namespace {

class Sx1302Driver : public ::testing::Test {
protected:
    Sx1302Driver() { fake_lgw_reset(); }
    ~Sx1302Driver() override
    {
        radio_.reset();
        fake_lgw_reset();
    }

    fs::LgwRadio& make(const std::string& options = kGains)
    {
        fwd_create_info_v1 info{sizeof(fwd_create_info_v1), "radio0", 0, 0, "test.yaml"};
        radio_ = std::make_unique<fs::LgwRadio>(host_.host(), info, options);
        return *radio_;
    }

    void plan(fs::LgwRadio& r, bool with_rf_chains = true)
    {
        const auto p = eu868_plan(with_rf_chains);
        const std::string bytes = p.SerializeAsString();
        r.deliver(FWD_TOPIC_RADIO_CONFIG, bytes);
    }

    bool wait_started(fs::LgwRadio& r, std::chrono::milliseconds timeout = 3s)
    {
        const auto until = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < until) {
            if (r.running()) {
                return true;
            }
            std::this_thread::sleep_for(5ms);
        }
        return false;
    }

    FakeHost host_;
    std::unique_ptr<fs::LgwRadio> radio_;
};

} // namespace

TEST_F(Sx1302Driver, StartsOnTheFirstChannelPlanWithTheRightHalConfiguration)
{
    auto& r = make(std::string("com_type: usb\n") + kGains);
    r.start();
    std::this_thread::sleep_for(50ms);
    EXPECT_FALSE(r.running()); // nothing to receive on yet
    plan(r);
    ASSERT_TRUE(wait_started(r));
    EXPECT_TRUE(fake_lgw_is_started());
    lgw_conf_board_s board{};
    ASSERT_EQ(fake_lgw_get_board_conf(&board), 0);
    EXPECT_EQ(board.com_type, LGW_COM_USB);
    EXPECT_STREQ(board.com_path, "/dev/ttyACM0");
    EXPECT_TRUE(board.lorawan_public);
    lgw_conf_rxrf_s rf0{}, rf1{};
    ASSERT_EQ(fake_lgw_get_rxrf_conf(0, &rf0), 0);
    ASSERT_EQ(fake_lgw_get_rxrf_conf(1, &rf1), 0);
    EXPECT_EQ(rf0.freq_hz, 867'500'000u);
    EXPECT_EQ(rf1.freq_hz, 868'500'000u);
    EXPECT_TRUE(rf0.tx_enable);
    EXPECT_EQ(rf0.type, LGW_RADIO_TYPE_SX1250);
    EXPECT_FLOAT_EQ(rf0.rssi_offset, -215.4f);
    lgw_conf_rxif_s if0{}, if8{}, if9{};
    ASSERT_EQ(fake_lgw_get_rxif_conf(0, &if0), 0);
    EXPECT_TRUE(if0.enable);
    EXPECT_EQ(if0.rf_chain, 1);
    EXPECT_EQ(if0.freq_hz, -400'000);
    ASSERT_EQ(fake_lgw_get_rxif_conf(8, &if8), 0);
    EXPECT_EQ(if8.bandwidth, BW_250KHZ);
    EXPECT_EQ(if8.datarate, 7u);
    ASSERT_EQ(fake_lgw_get_rxif_conf(9, &if9), 0);
    EXPECT_EQ(if9.datarate, 50'000u);
    lgw_tx_gain_lut_s lut{};
    ASSERT_EQ(fake_lgw_get_txgain_conf(0, &lut), 0);
    EXPECT_EQ(lut.size, 4);
    EXPECT_EQ(lut.lut[3].rf_power, 27);
    EXPECT_EQ(lut.lut[3].pwr_idx, 14);
    EXPECT_TRUE(host_.logged("concentrator started (chip EUI 0016c001ff10a235"));
    r.stop();
    EXPECT_FALSE(fake_lgw_is_started());
}

TEST_F(Sx1302Driver, ReceptionsBecomeUplinksWithEveryField)
{
    auto& r = make();
    r.start();
    plan(r);
    ASSERT_TRUE(wait_started(r));
    lgw_pkt_rx_s p{};
    p.freq_hz = 868'100'000;
    p.freq_offset = -1234;
    p.if_chain = 0;
    p.status = STAT_CRC_OK;
    p.count_us = 123'456'789;
    p.rf_chain = 1;
    p.modem_id = 5;
    p.modulation = MOD_LORA;
    p.bandwidth = BW_125KHZ;
    p.datarate = 9;
    p.coderate = CR_LORA_4_5;
    p.rssic = -101.5f;
    p.rssis = -103.0f;
    p.snr = 7.25f;
    p.size = 3;
    p.payload[0] = 0x40;
    p.payload[1] = 0x01;
    p.payload[2] = 0x02;
    p.ftime_received = true;
    p.ftime = 987'654'321;
    ASSERT_EQ(fake_lgw_push_rx(&p), 0);
    p.status = STAT_CRC_BAD;
    p.modulation = MOD_FSK;
    p.datarate = 50'000;
    p.ftime_received = false;
    ASSERT_EQ(fake_lgw_push_rx(&p), 0);
    ASSERT_TRUE(host_.wait_for([&] { return host_.published.size() >= 2; }));
    std::lock_guard lock(host_.mutex);
    v1::Uplink up;
    ASSERT_EQ(host_.published[0].first, static_cast<uint32_t>(FWD_TOPIC_UPLINK));
    ASSERT_TRUE(up.ParseFromString(host_.published[0].second));
    EXPECT_EQ(up.payload(), std::string("\x40\x01\x02", 3));
    EXPECT_EQ(up.count_us(), 123'456'789u);
    EXPECT_EQ(up.frequency_hz(), 868'100'000u);
    EXPECT_EQ(up.modulation().lora().spreading_factor(), 9u);
    EXPECT_EQ(up.modulation().lora().bandwidth_hz(), 125'000u);
    EXPECT_EQ(up.modulation().lora().coding_rate(), v1::CR_4_5);
    EXPECT_FLOAT_EQ(up.rssi_channel_dbm(), -101.5f);
    EXPECT_FLOAT_EQ(up.rssi_signal_dbm(), -103.0f);
    EXPECT_FLOAT_EQ(up.snr_db(), 7.25f);
    EXPECT_EQ(up.crc(), v1::CRC_OK);
    EXPECT_EQ(up.rf_chain(), 1u);
    EXPECT_EQ(up.modem_id(), 5u);
    EXPECT_EQ(up.frequency_offset_hz(), -1234);
    ASSERT_TRUE(up.has_fine_timestamp_ns());
    EXPECT_EQ(up.fine_timestamp_ns(), 987'654'321u);
    EXPECT_GT(up.received_mono_us(), 0u);
    v1::Uplink fsk;
    ASSERT_TRUE(fsk.ParseFromString(host_.published[1].second));
    EXPECT_EQ(fsk.modulation().fsk().bitrate(), 50'000u);
    EXPECT_EQ(fsk.crc(), v1::CRC_BAD);
    EXPECT_FALSE(fsk.has_fine_timestamp_ns());
}

TEST_F(Sx1302Driver, TxRequestsBecomeTimestampedSendsAndLbtRefusalsAreChannelBusy)
{
    auto& r = make();
    r.start();
    plan(r);
    ASSERT_TRUE(wait_started(r));
    v1::TxRequest req;
    req.set_payload("hello");
    req.set_frequency_hz(869'525'000);
    auto* lora = req.mutable_modulation()->mutable_lora();
    lora->set_spreading_factor(12);
    lora->set_bandwidth_hz(125'000);
    lora->set_coding_rate(v1::CR_4_5);
    req.set_power_dbm(20); // no such entry: the highest below, 16 dBm
    req.set_invert_iq(true);
    const uint32_t at = r.counter_now() + 1'000'000;
    r.transmit(req.SerializeAsString(), at);
    ASSERT_EQ(fake_lgw_tx_count(), 1u);
    lgw_pkt_tx_s tx{};
    ASSERT_EQ(fake_lgw_tx_get(0, &tx), 0);
    EXPECT_EQ(tx.tx_mode, TIMESTAMPED);
    EXPECT_EQ(tx.count_us, at);
    EXPECT_EQ(tx.freq_hz, 869'525'000u);
    EXPECT_EQ(tx.rf_power, 16);
    EXPECT_EQ(tx.modulation, MOD_LORA);
    EXPECT_EQ(tx.bandwidth, BW_125KHZ);
    EXPECT_EQ(tx.datarate, 12u);
    EXPECT_TRUE(tx.invert_pol);
    EXPECT_TRUE(tx.no_crc);
    EXPECT_EQ(tx.preamble, 8);
    EXPECT_EQ(tx.size, 5);
    EXPECT_EQ(host_.stat("tx_power_lowered"), 1);
    // The HAL's listen before talk refuses: the scheduler sees FWD_BUSY.
    fake_lgw_lbt_busy(868'100'000, 1);
    req.set_frequency_hz(868'100'000);
    EXPECT_THROW(r.transmit(req.SerializeAsString(), at + 3'000'000), forwarder::sdk::ChannelBusy);
    // Any other refusal is an error with the reason.
    fake_lgw_lbt_busy(868'100'000, 0);
    fake_lgw_fail("lgw_send", 1);
    EXPECT_THROW(r.transmit(req.SerializeAsString(), at + 6'000'000), forwarder::sdk::Error);
}

TEST_F(Sx1302Driver, EmissionIsCheckedAfterTheTxTime)
{
    auto& r = make();
    r.start();
    plan(r);
    ASSERT_TRUE(wait_started(r));
    v1::TxRequest req;
    req.set_payload("hello");
    req.set_frequency_hz(869'525'000);
    auto* lora = req.mutable_modulation()->mutable_lora();
    lora->set_spreading_factor(9);
    lora->set_bandwidth_hz(125'000);
    req.set_power_dbm(14);
    // On time: emitting 5 ms after its TX time.
    r.transmit(req.SerializeAsString(), r.counter_now() + 30'000);
    ASSERT_TRUE(host_.wait_for([&] { return host_.stats["tx_emitted"] == 1; }));
    // While it is on air (SF9: 185 ms) the chain takes no other frame.
    EXPECT_THROW(r.transmit(req.SerializeAsString(), r.counter_now() + 500'000),
                 forwarder::sdk::Error);
    std::this_thread::sleep_for(250ms);
    // Its trigger already passed: it never starts, and that is reported.
    r.transmit(req.SerializeAsString(), r.counter_now() - 1'000);
    ASSERT_TRUE(host_.wait_for([&] { return host_.stats["tx_missed"] == 1; }));
    // (The warning follows the counter: wait for it too.)
    EXPECT_TRUE(host_.wait_for([&] { return host_.logged("did not start"); }));
}

TEST_F(Sx1302Driver, BeaconsGoOutOnThePpsEdgeWhenThereIsOne)
{
    auto& r = make();
    r.start();
    plan(r);
    ASSERT_TRUE(wait_started(r));
    v1::TxRequest beacon;
    beacon.set_payload(std::string(17, '\0'));
    beacon.set_frequency_hz(869'525'000);
    auto* lora = beacon.mutable_modulation()->mutable_lora();
    lora->set_spreading_factor(9);
    lora->set_bandwidth_hz(125'000);
    beacon.set_implicit_header(true);
    beacon.set_preamble(10);
    beacon.mutable_timing()->set_gps_time_us(3'422'683'136ull * 1'000'000 + 1'500);
    // Without PPS: timestamped at the counter value the scheduler resolved.
    r.transmit(beacon.SerializeAsString(), r.counter_now() + 100'000);
    lgw_pkt_tx_s tx{};
    ASSERT_EQ(fake_lgw_tx_get(0, &tx), 0);
    EXPECT_EQ(tx.tx_mode, TIMESTAMPED);
    EXPECT_TRUE(tx.no_header);
    EXPECT_EQ(tx.preamble, 10);
    std::this_thread::sleep_for(400ms); // let it finish (SF9, 17 B)
    fake_lgw_set_pps(1);
    r.transmit(beacon.SerializeAsString(), r.counter_now() + 100'000);
    ASSERT_EQ(fake_lgw_tx_get(1, &tx), 0);
    EXPECT_EQ(tx.tx_mode, ON_GPS);
}

TEST_F(Sx1302Driver, AFailedStartIsRetriedWithBackoff)
{
    fake_lgw_fail("lgw_start", 2);
    auto& r = make(std::string("start_retry_initial_ms: 20\nstart_retry_max_ms: 40\n") + kGains);
    r.start();
    plan(r);
    ASSERT_TRUE(wait_started(r));
    EXPECT_EQ(fake_lgw_call_count("lgw_start"), 3);
    EXPECT_EQ(host_.stat("start_failures"), 2);
    EXPECT_TRUE(host_.logged("concentrator start failed: lgw_start failed"));
    EXPECT_TRUE(host_.logged("retrying the concentrator start in 20 ms"));
    // A new channel plan restarts the concentrator with it.
    auto p = eu868_plan(true);
    p.mutable_rf_chains(0)->set_center_frequency_hz(867'400'000);
    p.mutable_multi_sf_channels(3)->set_frequency_hz(867'000'000);
    r.deliver(FWD_TOPIC_RADIO_CONFIG, p.SerializeAsString());
    const auto until = std::chrono::steady_clock::now() + 3s;
    lgw_conf_rxrf_s rf0{};
    while (std::chrono::steady_clock::now() < until) {
        fake_lgw_get_rxrf_conf(0, &rf0);
        if (rf0.freq_hz == 867'400'000u && r.running()) {
            break;
        }
        std::this_thread::sleep_for(5ms);
    }
    EXPECT_EQ(rf0.freq_hz, 867'400'000u);
    // A plan that cannot work is refused before the running one is stopped.
    p.mutable_multi_sf_channels(0)->set_frequency_hz(870'000'000);
    r.deliver(FWD_TOPIC_RADIO_CONFIG, p.SerializeAsString());
    EXPECT_TRUE(host_.logged("channel plan refused"));
    EXPECT_TRUE(r.running());
}

TEST_F(Sx1302Driver, CounterAndPpsAcrossTheWrap)
{
    fake_lgw_set_counter_start(0xFFFFFFFFu - 200'000);
    fake_lgw_set_pps(1);
    auto& r = make();
    EXPECT_THROW(r.counter_now(), forwarder::sdk::Error); // not started yet
    r.start();
    plan(r);
    ASSERT_TRUE(wait_started(r));
    const uint32_t first = r.counter_now();
    std::this_thread::sleep_for(300ms);
    const uint32_t later = r.counter_now();
    EXPECT_LT(later, first); // wrapped
    EXPECT_GE(static_cast<int32_t>(later - first), 290'000);
    uint32_t edge = 0;
    uint64_t edge_mono = 0;
    ASSERT_TRUE(r.last_pps(edge, edge_mono));
    EXPECT_LE(static_cast<uint32_t>(r.counter_now() - edge), 1'100'000u);
    EXPECT_LE(mono_us() - edge_mono, 1'100'000u);
    fake_lgw_set_pps(0);
    EXPECT_FALSE(r.last_pps(edge, edge_mono));
}

TEST_F(Sx1302Driver, BoardProfilesFillTheHardwareOptions)
{
    const std::string dir = FORWARDER_BOARDS_DIR;
    auto o = fs::parse_options("board: rak2287-usb\nboards_dir: " + dir + "\n");
    EXPECT_TRUE(o.usb);
    EXPECT_EQ(o.com_path, "/dev/ttyACM0");
    EXPECT_EQ(o.board, "rak2287-usb");
    EXPECT_FALSE(o.gains[0].empty());
    o = fs::parse_options("board: rak2287\nboards_dir: " + dir +
                          "\nboard_overrides: {com_path: /dev/spidev1.0}\n");
    EXPECT_FALSE(o.usb);
    EXPECT_EQ(o.com_path, "/dev/spidev1.0");
    ASSERT_TRUE(o.reset.has_value());
    EXPECT_EQ(o.reset->line, 17u);
    try {
        fs::parse_options("board: ic880a\nboards_dir: " + dir + "\n");
        FAIL() << "an SX1301 board was accepted by the SX1302 driver";
    } catch (const forwarder::sdk::Error& e) {
        EXPECT_NE(std::string(e.what()).find("'ic880a' is a sx1301 board"), std::string::npos)
            << e.what();
    }
    try {
        fs::parse_options("board: rak9999\nboards_dir: " + dir + "\n");
        FAIL();
    } catch (const forwarder::sdk::Error& e) {
        EXPECT_EQ(std::string(e.what()).rfind("board: board 'rak9999': no such profile", 0), 0u)
            << e.what();
    }
    // The GPIO reset runs before each start; without the chip, the start fails clearly.
    auto& r = make("board: rak2287\nboards_dir: " + dir +
                   "\nboard_overrides: {reset: {chip: /dev/no-such-gpiochip}}\n"
                   "start_retry_initial_ms: 1000\n");
    r.start();
    plan(r);
    ASSERT_TRUE(host_.wait_for([&] { return host_.logged("concentrator reset failed"); }));
    EXPECT_TRUE(host_.logged("reset: cannot open /dev/no-such-gpiochip"));
    EXPECT_FALSE(r.running());
}
