/*
 * studio: see studio.h.  This file holds the life cycle (the cameras'
 * stations, catalog, HTTP server), the event hub, the routing of non-API paths,
 * the photo registration shared by captures and tethered shots, files
 * opened by a user's or the catalog's name (never through a link into
 * PHOTOS/.tether or out of the folder), and the photo folder's health
 * (there, writable, space left: GET /api/status and every write).
 */
#include "studio.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "image/analysis.h"
#include "image/jpeg.h"
#include "image/tag.h"
#include "internal.h"
#include "rig/transfer.h"
#include "store/atomic.h"

/* ---- event hub ------------------------------------------------------------- */

void hub_publish(studio *s, const char *type, json_t *data)
{
    hub *h = &s->events;
    pthread_mutex_lock(&h->lock);
    uint64_t seq = ++h->next;
    json_t *ev = json_pack("{s:s, s:I, s:o}", "type", type, "seq", (json_int_t)seq,
                           "data", data ? data : json_object());
    char *js = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
    json_decref(ev);
    size_t n = js ? strlen(js) + strlen(type) + 64 : 0;
    char *text = n ? malloc(n) : NULL;
    if (text) snprintf(text, n, "id: %llu\nevent: %s\ndata: %s\n\n", (unsigned long long)seq, type, js);
    free(js);
    int slot = (int)(seq % HUB_RING);
    free(h->text[slot]);
    h->text[slot] = text;
    h->seq[slot] = seq;
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->lock);
    studio_wake(s, STREAM_WAKE_EVENTS); /* parked event streams */
}

http_server *studio_http(studio *s)
{
    pthread_rwlock_rdlock(&s->http_lock);
    http_server *http = s->http;
    pthread_rwlock_unlock(&s->http_lock);
    return http;
}

void studio_wake(studio *s, int kind)
{
    /* held across the wake: the studio clears s->http under the write
     * lock before it stops (and frees) the server */
    pthread_rwlock_rdlock(&s->http_lock);
    if (s->http) http_wake(s->http, kind);
    pthread_rwlock_unlock(&s->http_lock);
}

char *hub_next(studio *s, uint64_t *seq, int timeout_ms)
{
    hub *h = &s->events;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
    pthread_mutex_lock(&h->lock);
    while (h->next <= *seq && !s->stopping)
        if (pthread_cond_timedwait(&h->cond, &h->lock, &ts) == ETIMEDOUT) break;
    char *out = NULL;
    if (h->next > *seq) {
        uint64_t want = *seq + 1;
        if (h->next - want >= HUB_RING) want = h->next - HUB_RING + 1; /* fell behind: skip */
        int slot = (int)(want % HUB_RING);
        if (h->seq[slot] == want && h->text[slot]) out = strdup(h->text[slot]);
        *seq = want;
    }
    pthread_mutex_unlock(&h->lock);
    return out;
}

/* ---- sessions, days, photos ----------------------------------------------------- */

void studio_session(studio *s, char *out, size_t size)
{
    pthread_mutex_lock(&s->lock);
    snprintf(out, size, "%s", s->session);
    pthread_mutex_unlock(&s->lock);
}

void studio_today(char *out, size_t size)
{
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, size, "%Y-%m-%d", &tm);
}

bool studio_safe_rel(const char *rel)
{
    if (rel == NULL || rel[0] == '\0' || rel[0] == '/' || strlen(rel) > 1000 || strchr(rel, '\\')) return false;
    for (const char *c = rel;; c++) { /* c: the start of each component */
        const char *end = strchrnul(c, '/');
        size_t n = (size_t)(end - c);
        if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.')) return false;
        for (const char *p = c; p < end; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f) return false;
        if (*(c = end) == '\0') return true;
    }
}

/* Whether /photos/REL may be served: no hidden file or folder but the
 * thumbnails (.thumbs), so never the studio's own state in .tether (the
 * catalog, webhook secrets, ledgers) nor a temporary file being written. */
static bool servable_rel(const char *rel)
{
    for (const char *c = rel;; c++) { /* c: the start of each component */
        if (c[0] == '.' && strncmp(c, ".thumbs/", 8) != 0) return false;
        if ((c = strchr(c, '/')) == NULL) return true;
    }
}

/* ---- files by a user's or the catalog's name --------------------------------------- */

/* Checks rel by the rules of studio_open_rel and resolves it (parent: only
 * the folder holding its last component, which may itself be a link, as
 * unlink wants).  Writes the real path below the root into out.  Returns
 * 0 or an errno. */
