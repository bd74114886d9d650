/*
 * outbox: see outbox.h.  The folder holds everything; this file only
 * reads and changes it, so a node killed at any moment finds its shots
 * again at the next start.
 */
#include "rig/outbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "rig/proto.h"
#include "store/atomic.h"
#include "tether/tether.h"

#define PRUNE_AFTER_S (24 * 3600)

struct outbox {
    char dir[4000];
    pthread_mutex_t lock;
    pthread_cond_t cond;
    unsigned wakes;
};

/* Is name a visible entry (not ".", "..", a hidden temporary or .ready)? */
static bool visible(const char *name)
{
    return name[0] != '.';
}

/* Removes every visible and hidden file in dir, then dir. */
static int remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) return errno == ENOENT ? 0 : -1;
    struct dirent *e;
    char path[4400];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    return rmdir(dir);
}

/* Calls fn(o, camera, shot, path) for each DIR/KIND/CAMERA/SHOT. */
static void each(outbox *o, const char *kind, void (*fn)(outbox *, const char *, const char *, const char *, void *),
                 void *arg)
{
    char top[4100];
    snprintf(top, sizeof top, "%s/%s", o->dir, kind);
    DIR *d = opendir(top);
    if (d == NULL) return;
    struct dirent *c;
    while ((c = readdir(d)) != NULL) {
        if (!rig_name_ok(c->d_name)) continue;
        char cdir[4200];
        snprintf(cdir, sizeof cdir, "%s/%s", top, c->d_name);
        DIR *sd = opendir(cdir);
        if (sd == NULL) continue;
        struct dirent *s;
        while ((s = readdir(sd)) != NULL) {
            if (!rig_shot_ok(s->d_name)) continue;
            char path[4400];
            snprintf(path, sizeof path, "%s/%s", cdir, s->d_name);
            fn(o, c->d_name, s->d_name, path, arg);
        }
        closedir(sd);
    }
    closedir(d);
}

static void prune_marker(outbox *o, const char *camera, const char *shot, const char *path, void *arg)
{
    (void)o, (void)camera, (void)shot, (void)arg;
    struct stat st;
    if (stat(path, &st) == 0 && time(NULL) - st.st_mtime > PRUNE_AFTER_S) unlink(path);
}

/* A shot folder after a crash: swept, made ready if it has files,
 * removed if not. */
static void recover_shot(outbox *o, const char *camera, const char *shot, const char *path, void *arg)
{
    (void)arg;
    store_atomic_sweep(path);
    outbox_entry e;
    snprintf(e.dir, sizeof e.dir, "%s", path);
    char names[8][129];
    int n = outbox_files(&e, names, 8);
    char ready[4500];
    snprintf(ready, sizeof ready, "%s/.ready", path);
    if (n == 0) {
        remove_dir(path);
    } else if (access(ready, F_OK) != 0) {
        LOG_INFO("rig", "shot %s of %s was captured before a restart: it is sent now", shot, camera);
        outbox_ready(o, camera, shot);
    }
}

outbox *outbox_open(const char *dir, char *why, size_t whysz)
{
    outbox *o = calloc(1, sizeof *o);
    if (o == NULL) {
        snprintf(why, whysz, "out of memory");
        return NULL;
    }
    snprintf(o->dir, sizeof o->dir, "%s", dir);
    char sub[4100];
    snprintf(sub, sizeof sub, "%s/shots", dir);
    int rc = store_mkdirs(sub);
    snprintf(sub, sizeof sub, "%s/fired", dir);
    if (rc == TETHER_OK) rc = store_mkdirs(sub);
    if (rc != TETHER_OK) {
        snprintf(why, whysz, "cannot make the outbox %s: %s", dir, strerror(errno));
        free(o);
        return NULL;
    }
    pthread_mutex_init(&o->lock, NULL);
    pthread_cond_init(&o->cond, NULL);
    each(o, "fired", prune_marker, NULL);
    each(o, "shots", recover_shot, NULL);
    return o;
}

