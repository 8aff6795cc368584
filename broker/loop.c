/*  loop — start-up, the event loop and shutdown of shoal-broker.

    One thread dispatches. It polls the three sockets and the store
    threads' pipes, sleeping exactly until the next timer (retry due, lane
    unblock, heartbeat cron, snapshot). Before each sleep it pages tasks in,
    dispatches to workers with free slots and hands a result batch to the
    writer if the writer is idle: results batch up under load and go out at
    once when the broker is idle. */
#include "broker.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "endpoints.h"
#include "leader.h"
#include "lease.h"
#include "log.h"
#include "wire.h"

static volatile sig_atomic_t s_signals = 0;    //  SIGTERM/SIGINT count

static void
s_on_signal(int sig)
{
    s_signals++;
}

const char *
broker_rid_key(const uint8_t *rid, size_t len, char *buf)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        buf[2 * i] = hex[rid[i] >> 4];
        buf[2 * i + 1] = hex[rid[i] & 15];
    }
    buf[2 * len] = 0;
    return buf;
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

//  True for endpoints only this machine can reach.
static bool
s_local_endpoint(const char *endpoint)
{
    return strncmp(endpoint, "tcp://127.", 10) == 0 || strncmp(endpoint, "tcp://localhost:", 16) == 0
        || strncmp(endpoint, "tcp://[::1]:", 12) == 0 || strncmp(endpoint, "ipc://", 6) == 0
        || strncmp(endpoint, "inproc://", 9) == 0;
}

//  Bind one of the three sockets (`which`: 0 frontend, 1 backend, 2
//  progress) with its limits, CURVE when configured, and a handshake monitor.
static zsock_t *
s_bind(server_t *self, int type, int which, const char *endpoint, const char *what)
{
    zsock_t *sock = zsock_new(type);
    if (!sock)
        return NULL;
    void *raw = zsock_resolve(sock);
    wire_socket_defaults(raw);
    if (which == 0)
        wire_socket_max_frame(raw, WIRE_MAX_CLIENT_FRAME);
    //  ROUTER: a full send queue drops the message, so the send side is
    //  generous (--hwm); one peer's receive queue is capped (docs/protocol.md).
    //  PUB: a stopped subscriber (a monitor under ^Z) holds at most
    //  --progress-hwm messages of the broker's memory, then PUB drops for it
    int sndhwm = (int) (type == ZMQ_PUB ? self->cfg.progress_hwm : self->cfg.hwm);
    int rcvhwm = self->cfg.hwm < WIRE_RCVHWM ? (int) self->cfg.hwm : WIRE_RCVHWM;
    zmq_setsockopt(raw, ZMQ_SNDHWM, &sndhwm, sizeof sndhwm);
    zmq_setsockopt(raw, ZMQ_RCVHWM, &rcvhwm, sizeof rcvhwm);
    if (type == ZMQ_ROUTER) {
        //  a worker that reconnects with the same identity takes over
        int on = 1;
        zmq_setsockopt(raw, ZMQ_ROUTER_HANDOVER, &on, sizeof on);
    }
    if (keys_apply(self->cfg.keys, raw) != 0) {
        log_error("curve_failed", "socket=%s error=\"%s\"", what, zmq_strerror(zmq_errno()));
        zsock_destroy(&sock);
        return NULL;
    }
    if (handshake_watch(self, which, raw) != 0)
        log_warn("monitor_failed", "socket=%s detail=\"failed handshakes will not be counted\"", what);
    if (zsock_bind(sock, "%s", endpoint) < 0) {
        log_error("bind_failed", "socket=%s endpoint=%s error=\"%s\"", what, endpoint,
                  zmq_strerror(zmq_errno()));
        zsock_destroy(&sock);
        return NULL;
    }
    //  endpoint last: scripts read the bound port from this line
    char bound[256];
    log_info("listening", "socket=%s curve=%s endpoint=%s", what, self->cfg.keys ? "on" : "off",
             endpoints_bound(raw, endpoint, bound, sizeof bound));
    if (!self->cfg.keys && !s_local_endpoint(endpoint))
        log_warn("curve_off", "socket=%s endpoint=%s detail=\"plaintext and unauthenticated:"
                 " anyone who reaches this port can %s; turn on CURVE with --curve-secret and"
                 " --curve-allow (docs/operations.md)\"", what, endpoint,
                 which == 0 ? "submit and control jobs" : which == 1 ? "take tasks and send results"
                                                                     : "watch progress");
    return sock;
}

