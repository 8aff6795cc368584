/*  errbuf — the caller's error buffer.

    Functions that can fail take (char *err, size_t errlen) and say what
    went wrong there, in words a person can act on. */
#ifndef SHOAL_ERRBUF_H
#define SHOAL_ERRBUF_H

#include <stddef.h>

//  Format the message into err (truncated to errlen) and return -1.
int errbuf_set(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
