/*
 * fake-loragw (picogw flavour): loragw_hal.h of the picoGW_hal V0.2.3 API surface (test double).
 *
 * Written for the forwarder project from the facts in shared/spec/libloragw.md (§3, §4, §6);
 * this is not Semtech code. picoGW_hal keeps lora_gateway v5's API: setconf and lgw_send take
 * their structs BY VALUE (lgw_txgain_setconf and lgw_time_on_air take pointers), one TX gain
 * table for both RF chains, at most 16 packets per lgw_receive, BW_* codes and DR_* bitmasks of
 * the SX1301/SX1308 (different numbers from sx1302_hal), no LBT, no notch filter, no EUI, no
 * temperature, no instantaneous counter. Values the spec does not give are marked
 * "(our choice)": a driver must use the names only.
 *
 * Like the real header it has no extern "C" guards; unlike sx1302_hal's it compiles as C++
 * (spec §1), but a driver still reaches it only through its C glue.
 */
#ifndef FAKE_LORAGW_PICOGW_HAL_H
#define FAKE_LORAGW_PICOGW_HAL_H

#include <stdbool.h>
#include <stdint.h>

#include "loragw_reg.h"

/* ---- return codes (lgw_send has no LBT refusal: there is no LBT on the picoGW) ---- */
#define LGW_HAL_SUCCESS 0
#define LGW_HAL_ERROR -1

/* ---- sizes ---- */
#define LGW_PKT_FIFO_SIZE 16 /* lgw_receive: max_pkt 1..16 */
#define LGW_RF_CHAIN_NB 2
#define LGW_IF_CHAIN_NB 10
#define LGW_MULTI_NB 8
#define TX_GAIN_LUT_SIZE_MAX 16
#define LGW_XTAL_FREQU 32000000
#define TX_START_DELAY_DEFAULT 1497

/* ---- radio bandwidth of the SX1308 receive path (IF reach = half, edge included) ---- */
#define LGW_RF_RX_BANDWIDTH_125KHZ 925000
#define LGW_RF_RX_BANDWIDTH_250KHZ 1000000
#define LGW_RF_RX_BANDWIDTH_500KHZ 1100000

/* ---- modulation (no MOD_CW) ---- */
#define MOD_UNDEFINED 0
#define MOD_LORA 0x10
#define MOD_FSK 0x20

/* ---- bandwidth (SX1301/SX1308 codes; sx1302_hal uses other numbers, spec §6) ---- */
#define BW_UNDEFINED 0
#define BW_500KHZ 0x01
#define BW_250KHZ 0x02
#define BW_125KHZ 0x03
#define BW_62K5HZ 0x04
#define BW_31K2HZ 0x05
#define BW_15K6HZ 0x06
#define BW_7K8HZ 0x07

/* ---- datarate: LoRa is a bitmask of spreading factors; FSK is in bit/s ---- */
#define DR_UNDEFINED 0
#define DR_LORA_SF7 0x02
#define DR_LORA_SF8 0x04
#define DR_LORA_SF9 0x08
#define DR_LORA_SF10 0x10
#define DR_LORA_SF11 0x20
#define DR_LORA_SF12 0x40
#define DR_LORA_MULTI 0x7E
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
enum lgw_radio_type_e {
    LGW_RADIO_TYPE_NONE,   /* 0 */
    LGW_RADIO_TYPE_SX1255, /* 1 */
    LGW_RADIO_TYPE_SX1257, /* 2 */
    LGW_RADIO_TYPE_SX1272, /* 3 */
    LGW_RADIO_TYPE_SX1276  /* 4 */
};

/* ---- configuration structs ---- */
struct lgw_conf_board_s {
    bool lorawan_public;
    uint8_t clksrc;
    /* no com_type / com_path: the tty is given to lgw_connect (loragw_reg.h) */
};

struct lgw_conf_rxrf_s {
    bool enable;
    uint32_t freq_hz;
    float rssi_offset;
    enum lgw_radio_type_e type;
    bool tx_enable;
    /* no tx_notch_freq on the picoGW */
};

struct lgw_conf_rxif_s {
    bool enable;
    uint8_t rf_chain;
    int32_t freq_hz; /* IF offset from the RF chain centre */
    uint8_t bandwidth;
    uint32_t datarate;
    uint8_t sync_word_size;
    uint64_t sync_word;
};

/* ---- packets ---- */
struct lgw_pkt_rx_s {
    uint32_t freq_hz;
    uint8_t if_chain;
    uint8_t status;
    uint32_t count_us;
    uint8_t rf_chain;
    uint8_t modulation;
    uint8_t bandwidth;
    uint32_t datarate;
    uint8_t coderate;
    float rssi; /* one value: channel RSSI */
    float snr;
    float snr_min;
    float snr_max;
    uint16_t crc;
    uint16_t size;
    uint8_t payload[256];
};

struct lgw_pkt_tx_s {
    uint32_t freq_hz;
    uint8_t tx_mode;
    uint32_t count_us;
    uint8_t rf_chain;
    int8_t rf_power; /* dBm */
    uint8_t modulation;
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

/* ---- TX gains: one table for both RF chains ---- */
struct lgw_tx_gain_s {
    uint8_t dig_gain;
    uint8_t pa_gain;
    uint8_t dac_gain;
    uint8_t mix_gain;
    int8_t rf_power;
};

struct lgw_tx_gain_lut_s {
    struct lgw_tx_gain_s lut[TX_GAIN_LUT_SIZE_MAX];
    uint8_t size;
};

/* ---- functions (lgw_connect must come first: every setconf goes to the MCU) ---- */
int lgw_board_setconf(struct lgw_conf_board_s conf);
int lgw_rxrf_setconf(uint8_t rf_chain, struct lgw_conf_rxrf_s conf);
int lgw_rxif_setconf(uint8_t if_chain, struct lgw_conf_rxif_s conf);
int lgw_txgain_setconf(struct lgw_tx_gain_lut_s* conf);

int lgw_start(void);
int lgw_stop(void); /* also disconnects */

int lgw_receive(uint8_t max_pkt, struct lgw_pkt_rx_s* pkt_data);
int lgw_send(struct lgw_pkt_tx_s pkt_data);
int lgw_status(uint8_t select, uint8_t* code);
int lgw_abort_tx(void);

int lgw_get_trigcnt(uint32_t* trig_cnt_us);

const char* lgw_version_info(void);
int lgw_mcu_version_info(void);
uint32_t lgw_time_on_air(struct lgw_pkt_tx_s* packet);

#endif /* FAKE_LORAGW_PICOGW_HAL_H */
