/*
 * catalog: what the studio must remember across restarts, in one SQLite
 * database (WAL): sessions and the active one, the photos taken (where
 * they are, their thumbnails, when, with what), and presets (named sets
 * of setting values).
 *
 * A RAW + JPEG shot is one item: the RAW's row names the JPEG's
 * (raw_of), listings of items leave it out, and the JPEG's row carries
 * it (raw_id, raw_rel, raw_size).  Which files pair is the studio's call
 * (catalog_photo_siblings, catalog_photo_pair_raw).
 *
 * Thread safety: every function may be called from any thread (one
 * connection, serialised by a mutex).  Strings returned in structs are
 * copies in fixed buffers; lists are malloc'ed and freed by the caller.
 * Errors: functions return 0 or a negative tether_err, with the SQLite
 * message in the log: TETHER_ERR_DISK_FULL when the disk is full,
 * TETHER_ERR_STORAGE when the file cannot be written (read-only, gone, an
 * I/O error), TETHER_ERR_IO for anything else.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct catalog catalog;

typedef struct catalog_photo {
    int64_t id;
    char session[128];
    char day[16];            /* "2026-11-22" */
    char rel[512];           /* path below the photo root: session/day/file */
    char thumb[512];         /* thumbnail path below the photo root */
    char camera_path[512];
    char camera[128];        /* the camera's model */
    char camera_id[64];      /* the studio's id of the camera ("" if not known) */
    char camera_identity[256]; /* "MODEL SERIAL" ("" if not known) */
    int64_t taken;           /* epoch seconds */
    int64_t size;
    int width, height;
    int rating;              /* culling: 0..5 stars, -1 rejected */
    char label[16];          /* culling: "", "Red", "Yellow", "Green", "Blue", "Purple" */
    int pick;                /* culling: 1 picked, 0 unflagged, -1 rejected */
    int64_t raw_of;          /* a RAW shot with a JPEG: the JPEG's id; else 0 */
    int64_t raw_id;          /* a JPEG shot with a RAW: the RAW's id, path and size; else 0 */
    char raw_rel[512];
    int64_t raw_size;
} catalog_photo;

/* Which photos a culled listing keeps (catalog_photos_culled). */
typedef struct catalog_cull_filter {
    int min_rating;          /* -1: every photo; 0: all but the rejected; N: N stars or more */
    const char *label;       /* "": any */
    int pick;                /* 0: any; 1 picked only; -1 rejected only */
    bool items;              /* one row per shot: a RAW paired with a JPEG is left out */
} catalog_cull_filter;

typedef struct catalog_session {
    char name[128];
    int64_t created;
    int64_t photos;
} catalog_session;

/* Opens (creating) the database at path.  Returns NULL on failure. */
catalog *catalog_open(const char *path);
void catalog_close(catalog *c);
/* Is the open database still the file at its path?  TETHER_ERR_STORAGE if
 * that file was deleted, moved or replaced since it was opened (what is
 * written now would be lost with the process), else TETHER_OK.  Cheap (a
 * stat); any thread. */
int catalog_check(catalog *c);

/* Sessions.  Names are 1..100 characters of letters, digits, '-', '_', '.'
 * and space, not starting with '.' or a space, with no ".." (they name
 * folders, and paths with ".." are refused).  Names that an older version
 * let in may still be in the database: they are listed, and refused by
 * catalog_set_active_session. */
bool catalog_session_name_ok(const char *name);
/* Preset names: the same, but ".." is fine (they name no folder). */
bool catalog_preset_name_ok(const char *name);
int catalog_session_create(catalog *c, const char *name);
int catalog_sessions(catalog *c, catalog_session **out, int *n);
int catalog_active_session(catalog *c, char *name, size_t size);
/* The studio's own settings, by key ("active_session", "name_template").
 * get: 0 (value copied, cut to size), TETHER_ERR_NOT_FOUND or a storage
 * error; set: 0 or a storage error.  Any thread. */
int catalog_meta_get(catalog *c, const char *key, char *value, size_t size);
int catalog_meta_set(catalog *c, const char *key, const char *value);
int catalog_set_active_session(catalog *c, const char *name);

/* Photos. */
int catalog_photo_add(catalog *c, catalog_photo *p);            /* sets p->id */
int catalog_photo_get(catalog *c, int64_t id, catalog_photo *out);
/* The photo stored at rel (path below the photo root); TETHER_ERR_NOT_FOUND if none. */
int catalog_photo_by_rel(catalog *c, const char *rel, catalog_photo *out);
int catalog_photo_delete(catalog *c, int64_t id);
/* Calls fn with the file name (no folder) of every photo catalogued, in
 * no order, under the catalog's lock (fn must not call the catalog).
 * Returns 0 or an error. */
int catalog_each_file(catalog *c, void (*fn)(void *ctx, const char *file), void *ctx);
/* Records a photo's new size (its file was rewritten, e.g. tagged). */
int catalog_photo_set_size(catalog *c, int64_t id, int64_t size);
/* Photos of a session (and day, if not NULL/empty), newest first: every
 * file, a RAW of a pair too (catalog_photos_culled with items: one per shot). */
int catalog_photos(catalog *c, const char *session, const char *day, int offset, int limit,
                   catalog_photo **out, int *n, int64_t *total);
/* The same, keeping only the photos f lets through (NULL: all). */
int catalog_photos_culled(catalog *c, const char *session, const char *day, const catalog_cull_filter *f,
                          int offset, int limit, catalog_photo **out, int *n, int64_t *total);
/* The other files of p's shot candidates: the photos in p's folder whose
 * file name is p's but for the extension (IMG_0001.CR2 for IMG_0001.JPG),
 * up to max into out.  Returns 0 or an error. */
int catalog_photo_siblings(catalog *c, const catalog_photo *p, catalog_photo *out, int max, int *n);
/* Makes the RAW raw_id part of the JPEG jpeg_id's item (0: on its own
 * again).  Returns 0, TETHER_ERR_NOT_FOUND or a storage error. */
int catalog_photo_pair_raw(catalog *c, int64_t raw_id, int64_t jpeg_id);
/* Records a photo's culling; TETHER_ERR_NOT_FOUND if there is no such photo. */
int catalog_photo_set_cull(catalog *c, int64_t id, int rating, const char *label, int pick);
/* The days of a session with photos, newest first (up to max). */
int catalog_days(catalog *c, const char *session, char (*days)[16], int max, int *n);

/* Presets: name -> JSON text of {"setting": "value", ...}. */
int catalog_preset_save(catalog *c, const char *name, const char *json);
int catalog_preset_get(catalog *c, const char *name, char **json);
int catalog_preset_delete(catalog *c, const char *name);
/* All presets as a JSON object text {"name": {...}, ...} (malloc'ed). */
int catalog_presets(catalog *c, char **json);
