/*
 * The only translation unit that sees lora_gateway v5.0.1's headers (see lgw_glue.h). Constants
 * are translated here, never passed through: BW_* and DR_* mean different things in sx1302_hal
 * (libloragw.md §6). v5 takes the configuration structs and the TX packet BY VALUE, has one TX
 * gain table and one TX path, returns at most 16 packets per lgw_receive, and has no
 * lgw_get_instcnt, lgw_get_eui or lgw_get_temperature (§3).
 */
#include "lgw_glue.h"

#include <loragw_hal.h>
#include <loragw_reg.h>

/* Needs the HAL's constants: after its headers. */
#include "lgw_glue_codes.h"

#include <stdio.h>
#include <string.h>

static enum lgw_radio_type_e radio_type(int type)
{
    switch (type) {
    case FWD_RADIO_SX1255:
        return LGW_RADIO_TYPE_SX1255;
    case FWD_RADIO_SX1257:
        return LGW_RADIO_TYPE_SX1257;
    default: /* SX1250 radios do not exist on SX1301 boards */
        return LGW_RADIO_TYPE_NONE;
    }
}

/* ---- counter ----
 * v5 has no lgw_get_instcnt: lgw_get_trigcnt reads LGW_TIMESTAMP, PPS-latched while LGW_GPS_EN
 * is 1 (lgw_start enables it) and free-running otherwise. Like the v4 forwarder's timersync.c,
 * the instantaneous counter is read with LGW_GPS_EN briefly 0, then 1 again. After that the
 * register may hold the value of the moment it was re-enabled until the next PPS edge, so the
 * PPS counter read just before the toggle is kept and returned while the register still shows
 * that stale value. */
#define STALE_WINDOW_US 1000u /* a latched value this close after a toggle is not an edge */

static uint32_t toggled_at; /* free-running value read at the last toggle */
static int toggled;         /* toggled_at is valid */
static uint32_t pps_before; /* last real PPS-latched value before that toggle */
static int pps_before_valid;

static int read_pps_locked(uint32_t* count_us)
{
    uint32_t trig = 0;
    if (lgw_get_trigcnt(&trig) != LGW_HAL_SUCCESS) {
        return -1;
    }
    if (toggled && (uint32_t)(trig - toggled_at) < STALE_WINDOW_US) {
        if (!pps_before_valid) {
            return -1; /* no edge seen yet */
        }
        *count_us = pps_before;
        return 0;
    }
    *count_us = trig;
    return 0;
}

static void counter_reset(void)
{
    toggled = 0;
    pps_before_valid = 0;
}

const struct fwd_lgw_chip* fwd_lgw_chip_info(void)
{
    /* The radio bandwidth is 925 kHz for 125 kHz channels, 1 MHz for 250 and 1.1 MHz for 500
     * (§3): IF ± bw/2 within ±462.5 / 500 / 550 kHz. 16 packets per lgw_receive
     * (LGW_PKT_FIFO_SIZE), no fine timestamps, no EUI, SPI only. */
    static const struct fwd_lgw_chip chip = {
        .name = "sx1301",
        .if_span_hz = LGW_RF_RX_BANDWIDTH_125KHZ / 2, /* 462.5 kHz */
        .max_rx = LGW_PKT_FIFO_SIZE,                  /* 16 */
        .fine_timestamp = 0,
        .has_eui = 0,
        .usb_only = 0,
        .if_span_250_hz = LGW_RF_RX_BANDWIDTH_250KHZ / 2, /* 500 kHz */
        .if_span_500_hz = LGW_RF_RX_BANDWIDTH_500KHZ / 2, /* 550 kHz */
        .spi_only = 1, /* stock lora_gateway: SPI (/dev/spidev0.0 compiled in) */
    };
    return &chip;
}

