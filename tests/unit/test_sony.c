/*
 * Unit tests for the Sony Camera Remote API parsers
 * (lib/backends/sony/liveview.c, jsonrpc.c): the live-view stream fed one
 * byte at a time, in odd splits, with garbage, unknown packet types, a
 * sequence wrap and oversized headers; JSON-RPC replies and errors; getEvent
 * replies as diffs read by type; the device description.
 */
#include "harness.h"

#include <stdlib.h>

#include "backends/sony/jsonrpc.h"
#include "backends/sony/liveview.h"
#include "base/bytebuf.h"

/* A JPEG-looking payload of n bytes (SOI ... EOI) with a marker byte. */
static void put_jpeg_packet(bytebuf *b, uint16_t seq, size_t n, uint8_t mark, uint8_t padding)
{
    uint8_t hdr[SONYLV_HEADER];
    sonylv_put_header(hdr, SONYLV_TYPE_JPEG, seq, 1000u * seq, n, padding, 0);
    bytebuf_put(b, hdr, sizeof hdr);
    uint8_t *p = bytebuf_extend(b, n);
    memset(p, mark, n);
    p[0] = 0xFF, p[1] = 0xD8, p[n - 2] = 0xFF, p[n - 1] = 0xD9;
    memset(bytebuf_extend(b, padding), 0xFF, padding); /* padding that looks like start bytes */
}

static void put_frame_info(bytebuf *b, uint16_t seq, int n)
{
    uint8_t hdr[SONYLV_HEADER], rec[16];
    sonylv_put_header(hdr, SONYLV_TYPE_FRAME_INFO, seq, 0, 16 * (size_t)n, 0, n);
    bytebuf_put(b, hdr, sizeof hdr);
    for (int i = 0; i < n; i++) {
        sonylv_focus_frame f = {(uint16_t)(1000 * i), 2000, (uint16_t)(1000 * i + 500), 2500, 1, 4, 1};
        sonylv_put_frame(rec, &f);
        bytebuf_put(b, rec, 16);
    }
}

typedef struct seen {
    int jpegs, infos, complete;
    uint8_t marks[64];
    uint16_t seqs[64];
    int frames;
    uint16_t first_left;
} seen;

/* Feeds stream in pieces of the sizes in splits[] (cycled), counting packets. */
static void feed(sonylv_parser *p, const bytebuf *stream, const size_t *splits, int n_splits, seen *s)
{
    memset(s, 0, sizeof *s);
    size_t off = 0;
    for (int k = 0; off < stream->len; k++) {
        size_t n = splits[k % n_splits];
        if (n > stream->len - off) n = stream->len - off;
        size_t used = 0;
        while (used < n) {
            sonylv_packet pk;
            bool ready;
            size_t u = sonylv_parse(p, stream->data + off + used, n - used, &pk, &ready);
            used += u;
            if (!ready) continue;
            if (pk.type == SONYLV_TYPE_JPEG && s->jpegs < 64) {
                s->marks[s->jpegs] = pk.payload[pk.payload_size / 2];
                s->seqs[s->jpegs] = pk.sequence;
                s->complete += pk.jpeg_complete;
                s->jpegs++;
            } else if (pk.type == SONYLV_TYPE_FRAME_INFO) {
                s->infos++;
                if (pk.frame_info_known) {
                    s->frames += pk.n_frames;
                    if (pk.n_kept > 1) s->first_left = pk.frames[1].left;
                }
            }
        }
        off += n;
    }
}

static void three_packets(bytebuf *b)
{
    put_jpeg_packet(b, 7, 300, 'a', 5);
    put_frame_info(b, 1, 3);
    put_jpeg_packet(b, 8, 1000, 'b', 0);
    put_jpeg_packet(b, 9, 4, 'c', 255);
}

