/*
 * Unit tests for the camera contract (lib/camera with lib/backends/backend.h)
 * against the scriptable fake backend (fake_backend.c), without
 * libgphoto2: call timeouts and abandoned jobs, cancel, busy retries, the
 * lost-and-back cycle, event fan-out with the camera's identity,
 * capabilities read without waiting, reopening by identity after a port
 * change, focus pacing from the caps, canonical setting names and value
 * matching (values.c), capture items, pushed YUYV live view, and the spec
 * forms of every backend.  Waits are on state (events, counters), never
 * fixed sleeps.
 */
#include "harness.h"

#include <pthread.h>
#include <unistd.h>

#include "base/clock.h"
#include "camera/convert.h"
#include "camera/values.h"
#include "fake_backend.h"
#include "image/jpeg.h"
#include "tether/tether.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
/* The harness's children end with _exit, which skips LeakSanitizer's own
 * check: a test that must not leak asks for it (exits non-zero on a leak). */
#define CHECK_NO_LEAKS() __lsan_do_leak_check()
#else
#define CHECK_NO_LEAKS() ((void)0)
#endif

static int64_t ms_since(int64_t t0)
{
    return (clock_mono_ns() - t0) / 1000000;
}

static tether_camera *open_fake(const char *spec)
{
    tether_camera *cam = NULL;
    char err[512] = "";
    int rc = tether_camera_open(spec, 5000, &cam, err, sizeof err);
    if (rc != TETHER_OK) fprintf(stderr, "open %s: %s (%s)\n", spec, tether_strerror(rc), err);
    return cam;
}

/* The next event of type `type` within timeout_ms, skipping others. */
static int wait_for(tether_event_sub *sub, tether_event_type type, int timeout_ms, tether_event *out)
{
    int64_t t0 = clock_mono_ns();
    while (ms_since(t0) < timeout_ms) {
        int rc = tether_events_next(sub, 100, out);
        if (rc == TETHER_OK && out->type == type) return TETHER_OK;
    }
    return TETHER_ERR_TIMEOUT;
}

TEST(capabilities_without_waiting)
{
    fake_install();
    fake_plug("fake:a", "Fake One", "SN1");
    tether_camera *cam = open_fake("fake:a");
    CHECK(cam != NULL);
    tether_capabilities caps;
    CHECK_EQ_INT(tether_camera_capabilities(cam, &caps), TETHER_OK);
    CHECK(strcmp(caps.backend, "fake") == 0);
    CHECK(caps.bits & TETHER_CAP_CAPTURE_TO_CARD);
    CHECK(caps.bits & TETHER_CAP_SETTINGS);
    CHECK_EQ_INT(caps.focus.kind, TETHER_FOCUS_RELATIVE);
    CHECK_EQ_INT(caps.focus.n_steps, 2);
    CHECK_EQ_INT(caps.focus.pace_ms[1], 60);
    CHECK_EQ_INT(caps.n_settings, 5);
    int iso = -1, battery = -1;
    for (int i = 0; i < caps.n_settings; i++) {
        if (strcmp(caps.settings[i], "iso") == 0) iso = i;
        if (strcmp(caps.settings[i], "battery") == 0) battery = i;
    }
    CHECK(iso >= 0 && battery >= 0);
    CHECK(caps.writable & (1u << iso));
    CHECK(!(caps.writable & (1u << battery)));
    char id[256];
    tether_camera_identity(cam, id, sizeof id);
    CHECK(strcmp(id, "Fake One SN1") == 0);

    /* with the owner thread busy for a second, capabilities still answer at once */
    fake_delay(FAKE_SETTING_SET, 1000);
    tether_camera_set_timeout(cam, 100);
    CHECK_EQ_INT(tether_setting_set(cam, "iso", "200"), TETHER_ERR_TIMEOUT);
    int64_t t0 = clock_mono_ns();
    CHECK_EQ_INT(tether_camera_capabilities(cam, &caps), TETHER_OK);
    CHECK(ms_since(t0) < 50);
    CHECK_EQ_INT(caps.focus.n_steps, 2);
    tether_camera_close(cam);
}

TEST(capabilities_before_connection)
{
    fake_install();
    tether_camera *cam = NULL;
    char err[256];
    CHECK_EQ_INT(tether_camera_open("fake:none", 2000, &cam, err, sizeof err), TETHER_ERR_NO_CAMERA);
    CHECK(cam == NULL);
    CHECK(strstr(err, "fake:none") != NULL);
}