int fwd_lgw_start(const struct fwd_lgw_config* c, char* err, size_t err_len)
{
    counter_reset();
    if (c->usb) {
        return glue_fail(err, err_len, "the SX1301 HAL (lora_gateway) drives SPI boards only");
    }
    /* c->com_path: stock lora_gateway compiles /dev/spidev0.0 in (§7); c->full_duplex and
     * c->fine_timestamp have no SX1301 equivalent. */
    struct lgw_conf_board_s board;
    memset(&board, 0, sizeof board);
    board.lorawan_public = c->lorawan_public != 0;
    board.clksrc = c->clksrc;
    if (lgw_board_setconf(board) != LGW_HAL_SUCCESS) {
        return glue_fail(err, err_len, "lgw_board_setconf refused the board configuration");
    }
    /* One gain table for both chains: the transmitting radio's (else the first non-empty). */
    int table = -1;
    for (int r = 0; r < 2 && table < 0; ++r) {
        if (c->radios[r].tx_enable && c->gain_count[r] > 0) {
            table = r;
        }
    }
    for (int r = 0; r < 2 && table < 0; ++r) {
        if (c->gain_count[r] > 0) {
            table = r;
        }
    }
    if (table >= 0) {
        struct lgw_tx_gain_lut_s lut;
        memset(&lut, 0, sizeof lut);
        lut.size = c->gain_count[table] > TX_GAIN_LUT_SIZE_MAX ? TX_GAIN_LUT_SIZE_MAX
                                                               : c->gain_count[table];
        for (uint8_t i = 0; i < lut.size; ++i) {
            const struct fwd_lgw_gain* g = &c->gains[table][i];
            lut.lut[i].rf_power = g->rf_power;
            lut.lut[i].pa_gain = g->pa_gain;
            lut.lut[i].dig_gain = g->dig_gain;
            lut.lut[i].dac_gain = g->dac_gain;
            lut.lut[i].mix_gain = g->mix_gain;
        }
        if (lgw_txgain_setconf(&lut) != LGW_HAL_SUCCESS) {
            return glue_fail(err, err_len, "lgw_txgain_setconf refused the TX gain table");
        }
    }
    for (uint8_t r = 0; r < 2; ++r) {
        const struct fwd_lgw_radio* radio = &c->radios[r];
        if (radio->enable && radio->type == FWD_RADIO_SX1250) {
            return glue_fail(err, err_len, "SX1250 radios need the sx1302 driver");
        }
        struct lgw_conf_rxrf_s rf;
        memset(&rf, 0, sizeof rf);
        rf.enable = radio->enable != 0;
        rf.freq_hz = radio->center_hz;
        rf.rssi_offset = radio->rssi_offset;
        rf.type = radio_type(radio->type);
        rf.tx_enable = radio->tx_enable != 0;
        rf.tx_notch_freq =
            radio->tx_notch_freq_hz != 0 ? radio->tx_notch_freq_hz : LGW_DEFAULT_NOTCH_FREQ;
        if (lgw_rxrf_setconf(r, rf) != LGW_HAL_SUCCESS) {
            return glue_fail(err, err_len,
                             "lgw_rxrf_setconf refused a radio (type or centre frequency)");
        }
    }
    for (uint8_t i = 0; i < 8; ++i) {
        const struct fwd_lgw_channel* ch = &c->multi_sf[i];
        struct lgw_conf_rxif_s ifc;
        memset(&ifc, 0, sizeof ifc);
        ifc.enable = ch->enable != 0;
        ifc.rf_chain = ch->rf_chain;
        ifc.freq_hz = ch->if_hz;
        ifc.bandwidth = BW_125KHZ;
        ifc.datarate = DR_LORA_MULTI; /* SF7..SF12 */
        if (lgw_rxif_setconf(i, ifc) != LGW_HAL_SUCCESS) {
            return glue_fail(err, err_len,
                             "lgw_rxif_setconf refused a multi-SF channel (IF offset "
                             "beyond the radio's +-462.5 kHz?)");
        }
    }
    {
        struct lgw_conf_rxif_s ifc;
        memset(&ifc, 0, sizeof ifc);
        ifc.enable = c->lora_std.enable != 0;
        ifc.rf_chain = c->lora_std.rf_chain;
        ifc.freq_hz = c->lora_std.if_hz;
        ifc.bandwidth = glue_bandwidth_code(c->lora_std.bandwidth_hz);
        ifc.datarate = glue_sf_code(c->lora_std.datarate);
        if (ifc.enable && (ifc.bandwidth == BW_UNDEFINED || ifc.datarate == DR_UNDEFINED)) {
            return glue_fail(err, err_len,
                             "LoRa standard channel: SF7..SF12 at 125/250/500 kHz only");
        }
        if (lgw_rxif_setconf(8, ifc) != LGW_HAL_SUCCESS) {
            return glue_fail(err, err_len, "lgw_rxif_setconf refused the LoRa standard channel");
        }
    }
    {
        struct lgw_conf_rxif_s ifc;
        memset(&ifc, 0, sizeof ifc);
        ifc.enable = c->fsk.enable != 0;
        ifc.rf_chain = c->fsk.rf_chain;
        ifc.freq_hz = c->fsk.if_hz;
        ifc.bandwidth = glue_bandwidth_code(c->fsk.bandwidth_hz);
        ifc.datarate = c->fsk.datarate;
        if (lgw_rxif_setconf(9, ifc) != LGW_HAL_SUCCESS) {
            return glue_fail(err, err_len, "lgw_rxif_setconf refused the FSK channel");
        }
    }
    if (lgw_start() != LGW_HAL_SUCCESS) {
        return glue_fail(
            err, err_len,
            "lgw_start failed (concentrator not reset or absent, or not on the SPI path "
            "compiled into the HAL)");
    }
    /* A first counter read: from now on a value latched when LGW_GPS_EN was set is told
     * from a PPS edge. */
    uint32_t now = 0;
    (void)fwd_lgw_counter(&now);
    pps_before_valid = 0; /* what it read first was latched by lgw_start, not by an edge */
    return 0;
}

