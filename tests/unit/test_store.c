/*
 * Unit tests for naming templates (lib/store/naming.c) and atomic,
 * never-overwriting file writes (common/store/atomic.c).
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "store/atomic.h"
#include "tether/tether.h"

static const char *expand(const char *tmpl, const tether_name_vars *v)
{
    static char out[512], err[256];
    if (tether_name_expand(tmpl, v, out, sizeof out, err, sizeof err) != TETHER_OK) return err;
    return out;
}

TEST(picamera_fields)
{
    struct tm tm = {.tm_year = 126, .tm_mon = 10, .tm_mday = 22, .tm_hour = 9, .tm_min = 8, .tm_sec = 7};
    tether_name_vars v = {.counter = 7, .time = mktime(&tm), .model = "Canon EOS 550D", .session = "wedding",
                          .name = "IMG_0042", .ext = "cr2"};
    CHECK(strcmp(expand("image{counter}", &v), "image7.cr2") == 0);
    CHECK(strcmp(expand("image{counter:03d}.{ext}", &v), "image007.cr2") == 0);
    CHECK(strcmp(expand("{timestamp:%Y%m%d-%H%M%S}", &v), "20261122-090807.cr2") == 0);
    CHECK(strcmp(expand("{model}_{session}_{name}", &v), "Canon-EOS-550D_wedding_IMG_0042.cr2") == 0);
    CHECK(strcmp(expand("shot-{counter}.jpg", &v), "shot-7.cr2") == 0); /* literal ext stands for the file's */
    CHECK(strcmp(expand("{{literal}}-{counter}", &v), "{literal}-7.cr2") == 0);
}

TEST(bad_templates_are_refused)
{
    tether_name_vars v = {.counter = 1, .ext = "jpg"};
    char out[64], err[256];
    CHECK_EQ_INT(tether_name_expand("{nope}", &v, out, sizeof out, err, sizeof err), TETHER_ERR_BAD_VALUE);
    CHECK(strstr(err, "unknown field {nope}") != NULL);
    CHECK_EQ_INT(tether_name_expand("{counter", &v, out, sizeof out, err, sizeof err), TETHER_ERR_BAD_VALUE);
    CHECK_EQ_INT(tether_name_expand("a}b", &v, out, sizeof out, err, sizeof err), TETHER_ERR_BAD_VALUE);
    CHECK_EQ_INT(tether_name_expand("{counter:%s}", &v, out, sizeof out, err, sizeof err), TETHER_ERR_BAD_VALUE);
    CHECK_EQ_INT(tether_name_expand("{counter:999d}", &v, out, sizeof out, err, sizeof err), TETHER_ERR_BAD_VALUE);
    CHECK_EQ_INT(tether_name_expand("{model:x}", &v, out, sizeof out, err, sizeof err), TETHER_ERR_BAD_VALUE);
    CHECK_EQ_INT(tether_name_expand("{counter:05d}", &v, out, 4, err, sizeof err), TETHER_ERR_BUFFER_TOO_SMALL);
}

TEST(variables_cannot_escape_the_folder)
{
    tether_name_vars v = {.counter = 1, .name = "../../etc/passwd", .session = "a/b", .ext = "jpg"};
    CHECK(strcmp(expand("{session}-{name}", &v), "a_b-.._.._etc_passwd.jpg") == 0);
}

