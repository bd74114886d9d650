/*
 * test_rig: the camera rig's pure parts and the node's outbox
 * (app/rig/): messages built and parsed back, what the parsers refuse,
 * the broker URL, ids, the transfer's Content-Range and path, the
 * clock-sync readers on real chronyc and pmc output, and the outbox
 * (a shot claimed twice fires once, a crash's leftovers found again,
 * the oldest ready shot sent first).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "rig/clocksync.h"
#include "rig/outbox.h"
#include "rig/proto.h"
#include "rig/transfer.h"
#include "tether/tether.h"

TEST(commands_round_trip)
{
    rig_cmd c = {.op = RIG_OP_FIRE, .n_cameras = 2, .fire_at_ns = 1796538052134550973LL};
    snprintf(c.req, sizeof c.req, "r1");
    snprintf(c.cameras[0], sizeof c.cameras[0], "canon-eos-550d");
    snprintf(c.cameras[1], sizeof c.cameras[1], "d750");
    snprintf(c.shot, sizeof c.shot, "20261206-071502-123-7");
    char *text = rig_cmd_build(&c), why[256];
    rig_cmd back;
    CHECK(text && rig_cmd_parse(text, strlen(text), &back, why, sizeof why));
    free(text);
    CHECK_EQ_INT(back.op, RIG_OP_FIRE);
    CHECK_EQ_INT(back.n_cameras, 2);
    CHECK(strcmp(back.cameras[1], "d750") == 0 && strcmp(back.shot, c.shot) == 0);
    CHECK_EQ_INT(back.fire_at_ns, c.fire_at_ns);
}

TEST(bad_commands_are_refused_with_a_reason)
{
    static const char *const bad[] = {
        "not json", "{\"v\":2,\"req\":\"r\",\"op\":\"fire\",\"shot\":\"s\"}",
        "{\"v\":1,\"req\":\"r\",\"op\":\"explode\"}", "{\"v\":1,\"req\":\"r\",\"op\":\"fire\",\"shot\":\"../x\"}",
        "{\"v\":1,\"req\":\"r\",\"op\":\"fire\",\"shot\":\"s\",\"cameras\":[\"A/B\"]}",
        "{\"v\":1,\"req\":\"r\",\"op\":\"fire\",\"shot\":\"s\",\"fire_at_ns\":-5}",
        "{\"v\":1,\"req\":\"r\",\"op\":\"set\",\"setting\":\"iso\"}", "[1,2]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rig_cmd c;
        char why[256] = "";
        CHECK(!rig_cmd_parse(bad[i], strlen(bad[i]), &c, why, sizeof why));
        CHECK(why[0] != '\0');
    }
}

TEST(status_keeps_cameras_and_clock)
{
    rig_status s = {.online = true, .n_cameras = 1, .clock_offset_ms = NAN, .outbox = 3};
    snprintf(s.node, sizeof s.node, "left");
    snprintf(s.cameras[0].id, sizeof s.cameras[0].id, "canon-eos-550d");
    snprintf(s.cameras[0].model, sizeof s.cameras[0].model, "Canon EOS 550D");
    s.cameras[0].connected = true;
    snprintf(s.clock_state, sizeof s.clock_state, "unknown");
    char *text = rig_status_build(&s), why[256];
    rig_status back;
    CHECK(text && rig_status_parse(text, strlen(text), &back, why, sizeof why));
    free(text);
    CHECK(back.online && back.n_cameras == 1 && back.cameras[0].connected && back.outbox == 3);
    CHECK(strcmp(back.clock_state, "unknown") == 0 && isnan(back.clock_offset_ms));
    /* the last will */
    const char *will = "{\"v\":1,\"node\":\"left\",\"online\":false}";
    CHECK(rig_status_parse(will, strlen(will), &back, why, sizeof why) && !back.online);
}

