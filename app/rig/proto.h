/*
 * proto: the camera rig's messages over MQTT (docs/RIGS.md): the topic
 * names, the broker address, the names a node, a camera and a shot may
 * have, and every message's JSON, built and parsed here so the node
 * (app/rig/agent.c) and the studio (server/rig.c) cannot disagree.
 *
 * Topics (PREFIX is "tether"):
 *   tether/studio               retained; the studio: {"v","online","url"}
 *   tether/nodes/NODE/status    retained; a node and its cameras (last will: offline)
 *   tether/nodes/NODE/cmd       studio -> node, QoS 1: commands
 *   tether/nodes/NODE/reply     node -> studio, QoS 1: one answer per command and camera
 *   tether/nodes/NODE/event     node -> studio, QoS 1: what happened unasked
 *   tether/nodes/NODE/live/CAM  node -> studio, QoS 0: live-view frames (bare
 *                               JPEG) while the studio holds a lease on them
 *
 * Everything here is pure (no I/O, no global state) and may be called from
 * any thread.  The parsers take bytes from the network (any length, not
 * NUL-terminated, possibly hostile): they never read past len, and fail
 * with a sentence in why rather than trust a field.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define RIG_PROTO_VERSION 1
#define RIG_TOPIC_STUDIO "tether/studio"
#define RIG_TOPIC_NODES "tether/nodes/"

enum {
    RIG_NAME_MAX = 32,        /* node and camera ids: [a-z0-9_-], 1..32 */
    RIG_SHOT_MAX = 64,        /* shot ids: [A-Za-z0-9_.-], 1..64, not starting with '.' */
    RIG_MAX_CAMERAS = 16,     /* cameras of one node */
    RIG_FILE_MAX = 128,       /* a file name: safe characters, no '/', not hidden */
    RIG_LEASE_MAX_MS = 30000, /* the longest live-view lease a command may ask for */
    RIG_FRAME_MAX = 8 << 20,  /* the largest live-view frame a node sends or the studio takes */
};

/* "mqtt://HOST:PORT" (PORT defaults to 1883; "mqtt://HOST" works), or
 * "mqtts://HOST:PORT" for MQTT over TLS (*tls true; PORT defaults to
 * 8883).  host gets at most hostsz-1 characters (a name or an IPv4
 * literal).  Returns false (with why) when malformed: another scheme, a
 * user in the URL (give --user), an empty host, a bad port. */
bool rig_broker_parse(const char *url, char *host, size_t hostsz, int *port, bool *tls, char *why, size_t whysz);

/* Is s a node or camera id (1..RIG_NAME_MAX of a-z, 0-9, '-', '_')? */
bool rig_name_ok(const char *s);
/* Is s a shot id (1..RIG_SHOT_MAX of A-Z, a-z, 0-9, '-', '_', '.', not
 * starting with '.')? */
bool rig_shot_ok(const char *s);
/* Is s a file name a node may send (1..RIG_FILE_MAX of A-Z, a-z, 0-9,
 * '-', '_', '.', not starting with '.')? */
bool rig_file_ok(const char *s);
/* A camera id from a model name ("Canon EOS 550D" -> "canon-eos-550d"),
 * cut to fit RIG_NAME_MAX with room for "-NN". */
void rig_slug(const char *model, char *out, size_t size);

/* "tether/nodes/NODE/WHAT" into out. */
void rig_topic(char *out, size_t size, const char *node, const char *what);
/* For a topic "tether/nodes/NODE/WHAT": copies NODE (a valid name) and
 * returns WHAT (a pointer into topic); NULL for any other topic. */
const char *rig_topic_parse(const char *topic, char *node, size_t nodesz);
/* "tether/nodes/NODE/live/CAMERA" into out: a camera's live-view frames. */
void rig_live_topic(char *out, size_t size, const char *node, const char *camera);
/* For a topic "tether/nodes/NODE/live/CAMERA" with valid names: copies
 * NODE and CAMERA and returns true; false for any other topic. */
bool rig_live_topic_parse(const char *topic, char *node, size_t nodesz, char *camera, size_t camerasz);
/* Is data[0..len) a live-view frame the studio takes: a JPEG (it starts
 * with FF D8 FF) of at most RIG_FRAME_MAX bytes?  The frame is not
 * decoded here: the browser does that.  false with why otherwise. */
