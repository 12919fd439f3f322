/*
 * The only translation unit that sees sx1302_hal's headers (see lgw_glue.h). Constants are
 * translated here, never passed through: BW_* and DR_* mean different things in the SX1301
 * HAL (libloragw.md §6).
 */
#include "lgw_glue.h"

#include <loragw_hal.h>

/* Needs the HAL's constants: after its headers. */
#include "lgw_glue_codes.h"

#include <stdio.h>
#include <string.h>

static lgw_radio_type_t radio_type(int type)
{
    switch (type) {
    case FWD_RADIO_SX1255:
        return LGW_RADIO_TYPE_SX1255;
    case FWD_RADIO_SX1257:
        return LGW_RADIO_TYPE_SX1257;
    case FWD_RADIO_SX1250:
        return LGW_RADIO_TYPE_SX1250;
    default:
        return LGW_RADIO_TYPE_NONE;
    }
}

const struct fwd_lgw_chip* fwd_lgw_chip_info(void)
{
    /* IF channels reach ±800 kHz whatever their width (libloragw.md §2.1); up to 255
     * packets per lgw_receive, fine timestamps on an SX1303, EUI from OTP. */
    static const struct fwd_lgw_chip chip = {"sx1302", 800000, 255, 1, 1, 0, 0, 0, 0};
    return &chip;
}

