/*
 * import: import from the camera's card (jobs/import.h).
 *
 * A run, in order:
 *   1. takes an exclusive flock on LEDGER.lock (one import per ledger),
 *      opens the ledger and removes the temporary files that a killed
 *      run left in the destination (store_atomic_sweep);
 *   2. finds this camera's unfinished job (resume), or lists the card and
 *      creates a job: the files picked (all, or those not in the ledger's
 *      "imported" set), in card order, each with a local name reserved in
 *      the same transaction: the card's name, or NAME-1.EXT, NAME-2.EXT...
 *      when a file or another reservation already has it;
 *   3. for each file not done: if its reserved name exists with the card's
 *      size, the previous run got that far (a file gets its name only once
 *      it is whole on disk) and only the record was lost; otherwise it
 *      downloads into a temporary file (tether_file_download_fd), compares
 *      the size with the card's and starts the writeback.  Every few files
 *      (8, 32 MB or half a second) the batch is fsynced, renamed into
 *      place, the folder fsynced once and the files recorded as done in
 *      one commit, so the disk writes while the next files arrive.  Then,
 *      for each, it calls on_file, records that, and (delete_after)
 *      deletes the card's copy;
 *   4. marks the job done, or leaves it cancelled (stop) or running (the
 *      process died), for the next run to resume.
 * A download that fails because the camera is gone waits for libtether's
 * reconnection, then tries the same file again.  A file that cannot be
 * written for want of storage (this machine's disk full, the folder
 * read-only, missing or not ours: TETHER_ERR_DISK_FULL or STORAGE, from
 * the store or the camera's download, or an IO error that a look at the
 * folder explains) stops the job, left cancelled for a later resume:
 * every later file would fail the same way.  Any other failure fails that
 * file only (tried again by a later resume or "new" import).  The job ends
 * DONE (every file in), INCOMPLETE or FAILED (none in), with err and the
 * message saying why.
 *
 * One thread: the caller's.  Uses libtether's public API and the ledger.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "store/atomic.h"
#include "store/ledger.h"
#include "jobs/import.h"

#define POLL_NS 100000000LL /* stop() is asked at least this often while waiting */
#define SIZE_RETRIES 2      /* downloads of a file whose size came out wrong */

typedef struct run {
    tether_camera *cam;
    const tether_import_options *o;
    tether_import_result *r;
    ledger *db;
    char camera[256];       /* the camera's identity in the ledger: model and serial */
    char dest[4096];
    int64_t job;
    int files_done;
    uint64_t bytes_done;
    double t0;
    tether_import_progress p;
    tether_import_stop stop;  /* how the job was asked to stop, once it was */
    int storage;            /* TETHER_ERR_DISK_FULL or STORAGE once a file could not be written: the job stops */
    char ledger_dir[4200];  /* the ledger's folder */
    char message[512];
} run;

static bool is_storage(int err)
{
    return err == TETHER_ERR_DISK_FULL || err == TETHER_ERR_STORAGE;
}

/* A local write in dir that failed with rc, said exactly: rc if it says
 * DISK_FULL or STORAGE already; otherwise a look at dir: one this process
 * cannot write (read-only file system, no permission, gone) is STORAGE,
 * one with less room than need bytes and a margin (or no inode) is
 * DISK_FULL; else rc. */
static int local_cause(const char *dir, int rc, uint64_t need)
{
    if (rc == TETHER_OK || is_storage(rc) || rc == TETHER_ERR_CANCELLED || rc == TETHER_ERR_DISCONNECTED) return rc;
    if (access(dir, W_OK) != 0) return TETHER_ERR_STORAGE;
    struct statvfs sv;
    if (statvfs(dir, &sv) == 0 &&
        ((uint64_t)sv.f_bavail * sv.f_frsize < need + (64u << 10) || (sv.f_files > 0 && sv.f_favail == 0)))
        return TETHER_ERR_DISK_FULL;
    return rc;
}

