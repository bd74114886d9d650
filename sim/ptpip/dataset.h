/*
 * dataset: packing of PTP datasets (ISO 15740 §5.3): strings, arrays and
 * typed values, plus the bounds-checked reader for values a host sends.
 * Pure functions; any thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytebuf.h"

/* PTP string: u8 character count including the NUL, then UCS-2LE.  An
 * empty string is the single byte 0.  Longer than 254 characters is cut. */
void ptpds_put_string(bytebuf *out, const char *ascii);
void ptpds_put_u16_array(bytebuf *out, const uint16_t *v, size_t n);
void ptpds_put_u32_array(bytebuf *out, const uint32_t *v, size_t n);
/* Appends v with the width of PTP datatype dt (integers only). */
void ptpds_put_value(bytebuf *out, uint16_t dt, int64_t v);
/* Byte width of an integer datatype, or 0 for STR/unknown. */
int ptpds_width(uint16_t dt);

/* Reads an integer of datatype dt from data[*off]; advances *off.  Returns
 * false if the data is too short or dt is not an integer type. */
bool ptpds_get_value(const uint8_t *data, size_t len, size_t *off, uint16_t dt, int64_t *v);
/* Reads a PTP string into out (ASCII, non-ASCII as '?').  Returns false on
 * truncation or a missing terminator. */
bool ptpds_get_string(const uint8_t *data, size_t len, size_t *off, char *out, size_t outsz);