bool rig_frame_ok(const void *data, size_t len, char *why, size_t whysz);

/* ---- commands (studio -> node) ---- */

typedef enum rig_op {
    RIG_OP_FIRE,              /* take a picture at fire_at_ns (0: at once) on each camera named */
    RIG_OP_GET,               /* read a setting */
    RIG_OP_SET,               /* change a setting */
    RIG_OP_LIVE,              /* send live view on .../live/CAMERA for lease_ms from now (0: stop) */
} rig_op;

typedef struct rig_cmd {
    char req[48];             /* the studio's request id, echoed in the replies */
    rig_op op;
    int n_cameras;            /* 0: every camera of the node */
    char cameras[RIG_MAX_CAMERAS][RIG_NAME_MAX + 1];
    char shot[RIG_SHOT_MAX + 1]; /* FIRE: the shot's id, which names its files at the studio */
    int64_t fire_at_ns;       /* FIRE: CLOCK_REALTIME; 0: at once */
    char setting[64];         /* GET, SET */
    char value[256];          /* SET */
    int lease_ms;             /* LIVE: 0..RIG_LEASE_MAX_MS */
} rig_cmd;

/* The command as JSON text (malloc'ed, the caller frees), or NULL when
 * out of memory. */
char *rig_cmd_build(const rig_cmd *c);
/* Parses a command.  Returns false with why (and *c undefined) for
 * anything malformed: not JSON, another version, an unknown op, a bad id. */
bool rig_cmd_parse(const void *data, size_t len, rig_cmd *c, char *why, size_t whysz);

/* ---- replies (node -> studio) ---- */

typedef struct rig_reply {
    char req[48];
    char camera[RIG_NAME_MAX + 1];
    bool ok;
    char code[32];            /* !ok: "late", "camera_error", "unknown_camera", "duplicate", ... */
    char message[512];        /* !ok: a sentence */
    char shot[RIG_SHOT_MAX + 1];
    int64_t fire_at_ns;       /* FIRE: as asked */
    int64_t fired_ns;         /* FIRE: CLOCK_REALTIME just before the capture command; 0: not fired */
    int n_files;              /* FIRE: files the shot made (queued for the studio) */
    char files[4][RIG_FILE_MAX + 1];
    json_t *setting;          /* GET, SET: the setting (owned by the reply), or NULL */
} rig_reply;

/* Builds the reply's JSON text (malloc'ed) or NULL; reads r->setting. */
char *rig_reply_build(const rig_reply *r);
/* Parses a reply; r->setting is a new reference (free with
 * rig_reply_clear).  false with why for anything malformed. */
bool rig_reply_parse(const void *data, size_t len, rig_reply *r, char *why, size_t whysz);
void rig_reply_clear(rig_reply *r);

/* ---- a node's status (retained) ---- */

typedef struct rig_node_camera {
    char id[RIG_NAME_MAX + 1];
    char model[128];
    char identity[256];
    bool connected;
} rig_node_camera;

typedef struct rig_status {
    char node[RIG_NAME_MAX + 1];
    bool online;
    int n_cameras;
    rig_node_camera cameras[RIG_MAX_CAMERAS];
    char clock_state[16];     /* "synced", "unsynced", "unknown" */
    double clock_offset_ms;   /* with "synced"/"unsynced": the estimated offset, NAN if not known */
    char clock_source[32];    /* "chronyc", "timedatectl", "pmc", "" */
    char clock_detail[160];
    int outbox;               /* files waiting for the studio's acknowledgement */
} rig_status;

char *rig_status_build(const rig_status *s);
bool rig_status_parse(const void *data, size_t len, rig_status *s, char *why, size_t whysz);

/* The studio's announcement: online and where files go ("http://HOST:PORT"). */
char *rig_studio_build(bool online, const char *url);
/* url gets "" when the studio is offline.  false when malformed or the URL
 * is not http://. */
bool rig_studio_parse(const void *data, size_t len, bool *online, char *url, size_t urlsz);

/* ---- events (node -> studio) ---- */

typedef struct rig_event {
    char type[32];            /* "camera_lost", "camera_back", "setting_changed", "queued", ... */
    char camera[RIG_NAME_MAX + 1]; /* "" when about the node */
    char detail[256];
} rig_event;

char *rig_event_build(const rig_event *e);
bool rig_event_parse(const void *data, size_t len, rig_event *e, char *why, size_t whysz);
