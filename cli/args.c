/*
 * args: the argument parsers and error printer declared in cli.h.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

bool cli_parse_long(const char *s, long min, long max, long *out)
{
    if (s == NULL || *s == '\0') return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max) return false;
    *out = v;
    return true;
}

bool cli_parse_double(const char *s, double min, double max, double *out)
{
    if (s == NULL || *s == '\0') return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || v < min || v > max) return false;
    *out = v;
    return true;
}

bool cli_broker_ca_ok(const char *ca_file, bool tls)
{
    if (ca_file == NULL) return true;
    if (!tls) {
        cli_error("--broker-ca goes with a broker over TLS (mqtts://HOST[:PORT])");
        return false;
    }
    if (access(ca_file, R_OK) != 0) {
        cli_error("cannot read the broker's CA certificate %s: %s", ca_file, strerror(errno));
        return false;
    }
    return true;
}

bool cli_parse_hostport(const char *s, char *host, int hostsz, int *port)
{
    const char *colon = strrchr(s, ':');
    if (colon == NULL || colon == s || colon - s >= hostsz) return false;
    long p;
    if (!cli_parse_long(colon + 1, 0, 65535, &p)) return false;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    *port = (int)p;
    return true;
}

bool cli_parse_size(const char *s, int min, int max, int *w, int *h)
{
    char buf[32];
    const char *x = strchr(s, 'x');
    if (x == NULL || x - s >= (long)sizeof buf) return false;
    memcpy(buf, s, (size_t)(x - s));
    buf[x - s] = '\0';
    long a, b;
    if (!cli_parse_long(buf, min, max, &a) || !cli_parse_long(x + 1, min, max, &b)) return false;
    *w = (int)a;
    *h = (int)b;
    return true;
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("tether: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}
