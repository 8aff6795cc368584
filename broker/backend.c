/*  backend — the worker protocol (Paranoid Pirate style).

    A worker says Hello with its slots and the tasks it still holds; the
    broker answers Welcome (heartbeat interval, liveness, epoch). Tasks go
    out within the worker's free slots; Results come back and are acked
    once committed. Either side sends a Heartbeat when it has sent nothing
    for an interval; a worker silent for `liveness` intervals is lost and
    its tasks go back to the queue (counting an attempt each). A message
    from a worker the broker does not know is answered with
    ERR_UNKNOWN_PEER, and the worker says Hello again. */
#include "broker.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "lease.h"
#include "log.h"
#include "routing.h"
#include "wire.h"

int
backend_send(server_t *self, peer_t *peer, Shoal__Envelope *env)
{
    peer->last_send_ms = clock_mono_ms();
    return wire_send(self->backend_raw, peer->rid, peer->rid_len, env, ZMQ_DONTWAIT);
}

static void
s_send_error(server_t *self, const uint8_t *rid, size_t rid_len, Shoal__ErrorCode code,
             const char *message)
{
    wire_send_error(self->backend_raw, rid, rid_len, 0, code, message);
}

void
backend_send_acks(server_t *self, const uint8_t *rid, size_t rid_len, Shoal__TaskRef **refs, size_t n)
{
    //  in messages well under what a worker accepts
    for (size_t off = 0; off < n; off += WIRE_MAX_REFS / 16) {
        Shoal__ResultAck ack = SHOAL__RESULT_ACK__INIT;
        ack.acked = refs + off;
        ack.n_acked = n - off < WIRE_MAX_REFS / 16 ? n - off : WIRE_MAX_REFS / 16;
        Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
        env.body_case = SHOAL__ENVELOPE__BODY_RESULT_ACK;
        env.result_ack = &ack;
        wire_send(self->backend_raw, rid, rid_len, &env, ZMQ_DONTWAIT);
    }
}

void
backend_cancel_task(server_t *self, task_t *task)
{
    if (task->state != TASK_LEASED || !task->worker)
        return;
    Shoal__TaskRef ref = SHOAL__TASK_REF__INIT;
    ref.has_task_id = ref.has_lease = 1;
    ref.task_id = task->id;
    ref.lease = task->lease;
    Shoal__TaskRef *refs[] = { &ref };
    Shoal__Cancel cancel = SHOAL__CANCEL__INIT;
    cancel.tasks = refs;
    cancel.n_tasks = 1;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_CANCEL;
    env.cancel = &cancel;
    backend_send(self, task->worker, &env);
}

static void
s_peer_free(peer_t **peer_p)
{
    peer_t *peer = *peer_p;
    if (!peer)
        return;
    free(peer->key);
    free(peer->worker_id);
    free(peer->host);
    free(peer->version);
    zlist_destroy(&peer->labels);
    free(peer->handlers);
    u64map_destroy(&peer->foreign);
    free(peer);
    *peer_p = NULL;
}

bool
backend_nothing_out(server_t *self)
{
    if (batch_held(self) || fanout_pending(self) || store_pending(self->writer) || u64map_size(self->held))
        return false;
    for (peer_t *peer = zhashx_first(self->peers); peer; peer = zhashx_next(self->peers))
        if (peer->leased || held_count(peer))
            return false;
    return true;
}

void
backend_drop_peer(server_t *self, peer_t *peer, bool counted, const char *why)
{
    dispatch_peer_unready(self, peer);
    held_drop_peer(self, peer);
    while (peer->tasks) {
        outcome_lost(self, peer->tasks, counted ? "lost" : "requeued", why, counted);
    }
    zhashx_delete(self->peers, peer->key);
    s_peer_free(&peer);
}


//  Tasks the broker leased to a worker that its Hello does not name (held
//  or done) were lost on the way (a dropped connection): they go back to
//  the queue without counting an attempt. Returns how many.
static size_t
s_reconcile(server_t *self, peer_t *peer, const Shoal__Hello *hello)
{
    u64map_t *known = u64map_new();     //  leases the worker still has
    for (size_t i = 0; known && i < hello->n_held; i++)
        if (hello->held[i]->lease)
            u64map_put(known, hello->held[i]->lease, (void *) (uintptr_t) hello->held[i]->task_id);
    for (size_t i = 0; known && i < hello->n_done; i++)
        if (hello->done[i]->lease)
            u64map_put(known, hello->done[i]->lease, (void *) (uintptr_t) hello->done[i]->task_id);
    task_t *task = peer->tasks;
    size_t requeued = 0;
    while (known && task) {
        task_t *next = task->next;
        if ((uint64_t) (uintptr_t) u64map_get(known, task->lease) != task->id) {
            outcome_lost(self, task, "requeued", "worker reconnected without the task", false);
            requeued++;
        }
        task = next;
    }
    u64map_destroy(&known);
    return requeued;
}

