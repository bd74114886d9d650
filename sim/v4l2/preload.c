/*
 * v4l2sim preload: the libc entry points that libtetherv4l2sim.so
 * interposes (LD_PRELOAD) so that unmodified programs see the simulated
 * V4L2 devices of device.h at their configured paths.
 *
 * open/openat (and their 64 and _2 forms) of a device path hand out a
 * device descriptor; close, dup*, fcntl(F_DUPFD*) keep track of it; ioctl
 * and mmap go to the device model (munmap is noted, to count the buffers
 * still mapped); read answers EINVAL (no read/write
 * I/O); poll/ppoll/select/pselect compute the device's events and wait on
 * the real call in slices of at most 10 ms for everything else; the stat
 * family (and statx, access) reports a character device 81:N for a device
 * path, so a regular placeholder file there (or none) looks like a device
 * node; and the sysfs uevent file "/sys/dev/char/81:N/uevent", which
 * v4l-utils reads to learn the device's name, is served from a memfd.
 * Everything else passes straight to the next definition (libc, or a
 * sanitizer's interceptor).
 *
 * Threads: any; the device model has its own lock.  Built without
 * sanitizers (meson.build), so it can be preloaded into any program.
 */
/* the build asks for 64-bit offsets, which makes glibc's headers rename
 * open to open64 (and so on): this file defines both names itself */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "device.h"

#define EXPORT __attribute__((visibility("default")))

/* glibc's internal and compatibility entry points, which its headers do
 * not declare (fortified opens and polls, the pre-2.33 stat ABI) */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);
int __poll_chk(struct pollfd *fds, nfds_t n, int timeout_ms, size_t fdslen);
int __xstat(int ver, const char *path, struct stat *st);
int __xstat64(int ver, const char *path, struct stat *st);
int __lxstat(int ver, const char *path, struct stat *st);
int __lxstat64(int ver, const char *path, struct stat *st);
int __fxstat(int ver, int fd, struct stat *st);
int __fxstat64(int ver, int fd, struct stat *st);
int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags);
int __fxstatat64(int ver, int dirfd, const char *path, struct stat *st, int flags);

typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);
typedef int (*dup_fn)(int);
typedef int (*dup2_fn)(int, int);
typedef int (*dup3_fn)(int, int, int);
typedef int (*ioctl_fn)(int, unsigned long, ...);
typedef ssize_t (*read_fn)(int, void *, size_t);
typedef int (*poll_fn)(struct pollfd *, nfds_t, int);
typedef int (*ppoll_fn)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
typedef int (*select_fn)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
typedef int (*pselect_fn)(int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *);
typedef int (*stat_fn)(const char *, struct stat *);
typedef int (*fstat_fn)(int, struct stat *);
typedef int (*fstatat_fn)(int, const char *, struct stat *, int);
typedef int (*statx_fn)(int, const char *, int, unsigned, struct statx *);
typedef int (*access_fn)(const char *, int);
typedef int (*faccessat_fn)(int, const char *, int, int);
typedef FILE *(*fopen_fn)(const char *, const char *);
typedef int (*xstat_fn)(int, const char *, struct stat *);
typedef int (*fxstat_fn)(int, int, struct stat *);
typedef int (*fxstatat_fn)(int, int, const char *, struct stat *, int);

static struct {
    open_fn open, open64;
    openat_fn openat, openat64;
    dup_fn dup;
    dup2_fn dup2;
    dup3_fn dup3;
    ioctl_fn ioctl;
    read_fn read;
    poll_fn poll;
    ppoll_fn ppoll;
    select_fn select;
    pselect_fn pselect;
    stat_fn stat, lstat;
    fstat_fn fstat;
    fstatat_fn fstatat;
    statx_fn statx;
    access_fn access;
    faccessat_fn faccessat;
    fopen_fn fopen, fopen64;
    xstat_fn xstat, lxstat;
    fxstat_fn fxstat;
    fxstatat_fn fxstatat;
    void *(*mmap)(void *, size_t, int, int, int, off_t);
    int (*munmap)(void *, size_t);
} real;