TEST(call_timeout_and_abandoned_job)
{
    fake_install();
    fake_plug("fake:a", "Fake One", "SN1");
    tether_camera *cam = open_fake("fake:a");
    CHECK(cam != NULL);
    tether_camera_set_timeout(cam, 150);
    fake_delay(FAKE_SETTING_GET, 600);
    tether_setting s;
    int64_t t0 = clock_mono_ns();
    /* the owner is still reading when the caller gives up: the job (and
     * the setting it fills, with its choices) is the owner's to free */
    CHECK_EQ_INT(tether_setting_get(cam, "iso", &s), TETHER_ERR_TIMEOUT);
    CHECK(ms_since(t0) < 500);
    char err[256];
    tether_camera_last_error(cam, err, sizeof err);
    CHECK(strstr(err, "no answer within 150 ms") != NULL);
    /* queued behind it: dropped from the queue when its own wait ends */
    CHECK_EQ_INT(tether_setting_get(cam, "iso", &s), TETHER_ERR_TIMEOUT);
    fake_delay(FAKE_SETTING_GET, 0);
    tether_camera_set_timeout(cam, 5000);
    CHECK_EQ_INT(tether_setting_get(cam, "iso", &s), TETHER_OK);
    CHECK(strcmp(s.value, "100") == 0);
    tether_setting_clear(&s);
    CHECK(tether_camera_connected(cam));
    tether_camera_close(cam);
    CHECK_NO_LEAKS(); /* the abandoned readings were freed by the owner */
}

typedef struct cancel_ctx {
    tether_camera *cam;
    int rc;
} cancel_ctx;

static void *drive_long(void *arg)
{
    cancel_ctx *c = arg;
    c->rc = tether_focus_drive(c->cam, 1, 1, 10000);
    return NULL;
}

TEST(cancel_long_job)
{
    fake_install();
    fake_plug("fake:a", "Fake One", "SN1");
    tether_camera *cam = open_fake("fake:a");
    CHECK(cam != NULL);
    cancel_ctx c = {cam, 1};
    pthread_t t;
    pthread_create(&t, NULL, drive_long, &c);
    int64_t t0 = clock_mono_ns();
    while (fake_calls(FAKE_FOCUS) < 3 && ms_since(t0) < 5000) clock_sleep_ns(1000000);
    CHECK(fake_calls(FAKE_FOCUS) >= 3);
    tether_camera_cancel(cam);
    pthread_join(t, NULL);
    CHECK_EQ_INT(c.rc, TETHER_ERR_CANCELLED);
    CHECK(fake_calls(FAKE_FOCUS) < 100);
    CHECK(ms_since(t0) < 3000);
    /* the camera goes on */
    CHECK_EQ_INT(tether_focus_drive(cam, -1, 1, 1), TETHER_OK);
    tether_camera_close(cam);
}

TEST(busy_retry)
{
    fake_install();
    fake_plug("fake:a", "Fake One", "SN1");
    tether_camera *cam = open_fake("fake:a");
    CHECK(cam != NULL);
    fake_fail(FAKE_SETTING_SET, TETHER_ERR_BUSY, 3);
    CHECK_EQ_INT(tether_setting_set(cam, "iso", "400"), TETHER_OK);
    CHECK_EQ_INT(fake_calls(FAKE_SETTING_SET), 4);
    char v[64];
    fake_setting_value("iso", v, sizeof v);
    CHECK(strcmp(v, "400") == 0);
    /* busy for good: given up after 10 tries, the camera still there */
    fake_fail(FAKE_SETTING_SET, TETHER_ERR_BUSY, -1);
    CHECK_EQ_INT(tether_setting_set(cam, "iso", "200"), TETHER_ERR_BUSY);
    CHECK_EQ_INT(fake_calls(FAKE_SETTING_SET), 14);
    CHECK(tether_camera_connected(cam));
    fake_fail(FAKE_SETTING_SET, 0, 0);
    /* a busy capture fired nothing: it is repeated too */
    fake_fail(FAKE_CAPTURE, TETHER_ERR_BUSY, 2);
    uint8_t buf[256];
    size_t len = 0;
    CHECK_EQ_INT(tether_capture_to_buffer(cam, buf, sizeof buf, &len), TETHER_OK);
    CHECK_EQ_INT(fake_calls(FAKE_CAPTURE), 3);
    tether_camera_close(cam);
}

