/*
 * props: see props.h.  Encodings follow ISO 15740 §5.5.2 (DevicePropDesc)
 * and the Canon EOS GetEvent record layout as libgphoto2 parses it
 * (record = u32 size, u32 type, payload; integers in a u32 slot).
 */
#include "props.h"

#include <stdio.h>
#include <string.h>

#include "dataset.h"
#include "ptp.h"

void prop_set_init(prop_set *ps, const prop_spec *specs, int n)
{
    memset(ps, 0, sizeof *ps);
    for (int i = 0; i < n && i < PROP_MAX; i++) {
        prop *p = &ps->items[ps->count++];
        p->spec = &specs[i];
        p->value = specs[i].def;
        if (specs[i].def_str) snprintf(p->str, sizeof p->str, "%s", specs[i].def_str);
    }
}

prop *prop_find(prop_set *ps, uint16_t code)
{
    for (int i = 0; i < ps->count; i++)
        if (ps->items[i].spec->code == code) return &ps->items[i];
    return NULL;
}

prop *prop_find_role(prop_set *ps, prop_role role)
{
    for (int i = 0; i < ps->count; i++)
        if (ps->items[i].spec->role == role) return &ps->items[i];
    return NULL;
}

const prop_choice *prop_current_choice(const prop *p)
{
    for (int i = 0; i < p->spec->n_choices; i++)
        if (p->spec->choices[i].code == p->value) return &p->spec->choices[i];
    return NULL;
}

double prop_physical(prop_set *ps, prop_role role, double def)
{
    prop *p = prop_find_role(ps, role);
    if (p == NULL) return def;
    if (p->spec->n_choices) {
        const prop_choice *c = prop_current_choice(p);
        return c ? c->physical : def;
    }
    return (double)p->value;
}

static bool fits_type(uint16_t dt, int64_t v)
{
    switch (dt) {
    case PTP_DT_INT8: return v >= INT8_MIN && v <= INT8_MAX;
    case PTP_DT_UINT8: return v >= 0 && v <= UINT8_MAX;
    case PTP_DT_INT16: return v >= INT16_MIN && v <= INT16_MAX;
    case PTP_DT_UINT16: return v >= 0 && v <= UINT16_MAX;
    case PTP_DT_INT32: return v >= INT32_MIN && v <= INT32_MAX;
    case PTP_DT_UINT32: return v >= 0 && v <= UINT32_MAX;
    default: return false;
    }
}

uint16_t prop_validate(const prop *p, int64_t v)
{
    const prop_spec *s = p->spec;
    if (s->role == ROLE_IMAGE_FORMAT) {
        for (int i = 0; i < s->n_choices; i++)
            if (s->choices[i].code == v) return PTP_RC_OK;
        return PTP_RC_InvalidDevicePropValue;
    }
    if (!fits_type(s->datatype, v)) return PTP_RC_InvalidDevicePropValue;
    if (s->n_choices) {
        for (int i = 0; i < s->n_choices; i++)
            if (s->choices[i].code == v) return PTP_RC_OK;
        return PTP_RC_InvalidDevicePropValue;
    }
    if (s->min < s->max) {
        if (v < s->min || v > s->max) return PTP_RC_InvalidDevicePropValue;
        if (s->step > 1 && (v - s->min) % s->step != 0) return PTP_RC_InvalidDevicePropValue;
    }
    return PTP_RC_OK;
}

void prop_put_value(const prop *p, bytebuf *out)
{
    if (p->spec->datatype == PTP_DT_STR) ptpds_put_string(out, p->str);
    else ptpds_put_value(out, p->spec->datatype, p->value);
}

void prop_put_desc(const prop *p, bytebuf *out)
{
    const prop_spec *s = p->spec;
    bytebuf_put_u16le(out, s->code);
    bytebuf_put_u16le(out, s->datatype);
    bytebuf_put_u8(out, s->writable ? 1 : 0);
    if (s->datatype == PTP_DT_STR) {
        ptpds_put_string(out, s->def_str ? s->def_str : "");
        ptpds_put_string(out, p->str);
    } else {
        ptpds_put_value(out, s->datatype, s->def);
        ptpds_put_value(out, s->datatype, p->value);
    }
    if (s->n_choices) {
        bytebuf_put_u8(out, PTP_FORM_ENUM);
        bytebuf_put_u16le(out, (uint16_t)s->n_choices);
        for (int i = 0; i < s->n_choices; i++) ptpds_put_value(out, s->datatype, s->choices[i].code);
    } else if (s->min < s->max) {
        bytebuf_put_u8(out, PTP_FORM_RANGE);
        ptpds_put_value(out, s->datatype, s->min);
        ptpds_put_value(out, s->datatype, s->max);
        ptpds_put_value(out, s->datatype, s->step ? s->step : 1);
    } else {
        bytebuf_put_u8(out, PTP_FORM_NONE);
    }
}

/* ---- Canon EOS records -------------------------------------------------- */

/* The EOS image-format struct for a condensed code: u32 n, then n x
 * {u32 0x10, u32 kind (1 JPEG, 6 RAW), u32 size, u32 compression}. */
static void put_image_format(bytebuf *out, int64_t code)
{
    int hi = (int)((code >> 8) & 0xFF), lo = (int)(code & 0xFF);
    int n = lo ? 2 : 1;
    bytebuf_put_u32le(out, (uint32_t)n);
    for (int i = 0; i < n; i++) {
        int b = i == 0 ? hi : lo;
        int c = b & 0xF;
        bytebuf_put_u32le(out, 0x10);
        bytebuf_put_u32le(out, (c & 8) ? 6 : 1);
        bytebuf_put_u32le(out, (uint32_t)(b >> 4));
        bytebuf_put_u32le(out, (uint32_t)((c & 8) ? 4 : c));
    }
}

bool prop_image_format_has_raw(int64_t code)
{
    return ((code >> 8) & 0x8) || (code & 0x8);
}

bool prop_image_format_has_jpeg(int64_t code)
{
    int hi = (int)((code >> 8) & 0xFF), lo = (int)(code & 0xFF);
    return !(hi & 0x8) || (lo && !(lo & 0x8));
}

void prop_put_eos_records(const prop *p, bytebuf *out)
{
    const prop_spec *s = p->spec;
    size_t start = out->len;
    bytebuf_put_u32le(out, 0);
    bytebuf_put_u32le(out, PTP_EOS_REC_PropValueChanged);
    bytebuf_put_u32le(out, s->code);
    if (s->role == ROLE_IMAGE_FORMAT) {
        put_image_format(out, p->value);
    } else if (s->datatype == PTP_DT_STR) {
        bytebuf_put(out, p->str, strlen(p->str) + 1);
    } else {
        bytebuf_put_u32le(out, (uint32_t)p->value);
    }
    bytebuf_set_u32le(out, start, (uint32_t)(out->len - start));

    if (s->n_choices == 0) return;
    start = out->len;
    bytebuf_put_u32le(out, 0);
    bytebuf_put_u32le(out, PTP_EOS_REC_AvailListChanged);
    bytebuf_put_u32le(out, s->code);
    bytebuf_put_u32le(out, 3); /* enumeration */
    bytebuf_put_u32le(out, (uint32_t)s->n_choices);
    for (int i = 0; i < s->n_choices; i++) {
        if (s->role == ROLE_IMAGE_FORMAT) put_image_format(out, s->choices[i].code);
        else bytebuf_put_u32le(out, (uint32_t)s->choices[i].code);
    }
    bytebuf_set_u32le(out, start, (uint32_t)(out->len - start));
}
