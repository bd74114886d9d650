/*
 * v4l2 mjpeg: checks and repairs what a V4L2 camera hands over as an
 * MJPEG frame before anyone is served it.
 *
 * A frame is good when it starts with SOI, is at least 125 bytes long
 * (shorter ones are a broken transfer, as µStreamer also judges) and its
 * last marker before any zero padding is EOI (a cut frame lacks it).  UVC
 * cameras leave the Huffman tables out of their MJPEG (UVC 1.5 "MJPEG
 * payload": decoders assume the standard tables of ITU T.81 Annex K.3);
 * browsers' decoders do not, so a frame without DHT gets the standard
 * tables inserted before its first SOS.
 *
 * Pure functions over caller buffers; any thread.  Every length is
 * checked, so arbitrary bytes are safe input (tests/fuzz/fuzz_v4l2_frames.c).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytebuf.h"

/* Is data a complete JPEG frame (see above)?  *why gets a static reason
 * when it is not (may be NULL). */
bool v4l2_mjpeg_frame_ok(const uint8_t *data, size_t len, const char **why);

/* Appends data to out, with the standard Huffman tables inserted before
 * the first SOS if no DHT segment precedes it.  Returns 1 if tables were
 * inserted, 0 if the frame was copied as it is, -1 if its segments are
 * malformed (out is then unchanged). */
int v4l2_mjpeg_complete(const uint8_t *data, size_t len, bytebuf *out);
