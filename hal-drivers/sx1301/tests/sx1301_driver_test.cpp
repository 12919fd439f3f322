// The SX1301 driver against the fake lora_gateway v5.0.1 (hal-drivers/fake-loragw, sx1301
// flavour): options, the channel plan → HAL configuration within the SX1301's IF reach,
// receptions → Uplink (DR bitmasks and BW codes translated back), TxRequest → lgw_send with
// SX1301 codes, LBT refusal, lgw_start failures retried, the counter across its wrap read with
// LGW_GPS_EN toggled, PPS, board profiles.
#include "lgw_radio.hpp"

// The fake's header may be read as C++ here; the driver reaches the HAL only through its C glue.
extern "C" {
#include <fake_loragw.h>
#include <loragw_hal.h>
}

#include <gtest/gtest.h>

#include "driver_test_support.hpp"

#include <gtest/gtest.h>

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

// SX125x gains (one table for the board): dig/dac/mix/pa instead of the SX1250's pwr_idx.
const char* kGains = "tx_gain_lut:\n"
                     "  - {rf_power: 10, pa_gain: 1, mix_gain: 12, dig_gain: 0, dac_gain: 3}\n"
                     "  - {rf_power: 14, pa_gain: 2, mix_gain: 10, dig_gain: 0, dac_gain: 3}\n"
                     "  - {rf_power: 16, pa_gain: 2, mix_gain: 11, dig_gain: 1, dac_gain: 3}\n"
                     "  - {rf_power: 27, pa_gain: 3, mix_gain: 14, dig_gain: 0, dac_gain: 3}\n";

std::string error_of(const std::string& yaml)
{
    try {
        fs::parse_options(yaml);
    } catch (const forwarder::sdk::Error& e) {
        return std::string(e.what());
    }
    return std::string();
}

} // namespace

