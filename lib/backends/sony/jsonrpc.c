/*
 * jsonrpc: see jsonrpc.h.  Replies are parsed with jansson (escaped "\/",
 * any key order, any spacing); getEvent entries are dispatched by their
 * "type" through one table, reading the value under either naming scheme
 * the API versions use ("currentIsoSpeedRate" + "isoSpeedRateCandidates"
 * in 1.0/1.1, "isoSpeedRate" + "candidate" later).  The device description
 * is read by a small tag scanner: only leaf elements' text is wanted, so
 * no tree is built.
 */
#include "jsonrpc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *sonyrpc_request(const char *method, json_t *params, int id, const char *version)
{
    if (params == NULL) params = json_array();
    json_t *req = json_pack("{s:s, s:o, s:i, s:s}", "method", method, "params", params, "id", id,
                            "version", version);
    if (req == NULL) return NULL;
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    return text;
}

int sonyrpc_parse_reply(const char *text, size_t len, sonyrpc_reply *out)
{
    memset(out, 0, sizeof *out);
    out->id = -1;
    json_error_t jerr;
    json_t *root = json_loadb(text, len, 0, &jerr);
    if (root == NULL) {
        snprintf(out->error_message, sizeof out->error_message, "reply is not JSON: %s (line %d)",
                 jerr.text, jerr.line);
        return SONYRPC_MALFORMED;
    }
    int rc = SONYRPC_MALFORMED;
    if (!json_is_object(root)) {
        snprintf(out->error_message, sizeof out->error_message, "reply is not a JSON object");
        goto done;
    }
    json_t *id = json_object_get(root, "id");
    if (json_is_integer(id) && json_integer_value(id) >= 0 && json_integer_value(id) <= 0x7FFFFFFF)
        out->id = (int)json_integer_value(id);
    json_t *err = json_object_get(root, "error");
    if (err != NULL) {
        json_t *code = json_array_get(err, 0), *msg = json_array_get(err, 1);
        if (!json_is_array(err) || !json_is_integer(code)) {
            snprintf(out->error_message, sizeof out->error_message, "malformed error reply");
            goto done;
        }
        json_int_t c = json_integer_value(code);
        out->error_code = c < -0x7FFFFFFF || c > 0x7FFFFFFF ? -1 : (int)c;
        snprintf(out->error_message, sizeof out->error_message, "%s",
                 json_is_string(msg) ? json_string_value(msg) : "");
        rc = SONYRPC_CAMERA_ERROR;
        goto done;
    }
    json_t *result = json_object_get(root, "result");
    if (result == NULL) result = json_object_get(root, "results"); /* getMethodTypes */
    if (!json_is_array(result)) {
        snprintf(out->error_message, sizeof out->error_message,
                 "reply has neither a result array nor an error");
        goto done;
    }
    out->result = json_incref(result);
    rc = SONYRPC_OK;
done:
    json_decref(root);
    return rc;
}

void sonyrpc_reply_clear(sonyrpc_reply *r)
{
    json_decref(r->result);
    r->result = NULL;
}

bool sonyrpc_scalar_text(const json_t *v, char *out, size_t size)
{
    if (size) out[0] = '\0';
    if (json_is_string(v)) snprintf(out, size, "%s", json_string_value(v));
    else if (json_is_integer(v)) snprintf(out, size, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v)) snprintf(out, size, "%g", json_real_value(v));
    else if (json_is_boolean(v)) snprintf(out, size, "%s", json_is_true(v) ? "true" : "false");
    else return false;
    return true;
}

/* ---- the state mirror ---------------------------------------------------------------- */

