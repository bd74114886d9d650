/*
 * ledger: the import ledger, one SQLite file (WAL, synchronous=FULL so a
 * recorded "done" survives a power cut).  It holds the import jobs, each
 * job's files with the local name reserved for each and how far each got,
 * and the set of card files ever imported per camera (for "new only").
 *
 *   jobs(id, camera, dest, mode, delete_after, state, created, finished)
 *        state: running | cancelled | done
 *   job_files(job, seq, camera_path, size, mtime, local, state, reported, deleted)
 *        state: pending | done | failed; local is a name inside dest
 *   imported(camera, camera_path, size, mtime, local, at)
 *
 * Thread safety: one ledger handle per thread (the import runs on one
 * thread); several handles, even in several processes, may open one file.
 * Errors: functions return 0 or a negative tether_err (TETHER_ERR_IO with
 * the SQLite message in the log, TETHER_ERR_NOT_FOUND).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct ledger ledger;

typedef struct ledger_job {
    int64_t id;
    char camera[256];
    char dest[4096];
    int mode;                /* tether_import_mode */
    bool delete_after;
    char state[16];
    int64_t created;
    int files_total, files_done;
} ledger_job;

typedef struct ledger_file {
    int seq;                 /* order in the job */
    char camera_path[512];
    uint64_t size;
    int64_t mtime;
    char local[512];         /* the reserved name inside the job's dest */
    char state[16];
    bool reported;           /* the on_file callback returned */
    bool deleted;            /* deleted from the card */
} ledger_file;

/* Opens (creating) the ledger at path.  NULL on failure (logged). */
ledger *ledger_open(const char *path);
void ledger_close(ledger *l);

/* Transactions around several calls (BEGIN IMMEDIATE / COMMIT / ROLLBACK). */
int ledger_begin(ledger *l);
int ledger_commit(ledger *l);
void ledger_rollback(ledger *l);

/* The newest job of camera in state running or cancelled, for dest (NULL:
 * any).  Fills out (with file counts).  0 or TETHER_ERR_NOT_FOUND. */
int ledger_unfinished_job(ledger *l, const char *camera, const char *dest, ledger_job *out);
/* Inserts a running job; sets j->id and j->created. */
int ledger_job_add(ledger *l, ledger_job *j);
/* Appends a file to a job (f->seq is its order). */
int ledger_file_add(ledger *l, int64_t job, const ledger_file *f);
int ledger_job_set_state(ledger *l, int64_t job, const char *state);
/* The job's files in order; *out is malloc'ed (free it). */
int ledger_job_files(ledger *l, int64_t job, ledger_file **out, int *n);
/* Is name reserved by any job for dest? */
bool ledger_name_taken(ledger *l, const char *dest, const char *name);
/* Was this card file (same path, size and time) imported from camera? */
bool ledger_was_imported(ledger *l, const char *camera, const char *camera_path, uint64_t size, int64_t mtime);

/* File progress.  ledger_file_done also records the file as imported
 * from camera, and (reported) as reported; call it between ledger_begin
 * and ledger_commit (several files in one commit). */
int ledger_file_done(ledger *l, int64_t job, const char *camera, const ledger_file *f, bool reported);
int ledger_file_failed(ledger *l, int64_t job, const char *camera_path);
int ledger_file_reported(ledger *l, int64_t job, const char *camera_path);
int ledger_file_deleted(ledger *l, int64_t job, const char *camera_path);
/* Renames a file's reservation (its name turned out to be taken). */
int ledger_file_rename(ledger *l, int64_t job, const char *camera_path, const char *local);
