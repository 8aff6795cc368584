/*  errbuf — the caller's error buffer. */
#include "errbuf.h"

#include <stdarg.h>
#include <stdio.h>

int
errbuf_set(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return -1;
    va_list args;
    va_start(args, fmt);
    vsnprintf(err, errlen, fmt, args);
    va_end(args);
    return -1;
}
