/*
 * gphoto2: the backend for cameras libgphoto2 drives: ~2,500 USB cameras
 * and PTP/IP (Wi-Fi) cameras.  See backend.h for the contract.
 *
 * Opening: libgphoto2's autodetection cannot find a PTP/IP camera, so for
 * "ptpip:" specs we set the abilities ("PTP/IP Camera") and the port info
 * ourselves; for USB we look the camera up in the autodetected list.  The
 * abilities and port lists are loaded once per process.
 *
 * Quirks handled here, with their sources:
 *  - gp_widget_set_value() marks a radio widget changed only if the
 *    string differs, so repeating "Near 1" sends nothing (libgphoto2
 *    gphoto2-widget.c; python-gphoto2 #135, libgphoto2 #767): every set
 *    marks the widget changed explicitly.
 *  - manualfocusdrive is a radio (Canon: "Near 1".."Far 3") or a range
 *    (Nikon: +-32767, negative = towards the closest distance); both need
 *    live view, which libgphoto2 does not start by itself for it.  A Nikon
 *    lens at the end of its travel answers MfDrive with MfDriveStepEnd
 *    (0xA00C), which libgphoto2 turns into a bare GP_ERROR ("Unspecified
 *    error") and says only in its log (_put_Nikon_MFDrive in
 *    camlibs/ptp2/config.c): a log handler reads that message into the
 *    calling thread's mfdrive_result, so the end stop becomes
 *    TETHER_ERR_END_STOP, which the focus tools take as the stop itself.
 *  - a capture can add several files (RAW + JPEG): after the first, the
 *    event queue is drained until it has been quiet for a moment.
 *  - the generic PTP 1.1 stream preview is returned as "unknown/unknown":
 *    we check for the JPEG signature instead of trusting the MIME type.
 *  - PTP/IP links that stop answering (see "PTP/IP sockets" below):
 *    libgphoto2 2.5.30 leaves a failed gp_camera_init's two sockets open,
 *    waits 2.5 s per operation when exiting on a dead link, and closes fd 0
 *    on every exit.
 *  - downloads into a descriptor go through our own write handler, so that
 *    a local write failure (disk full, read-only folder) is told apart from
 *    the camera's and does not cut a PTP transfer off mid-way.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gphoto2/gphoto2.h>

#include "backends/backend.h"
#include "base/clock.h"
#include "camera/values.h"
#include "base/log.h"
#include "store/atomic.h"

enum { PENDING_MAX = 32, MAX_SOCKS = 4 };

/* next_gp_event's "nothing to report" (apart from a link timeout) */
#define NO_EVENT 1

struct backend {
    Camera *cam;
    GPContext *ctx;
    CameraFile *preview;
    char err[512];
    char model[128];
    bool is_ptpip;
    struct sockaddr_in peer;    /* PTP/IP: the camera's address */
    int socks[MAX_SOCKS];       /* PTP/IP: the sockets libgphoto2 opened to it */
    int nsocks;
    bool suspect;               /* the link timed out or broke: do not wait for it at exit */
    bool lv_on;
    bool no_viewfinder; /* the camera has no "viewfinder" toggle */
    tether_event pending[PENDING_MAX];
    int npending;
    /* last value reported per property ("iso" -> "400"), to tell real
     * changes from the full property dump an EOS body sends on connect */
    struct seen_value {
        char name[64];
        char value[128];
    } *seen;
    int nseen, capseen;
    /* short name -> full path, learned from the tree at open */
    struct name_path {
        char name[64];
        char path[256];
        bool read_only;
    } *paths;
    int npaths;
    tether_focus_caps focus;    /* learned at open */
    /* the files the last capture announced (camera paths) */
    char announced[TETHER_MAX_SHOT_FILES][sizeof ((backend_item *)0)->where];
    int nannounced;
};

/* ---- process-wide lists --------------------------------------------------- */

static pthread_once_t lists_once = PTHREAD_ONCE_INIT;
static CameraAbilitiesList *g_abilities;
static GPPortInfoList *g_ports;
static pthread_mutex_t g_ports_lock = PTHREAD_MUTEX_INITIALIZER;

static void load_lists(void)
{
    GPContext *ctx = gp_context_new();
    if (gp_abilities_list_new(&g_abilities) == GP_OK) gp_abilities_list_load(g_abilities, ctx);
    if (gp_port_info_list_new(&g_ports) == GP_OK) gp_port_info_list_load(g_ports);
    gp_context_unref(ctx);
}

/* ---- errors --------------------------------------------------------------- */

/* What libgphoto2's error log said on this thread: the PTP response code
 * of the last failed Nikon MfDrive (0: none since it was reset), and how
 * many Device Busy answers it reported (ptp2 logs one for each, also for
 * those it then hides, see fetch_widget and learn_paths).  Each camera's
 * calls run on its own owner thread, so a thread-local value is that
 * camera's. */
static _Thread_local unsigned mfdrive_result;
static _Thread_local unsigned busy_logged;
static pthread_once_t gp_log_once = PTHREAD_ONCE_INIT;

static void on_gp_log(GPLogLevel level, const char *domain, const char *str, void *data)
{
    (void)level, (void)data;
    /* 2.5.30 (GP_LOG_E): "'ptp_nikon_mfdrive (...)' failed: Mf Drive Step
     * End (0xa00c)" in domain "_put_Nikon_MFDrive [config.c:N]".  The code
     * is the last 0x. */
    if (str == NULL || domain == NULL) return;
    if (strstr(str, "Device Busy")) busy_logged++;
    if (strcasestr(domain, "mfdrive") == NULL && strcasestr(str, "nikon_mfdrive") == NULL) return;
    const char *hex = NULL;
    for (const char *p = strstr(str, "0x"); p; p = strstr(p + 2, "0x")) hex = p;
    if (hex) mfdrive_result = (unsigned)strtoul(hex + 2, NULL, 16);
}

static void add_gp_log(void)
{
    /* errors only: a handler at debug level would have libgphoto2 format
     * every debug line of every camera's live view for nothing */
    if (gp_log_add_func(GP_LOG_ERROR, on_gp_log, NULL) < GP_OK)
        LOG_WARN("gphoto2", "%s", "cannot watch libgphoto2's log: a Nikon lens at its end stop will read as an error, "
                 "and settings a busy camera did not list at open stay unknown");
}

static void on_ctx_error(GPContext *ctx, const char *text, void *data)
{
    (void)ctx;
    backend *b = data;
    snprintf(b->err, sizeof b->err, "%s", text);
    /* libgphoto2 messages often end with a newline */
    size_t n = strlen(b->err);
    while (n && (b->err[n - 1] == '\n' || b->err[n - 1] == ' ')) b->err[--n] = '\0';
}

static int map_error(int gp)
{
    switch (gp) {
    case GP_OK: return TETHER_OK;
    case GP_ERROR_NOT_SUPPORTED: return TETHER_ERR_NOT_SUPPORTED;
    case GP_ERROR_CAMERA_BUSY: return TETHER_ERR_BUSY;
    case GP_ERROR_TIMEOUT: return TETHER_ERR_TIMEOUT;
    case GP_ERROR_NO_MEMORY: return TETHER_ERR_NO_MEMORY;
    case GP_ERROR_BAD_PARAMETERS: return TETHER_ERR_INVALID_ARGUMENT;
    case GP_ERROR_FILE_NOT_FOUND:
    case GP_ERROR_DIRECTORY_NOT_FOUND:
    case GP_ERROR_MODEL_NOT_FOUND: return TETHER_ERR_NOT_FOUND;
    case GP_ERROR_NO_SPACE: return TETHER_ERR_CARD_FULL;
    case GP_ERROR_CANCEL: return TETHER_ERR_CANCELLED;
    case GP_ERROR_UNKNOWN_PORT: return TETHER_ERR_NO_CAMERA;
    case GP_ERROR_FILE_EXISTS: return TETHER_ERR_EXISTS;
    default:
        if (gp <= GP_ERROR_IO && gp >= GP_ERROR_IO_LOCK) return TETHER_ERR_IO;
        return TETHER_ERR_CAMERA;
    }
}

/* Records a failed libgphoto2 call and returns its tether_err. */
static int g2_fail(backend *b, int gp, const char *what)
{
    char detail[512];
    snprintf(detail, sizeof detail, "%s", b->err[0] ? b->err : gp_result_as_string(gp));
    snprintf(b->err, sizeof b->err, "%s: %s (%d)", what, detail, gp);
    LOG_DEBUG("gphoto2", "%s", b->err);
    int rc = map_error(gp);
    if (rc == TETHER_ERR_TIMEOUT || rc == TETHER_ERR_IO) b->suspect = true;
    return rc;
}

__attribute__((format(printf, 3, 4)))
static int fail_msg(backend *b, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->err, sizeof b->err, fmt, ap);
    va_end(ap);
    return err;
}

/* The wait before asking a busy camera again, after the attempt-th
 * answer: 20, 40, 80, then 160 ms. */
static void busy_backoff(int attempt)
{
    clock_sleep_ns(20000000LL << (attempt < 3 ? attempt : 3));
}