void outbox_close(outbox *o)
{
    if (o == NULL) return;
    pthread_cond_destroy(&o->cond);
    pthread_mutex_destroy(&o->lock);
    free(o);
}

int outbox_claim(outbox *o, const char *camera, const char *shot)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/fired/%s", o->dir, camera);
    int rc = store_mkdirs(path);
    if (rc != TETHER_OK) return rc;
    snprintf(path, sizeof path, "%s/fired/%s/%s", o->dir, camera, shot);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return errno == EEXIST ? TETHER_ERR_EXISTS : store_err_from_errno(errno);
    close(fd);
    snprintf(path, sizeof path, "%s/fired/%s", o->dir, camera);
    store_fsync_dir(path);
    return TETHER_OK;
}

void outbox_unclaim(outbox *o, const char *camera, const char *shot)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/fired/%s/%s", o->dir, camera, shot);
    unlink(path);
}

int outbox_shot_dir(outbox *o, const char *camera, const char *shot, char *out, size_t size)
{
    snprintf(out, size, "%s/shots/%s/%s", o->dir, camera, shot);
    return store_mkdirs(out);
}

int outbox_ready(outbox *o, const char *camera, const char *shot)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/shots/%s/%s/.ready", o->dir, camera, shot);
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return store_err_from_errno(errno);
    fsync(fd);
    close(fd);
    outbox_wake(o);
    return TETHER_OK;
}

void outbox_wake(outbox *o)
{
    pthread_mutex_lock(&o->lock);
    o->wakes++;
    pthread_cond_broadcast(&o->cond);
    pthread_mutex_unlock(&o->lock);
}

typedef struct oldest {
    bool found;
    struct timespec at;
    outbox_entry e;
    int count;
} oldest;

static void look(outbox *o, const char *camera, const char *shot, const char *path, void *arg)
{
    (void)o;
    oldest *best = arg;
    char ready[4500];
    snprintf(ready, sizeof ready, "%s/.ready", path);
    struct stat st;
    if (stat(ready, &st) != 0) return;
    best->count++;
    if (best->found && (st.st_mtim.tv_sec > best->at.tv_sec ||
                        (st.st_mtim.tv_sec == best->at.tv_sec && st.st_mtim.tv_nsec >= best->at.tv_nsec)))
        return;
    best->found = true;
    best->at = st.st_mtim;
    snprintf(best->e.camera, sizeof best->e.camera, "%s", camera);
    snprintf(best->e.shot, sizeof best->e.shot, "%s", shot);
    snprintf(best->e.dir, sizeof best->e.dir, "%s", path);
}

bool outbox_next(outbox *o, int timeout_ms, outbox_entry *e)
{
    pthread_mutex_lock(&o->lock);
    unsigned seen = o->wakes;
    pthread_mutex_unlock(&o->lock);
    oldest best = {0};
    each(o, "shots", look, &best);
    if (!best.found && timeout_ms > 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += timeout_ms / 1000;
        ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_mutex_lock(&o->lock);
        while (o->wakes == seen && pthread_cond_timedwait(&o->cond, &o->lock, &ts) == 0) {}
        pthread_mutex_unlock(&o->lock);
        each(o, "shots", look, &best);
    }
    if (best.found) *e = best.e;
    return best.found;
}

int outbox_files(const outbox_entry *e, char names[][129], int max)
{
    DIR *d = opendir(e->dir);
    if (d == NULL) return -1;
    int n = 0;
    struct dirent *f;
    while ((f = readdir(d)) != NULL && n < max) {
        if (!visible(f->d_name) || !rig_file_ok(f->d_name)) continue;
        snprintf(names[n++], 129, "%s", f->d_name);
    }
    closedir(d);
    return n;
}

int outbox_done(outbox *o, const outbox_entry *e)
{
    (void)o;
    if (remove_dir(e->dir) != 0) return store_err_from_errno(errno);
    return TETHER_OK;
}

int outbox_count(outbox *o)
{
    oldest best = {0};
    each(o, "shots", look, &best);
    return best.count;
}
