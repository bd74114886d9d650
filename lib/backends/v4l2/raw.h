/*
 * v4l2 raw: turns an uncompressed V4L2 frame into a JPEG with
 * libjpeg-turbo: planar Y'CbCr 4:2:0 (YU12, NV12: libcamerify, the Pi's
 * legacy driver) straight from its planes, and packed 24-bit RGB (RGB3,
 * BGR3: libcamerify's RGB888/BGR888, bcm2835-v4l2) row by row, BGR with
 * its bytes swapped into a scratch row first.
 *
 * Pure functions over caller buffers; any thread.  The frame's length is
 * checked against its size before any byte is read, so arbitrary bytes are
 * safe input (tests/fuzz/fuzz_v4l2_frames.c).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/blob.h"

/* Does v4l2_raw_to_jpeg take frames of this V4L2_PIX_FMT_*? */
bool v4l2_raw_known(uint32_t fourcc);

/* The bytes a w x h frame of fourcc needs (rows packed, no padding), or 0
 * for a format or size this module does not take. */
size_t v4l2_raw_frame_bytes(uint32_t fourcc, int w, int h);

/* Encodes the w x h frame data (len bytes, at least
 * v4l2_raw_frame_bytes) as a JPEG of the given quality (1..100) into a
 * new blob that the caller owns (blob_unref).  Returns NULL for a frame
 * too short, a size below 2x2 or above 16384 a side, an unknown format,
 * or out of memory. */
blob *v4l2_raw_to_jpeg(uint32_t fourcc, int w, int h, const uint8_t *data, size_t len, int quality);
