/*
 * cmd_import: `tether import --dest DIR [--new] [--delete] [--fresh]`,
 * import from the card through the resumable engine (app/jobs/import.h).
 *
 * On a terminal, a progress bar on stderr (files, bytes, rate, time
 * left), redrawn at most 10 times a second; otherwise one line per 10% of
 * the files.  Problems (a file that failed, the camera lost and back) are
 * always printed.  SIGINT/SIGTERM stop after the file being downloaded;
 * running the same command again resumes.  --json prints the result as
 * one JSON object ("status": done, incomplete, failed, cancelled or
 * aborted; "error" says why files failed, e.g. "the disk is full").  Exit
 * 0 when every file is in, 1 when a file failed or the import was
 * interrupted or aborted, 2 for bad usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "cli.h"
#include "jobs/import.h"

typedef struct import_ui {
    bool tty;
    double last_draw;
    int last_decile;
    bool bar_shown;
} import_ui;

static tether_import_stop import_stop(void *user)
{
    (void)user;
    return g_cli_interrupted ? TETHER_IMPORT_CANCEL : TETHER_IMPORT_GO_ON;
}

/* "12.3 MB" */
static void human_bytes(double b, char *out, size_t size)
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
    int u = 0;
    while (b >= 1000 && u < 4) {
        b /= 1000;
        u++;
    }
    snprintf(out, size, u ? "%.1f %s" : "%.0f %s", b, units[u]);
}

static void draw_bar(import_ui *ui, const tether_import_progress *p)
{
    enum { WIDTH = 30 };
    double frac = p->bytes_total ? (double)p->bytes_done / (double)p->bytes_total
                                 : p->files_total ? (double)p->files_done / p->files_total : 1;
    int fill = (int)(frac * WIDTH + 0.5);
    char bar[WIDTH + 1], done[32], total[32], rate[32], eta[32] = "";
    for (int i = 0; i < WIDTH; i++) bar[i] = i < fill ? '#' : '.';
    bar[WIDTH] = '\0';
    human_bytes((double)p->bytes_done, done, sizeof done);
    human_bytes((double)p->bytes_total, total, sizeof total);
    human_bytes(p->rate_bps, rate, sizeof rate);
    if (p->eta_s >= 0 && p->rate_bps > 0) snprintf(eta, sizeof eta, ", %.0f s left", p->eta_s);
    fprintf(stderr, "\r[%s] %d/%d files, %s of %s, %s/s%s   ", bar, p->files_done, p->files_total, done, total,
            rate, eta);
    fflush(stderr);
    ui->bar_shown = true;
}

static void end_bar(import_ui *ui)
{
    if (ui->bar_shown) fputc('\n', stderr);
    ui->bar_shown = false;
}

static void on_progress(const tether_import_progress *p, void *user)
{
    import_ui *ui = user;
    bool problem = p->kind == TETHER_IMPORT_FILE_FAILED || p->kind == TETHER_IMPORT_CAMERA_LOST ||
                   p->kind == TETHER_IMPORT_CAMERA_BACK;
    if (problem || p->kind == TETHER_IMPORT_STARTED) {
        end_bar(ui);
        if (!g_cli.json || problem) fprintf(stderr, "tether: %s\n", p->message);
    }
    if (g_cli.json) return;
    double now = clock_mono_s();
    bool last = p->files_done + p->files_failed >= p->files_total;
    if (ui->tty) {
        if (now - ui->last_draw >= 0.1 || last || p->kind == TETHER_IMPORT_STARTED) {
            draw_bar(ui, p);
            ui->last_draw = now;
        }
        return;
    }
    int decile = p->files_total ? 10 * (p->files_done + p->files_failed) / p->files_total : 10;
    if (p->kind == TETHER_IMPORT_FILE_DONE && decile > ui->last_decile) {
        ui->last_decile = decile;
        fprintf(stderr, "tether: %d of %d files\n", p->files_done, p->files_total);
    }
}

