/*
 * atomic: files that appear whole or not at all.
 *
 * A file is written under a temporary name (".NAME.tmp-XXXXXX", hidden,
 * in the same folder), flushed with fsync, then renamed into place with
 * RENAME_NOREPLACE, so an existing file is never overwritten, and the
 * folder is fsynced so the name survives a crash.  A process killed at any
 * moment leaves either no file or the complete one (and at most a
 * temporary file, which store_atomic_sweep removes).
 *
 * Failures of this machine's disk are TETHER_ERR_DISK_FULL (ENOSPC,
 * EDQUOT) or TETHER_ERR_STORAGE (read-only, missing folder, no permission,
 * I/O error), never TETHER_ERR_IO, which means the camera's link; errno
 * (and store_atomic.err) says which.
 *
 * One writer per store_atomic; any thread.
 */
#pragma once

#include <stddef.h>

typedef struct store_atomic {
    int fd;                 /* write here */
    int err;                /* errno of the last failure, 0 if none */
    char tmp[4096];
    char dir[4096];
} store_atomic;

/* TETHER_ERR_DISK_FULL for ENOSPC and EDQUOT, TETHER_ERR_STORAGE for any
 * other errno of a local file operation. */
int store_err_from_errno(int e);
/* Creates the temporary file in dir (which must exist).  Returns 0 or a
 * tether_err (DISK_FULL, STORAGE; errno says why). */
int store_atomic_begin(store_atomic *a, const char *dir);
/* fsync, then renames to dir/name unless that exists.  Returns 0,
 * TETHER_ERR_EXISTS (the temporary file is kept: try another name), or
 * DISK_FULL / STORAGE (the temporary file is removed; errno and a->err
 * say why). */
int store_atomic_commit(store_atomic *a, const char *name);
/* store_atomic_commit without the folder's fsync: for several files
 * named at once, followed by one store_fsync_dir. */
int store_atomic_commit_batch(store_atomic *a, const char *name);
/* fsyncs a folder, so that the names made in it survive a crash. */
void store_fsync_dir(const char *dir);
/* Removes the temporary file. */
void store_atomic_abort(store_atomic *a);
/* Writes all n bytes (again after a signal or a short write).  Returns 0,
 * or -1 with errno set. */
int store_write_all(int fd, const void *p, size_t n);
/* Removes the temporary files that writers killed before their commit
 * left in dir (each live writer holds an flock on its own, so files being
 * written now are kept).  Returns how many were removed. */
int store_atomic_sweep(const char *dir);
/* Creates dir and its parents (mode 0755).  Returns 0, or DISK_FULL /
 * STORAGE with errno set (ENOTDIR: something else has the name). */
int store_mkdirs(const char *dir);
/* Commits under name; if it exists, under "base-1.ext", "base-2.ext", ...
 * Writes the final path (dir/name) into path.  Returns 0 or an error. */
int store_atomic_commit_unique(store_atomic *a, const char *name, char *path, size_t size);
/* Picks a base name such that base + each of exts (".jpg", ".cr2") is free
 * in dir: name_for_ext(i) = base + exts[i].  Returns 0 and the base in out. */
int store_unique_base(const char *dir, const char *base, const char *const *exts, int n_exts,
                      char *out, size_t size);
