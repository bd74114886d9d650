/*
 * cmd_tag: `tether tag FILE...` writes a GPS position, artist, copyright,
 * keywords, a session name and a caption into photos on disk (JPEG: in
 * the file; RAW: an XMP sidecar NAME.xmp), with app/image/tag.h; and the
 * tag options that `tether capture` shares (cli_tag_option).  No camera is
 * opened.  Every file is rewritten atomically (a tagged copy renamed over
 * the original), so an interrupted run leaves each photo whole.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "image/tag.h"

int cli_tag_option(int ch, const char *arg, img_tags *t)
{
    switch (ch) {
    case CLI_OPT_GPS:
        if (img_tags_parse_gps(arg, t)) return 1;
        cli_error("--gps takes LAT,LON or LAT,LON,ALT in decimal degrees (south and west negative) and metres: %s",
                  arg);
        return -1;
    case CLI_OPT_KEYWORDS:
        if (img_tags_add_keywords(arg, t)) return 1;
        cli_error("--keywords takes up to %d comma-separated keywords of at most %d bytes: %s", IMG_TAG_KEYWORDS_MAX,
                  IMG_TAG_KEYWORD_MAX - 1, arg);
        return -1;
    case CLI_OPT_ARTIST:
    case CLI_OPT_COPYRIGHT:
    case CLI_OPT_SESSION:
    case CLI_OPT_CAPTION: {
        const char *name = ch == CLI_OPT_ARTIST      ? "artist"
                           : ch == CLI_OPT_COPYRIGHT ? "copyright"
                           : ch == CLI_OPT_SESSION   ? "session"
                                                     : "caption";
        char *field = ch == CLI_OPT_ARTIST      ? t->artist
                      : ch == CLI_OPT_COPYRIGHT ? t->copyright
                      : ch == CLI_OPT_SESSION   ? t->session
                                                : t->caption;
        size_t size = ch == CLI_OPT_ARTIST      ? sizeof t->artist
                      : ch == CLI_OPT_COPYRIGHT ? sizeof t->copyright
                      : ch == CLI_OPT_SESSION   ? sizeof t->session
                                                : sizeof t->caption;
        if (strlen(arg) >= size) {
            cli_error("--%s is at most %zu bytes", name, size - 1);
            return -1;
        }
        snprintf(field, size, "%s", arg);
        char err[256];
        if (!img_tags_validate(t, err, sizeof err)) {
            cli_error("--%s: %s", name, err);
            return -1;
        }
        return 1;
    }
    default: return 0;
    }
}

int cli_tag_files(const img_tags *t, const char *const *files, int n, json_t *report)
{
    int failed = 0;
    for (int i = 0; i < n; i++) {
        char written[4300] = "", err[512] = "";
        int rc = img_tag_file(files[i], t, written, sizeof written, err, sizeof err);
        if (rc != 0) {
            failed++;
            cli_error("tagging %s: %s", files[i], err);
        } else if (!g_cli.json) {
            if (strcmp(written, files[i]) == 0) printf("tagged %s\n", files[i]);
            else printf("tagged %s (sidecar %s)\n", files[i], written);
        }
        if (report)
            json_array_append_new(report, rc == 0 ? json_pack("{s:s, s:b, s:s}", "file", files[i], "ok", 1, "written", written)
                                                  : json_pack("{s:s, s:b, s:s, s:s}", "file", files[i], "ok", 0,
                                                              "error", tether_err_name(rc), "message", err));
    }
    fflush(stdout);
    return failed;
}

int cmd_tag(int argc, char **argv)
{
    static const char *usage =
        "tether tag FILE... [--gps LAT,LON[,ALT]] [--artist TEXT] [--copyright TEXT] [--keywords A,B,C]\n"
        "                   [--session NAME] [--caption TEXT]\n"
        "JPEG files are tagged in place; RAW files (CR2, NEF, ARW, DNG, ...) get an XMP sidecar NAME.xmp.";
    static const struct option longopts[] = {CLI_TAG_LONGOPTS, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    img_tags t = {0};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (ch == 'h') {
            printf("usage: %s\n", usage);
            return EXIT_OK;
        }
        int r = cli_tag_option(ch, optarg, &t);
        if (r < 0) return EXIT_USAGE;
        if (r == 0) {
            cli_error("usage: %s", usage);
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        cli_error("no file to tag (usage: %s)", usage);
        return EXIT_USAGE;
    }
    if (img_tags_empty(&t)) {
        cli_error("nothing to write: give --gps, --artist, --copyright, --keywords, --session or --caption");
        return EXIT_USAGE;
    }
    json_t *files = g_cli.json ? json_array() : NULL;
    int n = argc - optind;
    int failed = cli_tag_files(&t, (const char *const *)(argv + optind), n, files);
    if (files)
        cli_print_json(json_pack("{s:o, s:i, s:i}", "files", files, "tagged", n - failed, "failed", failed));
    return failed ? EXIT_FAILED : EXIT_OK;
}