TEST(Sx1301Options, DefaultsAreSx1257RadiosAndSx1250IsRefused)
{
    auto o = fs::parse_options("{}");
    EXPECT_FALSE(o.usb);
    EXPECT_EQ(o.com_path, "/dev/spidev0.0");
    EXPECT_EQ(o.radios[0].type, FWD_RADIO_SX1257);
    EXPECT_EQ(o.radios[1].type, FWD_RADIO_SX1257);
    EXPECT_FLOAT_EQ(o.radios[0].rssi_offset, -166.0f);
    EXPECT_FLOAT_EQ(o.radios[0].tcomp[2], 0.0f);
    EXPECT_TRUE(o.radios[0].tx_enable);
    EXPECT_FALSE(o.radios[1].tx_enable);
    o = fs::parse_options("radios: [{type: SX1255, tx_enable: true, tx_notch_freq: 140000}, "
                          "{type: SX1255}]\n");
    EXPECT_EQ(o.radios[0].type, FWD_RADIO_SX1255);
    EXPECT_EQ(o.radios[0].tx_notch_freq, 140'000u);
    EXPECT_EQ(error_of("radios: [{type: SX1250}]\n")
                  .rfind("radios[0].type: SX1250 radios need the sx1302 driver", 0),
              0u);
    EXPECT_EQ(error_of("radios: [{type: SX1257, tx_notch_freq: 100000}]\n")
                  .rfind("radios[0].tx_notch_freq: expected an integer 126000..250000", 0),
              0u);
    EXPECT_EQ(error_of("tx_gain_lut: [{rf_power: 14, dig_gain: 4}]\n")
                  .rfind("tx_gain_lut[0].dig_gain: expected an integer 0..3", 0),
              0u);
}

TEST(Sx1301Plan, ChannelPlanFitsTheSx1301Reach)
{
    EXPECT_STREQ(fwd_lgw_chip_info()->name, "sx1301");
    EXPECT_EQ(fwd_lgw_chip_info()->if_span_hz, 462'500);
    EXPECT_EQ(fwd_lgw_chip_info()->max_rx, 16);
    EXPECT_EQ(fwd_lgw_chip_info()->has_eui, 0);
    EXPECT_EQ(fwd_lgw_chip_info()->fine_timestamp, 0);
    const auto o = fs::parse_options(kGains);
    for (bool given : {true, false}) {
        const auto c = fs::hal_config(o, eu868_plan(given));
        SCOPED_TRACE(given ? "centres from the plan" : "centres derived");
        EXPECT_TRUE(c.radios[0].enable);
        EXPECT_TRUE(c.radios[1].enable);
        EXPECT_EQ(c.radios[0].type, FWD_RADIO_SX1257);
        for (int i = 0; i < 8; ++i) {
            const auto& ch = c.multi_sf[i];
            EXPECT_TRUE(ch.enable);
            EXPECT_LE(std::abs(ch.if_hz) + 62'500, 462'500) << i;
            EXPECT_EQ(c.radios[ch.rf_chain].center_hz + ch.if_hz,
                      eu868_plan(true).multi_sf_channels(i).frequency_hz());
        }
        EXPECT_EQ(c.radios[c.fsk.rf_chain].center_hz + c.fsk.if_hz, 868'800'000u);
    }
    // 869.0 MHz is 500 kHz from radio 1 at 868.5: fine for the SX1302 (±800 kHz), not here.
    auto bad = eu868_plan(true);
    bad.mutable_multi_sf_channels(0)->set_frequency_hz(869'000'000);
    try {
        fs::hal_config(o, bad);
        FAIL() << "accepted";
    } catch (const forwarder::sdk::Error& e) {
        EXPECT_NE(std::string(e.what()).find("869000000 Hz is 500000 Hz from radio 1's centre; "
                                             "the sx1301 reaches ±462 kHz"),
                  std::string::npos)
            << e.what();
    }
}

// --- The plugin against the fake HAL ---------------------------------------------------------

namespace {

class Sx1301Driver : public ::testing::Test {
protected:
    Sx1301Driver() { fake_lgw_reset(); }
    ~Sx1301Driver() override
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
        r.deliver(FWD_TOPIC_RADIO_CONFIG, p.SerializeAsString());
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

TEST_F(Sx1301Driver, StartsWithTheSx1301HalConfiguration)
{
    auto& r = make(std::string("clksrc: 1\n") + kGains);
    r.start();
    plan(r);
    ASSERT_TRUE(wait_started(r));
    EXPECT_TRUE(fake_lgw_is_started());
    lgw_conf_board_s board{};
    ASSERT_EQ(fake_lgw_get_board_conf(&board), 0);
    EXPECT_TRUE(board.lorawan_public);
    EXPECT_EQ(board.clksrc, 1);
    lgw_conf_rxrf_s rf0{}, rf1{};
    ASSERT_EQ(fake_lgw_get_rxrf_conf(0, &rf0), 0);
    ASSERT_EQ(fake_lgw_get_rxrf_conf(1, &rf1), 0);
    EXPECT_EQ(rf0.freq_hz, 867'500'000u);
    EXPECT_EQ(rf1.freq_hz, 868'500'000u);
    EXPECT_EQ(rf0.type, LGW_RADIO_TYPE_SX1257);
    EXPECT_TRUE(rf0.tx_enable);
    EXPECT_FALSE(rf1.tx_enable);
    EXPECT_EQ(rf0.tx_notch_freq, static_cast<uint32_t>(LGW_DEFAULT_NOTCH_FREQ));
    EXPECT_FLOAT_EQ(rf0.rssi_offset, -166.0f);
    lgw_conf_rxif_s if0{}, if8{}, if9{};
    ASSERT_EQ(fake_lgw_get_rxif_conf(0, &if0), 0);
    EXPECT_TRUE(if0.enable);
    EXPECT_EQ(if0.rf_chain, 1);
    EXPECT_EQ(if0.freq_hz, -400'000);
    EXPECT_EQ(if0.bandwidth, BW_125KHZ);
    EXPECT_EQ(if0.datarate, static_cast<uint32_t>(DR_LORA_MULTI));
    ASSERT_EQ(fake_lgw_get_rxif_conf(8, &if8), 0);
    EXPECT_EQ(if8.bandwidth, BW_250KHZ); // 0x02 on the SX1301
    EXPECT_EQ(if8.datarate, static_cast<uint32_t>(DR_LORA_SF7));
    ASSERT_EQ(fake_lgw_get_rxif_conf(9, &if9), 0);
    EXPECT_EQ(if9.datarate, 50'000u);
    EXPECT_EQ(if9.bandwidth, BW_125KHZ);
    lgw_tx_gain_lut_s lut{};
    ASSERT_EQ(fake_lgw_get_txgain_conf(&lut), 0);
    ASSERT_EQ(lut.size, 4);
    EXPECT_EQ(lut.lut[2].rf_power, 16);
    EXPECT_EQ(lut.lut[2].pa_gain, 2);
    EXPECT_EQ(lut.lut[2].mix_gain, 11);
    EXPECT_EQ(lut.lut[2].dig_gain, 1);
    EXPECT_EQ(lut.lut[2].dac_gain, 3);
    EXPECT_TRUE(host_.logged("sx1301 radio 0: HAL 5.0.1, SPI"));
    EXPECT_TRUE(host_.logged("concentrator started (chip EUI unknown"));
    uint64_t eui = 0;
    float temp = 0;
    EXPECT_EQ(fwd_lgw_eui(&eui), -1);
    EXPECT_EQ(fwd_lgw_temperature(&temp), -1);
    r.stop();
    EXPECT_FALSE(fake_lgw_is_started());
}

TEST_F(Sx1301Driver, ReceptionsBecomeUplinksWithSfAndBandwidthTranslated)
{
    auto& r = make();
    r.start();
    plan(r);
    ASSERT_TRUE(wait_started(r));
    lgw_pkt_rx_s p{};
    p.freq_hz = 868'100'000;
    p.if_chain = 0;
    p.status = STAT_CRC_OK;
    p.count_us = 123'456'789;
    p.rf_chain = 1;
    p.modulation = MOD_LORA;
    p.bandwidth = BW_125KHZ;
    p.datarate = DR_LORA_SF9;
    p.coderate = CR_LORA_4_6;
    p.rssi = -101.5f;
    p.snr = 7.25f;
    p.size = 3;
    p.payload[0] = 0x40;
    p.payload[1] = 0x01;
    p.payload[2] = 0x02;
    ASSERT_EQ(fake_lgw_push_rx(&p), 0);
    p.if_chain = 8;
    p.bandwidth = BW_250KHZ;
    p.datarate = DR_LORA_SF7;
    p.status = STAT_NO_CRC;
    ASSERT_EQ(fake_lgw_push_rx(&p), 0);
    p.if_chain = 9;
    p.status = STAT_CRC_BAD;
    p.modulation = MOD_FSK;
    p.bandwidth = BW_125KHZ;
    p.datarate = 50'000;
    p.coderate = CR_UNDEFINED;
    ASSERT_EQ(fake_lgw_push_rx(&p), 0);
    ASSERT_TRUE(host_.wait_for([&] { return host_.published.size() >= 3; }));
    std::lock_guard lock(host_.mutex);
    v1::Uplink up;
    ASSERT_EQ(host_.published[0].first, static_cast<uint32_t>(FWD_TOPIC_UPLINK));
    ASSERT_TRUE(up.ParseFromString(host_.published[0].second));
    EXPECT_EQ(up.payload(), std::string("\x40\x01\x02", 3));
    EXPECT_EQ(up.radio(), 0u);
    EXPECT_EQ(up.count_us(), 123'456'789u);
    EXPECT_EQ(up.frequency_hz(), 868'100'000u);
    EXPECT_EQ(up.modulation().lora().spreading_factor(), 9u);
    EXPECT_EQ(up.modulation().lora().bandwidth_hz(), 125'000u);
    EXPECT_EQ(up.modulation().lora().coding_rate(), v1::CR_4_6);
    EXPECT_FLOAT_EQ(up.rssi_channel_dbm(), -101.5f); // one RSSI on the SX1301
    EXPECT_FLOAT_EQ(up.rssi_signal_dbm(), -101.5f);
    EXPECT_FLOAT_EQ(up.snr_db(), 7.25f);
    EXPECT_EQ(up.crc(), v1::CRC_OK);
    EXPECT_EQ(up.if_chain(), 0u);
    EXPECT_EQ(up.rf_chain(), 1u);
    EXPECT_EQ(up.modem_id(), 0u);
    EXPECT_EQ(up.frequency_offset_hz(), 0);
    EXPECT_FALSE(up.has_fine_timestamp_ns());
    EXPECT_GT(up.received_mono_us(), 0u);
    v1::Uplink std_ch;
    ASSERT_TRUE(std_ch.ParseFromString(host_.published[1].second));
    EXPECT_EQ(std_ch.modulation().lora().spreading_factor(), 7u);
    EXPECT_EQ(std_ch.modulation().lora().bandwidth_hz(), 250'000u);
    EXPECT_EQ(std_ch.crc(), v1::CRC_NONE);
    EXPECT_EQ(std_ch.if_chain(), 8u);
    v1::Uplink fsk;
    ASSERT_TRUE(fsk.ParseFromString(host_.published[2].second));
    EXPECT_EQ(fsk.modulation().fsk().bitrate(), 50'000u);
    EXPECT_EQ(fsk.crc(), v1::CRC_BAD);
}

TEST_F(Sx1301Driver, ReadsSixteenPacketsAtATime)
{
    auto& r = make();
    r.start();
    plan(r);
    ASSERT_TRUE(wait_started(r));
    lgw_pkt_rx_s p{};
    p.status = STAT_CRC_OK;
    p.modulation = MOD_LORA;
    p.bandwidth = BW_125KHZ;
    p.datarate = DR_LORA_SF12;
    p.coderate = CR_LORA_4_5;
    p.size = 1;
    for (int i = 0; i < 40; ++i) {
        ASSERT_EQ(fake_lgw_push_rx(&p), 0);
    }
    ASSERT_TRUE(host_.wait_for([&] { return host_.published.size() >= 40; }));
    EXPECT_EQ(host_.stat("receive_errors"), 0); // never asked for more than 16
    std::lock_guard lock(host_.mutex);
    v1::Uplink up;
    ASSERT_TRUE(up.ParseFromString(host_.published[39].second));
    EXPECT_EQ(up.modulation().lora().spreading_factor(), 12u);
}

TEST_F(Sx1301Driver, TxRequestsUseSx1301CodesAndLbtIssueIsChannelBusy)
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
    EXPECT_EQ(tx.rf_chain, 0);
    EXPECT_EQ(tx.rf_power, 16);
    EXPECT_EQ(tx.modulation, MOD_LORA);
    EXPECT_EQ(tx.bandwidth, 0x03); // BW_125KHZ of lora_gateway
    EXPECT_EQ(tx.datarate, 0x40u); // DR_LORA_SF12
    EXPECT_EQ(tx.coderate, CR_LORA_4_5);
    EXPECT_TRUE(tx.invert_pol);
    EXPECT_TRUE(tx.no_crc);
    EXPECT_EQ(tx.preamble, 8);
    EXPECT_EQ(tx.size, 5);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(tx.payload), 5), "hello");
    EXPECT_EQ(host_.stat("tx_power_lowered"), 1);
    // 500 kHz / SF8 (US915 downlink) and FSK.
    lora->set_spreading_factor(8);
    lora->set_bandwidth_hz(500'000);
    lora->set_coding_rate(v1::CR_4_8);
    ASSERT_EQ(lgw_abort_tx(), LGW_HAL_SUCCESS); // free the single TX path
    r.transmit(req.SerializeAsString(), at + 2'000'000);
    ASSERT_EQ(fake_lgw_tx_get(1, &tx), 0);
    EXPECT_EQ(tx.bandwidth, BW_500KHZ);
    EXPECT_EQ(tx.datarate, static_cast<uint32_t>(DR_LORA_SF8));
    EXPECT_EQ(tx.coderate, CR_LORA_4_8);
    // SF5/SF6 do not exist on the SX1301: a clear error, nothing sent.
    lora->set_spreading_factor(6);
    lora->set_bandwidth_hz(125'000);
    try {
        r.transmit(req.SerializeAsString(), at + 3'000'000);
        FAIL() << "SF6 accepted";
    } catch (const forwarder::sdk::Error& e) {
        EXPECT_NE(std::string(e.what()).find("SF7..SF12"), std::string::npos) << e.what();
    }
    EXPECT_EQ(fake_lgw_tx_count(), 2u);
    lora->set_spreading_factor(7);
    // The HAL's listen before talk refuses (LGW_LBT_ISSUE): the scheduler sees FWD_BUSY.
    fake_lgw_lbt_busy(868'100'000, 1);
    req.set_frequency_hz(868'100'000);
    EXPECT_THROW(r.transmit(req.SerializeAsString(), at + 4'000'000), forwarder::sdk::ChannelBusy);
    EXPECT_EQ(fake_lgw_lbt_refused_count(), 1u);
    EXPECT_EQ(host_.stat("lbt_busy"), 1);
    // Any other refusal is an error with the reason.
    fake_lgw_lbt_busy(868'100'000, 0);
    fake_lgw_fail("lgw_send", 1);
    EXPECT_THROW(r.transmit(req.SerializeAsString(), at + 6'000'000), forwarder::sdk::Error);
    EXPECT_EQ(host_.stat("tx_errors"), 2); // the SF6 frame and this one
}

TEST_F(Sx1301Driver, AFailedStartIsRetriedWithBackoff)
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
    // A plan the SX1301 cannot receive is refused before the running one is stopped.
    auto p = eu868_plan(true);
    p.mutable_multi_sf_channels(0)->set_frequency_hz(869'000'000);
    r.deliver(FWD_TOPIC_RADIO_CONFIG, p.SerializeAsString());
    EXPECT_TRUE(host_.logged("channel plan refused"));
    EXPECT_TRUE(r.running());
    EXPECT_EQ(fake_lgw_call_count("lgw_start"), 3);
}

TEST_F(Sx1301Driver, CounterWithGpsEnToggledAndPpsAcrossTheWrap)
{
    // Manual clock: the counter and the PPS edges move only with fake_lgw_advance_us.
    fake_lgw_set_manual_clock(1);
    fake_lgw_set_counter_start(0xFFFFFFFFu - 200'000);
    fake_lgw_set_pps(1);
    auto& r = make();
    EXPECT_THROW(r.counter_now(), forwarder::sdk::Error); // not started yet
    r.start();
    plan(r);
    ASSERT_TRUE(wait_started(r));
    const uint32_t first = r.counter_now();
    EXPECT_EQ(first, fake_lgw_counter_now()); // the free-running value, not a PPS latch
    EXPECT_TRUE(fake_lgw_gps_enabled());      // restored after the read
    fake_lgw_advance_us(300'000);
    const uint32_t later = r.counter_now();
    EXPECT_LT(later, first); // wrapped
    EXPECT_EQ(later - first, 300'000u);
    // No PPS edge since lgw_start: the register still holds a value latched when LGW_GPS_EN
    // was set, which is not taken for an edge.
    uint32_t edge = 0;
    uint64_t edge_mono = 0;
    EXPECT_FALSE(r.last_pps(edge, edge_mono));
    fake_lgw_advance_us(1'000'000);
    ASSERT_TRUE(r.last_pps(edge, edge_mono));
    const uint32_t age = r.counter_now() - edge;
    EXPECT_LT(age, 1'000'000u);
    EXPECT_LE(mono_us() - edge_mono, 1'100'000u);
    // Counter reads re-latch the register; the last real edge is still reported.
    (void)r.counter_now();
    uint32_t again = 0;
    ASSERT_TRUE(r.last_pps(again, edge_mono));
    EXPECT_EQ(again, edge);
    // PPS lost: no edge younger than two seconds.
    fake_lgw_set_pps(0);
    fake_lgw_advance_us(2'100'000);
    EXPECT_FALSE(r.last_pps(edge, edge_mono));
}

TEST_F(Sx1301Driver, BoardProfilesFillTheHardwareOptions)
{
    const std::string dir = FORWARDER_BOARDS_DIR;
    auto o = fs::parse_options("board: ic880a\nboards_dir: " + dir + "\n");
    EXPECT_EQ(o.board, "ic880a");
    EXPECT_FALSE(o.usb);
    EXPECT_EQ(o.com_path, "/dev/spidev0.0");
    EXPECT_EQ(o.clksrc, 1);
    EXPECT_EQ(o.radios[0].type, FWD_RADIO_SX1257);
    EXPECT_EQ(o.radios[1].type, FWD_RADIO_SX1257);
    EXPECT_TRUE(o.radios[0].tx_enable);
    EXPECT_FALSE(o.radios[1].tx_enable);
    EXPECT_EQ(o.radios[0].tx_notch_freq, 129'000u);
    EXPECT_FLOAT_EQ(o.radios[0].rssi_offset, -166.0f);
    ASSERT_EQ(o.gains[0].size(), 16u);
    EXPECT_TRUE(o.gains[1].empty());
    EXPECT_EQ(o.gains[0].back().rf_power, 27);
    EXPECT_EQ(o.gains[0].back().mix_gain, 14);
    EXPECT_EQ(o.gains[0].back().dac_gain, 3);
    ASSERT_TRUE(o.reset.has_value());
    EXPECT_EQ(o.reset->line, 5u);
    o = fs::parse_options("board: rak2245\nboards_dir: " + dir +
                          "\nboard_overrides: {com_path: /dev/spidev1.0}\n");
    EXPECT_EQ(o.board, "rak2245");
    EXPECT_EQ(o.com_path, "/dev/spidev1.0");
    ASSERT_TRUE(o.reset.has_value());
    EXPECT_EQ(o.reset->line, 17u);
    try {
        fs::parse_options("board: rak2287\nboards_dir: " + dir + "\n");
        FAIL() << "an SX1302 board was accepted by the SX1301 driver";
    } catch (const forwarder::sdk::Error& e) {
        EXPECT_NE(std::string(e.what()).find("'rak2287' is a sx1302 board; this driver is sx1301"),
                  std::string::npos)
            << e.what();
    }
    // The profile reaches the HAL: one 16-entry table, the clock radio, the notch filter.
    auto& r = make("board: ic880a\nboards_dir: " + dir + "\nreset_command: \"true\"\n");
    r.start();
    plan(r);
    ASSERT_TRUE(wait_started(r));
    lgw_conf_board_s board{};
    ASSERT_EQ(fake_lgw_get_board_conf(&board), 0);
    EXPECT_EQ(board.clksrc, 1);
    lgw_tx_gain_lut_s lut{};
    ASSERT_EQ(fake_lgw_get_txgain_conf(&lut), 0);
    EXPECT_EQ(lut.size, 16);
    EXPECT_EQ(lut.lut[0].rf_power, -6);
    EXPECT_EQ(lut.lut[0].mix_gain, 8);
    lgw_conf_rxrf_s rf0{};
    ASSERT_EQ(fake_lgw_get_rxrf_conf(0, &rf0), 0);
    EXPECT_EQ(rf0.tx_notch_freq, 129'000u);
}

TEST(Sx1301Options, UsbIsRefusedWhenParsing)
{
    try {
        fs::parse_options("com_type: usb\n");
        FAIL() << "accepted";
    } catch (const forwarder::sdk::Error& e) {
        EXPECT_EQ(std::string(e.what()), "com_type: the sx1301 driver supports only spi");
    }
}
