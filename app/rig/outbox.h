/*
 * outbox: a camera node's shots on its own disk until the studio has them
 * (docs/RIGS.md, "Never lost, never doubled").  Under its folder:
 *
 *   fired/CAMERA/SHOT        made (O_EXCL) before a camera fires for SHOT:
 *                            a command delivered twice fires once
 *   shots/CAMERA/SHOT/FILE   the shot's files, written atomically by the capture
 *   shots/CAMERA/SHOT/.ready the shot is complete (its files are all there)
 *
 * The sender takes the oldest ready shot, sends its files, and removes it
 * once the studio acknowledged every file.  After a crash, a shot folder
 * with files but no .ready is ready (the capture had finished writing
 * them; half-written files are hidden temporaries, swept at open), and
 * an empty one is removed.  fired/ markers older than a day are pruned at
 * open.
 *
 * Threads: any; the folder is the state, a mutex and condition variable
 * only wake the sender.  Errors are tether_err values.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct outbox outbox;

typedef struct outbox_entry {
    char camera[33];
    char shot[65];
    char dir[4200];            /* DIR/shots/CAMERA/SHOT */
} outbox_entry;

/* Opens (creating) the outbox at dir, sweeps what a crash left.  NULL
 * with a sentence in why on failure.  Main thread, before the others. */
outbox *outbox_open(const char *dir, char *why, size_t whysz);
/* NULL is fine; no other thread may use it any more. */
void outbox_close(outbox *o);
/* Claims (camera, shot) before firing: TETHER_OK, TETHER_ERR_EXISTS when
 * it was claimed before (fired already: do not fire again), or a storage
 * error (do not fire: the shot could not be kept). */
int outbox_claim(outbox *o, const char *camera, const char *shot);
/* Gives up a claim whose camera did not fire (so the shot may be asked
 * again). */
void outbox_unclaim(outbox *o, const char *camera, const char *shot);
/* The folder the shot's files go to, created.  TETHER_OK or a storage
 * error. */
int outbox_shot_dir(outbox *o, const char *camera, const char *shot, char *out, size_t size);
/* The shot's files are all written: marks it ready and wakes the sender. */
int outbox_ready(outbox *o, const char *camera, const char *shot);
/* The oldest ready shot, waiting up to timeout_ms for one (or for
 * outbox_wake).  false when there is none. */
bool outbox_next(outbox *o, int timeout_ms, outbox_entry *e);
/* Wakes a sender waiting in outbox_next. */
void outbox_wake(outbox *o);
/* The files of a shot (visible regular files, not .ready), names into
 * names[i] (each 129 bytes); returns how many (at most max), -1 on error. */
int outbox_files(const outbox_entry *e, char names[][129], int max);
/* The studio acknowledged every file: removes the shot.  TETHER_OK or a
 * storage error. */
int outbox_done(outbox *o, const outbox_entry *e);
/* Shots waiting for the studio. */
int outbox_count(outbox *o);
