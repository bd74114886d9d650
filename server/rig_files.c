/*
 * rig_files: the studio receiving a node's photos (app/rig/transfer.h,
 * docs/RIGS.md "Never lost, never doubled").  Under PHOTOS/.tether/rig/:
 *
 *   parts/NODE/CAMERA/SHOT/FILE       the bytes received so far
 *   done/NODE/CAMERA/SHOT/FILE.json   {"rel", "sha256", "size"}: the photo it became
 *
 * The last chunk is checked against the SHA-256 the node sent (a mismatch
 * drops the partial file: the node sends it again from 0), then the
 * ledger entry is written (atomically) before the partial file is renamed
 * into SESSION/DAY/ as SHOT-STATION-FILE and catalogued.  So whatever
 * moment the studio is killed at, sending the file again finds either the
 * ledger (answered "complete", no second photo; a file renamed but not
 * catalogued is catalogued at the next start, studio_adopt_files) or no
 * ledger (the partial file is taken where it stopped).
 *
 * Threads: HTTP workers; one lock makes each file's steps one at a time.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "internal.h"
#include "rig/transfer.h"
#include "store/atomic.h"

static pthread_mutex_t files_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int partial_files;

int rig_files_partial(studio *s)
{
    (void)s;
    return partial_files;
}

static void paths(studio *s, const rig_file_id *id, char *part, size_t psz, char *done, size_t dsz)
{
    snprintf(part, psz, "%s/.tether/rig/parts/%s/%s/%s/%s", s->root, id->node, id->camera, id->shot, id->file);
    snprintf(done, dsz, "%s/.tether/rig/done/%s/%s/%s/%s.json", s->root, id->node, id->camera, id->shot, id->file);
}

/* The ledger's entry: its rel and size, true if there is one. */
static bool ledger_read(const char *done, char *rel, size_t relsz, json_int_t *size, char *sha, size_t shasz)
{
    json_t *j = json_load_file(done, 0, NULL);
    const char *r = json_string_value(json_object_get(j, "rel"));
    const char *h = json_string_value(json_object_get(j, "sha256"));
    bool ok = r && h;
    if (ok) {
        snprintf(rel, relsz, "%s", r);
        snprintf(sha, shasz, "%s", h);
        *size = json_integer_value(json_object_get(j, "size"));
    }
    json_decref(j);
    return ok;
}

static bool ledger_write(const char *done, const char *rel, const char *sha, uint64_t size)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", done);
    char *slash = strrchr(dir, '/');
    *slash = '\0';
    if (store_mkdirs(dir) != TETHER_OK) return false;
    json_t *j = json_pack("{s:s, s:s, s:I}", "rel", rel, "sha256", sha, "size", (json_int_t)size);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    store_atomic a;
    bool ok = text && store_atomic_begin(&a, dir) == TETHER_OK;
    if (ok && store_write_all(a.fd, text, strlen(text)) != 0) {
        store_atomic_abort(&a);
        ok = false;
    }
    free(text);
    if (!ok) return false;
    unlink(done); /* a stale one (never the case but after a crash mid-write) */
    return store_atomic_commit(&a, slash + 1) == TETHER_OK;
}

/* The station's origin for a node camera (its id even if it is not listed). */
static void origin_of(studio *s, const rig_file_id *id, shot_origin *o)
{
    char sid[80];
    snprintf(sid, sizeof sid, "%s-%s", id->node, id->camera);
    station *st = station_find(s, sid);
    if (st) {
        *o = st->origin;
        station_unref(st);
    } else {
        memset(o, 0, sizeof *o);
        snprintf(o->id, sizeof o->id, "%s", sid);
        snprintf(o->model, sizeof o->model, "%s", id->camera);
        snprintf(o->identity, sizeof o->identity, "rig:%s/%s", id->node, id->camera);
    }
}

/* Makes the complete partial file the photo.  files_lock held.  Returns
 * the answer. */
static enum MHD_Result finish(studio *s, const http_request *r, const rig_file_id *id, const char *part,
                              const char *done, const char *sha, uint64_t total)
{
    char rel[1200], real_sha[RIG_SHA256_HEX + 1];
    if (rig_sha256_file(part, real_sha) != 0)
        return api_storage_error(s, r, studio_errno_err(errno), "cannot read the received file", NULL);
    if (strcmp(real_sha, sha) != 0) {
        unlink(part);
        if (partial_files > 0) partial_files--;
        LOG_WARN("rig", "%s/%s/%s/%s arrived damaged (SHA-256 differs): asked again", id->node, id->camera, id->shot, id->file);
        return http_json(r, 422, json_pack("{s:I, s:b, s:{s:s, s:s}}", "received", (json_int_t)0, "complete", 0, "error",
                                           "code", "checksum", "message", "the file's SHA-256 differs: send it again"));
    }
    shot_origin from;
    origin_of(s, id, &from);
    char session[128], day[16], dir[PATH_MAX], name[400], path[PATH_MAX + 400];
    studio_session(s, session, sizeof session);
    studio_today(day, sizeof day);
    snprintf(name, sizeof name, "%s-%s-%s", id->shot, from.id, id->file);
    snprintf(rel, sizeof rel, "%s/%s/%s", session, day, name);
    snprintf(dir, sizeof dir, "%s/%s/%s", s->root, session, day);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (store_mkdirs(dir) != TETHER_OK || !ledger_write(done, rel, sha, total))
        return api_storage_error(s, r, studio_errno_err(errno), "cannot keep the received photo", NULL);
    if (renameat2(AT_FDCWD, part, AT_FDCWD, path, RENAME_NOREPLACE) != 0)
        return api_storage_error(s, r, studio_errno_err(errno), "cannot move the received photo into place", NULL);
    if (partial_files > 0) partial_files--;
    store_fsync_dir(dir);
    char camera_path[300];
    snprintf(camera_path, sizeof camera_path, "rig:%s/%s/%s/%s", id->node, id->camera, id->shot, id->file);
    json_t *photo = studio_register_photo(s, &from, session, day, path, camera_path);
    if (photo) {
        station *st = station_find(s, from.id);
        if (st) station_publish(st, "capture", json_pack("{s:[O], s:s, s:s}", "photos", photo, "source", "rig", "shot", id->shot));
        station_unref(st);
    }
    return http_json(r, 201, json_pack("{s:I, s:b, s:s, s:o}", "received", (json_int_t)total, "complete", 1, "rel", rel,
                                       "photo", photo ? photo : json_null()));
}

