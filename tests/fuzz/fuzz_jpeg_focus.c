/*
 * fuzz_jpeg_focus: libFuzzer target for the focus path's JPEG readers and
 * the measures run on what they return: img_jpeg_decode_gray_region (the
 * region and the scale taken from the input), img_jpeg_read_luma_dct +
 * img_focus_dct, and tenengrad, lapv, the median residual, the mean,
 * img_focus_change and img_focus_bin on the decoded region.  A live-view
 * frame comes from the camera, so every byte of it is untrusted.
 *
 * Input: 5 bytes, then the JPEG.  Bytes 0..3 are the region's x, y, w, h
 * (x, y = (b - 32) / 192, w, h = b / 192: a little outside [0, 1] on
 * purpose); byte 4's low two bits pick the scale 1, 2, 4 or 8, and its bit
 * 2 replaces the region by one of a table of degenerate ones (NaN,
 * infinities, zero or negative sizes).  Images of more than 4 megapixels
 * are skipped (a camera's live view is ~0.75; the readers allocate for the
 * whole image).  Properties checked besides "no crash, no leak, no UB":
 * a region is 1..(image at that scale) pixels, a measure is -1 or a
 * finite value >= 0, and an image's change from itself is 0.
 *
 * Seeds: with FUZZ_JPEG_FOCUS_SEEDS=DIR in the environment the program
 * writes a seed corpus to DIR and exits (scripts/check does this): small
 * JPEGs made with libjpeg in every layout the readers must handle (grey,
 * 4:2:0, 4:2:2, 4:4:4, odd sizes, progressive, restart markers,
 * arithmetic coding, 16-bit quantisation tables, RGB and CMYK), plus a
 * rendered live-view frame of the simulator's studio scene.
 *
 * Build: CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined
 * Run:   build-fuzz/tests/fuzz/fuzz_jpeg_focus CORPUS_DIR
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "image/focus.h"
#include "image/jpeg.h"
#include "ptpip/render.h"
#include "ptpip/scene.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

enum { HEADER = 5, MAX_PIXELS = 4 << 20, MEDIAN_MAX_PIXELS = 160 * 160 };

static void check_measure(double v)
{
    if (!(v == -1 || (isfinite(v) && v >= 0))) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const img_region odd[] = {
        {NAN, 0, 1, 1}, {0, NAN, 1, 1}, {0, 0, NAN, 1}, {0, 0, 1, NAN},
        {INFINITY, 0, 1, 1}, {-INFINITY, 0, INFINITY, 1}, {0, 0, INFINITY, INFINITY},
        {0, 0, 0, 1}, {0, 0, 1, -1}, {1, 1, 1, 1}, {-1, -1, 1, 1}, {0.5, 0.5, 1e-12, 1e-12},
        {0, 0, 1, 1}, {1 - 1e-9, 0, 1, 1}, {-1e308, -1e308, 1.5e308, 1.5e308}, {0, 0, 1e-300, 1},
    };
    if (size < HEADER) return 0;
    img_region reg = {(data[0] - 32) / 192.0, (data[1] - 32) / 192.0, data[2] / 192.0, data[3] / 192.0};
    if (data[4] & 4) reg = odd[data[0] % (sizeof odd / sizeof odd[0])];
    int scale = 1 << (data[4] & 3);
    const uint8_t *jpeg = data + HEADER;
    size_t len = size - HEADER;

    int w = 0, h = 0;
    if (img_jpeg_size(jpeg, len, &w, &h) == 0 && (double)w * (double)h > MAX_PIXELS) return 0;

    img_image g;
    if (img_jpeg_decode_gray_region(jpeg, len, reg, scale, &g) == 0) {
        int sw = (w + scale - 1) / scale, sh = (h + scale - 1) / scale;
        if (g.pixels == NULL || g.channels != 1 || g.width < 1 || g.height < 1 || g.width > sw ||
            g.height > sh)
            abort();
        check_measure(img_focus_tenengrad(&g, 1));
        check_measure(img_focus_tenengrad(&g, 2));
        check_measure(img_focus_tenengrad(&g, 8));
        check_measure(img_focus_lapv(&g));
        if ((size_t)g.width * (size_t)g.height <= MEDIAN_MAX_PIXELS) check_measure(img_focus_median_residual(&g));
        double mean = img_focus_mean(&g);
        if (!(mean >= 0 && mean <= 255)) abort();
        if (img_focus_change(&g, &g) != 0) abort();
        img_image binned;
        if (img_focus_bin(&g, 2, &binned) == 0) {
            if (binned.width != g.width / 2 || binned.height != g.height / 2) abort();
            check_measure(img_focus_change(&binned, &binned));
            img_image_free(&binned);
        }
        img_image_free(&g);
    } else if (g.pixels != NULL || g.width != 0) {
        abort();
    }

    img_dct_blocks b;
    if (img_jpeg_read_luma_dct(jpeg, len, reg, &b) == 0) {
        if (b.coef == NULL || b.blocks_w < 1 || b.blocks_h < 1 || b.blocks_w > (w + 7) / 8 + 1 ||
            b.blocks_h > (h + 7) / 8 + 1)
            abort();
        double v = img_focus_dct(&b);
        if (!(isfinite(v) && v >= 0)) abort();
        img_dct_blocks_free(&b);
    } else if (b.coef != NULL) {
        abort();
    }
    return 0;
}

/* ---- seeds ------------------------------------------------------------------------- */

