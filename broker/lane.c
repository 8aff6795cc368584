/*  lane — see lane.h. */
#include "lane.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "routing.h"

void
lane_free_item(void **item)
{
    lane_t **lane_p = (lane_t **) item;
    if (*lane_p) {
        if ((*lane_p)->route)
            (*lane_p)->job->routed_lanes--;
        routing_route_destroy(&(*lane_p)->route);
        free((*lane_p)->key);
    }
    free(*lane_p);
    *lane_p = NULL;
}

lane_t *
lane_for(job_t *job, Shoal__TaskKind kind, const char *host)
{
    char key[1400];
    snprintf(key, sizeof key, "%s:%s", taskspec_kind_name(kind), host);
    //  "host|route": what a worker needs to run the lane's tasks (routing.c)
    const char *bar = strchr(host, '|');
    lane_t *lane = zhashx_lookup(job->lanes, key);
    if (lane)
        return lane;
    lane = calloc(1, sizeof *lane);
    if (!lane)
        return NULL;
    lane->key = strdup(key);
    if (!lane->key) {
        free(lane);
        return NULL;
    }
    lane->job = job;
    lane->kind = kind;
    lane->tokens = 1;
    lane->route = bar ? routing_route_new(bar + 1) : NULL;
    job->routed_lanes += lane->route != NULL;
    zhashx_insert(job->lanes, key, lane);
    return lane;
}

//  Free a lane nobody needs: no task of it in memory, no timer pending.
//  (A job over a million hosts must not keep a million idle lanes.)
static void
s_maybe_free(lane_t *lane)
{
    if (lane->refs || lane->in_ready || (lane->gen & 1))
        return;
    zhashx_delete(lane->job->lanes, lane->key);
}

static void
s_ready_link(lane_t *lane)
{
    lane_t **ring = &lane->job->ready[lane->kind <= BROKER_KINDS ? lane->kind : 0];
    if (lane->in_ready)
        return;
    if (*ring) {
        lane->rnext = *ring;
        lane->rprev = (*ring)->rprev;
        (*ring)->rprev->rnext = lane;
        (*ring)->rprev = lane;
    }
    else {
        lane->rnext = lane->rprev = lane;
        *ring = lane;
    }
    lane->in_ready = true;
}

static void
s_ready_unlink(lane_t *lane)
{
    lane_t **ring = &lane->job->ready[lane->kind <= BROKER_KINDS ? lane->kind : 0];
    if (!lane->in_ready)
        return;
    if (lane->rnext == lane)
        *ring = NULL;
    else {
        lane->rprev->rnext = lane->rnext;
        lane->rnext->rprev = lane->rprev;
        if (*ring == lane)
            *ring = lane->rnext;
    }
    lane->rnext = lane->rprev = NULL;
    lane->in_ready = false;
}

//  True when the job's host limits apply to this lane.
static bool
s_polite(const lane_t *lane)
{
    return lane->kind == SHOAL__TASK_KIND__KIND_HTTP;
}

bool
lane_gate(lane_t *lane, int64_t now_ms, int64_t *wake_ms)
{
    const job_t *job = lane->job;
    *wake_ms = 0;
    if (lane->queued == 0)
        return false;
    if (job->max_per_host && s_polite(lane) && lane->running >= job->max_per_host)
        return false;
    if (lane->blocked_until_ms > now_ms) {
        *wake_ms = lane->blocked_until_ms;
        return false;
    }
    if (job->rate_per_host > 0 && s_polite(lane)) {
        if (lane->tokens_ms == 0)
            lane->tokens_ms = now_ms;
        lane->tokens += (double) (now_ms - lane->tokens_ms) * job->rate_per_host / 1000.0;
        if (lane->tokens > 1)
            lane->tokens = 1;
        lane->tokens_ms = now_ms;
        if (lane->tokens < 1) {
            *wake_ms = now_ms + (int64_t) ((1 - lane->tokens) * 1000.0 / job->rate_per_host) + 1;
            return false;
        }
    }
    return true;
}

void
lane_update(server_t *self, lane_t *lane)
{
    int64_t wake;
    bool ready = lane_gate(lane, clock_mono_ms(), &wake);
    if (ready)
        s_ready_link(lane);
    else
        s_ready_unlink(lane);
    if (wake && !(lane->gen & 1)) {
        //  odd gen = a wake-up is pending in the heap (which points at the
        //  lane: neither it nor its job may be freed until it pops)
        lane->gen |= 1;
        lane->job->lane_timers++;
        heap_push(self->timers, wake, lane, lane->gen);
    }
    if (!ready && !wake)
        s_maybe_free(lane);
}

void
lane_take_token(lane_t *lane)
{
    if (lane->job->rate_per_host > 0 && s_polite(lane))
        lane->tokens -= 1;
}

void
lane_throttle(server_t *self, lane_t *lane, int64_t now_ms, uint32_t delay_ms)
{
    int64_t until = now_ms + delay_ms;
    if (until > lane->blocked_until_ms)
        lane->blocked_until_ms = until;
    lane_update(self, lane);
}

bool
lane_wake(server_t *self, lane_t *lane, uint64_t gen, int64_t now_ms)
{
    if (lane->gen != gen)
        return false;
    lane->gen++;            //  even again: no wake-up pending
    lane->job->lane_timers--;
    if (lane->blocked_until_ms && lane->blocked_until_ms <= now_ms)
        lane->blocked_until_ms = 0;
    lane_update(self, lane);
    return true;
}

void
lane_each_throttled(job_t *job, int64_t now_ms, void (*fn)(const lane_t *lane, void *arg), void *arg)
{
    for (lane_t *lane = zhashx_first(job->lanes); lane; lane = zhashx_next(job->lanes))
        if (lane->blocked_until_ms > now_ms)
            fn(lane, arg);
}
