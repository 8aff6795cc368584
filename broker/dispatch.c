/*  dispatch — sending tasks to workers.

    Credit-based: a worker never holds more than its slots (less tasks still
    running there from before a broker restart). Workers with free slots are
    in a ring and take turns; which task each gets is stride.c's choice. */
#include "broker.h"

#include <stdlib.h>

#include "clock.h"
#include "log.h"
#include "stride.h"
#include "task.h"
#include "wire.h"

#define MAX_PER_SEND  512
//  A Tasks message stays well under the workers' ZMQ_MAXMSGSIZE
//  (WIRE_MAX_FRAME): a spec and its job's defaults are at most ~16 MiB each
#define BYTES_PER_SEND (WIRE_MAX_FRAME / 4)

void
dispatch_peer_ready(server_t *self, peer_t *peer)
{
    uint32_t foreign = held_count(peer);
    if (peer->in_ready || peer->draining || peer->suspect || peer->leased + foreign >= peer->slots)
        return;
    if (self->ready) {
        peer->rnext = self->ready;
        peer->rprev = self->ready->rprev;
        self->ready->rprev->rnext = peer;
        self->ready->rprev = peer;
    }
    else {
        peer->rnext = peer->rprev = peer;
        self->ready = peer;
    }
    peer->in_ready = true;
}

void
dispatch_peer_unready(server_t *self, peer_t *peer)
{
    if (!peer->in_ready)
        return;
    if (peer->rnext == peer)
        self->ready = NULL;
    else {
        peer->rprev->rnext = peer->rnext;
        peer->rnext->rprev = peer->rprev;
        if (self->ready == peer)
            self->ready = peer->rnext;
    }
    peer->rnext = peer->rprev = NULL;
    peer->in_ready = false;
}

//  Fill one worker's free slots; returns the number of tasks sent.
static size_t
s_fill(server_t *self, peer_t *peer, int64_t now_ms, int64_t now_us)
{
    uint32_t foreign = held_count(peer);
    size_t credit = peer->slots > peer->leased + foreign ? peer->slots - peer->leased - foreign : 0;
    if (credit > MAX_PER_SEND)
        credit = MAX_PER_SEND;
    if (credit == 0)
        return 0;
    task_t *first = stride_pick(self, peer->kinds, peer);
    if (!first)
        return 0;
    Shoal__Task *tasks = calloc(credit, sizeof *tasks);
    Shoal__Task **task_ptrs = calloc(credit, sizeof *task_ptrs);
    Shoal__JobContext *ctx = calloc(credit, sizeof *ctx);
    Shoal__JobContext **ctx_ptrs = calloc(credit, sizeof *ctx_ptrs);
    size_t n = 0, n_ctx = 0, bytes = 0;
    if (!tasks || !task_ptrs || !ctx || !ctx_ptrs) {
        task_enqueue(self, first, true);
        goto cleanup;
    }
    while (n < credit && bytes < BYTES_PER_SEND) {
        task_t *task = first ? first : stride_pick(self, peer->kinds, peer);
        first = NULL;
        if (!task)
            break;
        bytes += task->spec_len + 48;
        task_lease(self, peer, task, broker_next_lease(self), now_ms, now_us);
        Shoal__Task *t = &tasks[n];
        shoal__task__init(t);
        t->has_task_id = t->has_lease = t->has_attempt = t->has_spec = t->has_timeout_ms = 1;
        t->task_id = task->id;
        t->lease = task->lease;
        t->attempt = task->attempt + 1;
        t->spec.data = task->spec;
        t->spec.len = task->spec_len;
        t->timeout_ms = task->timeout_ms;
        task_ptrs[n++] = t;
        //  each job's defaults travel once per message
        size_t c;
        for (c = 0; c < n_ctx; c++)
            if (ctx[c].job_id == task->job->id)
                break;
        if (c == n_ctx) {
            bytes += task->job->defaults_size + 16;
            shoal__job_context__init(&ctx[c]);
            ctx[c].has_job_id = 1;
            ctx[c].job_id = task->job->id;
            ctx[c].defaults = task->job->defaults;
            ctx_ptrs[c] = &ctx[c];
            n_ctx++;
        }
    }
    if (n) {
        Shoal__Tasks body = SHOAL__TASKS__INIT;
        body.tasks = task_ptrs;
        body.n_tasks = n;
        body.jobs = ctx_ptrs;
        body.n_jobs = n_ctx;
        Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
        env.body_case = SHOAL__ENVELOPE__BODY_TASKS;
        env.tasks = &body;
        //  if the send fails the leases stay: the worker's next Hello or the
        //  lease deadline brings the tasks back
        backend_send(self, peer, &env);
    }
cleanup:
    free(tasks);
    free(task_ptrs);
    free(ctx);
    free(ctx_ptrs);
    return n;
}