int fwd_lgw_start(const struct fwd_lgw_config* c, char* err, size_t err_len)
{
    struct lgw_conf_board_s board;
    memset(&board, 0, sizeof board);
    board.lorawan_public = c->lorawan_public != 0;
    board.clksrc = c->clksrc;
    board.full_duplex = c->full_duplex != 0;
    board.com_type = c->usb ? LGW_COM_USB : LGW_COM_SPI;
    snprintf(board.com_path, sizeof board.com_path, "%s", c->com_path);
    if (lgw_board_setconf(&board) != LGW_HAL_SUCCESS) {
        return glue_fail(err, err_len, "lgw_board_setconf refused the board configuration");
    }
    if (c->fine_timestamp) {
        struct lgw_conf_ftime_s ftime;
        memset(&ftime, 0, sizeof ftime);
        ftime.enable = true;
        ftime.mode = LGW_FTIME_MODE_ALL_SF;
        if (lgw_ftime_setconf(&ftime) != LGW_HAL_SUCCESS) {
            return glue_fail(err, err_len, "lgw_ftime_setconf refused the fine timestamp mode");
        }
    }
    for (uint8_t r = 0; r < 2; ++r) {
        const struct fwd_lgw_radio* radio = &c->radios[r];
        if (c->gain_count[r] > 0) {
            struct lgw_tx_gain_lut_s lut;
            memset(&lut, 0, sizeof lut);
            lut.size =
                c->gain_count[r] > TX_GAIN_LUT_SIZE_MAX ? TX_GAIN_LUT_SIZE_MAX : c->gain_count[r];
            for (uint8_t i = 0; i < lut.size; ++i) {
                const struct fwd_lgw_gain* g = &c->gains[r][i];
                lut.lut[i].rf_power = g->rf_power;
                lut.lut[i].pa_gain = g->pa_gain;
                lut.lut[i].pwr_idx = g->pwr_idx;
                lut.lut[i].dig_gain = g->dig_gain;
                lut.lut[i].dac_gain = g->dac_gain;
                lut.lut[i].mix_gain = g->mix_gain;
            }
            if (lgw_txgain_setconf(r, &lut) != LGW_HAL_SUCCESS) {
                return glue_fail(err, err_len, "lgw_txgain_setconf refused the TX gain table");
            }
        }
        struct lgw_conf_rxrf_s rf;
        memset(&rf, 0, sizeof rf);
        rf.enable = radio->enable != 0;
        rf.freq_hz = radio->center_hz;
        rf.rssi_offset = radio->rssi_offset;
        rf.rssi_tcomp.coeff_a = radio->tcomp[0];
        rf.rssi_tcomp.coeff_b = radio->tcomp[1];
        rf.rssi_tcomp.coeff_c = radio->tcomp[2];
        rf.rssi_tcomp.coeff_d = radio->tcomp[3];
        rf.rssi_tcomp.coeff_e = radio->tcomp[4];
        rf.type = radio_type(radio->type);
        rf.tx_enable = radio->tx_enable != 0;
        rf.single_input_mode = radio->single_input_mode != 0;
        if (lgw_rxrf_setconf(r, &rf) != LGW_HAL_SUCCESS) {
            return glue_fail(err, err_len,
                             "lgw_rxrf_setconf refused a radio (type or centre frequency)");
        }
    }
    struct lgw_conf_demod_s demod;
    memset(&demod, 0, sizeof demod);
    demod.multisf_datarate = 0xFF; /* SF5..SF12 */
    if (lgw_demod_setconf(&demod) != LGW_HAL_SUCCESS) {
        return glue_fail(err, err_len, "lgw_demod_setconf refused the demodulator configuration");
    }
    for (uint8_t i = 0; i < 8; ++i) {
        const struct fwd_lgw_channel* ch = &c->multi_sf[i];
        struct lgw_conf_rxif_s ifc;
        memset(&ifc, 0, sizeof ifc);
        ifc.enable = ch->enable != 0;
        ifc.rf_chain = ch->rf_chain;
        ifc.freq_hz = ch->if_hz;
        if (lgw_rxif_setconf(i, &ifc) != LGW_HAL_SUCCESS) {
            return glue_fail(err, err_len,
                             "lgw_rxif_setconf refused a multi-SF channel (IF offset "
                             "beyond the radio's +-800 kHz?)");
        }
    }
    {
        struct lgw_conf_rxif_s ifc;
        memset(&ifc, 0, sizeof ifc);
        ifc.enable = c->lora_std.enable != 0;
        ifc.rf_chain = c->lora_std.rf_chain;
        ifc.freq_hz = c->lora_std.if_hz;
        ifc.bandwidth = glue_bandwidth_code(c->lora_std.bandwidth_hz);
        ifc.datarate = c->lora_std.datarate;
        if (lgw_rxif_setconf(8, &ifc) != LGW_HAL_SUCCESS) {
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
        if (lgw_rxif_setconf(9, &ifc) != LGW_HAL_SUCCESS) {
            return glue_fail(err, err_len, "lgw_rxif_setconf refused the FSK channel");
        }
    }
    if (lgw_start() != LGW_HAL_SUCCESS) {
        return glue_fail(err, err_len,
                         "lgw_start failed (concentrator not reset or absent, wrong com_path, or "
                         "no temperature sensor on an SPI board)");
    }
    return 0;
}

void fwd_lgw_stop(void)
{
    (void)lgw_stop();
}

int fwd_lgw_receive(struct fwd_lgw_rx* out, int max)
{
    struct lgw_pkt_rx_s packets[16];
    if (max > 16) {
        max = 16;
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
        o->freq_offset_hz = p->freq_offset;
        o->if_chain = p->if_chain;
        o->rf_chain = p->rf_chain;
        o->modem_id = p->modem_id;
        o->crc = glue_crc_status(p->status);
        o->lora = p->modulation == MOD_LORA;
        o->bandwidth_hz = glue_bandwidth_hz(p->bandwidth);
        o->datarate = p->datarate; /* SX1302: the spreading factor number itself */
        o->coding_rate = p->coderate;
        o->count_us = p->count_us;
        o->rssi_channel = p->rssic;
        o->rssi_signal = p->rssis;
        o->snr = p->snr;
        o->fine_timestamp_valid = p->ftime_received ? 1 : 0;
        o->fine_timestamp_ns = p->ftime;
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
        pkt.datarate = tx->datarate;
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
    const int rc = lgw_send(&pkt);
    if (rc == LGW_HAL_SUCCESS) {
        return 0;
    }
    if (rc == LGW_LBT_NOT_ALLOWED) {
        glue_fail(err, err_len, "listen before talk: channel busy");
        return 1;
    }
    return glue_fail(err, err_len, "lgw_send refused the frame");
}

int fwd_lgw_tx_status(uint8_t rf_chain)
{
    uint8_t code = TX_STATUS_UNKNOWN;
    if (lgw_status(rf_chain, TX_STATUS, &code) != LGW_HAL_SUCCESS) {
        return FWD_TX_UNKNOWN;
    }
    return glue_tx_status(code);
}

int fwd_lgw_counter(uint32_t* count_us)
{
    return lgw_get_instcnt(count_us) == LGW_HAL_SUCCESS ? 0 : -1;
}

int fwd_lgw_pps_counter(uint32_t* count_us)
{
    return lgw_get_trigcnt(count_us) == LGW_HAL_SUCCESS ? 0 : -1;
}

int fwd_lgw_eui(uint64_t* eui)
{
    return lgw_get_eui(eui) == LGW_HAL_SUCCESS ? 0 : -1;
}

int fwd_lgw_temperature(float* celsius)
{
    return lgw_get_temperature(celsius) == LGW_HAL_SUCCESS ? 0 : -1;
}

const char* fwd_lgw_hal_version(void)
{
    return lgw_version_info();
}
