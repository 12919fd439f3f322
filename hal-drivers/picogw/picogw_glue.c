/*
 * The only translation unit that sees picoGW_hal V0.2.3's headers (see lgw_glue.h). The HAL
 * keeps lora_gateway v5's API: structs passed by value, one TX gain table for both RF chains,
 * BW_* codes and DR_* spreading-factor bitmasks that differ from sx1302_hal's (libloragw.md §6):
 * every constant is translated here, never passed through. picoGW specifics (§4): the USB tty is
 * opened by lgw_connect() before any *_setconf (those go to the STM32), lgw_stop() closes it.
 *
 * Counter: the HAL has no lgw_get_instcnt. lgw_get_trigcnt reads LGW_TIMESTAMP, which holds the
 * free-running 32-bit µs counter while LGW_GPS_EN is 0 and the PPS-latched value while it is 1
 * (§3). The PicoCell has no PPS input, so after lgw_start we clear LGW_GPS_EN and use
 * lgw_get_trigcnt as the instantaneous counter; there is no PPS counter.
 */
#include "lgw_glue.h"

#include <loragw_hal.h>
#include <loragw_reg.h>

/* Needs the HAL's constants: after its headers. */
#include "lgw_glue_codes.h"

#include <stdio.h>
#include <string.h>

const struct fwd_lgw_chip* fwd_lgw_chip_info(void)
{
    /* SX1308 receive bandwidth 925 kHz for 125 kHz channels (edge at ±462.5 kHz), 1 MHz for
     * 250 kHz, 1.1 MHz for 500 kHz (libloragw.md §3); at most 16 packets per lgw_receive; no
     * fine timestamps; no EUI call; USB only. */
    static const struct fwd_lgw_chip chip = {"picogw", 462500, 16, 0, 0, 1, 500000, 550000, 0};
    return &chip;
}

