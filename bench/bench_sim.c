/*
 * bench_sim: measurements of the simulated camera (see docs/BENCHMARKS.md).
 *
 *   bench_sim render [WxH] [FRAMES]        live-view renderer alone, one thread:
 *                                          frames per second and ms per frame, at 1x
 *                                          and magnified 5x and 10x (Canon's eoszoom):
 *                                          the first frame after a change of view, then
 *                                          the lens at rest, a focus sweep (1 step per
 *                                          frame) and a hand-turned ring (2 and 0.5)
 *   bench_sim lv HOST:PORT FRAMES          a direct PTP/IP client pulling Canon EOS
 *                                          live view (GetViewFinderData) as fast as
 *                                          it can: frames per second
 *   bench_sim capture HOST:PORT N          a direct client on the generic persona:
 *                                          InitiateCapture, wait for ObjectAdded,
 *                                          GetObject; seconds per capture+download
 *
 * Prints "name value unit" lines.  Timing is reported, never judged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/endian.h"
#include "image/jpeg.h"
#include "ptpclient.h"
#include "ptpip/ptp.h"
#include "ptpip/render.h"
#include "ptpip/scene.h"

static int split_hostport(const char *s, char *host, int *port)
{
    const char *colon = strrchr(s, ':');
    if (colon == NULL || colon - s >= 64) return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    *port = atoi(colon + 1);
    return 0;
}

/* Connects and opens a session; prints why not and returns -1 on failure. */
static int connect_camera(const char *hostport, ptpc *c)
{
    char host[64];
    int port;
    if (split_hostport(hostport, host, &port) == 0 && ptpc_connect(c, host, port, true) == 0) return 0;
    fprintf(stderr, "bench_sim: cannot connect to %s\n", hostport);
    return -1;
}

/* Frames per second of a sweep: frame i at defocus d0 + i * step
 * (wrapping every `period` frames), the second plane 60 steps behind. */
static double sweep_fps(renderer *r, int frames, double step, int period, size_t *bytes)
{
    bytebuf b = BYTEBUF_INIT;
    double t0 = clock_mono_s();
    *bytes = 0;
    for (int i = 0; i < frames; i++) {
        double x = (i % period) * step - period * step / 2;
        double d[2] = {x, x + 60.0};
        bytebuf_reset(&b);
        render_liveview(r, d, 1.0, (uint64_t)i, &b);
        *bytes += b.len;
    }
    double t = clock_mono_s() - t0;
    bytebuf_free(&b);
    return frames / t;
}

static int bench_render(int w, int h, int frames)
{
    scene *sc = scene_new(SCENE_TWO_PLANE, 1);
    render_config cfg;
    render_default_config(&cfg);
    cfg.lv_width = w;
    cfg.lv_height = h;
    renderer *r = render_new(sc, &cfg, 1);
    bytebuf b = BYTEBUF_INIT;
    /* a focus sweep, as autofocus produces: every frame at a new position */
    double t0 = clock_mono_s();
    size_t bytes = 0;
    for (int i = 0; i < frames; i++) {
        double d[2] = {(i % 200) - 100.0, (i % 200) - 40.0};
        bytebuf_reset(&b);
        render_liveview(r, d, 1.0, (uint64_t)i, &b);
        bytes += b.len;
    }
    double t = clock_mono_s() - t0;
    printf("render_fps %.1f frames/s\n", frames / t);
    printf("render_ms_per_frame %.2f ms\n", t / frames * 1000);
    printf("render_frame_bytes %zu bytes\n", bytes / (size_t)frames);

    /* magnified: the first frame after each change of view (a new window
     * on the scene: sharp planes rendered, then two blur levels per plane),
     * then steady live view in that view */
    static const int zooms[] = {5, 10};
    for (size_t z = 0; z < sizeof zooms / sizeof zooms[0]; z++) {
        int k = zooms[z];
        double worst = 0, sum = 0;
        int changes = 8;
        for (int i = 0; i < changes; i++) {
            render_view v = {k, cfg.photo_width * (0.05 + 0.1 * i) * (1 - 1.0 / k),
                             cfg.photo_height * (0.6 - 0.07 * i) * (1 - 1.0 / k)};
            render_set_view(r, &v);
            double d[2] = {3.0 * i, 3.0 * i + 60};
            bytebuf_reset(&b);
            double f0 = clock_mono_s();
            render_liveview(r, d, 1.0, (uint64_t)i, &b);
            double ft = clock_mono_s() - f0;
            sum += ft;
            if (ft > worst) worst = ft;
        }
        printf("render_zoom%d_first_frame_ms %.1f ms (mean of %d view changes)\n", k, sum / changes * 1000, changes);
        printf("render_zoom%d_first_frame_worst_ms %.1f ms\n", k, worst * 1000);
        /* steady live view with the lens at rest */
        printf("render_zoom%d_rest_fps %.1f frames/s\n", k, sweep_fps(r, frames, 0.0, 1, &bytes));
        /* the same AF-style sweep (1 step per frame) */
        printf("render_zoom%d_sweep_fps %.1f frames/s\n", k, sweep_fps(r, frames, 1.0, 200, &bytes));
        /* a hand-turned ring at 60 steps/s seen at 30 fps: 2 steps per frame,
         * and at 15 steps/s: 0.5 */
        printf("render_zoom%d_ring60_fps %.1f frames/s\n", k, sweep_fps(r, frames, 2.0, 100, &bytes));
        printf("render_zoom%d_ring15_fps %.1f frames/s\n", k, sweep_fps(r, frames, 0.5, 400, &bytes));
        printf("render_zoom%d_frame_bytes %zu bytes\n", k, bytes / (size_t)frames);
    }
    bytebuf_free(&b);
    render_free(r);
    scene_free(sc);
    return 0;
}