TEST(broker_urls)
{
    char host[64], why[256];
    int port;
    bool tls;
    CHECK(rig_broker_parse("mqtt://10.0.0.1:1884", host, sizeof host, &port, &tls, why, sizeof why));
    CHECK(strcmp(host, "10.0.0.1") == 0 && port == 1884 && !tls);
    CHECK(rig_broker_parse("mqtt://broker.local", host, sizeof host, &port, &tls, why, sizeof why) && port == 1883);
    CHECK(rig_broker_parse("mqtts://b:8884", host, sizeof host, &port, &tls, why, sizeof why) && tls && port == 8884);
    CHECK(strcmp(host, "b") == 0);
    CHECK(rig_broker_parse("mqtts://broker.local/", host, sizeof host, &port, &tls, why, sizeof why) && tls && port == 8883);
    CHECK(!rig_broker_parse("ws://b:8883", host, sizeof host, &port, &tls, why, sizeof why));
    CHECK(strstr(why, "mqtts://") != NULL);
    CHECK(!rig_broker_parse("mqtt://user:pw@b", host, sizeof host, &port, &tls, why, sizeof why));
    CHECK(strstr(why, "--user") != NULL);
    CHECK(!rig_broker_parse("mqtts://user:pw@b", host, sizeof host, &port, &tls, why, sizeof why));
    CHECK(!rig_broker_parse("mqtt://b:0", host, sizeof host, &port, &tls, why, sizeof why));
    CHECK(!rig_broker_parse("mqtt://:1883", host, sizeof host, &port, &tls, why, sizeof why));
    CHECK(!rig_broker_parse("mqtts://", host, sizeof host, &port, &tls, why, sizeof why));
}

TEST(ids_and_topics)
{
    char slug[40], node[40];
    rig_slug("Canon EOS 550D", slug, sizeof slug);
    CHECK(strcmp(slug, "canon-eos-550d") == 0);
    CHECK(rig_name_ok("n1") && !rig_name_ok("N1") && !rig_name_ok("") && !rig_name_ok("a/b"));
    CHECK(rig_shot_ok("20261206-1.a") && !rig_shot_ok(".hidden") && !rig_shot_ok("a/b"));
    CHECK(rig_file_ok("IMG_0001.CR2") && !rig_file_ok("..") && !rig_file_ok("a b"));
    const char *what = rig_topic_parse("tether/nodes/left/reply", node, sizeof node);
    CHECK(what && strcmp(what, "reply") == 0 && strcmp(node, "left") == 0);
    CHECK(rig_topic_parse("tether/nodes/Left/reply", node, sizeof node) == NULL);
    CHECK(rig_topic_parse("tether/nodes/left/a/b", node, sizeof node) == NULL);
}

