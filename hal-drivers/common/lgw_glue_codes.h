/*
 * Translations every libloragw glue needs, written once against the constant NAMES the HALs
 * share (BW_*, DR_LORA_SF*). The values behind those names differ between HALs
 * (libloragw.md §6), so this header is included by each glue translation unit after its own
 * HAL's loragw_hal.h and compiled there: nothing crosses from one HAL to another.
 */
#ifndef FORWARDER_LGW_GLUE_CODES_H
#define FORWARDER_LGW_GLUE_CODES_H

#include "lgw_glue.h"

#include <stdint.h>
#include <stdio.h>

/* Fills `err` with `what`; returns -1. */
static inline int glue_fail(char* err, size_t err_len, const char* what)
{
    if (err != NULL && err_len > 0) {
        snprintf(err, err_len, "%s", what);
    }
    return -1;
}

/* LoRa bandwidth in Hz → the HAL's code; BW_UNDEFINED for anything else. */
static inline uint8_t glue_bandwidth_code(uint32_t hz)
{
    switch (hz) {
    case 125000:
        return BW_125KHZ;
    case 250000:
        return BW_250KHZ;
    case 500000:
        return BW_500KHZ;
    default:
        return BW_UNDEFINED;
    }
}

/* The HAL's bandwidth code → Hz; 0 if unknown. */
static inline uint32_t glue_bandwidth_hz(uint8_t code)
{
    switch (code) {
    case BW_125KHZ:
        return 125000;
    case BW_250KHZ:
        return 250000;
    case BW_500KHZ:
        return 500000;
#ifdef BW_62K5HZ
    case BW_62K5HZ:
        return 62500;
    case BW_31K2HZ:
        return 31200;
    case BW_15K6HZ:
        return 15600;
    case BW_7K8HZ:
        return 7800;
#endif
    default:
        return 0;
    }
}

/* Spreading factor number → the HAL's data-rate code (a plain number on SX1302, a bit on
 * SX1301/SX1308); DR_UNDEFINED when the HAL has no such SF. */
static inline uint32_t glue_sf_code(uint32_t sf)
{
    switch (sf) {
#ifdef DR_LORA_SF5
    case 5:
        return DR_LORA_SF5;
    case 6:
        return DR_LORA_SF6;
#endif
    case 7:
        return DR_LORA_SF7;
    case 8:
        return DR_LORA_SF8;
    case 9:
        return DR_LORA_SF9;
    case 10:
        return DR_LORA_SF10;
    case 11:
        return DR_LORA_SF11;
    case 12:
        return DR_LORA_SF12;
    default:
        return DR_UNDEFINED;
    }
}

/* The HAL's data-rate code → spreading factor number; 0 if unknown. */
static inline uint32_t glue_sf_number(uint32_t code)
{
    for (uint32_t sf = 5; sf <= 12; ++sf) {
        if (glue_sf_code(sf) != DR_UNDEFINED && glue_sf_code(sf) == code) {
            return sf;
        }
    }
    return 0;
}

/* The HAL's RX status → our CRC status. */
static inline int glue_crc_status(uint8_t status)
{
    switch (status) {
    case STAT_CRC_OK:
        return FWD_CRC_OK;
    case STAT_CRC_BAD:
        return FWD_CRC_BAD;
    case STAT_NO_CRC:
        return FWD_CRC_NONE;
    default:
        return FWD_CRC_UNDEFINED;
    }
}

/* Our TX mode → the HAL's. */
static inline uint8_t glue_tx_mode(int mode)
{
    return mode == FWD_TX_IMMEDIATE ? IMMEDIATE : mode == FWD_TX_ON_GPS ? ON_GPS : TIMESTAMPED;
}

/* The HAL's TX status code → ours. */
static inline int glue_tx_status(uint8_t code)
{
    switch (code) {
    case TX_OFF:
        return FWD_TX_OFF;
    case TX_FREE:
        return FWD_TX_FREE;
    case TX_SCHEDULED:
        return FWD_TX_SCHEDULED;
    case TX_EMITTING:
        return FWD_TX_EMITTING;
    default:
        return FWD_TX_UNKNOWN;
    }
}

#endif
