/*
 * fake-loragw: a test double of the lora_gateway v5.0.1 (SX1301/SX1308) libloragw API.
 *
 * Written for the forwarder project from shared/spec/libloragw.md (§3, §6) and
 * shared/spec/timing.md; no Semtech code. One process-global state behind one mutex; prints
 * nothing. Exports the same lgw_* / fake_lgw_* names as the sx1302 double: never link both.
 */
#define _POSIX_C_SOURCE 200809L

#include "fake_loragw.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

#define MAX_LBT_BUSY 32
#define LBT_FREQ_TOLERANCE_HZ 10000u

struct tx_slot {
    bool active;
    bool wait_pps;
    uint64_t start_host;
    uint64_t end_host;
};

struct tx_entry {
    struct lgw_pkt_tx_s pkt;
    struct fake_lgw_tx_info info;
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

    struct fake_lgw_call* calls;
    size_t calls_size, calls_cap;
    int call_count[FN_COUNT];
    int fail_left[FN_COUNT];

    bool manual_clock;
    uint64_t manual_elapsed_us;
    uint64_t epoch_mono_us;
    uint32_t counter_start;
    bool pps;

    /* LGW_GPS_EN and what LGW_TIMESTAMP holds until the next PPS edge after enabling */
    bool gps_en;
    uint64_t gps_en_elapsed;
    uint32_t gps_en_counter;

    struct lgw_pkt_rx_s* rx;
    size_t rx_head, rx_size, rx_cap;

    struct tx_entry* tx;
    size_t tx_size, tx_cap;
    struct tx_slot slot; /* one TX path */
    size_t lbt_refused;
    uint32_t lbt_busy[MAX_LBT_BUSY];
    size_t lbt_busy_n;
} st;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static bool initialised;

static uint64_t clock_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void reset_locked(void)
{
    free(st.calls);
    free(st.rx);
    free(st.tx);
    memset(&st, 0, sizeof st);
    st.epoch_mono_us = clock_us(CLOCK_MONOTONIC);
    initialised = true;
}

static void lock(void)
{
    pthread_mutex_lock(&mu);
    if (!initialised) {
        reset_locked();
    }
}

static void unlock(void)
{
    pthread_mutex_unlock(&mu);
}

static uint64_t elapsed_us(uint32_t* pps_phase_us)
{
    if (st.manual_clock) {
        if (pps_phase_us) {
            *pps_phase_us = (uint32_t)(st.manual_elapsed_us % 1000000u);
        }
        return st.manual_elapsed_us;
    }
    const uint64_t mono = clock_us(CLOCK_MONOTONIC);
    if (pps_phase_us) {
        *pps_phase_us = (uint32_t)(clock_us(CLOCK_REALTIME) % 1000000u);
    }
    return mono - st.epoch_mono_us;
}

static uint32_t counter_at(uint64_t elapsed)
{
    return st.counter_start + (uint32_t)elapsed;
}

static bool enter(enum fn_id fn)
{
    st.call_count[fn]++;
    if (st.fail_left[fn] != 0) {
        if (st.fail_left[fn] > 0) {
            st.fail_left[fn]--;
        }
        return true;
    }
    return false;
}

