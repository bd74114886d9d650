/*
 * tether-testtool: helpers the shell integration tests need and that no
 * Debian tool provides exactly:
 *
 *   jpeg FILE                      decode fully; print WIDTHxHEIGHT (exit 1 if not a JPEG)
 *   sharpness FILE                 focus measure of the centre third of the image
 *   mjpeg FILE                     count the JPEG frames in a stream; all must decode
 *   crop-match FULL ZOOM X Y K PW  does live-view frame ZOOM show the area of frame
 *                                  FULL that a K-times magnification at corner
 *                                  (X, Y) of a PW-pixel-wide photo covers?  Prints
 *                                  the correlation with that crop upscaled, then
 *                                  with the crop shifted by a fifth of its width
 *   seeds DIR                      write a seed corpus for the PTP/IP fuzzer
 *   probe HOST:PORT CASE           a raw PTP/IP client sending well-formed and
 *                                  malformed traffic; prints what the camera did
 *   machine                        what this program was compiled for and what it
 *                                  runs on: "built for ARCH, running on MACHINE
 *                                  (uname), char signed|unsigned, long N bits"
 *                                  (the arm64 cross-build's check that its tests
 *                                  really run arm64 code: scripts/cross-arm64)
 *
 * The probe cases (each prints one line, "CASE: RESULT"):
 *   codes        response codes for unknown/unsupported/bad-parameter operations
 *   bad-length   a packet with length 3          -> "closed"
 *   huge-length  a packet with length 2^31-1     -> "closed"
 *   truncated    half a packet, then silence     -> "closed after N s"
 *   garbage      64 random bytes as first packet -> "closed"
 *   bad-data     data phase with the wrong tid   -> "closed"
 *   hold SECONDS open a session and keep it for SECONDS
 *   second       while another host holds the camera -> "init-fail REASON"
 *   idle N[,S]   N connections that send nothing (every other one half a
 *                packet header), held S seconds (5)  -> "idle: N open" once
 *                all are connected
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "base/bytebuf.h"
#include "base/clock.h"
#include "base/endian.h"
#include "image/blur.h"
#include "image/jpeg.h"
#include "ptpip/ptp.h"
#include "ptpip/wire.h"
#include "ptpclient.h"
#include "sharpness.h"

static int cmd_jpeg(const char *path)
{
    bytebuf b = BYTEBUF_INIT;
    img_image img;
    if (bytebuf_read_file(&b, path) != 0 || img_jpeg_decode(b.data, b.len, 3, 1, &img) != 0) {
        fprintf(stderr, "%s: not a decodable JPEG\n", path);
        return 1;
    }
    printf("%dx%d\n", img.width, img.height);
    img_image_free(&img);
    bytebuf_free(&b);
    return 0;
}

static int cmd_sharpness(const char *path)
{
    bytebuf b = BYTEBUF_INIT;
    img_image img;
    if (bytebuf_read_file(&b, path) != 0 || img_jpeg_decode(b.data, b.len, 1, 1, &img) != 0) return 1;
    printf("%.6f\n", test_sharpness(img.pixels, img.width, img.width / 3, img.height / 3,
                                    img.width / 3, img.height / 3));
    img_image_free(&img);
    bytebuf_free(&b);
    return 0;
}

static int cmd_mjpeg(const char *path)
{
    bytebuf b = BYTEBUF_INIT;
    if (bytebuf_read_file(&b, path) != 0) return 1;
    int frames = 0;
    for (size_t i = 0; i + 1 < b.len; i++) {
        if (b.data[i] != 0xFF || b.data[i + 1] != 0xD8) continue;
        size_t j = i + 2;
        while (j + 1 < b.len && !(b.data[j] == 0xFF && b.data[j + 1] == 0xD9)) j++;
        if (j + 1 >= b.len) break;
        img_image img;
        if (img_jpeg_decode(b.data + i, j + 2 - i, 1, 8, &img) != 0) {
            fprintf(stderr, "frame %d does not decode\n", frames + 1);
            return 1;
        }
        img_image_free(&img);
        frames++;
        i = j + 1;
    }
    printf("%d\n", frames);
    bytebuf_free(&b);
    return 0;
}

/* Correlation of zoomed frame z (blurred to the full frame's resolution)
 * with the crop of f starting at (cx, cy) and `span` pixels of f wide,
 * upscaled bilinearly to z's size. */