static int resolve_rel(studio *s, const char *rel, bool parent, char *out, size_t size)
{
    if (!studio_safe_rel(rel)) return EINVAL;
    if (!servable_rel(rel)) return EPERM;
    const char *slash = strrchr(rel, '/'), *base = slash ? slash + 1 : rel;
    char path[PATH_MAX + 16], real[PATH_MAX];
    if (parent) snprintf(path, sizeof path, "%s/%.*s", s->root, slash ? (int)(slash - rel) : 0, rel);
    else snprintf(path, sizeof path, "%s/%s", s->root, rel);
    if (realpath(path, real) == NULL) return errno;
    size_t rl = strlen(s->root);
    if (strncmp(real, s->root, rl) != 0 || (real[rl] != '/' && real[rl] != '\0')) return EXDEV;
    const char *below = real[rl] ? real + rl + 1 : "";
    int n;
    if (parent) n = snprintf(out, size, "%s%s%s", below, below[0] ? "/" : "", base);
    else if (below[0] == '\0') return EISDIR; /* the root itself */
    else n = snprintf(out, size, "%s", below);
    if (n < 0 || (size_t)n >= size) return ENAMETOOLONG;
    return servable_rel(out) ? 0 : EPERM;
}

/* Opens real (a path below the root without links) from the root, one
 * folder at a time and never through a link, so a folder swapped for a
 * link since realpath fails (ENOTDIR).  parent: returns the folder holding
 * the last component; else that component, opened for reading (a link
 * there fails with ELOOP).  Returns an fd or -1 with errno. */
static int open_walk(studio *s, const char *real, bool parent)
{
    int dfd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    const char *c = real;
    for (const char *slash; dfd >= 0 && (slash = strchr(c, '/')) != NULL; c = slash + 1) {
        char name[NAME_MAX + 1];
        size_t n = (size_t)(slash - c);
        if (n > NAME_MAX) {
            close(dfd);
            errno = ENAMETOOLONG;
            return -1;
        }
        memcpy(name, c, n);
        name[n] = '\0';
        int next = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int e = errno;
        close(dfd);
        errno = e;
        dfd = next;
    }
    if (dfd < 0 || parent) return dfd;
    int fd = openat(dfd, c, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    int e = errno;
    close(dfd);
    errno = e;
    return fd;
}

int studio_open_rel(studio *s, const char *rel, struct stat *st, char *real, size_t real_size)
{
    char below[PATH_MAX];
    int e = resolve_rel(s, rel, false, below, sizeof below);
    if (e != 0) {
        errno = e;
        return -1;
    }
    int fd = open_walk(s, below, false);
    if (fd < 0) return -1;
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        errno = EISDIR;
        return -1;
    }
    if (real) snprintf(real, real_size, "%s", below);
    return fd;
}

bool studio_folder_parts(const studio *s, const char *dir, char *session, size_t ssz, char *day, size_t dsz)
{
    size_t rl = strlen(s->root);
    if (strncmp(dir, s->root, rl) != 0 || dir[rl] != '/') return false;
    const char *rel = dir + rl + 1, *slash = strchr(rel, '/');
    if (slash == NULL || strchr(slash + 1, '/') || !studio_safe_rel(rel)) return false;
    snprintf(session, ssz, "%.*s", (int)(slash - rel), rel);
    snprintf(day, dsz, "%s", slash + 1);
    return session[0] && day[0];
}

