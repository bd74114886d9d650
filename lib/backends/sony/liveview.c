/*
 * liveview: see liveview.h.  A three-state machine (header, payload,
 * padding).  The 136 header bytes are collected into a fixed array and
 * checked as they arrive: the start byte as soon as there is one byte, the
 * start code as soon as there are 12, the size when all 136 are here.  A
 * refused header gives back every byte after its first: the next 0xFF
 * among them starts the next candidate, so a real header hidden in
 * garbage is found whatever the read boundaries were.
 */
#include "liveview.h"

#include <string.h>

static const uint8_t start_code[4] = {0x24, 0x35, 0x68, 0x79};

static uint32_t be16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t be24(const uint8_t *p) { return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2]; }
static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | be24(p + 1); }

static void put_be16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v; }
static void put_be24(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 16), put_be16(p + 1, v); }
static void put_be32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 24), put_be24(p + 1, v); }

void sonylv_init(sonylv_parser *p, size_t max_payload)
{
    memset(p, 0, sizeof *p);
    p->max_payload = max_payload ? max_payload : SONYLV_DEFAULT_MAX_PAYLOAD;
    if (p->max_payload > 0xFFFFFF) p->max_payload = 0xFFFFFF;
    bytebuf_init(&p->payload);
}

void sonylv_free(sonylv_parser *p)
{
    bytebuf_free(&p->payload);
}

void sonylv_reset(sonylv_parser *p)
{
    p->state = SONYLV_IN_HEADER;
    p->have = 0;
    p->have_sequence = false;
    bytebuf_reset(&p->payload);
}

/* Is what we have of the header so far plausible? */
static bool header_prefix_valid(const sonylv_parser *p)
{
    const uint8_t *h = p->header;
    if (p->have >= 1 && h[0] != 0xFF) return false;
    if (p->have >= 12 && memcmp(h + 8, start_code, 4) != 0) return false;
    if (p->have == SONYLV_HEADER && be24(h + 12) > p->max_payload) return false;
    return true;
}

/* Drops the candidate header's first byte and keeps what follows from the
 * next 0xFF on. */
static void header_refuse(sonylv_parser *p)
{
    if (p->header[0] == 0xFF) p->stats.resyncs++;
    const uint8_t *next = p->have > 1 ? memchr(p->header + 1, 0xFF, p->have - 1) : NULL;
    size_t drop = next ? (size_t)(next - p->header) : p->have;
    p->stats.garbage_bytes += drop;
    memmove(p->header, p->header + drop, p->have - drop);
    p->have -= drop;
}

/* The header is complete and valid: where do the payload bytes go? */
static void header_accept(sonylv_parser *p)
{
    uint8_t type = p->header[1];
    p->payload_size = be24(p->header + 12);
    p->payload_left = p->payload_size;
    p->padding_left = p->header[15];
    p->keep_payload = type == SONYLV_TYPE_JPEG || type == SONYLV_TYPE_FRAME_INFO;
    bytebuf_reset(&p->payload);
    if (p->keep_payload && !bytebuf_reserve(&p->payload, p->payload_size)) p->keep_payload = false;
    p->state = SONYLV_IN_PAYLOAD;
}

static void read_frame_info(const sonylv_parser *p, sonylv_packet *out)
{
    const uint8_t *h = p->header + SONYLV_COMMON_HEADER;
    uint32_t count = be16(h + 10), record = be16(h + 12);
    /* version 1.0 only; records of at least 16 bytes, all inside the payload */
    if (h[8] != 1 || h[9] != 0 || record < 16 || (uint64_t)count * record > out->payload_size)
        return;
    out->frame_info_known = true;
    out->n_frames = (int)count;
    for (uint32_t i = 0; i < count && i < SONYLV_MAX_FOCUS_FRAMES; i++) {
        const uint8_t *r = out->payload + (size_t)i * record;
        sonylv_focus_frame *f = &out->frames[out->n_kept++];
        f->left = (uint16_t)be16(r);
        f->top = (uint16_t)be16(r + 2);
        f->right = (uint16_t)be16(r + 4);
        f->bottom = (uint16_t)be16(r + 6);
        f->category = r[8];
        f->status = r[9];
        f->additional = r[10];
    }
}