#define NEXT(name) dlsym(RTLD_NEXT, name)

static void resolve_real(void)
{
    real.open = (open_fn)NEXT("open");
    real.open64 = (open_fn)NEXT("open64");
    real.openat = (openat_fn)NEXT("openat");
    real.openat64 = (openat_fn)NEXT("openat64");
    real.dup = (dup_fn)NEXT("dup");
    real.dup2 = (dup2_fn)NEXT("dup2");
    real.dup3 = (dup3_fn)NEXT("dup3");
    real.ioctl = (ioctl_fn)NEXT("ioctl");
    real.read = (read_fn)NEXT("read");
    real.poll = (poll_fn)NEXT("poll");
    real.ppoll = (ppoll_fn)NEXT("ppoll");
    real.select = (select_fn)NEXT("select");
    real.pselect = (pselect_fn)NEXT("pselect");
    real.stat = (stat_fn)NEXT("stat");
    real.lstat = (stat_fn)NEXT("lstat");
    real.fstat = (fstat_fn)NEXT("fstat");
    real.fstatat = (fstatat_fn)NEXT("fstatat");
    real.statx = (statx_fn)NEXT("statx");
    real.access = (access_fn)NEXT("access");
    real.faccessat = (faccessat_fn)NEXT("faccessat");
    real.fopen = (fopen_fn)NEXT("fopen");
    real.fopen64 = (fopen_fn)NEXT("fopen64");
    real.xstat = (xstat_fn)NEXT("__xstat");
    real.lxstat = (xstat_fn)NEXT("__lxstat");
    real.fxstat = (fxstat_fn)NEXT("__fxstat");
    real.fxstatat = (fxstatat_fn)NEXT("__fxstatat");
    real.mmap = (void *(*)(void *, size_t, int, int, int, off_t))NEXT("mmap");
    real.munmap = (int (*)(void *, size_t))NEXT("munmap");
    v4l2sim_real.close = (int (*)(int))NEXT("close");
    v4l2sim_real.fcntl = (int (*)(int, int, ...))NEXT("fcntl");
    v4l2sim_real.mmap = real.mmap;
}

/* Another library's constructor may call in before ours ran: every
 * wrapper resolves the real functions first.  (dlsym does not call back
 * into these wrappers.) */
static void need_real(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, resolve_real);
}

__attribute__((constructor)) static void preload_init(void)
{
    need_real();
    v4l2sim_init();
}

/* Is path one we may compare with our absolute device paths (relative to
 * the working directory or absolute)?  A NULL path never is. */
static bool relative_ok(int dirfd, const char *path)
{
    return path != NULL && (path[0] == '/' || dirfd == AT_FDCWD);
}

static bool is_empty(const char *path)
{
    return path != NULL && path[0] == '\0';
}

/* ---- open ------------------------------------------------------------------ */

/* A memfd holding the uevent text of device idx, opened as flags asks. */
static int uevent_fd(int idx)
{
    char text[128];
    v4l2sim_uevent_text(idx, text, sizeof text);
    int fd = memfd_create("tether-v4l2sim-uevent", MFD_CLOEXEC);
    if (fd < 0) return -1;
    size_t len = strlen(text);
    if (write(fd, text, len) != (ssize_t)len || lseek(fd, 0, SEEK_SET) != 0) {
        v4l2sim_real.close(fd);
        errno = EIO;
        return -1;
    }
    return fd;
}

/* Opens path if it is ours: *handled says so. */
static int open_ours(const char *path, int flags, bool *handled)
{
    int idx = v4l2sim_path_device(path);
    *handled = true;
    if (idx >= 0) {
        if (!v4l2sim_present(idx)) {
            errno = ENOENT;
            return -1;
        }
        return v4l2sim_open(idx, flags);
    }
    idx = v4l2sim_uevent_device(path);
    if (idx >= 0) return uevent_fd(idx);
    *handled = false;
    return -1;
}

