/*
 * Unit tests for GPS/EXIF tagging (app/image/tag.c): value checks and
 * parsers, JPEG tagging read back through gexiv2 (our reader and the raw
 * tags), a RAW file's XMP sidecar (the RAW untouched, an existing sidecar
 * updated), and failures that leave the original as it was.
 */
#include "harness.h"

#include <dirent.h>
#include <math.h>
#include <sys/stat.h>

#include <gexiv2/gexiv2.h>

#include "base/bytebuf.h"
#include "image/exif.h"
#include "image/jpeg.h"
#include "image/tag.h"
#include "tether/errors.h"

static char dir[256];

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/tether-tag-XXXXXX");
    if (mkdtemp(dir) == NULL) abort();
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL) abort();
    fwrite(data, 1, len, f);
    fclose(f);
}

/* A 64x48 JPEG with a camera's EXIF block (as the simulators write). */
static void make_jpeg(const char *path)
{
    uint8_t px[64 * 48 * 3];
    for (size_t i = 0; i < sizeof px; i++) px[i] = (uint8_t)(i * 7);
    bytebuf jpg = BYTEBUF_INIT, app1 = BYTEBUF_INIT, out = BYTEBUF_INIT;
    img_jpeg_params p = {.width = 64, .height = 48, .channels = 3, .quality = 80};
    img_exif_fields f = {.make = "Canon", .model = "Canon EOS 550D", .datetime = "2026:11:22 09:08:07", .iso = 400};
    if (img_jpeg_encode(&p, px, 64 * 3, &jpg) != 0 || img_exif_build_app1(&f, &app1) != 0) abort();
    bytebuf_put(&out, jpg.data, 2); /* SOI, then APP1 */
    uint8_t head[4] = {0xff, 0xe1, (uint8_t)((app1.len + 2) >> 8), (uint8_t)(app1.len + 2)};
    bytebuf_put(&out, head, 4);
    bytebuf_put(&out, app1.data, app1.len);
    bytebuf_put(&out, jpg.data + 2, jpg.len - 2);
    write_file(path, out.data, out.len);
    bytebuf_free(&jpg);
    bytebuf_free(&app1);
    bytebuf_free(&out);
}

/* Files in dir whose name starts with '.' (temporaries left behind). */
static int hidden_files(void)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        if (e->d_name[0] == '.' && strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
    if (d) closedir(d);
    return n;
}

static char *raw_tag(const char *path, const char *tag)
{
    GExiv2Metadata *md = gexiv2_metadata_new();
    char *v = NULL;
    if (gexiv2_metadata_open_path(md, path, NULL)) v = gexiv2_metadata_try_get_tag_string(md, tag, NULL);
    g_object_unref(md);
    return v;
}

static img_tags sample(void)
{
    img_tags t = {0};
    t.has_gps = true;
    t.latitude = -33.856784;
    t.longitude = -70.6482671;
    t.has_altitude = true;
    t.altitude_m = -12.5;
    snprintf(t.artist, sizeof t.artist, "Ana Núñez");
    snprintf(t.copyright, sizeof t.copyright, "(c) 2026 Ana Núñez, all rights reserved");
    snprintf(t.session, sizeof t.session, "wedding 2026");
    snprintf(t.caption, sizeof t.caption, "First dance");
    img_tags_add_keywords("wedding, Santiago ,dance", &t);
    return t;
}