TEST(lost_and_back_with_events)
{
    fake_install();
    fake_plug("fake:a", "Fake One", "SN1");
    tether_camera *cam = open_fake("fake:a");
    CHECK(cam != NULL);
    tether_event_sub *sub = NULL;
    CHECK_EQ_INT(tether_events_subscribe(cam, &sub), TETHER_OK);
    fake_unplug("fake:a");
    tether_setting s;
    CHECK_EQ_INT(tether_setting_get(cam, "iso", &s), TETHER_ERR_DISCONNECTED);
    CHECK(!tether_camera_connected(cam));
    tether_event ev;
    CHECK_EQ_INT(wait_for(sub, TETHER_EVENT_CAMERA_LOST, 3000, &ev), TETHER_OK);
    CHECK(strcmp(ev.camera, "Fake One SN1") == 0);
    /* calls fail fast while it is away */
    int64_t t0 = clock_mono_ns();
    CHECK_EQ_INT(tether_setting_get(cam, "iso", &s), TETHER_ERR_DISCONNECTED);
    CHECK(ms_since(t0) < 100);
    fake_plug("fake:a", "Fake One", "SN1");
    CHECK_EQ_INT(wait_for(sub, TETHER_EVENT_CAMERA_BACK, 5000, &ev), TETHER_OK);
    CHECK(strcmp(ev.camera, "Fake One SN1") == 0);
    CHECK(tether_camera_connected(cam));
    CHECK_EQ_INT(tether_setting_get(cam, "iso", &s), TETHER_OK);
    tether_setting_clear(&s);
    /* the built-in subscription saw them too */
    CHECK_EQ_INT(tether_wait_event(cam, 1000, &ev), TETHER_OK);
    CHECK_EQ_INT(ev.type, TETHER_EVENT_CAMERA_LOST);
    tether_events_unsubscribe(sub);
    tether_camera_close(cam);
}

TEST(event_fan_out)
{
    fake_install();
    fake_plug("fake:a", "Fake One", "SN1");
    tether_camera *cam = open_fake("fake:a");
    CHECK(cam != NULL);
    tether_event_sub *fast = NULL, *other = NULL, *slow = NULL;
    CHECK_EQ_INT(tether_events_subscribe(cam, &fast), TETHER_OK);
    CHECK_EQ_INT(tether_events_subscribe(cam, &other), TETHER_OK);
    CHECK_EQ_INT(tether_events_subscribe(cam, &slow), TETHER_OK);
    /* 300 events, more than a ring holds; the fast subscribers keep up */
    enum { N = 300 };
    int got_fast = 0, got_other = 0;
    tether_event ev;
    for (int i = 0; i < N; i++) {
        char d[16];
        snprintf(d, sizeof d, "%d", i);
        fake_emit(TETHER_EVENT_SETTING_CHANGED, "iso", d);
        if (i % 32 == 31 || i == N - 1) {
            while (got_fast <= i) {
                CHECK_EQ_INT(tether_events_next(fast, 3000, &ev), TETHER_OK);
                CHECK_EQ_INT(atoi(ev.detail), got_fast);
                CHECK_EQ_INT(ev.dropped, 0);
                CHECK(strcmp(ev.camera, "Fake One SN1") == 0);
                got_fast++;
            }
            while (got_other <= i) {
                CHECK_EQ_INT(tether_events_next(other, 3000, &ev), TETHER_OK);
                CHECK_EQ_INT(atoi(ev.detail), got_other);
                got_other++;
            }
        }
    }
    /* the slow one lost its oldest 44 and is told so, then has the rest in order */
    CHECK_EQ_INT(tether_events_next(slow, 1000, &ev), TETHER_OK);
    CHECK_EQ_INT(ev.dropped, N - 256);
    CHECK_EQ_INT(atoi(ev.detail), N - 256);
    for (int i = N - 256 + 1; i < N; i++) {
        CHECK_EQ_INT(tether_events_next(slow, 1000, &ev), TETHER_OK);
        CHECK_EQ_INT(atoi(ev.detail), i);
        CHECK_EQ_INT(ev.dropped, 0);
    }
    CHECK_EQ_INT(tether_events_next(slow, 50, &ev), TETHER_ERR_TIMEOUT);
    tether_events_unsubscribe(fast);
    tether_events_unsubscribe(other);
    tether_events_unsubscribe(slow);
    tether_camera_close(cam);
    CHECK_NO_LEAKS();
}

