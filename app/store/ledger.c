/*
 * ledger: see ledger.h.  Prepared statements with their parameters bound
 * from a small type string ("t" text, "i" 64-bit integer), so each query
 * is one line of SQL and one call.
 */
#include "ledger.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "base/log.h"
#include "tether/errors.h"

struct ledger {
    sqlite3 *db;
};

static const char *const schema =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=FULL;"
    "CREATE TABLE IF NOT EXISTS jobs(id INTEGER PRIMARY KEY, camera TEXT, dest TEXT, mode INTEGER,"
    "  delete_after INTEGER, state TEXT, created INTEGER, finished INTEGER);"
    "CREATE TABLE IF NOT EXISTS job_files(job INTEGER, seq INTEGER, camera_path TEXT, size INTEGER,"
    "  mtime INTEGER, local TEXT, state TEXT, reported INTEGER DEFAULT 0, deleted INTEGER DEFAULT 0,"
    "  PRIMARY KEY(job, camera_path));"
    "CREATE INDEX IF NOT EXISTS job_files_by_local ON job_files(local);"
    "CREATE TABLE IF NOT EXISTS imported(camera TEXT, camera_path TEXT, size INTEGER, mtime INTEGER,"
    "  local TEXT, at INTEGER, PRIMARY KEY(camera, camera_path, size, mtime));";

ledger *ledger_open(const char *path)
{
    ledger *l = calloc(1, sizeof *l);
    if (l == NULL) return NULL;
    if (sqlite3_open_v2(path, &l->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        LOG_ERROR("ledger", "cannot open %s: %s", path, l->db ? sqlite3_errmsg(l->db) : "?");
        sqlite3_close(l->db);
        free(l);
        return NULL;
    }
    sqlite3_busy_timeout(l->db, 10000);
    char *err = NULL;
    if (sqlite3_exec(l->db, schema, NULL, NULL, &err) != SQLITE_OK) {
        LOG_ERROR("ledger", "%s: schema: %s", path, err ? err : "?");
        sqlite3_free(err);
        sqlite3_close(l->db);
        free(l);
        return NULL;
    }
    return l;
}

void ledger_close(ledger *l)
{
    if (l == NULL) return;
    sqlite3_close(l->db);
    free(l);
}

/* Prepares sql and binds the arguments described by types. */
static sqlite3_stmt *query(ledger *l, const char *sql, const char *types, ...)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(l->db, sql, -1, &st, NULL) != SQLITE_OK) {
        LOG_ERROR("ledger", "%s: %s", sql, sqlite3_errmsg(l->db));
        return NULL;
    }
    va_list ap;
    va_start(ap, types);
    for (int i = 0; types[i]; i++) {
        if (types[i] == 't') sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
        else sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
    }
    va_end(ap);
    return st;
}

/* Steps a statement to its end and finalises it. */
static int finish(ledger *l, sqlite3_stmt *st)
{
    if (st == NULL) return TETHER_ERR_IO;
    int r = sqlite3_step(st);
    int rc = r == SQLITE_DONE || r == SQLITE_ROW ? TETHER_OK : TETHER_ERR_IO;
    if (rc != TETHER_OK) LOG_ERROR("ledger", "%s: %s", sqlite3_sql(st), sqlite3_errmsg(l->db));
    sqlite3_finalize(st);
    return rc;
}

static int exec(ledger *l, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(l->db, sql, NULL, NULL, &err) == SQLITE_OK) return TETHER_OK;
    LOG_ERROR("ledger", "%s: %s", sql, err ? err : "?");
    sqlite3_free(err);
    return TETHER_ERR_IO;
}

int ledger_begin(ledger *l) { return exec(l, "BEGIN IMMEDIATE"); }
int ledger_commit(ledger *l) { return exec(l, "COMMIT"); }
void ledger_rollback(ledger *l) { exec(l, "ROLLBACK"); }

static void copy_col(sqlite3_stmt *st, int col, char *out, size_t size)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(out, size, "%s", t ? (const char *)t : "");
}

