// Tests of the lora_gateway v5.0.1 (SX1301) test double. Its loragw_hal.h compiles as C++ inside
// extern "C" {} (like the real one); drivers still include it from C only.
#include <gtest/gtest.h>

#include <cstring>

extern "C" {
#include "fake_loragw.h"
}

namespace {

class FakeLoragwSx1301 : public ::testing::Test {
protected:
    void SetUp() override { fake_lgw_reset(); }
    void TearDown() override { fake_lgw_reset(); }

    static void configure_tx_chain(uint8_t rf)
    {
        lgw_conf_rxrf_s conf{};
        conf.enable = true;
        conf.freq_hz = 867500000;
        conf.type = LGW_RADIO_TYPE_SX1257;
        conf.tx_enable = true;
        conf.tx_notch_freq = 129000;
        ASSERT_EQ(lgw_rxrf_setconf(rf, conf), LGW_HAL_SUCCESS);
    }

    static lgw_pkt_tx_s lora_tx(uint32_t dr, uint8_t bw, uint16_t size)
    {
        lgw_pkt_tx_s p{};
        p.freq_hz = 868100000;
        p.tx_mode = IMMEDIATE;
        p.modulation = MOD_LORA;
        p.bandwidth = bw;
        p.datarate = dr;
        p.coderate = CR_LORA_4_5;
        p.preamble = 8;
        p.size = size;
        return p;
    }
};

} // namespace

TEST_F(FakeLoragwSx1301, ConstantsAreThoseOfLoraGatewayV5)
{
    EXPECT_EQ(BW_125KHZ, 0x03);
    EXPECT_EQ(BW_250KHZ, 0x02);
    EXPECT_EQ(BW_500KHZ, 0x01);
    EXPECT_EQ(BW_62K5HZ, 0x04);
    EXPECT_EQ(DR_LORA_SF7, 0x02);
    EXPECT_EQ(DR_LORA_SF12, 0x40);
    EXPECT_EQ(DR_LORA_MULTI, 0x7E);
    EXPECT_EQ(LGW_LBT_ISSUE, 1);
    EXPECT_EQ(LGW_PKT_FIFO_SIZE, 16);
    EXPECT_EQ(TX_START_DELAY_DEFAULT, 1497);
    EXPECT_STREQ(lgw_version_info(), "Version: 5.0.1;");
}

TEST_F(FakeLoragwSx1301, RecordsByValueSetconfCallsInOrder)
{
    lgw_conf_board_s board{};
    board.lorawan_public = true;
    board.clksrc = 1;
    ASSERT_EQ(lgw_board_setconf(board), LGW_HAL_SUCCESS);
    lgw_tx_gain_lut_s lut{};
    lut.size = 2;
    lut.lut[0] = {0, 1, 3, 10, 10};
    lut.lut[1] = {0, 3, 3, 14, 27};
    ASSERT_EQ(lgw_txgain_setconf(&lut), LGW_HAL_SUCCESS);
    configure_tx_chain(0);
    lgw_conf_rxif_s multi{};
    multi.enable = true;
    multi.rf_chain = 0;
    multi.freq_hz = -400000;
    multi.bandwidth = BW_125KHZ;
    multi.datarate = DR_LORA_MULTI;
    ASSERT_EQ(lgw_rxif_setconf(0, multi), LGW_HAL_SUCCESS);
    ASSERT_EQ(lgw_start(), LGW_HAL_SUCCESS);
    ASSERT_EQ(fake_lgw_call_log_size(), 5u);
    fake_lgw_call c{};
    ASSERT_EQ(fake_lgw_call_log_get(0, &c), 0);
    EXPECT_EQ(c.kind, FAKE_LGW_CALL_BOARD);
    EXPECT_EQ(c.conf.board.clksrc, 1);
    ASSERT_EQ(fake_lgw_call_log_get(1, &c), 0);
    EXPECT_EQ(c.kind, FAKE_LGW_CALL_TXGAIN);
    EXPECT_EQ(c.conf.txgain.lut[1].mix_gain, 14);
    ASSERT_EQ(fake_lgw_call_log_get(2, &c), 0);
    EXPECT_EQ(c.kind, FAKE_LGW_CALL_RXRF);
    EXPECT_EQ(c.conf.rxrf.tx_notch_freq, 129000u);
    ASSERT_EQ(fake_lgw_call_log_get(4, &c), 0);
    EXPECT_STREQ(c.function, "lgw_start");
    lgw_tx_gain_lut_s got{};
    ASSERT_EQ(fake_lgw_get_txgain_conf(&got), 0);
    EXPECT_EQ(got.size, 2);
    EXPECT_TRUE(fake_lgw_gps_enabled()); // lgw_start enables PPS capture
    // Refused while started.
    EXPECT_EQ(lgw_board_setconf(board), LGW_HAL_ERROR);
}