static mode_t mode_arg(int flags, va_list ap)
{
    return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

EXPORT int open(const char *path, int flags, ...)
{
    need_real();
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    bool handled;
    int fd = open_ours(path, flags, &handled);
    return handled ? fd : real.open(path, flags, mode);
}

EXPORT int open64(const char *path, int flags, ...)
{
    need_real();
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    bool handled;
    int fd = open_ours(path, flags, &handled);
    return handled ? fd : real.open64(path, flags, mode);
}

EXPORT int __open_2(const char *path, int flags)
{
    need_real();
    return open(path, flags);
}

EXPORT int __open64_2(const char *path, int flags)
{
    need_real();
    return open64(path, flags);
}

EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
    need_real();
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    bool handled = false;
    int fd = -1;
    if (relative_ok(dirfd, path)) fd = open_ours(path, flags, &handled);
    return handled ? fd : real.openat(dirfd, path, flags, mode);
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
    need_real();
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    bool handled = false;
    int fd = -1;
    if (relative_ok(dirfd, path)) fd = open_ours(path, flags, &handled);
    return handled ? fd : real.openat64(dirfd, path, flags, mode);
}

EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
    need_real();
    return openat(dirfd, path, flags);
}

EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
    need_real();
    return openat64(dirfd, path, flags);
}

static FILE *fopen_ours(const char *path, const char *mode, bool *handled)
{
    int idx = v4l2sim_uevent_device(path);
    *handled = idx >= 0;
    if (idx < 0) return NULL;
    int fd = uevent_fd(idx);
    if (fd < 0) return NULL;
    FILE *f = fdopen(fd, mode);
    if (f == NULL) v4l2sim_real.close(fd);
    return f;
}

EXPORT FILE *fopen(const char *path, const char *mode)
{
    need_real();
    bool handled;
    FILE *f = fopen_ours(path, mode, &handled);
    return handled ? f : real.fopen(path, mode);
}

EXPORT FILE *fopen64(const char *path, const char *mode)
{
    need_real();
    bool handled;
    FILE *f = fopen_ours(path, mode, &handled);
    return handled ? f : real.fopen64(path, mode);
}

/* ---- descriptors ------------------------------------------------------------ */

EXPORT int close(int fd)
{
    need_real();
    v4l2sim_forget(fd);
    return v4l2sim_real.close(fd);
}

EXPORT int dup(int fd)
{
    need_real();
    int n = real.dup(fd);
    if (n >= 0) v4l2sim_dup(fd, n);
    return n;
}

EXPORT int dup2(int fd, int newfd)
{
    need_real();
    if (fd != newfd) v4l2sim_forget(newfd);
    int n = real.dup2(fd, newfd);
    if (n >= 0) v4l2sim_dup(fd, n);
    return n;
}

EXPORT int dup3(int fd, int newfd, int flags)
{
    need_real();
    if (fd != newfd) v4l2sim_forget(newfd);
    int n = real.dup3(fd, newfd, flags);
    if (n >= 0) v4l2sim_dup(fd, n);
    return n;
}

static int fcntl_common(int fd, int cmd, long arg)
{
    int n = v4l2sim_real.fcntl(fd, cmd, arg);
    if (n >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)) v4l2sim_dup(fd, n);
    return n;
}

EXPORT int fcntl(int fd, int cmd, ...)
{
    need_real();
    va_list ap;
    va_start(ap, cmd);
    long arg = va_arg(ap, long);
    va_end(ap);
    return fcntl_common(fd, cmd, arg);
}

EXPORT int fcntl64(int fd, int cmd, ...)
{
    need_real();
    va_list ap;
    va_start(ap, cmd);
    long arg = va_arg(ap, long);
    va_end(ap);
    return fcntl_common(fd, cmd, arg);
}

/* ---- device calls ---------------------------------------------------------- */

EXPORT int ioctl(int fd, unsigned long request, ...)
{
    need_real();
    va_list ap;
    va_start(ap, request);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    if (v4l2sim_owns(fd)) return v4l2sim_ioctl(fd, request, arg);
    return real.ioctl(fd, request, arg);
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t offset)
{
    need_real();
    if (v4l2sim_owns(fd)) return v4l2sim_mmap(addr, len, prot, flags, fd, offset);
    return real.mmap(addr, len, prot, flags, fd, offset);
}