TEST(liveview_whole_and_byte_by_byte)
{
    bytebuf b = BYTEBUF_INIT;
    three_packets(&b);
    static const size_t whole[] = {1 << 20}, one[] = {1}, odd[] = {7, 1, 135, 3, 999, 2, 136, 13};
    const size_t *splits[] = {whole, one, odd};
    int counts[] = {1, 1, 8};
    for (int i = 0; i < 3; i++) {
        sonylv_parser p;
        sonylv_init(&p, 0);
        seen s;
        feed(&p, &b, splits[i], counts[i], &s);
        CHECK_EQ_INT(s.jpegs, 3);
        CHECK_EQ_INT(s.complete, 3);
        CHECK_EQ_INT(s.marks[0], 'a');
        CHECK_EQ_INT(s.marks[1], 'b');
        CHECK_EQ_INT(s.seqs[2], 9);
        CHECK_EQ_INT(s.infos, 1);
        CHECK_EQ_INT(s.frames, 3);
        CHECK_EQ_INT(s.first_left, 1000);
        CHECK_EQ_INT(p.stats.resyncs, 0);
        CHECK_EQ_INT(p.stats.garbage_bytes, 0);
        CHECK_EQ_INT(p.stats.sequence_gaps, 0);
        sonylv_free(&p);
    }
    bytebuf_free(&b);
}

TEST(liveview_every_split_point)
{
    bytebuf b = BYTEBUF_INIT;
    three_packets(&b);
    for (size_t cut = 1; cut < b.len; cut += 3) {
        size_t splits[] = {cut, b.len};
        sonylv_parser p;
        sonylv_init(&p, 0);
        seen s;
        feed(&p, &b, splits, 2, &s);
        CHECK_EQ_INT(s.jpegs, 3);
        CHECK_EQ_INT(s.infos, 1);
        sonylv_free(&p);
    }
    bytebuf_free(&b);
}

TEST(liveview_resyncs_after_garbage)
{
    bytebuf b = BYTEBUF_INIT;
    static const uint8_t junk[] = {0x00, 0xFF, 0x01, 0x00, 0x24, 0x35, 0xFF, 0xFF, 0x24, 0x35, 0x68};
    bytebuf_put(&b, junk, sizeof junk);
    put_jpeg_packet(&b, 1, 200, 'x', 0);
    /* a header whose start code is wrong, then a cut packet, then a good one */
    uint8_t hdr[SONYLV_HEADER];
    sonylv_put_header(hdr, SONYLV_TYPE_JPEG, 2, 0, 100, 0, 0);
    hdr[10] = 0x00;
    bytebuf_put(&b, hdr, sizeof hdr);
    sonylv_put_header(hdr, SONYLV_TYPE_JPEG, 3, 0, 100, 0, 0);
    bytebuf_put(&b, hdr, 50);
    put_jpeg_packet(&b, 4, 200, 'y', 3);
    static const size_t one[] = {1}, odd[] = {5, 11, 3};
    const size_t *splits[] = {one, odd};
    int counts[] = {1, 3};
    for (int i = 0; i < 2; i++) {
        sonylv_parser p;
        sonylv_init(&p, 0);
        seen s;
        feed(&p, &b, splits[i], counts[i], &s);
        CHECK_EQ_INT(s.jpegs, 2);
        CHECK_EQ_INT(s.marks[0], 'x');
        CHECK_EQ_INT(s.marks[1], 'y');
        CHECK(p.stats.resyncs >= 2);
        CHECK(p.stats.garbage_bytes > 0);
        CHECK_EQ_INT(p.stats.sequence_gaps, 2);
        sonylv_free(&p);
    }
    bytebuf_free(&b);
}

TEST(liveview_unknown_type_skipped_and_size_bounded)
{
    bytebuf b = BYTEBUF_INIT;
    uint8_t hdr[SONYLV_HEADER];
    sonylv_put_header(hdr, 0x11, 1, 0, 500, 7, 0);
    bytebuf_put(&b, hdr, sizeof hdr);
    memset(bytebuf_extend(&b, 507), 0xFF, 507); /* payload full of start bytes */
    put_jpeg_packet(&b, 1, 64, 'k', 0);
    sonylv_put_header(hdr, SONYLV_TYPE_JPEG, 2, 0, 0xFFFFFF, 0, 0); /* over the limit */
    bytebuf_put(&b, hdr, sizeof hdr);
    put_jpeg_packet(&b, 3, 64, 'm', 0);
    sonylv_parser p;
    sonylv_init(&p, 1 << 16);
    static const size_t odd[] = {3, 200, 1};
    seen s;
    feed(&p, &b, odd, 3, &s);
    CHECK_EQ_INT(p.stats.skipped, 1);
    CHECK_EQ_INT(s.jpegs, 2);
    CHECK_EQ_INT(s.marks[1], 'm');
    CHECK(p.stats.resyncs >= 1);
    sonylv_free(&p);
    bytebuf_free(&b);
}

