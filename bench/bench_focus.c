/*
 * bench_focus: speed of the focus measures (lib/image/focus.c) and of the
 * path autofocus runs on every live-view frame (see docs/BENCHMARKS.md).
 *
 *   bench_focus [REPS]        (default 15)
 *
 * Frames: the simulator's studio scene rendered at the live-view size of
 * a real body (1056x704 JPEG, quality 80, noise on) at defocus 0, 10 and
 * 40 Near1 steps.  Each operation runs REPS times on each frame, one
 * thread; the figure is the median of those runs, so a stray interrupt
 * does not move it.  Reported:
 *
 *   - each measure's throughput in megapixels of input per second, on the
 *     whole grey frame (already decoded; for dct, the coefficient read
 *     from the JPEG is included, since that is the measure's decode);
 *   - the time per frame of what autofocus does, from JPEG bytes to a
 *     number: region decode + tenengrad (bin 2) of a centre region of
 *     1/4 x 1/4 and 1/2 x 1/2 of the frame, and the coefficient read + dct
 *     of the same regions;
 *   - for comparison, a full decode to grey, and the seed's baseline: a
 *     full decode, then the median residual of the whole frame.
 *
 * Prints a Markdown table.  Timing is reported, never judged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "image/focus.h"
#include "image/jpeg.h"
#include "ptpip/render.h"
#include "ptpip/scene.h"

enum { FRAMES = 3 };
static const double defocus[FRAMES] = {0, 10, 40};

typedef struct frame {
    bytebuf jpeg;
    img_image gray;           /* the whole frame, decoded */
} frame;

typedef enum op {
    OP_TEN2,
    OP_TEN8,
    OP_LAPV,
    OP_DCT_FULL,
    OP_MEDRES,
    OP_ROI_TEN2,              /* region decode + tenengrad bin 2 */
    OP_ROI_DCT,               /* coefficient read + dct */
    OP_ROI_DECODE,            /* region decode alone */
    OP_FULL_DECODE,           /* the whole frame to grey */
    OP_SEED,                  /* full decode + median residual of the frame */
} op;

static volatile double sink;