/* The packet is complete: fill *out, count it, get ready for the next. */
static void packet_finish(sonylv_parser *p, sonylv_packet *out)
{
    memset(out, 0, offsetof(sonylv_packet, frames));
    out->type = p->header[1];
    out->sequence = (uint16_t)be16(p->header + 2);
    out->timestamp = be32(p->header + 4);
    out->padding = p->header[15];
    out->payload_size = p->payload_size;
    if (p->keep_payload && bytebuf_ok(&p->payload)) out->payload = p->payload.data;
    p->stats.packets++;
    if (out->type == SONYLV_TYPE_JPEG) {
        p->stats.jpegs++;
        const uint8_t *j = out->payload;
        size_t n = out->payload_size;
        out->jpeg_complete = j && n >= 4 && j[0] == 0xFF && j[1] == 0xD8 && j[n - 2] == 0xFF &&
                             j[n - 1] == 0xD9;
        if (p->have_sequence) {
            uint16_t gap = (uint16_t)(out->sequence - p->last_sequence - 1);
            if (gap < 0x8000) p->stats.sequence_gaps += gap; /* a step back is not a gap */
        }
        p->have_sequence = true;
        p->last_sequence = out->sequence;
    } else if (out->type == SONYLV_TYPE_FRAME_INFO) {
        p->stats.frame_infos++;
        if (out->payload) read_frame_info(p, out);
    } else {
        p->stats.skipped++;
    }
    p->state = SONYLV_IN_HEADER;
    p->have = 0;
}

/* Gives back every byte of a header (and the first payload bytes) found
 * wrong only once the payload began, except its first: they are parsed
 * again (sonylv_parse appends what was left of an earlier give-back). */
static void header_refuse_late(sonylv_parser *p)
{
    p->stats.resyncs++;
    p->stats.garbage_bytes += 1;
    memcpy(p->replay, p->header + 1, SONYLV_HEADER - 1);
    size_t from_payload = p->payload.len < 2 ? p->payload.len : 2;
    if (from_payload) memcpy(p->replay + SONYLV_HEADER - 1, p->payload.data, from_payload);
    p->replay_len = SONYLV_HEADER - 1 + from_payload;
    p->replay_off = 0;
    p->state = SONYLV_IN_HEADER;
    p->have = 0;
    bytebuf_reset(&p->payload);
}

/* Parses from src[0..len): returns the bytes consumed; stops after a
 * packet (*ready) or a late refusal (*refused; the bytes then wait in
 * p->replay, and the ones consumed here are in it). */
static size_t step(sonylv_parser *p, const uint8_t *src, size_t len, sonylv_packet *out,
                   bool *ready, bool *refused, bool *oom)
{
    size_t used = 0;
    while (used < len || (p->state != SONYLV_IN_HEADER && p->payload_left == 0 && p->padding_left == 0)) {
        if (p->state == SONYLV_IN_HEADER) {
            if (p->have == 0) { /* look for a start byte without copying */
                const uint8_t *ff = memchr(src + used, 0xFF, len - used);
                size_t skip = ff ? (size_t)(ff - (src + used)) : len - used;
                p->stats.garbage_bytes += skip;
                used += skip;
                if (used == len) break;
            }
            size_t n = SONYLV_HEADER - p->have;
            if (n > len - used) n = len - used;
            memcpy(p->header + p->have, src + used, n);
            p->have += n;
            used += n;
            while (p->have > 0 && !header_prefix_valid(p)) header_refuse(p);
            if (p->have == SONYLV_HEADER) header_accept(p);
        } else if (p->state == SONYLV_IN_PAYLOAD) {
            size_t n = p->payload_left < len - used ? p->payload_left : len - used;
            bool check_soi = p->keep_payload && p->header[1] == SONYLV_TYPE_JPEG && p->payload.len < 2 &&
                             p->payload_size >= 2;
            if (check_soi && n > 2 - p->payload.len) n = 2 - p->payload.len;
            if (p->keep_payload) bytebuf_put(&p->payload, src + used, n);
            used += n;
            p->payload_left -= n;
            if (check_soi && p->payload.len == 2 && bytebuf_ok(&p->payload) &&
                (p->payload.data[0] != 0xFF || p->payload.data[1] != 0xD8)) {
                header_refuse_late(p);
                *refused = true;
                return used;
            }
            if (p->payload_left == 0) p->state = SONYLV_IN_PADDING;
        } else {
            size_t n = p->padding_left < len - used ? p->padding_left : len - used;
            used += n;
            p->padding_left -= n;
            if (p->padding_left == 0) {
                *oom = p->keep_payload && !bytebuf_ok(&p->payload);
                packet_finish(p, out);
                if (*oom) out->payload = NULL;
                else *ready = true;
                return used;
            }
        }
    }
    return used;
}

