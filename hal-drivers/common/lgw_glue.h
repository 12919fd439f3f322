/*
 * The C boundary between the concentrator drivers (lgw_radio.cpp, C++) and Semtech's libloragw
 * HALs (sx1302_hal V2.1.0, lora_gateway v5.0.1, picoGW_hal V0.2.3).
 *
 * Each driver has its own glue translation unit (hal-drivers/<chip>/<chip>_glue.c), the only
 * file that includes that HAL's headers: loragw_hal.h is not valid C++, and the HALs' structs
 * and constants differ (libloragw.md §1, §6). Everything here is our own types in plain units
 * (Hz, dBm, spreading factor numbers); the glue translates to and from its HAL. The functions
 * are not thread-safe, like the HALs: the caller serialises them.
 */
#ifndef FORWARDER_LGW_GLUE_H
#define FORWARDER_LGW_GLUE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum fwd_lgw_radio_type {
    FWD_RADIO_NONE = 0,
    FWD_RADIO_SX1255,
    FWD_RADIO_SX1257,
    FWD_RADIO_SX1250
};

struct fwd_lgw_radio {
    int enable;
    uint32_t center_hz;
    float rssi_offset;
    float tcomp[5]; /* RSSI temperature compensation coefficients a..e */
    int type;       /* fwd_lgw_radio_type */
    int tx_enable;
    int single_input_mode;     /* SX1250 */
    uint32_t tx_notch_freq_hz; /* SX1301 TX notch filter, 126000..250000; 0 = HAL default */
};

struct fwd_lgw_gain {
    int8_t rf_power; /* dBm */
    uint8_t pa_gain;
    uint8_t pwr_idx;  /* SX1250 */
    uint8_t dig_gain; /* SX125x */
    uint8_t dac_gain;
    uint8_t mix_gain;
};

struct fwd_lgw_channel {
    int enable;
    uint8_t rf_chain;
    int32_t if_hz;         /* offset from the radio's centre */
    uint32_t bandwidth_hz; /* LoRa: 125000/250000/500000; FSK: channel filter */
    uint32_t datarate;     /* LoRa std channel: spreading factor; FSK: bit/s */
};

struct fwd_lgw_config {
    int usb; /* 0 = SPI */
    char com_path[64];
    uint8_t clksrc;
    int full_duplex;
    int lorawan_public;
    struct fwd_lgw_radio radios[2];
    struct fwd_lgw_gain gains[2][16];
    uint8_t gain_count[2];
    struct fwd_lgw_channel multi_sf[8];
    struct fwd_lgw_channel lora_std;
    struct fwd_lgw_channel fsk;
    int fine_timestamp; /* SX1303: ftime in all spreading factors */
};

/* What the chip and its HAL can do. */
struct fwd_lgw_chip {
    const char* name;   /* "sx1302", "sx1301", "picogw" */
    int32_t if_span_hz; /* reach of an IF channel from its radio's centre (edge included) */
    int max_rx;         /* packets per lgw_receive call */
    int fine_timestamp; /* SX1303 fine timestamps possible */
    int has_eui;        /* lgw_get_eui exists */
    int usb_only;       /* the HAL reaches the chip over USB only (picoGW): no SPI */
    /* Reach of 250 / 500 kHz channels when wider than if_span_hz (SX1301/SX1308: the radio
     * bandwidth grows with the channel's, libloragw.md §3); 0: if_span_hz. */
    int32_t if_span_250_hz;
    int32_t if_span_500_hz;
    int spi_only; /* the HAL reaches the chip over SPI only (lora_gateway) */
};
const struct fwd_lgw_chip* fwd_lgw_chip_info(void);

/* Configures the HAL and starts the concentrator. 0, or -1 with `err` filled. */
int fwd_lgw_start(const struct fwd_lgw_config* config, char* err, size_t err_len);
void fwd_lgw_stop(void);

enum fwd_lgw_crc { FWD_CRC_UNDEFINED = 0, FWD_CRC_OK, FWD_CRC_BAD, FWD_CRC_NONE };

struct fwd_lgw_rx {
    uint32_t freq_hz;
    int32_t freq_offset_hz;
    uint8_t if_chain;
    uint8_t rf_chain;
    uint8_t modem_id;
    int crc; /* fwd_lgw_crc */
    int lora;
    uint32_t bandwidth_hz;
    uint32_t datarate; /* spreading factor, or bit/s for FSK */
    int coding_rate;   /* 1..4 = 4/5..4/8, 0 = none */
    uint32_t count_us;
    float rssi_channel;
    float rssi_signal;
    float snr;
    int fine_timestamp_valid;
    uint32_t fine_timestamp_ns;
    uint16_t size;
    uint8_t payload[256];
};

/* Up to `max` received frames into `out`: the count, 0 if none, -1 on error. */
int fwd_lgw_receive(struct fwd_lgw_rx* out, int max);

enum fwd_lgw_tx_mode { FWD_TX_IMMEDIATE = 0, FWD_TX_TIMESTAMPED, FWD_TX_ON_GPS };

struct fwd_lgw_tx {
    uint32_t freq_hz;
    int mode; /* fwd_lgw_tx_mode */
    uint32_t count_us;
    uint8_t rf_chain;
    int8_t power_dbm;
    int lora;
    uint32_t bandwidth_hz;
    uint32_t datarate; /* spreading factor, or bit/s for FSK */
    int coding_rate;   /* 1..4 */
    int invert_polarity;
    uint8_t fdev_khz;
    uint16_t preamble;
    int no_crc;
    int no_header;
    uint16_t size;
    uint8_t payload[256];
};

/* 0 = programmed, 1 = refused by listen before talk, -1 = error (`err` filled). */
int fwd_lgw_send(const struct fwd_lgw_tx* tx, char* err, size_t err_len);

enum fwd_lgw_tx_status {
    FWD_TX_UNKNOWN = 0,
    FWD_TX_OFF,
    FWD_TX_FREE,
    FWD_TX_SCHEDULED,
    FWD_TX_EMITTING
};
int fwd_lgw_tx_status(uint8_t rf_chain); /* fwd_lgw_tx_status, FWD_TX_UNKNOWN on error */

int fwd_lgw_counter(uint32_t* count_us);     /* 0 or -1 */
int fwd_lgw_pps_counter(uint32_t* count_us); /* counter latched at the last PPS edge */
int fwd_lgw_eui(uint64_t* eui);
int fwd_lgw_temperature(float* celsius);
const char* fwd_lgw_hal_version(void);

#ifdef __cplusplus
}
#endif

#endif
