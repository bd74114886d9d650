/*
 * transfer: see transfer.h.  SHA-256 comes from GLib's GChecksum (GLib is
 * already linked for EXIF).
 */
#include "rig/transfer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "rig/proto.h"

void rig_file_path(char *out, size_t size, const rig_file_id *id)
{
    snprintf(out, size, RIG_FILES_ROUTE "%s/%s/%s/%s", id->node, id->camera, id->shot, id->file);
}

/* Copies the next '/'-ended part of *p into out (at most size-1 bytes);
 * last: the part runs to the end. */
static bool part(const char **p, char *out, size_t size, bool last)
{
    const char *end = last ? *p + strlen(*p) : strchr(*p, '/');
    if (end == NULL || end == *p || (size_t)(end - *p) >= size) return false;
    if (last && strchr(*p, '/')) return false;
    memcpy(out, *p, (size_t)(end - *p));
    out[end - *p] = '\0';
    *p = last ? end : end + 1;
    return true;
}

bool rig_file_path_parse(const char *rest, rig_file_id *id)
{
    memset(id, 0, sizeof *id);
    const char *p = rest;
    return p && part(&p, id->node, sizeof id->node, false) && part(&p, id->camera, sizeof id->camera, false) &&
           part(&p, id->shot, sizeof id->shot, false) && part(&p, id->file, sizeof id->file, true) &&
           rig_name_ok(id->node) && rig_name_ok(id->camera) && rig_shot_ok(id->shot) && rig_file_ok(id->file);
}

/* A decimal number of at most 13 digits at *p; advances *p. */
static bool number(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    int n = 0;
    while (*s >= '0' && *s <= '9' && n < 14) v = v * 10 + (uint64_t)(*s++ - '0'), n++;
    if (n == 0 || n > 13) return false;
    *out = v;
    *p = s;
    return true;
}

bool rig_content_range_parse(const char *s, uint64_t *start, uint64_t *end, uint64_t *total)
{
    if (s == NULL || strncmp(s, "bytes ", 6) != 0) return false;
    const char *p = s + 6;
    if (!number(&p, start) || *p++ != '-' || !number(&p, end) || *p++ != '/' || !number(&p, total) || *p != '\0')
        return false;
    return *start <= *end && *end < *total && *total <= (1ull << 40);
}

bool rig_sha256_ok(const char *s)
{
    if (s == NULL || strlen(s) != RIG_SHA256_HEX) return false;
    for (int i = 0; i < RIG_SHA256_HEX; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
    return true;
}

int rig_sha256_file(const char *path, char hex[RIG_SHA256_HEX + 1])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
    enum { BUF = 256 * 1024 };
    unsigned char *buf = malloc(BUF);
    int rc = sum && buf ? 0 : -1;
    if (rc) errno = ENOMEM;
    while (rc == 0) {
        ssize_t n = read(fd, buf, BUF);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) rc = -1;
        if (n <= 0) break;
        g_checksum_update(sum, buf, (gssize)n);
    }
    int e = errno;
    close(fd);
    if (rc == 0) snprintf(hex, RIG_SHA256_HEX + 1, "%s", g_checksum_get_string(sum));
    if (sum) g_checksum_free(sum);
    free(buf);
    errno = e;
    return rc;
}