static int make_tmpdir(char *dir)
{
    strcpy(dir, "/tmp/tether-store-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

/* tether_name_counter reads back what tether_name_expand wrote */
TEST(counter_read_back)
{
    int c = -1;
    CHECK_EQ_INT(tether_name_counter("shot-{counter:04d}", "shot-0042.jpg", &c), TETHER_OK);
    CHECK_EQ_INT(c, 42);
    CHECK_EQ_INT(tether_name_counter("shot-{counter:04d}.jpg", "shot-0007.cr2", &c), TETHER_OK); /* the file's own ext */
    CHECK_EQ_INT(c, 7);
    CHECK_EQ_INT(tether_name_counter("{session}-{counter:03d}-{name}", "my-job-012-IMG_0001.cr2", &c), TETHER_OK);
    CHECK_EQ_INT(c, 12);
    CHECK_EQ_INT(tether_name_counter("{timestamp:%Y%m%d}_{counter}.{ext}", "20261122_123.jpg", &c), TETHER_OK);
    CHECK_EQ_INT(c, 123);
    CHECK_EQ_INT(tether_name_counter("{{x}}{counter}", "{x}5.jpg", &c), TETHER_OK);
    CHECK_EQ_INT(c, 5);
    /* another template's names, a name without the number, no {counter} */
    CHECK_EQ_INT(tether_name_counter("shot-{counter:04d}", "take-0042.jpg", &c), TETHER_ERR_NOT_FOUND);
    CHECK_EQ_INT(tether_name_counter("shot-{counter:04d}", "shot-.jpg", &c), TETHER_ERR_NOT_FOUND);
    CHECK_EQ_INT(tether_name_counter("shot-{counter:04d}", "shot-0042-1.jpg", &c), TETHER_ERR_NOT_FOUND);
    CHECK_EQ_INT(tether_name_counter("{name}", "IMG_0001.jpg", &c), TETHER_ERR_NOT_FOUND);
    CHECK_EQ_INT(tether_name_counter("{nope}-{counter}", "x-1.jpg", &c), TETHER_ERR_BAD_VALUE);
    /* every name it makes, it reads back */
    tether_name_vars v = {.counter = 917, .time = 1700000000, .model = "Canon EOS", .session = "s", .name = "IMG_1", .ext = "nef"};
    const char *tmpls[] = {"{counter}", "a{counter:05d}b", "{model}_{counter:03d}_{timestamp}", "{name}-{counter}.{ext}"};
    for (size_t i = 0; i < sizeof tmpls / sizeof tmpls[0]; i++) {
        c = -1;
        CHECK_EQ_INT(tether_name_counter(tmpls[i], expand(tmpls[i], &v), &c), TETHER_OK);
        CHECK_EQ_INT(c, 917);
    }
}

TEST(counter_in_dir)
{
    char dir[64], path[600];
    CHECK(make_tmpdir(dir) == 0);
    const char *files[] = {"job-0003.jpg", "job-0011.cr2", "job-0007.jpg", "other-0099.jpg", ".job-0500.jpg"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        int fd = open(path, O_WRONLY | O_CREAT, 0644);
        CHECK(fd >= 0);
        close(fd);
    }
    int hi = -1;
    CHECK_EQ_INT(tether_name_counter_in_dir(dir, "job-{counter:04d}", &hi), TETHER_OK);
    CHECK_EQ_INT(hi, 11);
    CHECK_EQ_INT(tether_name_counter_in_dir(dir, "{name}", &hi), TETHER_OK);
    CHECK_EQ_INT(hi, 0);
    snprintf(path, sizeof path, "%s/none", dir);
    CHECK_EQ_INT(tether_name_counter_in_dir(path, "job-{counter}", &hi), TETHER_OK);
    CHECK_EQ_INT(hi, 0);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

TEST(atomic_write_never_overwrites)
{
    char dir[64], path[512];
    CHECK(make_tmpdir(dir) == 0);
    store_atomic a;
    CHECK(store_atomic_begin(&a, dir) == TETHER_OK);
    CHECK(write(a.fd, "first", 5) == 5);
    CHECK(store_atomic_commit(&a, "x.jpg") == TETHER_OK);
    CHECK(store_atomic_begin(&a, dir) == TETHER_OK);
    CHECK(write(a.fd, "second", 6) == 6);
    CHECK_EQ_INT(store_atomic_commit(&a, "x.jpg"), TETHER_ERR_EXISTS);
    CHECK(store_atomic_commit_unique(&a, "x.jpg", path, sizeof path) == TETHER_OK);
    CHECK(strstr(path, "/x-1.jpg") != NULL);
    char buf[16] = {0};
    snprintf(path, sizeof path, "%s/x.jpg", dir);
    int fd = open(path, O_RDONLY);
    CHECK(read(fd, buf, sizeof buf) == 5 && memcmp(buf, "first", 5) == 0);
    close(fd);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
    /* an aborted write leaves nothing */
    CHECK(store_atomic_begin(&a, dir) == TETHER_OK);
    store_atomic_abort(&a);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "test $(ls -A %s | wc -l) -eq 2 && rm -rf %s", dir, dir);
    CHECK(system(cmd) == 0);
}

TEST(unique_base_for_pairs)
{
    char dir[64], base[256], path[512];
    CHECK(make_tmpdir(dir) == 0);
    snprintf(path, sizeof path, "%s/shot.cr2", dir);
    close(open(path, O_CREAT | O_WRONLY, 0644));
    const char *exts[] = {".jpg", ".cr2"};
    CHECK(store_unique_base(dir, "shot", exts, 2, base, sizeof base) == TETHER_OK);
    CHECK(strcmp(base, "shot-1") == 0); /* shot.jpg is free, but the pair must match */
    CHECK(store_mkdirs(dir) == TETHER_OK);
    snprintf(path, sizeof path, "%s/a/b/c", dir);
    CHECK(store_mkdirs(path) == TETHER_OK);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

/* A killed writer's temporary file is swept; a live writer's is kept
 * (it holds a lock on it); a batch commit names without the folder sync. */
TEST(sweep_keeps_live_writers)
{
    char dir[64], path[512];
    CHECK(make_tmpdir(dir) == 0);
    pid_t child = fork();
    if (child == 0) { /* a writer killed before its commit */
        store_atomic dead;
        if (store_atomic_begin(&dead, dir) != TETHER_OK || write(dead.fd, "half", 4) != 4) _exit(1);
        raise(SIGKILL);
    }
    int status;
    CHECK(waitpid(child, &status, 0) == child && WIFSIGNALED(status));
    store_atomic live;
    CHECK(store_atomic_begin(&live, dir) == TETHER_OK);
    CHECK(write(live.fd, "whole", 5) == 5);
    CHECK_EQ_INT(store_atomic_sweep(dir), 1);
    CHECK(access(live.tmp, F_OK) == 0);
    CHECK(store_atomic_commit_batch(&live, "y.jpg") == TETHER_OK);
    store_fsync_dir(dir);
    snprintf(path, sizeof path, "%s/y.jpg", dir);
    struct stat st;
    CHECK(stat(path, &st) == 0 && st.st_size == 5);
    CHECK_EQ_INT(store_atomic_sweep(dir), 0);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "test $(ls -A %s | wc -l) -eq 1 && rm -rf %s", dir, dir);
    CHECK(system(cmd) == 0);
}

/* This machine's disk failing is DISK_FULL or STORAGE, with errno, never
 * the camera's TETHER_ERR_IO. */
TEST(local_failures_are_storage_errors)
{
    CHECK_EQ_INT(store_err_from_errno(ENOSPC), TETHER_ERR_DISK_FULL);
    CHECK_EQ_INT(store_err_from_errno(EDQUOT), TETHER_ERR_DISK_FULL);
    CHECK_EQ_INT(store_err_from_errno(EROFS), TETHER_ERR_STORAGE);
    CHECK_EQ_INT(store_err_from_errno(EACCES), TETHER_ERR_STORAGE);
    CHECK_EQ_INT(store_err_from_errno(EIO), TETHER_ERR_STORAGE);
    char dir[64], path[512];
    CHECK(make_tmpdir(dir) == 0);
    snprintf(path, sizeof path, "%s/missing", dir);
    store_atomic a;
    CHECK_EQ_INT(store_atomic_begin(&a, path), TETHER_ERR_STORAGE);
    CHECK(a.err == ENOENT && a.fd == -1);
    snprintf(path, sizeof path, "%s/file", dir);
    close(open(path, O_CREAT | O_WRONLY, 0644));
    snprintf(path, sizeof path, "%s/file/sub", dir);
    errno = 0;
    CHECK_EQ_INT(store_mkdirs(path), TETHER_ERR_STORAGE);
    CHECK(errno == ENOTDIR);
    snprintf(path, sizeof path, "%s/file", dir);
    CHECK_EQ_INT(store_mkdirs(path), TETHER_ERR_STORAGE);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

TESTS(HARNESS_ENTRY(picamera_fields), HARNESS_ENTRY(bad_templates_are_refused),
      HARNESS_ENTRY(variables_cannot_escape_the_folder), HARNESS_ENTRY(atomic_write_never_overwrites),
      HARNESS_ENTRY(unique_base_for_pairs), HARNESS_ENTRY(sweep_keeps_live_writers),
      HARNESS_ENTRY(local_failures_are_storage_errors), HARNESS_ENTRY(counter_read_back), HARNESS_ENTRY(counter_in_dir))
