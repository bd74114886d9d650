/*
 * jsonrpc: the text side of Sony's Camera Remote API: building requests,
 * reading replies, keeping a mirror of the camera's state from getEvent
 * replies, and reading the device description (dd.xml).  No I/O here, so
 * every function can be fed anything (the fuzz target does).
 *
 * Replies (research note §4): {"result":[...],"id":N} on success,
 * {"error":[code,"message"],"id":N} on failure, both with HTTP 200;
 * getMethodTypes answers {"results":[...]}.  Results are positional arrays.
 *
 * getEvent (§9): the result is an array of slots, each null, an object with
 * a "type", or an array of such objects.  Slots are read by their "type",
 * never by position (bodies and versions differ in length and order), and a
 * reply after the first carries only what changed: null, a missing type or
 * an empty array means "no news", so the mirror keeps what it had.
 *
 * Ownership: json_t results handed out belong to the caller (one
 * reference).  Pure functions on caller-owned data; any thread, one thread
 * per sonyrpc_state.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

enum {
    SONYRPC_OK = 0,
    SONYRPC_CAMERA_ERROR = 1,   /* {"error":[code,msg]}: code and message filled */
    SONYRPC_MALFORMED = -1,     /* not JSON, not an object, neither result nor error */
};

/* Sony's error codes that change what a client does (§5). */
enum {
    SONY_ERR_ANY = 1,               /* "Not Available Now" */
    SONY_ERR_TIMEOUT = 2,           /* a long poll ended without news */
    SONY_ERR_ILLEGAL_ARGUMENT = 3,
    SONY_ERR_NO_SUCH_METHOD = 12,
    SONY_ERR_UNSUPPORTED_VERSION = 14,
    SONY_ERR_SHOOTING_FAIL = 40400,
    SONY_ERR_NOT_READY = 40401,
    SONY_ERR_ALREADY_POLLING = 40402,
    SONY_ERR_STILL_CAPTURING = 40403,
};

typedef struct sonyrpc_reply {
    json_t *result;         /* the "result" (or "results") array; NULL on error */
    int id;                 /* -1 if absent */
    int error_code;
    char error_message[160];
} sonyrpc_reply;

/* The request text for method(params...) with the method's API version:
 * params is taken over (NULL = []).  Returns a malloc'ed string (caller
 * frees) or NULL on OOM. */
char *sonyrpc_request(const char *method, json_t *params, int id, const char *version);

/* Reads a reply body of len bytes (need not be terminated).  Returns
 * SONYRPC_OK (out->result set: release with sonyrpc_reply_clear),
 * SONYRPC_CAMERA_ERROR or SONYRPC_MALFORMED (out->error_message says why). */
int sonyrpc_parse_reply(const char *text, size_t len, sonyrpc_reply *out);
void sonyrpc_reply_clear(sonyrpc_reply *r);

/* The value of a JSON scalar as text: strings as they are, integers in
 * decimal, reals with %g, booleans "true"/"false".  False for anything
 * else (out then empty). */
bool sonyrpc_scalar_text(const json_t *v, char *out, size_t size);

/* ---- the camera's state, from getEvent ------------------------------------- */

enum { SONYRPC_MAX_CANDIDATES = 64, SONYRPC_MAX_APIS = 128, SONYRPC_MAX_URLS = 8 };

/* The settings the mirror keeps, each read from the getEvent type named in
 * sonyrpc_field_type. */
typedef enum sonyrpc_field {
    SONYF_CAMERA_STATUS,
    SONYF_EXPOSURE_MODE,
    SONYF_FNUMBER,
    SONYF_SHUTTER_SPEED,
    SONYF_ISO,
    SONYF_EXPOSURE_COMPENSATION,    /* the index, as the camera sends it */
    SONYF_WHITE_BALANCE,            /* the mode */
    SONYF_FOCUS_MODE,
    SONYF_SHOOT_MODE,
    SONYF_POSTVIEW_SIZE,
    SONYF_BEEP_MODE,
    SONYF_ZOOM_POSITION,
    SONYF_FOCUS_STATUS,
    SONYF_BATTERY,                  /* percent */
    SONYF_SHOTS_LEFT,
    SONYF_CAMERA_FUNCTION,
    SONYF_FUNCTION_RESULT,
    SONYF_LIVEVIEW_STATUS,
    SONYF_TOUCH_AF,                 /* "true"/"false": a touch position is set */
    SONYF_STILL_SIZE,               /* "aspect size": "3:2 24M" */
    SONYF_COUNT
} sonyrpc_field;