//  Wait for one reply from a store during start-up (the loop is not running yet).
static store_req_t *
s_store_call(store_t *store, store_req_t *req)
{
    if (store_submit(store, req) != 0)
        return NULL;
    return store_recv(store);
}

//  True once a signal asked the broker to stop (a standby's wait ends).
static bool
s_stop_asked(void)
{
    return s_signals != 0;
}

//  Create or migrate the schema, waiting for the database to come up
//  (compose, systemd). 0, or -1 when a migration fails or a signal came.
static int
s_migrate(const broker_config_t *cfg)
{
    int64_t backoff = 200;
    while (true) {
        if (s_signals)
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
static int
s_load(server_t *self)
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
                if (job)
                    tasks += job->n_tasks - job->ok - job->failed - job->cancelled;
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
        if (s_signals)
            return -1;
        usleep(500 * 1000);
    }
    self->db_up = true;
    self->loaded = true;
    deletion_resume(self);      //  deletions a stopped broker left unfinished
    return 0;
}

//  Read up to `max` messages from a ROUTER socket.
static void
s_drain_router(server_t *self, void *raw, bool backend, int max)
{
    for (int i = 0; i < max; i++) {
        zmq_msg_t rid, body;
        zmq_msg_init(&rid);
        if (zmq_msg_recv(&rid, raw, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&rid);
            return;
        }
        zmq_msg_init(&body);
        bool ok = zmq_msg_more(&rid) && zmq_msg_recv(&body, raw, ZMQ_DONTWAIT) >= 0;
        //  exactly two frames: routing id, envelope; anything else is dropped
        bool extra = false;
        while (ok && zmq_msg_more(&body)) {
            extra = true;
            zmq_msg_t junk;
            zmq_msg_init(&junk);
            if (zmq_msg_recv(&junk, raw, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&junk);
                break;
            }
            bool more = zmq_msg_more(&junk);
            zmq_msg_close(&junk);
            if (!more)
                break;
        }
        if (!ok || extra || zmq_msg_size(&rid) > sizeof(((peer_t *) 0)->rid)) {
            self->bad_messages++;
            log_debug("bad_frame", "socket=%s reason=frames", backend ? "backend" : "frontend");
        }
        else
        if (backend)
            backend_on_message(self, zmq_msg_data(&rid), zmq_msg_size(&rid),
                               zmq_msg_data(&body), zmq_msg_size(&body));
        else
            frontend_on_message(self, zmq_msg_data(&rid), zmq_msg_size(&rid),
                                zmq_msg_data(&body), zmq_msg_size(&body));
        zmq_msg_close(&body);
        zmq_msg_close(&rid);
    }
}

static void
s_on_store(server_t *self, store_t *store)
{
    store_req_t *req = store_recv(store);
    if (!req)
        return;
    //  database reachability, as the store threads see it
    bool up = req->status != STORE_ERR_DOWN;
    if (up != self->db_up) {
        self->db_up = up;
        progress_event(self, up ? SHOAL__EVENT_TYPE__EVENT_DB_UP : SHOAL__EVENT_TYPE__EVENT_DB_DOWN,
                       0, NULL, 0, "%s", up ? "database reachable" : req->error);
    }
    if (req->status == STORE_ERR_FENCED && !self->deposed) {
        char q[600];
        log_warn("leadership_lost", "reason=fenced term=%llu error=%s", (unsigned long long) self->epoch,
                 log_quote(req->error, q, sizeof q));
        self->deposed = true;
    }
    switch (req->op) {
        case STORE_WRITE:
            batch_on_written(self, req);
            break;
        case STORE_PAGE:
            job_on_page(self, req);
            break;
        case STORE_STEPS:
            steps_on_read(self, req);
            store_req_destroy(&req);
            break;
        default:
            frontend_on_store(self, req);
            break;
    }
}