/* Runs a libgphoto2 call again while the camera answers Device Busy (in
 * PTP, 0x2019 means "not done, ask again"): up to 10 tries, 20 ms apart
 * doubling to 160 ms (1.2 s in all).  Only for calls that are safe to
 * repeat. */
#define GP_RETRY(rcvar, call)                                            \
    do {                                                                 \
        for (int try_ = 0;; try_++) {                                    \
            (rcvar) = (call);                                            \
            if ((rcvar) != GP_ERROR_CAMERA_BUSY || try_ == 9) break;     \
            busy_backoff(try_);                                          \
        }                                                                \
    } while (0)

/* A repeatable call; on failure, records it and returns its tether_err. */
#define GP_CALL(b, call, what)                                   \
    do {                                                         \
        (b)->err[0] = '\0';                                      \
        int gp_rc_ = GP_ERROR;                                   \
        GP_RETRY(gp_rc_, (call));                                \
        if (gp_rc_ < GP_OK) return g2_fail((b), gp_rc_, (what)); \
    } while (0)

/* The same for a call that must not be repeated. */
#define GP_CALL_ONCE(b, call, what)                              \
    do {                                                         \
        (b)->err[0] = '\0';                                      \
        int gp_rc_ = (call);                                     \
        if (gp_rc_ < GP_OK) return g2_fail((b), gp_rc_, (what)); \
    } while (0)

static void learn_paths(backend *b);
static const struct name_path *known(backend *b, const char *name);

/* ptp2 leaves a setting it met a Device Busy answer for out of the tree,
 * without an error (the answer shows only in its log, busy_logged): a
 * tree is read again while that happens, this many times at most. */
enum { TREE_READS = 3 };
static void learn_focus(backend *b);

/* ---- opening --------------------------------------------------------------- */

static bool g2_accepts(const char *spec)
{
    return strcmp(spec, "auto") == 0 || strncmp(spec, "usb:", 4) == 0 || strncmp(spec, "ptpip:", 6) == 0;
}

/* "ptpip:HOST[:PORT]" -> libgphoto2's "ptpip:HOST:PORT:PORT" (its event
 * port defaults to 15740 even when a command port is given). */
static int ptpip_port_path(const char *spec, char *out, size_t size)
{
    const char *hp = spec + 6;
    const char *colon = strchr(hp, ':');
    if (*hp == '\0') return -1;
    if (colon == NULL) {
        snprintf(out, size, "ptpip:%s", hp);
        return 0;
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port <= 0 || port > 65535 || colon == hp) return -1;
    snprintf(out, size, "ptpip:%.*s:%ld:%ld", (int)(colon - hp), hp, port, port);
    return 0;
}

/* The camera's address from "ptpip:HOST:PORT:PORT"; false if HOST is not
 * an IPv4 address (libgphoto2 judges then). */
static bool ptpip_peer(const char *port_path, struct sockaddr_in *a)
{
    char host[128];
    int port = 15740;
    const char *hp = port_path + 6, *colon = strchr(hp, ':');
    snprintf(host, sizeof host, "%.*s", colon ? (int)(colon - hp) : (int)strlen(hp), hp);
    if (colon) port = atoi(colon + 1);
    *a = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    return inet_pton(AF_INET, host, &a->sin_addr) == 1;
}

/* Is anything listening at the PTP/IP address?  libgphoto2 2.5.30 leaks
 * its driver state (and two iconv descriptors, ~65 kB) on every failed
 * gp_camera_init, so a camera that is away must not be "opened" every two
 * seconds while we wait for it: knock first. */
static bool ptpip_answers(const struct sockaddr_in *a)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return true;
    bool ok = false;
    if (connect(fd, (const struct sockaddr *)a, sizeof *a) == 0) {
        ok = true;
    } else if (errno == EINPROGRESS) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int err = 0;
        socklen_t l = sizeof err;
        ok = poll(&p, 1, 2500) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) == 0 && err == 0;
    }
    close(fd);
    return ok;
}

/* ---- PTP/IP sockets --------------------------------------------------------
 *
 * libgphoto2 2.5.30 does not let go of a PTP/IP link cleanly:
 *  - when gp_camera_init fails after connecting (the camera froze during
 *    OpenSession, or a late answer to an earlier try came in its place),
 *    the driver's camera_exit is never called and its command and event
 *    sockets stay open: the camera still sees its old host and refuses
 *    every new one (one host at a time), for as long as the process lives;
 *  - camera_exit on a link that stopped answering waits 2.5 s for each of
 *    its operations (CloseSession...);
 *  - its ptp_ptpip_disconnect also closes params->jpgfd, which only the
 *    Fuji driver sets: for every other camera it is 0 (from calloc), so
 *    each exit closes fd 0, and the next socket opened lands there, to be
 *    closed by the exit after.
 * So we find the sockets libgphoto2 made for a camera (connected to its
 * address, and new since before gp_camera_init), shut their reading side
 * before exiting when the link is suspect (the exit's operations fail at
 * once), close those a failed init left behind (the camera sees that
 * connection end), and keep fd 0 across each exit. */

typedef struct fd_list {
    int fd[64];
    int n;
} fd_list;

/* The descriptors of this process connected to peer. */
static void sockets_to(const struct sockaddr_in *peer, fd_list *out)
{
    out->n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL) return;
    struct dirent *e;
    while (out->n < 64 && (e = readdir(d)) != NULL) {
        char *end;
        long fd = strtol(e->d_name, &end, 10);
        if (e->d_name[0] < '0' || e->d_name[0] > '9' || *end || fd == dirfd(d)) continue;
        struct sockaddr_in a;
        socklen_t l = sizeof a;
        if (getpeername((int)fd, (struct sockaddr *)&a, &l) != 0 || l < sizeof a || a.sin_family != AF_INET)
            continue;
        if (a.sin_port == peer->sin_port && a.sin_addr.s_addr == peer->sin_addr.s_addr) out->fd[out->n++] = (int)fd;
    }
    closedir(d);
}

/* The descriptors to peer that are not in before. */
static void new_sockets(const struct sockaddr_in *peer, const fd_list *before, fd_list *out)
{
    fd_list now;
    sockets_to(peer, &now);
    out->n = 0;
    for (int i = 0; i < now.n; i++) {
        bool old = false;
        for (int k = 0; k < before->n && !old; k++) old = before->fd[k] == now.fd[i];
        if (!old) out->fd[out->n++] = now.fd[i];
    }
}

/* gp_camera_exit, keeping fd 0 (see above): a copy of fd 0 is put back if
 * the exit closed it, onto the lowest free number only, so never over a
 * descriptor another thread opened in between (that rare case is logged). */
static void exit_keeping_fd0(backend *b)
{
    int saved = fcntl(0, F_DUPFD_CLOEXEC, 3);
    gp_camera_exit(b->cam, b->ctx);
    if (saved < 0) return;
    if (fcntl(0, F_GETFD) == -1 && errno == EBADF) {
        int fd = fcntl(saved, F_DUPFD, 0);
        if (fd > 0) {
            close(fd);
            LOG_WARN("gphoto2", "libgphoto2 closed fd 0 and another descriptor took its place");
        }
    }
    close(saved);
}

/* USB knocking: libgphoto2's autodetection leaks ~20 kB per call (in
 * libusb device scans), and reopening a lost camera calls it every two
 * seconds.  Once a USB camera has been opened we remember its vendor and
 * product id per spec, and while no such device is in sysfs we do not ask
 * libgphoto2 at all. */
enum { USB_MEMO = 8 };
static struct usb_memo {
    char spec[64];
    int vendor, product;
} g_usb_memo[USB_MEMO];
static pthread_mutex_t g_usb_memo_lock = PTHREAD_MUTEX_INITIALIZER;

static void usb_remember(const char *spec, int vendor, int product)
{
    pthread_mutex_lock(&g_usb_memo_lock);
    int slot = 0;
    for (int i = 0; i < USB_MEMO; i++) {
        if (strcmp(g_usb_memo[i].spec, spec) == 0 || g_usb_memo[i].spec[0] == '\0') {
            slot = i;
            break;
        }
    }
    snprintf(g_usb_memo[slot].spec, sizeof g_usb_memo[slot].spec, "%s", spec);
    g_usb_memo[slot].vendor = vendor;
    g_usb_memo[slot].product = product;
    pthread_mutex_unlock(&g_usb_memo_lock);
}

static int read_hex_file(const char *path)
{
    FILE *f = fopen(path, "r");
    int v = -1;
    if (f) {
        if (fscanf(f, "%x", &v) != 1) v = -1;
        fclose(f);
    }
    return v;
}

/* False only when we know the camera for spec and sysfs shows no device
 * with its ids. */