TEST(live_view_leases_topics_and_frames)
{
    rig_cmd c = {.op = RIG_OP_LIVE, .n_cameras = 1, .lease_ms = 6000}, back;
    snprintf(c.req, sizeof c.req, "live-3");
    snprintf(c.cameras[0], sizeof c.cameras[0], "canon-eos-550d");
    char *text = rig_cmd_build(&c), why[256];
    CHECK(text && strstr(text, "\"op\":\"live\"") && strstr(text, "\"lease_ms\":6000"));
    CHECK(rig_cmd_parse(text, strlen(text), &back, why, sizeof why));
    CHECK(back.op == RIG_OP_LIVE && back.lease_ms == 6000 && strcmp(back.cameras[0], "canon-eos-550d") == 0);
    free(text);
    const char *bad[] = {
        "{\"v\":1,\"req\":\"l\",\"op\":\"live\"}",                      /* no lease */
        "{\"v\":1,\"req\":\"l\",\"op\":\"live\",\"lease_ms\":-1}",
        "{\"v\":1,\"req\":\"l\",\"op\":\"live\",\"lease_ms\":30001}",
        "{\"v\":1,\"req\":\"l\",\"op\":\"live\",\"lease_ms\":\"6000\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = '\0';
        CHECK(!rig_cmd_parse(bad[i], strlen(bad[i]), &back, why, sizeof why));
        CHECK(strstr(why, "lease_ms") != NULL);
    }
    char topic[128], node[40], cam[40];
    rig_live_topic(topic, sizeof topic, "left", "d750");
    CHECK(strcmp(topic, "tether/nodes/left/live/d750") == 0);
    CHECK(rig_live_topic_parse(topic, node, sizeof node, cam, sizeof cam));
    CHECK(strcmp(node, "left") == 0 && strcmp(cam, "d750") == 0);
    CHECK(rig_topic_parse(topic, node, sizeof node) == NULL); /* not a message topic */
    CHECK(!rig_live_topic_parse("tether/nodes/left/live/", node, sizeof node, cam, sizeof cam));
    CHECK(!rig_live_topic_parse("tether/nodes/left/live/D750", node, sizeof node, cam, sizeof cam));
    CHECK(!rig_live_topic_parse("tether/nodes/left/live/a/b", node, sizeof node, cam, sizeof cam));
    CHECK(!rig_live_topic_parse("tether/nodes/left/reply", node, sizeof node, cam, sizeof cam));
    static const unsigned char jpeg[] = {0xFF, 0xD8, 0xFF, 0xE0, 0, 16};
    CHECK(rig_frame_ok(jpeg, sizeof jpeg, why, sizeof why));
    CHECK(!rig_frame_ok("GIF89a", 6, why, sizeof why) && strstr(why, "not a JPEG"));
    CHECK(!rig_frame_ok(jpeg, 3, why, sizeof why));
    CHECK(!rig_frame_ok(jpeg, (size_t)RIG_FRAME_MAX + 1, why, sizeof why) && strstr(why, "at most"));
}

TEST(transfer_headers_and_paths)
{
    uint64_t a, b, t;
    CHECK(rig_content_range_parse("bytes 0-1048575/2000000", &a, &b, &t) && a == 0 && b == 1048575 && t == 2000000);
    CHECK(!rig_content_range_parse("bytes 5-4/10", &a, &b, &t));
    CHECK(!rig_content_range_parse("bytes 0-10/10", &a, &b, &t));
    CHECK(!rig_content_range_parse("bytes 0-1/*", &a, &b, &t));
    CHECK(!rig_content_range_parse("bytes -1-2/3", &a, &b, &t));
    rig_file_id id;
    CHECK(rig_file_path_parse("n1/canon-eos-550d/s1/IMG_0001.jpg", &id));
    CHECK(strcmp(id.file, "IMG_0001.jpg") == 0);
    CHECK(!rig_file_path_parse("n1/canon-eos-550d/s1/../x", &id));
    CHECK(!rig_file_path_parse("n1/canon-eos-550d/s1", &id));
    CHECK(!rig_file_path_parse("n1/canon-eos-550d/s1/a/b", &id));
    CHECK(rig_sha256_ok("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    CHECK(!rig_sha256_ok("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"));
}

TEST(sha256_of_a_file)
{
    char path[] = "/tmp/test_rig_XXXXXX", hex[65];
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK(write(fd, "abc", 3) == 3);
    close(fd);
    CHECK(rig_sha256_file(path, hex) == 0);
    unlink(path);
    CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
}

TEST(clock_sync_from_chronyc_and_pmc)
{
    const char *chrony = "Reference ID    : C0A80001 (192.168.0.1)\nStratum         : 3\n"
                         "System time     : 0.000231450 seconds slow of NTP time\n"
                         "Last offset     : -0.000012345 seconds\nLeap status     : Normal\n";
    clocksync c = {0};
    CHECK(clocksync_parse_chronyc(chrony, &c, 1.0));
    CHECK(strcmp(c.state, "synced") == 0 && strcmp(c.source, "chronyc") == 0);
    CHECK_NEAR(c.offset_ms, -0.23145, 1e-6);
    CHECK(clocksync_parse_chronyc(chrony, &c, 0.1) && strcmp(c.state, "unsynced") == 0);
    const char *unsync = "System time     : 0.000000000 seconds fast of NTP time\nLeap status     : Not synchronised\n";
    CHECK(clocksync_parse_chronyc(unsync, &c, 1.0) && strcmp(c.state, "unsynced") == 0);
    const char *pmc = "sending: GET TIME_STATUS_NP\n\t7cfe90.fffe.1b3a2c-0 seq 0 RESPONSE MANAGEMENT TIME_STATUS_NP\n"
                      "\t\tmaster_offset              -1520\n\t\tingress_time               0\n"
                      "\t\tgmPresent                  true\n";
    CHECK(clocksync_parse_pmc(pmc, &c, 1.0) && strcmp(c.state, "synced") == 0);
    CHECK_NEAR(c.offset_ms, -0.00152, 1e-9);
    CHECK(!clocksync_parse_chronyc("506 Cannot talk to daemon\n", &c, 1.0));
    CHECK(!clocksync_parse_pmc("", &c, 1.0));
}

static void make_file(const char *dir, const char *name)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs("jpeg", f);
        fclose(f);
    }
}