void fwd_lgw_stop(void)
{
    (void)lgw_stop();
    counter_reset();
}

int fwd_lgw_receive(struct fwd_lgw_rx* out, int max)
{
    struct lgw_pkt_rx_s packets[LGW_PKT_FIFO_SIZE];
    if (max > LGW_PKT_FIFO_SIZE) {
        max = LGW_PKT_FIFO_SIZE;
    }
    if (max < 1) {
        return 0;
    }
    const int n = lgw_receive((uint8_t)max, packets);
    if (n <= 0) {
        return n < 0 ? -1 : 0;
    }
    for (int i = 0; i < n; ++i) {
        const struct lgw_pkt_rx_s* p = &packets[i];
        struct fwd_lgw_rx* o = &out[i];
        memset(o, 0, sizeof *o);
        o->freq_hz = p->freq_hz;
        o->if_chain = p->if_chain;
        o->rf_chain = p->rf_chain;
        o->crc = glue_crc_status(p->status);
        o->lora = p->modulation == MOD_LORA;
        o->bandwidth_hz = glue_bandwidth_hz(p->bandwidth);
        /* LoRa: the DR bit back to the SF number; FSK: bit/s */
        o->datarate = o->lora ? glue_sf_number(p->datarate) : p->datarate;
        o->coding_rate = p->coderate >= CR_LORA_4_5 && p->coderate <= CR_LORA_4_8 ? p->coderate : 0;
        o->count_us = p->count_us;
        o->rssi_channel = p->rssi; /* v5 has one RSSI value */
        o->rssi_signal = p->rssi;
        o->snr = p->snr;
        o->size = p->size;
        memcpy(o->payload, p->payload, p->size <= sizeof o->payload ? p->size : sizeof o->payload);
    }
    return n;
}