static bool usb_may_be_present(const char *spec)
{
    pthread_mutex_lock(&g_usb_memo_lock);
    int vendor = -1, product = -1;
    for (int i = 0; i < USB_MEMO; i++)
        if (strcmp(g_usb_memo[i].spec, spec) == 0) vendor = g_usb_memo[i].vendor, product = g_usb_memo[i].product;
    pthread_mutex_unlock(&g_usb_memo_lock);
    if (vendor <= 0) return true;
    DIR *d = opendir("/sys/bus/usb/devices");
    if (d == NULL) return true;
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL) {
        char path[512];
        snprintf(path, sizeof path, "/sys/bus/usb/devices/%s/idVendor", e->d_name);
        if (read_hex_file(path) != vendor) continue;
        snprintf(path, sizeof path, "/sys/bus/usb/devices/%s/idProduct", e->d_name);
        found = read_hex_file(path) == product;
    }
    closedir(d);
    return found;
}

static int autodetect(CameraList *list, GPContext *ctx)
{
    return gp_camera_autodetect(list, ctx);
}

static int g2_open(const char *spec, backend **out, char *err, size_t errsz)
{
    pthread_once(&lists_once, load_lists);
    *out = NULL;
    if (g_abilities == NULL || g_ports == NULL) {
        snprintf(err, errsz, "libgphoto2 could not load its camera drivers");
        return TETHER_ERR_NOT_SUPPORTED;
    }
    backend *b = calloc(1, sizeof *b);
    if (b == NULL) return TETHER_ERR_NO_MEMORY;
    b->ctx = gp_context_new();
    gp_context_set_error_func(b->ctx, on_ctx_error, b);

    char model[128] = "", port[160] = "";
    int rc = TETHER_OK;
    if (strncmp(spec, "ptpip:", 6) == 0) {
        if (ptpip_port_path(spec, port, sizeof port) != 0) {
            snprintf(err, errsz, "malformed camera spec \"%s\" (expected ptpip:HOST[:PORT])", spec);
            rc = TETHER_ERR_INVALID_ARGUMENT;
            goto fail;
        }
        snprintf(model, sizeof model, "PTP/IP Camera");
        b->is_ptpip = ptpip_peer(port, &b->peer);
        if (b->is_ptpip && !ptpip_answers(&b->peer)) {
            snprintf(err, errsz, "nothing answers at %s", spec + 6);
            rc = TETHER_ERR_NO_CAMERA;
            goto fail;
        }
    } else {
        if (!usb_may_be_present(spec)) {
            snprintf(err, errsz, "the camera is not on the USB bus");
            rc = TETHER_ERR_NO_CAMERA;
            goto fail;
        }
        CameraList *list = NULL;
        gp_list_new(&list);
        int n = autodetect(list, b->ctx);
        for (int i = 0; i < n; i++) {
            const char *m, *p;
            gp_list_get_name(list, i, &m);
            gp_list_get_value(list, i, &p);
            if (strcmp(spec, "auto") == 0 || strcmp(spec, p) == 0) {
                snprintf(model, sizeof model, "%s", m);
                snprintf(port, sizeof port, "%s", p);
                break;
            }
        }
        gp_list_free(list);
        if (model[0] == '\0') {
            snprintf(err, errsz, strcmp(spec, "auto") == 0 ? "no camera found over USB"
                                                           : "no camera at %s", spec);
            rc = TETHER_ERR_NO_CAMERA;
            goto fail;
        }
    }

    CameraAbilities ab;
    int idx = gp_abilities_list_lookup_model(g_abilities, model);
    if (idx < 0 || gp_abilities_list_get_abilities(g_abilities, idx, &ab) < GP_OK) {
        snprintf(err, errsz, "libgphoto2 has no driver for \"%s\"", model);
        rc = TETHER_ERR_NOT_SUPPORTED;
        goto fail;
    }
    GPPortInfo pi;
    pthread_mutex_lock(&g_ports_lock); /* lookup_path may add a regex match */
    int pidx = gp_port_info_list_lookup_path(g_ports, port);
    int got = pidx >= 0 ? gp_port_info_list_get_info(g_ports, pidx, &pi) : pidx;
    pthread_mutex_unlock(&g_ports_lock);
    if (got < GP_OK) {
        snprintf(err, errsz, "libgphoto2 knows no port \"%s\"", port);
        rc = TETHER_ERR_NO_CAMERA;
        goto fail;
    }
    if (ab.usb_vendor > 0) usb_remember(spec, ab.usb_vendor, ab.usb_product);
    int gp = GP_ERROR;
    for (int attempt = 0;; attempt++) {
        fd_list before = {.n = 0}, made = {.n = 0};
        if (b->is_ptpip) sockets_to(&b->peer, &before);
        int64_t t0 = clock_mono_ns();
        gp_camera_new(&b->cam);
        gp_camera_set_abilities(b->cam, ab);
        gp_camera_set_port_info(b->cam, pi);
        b->err[0] = '\0';
        GP_RETRY(gp, gp_camera_init(b->cam, b->ctx));
        if (b->is_ptpip) new_sockets(&b->peer, &before, &made);
        if (gp >= GP_OK) {
            for (int i = 0; i < made.n && b->nsocks < MAX_SOCKS; i++) b->socks[b->nsocks++] = made.fd[i];
            break;
        }
        /* a failed init left its sockets open: close them, so that the
         * camera sees that connection end */
        for (int i = 0; i < made.n; i++) {
            shutdown(made.fd[i], SHUT_RDWR);
            close(made.fd[i]);
        }
        gp_camera_free(b->cam);
        b->cam = NULL;
        /* A camera that still holds a session it thinks open (a host that
         * vanished, a late answer to an earlier OpenSession) says so, and
         * one that has not yet noticed our old connection's end refuses a
         * new host at once (Init_Fail, which libgphoto2 reports without a
         * message): a new connection a moment later, after the old one
         * closed, is the way back in.  (A camera that does not answer at
         * all is not tried twice: that costs timeouts.) */
        bool refused_at_once = made.n > 0 && clock_mono_ns() - t0 < 1000000000LL;
        if (attempt > 0 || !b->is_ptpip ||
            (strstr(b->err, "Session Already Opened") == NULL && !refused_at_once))
            break;
        LOG_INFO("gphoto2", "%s: the camera still held a session (%s); reconnecting", port, b->err);
        clock_sleep_ns(200000000);
    }
    if (gp < GP_OK) {
        snprintf(err, errsz, "cannot open the camera at %s: %s", port,
                 b->err[0] ? b->err : gp_result_as_string(gp));
        rc = gp == GP_ERROR_IO || gp == GP_ERROR_IO_USB_FIND ? TETHER_ERR_NO_CAMERA : map_error(gp);
        if (rc == TETHER_ERR_CAMERA || rc == TETHER_ERR_IO) rc = TETHER_ERR_NO_CAMERA;
        goto fail;
    }
    gp_file_new(&b->preview);

    /* the body's model name (the driver's abilities say "PTP/IP Camera") */
    CameraWidget *w = NULL;
    const char *val = NULL;
    snprintf(b->model, sizeof b->model, "%s", model);
    if (gp_camera_get_single_config(b->cam, "cameramodel", &w, b->ctx) == GP_OK &&
        gp_widget_get_value(w, &val) == GP_OK && val && *val)
        snprintf(b->model, sizeof b->model, "%s", val);
    if (w) gp_widget_free(w);
    pthread_once(&gp_log_once, add_gp_log);
    learn_paths(b);
    learn_focus(b);
    *out = b;
    return TETHER_OK;
fail:
    if (b->cam) gp_camera_free(b->cam);
    gp_context_unref(b->ctx);
    free(b);
    return rc;
}

static void g2_close(backend *b)
{
    if (b == NULL) return;
    if (b->cam) {
        /* a link that timed out or broke gets no long goodbye: with the
         * reading side shut, each of the exit's operations ends at once
         * instead of waiting out the timeout (the writing side stays: a
         * write to a shut socket would raise SIGPIPE in libgphoto2); the
         * exit then closes the sockets and the camera sees the end */
        if (b->suspect)
            for (int i = 0; i < b->nsocks; i++) shutdown(b->socks[i], SHUT_RD);
        exit_keeping_fd0(b);
        gp_camera_free(b->cam);
    }
    if (b->preview) gp_file_unref(b->preview);
    gp_context_unref(b->ctx);
    free(b->paths);
    free(b->seen);
    free(b);
}

static const char *g2_last_error(backend *b)
{
    return b->err;
}

static void g2_model(backend *b, char *buf, size_t size)
{
    snprintf(buf, size, "%s", b->model);
}

static int g2_summary(backend *b, char **text)
{
    CameraText t;
    GP_CALL(b, gp_camera_get_summary(b->cam, &t, b->ctx), "summary");
    *text = strdup(t.text);
    return *text ? TETHER_OK : TETHER_ERR_NO_MEMORY;
}

/* ---- settings --------------------------------------------------------------- */