typedef struct seed_jpeg {
    const char *name;
    int w, h;
    J_COLOR_SPACE space;      /* of the JPEG: JCS_GRAYSCALE, JCS_YCbCr, JCS_RGB, JCS_CMYK */
    int h_samp, v_samp;       /* luma sampling factors (chroma 1 x 1) */
    bool progressive, arith, big_quant;
    int restart;              /* MCUs per restart interval, 0 for none */
} seed_jpeg;

static void quiet(j_common_ptr c)
{
    (void)c; /* "quantization tables are too coarse for baseline": meant */
}

/* Encodes a test card in the given layout with libjpeg (which exits on an
 * error, fine for a seed writer). */
static unsigned char *encode_seed(const seed_jpeg *s, unsigned long *len)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr err;
    c.err = jpeg_std_error(&err);
    err.output_message = quiet;
    jpeg_create_compress(&c);
    unsigned char *out = NULL;
    *len = 0;
    jpeg_mem_dest(&c, &out, len);
    int comps = s->space == JCS_GRAYSCALE ? 1 : s->space == JCS_CMYK ? 4 : 3;
    c.image_width = (JDIMENSION)s->w;
    c.image_height = (JDIMENSION)s->h;
    c.input_components = comps;
    c.in_color_space = s->space == JCS_YCbCr ? JCS_RGB : s->space;
    jpeg_set_defaults(&c);
    jpeg_set_colorspace(&c, s->space);
    jpeg_set_quality(&c, s->big_quant ? 2 : 80, s->big_quant ? FALSE : TRUE);
    if (comps > 1) {
        c.comp_info[0].h_samp_factor = s->h_samp;
        c.comp_info[0].v_samp_factor = s->v_samp;
        for (int i = 1; i < comps; i++) c.comp_info[i].h_samp_factor = c.comp_info[i].v_samp_factor = 1;
    }
    if (s->progressive) jpeg_simple_progression(&c);
    c.arith_code = s->arith ? TRUE : FALSE;
    c.restart_interval = (unsigned)s->restart;
    jpeg_start_compress(&c, TRUE);
    unsigned char *row = malloc((size_t)s->w * (size_t)comps);
    while (c.next_scanline < c.image_height) {
        int y = (int)c.next_scanline;
        for (int x = 0; x < s->w; x++)
            for (int k = 0; k < comps; k++)
                row[x * comps + k] = (unsigned char)(((x / 3 + y / 2) & 1) * 120 + (x * 7 + y * 3 + k * 50) % 100);
        JSAMPROW r = row;
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    free(row);
    return out;
}

/* Writes header + jpeg as DIR/NAME-N for each of a few regions and scales. */
static void write_seeds(const char *dir, const char *name, const unsigned char *jpeg, size_t len)
{
    static const uint8_t headers[][HEADER] = {
        {104, 104, 48, 48, 0},  /* the centre quarter, full scale */
        {32, 32, 192, 192, 1},  /* the whole image at 1/2 */
        {200, 0, 60, 255, 3},   /* the right edge and past it, 1/8 */
        {0, 1, 2, 3, 4},        /* a degenerate region */
    };
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s-%zu", dir, name, i);
        FILE *f = fopen(path, "wb");
        if (f == NULL) {
            perror(path);
            exit(1);
        }
        fwrite(headers[i], 1, HEADER, f);
        fwrite(jpeg, 1, len, f);
        fclose(f);
    }
}

static void make_seeds(const char *dir)
{
    static const seed_jpeg seeds[] = {
        {"grey", 64, 48, JCS_GRAYSCALE, 1, 1, false, false, false, 0},
        {"grey-odd", 13, 9, JCS_GRAYSCALE, 1, 1, false, false, false, 0},
        {"420-odd", 67, 45, JCS_YCbCr, 2, 2, false, false, false, 0},
        {"422", 48, 40, JCS_YCbCr, 2, 1, false, false, false, 0},
        {"444", 40, 24, JCS_YCbCr, 1, 1, false, false, false, 0},
        {"progressive", 64, 48, JCS_YCbCr, 2, 2, true, false, false, 0},
        {"restart", 80, 64, JCS_YCbCr, 2, 2, false, false, false, 1},
        {"arith", 64, 48, JCS_YCbCr, 2, 2, false, true, false, 0},
        {"quant16", 48, 32, JCS_YCbCr, 2, 2, false, false, true, 0},
        {"rgb", 32, 32, JCS_RGB, 1, 1, false, false, false, 0},
        {"cmyk", 32, 24, JCS_CMYK, 1, 1, false, false, false, 0},
        {"progressive-restart", 72, 40, JCS_YCbCr, 2, 2, true, false, false, 2},
    };
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        unsigned long len;
        unsigned char *j = encode_seed(&seeds[i], &len);
        write_seeds(dir, seeds[i].name, j, len);
        free(j);
    }
    /* a live-view frame as the simulated camera sends it (small) */
    scene *sc = scene_new(SCENE_STUDIO, 1);
    render_config cfg;
    render_default_config(&cfg);
    cfg.lv_width = 176;
    cfg.lv_height = 112;
    renderer *r = render_new(sc, &cfg, 1);
    bytebuf b = BYTEBUF_INIT;
    double d[2] = {0, 0};
    if (r == NULL || render_liveview(r, d, 1.0, 1, &b) != 0) exit(1);
    write_seeds(dir, "liveview", b.data, b.len);
    bytebuf_free(&b);
    render_free(r);
    scene_free(sc);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    const char *dir = getenv("FUZZ_JPEG_FOCUS_SEEDS");
    if (dir != NULL && dir[0] != '\0') {
        make_seeds(dir);
        exit(0);
    }
    return 0;
}
