/*
 * sharpness: a test-side focus measure (brightness-normalised Tenengrad on
 * a region of a grey image), used to check that the simulated camera's
 * images get sharper and blurrier in the right direction.  Deliberately
 * independent of the product's own focus code.
 */
#pragma once

#include <stdint.h>

/* Mean squared Sobel gradient over the region, divided by mean^2.
 * Region (x, y, w, h) must lie inside the image with a 1-pixel margin. */
double test_sharpness(const uint8_t *grey, int width, int x, int y, int w, int h);
