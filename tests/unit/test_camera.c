/*
 * Unit tests for the simulated camera core (sim/ptpip/camera.c), driven
 * through simcam_handle without sockets: session rules, error codes, Canon
 * EOS events and properties, live view, focus, capture and transfer.
 * The same behaviour is tested end to end with the real gphoto2 in
 * tests/integration.
 */
#include "harness.h"

#include <math.h>

#include "base/clock.h"
#include "base/endian.h"
#include "image/jpeg.h"
#include "ptpip/camera.h"
#include "ptpip/ptp.h"
#include "sharpness.h"

static simcam *make(const char *persona_id, double focus_at, double lens_start)
{
    simcam_options o;
    simcam_default_options(&o);
    o.persona = persona_find(persona_id);
    o.render.lv_width = 264;
    o.render.lv_height = 176;
    o.render.photo_width = 320;
    o.render.photo_height = 212;
    o.lv_fps = 0;
    o.card_files = 5;
    o.raw_size = 100000;
    o.focus_at = focus_at;
    o.lens_start = lens_start;
    return simcam_new(&o);
}

static uint16_t op(simcam *c, simcam_reply *rp, uint16_t code, int n, uint32_t p0, uint32_t p1,
                   uint32_t p2)
{
    static uint32_t tid = 1;
    simcam_request rq = {.opcode = code, .tid = tid++, .nparams = n, .params = {p0, p1, p2}};
    simcam_reply_clear(rp);
    simcam_handle(c, &rq, rp);
    return rp->code;
}

static uint16_t op_data(simcam *c, simcam_reply *rp, uint16_t code, uint32_t p0, const void *data,
                        size_t len)
{
    simcam_request rq = {.opcode = code, .tid = 99, .nparams = 1, .params = {p0},
                         .has_data = true, .data = data, .data_len = len};
    simcam_reply_clear(rp);
    simcam_handle(c, &rq, rp);
    return rp->code;
}

static double state_num(simcam *c, const char *key)
{
    json_t *st = simcam_state(c);
    double v = json_number_value(json_object_get(st, key));
    json_decref(st);
    return v;
}

TEST(session_rules)
{
    simcam *c = make("generic", 0.5, 0.5);
    simcam_reply rp;
    simcam_reply_init(&rp);
    CHECK_EQ_INT(op(c, &rp, PTP_OP_GetStorageIDs, 0, 0, 0, 0), PTP_RC_SessionNotOpen);
    CHECK_EQ_INT(op(c, &rp, PTP_OP_GetDeviceInfo, 0, 0, 0, 0), PTP_RC_OK);
    CHECK(rp.data_in && rp.data.len > 50);
    CHECK_EQ_INT(op(c, &rp, PTP_OP_OpenSession, 1, 0, 0, 0), PTP_RC_InvalidParameter);
    CHECK_EQ_INT(op(c, &rp, PTP_OP_OpenSession, 1, 7, 0, 0), PTP_RC_OK);
    CHECK_EQ_INT(op(c, &rp, PTP_OP_OpenSession, 1, 8, 0, 0), PTP_RC_SessionAlreadyOpened);
    CHECK_EQ_INT(rp.params[0], 7);
    CHECK_EQ_INT(op(c, &rp, 0x9999, 0, 0, 0, 0), PTP_RC_OperationNotSupported);
    CHECK_EQ_INT(op(c, &rp, PTP_OP_EOS_GetEvent, 0, 0, 0, 0), PTP_RC_OperationNotSupported);
    CHECK_EQ_INT(op(c, &rp, PTP_OP_GetStorageInfo, 1, 0x20001, 0, 0), PTP_RC_InvalidStorageId);
    CHECK_EQ_INT(op(c, &rp, PTP_OP_GetObjectInfo, 1, 0xDEAD, 0, 0), PTP_RC_InvalidObjectHandle);
    CHECK(!rp.data_in);
    CHECK_EQ_INT(op(c, &rp, PTP_OP_GetDevicePropDesc, 1, 0x5999, 0, 0), PTP_RC_DevicePropNotSupported);
    CHECK_EQ_INT(op(c, &rp, PTP_OP_GetObjectHandles, 3, 0xFFFFFFFF, 0, 12345), PTP_RC_InvalidParentObject);
    CHECK_EQ_INT(op(c, &rp, PTP_OP_CloseSession, 0, 0, 0, 0), PTP_RC_OK);
    CHECK_EQ_INT(op(c, &rp, PTP_OP_GetStorageIDs, 0, 0, 0, 0), PTP_RC_SessionNotOpen);
    simcam_reply_clear(&rp);
    bytebuf_free(&rp.data);
    simcam_free(c);
}

