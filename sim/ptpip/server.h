/*
 * server: the PTP/IP transport of the simulated camera: a TCP listener on
 * which a host opens its command and event connections (both on the same
 * port: the first packet tells which is which), one session at a time, any
 * number of sessions in sequence.
 *
 * It frames PTP transactions (request, optional data phase either way,
 * response) around simcam_handle, delivers the camera's events on the event
 * connection, and injects the faults reliability tests need: dropping the
 * link after N operations or a time, answering Device Busy at a given
 * rate, limiting the link's bandwidth, freezing (no answers at all), and
 * pulling the plug.  Malformed, truncated or hostile input costs the
 * offending connection, never the process: packets are parsed by
 * ptpip_parse with bounds checks, a packet that starts must finish within
 * a deadline, and data phases are bounded.
 *
 * Threads: simsrv_run's accept loop on the caller's thread, one thread per
 * session.  simsrv_stop may be called from a signal handler; the other
 * control functions from any thread.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "camera.h"

typedef struct simsrv_faults {
    long drop_after_ops;       /* > 0: drop the link once this many more operations arrived */
    double drop_after_s;       /* > 0: drop the link this long after it is armed */
    double busy_rate;          /* probability of answering Device Busy */
    long busy_opcode;          /* > 0: only this operation answers busy (e.g. 0x1008 GetObjectInfo) */
    double rate_limit_mbps;    /* > 0: link speed in MB/s (10^6 bytes) */
    long freeze_after_ops;     /* > 0: stop answering after this many more operations */
    bool frozen;               /* not answering now */
} simsrv_faults;

typedef struct simsrv simsrv;

/* Binds host:port (port 0 picks one).  Returns NULL on failure (logged). */
simsrv *simsrv_new(simcam *cam, const char *host, int port, const simsrv_faults *faults,
                   uint64_t seed);
void simsrv_free(simsrv *s);
int simsrv_port(const simsrv *s);

/* Serves until simsrv_stop.  Returns 0. */
int simsrv_run(simsrv *s);
/* Async-signal-safe. */
void simsrv_stop(simsrv *s);

/* Pulls the plug: the session ends and connections are refused until
 * simsrv_plug.  Both return 0, or -1 if re-binding the port failed. */
int simsrv_unplug(simsrv *s);
int simsrv_plug(simsrv *s);

/* Replaces the faults (counters start now). */
void simsrv_set_faults(simsrv *s, const simsrv_faults *f);
/* The link's state and faults (new reference). */
json_t *simsrv_state(simsrv *s);
