/*  rate — see rate.h. */
#include "rate.h"

void
rate_add(rate_t *self, int64_t now_ms, uint64_t n)
{
    int64_t sec = now_ms / 1000;
    int slot = (int) (sec % RATE_SLOTS);
    if (self->second[slot] != sec) {
        self->second[slot] = sec;
        self->counts[slot] = 0;
    }
    if (self->first_ms == 0)
        self->first_ms = now_ms ? now_ms : 1;
    self->counts[slot] += n;
}

double
rate_get(const rate_t *self, int64_t now_ms, int window)
{
    if (window >= RATE_SLOTS)
        window = RATE_SLOTS - 1;
    if (window < 1 || self->first_ms == 0)
        return 0;
    int64_t now_sec = now_ms / 1000;
    //  a young meter averages over the seconds it has seen, not the window
    int64_t age = now_sec - self->first_ms / 1000;
    int span = age < window ? (int) age : window;
    if (span < 1) {
        //  less than a second old: extrapolate from the current second
        int slot = (int) (now_sec % RATE_SLOTS);
        int64_t elapsed = now_ms - self->first_ms;
        if (self->second[slot] != now_sec || elapsed < 100)
            return 0;
        return (double) self->counts[slot] * 1000.0 / (double) elapsed;
    }
    uint64_t sum = 0;
    for (int i = 1; i <= span; i++) {
        int64_t sec = now_sec - i;
        int slot = (int) (sec % RATE_SLOTS);
        if (self->second[slot] == sec)
            sum += self->counts[slot];
    }
    return (double) sum / span;
}