static int bench_lv(const char *hostport, int frames)
{
    ptpc c;
    if (connect_camera(hostport, &c) != 0) return 1;
    bytebuf out = BYTEBUF_INIT, in = BYTEBUF_INIT;
    uint32_t one = 1;
    ptpc_transact(&c, PTP_OP_EOS_SetRemoteMode, &one, 1, NULL, NULL);
    ptpc_transact(&c, PTP_OP_EOS_SetEventMode, &one, 1, NULL, &in);
    bytebuf_put_u32le(&out, 12);
    bytebuf_put_u32le(&out, 0xD1B0);
    bytebuf_put_u32le(&out, 2);
    if (ptpc_transact(&c, PTP_OP_EOS_SetDevicePropValueEx, NULL, 0, &out, NULL) != PTP_RC_OK) return 1;
    uint32_t p[3] = {0x00200000, 0, 0};
    ptpc_transact(&c, PTP_OP_EOS_GetViewFinderData, p, 3, NULL, &in); /* warm-up */
    double t0 = clock_mono_s();
    size_t bytes = 0;
    for (int i = 0; i < frames; i++) {
        if (ptpc_transact(&c, PTP_OP_EOS_GetViewFinderData, p, 3, NULL, &in) != PTP_RC_OK) return 1;
        bytes += in.len;
    }
    double t = clock_mono_s() - t0;
    printf("direct_lv_fps %.1f frames/s\n", frames / t);
    printf("direct_lv_mbps %.1f MB/s\n", bytes / t / 1e6);
    ptpc_close(&c);
    bytebuf_free(&out);
    bytebuf_free(&in);
    return 0;
}

static int bench_capture(const char *hostport, int n)
{
    ptpc c;
    if (connect_camera(hostport, &c) != 0) return 1;
    bytebuf in = BYTEBUF_INIT;
    double total = 0, worst = 0;
    size_t bytes = 0;
    for (int i = 0; i < n; i++) {
        uint32_t p[2] = {0, 0}, handle = 0;
        double t0 = clock_mono_s();
        if (ptpc_transact(&c, PTP_OP_InitiateCapture, p, 2, NULL, NULL) != PTP_RC_OK) return 1;
        int ev;
        while ((ev = ptpc_wait_event(&c, 10, &handle)) != PTP_EV_ObjectAdded)
            if (ev < 0) return 1;
        while (ptpc_wait_event(&c, 10, NULL) != PTP_EV_CaptureComplete) {
        }
        if (ptpc_transact(&c, PTP_OP_GetObject, &handle, 1, NULL, &in) != PTP_RC_OK) return 1;
        double t = clock_mono_s() - t0;
        int w = 0, h = 0;
        img_jpeg_size(in.data, in.len, &w, &h);
        ptpc_transact(&c, PTP_OP_DeleteObject, &handle, 1, NULL, NULL);
        total += t;
        if (t > worst) worst = t;
        bytes += in.len;
        if (i == 0) printf("capture_size %dx%d pixels\n", w, h);
    }
    printf("direct_capture_s %.3f s/shot\n", total / n);
    printf("direct_capture_worst_s %.3f s\n", worst);
    printf("direct_capture_bytes %zu bytes/shot\n", bytes / (size_t)n);
    ptpc_close(&c);
    bytebuf_free(&in);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "render") == 0) {
        int w = 1056, h = 704;
        if (argc >= 3 && sscanf(argv[2], "%dx%d", &w, &h) != 2) return 2;
        return bench_render(w, h, argc >= 4 ? atoi(argv[3]) : 600);
    }
    if (argc >= 4 && strcmp(argv[1], "lv") == 0) return bench_lv(argv[2], atoi(argv[3]));
    if (argc >= 4 && strcmp(argv[1], "capture") == 0) return bench_capture(argv[2], atoi(argv[3]));
    fprintf(stderr, "usage: bench_sim render [WxH] [FRAMES] | lv HOST:PORT FRAMES | capture HOST:PORT N\n");
    return 2;
}