static const struct {
    const char *type;       /* getEvent "type" */
    const char *key;        /* the value's key when it is neither current<Type> nor <type> */
} field_table[SONYF_COUNT] = {
    [SONYF_CAMERA_STATUS] = {"cameraStatus", NULL},
    [SONYF_EXPOSURE_MODE] = {"exposureMode", NULL},
    [SONYF_FNUMBER] = {"fNumber", "currentFNumber"},
    [SONYF_SHUTTER_SPEED] = {"shutterSpeed", NULL},
    [SONYF_ISO] = {"isoSpeedRate", NULL},
    [SONYF_EXPOSURE_COMPENSATION] = {"exposureCompensation", NULL},
    [SONYF_WHITE_BALANCE] = {"whiteBalance", "currentWhiteBalanceMode"},
    [SONYF_FOCUS_MODE] = {"focusMode", NULL},
    [SONYF_SHOOT_MODE] = {"shootMode", NULL},
    [SONYF_POSTVIEW_SIZE] = {"postviewImageSize", NULL},
    [SONYF_BEEP_MODE] = {"beepMode", NULL},
    [SONYF_ZOOM_POSITION] = {"zoomInformation", "zoomPosition"},
    [SONYF_FOCUS_STATUS] = {"focusStatus", NULL},
    [SONYF_BATTERY] = {"batteryInfo", NULL},
    [SONYF_SHOTS_LEFT] = {"storageInformation", "numberOfRecordableImages"},
    [SONYF_CAMERA_FUNCTION] = {"cameraFunction", NULL},
    [SONYF_FUNCTION_RESULT] = {"cameraFunctionResult", NULL},
    [SONYF_LIVEVIEW_STATUS] = {"liveviewStatus", NULL},
    [SONYF_TOUCH_AF] = {"touchAFPosition", "currentSet"},
    [SONYF_STILL_SIZE] = {"stillSize", NULL},
};

const char *sonyrpc_field_type(sonyrpc_field f)
{
    return f >= 0 && f < SONYF_COUNT ? field_table[f].type : "";
}

void sonyrpc_state_init(sonyrpc_state *st)
{
    memset(st, 0, sizeof *st);
    for (int i = 0; i < SONYF_COUNT; i++) st->fields[i].n_candidates = -1;
}

static void field_set_current(sonyrpc_state *st, sonyrpc_changes *ch, sonyrpc_field f,
                              const char *text)
{
    sonyrpc_value *v = &st->fields[f];
    if (v->known && strcmp(v->current, text) == 0) return;
    v->known = true;
    snprintf(v->current, sizeof v->current, "%s", text);
    if (ch) ch->fields |= 1u << f;
}

/* A still size {"aspect": "3:2", "size": "24M"} as "3:2 24M"; false for
 * another shape. */
static bool still_size_text(const json_t *o, char *out, size_t size)
{
    const char *aspect = json_string_value(json_object_get(o, "aspect"));
    const char *sz = json_string_value(json_object_get(o, "size"));
    if (aspect == NULL || sz == NULL || strchr(aspect, ' ') || strchr(sz, ' ')) return false;
    return snprintf(out, size, "%s %s", aspect, sz) < (int)size;
}

/* Candidates from an array of scalars (or objects with mode_key, or still
 * sizes). */
static bool read_candidates(const json_t *arr, const char *mode_key, sonyrpc_value *into)
{
    if (!json_is_array(arr)) return false;
    sonyrpc_value tmp;
    tmp.n_candidates = 0;
    size_t i;
    const json_t *c;
    json_array_foreach(arr, i, c) {
        if (tmp.n_candidates == SONYRPC_MAX_CANDIDATES) break;
        if (json_is_object(c) && json_object_get(c, "aspect")) {
            if (still_size_text(c, tmp.candidates[tmp.n_candidates], sizeof tmp.candidates[0])) tmp.n_candidates++;
            continue;
        }
        if (json_is_object(c) && mode_key) c = json_object_get(c, mode_key);
        if (sonyrpc_scalar_text(c, tmp.candidates[tmp.n_candidates], sizeof tmp.candidates[0]))
            tmp.n_candidates++;
    }
    into->n_candidates = tmp.n_candidates;
    memcpy(into->candidates, tmp.candidates, sizeof tmp.candidates[0] * (size_t)tmp.n_candidates);
    return true;
}

