/*
 * bytebuf: see bytebuf.h.  Capacity doubles; the "failed" flag makes
 * allocation errors sticky so builders can check once at the end.
 */
#include "bytebuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void bytebuf_init(bytebuf *b)
{
    *b = (bytebuf)BYTEBUF_INIT;
}

void bytebuf_free(bytebuf *b)
{
    free(b->data);
    bytebuf_init(b);
}

void bytebuf_reset(bytebuf *b)
{
    b->len = 0;
    b->failed = false;
}

bool bytebuf_ok(const bytebuf *b)
{
    return !b->failed;
}

bool bytebuf_reserve(bytebuf *b, size_t n)
{
    if (b->failed) return false;
    if (n <= b->cap - b->len) return true;
    if (n > SIZE_MAX / 2 - b->len) {
        b->failed = true;
        return false;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n) cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (p == NULL) {
        b->failed = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

uint8_t *bytebuf_extend(bytebuf *b, size_t n)
{
    if (!bytebuf_reserve(b, n)) return NULL;
    uint8_t *p = b->data + b->len;
    b->len += n;
    return p;
}

void bytebuf_put(bytebuf *b, const void *src, size_t n)
{
    if (n == 0) return;
    uint8_t *p = bytebuf_extend(b, n);
    if (p) memcpy(p, src, n);
}

void bytebuf_put_u8(bytebuf *b, uint8_t v)
{
    bytebuf_put(b, &v, 1);
}

void bytebuf_put_u16le(bytebuf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    bytebuf_put(b, x, 2);
}

void bytebuf_put_u32le(bytebuf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    bytebuf_put(b, x, 4);
}

void bytebuf_put_u64le(bytebuf *b, uint64_t v)
{
    bytebuf_put_u32le(b, (uint32_t)v);
    bytebuf_put_u32le(b, (uint32_t)(v >> 32));
}

void bytebuf_set_u32le(bytebuf *b, size_t off, uint32_t v)
{
    if (b->failed || off + 4 > b->len) return;
    uint8_t *p = b->data + off;
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

int bytebuf_read_fd(bytebuf *b, int fd)
{
    for (;;) {
        if (!bytebuf_reserve(b, 65536)) {
            errno = ENOMEM;
            return -1;
        }
        ssize_t got = read(fd, b->data + b->len, b->cap - b->len);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return -1;
        if (got == 0) return 0;
        b->len += (size_t)got;
    }
}

int bytebuf_read_file(bytebuf *b, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = bytebuf_read_fd(b, fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}
