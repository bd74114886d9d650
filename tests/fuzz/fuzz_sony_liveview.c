/*
 * fuzz_sony_liveview: libFuzzer target for the Sony live-view stream
 * parser (lib/backends/sony/liveview.c), whose input is whatever a camera
 * on the Wi-Fi sends.
 *
 * Input: the first byte picks how the rest is cut into reads (1 to 256
 * bytes, cycling through a pattern seeded by it); the rest is the stream.
 * Checked beyond "no crash": the same stream gives the same packets cut
 * whole and cut into odd pieces (nothing depends on read boundaries); every
 * kept payload is within the size limit; a JPEG packet's payload starts
 * with SOI; focus frames kept never exceed the array; every byte is
 * consumed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backends/sony/liveview.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { LIMIT = 1 << 16 };

/* Parses stream cut by the pattern; returns a digest of the packets. */
static uint64_t run(const uint8_t *stream, size_t len, uint8_t pattern, uint64_t *count)
{
    sonylv_parser p;
    sonylv_init(&p, LIMIT);
    uint64_t digest = 1469598103934665603ull;
    *count = 0;
    size_t off = 0;
    unsigned k = pattern;
    while (off < len) {
        size_t piece = pattern == 0 ? len - off : 1 + (k = k * 1103515245u + 12345u) % 256u;
        if (piece > len - off) piece = len - off;
        size_t used = 0;
        while (used < piece) {
            sonylv_packet pk;
            bool ready;
            size_t u = sonylv_parse(&p, stream + off + used, piece - used, &pk, &ready);
            if (u > piece - used) abort();
            used += u;
            if (!ready) {
                if (used != piece) abort(); /* stops early only for a packet */
                continue;
            }
            if (pk.payload_size > LIMIT) abort();
            if (pk.n_kept > SONYLV_MAX_FOCUS_FRAMES || pk.n_kept > pk.n_frames) abort();
            if (pk.type == SONYLV_TYPE_JPEG && pk.payload_size >= 2 &&
                (pk.payload[0] != 0xFF || pk.payload[1] != 0xD8))
                abort();
            (*count)++;
            uint64_t h = (uint64_t)pk.type << 48 | (uint64_t)pk.sequence << 32 | pk.payload_size;
            for (size_t i = 0; pk.payload && i < pk.payload_size; i++) h = h * 31 + pk.payload[i];
            digest = (digest ^ h) * 1099511628211ull;
        }
        off += piece;
    }
    sonylv_free(&p);
    return digest;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint64_t n_whole, n_cut;
    uint64_t whole = run(data + 1, size - 1, 0, &n_whole);
    uint64_t cut = run(data + 1, size - 1, (uint8_t)(data[0] | 1), &n_cut);
    if (whole != cut || n_whole != n_cut) abort();
    return 0;
}
