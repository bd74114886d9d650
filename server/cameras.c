/*
 * cameras: the studio's cameras over HTTP (docs/API.md, "Several
 * cameras"): GET /api/cameras lists them, POST /api/cameras {"spec"}
 * serves one more, DELETE /api/cameras/ID stops serving one, and every
 * route of one camera lives under /api/cameras/ID/... (api_station_route,
 * the same handlers the single-camera routes use for the primary camera).
 *
 * Threads: every route here runs on an HTTP worker but
 * /api/cameras/ID/stream.mjpg, which runs on the event loop (studio.c's
 * route_is_quick) and never waits.  Stations are looked up by reference
 * (station_find), so one removed meanwhile stays valid until its handler
 * is done.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

enum { OPEN_TIMEOUT_MS = 15000 };

static enum MHD_Result list_cameras(studio *s, const http_request *r)
{
    station *list[STUDIO_MAX_CAMERAS];
    int n = station_list(s, list, STUDIO_MAX_CAMERAS);
    json_t *a = json_array();
    for (int i = 0; i < n; i++) {
        json_array_append_new(a, station_json(list[i]));
        station_unref(list[i]);
    }
    return http_json(r, 200, json_pack("{s:o}", "cameras", a));
}

static enum MHD_Result add_camera(studio *s, const http_request *r)
{
    enum MHD_Result answered;
    json_t *body = http_json_body(r, &answered);
    if (body == NULL) return answered;
    const char *spec = json_string_value(json_object_get(body, "spec"));
    enum MHD_Result ret;
    char err[800] = "";
    station *st = NULL;
    if (spec == NULL) {
        ret = http_error(r, 400, "bad_request", "expected {\"spec\": \"usb:BUS,DEV\" | \"ptpip:HOST[:PORT]\" | \"sim[:PERSONA]\"}");
    } else if (strcmp(spec, "auto") == 0) {
        ret = http_error(r, 400, "bad_spec", "\"auto\" names no one camera; give usb:BUS,DEV (tether list), "
                         "ptpip:HOST[:PORT] or sim[:PERSONA]");
    } else {
        int rc = station_open(s, spec, OPEN_TIMEOUT_MS, &st, err, sizeof err);
        if (rc == TETHER_OK) {
            ret = http_json(r, 201, station_json(st));
            station_unref(st);
        } else if (rc == TETHER_ERR_INVALID_ARGUMENT || rc == TETHER_ERR_NOT_SUPPORTED) {
            ret = http_error(r, 400, "bad_spec", "%s", err);
        } else if (rc == TETHER_ERR_BUSY) {
            ret = http_error(r, 409, "camera_served", "%s", err);
        } else if (rc == TETHER_ERR_TIMEOUT) {
            ret = http_error(r, 504, "camera_timeout", "%s", err);
        } else {
            ret = http_error(r, 502, "camera_error", "%s", err);
        }
    }
    json_decref(body);
    return ret;
}

enum MHD_Result cameras_handle(studio *s, const http_request *r, const char *rest)
{
    bool get = http_is(r, "GET") || http_is(r, "HEAD");
    if (rest[0] == '\0') {
        if (get) return list_cameras(s, r);
        if (http_is(r, "POST")) return add_camera(s, r);
        return http_error(r, 405, "method_not_allowed", "use GET or POST");
    }
    char id[64];
    const char *after = strchr(rest + 1, '/');
    size_t len = after ? (size_t)(after - rest - 1) : strlen(rest + 1);
    if (len == 0 || len >= sizeof id) return http_error(r, 404, "not_found", "no camera (ids: GET /api/cameras)");
    snprintf(id, sizeof id, "%.*s", (int)len, rest + 1);
    station *st = station_find(s, id);
    if (st == NULL) return http_error(r, 404, "not_found", "no camera \"%s\" (GET /api/cameras)", id);
    enum MHD_Result ret;
    if (after) {
        ret = api_station_route(st, r, after);
    } else if (get) {
        ret = http_json(r, 200, station_json(st));
    } else if (http_is(r, "DELETE")) {
        station_remove(st); /* takes our reference */
        return http_json(r, 200, json_pack("{s:s}", "removed", id));
    } else {
        ret = http_error(r, 405, "method_not_allowed", "use GET or DELETE");
    }
    station_unref(st);
    return ret;
}