TEST(objects_and_partial_reads)
{
    simcam *c = make("canon-eos", 0.5, 0.5);
    simcam_reply rp;
    simcam_reply_init(&rp);
    op(c, &rp, PTP_OP_OpenSession, 1, 1, 0, 0);
    CHECK_EQ_INT(op(c, &rp, PTP_OP_GetObjectHandles, 3, 0xFFFFFFFF, 0, 0), PTP_RC_OK);
    uint32_t n = le32_read(rp.data.data);
    CHECK_EQ_INT(n, 2 + 5); /* DCIM, 100CANON and five files */
    uint32_t last = le32_read(rp.data.data + 4 * n);
    CHECK_EQ_INT(op(c, &rp, PTP_OP_GetObject, 1, last, 0, 0), PTP_RC_OK);
    uint64_t size = rp.content_len;
    uint8_t *whole = malloc(size);
    card_content_read(&rp.content, 0, whole, size);
    CHECK(whole[0] == 0xFF && whole[1] == 0xD8 && whole[size - 2] == 0xFF && whole[size - 1] == 0xD9);
    int w, h;
    CHECK(img_jpeg_size(whole, size, &w, &h) == 0);
    CHECK_EQ_INT(w, 320);
    CHECK_EQ_INT(op(c, &rp, PTP_OP_GetPartialObject, 3, last, 1000, 5000), PTP_RC_OK);
    CHECK_EQ_INT(rp.params[0], 5000);
    uint8_t part[5000];
    card_content_read(&rp.content, rp.content_off, part, 5000);
    CHECK(memcmp(part, whole + 1000, 5000) == 0);
    CHECK_EQ_INT(op(c, &rp, PTP_OP_GetPartialObject, 3, last, (uint32_t)size + 1, 10), PTP_RC_InvalidParameter);
    CHECK_EQ_INT(op(c, &rp, PTP_OP_DeleteObject, 2, last, 0, 0), PTP_RC_OK);
    CHECK_EQ_INT(op(c, &rp, PTP_OP_GetObjectInfo, 1, last, 0, 0), PTP_RC_InvalidObjectHandle);
    CHECK_EQ_INT(state_num(c, "card_files"), 4);
    free(whole);
    simcam_reply_clear(&rp);
    bytebuf_free(&rp.data);
    simcam_free(c);
}

/* Walks GetEvent records; returns the number of records before the
 * terminator, or -1 if the terminator is missing. */
static int eos_records(const bytebuf *b, uint32_t want_type, uint32_t want_prop, uint32_t *value)
{
    size_t off = 0;
    int n = 0;
    while (off + 8 <= b->len) {
        uint32_t size = le32_read(b->data + off), type = le32_read(b->data + off + 4);
        if (size == 8 && type == 0) return off + 8 == b->len ? n : -1;
        if (size < 8 || off + size > b->len) return -1;
        if (type == want_type && size >= 16 && le32_read(b->data + off + 8) == want_prop && value)
            *value = le32_read(b->data + off + 12);
        off += size;
        n++;
    }
    return -1;
}

