/*
 * fuzz_rig_proto: libFuzzer target for the camera rig's MQTT messages
 * (app/rig/proto.c): a node parses the studio's commands and
 * announcement, the studio parses the nodes' statuses, replies and
 * events, all from a broker any rig member may publish to; the topic
 * (a live-view frame's too) and broker URL parsers; and the check of a
 * live-view frame.
 *
 * Input: the first byte picks the parser, the rest is the payload.
 * Checked beyond "no crash, no leak": what a parser accepts is built
 * again and parses to the same ids (a round trip), every id it accepts
 * passes the id rules, and the strings it fills are terminated.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rig/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const uint8_t pick = data[0];
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    char why[256];
    switch (pick % 8) {
    case 0: {
        rig_cmd c, again;
        if (!rig_cmd_parse(p, n, &c, why, sizeof why)) break;
        for (int i = 0; i < c.n_cameras; i++) check(rig_name_ok(c.cameras[i]));
        if (c.op == RIG_OP_FIRE) check(rig_shot_ok(c.shot) && c.fire_at_ns >= 0);
        char *text = rig_cmd_build(&c);
        check(text != NULL);
        check(rig_cmd_parse(text, strlen(text), &again, why, sizeof why));
        if (c.op == RIG_OP_LIVE) check(c.lease_ms >= 0 && c.lease_ms <= RIG_LEASE_MAX_MS);
        check(again.op == c.op && again.n_cameras == c.n_cameras && strcmp(again.req, c.req) == 0 &&
              strcmp(again.shot, c.shot) == 0 && again.fire_at_ns == c.fire_at_ns && again.lease_ms == c.lease_ms);
        free(text);
        break;
    }
    case 1: {
        rig_reply r, again;
        if (!rig_reply_parse(p, n, &r, why, sizeof why)) break;
        check(r.n_files >= 0 && r.n_files <= 4);
        for (int i = 0; i < r.n_files; i++) check(rig_file_ok(r.files[i]));
        char *text = rig_reply_build(&r);
        check(text != NULL);
        check(rig_reply_parse(text, strlen(text), &again, why, sizeof why));
        check(again.ok == r.ok && again.fired_ns == r.fired_ns && again.n_files == r.n_files);
        free(text);
        rig_reply_clear(&again);
        rig_reply_clear(&r);
        break;
    }
    case 2: {
        rig_status s, again;
        if (!rig_status_parse(p, n, &s, why, sizeof why)) break;
        check(rig_name_ok(s.node) && s.n_cameras >= 0 && s.n_cameras <= RIG_MAX_CAMERAS);
        for (int i = 0; i < s.n_cameras; i++) check(rig_name_ok(s.cameras[i].id));
        char *text = rig_status_build(&s);
        check(text != NULL);
        check(rig_status_parse(text, strlen(text), &again, why, sizeof why));
        check(strcmp(again.node, s.node) == 0 && again.online == s.online);
        free(text);
        break;
    }
    case 3: {
        rig_event e;
        if (rig_event_parse(p, n, &e, why, sizeof why)) check(!e.camera[0] || rig_name_ok(e.camera));
        break;
    }
    case 4: {
        bool online;
        char url[256];
        if (rig_studio_parse(p, n, &online, url, sizeof url) && online) check(strncmp(url, "http://", 7) == 0);
        break;
    }
    case 7: /* a live-view frame */
        if (rig_frame_ok(p, n, why, sizeof why)) check(n >= 4 && n <= RIG_FRAME_MAX && p[0] == 0xFF && p[1] == 0xD8);
        else check(why[0] != '\0');
        break;
    default: { /* a topic or a broker URL: text */
        char *text = malloc(n + 1);
        if (text == NULL) return 0;
        memcpy(text, p, n);
        text[n] = '\0';
        char node[RIG_NAME_MAX + 1], cam[RIG_NAME_MAX + 1], host[256];
        int port;
        bool tls;
        if (pick % 8 == 5) {
            const char *what = rig_topic_parse(text, node, sizeof node);
            if (what) check(rig_name_ok(node) && strchr(what, '/') == NULL);
            if (rig_live_topic_parse(text, node, sizeof node, cam, sizeof cam)) {
                char again[128];
                rig_live_topic(again, sizeof again, node, cam);
                check(rig_name_ok(node) && rig_name_ok(cam) && strcmp(again, text) == 0);
            }
        } else if (rig_broker_parse(text, host, sizeof host, &port, &tls, why, sizeof why)) {
            check(host[0] && port >= 1 && port <= 65535 && (tls == (strncmp(text, "mqtts://", 8) == 0)));
        }
        free(text);
        break;
    }
    }
    return 0;
}
