/*
 * fake-loragw (picogw flavour): a test double of the picoGW_hal V0.2.3 libloragw API.
 *
 * Written for the forwarder project from shared/spec/libloragw.md (§3, §4, §6); no Semtech
 * code. One process-global state behind one mutex; prints nothing. Modelled: lgw_connect before
 * any setconf (the MCU answers them), lgw_stop disconnecting, by-value structs, one TX gain
 * table, the SX1308 IF reach per channel bandwidth, 1..16 packets per lgw_receive, a true
 * 32-bit counter, LGW_TIMESTAMP latched at PPS while LGW_GPS_EN is 1. The clock, call log,
 * failure injection, RX queue, time on air and TX timing live in ../common/fake_core.c.
 */
#define _POSIX_C_SOURCE 200809L

#include "fake_loragw.h"

#include "fake_core.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

enum fn_id {
    FN_CONNECT,
    FN_DISCONNECT,
    FN_REG_R,
    FN_REG_W,
    FN_BOARD_SETCONF,
    FN_RXRF_SETCONF,
    FN_RXIF_SETCONF,
    FN_TXGAIN_SETCONF,
    FN_START,
    FN_STOP,
    FN_RECEIVE,
    FN_SEND,
    FN_STATUS,
    FN_ABORT_TX,
    FN_GET_TRIGCNT,
    FN_VERSION_INFO,
    FN_MCU_VERSION_INFO,
    FN_TIME_ON_AIR,
    FN_COUNT
};

static const char* const fn_names[FN_COUNT] = {
    "lgw_connect",      "lgw_disconnect",       "lgw_reg_r",
    "lgw_reg_w",        "lgw_board_setconf",    "lgw_rxrf_setconf",
    "lgw_rxif_setconf", "lgw_txgain_setconf",   "lgw_start",
    "lgw_stop",         "lgw_receive",          "lgw_send",
    "lgw_status",       "lgw_abort_tx",         "lgw_get_trigcnt",
    "lgw_version_info", "lgw_mcu_version_info", "lgw_time_on_air",
};

struct tx_entry {
    struct lgw_pkt_tx_s pkt;
    struct fake_core_tx_timing timing;
};

static struct {
    bool connected, started;
    char com_path[64];

    bool board_set, txgain_set;
    bool rxrf_set[LGW_RF_CHAIN_NB], rxif_set[LGW_IF_CHAIN_NB];
    struct lgw_conf_board_s board;
    struct lgw_conf_rxrf_s rxrf[LGW_RF_CHAIN_NB];
    struct lgw_conf_rxif_s rxif[LGW_IF_CHAIN_NB];
    struct lgw_tx_gain_lut_s txgain;

    bool gps_en;
    uint32_t latched; /* LGW_TIMESTAMP when GPS_EN was set, before any PPS edge */

    struct fake_core_tx_slot slot; /* one TX path */
} st;

static void reset_locked(void)
{
    memset(&st, 0, sizeof st);
}

FAKE_CORE_DEFINE_FLAVOUR(struct lgw_pkt_rx_s, struct fake_lgw_call, enum fake_lgw_call_kind)

/* LGW_TIMESTAMP: free-running, or latched at the last PPS edge while LGW_GPS_EN is 1. */
static uint32_t timestamp_reg_locked(void)
{
    uint32_t phase = 0;
    const uint32_t now = fake_core_counter_at(fake_core_elapsed_us(&phase));
    if (!st.gps_en) {
        return now;
    }
    return fake_core_st.pps ? now - phase : st.latched;
}

static uint32_t bw_hz(uint8_t bw)
{
    switch (bw) {
    case BW_125KHZ:
        return 125000u;
    case BW_250KHZ:
        return 250000u;
    case BW_500KHZ:
        return 500000u;
    case BW_62K5HZ:
        return 62500u;
    case BW_31K2HZ:
        return 31200u;
    case BW_15K6HZ:
        return 15600u;
    case BW_7K8HZ:
        return 7800u;
    default:
        return 0;
    }
}

