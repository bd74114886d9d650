/*
 * convert: live-view frames into JPEG, once per frame whoever watches.  A
 * backend delivers frames in its camera's own pixel format
 * (tether_pixel_format); the session shares JPEG frames only.
 *
 * Pure functions; any thread.
 */
#pragma once

#include "backends/backend.h"
#include "base/blob.h"

/* Turns frame (whose data reference is taken over, whatever happens) into
 * a JPEG in *jpeg (one reference).  A JPEG frame passes through untouched.
 * Returns 0, TETHER_ERR_BAD_VALUE (sizes that do not fit the data, a
 * format it does not know) or TETHER_ERR_NO_MEMORY. */
int convert_to_jpeg(backend_frame *frame, blob **jpeg);