static bool candidates_equal(const sonyrpc_value *a, const sonyrpc_value *b)
{
    if (a->n_candidates != b->n_candidates) return false;
    for (int i = 0; i < a->n_candidates; i++)
        if (strcmp(a->candidates[i], b->candidates[i]) != 0) return false;
    return true;
}

static void field_set_candidates(sonyrpc_state *st, sonyrpc_changes *ch, sonyrpc_field f,
                                 const json_t *arr, const char *mode_key)
{
    sonyrpc_value tmp;
    if (!read_candidates(arr, mode_key, &tmp)) return;
    sonyrpc_value *v = &st->fields[f];
    if (candidates_equal(v, &tmp)) return;
    v->n_candidates = tmp.n_candidates;
    memcpy(v->candidates, tmp.candidates, sizeof tmp.candidates[0] * (size_t)tmp.n_candidates);
    if (ch) ch->fields |= 1u << f;
}

/* Index candidates min..max (exposure compensation). */
static void index_candidates(sonyrpc_value *v, json_int_t min, json_int_t max)
{
    v->n_candidates = 0;
    if (min > max || max - min >= SONYRPC_MAX_CANDIDATES || min < -1000 || max > 1000) return;
    for (json_int_t i = min; i <= max; i++)
        snprintf(v->candidates[v->n_candidates++], sizeof v->candidates[0], "%lld", (long long)i);
}

static void apply_generic(sonyrpc_state *st, sonyrpc_changes *ch, sonyrpc_field f, const json_t *e)
{
    const char *type = field_table[f].type;
    char key[64], text[64];
    const json_t *val = NULL;
    if (field_table[f].key) val = json_object_get(e, field_table[f].key);
    if (val == NULL) {
        snprintf(key, sizeof key, "current%c%s", toupper((unsigned char)type[0]), type + 1);
        val = json_object_get(e, key);
    }
    if (val == NULL) val = json_object_get(e, type);
    if (sonyrpc_scalar_text(val, text, sizeof text)) field_set_current(st, ch, f, text);
    snprintf(key, sizeof key, "%sCandidates", type);
    const json_t *cands = json_object_get(e, key);
    if (cands == NULL) cands = json_object_get(e, "candidate");
    if (cands) field_set_candidates(st, ch, f, cands, f == SONYF_WHITE_BALANCE ? "whiteBalanceMode" : NULL);
}

