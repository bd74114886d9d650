/*
 * transfer: the rig's file transfer over HTTP, its pure parts shared by
 * the node's sender (app/rig/agent.c) and the studio's receiver
 * (server/rig_files.c): the route naming one file of one shot, the
 * Content-Range a chunk carries, the SHA-256 of a file.  docs/RIGS.md
 * describes the exchange:
 *
 *   GET /api/rig/files/NODE/CAMERA/SHOT/FILE   -> {"received": N, "complete": bool}
 *   PUT /api/rig/files/NODE/CAMERA/SHOT/FILE   Content-Range: bytes START-END/TOTAL
 *                                               X-Tether-Sha256: the whole file's, hex
 *       body: bytes START..END (at most RIG_CHUNK); 409 {"received": N} when START is not
 *       what the studio has; the last chunk makes the photo: 201 {"complete": true, ...}
 *
 * A file is known by (node, camera, shot, file name): sending it again
 * after it is complete answers "complete" and makes no second photo.
 *
 * The parsers take text from the network and never trust it; any thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RIG_FILES_ROUTE "/api/rig/files/"
enum {
    RIG_CHUNK = 1024 * 1024,  /* the largest body of one PUT */
    RIG_SHA256_HEX = 64,
};

typedef struct rig_file_id {
    char node[33], camera[33], shot[65], file[129];
} rig_file_id;

/* "/api/rig/files/NODE/CAMERA/SHOT/FILE" into out (ids already checked). */
void rig_file_path(char *out, size_t size, const rig_file_id *id);
/* Parses what follows RIG_FILES_ROUTE: every part checked (rig_name_ok,
 * rig_shot_ok, rig_file_ok).  false when malformed. */
bool rig_file_path_parse(const char *rest, rig_file_id *id);

/* "bytes START-END/TOTAL" (END inclusive, START <= END < TOTAL, TOTAL at
 * most 2^40).  false when malformed. */
bool rig_content_range_parse(const char *s, uint64_t *start, uint64_t *end, uint64_t *total);
/* Is s 64 lower-case hex digits? */
bool rig_sha256_ok(const char *s);
/* The SHA-256 of the file at path, as 64 lower-case hex digits and a NUL
 * into hex.  Reads the whole file (blocking I/O).  0, or -1 with errno. */
int rig_sha256_file(const char *path, char hex[RIG_SHA256_HEX + 1]);