TEST(validation)
{
    char err[256];
    img_tags t = sample();
    CHECK(img_tags_validate(&t, err, sizeof err));
    CHECK(!img_tags_empty(&t));
    img_tags e = {0};
    CHECK(img_tags_empty(&e));
    CHECK(img_tags_validate(&e, err, sizeof err));
    img_tags b = t;
    b.latitude = 90.0001;
    CHECK(!img_tags_validate(&b, err, sizeof err) && strstr(err, "latitude"));
    b = t, b.longitude = -180.5;
    CHECK(!img_tags_validate(&b, err, sizeof err) && strstr(err, "longitude"));
    b = t, b.latitude = NAN;
    CHECK(!img_tags_validate(&b, err, sizeof err));
    b = t, b.altitude_m = 1e6;
    CHECK(!img_tags_validate(&b, err, sizeof err) && strstr(err, "altitude"));
    b = t, b.has_gps = false;
    CHECK(!img_tags_validate(&b, err, sizeof err)); /* altitude without a position */
    b = t, snprintf(b.artist, sizeof b.artist, "tab\there");
    CHECK(!img_tags_validate(&b, err, sizeof err) && strstr(err, "artist"));
    b = t, snprintf(b.copyright, sizeof b.copyright, "bad \xc3\x28 utf-8");
    CHECK(!img_tags_validate(&b, err, sizeof err) && strstr(err, "copyright"));
    b = t, snprintf(b.session, sizeof b.session, "over\xc0\xaflong");
    CHECK(!img_tags_validate(&b, err, sizeof err));
    b = t, memset(b.caption, 'x', sizeof b.caption); /* no NUL: too long */
    CHECK(!img_tags_validate(&b, err, sizeof err) && strstr(err, "caption"));
    b = t, b.keywords[1][0] = '\0';
    CHECK(!img_tags_validate(&b, err, sizeof err) && strstr(err, "keyword 2"));
    b = t, b.n_keywords = IMG_TAG_KEYWORDS_MAX + 1;
    CHECK(!img_tags_validate(&b, err, sizeof err));
}

TEST(parsers)
{
    img_tags t = {0};
    CHECK(img_tags_parse_gps("48.8584,2.2945", &t));
    CHECK(t.has_gps && !t.has_altitude);
    CHECK_NEAR(t.latitude, 48.8584, 1e-12);
    CHECK_NEAR(t.longitude, 2.2945, 1e-12);
    CHECK(img_tags_parse_gps(" -33.8568 , -151.2153 , 58.5", &t));
    CHECK(t.has_altitude);
    CHECK_NEAR(t.latitude, -33.8568, 1e-12);
    CHECK_NEAR(t.longitude, -151.2153, 1e-12);
    CHECK_NEAR(t.altitude_m, 58.5, 1e-12);
    const char *bad[] = {"91,0", "0,181", "a,b", "1", "1,2,3,4", "1,,2", "", "1,2,", "nan,1", "1e999,2", "0,0,1e9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        img_tags u = t;
        if (img_tags_parse_gps(bad[i], &u)) {
            fprintf(stderr, "accepted \"%s\"\n", bad[i]);
            CHECK(0);
        }
        CHECK(u.latitude == t.latitude && u.has_altitude == t.has_altitude); /* unchanged */
    }
    img_tags k = {0};
    CHECK(img_tags_add_keywords("a, b ,,c,a", &k));
    CHECK_EQ_INT(k.n_keywords, 3);
    CHECK(strcmp(k.keywords[0], "a") == 0 && strcmp(k.keywords[1], "b") == 0 && strcmp(k.keywords[2], "c") == 0);
    char longkw[100];
    memset(longkw, 'k', sizeof longkw - 1);
    longkw[sizeof longkw - 1] = '\0';
    CHECK(!img_tags_add_keywords(longkw, &k));
    CHECK(!img_tags_add_keywords("d,e\x01", &k));
    CHECK_EQ_INT(k.n_keywords, 3); /* as before */
    CHECK(img_tag_kind_of("a/IMG_1.JPG") == IMG_TAG_EMBEDDED && img_tag_kind_of("x.jpeg") == IMG_TAG_EMBEDDED);
    CHECK(img_tag_kind_of("a/IMG_1.CR2") == IMG_TAG_SIDECAR && img_tag_kind_of("DSC_1.nef") == IMG_TAG_SIDECAR);
    CHECK(img_tag_kind_of("a.png") == IMG_TAG_UNSUPPORTED && img_tag_kind_of("a.b/noext") == IMG_TAG_UNSUPPORTED);
    char side[64];
    CHECK(img_tag_sidecar_path("d.x/IMG_0001.CR2", side, sizeof side) && strcmp(side, "d.x/IMG_0001.xmp") == 0);
}

