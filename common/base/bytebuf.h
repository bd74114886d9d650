/*
 * bytebuf: a growable byte buffer with little-endian writers, used to build
 * protocol packets and file bodies.
 *
 * Allocation failure does not need checking at every call: the buffer turns
 * "failed" (sticky), later writes are ignored, and the owner checks
 * bytebuf_ok() once before using the bytes.  A bytebuf is owned by one
 * thread at a time; it has no locking.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct bytebuf {
    uint8_t *data;
    size_t len;
    size_t cap;
    bool failed;
} bytebuf;

#define BYTEBUF_INIT {NULL, 0, 0, false}

void bytebuf_init(bytebuf *b);
/* Frees the storage; the buffer is empty and reusable afterwards. */
void bytebuf_free(bytebuf *b);
/* Empties the buffer, keeping its storage. */
void bytebuf_reset(bytebuf *b);
/* True unless an allocation failed since the last reset. */
bool bytebuf_ok(const bytebuf *b);
/* Makes room for n more bytes; returns false (and marks failed) on OOM. */
bool bytebuf_reserve(bytebuf *b, size_t n);
/* Appends n uninitialised bytes and returns a pointer to them, or NULL. */
uint8_t *bytebuf_extend(bytebuf *b, size_t n);

void bytebuf_put(bytebuf *b, const void *src, size_t n);
/* Appends everything fd gives until end of file (retrying on EINTR); the
 * caller keeps and closes fd.  Returns 0, or -1 with errno set (ENOMEM when
 * memory ran out); bytes read before an error stay appended. */
int bytebuf_read_fd(bytebuf *b, int fd);
/* Appends the whole file at path.  Returns 0, or -1 with errno set if it
 * cannot be opened or read or memory ran out. */
int bytebuf_read_file(bytebuf *b, const char *path);
void bytebuf_put_u8(bytebuf *b, uint8_t v);
void bytebuf_put_u16le(bytebuf *b, uint16_t v);
void bytebuf_put_u32le(bytebuf *b, uint32_t v);
void bytebuf_put_u64le(bytebuf *b, uint64_t v);
/* Overwrites 4 bytes at offset off (which must be inside the buffer). */
void bytebuf_set_u32le(bytebuf *b, size_t off, uint32_t v);