TEST(liveview_sequence_wraps)
{
    bytebuf b = BYTEBUF_INIT;
    put_jpeg_packet(&b, 65534, 10, 'a', 0);
    put_jpeg_packet(&b, 65535, 10, 'b', 0);
    put_jpeg_packet(&b, 0, 10, 'c', 0);
    put_jpeg_packet(&b, 3, 10, 'd', 0); /* two dropped */
    sonylv_parser p;
    sonylv_init(&p, 0);
    static const size_t whole[] = {1 << 20};
    seen s;
    feed(&p, &b, whole, 1, &s);
    CHECK_EQ_INT(s.jpegs, 4);
    CHECK_EQ_INT(p.stats.sequence_gaps, 2);
    sonylv_free(&p);
    bytebuf_free(&b);
}

TEST(liveview_frame_info_bad_layout_not_read)
{
    bytebuf b = BYTEBUF_INIT;
    uint8_t hdr[SONYLV_HEADER];
    sonylv_put_header(hdr, SONYLV_TYPE_FRAME_INFO, 1, 0, 16, 0, 5); /* 5 records in 16 bytes */
    bytebuf_put(&b, hdr, sizeof hdr);
    memset(bytebuf_extend(&b, 16), 0, 16);
    sonylv_put_header(hdr, SONYLV_TYPE_FRAME_INFO, 2, 0, 16, 0, 1);
    hdr[16] = 2; /* version 2.0: not known */
    bytebuf_put(&b, hdr, sizeof hdr);
    memset(bytebuf_extend(&b, 16), 0, 16);
    sonylv_parser p;
    sonylv_init(&p, 0);
    static const size_t whole[] = {1 << 20};
    seen s;
    feed(&p, &b, whole, 1, &s);
    CHECK_EQ_INT(s.infos, 2);
    CHECK_EQ_INT(s.frames, 0);
    sonylv_free(&p);
    bytebuf_free(&b);
}

/* ---- JSON-RPC ---------------------------------------------------------------------- */

static int parse(const char *text, sonyrpc_reply *r) { return sonyrpc_parse_reply(text, strlen(text), r); }

TEST(rpc_request_shape)
{
    char *t = sonyrpc_request("setTouchAFPosition", json_pack("[f,f]", 25.5, 50.0), 3, "1.0");
    CHECK(t != NULL);
    json_t *j = json_loads(t, 0, NULL);
    free(t);
    CHECK(j != NULL);
    CHECK(strcmp(json_string_value(json_object_get(j, "method")), "setTouchAFPosition") == 0);
    CHECK(strcmp(json_string_value(json_object_get(j, "version")), "1.0") == 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "id")), 3);
    CHECK_EQ_INT(json_array_size(json_object_get(j, "params")), 2);
    json_decref(j);
    t = sonyrpc_request("getVersions", NULL, 1, "1.0");
    CHECK(strstr(t, "\"params\":[]") != NULL);
    free(t);
}

TEST(rpc_replies_and_errors)
{
    sonyrpc_reply r;
    CHECK_EQ_INT(parse("{\"result\":[\"http:\\/\\/10.0.0.1:60152\\/liveview.JPG?%211234%21\"],\"id\":2}", &r),
                 SONYRPC_OK);
    CHECK_EQ_INT(r.id, 2);
    CHECK(strcmp(json_string_value(json_array_get(r.result, 0)), "http://10.0.0.1:60152/liveview.JPG?%211234%21") == 0);
    sonyrpc_reply_clear(&r);
    CHECK_EQ_INT(parse("{\"id\":5,\"error\":[40401,\"Camera Not Ready\"]}", &r), SONYRPC_CAMERA_ERROR);
    CHECK_EQ_INT(r.error_code, SONY_ERR_NOT_READY);
    CHECK(strcmp(r.error_message, "Camera Not Ready") == 0);
    CHECK(r.result == NULL);
    CHECK_EQ_INT(parse("{\"results\":[[\"getVersions\",[],[\"string*\"],\"1.0\"]],\"id\":1}", &r), SONYRPC_OK);
    CHECK_EQ_INT(json_array_size(r.result), 1);
    sonyrpc_reply_clear(&r);
    static const char *bad[] = {"", "[]", "{\"id\":1}", "{\"error\":\"x\"}", "{\"result\":{}}", "nul",
                                "{\"error\":[\"1\",\"x\"]}", "{\"result\":[1]} trailing"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(parse(bad[i], &r), SONYRPC_MALFORMED);
        CHECK(r.error_message[0] != '\0');
    }
    /* not terminated: only len bytes are read */
    CHECK_EQ_INT(sonyrpc_parse_reply("{\"result\":[0],\"id\":1}XXXX", 21, &r), SONYRPC_OK);
    sonyrpc_reply_clear(&r);
}

