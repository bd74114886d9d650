/*
 * mqtt: see mqtt.h.  A thin layer over libmosquitto: connect_async so
 * that a broker that is down at start is waited for, and a network thread
 * of our own around mosquitto_loop_forever, which reconnects by itself on
 * most errors but returns on some (a TLS handshake that fails, a protocol
 * error): the thread then says so and starts it again, 2 s later.
 */
#include "rig/mqtt.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mosquitto.h>

#include "base/clock.h"
#include "base/log.h"

struct rig_mqtt {
    struct mosquitto *mosq;
    rig_mqtt_options o;
    atomic_bool connected;
    atomic_int published;      /* the mid of the last message handed to the broker */
    bool looping;              /* the network thread runs */
    pthread_t thread;
    atomic_bool stopping;
    atomic_bool ever_connected;
    char last_error[256];      /* libmosquitto's last error logged (network thread) */
};

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

static void lib_init(void)
{
    mosquitto_lib_init();
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc)
{
    (void)mosq;
    rig_mqtt *m = obj;
    m->connected = rc == 0;
    if (rc == 0) m->ever_connected = true;
    if (m->o.on_connect) m->o.on_connect(m->o.ctx, rc, mosquitto_connack_string(rc));
}

static void log_once(rig_mqtt *m, const char *text);

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
    (void)mosq;
    rig_mqtt *m = obj;
    if (m->connected && rc != 0) LOG_WARN("rig", "lost the broker %s:%d; connecting again", m->o.host, m->o.port);
    else if (rc != 0)
        log_once(m, m->o.tls ? "it closed the connection before the session began"
                             : "it closed the connection before the session began (does it want TLS, mqtts://?)");
    m->connected = false;
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg)
{
    (void)mosq;
    rig_mqtt *m = obj;
    if (m->o.on_message && msg->topic) m->o.on_message(m->o.ctx, msg->topic, msg->payload, (size_t)msg->payloadlen);
}

/* libmosquitto's own log: its errors (a TLS handshake that fails, the
 * certificate's reason with it) are the only word of why a connection
 * does not come up; each is logged once until another one comes. */
static void log_once(rig_mqtt *m, const char *text)
{
    if (strcmp(text, m->last_error) == 0) return;
    snprintf(m->last_error, sizeof m->last_error, "%s", text);
    LOG_WARN("rig", "the broker %s:%d: %s", m->o.host, m->o.port, text);
}

static void on_log(struct mosquitto *mosq, void *obj, int level, const char *text)
{
    (void)mosq;
    if ((level & MOSQ_LOG_ERR) && text != NULL) log_once(obj, text);
}

static void on_publish(struct mosquitto *mosq, void *obj, int mid)
{
    (void)mosq;
    rig_mqtt *m = obj;
    m->published = mid;
    if (m->o.on_published) m->o.on_published(m->o.ctx, mid);
}