TEST(reopen_by_identity_after_port_change)
{
    fake_install();
    fake_plug("fake:usb1", "Fake One", "SN1");
    fake_plug("fake:usb2", "Fake One", "SN2"); /* the same model, another body */
    tether_camera *cam = open_fake("fake:usb1");
    tether_camera *other = open_fake("fake:usb2");
    CHECK(cam != NULL && other != NULL);
    tether_event_sub *sub = NULL;
    CHECK_EQ_INT(tether_events_subscribe(cam, &sub), TETHER_OK);
    fake_unplug("fake:usb1");
    tether_setting s;
    CHECK_EQ_INT(tether_setting_get(cam, "iso", &s), TETHER_ERR_DISCONNECTED);
    tether_event ev;
    CHECK_EQ_INT(wait_for(sub, TETHER_EVENT_CAMERA_LOST, 3000, &ev), TETHER_OK);
    fake_plug("fake:usb3", "Fake One", "SN9"); /* a stranger first: not taken */
    fake_plug("fake:usb4", "Fake One", "SN1"); /* the same body on a new port */
    CHECK_EQ_INT(wait_for(sub, TETHER_EVENT_CAMERA_BACK, 5000, &ev), TETHER_OK);
    CHECK(strcmp(ev.camera, "Fake One SN1") == 0);
    char id[256];
    tether_camera_identity(cam, id, sizeof id);
    CHECK(strcmp(id, "Fake One SN1") == 0);
    /* the session is on usb4 now: unplugging the others leaves it alone */
    fake_unplug("fake:usb3");
    CHECK_EQ_INT(tether_setting_get(cam, "iso", &s), TETHER_OK);
    tether_setting_clear(&s);
    fake_unplug("fake:usb4");
    CHECK_EQ_INT(tether_setting_get(cam, "iso", &s), TETHER_ERR_DISCONNECTED);
    /* the other session never lost its camera */
    CHECK(tether_camera_connected(other));
    tether_camera_identity(other, id, sizeof id);
    CHECK(strcmp(id, "Fake One SN2") == 0);
    tether_events_unsubscribe(sub);
    tether_camera_close(cam);
    tether_camera_close(other);
}

