/*
 * liveview: a streaming parser for the live-view stream of Sony's Camera
 * Remote API (the body of the HTTP GET on the URL startLiveview gave).
 *
 * The stream is an endless run of packets (research note §11):
 *   common header, 8 bytes:  0xFF | type u8 | sequence u16 | timestamp u32
 *   payload header, 128 bytes: 24 35 68 79 | payload size u24 | padding u8 | 120 more
 *   payload (size bytes), then padding (padding bytes)
 * all big-endian.  Type 0x01 carries a JPEG, 0x02 frame information (the
 * camera's focus frames: version 1.0, count u16, record size u16 in the
 * payload header, then count records of 16 bytes); other types are skipped
 * by size + padding.
 *
 * Nothing is trusted about read boundaries: bytes are fed as they arrive,
 * in pieces of any size, and a packet is reported only when all of it is
 * here.  A header that does not start with 0xFF and the start code is
 * garbage: the parser drops one byte and looks for the next 0xFF
 * (resynchronisation).  A payload larger than the limit given at init is
 * refused the same way (never allocated), and so is a JPEG packet whose
 * payload does not start with SOI (FF D8): that catches a header cut short
 * by a dropped connection whose missing bytes were made up by the next
 * packet's header.
 *
 * Sequence numbers of JPEG packets are 16-bit and wrap: the parser counts
 * the frames the camera skipped (gaps), modulo 65536.
 *
 * Ownership: the parser owns its buffers; a packet's payload pointer is
 * valid until the next sonylv_parse or sonylv_free.  One thread at a time
 * per parser; no global state.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytebuf.h"

enum {
    SONYLV_COMMON_HEADER = 8,
    SONYLV_PAYLOAD_HEADER = 128,
    SONYLV_HEADER = SONYLV_COMMON_HEADER + SONYLV_PAYLOAD_HEADER,
    SONYLV_TYPE_JPEG = 0x01,
    SONYLV_TYPE_FRAME_INFO = 0x02,
    SONYLV_MAX_FOCUS_FRAMES = 32,   /* frame records kept per packet; more are counted, not kept */
    SONYLV_DEFAULT_MAX_PAYLOAD = 4 * 1024 * 1024,
};

/* One focus frame of a frame-info packet; coordinates 0..10000 of the
 * image's width and height. */
typedef struct sonylv_focus_frame {
    uint16_t left, top, right, bottom;
    uint8_t category;       /* 0 invalid, 1 contrast AF, 2 phase AF, 4 face, 5 tracking */
    uint8_t status;         /* 0 invalid, 1 normal, 2 main, 3 sub, 4 focused */
    uint8_t additional;     /* 0 invalid, 1 selected, 2 large frame */
} sonylv_focus_frame;

/* A complete packet. */
typedef struct sonylv_packet {
    uint8_t type;
    uint16_t sequence;
    uint32_t timestamp;
    const uint8_t *payload; /* JPEG or frame-info bytes; NULL for a skipped type */
    size_t payload_size;
    uint8_t padding;
    /* JPEG: starts with SOI (FF D8) and ends with EOI (FF D9) */
    bool jpeg_complete;
    /* FRAME_INFO: version 1.0 understood (else frames are not read) */
    bool frame_info_known;
    int n_frames;           /* records in the packet */
    int n_kept;             /* of which in frames[] */
    sonylv_focus_frame frames[SONYLV_MAX_FOCUS_FRAMES];
} sonylv_packet;

typedef struct sonylv_stats {
    uint64_t packets;       /* complete packets of any type */
    uint64_t jpegs;
    uint64_t frame_infos;
    uint64_t skipped;       /* packets of other types */
    uint64_t resyncs;       /* headers refused (bad start byte/code, size over the limit) */
    uint64_t garbage_bytes; /* bytes dropped while looking for a header */
    uint64_t sequence_gaps; /* JPEG frames the camera skipped, by sequence number */
    uint64_t dropped;       /* complete packets lost for want of memory */
} sonylv_stats;

typedef enum sonylv_state {
    SONYLV_IN_HEADER,
    SONYLV_IN_PAYLOAD,
    SONYLV_IN_PADDING,
} sonylv_state;

typedef struct sonylv_parser {
    size_t max_payload;
    sonylv_state state;
    uint8_t header[SONYLV_HEADER];
    size_t have;            /* header bytes collected */
    size_t payload_size;
    size_t payload_left;    /* still to read (or to skip) */
    size_t padding_left;
    bool keep_payload;      /* type known: payload collected in `payload` */
    bytebuf payload;
    /* bytes given back by a refused header, parsed before new input */
    uint8_t replay[SONYLV_HEADER + 2];
    size_t replay_len, replay_off;
    bool have_sequence;
    uint16_t last_sequence;
    sonylv_stats stats;
} sonylv_parser;

/* Prepares p; payloads over max_payload bytes (0: the default, 4 MiB) are
 * refused as garbage.  Never fails (memory is taken as packets need it). */
void sonylv_init(sonylv_parser *p, size_t max_payload);
/* Frees p's buffers; p may be initialised again. */
void sonylv_free(sonylv_parser *p);
/* Forgets a partial packet and the sequence (a new connection); keeps the
 * statistics. */
void sonylv_reset(sonylv_parser *p);

/* Consumes bytes from data[0..len) and stops right after a packet is
 * complete: returns the number of bytes consumed and sets *ready (then *out
 * holds the packet).  Call again with the rest until everything is
 * consumed.  A packet whose payload could not be stored (out of memory) is
 * counted in stats.dropped and not reported. */
size_t sonylv_parse(sonylv_parser *p, const uint8_t *data, size_t len, sonylv_packet *out,
                    bool *ready);

/* Writes a packet's 136 header bytes into hdr (the simulator's and the
 * tests' side): payload_size < 2^24.  For FRAME_INFO, n_frames records of
 * 16 bytes. */
void sonylv_put_header(uint8_t hdr[SONYLV_HEADER], uint8_t type, uint16_t sequence,
                       uint32_t timestamp, size_t payload_size, uint8_t padding, int n_frames);
/* Writes one 16-byte frame-info record. */
void sonylv_put_frame(uint8_t rec[16], const sonylv_focus_frame *f);
