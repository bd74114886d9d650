/*
 * absolute: see absolute.h.
 */
#include "absolute.h"

#include <math.h>

#include "meter.h"
#include "tether/errors.h"

bool focus_abs_init(focus_abs *a, int min, int max, int current)
{
    *a = (focus_abs){.min = min, .max = max};
    if (max <= min) return false;
    a->units_per_near1 = (double)(max - min) / FOCUS_ABS_NEAR1_SPAN;
    a->target = current < min ? min : current > max ? max : current;
    return true;
}

int focus_abs_step(focus_abs *a, int direction, int step, int *position)
{
    if (direction > 0 && a->target >= a->max) return TETHER_ERR_END_STOP;
    if (direction < 0 && a->target <= a->min) return TETHER_ERR_END_STOP;
    double t = a->target + direction * fmeter_step_size[step] * a->units_per_near1;
    a->target = t > a->max ? a->max : t < a->min ? a->min : t;
    *position = (int)lround(a->target);
    return 0;
}