TEST(eos_events_and_properties)
{
    simcam *c = make("canon-eos", 0.5, 0.5);
    simcam_reply rp;
    simcam_reply_init(&rp);
    op(c, &rp, PTP_OP_OpenSession, 1, 1, 0, 0);
    CHECK_EQ_INT(op(c, &rp, PTP_OP_EOS_GetEvent, 0, 0, 0, 0), PTP_RC_OK);
    CHECK_EQ_INT(eos_records(&rp.data, 0, 0, NULL), 0); /* just the terminator */
    op(c, &rp, PTP_OP_EOS_SetEventMode, 1, 1, 0, 0);
    op(c, &rp, PTP_OP_EOS_GetEvent, 0, 0, 0, 0);
    uint32_t iso = 0;
    int n = eos_records(&rp.data, PTP_EOS_REC_PropValueChanged, 0xD103, &iso);
    CHECK(n > 20);
    CHECK_EQ_INT(iso, 0x48);
    op(c, &rp, PTP_OP_EOS_GetEvent, 0, 0, 0, 0);
    CHECK_EQ_INT(eos_records(&rp.data, 0, 0, NULL), 0); /* drained */

    uint8_t set[12];
    le32_write(set, 12), le32_write(set + 4, 0xD103), le32_write(set + 8, 0x60);
    CHECK_EQ_INT(op_data(c, &rp, PTP_OP_EOS_SetDevicePropValueEx, 0, set, 12), PTP_RC_OK);
    op(c, &rp, PTP_OP_EOS_GetEvent, 0, 0, 0, 0);
    CHECK_EQ_INT(eos_records(&rp.data, PTP_EOS_REC_PropValueChanged, 0xD103, &iso), 2);
    CHECK_EQ_INT(iso, 0x60);
    le32_write(set + 8, 0x80); /* ISO 12800: not on this body */
    CHECK_EQ_INT(op_data(c, &rp, PTP_OP_EOS_SetDevicePropValueEx, 0, set, 12), PTP_RC_InvalidDevicePropValue);
    le32_write(set + 4, 0xD1D8); /* lens name: read-only */
    CHECK_EQ_INT(op_data(c, &rp, PTP_OP_EOS_SetDevicePropValueEx, 0, set, 12), PTP_RC_AccessDenied);
    le32_write(set, 40); /* size larger than the data */
    CHECK_EQ_INT(op_data(c, &rp, PTP_OP_EOS_SetDevicePropValueEx, 0, set, 12), PTP_RC_InvalidParameter);
    /* image format RAW + Large Fine JPEG, as libgphoto2 packs it */
    uint8_t fmt[8 + 4 + 32];
    le32_write(fmt, sizeof fmt), le32_write(fmt + 4, 0xD120), le32_write(fmt + 8, 2);
    uint32_t elems[8] = {0x10, 6, 0, 4, 0x10, 1, 0, 3};
    for (int i = 0; i < 8; i++) le32_write(fmt + 12 + 4 * i, elems[i]);
    CHECK_EQ_INT(op_data(c, &rp, PTP_OP_EOS_SetDevicePropValueEx, 0, fmt, sizeof fmt), PTP_RC_OK);
    json_t *st = simcam_state(c);
    CHECK(strcmp(json_string_value(json_object_get(json_object_get(st, "settings"), "imageformat")),
                 "RAW + Large Fine JPEG") == 0);
    json_decref(st);
    simcam_reply_clear(&rp);
    bytebuf_free(&rp.data);
    simcam_free(c);
}

/* Sharpness of the centre of the next live-view frame. */
static double lv_sharpness(simcam *c, simcam_reply *rp)
{
    if (op(c, rp, PTP_OP_EOS_GetViewFinderData, 3, 0x00200000, 0, 0) != PTP_RC_OK) return -1;
    img_image img;
    if (img_jpeg_decode(rp->data.data + 8, rp->data.len - 8, 1, 1, &img) != 0) return -1;
    double s = test_sharpness(img.pixels, img.width, img.width / 3, img.height / 3, img.width / 3, img.height / 3);
    img_image_free(&img);
    return s;
}

static void set_evf(simcam *c, simcam_reply *rp, uint32_t v)
{
    uint8_t set[12];
    le32_write(set, 12), le32_write(set + 4, 0xD1B0), le32_write(set + 8, v);
    op_data(c, rp, PTP_OP_EOS_SetDevicePropValueEx, 0, set, 12);
}

TEST(eos_liveview_and_focus_drive)
{
    simcam *c = make("canon-eos", 0.5, 0.2);
    simcam_reply rp;
    simcam_reply_init(&rp);
    op(c, &rp, PTP_OP_OpenSession, 1, 1, 0, 0);
    CHECK_EQ_INT(op(c, &rp, PTP_OP_EOS_GetViewFinderData, 3, 0x00200000, 0, 0), PTP_RC_EOS_NotReady);
    double before = state_num(c, "motor_position");
    op(c, &rp, PTP_OP_EOS_DriveLens, 1, 3, 0, 0); /* ignored: live view off */
    clock_sleep_ns(150000000);
    CHECK_NEAR(state_num(c, "motor_position"), before, 1e-9);
    set_evf(c, &rp, 2);
    double far_s = lv_sharpness(c, &rp);
    CHECK(far_s > 0);
    /* drive Near3 towards focus until past it, watching sharpness rise */
    double focus = state_num(c, "true_focus_position");
    double best = far_s, last = far_s;
    int steps = 0, rises = 0;
    while (state_num(c, "motor_position") < focus - 20) {
        CHECK_EQ_INT(op(c, &rp, PTP_OP_EOS_DriveLens, 1, 3, 0, 0), PTP_RC_OK);
        clock_sleep_ns(200000000);
        double s = lv_sharpness(c, &rp);
        steps++;
        rises += s > last;
        last = s;
        if (s > best) best = s;
    }
    /* noise flattens the far end of the curve; the trend must be up */
    CHECK(steps >= 3);
    CHECK(rises * 10 >= steps * 7);
    CHECK(best > far_s * 2);
    CHECK_EQ_INT(op(c, &rp, PTP_OP_EOS_DriveLens, 1, 4, 0, 0), PTP_RC_InvalidParameter);
    CHECK_EQ_INT(op(c, &rp, PTP_OP_EOS_DriveLens, 1, 0x8000, 0, 0), PTP_RC_InvalidParameter);
    /* the body's own AF lands on the subject */
    op(c, &rp, PTP_OP_EOS_DoAf, 0, 0, 0, 0);
    clock_sleep_ns(600000000);
    CHECK(fabs(state_num(c, "motor_position") - focus) < 4);
    simcam_reply_clear(&rp);
    bytebuf_free(&rp.data);
    simcam_free(c);
}

