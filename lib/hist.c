/*  hist — see hist.h. */
#include "hist.h"

#include <string.h>

void
hist_reset(hist_t *self)
{
    memset(self, 0, sizeof *self);
}

static unsigned
s_bucket(uint64_t v)
{
    if (v < HIST_SUB)
        return (unsigned) v;
    unsigned exp = 63 - (unsigned) __builtin_clzll(v);         //  v in [2^exp, 2^(exp+1))
    unsigned sub = (unsigned) ((v >> (exp - 4)) & (HIST_SUB - 1)); //  next 4 bits
    unsigned b = (exp - 3) * HIST_SUB + sub;
    return b < HIST_BUCKETS ? b : HIST_BUCKETS - 1;
}

//  Midpoint of a bucket's value range.
static uint64_t
s_value(unsigned b)
{
    if (b < HIST_SUB)
        return b;
    unsigned exp = b / HIST_SUB + 3;
    unsigned sub = b % HIST_SUB;
    uint64_t low = (1ULL << exp) + ((uint64_t) sub << (exp - 4));
    return low + (1ULL << (exp - 4)) / 2;
}

void
hist_add(hist_t *self, uint64_t value)
{
    unsigned b = s_bucket(value);
    if (self->counts[b] < UINT32_MAX)
        self->counts[b]++;
    self->total++;
}

uint64_t
hist_percentile(const hist_t *self, double p)
{
    if (self->total == 0)
        return 0;
    uint64_t rank = (uint64_t) (p / 100.0 * (double) self->total + 0.5);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned b = 0; b < HIST_BUCKETS; b++) {
        seen += self->counts[b];
        if (seen >= rank)
            return s_value(b);
    }
    return s_value(HIST_BUCKETS - 1);
}