//  Tasks running at the worker under an earlier run's lease occupy slots,
//  and are adopted as leased to this worker as soon as they are in memory,
//  so nobody else runs them meanwhile. Returns how many were adopted now.
static size_t
s_adopt_held(server_t *self, peer_t *peer, const Shoal__Hello *hello)
{
    held_drop_peer(self, peer);
    if (!peer->foreign)
        peer->foreign = u64map_new();
    size_t adopted = 0;
    for (size_t i = 0; i < hello->n_held; i++) {
        uint64_t task_id = hello->held[i]->task_id, lease = hello->held[i]->lease;
        task_t *t = u64map_get(self->tasks, task_id);
        bool mine = t && t->state == TASK_LEASED && t->worker == peer && t->lease == lease;
        if (mine || !lease_earlier_run(lease, self->lease_tag, self->epoch))
            continue;
        held_add(self, peer, task_id, lease);
        if (t && held_adopt(self, t))
            adopted++;
    }
    return adopted;
}

//  A worker's handlers changed: log what broke or mended, keep the figures.
static void
s_on_handlers(server_t *self, peer_t *peer, Shoal__HandlerInfo **handlers, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const peer_handler_t *was = routing_peer_handler(peer, handlers[i]->name);
        bool broken = handlers[i]->broken;
        if (was && was->broken != broken)
            log_warn(broken ? "handler_broken" : "handler_mended", "worker=%s handler=%s", peer->worker_id,
                     handlers[i]->name);
    }
    routing_peer_set_handlers(peer, handlers, n);
    (void) self;
}

static void
s_on_hello(server_t *self, const uint8_t *rid, size_t rid_len, const char *key, peer_t *peer,
           Shoal__Hello *hello)
{
    uint64_t instance = hello->has_instance ? hello->instance : 0;
    if (peer && peer->instance == instance && hello->has_seq && hello->seq <= peer->hello_seq) {
        //  an older Hello of this process, late through a connection it has
        //  given up: its held list is out of date, and reconciling with it
        //  would requeue tasks the worker is running (they would run twice)
        self->stale_hellos++;
        log_warn("stale_hello", "worker=%s seq=%" PRIu64 " latest=%" PRIu64,
                 peer->worker_id, hello->seq, peer->hello_seq);
        return;
    }
    if (peer && peer->instance != instance) {
        //  the same worker id from a new process: the old one died holding
        //  its tasks, and each of them counts an attempt (a task that kills
        //  its worker must run out of attempts, not loop forever)
        self->lost_workers++;
        log_warn("worker_lost", "worker=%s reason=restarted requeued=%u", peer->worker_id, peer->leased);
        progress_event(self, SHOAL__EVENT_TYPE__EVENT_WORKER_LOST, 0, peer->worker_id, peer->leased,
                       "worker %s restarted; %u tasks requeued", peer->worker_id, peer->leased);
        backend_drop_peer(self, peer, true, "worker restarted (the previous process died)");
        peer = NULL;
    }
    bool fresh = peer == NULL;
    if (!peer) {
        peer = calloc(1, sizeof *peer);
        if (!peer || !(peer->key = strdup(key))) {
            free(peer);
            return;
        }
        memcpy(peer->rid, rid, rid_len);
        peer->rid_len = rid_len;
        peer->joined_us = clock_wall_us();
        zhashx_insert(self->peers, key, peer);
    }
    free(peer->worker_id);
    free(peer->host);
    free(peer->version);
    peer->worker_id = strdup(hello->worker_id);
    peer->host = strdup(hello->host ? hello->host : "");
    peer->version = strdup(hello->version ? hello->version : "");
    peer->pid = hello->has_pid ? hello->pid : 0;
    peer->instance = instance;
    peer->hello_seq = hello->has_seq ? hello->seq : 0;
    peer->slots = hello->slots;
    peer->kinds = 0;
    for (size_t i = 0; i < hello->n_kinds; i++)
        peer->kinds |= 1u << hello->kinds[i];
    if (hello->n_kinds == 0)
        peer->kinds = 1u << SHOAL__TASK_KIND__KIND_NOOP;
    zlist_destroy(&peer->labels);
    peer->labels = zlist_new();
    zlist_autofree(peer->labels);
    for (size_t i = 0; i < hello->n_labels; i++) {
        char label[400];
        snprintf(label, sizeof label, "%s=%s", hello->labels[i]->key,
                 hello->labels[i]->value ? hello->labels[i]->value : "");
        zlist_append(peer->labels, label);
    }
    routing_peer_set_handlers(peer, hello->handlers, hello->n_handlers);
    peer->last_recv_ms = clock_mono_ms();
    peer->draining = false;

    size_t requeued = s_reconcile(self, peer, hello);
    size_t adopted = s_adopt_held(self, peer, hello);

    Shoal__Welcome welcome = SHOAL__WELCOME__INIT;
    welcome.has_heartbeat_ms = welcome.has_liveness = welcome.has_epoch = 1;
    welcome.heartbeat_ms = (uint32_t) self->cfg.heartbeat_ms;
    welcome.liveness = (uint32_t) self->cfg.liveness;
    welcome.epoch = self->epoch;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_WELCOME;
    env.welcome = &welcome;
    backend_send(self, peer, &env);

    char q[300];
    log_info(fresh ? "worker_joined" : "worker_rejoined",
             "worker=%s host=%s pid=%u slots=%u held=%zu done=%zu requeued=%zu adopted=%zu",
             log_quote(peer->worker_id, q, sizeof q), peer->host, peer->pid, peer->slots,
             hello->n_held, hello->n_done, requeued, adopted);
    if (fresh)
        progress_event(self, SHOAL__EVENT_TYPE__EVENT_WORKER_JOINED, 0, peer->worker_id, peer->slots,
                       "worker %s joined from %s with %u slots", peer->worker_id, peer->host,
                       peer->slots);
    dispatch_peer_ready(self, peer);
}

