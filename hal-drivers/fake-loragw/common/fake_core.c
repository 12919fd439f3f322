/*
 * fake-loragw common core (see fake_core.h). Compiled into each flavour's library.
 */
#define _POSIX_C_SOURCE 200809L

#include "fake_core.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct fake_core_state fake_core_st;

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
    free(fake_core_st.calls.data);
    free(fake_core_st.rx.data);
    free(fake_core_st.tx.data);
    memset(&fake_core_st, 0, sizeof fake_core_st);
    fake_core_st.epoch_mono_us = clock_us(CLOCK_MONOTONIC);
    fake_core_flavour.reset_locked();
    initialised = true;
}

void fake_core_lock(void)
{
    pthread_mutex_lock(&mu);
    if (!initialised) {
        reset_locked();
    }
}

void fake_core_unlock(void)
{
    pthread_mutex_unlock(&mu);
}

/* ------------------------------------------------------------------------------------------ */
/* calls                                                                                        */

bool fake_core_enter(int fn)
{
    fake_core_st.call_count[fn]++;
    if (fake_core_st.fail_left[fn] != 0) {
        if (fake_core_st.fail_left[fn] > 0) {
            fake_core_st.fail_left[fn]--;
        }
        return true;
    }
    return false;
}

void fake_core_count(int fn)
{
    fake_core_lock();
    fake_core_st.call_count[fn]++;
    fake_core_unlock();
}

const char* fake_core_fn_name(int fn)
{
    return fake_core_flavour.fn_names[fn];
}

static int fn_lookup(const char* function)
{
    if (!function) {
        return -1;
    }
    for (int i = 0; i < fake_core_flavour.fn_count; ++i) {
        if (strcmp(fake_core_flavour.fn_names[i], function) == 0) {
            return i;
        }
    }
    return -1;
}

/* ------------------------------------------------------------------------------------------ */
/* clock                                                                                        */

uint64_t fake_core_elapsed_us(uint32_t* pps_phase_us)
{
    if (fake_core_st.manual_clock) {
        if (pps_phase_us) {
            *pps_phase_us = (uint32_t)(fake_core_st.manual_elapsed_us % 1000000u);
        }
        return fake_core_st.manual_elapsed_us;
    }
    const uint64_t mono = clock_us(CLOCK_MONOTONIC);
    if (pps_phase_us) {
        *pps_phase_us = (uint32_t)(clock_us(CLOCK_REALTIME) % 1000000u);
    }
    return mono - fake_core_st.epoch_mono_us;
}

uint32_t fake_core_counter_at(uint64_t elapsed)
{
    return fake_core_st.counter_start + (uint32_t)elapsed;
}

uint32_t fake_core_counter_now(void)
{
    return fake_core_counter_at(fake_core_elapsed_us(NULL));
}

/* ------------------------------------------------------------------------------------------ */
/* record arrays and the RX queue                                                               */

static bool vec_grow(struct fake_core_vec* v, size_t elem, size_t first_cap)
{
    if (v->size < v->cap) {
        return true;
    }
    const size_t cap = v->cap ? v->cap * 2 : first_cap;
    unsigned char* p = realloc(v->data, cap * elem);
    if (!p) {
        return false;
    }
    v->data = p;
    v->cap = cap;
    return true;
}

void* fake_core_vec_push(struct fake_core_vec* v, size_t elem, size_t first_cap)
{
    if (!vec_grow(v, elem, first_cap)) {
        return NULL;
    }
    unsigned char* p = v->data + v->size++ * elem;
    memset(p, 0, elem);
    return p;
}

int fake_core_vec_get(const struct fake_core_vec* v, size_t elem, size_t index, void* out)
{
    if (!out || index >= v->size) {
        return -1;
    }
    memcpy(out, v->data + index * elem, elem);
    return 0;
}

int fake_core_rx_push(const void* pkt)
{
    if (!pkt) {
        return -1;
    }
    const size_t elem = fake_core_flavour.rx_size;
    fake_core_lock();
    struct fake_core_vec* q = &fake_core_st.rx;
    if (q->size == q->cap && q->head > 0) {
        memmove(q->data, q->data + q->head * elem, (q->size - q->head) * elem);
        q->size -= q->head;
        q->head = 0;
    }
    void* slot = fake_core_vec_push(q, elem, 16);
    if (slot) {
        memcpy(slot, pkt, elem);
    }
    fake_core_unlock();
    return slot ? 0 : -1;
}

