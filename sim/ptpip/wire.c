/*
 * wire: see wire.h.
 *
 * Parsing rule: never read past `len`, never trust a length field.  A
 * packet's length is checked against [8, PTPIP_MAX_PACKET] before anything
 * else, and every fixed field is checked against the packet length, so a
 * truncated or hostile packet yields PTPIP_BAD_PACKET instead of a read out
 * of bounds.
 */
#include "wire.h"

#include <string.h>

#include "base/endian.h"

static void ucs2_to_ascii(const uint8_t *p, size_t bytes, char *out, size_t outsz)
{
    size_t n = 0;
    for (size_t i = 0; i + 1 < bytes && n + 1 < outsz; i += 2) {
        uint16_t c = le16_read(p + i);
        if (c == 0) break;
        out[n++] = (c >= 0x20 && c < 0x7F) ? (char)c : '?';
    }
    out[n] = '\0';
}

long ptpip_parse(const uint8_t *buf, size_t len, ptpip_packet *pkt)
{
    if (len < 8) return PTPIP_NEED_MORE;
    uint32_t length = le32_read(buf);
    if (length < 8 || length > PTPIP_MAX_PACKET) return PTPIP_BAD_LENGTH;
    if (len < length) return PTPIP_NEED_MORE;

    memset(pkt, 0, sizeof *pkt);
    pkt->length = length;
    pkt->type = le32_read(buf + 4);
    const uint8_t *p = buf + 8;
    size_t n = length - 8;

    switch (pkt->type) {
    case PTPIP_INIT_COMMAND_REQUEST:
        /* GUID[16], NUL-terminated UCS-2LE name, u32 version */
        if (n < 16 + 2 + 4) return PTPIP_BAD_PACKET;
        memcpy(pkt->guid, p, 16);
        ucs2_to_ascii(p + 16, n - 16 - 4, pkt->name, sizeof pkt->name);
        pkt->version = le32_read(p + n - 4);
        break;
    case PTPIP_INIT_EVENT_REQUEST:
        if (n < 4) return PTPIP_BAD_PACKET;
        pkt->conn_number = le32_read(p);
        break;
    case PTPIP_CMD_REQUEST:
        /* u32 dataphase, u16 opcode, u32 tid, u32 params[0..5] */
        if (n < 10 || (n - 10) % 4 != 0 || (n - 10) / 4 > PTPIP_MAX_PARAMS) return PTPIP_BAD_PACKET;
        pkt->dataphase = le32_read(p);
        pkt->opcode = le16_read(p + 4);
        pkt->tid = le32_read(p + 6);
        pkt->nparams = (int)((n - 10) / 4);
        for (int i = 0; i < pkt->nparams; i++) pkt->params[i] = le32_read(p + 10 + 4 * (size_t)i);
        break;
    case PTPIP_START_DATA:
        if (n < 12) return PTPIP_BAD_PACKET;
        pkt->tid = le32_read(p);
        pkt->total_length = le64_read(p + 4);
        break;
    case PTPIP_DATA:
    case PTPIP_END_DATA:
        if (n < 4) return PTPIP_BAD_PACKET;
        pkt->tid = le32_read(p);
        pkt->payload = p + 4;
        pkt->payload_len = n - 4;
        break;
    case PTPIP_CANCEL:
        if (n < 4) return PTPIP_BAD_PACKET;
        pkt->tid = le32_read(p);
        break;
    default:
        /* Types the camera never receives (acks, responses, events, ping,
         * pong) or does not know: whole, but without decoded fields. */
        pkt->payload = p;
        pkt->payload_len = n;
        break;
    }
    return (long)length;
}

static size_t begin(bytebuf *out, uint32_t type)
{
    size_t start = out->len;
    bytebuf_put_u32le(out, 0); /* length, patched by finish() */
    bytebuf_put_u32le(out, type);
    return start;
}