//  A report of the lease's renewal thread: the lease is ours a while
//  longer, or another broker leads now, or the database did not answer.
static void
s_on_leader(server_t *self)
{
    leader_report_t r;
    if (leader_recv(self->leader, &r) != 0)
        return;
    char q[600];
    switch (r.type) {
        case LEADER_RENEWED:
            self->commit_until_ms = leader_commit_deadline(r.sent_ms, self->cfg.lease_ttl_ms);
            if (self->lapsed)
                log_info("lease_renewed", "term=%llu detail=\"committing again\"",
                         (unsigned long long) self->epoch);
            self->lapsed = false;
            break;
        case LEADER_DEPOSED:
            if (!self->deposed)
                log_warn("leadership_lost", "reason=deposed term=%llu leader=%s leader_term=%llu",
                         (unsigned long long) self->epoch, log_quote(r.holder, q, sizeof q),
                         (unsigned long long) r.holder_term);
            self->deposed = true;
            break;
        case LEADER_UNREACHABLE:
            log_warn("lease_renew_failed", "term=%llu error=%s", (unsigned long long) self->epoch,
                     log_quote(r.error, q, sizeof q));
            break;
        case LEADER_RESIGNED:
            break;
    }
}

//  Self-fencing on our own clock: once the lease may have lapsed, nothing
//  more is committed until a renewal succeeds (a standby may lead by now).
//  True while commits may go on.
static bool
s_may_commit(server_t *self, int64_t now)
{
    if (now <= self->commit_until_ms)
        return true;
    if (!self->lapsed)
        log_warn("lease_lapsed", "term=%llu late_ms=%lld held_results=%zu detail=\"no commit"
                 " until the lease is renewed\"", (unsigned long long) self->epoch,
                 (long long) (now - self->commit_until_ms), batch_held(self));
    self->lapsed = true;
    return false;
}

static int64_t
s_next_deadline(server_t *self, int64_t now)
{
    if (fanout_pending(self))
        return now;             //  children left to render: the next turn at once
    int64_t next = self->next_cron_ms;
    if (self->next_snapshot_ms < next)
        next = self->next_snapshot_ms;
    int64_t timer = job_next_timer(self);
    if (timer < next)
        next = timer;
    if (self->dispatch_after_ms > now && self->dispatch_after_ms < next)
        next = self->dispatch_after_ms;
    if (self->filling->results + self->filling->req->write.attempt_rows.rows > 0 && !self->flushing
    &&  self->write_retry_ms > now && self->write_retry_ms < next)
        next = self->write_retry_ms;
    return next;
}

static void s_server_destroy(server_t **self_p);

//  The broker's state, before the database and the sockets; NULL when out of memory.
static server_t *
s_server_new(const broker_config_t *cfg)
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
        s_server_destroy(&self);
    return self;
}

static void
s_server_destroy(server_t **self_p)
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

