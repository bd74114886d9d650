/*
 * webhook_store: see webhook_store.h.  Plain SQL through sqlite3 prepared
 * statements on one connection behind a mutex; the schema is created on
 * open.  Several rows change together (an enqueue of one event for every
 * endpoint, an endpoint deleted with its pending items) inside one
 * transaction, so a crash leaves all of them or none.
 */
#include "webhook_store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "base/log.h"
#include "tether/errors.h"

struct webhook_store {
    sqlite3 *db;
    pthread_mutex_t lock;
};

static const char *const schema =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=FULL;"
    "CREATE TABLE IF NOT EXISTS endpoints(id INTEGER PRIMARY KEY AUTOINCREMENT, url TEXT NOT NULL,"
    "  secret TEXT NOT NULL, events TEXT NOT NULL, enabled INTEGER NOT NULL, created INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS outbox(id INTEGER PRIMARY KEY AUTOINCREMENT, endpoint INTEGER NOT NULL,"
    "  url TEXT NOT NULL, event TEXT NOT NULL, key TEXT NOT NULL UNIQUE, body TEXT NOT NULL,"
    "  state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL,"
    "  next_attempt INTEGER NOT NULL, last_attempt INTEGER NOT NULL DEFAULT 0, done INTEGER NOT NULL DEFAULT 0,"
    "  last_status INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX IF NOT EXISTS outbox_due ON outbox(state, next_attempt);";

static const char *const state_names[] = {"pending", "delivered", "failed"};

const char *webhook_state_name(webhook_state st)
{
    return (unsigned)st < 3 ? state_names[st] : "pending";
}

bool webhook_state_parse(const char *name, webhook_state *out)
{
    for (int i = 0; i < 3; i++)
        if (name && strcmp(name, state_names[i]) == 0) {
            *out = (webhook_state)i;
            return true;
        }
    return false;
}

/* The outbox holds the endpoints' secrets: the file is made readable by
 * its owner only before SQLite opens it (SQLite gives its -wal and -shm
 * files the database's mode); files an older version made are narrowed. */
static bool make_private(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return false;
    bool ok = fchmod(fd, 0600) == 0;
    close(fd);
    const char *const suffixes[] = {"-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        char side[4200];
        snprintf(side, sizeof side, "%s%s", path, suffixes[i]);
        if (chmod(side, 0600) != 0 && errno != ENOENT) ok = false;
    }
    return ok;
}

webhook_store *webhook_store_open(const char *path)
{
    if (!make_private(path)) {
        LOG_ERROR("webhook", "cannot make %s readable by its owner only: %s", path, strerror(errno));
        return NULL;
    }
    webhook_store *st = calloc(1, sizeof *st);
    if (st == NULL) return NULL;
    if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) !=
        SQLITE_OK) {
        LOG_ERROR("webhook", "cannot open %s: %s", path, st->db ? sqlite3_errmsg(st->db) : "?");
        sqlite3_close(st->db);
        free(st);
        return NULL;
    }
    sqlite3_busy_timeout(st->db, 5000);
    char *err = NULL;
    if (sqlite3_exec(st->db, schema, NULL, NULL, &err) != SQLITE_OK) {
        LOG_ERROR("webhook", "schema of %s: %s", path, err ? err : "?");
        sqlite3_free(err);
        sqlite3_close(st->db);
        free(st);
        return NULL;
    }
    pthread_mutex_init(&st->lock, NULL);
    return st;
}

void webhook_store_close(webhook_store *st)
{
    if (st == NULL) return;
    sqlite3_close(st->db);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

static sqlite3_stmt *prepare(webhook_store *st, const char *sql)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
        LOG_ERROR("webhook", "%s: %s", sql, sqlite3_errmsg(st->db));
        return NULL;
    }
    return s;
}

static bool exec(webhook_store *st, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &err) == SQLITE_OK) return true;
    LOG_ERROR("webhook", "%s: %s", sql, err ? err : "?");
    sqlite3_free(err);
    return false;
}