TEST_F(FakeLoragwSx1301, RejectsWhatTheSx1301CannotDo)
{
    lgw_conf_rxrf_s rf{};
    rf.enable = true;
    rf.freq_hz = 867500000;
    rf.type = LGW_RADIO_TYPE_SX1276;
    EXPECT_EQ(lgw_rxrf_setconf(0, rf), LGW_HAL_ERROR);
    rf.type = LGW_RADIO_TYPE_SX1255;
    rf.tx_enable = true;
    rf.tx_notch_freq = 300000; // out of range: kept as 0 (notch off)
    ASSERT_EQ(lgw_rxrf_setconf(0, rf), LGW_HAL_SUCCESS);
    lgw_conf_rxrf_s got{};
    ASSERT_EQ(fake_lgw_get_rxrf_conf(0, &got), 0);
    EXPECT_EQ(got.tx_notch_freq, 0u);

    lgw_conf_rxif_s ifc{};
    ifc.enable = true;
    ifc.bandwidth = BW_125KHZ;
    ifc.datarate = DR_LORA_MULTI;
    ifc.freq_hz = 400000; // 400 + 62.5 = 462.5 kHz: the edge, accepted
    EXPECT_EQ(lgw_rxif_setconf(0, ifc), LGW_HAL_SUCCESS);
    ifc.freq_hz = 400001;
    EXPECT_EQ(lgw_rxif_setconf(0, ifc), LGW_HAL_ERROR);
    ifc.freq_hz = 0;
    ifc.bandwidth = BW_250KHZ; // multi-SF is 125 kHz only
    EXPECT_EQ(lgw_rxif_setconf(1, ifc), LGW_HAL_ERROR);
    ifc.bandwidth = BW_125KHZ;
    ifc.datarate = 7; // the sx1302 encoding of SF7 is not a DR bit
    EXPECT_EQ(lgw_rxif_setconf(1, ifc), LGW_HAL_ERROR);
    // LoRa std: one SF; 250 kHz reaches ±500 kHz.
    ifc.bandwidth = BW_250KHZ;
    ifc.datarate = DR_LORA_SF7;
    ifc.freq_hz = 375000;
    EXPECT_EQ(lgw_rxif_setconf(8, ifc), LGW_HAL_SUCCESS);
    ifc.datarate = DR_LORA_MULTI;
    EXPECT_EQ(lgw_rxif_setconf(8, ifc), LGW_HAL_ERROR);
    lgw_tx_gain_lut_s lut{};
    lut.size = 1;
    lut.lut[0] = {4, 0, 3, 10, 10}; // dig_gain 4
    EXPECT_EQ(lgw_txgain_setconf(&lut), LGW_HAL_ERROR);
    lut.size = 17;
    EXPECT_EQ(lgw_txgain_setconf(&lut), LGW_HAL_ERROR);
}