static double crop_correlation(const img_image *f, const img_image *z, const uint8_t *zb, double cx,
                               double cy, double span)
{
    double step = span / z->width;
    double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
    size_t n = (size_t)z->width * (size_t)z->height;
    double *a = malloc(n * sizeof *a);
    if (a == NULL) return -2;
    for (int v = 0; v < z->height; v++)
        for (int u = 0; u < z->width; u++) {
            double x = cx + (u + 0.5) * step - 0.5, y = cy + (v + 0.5) * step - 0.5;
            int x0 = (int)floor(x), y0 = (int)floor(y);
            double tx = x - x0, ty = y - y0;
            if (x0 < 0) x0 = 0, tx = 0;
            if (y0 < 0) y0 = 0, ty = 0;
            if (x0 >= f->width - 1) x0 = f->width - 2, tx = 1;
            if (y0 >= f->height - 1) y0 = f->height - 2, ty = 1;
            const uint8_t *p = f->pixels + (size_t)y0 * (size_t)f->width + (size_t)x0;
            double top = p[0] + (p[1] - p[0]) * tx, bot = p[f->width] + (p[f->width + 1] - p[f->width]) * tx;
            a[(size_t)v * (size_t)z->width + (size_t)u] = top + (bot - top) * ty;
        }
    for (size_t i = 0; i < n; i++) ma += a[i], mb += zb[i];
    ma /= (double)n, mb /= (double)n;
    for (size_t i = 0; i < n; i++) {
        sab += (a[i] - ma) * (zb[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (zb[i] - mb) * (zb[i] - mb);
    }
    free(a);
    return sab / sqrt(saa * sbb + 1e-12);
}

static int cmd_crop_match(char **argv)
{
    bytebuf bf = BYTEBUF_INIT, bz = BYTEBUF_INIT;
    img_image f = {0}, z = {0};
    uint8_t *zb = NULL;
    int rc = 1;
    double x = atof(argv[4]), y = atof(argv[5]), k = atof(argv[6]), pw = atof(argv[7]);
    if (k < 1 || pw < 1 || bytebuf_read_file(&bf, argv[2]) != 0 || bytebuf_read_file(&bz, argv[3]) != 0 ||
        img_jpeg_decode(bf.data, bf.len, 1, 1, &f) != 0 || img_jpeg_decode(bz.data, bz.len, 1, 1, &z) != 0)
        goto out;
    /* the frame's base blur (~0.55 px) is k times finer in the zoomed frame:
     * detail only magnification resolves is not expected in the crop */
    zb = malloc((size_t)z.width * (size_t)z.height);
    if (zb == NULL || img_blur_gauss(zb, z.pixels, z.width, z.height, z.width, 0.55 * k) != 0) goto out;
    double scale = f.width / pw, span = pw / k * scale;
    printf("%.3f %.3f\n", crop_correlation(&f, &z, zb, x * scale, y * scale, span),
           crop_correlation(&f, &z, zb, x * scale + span / 5, y * scale, span));
    rc = 0;
out: /* the same way out on failure: a file that is not a JPEG leaks nothing */
    free(zb);
    img_image_free(&f);
    img_image_free(&z);
    bytebuf_free(&bf);
    bytebuf_free(&bz);
    return rc;
}

static int ptpc_transact_simple(ptpc *c, uint16_t op, const uint32_t *params, int n)
{
    return ptpc_transact(c, op, params, n, NULL, NULL);
}

/* ---- raw PTP/IP probes ------------------------------------------------------ */

/* Waits until the camera closes the connection.  Returns seconds, or -1. */
static double wait_closed(int fd, double timeout)
{
    double t0 = clock_mono_s();
    bytebuf b = BYTEBUF_INIT;
    ptpip_packet p;
    double result = -1;
    while (clock_mono_s() - t0 < timeout) {
        long r = ptpc_recv_packet(fd, &b, &p, timeout - (clock_mono_s() - t0));
        if (r == 0 || (r < 0 && errno == ECONNRESET)) {
            result = clock_mono_s() - t0;
            break;
        }
    }
    bytebuf_free(&b);
    return result;
}

static int probe(const char *hostport, const char *which, const char *arg)
{
    char host[64];
    const char *colon = strrchr(hostport, ':');
    if (colon == NULL || colon - hostport >= 64) return 2;
    memcpy(host, hostport, (size_t)(colon - hostport));
    host[colon - hostport] = '\0';
    int port = atoi(colon + 1);
    ptpc c;

    if (strcmp(which, "codes") == 0) {
        if (ptpc_connect(&c, host, port, false) != 0) return 1;
        uint32_t p[3] = {0};
        printf("no-session: 0x%04x\n", ptpc_transact_simple(&c, PTP_OP_GetStorageIDs, p, 0));
        p[0] = 1;
        printf("open: 0x%04x\n", ptpc_transact_simple(&c, PTP_OP_OpenSession, p, 1));
        printf("open-again: 0x%04x\n", ptpc_transact_simple(&c, PTP_OP_OpenSession, p, 1));
        printf("unknown-op: 0x%04x\n", ptpc_transact_simple(&c, 0x9999, p, 0));
        p[0] = 0xDEADBEEF;
        printf("bad-handle: 0x%04x\n", ptpc_transact_simple(&c, PTP_OP_GetObjectInfo, p, 1));
        p[0] = 0x00020001;
        printf("bad-storage: 0x%04x\n", ptpc_transact_simple(&c, PTP_OP_GetStorageInfo, p, 1));
        p[0] = 0x5999;
        printf("bad-prop: 0x%04x\n", ptpc_transact_simple(&c, PTP_OP_GetDevicePropDesc, p, 1));
        p[0] = 0xFFFFFFFF, p[1] = 0, p[2] = 0xDEAD;
        printf("bad-parent: 0x%04x\n", ptpc_transact_simple(&c, PTP_OP_GetObjectHandles, p, 3));
        printf("still-alive: 0x%04x\n", ptpc_transact_simple(&c, PTP_OP_GetDeviceInfo, p, 0));
        ptpc_close(&c);
        return 0;
    }
    if (strcmp(which, "hold") == 0) {
        if (ptpc_connect(&c, host, port, true) != 0) return 1;
        printf("hold: holding\n");
        fflush(stdout);
        clock_sleep_ns((int64_t)(atof(arg ? arg : "3") * 1e9));
        ptpc_close(&c);
        return 0;
    }
    if (strcmp(which, "second") == 0) {
        int r = ptpc_connect(&c, host, port, false);
        if (r > 0) printf("second: init-fail %d\n", r);
        else printf("second: %s\n", r == 0 ? "accepted" : "error");
        ptpc_close(&c);
        return 0;
    }
    if (strcmp(which, "idle") == 0) {
        int n = arg ? atoi(arg) : 8;
        const char *comma = arg ? strchr(arg, ',') : NULL;
        double hold = comma ? atof(comma + 1) : 5;
        if (n < 1 || n > 200) return 2;
        int fds[200], open_n = 0;
        for (int i = 0; i < n; i++) {
            fds[i] = ptpc_dial(host, port);
            if (fds[i] < 0) continue;
            open_n++;
            static const uint8_t half[4] = {40, 0, 0, 0};
            if (i % 2) ptpc_send_all(fds[i], half, sizeof half);
        }
        printf("idle: %d open\n", open_n);
        fflush(stdout);
        clock_sleep_ns((int64_t)(hold * 1e9));
        for (int i = 0; i < n; i++)
            if (fds[i] >= 0) close(fds[i]);
        return 0;
    }
    int fd;
    if (strcmp(which, "garbage") == 0) {
        fd = ptpc_dial(host, port);
        uint8_t junk[64];
        for (int i = 0; i < 64; i++) junk[i] = (uint8_t)(i * 73 + 5);
        ptpc_send_all(fd, junk, sizeof junk);
        double t = wait_closed(fd, 10);
        printf("garbage: %s\n", t >= 0 ? "closed" : "still open");
        close(fd);
        return 0;
    }
    if (ptpc_connect(&c, host, port, true) != 0) return 1;
    fd = c.cmd;
    if (strcmp(which, "bad-length") == 0 || strcmp(which, "huge-length") == 0) {
        uint8_t pkt[12] = {3, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0};
        if (which[0] == 'h') pkt[0] = 0xFF, pkt[1] = 0xFF, pkt[2] = 0xFF, pkt[3] = 0x7F;
        ptpc_send_all(fd, pkt, sizeof pkt);
        double t = wait_closed(fd, 10);
        printf("%s: %s\n", which, t >= 0 ? "closed" : "still open");
    } else if (strcmp(which, "truncated") == 0) {
        uint8_t pkt[20] = {100, 0, 0, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0x01, 0x10};
        ptpc_send_all(fd, pkt, sizeof pkt);
        double t = wait_closed(fd, 15);
        if (t >= 0) printf("truncated: closed after %.0f s\n", t);
        else printf("truncated: still open\n");
    } else if (strcmp(which, "bad-data") == 0) {
        bytebuf b = BYTEBUF_INIT;
        uint32_t prop = PTP_DPC_ExposureIndex;
        ptpip_put_request(&b, 2, PTP_OP_SetDevicePropValue, c.tid, &prop, 1);
        ptpip_put_start_data(&b, c.tid + 5, 2); /* wrong transaction id */
        ptpc_send_all(fd, b.data, b.len);
        bytebuf_free(&b);
        double t = wait_closed(fd, 10);
        printf("bad-data: %s\n", t >= 0 ? "closed" : "still open");
    } else {
        fprintf(stderr, "unknown probe case %s\n", which);
        return 2;
    }
    ptpc_close(&c);
    return 0;
}

/* ---- fuzzer seeds ----------------------------------------------------------- */

static void req(bytebuf *b, uint16_t op, uint32_t *tid, int n, uint32_t p0, uint32_t p1, uint32_t p2)
{
    uint32_t p[3] = {p0, p1, p2};
    ptpip_put_request(b, 1, op, (*tid)++, p, n);
}

static void req_data(bytebuf *b, uint16_t op, uint32_t *tid, int n, uint32_t p0, const void *d, size_t len)
{
    ptpip_put_request(b, 2, op, *tid, &p0, n);
    ptpip_put_start_data(b, *tid, len);
    ptpip_put_data_header(b, PTPIP_END_DATA, *tid, len);
    bytebuf_put(b, d, len);
    (*tid)++;
}

static int write_seed(const char *dir, const char *name, const bytebuf *b)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL) return -1;
    fwrite(b->data, 1, b->len, f);
    fclose(f);
    return 0;
}