static void apply_entry(sonyrpc_state *st, sonyrpc_changes *ch, const json_t *e)
{
    const char *type = json_string_value(json_object_get(e, "type"));
    if (type == NULL) return;
    char text[64];
    if (strcmp(type, "availableApiList") == 0) {
        const json_t *names = json_object_get(e, "names");
        if (!json_is_array(names)) return;
        json_t *wrapped = json_pack("[O]", names);
        if (wrapped && sonyrpc_set_apis(st, wrapped)) ch->apis = true;
        json_decref(wrapped);
        return;
    }
    if (strcmp(type, "takePicture") == 0) {
        const json_t *urls = json_object_get(e, "takePictureUrl");
        size_t i;
        const json_t *u;
        json_array_foreach(urls, i, u) {
            if (json_is_string(u) && ch->n_urls < SONYRPC_MAX_URLS)
                snprintf(ch->urls[ch->n_urls++], sizeof ch->urls[0], "%s", json_string_value(u));
        }
        return;
    }
    if (strcmp(type, "triggeredError") == 0 || strcmp(type, "continuousError") == 0) {
        ch->n_errors++;
        return;
    }
    if (strcmp(type, "batteryInfo") == 0) {
        const json_t *b = json_object_get(e, "batteryInfo");
        if (json_is_array(b)) b = json_array_get(b, 0);
        if (!json_is_object(b)) b = e;
        const json_t *num = json_object_get(b, "levelNumer"), *den = json_object_get(b, "levelDenom");
        if (json_is_integer(num) && json_is_integer(den) && json_integer_value(den) > 0 &&
            json_integer_value(num) >= 0 && json_integer_value(num) <= json_integer_value(den)) {
            snprintf(text, sizeof text, "%d",
                     (int)(json_integer_value(num) * 100 / json_integer_value(den)));
            field_set_current(st, ch, SONYF_BATTERY, text);
        }
        return;
    }
    if (strcmp(type, "storageInformation") == 0) {
        const json_t *target = json_object_get(e, "recordTarget");
        if (target != NULL && !json_is_true(target)) return;
        if (sonyrpc_scalar_text(json_object_get(e, "numberOfRecordableImages"), text, sizeof text))
            field_set_current(st, ch, SONYF_SHOTS_LEFT, text);
        return;
    }
    if (strcmp(type, "stillSize") == 0) { /* currentAspect and currentSize, no candidates */
        json_t *o = json_pack("{s:O?,s:O?}", "aspect", json_object_get(e, "currentAspect"), "size",
                              json_object_get(e, "currentSize"));
        if (still_size_text(o, text, sizeof text)) field_set_current(st, ch, SONYF_STILL_SIZE, text);
        json_decref(o);
        return;
    }
    if (strcmp(type, "exposureCompensation") == 0) {
        const json_t *cur = json_object_get(e, "currentExposureCompensation");
        const json_t *max = json_object_get(e, "maxExposureCompensation");
        const json_t *min = json_object_get(e, "minExposureCompensation");
        if (sonyrpc_scalar_text(cur, text, sizeof text))
            field_set_current(st, ch, SONYF_EXPOSURE_COMPENSATION, text);
        if (json_is_integer(min) && json_is_integer(max)) {
            sonyrpc_value tmp;
            index_candidates(&tmp, json_integer_value(min), json_integer_value(max));
            sonyrpc_value *v = &st->fields[SONYF_EXPOSURE_COMPENSATION];
            if (!candidates_equal(&tmp, v)) {
                v->n_candidates = tmp.n_candidates;
                memcpy(v->candidates, tmp.candidates, sizeof tmp.candidates[0] * (size_t)tmp.n_candidates);
                ch->fields |= 1u << SONYF_EXPOSURE_COMPENSATION;
            }
        }
        return;
    }
    for (int f = 0; f < SONYF_COUNT; f++) {
        if (strcmp(type, field_table[f].type) == 0) {
            apply_generic(st, ch, (sonyrpc_field)f, e);
            return;
        }
    }
}

bool sonyrpc_event_apply(sonyrpc_state *st, const json_t *result, sonyrpc_changes *ch)
{
    memset(ch, 0, sizeof *ch);
    if (!json_is_array(result)) return false;
    size_t i, j;
    const json_t *slot, *e;
    json_array_foreach(result, i, slot) {
        if (json_is_object(slot)) apply_entry(st, ch, slot);
        else if (json_is_array(slot))
            json_array_foreach(slot, j, e) if (json_is_object(e)) apply_entry(st, ch, e);
    }
    return true;
}

bool sonyrpc_api_listed(const sonyrpc_state *st, const char *method)
{
    for (int i = 0; i < st->n_apis; i++)
        if (strcmp(st->apis[i], method) == 0) return true;
    return false;
}

bool sonyrpc_set_apis(sonyrpc_state *st, const json_t *result)
{
    const json_t *names = json_array_get(result, 0);
    if (!json_is_array(names)) return false;
    int n = 0;
    char tmp[SONYRPC_MAX_APIS][48];
    size_t i;
    const json_t *name;
    json_array_foreach(names, i, name) {
        if (n == SONYRPC_MAX_APIS) break;
        if (json_is_string(name)) snprintf(tmp[n++], sizeof tmp[0], "%s", json_string_value(name));
    }
    bool same = st->apis_known && n == st->n_apis;
    for (int k = 0; same && k < n; k++) same = strcmp(tmp[k], st->apis[k]) == 0;
    memcpy(st->apis, tmp, sizeof tmp[0] * (size_t)n);
    st->n_apis = n;
    st->apis_known = true;
    return !same;
}