rig_mqtt *rig_mqtt_new(const rig_mqtt_options *o, char *why, size_t whysz)
{
    pthread_once(&lib_once, lib_init);
    rig_mqtt *m = calloc(1, sizeof *m);
    if (m == NULL) {
        snprintf(why, whysz, "out of memory");
        return NULL;
    }
    m->o = *o;
    m->mosq = mosquitto_new(o->client_id, o->clean_session, m);
    int rc = MOSQ_ERR_NOMEM;
    if (m->mosq == NULL) goto fail;
    mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_int_option(m->mosq, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_reconnect_delay_set(m->mosq, 1, 5, false);
    mosquitto_connect_callback_set(m->mosq, on_connect);
    mosquitto_disconnect_callback_set(m->mosq, on_disconnect);
    mosquitto_message_callback_set(m->mosq, on_message);
    mosquitto_publish_callback_set(m->mosq, on_publish);
    mosquitto_log_callback_set(m->mosq, on_log);
    if (o->tls) {
        /* the peer's certificate is verified, and its name against host
         * (libmosquitto's default; never tls_insecure) */
        rc = mosquitto_tls_set(m->mosq, o->ca_file, o->ca_file ? NULL : "/etc/ssl/certs", NULL, NULL, NULL);
        if (rc != MOSQ_ERR_SUCCESS) {
            snprintf(why, whysz, "cannot use TLS to the broker %s:%d with %s: %s", o->host, o->port,
                     o->ca_file ? o->ca_file : "the system's certificates", mosquitto_strerror(rc));
            mosquitto_destroy(m->mosq);
            free(m);
            return NULL;
        }
        if ((rc = mosquitto_tls_opts_set(m->mosq, 1, NULL, NULL)) != MOSQ_ERR_SUCCESS) goto fail;
    }
    if (o->user && (rc = mosquitto_username_pw_set(m->mosq, o->user, o->password)) != MOSQ_ERR_SUCCESS) goto fail;
    if (o->will_topic &&
        (rc = mosquitto_will_set(m->mosq, o->will_topic, (int)strlen(o->will_payload), o->will_payload, 1, true)) !=
            MOSQ_ERR_SUCCESS)
        goto fail;
    return m;
fail:
    snprintf(why, whysz, "cannot use the broker %s:%d: %s", o->host, o->port, mosquitto_strerror(rc));
    if (m->mosq) mosquitto_destroy(m->mosq);
    free(m);
    return NULL;
}

/* A failure of libmosquitto's, rc, as a sentence into why: its own
 * words, the last error it logged (OpenSSL's reason, for one), and for a
 * TLS failure the option to check. */
static void describe_failure(rig_mqtt *m, int rc, char *why, size_t whysz)
{
    snprintf(why, whysz, "%s%s%s%s%s", mosquitto_strerror(rc), m->last_error[0] ? " (" : "", m->last_error,
             m->last_error[0] ? ")" : "",
             rc != MOSQ_ERR_TLS ? "" : m->o.ca_file ? "; check --broker-ca" : "; give its CA with --broker-ca");
}

/* The network thread: mosquitto_loop_forever, again after the errors it
 * returns on.  A TLS failure before the first session is the caller's to
 * hear (a CA that does not match is not going to start matching). */
static void *loop_main(void *arg)
{
    rig_mqtt *m = arg;
    while (!m->stopping) {
        int rc = mosquitto_loop_forever(m->mosq, 1000, 1);
        if (m->stopping) break;
        char why[400];
        describe_failure(m, rc, why, sizeof why);
        if (rc == MOSQ_ERR_TLS && !m->ever_connected && m->o.on_connect) m->o.on_connect(m->o.ctx, -1, why);
        else log_once(m, why);
        for (int i = 0; i < 20 && !m->stopping; i++) clock_sleep_ns(100000000);
        if (!m->stopping) mosquitto_reconnect_async(m->mosq);
    }
    return NULL;
}

bool rig_mqtt_connect(rig_mqtt *m, char *why, size_t whysz)
{
    int rc = mosquitto_connect_async(m->mosq, m->o.host, m->o.port, 10);
    if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_ERRNO && rc != MOSQ_ERR_EAI) {
        /* ERRNO, EAI: not reachable yet; the loop tries again.  A TLS
         * error (the broker's certificate does not verify) is final. */
        char failure[400];
        describe_failure(m, rc, failure, sizeof failure);
        snprintf(why, whysz, "cannot use the broker %s:%d: %s", m->o.host, m->o.port, failure);
        return false;
    }
    mosquitto_threaded_set(m->mosq, true);
    if ((rc = pthread_create(&m->thread, NULL, loop_main, m)) != 0) {
        snprintf(why, whysz, "cannot start the MQTT thread: %s", strerror(rc));
        return false;
    }
    m->looping = true;
    return true;
}

int rig_mqtt_publish_bytes(rig_mqtt *m, const char *topic, const void *data, size_t len, int qos, bool retain, int *mid)
{
    int id = 0;
    if (len > INT_MAX) return -1;
    int rc = mosquitto_publish(m->mosq, &id, topic, (int)len, data, qos, retain);
    if (mid) *mid = id;
    if (rc != MOSQ_ERR_SUCCESS) {
        LOG_DEBUG("rig", "publish to %s: %s", topic, mosquitto_strerror(rc));
        return -1;
    }
    return 0;
}

int rig_mqtt_publish(rig_mqtt *m, const char *topic, const char *payload, int qos, bool retain)
{
    return rig_mqtt_publish_bytes(m, topic, payload, strlen(payload), qos, retain, NULL);
}

int rig_mqtt_subscribe(rig_mqtt *m, const char *pattern, int qos)
{
    return mosquitto_subscribe(m->mosq, NULL, pattern, qos) == MOSQ_ERR_SUCCESS ? 0 : -1;
}

bool rig_mqtt_connected(rig_mqtt *m)
{
    return m->connected;
}

void rig_mqtt_stop(rig_mqtt *m, const char *last_topic, const char *last_payload)
{
    if (m == NULL) return;
    if (last_topic && m->connected) {
        int mid = 0;
        if (mosquitto_publish(m->mosq, &mid, last_topic, (int)strlen(last_payload), last_payload, 1, true) ==
            MOSQ_ERR_SUCCESS) {
            int64_t until = clock_mono_ns() + 1000000000LL;
            while (m->published != mid && m->connected && clock_mono_ns() < until) clock_sleep_ns(10000000);
        }
    }
    m->stopping = true;
    mosquitto_disconnect(m->mosq);
    if (m->looping) pthread_join(m->thread, NULL);
    mosquitto_destroy(m->mosq);
    free(m);
}

bool rig_read_secret(const char *path, char *out, size_t size, char *why, size_t whysz)
{
    FILE *f = fopen(path, "re");
    if (f == NULL) {
        snprintf(why, whysz, "cannot read %s: %s", path, strerror(errno));
        return false;
    }
    bool ok = fgets(out, (int)size, f) != NULL;
    fclose(f);
    if (ok) out[strcspn(out, "\r\n")] = '\0';
    if (!ok || out[0] == '\0') {
        snprintf(why, whysz, "%s is empty (its first line is the secret)", path);
        return false;
    }
    return true;
}
