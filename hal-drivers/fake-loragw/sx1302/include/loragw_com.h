/*
 * fake-loragw: loragw_com.h of the sx1302_hal V2.1.0 API surface (test double).
 *
 * Written for the forwarder project from the facts in shared/spec/libloragw.md; this is not
 * Semtech code. Only the names matter to a driver; the numeric values are our choice
 * (the spec lists the enumerators in this order).
 */
#ifndef FAKE_LORAGW_COM_H
#define FAKE_LORAGW_COM_H

typedef enum com_type_e { LGW_COM_SPI, LGW_COM_USB, LGW_COM_UNKNOWN } lgw_com_type_t;

#endif /* FAKE_LORAGW_COM_H */