static void record(enum fake_lgw_call_kind kind, enum fn_id fn, int chain, int result,
                   const void* conf, size_t conf_size)
{
    if (st.calls_size == st.calls_cap) {
        const size_t cap = st.calls_cap ? st.calls_cap * 2 : 32;
        struct fake_lgw_call* p = realloc(st.calls, cap * sizeof *p);
        if (!p) {
            return;
        }
        st.calls = p;
        st.calls_cap = cap;
    }
    struct fake_lgw_call* c = &st.calls[st.calls_size++];
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->function = fn_names[fn];
    c->chain = chain;
    c->result = result;
    if (conf) {
        memcpy(&c->conf, conf, conf_size);
    }
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
    lock();                                                                                        \
    if (enter(fn) || st.started) {                                                                 \
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
    unlock();
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
    unlock();
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
    unlock();
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
    unlock();
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
    unlock();
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* start / stop                                                                                 */

static void gps_enable_locked(bool on)
{
    if (on && !st.gps_en) {
        st.gps_en_elapsed = elapsed_us(NULL);
        st.gps_en_counter = counter_at(st.gps_en_elapsed);
    }
    st.gps_en = on;
}

int lgw_start(void)
{
    lock();
    int rc = LGW_HAL_SUCCESS;
    if (enter(FN_START)) {
        rc = LGW_HAL_ERROR;
    } else {
        memset(&st.slot, 0, sizeof st.slot);
        st.started = true;
        gps_enable_locked(true); /* the HAL enables PPS capture at start */
    }
    record(FAKE_LGW_CALL_START, FN_START, -1, rc, NULL, 0);
    unlock();
    return rc;
}

int lgw_stop(void)
{
    lock();
    int rc = LGW_HAL_SUCCESS;
    if (enter(FN_STOP)) {
        rc = LGW_HAL_ERROR;
    } else {
        memset(&st.slot, 0, sizeof st.slot);
        st.started = false;
        st.gps_en = false;
    }
    record(FAKE_LGW_CALL_STOP, FN_STOP, -1, rc, NULL, 0);
    unlock();
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* RX                                                                                           */

int lgw_receive(uint8_t max_pkt, struct lgw_pkt_rx_s* pkt_data)
{
    lock();
    if (enter(FN_RECEIVE) || !st.started || pkt_data == NULL || max_pkt < 1 ||
        max_pkt > LGW_PKT_FIFO_SIZE) {
        unlock();
        return LGW_HAL_ERROR;
    }
    const uint32_t now = counter_at(elapsed_us(NULL));
    int n = 0;
    while (n < max_pkt && st.rx_head < st.rx_size) {
        pkt_data[n] = st.rx[st.rx_head++];
        if (pkt_data[n].count_us == 0) {
            pkt_data[n].count_us = now;
        }
        ++n;
    }
    if (st.rx_head == st.rx_size) {
        st.rx_head = st.rx_size = 0;
    }
    unlock();
    return n;
}

/* ------------------------------------------------------------------------------------------ */
/* time on air                                                                                  */

static double toa_us_locked(const struct lgw_pkt_tx_s* p)
{
    if (p->modulation == MOD_LORA) {
        const uint32_t bw = bw_hz(p->bandwidth);
        const int sf = sf_of(p->datarate);
        const int cr = (int)p->coderate;
        if (bw == 0 || sf == 0 || cr < 1 || cr > 4) {
            return 0.0;
        }
        const double t_sym_us = (double)(1u << sf) * 1e6 / (double)bw;
        /* low-data-rate optimisation when a symbol lasts 16 ms or more */
        const int de = t_sym_us >= 16000.0 ? 1 : 0;
        const double t_preamble = ((double)p->preamble + 4.25) * t_sym_us;
        const int num =
            8 * (int)p->size - 4 * sf + 28 + (p->no_crc ? 0 : 16) - (p->no_header ? 20 : 0);
        const int den = 4 * (sf - 2 * de);
        int blocks = 0;
        if (num > 0) {
            blocks = (num + den - 1) / den;
        }
        const double n_payload = 8.0 + (double)(blocks * (cr + 4));
        return t_preamble + n_payload * t_sym_us;
    }
    if (p->modulation == MOD_FSK) {
        if (p->datarate == 0) {
            return 0.0;
        }
        unsigned sync = 3;
        if (st.rxif_set[9] && st.rxif[9].sync_word_size > 0) {
            sync = st.rxif[9].sync_word_size;
        }
        const unsigned bytes = (unsigned)p->preamble + sync + 1u + p->size + (p->no_crc ? 0u : 2u);
        return 8.0 * (double)bytes * 1e6 / (double)p->datarate;
    }
    return 0.0;
}

double fake_lgw_time_on_air_us(const struct lgw_pkt_tx_s* packet)
{
    if (!packet) {
        return 0.0;
    }
    lock();
    const double us = toa_us_locked(packet);
    unlock();
    return us;
}

uint32_t lgw_time_on_air(struct lgw_pkt_tx_s* packet)
{
    lock();
    uint32_t ms = 0;
    if (!enter(FN_TIME_ON_AIR) && packet) {
        const double us = toa_us_locked(packet);
        if (us > 0.0) {
            ms = (uint32_t)ceil(us / 1000.0); /* rounding: our choice */
        }
    }
    unlock();
    return ms;
}

/* ------------------------------------------------------------------------------------------ */
/* TX                                                                                           */

static bool lbt_busy_locked(uint32_t freq)
{
    for (size_t i = 0; i < st.lbt_busy_n; ++i) {
        const uint32_t f = st.lbt_busy[i];
        const uint32_t d = f > freq ? f - freq : freq - f;
        if (d <= LBT_FREQ_TOLERANCE_HZ) {
            return true;
        }
    }
    return false;
}

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
    lock();
    if (enter(FN_SEND) || !st.started || !tx_params_ok(&pkt_data) ||
        !st.rxrf_set[pkt_data.rf_chain] || !st.rxrf[pkt_data.rf_chain].tx_enable) {
        unlock();
        return LGW_HAL_ERROR;
    }
    if (lbt_busy_locked(pkt_data.freq_hz)) {
        st.lbt_refused++;
        unlock();
        return LGW_LBT_ISSUE;
    }
    if (st.tx_size == st.tx_cap) {
        const size_t cap = st.tx_cap ? st.tx_cap * 2 : 16;
        struct tx_entry* p = realloc(st.tx, cap * sizeof *p);
        if (!p) {
            unlock();
            return LGW_HAL_ERROR;
        }
        st.tx = p;
        st.tx_cap = cap;
    }

    struct lgw_pkt_tx_s eff = pkt_data;
    if (eff.modulation == MOD_LORA) {
        if (eff.preamble == 0) {
            eff.preamble = 8;
        } else if (eff.preamble < 6) {
            eff.preamble = 6;
        }
    } else if (eff.modulation == MOD_FSK && eff.preamble == 0) {
        eff.preamble = 5;
    }
    const uint32_t air_us = (uint32_t)ceil(toa_us_locked(&eff));

    uint32_t phase = 0;
    const uint64_t now = elapsed_us(&phase);
    const uint32_t now_cnt = counter_at(now);
    struct tx_slot* s = &st.slot;
    memset(s, 0, sizeof *s);
    s->active = true;
    uint64_t start = now;
    int32_t lead = 0;
    if (pkt_data.tx_mode == TIMESTAMPED) {
        start = now + (uint32_t)(pkt_data.count_us - now_cnt);
        lead = (int32_t)(pkt_data.count_us - now_cnt);
    } else if (pkt_data.tx_mode == ON_GPS) {
        if (st.pps && st.gps_en) {
            start = now + (1000000u - phase);
        } else {
            s->wait_pps = true;
        }
    }
    s->start_host = start;
    s->end_host = start + air_us;

    struct tx_entry* e = &st.tx[st.tx_size++];
    e->pkt = pkt_data;
    e->info.counter_at_send = now_cnt;
    e->info.lead_us = lead;
    e->info.air_time_us = air_us;
    e->info.start_us = counter_at(start);
    unlock();
    return LGW_HAL_SUCCESS;
}

int lgw_status(uint8_t select, uint8_t* code)
{
    lock();
    if (enter(FN_STATUS) || code == NULL) {
        unlock();
        return LGW_HAL_ERROR;
    }
    int rc = LGW_HAL_SUCCESS;
    if (select == TX_STATUS) {
        if (!st.started) {
            *code = TX_OFF;
        } else {
            const struct tx_slot* s = &st.slot;
            const uint64_t now = elapsed_us(NULL);
            if (!s->active) {
                *code = TX_FREE;
            } else if (s->wait_pps || now < s->start_host) {
                *code = TX_SCHEDULED;
            } else if (now < s->end_host) {
                *code = TX_EMITTING;
            } else {
                *code = TX_FREE;
            }
        }
    } else if (select == RX_STATUS) {
        *code = st.started ? RX_ON : RX_OFF;
    } else {
        rc = LGW_HAL_ERROR;
    }
    unlock();
    return rc;
}

int lgw_abort_tx(void)
{
    lock();
    int rc = LGW_HAL_SUCCESS;
    if (enter(FN_ABORT_TX)) {
        rc = LGW_HAL_ERROR;
    } else {
        memset(&st.slot, 0, sizeof st.slot);
    }
    unlock();
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* counter and registers                                                                        */

/* LGW_TIMESTAMP: free-running with LGW_GPS_EN = 0; with 1, the counter at the last PPS edge
 * since enabling, or the counter at the moment of enabling if no edge came since. */
static uint32_t timestamp_register_locked(void)
{
    uint32_t phase = 0;
    const uint64_t now = elapsed_us(&phase);
    if (!st.gps_en) {
        return counter_at(now);
    }
    if (st.pps && now >= phase && now - phase >= st.gps_en_elapsed) {
        return counter_at(now - phase);
    }
    return st.gps_en_counter;
}

int lgw_get_trigcnt(uint32_t* trig_cnt_us)
{
    lock();
    int rc = LGW_HAL_SUCCESS;
    if (enter(FN_GET_TRIGCNT) || !st.started || trig_cnt_us == NULL) {
        rc = LGW_HAL_ERROR;
    } else {
        *trig_cnt_us = timestamp_register_locked();
    }
    unlock();
    return rc;
}

int lgw_reg_w(uint16_t register_id, int32_t reg_value)
{
    lock();
    int rc = LGW_REG_SUCCESS;
    if (enter(FN_REG_W) || !st.started || register_id != LGW_GPS_EN) {
        rc = LGW_REG_ERROR;
    } else {
        gps_enable_locked(reg_value != 0);
    }
    unlock();
    return rc;
}

int lgw_reg_r(uint16_t register_id, int32_t* reg_value)
{
    lock();
    int rc = LGW_REG_SUCCESS;
    if (enter(FN_REG_R) || !st.started || reg_value == NULL) {
        rc = LGW_REG_ERROR;
    } else if (register_id == LGW_GPS_EN) {
        *reg_value = st.gps_en ? 1 : 0;
    } else if (register_id == LGW_TIMESTAMP) {
        *reg_value = (int32_t)timestamp_register_locked();
    } else {
        rc = LGW_REG_ERROR;
    }
    unlock();
    return rc;
}

const char* lgw_version_info(void)
{
    lock();
    st.call_count[FN_VERSION_INFO]++;
    unlock();
    return "Version: 5.0.1;";
}

/* ------------------------------------------------------------------------------------------ */
/* control API                                                                                  */

void fake_lgw_reset(void)
{
    pthread_mutex_lock(&mu);
    reset_locked();
    pthread_mutex_unlock(&mu);
}

void fake_lgw_set_counter_start(uint32_t start_us)
{
    lock();
    st.counter_start = start_us - (uint32_t)elapsed_us(NULL);
    unlock();
}

void fake_lgw_set_manual_clock(int manual)
{
    lock();
    const uint64_t now = elapsed_us(NULL);
    st.manual_clock = manual != 0;
    if (st.manual_clock) {
        st.manual_elapsed_us = now;
    } else {
        st.epoch_mono_us = clock_us(CLOCK_MONOTONIC) - now;
    }
    unlock();
}

void fake_lgw_advance_us(uint64_t us)
{
    lock();
    if (st.manual_clock) {
        st.manual_elapsed_us += us;
    }
    unlock();
}

uint32_t fake_lgw_counter_now(void)
{
    lock();
    const uint32_t c = counter_at(elapsed_us(NULL));
    unlock();
    return c;
}

void fake_lgw_set_pps(int on)
{
    lock();
    st.pps = on != 0;
    unlock();
}

int fake_lgw_gps_enabled(void)
{
    lock();
    const int on = st.gps_en ? 1 : 0;
    unlock();
    return on;
}

int fake_lgw_push_rx(const struct lgw_pkt_rx_s* pkt)
{
    if (!pkt) {
        return -1;
    }
    lock();
    if (st.rx_size == st.rx_cap) {
        if (st.rx_head > 0) {
            memmove(st.rx, st.rx + st.rx_head, (st.rx_size - st.rx_head) * sizeof *st.rx);
            st.rx_size -= st.rx_head;
            st.rx_head = 0;
        }
        if (st.rx_size == st.rx_cap) {
            const size_t cap = st.rx_cap ? st.rx_cap * 2 : 16;
            struct lgw_pkt_rx_s* p = realloc(st.rx, cap * sizeof *p);
            if (!p) {
                unlock();
                return -1;
            }
            st.rx = p;
            st.rx_cap = cap;
        }
    }
    st.rx[st.rx_size++] = *pkt;
    unlock();
    return 0;
}

size_t fake_lgw_rx_pending(void)
{
    lock();
    const size_t n = st.rx_size - st.rx_head;
    unlock();
    return n;
}

size_t fake_lgw_tx_count(void)
{
    lock();
    const size_t n = st.tx_size;
    unlock();
    return n;
}

int fake_lgw_tx_get(size_t index, struct lgw_pkt_tx_s* out)
{
    lock();
    int rc = -1;
    if (out && index < st.tx_size) {
        *out = st.tx[index].pkt;
        rc = 0;
    }
    unlock();
    return rc;
}

int fake_lgw_tx_get_info(size_t index, struct fake_lgw_tx_info* out)
{
    lock();
    int rc = -1;
    if (out && index < st.tx_size) {
        *out = st.tx[index].info;
        rc = 0;
    }
    unlock();
    return rc;
}

size_t fake_lgw_lbt_refused_count(void)
{
    lock();
    const size_t n = st.lbt_refused;
    unlock();
    return n;
}

static int fn_lookup(const char* function)
{
    if (!function) {
        return -1;
    }
    for (int i = 0; i < FN_COUNT; ++i) {
        if (strcmp(fn_names[i], function) == 0) {
            return i;
        }
    }
    return -1;
}

int fake_lgw_fail(const char* function, int times)
{
    const int fn = fn_lookup(function);
    if (fn < 0) {
        return -1;
    }
    lock();
    st.fail_left[fn] = times;
    unlock();
    return 0;
}

void fake_lgw_lbt_busy(uint32_t freq_hz, int busy)
{
    lock();
    size_t i = 0;
    while (i < st.lbt_busy_n && st.lbt_busy[i] != freq_hz) {
        ++i;
    }
    if (busy && i == st.lbt_busy_n && st.lbt_busy_n < MAX_LBT_BUSY) {
        st.lbt_busy[st.lbt_busy_n++] = freq_hz;
    } else if (!busy && i < st.lbt_busy_n) {
        st.lbt_busy[i] = st.lbt_busy[--st.lbt_busy_n];
    }
    unlock();
}

size_t fake_lgw_call_log_size(void)
{
    lock();
    const size_t n = st.calls_size;
    unlock();
    return n;
}

int fake_lgw_call_log_get(size_t index, struct fake_lgw_call* out)
{
    lock();
    int rc = -1;
    if (out && index < st.calls_size) {
        *out = st.calls[index];
        rc = 0;
    }
    unlock();
    return rc;
}

int fake_lgw_call_count(const char* function)
{
    const int fn = fn_lookup(function);
    if (fn < 0) {
        return -1;
    }
    lock();
    const int n = st.call_count[fn];
    unlock();
    return n;
}

#define GETTER(name, type, flag, field)                                                            \
    int name(type* out)                                                                            \
    {                                                                                              \
        lock();                                                                                    \
        int rc = -1;                                                                               \
        if (out && st.flag) {                                                                      \
            *out = st.field;                                                                       \
            rc = 0;                                                                                \
        }                                                                                          \
        unlock();                                                                                  \
        return rc;                                                                                 \
    }

GETTER(fake_lgw_get_board_conf, struct lgw_conf_board_s, board_set, board)
GETTER(fake_lgw_get_lbt_conf, struct lgw_conf_lbt_s, lbt_set, lbt)
GETTER(fake_lgw_get_txgain_conf, struct lgw_tx_gain_lut_s, txgain_set, txgain)

int fake_lgw_get_rxrf_conf(uint8_t rf_chain, struct lgw_conf_rxrf_s* out)
{
    lock();
    int rc = -1;
    if (out && rf_chain < LGW_RF_CHAIN_NB && st.rxrf_set[rf_chain]) {
        *out = st.rxrf[rf_chain];
        rc = 0;
    }
    unlock();
    return rc;
}

int fake_lgw_get_rxif_conf(uint8_t if_chain, struct lgw_conf_rxif_s* out)
{
    lock();
    int rc = -1;
    if (out && if_chain < LGW_IF_CHAIN_NB && st.rxif_set[if_chain]) {
        *out = st.rxif[if_chain];
        rc = 0;
    }
    unlock();
    return rc;
}

int fake_lgw_is_started(void)
{
    lock();
    const int s = st.started ? 1 : 0;
    unlock();
    return s;
}