int studio_read_rel(studio *s, const char *rel, bytebuf *b)
{
    struct stat st;
    int fd = studio_open_rel(s, rel, &st, NULL, 0);
    if (fd < 0) return -1;
    int rc = bytebuf_read_fd(b, fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

int studio_unlink_rel(studio *s, const char *rel)
{
    char below[PATH_MAX];
    int e = resolve_rel(s, rel, true, below, sizeof below);
    if (e != 0) {
        errno = e;
        return -1;
    }
    int dfd = open_walk(s, below, true);
    if (dfd < 0) return -1;
    const char *slash = strrchr(below, '/');
    int rc = unlinkat(dfd, slash ? slash + 1 : below, 0);
    e = errno;
    close(dfd);
    errno = e;
    return rc;
}

int studio_real_path(studio *s, const char *rel, char *out, size_t size)
{
    char below[PATH_MAX];
    int e = resolve_rel(s, rel, false, below, sizeof below);
    if (e != 0) return e;
    int n = snprintf(out, size, "%s/%s", s->root, below);
    return n < 0 || (size_t)n >= size ? ENAMETOOLONG : 0;
}

/* ---- the photo folder's health ------------------------------------------------------- */

enum { STORAGE_FULL_BYTES = 1 << 20 };                   /* less free: no photo fits */
static const uint64_t STORAGE_LOW_BYTES = 1ULL << 30;    /* less free: say it is running out */

int studio_errno_err(int e)
{
    return e == ENOSPC || e == EDQUOT ? TETHER_ERR_DISK_FULL : TETHER_ERR_STORAGE;
}

bool studio_storage_ok(studio *s, char *why, size_t n)
{
    struct stat st;
    char state[4200];
    snprintf(state, sizeof state, "%s/.tether", s->root);
    if (stat(s->root, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(why, n, "the photo folder %s is missing (deleted while the server ran?), with the catalog in it: "
                 "nothing can be saved; restart the server to start a new, empty one", s->root);
        return false;
    }
    if (st.st_dev != s->root_dev || st.st_ino != s->root_ino) {
        snprintf(why, n, "the photo folder %s was deleted and made again while the server ran, and the catalog went "
                 "with it: nothing can be saved; restart the server", s->root);
        return false;
    }
    if (stat(state, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(why, n, "the studio's state folder %s is missing (deleted while the server ran?), with the catalog "
                 "in it: nothing can be saved; restart the server", state);
        return false;
    }
    if (catalog_check(s->cat) != TETHER_OK) {
        snprintf(why, n, "the catalog %s/catalog.db was deleted or replaced while the server ran: what is saved "
                 "now would be lost; restart the server", state);
        return false;
    }
    return true;
}

/* Can a file be made in dir?  0 or an errno.  An unnamed file where the
 * file system has them (nothing is left behind if the server dies). */
static int probe_dir(const char *dir)
{
    int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    if (fd >= 0) {
        close(fd);
        return 0;
    }
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) return errno;
    return access(dir, W_OK) == 0 ? 0 : errno;
}

static void human_bytes(uint64_t n, char *out, size_t size)
{
    if (n >= 1000000000ULL) snprintf(out, size, "%.1f GB", (double)n / 1e9);
    else if (n >= 1000000ULL) snprintf(out, size, "%.1f MB", (double)n / 1e6);
    else snprintf(out, size, "%llu KB", (unsigned long long)(n / 1000));
}

typedef struct storage_look {
    bool present, writable, full;
    uint64_t free_bytes, total_bytes;
    char error[1200];          /* the first of: missing, not writable, full */
} storage_look;

/* Looks at the photo folder now: there (studio_storage_ok), writable (a
 * file can be made in the root and in the active session's folder), space
 * (statvfs; full below STORAGE_FULL_BYTES). */
static void storage_look_now(studio *s, storage_look *l)
{
    memset(l, 0, sizeof *l);
    l->present = studio_storage_ok(s, l->error, sizeof l->error);
    struct statvfs vfs;
    if (statvfs(s->root, &vfs) == 0) {
        l->free_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
        l->total_bytes = (uint64_t)vfs.f_blocks * vfs.f_frsize;
    }
    if (!l->present) return;
    char session[128], dir[4400];
    studio_session(s, session, sizeof session);
    snprintf(dir, sizeof dir, "%s/%s", s->root, session);
    int e = probe_dir(s->root);
    if (e == 0 && studio_safe_rel(session)) {
        e = probe_dir(dir);
        if (e == ENOENT) e = 0; /* made at the first capture */
    }
    l->writable = e == 0;
    l->full = l->free_bytes < STORAGE_FULL_BYTES;
    char free_text[32], total_text[32];
    human_bytes(l->free_bytes, free_text, sizeof free_text);
    human_bytes(l->total_bytes, total_text, sizeof total_text);
    if (e == EROFS)
        snprintf(l->error, sizeof l->error, "the photo folder %s is read-only: nothing can be saved", s->root);
    else if (e == EACCES || e == EPERM)
        snprintf(l->error, sizeof l->error, "the photo folder %s cannot be written by this server (permission denied)", s->root);
    else if (e != 0)
        snprintf(l->error, sizeof l->error, "cannot write to the photo folder %s: %s", s->root, strerror(e));
    else if (l->full)
        snprintf(l->error, sizeof l->error, "the disk holding the photo folder %s is full (%s free of %s)", s->root,
                 free_text, total_text);
}

/* The look as GET /api/status shows it (new reference). */
static json_t *storage_look_json(const storage_look *l)
{
    bool ok = l->present && l->writable && !l->full;
    return json_pack("{s:b, s:b, s:I, s:I, s:b, s:s}", "ok", ok, "writable", l->present && l->writable,
                     "free_bytes", (json_int_t)l->free_bytes, "total_bytes", (json_int_t)l->total_bytes,
                     "low", l->present && l->free_bytes < STORAGE_LOW_BYTES, "error", ok ? "" : l->error);
}

/* Keeps the look for studio_storage_json; logs and announces (a "storage"
 * event) a change of health.  Returns a new reference to it. */
static json_t *storage_remember(studio *s, const storage_look *l)
{
    json_t *j = storage_look_json(l);
    pthread_mutex_lock(&s->storage_lock);
    json_t *old = s->storage;
    bool changed = old == NULL ? !json_is_true(json_object_get(j, "ok"))
                               : !json_equal(json_object_get(old, "ok"), json_object_get(j, "ok")) ||
                                     !json_equal(json_object_get(old, "error"), json_object_get(j, "error"));
    s->storage = json_deep_copy(j); /* never shared across threads: jansson's counts are not */
    s->storage_at = clock_mono_ns();
    pthread_mutex_unlock(&s->storage_lock);
    json_decref(old);
    if (changed) {
        if (json_is_true(json_object_get(j, "ok"))) LOG_INFO("studio", "the photo folder %s is usable again", s->root);
        else LOG_ERROR("studio", "%s", json_string_value(json_object_get(j, "error")));
        hub_publish(s, "storage", json_deep_copy(j));
    }
    return j;
}

json_t *studio_storage_json(studio *s, bool fresh)
{
    pthread_mutex_lock(&s->storage_lock);
    json_t *j = !fresh && s->storage && clock_mono_ns() - s->storage_at < 1000000000LL ? json_deep_copy(s->storage) : NULL;
    pthread_mutex_unlock(&s->storage_lock);
    if (j) return j;
    storage_look l;
    storage_look_now(s, &l);
    return storage_remember(s, &l);
}

int studio_storage_why(studio *s, int rc, char *why, size_t n)
{
    storage_look l;
    storage_look_now(s, &l);
    json_decref(storage_remember(s, &l));
    char free_text[32];
    human_bytes(l.free_bytes, free_text, sizeof free_text);
    if (l.present && (rc == TETHER_ERR_DISK_FULL || (l.writable && l.full))) {
        snprintf(why, n, "the disk holding the photo folder %s is full (%s free)", s->root, free_text);
        return TETHER_ERR_DISK_FULL;
    }
    if (!l.present || !l.writable) snprintf(why, n, "%s", l.error);
    else snprintf(why, n, "cannot write to the photo folder %s", s->root);
    return TETHER_ERR_STORAGE;
}

bool studio_session_exists(studio *s, const char *name)
{
    catalog_session *list = NULL;
    int n = 0;
    bool found = false;
    if (catalog_sessions(s->cat, &list, &n) == TETHER_OK)
        for (int i = 0; i < n && !found; i++) found = strcmp(list[i].name, name) == 0;
    free(list);
    return found;
}

json_t *studio_photo_json(const catalog_photo *p)
{
    const char *slash = strrchr(p->rel, '/');
    char url[700], thumb[700], view[700];
    snprintf(url, sizeof url, "/photos/%s", p->rel);
    snprintf(thumb, sizeof thumb, "%s%s", p->thumb[0] ? "/photos/" : "", p->thumb);
    /* what a browser shows: the JPEG itself, or the preview a RAW embeds */
    bool jpeg = strcmp(http_mime_for(p->rel), "image/jpeg") == 0;
    if (jpeg) snprintf(view, sizeof view, "%s", url);
    else snprintf(view, sizeof view, "/api/photos/%lld/preview", (long long)p->id);
    /* "camera" is the id of the station that took it; photos catalogued
     * before cameras had ids give their model there */
    json_t *j = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:i, s:s, s:i, s:I, s:I, s:i, s:i, s:s, s:s, s:s, s:s}",
                     "id", (json_int_t)p->id, "session", p->session, "day", p->day,
                     "file", slash ? slash + 1 : p->rel, "url", url, "thumb", thumb, "view", view, "raw", !jpeg,
                     "rating", p->rating, "label", p->label, "pick", p->pick,
                     "taken", (json_int_t)p->taken, "size", (json_int_t)p->size,
                     "width", p->width, "height", p->height, "camera", p->camera_id[0] ? p->camera_id : p->camera,
                     "camera_model", p->camera, "camera_identity", p->camera_identity,
                     "camera_path", p->camera_path);
    /* RAW + JPEG: one item, the JPEG carrying its RAW */
    if (j && p->raw_id) {
        const char *rs = strrchr(p->raw_rel, '/');
        char rurl[700];
        snprintf(rurl, sizeof rurl, "/photos/%s", p->raw_rel);
        json_object_set_new(j, "raw_file", json_pack("{s:I, s:s, s:s, s:I}", "id", (json_int_t)p->raw_id, "file",
                                                     rs ? rs + 1 : p->raw_rel, "url", rurl, "size",
                                                     (json_int_t)p->raw_size));
    } else if (j) {
        json_object_set_new(j, "raw_file", json_null());
    }
    if (j && p->raw_of) json_object_set_new(j, "pair_of", json_integer((json_int_t)p->raw_of));
    return j;
}

/* A RAW and a JPEG of one shot: the files of one folder with one name
 * but for the extension (IMG_0001.CR2, IMG_0001.JPG), from one camera
 * (or one not known: a file found on disk at start, the half of a pair a
 * killed server had not catalogued), catalogued within a minute of each other (a capture gives both at once;
 * a shot on the body or an import, one after the other).  The RAW joins
 * the JPEG's item, and p is read again (it gained its RAW, or its place
 * in a pair).  A file that pairs with nothing stays an item of its own. */
static void pair_shot(studio *s, catalog_photo *p)
{
    bool jpeg = strcmp(http_mime_for(p->rel), "image/jpeg") == 0;
    if (!jpeg && img_tag_kind_of(p->rel) != IMG_TAG_SIDECAR) return; /* neither: a video, say */
    catalog_photo sib[4];
    int n = 0;
    if (catalog_photo_siblings(s->cat, p, sib, 4, &n) != TETHER_OK) return;
    for (int i = 0; i < n; i++) {
        const catalog_photo *o = &sib[i];
        bool other_jpeg = strcmp(http_mime_for(o->rel), "image/jpeg") == 0;
        bool opposite = jpeg ? img_tag_kind_of(o->rel) == IMG_TAG_SIDECAR : other_jpeg;
        bool same_camera = strcmp(o->camera_id, p->camera_id) == 0 || !o->camera_id[0] || !p->camera_id[0];
        if (!opposite || o->raw_of || o->raw_id || !same_camera || llabs(o->taken - p->taken) > 60)
            continue;
        int64_t raw = jpeg ? o->id : p->id, jpg = jpeg ? p->id : o->id;
        if (catalog_photo_pair_raw(s->cat, raw, jpg) == TETHER_OK) {
            LOG_INFO("studio", "%s and %s are one shot", p->rel, o->rel);
            catalog_photo_get(s->cat, p->id, p);
        }
        return;
    }
}

int studio_picture(const char *name, bytebuf *data)
{
    if (strcmp(http_mime_for(name), "image/jpeg") == 0) return 0;
    bytebuf preview = BYTEBUF_INIT;
    int rc = img_raw_preview(data->data, data->len, &preview, NULL, NULL);
    bytebuf_free(data);
    *data = preview; /* the preview's bytes, or none */
    return rc;
}

/* Writes the thumbnail of the photo at path (picture: its JPEG, or a
 * RAW's preview) to .thumbs/ beside it, as NAME (a JPEG) or NAME.jpg (a
 * RAW: so that it is served as a JPEG), and names it in p->thumb.
 * Without one the photo is still catalogued; the log says why. */
static void write_thumbnail(studio *s, const char *path, const bytebuf *picture, bool suffix, catalog_photo *p)
{
    bytebuf thumb = BYTEBUF_INIT;
    if (img_thumbnail(picture->data, picture->len, 360, &thumb) != 0) {
        bytebuf_free(&thumb);
        return;
    }
    char dir[4200], file[512];
    const char *base = strrchr(path, '/') + 1;
    snprintf(dir, sizeof dir, "%.*s/.thumbs", (int)(base - path - 1), path);
    snprintf(file, sizeof file, "%s%s", base, suffix ? ".jpg" : "");
    store_atomic a;
    bool made = false;
    if (store_mkdirs(dir) == TETHER_OK && store_atomic_begin(&a, dir) == TETHER_OK) {
        bool written = store_write_all(a.fd, thumb.data, thumb.len) == 0;
        char full[4700];
        if (written && store_atomic_commit_unique(&a, file, full, sizeof full) == TETHER_OK) {
            snprintf(p->thumb, sizeof p->thumb, "%s", full + strlen(s->root) + 1);
            made = true;
        } else {
            store_atomic_abort(&a);
        }
    }
    if (!made) { /* the photo is kept and catalogued without one; the status tells why */
        char why[1200];
        studio_storage_why(s, TETHER_ERR_STORAGE, why, sizeof why);
        LOG_WARN("studio", "no thumbnail for %s: %s", path, why);
    }
    bytebuf_free(&thumb);
}

json_t *studio_register_photo(studio *s, const shot_origin *from, const char *session, const char *day,
                              const char *path, const char *camera_path)
{
    return studio_register_photo_event(s, from, session, day, path, camera_path, "capture");
}

json_t *studio_register_photo_event(studio *s, const shot_origin *from, const char *session, const char *day,
                                    const char *path, const char *camera_path, const char *event)
{
    catalog_photo p = {0};
    snprintf(p.session, sizeof p.session, "%s", session);
    snprintf(p.day, sizeof p.day, "%s", day);
    size_t rl = strlen(s->root);
    if (strncmp(path, s->root, rl) != 0 || path[rl] != '/') {
        LOG_ERROR("studio", "%s is outside the photo folder", path);
        return NULL;
    }
    snprintf(p.rel, sizeof p.rel, "%s", path + rl + 1);
    snprintf(p.camera_path, sizeof p.camera_path, "%s", camera_path ? camera_path : "");
    snprintf(p.camera, sizeof p.camera, "%s", from ? from->model : "");
    snprintf(p.camera_id, sizeof p.camera_id, "%s", from ? from->id : "");
    snprintf(p.camera_identity, sizeof p.camera_identity, "%s", from ? from->identity : "");
    p.taken = time(NULL);
    tagging_apply_new(s->tagging, path, session); /* before its size and thumbnail are taken */
    struct stat st;
    if (stat(path, &st) == 0) p.size = st.st_size;
    /* the thumbnail and size come from the JPEG, or from the preview a RAW
     * embeds (a file with neither, a video say, is catalogued without) */
    bool is_jpeg = strcmp(http_mime_for(path), "image/jpeg") == 0;
    bytebuf picture = BYTEBUF_INIT;
    if (bytebuf_read_file(&picture, path) == 0 && studio_picture(path, &picture) == 0) {
        img_jpeg_size(picture.data, picture.len, &p.width, &p.height);
        write_thumbnail(s, path, &picture, !is_jpeg, &p);
    }
    bytebuf_free(&picture);
    int rc = catalog_photo_add(s->cat, &p);
    if (rc == TETHER_OK) s->captures++;
    if (rc == TETHER_OK) pair_shot(s, &p);
    if (rc != TETHER_OK) {
        char why[1200];
        studio_storage_why(s, rc, why, sizeof why);
        LOG_ERROR("studio", "%s is saved but not catalogued (%s); it is at the next start", path, why);
        return NULL;
    }
    json_t *photo = studio_photo_json(&p);
    webhooks_photo_added(s, photo, event); /* on disk before the photo is reported */
    return photo;
}

/* Removes the temporary files a killed server left where it writes:
 * PHOTOS/.tether, and each SESSION/DAY folder with its .thumbs. */
static void sweep_temporaries(const char *root)
{
    char pattern[4200];
    snprintf(pattern, sizeof pattern, "%s/.tether", root);
    int n = store_atomic_sweep(pattern);
    snprintf(pattern, sizeof pattern, "%s/*/*/", root);
    glob_t g;
    if (glob(pattern, GLOB_ONLYDIR | GLOB_NOSORT, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++) {
            char thumbs[4400];
            snprintf(thumbs, sizeof thumbs, "%s.thumbs", g.gl_pathv[i]);
            n += store_atomic_sweep(g.gl_pathv[i]) + store_atomic_sweep(thumbs);
        }
        globfree(&g);
    }
    if (n > 0) LOG_INFO("studio", "removed %d temporary files left by a server that was stopped mid-write", n);
}

/* ---- routing ------------------------------------------------------------------------ */

static enum MHD_Result serve_asset(const http_request *r, const char *path)
{
    const asset *a = asset_find(path);
    if (a == NULL) return http_error(r, 404, "not_found", "no such page: %s", path);
    return http_asset(r, a->mime, a->data, a->len, a->etag);
}

/* Is url /api/cameras/ID/stream.mjpg (a camera's live view)?  Not
 * inlined: GCC 12 at -O2 with ASan then reads the caller's string
 * comparisons as bounds on url and warns (-Wstringop-overread). */
__attribute__((noinline)) static bool is_camera_stream(const char *url)
{
    const char *p = url;
    for (const char *want = "/api/cameras/"; *want; want++, p++)
        if (*p != *want) return false;
    const char *id = p;
    while (*p && *p != '/') p++;
    return p > id && strcmp(p, "/stream.mjpg") == 0;
}

/* The requests whose handlers never block: they run on the HTTP event
 * loop (http.h), so they touch neither the disk nor a lock a camera call
 * may hold: the streams and the UI's pages from memory.  Every other one
 * (even /api/status, which looks at the photo folder) runs on a worker. */
static bool route_is_quick(void *ctx, const char *method, const char *url)
{
    (void)ctx;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) return false;
    if (strcmp(url, "/api/events") == 0 || strcmp(url, "/stream.mjpg") == 0 || is_camera_stream(url)) return true;
    if (strcmp(url, "/healthz") == 0 || strcmp(url, "/metrics") == 0) return false; /* they read the disk */
    return strncmp(url, "/api/", 5) != 0 && strncmp(url, "/photos/", 8) != 0 && strcmp(url, "/snapshot.jpg") != 0;
}

