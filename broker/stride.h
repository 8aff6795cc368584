/*  stride — which task a worker gets next.

    Between jobs, stride scheduling by priority: each task dispatched
    advances its job's pass by STRIDE / priority and the active job with the
    smallest pass goes next, so a priority-3 job gets three times the share
    of a priority-1 job while both have work. Within a job, the task kinds
    take turns, and within a kind the ready lanes (one per target host);
    a lane at its host's limits is not in the ready ring (lane.h).
    Unit tests: tests/unit/test_stride.c. */
#ifndef SHOAL_STRIDE_H
#define SHOAL_STRIDE_H

#include "broker.h"

#define STRIDE 1000000ULL

//  The next task for a worker that runs `kinds` (bit per Shoal__TaskKind)
//  and, when peer is not NULL, has what the task's lane needs (handler,
//  labels: routing.h), taken out of its queue (detached: the caller leases
//  it), or NULL.
task_t *stride_pick(server_t *self, uint32_t kinds, const peer_t *peer);
//  The pass a new job starts at: level with the least advanced job, so it
//  neither starves nor monopolises.
uint64_t stride_start_pass(server_t *self);

#endif
