// The picoGW_hal V0.2.3 fake (hal-drivers/fake-loragw/picogw): lgw_connect first, by-value
// setconf with the SX1308 IF reach, 1..16 packets per receive, one TX path, the 32-bit counter
// and LGW_TIMESTAMP latched at PPS while LGW_GPS_EN is 1.
extern "C" {
#include <fake_loragw.h>
#include <loragw_hal.h>
#include <loragw_reg.h>
}

#include <gtest/gtest.h>

#include <string>

namespace {

class FakePicogw : public ::testing::Test {
protected:
    FakePicogw()
    {
        fake_lgw_reset();
        fake_lgw_set_manual_clock(1);
    }
    ~FakePicogw() override { fake_lgw_reset(); }

    static void configure_and_start()
    {
        ASSERT_EQ(lgw_connect("/dev/ttyACM0"), 0);
        lgw_conf_board_s board{};
        board.lorawan_public = true;
        board.clksrc = 1;
        ASSERT_EQ(lgw_board_setconf(board), LGW_HAL_SUCCESS);
        lgw_conf_rxrf_s rf{};
        rf.enable = true;
        rf.freq_hz = 867'500'000;
        rf.type = LGW_RADIO_TYPE_SX1257;
        rf.tx_enable = true;
        ASSERT_EQ(lgw_rxrf_setconf(0, rf), LGW_HAL_SUCCESS);
        ASSERT_EQ(lgw_start(), LGW_HAL_SUCCESS);
    }
};

} // namespace

TEST_F(FakePicogw, ConstantsAreThoseOfTheSx1301Family)
{
    EXPECT_EQ(BW_125KHZ, 0x03);
    EXPECT_EQ(BW_250KHZ, 0x02);
    EXPECT_EQ(BW_500KHZ, 0x01);
    EXPECT_EQ(DR_LORA_SF7, 0x02);
    EXPECT_EQ(DR_LORA_SF12, 0x40);
    EXPECT_EQ(DR_LORA_MULTI, 0x7E);
    EXPECT_EQ(LGW_PKT_FIFO_SIZE, 16);
    EXPECT_STREQ(lgw_version_info(), "Version: 0.2.3;");
}

TEST_F(FakePicogw, SetconfNeedsTheUsbLinkAndStopClosesIt)
{
    lgw_conf_board_s board{};
    EXPECT_EQ(lgw_board_setconf(board), LGW_HAL_ERROR); // not connected: the MCU answers
    EXPECT_EQ(lgw_mcu_version_info(), LGW_HAL_ERROR);
    EXPECT_EQ(lgw_connect(""), LGW_REG_ERROR);
    ASSERT_EQ(lgw_connect("/dev/ttyACM3"), LGW_REG_SUCCESS);
    EXPECT_EQ(lgw_connect("/dev/ttyACM3"), LGW_REG_ERROR); // already open
    char path[64];
    ASSERT_EQ(fake_lgw_get_com_path(path, sizeof path), 0);
    EXPECT_STREQ(path, "/dev/ttyACM3");
    EXPECT_EQ(lgw_mcu_version_info(), LGW_HAL_SUCCESS);
    EXPECT_EQ(lgw_board_setconf(board), LGW_HAL_SUCCESS);
    ASSERT_EQ(lgw_start(), LGW_HAL_SUCCESS);
    EXPECT_EQ(lgw_board_setconf(board), LGW_HAL_ERROR); // running
    ASSERT_EQ(lgw_stop(), LGW_HAL_SUCCESS);
    EXPECT_FALSE(fake_lgw_is_connected());
    EXPECT_EQ(lgw_start(), LGW_HAL_ERROR);
    EXPECT_EQ(fake_lgw_fail("lgw_connect", 1), 0);
    EXPECT_EQ(lgw_connect("/dev/ttyACM0"), LGW_REG_ERROR);
    EXPECT_EQ(lgw_connect("/dev/ttyACM0"), LGW_REG_SUCCESS);
    EXPECT_EQ(lgw_disconnect(), LGW_REG_SUCCESS);
    fake_lgw_call c{};
    ASSERT_EQ(fake_lgw_call_log_get(0, &c), 0);
    EXPECT_EQ(c.kind, FAKE_LGW_CALL_BOARD);
    EXPECT_EQ(c.result, LGW_HAL_ERROR);
    EXPECT_EQ(fake_lgw_fail("lgw_get_instcnt", 1), -1); // no such function on the picoGW
}

