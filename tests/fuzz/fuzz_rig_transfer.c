/*
 * fuzz_rig_transfer: libFuzzer target for the rig's file transfer
 * headers and route (app/rig/transfer.c), which the studio reads from any
 * client that has its token: the path naming a node's file
 * (/api/rig/files/NODE/CAMERA/SHOT/FILE), Content-Range and the SHA-256
 * header.
 *
 * Input: text split at NUL: the path's rest, the Content-Range, the hash.
 * Checked beyond "no crash": an accepted path's parts pass the id rules
 * and build the same path again; an accepted range has START <= END <
 * TOTAL; an accepted hash is 64 lower-case hex digits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rig/proto.h"
#include "rig/transfer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 3);
    if (text == NULL) return 0;
    memcpy(text, data, size);
    text[size] = text[size + 1] = text[size + 2] = '\0';
    const char *path = text;
    const char *range = path + strlen(path) + 1;
    if (range > text + size) range = text + size + 1;
    const char *hash = range + strlen(range) + 1;
    if (hash > text + size + 1) hash = text + size + 2;

    rig_file_id id;
    if (rig_file_path_parse(path, &id)) {
        check(rig_name_ok(id.node) && rig_name_ok(id.camera) && rig_shot_ok(id.shot) && rig_file_ok(id.file));
        char built[600];
        rig_file_path(built, sizeof built, &id);
        check(strncmp(built, RIG_FILES_ROUTE, strlen(RIG_FILES_ROUTE)) == 0 &&
              strcmp(built + strlen(RIG_FILES_ROUTE), path) == 0);
    }
    uint64_t start, end, total;
    if (rig_content_range_parse(range, &start, &end, &total)) check(start <= end && end < total);
    if (rig_sha256_ok(hash)) check(strlen(hash) == RIG_SHA256_HEX);
    free(text);
    return 0;
}
