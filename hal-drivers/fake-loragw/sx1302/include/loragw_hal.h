/*
 * fake-loragw: loragw_hal.h of the sx1302_hal V2.1.0 API surface (test double).
 *
 * Written for the forwarder project from the facts in shared/spec/libloragw.md (§2, §6); this
 * is not Semtech code. Names, types, struct fields and the numeric values the spec gives are
 * those of sx1302_hal V2.1.0. Values the spec does not give are marked "(our choice)": a driver
 * must use the names only.
 *
 * Like the real header this is a C header without extern "C" guards, and it refuses to compile
 * as C++ (the real one fails on a C99 `[static N]` parameter; spec §1 rule 1). Test code that
 * wants the struct definitions from C++ defines FAKE_LGW_ALLOW_CXX before including it, inside
 * extern "C" {}; the spectral-scan declaration then drops the `static` array size.
 */
#ifndef FAKE_LORAGW_HAL_H
#define FAKE_LORAGW_HAL_H

#if defined(__cplusplus) && !defined(FAKE_LGW_ALLOW_CXX)
#error "loragw_hal.h (sx1302_hal) does not compile as C++: include it from a C translation unit"
#endif

#include <stdbool.h>
#include <stdint.h>

#include "loragw_com.h"

/* ---- return codes ---- */
#define LGW_HAL_SUCCESS 0
#define LGW_HAL_ERROR -1
#define LGW_LBT_NOT_ALLOWED 1 /* lgw_send only */

/* ---- sizes ---- */
#define LGW_RF_CHAIN_NB 2
#define LGW_IF_CHAIN_NB 10
#define LGW_MULTI_NB 8
#define TX_GAIN_LUT_SIZE_MAX 16
#define LGW_LBT_CHANNEL_NB_MAX 16
#define LGW_SPECTRAL_SCAN_RESULT_SIZE 33
#define LGW_XTAL_FREQU 32000000
#define LGW_MULTI_SF_EN 0xFF

/* ---- modulation ---- */
#define MOD_UNDEFINED 0
#define MOD_CW 0x08
#define MOD_LORA 0x10
#define MOD_FSK 0x20

/* ---- bandwidth (sx1302 values; the SX1301 HAL uses other numbers, spec §6) ---- */
#define BW_UNDEFINED 0
#define BW_125KHZ 0x04
#define BW_250KHZ 0x05
#define BW_500KHZ 0x06

/* ---- datarate: LoRa SF is the plain SF number; FSK is in bit/s ---- */
#define DR_UNDEFINED 0
#define DR_LORA_SF5 5
#define DR_LORA_SF6 6
#define DR_LORA_SF7 7
#define DR_LORA_SF8 8
#define DR_LORA_SF9 9
#define DR_LORA_SF10 10
#define DR_LORA_SF11 11
#define DR_LORA_SF12 12
#define DR_FSK_MIN 500
#define DR_FSK_MAX 250000

/* ---- coding rate ---- */
#define CR_UNDEFINED 0
#define CR_LORA_4_5 0x01
#define CR_LORA_4_6 0x02
#define CR_LORA_4_7 0x03
#define CR_LORA_4_8 0x04

/* ---- RX packet status ---- */
#define STAT_UNDEFINED 0x00
#define STAT_NO_CRC 0x01
#define STAT_CRC_OK 0x10
#define STAT_CRC_BAD 0x11

/* ---- TX modes ---- */
#define IMMEDIATE 0
#define TIMESTAMPED 1
#define ON_GPS 2

/* ---- lgw_status selectors (our choice: the spec gives no values) ---- */
#define TX_STATUS 1
#define RX_STATUS 2

/* ---- TX status codes ---- */
#define TX_STATUS_UNKNOWN 0
#define TX_OFF 1
#define TX_FREE 2
#define TX_SCHEDULED 3
#define TX_EMITTING 4

/* ---- RX status codes ---- */
#define RX_STATUS_UNKNOWN 0
#define RX_OFF 1
#define RX_ON 2
#define RX_SUSPENDED 3

/* ---- enums ---- */
typedef enum {
    LGW_RADIO_TYPE_NONE,   /* 0 */
    LGW_RADIO_TYPE_SX1255, /* 1 */
    LGW_RADIO_TYPE_SX1257, /* 2 */
    LGW_RADIO_TYPE_SX1272, /* 3 */
    LGW_RADIO_TYPE_SX1276, /* 4 */
    LGW_RADIO_TYPE_SX1250  /* 5 */
} lgw_radio_type_t;

typedef enum {
    LGW_FTIME_MODE_HIGH_CAPACITY, /* SF5..SF10 (value: our choice) */
    LGW_FTIME_MODE_ALL_SF         /* SF5..SF12 (value: our choice) */
} lgw_ftime_mode_t;

typedef enum {
    LGW_LBT_SCAN_TIME_128_US = 128, /* enumerator names: our choice; values from the spec */
    LGW_LBT_SCAN_TIME_5000_US = 5000
} lgw_lbt_scan_time_t;

typedef enum {
    LGW_SPECTRAL_SCAN_STATUS_NONE, /* names and values: our choice */
    LGW_SPECTRAL_SCAN_STATUS_ON_GOING,
    LGW_SPECTRAL_SCAN_STATUS_ABORTED,
    LGW_SPECTRAL_SCAN_STATUS_COMPLETED,
    LGW_SPECTRAL_SCAN_STATUS_UNKNOWN
} lgw_spectral_scan_status_t;

/* ---- configuration structs ---- */
struct lgw_conf_board_s {
    bool lorawan_public;
    uint8_t clksrc;
    bool full_duplex;
    lgw_com_type_t com_type;
    char com_path[64];
};