static bool stopped(run *u)
{
    if (u->stop == TETHER_IMPORT_GO_ON && u->o->stop) u->stop = u->o->stop(u->o->user);
    return u->stop != TETHER_IMPORT_GO_ON;
}

/* Fills the common progress fields and calls on_progress. */
static void emit(run *u, tether_import_event_kind kind, const char *camera_path, const char *local, int err,
                 const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void emit(run *u, tether_import_event_kind kind, const char *camera_path, const char *local, int err,
                 const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(u->message, sizeof u->message, fmt, ap);
    va_end(ap);
    if (kind == TETHER_IMPORT_FILE_FAILED) snprintf(u->r->message, sizeof u->r->message, "%s", u->message);
    if (u->o->on_progress == NULL) return;
    tether_import_progress *p = &u->p;
    double elapsed = clock_mono_s() - u->t0;
    p->kind = kind;
    p->job = u->job;
    p->files_done = u->files_done;
    p->files_failed = u->r->failed;
    p->bytes_done = u->bytes_done;
    p->rate_bps = elapsed > 0.05 && u->r->bytes_downloaded > 0 ? (double)u->r->bytes_downloaded / elapsed : 0;
    uint64_t left = p->bytes_total > p->bytes_done ? p->bytes_total - p->bytes_done : 0;
    p->eta_s = left == 0 ? 0 : p->rate_bps > 0 ? (double)left / p->rate_bps : -1;
    p->camera_path = camera_path;
    p->local = local;
    p->err = err;
    p->message = u->message;
    u->o->on_progress(p, u->o->user);
    p->downloaded = false;
}

/* Waits for the camera to come back; false when stopped first. */
static bool wait_for_camera(run *u, const char *camera_path)
{
    emit(u, TETHER_IMPORT_CAMERA_LOST, camera_path, NULL, TETHER_ERR_DISCONNECTED,
         "The camera is gone; waiting for it to come back.");
    while (!tether_camera_connected(u->cam)) {
        if (stopped(u)) return false;
        clock_sleep_ns(POLL_NS);
    }
    emit(u, TETHER_IMPORT_CAMERA_BACK, camera_path, NULL, 0, "The camera is back.");
    return true;
}

/* The card's file name as a safe local name: no '/', no control
 * characters, not hidden (a leading '.' becomes '_'), not empty. */
static void local_name(const char *camera_path, char *out, size_t size)
{
    const char *base = strrchr(camera_path, '/');
    base = base ? base + 1 : camera_path;
    size_t n = 0;
    for (const char *c = base; *c && n + 1 < size; c++, n++)
        out[n] = (unsigned char)*c < 0x20 || *c == 0x7f || (n == 0 && *c == '.') ? '_' : *c;
    out[n] = '\0';
    if (n == 0) snprintf(out, size, "file");
}

static bool name_free(run *u, const char *name)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", u->dest, name);
    struct stat st;
    return lstat(path, &st) != 0 && errno == ENOENT && !ledger_name_taken(u->db, u->dest, name);
}

/* Reserves a free name for the card file: its own, else NAME-k.EXT. */
static int reserve_name(run *u, const char *camera_path, char *out, size_t size)
{
    char name[256];
    local_name(camera_path, name, sizeof name);
    if (name_free(u, name)) {
        snprintf(out, size, "%s", name);
        return TETHER_OK;
    }
    const char *dot = strrchr(name, '.');
    int stem = dot && dot != name ? (int)(dot - name) : (int)strlen(name);
    for (int k = 1; k < 100000; k++) {
        snprintf(out, size, "%.*s-%d%s", stem, name, k, name + stem);
        if (name_free(u, out)) return TETHER_OK;
    }
    return TETHER_ERR_EXISTS;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const tether_file *)a)->path, ((const tether_file *)b)->path);
}