TEST(eos_capture_to_pc_and_card)
{
    simcam *c = make("canon-eos", 0.5, 0.5);
    simcam_reply rp;
    simcam_reply_init(&rp);
    op(c, &rp, PTP_OP_OpenSession, 1, 1, 0, 0);
    op(c, &rp, PTP_OP_EOS_SetEventMode, 1, 1, 0, 0);
    op(c, &rp, PTP_OP_EOS_GetEvent, 0, 0, 0, 0);
    uint8_t set[12];
    le32_write(set, 12), le32_write(set + 4, 0xD11C), le32_write(set + 8, 4); /* to the PC */
    CHECK_EQ_INT(op_data(c, &rp, PTP_OP_EOS_SetDevicePropValueEx, 0, set, 12), PTP_RC_OK);
    CHECK_EQ_INT(op(c, &rp, PTP_OP_EOS_RemoteRelease, 0, 0, 0, 0), PTP_RC_OK);
    CHECK_EQ_INT(rp.params[0], 0);
    uint32_t handle = 0;
    for (int i = 0; i < 100 && !handle; i++) {
        clock_sleep_ns(20000000);
        op(c, &rp, PTP_OP_EOS_GetEvent, 0, 0, 0, 0);
        eos_records(&rp.data, PTP_EOS_REC_RequestObjectTransfer, 0, NULL);
        for (size_t off = 0; off + 12 <= rp.data.len;) {
            uint32_t size = le32_read(rp.data.data + off);
            if (size < 8) break;
            if (le32_read(rp.data.data + off + 4) == PTP_EOS_REC_RequestObjectTransfer)
                handle = le32_read(rp.data.data + off + 8);
            off += size;
        }
    }
    CHECK(handle != 0);
    CHECK_EQ_INT(state_num(c, "card_files"), 5); /* not on the card */
    CHECK_EQ_INT(op(c, &rp, PTP_OP_GetPartialObject, 3, handle, 0, 1 << 20), PTP_RC_OK);
    CHECK(rp.content_len > 1000);
    CHECK_EQ_INT(op(c, &rp, PTP_OP_EOS_TransferComplete, 1, handle, 0, 0), PTP_RC_OK);
    CHECK_EQ_INT(op(c, &rp, PTP_OP_GetPartialObject, 3, handle, 0, 100), PTP_RC_InvalidObjectHandle);
    le32_write(set + 8, 1); /* to the card */
    op_data(c, &rp, PTP_OP_EOS_SetDevicePropValueEx, 0, set, 12);
    op(c, &rp, PTP_OP_EOS_RemoteRelease, 0, 0, 0, 0);
    for (int i = 0; i < 100 && state_num(c, "card_files") < 6; i++) clock_sleep_ns(20000000);
    CHECK_EQ_INT(state_num(c, "card_files"), 6);
    CHECK_EQ_INT(state_num(c, "shots"), 2);
    simcam_reply_clear(&rp);
    bytebuf_free(&rp.data);
    simcam_free(c);
}

/* written by the camera's capture thread, read by the test */
typedef struct events_seen {
    _Atomic int added, complete;
    _Atomic uint32_t complete_tid;
} events_seen;

static void count_events(void *ctx, uint16_t code, uint32_t tid, const uint32_t *p, int n)
{
    (void)p, (void)n;
    events_seen *e = ctx;
    if (code == PTP_EV_ObjectAdded) e->added++;
    if (code == PTP_EV_CaptureComplete) {
        e->complete_tid = tid;
        e->complete++;
    }
}