/* The getEvent "type" a field comes from ("isoSpeedRate"). */
const char *sonyrpc_field_type(sonyrpc_field f);

typedef struct sonyrpc_value {
    bool known;             /* the camera said it at least once */
    char current[64];
    int n_candidates;       /* -1 while the camera gave no list */
    char candidates[SONYRPC_MAX_CANDIDATES][32];
} sonyrpc_value;

typedef struct sonyrpc_state {
    sonyrpc_value fields[SONYF_COUNT];
    int n_apis;
    char apis[SONYRPC_MAX_APIS][48];    /* the available API list */
    bool apis_known;
} sonyrpc_state;

/* What one getEvent reply changed. */
typedef struct sonyrpc_changes {
    unsigned fields;        /* bit (1 << sonyrpc_field): the current value or candidates changed */
    bool apis;              /* the API list changed */
    int n_urls;             /* new takePicture URLs (a shot, also from the body's button) */
    char urls[SONYRPC_MAX_URLS][512];
    int n_errors;           /* slot "triggeredError"/"continuousError" entries */
} sonyrpc_changes;

void sonyrpc_state_init(sonyrpc_state *st);
/* Applies a getEvent result array to the mirror; fills *ch.  Entries it
 * does not know, of the wrong shape, or null are ignored.  Returns false
 * only if result is not an array. */
bool sonyrpc_event_apply(sonyrpc_state *st, const json_t *result, sonyrpc_changes *ch);
/* Is method in the available API list? */
bool sonyrpc_api_listed(const sonyrpc_state *st, const char *method);
/* Replaces the API list from getAvailableApiList's result ([[names]]).
 * Returns false for another shape. */
bool sonyrpc_set_apis(sonyrpc_state *st, const json_t *result);

/* Reads getAvailable<X>'s result [current, [candidates]] into v (the
 * exposure-compensation shape [cur, max, min, step] too: candidates are
 * then every index from min to max; still sizes {"aspect", "size"} become
 * "aspect size").  Returns false for another shape. */
bool sonyrpc_read_available(const json_t *result, sonyrpc_value *v);

/* The newest version in getVersions' result [["1.0","1.1",...]] that is
 * at most `highest` ("1.4"), into out ("1.0" if the list is unreadable). */
void sonyrpc_pick_version(const json_t *result, const char *highest, char *out, size_t size);

/* ---- the device description --------------------------------------------------- */

enum { SONYDD_MAX_SERVICES = 8 };

typedef struct sonydd_info {
    char friendly_name[128];
    char model_name[64];
    char udn[96];
    int n_services;
    struct {
        char type[32];          /* "camera", "system", "avContent", "guide" */
        char url[256];          /* ActionList_URL; the endpoint is url + "/" + type */
    } services[SONYDD_MAX_SERVICES];
    char liveview_url[256];     /* X_ScalarWebAPI_LiveView_URL, "" if absent */
} sonydd_info;

/* Reads the parts of a device description (dd.xml) a client needs: the
 * ScalarWebAPI services and their action-list URLs, matched by local name
 * whatever the namespace prefix.  Character references and the five
 * predefined entities are decoded.  Returns true if at least one service
 * with a URL was found. */
bool sonydd_parse(const char *xml, size_t len, sonydd_info *out);
/* The endpoint of service type ("camera") into out, or false if absent. */
bool sonydd_endpoint(const sonydd_info *dd, const char *type, char *out, size_t size);