static json_t *load(const char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    if (j == NULL) abort();
    return j;
}

TEST(event_first_full_then_diffs)
{
    sonyrpc_state st;
    sonyrpc_state_init(&st);
    sonyrpc_changes ch;
    json_t *first = load(
        "[{\"type\":\"availableApiList\",\"names\":[\"getVersions\",\"actTakePicture\",\"startLiveview\"]},"
        "{\"type\":\"cameraStatus\",\"cameraStatus\":\"IDLE\"},null,{\"type\":\"liveviewStatus\",\"liveviewStatus\":true},"
        "null,[],[],null,null,null,"
        "[{\"type\":\"storageInformation\",\"storageID\":\"Memory Card 1\",\"recordTarget\":true,\"numberOfRecordableImages\":812}],"
        "null,null,null,null,null,null,null,"
        "{\"type\":\"exposureMode\",\"currentExposureMode\":\"Program Auto\",\"exposureModeCandidates\":[\"Intelligent Auto\",\"Program Auto\"]},"
        "null,null,null,null,null,null,"
        "{\"type\":\"exposureCompensation\",\"currentExposureCompensation\":0,\"maxExposureCompensation\":6,\"minExposureCompensation\":-6,\"stepIndexOfExposureCompensation\":1},"
        "null,null,null,"
        "{\"type\":\"isoSpeedRate\",\"currentIsoSpeedRate\":\"AUTO\",\"isoSpeedRateCandidates\":[\"AUTO\",\"100\",\"200\"]}]");
    CHECK(sonyrpc_event_apply(&st, first, &ch));
    json_decref(first);
    CHECK(ch.apis);
    CHECK(sonyrpc_api_listed(&st, "actTakePicture"));
    CHECK(!sonyrpc_api_listed(&st, "setFNumber"));
    CHECK(strcmp(st.fields[SONYF_CAMERA_STATUS].current, "IDLE") == 0);
    CHECK(strcmp(st.fields[SONYF_SHOTS_LEFT].current, "812") == 0);
    CHECK(strcmp(st.fields[SONYF_ISO].current, "AUTO") == 0);
    CHECK_EQ_INT(st.fields[SONYF_ISO].n_candidates, 3);
    CHECK_EQ_INT(st.fields[SONYF_EXPOSURE_COMPENSATION].n_candidates, 13);
    CHECK(strcmp(st.fields[SONYF_EXPOSURE_COMPENSATION].candidates[0], "-6") == 0);
    CHECK(ch.fields & (1u << SONYF_ISO));
    CHECK_EQ_INT(ch.n_urls, 0);

    /* a diff: only the status and a shot; the positions differ (another
     * version's layout), nulls and [] change nothing */
    json_t *diff = load("[null,[],[{\"type\":\"takePicture\",\"takePictureUrl\":[\"http:\\/\\/h\\/p.JPG\"]}],"
                        "null,{\"type\":\"cameraStatus\",\"cameraStatus\":\"StillSaving\"},"
                        "{\"type\":\"isoSpeedRate\",\"isoSpeedRate\":\"AUTO\",\"candidate\":[\"AUTO\",\"100\",\"200\"]}]");
    CHECK(sonyrpc_event_apply(&st, diff, &ch));
    json_decref(diff);
    CHECK(!ch.apis);
    CHECK_EQ_INT(ch.fields, 1u << SONYF_CAMERA_STATUS);
    CHECK_EQ_INT(ch.n_urls, 1);
    CHECK(strcmp(ch.urls[0], "http://h/p.JPG") == 0);
    CHECK(strcmp(st.fields[SONYF_ISO].current, "AUTO") == 0);
    CHECK(sonyrpc_api_listed(&st, "startLiveview"));
    CHECK(strcmp(st.fields[SONYF_EXPOSURE_MODE].current, "Program Auto") == 0);

    /* wrong shapes are ignored, never a crash */
    json_t *junk = load("[1,\"x\",{\"type\":5},{\"type\":\"cameraStatus\"},{\"type\":\"batteryInfo\",\"batteryInfo\":[{\"levelNumer\":9,\"levelDenom\":0}]},"
                        "[{\"type\":\"takePicture\",\"takePictureUrl\":\"notalist\"}],{\"type\":\"availableApiList\",\"names\":7}]");
    CHECK(sonyrpc_event_apply(&st, junk, &ch));
    json_decref(junk);
    CHECK_EQ_INT(ch.fields, 0);
    CHECK(!ch.apis);
    CHECK(!sonyrpc_event_apply(&st, NULL, &ch));
}