/* Runs op once on f (region reg where it applies); false if it failed. */
static int run(op o, const frame *f, img_region reg)
{
    img_image g;
    img_dct_blocks b;
    double v = -1;
    switch (o) {
    case OP_TEN2: v = img_focus_tenengrad(&f->gray, 2); break;
    case OP_TEN8: v = img_focus_tenengrad(&f->gray, 8); break;
    case OP_LAPV: v = img_focus_lapv(&f->gray); break;
    case OP_MEDRES: v = img_focus_median_residual(&f->gray); break;
    case OP_DCT_FULL:
    case OP_ROI_DCT:
        if (img_jpeg_read_luma_dct(f->jpeg.data, f->jpeg.len, o == OP_DCT_FULL ? (img_region){0, 0, 1, 1} : reg,
                                   &b) != 0)
            return 0;
        v = img_focus_dct(&b);
        img_dct_blocks_free(&b);
        break;
    case OP_ROI_TEN2:
    case OP_ROI_DECODE:
        if (img_jpeg_decode_gray_region(f->jpeg.data, f->jpeg.len, reg, 1, &g) != 0) return 0;
        v = o == OP_ROI_TEN2 ? img_focus_tenengrad(&g, 2) : g.pixels[0];
        img_image_free(&g);
        break;
    case OP_FULL_DECODE:
    case OP_SEED:
        if (img_jpeg_decode(f->jpeg.data, f->jpeg.len, 1, 1, &g) != 0) return 0;
        v = o == OP_SEED ? img_focus_median_residual(&g) : g.pixels[0];
        img_image_free(&g);
        break;
    }
    sink = v;
    return v >= 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median seconds of one run of op over reps x FRAMES runs; -1 on failure. */
static double median_time(op o, const frame *frames, img_region reg, int reps)
{
    int n = reps * FRAMES;
    double *t = malloc((size_t)n * sizeof *t);
    if (t == NULL) return -1;
    for (int i = 0; i < FRAMES; i++)
        if (!run(o, &frames[i], reg)) { /* also the warm-up */
            free(t);
            return -1;
        }
    for (int r = 0; r < reps; r++)
        for (int i = 0; i < FRAMES; i++) {
            double t0 = clock_mono_s();
            run(o, &frames[i], reg);
            t[r * FRAMES + i] = clock_mono_s() - t0;
        }
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    double m = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
    free(t);
    return m;
}

static img_region centred(double frac)
{
    return (img_region){0.5 - frac / 2, 0.5 - frac / 2, frac, frac};
}

int main(int argc, char **argv)
{
    int reps = argc >= 2 ? atoi(argv[1]) : 15;
    if (reps < 1) {
        fprintf(stderr, "usage: bench_focus [REPS]\n");
        return 2;
    }
    scene *sc = scene_new(SCENE_STUDIO, 1);
    render_config cfg;
    render_default_config(&cfg);
    renderer *r = sc ? render_new(sc, &cfg, 1) : NULL;
    if (r == NULL) return 1;
    frame frames[FRAMES];
    for (int i = 0; i < FRAMES; i++) {
        double d[2] = {defocus[i], defocus[i]};
        frames[i].jpeg = (bytebuf)BYTEBUF_INIT;
        if (render_liveview(r, d, 1.0, (uint64_t)i, &frames[i].jpeg) != 0 ||
            img_jpeg_decode(frames[i].jpeg.data, frames[i].jpeg.len, 1, 1, &frames[i].gray) != 0) {
            fprintf(stderr, "bench_focus: cannot render a frame\n");
            return 1;
        }
    }
    int w = frames[0].gray.width, h = frames[0].gray.height;
    double mp = (double)w * h / 1e6;
    size_t bytes = 0;
    for (int i = 0; i < FRAMES; i++) bytes += frames[i].jpeg.len;

    printf("%dx%d live-view frames (studio scene, defocus 0 / 10 / 40 steps, %zu kB JPEG on average), "
           "one thread, median of %d runs on each\n\n",
           w, h, bytes / FRAMES / 1000, reps);
    printf("| measure, on the whole decoded grey frame | ms per frame | Mpixel/s |\n|---|---|---|\n");
    static const struct {
        op o;
        const char *name;
    } measures[] = {
        {OP_TEN2, "tenengrad, bin 2"},
        {OP_TEN8, "tenengrad, bin 8"},
        {OP_LAPV, "lapv"},
        {OP_DCT_FULL, "dct, including the coefficient read from the JPEG"},
        {OP_MEDRES, "median residual (the seed's measure)"},
    };
    for (size_t i = 0; i < sizeof measures / sizeof measures[0]; i++) {
        double t = median_time(measures[i].o, frames, centred(1), reps);
        if (t < 0) return 1;
        printf("| %s | %.3f | %.1f |\n", measures[i].name, t * 1000, mp / t);
    }

    printf("\n| per live-view frame, from the JPEG bytes | ms per frame |\n|---|---|\n");
    static const double fracs[] = {0.25, 0.5};
    for (size_t i = 0; i < sizeof fracs / sizeof fracs[0]; i++) {
        img_region reg = centred(fracs[i]);
        int rw = (int)(w * fracs[i] + 0.5), rh = (int)(h * fracs[i] + 0.5);
        double dec = median_time(OP_ROI_DECODE, frames, reg, reps);
        double ten = median_time(OP_ROI_TEN2, frames, reg, reps);
        double dct = median_time(OP_ROI_DCT, frames, reg, reps);
        if (dec < 0 || ten < 0 || dct < 0) return 1;
        printf("| centre %g x %g (%dx%d): region decode + tenengrad bin 2 | %.3f (decode alone %.3f) |\n",
               fracs[i], fracs[i], rw, rh, ten * 1000, dec * 1000);
        printf("| centre %g x %g (%dx%d): coefficient read + dct | %.3f |\n", fracs[i], fracs[i], rw, rh,
               dct * 1000);
    }
    double full = median_time(OP_FULL_DECODE, frames, centred(1), reps);
    double seed = median_time(OP_SEED, frames, centred(1), reps);
    if (full < 0 || seed < 0) return 1;
    printf("| for reference: full decode of the frame to grey | %.3f |\n", full * 1000);
    printf("| seed baseline: full decode + median residual of the whole frame | %.3f |\n", seed * 1000);

    for (int i = 0; i < FRAMES; i++) {
        bytebuf_free(&frames[i].jpeg);
        img_image_free(&frames[i].gray);
    }
    render_free(r);
    scene_free(sc);
    return 0;
}