struct lgw_rssi_tcomp_s {
    float coeff_a;
    float coeff_b;
    float coeff_c;
    float coeff_d;
    float coeff_e;
};

struct lgw_conf_rxrf_s {
    bool enable;
    uint32_t freq_hz;
    float rssi_offset;
    struct lgw_rssi_tcomp_s rssi_tcomp;
    lgw_radio_type_t type;
    bool tx_enable;
    bool single_input_mode; /* SX1250 only */
};

struct lgw_conf_rxif_s {
    bool enable;
    uint8_t rf_chain;
    int32_t freq_hz; /* IF offset from the RF chain centre */
    uint8_t bandwidth;
    uint32_t datarate;
    uint8_t sync_word_size;
    uint64_t sync_word;
    bool implicit_hdr;
    uint8_t implicit_payload_length;
    bool implicit_crc_en;
    uint8_t implicit_coderate;
};

struct lgw_conf_demod_s {
    uint8_t multisf_datarate; /* bit per SF, SF12 .. SF5 */
};

struct lgw_conf_ftime_s {
    bool enable;
    lgw_ftime_mode_t mode;
};

struct lgw_conf_chan_lbt_s {
    uint32_t freq_hz;
    uint8_t bandwidth;
    lgw_lbt_scan_time_t scan_time_us;
    uint16_t transmit_time_ms;
};

struct lgw_conf_lbt_s {
    bool enable;
    int8_t rssi_target;
    uint8_t nb_channel;
    struct lgw_conf_chan_lbt_s channels[LGW_LBT_CHANNEL_NB_MAX];
};

struct lgw_conf_sx1261_s {
    bool enable;
    char spi_path[64]; /* unused for USB */
    int8_t rssi_offset;
    struct lgw_conf_lbt_s lbt_conf;
};

/* ---- packets ---- */
struct lgw_pkt_rx_s {
    uint32_t freq_hz;
    int32_t freq_offset;
    uint8_t if_chain;
    uint8_t status;
    uint32_t count_us;
    uint8_t rf_chain;
    uint8_t modem_id;
    uint8_t modulation;
    uint8_t bandwidth;
    uint32_t datarate;
    uint8_t coderate;
    float rssic; /* channel RSSI */
    float rssis; /* signal RSSI */
    float snr;
    float snr_min;
    float snr_max;
    uint16_t crc;
    uint16_t size;
    uint8_t payload[256];
    bool ftime_received;
    uint32_t ftime; /* ns since the last PPS */
};

struct lgw_pkt_tx_s {
    uint32_t freq_hz;
    uint8_t tx_mode;
    uint32_t count_us;
    uint8_t rf_chain;
    int8_t rf_power; /* dBm */
    uint8_t modulation;
    int8_t freq_offset; /* CW */
    uint8_t bandwidth;
    uint32_t datarate;
    uint8_t coderate;
    bool invert_pol;
    uint8_t f_dev; /* kHz */
    uint16_t preamble;
    bool no_crc;
    bool no_header;
    uint16_t size;
    uint8_t payload[256];
};

/* ---- TX gains ---- */
struct lgw_tx_gain_s {
    int8_t rf_power;
    uint8_t dig_gain;
    uint8_t pa_gain;
    uint8_t dac_gain;
    uint8_t mix_gain;
    int8_t offset_i;
    int8_t offset_q;
    uint8_t pwr_idx; /* SX1250 */
};

struct lgw_tx_gain_lut_s {
    struct lgw_tx_gain_s lut[TX_GAIN_LUT_SIZE_MAX];
    uint8_t size;
};

/* ---- functions ---- */
int lgw_board_setconf(struct lgw_conf_board_s* conf);
int lgw_rxrf_setconf(uint8_t rf_chain, struct lgw_conf_rxrf_s* conf);
int lgw_rxif_setconf(uint8_t if_chain, struct lgw_conf_rxif_s* conf);
int lgw_demod_setconf(struct lgw_conf_demod_s* conf);
int lgw_txgain_setconf(uint8_t rf_chain, struct lgw_tx_gain_lut_s* conf);
int lgw_ftime_setconf(struct lgw_conf_ftime_s* conf);
int lgw_sx1261_setconf(struct lgw_conf_sx1261_s* conf);

int lgw_start(void);
int lgw_stop(void);

int lgw_receive(uint8_t max_pkt, struct lgw_pkt_rx_s* pkt_data);
int lgw_send(struct lgw_pkt_tx_s* pkt_data);
int lgw_status(uint8_t rf_chain, uint8_t select, uint8_t* code);
int lgw_abort_tx(uint8_t rf_chain);

int lgw_get_trigcnt(uint32_t* trig_cnt_us);
int lgw_get_instcnt(uint32_t* inst_cnt_us);
int lgw_get_eui(uint64_t* eui);
int lgw_get_temperature(float* temperature);

const char* lgw_version_info(void);
uint32_t lgw_time_on_air(const struct lgw_pkt_tx_s* packet);

int lgw_spectral_scan_start(uint32_t freq_hz, uint16_t nb_scan);
int lgw_spectral_scan_get_status(lgw_spectral_scan_status_t* status);
#if defined(__cplusplus)
int lgw_spectral_scan_abort(void);
int lgw_spectral_scan_get_results(int16_t levels_dbm[LGW_SPECTRAL_SCAN_RESULT_SIZE],
                                  uint16_t results[LGW_SPECTRAL_SCAN_RESULT_SIZE]);
#else
int lgw_spectral_scan_abort(void);
int lgw_spectral_scan_get_results(int16_t levels_dbm[static LGW_SPECTRAL_SCAN_RESULT_SIZE],
                                  uint16_t results[static LGW_SPECTRAL_SCAN_RESULT_SIZE]);
#endif

#endif /* FAKE_LORAGW_HAL_H */