//  Bind the three sockets and start the clocks. Returns 0 or -1 (logged).
static int
s_start(server_t *self)
{
    const broker_config_t *cfg = &self->cfg;
    if (cfg->keys)
        log_info("curve_enabled", "public_key=%s allowed_keys=%zu", keys_public_txt(cfg->keys),
                 keys_allowed_count(cfg->keys));
    self->frontend = s_bind(self, ZMQ_ROUTER, 0, cfg->frontend, "frontend");
    self->backend = self->frontend ? s_bind(self, ZMQ_ROUTER, 1, cfg->backend, "backend") : NULL;
    self->publisher = self->backend ? s_bind(self, ZMQ_PUB, 2, cfg->progress, "progress") : NULL;
    if (!self->publisher) {
        const char *ep = !self->frontend ? cfg->frontend : !self->backend ? cfg->backend : cfg->progress;
        log_error("startup_failed", "error=\"cannot listen\" endpoint=%s", ep);
        return -1;
    }
    self->frontend_raw = zsock_resolve(self->frontend);
    self->backend_raw = zsock_resolve(self->backend);
    self->publisher_raw = zsock_resolve(self->publisher);
    //  the recovery window lets workers resend what they finished for an
    //  earlier broker run before its tasks go out again; with no unfinished
    //  task in the database no worker can be running one (docs/architecture.md)
    int64_t recovery_ms = self->unfinished_at_start ? cfg->recovery_ms : 0;
    self->dispatch_after_ms = clock_mono_ms() + recovery_ms;
    char fe[256], be[256], pr[256];
    endpoints_bound(self->frontend_raw, cfg->frontend, fe, sizeof fe);
    endpoints_bound(self->backend_raw, cfg->backend, be, sizeof be);
    endpoints_bound(self->publisher_raw, cfg->progress, pr, sizeof pr);
    if (cfg->endpoints_file && endpoints_write(cfg->endpoints_file, fe, be, pr) != 0)
        return -1;
    log_info("broker_started", "id=%s epoch=%llu version=%s recovery_ms=%lld frontend=%s backend=%s"
             " progress=%s", self->broker_id, (unsigned long long) self->epoch, SHOAL_VERSION,
             (long long) recovery_ms, fe, be, pr);
    self->cron_period_ms = cfg->heartbeat_ms / 2 < 250 ? cfg->heartbeat_ms / 2 : 250;
    if (self->cron_period_ms < 10)
        self->cron_period_ms = 10;
    self->next_cron_ms = clock_mono_ms() + self->cron_period_ms;
    self->next_snapshot_ms = clock_mono_ms() + cfg->snapshot_ms;
    return 0;
}

//  Wait for the next event or deadline; handle what arrived. Returns -1
//  when polling failed.
static int
s_poll(server_t *self)
{
    int64_t now = clock_mono_ms();
    int64_t deadline = s_next_deadline(self, now);
    long timeout = deadline <= now ? 0 : (long) (deadline - now);
    zmq_pollitem_t items[11] = {
        { self->backend_raw, 0, ZMQ_POLLIN, 0 },
        { self->frontend_raw, 0, ZMQ_POLLIN, 0 },
        { zsock_resolve(store_sock(self->writer)), 0, ZMQ_POLLIN, 0 },
        { zsock_resolve(store_sock(self->ingest)), 0, ZMQ_POLLIN, 0 },
        { zsock_resolve(store_sock(self->reader)), 0, ZMQ_POLLIN, 0 },
        { zsock_resolve(store_sock(self->pager)), 0, ZMQ_POLLIN, 0 },
        { zsock_resolve(store_sock(self->janitor)), 0, ZMQ_POLLIN, 0 },
        { zsock_resolve(leader_sock(self->leader)), 0, ZMQ_POLLIN, 0 },
    };
    //  a socket without a monitor is left out of the poll
    int n_items = 8;
    for (int m = 0; m < 3; m++)
        if (self->monitor_raw[m])
            items[n_items++] = (zmq_pollitem_t) { self->monitor_raw[m], 0, ZMQ_POLLIN, 0 };
    int rc = zmq_poll(items, n_items, timeout);
    if (rc < 0 && errno != EINTR) {
        log_error("poll_failed", "error=\"%s\"", zmq_strerror(errno));
        return -1;
    }
    if (s_signals >= 2) {
        //  no waiting on a database that may hang: what was not acked,
        //  the workers still hold for the next broker
        log_warn("shutdown_forced", "held_results=%zu", batch_held(self));
        _exit(1);
    }
    fanout_turn_start(self);
    if (rc <= 0)
        return 0;
    if (items[7].revents & ZMQ_POLLIN)
        s_on_leader(self);
    store_t *stores[] = { self->writer, self->ingest, self->reader, self->pager, self->janitor };
    for (int k = 0; k < 5; k++)
        if (items[2 + k].revents & ZMQ_POLLIN)
            s_on_store(self, stores[k]);
    if (items[0].revents & ZMQ_POLLIN)
        s_drain_router(self, self->backend_raw, true, 1000);
    if (items[1].revents & ZMQ_POLLIN)
        s_drain_router(self, self->frontend_raw, false, 1000);
    for (int k = 8; k < n_items; k++)
        if (items[k].revents & ZMQ_POLLIN)
            for (int m = 0; m < 3; m++)
                if (items[k].socket == self->monitor_raw[m])
                    handshake_on_event(self, m);
    return 0;
}

