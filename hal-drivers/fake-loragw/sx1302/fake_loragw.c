/*
 * fake-loragw: a test double of the sx1302_hal V2.1.0 libloragw API.
 *
 * Written for the forwarder project from shared/spec/libloragw.md and shared/spec/timing.md;
 * no Semtech code. One process-global state behind one mutex; prints nothing. The clock, call
 * log, failure injection, RX queue, LBT, time on air and TX timing live in ../common/fake_core.c.
 */
#define _POSIX_C_SOURCE 200809L

#include "fake_loragw.h"

#include "fake_core.h"

#include <stddef.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* state                                                                                        */

enum fn_id {
    FN_BOARD_SETCONF,
    FN_RXRF_SETCONF,
    FN_RXIF_SETCONF,
    FN_DEMOD_SETCONF,
    FN_TXGAIN_SETCONF,
    FN_FTIME_SETCONF,
    FN_SX1261_SETCONF,
    FN_START,
    FN_STOP,
    FN_RECEIVE,
    FN_SEND,
    FN_STATUS,
    FN_ABORT_TX,
    FN_GET_TRIGCNT,
    FN_GET_INSTCNT,
    FN_GET_EUI,
    FN_GET_TEMPERATURE,
    FN_VERSION_INFO,
    FN_TIME_ON_AIR,
    FN_SPECTRAL_SCAN_START,
    FN_SPECTRAL_SCAN_GET_STATUS,
    FN_SPECTRAL_SCAN_GET_RESULTS,
    FN_SPECTRAL_SCAN_ABORT,
    FN_COUNT
};

static const char* const fn_names[FN_COUNT] = {
    "lgw_board_setconf",
    "lgw_rxrf_setconf",
    "lgw_rxif_setconf",
    "lgw_demod_setconf",
    "lgw_txgain_setconf",
    "lgw_ftime_setconf",
    "lgw_sx1261_setconf",
    "lgw_start",
    "lgw_stop",
    "lgw_receive",
    "lgw_send",
    "lgw_status",
    "lgw_abort_tx",
    "lgw_get_trigcnt",
    "lgw_get_instcnt",
    "lgw_get_eui",
    "lgw_get_temperature",
    "lgw_version_info",
    "lgw_time_on_air",
    "lgw_spectral_scan_start",
    "lgw_spectral_scan_get_status",
    "lgw_spectral_scan_get_results",
    "lgw_spectral_scan_abort",
};

struct tx_entry {
    struct lgw_pkt_tx_s pkt;
    struct fake_core_tx_timing timing;
};

static struct {
    bool started;

    /* last accepted configuration */
    bool board_set, demod_set, ftime_set, sx1261_set;
    bool rxrf_set[LGW_RF_CHAIN_NB], rxif_set[LGW_IF_CHAIN_NB], txgain_set[LGW_RF_CHAIN_NB];
    struct lgw_conf_board_s board;
    struct lgw_conf_rxrf_s rxrf[LGW_RF_CHAIN_NB];
    struct lgw_conf_rxif_s rxif[LGW_IF_CHAIN_NB];
    struct lgw_conf_demod_s demod;
    struct lgw_tx_gain_lut_s txgain[LGW_RF_CHAIN_NB];
    struct lgw_conf_ftime_s ftime;
    struct lgw_conf_sx1261_s sx1261;

    /* identity */
    uint64_t eui;
    float temperature;

    struct fake_core_tx_slot slot[LGW_RF_CHAIN_NB];

    /* spectral scan */
    bool scan_done;
} st;