static void
s_on_results(server_t *self, const uint8_t *rid, size_t rid_len, peer_t *peer, Shoal__Results *results)
{
    Shoal__TaskRef **now = NULL;
    size_t n_now = 0;
    const char *worker_id = peer ? peer->worker_id : results->worker_id;
    for (size_t i = 0; i < results->n_results; i++)
        outcome_apply(self, peer, worker_id, rid, rid_len, results->results[i], &now, &n_now);
    //  refused results (stale, duplicate) are acked at once: the worker can
    //  forget them, nothing is going to be stored
    backend_send_acks(self, rid, rid_len, now, n_now);
    for (size_t i = 0; i < n_now; i++)
        free(now[i]);
    free(now);
    if (peer)
        dispatch_peer_ready(self, peer);
    else
        s_send_error(self, rid, rid_len, SHOAL__ERROR_CODE__ERR_UNKNOWN_PEER,
                     "unknown worker: send Hello");
}

void
backend_on_message(server_t *self, const uint8_t *rid, size_t rid_len, const void *data, size_t size)
{
    char err[512];
    bool version_mismatch;
    Shoal__Envelope *env = wire_decode(data, size, err, sizeof err, &version_mismatch);
    char key[2 * 256 + 1];
    broker_rid_key(rid, rid_len, key);
    if (!env) {
        self->bad_messages++;
        char q[600];
        if (broker_log_budget(&self->bad_log, "bad_message"))
            log_warn("bad_message", "socket=backend peer=%.32s error=%s total=%llu", key,
                     log_quote(err, q, sizeof q), (unsigned long long) self->bad_messages);
        s_send_error(self, rid, rid_len,
                     version_mismatch ? SHOAL__ERROR_CODE__ERR_VERSION : SHOAL__ERROR_CODE__ERR_BAD_REQUEST,
                     err);
        return;
    }
    peer_t *peer = zhashx_lookup(self->peers, key);
    if (peer) {
        peer->last_recv_ms = clock_mono_ms();
        if (peer->suspect) {
            peer->suspect = false;
            dispatch_peer_ready(self, peer);
        }
    }
    switch (env->body_case) {
        case SHOAL__ENVELOPE__BODY_HELLO:
            s_on_hello(self, rid, rid_len, key, peer, env->hello);
            break;
        case SHOAL__ENVELOPE__BODY_RESULTS:
            s_on_results(self, rid, rid_len, peer, env->results);
            break;
        case SHOAL__ENVELOPE__BODY_HEARTBEAT:
            if (!peer)
                s_send_error(self, rid, rid_len, SHOAL__ERROR_CODE__ERR_UNKNOWN_PEER,
                             "unknown worker: send Hello");
            else {
                //  a worker with handlers tells how they are in every heartbeat
                //  (at once when one breaks or mends)
                if (env->heartbeat->n_handlers)
                    s_on_handlers(self, peer, env->heartbeat->handlers, env->heartbeat->n_handlers);
            }
            if (peer && env->heartbeat->has_draining && env->heartbeat->draining && !peer->draining) {
                peer->draining = true;
                dispatch_peer_unready(self, peer);
                log_info("worker_draining", "worker=%s leased=%u", peer->worker_id, peer->leased);
            }
            break;
        case SHOAL__ENVELOPE__BODY_BYE:
            if (peer) {
                log_info("worker_left", "worker=%s leased=%u", peer->worker_id, peer->leased);
                progress_event(self, SHOAL__EVENT_TYPE__EVENT_WORKER_LEFT, 0, peer->worker_id,
                               peer->leased, "worker %s left", peer->worker_id);
                backend_drop_peer(self, peer, false, "worker said bye");
            }
            break;
        default:
            self->bad_messages++;
            s_send_error(self, rid, rid_len, SHOAL__ERROR_CODE__ERR_BAD_REQUEST,
                         "this is the worker socket; clients use the frontend");
            break;
    }
    wire_free(env);
}

