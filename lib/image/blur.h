/*
 * blur: Gaussian blur of 8-bit planes, used to render defocus in the
 * simulated cameras (and for peaking/denoise later).
 *
 * Small sigmas (<= 3 px), where the shape of the kernel matters for focus
 * measures, use an exact separable Gaussian in fixed point; larger sigmas
 * use three box passes (Wells' / Kovesi's approximation), whose cost does
 * not depend on sigma.  Edges are clamped.  Pure; any thread; the caller
 * owns all buffers.
 */
#pragma once

#include <stdint.h>

/* Blurs the w x h plane src (rows `stride` bytes apart) into dst (same
 * geometry; dst may equal src).  Returns 0, or -1 on bad arguments or OOM. */
int img_blur_gauss(uint8_t *dst, const uint8_t *src, int w, int h, int stride, double sigma);