static void reset_locked(void)
{
    memset(&st, 0, sizeof st);
    st.eui = FAKE_LGW_DEFAULT_EUI;
    st.temperature = FAKE_LGW_DEFAULT_TEMPERATURE;
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
    default:
        return 0;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* configuration                                                                                */

#define SETCONF_PROLOGUE(fn)                                                                       \
    int rc = LGW_HAL_SUCCESS;                                                                      \
    fake_core_lock();                                                                              \
    if (fake_core_enter(fn) || st.started || conf == NULL) {                                       \
        rc = LGW_HAL_ERROR;                                                                        \
    }

int lgw_board_setconf(struct lgw_conf_board_s* conf)
{
    SETCONF_PROLOGUE(FN_BOARD_SETCONF)
    if (rc == LGW_HAL_SUCCESS && conf->com_type != LGW_COM_SPI && conf->com_type != LGW_COM_USB) {
        rc = LGW_HAL_ERROR;
    }
    if (rc == LGW_HAL_SUCCESS) {
        st.board = *conf;
        st.board_set = true;
    }
    record(FAKE_LGW_CALL_BOARD, FN_BOARD_SETCONF, -1, rc, conf, conf ? sizeof *conf : 0);
    fake_core_unlock();
    return rc;
}

int lgw_rxrf_setconf(uint8_t rf_chain, struct lgw_conf_rxrf_s* conf)
{
    SETCONF_PROLOGUE(FN_RXRF_SETCONF)
    if (rc == LGW_HAL_SUCCESS && rf_chain >= LGW_RF_CHAIN_NB) {
        rc = LGW_HAL_ERROR;
    }
    if (rc == LGW_HAL_SUCCESS && conf->enable) {
        if (conf->type != LGW_RADIO_TYPE_SX1255 && conf->type != LGW_RADIO_TYPE_SX1257 &&
            conf->type != LGW_RADIO_TYPE_SX1250) {
            rc = LGW_HAL_ERROR;
        } else if (conf->freq_hz < 100000000u || conf->freq_hz > 1000000000u) {
            rc = LGW_HAL_ERROR;
        }
    }
    if (rc == LGW_HAL_SUCCESS) {
        st.rxrf[rf_chain] = *conf;
        st.rxrf_set[rf_chain] = true;
    }
    record(FAKE_LGW_CALL_RXRF, FN_RXRF_SETCONF, rf_chain, rc, conf, conf ? sizeof *conf : 0);
    fake_core_unlock();
    return rc;
}

int lgw_rxif_setconf(uint8_t if_chain, struct lgw_conf_rxif_s* conf)
{
    SETCONF_PROLOGUE(FN_RXIF_SETCONF)
    if (rc == LGW_HAL_SUCCESS && if_chain >= LGW_IF_CHAIN_NB) {
        rc = LGW_HAL_ERROR;
    }
    if (rc == LGW_HAL_SUCCESS && conf->enable) {
        if (conf->rf_chain >= LGW_RF_CHAIN_NB) {
            rc = LGW_HAL_ERROR;
        }
        /* multi-SF chains are 125 kHz only; a bandwidth left undefined means 125 kHz there */
        uint32_t bw = bw_hz(conf->bandwidth);
        if (if_chain < LGW_MULTI_NB) {
            if (conf->bandwidth != BW_UNDEFINED && conf->bandwidth != BW_125KHZ) {
                rc = LGW_HAL_ERROR;
            }
            bw = 125000u;
        } else if (if_chain == 8 && bw == 0) {
            rc = LGW_HAL_ERROR;
        }
        const int64_t half = (int64_t)bw / 2;
        if ((int64_t)conf->freq_hz + half > 800000 || (int64_t)conf->freq_hz - half < -800000) {
            rc = LGW_HAL_ERROR;
        }
        if (if_chain == 9 && conf->datarate != 0 &&
            (conf->datarate < DR_FSK_MIN || conf->datarate > DR_FSK_MAX)) {
            rc = LGW_HAL_ERROR;
        }
    }
    if (rc == LGW_HAL_SUCCESS) {
        st.rxif[if_chain] = *conf;
        st.rxif_set[if_chain] = true;
    }
    record(FAKE_LGW_CALL_RXIF, FN_RXIF_SETCONF, if_chain, rc, conf, conf ? sizeof *conf : 0);
    fake_core_unlock();
    return rc;
}

int lgw_demod_setconf(struct lgw_conf_demod_s* conf)
{
    SETCONF_PROLOGUE(FN_DEMOD_SETCONF)
    if (rc == LGW_HAL_SUCCESS) {
        st.demod = *conf;
        st.demod_set = true;
    }
    record(FAKE_LGW_CALL_DEMOD, FN_DEMOD_SETCONF, -1, rc, conf, conf ? sizeof *conf : 0);
    fake_core_unlock();
    return rc;
}

int lgw_txgain_setconf(uint8_t rf_chain, struct lgw_tx_gain_lut_s* conf)
{
    SETCONF_PROLOGUE(FN_TXGAIN_SETCONF)
    if (rc == LGW_HAL_SUCCESS &&
        (rf_chain >= LGW_RF_CHAIN_NB || conf->size < 1 || conf->size > TX_GAIN_LUT_SIZE_MAX)) {
        rc = LGW_HAL_ERROR;
    }
    for (uint8_t i = 0; rc == LGW_HAL_SUCCESS && i < conf->size; ++i) {
        const struct lgw_tx_gain_s* g = &conf->lut[i];
        if (g->dig_gain > 3 || g->dac_gain > 3 || g->pa_gain > 3 || g->mix_gain > 15 ||
            g->pwr_idx > 22) {
            rc = LGW_HAL_ERROR;
        }
    }
    if (rc == LGW_HAL_SUCCESS) {
        st.txgain[rf_chain] = *conf;
        st.txgain_set[rf_chain] = true;
    }
    record(FAKE_LGW_CALL_TXGAIN, FN_TXGAIN_SETCONF, rf_chain, rc, conf, conf ? sizeof *conf : 0);
    fake_core_unlock();
    return rc;
}

int lgw_ftime_setconf(struct lgw_conf_ftime_s* conf)
{
    SETCONF_PROLOGUE(FN_FTIME_SETCONF)
    if (rc == LGW_HAL_SUCCESS && conf->mode != LGW_FTIME_MODE_HIGH_CAPACITY &&
        conf->mode != LGW_FTIME_MODE_ALL_SF) {
        rc = LGW_HAL_ERROR;
    }
    if (rc == LGW_HAL_SUCCESS) {
        st.ftime = *conf;
        st.ftime_set = true;
    }
    record(FAKE_LGW_CALL_FTIME, FN_FTIME_SETCONF, -1, rc, conf, conf ? sizeof *conf : 0);
    fake_core_unlock();
    return rc;
}

int lgw_sx1261_setconf(struct lgw_conf_sx1261_s* conf)
{
    SETCONF_PROLOGUE(FN_SX1261_SETCONF)
    if (rc == LGW_HAL_SUCCESS && conf->lbt_conf.nb_channel > LGW_LBT_CHANNEL_NB_MAX) {
        rc = LGW_HAL_ERROR;
    }
    if (rc == LGW_HAL_SUCCESS) {
        st.sx1261 = *conf;
        st.sx1261_set = true;
    }
    record(FAKE_LGW_CALL_SX1261, FN_SX1261_SETCONF, -1, rc, conf, conf ? sizeof *conf : 0);
    fake_core_unlock();
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* start / stop                                                                                 */

int lgw_start(void)
{
    fake_core_lock();
    int rc = LGW_HAL_SUCCESS;
    if (fake_core_enter(FN_START)) {
        rc = LGW_HAL_ERROR;
    } else {
        /* (re)start: TX slots idle, RX on */
        memset(st.slot, 0, sizeof st.slot);
        st.started = true;
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
        memset(st.slot, 0, sizeof st.slot);
        st.started = false;
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
    if (fake_core_enter(FN_RECEIVE) || !st.started || (pkt_data == NULL && max_pkt > 0)) {
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
        return fake_core_lora_toa_us(bw_hz(p->bandwidth), (int)p->datarate, (int)p->coderate,
                                     p->preamble, p->size, p->no_crc, p->no_header,
                                     FAKE_CORE_LDRO_SF11_UP);
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

uint32_t lgw_time_on_air(const struct lgw_pkt_tx_s* packet)
{
    fake_core_lock();
    uint32_t ms = 0;
    if (!fake_core_enter(FN_TIME_ON_AIR) && packet) {
        const double us = toa_us_locked(packet);
        if (packet->modulation == MOD_LORA) {
            ms = (uint32_t)(us / 1000.0 + 0.5);
        } else if (packet->modulation == MOD_FSK && us > 0.0) {
            ms = (uint32_t)(us / 1000.0) + 1u; /* truncated plus a 1 ms margin */
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
    case MOD_LORA:
        return bw_hz(p->bandwidth) != 0 && p->datarate >= DR_LORA_SF5 &&
               p->datarate <= DR_LORA_SF12 && p->coderate >= CR_LORA_4_5 &&
               p->coderate <= CR_LORA_4_8;
    case MOD_FSK:
        return p->datarate >= DR_FSK_MIN && p->datarate <= DR_FSK_MAX;
    case MOD_CW:
        return true;
    default:
        return false;
    }
}

int lgw_send(struct lgw_pkt_tx_s* pkt_data)
{
    fake_core_lock();
    if (fake_core_enter(FN_SEND) || !st.started || pkt_data == NULL || !tx_params_ok(pkt_data) ||
        !st.rxrf_set[pkt_data->rf_chain] || !st.rxrf[pkt_data->rf_chain].tx_enable) {
        fake_core_unlock();
        return LGW_HAL_ERROR;
    }
    if (fake_core_lbt_refuse(pkt_data->freq_hz)) {
        fake_core_unlock();
        return LGW_LBT_NOT_ALLOWED;
    }
    struct tx_entry* e = fake_core_vec_push(&fake_core_st.tx, sizeof *e, 16);
    if (!e) {
        fake_core_unlock();
        return LGW_HAL_ERROR;
    }
    /* the emission length uses the preamble the modem would use */
    struct lgw_pkt_tx_s eff = *pkt_data;
    eff.preamble = (uint16_t)fake_core_tx_preamble(eff.modulation == MOD_LORA, eff.preamble);
    e->pkt = *pkt_data;
    e->timing = fake_core_tx_schedule(&st.slot[pkt_data->rf_chain],
                                      (enum fake_core_tx_mode)pkt_data->tx_mode, pkt_data->count_us,
                                      fake_core_st.pps, toa_us_locked(&eff));
    fake_core_unlock();
    return LGW_HAL_SUCCESS;
}

static const uint8_t tx_codes[] = {
    [FAKE_CORE_TX_FREE] = TX_FREE,
    [FAKE_CORE_TX_SCHEDULED] = TX_SCHEDULED,
    [FAKE_CORE_TX_EMITTING] = TX_EMITTING,
};

int lgw_status(uint8_t rf_chain, uint8_t select, uint8_t* code)
{
    fake_core_lock();
    if (fake_core_enter(FN_STATUS) || code == NULL || rf_chain >= LGW_RF_CHAIN_NB) {
        fake_core_unlock();
        return LGW_HAL_ERROR;
    }
    int rc = LGW_HAL_SUCCESS;
    if (select == TX_STATUS) {
        *code = st.started ? tx_codes[fake_core_tx_state(&st.slot[rf_chain])] : TX_OFF;
    } else if (select == RX_STATUS) {
        *code = st.started ? RX_ON : RX_OFF;
    } else {
        rc = LGW_HAL_ERROR;
    }
    fake_core_unlock();
    return rc;
}

int lgw_abort_tx(uint8_t rf_chain)
{
    fake_core_lock();
    int rc = LGW_HAL_SUCCESS;
    if (fake_core_enter(FN_ABORT_TX) || rf_chain >= LGW_RF_CHAIN_NB) {
        rc = LGW_HAL_ERROR;
    } else {
        memset(&st.slot[rf_chain], 0, sizeof st.slot[rf_chain]);
    }
    fake_core_unlock();
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* counters, identity                                                                           */

int lgw_get_instcnt(uint32_t* inst_cnt_us)
{
    fake_core_lock();
    int rc = LGW_HAL_SUCCESS;
    if (fake_core_enter(FN_GET_INSTCNT) || !st.started || inst_cnt_us == NULL) {
        rc = LGW_HAL_ERROR;
    } else {
        *inst_cnt_us = fake_core_counter_now();
    }
    fake_core_unlock();
    return rc;
}

int lgw_get_trigcnt(uint32_t* trig_cnt_us)
{
    fake_core_lock();
    int rc = LGW_HAL_SUCCESS;
    if (fake_core_enter(FN_GET_TRIGCNT) || !st.started || !fake_core_st.pps ||
        trig_cnt_us == NULL) {
        rc = LGW_HAL_ERROR;
    } else {
        uint32_t phase = 0;
        const uint64_t now = fake_core_elapsed_us(&phase);
        *trig_cnt_us = fake_core_counter_at(now) - phase;
    }
    fake_core_unlock();
    return rc;
}

int lgw_get_eui(uint64_t* eui)
{
    fake_core_lock();
    int rc = LGW_HAL_SUCCESS;
    if (fake_core_enter(FN_GET_EUI) || !st.started || eui == NULL) {
        rc = LGW_HAL_ERROR;
    } else {
        *eui = st.eui;
    }
    fake_core_unlock();
    return rc;
}

int lgw_get_temperature(float* temperature)
{
    fake_core_lock();
    int rc = LGW_HAL_SUCCESS;
    if (fake_core_enter(FN_GET_TEMPERATURE) || !st.started || temperature == NULL) {
        rc = LGW_HAL_ERROR;
    } else {
        *temperature = st.temperature;
    }
    fake_core_unlock();
    return rc;
}

const char* lgw_version_info(void)
{
    fake_core_count(FN_VERSION_INFO);
    return "Version: 2.1.0;";
}

/* ------------------------------------------------------------------------------------------ */
/* spectral scan (minimal: completes at once, one histogram bin at the lowest level)           */

int lgw_spectral_scan_start(uint32_t freq_hz, uint16_t nb_scan)
{
    (void)freq_hz;
    fake_core_lock();
    int rc = LGW_HAL_SUCCESS;
    if (fake_core_enter(FN_SPECTRAL_SCAN_START) || !st.started || !st.sx1261_set ||
        !st.sx1261.enable) {
        rc = LGW_HAL_ERROR;
    } else {
        st.scan_done = nb_scan > 0;
    }
    fake_core_unlock();
    return rc;
}

int lgw_spectral_scan_get_status(lgw_spectral_scan_status_t* status)
{
    fake_core_lock();
    int rc = LGW_HAL_SUCCESS;
    if (fake_core_enter(FN_SPECTRAL_SCAN_GET_STATUS) || status == NULL) {
        rc = LGW_HAL_ERROR;
    } else {
        *status = st.scan_done ? LGW_SPECTRAL_SCAN_STATUS_COMPLETED : LGW_SPECTRAL_SCAN_STATUS_NONE;
    }
    fake_core_unlock();
    return rc;
}

int lgw_spectral_scan_get_results(int16_t levels_dbm[static LGW_SPECTRAL_SCAN_RESULT_SIZE],
                                  uint16_t results[static LGW_SPECTRAL_SCAN_RESULT_SIZE])
{
    fake_core_lock();
    int rc = LGW_HAL_SUCCESS;
    if (fake_core_enter(FN_SPECTRAL_SCAN_GET_RESULTS) || !st.scan_done) {
        rc = LGW_HAL_ERROR;
    } else {
        for (int i = 0; i < LGW_SPECTRAL_SCAN_RESULT_SIZE; ++i) {
            levels_dbm[i] = (int16_t)(-140 + 4 * i);
            results[i] = 0;
        }
    }
    fake_core_unlock();
    return rc;
}

int lgw_spectral_scan_abort(void)
{
    fake_core_lock();
    int rc = LGW_HAL_SUCCESS;
    if (fake_core_enter(FN_SPECTRAL_SCAN_ABORT)) {
        rc = LGW_HAL_ERROR;
    } else {
        st.scan_done = false;
    }
    fake_core_unlock();
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* control API                                                                                  */

void fake_lgw_set_eui(uint64_t eui)
{
    fake_core_lock();
    st.eui = eui;
    fake_core_unlock();
}

void fake_lgw_set_temperature(float celsius)
{
    fake_core_lock();
    st.temperature = celsius;
    fake_core_unlock();
}

FAKE_CORE_DEFINE_ACCESSORS(struct lgw_pkt_rx_s, struct tx_entry, struct lgw_pkt_tx_s,
                           struct fake_lgw_tx_info)

FAKE_CORE_DEFINE_READ(fake_lgw_lbt_refused_count, size_t, fake_core_st.lbt_refused)

void fake_lgw_lbt_busy(uint32_t freq_hz, int busy)
{
    fake_core_lbt_set(freq_hz, busy);
}

FAKE_CORE_DEFINE_GETTER(fake_lgw_get_board_conf, struct lgw_conf_board_s, st.board_set, st.board)
FAKE_CORE_DEFINE_CHAIN_GETTER(fake_lgw_get_rxrf_conf, struct lgw_conf_rxrf_s, LGW_RF_CHAIN_NB,
                              st.rxrf_set, st.rxrf)
FAKE_CORE_DEFINE_CHAIN_GETTER(fake_lgw_get_rxif_conf, struct lgw_conf_rxif_s, LGW_IF_CHAIN_NB,
                              st.rxif_set, st.rxif)
FAKE_CORE_DEFINE_GETTER(fake_lgw_get_demod_conf, struct lgw_conf_demod_s, st.demod_set, st.demod)
FAKE_CORE_DEFINE_CHAIN_GETTER(fake_lgw_get_txgain_conf, struct lgw_tx_gain_lut_s, LGW_RF_CHAIN_NB,
                              st.txgain_set, st.txgain)
FAKE_CORE_DEFINE_GETTER(fake_lgw_get_ftime_conf, struct lgw_conf_ftime_s, st.ftime_set, st.ftime)
FAKE_CORE_DEFINE_GETTER(fake_lgw_get_sx1261_conf, struct lgw_conf_sx1261_s, st.sx1261_set,
                        st.sx1261)
FAKE_CORE_DEFINE_READ(fake_lgw_is_started, int, st.started ? 1 : 0)
