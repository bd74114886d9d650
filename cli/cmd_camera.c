/*
 * cmd_camera: the camera commands that ask one thing and print the answer:
 * list, summary, config (list/get/set), files, download, delete.
 * Human-readable output by default, stable JSON with --json.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "store/atomic.h"

static const char *type_name(tether_setting_type t)
{
    switch (t) {
    case TETHER_SETTING_TEXT: return "text";
    case TETHER_SETTING_RANGE: return "range";
    case TETHER_SETTING_TOGGLE: return "toggle";
    case TETHER_SETTING_CHOICE: return "choice";
    case TETHER_SETTING_DATE: return "date";
    case TETHER_SETTING_ACTION: return "action";
    }
    return "?";
}

/* Reports a no-arguments usage problem for commands that take none. */
static int no_args(int argc, char **argv, const char *usage)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: %s\n", usage);
        return EXIT_OK;
    }
    if (argc > 1) {
        cli_error("unexpected argument '%s' (usage: %s)", argv[1], usage);
        return EXIT_USAGE;
    }
    return -1;
}

int cmd_list(int argc, char **argv)
{
    int rc = no_args(argc, argv, "tether list");
    if (rc >= 0) return rc;
    tether_camera_info cams[32];
    int n = 0;
    rc = tether_list_cameras(cams, 32, &n);
    if (rc != TETHER_OK) {
        cli_error("cannot list cameras: %s", tether_strerror(rc));
        return EXIT_FAILED;
    }
    if (n > 32) n = 32;
    if (g_cli.json) {
        json_t *a = json_array();
        for (int i = 0; i < n; i++)
            json_array_append_new(a, json_pack("{s:s, s:s}", "model", cams[i].model, "camera", cams[i].spec));
        cli_print_json(a);
    } else if (n == 0) {
        printf("no camera found over USB (a Wi-Fi camera is named: --camera ptpip:HOST; a simulated one: --camera sim)\n");
    } else {
        for (int i = 0; i < n; i++) printf("%-16s %s\n", cams[i].spec, cams[i].model);
    }
    return EXIT_OK;
}

int cmd_summary(int argc, char **argv)
{
    int rc = no_args(argc, argv, "tether [--camera SPEC] summary");
    if (rc >= 0) return rc;
    tether_camera *cam;
    if ((rc = cli_open_camera(&cam)) != EXIT_OK) return rc;
    char *text = NULL;
    int r = tether_camera_summary(cam, &text);
    if (r != TETHER_OK) {
        cli_camera_error(cam, r, "summary");
        cli_close_camera(cam);
        return EXIT_FAILED;
    }
    char model[128];
    tether_camera_model(cam, model, sizeof model);
    if (g_cli.json) cli_print_json(json_pack("{s:s, s:s}", "model", model, "summary", text));
    else fputs(text, stdout);
    free(text);
    cli_close_camera(cam);
    return EXIT_OK;
}

static json_t *setting_json(const tether_setting *s)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "path", s->path, "name", s->name,
                          "label", s->label, "type", type_name(s->type), "read_only", s->read_only,
                          "value", s->value);
    if (s->type == TETHER_SETTING_RANGE) {
        json_object_set_new(j, "min", json_real(s->min));
        json_object_set_new(j, "max", json_real(s->max));
        json_object_set_new(j, "step", json_real(s->step));
    }
    if (s->type == TETHER_SETTING_CHOICE) {
        json_t *c = json_array();
        for (int i = 0; i < s->n_choices; i++) json_array_append_new(c, json_string(s->choices[i]));
        json_object_set_new(j, "choices", c);
    }
    return j;
}

static void print_setting(const tether_setting *s, bool details)
{
    printf("%s = %s%s\n", s->path, s->value, s->read_only ? " (read-only)" : "");
    if (!details) return;
    printf("  label: %s\n  type: %s\n", s->label, type_name(s->type));
    if (s->type == TETHER_SETTING_RANGE) printf("  range: %g .. %g, step %g\n", s->min, s->max, s->step);
    if (s->type == TETHER_SETTING_CHOICE) {
        printf("  choices:");
        for (int i = 0; i < s->n_choices; i++) printf("%s %s", i ? "," : "", s->choices[i]);
        printf("\n");
    }
}

