/*
 * fuzz_v4l2_frames: libFuzzer target for what the V4L2 backend does with
 * a frame a camera hands over before serving it (lib/backends/v4l2/
 * mjpeg.c): the good-frame check and the Huffman-table completion, on
 * arbitrary bytes.  A frame that passes both must still start with SOI
 * and end with EOI, and completion adds exactly the standard DHT segment
 * or nothing.  The raw-frame encoder (lib/backends/v4l2/raw.c: YU12,
 * NV12, RGB3, BGR3) gets the same bytes as a frame whose format and size
 * come from the first three bytes (up to 64x64): it must refuse a frame
 * shorter than its size and turn any other into a JPEG that decodes at
 * that size.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/videodev2.h>

#include "backends/v4l2/mjpeg.h"
#include "backends/v4l2/raw.h"
#include "base/blob.h"
#include "base/bytebuf.h"
#include "image/jpeg.h"

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

    if (size >= 3) {
        static const uint32_t fourccs[] = {V4L2_PIX_FMT_YUV420, V4L2_PIX_FMT_NV12, V4L2_PIX_FMT_RGB24,
                                           V4L2_PIX_FMT_BGR24};
        uint32_t fourcc = fourccs[data[0] % 4];
        int w = 1 + data[1] % 64, h = 1 + data[2] % 64;
        size_t need = v4l2_raw_frame_bytes(fourcc, w, h);
        blob *j = v4l2_raw_to_jpeg(fourcc, w, h, data + 3, size - 3, 1 + data[0] % 100);
        if (need == 0 || size - 3 < need) {
            if (j != NULL) abort();
        } else {
            img_image img;
            if (j == NULL || img_jpeg_decode(j->data, j->len, 3, 1, &img) != 0) abort();
            if (img.width != w || img.height != h) abort();
            img_image_free(&img);
        }
        blob_unref(j);
    }
    return 0;
}
