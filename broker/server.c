/*  server — the broker's state (server_t): made before the database and
    the sockets, destroyed after them; and the small services every module
    uses: routing-id keys, lease ids, log budgets. */
#include "broker.h"

#include <stdlib.h>

#include "clock.h"
#include "leader.h"
#include "lease.h"
#include "log.h"
#include "text.h"

const char *
broker_rid_key(const uint8_t *rid, size_t len, char *buf)
{
    return text_hex(rid, len, buf);
}

bool
broker_log_budget(log_budget_t *budget, const char *what)
{
    int64_t now = clock_mono_ms();
    if (budget->window_ms == 0 || now - budget->window_ms >= LOG_BUDGET_WINDOW_MS) {
        if (budget->suppressed)
            log_warn("log_suppressed", "what=%s count=%llu window_s=%d", what,
                     (unsigned long long) budget->suppressed, LOG_BUDGET_WINDOW_MS / 1000);
        budget->window_ms = now;
        budget->logged = 0;
        budget->suppressed = 0;
    }
    if (budget->logged < LOG_BUDGET_BURST) {
        budget->logged++;
        return true;
    }
    budget->suppressed++;
    return false;
}

uint64_t
broker_next_lease(server_t *self)
{
    return lease_make(self->lease_tag, self->epoch, ++self->lease_counter);
}

//  The broker's state, before the database and the sockets; NULL when out of memory.
server_t *
server_new(const broker_config_t *cfg)
{
    server_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = *cfg;
    self->jobs = zhashx_new();
    self->job_list = zlist_new();
    self->tasks = u64map_new();
    self->recovered = u64map_new();
    self->held = u64map_new();
    self->answered = u64map_new();
    self->answered_ring = calloc(65536, sizeof(uint64_t));
    self->timers = heap_new();
    self->peers = zhashx_new();
    self->filling = batch_new();
    self->deletes_waiting = zlist_new();
    self->started_ms = clock_mono_ms();
    retry_rng_seed(&self->rng, 0);
    if (!self->jobs || !self->job_list || !self->tasks || !self->recovered || !self->held
    ||  !self->answered || !self->answered_ring || !self->timers || !self->peers || !self->filling
    ||  !self->deletes_waiting)
        server_destroy(&self);
    return self;
}

void
server_destroy(server_t **self_p)
{
    server_t *self = *self_p;
    if (!self)
        return;
    //  stores first: take back what their threads still hold
    store_t *stores[] = { self->writer, self->pager, self->ingest, self->reader, self->janitor };
    for (int i = 0; i < 5; i++)
        while (stores[i] && store_pending(stores[i])) {
            store_req_t *req = store_recv(stores[i]);
            if (req && req->op != STORE_WRITE)     //  write requests belong to their batch
                store_req_destroy(&req);
        }
    fanout_destroy_all(self);
    leader_destroy(&self->leader);
    store_destroy(&self->writer);
    store_destroy(&self->pager);
    store_destroy(&self->ingest);
    store_destroy(&self->reader);
    store_destroy(&self->janitor);
    if (self->deletes_waiting) {
        store_req_t *req;
        while ((req = zlist_pop(self->deletes_waiting)))
            store_req_destroy(&req);
        zlist_destroy(&self->deletes_waiting);
    }
    peer_t *peer;
    while ((peer = zhashx_first(self->peers)))
        backend_drop_peer(self, peer, false, "broker exit");
    job_t *job;
    while ((job = zlist_pop(self->job_list)))
        job_destroy(self, &job);
    zlist_destroy(&self->job_list);
    zhashx_destroy(&self->jobs);
    zhashx_destroy(&self->peers);
    u64map_destroy(&self->tasks);
    u64map_destroy(&self->recovered);
    u64map_destroy(&self->held);
    u64map_destroy(&self->answered);
    free(self->answered_ring);
    heap_destroy(&self->timers);
    batch_destroy(&self->filling);
    batch_destroy(&self->flushing);
    handshake_destroy(self);
    zsock_destroy(&self->frontend);
    zsock_destroy(&self->backend);
    zsock_destroy(&self->publisher);
    free(self);
    *self_p = NULL;
}