TEST(generic_capture_events_and_busy)
{
    simcam *c = make("generic", 0.5, 0.5);
    events_seen seen = {0};
    simcam_attach(c, count_events, &seen);
    simcam_reply rp;
    simcam_reply_init(&rp);
    op(c, &rp, PTP_OP_OpenSession, 1, 1, 0, 0);
    simcam_request rq = {.opcode = PTP_OP_InitiateCapture, .tid = 4242, .nparams = 2};
    simcam_handle(c, &rq, &rp);
    CHECK_EQ_INT(rp.code, PTP_RC_OK);
    simcam_reply_clear(&rp);
    rq.tid = 4243;
    simcam_handle(c, &rq, &rp);
    CHECK_EQ_INT(rp.code, PTP_RC_DeviceBusy); /* still exposing */
    for (int i = 0; i < 200 && !seen.complete; i++) clock_sleep_ns(10000000);
    CHECK_EQ_INT(seen.added, 1);
    CHECK_EQ_INT(seen.complete, 1);
    CHECK_EQ_INT(seen.complete_tid, 4242);
    CHECK_EQ_INT(simcam_press_shutter(c), 0); /* the body's button: no CaptureComplete */
    for (int i = 0; i < 200 && seen.added < 2; i++) clock_sleep_ns(10000000);
    CHECK_EQ_INT(seen.added, 2);
    CHECK_EQ_INT(seen.complete, 1);
    simcam_detach(c);
    simcam_reply_clear(&rp);
    bytebuf_free(&rp.data);
    simcam_free(c);
}

TEST(nikon_liveview_and_mfdrive)
{
    simcam *c = make("nikon", 0.5, 0.5);
    simcam_reply rp;
    simcam_reply_init(&rp);
    op(c, &rp, PTP_OP_OpenSession, 1, 1, 0, 0);
    CHECK_EQ_INT(op(c, &rp, PTP_OP_NIKON_MfDrive, 2, 1, 100, 0), PTP_RC_NIKON_NotLiveView);
    CHECK_EQ_INT(op(c, &rp, PTP_OP_NIKON_GetLiveViewImg, 0, 0, 0, 0), PTP_RC_NIKON_NotLiveView);
    CHECK_EQ_INT(op(c, &rp, PTP_OP_GetDevicePropValue, 1, PTP_DPC_NIKON_LiveViewStatus, 0, 0), PTP_RC_OK);
    CHECK_EQ_INT(rp.data.data[0], 0);
    CHECK_EQ_INT(op(c, &rp, PTP_OP_NIKON_StartLiveView, 0, 0, 0, 0), PTP_RC_OK);
    CHECK_EQ_INT(op(c, &rp, PTP_OP_NIKON_DeviceReady, 0, 0, 0, 0), PTP_RC_DeviceBusy);
    clock_sleep_ns(200000000);
    CHECK_EQ_INT(op(c, &rp, PTP_OP_NIKON_DeviceReady, 0, 0, 0, 0), PTP_RC_OK);
    CHECK_EQ_INT(op(c, &rp, PTP_OP_NIKON_GetLiveViewImg, 0, 0, 0, 0), PTP_RC_OK);
    int w, h;
    CHECK(img_jpeg_size(rp.data.data + 384, rp.data.len - 384, &w, &h) == 0);
    CHECK_EQ_INT(w, 264);
    double before = state_num(c, "motor_position");
    CHECK_EQ_INT(op(c, &rp, PTP_OP_NIKON_MfDrive, 2, 1, 200, 0), PTP_RC_OK); /* towards close */
    CHECK_EQ_INT(op(c, &rp, PTP_OP_NIKON_DeviceReady, 0, 0, 0, 0), PTP_RC_DeviceBusy);
    clock_sleep_ns(300000000);
    CHECK(state_num(c, "motor_position") > before + 10);
    CHECK_EQ_INT(op(c, &rp, PTP_OP_NIKON_MfDrive, 2, 3, 100, 0), PTP_RC_InvalidParameter);
    CHECK_EQ_INT(op(c, &rp, PTP_OP_NIKON_MfDrive, 2, 1, 0, 0), PTP_RC_InvalidParameter);
    simcam_reply_clear(&rp);
    bytebuf_free(&rp.data);
    simcam_free(c);
}

TESTS(HARNESS_ENTRY(session_rules), HARNESS_ENTRY(objects_and_partial_reads),
      HARNESS_ENTRY(eos_events_and_properties), HARNESS_ENTRY(eos_liveview_and_focus_drive),
      HARNESS_ENTRY(eos_capture_to_pc_and_card), HARNESS_ENTRY(generic_capture_events_and_busy),
      HARNESS_ENTRY(nikon_liveview_and_mfdrive))
