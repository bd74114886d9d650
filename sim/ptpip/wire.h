/*
 * wire: PTP/IP packet framing (CIPA DC-005), both directions.
 *
 * ptpip_parse() decodes one packet from the front of a byte buffer without
 * copying: it is the only code that interprets bytes from the network, it is
 * pure and reentrant, and it is the target of the packet-parser fuzzer.  The
 * ptpip_put_* builders append packets to a bytebuf.  All integers on the
 * wire are little-endian; every packet starts with u32 length (header
 * included) and u32 type.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/bytebuf.h"

enum ptpip_type {
    PTPIP_INIT_COMMAND_REQUEST = 1,
    PTPIP_INIT_COMMAND_ACK = 2,
    PTPIP_INIT_EVENT_REQUEST = 3,
    PTPIP_INIT_EVENT_ACK = 4,
    PTPIP_INIT_FAIL = 5,
    PTPIP_CMD_REQUEST = 6,
    PTPIP_CMD_RESPONSE = 7,
    PTPIP_EVENT = 8,
    PTPIP_START_DATA = 9,
    PTPIP_DATA = 10,
    PTPIP_CANCEL = 11,
    PTPIP_END_DATA = 12,
    PTPIP_PING = 13,
    PTPIP_PONG = 14,
};

/* Init_Fail reasons */
enum {
    PTPIP_FAIL_REJECTED_INITIATOR = 1,
    PTPIP_FAIL_BUSY = 2,
    PTPIP_FAIL_UNSPECIFIED = 3,
};

/* The largest packet we accept: a 64 KiB data chunk (what libgphoto2
 * sends) with room to spare.  Larger lengths are malformed. */
#define PTPIP_MAX_PACKET (1024u * 1024u + 64u)

#define PTPIP_MAX_PARAMS 5

typedef struct ptpip_packet {
    uint32_t type;
    uint32_t length;              /* whole packet, header included */
    /* type 1 */
    uint8_t guid[16];
    char name[64];                /* friendly name, as ASCII ('?' for others) */
    uint32_t version;
    /* type 3 */
    uint32_t conn_number;
    /* type 6 */
    uint32_t dataphase;           /* 1: none or data-in, 2: data-out */
    uint16_t opcode;
    uint32_t tid;                 /* also for types 9, 10, 11, 12 */
    int nparams;
    uint32_t params[PTPIP_MAX_PARAMS];
    /* type 9 */
    uint64_t total_length;
    /* types 10, 12: points into the parsed buffer */
    const uint8_t *payload;
    size_t payload_len;
} ptpip_packet;

typedef enum ptpip_parse_result {
    PTPIP_NEED_MORE = 0,          /* not a whole packet yet */
    PTPIP_BAD_LENGTH = -1,        /* length < 8 or > PTPIP_MAX_PACKET */
    PTPIP_BAD_PACKET = -2,        /* a known type with an impossible layout */
} ptpip_parse_result;

/* Decodes the packet at the start of buf.  Returns its length (> 0) when a
 * whole packet is there, or a ptpip_parse_result.  Unknown types parse
 * successfully (type set, fields zero): the caller decides what to do. */
long ptpip_parse(const uint8_t *buf, size_t len, ptpip_packet *pkt);

/* Builders: each appends one whole packet to out. */
void ptpip_put_init_command_ack(bytebuf *out, uint32_t conn_number, const uint8_t guid[16],
                                const char *name);
void ptpip_put_init_event_ack(bytebuf *out);
void ptpip_put_init_fail(bytebuf *out, uint32_t reason);
void ptpip_put_response(bytebuf *out, uint16_t code, uint32_t tid, const uint32_t *params,
                        int nparams);
void ptpip_put_event(bytebuf *out, uint16_t code, uint32_t tid, const uint32_t *params,
                     int nparams);
void ptpip_put_start_data(bytebuf *out, uint32_t tid, uint64_t total);
/* Appends the 12-byte header of a Data (10) or End_Data (12) packet whose
 * payload of payload_len bytes the caller appends or sends next. */
void ptpip_put_data_header(bytebuf *out, uint32_t type, uint32_t tid, size_t payload_len);
/* Host side (for tests and the fuzzer's seed corpus). */
void ptpip_put_init_command_request(bytebuf *out, const uint8_t guid[16], const char *name);
void ptpip_put_init_event_request(bytebuf *out, uint32_t conn_number);
void ptpip_put_request(bytebuf *out, uint32_t dataphase, uint16_t opcode, uint32_t tid,
                       const uint32_t *params, int nparams);

/* UCS-2LE helpers for the friendly names: appends name as UCS-2LE with a
 * terminating NUL character. */
void ptpip_put_ucs2z(bytebuf *out, const char *ascii);
