/*
 * fake-loragw: a test double of the lora_gateway v5.0.1 (SX1301/SX1308) libloragw API.
 *
 * Written for the forwarder project from shared/spec/libloragw.md (§3, §6) and
 * shared/spec/timing.md; no Semtech code. One process-global state behind one mutex; prints
 * nothing. Exports the same lgw_* / fake_lgw_* names as the sx1302 double: never link both.
 * The clock, call log, failure injection, RX queue, LBT, time on air and TX timing live in
 * ../common/fake_core.c.
 */
#define _POSIX_C_SOURCE 200809L

#include "fake_loragw.h"

#include "fake_core.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* state                                                                                        */

enum fn_id {
    FN_BOARD_SETCONF,
    FN_LBT_SETCONF,
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
    FN_REG_W,
    FN_REG_R,
    FN_VERSION_INFO,
    FN_TIME_ON_AIR,
    FN_COUNT
};

static const char* const fn_names[FN_COUNT] = {
    "lgw_board_setconf",  "lgw_lbt_setconf", "lgw_rxrf_setconf", "lgw_rxif_setconf",
    "lgw_txgain_setconf", "lgw_start",       "lgw_stop",         "lgw_receive",
    "lgw_send",           "lgw_status",      "lgw_abort_tx",     "lgw_get_trigcnt",
    "lgw_reg_w",          "lgw_reg_r",       "lgw_version_info", "lgw_time_on_air",
};

struct tx_entry {
    struct lgw_pkt_tx_s pkt;
    struct fake_core_tx_timing timing;
};

static struct {
    bool started;

    bool board_set, lbt_set, txgain_set;
    bool rxrf_set[LGW_RF_CHAIN_NB], rxif_set[LGW_IF_CHAIN_NB];
    struct lgw_conf_board_s board;
    struct lgw_conf_lbt_s lbt;
    struct lgw_conf_rxrf_s rxrf[LGW_RF_CHAIN_NB];
    struct lgw_conf_rxif_s rxif[LGW_IF_CHAIN_NB];
    struct lgw_tx_gain_lut_s txgain;

    /* LGW_GPS_EN and what LGW_TIMESTAMP holds until the next PPS edge after enabling */
    bool gps_en;
    uint64_t gps_en_elapsed;
    uint32_t gps_en_counter;

    struct fake_core_tx_slot slot; /* one TX path */
} st;

static void reset_locked(void)
{
    memset(&st, 0, sizeof st);
}

FAKE_CORE_DEFINE_FLAVOUR(struct lgw_pkt_rx_s, struct fake_lgw_call, enum fake_lgw_call_kind)

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

/* SF number of a single DR_LORA_SFn bit, 0 otherwise. */
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

/* The radio bandwidth an IF channel of this width must fit in (spec §3). */
static int32_t rf_rx_bandwidth(uint32_t bw)
{
    return bw >= 500000u   ? LGW_RF_RX_BANDWIDTH_500KHZ
           : bw >= 250000u ? LGW_RF_RX_BANDWIDTH_250KHZ
                           : LGW_RF_RX_BANDWIDTH_125KHZ;
}

/* ------------------------------------------------------------------------------------------ */
/* configuration (structs by value, as in lora_gateway v5)                                      */

