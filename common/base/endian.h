/*
 * endian: unaligned little-endian reads from byte arrays (PTP, PTP/IP and
 * EXIF are little-endian on the wire).  Pure inline helpers; any thread.
 */
#pragma once

#include <stdint.h>

static inline uint16_t le16_read(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t le32_read(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static inline uint64_t le64_read(const uint8_t *p)
{
    return (uint64_t)le32_read(p) | ((uint64_t)le32_read(p + 4) << 32);
}

static inline void le32_write(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