int fwd_lgw_send(const struct fwd_lgw_tx* tx, char* err, size_t err_len)
{
    struct lgw_pkt_tx_s pkt;
    memset(&pkt, 0, sizeof pkt);
    pkt.freq_hz = tx->freq_hz;
    pkt.tx_mode = glue_tx_mode(tx->mode);
    pkt.count_us = tx->count_us;
    pkt.rf_chain = tx->rf_chain;
    pkt.rf_power = tx->power_dbm;
    if (tx->lora) {
        pkt.modulation = MOD_LORA;
        pkt.bandwidth = glue_bandwidth_code(tx->bandwidth_hz);
        if (pkt.bandwidth == BW_UNDEFINED) {
            return glue_fail(err, err_len, "unsupported LoRa bandwidth (SX1301: 125/250/500 kHz)");
        }
        pkt.datarate = glue_sf_code(tx->datarate);
        if (pkt.datarate == DR_UNDEFINED) {
            return glue_fail(err, err_len, "unsupported spreading factor (SX1301: SF7..SF12)");
        }
        pkt.coderate = (uint8_t)(tx->coding_rate == 2   ? CR_LORA_4_6
                                 : tx->coding_rate == 3 ? CR_LORA_4_7
                                 : tx->coding_rate == 4 ? CR_LORA_4_8
                                                        : CR_LORA_4_5);
    } else {
        pkt.modulation = MOD_FSK;
        pkt.datarate = tx->datarate;
        pkt.f_dev = tx->fdev_khz;
    }
    pkt.invert_pol = tx->invert_polarity != 0;
    pkt.preamble = tx->preamble;
    pkt.no_crc = tx->no_crc != 0;
    pkt.no_header = tx->no_header != 0;
    pkt.size = tx->size;
    memcpy(pkt.payload, tx->payload,
           tx->size <= sizeof pkt.payload ? tx->size : sizeof pkt.payload);
    const int rc = lgw_send(pkt); /* by value in v5 */
    if (rc == LGW_HAL_SUCCESS) {
        return 0;
    }
    if (rc == LGW_LBT_ISSUE) {
        glue_fail(err, err_len, "listen before talk: channel busy");
        return 1;
    }
    return glue_fail(err, err_len, "lgw_send refused the frame");
}

int fwd_lgw_tx_status(uint8_t rf_chain)
{
    (void)rf_chain; /* one TX path */
    uint8_t code = TX_STATUS_UNKNOWN;
    if (lgw_status(TX_STATUS, &code) != LGW_HAL_SUCCESS) {
        return FWD_TX_UNKNOWN;
    }
    return glue_tx_status(code);
}

int fwd_lgw_counter(uint32_t* count_us)
{
    uint32_t pps = 0;
    const int pps_ok = read_pps_locked(&pps) == 0;
    uint32_t now = 0;
    if (lgw_reg_w(LGW_GPS_EN, 0) != LGW_REG_SUCCESS) {
        return -1;
    }
    const int rc = lgw_get_trigcnt(&now);
    if (lgw_reg_w(LGW_GPS_EN, 1) != LGW_REG_SUCCESS || rc != LGW_HAL_SUCCESS) {
        (void)lgw_reg_w(LGW_GPS_EN, 1);
        return -1;
    }
    if (pps_ok) {
        pps_before = pps;
        pps_before_valid = 1;
    }
    toggled_at = now;
    toggled = 1;
    *count_us = now;
    return 0;
}

int fwd_lgw_pps_counter(uint32_t* count_us)
{
    return read_pps_locked(count_us);
}

int fwd_lgw_eui(uint64_t* eui)
{
    (void)eui; /* lora_gateway has no lgw_get_eui */
    return -1;
}

int fwd_lgw_temperature(float* celsius)
{
    (void)celsius; /* nor a temperature sensor */
    return -1;
}

const char* fwd_lgw_hal_version(void)
{
    return lgw_version_info();
}
