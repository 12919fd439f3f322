/*
 * fake-loragw common core: the flavour-independent machinery of the libloragw test doubles
 * (sx1302, sx1301, picogw). One process-global state behind one mutex: the simulated
 * concentrator clock and PPS, call counting and failure injection, growable record arrays
 * (call log, TX capture) and the RX queue, the LBT busy list, LoRa/FSK time on air and the TX
 * slot timing. Each flavour's fake_loragw.c keeps its HAL structs, validation and translation.
 *
 * The core is compiled into each flavour's static library separately (the flavours export the
 * same lgw_* / fake_lgw_* names and are never linked together). It implements the part of the
 * fake_lgw_* control API that does not depend on HAL types; the prototypes below match each
 * flavour's fake_loragw.h.
 */
#ifndef FAKE_CORE_H
#define FAKE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAKE_CORE_MAX_FN 32
#define FAKE_CORE_MAX_LBT_BUSY 32
#define FAKE_CORE_LBT_FREQ_TOLERANCE_HZ 10000u

/* What each flavour defines (one object per flavour library). */
struct fake_core_flavour {
    const char* const* fn_names; /* "lgw_board_setconf", ... indexed by the flavour's fn ids */
    int fn_count;                /* <= FAKE_CORE_MAX_FN */
    size_t rx_size;              /* sizeof (struct lgw_pkt_rx_s) */
    size_t rx_count_offset;      /* offsetof (struct lgw_pkt_rx_s, count_us) */
    void (*reset_locked)(void);  /* clears the flavour's own state; called under the lock */
};
extern const struct fake_core_flavour fake_core_flavour;

/* A growable array of fixed-size records; head > 0 only for a queue. */
struct fake_core_vec {
    unsigned char* data;
    size_t head, size, cap;
};

/* One TX path: when the emission starts and ends, in elapsed host µs. */
struct fake_core_tx_slot {
    bool active;
    bool wait_pps;       /* ON_GPS without PPS: never starts */
    uint64_t start_host; /* elapsed µs at which emission starts */
    uint64_t end_host;   /* elapsed µs at which emission ends */
};

/* Same fields as each flavour's struct fake_lgw_tx_info. */
struct fake_core_tx_timing {
    uint32_t counter_at_send;
    int32_t lead_us;
    uint32_t air_time_us;
    uint32_t start_us;
};

enum fake_core_tx_mode { FAKE_CORE_TX_IMMEDIATE, FAKE_CORE_TX_TIMESTAMPED, FAKE_CORE_TX_ON_GPS };
enum fake_core_tx_state { FAKE_CORE_TX_FREE, FAKE_CORE_TX_SCHEDULED, FAKE_CORE_TX_EMITTING };

/* When the LoRa low-data-rate optimisation applies, per HAL. */
enum fake_core_ldro {
    FAKE_CORE_LDRO_SF11_UP,      /* SF11/SF12 at every bandwidth (sx1302_hal) */
    FAKE_CORE_LDRO_SF11_UP_125K, /* SF11/SF12 at 125 kHz (picoGW_hal) */
    FAKE_CORE_LDRO_SYMBOL_16MS   /* a symbol of 16 ms or more (lora_gateway) */
};

struct fake_core_state {
    /* call counting and failure injection */
    int call_count[FAKE_CORE_MAX_FN];
    int fail_left[FAKE_CORE_MAX_FN]; /* > 0: that many; < 0: forever */

    struct fake_core_vec calls; /* struct fake_lgw_call */
    struct fake_core_vec rx;    /* struct lgw_pkt_rx_s, a queue */
    struct fake_core_vec tx;    /* the flavour's TX capture entries */

    /* clock */
    bool manual_clock;
    uint64_t manual_elapsed_us;
    uint64_t epoch_mono_us;
    uint32_t counter_start;
    bool pps;

    /* LBT */
    uint32_t lbt_busy[FAKE_CORE_MAX_LBT_BUSY];
    size_t lbt_busy_n;
    size_t lbt_refused;
};
extern struct fake_core_state fake_core_st;

/* The one mutex; the first lock (and fake_lgw_reset) resets core and flavour state. */
void fake_core_lock(void);
void fake_core_unlock(void);

/* Counts the call and consumes an injected failure. true: the call must fail. */
bool fake_core_enter(int fn);
const char* fake_core_fn_name(int fn);