EXPORT int munmap(void *addr, size_t len)
{
    need_real();
    v4l2sim_munmap_note(addr, len);
    return real.munmap(addr, len);
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t offset)
{
    need_real();
    return mmap(addr, len, prot, flags, fd, offset);
}

EXPORT ssize_t read(int fd, void *buf, size_t n)
{
    need_real();
    if (v4l2sim_owns(fd)) {
        errno = EINVAL;
        return -1;
    }
    return real.read(fd, buf, n);
}

/* ---- waiting ----------------------------------------------------------------- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* poll over fds where some are ours: our events are computed, the others
 * polled for real, in slices of at most 10 ms until timeout_ms (-1:
 * forever).  Returns what poll returns. */
static int poll_mixed(struct pollfd *fds, nfds_t n, int timeout_ms, const sigset_t *mask)
{
    int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    struct pollfd small[64];
    struct pollfd *others = n <= 64 ? small : malloc(sizeof *others * n);
    if (others == NULL) {
        errno = ENOMEM;
        return -1;
    }
    int result = 0;
    for (;;) {
        int ready = 0;
        nfds_t k = 0;
        for (nfds_t i = 0; i < n; i++) {
            fds[i].revents = 0;
            if (fds[i].fd >= 0 && v4l2sim_owns(fds[i].fd)) {
                fds[i].revents = v4l2sim_poll_revents(fds[i].fd, fds[i].events);
                if (fds[i].revents) ready++;
                others[i].fd = -1;
            } else {
                others[i] = fds[i];
                k++;
            }
            others[i].revents = 0;
        }
        int slice = 0;
        if (ready == 0) {
            int64_t left = deadline < 0 ? 10 : deadline - now_ms();
            if (left < 0) left = 0;
            slice = left > 10 ? 10 : (int)left;
        }
        int rc;
        if (mask) {
            struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)slice * 1000000};
            rc = real.ppoll(others, n, &ts, mask);
        } else {
            rc = real.poll(others, n, slice);
        }
        if (rc < 0) {
            result = rc;
            break;
        }
        for (nfds_t i = 0; i < n; i++)
            if (others[i].fd >= 0 && others[i].revents) {
                fds[i].revents = others[i].revents;
                ready++;
            }
        (void)k;
        if (ready > 0 || (deadline >= 0 && now_ms() >= deadline)) {
            result = ready;
            break;
        }
    }
    if (others != small) free(others);
    return result;
}

static bool any_ours(const struct pollfd *fds, nfds_t n)
{
    for (nfds_t i = 0; i < n; i++)
        if (fds[i].fd >= 0 && v4l2sim_owns(fds[i].fd)) return true;
    return false;
}

EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
    need_real();
    if (!any_ours(fds, n)) return real.poll(fds, n, timeout_ms);
    return poll_mixed(fds, n, timeout_ms, NULL);
}

EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout_ms, size_t fdslen)
{
    need_real();
    (void)fdslen;
    return poll(fds, n, timeout_ms);
}

static int timespec_ms(const struct timespec *ts)
{
    if (ts == NULL) return -1;
    int64_t ms = (int64_t)ts->tv_sec * 1000 + (ts->tv_nsec + 999999) / 1000000;
    return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *timeout, const sigset_t *mask)
{
    need_real();
    if (!any_ours(fds, n)) return real.ppoll(fds, n, timeout, mask);
    sigset_t none;
    sigemptyset(&none);
    return poll_mixed(fds, n, timespec_ms(timeout), mask ? mask : &none);
}

