/*
 * catalog: see catalog.h.  Plain SQL through sqlite3 prepared statements;
 * the schema is created on open.
 */
#include "catalog.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "base/log.h"
#include "tether/errors.h"

struct catalog {
    sqlite3 *db;
    pthread_mutex_t lock;
};

static const char *const schema =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE IF NOT EXISTS sessions(name TEXT PRIMARY KEY, created INTEGER);"
    "CREATE TABLE IF NOT EXISTS photos(id INTEGER PRIMARY KEY, session TEXT, day TEXT, rel TEXT UNIQUE,"
    "  thumb TEXT, camera_path TEXT, camera TEXT, taken INTEGER, size INTEGER, width INTEGER, height INTEGER);"
    "CREATE INDEX IF NOT EXISTS photos_by_session ON photos(session, day, taken);"
    "CREATE TABLE IF NOT EXISTS presets(name TEXT PRIMARY KEY, settings TEXT, created INTEGER);";

catalog *catalog_open(const char *path)
{
    catalog *c = calloc(1, sizeof *c);
    if (c == NULL) return NULL;
    if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
        LOG_ERROR("catalog", "cannot open %s: %s", path, c->db ? sqlite3_errmsg(c->db) : "?");
        sqlite3_close(c->db);
        free(c);
        return NULL;
    }
    sqlite3_busy_timeout(c->db, 5000);
    char *err = NULL;
    if (sqlite3_exec(c->db, schema, NULL, NULL, &err) != SQLITE_OK) {
        LOG_ERROR("catalog", "schema: %s", err ? err : "?");
        sqlite3_free(err);
        sqlite3_close(c->db);
        free(c);
        return NULL;
    }
    /* catalogs made before photos had their camera's station id and
     * identity, or their culling, gain the columns (empty or 0 for the
     * photos already there) */
    static const struct {
        const char *name, *decl;
    } added[] = {{"camera_id", "TEXT NOT NULL DEFAULT ''"}, {"camera_identity", "TEXT NOT NULL DEFAULT ''"},
                 {"rating", "INTEGER NOT NULL DEFAULT 0"}, {"label", "TEXT NOT NULL DEFAULT ''"},
                 {"pick", "INTEGER NOT NULL DEFAULT 0"}, {"raw_of", "INTEGER NOT NULL DEFAULT 0"}};
    for (size_t i = 0; i < sizeof added / sizeof added[0]; i++) {
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT %s FROM photos LIMIT 0", added[i].name);
        if (sqlite3_exec(c->db, sql, NULL, NULL, NULL) == SQLITE_OK) continue;
        snprintf(sql, sizeof sql, "ALTER TABLE photos ADD COLUMN %s %s", added[i].name, added[i].decl);
        if (sqlite3_exec(c->db, sql, NULL, NULL, &err) != SQLITE_OK) {
            LOG_ERROR("catalog", "adding the column %s to %s: %s", added[i].name, path, err ? err : "?");
            sqlite3_free(err);
            sqlite3_close(c->db);
            free(c);
            return NULL;
        }
    }
    if (sqlite3_exec(c->db, "CREATE INDEX IF NOT EXISTS photos_by_raw_of ON photos(raw_of)", NULL, NULL, &err) != SQLITE_OK) {
        LOG_ERROR("catalog", "indexing %s: %s", path, err ? err : "?");
        sqlite3_free(err);
        sqlite3_close(c->db);
        free(c);
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

void catalog_close(catalog *c)
{
    if (c == NULL) return;
    sqlite3_close(c->db);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

int catalog_check(catalog *c)
{
    int moved = 0;
    if (sqlite3_file_control(c->db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) != SQLITE_OK) return TETHER_OK;
    return moved ? TETHER_ERR_STORAGE : TETHER_OK;
}

/* The tether_err for a failed sqlite3_step: the disk full, the file not
 * writable (read-only, gone, an I/O error), or anything else. */
static int step_error(int r)
{
    switch (r & 0xff) {
    case SQLITE_FULL: return TETHER_ERR_DISK_FULL;
    case SQLITE_READONLY:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return TETHER_ERR_STORAGE;
    default: return TETHER_ERR_IO;
    }
}

static sqlite3_stmt *prepare(catalog *c, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
        LOG_ERROR("catalog", "%s: %s", sql, sqlite3_errmsg(c->db));
        return NULL;
    }
    return st;
}

/* Runs a statement with text parameters; returns 0 or a tether_err
 * (step_error). */
static int exec_text(catalog *c, const char *sql, int n, const char *const *args)
{
    pthread_mutex_lock(&c->lock);
    sqlite3_stmt *st = prepare(c, sql);
    int rc = TETHER_ERR_IO;
    if (st) {
        for (int i = 0; i < n; i++) sqlite3_bind_text(st, i + 1, args[i], -1, SQLITE_TRANSIENT);
        int r = sqlite3_step(st);
        rc = r == SQLITE_DONE || r == SQLITE_ROW ? TETHER_OK : step_error(r);
        if (rc != TETHER_OK) LOG_ERROR("catalog", "%s: %s", sql, sqlite3_errmsg(c->db));
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

static void copy_col(sqlite3_stmt *st, int col, char *out, size_t size)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(out, size, "%s", t ? (const char *)t : "");
}

bool catalog_session_name_ok(const char *name)
{
    return catalog_preset_name_ok(name) && strstr(name, "..") == NULL;
}

bool catalog_preset_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 100 || name[0] == '.' || name[0] == ' ') return false;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                  ch == '-' || ch == '_' || ch == '.' || ch == ' ';
        if (!ok) return false;
    }
    return true;
}

