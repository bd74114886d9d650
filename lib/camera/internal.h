/*
 * internal: what the files of lib/camera share and nothing else sees.
 */
#pragma once

#include <stdint.h>

#include "base/blob.h"
#include "tether/tether.h"

/* A frame holding jpeg (the reference is taken over). */
tether_frame *frame_new(blob *jpeg, int64_t time_ns);