TEST(focus_pacing_from_caps)
{
    fake_install();
    fake_plug("fake:a", "Fake One", "SN1");
    tether_focus_caps fc = {.kind = TETHER_FOCUS_RELATIVE, .n_steps = 2, .step_units = {1, 8},
                            .pace_ms = {30, 90}, .backlash = -1, .zoom_max = 1};
    fake_set_focus(&fc);
    tether_camera *cam = open_fake("fake:a");
    CHECK(cam != NULL);
    CHECK_EQ_INT(tether_focus_drive(cam, 1, 2, 4), TETHER_OK);
    int64_t t[8];
    CHECK_EQ_INT(fake_focus_times(t, 8), 4);
    for (int i = 1; i < 4; i++) CHECK((t[i] - t[i - 1]) / 1000000 >= 89);
    CHECK_EQ_INT(tether_focus_drive(cam, 1, 1, 3), TETHER_OK);
    CHECK_EQ_INT(fake_focus_times(t, 8), 7);
    for (int i = 5; i < 7; i++) CHECK((t[i] - t[i - 1]) / 1000000 >= 29);
    /* a size this camera does not offer */
    CHECK_EQ_INT(tether_focus_drive(cam, 1, 3, 1), TETHER_ERR_BAD_VALUE);
    char err[256];
    tether_camera_last_error(cam, err, sizeof err);
    CHECK(strstr(err, "step 1..2") != NULL);
    CHECK_EQ_INT(tether_focus_drive(cam, 1, 4, 1), TETHER_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(fake_calls(FAKE_FOCUS), 7);
    /* no absolute focus, no zoom here */
    CHECK_EQ_INT(tether_focus_set(cam, 10), TETHER_ERR_NOT_SUPPORTED);
    CHECK_EQ_INT(tether_liveview_zoom(cam, 5, 0.5, 0.5), TETHER_ERR_NOT_SUPPORTED);
    CHECK_EQ_INT(tether_liveview_zoom(cam, 5, 1.5, 0.5), TETHER_ERR_INVALID_ARGUMENT);
    tether_camera_close(cam);

    /* a camera without a focus drive says so */
    fc = (tether_focus_caps){.kind = TETHER_FOCUS_NONE, .zoom_max = 1};
    fake_set_focus(&fc);
    cam = open_fake("fake:a");
    CHECK(cam != NULL);
    CHECK_EQ_INT(tether_focus_drive(cam, 1, 1, 1), TETHER_ERR_NOT_SUPPORTED);
    tether_camera_last_error(cam, err, sizeof err);
    CHECK(strstr(err, "no focus drive") != NULL);
    tether_camera_close(cam);
}

/* A held camera fetches no live view of its own, so a call reaches it at
 * once instead of waiting behind a frame (synchronised capture-all). */
TEST(hold_lets_a_call_in_at_once)
{
    fake_install();
    fake_plug("fake:a", "Fake One", "SN1");
    tether_focus_caps fc = {.kind = TETHER_FOCUS_RELATIVE, .n_steps = 1, .step_units = {1}, .pace_ms = {0},
                            .backlash = -1, .zoom_max = 1};
    fake_set_focus(&fc);
    tether_camera *cam = open_fake("fake:a");
    CHECK(cam != NULL);
    fake_delay(FAKE_PREVIEW, 150); /* each live-view frame takes 150 ms */
    tether_liveview_subscribe(cam);
    uint64_t seq = 0;
    tether_frame *f = NULL;
    CHECK_EQ_INT(tether_liveview_next(cam, &seq, 2000, &f), TETHER_OK);
    tether_frame_unref(f);

    /* held: the frame under way ends, then nothing of the owner's own */
    int64_t t0 = clock_mono_ns();
    CHECK_EQ_INT(tether_camera_hold(cam, true, 1000), TETHER_OK);
    CHECK(ms_since(t0) < 400);
    while (tether_liveview_next(cam, &seq, 0, &f) == TETHER_OK) tether_frame_unref(f); /* the frame it finished */
    int previews = fake_calls(FAKE_PREVIEW);
    int64_t t1 = clock_mono_ns();
    CHECK_EQ_INT(tether_focus_drive(cam, 1, 1, 1), TETHER_OK);
    CHECK(ms_since(t1) < 100); /* not behind a 150 ms frame */
    clock_sleep_ns(400000000);
    CHECK_EQ_INT(fake_calls(FAKE_PREVIEW), previews); /* live view paused while held */
    /* holds count: two taken, one released, still held */
    CHECK_EQ_INT(tether_camera_hold(cam, true, 1000), TETHER_OK);
    CHECK_EQ_INT(tether_camera_hold(cam, false, 0), TETHER_OK);
    clock_sleep_ns(300000000);
    CHECK_EQ_INT(fake_calls(FAKE_PREVIEW), previews);
    /* released: live view goes on */
    CHECK_EQ_INT(tether_camera_hold(cam, false, 0), TETHER_OK);
    CHECK_EQ_INT(tether_liveview_next(cam, &seq, 2000, &f), TETHER_OK);
    tether_frame_unref(f);
    CHECK(fake_calls(FAKE_PREVIEW) > previews);
    tether_liveview_unsubscribe(cam);

    /* a lost camera cannot be held ready: said at once */
    fake_unplug("fake:a");
    CHECK_EQ_INT(tether_focus_drive(cam, 1, 1, 1), TETHER_ERR_DISCONNECTED);
    t0 = clock_mono_ns();
    CHECK_EQ_INT(tether_camera_hold(cam, true, 1000), TETHER_ERR_DISCONNECTED);
    CHECK(ms_since(t0) < 500);
    CHECK_EQ_INT(tether_camera_hold(cam, false, 0), TETHER_OK);
    tether_camera_close(cam);
}

TEST(canonical_names_and_values)
{
    fake_install();
    fake_plug("fake:a", "Fake One", "SN1");
    tether_camera *cam = open_fake("fake:a");
    CHECK(cam != NULL);
    tether_setting s;
    CHECK_EQ_INT(tether_setting_get(cam, "aperture", &s), TETHER_OK);
    CHECK(strcmp(s.name, "f-number") == 0);
    CHECK(strcmp(s.canonical, "aperture") == 0);
    tether_setting_clear(&s);
    /* numbers match the camera's spelling */
    CHECK_EQ_INT(tether_setting_set(cam, "aperture", "8"), TETHER_OK);
    char v[64];
    fake_setting_value("f-number", v, sizeof v);
    CHECK(strcmp(v, "f/8") == 0);
    CHECK_EQ_INT(tether_setting_set(cam, "shutterspeed", "1/250"), TETHER_OK);
    fake_setting_value("shutterspeed", v, sizeof v);
    CHECK(strcmp(v, "0.0040s") == 0);
    /* native names and paths still work, and know their canonical name */
    CHECK_EQ_INT(tether_setting_get(cam, "/main/fake/f-number", &s), TETHER_OK);
    CHECK(strcmp(s.value, "f/8") == 0);
    CHECK(strcmp(s.canonical, "aperture") == 0);
    tether_setting_clear(&s);
    /* a wrong value names the choices and changes nothing */
    CHECK_EQ_INT(tether_setting_set(cam, "iso", "300"), TETHER_ERR_BAD_VALUE);
    char err[256];
    tether_camera_last_error(cam, err, sizeof err);
    CHECK(strstr(err, "choices: 100, 200, 400") != NULL);
    fake_setting_value("iso", v, sizeof v);
    CHECK(strcmp(v, "100") == 0);
    CHECK_EQ_INT(tether_setting_set(cam, "battery", "50%"), TETHER_ERR_READ_ONLY);
    CHECK_EQ_INT(tether_setting_get(cam, "whitebalance", &s), TETHER_ERR_NOT_FOUND);
    tether_settings *all = NULL;
    CHECK_EQ_INT(tether_settings_list(cam, &all), TETHER_OK);
    int named = 0;
    for (int i = 0; i < all->count; i++) named += all->items[i].canonical[0] != '\0';
    CHECK_EQ_INT(named, 5);
    tether_settings_free(all);
    tether_camera_close(cam);
}

TEST(values_rules)
{
    double d;
    CHECK(values_parse_number("f/8", &d) && d == 8);
    CHECK(values_parse_number("1/250", &d) && d == 1.0 / 250);
    CHECK(values_parse_number("0.0040s", &d) && d == 0.004);
    CHECK(values_parse_number("1 1/2", &d) && d == 1.5);
    CHECK(!values_parse_number("fast", &d));
    CHECK(!values_parse_number("1/0", &d));
    CHECK(values_is_canonical("shutterspeed"));
    CHECK(!values_is_canonical("f-number"));
    int n = 0;
    for (const char *const *c = tether_setting_canonical_names(); *c; c++) n++;
    CHECK(n >= 11);

    tether_setting t = {.name = "flash", .type = TETHER_SETTING_TOGGLE};
    values_parsed v;
    char err[256];
    CHECK_EQ_INT(values_parse(&t, "on", &v, err, sizeof err), TETHER_OK);
    CHECK_EQ_INT(v.toggle, 1);
    CHECK_EQ_INT(values_parse(&t, "No", &v, err, sizeof err), TETHER_OK);
    CHECK_EQ_INT(v.toggle, 0);
    CHECK_EQ_INT(values_parse(&t, "maybe", &v, err, sizeof err), TETHER_ERR_BAD_VALUE);
    CHECK(strstr(err, "1/0, on/off") != NULL);
    tether_setting r = {.name = "zoom", .type = TETHER_SETTING_RANGE, .min = 1, .max = 10};
    CHECK_EQ_INT(values_parse(&r, "2.5", &v, err, sizeof err), TETHER_OK);
    CHECK(v.number == 2.5);
    CHECK_EQ_INT(values_parse(&r, "11", &v, err, sizeof err), TETHER_ERR_BAD_VALUE);
    CHECK(strstr(err, "from 1 to 10") != NULL);
    tether_setting dt = {.name = "datetime", .type = TETHER_SETTING_DATE};
    CHECK_EQ_INT(values_parse(&dt, "1700000000", &v, err, sizeof err), TETHER_OK);
    CHECK(v.date == 1700000000);
    CHECK_EQ_INT(values_parse(&dt, "-5", &v, err, sizeof err), TETHER_ERR_BAD_VALUE);
    char auto_[] = "Auto", daylight[] = "Daylight";
    char *choices[] = {auto_, daylight};
    tether_setting c = {.name = "whitebalance", .type = TETHER_SETTING_CHOICE, .n_choices = 2, .choices = choices};
    CHECK_EQ_INT(values_parse(&c, "Daylight", &v, err, sizeof err), TETHER_OK);
    CHECK_EQ_INT(v.choice, 1);
    CHECK_EQ_INT(values_parse(&c, "daylight", &v, err, sizeof err), TETHER_ERR_BAD_VALUE);
    CHECK(strstr(err, "choices: Auto, Daylight") != NULL);
    c.read_only = true;
    CHECK_EQ_INT(values_parse(&c, "Auto", &v, err, sizeof err), TETHER_ERR_READ_ONLY);
}

static bool read_file(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) return false;
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
    return true;
}

