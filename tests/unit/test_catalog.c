/*
 * Unit tests for the photo catalog (app/store/catalog.c): a database made
 * by an older version gains the culling columns with its photos intact,
 * culling is recorded and filtered on, and a photo that is not there is
 * said so; a RAW + JPEG shot's files find each other and list as one item.
 */
#include "harness.h"

#include <sqlite3.h>
#include <unistd.h>

#include "store/catalog.h"
#include "tether/errors.h"

static char dir[] = "/tmp/test-catalog-XXXXXX";

/* The photos table as a version before culling and camera ids made it. */
static void make_old_catalog(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK) abort();
    const char *sql =
        "CREATE TABLE photos(id INTEGER PRIMARY KEY, session TEXT, day TEXT, rel TEXT UNIQUE, thumb TEXT,"
        " camera_path TEXT, camera TEXT, taken INTEGER, size INTEGER, width INTEGER, height INTEGER);"
        "INSERT INTO photos(session, day, rel, thumb, camera_path, camera, taken, size, width, height) VALUES"
        " ('default', '2026-11-22', 'default/2026-11-22/a.jpg', '', '/a.jpg', 'Canon EOS 550D', 100, 10, 64, 48),"
        " ('default', '2026-11-22', 'default/2026-11-22/b.jpg', '', '/b.jpg', 'Canon EOS 550D', 200, 10, 64, 48),"
        " ('default', '2026-11-22', 'default/2026-11-22/c.cr2', '', '/c.cr2', 'Canon EOS 550D', 300, 10, 64, 48);";
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) abort();
    sqlite3_close(db);
}

static int64_t count(catalog *c, const catalog_cull_filter *f)
{
    catalog_photo *list = NULL;
    int n = 0;
    int64_t total = -1;
    if (catalog_photos_culled(c, "default", NULL, f, 0, 50, &list, &n, &total) != TETHER_OK) total = -1;
    free(list);
    return total;
}

TEST(older_catalog_gains_culling)
{
    if (mkdtemp(dir) == NULL) abort();
    char path[128];
    snprintf(path, sizeof path, "%s/catalog.db", dir);
    make_old_catalog(path);
    catalog *c = catalog_open(path);
    CHECK(c != NULL);
    catalog_photo p;
    CHECK_EQ_INT(catalog_photo_get(c, 1, &p), TETHER_OK);
    CHECK(strcmp(p.rel, "default/2026-11-22/a.jpg") == 0 && p.rating == 0 && p.label[0] == '\0' && p.pick == 0);
    CHECK_EQ_INT(catalog_photo_set_cull(c, 1, 4, "Red", 0), TETHER_OK);
    CHECK_EQ_INT(catalog_photo_set_cull(c, 2, -1, "", -1), TETHER_OK);
    CHECK_EQ_INT(catalog_photo_set_cull(c, 3, 2, "", 1), TETHER_OK);
    CHECK_EQ_INT(catalog_photo_set_cull(c, 99, 2, "", 1), TETHER_ERR_NOT_FOUND);
    CHECK_EQ_INT(count(c, NULL), 3);
    CHECK_EQ_INT(count(c, &(catalog_cull_filter){.min_rating = 0}), 2);  /* all but the rejected */
    CHECK_EQ_INT(count(c, &(catalog_cull_filter){.min_rating = 3}), 1);
    CHECK_EQ_INT(count(c, &(catalog_cull_filter){.min_rating = -1, .label = "Red"}), 1);
    CHECK_EQ_INT(count(c, &(catalog_cull_filter){.min_rating = -1, .pick = 1}), 1);
    CHECK_EQ_INT(count(c, &(catalog_cull_filter){.min_rating = -1, .pick = -1}), 1);
    catalog_close(c);
    c = catalog_open(path); /* opened again: the columns are there, the values kept */
    CHECK(c != NULL);
    CHECK_EQ_INT(catalog_photo_get(c, 1, &p), TETHER_OK);
    CHECK(p.rating == 4 && strcmp(p.label, "Red") == 0);
    catalog_close(c);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

static int64_t add(catalog *c, const char *rel)
{
    catalog_photo p = {.taken = 100};
    snprintf(p.session, sizeof p.session, "default");
    snprintf(p.day, sizeof p.day, "2026-11-22");
    snprintf(p.rel, sizeof p.rel, "%s", rel);
    return catalog_photo_add(c, &p) == TETHER_OK ? p.id : -1;
}

TEST(raw_and_jpeg_are_one_item)
{
    char tmp[] = "/tmp/test-catalog-XXXXXX", path[128];
    if (mkdtemp(tmp) == NULL) abort();
    snprintf(path, sizeof path, "%s/catalog.db", tmp);
    catalog *c = catalog_open(path);
    CHECK(c != NULL);
    CHECK_EQ_INT(catalog_session_create(c, "default"), TETHER_OK);
    int64_t raw = add(c, "default/2026-11-22/IMG_0001.CR2");
    int64_t jpg = add(c, "default/2026-11-22/IMG_0001.JPG");
    add(c, "default/2026-11-22/IMG_0001X.JPG");     /* a longer name */
    add(c, "default/2026-11-22/img_0001.jpg");      /* another case: another file */
    add(c, "default/2026-11-21/IMG_0001.JPG");      /* another folder */
    add(c, "default/2026-11-22/IMG_0001.tar.gz");   /* two extensions */
    add(c, "default/2026-11-22/IMG%0001.JPG");      /* LIKE's wildcards are literal */
    catalog_photo me, sib[8];
    int n = -1;
    CHECK_EQ_INT(catalog_photo_get(c, jpg, &me), TETHER_OK);
    CHECK_EQ_INT(catalog_photo_siblings(c, &me, sib, 8, &n), TETHER_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(sib[0].id, raw);
    CHECK_EQ_INT(count(c, &(catalog_cull_filter){.min_rating = -1, .items = true}), 7);
    CHECK_EQ_INT(catalog_photo_pair_raw(c, raw, jpg), TETHER_OK);
    CHECK_EQ_INT(count(c, &(catalog_cull_filter){.min_rating = -1, .items = true}), 6);
    CHECK_EQ_INT(count(c, NULL), 7); /* every file, for what works on files (tagging) */
    CHECK_EQ_INT(catalog_photo_get(c, jpg, &me), TETHER_OK);
    CHECK(me.raw_id == raw && strcmp(me.raw_rel, "default/2026-11-22/IMG_0001.CR2") == 0 && me.raw_of == 0);
    CHECK_EQ_INT(catalog_photo_get(c, raw, &me), TETHER_OK);
    CHECK(me.raw_of == jpg && me.raw_id == 0);
    catalog_session *ss = NULL;
    int ns = 0;
    CHECK_EQ_INT(catalog_sessions(c, &ss, &ns), TETHER_OK);
    CHECK(ns == 1 && ss[0].photos == 6); /* a session counts shots */
    free(ss);
    CHECK_EQ_INT(catalog_photo_pair_raw(c, 999, jpg), TETHER_ERR_NOT_FOUND);
    catalog_close(c);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    CHECK(system(cmd) == 0);
}

TESTS(HARNESS_ENTRY(older_catalog_gains_culling), HARNESS_ENTRY(raw_and_jpeg_are_one_item))