void
dispatch_mark_leased(server_t *self)
{
    if (self->lease_mark != LEASE_MARK_NONE || clock_mono_ms() < self->lease_mark_after_ms)
        return;
    store_req_t *req = store_req_new(STORE_MARK_LEASED);
    if (!req)
        return;
    req->mark_term = self->epoch;
    //  the pager: at start-up it reads pages, never a long write
    if (store_submit(self->pager, req) != 0) {
        store_req_destroy(&req);
        return;
    }
    self->lease_mark = LEASE_MARK_PENDING;
}

void
dispatch_on_marked(server_t *self, store_req_t *req)
{
    if (req->status == STORE_OK) {
        self->lease_mark = LEASE_MARK_DONE;
        log_debug("lease_mark", "term=%llu", (unsigned long long) self->epoch);
    }
    else {
        //  asked again in a second (the database may be down: one line each time)
        self->lease_mark = LEASE_MARK_NONE;
        self->lease_mark_after_ms = clock_mono_ms() + 1000;
        char q[600];
        log_warn("lease_mark_failed", "term=%llu error=%s detail=\"no task goes out until this term's"
                 " first lease is recorded; trying again in 1 s\"", (unsigned long long) self->epoch,
                 log_quote(req->error, q, sizeof q));
    }
    store_req_destroy(&req);
}

void
dispatch_run(server_t *self)
{
    if (!self->ready)
        return;
    //  just after a (re)start, workers are still telling us what they
    //  finished for the previous broker run: do not hand those tasks out twice
    if (clock_mono_ms() < self->dispatch_after_ms)
        return;
    //  while the lease is unrenewed nothing commits: results wait in memory
    //  (with the children they create), so no more work goes out until a
    //  renewal (a fan-out kept going grew the broker past 300 MB)
    if (self->lapsed)
        return;
    //  results wait for many children to be rendered (fanout.c): more
    //  work out now would only make more of them wait in memory
    if (fanout_backlogged(self))
        return;
    bool work = false;
    for (job_t *job = zlist_first(self->job_list); job && !work; job = zlist_next(self->job_list))
        work = job->state == SHOAL__JOB_STATE__JOB_ACTIVE && job->n_queued > 0;
    if (!work)
        return;
    //  a term's first lease waits until the term's record that it hands
    //  out leases is committed (store_term.c): one commit per term
    if (self->lease_mark != LEASE_MARK_DONE) {
        dispatch_mark_leased(self);
        return;
    }
    int64_t now_ms = clock_mono_ms();
    int64_t now_us = clock_wall_us();
    //  one pass around the ring; peers left with free slots stay in it
    peer_t *start = self->ready;
    peer_t *peer = start;
    size_t peers = 0;
    for (peer_t *p = start; p; p = p->rnext == start ? NULL : p->rnext)
        peers++;
    for (size_t i = 0; i < peers && peer; i++) {
        peer_t *next = peer->rnext;
        size_t sent = s_fill(self, peer, now_ms, now_us);
        uint32_t foreign = held_count(peer);
        if (peer->leased + foreign >= peer->slots)
            dispatch_peer_unready(self, peer);
        (void) sent;
        peer = self->ready ? next : NULL;
    }
    //  start with a different worker next time
    if (self->ready)
        self->ready = self->ready->rnext;
}