TEST_F(FakeLoragwSx1301, ReceiveTakesOneToSixteenPackets)
{
    ASSERT_EQ(lgw_start(), LGW_HAL_SUCCESS);
    lgw_pkt_rx_s p{};
    p.modulation = MOD_LORA;
    p.datarate = DR_LORA_SF9;
    p.bandwidth = BW_125KHZ;
    for (int i = 0; i < 20; ++i) {
        p.size = static_cast<uint16_t>(i);
        ASSERT_EQ(fake_lgw_push_rx(&p), 0);
    }
    lgw_pkt_rx_s out[20]{};
    EXPECT_EQ(lgw_receive(17, out), LGW_HAL_ERROR);
    EXPECT_EQ(lgw_receive(0, out), LGW_HAL_ERROR);
    EXPECT_EQ(lgw_receive(16, out), 16);
    EXPECT_EQ(out[15].size, 15);
    EXPECT_NE(out[0].count_us, 0u); // stamped at delivery (the counter started at 0 earlier)
    EXPECT_EQ(lgw_receive(16, out), 4);
    EXPECT_EQ(lgw_receive(16, out), 0);
}

TEST_F(FakeLoragwSx1301, TrigcntFollowsGpsEn)
{
    fake_lgw_set_manual_clock(1);
    fake_lgw_set_counter_start(0xFFFFFF00u);
    EXPECT_EQ(lgw_get_trigcnt(nullptr), LGW_HAL_ERROR);
    uint32_t t = 0;
    EXPECT_EQ(lgw_get_trigcnt(&t), LGW_HAL_ERROR); // not started
    ASSERT_EQ(lgw_start(), LGW_HAL_SUCCESS);       // GPS_EN = 1 at 0xFFFFFF00
    fake_lgw_advance_us(300);
    ASSERT_EQ(lgw_get_trigcnt(&t), LGW_HAL_SUCCESS);
    EXPECT_EQ(t, 0xFFFFFF00u); // no PPS: the value latched when capture was enabled
    ASSERT_EQ(lgw_reg_w(LGW_GPS_EN, 0), LGW_REG_SUCCESS);
    ASSERT_EQ(lgw_get_trigcnt(&t), LGW_HAL_SUCCESS);
    EXPECT_EQ(t, 0x2Cu); // free-running, wrapped
    EXPECT_EQ(fake_lgw_counter_now(), 0x2Cu);
    ASSERT_EQ(lgw_reg_w(LGW_GPS_EN, 1), LGW_REG_SUCCESS);
    fake_lgw_set_pps(1);
    // Manual mode: PPS edges every 1 000 000 µs of elapsed time.
    fake_lgw_advance_us(2'000'000);
    ASSERT_EQ(lgw_get_trigcnt(&t), LGW_HAL_SUCCESS);
    EXPECT_EQ(static_cast<uint32_t>(fake_lgw_counter_now() - t) < 1'000'000u, true);
    int32_t v = 0;
    ASSERT_EQ(lgw_reg_r(LGW_GPS_EN, &v), LGW_REG_SUCCESS);
    EXPECT_EQ(v, 1);
    EXPECT_EQ(lgw_stop(), LGW_HAL_SUCCESS);
    EXPECT_FALSE(fake_lgw_gps_enabled());
    EXPECT_EQ(lgw_reg_w(LGW_GPS_EN, 1), LGW_REG_ERROR); // not started
}