int ledger_unfinished_job(ledger *l, const char *camera, const char *dest, ledger_job *out)
{
    sqlite3_stmt *st =
        query(l,
              "SELECT id, camera, dest, mode, delete_after, state, created,"
              " (SELECT COUNT(*) FROM job_files f WHERE f.job = j.id),"
              " (SELECT COUNT(*) FROM job_files f WHERE f.job = j.id AND f.state = 'done')"
              " FROM jobs j WHERE camera = ?1 AND (?2 = '' OR dest = ?2) AND state IN ('running', 'cancelled')"
              " ORDER BY id DESC LIMIT 1",
              "tt", camera, dest ? dest : "");
    if (st == NULL) return TETHER_ERR_IO;
    int rc = TETHER_ERR_NOT_FOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *out = (ledger_job){.id = sqlite3_column_int64(st, 0)};
        copy_col(st, 1, out->camera, sizeof out->camera);
        copy_col(st, 2, out->dest, sizeof out->dest);
        out->mode = sqlite3_column_int(st, 3);
        out->delete_after = sqlite3_column_int(st, 4) != 0;
        copy_col(st, 5, out->state, sizeof out->state);
        out->created = sqlite3_column_int64(st, 6);
        out->files_total = sqlite3_column_int(st, 7);
        out->files_done = sqlite3_column_int(st, 8);
        rc = TETHER_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

int ledger_job_add(ledger *l, ledger_job *j)
{
    j->created = time(NULL);
    snprintf(j->state, sizeof j->state, "running");
    int rc = finish(l, query(l,
                             "INSERT INTO jobs(camera, dest, mode, delete_after, state, created)"
                             " VALUES(?1, ?2, ?3, ?4, 'running', ?5)",
                             "ttiii", j->camera, j->dest, (int64_t)j->mode, (int64_t)j->delete_after, j->created));
    if (rc == TETHER_OK) j->id = sqlite3_last_insert_rowid(l->db);
    return rc;
}

int ledger_file_add(ledger *l, int64_t job, const ledger_file *f)
{
    return finish(l, query(l,
                           "INSERT INTO job_files(job, seq, camera_path, size, mtime, local, state)"
                           " VALUES(?1, ?2, ?3, ?4, ?5, ?6, 'pending')",
                           "iitiit", job, (int64_t)f->seq, f->camera_path, (int64_t)f->size, f->mtime, f->local));
}

int ledger_job_set_state(ledger *l, int64_t job, const char *state)
{
    return finish(l, query(l, "UPDATE jobs SET state = ?1, finished = ?2 WHERE id = ?3", "tii", state,
                           (int64_t)time(NULL), job));
}

int ledger_job_files(ledger *l, int64_t job, ledger_file **out, int *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = query(l,
                             "SELECT seq, camera_path, size, mtime, local, state, reported, deleted"
                             " FROM job_files WHERE job = ?1 ORDER BY seq",
                             "i", job);
    if (st == NULL) return TETHER_ERR_IO;
    int cap = 0, rc = TETHER_OK, r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            ledger_file *p = realloc(*out, sizeof **out * (size_t)cap);
            if (p == NULL) {
                rc = TETHER_ERR_NO_MEMORY;
                break;
            }
            *out = p;
        }
        ledger_file *f = &(*out)[(*n)++];
        *f = (ledger_file){.seq = sqlite3_column_int(st, 0)};
        copy_col(st, 1, f->camera_path, sizeof f->camera_path);
        f->size = (uint64_t)sqlite3_column_int64(st, 2);
        f->mtime = sqlite3_column_int64(st, 3);
        copy_col(st, 4, f->local, sizeof f->local);
        copy_col(st, 5, f->state, sizeof f->state);
        f->reported = sqlite3_column_int(st, 6) != 0;
        f->deleted = sqlite3_column_int(st, 7) != 0;
    }
    if (rc == TETHER_OK && r != SQLITE_DONE) rc = TETHER_ERR_IO;
    sqlite3_finalize(st);
    if (rc != TETHER_OK) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

/* Does a query with one row of one integer say "non-zero"? */
static bool ask(sqlite3_stmt *st)
{
    bool yes = st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) != 0;
    sqlite3_finalize(st);
    return yes;
}

bool ledger_name_taken(ledger *l, const char *dest, const char *name)
{
    return ask(query(l,
                     "SELECT EXISTS(SELECT 1 FROM job_files f JOIN jobs j ON j.id = f.job"
                     " WHERE f.local = ?1 AND j.dest = ?2)",
                     "tt", name, dest));
}

bool ledger_was_imported(ledger *l, const char *camera, const char *camera_path, uint64_t size, int64_t mtime)
{
    return ask(query(l,
                     "SELECT EXISTS(SELECT 1 FROM imported WHERE camera = ?1 AND camera_path = ?2"
                     " AND size = ?3 AND mtime = ?4)",
                     "ttii", camera, camera_path, (int64_t)size, mtime));
}

static int set_file(ledger *l, const char *sql, int64_t job, const char *camera_path)
{
    return finish(l, query(l, sql, "it", job, camera_path));
}

int ledger_file_done(ledger *l, int64_t job, const char *camera, const ledger_file *f, bool reported)
{
    int rc = finish(l, query(l, "UPDATE job_files SET state = 'done', reported = ?1 WHERE job = ?2 AND camera_path = ?3",
                             "iit", (int64_t)reported, job, f->camera_path));
    if (rc != TETHER_OK) return rc;
    return finish(l, query(l,
                           "INSERT OR REPLACE INTO imported(camera, camera_path, size, mtime, local, at)"
                           " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
                           "ttiiti", camera, f->camera_path, (int64_t)f->size, f->mtime, f->local,
                           (int64_t)time(NULL)));
}

int ledger_file_failed(ledger *l, int64_t job, const char *camera_path)
{
    return set_file(l, "UPDATE job_files SET state = 'failed' WHERE job = ?1 AND camera_path = ?2", job, camera_path);
}

int ledger_file_reported(ledger *l, int64_t job, const char *camera_path)
{
    return set_file(l, "UPDATE job_files SET reported = 1 WHERE job = ?1 AND camera_path = ?2", job, camera_path);
}

int ledger_file_deleted(ledger *l, int64_t job, const char *camera_path)
{
    return set_file(l, "UPDATE job_files SET deleted = 1 WHERE job = ?1 AND camera_path = ?2", job, camera_path);
}

int ledger_file_rename(ledger *l, int64_t job, const char *camera_path, const char *local)
{
    return finish(l, query(l, "UPDATE job_files SET local = ?1 WHERE job = ?2 AND camera_path = ?3", "tit", local,
                           job, camera_path));
}