TEST(available_and_versions)
{
    sonyrpc_value v;
    json_t *r = load("[\"1\\/60\",[\"1\\/30\",\"1\\/60\",\"1\\/125\",\"0.8\\\"\"]]");
    CHECK(sonyrpc_read_available(r, &v));
    json_decref(r);
    CHECK(strcmp(v.current, "1/60") == 0);
    CHECK_EQ_INT(v.n_candidates, 4);
    CHECK(strcmp(v.candidates[3], "0.8\"") == 0);
    r = load("[3,9,-9,1]");
    CHECK(sonyrpc_read_available(r, &v));
    json_decref(r);
    CHECK_EQ_INT(v.n_candidates, 19);
    CHECK(strcmp(v.current, "3") == 0);
    r = load("[{\"whiteBalanceMode\":\"Auto WB\",\"colorTemperature\":-1},[{\"whiteBalanceMode\":\"Auto WB\",\"colorTemperatureRange\":[]},{\"whiteBalanceMode\":\"Daylight\",\"colorTemperatureRange\":[]}]]");
    CHECK(sonyrpc_read_available(r, &v));
    json_decref(r);
    CHECK(strcmp(v.candidates[1], "Daylight") == 0);
    r = load("[[1,2]]");
    CHECK(!sonyrpc_read_available(r, &v));
    json_decref(r);
    /* still sizes: {aspect, size} pairs read as "aspect size"; a pair with
     * a part missing or a space in it is not a candidate */
    r = load("[{\"aspect\":\"3:2\",\"size\":\"24M\"},[{\"aspect\":\"3:2\",\"size\":\"24M\"},"
             "{\"aspect\":\"16:9\",\"size\":\"5.1M\"},{\"aspect\":\"1:1\"},{\"aspect\":\"a b\",\"size\":\"1M\"}]]");
    CHECK(sonyrpc_read_available(r, &v));
    json_decref(r);
    CHECK(strcmp(v.current, "3:2 24M") == 0);
    CHECK_EQ_INT(v.n_candidates, 2);
    CHECK(strcmp(v.candidates[1], "16:9 5.1M") == 0);
    r = load("[{\"aspect\":\"3:2\"},[]]");
    CHECK(!sonyrpc_read_available(r, &v));
    json_decref(r);
    /* getEvent slot 14: currentAspect and currentSize */
    sonyrpc_state st;
    sonyrpc_state_init(&st);
    sonyrpc_changes ch;
    r = load("[null,{\"type\":\"stillSize\",\"checkAvailability\":true,\"currentAspect\":\"4:3\",\"currentSize\":\"18M\"},"
             "{\"type\":\"stillSize\",\"currentAspect\":7}]");
    CHECK(sonyrpc_event_apply(&st, r, &ch));
    json_decref(r);
    CHECK(strcmp(st.fields[SONYF_STILL_SIZE].current, "4:3 18M") == 0);
    CHECK_EQ_INT(ch.fields, 1u << SONYF_STILL_SIZE);

    char ver[16];
    r = load("[[\"1.0\",\"1.1\",\"1.2\",\"1.3\",\"1.4\"]]");
    sonyrpc_pick_version(r, "1.2", ver, sizeof ver);
    CHECK(strcmp(ver, "1.2") == 0);
    json_decref(r);
    r = load("[[\"1.1\",\"1.0\",\"x\",\"1.10\"]]");
    sonyrpc_pick_version(r, "1.4", ver, sizeof ver);
    CHECK(strcmp(ver, "1.1") == 0);
    json_decref(r);
    sonyrpc_pick_version(NULL, "1.4", ver, sizeof ver);
    CHECK(strcmp(ver, "1.0") == 0);
}