TEST_F(FakePicogw, IfReachGrowsWithTheChannelBandwidth)
{
    ASSERT_EQ(lgw_connect("/dev/ttyACM0"), 0);
    lgw_conf_rxif_s ifc{};
    ifc.enable = true;
    ifc.rf_chain = 0;
    ifc.bandwidth = BW_125KHZ;
    ifc.datarate = DR_LORA_MULTI;
    ifc.freq_hz = -400'000; // 400 + 62.5 ≤ 462.5 kHz
    EXPECT_EQ(lgw_rxif_setconf(0, ifc), LGW_HAL_SUCCESS);
    ifc.freq_hz = 400'001;
    EXPECT_EQ(lgw_rxif_setconf(1, ifc), LGW_HAL_ERROR);
    ifc.freq_hz = 0;
    ifc.bandwidth = BW_250KHZ; // multi-SF chains are 125 kHz
    EXPECT_EQ(lgw_rxif_setconf(1, ifc), LGW_HAL_ERROR);
    ifc.bandwidth = BW_500KHZ;
    ifc.datarate = DR_LORA_SF8;
    ifc.freq_hz = 300'000; // 300 + 250 ≤ 550 kHz
    EXPECT_EQ(lgw_rxif_setconf(8, ifc), LGW_HAL_SUCCESS);
    ifc.datarate = DR_LORA_SF7 | DR_LORA_SF8; // one spreading factor only
    EXPECT_EQ(lgw_rxif_setconf(8, ifc), LGW_HAL_ERROR);
    ifc.bandwidth = BW_125KHZ;
    ifc.datarate = 50'000;
    ifc.freq_hz = 300'000;
    EXPECT_EQ(lgw_rxif_setconf(9, ifc), LGW_HAL_SUCCESS);
    lgw_conf_rxif_s got{};
    ASSERT_EQ(fake_lgw_get_rxif_conf(8, &got), 0);
    EXPECT_EQ(got.bandwidth, BW_500KHZ);
    lgw_conf_rxrf_s rf{};
    rf.enable = true;
    rf.freq_hz = 868'000'000;
    rf.type = static_cast<lgw_radio_type_e>(5); // no SX1250 on this HAL
    EXPECT_EQ(lgw_rxrf_setconf(0, rf), LGW_HAL_ERROR);
}

TEST_F(FakePicogw, ReceiveTakesOneToSixteenPackets)
{
    configure_and_start();
    lgw_pkt_rx_s p{};
    p.count_us = 1;
    for (int i = 0; i < 20; ++i) {
        ASSERT_EQ(fake_lgw_push_rx(&p), 0);
    }
    lgw_pkt_rx_s out[17];
    EXPECT_EQ(lgw_receive(17, out), LGW_HAL_ERROR);
    EXPECT_EQ(lgw_receive(0, out), LGW_HAL_ERROR);
    EXPECT_EQ(lgw_receive(16, out), 16);
    EXPECT_EQ(lgw_receive(16, out), 4);
    EXPECT_EQ(lgw_receive(16, out), 0);
}

TEST_F(FakePicogw, OneTxPathWithStatus)
{
    configure_and_start();
    lgw_pkt_tx_s tx{};
    tx.freq_hz = 869'525'000;
    tx.tx_mode = TIMESTAMPED;
    tx.count_us = fake_lgw_counter_now() + 10'000;
    tx.modulation = MOD_LORA;
    tx.bandwidth = BW_125KHZ;
    tx.datarate = DR_LORA_SF9;
    tx.coderate = CR_LORA_4_5;
    tx.size = 10;
    tx.preamble = 8;
    ASSERT_EQ(lgw_send(tx), LGW_HAL_SUCCESS);
    uint8_t code = 0;
    ASSERT_EQ(lgw_status(TX_STATUS, &code), LGW_HAL_SUCCESS);
    EXPECT_EQ(code, TX_SCHEDULED);
    fake_lgw_advance_us(20'000);
    ASSERT_EQ(lgw_status(TX_STATUS, &code), LGW_HAL_SUCCESS);
    EXPECT_EQ(code, TX_EMITTING);
    fake_lgw_advance_us(1'000'000);
    ASSERT_EQ(lgw_status(TX_STATUS, &code), LGW_HAL_SUCCESS);
    EXPECT_EQ(code, TX_FREE);
    EXPECT_EQ(lgw_time_on_air(&tx), 145u); // SF9/125, 10 bytes, CR 4/5, 8 symbols: 144.4 ms
    tx.datarate = 9;                       // not a bitmask value
    EXPECT_EQ(lgw_send(tx), LGW_HAL_ERROR);
    ASSERT_EQ(fake_lgw_tx_count(), 1u);
}

TEST_F(FakePicogw, TimestampIsLatchedAtPpsWhileGpsEnIsSet)
{
    fake_lgw_set_counter_start(0xFFFFFFFFu - 1'000);
    configure_and_start();
    EXPECT_EQ(fake_lgw_gps_en(), 1); // lgw_start turns PPS capture on
    uint32_t a = 0, b = 0;
    ASSERT_EQ(lgw_get_trigcnt(&a), 0);
    fake_lgw_advance_us(5'000);
    ASSERT_EQ(lgw_get_trigcnt(&b), 0);
    EXPECT_EQ(a, b); // no PPS edge: frozen
    ASSERT_EQ(lgw_reg_w(LGW_GPS_EN, 0), 0);
    ASSERT_EQ(lgw_get_trigcnt(&b), 0);
    EXPECT_EQ(b, fake_lgw_counter_now()); // free-running
    EXPECT_LT(b, a);                      // and wrapped at 2^32
    int32_t reg = 0;
    ASSERT_EQ(lgw_reg_r(LGW_TIMESTAMP, &reg), 0);
    EXPECT_EQ(static_cast<uint32_t>(reg), b);
    ASSERT_EQ(lgw_reg_w(LGW_GPS_EN, 1), 0);
    fake_lgw_set_pps(1);
    fake_lgw_advance_us(2'500'000);
    ASSERT_EQ(lgw_get_trigcnt(&a), 0);
    EXPECT_LT(fake_lgw_counter_now() - a, 1'000'000u); // the edge of the last whole second
    EXPECT_NE(a, b);
}