static void finish(bytebuf *out, size_t start)
{
    bytebuf_set_u32le(out, start, (uint32_t)(out->len - start));
}

void ptpip_put_ucs2z(bytebuf *out, const char *ascii)
{
    for (const char *c = ascii; *c; c++) bytebuf_put_u16le(out, (uint16_t)(unsigned char)*c);
    bytebuf_put_u16le(out, 0);
}

void ptpip_put_init_command_ack(bytebuf *out, uint32_t conn_number, const uint8_t guid[16],
                                const char *name)
{
    size_t s = begin(out, PTPIP_INIT_COMMAND_ACK);
    bytebuf_put_u32le(out, conn_number);
    bytebuf_put(out, guid, 16);
    ptpip_put_ucs2z(out, name);
    bytebuf_put_u32le(out, 0x00010000);
    finish(out, s);
}

void ptpip_put_init_event_ack(bytebuf *out)
{
    finish(out, begin(out, PTPIP_INIT_EVENT_ACK));
}

void ptpip_put_init_fail(bytebuf *out, uint32_t reason)
{
    size_t s = begin(out, PTPIP_INIT_FAIL);
    bytebuf_put_u32le(out, reason);
    finish(out, s);
}

static void put_code_tid_params(bytebuf *out, uint32_t type, uint16_t code, uint32_t tid,
                                const uint32_t *params, int nparams)
{
    size_t s = begin(out, type);
    bytebuf_put_u16le(out, code);
    bytebuf_put_u32le(out, tid);
    for (int i = 0; i < nparams && i < PTPIP_MAX_PARAMS; i++) bytebuf_put_u32le(out, params[i]);
    finish(out, s);
}

void ptpip_put_response(bytebuf *out, uint16_t code, uint32_t tid, const uint32_t *params,
                        int nparams)
{
    put_code_tid_params(out, PTPIP_CMD_RESPONSE, code, tid, params, nparams);
}

void ptpip_put_event(bytebuf *out, uint16_t code, uint32_t tid, const uint32_t *params,
                     int nparams)
{
    put_code_tid_params(out, PTPIP_EVENT, code, tid, params, nparams > 3 ? 3 : nparams);
}

void ptpip_put_start_data(bytebuf *out, uint32_t tid, uint64_t total)
{
    size_t s = begin(out, PTPIP_START_DATA);
    bytebuf_put_u32le(out, tid);
    bytebuf_put_u64le(out, total);
    finish(out, s);
}

void ptpip_put_data_header(bytebuf *out, uint32_t type, uint32_t tid, size_t payload_len)
{
    bytebuf_put_u32le(out, (uint32_t)(12 + payload_len));
    bytebuf_put_u32le(out, type);
    bytebuf_put_u32le(out, tid);
}

void ptpip_put_init_command_request(bytebuf *out, const uint8_t guid[16], const char *name)
{
    size_t s = begin(out, PTPIP_INIT_COMMAND_REQUEST);
    bytebuf_put(out, guid, 16);
    ptpip_put_ucs2z(out, name);
    bytebuf_put_u32le(out, 0x00010000);
    finish(out, s);
}

void ptpip_put_init_event_request(bytebuf *out, uint32_t conn_number)
{
    size_t s = begin(out, PTPIP_INIT_EVENT_REQUEST);
    bytebuf_put_u32le(out, conn_number);
    finish(out, s);
}

void ptpip_put_request(bytebuf *out, uint32_t dataphase, uint16_t opcode, uint32_t tid,
                       const uint32_t *params, int nparams)
{
    size_t s = begin(out, PTPIP_CMD_REQUEST);
    bytebuf_put_u32le(out, dataphase);
    bytebuf_put_u16le(out, opcode);
    bytebuf_put_u32le(out, tid);
    for (int i = 0; i < nparams && i < PTPIP_MAX_PARAMS; i++) bytebuf_put_u32le(out, params[i]);
    finish(out, s);
}
