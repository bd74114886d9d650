/*
 * atomic: see atomic.h.
 */
#include "atomic.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tether/errors.h"

int store_err_from_errno(int e)
{
    return e == ENOSPC || e == EDQUOT ? TETHER_ERR_DISK_FULL : TETHER_ERR_STORAGE;
}

/* Fails a with errno e: the temporary file goes, errno stays e. */
static int fail_errno(store_atomic *a, int e)
{
    store_atomic_abort(a);
    a->err = e;
    errno = e;
    return store_err_from_errno(e);
}

int store_atomic_begin(store_atomic *a, const char *dir)
{
    a->fd = -1;
    a->err = 0;
    a->tmp[0] = '\0';
    if (snprintf(a->dir, sizeof a->dir, "%s", dir) >= (int)sizeof a->dir) return TETHER_ERR_INVALID_ARGUMENT;
    if (snprintf(a->tmp, sizeof a->tmp, "%s/.tether.tmp-XXXXXX", dir) >= (int)sizeof a->tmp) {
        a->tmp[0] = '\0';
        return TETHER_ERR_INVALID_ARGUMENT;
    }
    a->fd = mkostemp(a->tmp, O_CLOEXEC);
    if (a->fd < 0) {
        a->tmp[0] = '\0';
        return fail_errno(a, errno);
    }
    flock(a->fd, LOCK_EX); /* held while this writer lives: store_atomic_sweep leaves it alone */
    fchmod(a->fd, 0644); /* mkostemp makes 0600: photos are for sharing */
    return TETHER_OK;
}

void store_fsync_dir(const char *dir)
{
    int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d >= 0) {
        fsync(d);
        close(d);
    }
}

int store_atomic_commit(store_atomic *a, const char *name)
{
    int rc = store_atomic_commit_batch(a, name);
    if (rc == TETHER_OK) store_fsync_dir(a->dir);
    return rc;
}

int store_atomic_commit_batch(store_atomic *a, const char *name)
{
    if (a->fd >= 0) {
        /* a full disk may show only here (delayed allocation, NFS) */
        int fd = a->fd;
        a->fd = -1;
        if (fsync(fd) != 0) {
            int e = errno;
            close(fd);
            return fail_errno(a, e);
        }
        if (close(fd) != 0) return fail_errno(a, errno);
    }
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", a->dir, name);
    if (renameat2(AT_FDCWD, a->tmp, AT_FDCWD, path, RENAME_NOREPLACE) != 0) {
        if (errno == EEXIST) return TETHER_ERR_EXISTS;
        return fail_errno(a, errno);
    }
    a->tmp[0] = '\0';
    return TETHER_OK;
}

void store_atomic_abort(store_atomic *a)
{
    if (a->fd >= 0) close(a->fd);
    a->fd = -1;
    if (a->tmp[0]) unlink(a->tmp);
    a->tmp[0] = '\0';
}

int store_mkdirs(const char *dir)
{
    char p[4096];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p) return TETHER_ERR_INVALID_ARGUMENT;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) return store_err_from_errno(errno);
        *s = '/';
    }
    if (mkdir(p, 0755) != 0 && errno != EEXIST) return store_err_from_errno(errno);
    struct stat st;
    if (stat(p, &st) != 0) return store_err_from_errno(errno);
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return TETHER_ERR_STORAGE;
    }
    return TETHER_OK;
}

/* "IMG_0001.jpg", k -> "IMG_0001-k.jpg" */
static void numbered(const char *name, int k, char *out, size_t size)
{
    const char *dot = strrchr(name, '.');
    if (k == 0) snprintf(out, size, "%s", name);
    else if (dot && dot != name) snprintf(out, size, "%.*s-%d%s", (int)(dot - name), name, k, dot);
    else snprintf(out, size, "%s-%d", name, k);
}

int store_atomic_commit_unique(store_atomic *a, const char *name, char *path, size_t size)
{
    char n[1024];
    for (int k = 0; k < 100000; k++) {
        numbered(name, k, n, sizeof n);
        int rc = store_atomic_commit(a, n);
        if (rc == TETHER_OK) {
            snprintf(path, size, "%s/%s", a->dir, n);
            return TETHER_OK;
        }
        if (rc != TETHER_ERR_EXISTS) return rc;
    }
    store_atomic_abort(a);
    return TETHER_ERR_EXISTS;
}

int store_unique_base(const char *dir, const char *base, const char *const *exts, int n_exts,
                      char *out, size_t size)
{
    for (int k = 0; k < 100000; k++) {
        char b[1024], p[8192];
        if (k == 0) snprintf(b, sizeof b, "%s", base);
        else snprintf(b, sizeof b, "%s-%d", base, k);
        bool free_all = true;
        for (int i = 0; i < n_exts && free_all; i++) {
            snprintf(p, sizeof p, "%s/%s%s", dir, b, exts[i]);
            free_all = access(p, F_OK) != 0;
        }
        if (free_all) {
            snprintf(out, size, "%s", b);
            return TETHER_OK;
        }
    }
    return TETHER_ERR_EXISTS;
}

int store_write_all(int fd, const void *p, size_t n)
{
    const char *b = p;
    while (n > 0) {
        ssize_t k = write(fd, b, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

int store_atomic_sweep(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) return 0;
    int removed = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, ".tether.tmp-", 12) != 0) continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) continue;
        /* a live writer holds the lock; a dead one's lock died with it */
        if (flock(fd, LOCK_EX | LOCK_NB) == 0 && unlink(path) == 0) removed++;
        close(fd);
    }
    closedir(d);
    return removed;
}
