/*  lane — per-host politeness: the tasks of one job that share a kind and
    a target host, and when that host may get the next one.

    Three limits, all per job and per host of its HTTP tasks: at most
    max_per_host requests at once, at most rate_per_host a second (a token
    bucket holding one token: requests are spaced 1/rate apart, so no
    one-second window sees more than rate + 1), and none while the host is
    throttled (a 429/503, until its backoff or Retry-After ends). A lane
    that may send is in its job's ready ring for its kind; one that waits
    for a token or the end of a throttle has a wake-up in the timer heap.
    Unit tests: tests/unit/test_lane.c. */
#ifndef SHOAL_LANE_H
#define SHOAL_LANE_H

#include "broker.h"

//  The job's lane for (kind, host), made on first use; NULL on allocation failure.
lane_t *lane_for(job_t *job, Shoal__TaskKind kind, const char *host);
//  zhashx destructor of a job's lanes.
void lane_free_item(void **item);
//  True when the lane may send a task at `now`: a task queued, below the
//  host's concurrency cap, not throttled, a token in the bucket. Refills
//  the bucket; when the lane must wait, *wake is when to look again (0:
//  until something else changes, a task ending or a new one queued).
bool lane_gate(lane_t *lane, int64_t now_ms, int64_t *wake_ms);
//  After any change to the lane: link it in or out of the ready ring,
//  schedule its wake-up, and free it when nothing refers to it.
void lane_update(server_t *self, lane_t *lane);
//  A task of the lane is being sent: spend its token.
void lane_take_token(lane_t *lane);
//  The host asked to slow down: hold the lane back for delay_ms.
void lane_throttle(server_t *self, lane_t *lane, int64_t now_ms, uint32_t delay_ms);
//  Its wake-up (heap tag `gen`) came due: look again. Returns false when
//  the wake-up was superseded.
bool lane_wake(server_t *self, lane_t *lane, uint64_t gen, int64_t now_ms);
//  Throttled lanes of a job (until > now): calls fn for each.
void lane_each_throttled(job_t *job, int64_t now_ms,
                         void (*fn)(const lane_t *lane, void *arg), void *arg);

#endif