static int sf_of(uint32_t dr)
{
    switch (dr) {
    case DR_LORA_SF7:
        return 7;
    case DR_LORA_SF8:
        return 8;
    case DR_LORA_SF9:
        return 9;
    case DR_LORA_SF10:
        return 10;
    case DR_LORA_SF11:
        return 11;
    case DR_LORA_SF12:
        return 12;
    default:
        return 0;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* USB link and registers                                                                       */

int lgw_connect(const char* com_path)
{
    fake_core_lock();
    int rc = LGW_REG_SUCCESS;
    if (fake_core_enter(FN_CONNECT) || st.connected || com_path == NULL || com_path[0] == '\0' ||
        strlen(com_path) >= sizeof st.com_path) {
        rc = LGW_REG_ERROR;
    } else {
        st.connected = true;
        snprintf(st.com_path, sizeof st.com_path, "%s", com_path);
    }
    record(FAKE_LGW_CALL_CONNECT, FN_CONNECT, -1, rc, NULL, 0);
    fake_core_unlock();
    return rc;
}

int lgw_disconnect(void)
{
    fake_core_lock();
    int rc = LGW_REG_SUCCESS;
    if (fake_core_enter(FN_DISCONNECT) || !st.connected) {
        rc = LGW_REG_ERROR;
    } else {
        st.connected = false;
        st.started = false;
        memset(&st.slot, 0, sizeof st.slot);
    }
    record(FAKE_LGW_CALL_DISCONNECT, FN_DISCONNECT, -1, rc, NULL, 0);
    fake_core_unlock();
    return rc;
}

int lgw_reg_r(uint16_t register_id, int32_t* reg_value)
{
    fake_core_lock();
    int rc = LGW_REG_SUCCESS;
    if (fake_core_enter(FN_REG_R) || !st.connected || reg_value == NULL) {
        rc = LGW_REG_ERROR;
    } else if (register_id == LGW_TIMESTAMP) {
        *reg_value = (int32_t)timestamp_reg_locked();
    } else if (register_id == LGW_GPS_EN) {
        *reg_value = st.gps_en ? 1 : 0;
    } else {
        rc = LGW_REG_ERROR;
    }
    fake_core_unlock();
    return rc;
}

int lgw_reg_w(uint16_t register_id, int32_t reg_value)
{
    fake_core_lock();
    int rc = LGW_REG_SUCCESS;
    if (fake_core_enter(FN_REG_W) || !st.connected || register_id != LGW_GPS_EN) {
        rc = LGW_REG_ERROR;
    } else {
        if (reg_value != 0 && !st.gps_en) {
            st.latched = fake_core_counter_at(fake_core_elapsed_us(NULL));
        }
        st.gps_en = reg_value != 0;
    }
    fake_core_unlock();
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* configuration                                                                                */

#define SETCONF_PROLOGUE(fn)                                                                       \
    int rc = LGW_HAL_SUCCESS;                                                                      \
    fake_core_lock();                                                                              \
    if (fake_core_enter(fn) || !st.connected || st.started) {                                      \
        rc = LGW_HAL_ERROR;                                                                        \
    }

int lgw_board_setconf(struct lgw_conf_board_s conf)
{
    SETCONF_PROLOGUE(FN_BOARD_SETCONF)
    if (rc == LGW_HAL_SUCCESS && conf.clksrc > 1) {
        rc = LGW_HAL_ERROR;
    }
    if (rc == LGW_HAL_SUCCESS) {
        st.board = conf;
        st.board_set = true;
    }
    record(FAKE_LGW_CALL_BOARD, FN_BOARD_SETCONF, -1, rc, &conf, sizeof conf);
    fake_core_unlock();
    return rc;
}

int lgw_rxrf_setconf(uint8_t rf_chain, struct lgw_conf_rxrf_s conf)
{
    SETCONF_PROLOGUE(FN_RXRF_SETCONF)
    if (rc == LGW_HAL_SUCCESS && rf_chain >= LGW_RF_CHAIN_NB) {
        rc = LGW_HAL_ERROR;
    }
    if (rc == LGW_HAL_SUCCESS && conf.enable) {
        if (conf.type != LGW_RADIO_TYPE_SX1255 && conf.type != LGW_RADIO_TYPE_SX1257) {
            rc = LGW_HAL_ERROR;
        } else if (conf.freq_hz < 100000000u || conf.freq_hz > 1000000000u) {
            rc = LGW_HAL_ERROR;
        }
    }
    if (rc == LGW_HAL_SUCCESS) {
        st.rxrf[rf_chain] = conf;
        st.rxrf_set[rf_chain] = true;
    }
    record(FAKE_LGW_CALL_RXRF, FN_RXRF_SETCONF, rf_chain, rc, &conf, sizeof conf);
    fake_core_unlock();
    return rc;
}

int lgw_rxif_setconf(uint8_t if_chain, struct lgw_conf_rxif_s conf)
{
    SETCONF_PROLOGUE(FN_RXIF_SETCONF)
    if (rc == LGW_HAL_SUCCESS && if_chain >= LGW_IF_CHAIN_NB) {
        rc = LGW_HAL_ERROR;
    }
    if (rc == LGW_HAL_SUCCESS && conf.enable) {
        uint32_t bw = bw_hz(conf.bandwidth);
        if (conf.rf_chain >= LGW_RF_CHAIN_NB) {
            rc = LGW_HAL_ERROR;
        } else if (if_chain < LGW_MULTI_NB) {
            /* multi-SF: 125 kHz, a set of SF7..SF12 */
            if (conf.bandwidth != BW_UNDEFINED && conf.bandwidth != BW_125KHZ) {
                rc = LGW_HAL_ERROR;
            }
            if (conf.datarate != DR_UNDEFINED &&
                ((conf.datarate & ~(uint32_t)DR_LORA_MULTI) != 0)) {
                rc = LGW_HAL_ERROR;
            }
            bw = 125000u;
        } else if (if_chain == 8) {
            /* LoRa standard: 125/250/500 kHz, one spreading factor */
            if (bw != 125000u && bw != 250000u && bw != 500000u) {
                rc = LGW_HAL_ERROR;
            }
            if (sf_of(conf.datarate) == 0) {
                rc = LGW_HAL_ERROR;
            }
        } else {
            if (bw == 0 || conf.datarate < DR_FSK_MIN || conf.datarate > DR_FSK_MAX) {
                rc = LGW_HAL_ERROR;
            }
        }
        /* the SX1308 receive bandwidth depends on the channel's (spec §3) */
        const int64_t rf_bw = bw <= 125000u   ? LGW_RF_RX_BANDWIDTH_125KHZ
                              : bw <= 250000u ? LGW_RF_RX_BANDWIDTH_250KHZ
                                              : LGW_RF_RX_BANDWIDTH_500KHZ;
        const int64_t off = conf.freq_hz < 0 ? -(int64_t)conf.freq_hz : (int64_t)conf.freq_hz;
        if (rc == LGW_HAL_SUCCESS && off + (int64_t)bw / 2 > rf_bw / 2) {
            rc = LGW_HAL_ERROR;
        }
    }
    if (rc == LGW_HAL_SUCCESS) {
        st.rxif[if_chain] = conf;
        st.rxif_set[if_chain] = true;
    }
    record(FAKE_LGW_CALL_RXIF, FN_RXIF_SETCONF, if_chain, rc, &conf, sizeof conf);
    fake_core_unlock();
    return rc;
}

int lgw_txgain_setconf(struct lgw_tx_gain_lut_s* conf)
{
    SETCONF_PROLOGUE(FN_TXGAIN_SETCONF)
    if (rc == LGW_HAL_SUCCESS &&
        (conf == NULL || conf->size < 1 || conf->size > TX_GAIN_LUT_SIZE_MAX)) {
        rc = LGW_HAL_ERROR;
    }
    for (uint8_t i = 0; rc == LGW_HAL_SUCCESS && i < conf->size; ++i) {
        const struct lgw_tx_gain_s* g = &conf->lut[i];
        if (g->dig_gain > 3 || g->dac_gain > 3 || g->pa_gain > 3 || g->mix_gain > 15) {
            rc = LGW_HAL_ERROR;
        }
    }
    if (rc == LGW_HAL_SUCCESS) {
        st.txgain = *conf;
        st.txgain_set = true;
    }
    record(FAKE_LGW_CALL_TXGAIN, FN_TXGAIN_SETCONF, -1, rc, conf, conf ? sizeof *conf : 0);
    fake_core_unlock();
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* start / stop                                                                                 */

int lgw_start(void)
{
    fake_core_lock();
    int rc = LGW_HAL_SUCCESS;
    if (fake_core_enter(FN_START) || !st.connected || st.started) {
        rc = LGW_HAL_ERROR;
    } else {
        memset(&st.slot, 0, sizeof st.slot);
        st.started = true;
        /* PPS capture on, as lora_gateway v5's lgw_start does */
        st.latched = fake_core_counter_at(fake_core_elapsed_us(NULL));
        st.gps_en = true;
    }
    record(FAKE_LGW_CALL_START, FN_START, -1, rc, NULL, 0);
    fake_core_unlock();
    return rc;
}

int lgw_stop(void)
{
    fake_core_lock();
    int rc = LGW_HAL_SUCCESS;
    if (fake_core_enter(FN_STOP)) {
        rc = LGW_HAL_ERROR;
    } else {
        memset(&st.slot, 0, sizeof st.slot);
        st.started = false;
        st.connected = false; /* picoGW: lgw_stop closes the USB link */
        st.gps_en = false;
    }
    record(FAKE_LGW_CALL_STOP, FN_STOP, -1, rc, NULL, 0);
    fake_core_unlock();
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* RX                                                                                           */

int lgw_receive(uint8_t max_pkt, struct lgw_pkt_rx_s* pkt_data)
{
    fake_core_lock();
    if (fake_core_enter(FN_RECEIVE) || !st.started || pkt_data == NULL || max_pkt < 1 ||
        max_pkt > LGW_PKT_FIFO_SIZE) {
        fake_core_unlock();
        return LGW_HAL_ERROR;
    }
    const int n = fake_core_rx_take(pkt_data, max_pkt);
    fake_core_unlock();
    return n;
}

/* ------------------------------------------------------------------------------------------ */
/* time on air                                                                                  */

static double toa_us_locked(const struct lgw_pkt_tx_s* p)
{
    if (p->modulation == MOD_LORA) {
        return fake_core_lora_toa_us(bw_hz(p->bandwidth), sf_of(p->datarate), (int)p->coderate,
                                     p->preamble, p->size, p->no_crc, p->no_header,
                                     FAKE_CORE_LDRO_SF11_UP_125K);
    }
    if (p->modulation == MOD_FSK) {
        unsigned sync = 3;
        if (st.rxif_set[9] && st.rxif[9].sync_word_size > 0) {
            sync = st.rxif[9].sync_word_size;
        }
        return fake_core_fsk_toa_us(p->datarate, p->preamble, sync, p->size, p->no_crc);
    }
    return 0.0;
}

FAKE_CORE_DEFINE_TOA_US(struct lgw_pkt_tx_s)

uint32_t lgw_time_on_air(struct lgw_pkt_tx_s* packet)
{
    fake_core_lock();
    uint32_t ms = 0;
    if (!fake_core_enter(FN_TIME_ON_AIR) && packet) {
        const double us = toa_us_locked(packet);
        if (us > 0.0) {
            ms = (uint32_t)ceil(us / 1000.0);
        }
    }
    fake_core_unlock();
    return ms;
}

/* ------------------------------------------------------------------------------------------ */
/* TX                                                                                           */

static bool tx_params_ok(const struct lgw_pkt_tx_s* p)
{
    if (p->rf_chain >= LGW_RF_CHAIN_NB || p->size > 255) {
        return false;
    }
    if (p->tx_mode != IMMEDIATE && p->tx_mode != TIMESTAMPED && p->tx_mode != ON_GPS) {
        return false;
    }
    switch (p->modulation) {
    case MOD_LORA: {
        const uint32_t bw = bw_hz(p->bandwidth);
        return (bw == 125000u || bw == 250000u || bw == 500000u) && sf_of(p->datarate) != 0 &&
               p->coderate >= CR_LORA_4_5 && p->coderate <= CR_LORA_4_8;
    }
    case MOD_FSK:
        return p->datarate >= DR_FSK_MIN && p->datarate <= DR_FSK_MAX;
    default:
        return false;
    }
}

int lgw_send(struct lgw_pkt_tx_s pkt_data)
{
    fake_core_lock();
    if (fake_core_enter(FN_SEND) || !st.started || !tx_params_ok(&pkt_data) ||
        !st.rxrf_set[pkt_data.rf_chain] || !st.rxrf[pkt_data.rf_chain].tx_enable) {
        fake_core_unlock();
        return LGW_HAL_ERROR;
    }
    struct tx_entry* e = fake_core_vec_push(&fake_core_st.tx, sizeof *e, 16);
    if (!e) {
        fake_core_unlock();
        return LGW_HAL_ERROR;
    }
    struct lgw_pkt_tx_s eff = pkt_data;
    eff.preamble = (uint16_t)fake_core_tx_preamble(eff.modulation == MOD_LORA, eff.preamble);
    e->pkt = pkt_data;
    e->timing = fake_core_tx_schedule(&st.slot, (enum fake_core_tx_mode)pkt_data.tx_mode,
                                      pkt_data.count_us, fake_core_st.pps, toa_us_locked(&eff));
    fake_core_unlock();
    return LGW_HAL_SUCCESS;
}

static const uint8_t tx_codes[] = {
    [FAKE_CORE_TX_FREE] = TX_FREE,
    [FAKE_CORE_TX_SCHEDULED] = TX_SCHEDULED,
    [FAKE_CORE_TX_EMITTING] = TX_EMITTING,
};

int lgw_status(uint8_t select, uint8_t* code)
{
    fake_core_lock();
    if (fake_core_enter(FN_STATUS) || code == NULL) {
        fake_core_unlock();
        return LGW_HAL_ERROR;
    }
    int rc = LGW_HAL_SUCCESS;
    if (select == TX_STATUS) {
        *code = st.started ? tx_codes[fake_core_tx_state(&st.slot)] : TX_OFF;
    } else if (select == RX_STATUS) {
        *code = st.started ? RX_ON : RX_OFF;
    } else {
        rc = LGW_HAL_ERROR;
    }
    fake_core_unlock();
    return rc;
}

int lgw_abort_tx(void)
{
    fake_core_lock();
    int rc = LGW_HAL_SUCCESS;
    if (fake_core_enter(FN_ABORT_TX) || !st.started) {
        rc = LGW_HAL_ERROR;
    } else {
        memset(&st.slot, 0, sizeof st.slot);
    }
    fake_core_unlock();
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* counter, versions                                                                            */

int lgw_get_trigcnt(uint32_t* trig_cnt_us)
{
    fake_core_lock();
    int rc = LGW_HAL_SUCCESS;
    if (fake_core_enter(FN_GET_TRIGCNT) || !st.started || trig_cnt_us == NULL) {
        rc = LGW_HAL_ERROR;
    } else {
        *trig_cnt_us = timestamp_reg_locked();
    }
    fake_core_unlock();
    return rc;
}

const char* lgw_version_info(void)
{
    fake_core_count(FN_VERSION_INFO);
    return "Version: 0.2.3;";
}

int lgw_mcu_version_info(void)
{
    fake_core_lock();
    int rc = LGW_HAL_SUCCESS;
    if (fake_core_enter(FN_MCU_VERSION_INFO) || !st.connected) {
        rc = LGW_HAL_ERROR;
    }
    fake_core_unlock();
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* control API                                                                                  */

FAKE_CORE_DEFINE_READ(fake_lgw_gps_en, int, st.gps_en ? 1 : 0)
FAKE_CORE_DEFINE_READ(fake_lgw_is_connected, int, st.connected ? 1 : 0)

int fake_lgw_get_com_path(char* out, size_t len)
{
    if (out == NULL || len == 0) {
        return -1;
    }
    fake_core_lock();
    snprintf(out, len, "%s", st.com_path);
    fake_core_unlock();
    return 0;
}

FAKE_CORE_DEFINE_ACCESSORS(struct lgw_pkt_rx_s, struct tx_entry, struct lgw_pkt_tx_s,
                           struct fake_lgw_tx_info)

FAKE_CORE_DEFINE_GETTER(fake_lgw_get_board_conf, struct lgw_conf_board_s, st.board_set, st.board)
FAKE_CORE_DEFINE_GETTER(fake_lgw_get_txgain_conf, struct lgw_tx_gain_lut_s, st.txgain_set,
                        st.txgain)
FAKE_CORE_DEFINE_CHAIN_GETTER(fake_lgw_get_rxrf_conf, struct lgw_conf_rxrf_s, LGW_RF_CHAIN_NB,
                              st.rxrf_set, st.rxrf)
FAKE_CORE_DEFINE_CHAIN_GETTER(fake_lgw_get_rxif_conf, struct lgw_conf_rxif_s, LGW_IF_CHAIN_NB,
                              st.rxif_set, st.rxif)
FAKE_CORE_DEFINE_READ(fake_lgw_is_started, int, st.started ? 1 : 0)