TEST(outbox_fires_once_and_survives_a_crash)
{
    char dir[] = "/tmp/test_rig_outbox_XXXXXX", why[256], shot[4400];
    CHECK(mkdtemp(dir) != NULL);
    outbox *o = outbox_open(dir, why, sizeof why);
    CHECK(o != NULL);
    CHECK_EQ_INT(outbox_claim(o, "cam", "s1"), TETHER_OK);
    CHECK_EQ_INT(outbox_claim(o, "cam", "s1"), TETHER_ERR_EXISTS); /* a command delivered twice */
    CHECK_EQ_INT(outbox_shot_dir(o, "cam", "s1", shot, sizeof shot), TETHER_OK);
    make_file(shot, "IMG_0001.jpg");
    make_file(shot, ".IMG_0002.jpg.tmp-abc"); /* a write interrupted: not sent */
    CHECK_EQ_INT(outbox_ready(o, "cam", "s1"), TETHER_OK);
    CHECK_EQ_INT(outbox_claim(o, "cam", "s2"), TETHER_OK);
    CHECK_EQ_INT(outbox_shot_dir(o, "cam", "s2", shot, sizeof shot), TETHER_OK);
    make_file(shot, "IMG_0003.jpg"); /* captured, then killed before .ready */
    outbox_close(o);

    o = outbox_open(dir, why, sizeof why);
    CHECK(o != NULL);
    CHECK_EQ_INT(outbox_count(o), 2);
    CHECK_EQ_INT(outbox_claim(o, "cam", "s2"), TETHER_ERR_EXISTS);
    outbox_entry e;
    CHECK(outbox_next(o, 0, &e));
    CHECK(strcmp(e.shot, "s1") == 0); /* the oldest first */
    char names[8][129];
    CHECK_EQ_INT(outbox_files(&e, names, 8), 1);
    CHECK(strcmp(names[0], "IMG_0001.jpg") == 0);
    CHECK_EQ_INT(outbox_done(o, &e), TETHER_OK);
    CHECK(outbox_next(o, 0, &e) && strcmp(e.shot, "s2") == 0);
    CHECK_EQ_INT(outbox_done(o, &e), TETHER_OK);
    CHECK(!outbox_next(o, 10, &e));
    CHECK_EQ_INT(outbox_count(o), 0);
    outbox_close(o);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

TESTS(HARNESS_ENTRY(commands_round_trip), HARNESS_ENTRY(bad_commands_are_refused_with_a_reason),
      HARNESS_ENTRY(status_keeps_cameras_and_clock), HARNESS_ENTRY(broker_urls), HARNESS_ENTRY(ids_and_topics),
      HARNESS_ENTRY(live_view_leases_topics_and_frames),
      HARNESS_ENTRY(transfer_headers_and_paths), HARNESS_ENTRY(sha256_of_a_file),
      HARNESS_ENTRY(clock_sync_from_chronyc_and_pmc), HARNESS_ENTRY(outbox_fires_once_and_survives_a_crash))