static void fill_setting(CameraWidget *w, const char *path, tether_setting *s)
{
    memset(s, 0, sizeof *s);
    const char *name = "", *label = "";
    gp_widget_get_name(w, &name);
    gp_widget_get_label(w, &label);
    snprintf(s->path, sizeof s->path, "%s", path);
    snprintf(s->name, sizeof s->name, "%s", name);
    snprintf(s->label, sizeof s->label, "%s", label);
    int ro = 0;
    gp_widget_get_readonly(w, &ro);
    s->read_only = ro != 0;
    CameraWidgetType type;
    gp_widget_get_type(w, &type);
    const char *str = NULL;
    float f = 0, lo = 0, hi = 0, inc = 0;
    int i = 0;
    switch (type) {
    case GP_WIDGET_RANGE:
        s->type = TETHER_SETTING_RANGE;
        gp_widget_get_value(w, &f);
        gp_widget_get_range(w, &lo, &hi, &inc);
        s->min = lo, s->max = hi, s->step = inc;
        snprintf(s->value, sizeof s->value, "%g", f);
        break;
    case GP_WIDGET_TOGGLE:
        s->type = TETHER_SETTING_TOGGLE;
        gp_widget_get_value(w, &i);
        snprintf(s->value, sizeof s->value, "%d", i);
        break;
    case GP_WIDGET_DATE:
        s->type = TETHER_SETTING_DATE;
        gp_widget_get_value(w, &i);
        snprintf(s->value, sizeof s->value, "%d", i);
        break;
    case GP_WIDGET_RADIO:
    case GP_WIDGET_MENU: {
        s->type = TETHER_SETTING_CHOICE;
        gp_widget_get_value(w, &str);
        snprintf(s->value, sizeof s->value, "%s", str ? str : "");
        int n = gp_widget_count_choices(w);
        if (n > 0) {
            s->choices = calloc((size_t)n, sizeof *s->choices);
            for (int k = 0; s->choices && k < n; k++) {
                const char *c = NULL;
                gp_widget_get_choice(w, k, &c);
                s->choices[s->n_choices++] = strdup(c ? c : "");
            }
        }
        break;
    }
    case GP_WIDGET_BUTTON:
        s->type = TETHER_SETTING_ACTION;
        break;
    default:
        s->type = TETHER_SETTING_TEXT;
        gp_widget_get_value(w, &str);
        snprintf(s->value, sizeof s->value, "%s", str ? str : "");
        break;
    }
}

static bool is_container(CameraWidget *w)
{
    CameraWidgetType t;
    gp_widget_get_type(w, &t);
    return t == GP_WIDGET_WINDOW || t == GP_WIDGET_SECTION;
}

static void walk(CameraWidget *w, const char *prefix, tether_settings *out, int *cap)
{
    const char *name = "";
    gp_widget_get_name(w, &name);
    char path[256];
    snprintf(path, sizeof path, "%s/%s", prefix, name);
    if (is_container(w)) {
        int n = gp_widget_count_children(w);
        for (int i = 0; i < n; i++) {
            CameraWidget *c;
            if (gp_widget_get_child(w, i, &c) == GP_OK) walk(c, path, out, cap);
        }
        return;
    }
    if (out->count == *cap) {
        int nc = *cap ? *cap * 2 : 64;
        tether_setting *items = realloc(out->items, sizeof *items * (size_t)nc);
        if (items == NULL) return;
        out->items = items;
        *cap = nc;
    }
    fill_setting(w, path, &out->items[out->count++]);
}

static int g2_settings_list(backend *b, tether_settings **out);

/* Remembers where each short name lives (the first one, as libgphoto2's
 * single-config lookup finds it), from the tree, read again while busy
 * answers left settings out of it (TREE_READS); what each read found is
 * kept. */
static void learn_paths(backend *b)
{
    for (int round = 0; round < TREE_READS; round++) {
        tether_settings *all = NULL;
        busy_logged = 0;
        if (g2_settings_list(b, &all) != TETHER_OK) return;
        struct name_path *grown = realloc(b->paths, (size_t)(b->npaths + all->count) * sizeof *b->paths);
        if (grown == NULL) {
            tether_settings_free(all);
            return;
        }
        b->paths = grown;
        for (int i = 0; i < all->count; i++) {
            if (known(b, all->items[i].name)) continue;
            struct name_path *np = &b->paths[b->npaths++];
            snprintf(np->name, sizeof np->name, "%s", all->items[i].name);
            snprintf(np->path, sizeof np->path, "%s", all->items[i].path);
            np->read_only = all->items[i].read_only;
        }
        tether_settings_free(all);
        if (busy_logged == 0) break;
        LOG_DEBUG("gphoto2", "the settings were read while the camera answered busy (%u times): read again", busy_logged);
    }
}

static const char *path_of(backend *b, const char *name)
{
    for (int i = 0; i < b->npaths; i++)
        if (strcmp(b->paths[i].name, name) == 0) return b->paths[i].path;
    return NULL;
}

static int g2_settings_list(backend *b, tether_settings **out)
{
    CameraWidget *root = NULL;
    GP_CALL(b, gp_camera_get_config(b->cam, &root, b->ctx), "reading settings");
    tether_settings *s = calloc(1, sizeof *s);
    int cap = 0;
    if (s) walk(root, "", s, &cap);
    gp_widget_free(root);
    *out = s;
    return s ? TETHER_OK : TETHER_ERR_NO_MEMORY;
}

/* Finds the widget at "/main/a/b" under root (direct children at each
 * level, so a path always names one widget even when short names repeat). */
static CameraWidget *find_path(CameraWidget *root, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    char *save = NULL, *part = strtok_r(buf, "/", &save);
    const char *rname = "";
    gp_widget_get_name(root, &rname);
    if (part == NULL || strcmp(part, rname) != 0) return NULL;
    CameraWidget *w = root;
    while ((part = strtok_r(NULL, "/", &save)) != NULL) {
        int n = gp_widget_count_children(w);
        CameraWidget *next = NULL;
        for (int i = 0; i < n && !next; i++) {
            CameraWidget *c;
            const char *cn = "";
            if (gp_widget_get_child(w, i, &c) == GP_OK && gp_widget_get_name(c, &cn) == GP_OK &&
                strcmp(cn, part) == 0)
                next = c;
        }
        if (next == NULL) return NULL;
        w = next;
    }
    return w;
}

/* Fetches the widget for a path or name: *root is what to free (the whole
 * tree, or the single widget). */
static int fetch_widget(backend *b, const char *path_or_name, CameraWidget **root, CameraWidget **w,
                        char *path, size_t pathsz)
{
    *root = *w = NULL;
    if (path_or_name[0] == '/') {
        GP_CALL(b, gp_camera_get_config(b->cam, root, b->ctx), "reading settings");
        *w = find_path(*root, path_or_name);
        snprintf(path, pathsz, "%s", path_or_name);
    } else {
        b->err[0] = '\0';
        int gp = GP_ERROR;
        GP_RETRY(gp, gp_camera_get_single_config(b->cam, path_or_name, root, b->ctx));
        snprintf(path, pathsz, "%s", path_or_name);
        if (gp == GP_ERROR_BAD_PARAMETERS && known(b, path_or_name)) {
            /* listed at open, "not found" now: a busy answer (ptp2 says
             * "not found" for one), or the setting is gone (a mode
             * without it); the whole tree, read through another path in
             * ptp2, tells which */
            for (int round = 0; round < TREE_READS && *w == NULL; round++) {
                if (*root) gp_widget_free(*root);
                *root = NULL;
                busy_logged = 0;
                GP_CALL(b, gp_camera_get_config(b->cam, root, b->ctx), "reading settings");
                if (gp_widget_get_child_by_name(*root, path_or_name, w) != GP_OK) *w = NULL;
                if (busy_logged == 0) break; /* read without a busy answer: what it says stands */
            }
        } else if (gp < GP_OK && gp != GP_ERROR_BAD_PARAMETERS && gp != GP_ERROR_NOT_SUPPORTED) {
            return g2_fail(b, gp, "reading a setting");
        } else {
            *w = gp >= GP_OK ? *root : NULL;
        }
    }
    if (*w == NULL) {
        if (*root) gp_widget_free(*root);
        *root = NULL;
        return fail_msg(b, TETHER_ERR_NOT_FOUND, "no setting \"%s\" on this camera", path_or_name);
    }
    return TETHER_OK;
}

static int g2_setting_get(backend *b, const char *path_or_name, tether_setting *out)
{
    CameraWidget *root, *w;
    char path[256];
    int rc = fetch_widget(b, path_or_name, &root, &w, path, sizeof path);
    if (rc != TETHER_OK) return rc;
    fill_setting(w, path, out);
    const char *full = path_or_name[0] != '/' ? path_of(b, path_or_name) : NULL;
    if (full) snprintf(out->path, sizeof out->path, "%s", full);
    gp_widget_free(root);
    return TETHER_OK;
}

/* Sets w from text, validated by the rules every backend shares
 * (values_parse).  Returns 0 or an error. */
