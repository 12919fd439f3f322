/*
 * fake-loragw: control API of the sx1302_hal test double (see ../../README.md).
 *
 * Every function is thread-safe (one process-global mutex shared with the lgw_* functions).
 * This header includes loragw_hal.h, so from C++ define FAKE_LGW_ALLOW_CXX first and include it
 * inside extern "C" {}.
 */
#ifndef FAKE_LORAGW_H
#define FAKE_LORAGW_H

#include <stddef.h>
#include <stdint.h>

#include "loragw_hal.h"

#define FAKE_LGW_DEFAULT_EUI 0x0016C001FF10A235ULL
#define FAKE_LGW_DEFAULT_TEMPERATURE 25.0f

/* Back to the initial state: stopped, no configuration, empty logs and queues, no injected
 * failures, PPS off, default EUI and temperature, real clock, counter restarting at 0 now. */
void fake_lgw_reset(void);

/* ---- clock ----
 * The concentrator counter is a 32-bit µs counter: start + elapsed µs (mod 2^32). Elapsed time
 * comes from CLOCK_MONOTONIC, or, in manual mode, only from fake_lgw_advance_us(). */
void fake_lgw_set_counter_start(uint32_t start_us); /* counter = start_us now */
void fake_lgw_set_manual_clock(int manual);         /* 1: time only moves with advance_us */
void fake_lgw_advance_us(uint64_t us);              /* manual mode only; ignored otherwise */
uint32_t fake_lgw_counter_now(void);                /* the counter (works while stopped) */
/* PPS simulation: when on, lgw_get_trigcnt returns the counter at the last whole host second
 * (CLOCK_REALTIME second boundary; in manual mode every 1 000 000 µs of elapsed time). */
void fake_lgw_set_pps(int on);

/* ---- identity ---- */
void fake_lgw_set_eui(uint64_t eui);
void fake_lgw_set_temperature(float celsius);

/* ---- RX: scripted receptions, returned by lgw_receive in FIFO order ----
 * count_us == 0 is replaced by the counter at the time lgw_receive delivers it. */
int fake_lgw_push_rx(const struct lgw_pkt_rx_s* pkt); /* 0, or -1 if out of memory / NULL */
size_t fake_lgw_rx_pending(void);

/* ---- TX capture: every packet lgw_send accepted (returned LGW_HAL_SUCCESS) ---- */
struct fake_lgw_tx_info {
    uint32_t counter_at_send; /* concentrator counter when lgw_send was called */
    int32_t lead_us;          /* TIMESTAMPED: count_us - counter_at_send (signed); else 0 */
    uint32_t air_time_us;     /* emission length the fake simulates (unrounded ToA) */
    uint32_t start_us;        /* counter value at which emission starts (ON_GPS: next PPS) */
};
size_t fake_lgw_tx_count(void);
int fake_lgw_tx_get(size_t index, struct lgw_pkt_tx_s* out);          /* 0 or -1 */
int fake_lgw_tx_get_info(size_t index, struct fake_lgw_tx_info* out); /* 0 or -1 */
size_t fake_lgw_lbt_refused_count(void); /* lgw_send calls answered LGW_LBT_NOT_ALLOWED */

/* ---- error injection ----
 * The next `times` calls of `function` (an lgw_* name, e.g. "lgw_start", "lgw_receive") return
 * LGW_HAL_ERROR (lgw_receive: -1; lgw_time_on_air: 0; lgw_version_info: unaffected) without
 * side effects. times < 0: fail until cleared; times == 0: clear. Returns 0, or -1 if the name
 * is unknown. */
int fake_lgw_fail(const char* function, int times);
/* lgw_send on a frequency within ±10 kHz of freq_hz returns LGW_LBT_NOT_ALLOWED while busy. */
void fake_lgw_lbt_busy(uint32_t freq_hz, int busy);

/* ---- call recording ---- */
enum fake_lgw_call_kind {
    FAKE_LGW_CALL_BOARD,
    FAKE_LGW_CALL_RXRF,
    FAKE_LGW_CALL_RXIF,
    FAKE_LGW_CALL_DEMOD,
    FAKE_LGW_CALL_TXGAIN,
    FAKE_LGW_CALL_FTIME,
    FAKE_LGW_CALL_SX1261,
    FAKE_LGW_CALL_START,
    FAKE_LGW_CALL_STOP
};
struct fake_lgw_call {
    enum fake_lgw_call_kind kind;
    const char* function; /* "lgw_board_setconf", ..., "lgw_start", "lgw_stop" */
    int chain;            /* rf_chain / if_chain argument, -1 if none */
    int result;           /* what the fake returned */
    union {
        struct lgw_conf_board_s board;
        struct lgw_conf_rxrf_s rxrf;
        struct lgw_conf_rxif_s rxif;
        struct lgw_conf_demod_s demod;
        struct lgw_tx_gain_lut_s txgain;
        struct lgw_conf_ftime_s ftime;
        struct lgw_conf_sx1261_s sx1261;
    } conf; /* copy of the argument (zeroed for start/stop or a NULL argument) */
};
/* Every *_setconf, lgw_start and lgw_stop call in order (also refused ones). */
size_t fake_lgw_call_log_size(void);
int fake_lgw_call_log_get(size_t index, struct fake_lgw_call* out); /* 0 or -1 */
/* Number of calls of any lgw_* function since the last reset (including failed ones). */
int fake_lgw_call_count(const char* function);

/* The configuration last accepted by the HAL (what lgw_start would use). 0, or -1 if never set. */
int fake_lgw_get_board_conf(struct lgw_conf_board_s* out);
int fake_lgw_get_rxrf_conf(uint8_t rf_chain, struct lgw_conf_rxrf_s* out);
int fake_lgw_get_rxif_conf(uint8_t if_chain, struct lgw_conf_rxif_s* out);
int fake_lgw_get_demod_conf(struct lgw_conf_demod_s* out);
int fake_lgw_get_txgain_conf(uint8_t rf_chain, struct lgw_tx_gain_lut_s* out);
int fake_lgw_get_ftime_conf(struct lgw_conf_ftime_s* out);
int fake_lgw_get_sx1261_conf(struct lgw_conf_sx1261_s* out);

int fake_lgw_is_started(void);

/* LoRa / FSK time on air in µs, unrounded (HAL variant: DE for SF >= 11 at every bandwidth). */
double fake_lgw_time_on_air_us(const struct lgw_pkt_tx_s* packet);

#endif /* FAKE_LORAGW_H */