/* A rig node's photo arrives in chunks of any type (rig_files.c). */
static size_t route_raw_body(void *ctx, const char *method, const char *url)
{
    (void)ctx;
    return strcmp(method, "PUT") == 0 && strncmp(url, RIG_FILES_ROUTE, strlen(RIG_FILES_ROUTE)) == 0 ? RIG_CHUNK : 0;
}

static enum MHD_Result route(void *ctx, const http_request *r)
{
    studio *s = ctx;
    const char *u = r->url;
    if (strncmp(u, "/api/", 5) == 0) return api_handle(s, r);
    if (strcmp(u, "/healthz") == 0) return metrics_healthz(s, r);
    if (strcmp(u, "/metrics") == 0) return metrics_get(s, r);
    bool get = http_is(r, "GET") || http_is(r, "HEAD");
    if (!get) return http_error(r, 405, "method_not_allowed", "%s only answers GET", u);
    if (strcmp(u, "/stream.mjpg") == 0 || strcmp(u, "/snapshot.jpg") == 0) { /* the primary camera's */
        station *st = station_find(s, NULL);
        enum MHD_Result ret = api_station_route(st, r, u);
        station_unref(st);
        return ret;
    }
    if (strcmp(u, "/") == 0) return serve_asset(r, "/index.html");
    if (strcmp(u, "/gallery") == 0) return serve_asset(r, "/gallery.html");
    if (strcmp(u, "/favicon.ico") == 0) return serve_asset(r, "/favicon.svg"); /* asked for by every browser */
    if (strncmp(u, "/photos/", 8) == 0) {
        struct stat st;
        char real[PATH_MAX];
        int fd = studio_open_rel(s, u + 8, &st, real, sizeof real);
        if (fd < 0 && errno == EINVAL) return http_error(r, 400, "bad_path", "not a path inside the photo folder");
        if (fd < 0 && errno == EXDEV) return http_error(r, 403, "forbidden", "outside the photo folder");
        if (fd < 0) return http_error(r, 404, "not_found", "no such photo");
        return http_file_fd(r, fd, real, NULL); /* the file just checked, not whatever its path names by now */
    }
    return serve_asset(r, u);
}

