/*  stride — see stride.h. */
#include "stride.h"

#include "lane.h"
#include "routing.h"
#include "task.h"

task_t *
stride_pick(server_t *self, uint32_t kinds, const peer_t *peer)
{
    job_t *best = NULL;
    lane_t **best_ring = NULL, *best_lane = NULL;
    for (job_t *job = zlist_first(self->job_list); job; job = zlist_next(self->job_list)) {
        if (job->state != SHOAL__JOB_STATE__JOB_ACTIVE || job->n_queued == 0)
            continue;
        if (best && job->pass >= best->pass)
            continue;
        //  kinds take turns too, like hosts within a kind; with a peer, a
        //  lane also needs the handler and labels it asks for (routing.c)
        for (int i = 0; i < BROKER_KINDS; i++) {
            int kind = 1 + (job->next_kind + i) % BROKER_KINDS;
            if (!(kinds & (1u << kind)) || !job->ready[kind])
                continue;
            lane_t *lane = peer ? routing_first_lane(peer, job->ready[kind]) : job->ready[kind];
            if (lane) {
                best = job;
                best_ring = &job->ready[kind];
                best_lane = lane;
                break;
            }
        }
    }
    if (!best)
        return NULL;
    best->next_kind = (uint32_t) (best_ring - &best->ready[1] + 1) % BROKER_KINDS;
    lane_t *lane = best_lane;
    *best_ring = lane->rnext;       //  hosts take turns
    task_t *task = lane->head;
    lane_take_token(lane);
    task_detach(self, task);
    best->pass += STRIDE / (best->priority ? best->priority : 1);
    return task;
}

uint64_t
stride_start_pass(server_t *self)
{
    uint64_t min_pass = UINT64_MAX;
    for (job_t *j = zlist_first(self->job_list); j; j = zlist_next(self->job_list))
        if (j->pass < min_pass)
            min_pass = j->pass;
    return min_pass == UINT64_MAX ? 0 : min_pass;
}