TEST(device_description)
{
    static const char dd[] =
        "<?xml version=\"1.0\"?>\n<root xmlns=\"urn:schemas-upnp-org:device-1-0\">\n"
        "<!-- <friendlyName>comment</friendlyName> -->\n"
        "<device><deviceType>urn:schemas-upnp-org:device:Basic:1</deviceType>\n"
        "<friendlyName>ILCE-6000 &amp; &#x41;</friendlyName><manufacturer>Sony Corporation</manufacturer>\n"
        "<modelName>SonyImagingDevice</modelName><UDN>uuid:0000-1</UDN>\n"
        "<av:X_ScalarWebAPI_DeviceInfo xmlns:av=\"urn:schemas-sony-com:av\">"
        "<av:X_ScalarWebAPI_Version>1.0</av:X_ScalarWebAPI_Version><av:X_ScalarWebAPI_ServiceList>"
        "<av:X_ScalarWebAPI_Service><av:X_ScalarWebAPI_ServiceType>guide</av:X_ScalarWebAPI_ServiceType>"
        "<av:X_ScalarWebAPI_ActionList_URL>http://192.168.122.1:8080/sony</av:X_ScalarWebAPI_ActionList_URL>"
        "<av:X_ScalarWebAPI_AccessType/></av:X_ScalarWebAPI_Service>"
        "<av:X_ScalarWebAPI_Service><av:X_ScalarWebAPI_ServiceType>accessControl</av:X_ScalarWebAPI_ServiceType>"
        "<av:X_ScalarWebAPI_ActionList_URL/></av:X_ScalarWebAPI_Service>"
        "<av:X_ScalarWebAPI_Service><av:X_ScalarWebAPI_ServiceType> camera </av:X_ScalarWebAPI_ServiceType>"
        "<av:X_ScalarWebAPI_ActionList_URL>http://192.168.122.1:8080/sony/</av:X_ScalarWebAPI_ActionList_URL>"
        "</av:X_ScalarWebAPI_Service></av:X_ScalarWebAPI_ServiceList></av:X_ScalarWebAPI_DeviceInfo>"
        "</device></root>\n";
    sonydd_info info;
    CHECK(sonydd_parse(dd, sizeof dd - 1, &info));
    CHECK(strcmp(info.friendly_name, "ILCE-6000 & A") == 0);
    CHECK(strcmp(info.udn, "uuid:0000-1") == 0);
    CHECK_EQ_INT(info.n_services, 2);
    char ep[300];
    CHECK(sonydd_endpoint(&info, "camera", ep, sizeof ep));
    CHECK(strcmp(ep, "http://192.168.122.1:8080/sony/camera") == 0);
    CHECK(!sonydd_endpoint(&info, "accessControl", ep, sizeof ep));
    CHECK(!sonydd_endpoint(&info, "system", ep, sizeof ep));
    /* every truncation is safe and finds no more than the whole */
    for (size_t n = 0; n < sizeof dd - 1; n++) {
        sonydd_parse(dd, n, &info);
        CHECK(info.n_services <= 2);
    }
    CHECK(!sonydd_parse("<root><a>", 9, &info));
}

TESTS(HARNESS_ENTRY(liveview_whole_and_byte_by_byte),
      HARNESS_ENTRY(liveview_every_split_point),
      HARNESS_ENTRY(liveview_resyncs_after_garbage),
      HARNESS_ENTRY(liveview_unknown_type_skipped_and_size_bounded),
      HARNESS_ENTRY(liveview_sequence_wraps),
      HARNESS_ENTRY(liveview_frame_info_bad_layout_not_read),
      HARNESS_ENTRY(rpc_request_shape),
      HARNESS_ENTRY(rpc_replies_and_errors),
      HARNESS_ENTRY(event_first_full_then_diffs),
      HARNESS_ENTRY(available_and_versions),
      HARNESS_ENTRY(device_description))
