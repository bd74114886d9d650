/*
 * dataset: see dataset.h.  Signed types are sign-extended on reading so a
 * value can be compared with the int64 limits of a property.
 */
#include "dataset.h"

#include <string.h>

#include "base/endian.h"
#include "ptp.h"

void ptpds_put_string(bytebuf *out, const char *ascii)
{
    size_t n = ascii ? strlen(ascii) : 0;
    if (n > 254) n = 254;
    if (n == 0) {
        bytebuf_put_u8(out, 0);
        return;
    }
    bytebuf_put_u8(out, (uint8_t)(n + 1));
    for (size_t i = 0; i < n; i++) bytebuf_put_u16le(out, (uint8_t)ascii[i]);
    bytebuf_put_u16le(out, 0);
}

void ptpds_put_u16_array(bytebuf *out, const uint16_t *v, size_t n)
{
    bytebuf_put_u32le(out, (uint32_t)n);
    for (size_t i = 0; i < n; i++) bytebuf_put_u16le(out, v[i]);
}

void ptpds_put_u32_array(bytebuf *out, const uint32_t *v, size_t n)
{
    bytebuf_put_u32le(out, (uint32_t)n);
    for (size_t i = 0; i < n; i++) bytebuf_put_u32le(out, v[i]);
}

int ptpds_width(uint16_t dt)
{
    switch (dt) {
    case PTP_DT_INT8:
    case PTP_DT_UINT8: return 1;
    case PTP_DT_INT16:
    case PTP_DT_UINT16: return 2;
    case PTP_DT_INT32:
    case PTP_DT_UINT32: return 4;
    default: return 0;
    }
}

void ptpds_put_value(bytebuf *out, uint16_t dt, int64_t v)
{
    switch (ptpds_width(dt)) {
    case 1: bytebuf_put_u8(out, (uint8_t)v); break;
    case 2: bytebuf_put_u16le(out, (uint16_t)v); break;
    case 4: bytebuf_put_u32le(out, (uint32_t)v); break;
    default: break;
    }
}

bool ptpds_get_value(const uint8_t *data, size_t len, size_t *off, uint16_t dt, int64_t *v)
{
    int w = ptpds_width(dt);
    if (w == 0 || *off > len || len - *off < (size_t)w) return false;
    const uint8_t *p = data + *off;
    switch (dt) {
    case PTP_DT_INT8: *v = (int8_t)p[0]; break;
    case PTP_DT_UINT8: *v = p[0]; break;
    case PTP_DT_INT16: *v = (int16_t)le16_read(p); break;
    case PTP_DT_UINT16: *v = le16_read(p); break;
    case PTP_DT_INT32: *v = (int32_t)le32_read(p); break;
    default: *v = le32_read(p); break;
    }
    *off += (size_t)w;
    return true;
}

bool ptpds_get_string(const uint8_t *data, size_t len, size_t *off, char *out, size_t outsz)
{
    if (outsz == 0 || *off >= len) return false;
    size_t count = data[*off];
    size_t o = *off + 1;
    if (count == 0) {
        out[0] = '\0';
        *off = o;
        return true;
    }
    if (len - o < count * 2) return false;
    size_t n = 0;
    bool terminated = false;
    for (size_t i = 0; i < count; i++) {
        uint16_t c = le16_read(data + o + 2 * i);
        if (c == 0) {
            terminated = true;
            break;
        }
        if (n + 1 < outsz) out[n++] = (c >= 0x20 && c < 0x7F) ? (char)c : '?';
    }
    out[n] = '\0';
    if (!terminated) return false;
    *off = o + count * 2;
    return true;
}