/* Lists the card and records a new job with its files and names. */
static int create_job(run *u)
{
    tether_file_list *list = NULL;
    int rc;
    while ((rc = tether_files_list(u->cam, &list)) == TETHER_ERR_DISCONNECTED)
        if (!wait_for_camera(u, NULL)) return TETHER_ERR_DISCONNECTED;
    if (rc != TETHER_OK) {
        char detail[256];
        tether_camera_last_error(u->cam, detail, sizeof detail);
        snprintf(u->r->message, sizeof u->r->message, "cannot list the card: %s", detail);
        return rc;
    }
    qsort(list->items, (size_t)list->count, sizeof *list->items, by_path);
    rc = ledger_begin(u->db);
    if (rc != TETHER_OK) goto out;
    ledger_job j = {.mode = u->o->mode, .delete_after = u->o->delete_after};
    snprintf(j.camera, sizeof j.camera, "%s", u->camera);
    snprintf(j.dest, sizeof j.dest, "%s", u->dest);
    rc = ledger_job_add(u->db, &j);
    int seq = 0;
    for (int i = 0; rc == TETHER_OK && i < list->count; i++) {
        const tether_file *tf = &list->items[i];
        if (u->o->mode == TETHER_IMPORT_NEW && ledger_was_imported(u->db, u->camera, tf->path, tf->size, tf->mtime))
            continue;
        ledger_file f = {.seq = seq++, .size = tf->size, .mtime = tf->mtime};
        snprintf(f.camera_path, sizeof f.camera_path, "%s", tf->path);
        rc = reserve_name(u, tf->path, f.local, sizeof f.local);
        if (rc == TETHER_OK) rc = ledger_file_add(u->db, j.id, &f);
    }
    if (rc == TETHER_OK) rc = ledger_commit(u->db);
    else ledger_rollback(u->db);
    if (rc == TETHER_OK) u->job = j.id;
    else snprintf(u->r->message, sizeof u->r->message, "cannot record the job in the ledger");
out:
    tether_file_list_free(list);
    return rc;
}

/* Is the file at path exactly size bytes long? */
static bool has_size(const char *path, uint64_t size)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == size;
}

/* After a file is recorded as done: on_file, then the card's copy. */
static void finish_file(run *u, ledger_file *f, const char *path)
{
    bool delete_ok = true;
    if (!f->reported) {
        if (u->o->on_file) delete_ok = u->o->on_file(path, f->camera_path, u->o->user);
        ledger_file_reported(u->db, u->job, f->camera_path);
        f->reported = true;
    }
    if (!u->o->delete_after || f->deleted || !delete_ok) return;
    int rc;
    while ((rc = tether_file_delete(u->cam, f->camera_path)) == TETHER_ERR_DISCONNECTED)
        if (!wait_for_camera(u, f->camera_path)) return;
    if (rc == TETHER_OK || rc == TETHER_ERR_NOT_FOUND) {
        ledger_file_deleted(u->db, u->job, f->camera_path);
        f->deleted = true;
        if (rc == TETHER_OK) u->r->deleted++;
        emit(u, TETHER_IMPORT_FILE_DELETED, f->camera_path, path, 0, "Deleted %s from the card.", f->camera_path);
    } else {
        emit(u, TETHER_IMPORT_FILE_FAILED, f->camera_path, path, rc,
             "%s is on disk but could not be deleted from the card: %s", f->camera_path, tether_strerror(rc));
    }
}

/* Counts, records and reports a file that this run could not import (a
 * later resume or "new" import tries it again). */