int catalog_session_create(catalog *c, const char *name)
{
    if (!catalog_session_name_ok(name)) return TETHER_ERR_BAD_VALUE;
    char created[32];
    snprintf(created, sizeof created, "%lld", (long long)time(NULL));
    const char *args[2] = {name, created};
    return exec_text(c, "INSERT OR IGNORE INTO sessions(name, created) VALUES(?1, ?2)", 2, args);
}

int catalog_sessions(catalog *c, catalog_session **out, int *n)
{
    *out = NULL;
    *n = 0;
    pthread_mutex_lock(&c->lock);
    sqlite3_stmt *st = prepare(c, "SELECT s.name, s.created,"
                                  " (SELECT COUNT(*) FROM photos p WHERE p.session = s.name AND p.raw_of = 0)"
                                  " FROM sessions s ORDER BY s.created DESC, s.name");
    int cap = 0, rc = st ? TETHER_OK : TETHER_ERR_IO;
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            catalog_session *p = realloc(*out, sizeof **out * (size_t)cap);
            if (p == NULL) {
                rc = TETHER_ERR_NO_MEMORY;
                break;
            }
            *out = p;
        }
        catalog_session *s = &(*out)[(*n)++];
        copy_col(st, 0, s->name, sizeof s->name);
        s->created = sqlite3_column_int64(st, 1);
        s->photos = sqlite3_column_int64(st, 2);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int catalog_meta_get(catalog *c, const char *key, char *value, size_t size)
{
    pthread_mutex_lock(&c->lock);
    sqlite3_stmt *st = prepare(c, "SELECT value FROM meta WHERE key = ?1");
    int rc = TETHER_ERR_NOT_FOUND;
    if (st && sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        copy_col(st, 0, value, size);
        rc = TETHER_OK;
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int catalog_meta_set(catalog *c, const char *key, const char *value)
{
    const char *args[2] = {key, value};
    return exec_text(c, "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)", 2, args);
}

int catalog_active_session(catalog *c, char *name, size_t size)
{
    return catalog_meta_get(c, "active_session", name, size);
}

int catalog_set_active_session(catalog *c, const char *name)
{
    int rc = catalog_session_create(c, name);
    if (rc != TETHER_OK) return rc;
    return catalog_meta_set(c, "active_session", name);
}

static void read_photo(sqlite3_stmt *st, catalog_photo *p)
{
    p->id = sqlite3_column_int64(st, 0);
    copy_col(st, 1, p->session, sizeof p->session);
    copy_col(st, 2, p->day, sizeof p->day);
    copy_col(st, 3, p->rel, sizeof p->rel);
    copy_col(st, 4, p->thumb, sizeof p->thumb);
    copy_col(st, 5, p->camera_path, sizeof p->camera_path);
    copy_col(st, 6, p->camera, sizeof p->camera);
    p->taken = sqlite3_column_int64(st, 7);
    p->size = sqlite3_column_int64(st, 8);
    p->width = sqlite3_column_int(st, 9);
    p->height = sqlite3_column_int(st, 10);
    copy_col(st, 11, p->camera_id, sizeof p->camera_id);
    copy_col(st, 12, p->camera_identity, sizeof p->camera_identity);
    p->rating = sqlite3_column_int(st, 13);
    copy_col(st, 14, p->label, sizeof p->label);
    p->pick = sqlite3_column_int(st, 15);
    p->raw_of = sqlite3_column_int64(st, 16);
    p->raw_id = sqlite3_column_int64(st, 17);
    copy_col(st, 18, p->raw_rel, sizeof p->raw_rel);
    p->raw_size = sqlite3_column_int64(st, 19);
}

/* a JPEG's RAW comes with it (the index photos_by_raw_of) */
#define RAW_OF_THIS(col) "(SELECT r." col " FROM photos r WHERE r.raw_of = photos.id AND photos.id != 0 LIMIT 1)"
#define PHOTO_COLS "id, session, day, rel, thumb, camera_path, camera, taken, size, width, height, camera_id, " \
                   "camera_identity, rating, label, pick, raw_of, " RAW_OF_THIS("id") ", " RAW_OF_THIS("rel") ", " \
                   RAW_OF_THIS("size")

int catalog_photo_add(catalog *c, catalog_photo *p)
{
    pthread_mutex_lock(&c->lock);
    sqlite3_stmt *st = prepare(c, "INSERT INTO photos(session, day, rel, thumb, camera_path, camera, taken, size,"
                                  " width, height, camera_id, camera_identity)"
                                  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
    int rc = TETHER_ERR_IO;
    if (st) {
        sqlite3_bind_text(st, 1, p->session, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, p->day, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, p->rel, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, p->thumb, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 5, p->camera_path, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 6, p->camera, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 7, p->taken);
        sqlite3_bind_int64(st, 8, p->size);
        sqlite3_bind_int(st, 9, p->width);
        sqlite3_bind_int(st, 10, p->height);
        sqlite3_bind_text(st, 11, p->camera_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 12, p->camera_identity, -1, SQLITE_TRANSIENT);
        int r = sqlite3_step(st);
        if (r == SQLITE_DONE) {
            p->id = sqlite3_last_insert_rowid(c->db);
            rc = TETHER_OK;
        } else {
            rc = step_error(r);
            LOG_ERROR("catalog", "adding %s: %s", p->rel, sqlite3_errmsg(c->db));
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

/* One photo by id, or by rel when rel is not NULL. */
static int photo_lookup(catalog *c, int64_t id, const char *rel, catalog_photo *out)
{
    pthread_mutex_lock(&c->lock);
    sqlite3_stmt *st = prepare(c, rel ? "SELECT " PHOTO_COLS " FROM photos WHERE rel = ?1"
                                      : "SELECT " PHOTO_COLS " FROM photos WHERE id = ?1");
    int rc = TETHER_ERR_NOT_FOUND;
    if (st) {
        if (rel) sqlite3_bind_text(st, 1, rel, -1, SQLITE_TRANSIENT);
        else sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) == SQLITE_ROW) {
            read_photo(st, out);
            rc = TETHER_OK;
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int catalog_photo_get(catalog *c, int64_t id, catalog_photo *out) { return photo_lookup(c, id, NULL, out); }

int catalog_photo_by_rel(catalog *c, const char *rel, catalog_photo *out) { return photo_lookup(c, 0, rel, out); }

int catalog_each_file(catalog *c, void (*fn)(void *ctx, const char *file), void *ctx)
{
    pthread_mutex_lock(&c->lock);
    sqlite3_stmt *st = prepare(c, "SELECT rel FROM photos");
    int rc = st ? TETHER_OK : TETHER_ERR_IO, r;
    while (st && (r = sqlite3_step(st)) == SQLITE_ROW) {
        const char *rel = (const char *)sqlite3_column_text(st, 0);
        const char *slash = rel ? strrchr(rel, '/') : NULL;
        if (rel) fn(ctx, slash ? slash + 1 : rel);
    }
    if (st && r != SQLITE_DONE) rc = step_error(r);
    sqlite3_finalize(st);
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int catalog_photo_set_size(catalog *c, int64_t id, int64_t size)
{
    char ids[32], sizes[32];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    snprintf(sizes, sizeof sizes, "%lld", (long long)size);
    const char *args[2] = {sizes, ids};
    return exec_text(c, "UPDATE photos SET size = CAST(?1 AS INTEGER) WHERE id = CAST(?2 AS INTEGER)", 2, args);
}

int catalog_photo_delete(catalog *c, int64_t id)
{
    char ids[32];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    const char *args[1] = {ids};
    return exec_text(c, "DELETE FROM photos WHERE id = CAST(?1 AS INTEGER)", 1, args);
}

int catalog_photos(catalog *c, const char *session, const char *day, int offset, int limit,
                   catalog_photo **out, int *n, int64_t *total)
{
    return catalog_photos_culled(c, session, day, NULL, offset, limit, out, n, total);
}

int catalog_photos_culled(catalog *c, const char *session, const char *day, const catalog_cull_filter *f,
                          int offset, int limit, catalog_photo **out, int *n, int64_t *total)
{
    *out = NULL;
    *n = 0;
    *total = 0;
    bool by_day = day && *day;
    catalog_cull_filter none = {.min_rating = -1};
    if (f == NULL) f = &none;
    /* one WHERE for the count and the page; every value is bound */
    const char *where = " WHERE session = ?1 AND (?2 = '' OR day = ?2) AND rating >= ?5"
                        " AND (?6 = '' OR label = ?6) AND (?7 = 0 OR pick = ?7) AND (?8 = 0 OR raw_of = 0)";
    char count_sql[400], page_sql[1000];
    snprintf(count_sql, sizeof count_sql, "SELECT COUNT(*) FROM photos%s", where);
    snprintf(page_sql, sizeof page_sql, "SELECT " PHOTO_COLS " FROM photos%s ORDER BY taken DESC, id DESC LIMIT ?3 OFFSET ?4",
             where);
    pthread_mutex_lock(&c->lock);
    sqlite3_stmt *cnt = prepare(c, count_sql);
    sqlite3_stmt *st = prepare(c, page_sql);
    int rc = cnt && st ? TETHER_OK : TETHER_ERR_IO;
    if (rc == TETHER_OK) {
        for (sqlite3_stmt *q = cnt; q; q = q == cnt ? st : NULL) {
            sqlite3_bind_text(q, 1, session, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(q, 2, by_day ? day : "", -1, SQLITE_TRANSIENT);
            sqlite3_bind_int(q, 5, f->min_rating);
            sqlite3_bind_text(q, 6, f->label ? f->label : "", -1, SQLITE_TRANSIENT);
            sqlite3_bind_int(q, 7, f->pick);
            sqlite3_bind_int(q, 8, f->items);
        }
        sqlite3_bind_int(st, 3, limit);
        sqlite3_bind_int(st, 4, offset);
        if (sqlite3_step(cnt) == SQLITE_ROW) *total = sqlite3_column_int64(cnt, 0);
        *out = calloc((size_t)(limit > 0 ? limit : 1), sizeof **out);
        if (*out == NULL) rc = TETHER_ERR_NO_MEMORY;
        while (rc == TETHER_OK && *n < limit && sqlite3_step(st) == SQLITE_ROW) read_photo(st, &(*out)[(*n)++]);
    }
    sqlite3_finalize(cnt);
    sqlite3_finalize(st);
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int catalog_photo_siblings(catalog *c, const catalog_photo *p, catalog_photo *out, int max, int *n)
{
    *n = 0;
    const char *slash = strrchr(p->rel, '/'), *dot = strrchr(p->rel, '.');
    if (dot == NULL || (slash && dot < slash)) return TETHER_OK; /* no extension: no sibling */
    size_t stem = (size_t)(dot - p->rel) + 1;                  /* "session/day/IMG_0001." */
    char like[1100];
    size_t k = 0;
    for (size_t i = 0; i < stem && k + 3 < sizeof like; i++) {
        if (p->rel[i] == '%' || p->rel[i] == '_' || p->rel[i] == '\\') like[k++] = '\\';
        like[k++] = p->rel[i];
    }
    like[k++] = '%';
    like[k] = '\0';
    pthread_mutex_lock(&c->lock);
    sqlite3_stmt *st = prepare(c, "SELECT " PHOTO_COLS " FROM photos WHERE rel LIKE ?1 ESCAPE '\\' AND id != ?2");
    int rc = st ? TETHER_OK : TETHER_ERR_IO;
    if (st) {
        sqlite3_bind_text(st, 1, like, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, p->id);
        while (*n < max && sqlite3_step(st) == SQLITE_ROW) {
            read_photo(st, &out[*n]);
            /* LIKE ignores case and takes "IMG_0001.tar.gz": the same stem, one extension */
            const char *rel = out[*n].rel;
            if (strncmp(rel, p->rel, stem) == 0 && strpbrk(rel + stem, "./") == NULL) (*n)++;
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int catalog_photo_pair_raw(catalog *c, int64_t raw_id, int64_t jpeg_id)
{
    pthread_mutex_lock(&c->lock);
    sqlite3_stmt *st = prepare(c, "UPDATE photos SET raw_of = ?2 WHERE id = ?1");
    int rc = TETHER_ERR_IO;
    if (st) {
        sqlite3_bind_int64(st, 1, raw_id);
        sqlite3_bind_int64(st, 2, jpeg_id);
        int r = sqlite3_step(st);
        rc = r == SQLITE_DONE ? (sqlite3_changes(c->db) ? TETHER_OK : TETHER_ERR_NOT_FOUND) : step_error(r);
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int catalog_photo_set_cull(catalog *c, int64_t id, int rating, const char *label, int pick)
{
    pthread_mutex_lock(&c->lock);
    sqlite3_stmt *st = prepare(c, "UPDATE photos SET rating = ?2, label = ?3, pick = ?4 WHERE id = ?1");
    int rc = TETHER_ERR_IO;
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int(st, 2, rating);
        sqlite3_bind_text(st, 3, label, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 4, pick);
        int r = sqlite3_step(st);
        rc = r == SQLITE_DONE ? (sqlite3_changes(c->db) ? TETHER_OK : TETHER_ERR_NOT_FOUND) : step_error(r);
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int catalog_days(catalog *c, const char *session, char (*days)[16], int max, int *n)
{
    *n = 0;
    pthread_mutex_lock(&c->lock);
    sqlite3_stmt *st = prepare(c, "SELECT DISTINCT day FROM photos WHERE session = ?1 ORDER BY day DESC");
    int rc = st ? TETHER_OK : TETHER_ERR_IO;
    if (st) {
        sqlite3_bind_text(st, 1, session, -1, SQLITE_TRANSIENT);
        while (*n < max && sqlite3_step(st) == SQLITE_ROW) copy_col(st, 0, days[(*n)++], 16);
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int catalog_preset_save(catalog *c, const char *name, const char *json)
{
    char created[32];
    snprintf(created, sizeof created, "%lld", (long long)time(NULL));
    const char *args[3] = {name, json, created};
    return exec_text(c, "INSERT OR REPLACE INTO presets(name, settings, created) VALUES(?1, ?2, ?3)", 3, args);
}

int catalog_preset_get(catalog *c, const char *name, char **json)
{
    *json = NULL;
    pthread_mutex_lock(&c->lock);
    sqlite3_stmt *st = prepare(c, "SELECT settings FROM presets WHERE name = ?1");
    int rc = TETHER_ERR_NOT_FOUND;
    if (st) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW) {
            const unsigned char *t = sqlite3_column_text(st, 0);
            *json = strdup(t ? (const char *)t : "{}");
            rc = *json ? TETHER_OK : TETHER_ERR_NO_MEMORY;
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int catalog_preset_delete(catalog *c, const char *name)
{
    char *j = NULL;
    if (catalog_preset_get(c, name, &j) != TETHER_OK) return TETHER_ERR_NOT_FOUND;
    free(j);
    const char *args[1] = {name};
    return exec_text(c, "DELETE FROM presets WHERE name = ?1", 1, args);
}

int catalog_presets(catalog *c, char **json)
{
    pthread_mutex_lock(&c->lock);
    sqlite3_stmt *st = prepare(c, "SELECT json_group_object(name, json(settings)) FROM (SELECT name, settings FROM presets ORDER BY name)");
    int rc = TETHER_ERR_IO;
    *json = NULL;
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        *json = strdup(t ? (const char *)t : "{}");
        rc = *json ? TETHER_OK : TETHER_ERR_NO_MEMORY;
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&c->lock);
    return rc;
}