TEST(jpeg_round_trip)
{
    make_dir();
    char path[320], written[400], err[256];
    snprintf(path, sizeof path, "%s/IMG_0001.JPG", dir);
    make_jpeg(path);
    img_tags t = sample();
    CHECK_EQ_INT(img_tag_file(path, &t, written, sizeof written, err, sizeof err), TETHER_OK);
    CHECK(strcmp(written, path) == 0);
    CHECK_EQ_INT(hidden_files(), 0);
    img_tags r;
    CHECK_EQ_INT(img_tag_read(path, &r), TETHER_OK);
    CHECK(r.has_gps && r.has_altitude);
    CHECK_NEAR(r.latitude, t.latitude, 1e-7);
    CHECK_NEAR(r.longitude, t.longitude, 1e-7);
    CHECK_NEAR(r.altitude_m, -12.5, 1e-9);
    CHECK(strcmp(r.artist, t.artist) == 0);
    CHECK(strcmp(r.copyright, t.copyright) == 0);
    CHECK(strcmp(r.session, "wedding 2026") == 0);
    CHECK(strcmp(r.caption, "First dance") == 0);
    CHECK_EQ_INT(r.n_keywords, 3);
    CHECK(strcmp(r.keywords[1], "Santiago") == 0);
    /* the raw EXIF form: three rationals, seconds in 1/10000 */
    char *lat = raw_tag(path, "Exif.GPSInfo.GPSLatitude"), *ref = raw_tag(path, "Exif.GPSInfo.GPSLatitudeRef");
    char *lonref = raw_tag(path, "Exif.GPSInfo.GPSLongitudeRef"), *ver = raw_tag(path, "Exif.GPSInfo.GPSVersionID");
    char *make = raw_tag(path, "Exif.Image.Make"), *altref = raw_tag(path, "Exif.GPSInfo.GPSAltitudeRef");
    fprintf(stderr, "GPSLatitude %s %s, version %s\n", lat ? lat : "-", ref ? ref : "-", ver ? ver : "-");
    CHECK(lat && strcmp(lat, "33/1 51/1 244224/10000") == 0); /* 33 deg 51' 24.4224" */
    CHECK(ref && strcmp(ref, "S") == 0);
    CHECK(lonref && strcmp(lonref, "W") == 0);
    CHECK(ver && strcmp(ver, "2 3 0 0") == 0);
    CHECK(altref && strcmp(altref, "1") == 0);
    CHECK(make && strcmp(make, "Canon") == 0); /* the camera's EXIF is kept */
    g_free(lat), g_free(ref), g_free(lonref), g_free(ver), g_free(make), g_free(altref);
    bytebuf b = BYTEBUF_INIT;
    bytebuf_read_file(&b, path);
    int w = 0, h = 0;
    CHECK(img_jpeg_size(b.data, b.len, &w, &h) == 0 && w == 64 && h == 48);
    bytebuf_free(&b);

    /* tagged again: new values replace the old; an old altitude goes */
    img_tags u = {0};
    CHECK(img_tags_parse_gps("51.5007292,-0.1246254", &u));
    snprintf(u.artist, sizeof u.artist, "Ben");
    CHECK(img_tags_add_keywords("london", &u));
    CHECK_EQ_INT(img_tag_file(path, &u, NULL, 0, err, sizeof err), TETHER_OK);
    CHECK_EQ_INT(img_tag_read(path, &r), TETHER_OK);
    CHECK(r.has_gps && !r.has_altitude);
    CHECK_NEAR(r.latitude, 51.5007292, 1e-7);
    CHECK_NEAR(r.longitude, -0.1246254, 1e-7);
    CHECK(strcmp(r.artist, "Ben") == 0);
    CHECK(strcmp(r.copyright, t.copyright) == 0); /* not given: kept */
    CHECK_EQ_INT(r.n_keywords, 1);
    CHECK(strcmp(r.keywords[0], "london") == 0);
}