static void file_failed(run *u, const ledger_file *f, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void file_failed(run *u, const ledger_file *f, int err, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    u->r->failed++;
    if (is_storage(err) && u->storage == 0) u->storage = err;
    u->r->err = u->storage ? u->storage : err;
    ledger_file_failed(u->db, u->job, f->camera_path);
    emit(u, TETHER_IMPORT_FILE_FAILED, f->camera_path, NULL, err, "%s", msg);
}

/* Records files that are whole under their names (fsynced, folder
 * fsynced) as done, in one transaction, then reports each. */
static int files_done(run *u, ledger_file **files, const bool *downloaded, int n)
{
    int rc = ledger_begin(u->db);
    for (int i = 0; rc == TETHER_OK && i < n; i++) {
        /* without on_file there is nothing to report: marked with done */
        files[i]->reported = u->o->on_file == NULL;
        rc = ledger_file_done(u->db, u->job, u->camera, files[i], files[i]->reported);
    }
    if (rc == TETHER_OK) rc = ledger_commit(u->db);
    else ledger_rollback(u->db);
    if (rc != TETHER_OK) {
        snprintf(u->r->message, sizeof u->r->message, "cannot record files as done in the ledger");
        return rc;
    }
    for (int i = 0; i < n; i++) {
        ledger_file *f = files[i];
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", u->dest, f->local);
        u->files_done++;
        u->bytes_done += f->size;
        if (downloaded[i]) {
            u->r->downloaded++;
            u->r->bytes_downloaded += f->size;
        } else {
            u->r->already++;
        }
        u->p.downloaded = downloaded[i];
        emit(u, TETHER_IMPORT_FILE_DONE, f->camera_path, path, 0, "%s -> %s", f->camera_path, path);
        finish_file(u, f, path);
    }
    return TETHER_OK;
}

/* Downloads go to temporary files whose writeback starts at once; every
 * few files (or seconds) the batch is fsynced, renamed into place with one
 * fsync of the folder, and recorded with one commit: the disk works while
 * the next files arrive, and a file never has its name before it is whole
 * on disk. */
enum { BATCH_FILES = 8 };
#define BATCH_BYTES (32ull << 20)
#define BATCH_SECONDS 0.5

typedef struct batch {
    int n;
    ledger_file *files[BATCH_FILES];
    store_atomic tmp[BATCH_FILES];
    uint64_t bytes;
    double started;
} batch;

static void batch_abort(batch *b)
{
    for (int i = 0; i < b->n; i++) store_atomic_abort(&b->tmp[i]);
    b->n = 0;
    b->bytes = 0;
}

/* Names and records the batch.  A file whose reserved name was taken
 * meanwhile (by someone else) gets another. */
static int batch_flush(run *u, batch *b)
{
    if (b->n == 0) return TETHER_OK;
    bool downloaded[BATCH_FILES];
    int named = 0;
    ledger_file *done[BATCH_FILES];
    for (int i = 0; i < b->n; i++) {
        ledger_file *f = b->files[i];
        int c = store_atomic_commit_batch(&b->tmp[i], f->local);
        if (c == TETHER_ERR_EXISTS) {
            char name[512];
            c = reserve_name(u, f->camera_path, name, sizeof name);
            if (c == TETHER_OK) c = ledger_file_rename(u->db, u->job, f->camera_path, name);
            if (c == TETHER_OK) {
                LOG_WARN("import", "%s/%s appeared meanwhile; %s goes to %s instead", u->dest, f->local,
                         f->camera_path, name);
                snprintf(f->local, sizeof f->local, "%s", name);
                c = store_atomic_commit_batch(&b->tmp[i], f->local);
            }
            if (c != TETHER_OK) store_atomic_abort(&b->tmp[i]);
        }
        if (c != TETHER_OK) {
            c = local_cause(u->dest, c, 0);
            file_failed(u, f, c, "%s could not be written to %s: %s", f->camera_path, u->dest, tether_strerror(c));
            continue;
        }
        downloaded[named] = true;
        done[named++] = f;
    }
    store_fsync_dir(u->dest);
    b->n = 0;
    b->bytes = 0;
    /* a file that could not be named is failed above; the others go on */
    return files_done(u, done, downloaded, named);
}

/* Downloads one file into a temporary file of the batch, checking its
 * size.  Returns 0, TETHER_ERR_CANCELLED (stopped while the camera was
 * away), or the file's error. */
static int fetch_to_batch(run *u, batch *b, ledger_file *f)
{
    store_atomic *a = &b->tmp[b->n];
    for (int attempt = 0;;) {
        int rc = store_atomic_begin(a, u->dest);
        if (rc != TETHER_OK) return local_cause(u->dest, rc, f->size);
        rc = tether_file_download_fd(u->cam, f->camera_path, a->fd);
        if (rc == TETHER_ERR_DISCONNECTED) {
            store_atomic_abort(a);
            if (batch_flush(u, b) != TETHER_OK) return TETHER_ERR_IO; /* keep what is here */
            a = &b->tmp[0];
            if (!wait_for_camera(u, f->camera_path)) return TETHER_ERR_CANCELLED;
            continue;
        }
        if (rc != TETHER_OK) {
            store_atomic_abort(a);
            return rc == TETHER_ERR_IO ? local_cause(u->dest, rc, f->size) : rc; /* the camera's, or our write's */
        }
        struct stat st;
        if (fstat(a->fd, &st) == 0 && (uint64_t)st.st_size == f->size) break;
        LOG_WARN("import", "%s: %lld bytes arrived, the card says %llu", f->camera_path, (long long)st.st_size,
                 (unsigned long long)f->size);
        store_atomic_abort(a);
        if (++attempt >= SIZE_RETRIES) return TETHER_ERR_IO;
    }
    sync_file_range(a->fd, 0, 0, SYNC_FILE_RANGE_WRITE); /* start the writeback now */
    if (b->n == 0) b->started = clock_mono_s();
    b->files[b->n++] = f;
    b->bytes += f->size;
    return TETHER_OK;
}

static int run_job(run *u)
{
    ledger_file *files = NULL;
    int n = 0;
    int rc = ledger_job_files(u->db, u->job, &files, &n);
    if (rc != TETHER_OK) {
        snprintf(u->r->message, sizeof u->r->message, "cannot read the job from the ledger");
        return rc;
    }
    u->r->files_total = u->p.files_total = n;
    for (int i = 0; i < n; i++) {
        u->r->bytes_total += files[i].size;
        if (strcmp(files[i].state, "done") == 0) {
            u->files_done++;
            u->bytes_done += files[i].size;
        }
    }
    u->p.bytes_total = u->r->bytes_total;
    emit(u, TETHER_IMPORT_STARTED, NULL, NULL, 0, "%s %d files (%d done before) into %s.",
         u->r->resumed ? "Resuming the import of" : "Importing", n, u->files_done, u->dest);
    batch b = {0};
    bool stop = false;
    int cancels = 0;
    for (int i = 0; i < n && !stop && rc == TETHER_OK && u->storage == 0; i++) {
        ledger_file *f = &files[i];
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", u->dest, f->local);
        if (strcmp(f->state, "done") == 0) {
            u->r->already++;
            finish_file(u, f, path);
            continue;
        }
        if ((stop = stopped(u))) break;
        if (has_size(path, f->size)) {
            /* renamed into place before the last run died, not recorded */
            bool no = false;
            ledger_file *one[1] = {f};
            rc = files_done(u, one, &no, 1);
            continue;
        }
        int fr = fetch_to_batch(u, &b, f);
        if (fr == TETHER_ERR_CANCELLED) {
            /* our stop, or someone cancelled the camera's jobs: try again */
            if ((stop = stopped(u))) break;
            if (++cancels <= 3) {
                i--;
                continue;
            }
        }
        if (is_storage(fr)) {
            file_failed(u, f, fr, "%s could not be written to %s: %s", f->camera_path, u->dest, tether_strerror(fr));
            continue;
        }
        if (fr != TETHER_OK) {
            char detail[256] = "";
            tether_camera_last_error(u->cam, detail, sizeof detail);
            file_failed(u, f, fr, "%s could not be imported: %s%s%s", f->camera_path, tether_strerror(fr),
                        detail[0] ? ": " : "", detail);
            continue;
        }
        if (b.n == BATCH_FILES || b.bytes >= BATCH_BYTES || clock_mono_s() - b.started >= BATCH_SECONDS)
            rc = batch_flush(u, &b);
        stop = stopped(u);
    }
    if (rc == TETHER_OK) rc = batch_flush(u, &b);
    batch_abort(&b);
    free(files);
    if (rc != TETHER_OK) {
        /* the ledger could not record what is on disk; resumable */
        rc = local_cause(u->ledger_dir, rc, 0);
        if (is_storage(rc)) {
            size_t l = strlen(u->r->message);
            snprintf(u->r->message + l, sizeof u->r->message - l, ": %s", tether_strerror(rc));
        }
        return rc;
    }
    if (stop) u->r->status = TETHER_IMPORT_CANCELLED;
    else if (u->r->failed == 0) u->r->status = TETHER_IMPORT_DONE;
    else u->r->status = u->files_done > 0 ? TETHER_IMPORT_INCOMPLETE : TETHER_IMPORT_FAILED;
    if (u->storage) {
        int left = n - u->files_done - u->r->failed;
        char why[sizeof u->r->message];
        snprintf(why, sizeof why, "%s", u->r->message);
        snprintf(u->r->message, sizeof u->r->message,
                 "%s; the import stopped there with %d file%s not tried (%s, then import again to continue)", why,
                 left, left == 1 ? "" : "s",
                 u->storage == TETHER_ERR_DISK_FULL ? "free some space" : "make the folder writable");
    }
    if (u->stop == TETHER_IMPORT_INTERRUPT) return TETHER_OK; /* left running: resumed at the next start */
    /* a job that storage stopped is left cancelled: continued on demand */
    rc = ledger_job_set_state(u->db, u->job, stop || u->storage ? "cancelled" : "done");
    if (rc != TETHER_OK) {
        /* the status stays (the files are where it says); the error says
         * the ledger did not record the end (the job looks interrupted) */
        rc = local_cause(u->ledger_dir, rc, 0);
        size_t l = strlen(u->r->message);
        snprintf(u->r->message + l, sizeof u->r->message - l, "%scannot record the end of the job in the ledger: %s",
                 l ? "; " : "", tether_strerror(rc));
    }
    return rc;
}

static void default_ledger(const char *dest, char *out, size_t size)
{
    snprintf(out, size, "%s/.tether-import.db", dest);
}

int tether_import_run(tether_camera *cam, const tether_import_options *o, tether_import_result *r)
{
    if (r == NULL) return TETHER_ERR_INVALID_ARGUMENT;
    *r = (tether_import_result){.status = TETHER_IMPORT_ABORTED};
    if (cam == NULL || o == NULL || (o->dest == NULL && !o->resume) ||
        (o->mode != TETHER_IMPORT_ALL && o->mode != TETHER_IMPORT_NEW)) {
        snprintf(r->message, sizeof r->message, "invalid import options");
        return TETHER_ERR_INVALID_ARGUMENT;
    }
    if (o->dest == NULL && o->ledger == NULL) return TETHER_ERR_INVALID_ARGUMENT;
    run u = {.cam = cam, .o = o, .r = r, .t0 = clock_mono_s()};
    if (o->dest && realpath(o->dest, u.dest) == NULL) {
        if (store_mkdirs(o->dest) != TETHER_OK || realpath(o->dest, u.dest) == NULL) {
            int e = errno;
            snprintf(r->message, sizeof r->message, "cannot create %s: %s", o->dest, strerror(e));
            return e == ENOSPC || e == EDQUOT ? TETHER_ERR_DISK_FULL : TETHER_ERR_STORAGE;
        }
    }
    char ledger_path[4200], lock_path[4300];
    if (o->ledger) snprintf(ledger_path, sizeof ledger_path, "%s", o->ledger);
    else default_ledger(u.dest, ledger_path, sizeof ledger_path);
    snprintf(lock_path, sizeof lock_path, "%s.lock", ledger_path);
    snprintf(u.ledger_dir, sizeof u.ledger_dir, "%s", ledger_path);
    char *slash = strrchr(u.ledger_dir, '/');
    if (slash == NULL) snprintf(u.ledger_dir, sizeof u.ledger_dir, ".");
    else if (slash == u.ledger_dir) slash[1] = '\0';
    else *slash = '\0';
    int lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock < 0) {
        int e = errno;
        snprintf(r->message, sizeof r->message, "cannot open %s: %s", lock_path, strerror(e));
        return e == ENOSPC || e == EDQUOT ? TETHER_ERR_DISK_FULL : local_cause(u.ledger_dir, TETHER_ERR_IO, 0);
    }
    if (flock(lock, LOCK_EX | LOCK_NB) != 0) {
        close(lock);
        snprintf(r->message, sizeof r->message, "another import is running with the ledger %s", ledger_path);
        return TETHER_ERR_BUSY;
    }
    int rc = TETHER_ERR_IO;
    u.db = ledger_open(ledger_path);
    if (u.db == NULL) {
        rc = local_cause(u.ledger_dir, TETHER_ERR_IO, 0);
        snprintf(r->message, sizeof r->message, "cannot open the ledger %s%s%s", ledger_path,
                 rc != TETHER_ERR_IO ? ": " : "", rc != TETHER_ERR_IO ? tether_strerror(rc) : "");
        goto out;
    }
    tether_camera_identity(cam, u.camera, sizeof u.camera);
    ledger_job j;
    if (o->resume && ledger_unfinished_job(u.db, u.camera, o->dest ? u.dest : NULL, &j) == TETHER_OK) {
        u.job = j.id;
        snprintf(u.dest, sizeof u.dest, "%s", j.dest);
        r->resumed = true;
        ledger_job_set_state(u.db, u.job, "running");
        if (store_mkdirs(u.dest) != TETHER_OK) {
            int e = errno;
            snprintf(r->message, sizeof r->message, "cannot create %s: %s", u.dest, strerror(e));
            rc = e == ENOSPC || e == EDQUOT ? TETHER_ERR_DISK_FULL : TETHER_ERR_STORAGE;
            goto out;
        }
    } else if (o->dest == NULL) {
        rc = TETHER_ERR_NOT_FOUND;
        snprintf(r->message, sizeof r->message, "no unfinished import to resume");
        goto out;
    } else if ((rc = create_job(&u)) != TETHER_OK) {
        goto out;
    }
    snprintf(r->dest, sizeof r->dest, "%s", u.dest);
    r->job = u.job;
    int swept = store_atomic_sweep(u.dest);
    if (swept > 0) LOG_INFO("import", "removed %d temporary files a stopped import left in %s", swept, u.dest);
    rc = run_job(&u);
    /* the card is left as the camera was for shooting, whatever the end */
    if (tether_card_release(cam) != TETHER_OK) LOG_INFO("import", "the camera did not go back to shooting");
out:
    r->seconds = clock_mono_s() - u.t0;
    ledger_close(u.db);
    close(lock); /* releases the flock */
    return rc;
}

int tether_import_unfinished(tether_camera *cam, const char *ledger_path, const char *dest, tether_import_job *out)
{
    if (cam == NULL || ledger_path == NULL || out == NULL) return TETHER_ERR_INVALID_ARGUMENT;
    struct stat st;
    if (stat(ledger_path, &st) != 0) return TETHER_ERR_NOT_FOUND;
    ledger *db = ledger_open(ledger_path);
    if (db == NULL) return TETHER_ERR_IO;
    char camera[256], real[PATH_MAX];
    tether_camera_identity(cam, camera, sizeof camera);
    ledger_job j;
    int rc = ledger_unfinished_job(db, camera, dest ? (realpath(dest, real) ? real : dest) : NULL, &j);
    if (rc == TETHER_OK) {
        *out = (tether_import_job){.id = j.id, .mode = (tether_import_mode)j.mode, .delete_after = j.delete_after,
                                   .cancelled = strcmp(j.state, "cancelled") == 0, .files_total = j.files_total,
                                   .files_done = j.files_done, .created = j.created};
        snprintf(out->dest, sizeof out->dest, "%s", j.dest);
    }
    ledger_close(db);
    return rc;
}