/* The give-back never outgrows p->replay: it is made of a refused
 * header's bytes and the two payload bytes after them (HEADER + 1), and
 * whatever of the last give-back was not read yet; while that is not
 * empty, every byte of the refused header came from it, so the new one is
 * shorter than the last. */
size_t sonylv_parse(sonylv_parser *p, const uint8_t *data, size_t len, sonylv_packet *out,
                    bool *ready)
{
    size_t used = 0;
    *ready = false;
    for (;;) {
        bool refused = false, oom = false;
        if (p->replay_off < p->replay_len) {
            uint8_t pending[sizeof p->replay];
            size_t n = p->replay_len - p->replay_off;
            memcpy(pending, p->replay + p->replay_off, n);
            p->replay_off = p->replay_len = 0;
            size_t u = step(p, pending, n, out, ready, &refused, &oom);
            size_t rest = n - u;
            if (refused && p->replay_len + rest > sizeof p->replay) /* cannot happen: see above */
                rest = sizeof p->replay - p->replay_len;
            memcpy(p->replay + p->replay_len, pending + u, rest);
            p->replay_len += rest;
        } else {
            if (used == len && !(p->state != SONYLV_IN_HEADER && p->payload_left == 0 &&
                                 p->padding_left == 0))
                return used;
            size_t u = step(p, data + used, len - used, out, ready, &refused, &oom);
            used += u;
        }
        if (oom) p->stats.dropped++; /* that packet is lost; parsing goes on */
        if (*ready) return used;
        if (!refused && p->replay_off >= p->replay_len && used == len) return used;
    }
}

void sonylv_put_header(uint8_t hdr[SONYLV_HEADER], uint8_t type, uint16_t sequence,
                       uint32_t timestamp, size_t payload_size, uint8_t padding, int n_frames)
{
    memset(hdr, 0, SONYLV_HEADER);
    hdr[0] = 0xFF;
    hdr[1] = type;
    put_be16(hdr + 2, sequence);
    put_be32(hdr + 4, timestamp);
    memcpy(hdr + 8, start_code, 4);
    put_be24(hdr + 12, (uint32_t)payload_size);
    hdr[15] = padding;
    if (type == SONYLV_TYPE_FRAME_INFO) {
        hdr[16] = 1; /* version 1.0 */
        hdr[17] = 0;
        put_be16(hdr + 18, (uint32_t)n_frames);
        put_be16(hdr + 20, 16);
    }
}

void sonylv_put_frame(uint8_t rec[16], const sonylv_focus_frame *f)
{
    memset(rec, 0, 16);
    put_be16(rec, f->left);
    put_be16(rec + 2, f->top);
    put_be16(rec + 4, f->right);
    put_be16(rec + 6, f->bottom);
    rec[8] = f->category;
    rec[9] = f->status;
    rec[10] = f->additional;
}
