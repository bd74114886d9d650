/*
 * lvdelivery: late and repeated live-view frames; see lvdelivery.h.
 */
#include "lvdelivery.h"

#include <math.h>
#include <stdlib.h>

void lvdelivery_init(lvdelivery *d, const lvdelivery_options *o, uint64_t seed)
{
    *d = (lvdelivery){.o = *o, .last_exposed = -INFINITY};
    rng_seed(&d->rng, rng_hash2(seed, 0x1DE1));
}

double lvdelivery_exposed(lvdelivery *d, double handed, double period)
{
    double late = period;
    if (d->o.late_max_s > 0) late = d->o.late_min_s + (d->o.late_max_s - d->o.late_min_s) * rng_uniform(&d->rng);
    double t = handed - late;
    if (t < d->last_exposed) t = d->last_exposed;
    d->last_exposed = t;
    return t;
}

bool lvdelivery_repeat(lvdelivery *d)
{
    bool had = d->have_frame;
    d->have_frame = true;
    return had && d->o.repeat > 0 && rng_uniform(&d->rng) < d->o.repeat;
}

bool lvdelivery_parse_late(const char *text, lvdelivery_options *o)
{
    char *end;
    double lo = strtod(text, &end), hi = lo;
    if (end == text) return false;
    if (*end == '-') {
        const char *s = end + 1;
        hi = strtod(s, &end);
        if (end == s) return false;
    }
    if (*end != '\0' || !(lo >= 0) || !(hi >= lo) || hi > 5000) return false;
    o->late_min_s = lo / 1000;
    o->late_max_s = hi / 1000;
    return true;
}

bool lvdelivery_active(const lvdelivery_options *o)
{
    return o->late_max_s > 0 || o->repeat > 0;
}