void
backend_cron(server_t *self, int64_t now_ms)
{
    int64_t lost_after = self->cfg.heartbeat_ms * self->cfg.liveness;
    zlist_t *lost = NULL;
    for (peer_t *peer = zhashx_first(self->peers); peer; peer = zhashx_next(self->peers)) {
        if (now_ms - peer->last_recv_ms > lost_after) {
            if (!lost)
                lost = zlist_new();
            zlist_append(lost, peer);
            continue;
        }
        if (now_ms - peer->last_send_ms >= self->cfg.heartbeat_ms) {
            Shoal__Heartbeat hb = SHOAL__HEARTBEAT__INIT;
            Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
            env.body_case = SHOAL__ENVELOPE__BODY_HEARTBEAT;
            env.heartbeat = &hb;
            backend_send(self, peer, &env);
        }
        //  lease deadlines: the backstop behind the worker's own timeout
        task_t *task = peer->tasks;
        while (task) {
            task_t *next = task->next;
            if (now_ms > task->due_ms) {
                backend_cancel_task(self, task);
                outcome_lost(self, task, "expired", "lease deadline passed (task timeout + grace)", true);
                //  a worker that let a lease run out gets nothing more until
                //  it is heard from again (it may be frozen or wedged); a
                //  live one sends a heartbeat within an interval
                peer->suspect = true;
                dispatch_peer_unready(self, peer);
            }
            task = next;
        }
    }
    peer_t *peer;
    while (lost && (peer = zlist_pop(lost))) {
        self->lost_workers++;
        log_warn("worker_lost", "worker=%s silent_ms=%lld requeued=%u", peer->worker_id,
                 (long long) (now_ms - peer->last_recv_ms), peer->leased);
        progress_event(self, SHOAL__EVENT_TYPE__EVENT_WORKER_LOST, 0, peer->worker_id, peer->leased,
                       "worker %s lost after %lld ms of silence; %u tasks requeued",
                       peer->worker_id, (long long) (now_ms - peer->last_recv_ms), peer->leased);
        backend_drop_peer(self, peer, true, "worker lost (no heartbeat)");
    }
    zlist_destroy(&lost);
}

void
backend_resume(server_t *self, int64_t now_ms, int64_t frozen_ms)
{
    for (peer_t *peer = zhashx_first(self->peers); peer; peer = zhashx_next(self->peers)) {
        peer->last_recv_ms += frozen_ms;
        if (peer->last_recv_ms > now_ms)
            peer->last_recv_ms = now_ms;
        for (task_t *task = peer->tasks; task; task = task->next)
            task->due_ms += frozen_ms;
    }
}
