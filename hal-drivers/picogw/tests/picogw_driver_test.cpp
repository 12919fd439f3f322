// The picoGW driver against the fake picoGW_hal (hal-drivers/fake-loragw/picogw): options and
// board profiles (USB only), the channel plan → HAL configuration with the SX1308 reach,
// receptions → Uplink, TxRequest → lgw_send, lgw_start failures retried, the counter across its
// 32-bit wrap (lgw_get_trigcnt with PPS capture off), no PPS.
#include "lgw_radio.hpp"

extern "C" {
#include <fake_loragw.h>
#include <loragw_hal.h>
}

#include <gtest/gtest.h>

#include "driver_test_support.hpp"

#include <time.h>

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

// EU868 for a picoGW: 8 multi-SF channels within ±462.5 kHz of two radios, a 250 kHz std
// channel, FSK (Semtech's PicoCell EU configuration: radios at 867.5 and 868.5 MHz).
v1::RadioConfig picocell_eu868_plan(bool with_rf_chains)
{
    v1::RadioConfig plan;
    plan.set_radio(0);
    plan.set_region("EU868");
    if (with_rf_chains) {
        auto* r0 = plan.add_rf_chains();
        r0->set_center_frequency_hz(867'500'000);
        r0->set_tx_enabled(true);
        auto* r1 = plan.add_rf_chains();
        r1->set_center_frequency_hz(868'500'000);
    }
    const uint64_t freqs[8] = {868'100'000, 868'300'000, 868'500'000, 867'100'000,
                               867'300'000, 867'500'000, 867'700'000, 867'900'000};
    for (uint64_t f : freqs) {
        auto* ch = plan.add_multi_sf_channels();
        ch->set_frequency_hz(f);
        ch->set_rf_chain(f >= 868'000'000 ? 1 : 0);
        ch->set_bandwidth_hz(125'000);
        ch->set_min_spreading_factor(7);
        ch->set_max_spreading_factor(12);
    }
    auto* std = plan.mutable_std_channel();
    std->set_frequency_hz(868'300'000);
    std->set_rf_chain(1);
    std->set_bandwidth_hz(250'000);
    std->set_min_spreading_factor(7);
    std->set_max_spreading_factor(7);
    auto* fsk = plan.mutable_fsk_channel();
    fsk->set_frequency_hz(868'800'000);
    fsk->set_rf_chain(1);
    fsk->set_bitrate(50'000);
    fsk->set_bandwidth_hz(125'000);
    return plan;
}

// US915 sub-band 2 as Semtech's PicoCell US configuration: the 500 kHz std channel 300 kHz
// from radio 0, beyond the 125 kHz reach but within the 500 kHz one.
v1::RadioConfig us915_plan()
{
    v1::RadioConfig plan;
    plan.set_radio(0);
    auto* r0 = plan.add_rf_chains();
    r0->set_center_frequency_hz(902'700'000);
    r0->set_tx_enabled(true);
    plan.add_rf_chains()->set_center_frequency_hz(903'400'000);
    for (int i = 0; i < 8; ++i) {
        auto* ch = plan.add_multi_sf_channels();
        ch->set_frequency_hz(902'300'000 + 200'000u * static_cast<uint32_t>(i));
        ch->set_rf_chain(i < 4 ? 0 : 1);
        ch->set_bandwidth_hz(125'000);
    }
    auto* std = plan.mutable_std_channel();
    std->set_frequency_hz(903'000'000);
    std->set_rf_chain(0);
    std->set_bandwidth_hz(500'000);
    std->set_max_spreading_factor(8);
    return plan;
}

const std::string kBoards = std::string("boards_dir: ") + FORWARDER_BOARDS_DIR + "\n";
const std::string kPicocell = "board: picocell\n" + kBoards;

class PicogwDriver : public ::testing::Test {
protected:
    PicogwDriver() { fake_lgw_reset(); }
    ~PicogwDriver() override
    {
        radio_.reset();
        fake_lgw_reset();
    }

    fs::LgwRadio& make(const std::string& options = kPicocell)
    {
        fwd_create_info_v1 info{sizeof(fwd_create_info_v1), "radio0", 0, 0, "test.yaml"};
        radio_ = std::make_unique<fs::LgwRadio>(host_.host(), info, options);
        return *radio_;
    }

    void plan(fs::LgwRadio& r, const v1::RadioConfig& p = picocell_eu868_plan(true))
    {
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

std::string error_of(const std::string& yaml)
{
    try {
        fs::parse_options(yaml);
    } catch (const forwarder::sdk::Error& e) {
        return e.what();
    }
    return {};
}

} // namespace

TEST(PicogwOptions, UsbOnlyAndThePicocellProfile)
{
    EXPECT_STREQ(fwd_lgw_chip_info()->name, "picogw");
    EXPECT_EQ(fwd_lgw_chip_info()->max_rx, 16);
    EXPECT_FALSE(fwd_lgw_chip_info()->has_eui);
    auto o = fs::parse_options("{}");
    EXPECT_TRUE(o.usb); // the default link of this driver
    EXPECT_EQ(o.com_path, "/dev/ttyACM0");
    o = fs::parse_options("com_type: usb\ncom_path: /dev/ttyACM2\n");
    EXPECT_EQ(o.com_path, "/dev/ttyACM2");
    EXPECT_EQ(error_of("com_type: spi\n").rfind("com_type: the picogw driver supports only usb", 0),
              0u);
    o = fs::parse_options(kPicocell);
    EXPECT_EQ(o.board, "picocell");
    EXPECT_TRUE(o.usb);
    EXPECT_EQ(o.com_path, "/dev/ttyACM0");
    EXPECT_EQ(o.clksrc, 1);
    EXPECT_EQ(o.radios[0].type, FWD_RADIO_SX1257);
    EXPECT_FLOAT_EQ(o.radios[0].rssi_offset, -164.0f);
    EXPECT_TRUE(o.radios[0].tx_enable);
    EXPECT_FALSE(o.radios[1].tx_enable);
    EXPECT_EQ(o.gains[0].size(), 11u);
    EXPECT_FALSE(o.reset.has_value());
    // An SX1302 board is refused, naming both chips.
    const auto e = error_of("board: rak2287-usb\n" + kBoards);
    EXPECT_NE(e.find("'rak2287-usb' is a sx1302 board; this driver is picogw"), std::string::npos)
        << e;
}

TEST(PicogwPlan, TheSx1308ReachDependsOnTheChannelBandwidth)
{
    const auto o = fs::parse_options(kPicocell);
    for (bool given : {true, false}) {
        SCOPED_TRACE(given ? "centres from the plan" : "centres derived");
        const auto c = fs::hal_config(o, picocell_eu868_plan(given));
        for (int i = 0; i < 8; ++i) {
            EXPECT_LE(std::abs(c.multi_sf[i].if_hz) + 62'500, 462'500) << i;
        }
    }
    const auto us = fs::hal_config(o, us915_plan());
    EXPECT_EQ(us.lora_std.if_hz, 300'000);
    EXPECT_EQ(us.lora_std.bandwidth_hz, 500'000u);
    // 125 kHz channels reach ±462.5 kHz: 867.0 MHz is 500 kHz from 867.5.
    auto bad = picocell_eu868_plan(true);
    bad.mutable_multi_sf_channels(3)->set_frequency_hz(867'000'000);
    try {
        fs::hal_config(o, bad);
        FAIL() << "accepted";
    } catch (const forwarder::sdk::Error& e) {
        EXPECT_NE(std::string(e.what()).find("867000000 Hz is -500000 Hz from radio 0's centre; "
                                             "the picogw reaches ±462 kHz"),
                  std::string::npos)
            << e.what();
    }
}

TEST_F(PicogwDriver, StartsWithTheRightHalConfiguration)
{
    auto& r = make();
    r.start();
    plan(r);
    ASSERT_TRUE(wait_started(r));
    EXPECT_TRUE(fake_lgw_is_started());
    EXPECT_TRUE(fake_lgw_is_connected());
    char path[64];
    ASSERT_EQ(fake_lgw_get_com_path(path, sizeof path), 0);
    EXPECT_STREQ(path, "/dev/ttyACM0");
    // lgw_connect precedes every setconf.
    fake_lgw_call first{};
    ASSERT_EQ(fake_lgw_call_log_get(0, &first), 0);
    EXPECT_EQ(first.kind, FAKE_LGW_CALL_CONNECT);
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
    EXPECT_FLOAT_EQ(rf0.rssi_offset, -164.0f);
    lgw_conf_rxif_s if0{}, if8{}, if9{};
    ASSERT_EQ(fake_lgw_get_rxif_conf(0, &if0), 0);
    EXPECT_EQ(if0.rf_chain, 1);
    EXPECT_EQ(if0.freq_hz, -400'000);
    EXPECT_EQ(if0.bandwidth, BW_125KHZ);
    EXPECT_EQ(if0.datarate, static_cast<uint32_t>(DR_LORA_MULTI));
    ASSERT_EQ(fake_lgw_get_rxif_conf(8, &if8), 0);
    EXPECT_EQ(if8.bandwidth, BW_250KHZ); // 0x02 here, 0x05 in sx1302_hal
    EXPECT_EQ(if8.datarate, static_cast<uint32_t>(DR_LORA_SF7));
    ASSERT_EQ(fake_lgw_get_rxif_conf(9, &if9), 0);
    EXPECT_EQ(if9.datarate, 50'000u);
    lgw_tx_gain_lut_s lut{};
    ASSERT_EQ(fake_lgw_get_txgain_conf(&lut), 0);
    EXPECT_EQ(lut.size, 11);
    EXPECT_EQ(lut.lut[10].rf_power, 21);
    EXPECT_EQ(lut.lut[10].mix_gain, 13);
    EXPECT_EQ(lut.lut[10].dac_gain, 3);
    // PPS capture is off so that lgw_get_trigcnt runs free.
    EXPECT_EQ(fake_lgw_gps_en(), 0);
    EXPECT_TRUE(host_.logged("concentrator started (chip EUI unknown"));
    EXPECT_TRUE(host_.logged("HAL 0.2.3, USB"));
    r.stop();
    EXPECT_FALSE(fake_lgw_is_started());
    EXPECT_FALSE(fake_lgw_is_connected());
}

TEST_F(PicogwDriver, TheGlueRefusesAnSx1250AndClosesTheLink)
{
    auto c = fs::hal_config(fs::parse_options(kPicocell), picocell_eu868_plan(true));
    c.radios[1].type = FWD_RADIO_SX1250;
    char err[256] = {0};
    EXPECT_EQ(fwd_lgw_start(&c, err, sizeof err), -1);
    EXPECT_NE(std::string(err).find("the picoGW has SX1255/SX1257 radios"), std::string::npos)
        << err;
    EXPECT_FALSE(fake_lgw_is_connected()); // closed again for the next attempt
    EXPECT_FALSE(fake_lgw_is_started());
}

TEST_F(PicogwDriver, ReceptionsBecomeUplinks)
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
    p.coderate = CR_LORA_4_5;
    p.rssi = -101.5f;
    p.snr = 7.25f;
    p.size = 3;
    p.payload[0] = 0x40;
    p.payload[1] = 0x01;
    p.payload[2] = 0x02;
    ASSERT_EQ(fake_lgw_push_rx(&p), 0);
    p.status = STAT_CRC_BAD;
    p.modulation = MOD_FSK;
    p.datarate = 50'000;
    ASSERT_EQ(fake_lgw_push_rx(&p), 0);
    ASSERT_TRUE(host_.wait_for([&] { return host_.published.size() >= 2; }));
    std::lock_guard lock(host_.mutex);
    v1::Uplink up;
    ASSERT_TRUE(up.ParseFromString(host_.published[0].second));
    EXPECT_EQ(up.payload(), std::string("\x40\x01\x02", 3));
    EXPECT_EQ(up.count_us(), 123'456'789u);
    EXPECT_EQ(up.frequency_hz(), 868'100'000u);
    EXPECT_EQ(up.modulation().lora().spreading_factor(), 9u); // from the bitmask 0x08
    EXPECT_EQ(up.modulation().lora().bandwidth_hz(), 125'000u);
    EXPECT_EQ(up.modulation().lora().coding_rate(), v1::CR_4_5);
    EXPECT_FLOAT_EQ(up.rssi_channel_dbm(), -101.5f);
    EXPECT_FLOAT_EQ(up.snr_db(), 7.25f);
    EXPECT_EQ(up.crc(), v1::CRC_OK);
    EXPECT_EQ(up.rf_chain(), 1u);
    EXPECT_FALSE(up.has_fine_timestamp_ns());
    v1::Uplink fsk;
    ASSERT_TRUE(fsk.ParseFromString(host_.published[1].second));
    EXPECT_EQ(fsk.modulation().fsk().bitrate(), 50'000u);
    EXPECT_EQ(fsk.crc(), v1::CRC_BAD);
}

TEST_F(PicogwDriver, TxRequestsBecomeTimestampedSends)
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
    req.set_power_dbm(27); // above the table: its highest entry, 21 dBm
    req.set_invert_iq(true);
    const uint32_t at = r.counter_now() + 1'000'000;
    r.transmit(req.SerializeAsString(), at);
    ASSERT_EQ(fake_lgw_tx_count(), 1u);
    lgw_pkt_tx_s tx{};
    ASSERT_EQ(fake_lgw_tx_get(0, &tx), 0);
    EXPECT_EQ(tx.tx_mode, TIMESTAMPED);
    EXPECT_EQ(tx.count_us, at);
    EXPECT_EQ(tx.rf_chain, 0);
    EXPECT_EQ(tx.rf_power, 21);
    EXPECT_EQ(tx.modulation, MOD_LORA);
    EXPECT_EQ(tx.bandwidth, BW_125KHZ);
    EXPECT_EQ(tx.datarate, static_cast<uint32_t>(DR_LORA_SF12));
    EXPECT_EQ(tx.coderate, CR_LORA_4_5);
    EXPECT_TRUE(tx.invert_pol);
    EXPECT_TRUE(tx.no_crc);
    EXPECT_EQ(tx.preamble, 8);
    EXPECT_EQ(tx.size, 5);
    EXPECT_EQ(host_.stat("tx_power_lowered"), 1);
    // SF5/SF6 do not exist on the SX1308; a HAL refusal is an error with the reason.
    lora->set_spreading_factor(6);
    try {
        r.transmit(req.SerializeAsString(), at + 3'000'000);
        FAIL() << "SF6 accepted";
    } catch (const forwarder::sdk::ChannelBusy&) {
        FAIL() << "not an LBT refusal";
    } catch (const forwarder::sdk::Error& e) {
        EXPECT_NE(std::string(e.what()).find("SF7..SF12"), std::string::npos) << e.what();
    }
    lora->set_spreading_factor(7);
    fake_lgw_fail("lgw_send", 1);
    EXPECT_THROW(r.transmit(req.SerializeAsString(), at + 6'000'000), forwarder::sdk::Error);
    EXPECT_EQ(fake_lgw_tx_count(), 1u);
}

TEST_F(PicogwDriver, AFailedStartIsRetriedWithBackoff)
{
    fake_lgw_fail("lgw_start", 1);
    fake_lgw_fail("lgw_connect", 1);
    auto& r = make("start_retry_initial_ms: 20\nstart_retry_max_ms: 40\n" + kPicocell);
    r.start();
    plan(r);
    ASSERT_TRUE(wait_started(r));
    EXPECT_EQ(fake_lgw_call_count("lgw_connect"), 3);
    EXPECT_EQ(fake_lgw_call_count("lgw_start"), 2);
    EXPECT_EQ(host_.stat("start_failures"), 2);
    EXPECT_TRUE(host_.logged("concentrator start failed: lgw_connect failed"));
    EXPECT_TRUE(host_.logged("concentrator start failed: lgw_start failed"));
    EXPECT_TRUE(host_.logged("retrying the concentrator start in 20 ms"));
    // A new channel plan restarts the concentrator: stop (closing the link), connect again.
    auto p = picocell_eu868_plan(true);
    p.mutable_rf_chains(1)->set_center_frequency_hz(868'400'000);
    r.deliver(FWD_TOPIC_RADIO_CONFIG, p.SerializeAsString());
    const auto until = std::chrono::steady_clock::now() + 3s;
    lgw_conf_rxrf_s rf1{};
    while (std::chrono::steady_clock::now() < until) {
        fake_lgw_get_rxrf_conf(1, &rf1);
        if (rf1.freq_hz == 868'400'000u && r.running()) {
            break;
        }
        std::this_thread::sleep_for(5ms);
    }
    EXPECT_EQ(rf1.freq_hz, 868'400'000u);
    EXPECT_EQ(fake_lgw_call_count("lgw_connect"), 4);
    EXPECT_TRUE(fake_lgw_is_connected());
}

TEST_F(PicogwDriver, CounterRunsAcrossTheWrapAndThereIsNoPps)
{
    fake_lgw_set_counter_start(0xFFFFFFFFu - 200'000);
    fake_lgw_set_pps(1); // even with an edge, PPS capture stays off on the picoGW
    auto& r = make();
    EXPECT_THROW(r.counter_now(), forwarder::sdk::Error);
    r.start();
    plan(r);
    ASSERT_TRUE(wait_started(r));
    const uint32_t first = r.counter_now();
    std::this_thread::sleep_for(300ms);
    const uint32_t later = r.counter_now();
    EXPECT_LT(later, first); // wrapped at 2^32
    EXPECT_GE(static_cast<int32_t>(later - first), 290'000);
    EXPECT_LE(static_cast<uint32_t>(fake_lgw_counter_now() - later), 50'000u);
    uint32_t edge = 0;
    uint64_t edge_mono = 0;
    EXPECT_FALSE(r.last_pps(edge, edge_mono));
}