/* ---- life cycle ---------------------------------------------------------------------- */

/* Opens the cameras asked for; "auto" is every camera found over USB (the
 * simulator when none is and fallback_sim), and cameras plugged in later.
 * Prints why on failure; returns false if a camera named could not be
 * opened or none was. */
static bool open_cameras(studio *s, const studio_options *o)
{
    const char *one[1] = {o->camera ? o->camera : "auto"};
    const char *const *specs = o->n_cameras > 0 ? o->cameras : one;
    int n = o->n_cameras > 0 ? o->n_cameras : 1;
    if (n > STUDIO_MAX_CAMERAS) {
        fprintf(stderr, "tether: at most %d cameras can be served\n", STUDIO_MAX_CAMERAS);
        return false;
    }
    pthread_mutex_lock(&s->stations_lock);
    s->several = n > 1; /* names carry the camera's id from the first shot */
    pthread_mutex_unlock(&s->stations_lock);
    for (int i = 0; i < n; i++) {
        char err[800] = "";
        if (strcmp(specs[i], "auto") == 0) {
            s->auto_watch = true;
            tether_camera_info found[STUDIO_MAX_CAMERAS];
            int count = 0;
            int rc = tether_list_cameras(found, STUDIO_MAX_CAMERAS, &count);
            if (count > STUDIO_MAX_CAMERAS) count = STUDIO_MAX_CAMERAS;
            int opened = 0;
            for (int k = 0; rc == TETHER_OK && k < count; k++) {
                if (station_open(s, found[k].spec, 30000, NULL, err, sizeof err) == TETHER_OK) opened++;
                else fprintf(stderr, "tether: %s\n", err);
            }
            if (opened == 0 && o->fallback_sim && n == 1) {
                fprintf(stderr, "tether: no camera found; using the simulated camera\n");
                if (station_open(s, "sim", 30000, NULL, err, sizeof err) != TETHER_OK) {
                    fprintf(stderr, "tether: %s\n", err);
                    return false;
                }
            } else if (opened == 0 && n == 1 && o->broker_host == NULL) {
                fprintf(stderr, "tether: cannot open camera \"auto\": no camera found\n");
                return false;
            }
            continue;
        }
        if (station_open(s, specs[i], 30000, NULL, err, sizeof err) != TETHER_OK) {
            fprintf(stderr, "tether: %s\n", err);
            return false;
        }
    }
    return true;
}

