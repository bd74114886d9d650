/*
 * measure: the public face of the focus measures (tether_focus_measure_jpeg)
 * and of focus areas (tether_roi_parse); the measures themselves are in
 * lib/image/focus.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "focus/algorithms.h"
#include "image/focus.h"
#include "image/jpeg.h"
#include "tether/tether.h"

int tether_roi_parse(const char *text, tether_roi *out)
{
    double v[4];
    const char *p = text;
    if (text == NULL) return TETHER_ERR_BAD_VALUE;
    for (int i = 0; i < 4; i++) {
        char *end;
        v[i] = strtod(p, &end);
        if (end == p || !(v[i] >= 0) || v[i] > 100) return TETHER_ERR_BAD_VALUE;
        p = end;
        if (i < 3) {
            if (*p != ',') return TETHER_ERR_BAD_VALUE;
            p++;
        }
    }
    if (*p != '\0') return TETHER_ERR_BAD_VALUE;
    bool percent = v[0] > 1 || v[1] > 1 || v[2] > 1 || v[3] > 1;
    for (int i = 0; i < 4 && percent; i++) v[i] /= 100;
    if (v[2] <= 0 || v[3] <= 0 || v[0] + v[2] > 1 + 1e-9 || v[1] + v[3] > 1 + 1e-9)
        return TETHER_ERR_BAD_VALUE;
    *out = (tether_roi){v[0], v[1], v[2], v[3]};
    return 0;
}

int tether_focus_measure_jpeg(const uint8_t *jpeg, size_t len, const tether_roi *roi_in,
                              tether_focus_measures *out)
{
    *out = (tether_focus_measures){0};
    tether_roi roi = focus_roi_or_default(roi_in);
    img_region reg = {roi.x, roi.y, roi.w, roi.h};
    int w, h;
    if (jpeg == NULL || img_jpeg_size(jpeg, len, &w, &h) != 0) return TETHER_ERR_BAD_VALUE;
    img_image g = {0}, crop = {0};
    img_dct_blocks b = {0};
    int rc = TETHER_ERR_BAD_VALUE;
    if (img_jpeg_decode_gray_region(jpeg, len, reg, 1, &g) != 0) goto done;
    out->roi_width = g.width;
    out->roi_height = g.height;
    out->tenengrad = img_focus_tenengrad(&g, 2);
    out->tenengrad_coarse = img_focus_tenengrad(&g, g.width >= 48 && g.height >= 48 ? 8 : 4);
    out->lapv = img_focus_lapv(&g);
    out->mean = img_focus_mean(&g);
    if (out->tenengrad < 0 || out->tenengrad_coarse < 0 || out->lapv < 0) goto done;
    out->dct = img_jpeg_read_luma_dct(jpeg, len, reg, &b) == 0 ? img_focus_dct(&b) : -1;
    double cx = roi.x + roi.w / 2, cy = roi.y + roi.h / 2;
    img_region c = {cx - 50.0 / w, cy - 50.0 / h, 100.0 / w, 100.0 / h};
    out->median_residual = img_jpeg_decode_gray_region(jpeg, len, c, 1, &crop) == 0
                               ? img_focus_median_residual(&crop) : -1;
    rc = 0;
done:
    img_image_free(&g);
    img_image_free(&crop);
    img_dct_blocks_free(&b);
    return rc;
}