static int set_widget_value(backend *b, CameraWidget *w, const char *value)
{
    tether_setting desc;
    fill_setting(w, "", &desc);
    values_parsed v;
    int rc = values_parse(&desc, value, &v, b->err, sizeof b->err);
    tether_setting_clear(&desc);
    if (rc != TETHER_OK) return rc;
    CameraWidgetType type;
    gp_widget_get_type(w, &type);
    int gp = GP_ERROR;
    switch (type) {
    case GP_WIDGET_TEXT:
        gp = gp_widget_set_value(w, value);
        break;
    case GP_WIDGET_RANGE: {
        float f = (float)v.number;
        gp = gp_widget_set_value(w, &f);
        break;
    }
    case GP_WIDGET_TOGGLE:
        gp = gp_widget_set_value(w, &v.toggle);
        break;
    case GP_WIDGET_DATE: {
        int date = (int)v.date;
        gp = gp_widget_set_value(w, &date);
        break;
    }
    case GP_WIDGET_RADIO:
    case GP_WIDGET_MENU: {
        const char *pick = NULL;
        if (gp_widget_get_choice(w, v.choice, &pick) == GP_OK && pick) gp = gp_widget_set_value(w, pick);
        break;
    }
    default: {
        const char *name = "";
        gp_widget_get_name(w, &name);
        return fail_msg(b, TETHER_ERR_NOT_SUPPORTED, "\"%s\" cannot be set", name);
    }
    }
    return gp == GP_OK ? TETHER_OK : TETHER_ERR_BAD_VALUE;
}

static int g2_setting_set(backend *b, const char *path_or_name, const char *value)
{
    CameraWidget *root, *w;
    char path[256];
    int rc = fetch_widget(b, path_or_name, &root, &w, path, sizeof path);
    if (rc != TETHER_OK) return rc;
    rc = set_widget_value(b, w, value);
    if (rc == TETHER_OK) {
        gp_widget_set_changed(w, 1); /* also when the value is the same */
        b->err[0] = '\0';
        int gp = GP_ERROR;
        GP_RETRY(gp, path_or_name[0] == '/' ? gp_camera_set_config(b->cam, root, b->ctx)
                                            : gp_camera_set_single_config(b->cam, path_or_name, w, b->ctx));
        if (gp < GP_OK) rc = g2_fail(b, gp, "the camera refused the setting");
    }
    gp_widget_free(root);
    return rc;
}

/* ---- files ----------------------------------------------------------------- */

static void split_path(const char *path, char *folder, size_t fsz, char *name, size_t nsz)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        snprintf(folder, fsz, "/");
        snprintf(name, nsz, "%s", path);
    } else if (slash == path) {
        snprintf(folder, fsz, "/");
        snprintf(name, nsz, "%s", slash + 1);
    } else {
        snprintf(folder, fsz, "%.*s", (int)(slash - path), path);
        snprintf(name, nsz, "%s", slash + 1);
    }
}

/* Where a download into a descriptor goes: libgphoto2 hands us the data
 * (gp_file_new_from_handler).  A failed write is remembered and the rest
 * of the data is swallowed, so that the PTP transfer finishes and the link
 * stays in step; g2_download reports it afterwards as the local failure it
 * is (with gp_file_new_from_fd, libgphoto2 broke the transfer off and the
 * error came back as the camera's). */
typedef struct fd_writer {
    int fd;
    uint64_t written;
    int err;                /* errno of the first failed write, or 0 */
} fd_writer;

static int fdw_size(void *priv, uint64_t *size)
{
    *size = ((fd_writer *)priv)->written;
    return GP_OK;
}

static int fdw_read(void *priv, unsigned char *data, uint64_t *len)
{
    (void)priv, (void)data, (void)len;
    return GP_ERROR_NOT_SUPPORTED;
}

static int fdw_write(void *priv, unsigned char *data, uint64_t *len)
{
    fd_writer *w = priv;
    if (w->err) return GP_OK;
    if (store_write_all(w->fd, data, (size_t)*len) != 0) {
        w->err = errno ? errno : EIO;
        return GP_OK;
    }
    w->written += *len;
    return GP_OK;
}

/* libgphoto2 2.5.30's ptp2 reports some Device Busy answers as "not
 * there".  A file fetched while the camera answers GetObjectInfo busy
 * "does not exist" (get_folder_from_handle, GP_ERROR_BAD_PARAMETERS or
 * GP_ERROR_FILE_NOT_FOUND), and stays so for the session: ptp2 keeps the
 * half-read object in its cache (`libtest busy-objectinfo`: five more
 * tries, with or without its file list made again, all failed).  A file
 * the last capture announced is then reported busy, with where it is, not
 * as missing. */
static bool masked_busy(int gp)
{
    return gp == GP_ERROR_BAD_PARAMETERS || gp == GP_ERROR_FILE_NOT_FOUND;
}

/* A failure after which the PTP session is gone: the owner reconnects. */
static bool link_is_broken(int rc)
{
    return rc == TETHER_ERR_IO || rc == TETHER_ERR_TIMEOUT || rc == TETHER_ERR_DISCONNECTED;
}

/* Where a picture the camera took waits, for a message: libgphoto2 has
 * bodies with a capture target (Canon EOS, Nikon) keep it in their memory
 * for the computer unless its "capturetarget" setting says "card" (unset
 * means "sdram"), and such a picture goes with the PTP session; other
 * cameras write it to the card. */
static const char *picture_fate(backend *b, bool session_lost)
{
    char target[256] = "", id[] = "ptp2", key[] = "capturetarget"; /* gp_setting_get takes char * */
    bool in_memory = known(b, "capturetarget") &&
                     (gp_setting_get(id, key, target) != GP_OK || strcmp(target, "sdram") == 0);
    if (!in_memory) return "it is on the card";
    return session_lost ? "the camera kept it in its memory for the computer (capturetarget \"Internal RAM\"), "
                          "and it went with the connection; with capturetarget \"Memory card\" a copy stays on the card"
                        : "it waits in the camera's memory";
}

/* Fails with rc after the link broke around a shutter release: "WHAT
 * (the backend's error so far); FATE_INTRO where the picture is". */
static int fail_cut_off(backend *b, int rc, const char *what, const char *fate_intro, bool session_lost)
{
    char why[sizeof b->err];
    snprintf(why, sizeof why, "%s", b->err);
    return fail_msg(b, rc, "%s (%s); %s%s", what, why, fate_intro, picture_fate(b, session_lost));
}

static bool was_announced(const backend *b, const char *camera_path)
{
    for (int i = 0; i < b->nannounced; i++)
        if (strcmp(b->announced[i], camera_path) == 0) return true;
    return false;
}

static int g2_download(backend *b, const char *camera_path, backend_sink *sink)
{
    char folder[512], name[256];
    split_path(camera_path, folder, sizeof folder, name, sizeof name);
    CameraFile *f = NULL;
    static CameraFileHandler fd_handler = {fdw_size, fdw_read, fdw_write};
    fd_writer w = {.fd = sink->fd};
    if (sink->fd >= 0) {
        if (gp_file_new_from_handler(&f, &fd_handler, &w) < GP_OK) return fail_msg(b, TETHER_ERR_NO_MEMORY, "out of memory");
    } else {
        gp_file_new(&f);
    }
    b->err[0] = '\0';
    int gp = GP_ERROR;
    for (int try_ = 0;; try_++) {
        gp = gp_camera_file_get(b->cam, folder, name, GP_FILE_TYPE_NORMAL, f, b->ctx);
        if (gp != GP_ERROR_CAMERA_BUSY || try_ == 9) break;
        /* start over: nothing of a busy transfer may stay in the file */
        if (sink->fd >= 0) {
            if (ftruncate(sink->fd, 0) != 0 || lseek(sink->fd, 0, SEEK_SET) != 0) {
                w.err = errno;
                break;
            }
            w.written = 0;
            w.err = 0;
        }
        gp_file_clean(f);
        busy_backoff(try_);
    }
    int rc = TETHER_OK;
    if (w.err) {
        /* ours, not the camera's: the transfer itself went through */
        rc = fail_msg(b, store_err_from_errno(w.err), "cannot write %s: %s", name, strerror(w.err));
    } else if (masked_busy(gp) && was_announced(b, camera_path)) {
        rc = fail_msg(b, TETHER_ERR_BUSY, "the camera was busy while %s was looked up; %s (%s)", name,
                      picture_fate(b, false), camera_path);
    } else if (gp < GP_OK && was_announced(b, camera_path) && link_is_broken(map_error(gp))) {
        char what[512];
        snprintf(what, sizeof what, "the connection broke while %s came from the camera", name);
        rc = fail_cut_off(b, g2_fail(b, gp, "download"), what, "", true);
    } else if (gp < GP_OK) {
        rc = g2_fail(b, gp, "download");
    } else if (sink->fd < 0) {
        const char *data;
        unsigned long size;
        gp_file_get_data_and_size(f, &data, &size);
        bytebuf_put(sink->mem, data, size);
        if (!bytebuf_ok(sink->mem)) rc = TETHER_ERR_NO_MEMORY;
    }
    gp_file_unref(f);
    return rc;
}

static int g2_delete(backend *b, const char *camera_path)
{
    char folder[512], name[256];
    split_path(camera_path, folder, sizeof folder, name, sizeof name);
    GP_CALL(b, gp_camera_file_delete(b->cam, folder, name, b->ctx), "delete");
    return TETHER_OK;
}

