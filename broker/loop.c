/*  loop — one turn of the leader's event loop.

    One thread dispatches. It polls the three sockets and the store
    threads' pipes, sleeping exactly until the next timer (retry due, lane
    unblock, heartbeat cron, snapshot). Before each sleep it pages tasks in,
    dispatches to workers with free slots, renders the next slice of big
    fan-outs (fanout.c) and hands a result batch to the writer if the
    writer is idle: results batch up under load and go out at once when
    the broker is idle. */
#include "broker.h"

#include <errno.h>
#include <stdint.h>

#include "clock.h"
#include "leader.h"
#include "log.h"

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
        case STORE_MARK_LEASED:
            dispatch_on_marked(self, req);
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

//  Wait for the next event or deadline; handle what arrived. Returns -1
//  when polling failed.
int
loop_poll(server_t *self)
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
    if (broker_signals() >= 2) {
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
void
loop_turn(server_t *self)
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