TEST(raw_sidecar)
{
    make_dir();
    char raw[320], side[400], written[400], err[256];
    snprintf(raw, sizeof raw, "%s/IMG_0002.CR2", dir);
    snprintf(side, sizeof side, "%s/IMG_0002.xmp", dir);
    bytebuf tiff = BYTEBUF_INIT, before = BYTEBUF_INIT, after = BYTEBUF_INIT;
    img_exif_fields f = {.make = "Canon", .model = "Canon EOS 550D"};
    CHECK(img_exif_build_tiff(&f, &tiff) == 0);
    write_file(raw, tiff.data, tiff.len);
    bytebuf_read_file(&before, raw);
    img_tags t = sample();
    CHECK_EQ_INT(img_tag_file(raw, &t, written, sizeof written, err, sizeof err), TETHER_OK);
    CHECK(strcmp(written, side) == 0);
    bytebuf_read_file(&after, raw);
    CHECK(before.len == after.len && memcmp(before.data, after.data, before.len) == 0); /* RAW untouched */
    CHECK_EQ_INT(hidden_files(), 0);
    char *lat = raw_tag(side, "Xmp.exif.GPSLatitude"), *lon = raw_tag(side, "Xmp.exif.GPSLongitude");
    fprintf(stderr, "sidecar: %s %s\n", lat ? lat : "-", lon ? lon : "-");
    CHECK(lat && strcmp(lat, "33,51.407040S") == 0);
    CHECK(lon && strcmp(lon, "70,38.896026W") == 0);
    g_free(lat), g_free(lon);
    img_tags r;
    CHECK_EQ_INT(img_tag_read(raw, &r), TETHER_OK);
    CHECK(r.has_gps && r.has_altitude);
    CHECK_NEAR(r.latitude, t.latitude, 1e-7);
    CHECK_NEAR(r.longitude, t.longitude, 1e-7);
    CHECK_NEAR(r.altitude_m, -12.5, 1e-9);
    CHECK(strcmp(r.artist, t.artist) == 0 && strcmp(r.copyright, t.copyright) == 0);
    CHECK(strcmp(r.session, t.session) == 0 && r.n_keywords == 3);

    /* an existing sidecar keeps what else it holds; a new position replaces the old */
    GExiv2Metadata *md = gexiv2_metadata_new();
    CHECK(gexiv2_metadata_open_path(md, side, NULL));
    CHECK(gexiv2_metadata_try_set_tag_string(md, "Xmp.xmp.Rating", "4", NULL));
    char *packet = gexiv2_metadata_try_generate_xmp_packet(md, (GExiv2XmpFormatFlags)0, 0, NULL);
    g_object_unref(md);
    CHECK(packet != NULL);
    write_file(side, packet, strlen(packet));
    g_free(packet);
    img_tags u = {0};
    CHECK(img_tags_parse_gps("35.6585805,139.7454329,333", &u));
    CHECK_EQ_INT(img_tag_file(raw, &u, NULL, 0, err, sizeof err), TETHER_OK);
    CHECK_EQ_INT(img_tag_read(raw, &r), TETHER_OK);
    CHECK_NEAR(r.latitude, 35.6585805, 1e-7);
    CHECK_NEAR(r.longitude, 139.7454329, 1e-7);
    CHECK_NEAR(r.altitude_m, 333, 1e-9);
    CHECK(strcmp(r.artist, t.artist) == 0);
    char *rating = raw_tag(side, "Xmp.xmp.Rating");
    CHECK(rating && strcmp(rating, "4") == 0);
    g_free(rating);
    bytebuf_free(&tiff);
    bytebuf_free(&before);
    bytebuf_free(&after);
}

