/*
 * mqtt: the rig's connection to the MQTT broker (libmosquitto), shared by
 * the node and the studio: TLS with the broker's certificate checked
 * (mqtts://), user and password, a retained last will, TCP without
 * Nagle's delay, and reconnection by itself (1 s, then up to 5 s apart)
 * when the broker goes away or restarts.  libmosquitto's errors (a
 * certificate that does not verify) are logged, each once in a row.
 *
 * Threads: the network thread started here (around libmosquitto's
 * loop) runs the callbacks; they must not block for long (hand work to a thread of your
 * own).  rig_mqtt_publish and rig_mqtt_subscribe may be called from any
 * thread, the callbacks included.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct rig_mqtt rig_mqtt;

typedef struct rig_mqtt_options {
    const char *host;
    int port;
    const char *client_id;     /* unique on the broker */
    bool clean_session;        /* false: the broker keeps QoS 1 messages for us while we are away */
    bool tls;                  /* MQTT over TLS: the broker's certificate must be valid for host */
    const char *ca_file;       /* with tls: the CA certificate(s) to check it with (PEM); NULL: the system's (/etc/ssl/certs) */
    const char *user;          /* NULL: anonymous */
    const char *password;
    const char *will_topic;    /* NULL: no last will; else retained, QoS 1 */
    const char *will_payload;
    /* Called on each connection's answer: rc 0 when connected (subscribe
     * and announce here, again after every reconnection), else the
     * broker's refusal (4: bad user name or password, 5: not authorised)
     * with a sentence in why; rc -1: a TLS handshake failed before any
     * session (the broker's certificate did not verify), why says how.
     * May be NULL. */
    void (*on_connect)(void *ctx, int rc, const char *why);
    /* Called with each message (payload not NUL-terminated).  May be NULL. */
    void (*on_message)(void *ctx, const char *topic, const void *payload, size_t len);
    /* Called when the message with id mid has left: for QoS 0 when it is
     * written to the socket, for QoS 1 when the broker acknowledged it.
     * May be NULL. */
    void (*on_published)(void *ctx, int mid);
    void *ctx;
} rig_mqtt_options;

/* Makes the connection, not connected yet: keep the pointer where the
 * callbacks find it, then rig_mqtt_connect.  NULL with a sentence in why
 * when libmosquitto refuses the options.  Main thread. */
rig_mqtt *rig_mqtt_new(const rig_mqtt_options *o, char *why, size_t whysz);
/* Starts connecting (in the background: the broker may be down for now);
 * the callbacks may run from now on.  false with why when the network
 * thread cannot start (then rig_mqtt_stop it).  Main thread, once. */
bool rig_mqtt_connect(rig_mqtt *m, char *why, size_t whysz);
/* Publishes (copies payload).  0, or -1 when not connected or refused
 * (QoS 1 messages published while disconnected are lost: check). */
int rig_mqtt_publish(rig_mqtt *m, const char *topic, const char *payload, int qos, bool retain);
/* The same for len bytes of data (live-view frames); *mid (may be NULL)
 * gets the message's id, which on_published names when it has left. */
int rig_mqtt_publish_bytes(rig_mqtt *m, const char *topic, const void *data, size_t len, int qos, bool retain, int *mid);
int rig_mqtt_subscribe(rig_mqtt *m, const char *pattern, int qos);
bool rig_mqtt_connected(rig_mqtt *m);
/* Publishes last (retained, QoS 1; may be NULL) if connected, waits up
 * to a second for it to leave, disconnects, stops the thread and frees.
 * NULL is fine.  Not from a callback. */
void rig_mqtt_stop(rig_mqtt *m, const char *last_topic, const char *last_payload);
/* Reads a password file: its first line, without the newline.  false
 * with why when it cannot be read or is empty. */
bool rig_read_secret(const char *path, char *out, size_t size, char *why, size_t whysz);