/* Elapsed host µs since the counter epoch, and the µs since the last host whole second. */
uint64_t fake_core_elapsed_us(uint32_t* pps_phase_us);
uint32_t fake_core_counter_at(uint64_t elapsed);
uint32_t fake_core_counter_now(void);

/* A zeroed new record at the end of v (NULL if out of memory). */
void* fake_core_vec_push(struct fake_core_vec* v, size_t elem, size_t first_cap);
/* Copies record index of v to out: 0, or -1 if out of range / out NULL. */
int fake_core_vec_get(const struct fake_core_vec* v, size_t elem, size_t index, void* out);

/* RX queue: fake_core_rx_take copies up to max packets to out, stamping count_us == 0 with the
 * current counter; returns how many. */
int fake_core_rx_push(const void* pkt);
int fake_core_rx_take(void* out, int max);

/* true when freq is within the tolerance of a busy LBT frequency (and counts the refusal) */
bool fake_core_lbt_refuse(uint32_t freq_hz);
void fake_core_lbt_set(uint32_t freq_hz, int busy);

/* Time on air in µs, 0 for invalid parameters. */
double fake_core_lora_toa_us(uint32_t bw_hz, int sf, int cr, unsigned preamble, unsigned size,
                             bool no_crc, bool no_header, enum fake_core_ldro ldro);
double fake_core_fsk_toa_us(uint32_t datarate, unsigned preamble, unsigned sync_bytes,
                            unsigned size, bool no_crc);
/* The preamble the modem would use (LoRa: 0 → 8, at least 6; FSK: 0 → 5). */
unsigned fake_core_tx_preamble(bool lora, unsigned preamble);

/* Schedules an emission of air_us on slot s; pps_ok: an ON_GPS send starts at the next PPS. */
struct fake_core_tx_timing fake_core_tx_schedule(struct fake_core_tx_slot* s,
                                                 enum fake_core_tx_mode mode, uint32_t count_us,
                                                 bool pps_ok, double air_us);
enum fake_core_tx_state fake_core_tx_state(const struct fake_core_tx_slot* s);

/* Counts a call that cannot fail (takes the lock). */
void fake_core_count(int fn);

/* fake_core.c also defines the HAL-type-free part of the fake_lgw_* control API: reset, clock and
 * PPS control, fake_lgw_fail, call counts, the call-log / RX / TX sizes. Their prototypes are
 * each flavour's fake_loragw.h. */

/* ---- definition helpers for the HAL-typed parts ------------------------------------------- */

/* The flavour descriptor (fn_names[FN_COUNT], rx_type with count_us, reset_locked), a static
 * record(kind, fn, chain, result, conf, conf_size) appending call_type to the call log, and a
 * check that the HAL's IMMEDIATE/TIMESTAMPED/ON_GPS match enum fake_core_tx_mode. */
#define FAKE_CORE_DEFINE_FLAVOUR(rx_type, call_type, kind_type)                                    \
    const struct fake_core_flavour fake_core_flavour = {                                           \
        .fn_names = fn_names,                                                                      \
        .fn_count = FN_COUNT,                                                                      \
        .rx_size = sizeof(rx_type),                                                                \
        .rx_count_offset = offsetof(rx_type, count_us),                                            \
        .reset_locked = reset_locked,                                                              \
    };                                                                                             \
    _Static_assert(IMMEDIATE == FAKE_CORE_TX_IMMEDIATE &&                                          \
                       TIMESTAMPED == FAKE_CORE_TX_TIMESTAMPED && ON_GPS == FAKE_CORE_TX_ON_GPS,   \
                   "tx_mode values passed to fake_core_tx_schedule");                              \
    FAKE_CORE_DEFINE_RECORD(call_type, kind_type)

/* double fake_lgw_time_on_air_us(const pkt_type*) over a static toa_us_locked(). */
#define FAKE_CORE_DEFINE_TOA_US(pkt_type)                                                          \
    double fake_lgw_time_on_air_us(const pkt_type* packet)                                         \
    {                                                                                              \
        if (!packet) {                                                                             \
            return 0.0;                                                                            \
        }                                                                                          \
        fake_core_lock();                                                                          \
        const double us = toa_us_locked(packet);                                                   \
        fake_core_unlock();                                                                        \
        return us;                                                                                 \
    }