static void copy_col(sqlite3_stmt *s, int col, char *out, size_t size)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    snprintf(out, size, "%s", t ? (const char *)t : "");
}

/* ---- endpoints -------------------------------------------------------------------- */

#define ENDPOINT_COLS "id, url, secret, events, enabled, created"

static void read_endpoint(sqlite3_stmt *s, webhook_endpoint *e)
{
    e->id = sqlite3_column_int64(s, 0);
    copy_col(s, 1, e->url, sizeof e->url);
    copy_col(s, 2, e->secret, sizeof e->secret);
    copy_col(s, 3, e->events, sizeof e->events);
    e->enabled = sqlite3_column_int(s, 4) != 0;
    e->created_ms = sqlite3_column_int64(s, 5);
}

int webhook_store_endpoint_add(webhook_store *st, webhook_endpoint *e, int64_t now_ms)
{
    pthread_mutex_lock(&st->lock);
    sqlite3_stmt *s = prepare(st, "INSERT INTO endpoints(url, secret, events, enabled, created) VALUES(?1, ?2, ?3, 1, ?4)");
    int rc = TETHER_ERR_IO;
    if (s) {
        sqlite3_bind_text(s, 1, e->url, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 2, e->secret, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 3, e->events, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 4, now_ms);
        if (sqlite3_step(s) == SQLITE_DONE) {
            e->id = sqlite3_last_insert_rowid(st->db);
            e->created_ms = now_ms;
            e->enabled = true;
            rc = TETHER_OK;
        } else {
            LOG_ERROR("webhook", "adding an endpoint: %s", sqlite3_errmsg(st->db));
        }
        sqlite3_finalize(s);
    }
    pthread_mutex_unlock(&st->lock);
    return rc;
}