int studio_run(const studio_options *o, volatile int *stop)
{
    studio *s = calloc(1, sizeof *s);
    if (s == NULL) return 1;
    s->webhook_allow_private = o->webhook_allow_private;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->storage_lock, NULL);
    pthread_mutex_init(&s->events.lock, NULL);
    pthread_rwlock_init(&s->http_lock, NULL);
    pthread_cond_init(&s->events.cond, NULL);
    pthread_mutex_init(&s->stations_lock, NULL);
    pthread_mutex_init(&s->cull_lock, NULL);
    pthread_cond_init(&s->stations_cond, NULL);
    int rc = 1;
    http_server *http = NULL;

    const char *photos = o->photos ? o->photos : "photos";
    struct stat root_st;
    if (store_mkdirs(photos) != TETHER_OK || realpath(photos, s->root) == NULL || stat(s->root, &root_st) != 0) {
        fprintf(stderr, "tether: cannot use %s as the photo folder\n", photos);
        goto done;
    }
    s->root_dev = root_st.st_dev;
    s->root_ino = root_st.st_ino;
    char dbdir[4200], dbpath[4300];
    snprintf(dbdir, sizeof dbdir, "%s/.tether", s->root);
    snprintf(dbpath, sizeof dbpath, "%s/catalog.db", dbdir);
    /* the studio's state (webhook secrets among it) is its user's alone */
    if (store_mkdirs(dbdir) != TETHER_OK || chmod(dbdir, 0700) != 0 || (s->cat = catalog_open(dbpath)) == NULL) {
        fprintf(stderr, "tether: cannot open the catalog %s\n", dbpath);
        goto done;
    }
    sweep_temporaries(s->root);
    if (catalog_meta_get(s->cat, "name_template", s->name_template, sizeof s->name_template) != TETHER_OK)
        s->name_template[0] = '\0';
    if (catalog_active_session(s->cat, s->session, sizeof s->session) != TETHER_OK ||
        !catalog_session_name_ok(s->session)) {
        if (s->session[0]) /* an older version let such names in */
            LOG_WARN("studio", "the active session \"%s\" has a name that cannot be a folder; \"default\" is active "
                     "instead (its photos stay listed)", s->session);
        snprintf(s->session, sizeof s->session, "default");
        catalog_set_active_session(s->cat, s->session);
    }
    /* the shared services first: a station's jobs may register photos as
     * soon as it is open */
    if ((s->webhooks = webhooks_ctl_new(s)) == NULL) {
        fprintf(stderr, "tether: cannot start the studio's jobs (out of memory, or %s/.tether/webhooks.db)\n",
                s->root);
        goto done;
    }
    if ((s->tagging = tagging_ctl_new(s)) == NULL) {
        fprintf(stderr, "tether: out of memory\n");
        goto done;
    }
    if ((s->cataloguer = cataloguer_start(s)) == NULL) {
        fprintf(stderr, "tether: cannot start the cataloguer thread\n");
        goto done;
    }
    studio_adopt_files(s); /* photos a killed server wrote but did not catalog */
    if (!open_cameras(s, o)) goto done;
    http_options ho = {.host = o->host ? o->host : "127.0.0.1", .port = o->port, .token = o->token,
                       .allow_hosts = o->allow_hosts, .n_allow_hosts = o->n_allow_hosts,
                       .handler = route, .quick = route_is_quick, .raw_body = route_raw_body, .ctx = s};
    http = http_start(&ho);
    if (http == NULL) {
        fprintf(stderr, "tether: cannot listen on %s:%d\n", o->host ? o->host : "127.0.0.1", o->port);
        goto done;
    }
    pthread_rwlock_wrlock(&s->http_lock);
    s->http = http;
    pthread_rwlock_unlock(&s->http_lock);
    if (s->auto_watch) station_watch_start(s);
    if (o->broker_host) { /* the camera nodes: their cameras are served as their status arrives */
        char url[300], why[400];
        if (o->rig_url) snprintf(url, sizeof url, "%s", o->rig_url);
        else snprintf(url, sizeof url, "http://%s:%d", o->host ? o->host : "127.0.0.1", http_port(http));
        s->rig_lead_ms = o->rig_lead_ms > 0 ? o->rig_lead_ms : 200;
        rig_studio_options ro = {.broker_host = o->broker_host, .broker_port = o->broker_port, .tls = o->broker_tls,
                                 .ca_file = o->broker_ca, .user = o->broker_user,
                                 .password = o->broker_password, .url = url, .lead_ms = s->rig_lead_ms};
        if (!rig_start(s, &ro, why, sizeof why)) {
            fprintf(stderr, "tether: %s\n", why);
            goto done;
        }
    }
    if (o->on_listening) o->on_listening(o->on_listening_arg, http_port(http));
    station *list[STUDIO_MAX_CAMERAS];
    int n = station_list(s, list, STUDIO_MAX_CAMERAS);
    char cameras[2048] = "";
    for (int i = 0; i < n; i++) {
        size_t len = strlen(cameras);
        snprintf(cameras + len, sizeof cameras - len, "%s%s%s", i ? ", " : "", list[i]->origin.model,
                 list[i]->simulated ? ", simulated" : "");
        station_unref(list[i]);
    }
    printf("studio on http://%s:%d/ (camera%s: %s; photos: %s)\n", o->host ? o->host : "127.0.0.1",
           http_port(http), n > 1 ? "s" : "", n ? cameras : "none yet", s->root);
    if (o->broker_host) printf("camera nodes through the broker %s:%d\n", o->broker_host, o->broker_port);
    fflush(stdout);
    while (!*stop) clock_sleep_ns(200000000);
    rc = 0;