/* Values in a photographer's words: a Nikon's decimal shutter speeds read
 * as the dial's marks; the camera's own spelling is left alone elsewhere. */
TEST(values_in_words)
{
    static const char *const cases[][3] = {
        {"shutterspeed", "0.0167s", "1/60"},   {"shutterspeed", "0.0040s", "1/250"},
        {"shutterspeed", "0.0769s", "1/13"},   {"shutterspeed", "0.0003s", "1/3200"},
        {"shutterspeed", "0.3333s", "0.3\""},  {"shutterspeed", "2.5000s", "2.5\""},
        {"shutterspeed", "30.0000s", "30\""}, {"shutterspeed", "1/125", "1/125"},
        {"shutterspeed", "bulb", "bulb"},      {"shutterspeed", "0.0012s", "1/800"},
        {"aperture", "5.6", "f/5.6"},          {"aperture", "f/8", "f/8"},
        {"aperture", "implicit auto", "implicit auto"},
        {"exposurecompensation", "0.3333", "+0.3"}, {"exposurecompensation", "-1.667", "-1.7"},
        {"exposurecompensation", "0", "0"},    {"exposurecompensation", "+1/3", "+1/3"},
        {"iso", "100", "100"},                 {"", "0.0167s", "0.0167s"},
    };
    char out[32];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tether_value_words(cases[i][0], cases[i][1], out, sizeof out);
        if (strcmp(out, cases[i][2]) != 0) fprintf(stderr, "%s %s -> %s\n", cases[i][0], cases[i][1], out);
        CHECK(strcmp(out, cases[i][2]) == 0);
    }
    char tiny[4];
    CHECK(strcmp(tether_value_words("shutterspeed", "0.0040s", tiny, sizeof tiny), "1/2") == 0); /* cut, terminated */
    CHECK(strcmp(tether_value_words(NULL, NULL, out, sizeof out), "") == 0);
}