int fake_core_rx_take(void* out, int max)
{
    const size_t elem = fake_core_flavour.rx_size;
    const size_t off = fake_core_flavour.rx_count_offset;
    const uint32_t now = fake_core_counter_now();
    struct fake_core_vec* q = &fake_core_st.rx;
    unsigned char* dst = out;
    int n = 0;
    while (n < max && q->head < q->size) {
        unsigned char* p = dst + (size_t)n * elem;
        memcpy(p, q->data + q->head++ * elem, elem);
        uint32_t count = 0;
        memcpy(&count, p + off, sizeof count);
        if (count == 0) {
            memcpy(p + off, &now, sizeof now);
        }
        ++n;
    }
    if (q->head == q->size) {
        q->head = q->size = 0;
    }
    return n;
}

/* ------------------------------------------------------------------------------------------ */
/* LBT                                                                                          */

bool fake_core_lbt_refuse(uint32_t freq)
{
    for (size_t i = 0; i < fake_core_st.lbt_busy_n; ++i) {
        const uint32_t f = fake_core_st.lbt_busy[i];
        const uint32_t d = f > freq ? f - freq : freq - f;
        if (d <= FAKE_CORE_LBT_FREQ_TOLERANCE_HZ) {
            fake_core_st.lbt_refused++;
            return true;
        }
    }
    return false;
}

void fake_core_lbt_set(uint32_t freq_hz, int busy)
{
    fake_core_lock();
    size_t i = 0;
    while (i < fake_core_st.lbt_busy_n && fake_core_st.lbt_busy[i] != freq_hz) {
        ++i;
    }
    if (busy && i == fake_core_st.lbt_busy_n && fake_core_st.lbt_busy_n < FAKE_CORE_MAX_LBT_BUSY) {
        fake_core_st.lbt_busy[fake_core_st.lbt_busy_n++] = freq_hz;
    } else if (!busy && i < fake_core_st.lbt_busy_n) {
        fake_core_st.lbt_busy[i] = fake_core_st.lbt_busy[--fake_core_st.lbt_busy_n];
    }
    fake_core_unlock();
}

/* ------------------------------------------------------------------------------------------ */
/* time on air                                                                                  */

double fake_core_lora_toa_us(uint32_t bw, int sf, int cr, unsigned preamble, unsigned size,
                             bool no_crc, bool no_header, enum fake_core_ldro ldro)
{
    if (bw == 0 || sf < 5 || sf > 12 || cr < 1 || cr > 4) {
        return 0.0;
    }
    const double t_sym_us = (double)(1u << sf) * 1e6 / (double)bw;
    const bool low_sf = sf <= 6;
    int de = 0;
    switch (ldro) {
    case FAKE_CORE_LDRO_SF11_UP:
        de = sf >= 11 ? 1 : 0;
        break;
    case FAKE_CORE_LDRO_SF11_UP_125K:
        de = (sf >= 11 && bw == 125000u) ? 1 : 0;
        break;
    case FAKE_CORE_LDRO_SYMBOL_16MS:
        de = t_sym_us >= 16000.0 ? 1 : 0;
        break;
    }
    const double t_preamble = ((double)preamble + (low_sf ? 6.25 : 4.25)) * t_sym_us;
    const int num =
        8 * (int)size - 4 * sf + (low_sf ? 20 : 28) + (no_crc ? 0 : 16) - (no_header ? 20 : 0);
    const int den = 4 * (sf - 2 * de);
    const int blocks = num > 0 ? (num + den - 1) / den : 0;
    return t_preamble + (8.0 + (double)(blocks * (cr + 4))) * t_sym_us;
}

double fake_core_fsk_toa_us(uint32_t datarate, unsigned preamble, unsigned sync_bytes,
                            unsigned size, bool no_crc)
{
    if (datarate == 0) {
        return 0.0;
    }
    /* preamble bytes + sync word + length byte + payload + CRC */
    const unsigned bytes = preamble + sync_bytes + 1u + size + (no_crc ? 0u : 2u);
    return 8.0 * (double)bytes * 1e6 / (double)datarate;
}