done:
    s->stopping = 1;
    pthread_mutex_lock(&s->events.lock);
    pthread_cond_broadcast(&s->events.cond);
    pthread_mutex_unlock(&s->events.lock);
    station_watch_stop(s);
    pthread_mutex_lock(&s->stations_lock);
    for (int i = 0; i < s->n_stations; i++)
        if (s->stations[i]->cam) tether_camera_cancel(s->stations[i]->cam);
    pthread_mutex_unlock(&s->stations_lock);
    /* no thread wakes the server's streams from here on (an autofocus
     * still reporting progress, say): then it stops */
    pthread_rwlock_wrlock(&s->http_lock);
    s->http = NULL;
    pthread_rwlock_unlock(&s->http_lock);
    http_stop(http); /* ends the streams, waits for the handlers running on workers */
    rig_stop(s);     /* says "offline" to the nodes */
    station_halt_all(s);            /* pumps and jobs (a time-lapse or import is continued at the next start) */
    cataloguer_stop(s->cataloguer); /* catalogs the shots still queued */
    webhooks_ctl_free(s->webhooks); /* pending deliveries are sent at the next start */
    tagging_ctl_free(s->tagging); /* after every thread that registers photos */
    station_free_all(s);          /* the cameras, and the simulators behind them */
    catalog_close(s->cat);
    for (int i = 0; i < HUB_RING; i++) free(s->events.text[i]);
    pthread_cond_destroy(&s->events.cond);
    pthread_mutex_destroy(&s->events.lock);
    pthread_rwlock_destroy(&s->http_lock);
    pthread_cond_destroy(&s->stations_cond);
    pthread_mutex_destroy(&s->stations_lock);
    pthread_mutex_destroy(&s->cull_lock);
    pthread_mutex_destroy(&s->lock);
    json_decref(s->storage);
    pthread_mutex_destroy(&s->storage_lock);
    free(s);
    return rc;
}
