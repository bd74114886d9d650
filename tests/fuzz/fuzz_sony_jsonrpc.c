/*
 * fuzz_sony_jsonrpc: libFuzzer target for the Sony Camera Remote API text
 * parsers (lib/backends/sony/jsonrpc.c): JSON-RPC replies, getEvent
 * replies applied to the state mirror, getAvailable* and getVersions
 * results, and the device description (dd.xml), all of which come from
 * whatever answers on the Wi-Fi.
 *
 * Input: the first byte's low bit picks the reply parsers (0) or the
 * device-description parser (1); the rest is the text.  Checked beyond
 * "no crash": every string the parsers fill is terminated within its
 * array; candidate and URL counts stay within their arrays; a reply is
 * either a result array or an error, never both; every service found has
 * a type and a URL.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backends/sony/jsonrpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *s, size_t size)
{
    if (memchr(s, '\0', size) == NULL) abort();
}

static void check_value(const sonyrpc_value *v)
{
    check_text(v->current, sizeof v->current);
    if (v->n_candidates < -1 || v->n_candidates > SONYRPC_MAX_CANDIDATES) abort();
    for (int i = 0; i < v->n_candidates; i++) check_text(v->candidates[i], sizeof v->candidates[i]);
}

static void replies(const char *text, size_t len)
{
    sonyrpc_reply r;
    int rc = sonyrpc_parse_reply(text, len, &r);
    check_text(r.error_message, sizeof r.error_message);
    if ((rc == SONYRPC_OK) != (r.result != NULL)) abort();
    if (rc != SONYRPC_OK) return;
    static sonyrpc_state st; /* large; carried over between inputs, like a session's */
    static int init;
    if (!init) sonyrpc_state_init(&st), init = 1;
    sonyrpc_changes ch;
    for (int pass = 0; pass < 2; pass++) { /* a first reply, then the same as a diff */
        sonyrpc_event_apply(&st, r.result, &ch);
        if (ch.n_urls < 0 || ch.n_urls > SONYRPC_MAX_URLS) abort();
        for (int i = 0; i < ch.n_urls; i++) check_text(ch.urls[i], sizeof ch.urls[i]);
    }
    for (int f = 0; f < SONYF_COUNT; f++) check_value(&st.fields[f]);
    if (st.n_apis < 0 || st.n_apis > SONYRPC_MAX_APIS) abort();
    sonyrpc_set_apis(&st, r.result);
    sonyrpc_value v;
    v.n_candidates = -1;
    v.current[0] = '\0';
    if (sonyrpc_read_available(r.result, &v)) check_value(&v);
    char ver[8];
    sonyrpc_pick_version(r.result, "1.4", ver, sizeof ver);
    check_text(ver, sizeof ver);
    sonyrpc_reply_clear(&r);
}

static void description(const char *text, size_t len)
{
    sonydd_info dd;
    bool any = sonydd_parse(text, len, &dd);
    if (any != (dd.n_services > 0) || dd.n_services > SONYDD_MAX_SERVICES) abort();
    check_text(dd.friendly_name, sizeof dd.friendly_name);
    check_text(dd.udn, sizeof dd.udn);
    check_text(dd.liveview_url, sizeof dd.liveview_url);
    for (int i = 0; i < dd.n_services; i++) {
        if (!dd.services[i].type[0] || !dd.services[i].url[0]) abort();
        char ep[320];
        if (!sonydd_endpoint(&dd, dd.services[i].type, ep, sizeof ep)) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const char *text = (const char *)data + 1;
    if (data[0] & 1) description(text, size - 1);
    else replies(text, size - 1);
    return 0;
}