unsigned fake_core_tx_preamble(bool lora, unsigned preamble)
{
    if (lora) {
        return preamble == 0 ? 8u : preamble < 6 ? 6u : preamble;
    }
    return preamble == 0 ? 5u : preamble;
}

/* ------------------------------------------------------------------------------------------ */
/* TX slot                                                                                      */

struct fake_core_tx_timing fake_core_tx_schedule(struct fake_core_tx_slot* s,
                                                 enum fake_core_tx_mode mode, uint32_t count_us,
                                                 bool pps_ok, double air)
{
    const uint32_t air_us = (uint32_t)ceil(air);
    uint32_t phase = 0;
    const uint64_t now = fake_core_elapsed_us(&phase);
    const uint32_t now_cnt = fake_core_counter_at(now);
    memset(s, 0, sizeof *s);
    s->active = true;
    uint64_t start = now;
    int32_t lead = 0;
    if (mode == FAKE_CORE_TX_TIMESTAMPED) {
        /* the trigger fires when the counter next equals count_us (mod 2^32), as in hardware */
        start = now + (uint32_t)(count_us - now_cnt);
        lead = (int32_t)(count_us - now_cnt);
    } else if (mode == FAKE_CORE_TX_ON_GPS) {
        if (pps_ok) {
            start = now + (1000000u - phase);
        } else {
            s->wait_pps = true;
        }
    }
    s->start_host = start;
    s->end_host = start + air_us;
    const struct fake_core_tx_timing t = {
        .counter_at_send = now_cnt,
        .lead_us = lead,
        .air_time_us = air_us,
        .start_us = fake_core_counter_at(start),
    };
    return t;
}

enum fake_core_tx_state fake_core_tx_state(const struct fake_core_tx_slot* s)
{
    const uint64_t now = fake_core_elapsed_us(NULL);
    if (!s->active) {
        return FAKE_CORE_TX_FREE;
    }
    if (s->wait_pps || now < s->start_host) {
        return FAKE_CORE_TX_SCHEDULED;
    }
    return now < s->end_host ? FAKE_CORE_TX_EMITTING : FAKE_CORE_TX_FREE;
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
    fake_core_lock();
    fake_core_st.counter_start = start_us - (uint32_t)fake_core_elapsed_us(NULL);
    fake_core_unlock();
}

void fake_lgw_set_manual_clock(int manual)
{
    fake_core_lock();
    const uint64_t now = fake_core_elapsed_us(NULL);
    fake_core_st.manual_clock = manual != 0;
    if (fake_core_st.manual_clock) {
        fake_core_st.manual_elapsed_us = now;
    } else {
        /* continue from the manual time without a jump */
        fake_core_st.epoch_mono_us = clock_us(CLOCK_MONOTONIC) - now;
    }
    fake_core_unlock();
}

void fake_lgw_advance_us(uint64_t us)
{
    fake_core_lock();
    if (fake_core_st.manual_clock) {
        fake_core_st.manual_elapsed_us += us;
    }
    fake_core_unlock();
}

uint32_t fake_lgw_counter_now(void)
{
    fake_core_lock();
    const uint32_t c = fake_core_counter_now();
    fake_core_unlock();
    return c;
}

void fake_lgw_set_pps(int on)
{
    fake_core_lock();
    fake_core_st.pps = on != 0;
    fake_core_unlock();
}

size_t fake_lgw_rx_pending(void)
{
    fake_core_lock();
    const size_t n = fake_core_st.rx.size - fake_core_st.rx.head;
    fake_core_unlock();
    return n;
}

size_t fake_lgw_tx_count(void)
{
    fake_core_lock();
    const size_t n = fake_core_st.tx.size;
    fake_core_unlock();
    return n;
}

int fake_lgw_fail(const char* function, int times)
{
    const int fn = fn_lookup(function);
    if (fn < 0) {
        return -1;
    }
    fake_core_lock();
    fake_core_st.fail_left[fn] = times;
    fake_core_unlock();
    return 0;
}

size_t fake_lgw_call_log_size(void)
{
    fake_core_lock();
    const size_t n = fake_core_st.calls.size;
    fake_core_unlock();
    return n;
}

int fake_lgw_call_count(const char* function)
{
    const int fn = fn_lookup(function);
    if (fn < 0) {
        return -1;
    }
    fake_core_lock();
    const int n = fake_core_st.call_count[fn];
    fake_core_unlock();
    return n;
}