/* select over poll_mixed: rebuilds the sets from the results. */
static int select_mixed(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, int timeout_ms,
                        const sigset_t *mask)
{
    struct pollfd p[FD_SETSIZE];
    nfds_t n = 0;
    for (int fd = 0; fd < nfds && fd < FD_SETSIZE; fd++) {
        short ev = 0;
        if (rd && FD_ISSET(fd, rd)) ev |= POLLIN;
        if (wr && FD_ISSET(fd, wr)) ev |= POLLOUT;
        if (ex && FD_ISSET(fd, ex)) ev |= POLLPRI;
        if (ev) p[n++] = (struct pollfd){.fd = fd, .events = ev};
    }
    int rc = poll_mixed(p, n, timeout_ms, mask);
    if (rc < 0) return rc;
    if (rd) FD_ZERO(rd);
    if (wr) FD_ZERO(wr);
    if (ex) FD_ZERO(ex);
    int count = 0;
    for (nfds_t i = 0; i < n; i++) {
        short r = p[i].revents;
        if (r & POLLNVAL) {
            errno = EBADF;
            return -1;
        }
        bool err = (r & (POLLERR | POLLHUP)) != 0;
        if (rd && (p[i].events & POLLIN) && (r & POLLIN || err)) FD_SET(p[i].fd, rd), count++;
        if (wr && (p[i].events & POLLOUT) && (r & POLLOUT || err)) FD_SET(p[i].fd, wr), count++;
        if (ex && (p[i].events & POLLPRI) && (r & POLLPRI)) FD_SET(p[i].fd, ex), count++;
    }
    return count;
}

static bool sets_have_ours(int nfds, fd_set *rd, fd_set *wr, fd_set *ex)
{
    for (int fd = 0; fd < nfds && fd < FD_SETSIZE; fd++)
        if (v4l2sim_owns(fd) && ((rd && FD_ISSET(fd, rd)) || (wr && FD_ISSET(fd, wr)) || (ex && FD_ISSET(fd, ex))))
            return true;
    return false;
}

EXPORT int select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *tv)
{
    need_real();
    if (!sets_have_ours(nfds, rd, wr, ex)) return real.select(nfds, rd, wr, ex, tv);
    int ms = tv ? (int)(tv->tv_sec * 1000 + (tv->tv_usec + 999) / 1000) : -1;
    return select_mixed(nfds, rd, wr, ex, ms, NULL);
}

EXPORT int pselect(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, const struct timespec *ts,
                   const sigset_t *mask)
{
    need_real();
    if (!sets_have_ours(nfds, rd, wr, ex)) return real.pselect(nfds, rd, wr, ex, ts, mask);
    sigset_t none;
    sigemptyset(&none);
    return select_mixed(nfds, rd, wr, ex, timespec_ms(ts), mask ? mask : &none);
}

/* ---- stat and access -------------------------------------------------------- */

/* Fills st as a character device node of device idx. */
static void fake_stat(int idx, struct stat *st)
{
    memset(st, 0, sizeof *st);
    st->st_mode = S_IFCHR | 0660;
    st->st_rdev = v4l2sim_rdev(idx);
    st->st_dev = makedev(0, 5);
    st->st_ino = 0x7e7e0000u + (unsigned)idx;
    st->st_nlink = 1;
    st->st_blksize = 4096;
    clock_gettime(CLOCK_REALTIME, &st->st_mtim);
    st->st_atim = st->st_ctim = st->st_mtim;
}

/* stat of path if it is a device path: 1 handled (rc in *rc), 0 not. */
static int stat_ours(const char *path, struct stat *st, int *rc)
{
    int idx = v4l2sim_path_device(path);
    if (idx < 0) return 0;
    if (!v4l2sim_present(idx)) {
        errno = ENOENT;
        *rc = -1;
    } else {
        fake_stat(idx, st);
        *rc = 0;
    }
    return 1;
}

EXPORT int stat(const char *path, struct stat *st)
{
    need_real();
    int rc;
    return stat_ours(path, st, &rc) ? rc : real.stat(path, st);
}

EXPORT int stat64(const char *path, struct stat64 *st)
{
    need_real();
    return stat(path, (struct stat *)st);
}

EXPORT int lstat(const char *path, struct stat *st)
{
    need_real();
    int rc;
    return stat_ours(path, st, &rc) ? rc : real.lstat(path, st);
}

EXPORT int lstat64(const char *path, struct stat64 *st)
{
    need_real();
    return lstat(path, (struct stat *)st);
}

