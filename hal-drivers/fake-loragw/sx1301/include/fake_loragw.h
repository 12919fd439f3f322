/*
 * fake-loragw: control API of the lora_gateway v5.0.1 (SX1301) test double (see
 * ../../README.md). The same fake_lgw_* names as the sx1302 double where they make sense, so
 * tests read alike: the two libraries export the same symbols and are never linked together.
 *
 * Every function is thread-safe (one process-global mutex shared with the lgw_* functions).
 * From C++ include this header (and loragw_hal.h) inside extern "C" {}.
 */
#ifndef FAKE_LORAGW_SX1301_H
#define FAKE_LORAGW_SX1301_H

#include <stddef.h>
#include <stdint.h>

#include "loragw_hal.h"
#include "loragw_reg.h"

/* Back to the initial state: stopped, no configuration, empty logs and queues, no injected
 * failures, PPS off, real clock, counter restarting at 0 now, LGW_GPS_EN 0. */
void fake_lgw_reset(void);

/* ---- clock ----
 * The SX1301 counter is a true 32-bit 1 MHz counter: start + elapsed µs (mod 2^32). Elapsed
 * time comes from CLOCK_MONOTONIC, or, in manual mode, only from fake_lgw_advance_us(). */
void fake_lgw_set_counter_start(uint32_t start_us);
void fake_lgw_set_manual_clock(int manual);
void fake_lgw_advance_us(uint64_t us);
uint32_t fake_lgw_counter_now(void);
/* PPS edges at every whole host second (CLOCK_REALTIME; manual mode: every 1 000 000 µs). */
void fake_lgw_set_pps(int on);
/* The LGW_GPS_EN register (lgw_start sets it to 1, as the HAL does; lgw_reg_w changes it). */
int fake_lgw_gps_enabled(void);

/* ---- RX: scripted receptions, returned by lgw_receive in FIFO order ----
 * count_us == 0 is replaced by the counter at the time lgw_receive delivers it. */
int fake_lgw_push_rx(const struct lgw_pkt_rx_s* pkt);
size_t fake_lgw_rx_pending(void);

/* ---- TX capture: every packet lgw_send accepted (returned LGW_HAL_SUCCESS) ---- */
struct fake_lgw_tx_info {
    uint32_t counter_at_send;
    int32_t lead_us;      /* TIMESTAMPED: count_us - counter_at_send (signed); else 0 */
    uint32_t air_time_us; /* emission length the fake simulates (unrounded ToA) */
    uint32_t start_us;    /* counter value at which emission starts (ON_GPS: next PPS) */
};
size_t fake_lgw_tx_count(void);
int fake_lgw_tx_get(size_t index, struct lgw_pkt_tx_s* out);
int fake_lgw_tx_get_info(size_t index, struct fake_lgw_tx_info* out);
size_t fake_lgw_lbt_refused_count(void); /* lgw_send calls answered LGW_LBT_ISSUE */

/* ---- error injection (as in the sx1302 double; names: "lgw_start", "lgw_reg_w", ...) ---- */
int fake_lgw_fail(const char* function, int times);
/* lgw_send on a frequency within ±10 kHz of freq_hz returns LGW_LBT_ISSUE while busy. */
void fake_lgw_lbt_busy(uint32_t freq_hz, int busy);

/* ---- call recording ---- */
enum fake_lgw_call_kind {
    FAKE_LGW_CALL_BOARD,
    FAKE_LGW_CALL_LBT,
    FAKE_LGW_CALL_RXRF,
    FAKE_LGW_CALL_RXIF,
    FAKE_LGW_CALL_TXGAIN,
    FAKE_LGW_CALL_START,
    FAKE_LGW_CALL_STOP
};
struct fake_lgw_call {
    enum fake_lgw_call_kind kind;
    const char* function;
    int chain; /* rf_chain / if_chain argument, -1 if none */
    int result;
    union {
        struct lgw_conf_board_s board;
        struct lgw_conf_lbt_s lbt;
        struct lgw_conf_rxrf_s rxrf;
        struct lgw_conf_rxif_s rxif;
        struct lgw_tx_gain_lut_s txgain;
    } conf;
};
size_t fake_lgw_call_log_size(void);
int fake_lgw_call_log_get(size_t index, struct fake_lgw_call* out);
int fake_lgw_call_count(const char* function);

/* The configuration last accepted by the HAL. 0, or -1 if never set. */
int fake_lgw_get_board_conf(struct lgw_conf_board_s* out);
int fake_lgw_get_lbt_conf(struct lgw_conf_lbt_s* out);
int fake_lgw_get_rxrf_conf(uint8_t rf_chain, struct lgw_conf_rxrf_s* out);
int fake_lgw_get_rxif_conf(uint8_t if_chain, struct lgw_conf_rxif_s* out);
int fake_lgw_get_txgain_conf(struct lgw_tx_gain_lut_s* out); /* one table for both chains */

int fake_lgw_is_started(void);

/* LoRa / FSK time on air in µs, unrounded (low-data-rate optimisation: SF11/SF12 at 125 kHz,
 * SF12 at 250 kHz). */
double fake_lgw_time_on_air_us(const struct lgw_pkt_tx_s* packet);

#endif /* FAKE_LORAGW_SX1301_H */
