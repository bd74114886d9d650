/*
 * focus: how sharp a region of a live-view frame is.
 *
 * Every measure here is a number that is largest when the region is in
 * focus, for a fixed scene; none is absolute.  They differ in how wide a
 * range of defocus they see (capture range), how sharp their peak is, and
 * how they stand noise (../shared/research/focus-and-autofocus.md §1):
 *
 *   tenengrad   Sobel gradient energy on the region binned bin x bin,
 *               divided by the squared mean brightness (so exposure drift
 *               and mains flicker cancel).  bin 2 resists sensor noise; bin
 *               8 is a low-pass measure with a wide capture range, for
 *               coarse search.
 *   lapv        variance of the 4-neighbour Laplacian over mean squared:
 *               the sharpest peak in good light, the first to fail in dim.
 *   dct         mid-band AC energy over DC energy of the JPEG's own 8x8
 *               luma blocks, read from the coefficients without an inverse
 *               DCT (img_jpeg_read_luma_dct).
 *   median_residual
 *               the project's seed baseline: standard deviation of the
 *               image minus its 5x5 median (offset 100, clipped to 0..255,
 *               as PIL's ImageChops.subtract(im, median, 1, 100) does), on
 *               whatever region it is given; not brightness-normalised.
 *
 * The inner loops run over float rows with no branches so that the
 * compiler vectorises them.  Pure functions over caller-owned images: any
 * thread, reentrant.  A measure returns a value >= 0, or -1 when the
 * region is too small to measure (or memory ran out).
 */
#pragma once

#include "image/jpeg.h"

double img_focus_tenengrad(const img_image *gray, int bin);
double img_focus_lapv(const img_image *gray);
double img_focus_dct(const img_dct_blocks *blocks);
double img_focus_median_residual(const img_image *gray);

/* Mean brightness of a grey image (0..255); -1 if empty. */
double img_focus_mean(const img_image *gray);

/* Mean absolute difference between two grey images of the same size,
 * after scaling b to a's mean (so a flicker of brightness is not a
 * change); -1 if the sizes differ.  Used to see whether the picture is
 * still changing (the lens still moving). */
double img_focus_change(const img_image *a, const img_image *b);

/* Halves (bin 2), quarters... an image by averaging bin x bin blocks
 * into out (channels 1, owned by the caller).  Returns 0 or -1. */
int img_focus_bin(const img_image *gray, int bin, img_image *out);
