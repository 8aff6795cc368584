/*  fence — which results count: the verdict on a result's lease.

    A pure function of what the broker knows about the task, so that every
    case can be unit-tested (tests/unit/test_fence.c). outcome.c acts on
    the verdict. */
#ifndef SHOAL_FENCE_H
#define SHOAL_FENCE_H

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    FENCE_BAD,          //  no broker issued the lease, or the task does not exist
    FENCE_DUPLICATE,    //  the result of this lease was taken already
    FENCE_STALE,        //  a lease this run replaced, or one of another database
    FENCE_CURRENT,      //  the task's lease now: the result counts
    FENCE_RECOVERED     //  an earlier run's lease on this database: the first result counts
} fence_t;

//  Seqs of the tasks pipeline steps create start here (STORE_CHILD_BASE).
#define FENCE_CHILD_BASE 1073741824u

//  What the broker knows when a result arrives.
typedef struct {
    uint64_t lease;         //  the result's lease
    uint32_t seq;           //  the task's number in its job
    uint64_t epoch;         //  this broker run
    uint64_t lease_tag;     //  the database's lease tag (lease.h)
    bool     job_known;     //  the job is in memory
    uint64_t job_tasks;     //  ... with this many committed tasks
    uint64_t job_child_top; //  ... and pipeline steps FENCE_CHILD_BASE..this (0: none)
    bool     task_known;    //  the task is in memory
    bool     task_leased;   //  ... and leased now
    uint64_t task_lease;    //  ... under this lease
    uint64_t answered;      //  lease whose result was taken lately (0: none)
} fence_input_t;

//  The verdict on one result.
fence_t fence_judge(const fence_input_t *in);
//  Its name, for logs and tests.
const char *fence_name(fence_t verdict);

#endif