TEST(capture_items)
{
    fake_install();
    fake_plug("fake:a", "Fake One", "SN1");
    tether_camera *cam = open_fake("fake:a");
    CHECK(cam != NULL);
    char dir[] = "/tmp/tether-contract-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    tether_capture_options o = {.dir = dir};
    tether_shot shot;
    /* on the card: downloaded, then deleted */
    CHECK_EQ_INT(tether_capture(cam, &o, &shot), TETHER_OK);
    CHECK_EQ_INT(shot.n_files, 1);
    char buf[256];
    CHECK(read_file(shot.files[0], buf, sizeof buf));
    CHECK(strcmp(buf, "card file /DCIM/100FAKE/IMG_0001.JPG") == 0);
    CHECK_EQ_INT(fake_calls(FAKE_DELETE), 1);
    unlink(shot.files[0]);
    /* kept on the card when asked */
    o.keep_on_card = true;
    CHECK_EQ_INT(tether_capture(cam, &o, &shot), TETHER_OK);
    CHECK_EQ_INT(fake_calls(FAKE_DELETE), 1);
    unlink(shot.files[0]);
    /* bytes in memory: written as they are, nothing to download or delete */
    fake_set_capture_in_memory(true);
    o.keep_on_card = false;
    int downloads = fake_calls(FAKE_DOWNLOAD);
    CHECK_EQ_INT(tether_capture(cam, &o, &shot), TETHER_OK);
    CHECK(read_file(shot.files[0], buf, sizeof buf));
    CHECK(strcmp(buf, "memory shot 3") == 0);
    CHECK(strstr(shot.files[0], "SHOT_0003.jpg") != NULL);
    CHECK_EQ_INT(fake_calls(FAKE_DOWNLOAD), downloads);
    CHECK_EQ_INT(fake_calls(FAKE_DELETE), 1);
    unlink(shot.files[0]);
    uint8_t mem[64];
    size_t len = 0;
    CHECK_EQ_INT(tether_capture_to_buffer(cam, mem, sizeof mem, &len), TETHER_OK);
    CHECK(len == strlen("memory shot 4") && memcmp(mem, "memory shot 4", len) == 0);
    rmdir(dir);
    tether_camera_close(cam);
}

TEST(pushed_yuyv_liveview)
{
    fake_install();
    fake_plug("fakepush:a", "Fake Cam", "");
    fake_set_push_frames(32, 16, 5);
    tether_camera *cam = open_fake("fakepush:a");
    CHECK(cam != NULL);
    tether_capabilities caps;
    CHECK_EQ_INT(tether_camera_capabilities(cam, &caps), TETHER_OK);
    CHECK(caps.bits & TETHER_CAP_LIVEVIEW_PUSH);
    CHECK(caps.liveview_formats & (1u << TETHER_PIXEL_YUYV));
    char id[256];
    tether_camera_identity(cam, id, sizeof id);
    CHECK(strcmp(id, "Fake Cam") == 0); /* no serial: the model alone */
    tether_liveview_subscribe(cam);
    uint64_t seq = 0;
    tether_frame *f = NULL;
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(tether_liveview_next(cam, &seq, 3000, &f), TETHER_OK);
        int w = 0, h = 0;
        CHECK_EQ_INT(img_jpeg_size(tether_frame_data(f), tether_frame_size(f), &w, &h), 0);
        CHECK_EQ_INT(w, 32);
        CHECK_EQ_INT(h, 16);
        tether_frame_unref(f);
    }
    tether_liveview_unsubscribe(cam);
    /* the backend's thread stops when nobody watches */
    int64_t t0 = clock_mono_ns();
    uint64_t last = seq;
    while (ms_since(t0) < 3000) {
        if (tether_liveview_next(cam, &seq, 100, &f) == TETHER_OK) tether_frame_unref(f);
        else if (seq == last) break;
        last = seq;
    }
    CHECK_EQ_INT(tether_liveview_next(cam, &seq, 100, &f), TETHER_ERR_TIMEOUT);
    /* one frame on demand */
    CHECK_EQ_INT(tether_preview(cam, &f), TETHER_OK);
    CHECK(tether_frame_size(f) > 4);
    tether_frame_unref(f);
    tether_camera_close(cam);
}

