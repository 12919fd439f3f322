/*
 * fake-loragw: loragw_reg.h of the lora_gateway v5.0.1 API surface (test double).
 *
 * Only the register the v4 forwarder's timersync.c touches (spec §3: it toggles LGW_GPS_EN to
 * read the free-running counter through lgw_get_trigcnt). Register ids are our choice; a
 * driver must use the names only. Not Semtech code.
 */
#ifndef FAKE_LORAGW_SX1301_REG_H
#define FAKE_LORAGW_SX1301_REG_H

#include <stdint.h>

#define LGW_REG_SUCCESS 0
#define LGW_REG_ERROR -1

#define LGW_GPS_EN 1    /* (our choice) 1: LGW_TIMESTAMP latches on PPS */
#define LGW_TIMESTAMP 2 /* (our choice) read-only */

int lgw_reg_w(uint16_t register_id, int32_t reg_value);
int lgw_reg_r(uint16_t register_id, int32_t* reg_value);

#endif /* FAKE_LORAGW_SX1301_REG_H */