TEST_F(FakeLoragwSx1301, SendIsByValueWithOneTxPath)
{
    fake_lgw_set_manual_clock(1);
    configure_tx_chain(0);
    ASSERT_EQ(lgw_start(), LGW_HAL_SUCCESS);
    uint8_t code = 0;
    ASSERT_EQ(lgw_status(TX_STATUS, &code), LGW_HAL_SUCCESS);
    EXPECT_EQ(code, TX_FREE);
    auto p = lora_tx(DR_LORA_SF12, BW_125KHZ, 23);
    p.tx_mode = TIMESTAMPED;
    p.count_us = fake_lgw_counter_now() + 100'000;
    ASSERT_EQ(lgw_send(p), LGW_HAL_SUCCESS);
    ASSERT_EQ(lgw_status(TX_STATUS, &code), LGW_HAL_SUCCESS);
    EXPECT_EQ(code, TX_SCHEDULED);
    fake_lgw_advance_us(100'001);
    ASSERT_EQ(lgw_status(TX_STATUS, &code), LGW_HAL_SUCCESS);
    EXPECT_EQ(code, TX_EMITTING);
    fake_lgw_tx_info info{};
    ASSERT_EQ(fake_lgw_tx_get_info(0, &info), 0);
    EXPECT_EQ(info.lead_us, 100'000);
    fake_lgw_advance_us(info.air_time_us);
    ASSERT_EQ(lgw_status(TX_STATUS, &code), LGW_HAL_SUCCESS);
    EXPECT_EQ(code, TX_FREE);
    // sx1302 codes are refused: SF as a number, BW 0x04 is 62.5 kHz here.
    EXPECT_EQ(lgw_send(lora_tx(7, BW_125KHZ, 10)), LGW_HAL_ERROR);
    EXPECT_EQ(lgw_send(lora_tx(DR_LORA_SF7, BW_62K5HZ, 10)), LGW_HAL_ERROR);
    // Only an RF chain with tx_enable transmits.
    auto q = lora_tx(DR_LORA_SF7, BW_125KHZ, 10);
    q.rf_chain = 1;
    EXPECT_EQ(lgw_send(q), LGW_HAL_ERROR);
    // LBT.
    fake_lgw_lbt_busy(868100000, 1);
    EXPECT_EQ(lgw_send(lora_tx(DR_LORA_SF7, BW_125KHZ, 10)), LGW_LBT_ISSUE);
    EXPECT_EQ(fake_lgw_lbt_refused_count(), 1u);
    fake_lgw_lbt_busy(868100000, 0);
    ASSERT_EQ(lgw_send(lora_tx(DR_LORA_SF7, BW_125KHZ, 10)), LGW_HAL_SUCCESS);
    ASSERT_EQ(lgw_abort_tx(), LGW_HAL_SUCCESS);
    ASSERT_EQ(lgw_status(TX_STATUS, &code), LGW_HAL_SUCCESS);
    EXPECT_EQ(code, TX_FREE);
    EXPECT_EQ(fake_lgw_tx_count(), 2u);
}

TEST_F(FakeLoragwSx1301, TimeOnAirUsesTheLowDataRateRule)
{
    // SF12/BW125/23 B, DE on: 8 + 4.25 + 8 + 5 * 5 symbols of 32.768 ms = 1482.752 ms.
    auto p = lora_tx(DR_LORA_SF12, BW_125KHZ, 23);
    EXPECT_NEAR(fake_lgw_time_on_air_us(&p), 1'482'752.0, 1.0);
    EXPECT_EQ(lgw_time_on_air(&p), 1483u);
    // SF7/BW125/23 B: 61.696 ms.
    p = lora_tx(DR_LORA_SF7, BW_125KHZ, 23);
    EXPECT_NEAR(fake_lgw_time_on_air_us(&p), 61'696.0, 1.0);
}

TEST_F(FakeLoragwSx1301, InjectedFailuresCountDown)
{
    EXPECT_EQ(fake_lgw_fail("lgw_get_instcnt", 1), -1); // does not exist in v5
    EXPECT_EQ(fake_lgw_fail("lgw_start", 2), 0);
    EXPECT_EQ(lgw_start(), LGW_HAL_ERROR);
    EXPECT_EQ(lgw_start(), LGW_HAL_ERROR);
    EXPECT_EQ(lgw_start(), LGW_HAL_SUCCESS);
    EXPECT_EQ(fake_lgw_call_count("lgw_start"), 3);
    EXPECT_EQ(fake_lgw_fail("lgw_reg_w", 1), 0);
    EXPECT_EQ(lgw_reg_w(LGW_GPS_EN, 0), LGW_REG_ERROR);
    EXPECT_EQ(lgw_reg_w(LGW_GPS_EN, 0), LGW_REG_SUCCESS);
}