TEST(yuyv_conversion)
{
    /* a 4 x 2 YUYV frame with a stride wider than its rows */
    blob *data = blob_new(12 * 2);
    CHECK(data != NULL);
    memset(data->data, 128, data->len);
    backend_frame f = {.format = TETHER_PIXEL_YUYV, .width = 4, .height = 2, .stride = 12, .data = data};
    blob *jpeg = NULL;
    CHECK_EQ_INT(convert_to_jpeg(&f, &jpeg), TETHER_OK);
    CHECK(f.data == NULL);
    int w = 0, h = 0;
    CHECK_EQ_INT(img_jpeg_size(jpeg->data, jpeg->len, &w, &h), 0);
    CHECK_EQ_INT(w, 4);
    CHECK_EQ_INT(h, 2);
    blob_unref(jpeg);
    /* sizes that do not fit the bytes, an odd width, an unknown format: refused, the data released */
    f = (backend_frame){.format = TETHER_PIXEL_YUYV, .width = 8, .height = 2, .data = blob_new(16)};
    CHECK_EQ_INT(convert_to_jpeg(&f, &jpeg), TETHER_ERR_BAD_VALUE);
    CHECK(jpeg == NULL && f.data == NULL);
    f = (backend_frame){.format = TETHER_PIXEL_YUYV, .width = 3, .height = 2, .data = blob_new(64)};
    CHECK_EQ_INT(convert_to_jpeg(&f, &jpeg), TETHER_ERR_BAD_VALUE);
    f = (backend_frame){.format = (tether_pixel_format)7, .width = 4, .height = 2, .data = blob_new(64)};
    CHECK_EQ_INT(convert_to_jpeg(&f, &jpeg), TETHER_ERR_BAD_VALUE);
    CHECK_NO_LEAKS();
}

TEST(discovery_and_spec_forms)
{
    fake_install();
    fake_plug("fake:a", "Fake One", "SN1");
    fake_plug("fake:b", "Fake Two", "SN2");
    tether_camera_info info[16];
    int n = 0;
    CHECK_EQ_INT(tether_list_cameras(info, 16, &n), TETHER_OK);
    int fakes = 0;
    for (int i = 0; i < n && i < 16; i++)
        if (strcmp(info[i].backend, "fake") == 0) fakes++;
    CHECK_EQ_INT(fakes, 2);
    tether_camera *cam = NULL;
    char err[1024];
    CHECK_EQ_INT(tether_camera_open("bogus:1", 1000, &cam, err, sizeof err), TETHER_ERR_INVALID_ARGUMENT);
    CHECK(strstr(err, "fake:NAME") != NULL);
    CHECK(strstr(err, "ptpip:HOST[:PORT]") != NULL);
    CHECK(strstr(err, "usb:BUS,DEV") != NULL);
    char forms[1024];
    tether_spec_forms(forms, sizeof forms);
    CHECK(strstr(forms, "fakepush:NAME") != NULL);
}

TESTS(HARNESS_ENTRY(capabilities_without_waiting), HARNESS_ENTRY(capabilities_before_connection),
      HARNESS_ENTRY(call_timeout_and_abandoned_job), HARNESS_ENTRY(cancel_long_job), HARNESS_ENTRY(busy_retry),
      HARNESS_ENTRY(lost_and_back_with_events), HARNESS_ENTRY(event_fan_out),
      HARNESS_ENTRY(reopen_by_identity_after_port_change), HARNESS_ENTRY(focus_pacing_from_caps),
      HARNESS_ENTRY(hold_lets_a_call_in_at_once),
      HARNESS_ENTRY(canonical_names_and_values), HARNESS_ENTRY(values_rules), HARNESS_ENTRY(values_in_words), HARNESS_ENTRY(capture_items),
      HARNESS_ENTRY(pushed_yuyv_liveview), HARNESS_ENTRY(yuyv_conversion), HARNESS_ENTRY(discovery_and_spec_forms))
