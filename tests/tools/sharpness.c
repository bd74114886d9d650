/*
 * sharpness: see sharpness.h.
 */
#include "sharpness.h"

double test_sharpness(const uint8_t *g, int width, int x0, int y0, int w, int h)
{
    double sum = 0, mean = 0;
    for (int y = y0; y < y0 + h; y++) {
        for (int x = x0; x < x0 + w; x++) {
            const uint8_t *p = g + (long)y * width + x;
            int gx = -p[-width - 1] - 2 * p[-1] - p[width - 1] + p[-width + 1] + 2 * p[1] + p[width + 1];
            int gy = -p[-width - 1] - 2 * p[-width] - p[-width + 1] + p[width - 1] + 2 * p[width] + p[width + 1];
            sum += (double)gx * gx + (double)gy * gy;
            mean += p[0];
        }
    }
    double n = (double)w * h;
    mean /= n;
    return mean > 0 ? sum / n / (mean * mean) : 0;
}
