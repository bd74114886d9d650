/*
 * jobs/import.h (libtetherapp): import from the camera's card, resumable, never twice.
 *
 * An import is a job kept in a ledger (an SQLite file): when it starts it
 * lists the card, picks the files (all of them, or only the ones no
 * earlier import from this camera took), and reserves a local name for
 * each, all in one transaction.  Then it downloads them one by one, each
 * through a temporary file that is fsynced and renamed into place, checks
 * its size against the card's, and records it as done.  A job that was
 * cancelled, killed (SIGKILL, power cut) or cut off from its camera is
 * continued by the next run with resume set: files already done are not
 * downloaded again, and a file that reached its name just before the crash
 * is recognised by its size; so the destination ends with exactly the
 * card's files, each once, never a partial one.  Deleting from the card
 * (delete_after) happens only once the local copy is safely on disk.
 *
 * While the camera is away the job waits for libtether's reconnection and
 * goes on with the same file.  A full disk or a photo folder that cannot
 * be written stops the job (FAILED or INCOMPLETE, with err saying which),
 * to be resumed once there is room.  One import per ledger at a time (a second
 * one gets TETHER_ERR_BUSY).  Everything runs on the caller's thread;
 * other threads may keep using the camera (live view interleaves with the
 * downloads in libtether's queue).
 */
#ifndef TETHER_IMPORT_H
#define TETHER_IMPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "tether/tether.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tether_import_mode {
    TETHER_IMPORT_ALL,            /* every file on the card */
    TETHER_IMPORT_NEW,            /* only files no earlier import from this camera took */
} tether_import_mode;

typedef enum tether_import_event_kind {
    TETHER_IMPORT_STARTED,        /* the job's files are known (totals set) */
    TETHER_IMPORT_FILE_DONE,      /* a file is on disk (local set) */
    TETHER_IMPORT_FILE_FAILED,    /* a file could not be imported (err, message); the job goes on */
    TETHER_IMPORT_FILE_DELETED,   /* the card's copy of a done file was deleted */
    TETHER_IMPORT_CAMERA_LOST,    /* the camera went away; waiting for it */
    TETHER_IMPORT_CAMERA_BACK,    /* it is back; the job goes on */
} tether_import_event_kind;

typedef enum tether_import_stop {
    TETHER_IMPORT_GO_ON,          /* carry on */
    TETHER_IMPORT_CANCEL,         /* stop on request: the job is left cancelled (resumed on demand) */
    TETHER_IMPORT_INTERRUPT,      /* stop because the program ends: the job is left running, as
                                     after a crash (tether_import_unfinished says not cancelled) */
} tether_import_stop;

typedef struct tether_import_progress {
    tether_import_event_kind kind;
    int64_t job;
    int files_total;              /* files in the job */
    int files_done;               /* on disk, including those of earlier runs of the job */
    int files_failed;
    uint64_t bytes_total;
    uint64_t bytes_done;          /* of the files done */
    double rate_bps;              /* bytes per second downloaded by this run (0 until known) */
    double eta_s;                 /* seconds left at that rate; -1 unknown */
    const char *camera_path;      /* the file concerned (NULL for job-wide events) */
    const char *local;            /* FILE_DONE: its local path */
    bool downloaded;              /* FILE_DONE: false if an earlier run had downloaded it */
    int err;                      /* FILE_FAILED: the tether_err */
    const char *message;          /* a sentence for people; never NULL */
} tether_import_progress;

typedef struct tether_import_options {
    const char *dest;             /* the folder files go into (created if missing) */
    const char *ledger;           /* the ledger file; NULL: DEST/.tether-import.db */
    tether_import_mode mode;
    bool delete_after;            /* delete each file from the card once it is safely on disk */
    bool resume;                  /* continue this camera's unfinished job for dest, if any */
    /* Asked between files and while waiting for the camera: GO_ON, or
     * how to stop.  NULL: never stops. */
    tether_import_stop (*stop)(void *user);
    /* Progress; called on the caller's thread.  NULL: none. */
    void (*on_progress)(const tether_import_progress *p, void *user);
    /* Called once a file is on disk and recorded, before it is deleted
     * from the card; at least once per file across crashes (a resumed job
     * calls it again for files done whose call may not have returned).
     * Return false to leave the card's copy alone.  NULL: none. */
    bool (*on_file)(const char *local, const char *camera_path, void *user);
    void *user;
} tether_import_options;

typedef enum tether_import_status {
    TETHER_IMPORT_DONE,           /* every file of the job is in */
    TETHER_IMPORT_CANCELLED,      /* stopped (CANCEL or INTERRUPT); resumable */
    TETHER_IMPORT_ABORTED,        /* the job could not go on (ledger error); resumable */
    TETHER_IMPORT_INCOMPLETE,     /* it ended with some files in and some not (failed; err and
                                     message say why) */
    TETHER_IMPORT_FAILED,         /* it ended with no file of the job in: every one failed, or a
                                     storage error stopped it first */
} tether_import_status;

typedef struct tether_import_result {
    tether_import_status status;
    int64_t job;
    bool resumed;                 /* an unfinished job was continued */
    int files_total;
    int downloaded;               /* files this run downloaded */
    int already;                  /* files an earlier run of the job had done */
    int failed;
    int deleted;                  /* card copies deleted by this run */
    uint64_t bytes_total;
    uint64_t bytes_downloaded;    /* by this run */
    double seconds;               /* this run's duration */
    int err;                      /* why files failed: TETHER_ERR_DISK_FULL or TETHER_ERR_STORAGE
                                     when this machine's disk stopped the job, else the last
                                     file's tether_err; 0 if none failed */
    char dest[4096];              /* where the files went */
    char message[512];            /* why it was aborted, or the last file error */
} tether_import_result;

/* Runs (or resumes) an import.  Returns 0 when the job ran to an end
 * (DONE, INCOMPLETE, FAILED or CANCELLED; failed files are counted in r,
 * not an error), or a tether_err: TETHER_ERR_INVALID_ARGUMENT,
 * TETHER_ERR_BUSY (another import holds the ledger), TETHER_ERR_DISK_FULL
 * or TETHER_ERR_STORAGE (the destination or the ledger's folder cannot be
 * written: full, read-only, missing, no permission), TETHER_ERR_IO (ledger
 * unusable otherwise), TETHER_ERR_DISCONNECTED (the card could not be
 * listed before a stop).  A file that cannot be written for want of
 * storage (DISK_FULL, STORAGE) stops the job there, with the files left
 * untried and the job cancelled (continued by the next run with resume):
 * every later one would fail the same way.  r is filled in every case.
 * Caller's thread. */
int tether_import_run(tether_camera *cam, const tether_import_options *o, tether_import_result *r);

typedef struct tether_import_job {
    int64_t id;
    char dest[4096];
    tether_import_mode mode;
    bool delete_after;
    bool cancelled;               /* stopped on request (else it was interrupted) */
    int files_total, files_done;
    int64_t created;              /* epoch seconds */
} tether_import_job;

/* This camera's unfinished job in the ledger at ledger_path (dest NULL:
 * for any destination), the newest.  Returns 0, TETHER_ERR_NOT_FOUND, or
 * TETHER_ERR_IO.  Any thread. */
int tether_import_unfinished(tether_camera *cam, const char *ledger_path, const char *dest,
                             tether_import_job *out);

#ifdef __cplusplus
}
#endif

#endif
