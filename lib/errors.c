/*
 * errors: tether_strerror() and tether_err_name() (include/tether/errors.h),
 * generated from the one X-macro list so names, numbers and messages can
 * never disagree.
 */
#include "tether/errors.h"

const char *tether_strerror(int err)
{
    switch (err) {
#define TETHER_ERR_MSG(name, num, msg) \
    case num: return msg;
        TETHER_ERRNO_MAP(TETHER_ERR_MSG)
#undef TETHER_ERR_MSG
    }
    return "unknown error";
}

const char *tether_err_name(int err)
{
    switch (err) {
#define TETHER_ERR_NAME(name, num, msg) \
    case num: return #name;
        TETHER_ERRNO_MAP(TETHER_ERR_NAME)
#undef TETHER_ERR_NAME
    }
    return "UNKNOWN";
}
