/*  hist — a log-bucketed histogram of durations (microseconds).

    16 sub-buckets per power of two: any percentile is reported within about
    6% of the true value, in a fixed 4 KiB whatever the number of samples.
*/
#ifndef SHOAL_HIST_H
#define SHOAL_HIST_H

#include <stdint.h>

#define HIST_SUB     16
#define HIST_BUCKETS (64 * HIST_SUB)

typedef struct {
    uint32_t counts[HIST_BUCKETS];  //  samples per bucket
    uint64_t total;                 //  samples recorded
} hist_t;

//  Reset to empty.
void hist_reset(hist_t *self);
//  Record one value.
void hist_add(hist_t *self, uint64_t value);
//  Value at percentile p (0..100); 0 when empty.
uint64_t hist_percentile(const hist_t *self, double p);

#endif