int webhook_store_endpoint_update(webhook_store *st, const webhook_endpoint *e)
{
    pthread_mutex_lock(&st->lock);
    sqlite3_stmt *s = prepare(st, "UPDATE endpoints SET url = ?1, secret = ?2, events = ?3, enabled = ?4 WHERE id = ?5");
    int rc = TETHER_ERR_IO;
    if (s) {
        sqlite3_bind_text(s, 1, e->url, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 2, e->secret, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 3, e->events, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(s, 4, e->enabled ? 1 : 0);
        sqlite3_bind_int64(s, 5, e->id);
        if (sqlite3_step(s) == SQLITE_DONE)
            rc = sqlite3_changes(st->db) > 0 ? TETHER_OK : TETHER_ERR_NOT_FOUND;
        else
            LOG_ERROR("webhook", "updating endpoint %lld: %s", (long long)e->id, sqlite3_errmsg(st->db));
        sqlite3_finalize(s);
    }
    pthread_mutex_unlock(&st->lock);
    return rc;
}

int webhook_store_endpoint_delete(webhook_store *st, int64_t id, int64_t now_ms)
{
    pthread_mutex_lock(&st->lock);
    int rc = TETHER_ERR_IO;
    if (!exec(st, "BEGIN IMMEDIATE")) goto out;
    sqlite3_stmt *del = prepare(st, "DELETE FROM endpoints WHERE id = ?1");
    sqlite3_stmt *fail = prepare(st, "UPDATE outbox SET state = 'failed', done = ?2, last_error = 'endpoint deleted'"
                                     " WHERE endpoint = ?1 AND state = 'pending'");
    if (del && fail) {
        sqlite3_bind_int64(del, 1, id);
        sqlite3_bind_int64(fail, 1, id);
        sqlite3_bind_int64(fail, 2, now_ms);
        if (sqlite3_step(del) == SQLITE_DONE)
            rc = sqlite3_changes(st->db) == 0 ? TETHER_ERR_NOT_FOUND
                 : sqlite3_step(fail) == SQLITE_DONE ? TETHER_OK
                                                     : TETHER_ERR_IO;
    }
    sqlite3_finalize(del);
    sqlite3_finalize(fail);
    if (!exec(st, rc == TETHER_OK ? "COMMIT" : "ROLLBACK") && rc == TETHER_OK) {
        exec(st, "ROLLBACK");
        rc = TETHER_ERR_IO;
    }
out:
    pthread_mutex_unlock(&st->lock);
    return rc;
}

int webhook_store_endpoint_get(webhook_store *st, int64_t id, webhook_endpoint *out)
{
    pthread_mutex_lock(&st->lock);
    sqlite3_stmt *s = prepare(st, "SELECT " ENDPOINT_COLS " FROM endpoints WHERE id = ?1");
    int rc = s ? TETHER_ERR_NOT_FOUND : TETHER_ERR_IO;
    if (s) {
        sqlite3_bind_int64(s, 1, id);
        if (sqlite3_step(s) == SQLITE_ROW) {
            read_endpoint(s, out);
            rc = TETHER_OK;
        }
        sqlite3_finalize(s);
    }
    pthread_mutex_unlock(&st->lock);
    return rc;
}

int webhook_store_endpoints(webhook_store *st, webhook_endpoint **out, int *n)
{
    *out = NULL;
    *n = 0;
    pthread_mutex_lock(&st->lock);
    sqlite3_stmt *s = prepare(st, "SELECT " ENDPOINT_COLS " FROM endpoints ORDER BY id");
    int cap = 0, rc = s ? TETHER_OK : TETHER_ERR_IO;
    while (s && sqlite3_step(s) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            webhook_endpoint *p = realloc(*out, sizeof **out * (size_t)cap);
            if (p == NULL) {
                rc = TETHER_ERR_NO_MEMORY;
                break;
            }
            *out = p;
        }
        read_endpoint(s, &(*out)[(*n)++]);
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->lock);
    if (rc != TETHER_OK) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

/* ---- the outbox ------------------------------------------------------------------------ */

int webhook_store_enqueue(webhook_store *st, webhook_item *items, int n)
{
    if (n <= 0) return TETHER_OK;
    pthread_mutex_lock(&st->lock);
    int rc = TETHER_ERR_IO;
    if (!exec(st, "BEGIN IMMEDIATE")) goto out;
    sqlite3_stmt *s = prepare(st, "INSERT INTO outbox(endpoint, url, event, key, body, state, created, next_attempt)"
                                  " VALUES(?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7)");
    rc = s ? TETHER_OK : TETHER_ERR_IO;
    for (int i = 0; s && i < n && rc == TETHER_OK; i++) {
        webhook_item *it = &items[i];
        sqlite3_reset(s);
        sqlite3_bind_int64(s, 1, it->endpoint);
        sqlite3_bind_text(s, 2, it->url, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 3, it->event, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 4, it->key, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 5, it->body ? it->body : "{}", -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 6, it->created_ms);
        sqlite3_bind_int64(s, 7, it->next_attempt_ms);
        int r = sqlite3_step(s);
        if (r == SQLITE_DONE) {
            it->id = sqlite3_last_insert_rowid(st->db);
            it->state = WEBHOOK_PENDING;
        } else {
            rc = r == SQLITE_CONSTRAINT ? TETHER_ERR_EXISTS : TETHER_ERR_IO;
            LOG_ERROR("webhook", "enqueueing %s: %s", it->key, sqlite3_errmsg(st->db));
        }
    }
    sqlite3_finalize(s);
    if (rc == TETHER_OK && !exec(st, "COMMIT")) rc = TETHER_ERR_IO;
    if (rc != TETHER_OK) exec(st, "ROLLBACK");
out:
    pthread_mutex_unlock(&st->lock);
    return rc;
}

#define ITEM_COLS                                                                                   \
    "id, endpoint, url, event, key, state, attempts, created, next_attempt, last_attempt, done, last_status," \
    " last_error"

static void read_item(sqlite3_stmt *s, webhook_item *it)
{
    memset(it, 0, sizeof *it);
    it->id = sqlite3_column_int64(s, 0);
    it->endpoint = sqlite3_column_int64(s, 1);
    copy_col(s, 2, it->url, sizeof it->url);
    copy_col(s, 3, it->event, sizeof it->event);
    copy_col(s, 4, it->key, sizeof it->key);
    const unsigned char *state = sqlite3_column_text(s, 5);
    webhook_state_parse((const char *)state, &it->state);
    it->attempts = sqlite3_column_int(s, 6);
    it->created_ms = sqlite3_column_int64(s, 7);
    it->next_attempt_ms = sqlite3_column_int64(s, 8);
    it->last_attempt_ms = sqlite3_column_int64(s, 9);
    it->done_ms = sqlite3_column_int64(s, 10);
    it->last_status = sqlite3_column_int(s, 11);
    copy_col(s, 12, it->last_error, sizeof it->last_error);
}

int webhook_store_next_due(webhook_store *st, int64_t now_ms, const int64_t *busy, int n_busy, webhook_item *out,
                           int64_t *next_ms)
{
    *next_ms = -1;
    memset(out, 0, sizeof *out);
    if (n_busy < 0 || n_busy > WEBHOOK_STORE_BUSY_MAX) return TETHER_ERR_INVALID_ARGUMENT;
    /* "... AND endpoint NOT IN (?2, ?3, ...)" for the busy endpoints */
    char sql[512];
    int len = snprintf(sql, sizeof sql, "SELECT " ITEM_COLS ", body FROM outbox WHERE state = 'pending'");
    if (n_busy > 0) {
        len += snprintf(sql + len, sizeof sql - (size_t)len, " AND endpoint NOT IN (");
        for (int i = 0; i < n_busy; i++) len += snprintf(sql + len, sizeof sql - (size_t)len, "%s?", i ? ", " : "");
        len += snprintf(sql + len, sizeof sql - (size_t)len, ")");
    }
    snprintf(sql + len, sizeof sql - (size_t)len, " ORDER BY next_attempt, id LIMIT 1");
    pthread_mutex_lock(&st->lock);
    sqlite3_stmt *due = prepare(st, sql);
    for (int i = 0; due && i < n_busy; i++) sqlite3_bind_int64(due, i + 1, busy[i]);
    int rc = due ? TETHER_ERR_NOT_FOUND : TETHER_ERR_IO;
    if (due && sqlite3_step(due) == SQLITE_ROW) {
        int64_t at = sqlite3_column_int64(due, 8);
        if (at <= now_ms) {
            read_item(due, out);
            const unsigned char *b = sqlite3_column_text(due, 13);
            out->body = strdup(b ? (const char *)b : "{}");
            rc = out->body ? TETHER_OK : TETHER_ERR_NO_MEMORY;
        } else {
            *next_ms = at;
        }
    }
    sqlite3_finalize(due);
    pthread_mutex_unlock(&st->lock);
    return rc;
}

int webhook_store_mark(webhook_store *st, int64_t id, webhook_state state, int attempts, int64_t next_attempt_ms,
                       int last_status, const char *last_error, int64_t now_ms)
{
    pthread_mutex_lock(&st->lock);
    sqlite3_stmt *s = prepare(st, "UPDATE outbox SET state = ?2, attempts = ?3, next_attempt = ?4, last_attempt = ?5,"
                                  " done = ?6, last_status = ?7, last_error = ?8 WHERE id = ?1 AND state = 'pending'");
    int rc = TETHER_ERR_IO;
    if (s) {
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_text(s, 2, webhook_state_name(state), -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 3, attempts);
        sqlite3_bind_int64(s, 4, next_attempt_ms);
        sqlite3_bind_int64(s, 5, now_ms);
        sqlite3_bind_int64(s, 6, state == WEBHOOK_PENDING ? 0 : now_ms);
        sqlite3_bind_int(s, 7, last_status);
        sqlite3_bind_text(s, 8, last_error ? last_error : "", -1, SQLITE_TRANSIENT);
        if (sqlite3_step(s) == SQLITE_DONE) rc = TETHER_OK;
        else LOG_ERROR("webhook", "marking item %lld: %s", (long long)id, sqlite3_errmsg(st->db));
        sqlite3_finalize(s);
    }
    pthread_mutex_unlock(&st->lock);
    return rc;
}

int webhook_store_retry(webhook_store *st, const char *key, int64_t now_ms)
{
    pthread_mutex_lock(&st->lock);
    sqlite3_stmt *s = prepare(st, "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt = ?2, done = 0"
                                  " WHERE key = ?1 AND state = 'failed'"
                                  " AND endpoint IN (SELECT id FROM endpoints)");
    int rc = TETHER_ERR_IO;
    if (s) {
        sqlite3_bind_text(s, 1, key, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 2, now_ms);
        if (sqlite3_step(s) == SQLITE_DONE) rc = sqlite3_changes(st->db) ? TETHER_OK : TETHER_ERR_NOT_FOUND;
        sqlite3_finalize(s);
    }
    pthread_mutex_unlock(&st->lock);
    return rc;
}

int webhook_store_items(webhook_store *st, int state, int limit, webhook_item **out, int *n)
{
    *out = NULL;
    *n = 0;
    if (limit <= 0) return TETHER_OK;
    pthread_mutex_lock(&st->lock);
    sqlite3_stmt *s = prepare(st, state >= 0 ? "SELECT " ITEM_COLS " FROM outbox WHERE state = ?1 ORDER BY id DESC LIMIT ?2"
                                             : "SELECT " ITEM_COLS " FROM outbox ORDER BY id DESC LIMIT ?2");
    int rc = s ? TETHER_OK : TETHER_ERR_IO;
    if (s) {
        if (state >= 0) sqlite3_bind_text(s, 1, webhook_state_name((webhook_state)state), -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 2, limit);
        *out = calloc((size_t)limit, sizeof **out);
        if (*out == NULL) rc = TETHER_ERR_NO_MEMORY;
        while (rc == TETHER_OK && *n < limit && sqlite3_step(s) == SQLITE_ROW) read_item(s, &(*out)[(*n)++]);
        sqlite3_finalize(s);
    }
    pthread_mutex_unlock(&st->lock);
    return rc;
}

int webhook_store_counts(webhook_store *st, int64_t counts[3])
{
    counts[0] = counts[1] = counts[2] = 0;
    pthread_mutex_lock(&st->lock);
    sqlite3_stmt *s = prepare(st, "SELECT state, COUNT(*) FROM outbox GROUP BY state");
    int rc = s ? TETHER_OK : TETHER_ERR_IO;
    while (s && sqlite3_step(s) == SQLITE_ROW) {
        webhook_state w;
        if (webhook_state_parse((const char *)sqlite3_column_text(s, 0), &w)) counts[w] = sqlite3_column_int64(s, 1);
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->lock);
    return rc;
}

int webhook_store_prune(webhook_store *st, int64_t before_ms, int *removed)
{
    *removed = 0;
    pthread_mutex_lock(&st->lock);
    sqlite3_stmt *s = prepare(st, "DELETE FROM outbox WHERE state IN ('delivered', 'failed') AND done < ?1");
    int rc = TETHER_ERR_IO;
    if (s) {
        sqlite3_bind_int64(s, 1, before_ms);
        if (sqlite3_step(s) == SQLITE_DONE) {
            *removed = sqlite3_changes(st->db);
            rc = TETHER_OK;
        } else {
            LOG_ERROR("webhook", "pruning the outbox: %s", sqlite3_errmsg(st->db));
        }
        sqlite3_finalize(s);
    }
    pthread_mutex_unlock(&st->lock);
    return rc;
}

void webhook_item_clear(webhook_item *it)
{
    if (it == NULL) return;
    free(it->body);
    it->body = NULL;
}

void webhook_items_free(webhook_item *items, int n)
{
    for (int i = 0; items && i < n; i++) webhook_item_clear(&items[i]);
    free(items);
}
