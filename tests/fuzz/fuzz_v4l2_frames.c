/*
 * fuzz_v4l2_frames: libFuzzer target for what the V4L2 backend does with
 * a frame a camera hands over before serving it (lib/backends/v4l2/
 * mjpeg.c): the good-frame check and the Huffman-table completion, on
 * arbitrary bytes.  A frame that passes both must still start with SOI
 * and end with EOI, and completion adds exactly the standard DHT segment
 * or nothing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backends/v4l2/mjpeg.h"
#include "base/bytebuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *why = NULL;
    bool ok = v4l2_mjpeg_frame_ok(data, size, &why);
    if (!ok && (why == NULL || why[0] == '\0')) abort();
    bytebuf out;
    bytebuf_init(&out);
    int rc = v4l2_mjpeg_complete(data, size, &out);
    if (rc < 0 && out.len != 0) abort();
    if (rc == 0 && (out.len != size || memcmp(out.data, data, size) != 0)) abort();
    if (rc == 1) {
        if (out.len != size + 420) abort(); /* the DHT segment: marker, length, four tables */
        if (ok && !v4l2_mjpeg_frame_ok(out.data, out.len, NULL)) abort();
    }
    bytebuf_free(&out);
    return 0;
}