//  The loop never goes longer than a cron period between two turns: a gap
//  of two heartbeats means this process was frozen (SIGSTOP, a suspended
//  VM, a stalled disk). The workers' silence meanwhile was ours: it does
//  not count (nor against lease deadlines), and what they sent is read
//  before the next cron judges anyone. Returns true after a stall.
static bool
s_check_stall(server_t *self, int64_t now)
{
    int64_t gap = now - self->last_turn_ms;
    self->last_turn_ms = now;
    if (gap <= 2 * self->cfg.heartbeat_ms || gap <= 2 * self->cron_period_ms)
        return false;
    log_warn("broker_stalled", "frozen_ms=%lld workers=%zu detail=\"the stall does not count"
             " as the workers' silence\"", (long long) gap, zhashx_size(self->peers));
    backend_resume(self, now, gap - self->cron_period_ms);
    //  read what the workers sent meanwhile before judging anyone
    s_drain_router(self, self->backend_raw, true, INT32_MAX);
    return true;
}

//  One turn after the poll: timers, cron, snapshot, paging, dispatch, writes.
static void
s_turn(server_t *self)
{
    int64_t now = clock_mono_ms();
    bool stalled = s_check_stall(self, now);
    job_timers(self, now);
    if (now >= self->next_cron_ms && !stalled) {
        backend_cron(self, now);
        deletion_cron(self);
        self->next_cron_ms = now + self->cron_period_ms;
    }
    if (now >= self->next_snapshot_ms) {
        progress_publish(self);
        steps_refresh(self, true);
        self->next_snapshot_ms = now + self->cfg.snapshot_ms;
    }
    if (self->steps_wanted)
        steps_refresh(self, false);
    //  before sleeping: page in, dispatch, write
    if (!self->stopping) {
        job_page_all(self);
        dispatch_run(self);
    }
    //  the next slice of the fan-outs that did not fit in one turn
    fanout_run(self);
    if (s_may_commit(self, now))
        batch_flush(self, now);
}

//  True when a shutdown is complete or ran out of time.
static bool
s_stopped(server_t *self, int64_t stop_deadline)
{
    bool idle = batch_held(self) == 0 && fanout_pending(self) == 0 && store_pending(self->writer) == 0
             && store_pending(self->ingest) == 0 && store_pending(self->janitor) == 0;
    if (idle) {
        log_info("shutdown_complete", "reason=signal");
        return true;
    }
    if (clock_mono_ms() > stop_deadline) {
        log_warn("shutdown_timeout", "held_results=%zu detail=\"the database did not take"
                 " the last results; workers will send them again to the next broker\"",
                 batch_held(self));
        return true;
    }
    return false;
}

//  How a leader's run ended.
typedef enum {
    SERVE_STOPPED,      //  signal: shut down (resign the lease)
    SERVE_FAILED,       //  could not go on: exit 1
    SERVE_DEPOSED       //  another broker leads: stand by again
} serve_end_t;