int cmd_import(int argc, char **argv)
{
    static const char *usage = "tether import --dest DIR [--new] [--delete] [--fresh] [--ledger FILE]";
    static const struct option longopts[] = {
        {"dest", required_argument, NULL, 'd'}, {"new", no_argument, NULL, 'n'},
        {"delete", no_argument, NULL, 'x'},     {"fresh", no_argument, NULL, 'f'},
        {"ledger", required_argument, NULL, 'l'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    tether_import_options o = {.resume = true, .mode = TETHER_IMPORT_ALL, .stop = import_stop};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "d:nxfl:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'd': o.dest = optarg; break;
        case 'n': o.mode = TETHER_IMPORT_NEW; break;
        case 'x': o.delete_after = true; break;
        case 'f': o.resume = false; break;
        case 'l': o.ledger = optarg; break;
        case 'h':
            printf("usage: %s\n"
                   "Copies the files on the camera's card into DIR: all of them, or with --new only\n"
                   "those no earlier import from this camera took.  An interrupted import (Ctrl-C,\n"
                   "a crash, the camera unplugged) is resumed by running the command again; nothing\n"
                   "is downloaded twice.  --delete removes each file from the card once the copy is\n"
                   "safely on disk.  --fresh starts a new import instead of resuming.  The ledger is\n"
                   "DIR/.tether-import.db unless --ledger names another file.\n",
                   usage);
            return EXIT_OK;
        default: cli_error("usage: %s", usage); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("unexpected argument '%s' (usage: %s)", argv[optind], usage);
        return EXIT_USAGE;
    }
    if (o.dest == NULL || o.dest[0] == '\0') {
        cli_error("--dest is required (usage: %s)", usage);
        return EXIT_USAGE;
    }
    tether_camera *cam;
    int rc = cli_open_camera(&cam);
    if (rc != EXIT_OK) return rc;
    cli_trap_signals();
    import_ui ui = {.tty = isatty(STDERR_FILENO) == 1};
    o.on_progress = on_progress;
    o.user = &ui;
    tether_import_result r;
    rc = tether_import_run(cam, &o, &r);
    end_bar(&ui);
    cli_close_camera(cam);
    static const char *const status[] = {"done", "cancelled", "aborted", "incomplete", "failed"};
    bool interrupted = r.status == TETHER_IMPORT_CANCELLED;
    int why = rc != TETHER_OK ? rc : r.failed ? r.err : TETHER_OK;
    if (g_cli.json) {
        cli_print_json(json_pack("{s:s, s:I, s:b, s:s, s:i, s:i, s:i, s:i, s:i, s:I, s:I, s:f, s:f, s:s?, s:s?}",
                                 "status", rc == TETHER_OK ? status[r.status] : "aborted", "job", (json_int_t)r.job,
                                 "resumed", r.resumed, "dest", r.dest, "files", r.files_total, "downloaded",
                                 r.downloaded, "already", r.already, "failed", r.failed, "deleted", r.deleted,
                                 "bytes", (json_int_t)r.bytes_total, "bytes_downloaded",
                                 (json_int_t)r.bytes_downloaded, "seconds", r.seconds, "rate_bps",
                                 r.seconds > 0 ? (double)r.bytes_downloaded / r.seconds : 0.0, "message",
                                 r.message[0] ? r.message : NULL, "error", why ? tether_strerror(why) : NULL));
    }
    if (rc != TETHER_OK) {
        if (!g_cli.json) cli_error("import: %s%s%s", tether_strerror(rc), r.message[0] ? ": " : "", r.message);
        return rc == TETHER_ERR_INVALID_ARGUMENT ? EXIT_USAGE : EXIT_FAILED;
    }
    if (!g_cli.json) {
        char bytes[32], rate[32];
        human_bytes((double)r.bytes_downloaded, bytes, sizeof bytes);
        human_bytes(r.seconds > 0 ? (double)r.bytes_downloaded / r.seconds : 0, rate, sizeof rate);
        printf("%s: %d files in %s: %d downloaded (%s, %s/s), %d already there, %d failed, %d deleted from the card\n",
               interrupted                               ? "interrupted"
               : r.status == TETHER_IMPORT_FAILED        ? "failed"
               : r.status == TETHER_IMPORT_INCOMPLETE    ? "incomplete"
                                                         : "imported",
               r.files_total, r.dest, r.downloaded, bytes, rate, r.already, r.failed, r.deleted);
        if (why && r.message[0]) printf("%s\n", r.message);
        if (interrupted) printf("run the same command again to resume\n");
    }
    return r.failed || interrupted ? EXIT_FAILED : EXIT_OK;
}