static int cmd_seeds(const char *dir)
{
    for (int persona = 0; persona < 3; persona++) {
        bytebuf b = BYTEBUF_INIT;
        uint32_t tid = 0;
        bytebuf_put_u8(&b, (uint8_t)persona);
        req(&b, PTP_OP_OpenSession, &tid, 1, 1, 0, 0);
        req(&b, PTP_OP_GetDeviceInfo, &tid, 0, 0, 0, 0);
        req(&b, PTP_OP_GetStorageIDs, &tid, 0, 0, 0, 0);
        req(&b, PTP_OP_GetStorageInfo, &tid, 1, 0x00010001, 0, 0);
        req(&b, PTP_OP_GetObjectHandles, &tid, 3, 0xFFFFFFFF, 0, 0xFFFFFFFF);
        req(&b, PTP_OP_GetObjectHandles, &tid, 3, 0x00010001, 0, 2);
        for (uint32_t h = 1; h <= 6; h++) req(&b, PTP_OP_GetObjectInfo, &tid, 1, h, 0, 0);
        req(&b, PTP_OP_GetThumb, &tid, 1, 3, 0, 0);
        req(&b, PTP_OP_GetPartialObject, &tid, 3, 3, 100, 1000);
        req(&b, PTP_OP_GetDevicePropDesc, &tid, 1, 0x500F, 0, 0);
        req(&b, PTP_OP_GetDevicePropValue, &tid, 1, 0xD1A2, 0, 0);
        uint8_t iso[2] = {0x90, 0x01};
        req_data(&b, PTP_OP_SetDevicePropValue, &tid, 1, 0x500F, iso, 2);
        uint8_t date[] = {16, '2', 0, '0', 0, '3', 0, '0', 0, '0', 0, '1', 0, '0', 0, '2', 0, 'T', 0,
                          '0', 0, '3', 0, '0', 0, '4', 0, '0', 0, '5', 0, 0, 0};
        req_data(&b, PTP_OP_SetDevicePropValue, &tid, 1, 0x5011, date, sizeof date);
        req(&b, PTP_OP_DeleteObject, &tid, 2, 4, 0, 0);
        char name[32];
        snprintf(name, sizeof name, "standard-%d", persona);
        if (write_seed(dir, name, &b) != 0) return 1;

        bytebuf_reset(&b);
        tid = 0;
        bytebuf_put_u8(&b, (uint8_t)persona);
        req(&b, PTP_OP_OpenSession, &tid, 1, 1, 0, 0);
        if (persona == 0) {
            req(&b, PTP_OP_EOS_SetRemoteMode, &tid, 1, 1, 0, 0);
            req(&b, PTP_OP_EOS_SetEventMode, &tid, 1, 1, 0, 0);
            req(&b, PTP_OP_EOS_GetEvent, &tid, 0, 0, 0, 0);
            uint8_t set[12];
            le32_write(set, 12), le32_write(set + 4, 0xD103), le32_write(set + 8, 0x60);
            req_data(&b, PTP_OP_EOS_SetDevicePropValueEx, &tid, 0, 0, set, 12);
            le32_write(set + 4, 0xD1B0), le32_write(set + 8, 2);
            req_data(&b, PTP_OP_EOS_SetDevicePropValueEx, &tid, 0, 0, set, 12);
            uint8_t fmt[44];
            le32_write(fmt, 44), le32_write(fmt + 4, 0xD120), le32_write(fmt + 8, 2);
            uint32_t e[8] = {0x10, 6, 0, 4, 0x10, 1, 0, 3};
            for (int i = 0; i < 8; i++) le32_write(fmt + 12 + 4 * i, e[i]);
            req_data(&b, PTP_OP_EOS_SetDevicePropValueEx, &tid, 0, 0, fmt, sizeof fmt);
            uint8_t str[8 + 6];
            le32_write(str, sizeof str), le32_write(str + 4, 0xD1D0);
            memcpy(str + 8, "Ada L", 6);
            req_data(&b, PTP_OP_EOS_SetDevicePropValueEx, &tid, 0, 0, str, sizeof str);
            req(&b, PTP_OP_EOS_GetViewFinderData, &tid, 3, 0x00200000, 0, 0);
            req(&b, PTP_OP_EOS_Zoom, &tid, 1, 5, 0, 0);
            req(&b, PTP_OP_EOS_ZoomPosition, &tid, 2, 4000, 3000, 0);
            req(&b, PTP_OP_EOS_GetViewFinderData, &tid, 3, 0x00200000, 0, 0);
            req(&b, PTP_OP_EOS_DriveLens, &tid, 1, 0x8002, 0, 0);
            req(&b, PTP_OP_EOS_DoAf, &tid, 0, 0, 0, 0);
            req(&b, PTP_OP_EOS_AfCancel, &tid, 0, 0, 0, 0);
            req(&b, PTP_OP_EOS_GetStorageIDs, &tid, 0, 0, 0, 0);
            req(&b, PTP_OP_EOS_TransferComplete, &tid, 1, 77, 0, 0);
        } else if (persona == 1) {
            req(&b, PTP_OP_NIKON_StartLiveView, &tid, 0, 0, 0, 0);
            req(&b, PTP_OP_NIKON_DeviceReady, &tid, 0, 0, 0, 0);
            req(&b, PTP_OP_NIKON_GetLiveViewImg, &tid, 0, 0, 0, 0);
            req(&b, PTP_OP_NIKON_MfDrive, &tid, 2, 1, 200, 0);
            req(&b, PTP_OP_NIKON_AfDrive, &tid, 0, 0, 0, 0);
            req(&b, PTP_OP_NIKON_EndLiveView, &tid, 0, 0, 0, 0);
        } else {
            uint8_t one[4] = {1, 0, 0, 0};
            req_data(&b, PTP_OP_SetDevicePropValue, &tid, 1, 0x5021, one, 4);
            req(&b, PTP_OP_GetStreamInfo, &tid, 1, 1, 0, 0);
            req(&b, PTP_OP_GetStream, &tid, 0, 0, 0, 0);
        }
        req(&b, PTP_OP_CloseSession, &tid, 0, 0, 0, 0);
        snprintf(name, sizeof name, "vendor-%d", persona);
        if (write_seed(dir, name, &b) != 0) return 1;
        bytebuf_free(&b);
    }
    return 0;
}