bool sonyrpc_read_available(const json_t *result, sonyrpc_value *v)
{
    const json_t *cur = json_array_get(result, 0), *second = json_array_get(result, 1);
    if (!json_is_array(result) || cur == NULL) return false;
    char text[64];
    if (json_is_object(cur) && json_object_get(cur, "aspect")) {
        if (!still_size_text(cur, text, sizeof text)) return false;
    } else {
        if (json_is_object(cur)) cur = json_object_get(cur, "whiteBalanceMode");
        if (!sonyrpc_scalar_text(cur, text, sizeof text)) return false;
    }
    if (json_is_integer(second) && json_array_size(result) >= 3) { /* [cur, max, min, step] */
        const json_t *min = json_array_get(result, 2);
        if (!json_is_integer(min)) return false;
        index_candidates(v, json_integer_value(min), json_integer_value(second));
    } else if (!read_candidates(second, "whiteBalanceMode", v)) {
        return false;
    }
    v->known = true;
    snprintf(v->current, sizeof v->current, "%s", text);
    return true;
}

/* "1.3" -> 1003; -1 if unreadable. */
static long version_rank(const char *s)
{
    char *end;
    long major = strtol(s, &end, 10);
    if (end == s || *end != '.' || major < 0 || major > 1000) return -1;
    const char *m = end + 1;
    long minor = strtol(m, &end, 10);
    if (end == m || *end != '\0' || minor < 0 || minor > 999) return -1;
    return major * 1000 + minor;
}

void sonyrpc_pick_version(const json_t *result, const char *highest, char *out, size_t size)
{
    snprintf(out, size, "1.0");
    long limit = version_rank(highest), best = -1;
    const json_t *list = json_array_get(result, 0);
    size_t i;
    const json_t *v;
    json_array_foreach(list, i, v) {
        const char *s = json_string_value(v);
        long r = s ? version_rank(s) : -1;
        if (r > best && r <= limit) {
            best = r;
            snprintf(out, size, "%s", s);
        }
    }
}

/* ---- the device description ----------------------------------------------------------- */

