/*
 * fuzz_ptpip: libFuzzer target for everything the simulated camera reads
 * from the network: PTP/IP framing (ptpip_parse), the PTP transactions
 * built from it, and the camera's handling of their parameters and data
 * phases (property values, EOS SetDevicePropValueEx payloads, object
 * handles, ranges).  The input is a byte stream as a host would send it on
 * the command connection; the first byte picks the persona.
 *
 * Build: CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined
 * Run:   build-fuzz/tests/fuzz/fuzz_ptpip CORPUS_DIR
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/log.h"
#include "ptpip/camera.h"
#include "ptpip/wire.h"

static simcam *make_camera(const char *persona)
{
    simcam_options o;
    simcam_default_options(&o);
    o.persona = persona_find(persona);
    o.render.lv_width = 64;
    o.render.lv_height = 48;
    o.render.photo_width = 64;
    o.render.photo_height = 48;
    o.lv_fps = 0;
    o.card_files = 4;
    o.raw_size = 4096;
    return simcam_new(&o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static simcam *cams[3];
    static const char *const personas[3] = {"canon-eos", "nikon", "generic"};
    if (cams[0] == NULL) {
        log_set_level(LOG_LEVEL_ERROR);
        for (int i = 0; i < 3; i++) cams[i] = make_camera(personas[i]);
    }
    if (size < 1) return 0;
    simcam *cam = cams[data[0] % 3];
    data++, size--;
    simcam_attach(cam, NULL, NULL); /* a fresh session state per input */

    simcam_reply rp;
    simcam_reply_init(&rp);
    size_t off = 0;
    while (off < size) {
        ptpip_packet p;
        long n = ptpip_parse(data + off, size - off, &p);
        if (n <= 0) break;
        off += (size_t)n;
        if (p.type != PTPIP_CMD_REQUEST) continue;
        simcam_request rq = {.opcode = p.opcode, .tid = p.tid, .nparams = p.nparams};
        memcpy(rq.params, p.params, sizeof rq.params);
        if (p.dataphase == 2) {
            /* the data phase: the next Data/End_Data packet's payload */
            ptpip_packet d;
            long m = ptpip_parse(data + off, size - off, &d);
            if (m > 0 && (d.type == PTPIP_DATA || d.type == PTPIP_END_DATA)) {
                rq.has_data = true;
                rq.data = d.payload;
                rq.data_len = d.payload_len;
                off += (size_t)m;
            }
        }
        /* skip what would block on the live-view clock or the shutter */
        simcam_reply_clear(&rp);
        simcam_handle(cam, &rq, &rp);
        if (rp.data_in && rp.content_len) {
            uint8_t buf[256];
            uint64_t len = rp.content_len < sizeof buf ? rp.content_len : sizeof buf;
            card_content_read(&rp.content, rp.content_off, buf, (size_t)len);
        }
    }
    simcam_reply_clear(&rp);
    bytebuf_free(&rp.data);
    simcam_detach(cam);
    return 0;
}