/* machine: the target the compiler built this for (its own macros), the
 * machine the kernel (or qemu-user) says it runs on, and the C types that
 * differ between targets */
static int cmd_machine(void)
{
#if defined(__aarch64__)
    const char *built = "aarch64";
#elif defined(__x86_64__)
    const char *built = "x86_64";
#elif defined(__arm__)
    const char *built = "arm";
#else
    const char *built = "other";
#endif
    struct utsname u;
    if (uname(&u) != 0) return 1;
    printf("built for %s, running on %s, char %s, long %zu bits\n", built, u.machine,
           (char)-1 < 0 ? "signed" : "unsigned", sizeof(long) * 8);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "machine") == 0) return cmd_machine();
    if (argc >= 3 && strcmp(argv[1], "seeds") == 0) return cmd_seeds(argv[2]);
    if (argc >= 3 && strcmp(argv[1], "jpeg") == 0) return cmd_jpeg(argv[2]);
    if (argc >= 3 && strcmp(argv[1], "sharpness") == 0) return cmd_sharpness(argv[2]);
    if (argc >= 3 && strcmp(argv[1], "mjpeg") == 0) return cmd_mjpeg(argv[2]);
    if (argc >= 8 && strcmp(argv[1], "crop-match") == 0) return cmd_crop_match(argv);
    if (argc >= 4 && strcmp(argv[1], "probe") == 0) return probe(argv[2], argv[3], argc > 4 ? argv[4] : NULL);
    fprintf(stderr, "usage: tether-testtool jpeg|sharpness|mjpeg FILE | crop-match FULL ZOOM X Y K PW |\n"
                    "       probe HOST:PORT CASE | machine\n");
    return 2;
}