static int list_folder(backend *b, const char *folder, tether_file_list *out, int *cap, int depth)
{
    if (depth > 16) return TETHER_OK;
    CameraList *files = NULL, *dirs = NULL;
    gp_list_new(&files);
    gp_list_new(&dirs);
    int rc = TETHER_OK;
    b->err[0] = '\0';
    int gp = GP_ERROR;
    GP_RETRY(gp, gp_camera_folder_list_files(b->cam, folder, files, b->ctx));
    if (gp < GP_OK) {
        rc = g2_fail(b, gp, "listing files");
        goto done;
    }
    for (int i = 0; i < gp_list_count(files); i++) {
        const char *name;
        gp_list_get_name(files, i, &name);
        if (out->count == *cap) {
            int nc = *cap ? *cap * 2 : 64;
            tether_file *items = realloc(out->items, sizeof *items * (size_t)nc);
            if (items == NULL) {
                rc = TETHER_ERR_NO_MEMORY;
                goto done;
            }
            out->items = items;
            *cap = nc;
        }
        tether_file *f = &out->items[out->count++];
        memset(f, 0, sizeof *f);
        snprintf(f->path, sizeof f->path, "%s%s%s", folder, strcmp(folder, "/") ? "/" : "", name);
        CameraFileInfo info;
        if (gp_camera_file_get_info(b->cam, folder, name, &info, b->ctx) == GP_OK) {
            if (info.file.fields & GP_FILE_INFO_SIZE) f->size = info.file.size;
            if (info.file.fields & GP_FILE_INFO_MTIME) f->mtime = info.file.mtime;
            if (info.file.fields & GP_FILE_INFO_TYPE) snprintf(f->mime, sizeof f->mime, "%s", info.file.type);
        }
    }
    GP_RETRY(gp, gp_camera_folder_list_folders(b->cam, folder, dirs, b->ctx));
    if (gp < GP_OK) {
        rc = g2_fail(b, gp, "listing folders");
        goto done;
    }
    for (int i = 0; i < gp_list_count(dirs) && rc == TETHER_OK; i++) {
        const char *name;
        gp_list_get_name(dirs, i, &name);
        char sub[512];
        snprintf(sub, sizeof sub, "%s%s%s", folder, strcmp(folder, "/") ? "/" : "", name);
        rc = list_folder(b, sub, out, cap, depth + 1);
    }
done:
    gp_list_free(files);
    gp_list_free(dirs);
    return rc;
}

static int g2_list_files(backend *b, tether_file_list **out)
{
    tether_file_list *l = calloc(1, sizeof *l);
    if (l == NULL) return TETHER_ERR_NO_MEMORY;
    int cap = 0;
    int rc = list_folder(b, "/", l, &cap, 0);
    if (rc != TETHER_OK) {
        tether_file_list_free(l);
        return rc;
    }
    *out = l;
    return TETHER_OK;
}

/* ---- events ------------------------------------------------------------------ */

static void push_pending(backend *b, const tether_event *ev)
{
    if (b->npending < PENDING_MAX) b->pending[b->npending++] = *ev;
}

/* libgphoto2 reports a property change as text:
 *   PTP Property d103 changed, "iso" to "800"      (Canon EOS)
 *   PTP Property 500f changed                       (others)
 * An EOS body re-reports every property when a session starts; only a
 * value different from the last one seen is a change.  Fills ev (path =
 * the setting's short name, detail = the new value) or returns NO_EVENT
 * for a repeat. */
static int setting_event(backend *b, const char *text, tether_event *ev)
{
    char name[64] = "", value[128] = "";
    const char *q1 = strchr(text, '"');
    const char *q2 = q1 ? strchr(q1 + 1, '"') : NULL;
    const char *to = q2 ? strstr(q2, " to \"") : NULL;
    ev->type = TETHER_EVENT_SETTING_CHANGED;
    if (q1 && q2 && to) {
        snprintf(name, sizeof name, "%.*s", (int)(q2 - q1 - 1), q1 + 1);
        const char *v = to + 5, *end = strrchr(v, '"');
        snprintf(value, sizeof value, "%.*s", end ? (int)(end - v) : (int)strlen(v), v);
    } else {
        snprintf(ev->detail, sizeof ev->detail, "%s", text); /* unnamed: a full refresh */
        return TETHER_OK;
    }
    for (int i = 0; i < b->nseen; i++) {
        if (strcmp(b->seen[i].name, name) != 0) continue;
        if (strcmp(b->seen[i].value, value) == 0) return NO_EVENT;
        snprintf(b->seen[i].value, sizeof b->seen[i].value, "%s", value);
        snprintf(ev->path, sizeof ev->path, "%s", name);
        snprintf(ev->detail, sizeof ev->detail, "%s", value);
        return TETHER_OK;
    }
    if (b->nseen == b->capseen) {
        int cap = b->capseen ? b->capseen * 2 : 64;
        struct seen_value *n = realloc(b->seen, sizeof *n * (size_t)cap);
        if (n == NULL) return NO_EVENT;
        b->seen = n;
        b->capseen = cap;
    }
    snprintf(b->seen[b->nseen].name, sizeof b->seen[0].name, "%s", name);
    snprintf(b->seen[b->nseen].value, sizeof b->seen[0].value, "%s", value);
    b->nseen++;
    return NO_EVENT; /* first sight: the initial report, not a change */
}

/* One libgphoto2 event, translated.  Returns 0 with ev set, NO_EVENT (none
 * within timeout_ms, or none a caller cares about), or an error
 * (TETHER_ERR_TIMEOUT: the camera did not answer). */
static int next_gp_event(backend *b, int timeout_ms, tether_event *ev)
{
    CameraEventType type;
    void *data = NULL;
    b->err[0] = '\0';
    int gp = gp_camera_wait_for_event(b->cam, timeout_ms, &type, &data, b->ctx);
    if (gp < GP_OK) {
        free(data); /* whatever it handed over before the failure */
        return g2_fail(b, gp, "waiting for events");
    }
    memset(ev, 0, sizeof *ev);
    ev->time_ns = clock_mono_ns();
    int rc = TETHER_OK;
    switch (type) {
    case GP_EVENT_FILE_ADDED: {
        CameraFilePath *p = data;
        ev->type = TETHER_EVENT_FILE_ADDED;
        snprintf(ev->path, sizeof ev->path, "%s%s%s", p->folder, strcmp(p->folder, "/") ? "/" : "", p->name);
        break;
    }
    case GP_EVENT_CAPTURE_COMPLETE:
        ev->type = TETHER_EVENT_CAPTURE_COMPLETE;
        break;
    case GP_EVENT_UNKNOWN:
        if (data && strstr((const char *)data, "changed")) {
            rc = setting_event(b, (const char *)data, ev);
        } else {
            rc = NO_EVENT; /* nothing a caller cares about */
        }
        break;
    default:
        rc = NO_EVENT;
        break;
    }
    free(data);
    return rc;
}

static int g2_wait_event(backend *b, int timeout_ms, tether_event *ev)
{
    if (b->npending) {
        *ev = b->pending[0];
        memmove(b->pending, b->pending + 1, sizeof *b->pending * (size_t)--b->npending);
        return TETHER_OK;
    }
    int64_t deadline = clock_mono_ns() + (int64_t)timeout_ms * 1000000;
    for (;;) {
        int64_t left = (deadline - clock_mono_ns()) / 1000000;
        int rc = next_gp_event(b, left > 0 ? (int)left : 0, ev);
        /* the link's timeout is not "no event": the camera stopped answering */
        if (rc == TETHER_ERR_TIMEOUT) rc = TETHER_ERR_IO;
        if (rc != NO_EVENT) return rc;
        if (clock_mono_ns() >= deadline) return TETHER_ERR_TIMEOUT;
        /* a generic PTP/IP camera returns at once: pace the polling */
        clock_sleep_ns(left > 20 ? 20000000 : left * 1000000);
    }
}

/* ---- capture and live view --------------------------------------------------------- */

/* Takes a picture with trigger + events rather than gp_camera_capture:
 * libgphoto2 2.5.30's generic capture ignores a Device Busy answer to
 * InitiateCapture and then waits for events forever (library.c
 * camera_capture: CR() of a positive PTP code), while a trigger reports
 * busy (and a busy trigger fired nothing, so it may be repeated).  The
 * file events that follow name the new files; siblings (RAW + JPEG) come
 * as further events: drain until the camera has been quiet for 150 ms. */
static void camera_item(backend *b, backend_item *it, const char *path)
{
    memset(it, 0, sizeof *it);
    it->place = BACKEND_ITEM_CAMERA;
    snprintf(it->where, sizeof it->where, "%s", path);
    if (b->nannounced < TETHER_MAX_SHOT_FILES) snprintf(b->announced[b->nannounced++], sizeof b->announced[0], "%s", path);
}