#define SETCONF_PROLOGUE(fn)                                                                       \
    int rc = LGW_HAL_SUCCESS;                                                                      \
    fake_core_lock();                                                                              \
    if (fake_core_enter(fn) || st.started) {                                                       \
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

int lgw_lbt_setconf(struct lgw_conf_lbt_s conf)
{
    SETCONF_PROLOGUE(FN_LBT_SETCONF)
    if (rc == LGW_HAL_SUCCESS && conf.enable &&
        (conf.nb_channel < 1 || conf.nb_channel > LBT_CHANNEL_FREQ_NB)) {
        rc = LGW_HAL_ERROR;
    }
    if (rc == LGW_HAL_SUCCESS) {
        st.lbt = conf;
        st.lbt_set = true;
    }
    record(FAKE_LGW_CALL_LBT, FN_LBT_SETCONF, -1, rc, &conf, sizeof conf);
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
    if (rc == LGW_HAL_SUCCESS && conf.tx_enable &&
        (conf.tx_notch_freq < LGW_MIN_NOTCH_FREQ || conf.tx_notch_freq > LGW_MAX_NOTCH_FREQ)) {
        conf.tx_notch_freq = 0; /* out of range: notch filter off (our choice) */
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
        if (conf.rf_chain >= LGW_RF_CHAIN_NB) {
            rc = LGW_HAL_ERROR;
        }
        uint32_t bw = bw_hz(conf.bandwidth);
        if (if_chain < LGW_MULTI_NB) {
            /* multi-SF: 125 kHz, datarate a set of SF bits (undefined = all) */
            if (conf.bandwidth != BW_UNDEFINED && conf.bandwidth != BW_125KHZ) {
                rc = LGW_HAL_ERROR;
            }
            if (conf.datarate != DR_UNDEFINED &&
                ((conf.datarate & DR_LORA_MULTI) == 0 || (conf.datarate & ~DR_LORA_MULTI) != 0)) {
                rc = LGW_HAL_ERROR;
            }
            bw = 125000u;
        } else if (if_chain == 8) {
            /* LoRa std: 125/250/500 kHz, exactly one SF */
            if (bw != 125000u && bw != 250000u && bw != 500000u) {
                rc = LGW_HAL_ERROR;
            }
            if (sf_of(conf.datarate) == 0) {
                rc = LGW_HAL_ERROR;
            }
        } else {
            if (conf.datarate < DR_FSK_MIN || conf.datarate > DR_FSK_MAX) {
                rc = LGW_HAL_ERROR;
            }
            if (bw == 0) {
                bw = 125000u;
            }
        }
        const int64_t half = (int64_t)bw / 2;
        const int64_t reach = rf_rx_bandwidth(bw) / 2;
        if ((int64_t)conf.freq_hz + half > reach || (int64_t)conf.freq_hz - half < -reach) {
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

static void gps_enable_locked(bool on)
{
    if (on && !st.gps_en) {
        st.gps_en_elapsed = fake_core_elapsed_us(NULL);
        st.gps_en_counter = fake_core_counter_at(st.gps_en_elapsed);
    }
    st.gps_en = on;
}

int lgw_start(void)
{
    fake_core_lock();
    int rc = LGW_HAL_SUCCESS;
    if (fake_core_enter(FN_START)) {
        rc = LGW_HAL_ERROR;
    } else {
        memset(&st.slot, 0, sizeof st.slot);
        st.started = true;
        gps_enable_locked(true); /* the HAL enables PPS capture at start */
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
                                     FAKE_CORE_LDRO_SYMBOL_16MS);
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
            ms = (uint32_t)ceil(us / 1000.0); /* rounding: our choice */
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
    if (fake_core_lbt_refuse(pkt_data.freq_hz)) {
        fake_core_unlock();
        return LGW_LBT_ISSUE;
    }
    struct tx_entry* e = fake_core_vec_push(&fake_core_st.tx, sizeof *e, 16);
    if (!e) {
        fake_core_unlock();
        return LGW_HAL_ERROR;
    }
    struct lgw_pkt_tx_s eff = pkt_data;
    eff.preamble = (uint16_t)fake_core_tx_preamble(eff.modulation == MOD_LORA, eff.preamble);
    e->pkt = pkt_data;
    e->timing =
        fake_core_tx_schedule(&st.slot, (enum fake_core_tx_mode)pkt_data.tx_mode, pkt_data.count_us,
                              fake_core_st.pps && st.gps_en, toa_us_locked(&eff));
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
    if (fake_core_enter(FN_ABORT_TX)) {
        rc = LGW_HAL_ERROR;
    } else {
        memset(&st.slot, 0, sizeof st.slot);
    }
    fake_core_unlock();
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* counter and registers                                                                        */

/* LGW_TIMESTAMP: free-running with LGW_GPS_EN = 0; with 1, the counter at the last PPS edge
 * since enabling, or the counter at the moment of enabling if no edge came since. */
static uint32_t timestamp_register_locked(void)
{
    uint32_t phase = 0;
    const uint64_t now = fake_core_elapsed_us(&phase);
    if (!st.gps_en) {
        return fake_core_counter_at(now);
    }
    if (fake_core_st.pps && now >= phase && now - phase >= st.gps_en_elapsed) {
        return fake_core_counter_at(now - phase);
    }
    return st.gps_en_counter;
}

int lgw_get_trigcnt(uint32_t* trig_cnt_us)
{
    fake_core_lock();
    int rc = LGW_HAL_SUCCESS;
    if (fake_core_enter(FN_GET_TRIGCNT) || !st.started || trig_cnt_us == NULL) {
        rc = LGW_HAL_ERROR;
    } else {
        *trig_cnt_us = timestamp_register_locked();
    }
    fake_core_unlock();
    return rc;
}

int lgw_reg_w(uint16_t register_id, int32_t reg_value)
{
    fake_core_lock();
    int rc = LGW_REG_SUCCESS;
    if (fake_core_enter(FN_REG_W) || !st.started || register_id != LGW_GPS_EN) {
        rc = LGW_REG_ERROR;
    } else {
        gps_enable_locked(reg_value != 0);
    }
    fake_core_unlock();
    return rc;
}

int lgw_reg_r(uint16_t register_id, int32_t* reg_value)
{
    fake_core_lock();
    int rc = LGW_REG_SUCCESS;
    if (fake_core_enter(FN_REG_R) || !st.started || reg_value == NULL) {
        rc = LGW_REG_ERROR;
    } else if (register_id == LGW_GPS_EN) {
        *reg_value = st.gps_en ? 1 : 0;
    } else if (register_id == LGW_TIMESTAMP) {
        *reg_value = (int32_t)timestamp_register_locked();
    } else {
        rc = LGW_REG_ERROR;
    }
    fake_core_unlock();
    return rc;
}

const char* lgw_version_info(void)
{
    fake_core_count(FN_VERSION_INFO);
    return "Version: 5.0.1;";
}

/* ------------------------------------------------------------------------------------------ */
/* control API                                                                                  */

FAKE_CORE_DEFINE_READ(fake_lgw_gps_enabled, int, st.gps_en ? 1 : 0)

FAKE_CORE_DEFINE_ACCESSORS(struct lgw_pkt_rx_s, struct tx_entry, struct lgw_pkt_tx_s,
                           struct fake_lgw_tx_info)

FAKE_CORE_DEFINE_READ(fake_lgw_lbt_refused_count, size_t, fake_core_st.lbt_refused)

void fake_lgw_lbt_busy(uint32_t freq_hz, int busy)
{
    fake_core_lbt_set(freq_hz, busy);
}

FAKE_CORE_DEFINE_GETTER(fake_lgw_get_board_conf, struct lgw_conf_board_s, st.board_set, st.board)
FAKE_CORE_DEFINE_GETTER(fake_lgw_get_lbt_conf, struct lgw_conf_lbt_s, st.lbt_set, st.lbt)
FAKE_CORE_DEFINE_GETTER(fake_lgw_get_txgain_conf, struct lgw_tx_gain_lut_s, st.txgain_set,
                        st.txgain)
FAKE_CORE_DEFINE_CHAIN_GETTER(fake_lgw_get_rxrf_conf, struct lgw_conf_rxrf_s, LGW_RF_CHAIN_NB,
                              st.rxrf_set, st.rxrf)
FAKE_CORE_DEFINE_CHAIN_GETTER(fake_lgw_get_rxif_conf, struct lgw_conf_rxif_s, LGW_IF_CHAIN_NB,
                              st.rxif_set, st.rxif)
FAKE_CORE_DEFINE_READ(fake_lgw_is_started, int, st.started ? 1 : 0)