/* The answer for a file the ledger has: complete, or (the rename did not
 * happen before a crash) finished now. */
static enum MHD_Result already(studio *s, const http_request *r, const rig_file_id *id, const char *part,
                               const char *done, const char *rel, const char *sha, json_int_t size)
{
    char path[PATH_MAX + 1200];
    snprintf(path, sizeof path, "%s/%s", s->root, rel);
    struct stat st;
    if (stat(path, &st) != 0 && stat(part, &st) == 0 && (json_int_t)st.st_size == size) {
        unlink(done);
        return finish(s, r, id, part, done, sha, (uint64_t)size);
    }
    return http_json(r, 200, json_pack("{s:I, s:b, s:s}", "received", size, "complete", 1, "rel", rel));
}

enum MHD_Result rig_files_handle(studio *s, const http_request *r, const char *rest)
{
    rig_file_id id;
    if (!rig_file_path_parse(rest, &id))
        return http_error(r, 404, "not_found", "expected %sNODE/CAMERA/SHOT/FILE", RIG_FILES_ROUTE);
    bool get = http_is(r, "GET") || http_is(r, "HEAD"), put = http_is(r, "PUT");
    if (!get && !put) return http_error(r, 405, "method_not_allowed", "use GET or PUT");
    char part[PATH_MAX], done[PATH_MAX], rel[1200], sha[RIG_SHA256_HEX + 8];
    paths(s, &id, part, sizeof part, done, sizeof done);
    json_int_t size;
    enum MHD_Result ret;
    pthread_mutex_lock(&files_lock);
    struct stat st;
    uint64_t have = stat(part, &st) == 0 ? (uint64_t)st.st_size : 0;
    if (ledger_read(done, rel, sizeof rel, &size, sha, sizeof sha)) {
        ret = already(s, r, &id, part, done, rel, sha, size);
        goto out;
    }
    if (get) {
        ret = http_json(r, 200, json_pack("{s:I, s:b}", "received", (json_int_t)have, "complete", 0));
        goto out;
    }
    uint64_t start, end, total;
    const char *want_sha = http_header(r, "X-Tether-Sha256");
    if (!rig_content_range_parse(http_header(r, "Content-Range"), &start, &end, &total) || !rig_sha256_ok(want_sha) ||
        end - start + 1 != r->body_len || r->body == NULL) {
        ret = http_error(r, 400, "bad_request",
                         "a chunk needs Content-Range: bytes START-END/TOTAL matching its body and X-Tether-Sha256");
        goto out;
    }
    if (start != have) {
        ret = http_json(r, 409, json_pack("{s:I, s:b}", "received", (json_int_t)have, "complete", 0));
        goto out;
    }
    enum MHD_Result answered;
    if (!api_storage_usable(s, r, "cannot receive the photo", &answered)) {
        ret = answered;
        goto out;
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", part);
    *strrchr(dir, '/') = '\0';
    int fd = store_mkdirs(dir) == TETHER_OK ? open(part, O_WRONLY | O_CREAT | O_CLOEXEC, 0600) : -1;
    if (fd >= 0 && have == 0) partial_files++;
    if (fd < 0 || pwrite(fd, r->body, r->body_len, (off_t)start) != (ssize_t)r->body_len ||
        (end + 1 == total && fsync(fd) != 0)) {
        int e = errno;
        if (fd >= 0) {
            if (ftruncate(fd, (off_t)start) != 0) unlink(part); /* a partial write is not kept as received */
            close(fd);
        }
        ret = api_storage_error(s, r, studio_errno_err(e), "cannot write the received photo", NULL);
        goto out;
    }
    close(fd);
    if (end + 1 < total)
        ret = http_json(r, 200, json_pack("{s:I, s:b}", "received", (json_int_t)(end + 1), "complete", 0));
    else
        ret = finish(s, r, &id, part, done, want_sha, total);
out:
    pthread_mutex_unlock(&files_lock);
    return ret;
}