int cmd_config(int argc, char **argv)
{
    static const char *usage = "tether config list | get PATH | set PATH VALUE [PATH VALUE ...]";
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        printf("usage: %s\n", usage);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *sub = argv[1];
    bool list = strcmp(sub, "list") == 0, get = strcmp(sub, "get") == 0, set = strcmp(sub, "set") == 0;
    if (!(list && argc == 2) && !(get && argc == 3) && !(set && argc >= 4 && argc % 2 == 0)) {
        cli_error("usage: %s", usage);
        return EXIT_USAGE;
    }
    tether_camera *cam;
    int rc = cli_open_camera(&cam);
    if (rc != EXIT_OK) return rc;
    int exit_code = EXIT_OK;
    if (list) {
        tether_settings *s = NULL;
        int r = tether_settings_list(cam, &s);
        if (r != TETHER_OK) {
            cli_camera_error(cam, r, "reading settings");
            exit_code = EXIT_FAILED;
        } else if (g_cli.json) {
            json_t *a = json_array();
            for (int i = 0; i < s->count; i++) json_array_append_new(a, setting_json(&s->items[i]));
            cli_print_json(a);
        } else {
            for (int i = 0; i < s->count; i++) print_setting(&s->items[i], false);
        }
        tether_settings_free(s);
    } else if (get) {
        tether_setting s;
        int r = tether_setting_get(cam, argv[2], &s);
        if (r != TETHER_OK) {
            cli_camera_error(cam, r, argv[2]);
            exit_code = EXIT_FAILED;
        } else {
            if (g_cli.json) cli_print_json(setting_json(&s));
            else print_setting(&s, true);
            tether_setting_clear(&s);
        }
    } else {
        for (int i = 2; i + 1 < argc; i += 2) {
            int r = tether_setting_set(cam, argv[i], argv[i + 1]);
            if (r != TETHER_OK) {
                cli_camera_error(cam, r, argv[i]);
                exit_code = EXIT_FAILED;
                break;
            }
        }
        if (exit_code == EXIT_OK && g_cli.json) cli_print_json(json_pack("{s:b}", "ok", 1));
    }
    cli_close_camera(cam);
    return exit_code;
}

int cmd_files(int argc, char **argv)
{
    int rc = no_args(argc, argv, "tether files");
    if (rc >= 0) return rc;
    tether_camera *cam;
    if ((rc = cli_open_camera(&cam)) != EXIT_OK) return rc;
    tether_file_list *l = NULL;
    int r = tether_files_list(cam, &l);
    if (r != TETHER_OK) {
        cli_camera_error(cam, r, "listing files");
        cli_close_camera(cam);
        return EXIT_FAILED;
    }
    if (g_cli.json) {
        json_t *a = json_array();
        for (int i = 0; i < l->count; i++)
            json_array_append_new(a, json_pack("{s:s, s:I, s:I, s:s}", "path", l->items[i].path, "size",
                                               (json_int_t)l->items[i].size, "mtime",
                                               (json_int_t)l->items[i].mtime, "mime", l->items[i].mime));
        cli_print_json(a);
    } else {
        for (int i = 0; i < l->count; i++)
            printf("%12llu  %-20s %s\n", (unsigned long long)l->items[i].size, l->items[i].mime, l->items[i].path);
    }
    tether_file_list_free(l);
    cli_close_camera(cam);
    return EXIT_OK;
}

int cmd_download(int argc, char **argv)
{
    static const struct option longopts[] = {{"dest", required_argument, NULL, 'd'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *dest = ".";
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "d:h", longopts, NULL)) != -1) {
        if (ch == 'd') dest = optarg;
        else if (ch == 'h') {
            printf("usage: tether download CAMERA_PATH... [--dest DIR]\n");
            return EXIT_OK;
        } else return EXIT_USAGE;
    }
    if (optind >= argc) {
        cli_error("usage: tether download CAMERA_PATH... [--dest DIR]");
        return EXIT_USAGE;
    }
    if (store_mkdirs(dest) != TETHER_OK) {
        cli_error("cannot create %s", dest);
        return EXIT_FAILED;
    }
    tether_camera *cam;
    int rc = cli_open_camera(&cam);
    if (rc != EXIT_OK) return rc;
    int exit_code = EXIT_OK;
    json_t *a = json_array();
    for (int i = optind; i < argc; i++) {
        const char *base = strrchr(argv[i], '/');
        base = base ? base + 1 : argv[i];
        char local[4096];
        snprintf(local, sizeof local, "%s/%s", dest, base);
        int r = tether_file_download(cam, argv[i], local);
        if (r != TETHER_OK) {
            cli_camera_error(cam, r, argv[i]);
            exit_code = EXIT_FAILED;
            continue;
        }
        if (g_cli.json) json_array_append_new(a, json_pack("{s:s, s:s}", "camera", argv[i], "local", local));
        else printf("%s -> %s\n", argv[i], local);
    }
    if (g_cli.json) cli_print_json(a);
    else json_decref(a);
    cli_close_camera(cam);
    return exit_code;
}

int cmd_delete(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        printf("usage: tether delete CAMERA_PATH...\n");
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    tether_camera *cam;
    int rc = cli_open_camera(&cam);
    if (rc != EXIT_OK) return rc;
    int exit_code = EXIT_OK;
    for (int i = 1; i < argc; i++) {
        int r = tether_file_delete(cam, argv[i]);
        if (r != TETHER_OK) {
            cli_camera_error(cam, r, argv[i]);
            exit_code = EXIT_FAILED;
        } else if (!g_cli.json) {
            printf("deleted %s\n", argv[i]);
        }
    }
    if (g_cli.json) cli_print_json(json_pack("{s:b}", "ok", exit_code == EXIT_OK));
    cli_close_camera(cam);
    return exit_code;
}
