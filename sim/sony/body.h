/*
 * body: the simulated Sony Wi-Fi camera behind `tether sim sony`: its
 * persona (QX10 lens-style camera or A6000), its Camera Remote API methods
 * and their versions, the settings and which of them the exposure mode
 * allows, the camera status machine (NotReady, IDLE, StillCapturing,
 * StillSaving), the state that getEvent reports as diffs, the lens and the
 * pictures (live view and postview JPEGs from the same procedural scene
 * and lens model as `tether sim ptpip`), and the faults.
 *
 * It is transport-independent: net.c (the HTTP servers and SSDP) hands it
 * parsed JSON-RPC calls and asks it for live-view frames and postviews.
 *
 * Threads: every function may be called from any thread (libmicrohttpd
 * runs one per connection).  One mutex protects the state, with a
 * condition for getEvent long polls and new live-view frames; rendering
 * has its own lock and runs without the state lock.  A live-view thread
 * renders frames at the body's rate while anyone watches.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "base/blob.h"
#include "ptpip/scene.h"

typedef struct sonysim_persona sonysim_persona;

/* "qx10" or "a6000"; NULL for another name. */
const sonysim_persona *sonysim_persona_find(const char *id);

typedef struct sonysim_options {
    const sonysim_persona *persona;
    uint64_t seed;
    scene_kind scene;
    double fps;                 /* live-view frames per second; 0 = the body's */
    double poll_timeout_s;      /* a getEvent long poll ends with error 2 after this */
} sonysim_options;

void sonysim_default_options(sonysim_options *o);

/* Faults, set from the command line and the control channel. */
typedef struct sonysim_faults {
    int busy_count;             /* the next N camera calls answer 40401 */
    int af_fail_count;          /* the next N autofocus attempts fail (40400 on a shot) */
    int long_capture;           /* the next shot answers 40403, then awaitTakePicture N-1 times more */
    long lv_cut_after;          /* a live-view connection is cut after this many bytes (0 = never) */
    bool lv_stall;              /* live-view connections stop sending (until cleared) */
    int lv_split;               /* > 0: live-view bytes go out in pieces of 1..lv_split */
    double lv_rate_kbps;        /* > 0: a slow link: live view at most this many kilobytes per second */
    bool wifi_down;             /* the camera is out of reach: no answer at all */
} sonysim_faults;

typedef struct sonysim_body sonysim_body;

/* Returns a new body, or NULL (logged). */
sonysim_body *sonysim_new(const sonysim_options *o);
/* Stops the live-view thread, wakes every waiter and frees the body. */
void sonysim_free(sonysim_body *b);
/* Wakes every waiter (long polls, live-view readers) for shutdown. */
void sonysim_shutdown(sonysim_body *b);

const char *sonysim_model(const sonysim_body *b);
const char *sonysim_persona_id(const sonysim_body *b);
/* The base URL of the API server ("http://127.0.0.1:8080"), set by net.c
 * once it listens: postview and live-view URLs are built from it. */
void sonysim_set_base_url(sonysim_body *b, const char *url);
/* The device description (dd.xml) for this body, malloc'ed. */
char *sonysim_device_description(sonysim_body *b);

/* Executes one JSON-RPC call on a service ("camera", "system",
 * "avContent", "guide").  request is the parsed body; returns the reply
 * object (new reference): {"result":[...],"id":N}, {"results":...} or
 * {"error":[code,msg],"id":N}.  May block: a long poll, a capture. */
json_t *sonysim_call(sonysim_body *b, const char *service, json_t *request);

/* Live view: a reader registers, then waits for frames newer than the one
 * it had.  sonysim_lv_next returns 0 with a new reference in *jpeg (and its
 * sequence number and focus-frame info), or -1 at shutdown, when live view
 * was stopped, or when the Wi-Fi is down. */
void sonysim_lv_attach(sonysim_body *b);
void sonysim_lv_detach(sonysim_body *b);
typedef struct sonysim_lv_frame {
    blob *jpeg;
    uint64_t number;            /* frames rendered since start */
    uint16_t sequence;
    uint32_t timestamp_ms;
    bool frame_info;            /* send a frame-info packet */
    int n_focus;                /* 0 or 1 focus frame */
    uint16_t focus_box[4];      /* left, top, right, bottom, 0..10000 */
    uint8_t focus_status;       /* 1 normal (focusing), 4 focused */
} sonysim_lv_frame;
int sonysim_lv_next(sonysim_body *b, uint64_t after, sonysim_lv_frame *out);
/* Counts bytes a live-view connection sent (for /state). */
void sonysim_lv_sent(sonysim_body *b, uint64_t bytes);

/* A postview image by its name ("pict3.JPG"): a new reference, or NULL. */
blob *sonysim_postview(sonysim_body *b, const char *name);
/* A file on the card by its name ("DSC00003.JPG"), served only in
 * Contents Transfer: a new reference, or NULL. */
blob *sonysim_content(sonysim_body *b, const char *name);

/* ---- the body's side (control channel) ---- */
/* Presses the shutter button: the shot's URL reaches the client only
 * through getEvent.  Returns 0 or -1 (busy). */
int sonysim_press_shutter(sonysim_body *b);
/* Turns a dial: sets the setting whose getEvent type is `type`
 * ("isoSpeedRate") to value.  0, -1 unknown setting, -2 bad value. */
int sonysim_body_set(sonysim_body *b, const char *type, const char *value);
void sonysim_set_faults(sonysim_body *b, const sonysim_faults *f);
void sonysim_get_faults(sonysim_body *b, sonysim_faults *f);
/* Takes one byte budget of the live-view cut fault: true if a connection
 * that has sent `sent` bytes must be cut now. */
bool sonysim_lv_should_cut(sonysim_body *b, uint64_t sent);
/* Everything, as JSON (new reference). */
json_t *sonysim_state(sonysim_body *b);