TEST(failures_leave_the_original)
{
    make_dir();
    char path[320], err[256];
    img_tags t = sample();
    snprintf(path, sizeof path, "%s/missing.jpg", dir);
    CHECK_EQ_INT(img_tag_file(path, &t, NULL, 0, err, sizeof err), TETHER_ERR_NOT_FOUND);
    snprintf(path, sizeof path, "%s/missing.nef", dir);
    CHECK_EQ_INT(img_tag_file(path, &t, NULL, 0, err, sizeof err), TETHER_ERR_NOT_FOUND);
    snprintf(path, sizeof path, "%s/picture.png", dir);
    write_file(path, "png", 3);
    CHECK_EQ_INT(img_tag_file(path, &t, NULL, 0, err, sizeof err), TETHER_ERR_NOT_SUPPORTED);
    snprintf(path, sizeof path, "%s/broken.jpg", dir);
    write_file(path, "this is no JPEG", 15);
    CHECK_EQ_INT(img_tag_file(path, &t, NULL, 0, err, sizeof err), TETHER_ERR_IO);
    fprintf(stderr, "broken: %s\n", err);
    bytebuf b = BYTEBUF_INIT;
    bytebuf_read_file(&b, path);
    CHECK(b.len == 15 && memcmp(b.data, "this is no JPEG", 15) == 0);
    bytebuf_free(&b);
    snprintf(path, sizeof path, "%s/IMG_0003.JPG", dir);
    make_jpeg(path);
    img_tags e = {0};
    CHECK_EQ_INT(img_tag_file(path, &e, NULL, 0, err, sizeof err), TETHER_ERR_INVALID_ARGUMENT);
    img_tags bad = t;
    bad.latitude = 123;
    CHECK_EQ_INT(img_tag_file(path, &bad, NULL, 0, err, sizeof err), TETHER_ERR_INVALID_ARGUMENT);
    CHECK(strstr(err, "latitude") != NULL);
    img_tags r;
    CHECK_EQ_INT(img_tag_read(path, &r), TETHER_OK);
    CHECK(!r.has_gps && r.artist[0] == '\0');
    CHECK_EQ_INT(hidden_files(), 0);
}

/* Culling: stars and a colour label in the JPEG's XMP and in a RAW's
 * sidecar, read back; a reject is -1; a later culling replaces the label
 * (an empty one clears it) and keeps the other tags; bad values refused. */
TEST(culling_round_trip)
{
    make_dir();
    char jpg[320], raw[320], err[256];
    snprintf(jpg, sizeof jpg, "%s/cull.jpg", dir);
    snprintf(raw, sizeof raw, "%s/IMG_0003.NEF", dir);
    make_jpeg(jpg);
    bytebuf tiff = BYTEBUF_INIT;
    img_exif_fields f = {.make = "Nikon", .model = "NIKON D750"};
    CHECK(img_exif_build_tiff(&f, &tiff) == 0);
    write_file(raw, tiff.data, tiff.len);
    bytebuf_free(&tiff);
    img_tags first = sample();
    CHECK_EQ_INT(img_tag_file(jpg, &first, NULL, 0, err, sizeof err), TETHER_OK);
    for (int k = 0; k < 2; k++) {
        const char *path = k ? raw : jpg;
        img_tags t = {.has_cull = true, .rating = 4};
        snprintf(t.label, sizeof t.label, "Red");
        CHECK_EQ_INT(img_tag_file(path, &t, NULL, 0, err, sizeof err), TETHER_OK);
        img_tags back;
        CHECK_EQ_INT(img_tag_read(path, &back), TETHER_OK);
        CHECK(back.has_cull && back.rating == 4 && strcmp(back.label, "Red") == 0);
        img_tags reject = {.has_cull = true, .rating = -1};
        CHECK_EQ_INT(img_tag_file(path, &reject, NULL, 0, err, sizeof err), TETHER_OK);
        CHECK_EQ_INT(img_tag_read(path, &back), TETHER_OK);
        CHECK(back.has_cull && back.rating == -1 && back.label[0] == '\0'); /* the empty label cleared it */
        if (!k) CHECK(strcmp(back.artist, first.artist) == 0); /* the tags written before stay */
    }
    img_tags bad = {.has_cull = true, .rating = 7};
    CHECK(!img_tags_validate(&bad, err, sizeof err));
    bad.rating = 3;
    snprintf(bad.label, sizeof bad.label, "Pink");
    CHECK(!img_tags_validate(&bad, err, sizeof err));
    CHECK(img_tag_label_ok("Purple") && img_tag_label_ok("") && !img_tag_label_ok("red"));
}

TESTS(HARNESS_ENTRY(validation), HARNESS_ENTRY(parsers), HARNESS_ENTRY(jpeg_round_trip), HARNESS_ENTRY(raw_sidecar),
      HARNESS_ENTRY(failures_leave_the_original), HARNESS_ENTRY(culling_round_trip))
