/*
 * version: tether_version() (include/tether/tether.h).
 */
#include "tether/tether.h"

#include "tether_config.h"

const char *tether_version(void)
{
    return TETHER_VERSION;
}
