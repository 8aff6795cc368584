/*  buckets — the fixed histogram buckets of task durations and waits that
    the broker counts and the gateway serves as Prometheus histograms
    (shoal_task_duration_seconds, shoal_task_wait_seconds). The bounds are
    part of the protocol: ClusterInfo's bucket counts are per bound, in
    this order, plus one for values above the last (+Inf). */
#ifndef SHOAL_BUCKETS_H
#define SHOAL_BUCKETS_H

#include <stddef.h>

#define BUCKETS_N 15        //  finite bounds; counts arrays have BUCKETS_N + 1

//  Upper bounds in seconds.
static const double buckets_le[BUCKETS_N] = {
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300
};

//  Index of the bucket that holds `seconds` (BUCKETS_N: above every bound).
static inline size_t
buckets_index(double seconds)
{
    size_t i = 0;
    while (i < BUCKETS_N && seconds > buckets_le[i])
        i++;
    return i;
}

#endif