/* Configures the HAL; the link is open. */
static int configure(const struct fwd_lgw_config* c, char* err, size_t err_len)
{
    struct lgw_conf_board_s board;
    memset(&board, 0, sizeof board);
    board.lorawan_public = c->lorawan_public != 0;
    board.clksrc = c->clksrc;
    if (lgw_board_setconf(board) != LGW_HAL_SUCCESS) {
        return glue_fail(err, err_len, "lgw_board_setconf refused the board configuration");
    }
    /* One gain table for the board: the transmitting chain's. */
    const int g = c->gain_count[0] > 0 ? 0 : 1;
    if (c->gain_count[g] > 0) {
        struct lgw_tx_gain_lut_s lut;
        memset(&lut, 0, sizeof lut);
        lut.size =
            c->gain_count[g] > TX_GAIN_LUT_SIZE_MAX ? TX_GAIN_LUT_SIZE_MAX : c->gain_count[g];
        for (uint8_t i = 0; i < lut.size; ++i) {
            const struct fwd_lgw_gain* e = &c->gains[g][i];
            lut.lut[i].rf_power = e->rf_power;
            lut.lut[i].pa_gain = e->pa_gain;
            lut.lut[i].dig_gain = e->dig_gain;
            lut.lut[i].dac_gain = e->dac_gain;
            lut.lut[i].mix_gain = e->mix_gain;
        }
        if (lgw_txgain_setconf(&lut) != LGW_HAL_SUCCESS) {
            return glue_fail(err, err_len, "lgw_txgain_setconf refused the TX gain table");
        }
    }
    for (uint8_t r = 0; r < 2; ++r) {
        const struct fwd_lgw_radio* radio = &c->radios[r];
        struct lgw_conf_rxrf_s rf;
        memset(&rf, 0, sizeof rf);
        rf.enable = radio->enable != 0;
        rf.freq_hz = radio->center_hz;
        rf.rssi_offset = radio->rssi_offset;
        rf.tx_enable = radio->tx_enable != 0;
        switch (radio->type) {
        case FWD_RADIO_SX1255:
            rf.type = LGW_RADIO_TYPE_SX1255;
            break;
        case FWD_RADIO_SX1257:
            rf.type = LGW_RADIO_TYPE_SX1257;
            break;
        default:
            if (rf.enable) {
                return glue_fail(err, err_len,
                                 "the picoGW has SX1255/SX1257 radios: set radios[].type (or use "
                                 "board: picocell)");
            }
            rf.type = LGW_RADIO_TYPE_NONE;
        }
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
        ifc.datarate = DR_LORA_MULTI;
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
        if (ifc.enable && ifc.datarate == DR_UNDEFINED) {
            return glue_fail(err, err_len,
                             "the LoRa standard channel needs SF7..SF12 on the SX1308");
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
    return 0;
}

int fwd_lgw_start(const struct fwd_lgw_config* c, char* err, size_t err_len)
{
    /* c->usb, full_duplex and fine_timestamp have no meaning here: USB only, half duplex,
     * no fine timestamps. */
    if (lgw_connect(c->com_path) != 0) {
        return glue_fail(err, err_len,
                         "lgw_connect failed (no picoGW on com_path, tty busy, or wrong STM32 "
                         "firmware)");
    }
    if (configure(c, err, err_len) != 0) {
        (void)lgw_disconnect();
        return -1;
    }
    if (lgw_start() != LGW_HAL_SUCCESS) {
        (void)lgw_disconnect();
        return glue_fail(err, err_len, "lgw_start failed (concentrator not answering over USB)");
    }
#ifdef LGW_GPS_EN
    /* No PPS on the PicoCell: keep LGW_TIMESTAMP free-running (see the top of this file). */
    if (lgw_reg_w(LGW_GPS_EN, 0) != 0) {
        (void)lgw_stop();
        return glue_fail(err, err_len, "cannot clear LGW_GPS_EN: the counter would not run");
    }
#endif
    return 0;
}

void fwd_lgw_stop(void)
{
    (void)lgw_stop(); /* also closes the USB link */
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
        o->datarate = o->lora ? glue_sf_number(p->datarate) : p->datarate;
        o->coding_rate = p->coderate;
        o->count_us = p->count_us;
        /* one RSSI value: the channel's; no signal RSSI, frequency offset or modem id */
        o->rssi_channel = p->rssi;
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
            return glue_fail(err, err_len, "unsupported LoRa bandwidth");
        }
        pkt.datarate = glue_sf_code(tx->datarate);
        if (pkt.datarate == DR_UNDEFINED) {
            return glue_fail(err, err_len,
                             "unsupported spreading factor (the SX1308 has SF7..SF12)");
        }
        pkt.coderate =
            (uint8_t)(tx->coding_rate >= 1 && tx->coding_rate <= 4 ? tx->coding_rate : 1);
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
    const int rc = lgw_send(pkt);
    if (rc == LGW_HAL_SUCCESS) {
        return 0;
    }
#ifdef LGW_LBT_ISSUE
    /* picoGW_hal has no LBT (libloragw.md §4); should a header define the lora_gateway code,
     * it means the same refusal. */
    if (rc == LGW_LBT_ISSUE) {
        glue_fail(err, err_len, "listen before talk: channel busy");
        return 1;
    }
#endif
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
    /* LGW_TIMESTAMP, free-running since fwd_lgw_start cleared LGW_GPS_EN. */
    return lgw_get_trigcnt(count_us) == LGW_HAL_SUCCESS ? 0 : -1;
}

int fwd_lgw_pps_counter(uint32_t* count_us)
{
    (void)count_us; /* no PPS input on the PicoCell */
    return -1;
}

int fwd_lgw_eui(uint64_t* eui)
{
    (void)eui; /* the STM32 unique id is not a chip EUI */
    return -1;
}

int fwd_lgw_temperature(float* celsius)
{
    (void)celsius; /* no sensor the HAL reads */
    return -1;
}

const char* fwd_lgw_hal_version(void)
{
    return lgw_version_info();
}
