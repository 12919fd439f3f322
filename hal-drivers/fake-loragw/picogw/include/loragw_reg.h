/*
 * fake-loragw (picogw flavour): loragw_reg.h of the picoGW_hal V0.2.3 API surface (test
 * double). Written from shared/spec/libloragw.md (§3, §4); not Semtech code.
 *
 * picoGW_hal reaches the SX1308 through the STM32 over USB CDC-ACM: lgw_connect(com_path) opens
 * the tty and must precede every *_setconf. Register ids: our choice; only LGW_TIMESTAMP and
 * LGW_GPS_EN are modelled (LGW_TIMESTAMP holds the PPS-latched counter while LGW_GPS_EN is 1,
 * the free-running counter otherwise; spec §3).
 */
#ifndef FAKE_LORAGW_PICOGW_REG_H
#define FAKE_LORAGW_PICOGW_REG_H

#include <stdint.h>

#define LGW_REG_SUCCESS 0
#define LGW_REG_ERROR -1

#define LGW_TIMESTAMP 300 /* (our choice) */
#define LGW_GPS_EN 301    /* (our choice) */

int lgw_connect(const char* com_path);
int lgw_disconnect(void);
int lgw_reg_r(uint16_t register_id, int32_t* reg_value);
int lgw_reg_w(uint16_t register_id, int32_t reg_value);

#endif /* FAKE_LORAGW_PICOGW_REG_H */
