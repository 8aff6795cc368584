/*  rate — events per second over a sliding window of whole seconds. */
#ifndef SHOAL_RATE_H
#define SHOAL_RATE_H

#include <stdint.h>

#define RATE_SLOTS 16

typedef struct {
    uint64_t counts[RATE_SLOTS];    //  events per second, ring
    int64_t  second[RATE_SLOTS];    //  which second each slot holds
    int64_t  first_ms;              //  when the first event was counted
} rate_t;

//  Count n events at time now_ms (monotonic).
void rate_add(rate_t *self, int64_t now_ms, uint64_t n);
//  Events per second over the last `window` seconds (<= RATE_SLOTS - 1),
//  not counting the current partial second.
double rate_get(const rate_t *self, int64_t now_ms, int window);

#endif
