/*  duration — see duration.h. */
#include "duration.h"

#include <stdio.h>
#include <string.h>

#define DURATION_MAX_S (100LL * 366 * 86400)

//  Seconds in a unit letter, 0 when it is not one.
static int64_t
s_unit(char c)
{
    switch (c) {
        case 's': return 1;
        case 'm': return 60;
        case 'h': return 3600;
        case 'd': return 86400;
        case 'w': return 7 * 86400;
        default:  return 0;
    }
}

int
duration_parse(const char *text, int64_t *seconds, char *err, size_t errlen)
{
    const char *p = text ? text : "";
    int64_t total = 0;
    if (!*p) {
        snprintf(err, errlen, "empty duration (e.g. 30d, 12h, 90m, 1d12h; units s m h d w)");
        return -1;
    }
    while (*p) {
        if (*p < '0' || *p > '9') {
            snprintf(err, errlen, "'%.40s' is not a duration: expected a number at '%.20s'"
                     " (e.g. 30d, 12h, 90m, 1d12h; units s m h d w)", text, p);
            return -1;
        }
        int64_t n = 0;
        while (*p >= '0' && *p <= '9') {
            n = n * 10 + (*p - '0');
            if (n > DURATION_MAX_S) {
                snprintf(err, errlen, "'%.40s' is longer than 100 years", text);
                return -1;
            }
            p++;
        }
        int64_t unit = s_unit(*p);
        if (!unit) {
            snprintf(err, errlen, *p ? "'%.40s' is not a duration: '%c' is not a unit (s m h d w)"
                                     : "'%.40s' is not a duration: the number has no unit (s m h d w,"
                                       " e.g. 30d)", text, *p);
            return -1;
        }
        p++;
        if (n > (DURATION_MAX_S - total) / unit) {
            snprintf(err, errlen, "'%.40s' is longer than 100 years", text);
            return -1;
        }
        total += n * unit;
    }
    *seconds = total;
    return 0;
}