static int g2_capture(backend *b, backend_item items[], int *n)
{
    *n = 0;
    b->nannounced = 0;
    b->err[0] = '\0';
    int gp = GP_ERROR;
    GP_RETRY(gp, gp_camera_trigger_capture(b->cam, b->ctx));
    if (gp == GP_ERROR_NOT_SUPPORTED) {
        CameraFilePath p;
        GP_CALL_ONCE(b, gp_camera_capture(b->cam, GP_CAPTURE_IMAGE, &p, b->ctx), "capture");
        char path[512];
        snprintf(path, sizeof path, "%s%s%s", p.folder, strcmp(p.folder, "/") ? "/" : "", p.name);
        camera_item(b, &items[(*n)++], path);
    } else if (gp < GP_OK) {
        int rc = g2_fail(b, gp, "capture");
        if (!link_is_broken(rc)) return rc;
        return fail_cut_off(b, rc, "the connection broke while the shutter was released", "if the camera fired, ", true);
    }
    int64_t start = clock_mono_ns(), quiet_since = start, completed = 0;
    const int64_t first_file_ns = 60LL * 1000000000; /* long exposures included */
    for (;;) {
        int64_t now = clock_mono_ns();
        if (*n == 0 && now - start > first_file_ns)
            return fail_msg(b, TETHER_ERR_TIMEOUT, "the camera fired but reported no new file within %d s",
                            (int)(first_file_ns / 1000000000));
        if (*n == 0 && completed && now - completed > 3000000000LL)
            /* libgphoto2 drops an ObjectAdded it could not look up (Device
             * Busy on GetObjectInfo): the picture is on the camera */
            return fail_msg(b, TETHER_ERR_BUSY, "the camera was busy while announcing the new file; %s",
                            picture_fate(b, false));
        if (*n > 0 && (now - quiet_since >= 150000000 || now - start > first_file_ns + 1500000000LL)) break;
        tether_event ev;
        int rc = next_gp_event(b, 50, &ev);
        if (rc == NO_EVENT || rc == TETHER_ERR_BUSY) {
            clock_sleep_ns(5000000);
            continue;
        }
        /* TETHER_ERR_TIMEOUT here is the link's: the camera stopped
         * answering, and waiting on would only add timeouts */
        if (rc != TETHER_OK) {
            if (*n > 0) return TETHER_OK;
            return fail_cut_off(b, rc, "the camera fired, but the connection broke before it named the picture", "",
                                link_is_broken(rc));
        }
        quiet_since = clock_mono_ns();
        if (ev.type == TETHER_EVENT_CAPTURE_COMPLETE) completed = quiet_since;
        if (ev.type == TETHER_EVENT_FILE_ADDED && *n < TETHER_MAX_SHOT_FILES) camera_item(b, &items[(*n)++], ev.path);
        else if (ev.type != TETHER_EVENT_CAPTURE_COMPLETE) push_pending(b, &ev);
    }
    return TETHER_OK;
}

/* Turns live view on or off through the "viewfinder" toggle when the
 * camera has one (Canon EOS: InitiateViewfinder / TerminateViewfinder;
 * Nikon: StartLiveView / EndLiveView).  Returns 1 when done, 0 when the
 * camera has no such toggle (remembered), or a negative tether_err.
 *
 * Live view is always started this way, never left to capture_preview:
 * for EOS, capture_preview turns the output device on only when its cached
 * copy of the property says it is off, and that copy is refreshed only by
 * the camera's events.  After TerminateViewfinder the copy still says "on"
 * until the next event poll, and capture_preview then waits out its 3 s
 * "not ready" loop before failing. */
static int set_viewfinder(backend *b, int on)
{
    CameraWidget *w = NULL;
    if (b->no_viewfinder || gp_camera_get_single_config(b->cam, "viewfinder", &w, b->ctx) != GP_OK) {
        b->no_viewfinder = true;
        return 0;
    }
    gp_widget_set_value(w, &on);
    gp_widget_set_changed(w, 1);
    b->err[0] = '\0';
    int gp = GP_ERROR;
    GP_RETRY(gp, gp_camera_set_single_config(b->cam, "viewfinder", w, b->ctx));
    gp_widget_free(w);
    if (gp < GP_OK) return g2_fail(b, gp, on ? "starting live view" : "stopping live view");
    return 1;
}

static int start_viewfinder(backend *b)
{
    int rc = set_viewfinder(b, 1);
    if (rc > 0) b->lv_on = true;
    return rc;
}

static int g2_preview_jpeg(backend *b, blob **jpeg)
{
    if (!b->lv_on) {
        int rc = start_viewfinder(b);
        if (rc < 0) return rc;
    }
    gp_file_clean(b->preview);
    GP_CALL(b, gp_camera_capture_preview(b->cam, b->preview, b->ctx), "live view");
    b->lv_on = true;
    const char *data;
    unsigned long size;
    gp_file_get_data_and_size(b->preview, &data, &size);
    if (size < 4 || (uint8_t)data[0] != 0xFF || (uint8_t)data[1] != 0xD8)
        return fail_msg(b, TETHER_ERR_CAMERA, "the camera's live view is not JPEG");
    *jpeg = blob_from(data, size);
    return *jpeg ? TETHER_OK : TETHER_ERR_NO_MEMORY;
}

/* Live view on, as focus drives need it. */
static int ensure_liveview(backend *b)
{
    if (b->lv_on) return TETHER_OK;
    int rc = start_viewfinder(b);
    if (rc != 0) return rc < 0 ? rc : TETHER_OK;
    blob *f = NULL;
    rc = g2_preview_jpeg(b, &f);
    blob_unref(f);
    return rc;
}

static int g2_preview(backend *b, backend_frame *out)
{
    memset(out, 0, sizeof *out);
    out->format = TETHER_PIXEL_JPEG;
    return g2_preview_jpeg(b, &out->data);
}

static int g2_preview_stop(backend *b)
{
    if (!b->lv_on) return TETHER_OK;
    b->lv_on = false;
    int rc = set_viewfinder(b, 0);
    return rc < 0 ? rc : TETHER_OK;
}

/* Nikon's MfDrive takes a count of motor units; tether's three sizes. */
static const int nikon_units[3] = {10, 43, 300};

static int g2_focus_drive(backend *b, int direction, int step)
{
    if (step < 1 || step > 3 || (direction != 1 && direction != -1))
        return fail_msg(b, TETHER_ERR_INVALID_ARGUMENT, "focus drive takes near|far and step 1..3");
    CameraWidget *w = NULL;
    b->err[0] = '\0';
    if (gp_camera_get_single_config(b->cam, "manualfocusdrive", &w, b->ctx) < GP_OK)
        return fail_msg(b, TETHER_ERR_NOT_SUPPORTED, "this camera has no focus drive");
    gp_widget_free(w);
    int rc = ensure_liveview(b);
    if (rc != TETHER_OK) return rc;
    w = NULL;
    GP_CALL(b, gp_camera_get_single_config(b->cam, "manualfocusdrive", &w, b->ctx), "focus drive");
    CameraWidgetType type;
    gp_widget_get_type(w, &type);
    if (type == GP_WIDGET_RADIO || type == GP_WIDGET_MENU) {
        char v[16];
        snprintf(v, sizeof v, "%s %d", direction > 0 ? "Near" : "Far", step);
        gp_widget_set_value(w, v);
    } else if (type == GP_WIDGET_RANGE) {
        float units = (float)(direction > 0 ? -nikon_units[step - 1] : nikon_units[step - 1]);
        gp_widget_set_value(w, &units);
        pthread_once(&gp_log_once, add_gp_log);
        mfdrive_result = 0;
    } else {
        gp_widget_free(w);
        return fail_msg(b, TETHER_ERR_NOT_SUPPORTED, "unknown kind of focus drive");
    }
    gp_widget_set_changed(w, 1); /* the same value twice must drive twice */
    b->err[0] = '\0';
    int gp = GP_ERROR;
    GP_RETRY(gp, gp_camera_set_single_config(b->cam, "manualfocusdrive", w, b->ctx));
    gp_widget_free(w);
    /* MfDriveStepEnd, MfDriveStepInsufficiency: the lens reached its end */
    if (gp < GP_OK && (mfdrive_result == 0xA00C || mfdrive_result == 0xA00D))
        return fail_msg(b, TETHER_ERR_END_STOP, "%s end (the camera answered MfDriveStepEnd)",
                        direction > 0 ? "near" : "far");
    if (gp < GP_OK) return g2_fail(b, gp, "focus drive");
    return TETHER_OK;
}

/* ---- capabilities, canonical names, zoom --------------------------------------- */

/* Canonical name -> libgphoto2's names for it, the first one present wins
 * (EOS properties, then standard PTP ones). */
static const struct canonical_map {
    const char *canonical;
    const char *native[3];
} canonical_map[] = {
    {"iso", {"iso", "isospeed", NULL}},
    {"aperture", {"aperture", "f-number", NULL}},
    {"shutterspeed", {"shutterspeed", "shutterspeed2", NULL}},
    {"exposurecompensation", {"exposurecompensation", NULL, NULL}},
    {"whitebalance", {"whitebalance", NULL, NULL}},
    {"focusmode", {"focusmode", NULL, NULL}},
    {"imageformat", {"imageformat", "imagequality", NULL}},
    {"drivemode", {"drivemode", "capturemode", NULL}},
    {"exposuremode", {"autoexposuremode", "expprogram", NULL}},
    {"battery", {"batterylevel", NULL, NULL}},
    {"shotsleft", {"availableshots", NULL, NULL}},
    {"serialnumber", {"serialnumber", "eosserialnumber", NULL}},
};