//  Serve as the leader of term claim->term until a signal, a failure or
//  being deposed.
static serve_end_t
s_serve(server_t *self, const leader_config_t *lc, const leader_claim_t *claim)
{
    self->epoch = claim->term;
    self->lease_tag = claim->lease_tag;
    self->term_since_us = claim->since_us;
    self->commit_until_ms = leader_commit_deadline(clock_mono_ms(), lc->ttl_ms);
    self->leader = leader_new(lc, claim->term);
    if (!self->leader)
        return SERVE_FAILED;
    log_info("role", "role=leader term=%llu since_us=%lld previous=%s", (unsigned long long) claim->term,
             (long long) claim->since_us, *claim->previous ? claim->previous : "none");
    if (s_load(self) != 0) {
        if (self->deposed || s_signals)
            return self->deposed ? SERVE_DEPOSED : SERVE_STOPPED;
        log_error("startup_failed", "error=\"cannot load state from the database\"");
        return SERVE_FAILED;
    }
    snprintf(self->previous_leader, sizeof self->previous_leader, "%s", claim->previous);
    if (s_start(self) != 0)
        return SERVE_FAILED;
    progress_event(self, SHOAL__EVENT_TYPE__EVENT_LEADER, 0, NULL, claim->term, "%s leads (term %llu)%s%s",
                   self->broker_id, (unsigned long long) claim->term, *claim->previous ? ", after " : "",
                   claim->previous);
    int64_t stop_deadline = 0;
    self->last_turn_ms = clock_mono_ms();
    while (true) {
        if (s_poll(self) != 0)
            return SERVE_FAILED;
        if (self->deposed) {
            log_warn("role", "role=standby term=%llu held_results=%zu detail=\"deposed: sockets"
                     " closed, nothing more is committed; workers resend to the new leader\"",
                     (unsigned long long) self->epoch, batch_held(self));
            return SERVE_DEPOSED;
        }
        if (s_signals && !self->stopping) {
            self->stopping = true;
            stop_deadline = clock_mono_ms() + 10000;
            log_info("shutdown_started", "held_results=%zu", batch_held(self));
            deletion_drop_waiting(self);
        }
        s_turn(self);
        if (self->stopping && s_stopped(self, stop_deadline))
            return SERVE_STOPPED;
    }
}

int
broker_run(const broker_config_t *cfg)
{
    zsys_handler_set(NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    char host[48] = "", id[64];
    gethostname(host, sizeof host - 1);
    snprintf(id, sizeof id, "%s:%d", host, (int) getpid());
    leader_config_t lc = { .db = cfg->db, .id = id, .ttl_ms = cfg->lease_ttl_ms,
                           .renew_ms = cfg->lease_renew_ms, .poll_ms = cfg->standby_poll_ms };
    if (s_migrate(cfg) != 0) {
        if (s_signals)
            return 0;
        log_error("startup_failed", "error=\"cannot load state from the database\"");
        return 1;
    }
    while (true) {
        leader_claim_t claim;
        if (leader_wait(&lc, s_stop_asked, &claim) != 0) {
            log_info("shutdown_complete", "reason=signal role=standby");
            return 0;
        }
        server_t *self = s_server_new(cfg);
        if (!self) {
            log_error("startup_failed", "error=\"out of memory\"");
            return 1;
        }
        snprintf(self->broker_id, sizeof self->broker_id, "%s", id);
        serve_end_t end = s_serve(self, &lc, &claim);
        if (end == SERVE_STOPPED && self->leader) {
            //  after the last commit: a standby takes over at once
            if (leader_resign(self->leader, 2000) == 0)
                log_info("role", "role=resigned term=%llu", (unsigned long long) self->epoch);
        }
        s_server_destroy(&self);
        if (end != SERVE_DEPOSED)
            return end == SERVE_STOPPED ? 0 : 1;
    }
}
