/*
 * internal: what the files of lib/camera share and nothing else sees.
 */
#pragma once

#include <stdint.h>

#include "base/blob.h"
#include "tether/tether.h"

/* A frame holding jpeg (the reference is taken over). */
/* A frame that arrived at time_ns and was exposed at exposed_ns (0: as
 * it arrived); takes over jpeg's reference.  NULL when out of memory. */
tether_frame *frame_new(blob *jpeg, int64_t time_ns, int64_t exposed_ns, int64_t fetch_ns);