static const struct name_path *known(backend *b, const char *name)
{
    for (int i = 0; i < b->npaths; i++)
        if (strcmp(b->paths[i].name, name) == 0) return &b->paths[i];
    return NULL;
}

static int g2_resolve(backend *b, const char *canonical, char *native, size_t size, bool *writable)
{
    for (size_t i = 0; i < sizeof canonical_map / sizeof canonical_map[0]; i++) {
        if (strcmp(canonical_map[i].canonical, canonical) != 0) continue;
        for (int k = 0; k < 3 && canonical_map[i].native[k]; k++) {
            const struct name_path *np = known(b, canonical_map[i].native[k]);
            if (np == NULL) continue;
            snprintf(native, size, "%s", np->name);
            *writable = !np->read_only;
            return TETHER_OK;
        }
    }
    return fail_msg(b, TETHER_ERR_NOT_FOUND, "no setting \"%s\" on this camera", canonical);
}

/* The focus drive libgphoto2 offers, learned from the manualfocusdrive
 * widget: a radio "Near 1".."Far 3" (Canon EOS, DriveLens) or a range of
 * motor units (Nikon MfDrive, which tether drives in nikon_units).  The
 * pacing is what the focus tools were tuned with: no body says when a
 * move ends; Magic Lantern keeps at most two commands in flight and NINA
 * waits 200 ms; a third command in flight may be lost. */
static void learn_focus(backend *b)
{
    memset(&b->focus, 0, sizeof b->focus);
    b->focus.zoom_max = 1;
    b->focus.backlash = -1;
    CameraWidget *w = NULL;
    if (known(b, "manualfocusdrive") && gp_camera_get_single_config(b->cam, "manualfocusdrive", &w, b->ctx) == GP_OK) {
        CameraWidgetType type;
        gp_widget_get_type(w, &type);
        static const int pace_ms[3] = {80, 100, 150};
        if (type == GP_WIDGET_RADIO || type == GP_WIDGET_MENU) {
            int n = 0; /* how many "Near N" the body offers */
            for (int i = 0; i < gp_widget_count_choices(w); i++) {
                const char *c = NULL;
                int k;
                if (gp_widget_get_choice(w, i, &c) == GP_OK && c && sscanf(c, "Near %d", &k) == 1 && k > n && k <= 3)
                    n = k;
            }
            b->focus.kind = n > 0 ? TETHER_FOCUS_RELATIVE : TETHER_FOCUS_NONE;
            b->focus.n_steps = n;
            b->focus.step_units[0] = 1; /* Canon does not say how far Near 2 and 3 go */
        } else if (type == GP_WIDGET_RANGE) {
            b->focus.kind = TETHER_FOCUS_RELATIVE;
            b->focus.n_steps = 3;
            for (int i = 0; i < 3; i++) b->focus.step_units[i] = nikon_units[i] / nikon_units[0];
        }
        for (int i = 0; i < b->focus.n_steps; i++) b->focus.pace_ms[i] = pace_ms[i];
        gp_widget_free(w);
    }
    if (known(b, "eoszoom") && known(b, "eoszoomposition")) b->focus.zoom_max = 10;
    /* the full-size image, where the camera names it ("5184x3456") */
    tether_setting size = {0};
    const struct name_path *np = known(b, "imagesize");
    if (np && g2_setting_get(b, np->path, &size) == TETHER_OK)
        sscanf(size.value, "%dx%d", &b->focus.sensor_width, &b->focus.sensor_height);
    tether_setting_clear(&size);
}

static void g2_capabilities(backend *b, tether_capabilities *out)
{
    snprintf(out->backend, sizeof out->backend, "gphoto2");
    CameraAbilities ab;
    bool has_ab = gp_camera_get_abilities(b->cam, &ab) == GP_OK;
    out->bits = TETHER_CAP_CAPTURE_TO_CARD | TETHER_CAP_CARD_FILES | TETHER_CAP_BODY_SHOTS;
    if (known(b, "capturetarget")) out->bits |= TETHER_CAP_CAPTURE_TO_HOST;
    if (!has_ab || (ab.operations & GP_OPERATION_CAPTURE_PREVIEW)) {
        out->bits |= TETHER_CAP_LIVEVIEW;
        out->liveview_formats = 1u << TETHER_PIXEL_JPEG;
    }
    if (known(b, "autofocusdrive")) out->bits |= TETHER_CAP_HALF_PRESS;
    if (b->focus.zoom_max > 1) out->bits |= TETHER_CAP_ZOOM;
    if (b->npaths > 0) out->bits |= TETHER_CAP_SETTINGS;
    out->focus = b->focus;
}

/* Canon EOS: eoszoomposition is the top-left corner of the magnified
 * area in full-size sensor pixels, the area is 1/factor of the width (at
 * 1x the body positions the 5x area), 3:2.  The sensor's size comes from
 * the camera when it says it; an EOS 550D's otherwise. */
static int g2_liveview_zoom(backend *b, int factor, double cx, double cy)
{
    if (b->focus.zoom_max <= 1) return fail_msg(b, TETHER_ERR_NOT_SUPPORTED, "this camera has no magnified live view");
    if (factor != 1 && factor != 5 && factor != 10)
        return fail_msg(b, TETHER_ERR_BAD_VALUE, "live-view magnification takes 1, 5 or 10 (got %d)", factor);
    double sw = b->focus.sensor_width > 0 ? b->focus.sensor_width : 5184;
    double sh = b->focus.sensor_height > 0 ? b->focus.sensor_height : 3456;
    int k = factor > 1 ? factor : 5;
    double w = sw / k, h = w * 2.0 / 3.0;
    double x = cx * sw - w / 2, y = cy * sh - h / 2;
    if (x > sw - w) x = sw - w;
    if (y > sh - h) y = sh - h;
    if (x < 0) x = 0;
    if (y < 0) y = 0;
    char pos[64], fac[16];
    snprintf(pos, sizeof pos, "%d,%d", (int)x, (int)y);
    snprintf(fac, sizeof fac, "%d", factor);
    int rc = g2_setting_set(b, "eoszoomposition", pos);
    if (rc == TETHER_OK) rc = g2_setting_set(b, "eoszoom", fac);
    return rc;
}

/* A USB camera's "usb:BUS,DEV" changes when it is plugged in again; while
 * a device with its ids is on the bus it may be that one. */
static bool g2_may_have_moved(const char *spec)
{
    return strncmp(spec, "usb:", 4) == 0 && usb_may_be_present(spec);
}

/* One storage-info request, its answer freed whether it succeeded or
 * not: a camera that answers busy part-way has had the array allocated
 * (ptp2), and a retry over the same pointer leaked it (808 bytes, seen
 * under ASan in `libtest busy`).  Returns libgphoto2's result. */
static int storageinfo_once(backend *b)
{
    CameraStorageInformation *si = NULL;
    int n = 0;
    int rc = gp_camera_get_storageinfo(b->cam, &si, &n, b->ctx);
    free(si);
    return rc;
}

static int g2_probe(backend *b)
{
    GP_CALL(b, storageinfo_once(b), "probe");
    return TETHER_OK;
}

static int gphoto2_list_cameras(tether_camera_info *out, int max, int *count)
{
    pthread_once(&lists_once, load_lists);
    GPContext *ctx = gp_context_new();
    CameraList *list = NULL;
    gp_list_new(&list);
    int n = autodetect(list, ctx);
    *count = n > 0 ? n : 0;
    for (int i = 0; i < n && i < max; i++) {
        const char *m, *p;
        gp_list_get_name(list, i, &m);
        gp_list_get_value(list, i, &p);
        snprintf(out[i].model, sizeof out[i].model, "%s", m);
        snprintf(out[i].spec, sizeof out[i].spec, "%s", p);
    }
    gp_list_free(list);
    gp_context_unref(ctx);
    return n < 0 ? TETHER_ERR_IO : TETHER_OK;
}

const backend_ops backend_gphoto2 = {
    .list_cameras = gphoto2_list_cameras,
    .name = "gphoto2",
    .retries_busy = true,
    .spec_help = "auto                the first camera found over USB\n"
                 "usb:BUS,DEV         a USB camera (as tether list shows)\n"
                 "ptpip:HOST[:PORT]   a PTP/IP (Wi-Fi) camera",
    .accepts = g2_accepts,
    .may_have_moved = g2_may_have_moved,
    .capabilities = g2_capabilities,
    .resolve = g2_resolve,
    .liveview_zoom = g2_liveview_zoom,
    .open = g2_open,
    .close = g2_close,
    .last_error = g2_last_error,
    .model = g2_model,
    .summary = g2_summary,
    .settings_list = g2_settings_list,
    .setting_get = g2_setting_get,
    .setting_set = g2_setting_set,
    .capture = g2_capture,
    .download = g2_download,
    .delete_file = g2_delete,
    .list_files = g2_list_files,
    .preview = g2_preview,
    .liveview_stop = g2_preview_stop,
    .wait_event = g2_wait_event,
    .focus_drive = g2_focus_drive,
    .probe = g2_probe,
};