/* Appends the UTF-8 encoding of cp. */
static size_t put_utf8(char *o, unsigned long cp)
{
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xC0 | cp >> 6); o[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Copies text[0..len) into out, decoding entities, trimming white space. */
static void xml_text(const char *t, size_t len, char *out, size_t size)
{
    while (len && isspace((unsigned char)*t)) t++, len--;
    while (len && isspace((unsigned char)t[len - 1])) len--;
    size_t o = 0;
    for (size_t i = 0; i < len && o + 5 < size;) {
        if (t[i] != '&') {
            out[o++] = t[i++];
            continue;
        }
        const char *semi = memchr(t + i, ';', len - i < 12 ? len - i : 12);
        if (semi == NULL) {
            out[o++] = t[i++];
            continue;
        }
        size_t n = (size_t)(semi - (t + i)) + 1;
        static const struct { const char *name; char c; } ents[] = {
            {"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''},
        };
        bool done = false;
        for (size_t k = 0; k < sizeof ents / sizeof ents[0]; k++)
            if (n == strlen(ents[k].name) && memcmp(t + i, ents[k].name, n) == 0) {
                out[o++] = ents[k].c;
                done = true;
            }
        if (!done && n > 3 && t[i + 1] == '#') {
            char num[12] = {0};
            bool hex = t[i + 2] == 'x' || t[i + 2] == 'X';
            memcpy(num, t + i + 2 + hex, n - 3 - hex);
            char *end;
            unsigned long cp = strtoul(num, &end, hex ? 16 : 10);
            if (*end == '\0' && num[0] != '\0' && num[0] != '-' && num[0] != '+' && cp > 0 && cp <= 0x10FFFF) {
                o += put_utf8(out + o, cp);
                done = true;
            }
        }
        if (!done) {
            out[o++] = t[i++];
            continue;
        }
        i += n;
    }
    out[o] = '\0';
}

bool sonydd_parse(const char *xml, size_t len, sonydd_info *out)
{
    memset(out, 0, sizeof *out);
    int service = -1;
    char open_name[64] = "";
    size_t text_start = 0;
    bool in_leaf = false;
    size_t i = 0;
    while (i < len) {
        const char *lt = memchr(xml + i, '<', len - i);
        if (lt == NULL) break;
        size_t tag = (size_t)(lt - xml);
        if (len - tag >= 4 && memcmp(lt, "<!--", 4) == 0) { /* a comment */
            size_t k = tag + 4;
            while (k + 3 <= len && memcmp(xml + k, "-->", 3) != 0) k++;
            i = k + 3;
            in_leaf = false;
            continue;
        }
        size_t k = tag + 1;
        char quote = 0;
        while (k < len && (quote || xml[k] != '>')) { /* the end of the tag, quotes skipped */
            if (quote && xml[k] == quote) quote = 0;
            else if (!quote && (xml[k] == '"' || xml[k] == '\'')) quote = xml[k];
            k++;
        }
        if (k >= len) break;
        bool closing = lt[1] == '/', special = lt[1] == '?' || lt[1] == '!';
        bool self_closing = xml[k - 1] == '/';
        size_t ns = tag + 1 + closing, ne = ns;
        while (ne < k && !isspace((unsigned char)xml[ne]) && xml[ne] != '/' && xml[ne] != '>') ne++;
        const char *name = xml + ns;
        size_t name_len = ne - ns;
        const char *colon = memchr(name, ':', name_len);
        if (colon) name_len -= (size_t)(colon + 1 - name), name = colon + 1;
        char local[64];
        snprintf(local, sizeof local, "%.*s", (int)(name_len < 63 ? name_len : 63), name);
        if (special) {
        } else if (closing) {
            if (in_leaf && strcmp(local, open_name) == 0) {
                char text[256];
                xml_text(xml + text_start, tag - text_start, text, sizeof text);
                bool in_service = service >= 0 && service < SONYDD_MAX_SERVICES;
                if (strcmp(local, "friendlyName") == 0 && !out->friendly_name[0])
                    snprintf(out->friendly_name, sizeof out->friendly_name, "%s", text);
                else if (strcmp(local, "modelName") == 0 && !out->model_name[0])
                    snprintf(out->model_name, sizeof out->model_name, "%s", text);
                else if (strcmp(local, "UDN") == 0 && !out->udn[0])
                    snprintf(out->udn, sizeof out->udn, "%s", text);
                else if (strcmp(local, "X_ScalarWebAPI_ServiceType") == 0 && in_service)
                    snprintf(out->services[service].type, sizeof out->services[0].type, "%s", text);
                else if (strcmp(local, "X_ScalarWebAPI_ActionList_URL") == 0 && in_service)
                    snprintf(out->services[service].url, sizeof out->services[0].url, "%s", text);
                else if (strcmp(local, "X_ScalarWebAPI_LiveView_URL") == 0)
                    snprintf(out->liveview_url, sizeof out->liveview_url, "%s", text);
            }
            in_leaf = false;
        } else {
            if (strcmp(local, "X_ScalarWebAPI_Service") == 0 && !self_closing) service++;
            in_leaf = !self_closing;
            snprintf(open_name, sizeof open_name, "%s", local);
            text_start = k + 1;
        }
        i = k + 1;
    }
    /* keep the services that have both a type and a URL */
    int n = 0;
    int found = service + 1 < SONYDD_MAX_SERVICES ? service + 1 : SONYDD_MAX_SERVICES;
    for (int s = 0; s < found; s++) {
        if (!out->services[s].type[0] || !out->services[s].url[0]) continue;
        if (n != s) out->services[n] = out->services[s];
        n++;
    }
    out->n_services = n;
    return n > 0;
}

bool sonydd_endpoint(const sonydd_info *dd, const char *type, char *out, size_t size)
{
    for (int i = 0; i < dd->n_services; i++) {
        if (strcmp(dd->services[i].type, type) != 0) continue;
        const char *url = dd->services[i].url;
        size_t n = strlen(url);
        snprintf(out, size, "%.*s/%s", (int)(n && url[n - 1] == '/' ? n - 1 : n), url, type);
        return true;
    }
    return false;
}