/* static void record(kind, fn, chain, result, conf, conf_size): appends to the call log. */
#define FAKE_CORE_DEFINE_RECORD(call_type, kind_type)                                              \
    static void record(kind_type kind, int fn, int chain, int result, const void* conf,            \
                       size_t conf_size)                                                           \
    {                                                                                              \
        call_type* c = fake_core_vec_push(&fake_core_st.calls, sizeof *c, 32);                     \
        if (c) {                                                                                   \
            c->kind = kind;                                                                        \
            c->function = fake_core_fn_name(fn);                                                   \
            c->chain = chain;                                                                      \
            c->result = result;                                                                    \
            if (conf) {                                                                            \
                memcpy(&c->conf, conf, conf_size);                                                 \
            }                                                                                      \
        }                                                                                          \
    }

/* int name(out_type* out): 0 and *out = value when ok, else -1. */
#define FAKE_CORE_DEFINE_GETTER(name, out_type, ok, value)                                         \
    int name(out_type* out)                                                                        \
    {                                                                                              \
        fake_core_lock();                                                                          \
        int rc = -1;                                                                               \
        if (out && (ok)) {                                                                         \
            *out = (value);                                                                        \
            rc = 0;                                                                                \
        }                                                                                          \
        fake_core_unlock();                                                                        \
        return rc;                                                                                 \
    }

/* int name(uint8_t chain, out_type* out) over set_flags[nb] / values[nb]. */
#define FAKE_CORE_DEFINE_CHAIN_GETTER(name, out_type, nb, set_flags, values)                       \
    int name(uint8_t chain, out_type* out)                                                         \
    {                                                                                              \
        fake_core_lock();                                                                          \
        int rc = -1;                                                                               \
        if (out && chain < (nb) && (set_flags)[chain]) {                                           \
            *out = (values)[chain];                                                                \
            rc = 0;                                                                                \
        }                                                                                          \
        fake_core_unlock();                                                                        \
        return rc;                                                                                 \
    }

/* ret_type name(void): value read under the lock. */
#define FAKE_CORE_DEFINE_READ(name, ret_type, value)                                               \
    ret_type name(void)                                                                            \
    {                                                                                              \
        fake_core_lock();                                                                          \
        const ret_type v = (value);                                                                \
        fake_core_unlock();                                                                        \
        return v;                                                                                  \
    }

/* fake_lgw_push_rx, fake_lgw_call_log_get and the TX capture accessors over fake_core_st.tx
 * holding entry_type { pkt; timing; }. */
#define FAKE_CORE_DEFINE_ACCESSORS(rx_type, entry_type, pkt_type, info_type)                       \
    int fake_lgw_push_rx(const rx_type* pkt)                                                       \
    {                                                                                              \
        return fake_core_rx_push(pkt);                                                             \
    }                                                                                              \
    int fake_lgw_tx_get(size_t index, pkt_type* out)                                               \
    {                                                                                              \
        fake_core_lock();                                                                          \
        int rc = -1;                                                                               \
        if (out && index < fake_core_st.tx.size) {                                                 \
            *out = ((const entry_type*)(const void*)fake_core_st.tx.data)[index].pkt;              \
            rc = 0;                                                                                \
        }                                                                                          \
        fake_core_unlock();                                                                        \
        return rc;                                                                                 \
    }                                                                                              \
    int fake_lgw_tx_get_info(size_t index, info_type* out)                                         \
    {                                                                                              \
        fake_core_lock();                                                                          \
        int rc = -1;                                                                               \
        if (out && index < fake_core_st.tx.size) {                                                 \
            const struct fake_core_tx_timing* t =                                                  \
                &((const entry_type*)(const void*)fake_core_st.tx.data)[index].timing;             \
            out->counter_at_send = t->counter_at_send;                                             \
            out->lead_us = t->lead_us;                                                             \
            out->air_time_us = t->air_time_us;                                                     \
            out->start_us = t->start_us;                                                           \
            rc = 0;                                                                                \
        }                                                                                          \
        fake_core_unlock();                                                                        \
        return rc;                                                                                 \
    }                                                                                              \
    int fake_lgw_call_log_get(size_t index, struct fake_lgw_call* out)                             \
    {                                                                                              \
        fake_core_lock();                                                                          \
        const int rc = fake_core_vec_get(&fake_core_st.calls, sizeof *out, index, out);            \
        fake_core_unlock();                                                                        \
        return rc;                                                                                 \
    }

#endif
