/*  startup — what a broker does before it serves: the schema created or
    migrated (waiting for the database to come up), and, once it leads,
    the store threads fenced by its term and the active jobs loaded. */
#include "broker.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

//  Wait for one reply from a store during start-up (the loop is not running yet).
static store_req_t *
s_store_call(store_t *store, store_req_t *req)
{
    if (store_submit(store, req) != 0)
        return NULL;
    return store_recv(store);
}

//  Create or migrate the schema, waiting for the database to come up
//  (compose, systemd). 0, or -1 when a migration fails or a signal came.
int
startup_migrate(const broker_config_t *cfg)
{
    int64_t backoff = 200;
    while (true) {
        if (broker_signals())
            return -1;
        char err[1024];
        int version = 0, applied = 0;
        if (store_migrate(cfg->db, &version, &applied, err, sizeof err) == 0) {
            log_info("schema_ready", "version=%d applied=%d", version, applied);
            return 0;
        }
        char q[1100];
        log_warn("db_unavailable", "error=%s retry_ms=%lld", log_quote(err, q, sizeof q),
                 (long long) backoff);
        if (strstr(err, "migration"))
            return -1;
        usleep((useconds_t) backoff * 1000);
        backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
    }
}

//  The leader's state from the database: the store threads (their writes
//  fenced by this term) and the active jobs. 0 or -1.
int
startup_load(server_t *self)
{
    self->writer = store_new(self->cfg.db, "writer", self->epoch);
    self->pager = store_new(self->cfg.db, "pager", self->epoch);
    self->ingest = store_new(self->cfg.db, "ingest", self->epoch);
    self->reader = store_new(self->cfg.db, "reader", self->epoch);
    self->janitor = store_new(self->cfg.db, "janitor", self->epoch);
    if (!self->writer || !self->pager || !self->ingest || !self->reader || !self->janitor)
        return -1;
    while (true) {
        store_req_t *req = store_req_new(STORE_LOAD);
        if (req) {
            req->load.epoch = self->epoch;
            req->load.lease_tag = self->lease_tag;
        }
        req = req ? s_store_call(self->writer, req) : NULL;
        if (!req)
            return -1;
        if (req->status == STORE_ERR_FENCED) {
            log_warn("leadership_lost", "reason=fenced term=%llu detail=\"another broker took over"
                     " while this one loaded its state\"", (unsigned long long) self->epoch);
            self->deposed = true;
            store_req_destroy(&req);
            return -1;
        }
        if (req->status == STORE_OK) {
            //  the persisted totals: the metrics carry on across restarts
            progress_add_counters(self, &req->load.counters);
            uint64_t tasks = 0;
            for (size_t i = 0; i < req->n_jobs; i++) {
                job_t *job = job_new(self, &req->jobs[i]);
                //  a pipeline's results count its steps' children too
                uint64_t all = req->jobs[i].n_tasks + req->jobs[i].n_children;
                uint64_t ended = job ? job->ok + job->failed + job->cancelled : all;
                if (job)
                    tasks += all > ended ? all - ended : 0;
            }
            self->unfinished_at_start = tasks;
            log_info("state_loaded", "epoch=%llu lease_tag=%llu jobs=%zu unfinished_tasks=%llu",
                     (unsigned long long) self->epoch, (unsigned long long) self->lease_tag,
                     req->n_jobs, (unsigned long long) tasks);
            store_req_destroy(&req);
            break;
        }
        char q[600];
        log_warn("load_failed", "error=%s", log_quote(req->error, q, sizeof q));
        store_req_destroy(&req);
        if (broker_signals())
            return -1;
        usleep(500 * 1000);
    }
    self->db_up = true;
    self->loaded = true;
    deletion_resume(self);      //  deletions a stopped broker left unfinished
    return 0;
}