EXPORT int fstat(int fd, struct stat *st)
{
    need_real();
    int idx = v4l2sim_fd_device(fd);
    if (idx >= 0) {
        fake_stat(idx, st);
        return 0;
    }
    return real.fstat(fd, st);
}

EXPORT int fstat64(int fd, struct stat64 *st)
{
    need_real();
    return fstat(fd, (struct stat *)st);
}

EXPORT int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
    need_real();
    if (is_empty(path) && (flags & AT_EMPTY_PATH)) return fstat(dirfd, st);
    int rc;
    if (relative_ok(dirfd, path) && stat_ours(path, st, &rc)) return rc;
    return real.fstatat(dirfd, path, st, flags);
}

EXPORT int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
    need_real();
    return fstatat(dirfd, path, (struct stat *)st, flags);
}

EXPORT int __xstat(int ver, const char *path, struct stat *st)
{
    need_real();
    int rc;
    return stat_ours(path, st, &rc) ? rc : real.xstat(ver, path, st);
}

EXPORT int __xstat64(int ver, const char *path, struct stat *st)
{
    need_real();
    return __xstat(ver, path, st);
}

EXPORT int __lxstat(int ver, const char *path, struct stat *st)
{
    need_real();
    int rc;
    return stat_ours(path, st, &rc) ? rc : real.lxstat(ver, path, st);
}

EXPORT int __lxstat64(int ver, const char *path, struct stat *st)
{
    need_real();
    return __lxstat(ver, path, st);
}

EXPORT int __fxstat(int ver, int fd, struct stat *st)
{
    need_real();
    int idx = v4l2sim_fd_device(fd);
    if (idx >= 0) {
        fake_stat(idx, st);
        return 0;
    }
    return real.fxstat(ver, fd, st);
}

EXPORT int __fxstat64(int ver, int fd, struct stat *st)
{
    need_real();
    return __fxstat(ver, fd, st);
}

EXPORT int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags)
{
    need_real();
    int rc;
    if (relative_ok(dirfd, path) && stat_ours(path, st, &rc)) return rc;
    return real.fxstatat(ver, dirfd, path, st, flags);
}

EXPORT int __fxstatat64(int ver, int dirfd, const char *path, struct stat *st, int flags)
{
    need_real();
    return __fxstatat(ver, dirfd, path, st, flags);
}

EXPORT int statx(int dirfd, const char *path, int flags, unsigned mask, struct statx *sx)
{
    need_real();
    int idx = -1;
    if (is_empty(path) && (flags & AT_EMPTY_PATH)) idx = v4l2sim_fd_device(dirfd);
    else if (relative_ok(dirfd, path)) idx = v4l2sim_path_device(path);
    if (idx < 0) return real.statx(dirfd, path, flags, mask, sx);
    if (path[0] && !v4l2sim_present(idx)) {
        errno = ENOENT;
        return -1;
    }
    struct stat st;
    fake_stat(idx, &st);
    memset(sx, 0, sizeof *sx);
    sx->stx_mask = STATX_BASIC_STATS;
    sx->stx_mode = (uint16_t)st.st_mode;
    sx->stx_nlink = 1;
    sx->stx_ino = st.st_ino;
    sx->stx_rdev_major = major(st.st_rdev);
    sx->stx_rdev_minor = minor(st.st_rdev);
    sx->stx_dev_major = major(st.st_dev);
    sx->stx_dev_minor = minor(st.st_dev);
    sx->stx_blksize = 4096;
    return 0;
}

EXPORT int access(const char *path, int mode)
{
    need_real();
    int idx = v4l2sim_path_device(path);
    if (idx < 0) return real.access(path, mode);
    if (!v4l2sim_present(idx)) {
        errno = ENOENT;
        return -1;
    }
    return (mode & X_OK) ? (errno = EACCES, -1) : 0;
}

EXPORT int faccessat(int dirfd, const char *path, int mode, int flags)
{
    need_real();
    if (relative_ok(dirfd, path) && v4l2sim_path_device(path) >= 0)
        return access(path, mode);
    return real.faccessat(dirfd, path, mode, flags);
}
