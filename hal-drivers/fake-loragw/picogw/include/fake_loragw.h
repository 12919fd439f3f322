/*
 * fake-loragw (picogw flavour): control API of the picoGW_hal V0.2.3 test double (see
 * ../../README.md). The same fake_lgw_* names as the sx1302 flavour where the HAL has the
 * feature; the library `fake_loragw_picogw` is never linked together with another flavour.
 *
 * Every function is thread-safe (one process-global mutex shared with the lgw_* functions).
 * From C++ include it inside extern "C" {}.
 */
#ifndef FAKE_LORAGW_PICOGW_H
#define FAKE_LORAGW_PICOGW_H

#include <stddef.h>
#include <stdint.h>

#include "loragw_hal.h"
#include "loragw_reg.h"

#define FAKE_LGW_MCU_VERSION 0x010a0006 /* STM32FWVERSION the HAL expects (spec §4) */

/* Back to the initial state: disconnected, stopped, no configuration, empty logs and queues,
 * no injected failures, PPS off, real clock, counter restarting at 0 now. */
void fake_lgw_reset(void);

/* ---- clock ----
 * The SX1308 counter is a true 32-bit µs counter: start + elapsed µs (mod 2^32). Elapsed time
 * comes from CLOCK_MONOTONIC, or, in manual mode, only from fake_lgw_advance_us(). */
void fake_lgw_set_counter_start(uint32_t start_us);
void fake_lgw_set_manual_clock(int manual);
void fake_lgw_advance_us(uint64_t us);
uint32_t fake_lgw_counter_now(void);
/* PPS simulation (the PicoCell has no PPS input; this models a modified board). While
 * LGW_GPS_EN is 1, LGW_TIMESTAMP / lgw_get_trigcnt hold the counter at the last edge: at the
 * last whole host second when PPS is on, else frozen at the value latched when LGW_GPS_EN was
 * set. lgw_start sets LGW_GPS_EN to 1, as lora_gateway v5 does (our choice for the picoGW). */
void fake_lgw_set_pps(int on);
int fake_lgw_gps_en(void); /* the LGW_GPS_EN register */

/* ---- USB link ---- */
int fake_lgw_is_connected(void);
/* The com_path of the last successful lgw_connect (empty if never). 0, or -1 if out is NULL. */
int fake_lgw_get_com_path(char* out, size_t len);

/* ---- RX: scripted receptions, returned by lgw_receive in FIFO order ----
 * count_us == 0 is replaced by the counter at the time lgw_receive delivers it. */
int fake_lgw_push_rx(const struct lgw_pkt_rx_s* pkt);
size_t fake_lgw_rx_pending(void);

/* ---- TX capture: every packet lgw_send accepted ---- */
struct fake_lgw_tx_info {
    uint32_t counter_at_send;
    int32_t lead_us;      /* TIMESTAMPED: count_us - counter_at_send (signed); else 0 */
    uint32_t air_time_us; /* emission length the fake simulates */
    uint32_t start_us;    /* counter value at which emission starts */
};
size_t fake_lgw_tx_count(void);
int fake_lgw_tx_get(size_t index, struct lgw_pkt_tx_s* out);
int fake_lgw_tx_get_info(size_t index, struct fake_lgw_tx_info* out);

/* ---- error injection ----
 * The next `times` calls of `function` (an lgw_* name, e.g. "lgw_connect", "lgw_start") fail
 * (LGW_HAL_ERROR / LGW_REG_ERROR; lgw_receive: -1; lgw_time_on_air: 0) without side effects.
 * times < 0: until cleared; 0: clear. Returns 0, or -1 if the name is unknown. */
int fake_lgw_fail(const char* function, int times);

/* ---- call recording ---- */
enum fake_lgw_call_kind {
    FAKE_LGW_CALL_CONNECT,
    FAKE_LGW_CALL_BOARD,
    FAKE_LGW_CALL_RXRF,
    FAKE_LGW_CALL_RXIF,
    FAKE_LGW_CALL_TXGAIN,
    FAKE_LGW_CALL_START,
    FAKE_LGW_CALL_STOP,
    FAKE_LGW_CALL_DISCONNECT
};
struct fake_lgw_call {
    enum fake_lgw_call_kind kind;
    const char* function;
    int chain;  /* rf_chain / if_chain argument, -1 if none */
    int result; /* what the fake returned */
    union {
        struct lgw_conf_board_s board;
        struct lgw_conf_rxrf_s rxrf;
        struct lgw_conf_rxif_s rxif;
        struct lgw_tx_gain_lut_s txgain;
    } conf; /* copy of the argument (zeroed when there is none) */
};
/* lgw_connect, every *_setconf, lgw_start, lgw_stop and lgw_disconnect in order. */
size_t fake_lgw_call_log_size(void);
int fake_lgw_call_log_get(size_t index, struct fake_lgw_call* out);
int fake_lgw_call_count(const char* function);

/* The configuration last accepted (what lgw_start would use). 0, or -1 if never set. */
int fake_lgw_get_board_conf(struct lgw_conf_board_s* out);
int fake_lgw_get_rxrf_conf(uint8_t rf_chain, struct lgw_conf_rxrf_s* out);
int fake_lgw_get_rxif_conf(uint8_t if_chain, struct lgw_conf_rxif_s* out);
int fake_lgw_get_txgain_conf(struct lgw_tx_gain_lut_s* out);

int fake_lgw_is_started(void);

/* LoRa / FSK time on air in µs, unrounded. */
double fake_lgw_time_on_air_us(const struct lgw_pkt_tx_s* packet);

#endif /* FAKE_LORAGW_PICOGW_H */
