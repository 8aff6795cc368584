/*  duration — ages people type: "30d", "12h", "90m", "1d12h", "2w". Pure
    function, no allocation (shoal prune --older-than). */
#ifndef SHOAL_DURATION_H
#define SHOAL_DURATION_H

#include <stddef.h>
#include <stdint.h>

//  Parse `text`: one or more NUMBER UNIT pairs, units s (seconds), m
//  (minutes), h, d, w (weeks); a bare number has no unit and is refused.
//  On success stores the total in seconds (at most 100 years) and returns
//  0; else -1 with a message in err that quotes the bad value.
int duration_parse(const char *text, int64_t *seconds, char *err, size_t errlen);

#endif
