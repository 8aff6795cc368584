/*  worker — the event loop and the connection to the broker.

    One thread. It polls the DEALER socket (and, through the executors,
    their file descriptors), sleeping until the next timer. Results are
    packed once when a task ends and kept until the broker acks them; they
    are sent again after every (re)connection and when an ack is overdue,
    so a result survives a lost message, a broker restart and a database
    outage. The broker fences duplicates.

    Liveness: if nothing arrives from the broker for `liveness` heartbeat
    intervals, the worker drops the socket, opens a new one and says Hello
    again, waiting a little longer each time (up to 10 s) while the broker
    stays away. Running tasks carry on meanwhile. */
#include "worker.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "clock.h"
#include "exec.h"
#include "http.h"
#include "log.h"
#include "taskspec.h"
#include "wire.h"

#define MAX_RESULTS_PER_MSG  1000
#define MAX_BYTES_PER_MSG    (8u << 20)
#define RECONNECT_MAX_MS     10000
#define FLUSH_AT_RESULTS     64     //  a busy worker sends results in batches of this
#define FLUSH_AFTER_MS       2      //  ... or when the oldest has waited this long

static volatile sig_atomic_t s_signals = 0;

static void
s_on_signal(int sig)
{
    s_signals++;
}

static int
s_send(worker_t *self, Shoal__Envelope *env)
{
    self->last_send_ms = clock_mono_ms();
    return wire_send(self->dealer_raw, NULL, 0, env, ZMQ_DONTWAIT);
}

//  Queue every unacked result to be sent again.
static void
s_resend_all(worker_t *self)
{
    zlist_purge(self->to_send);
    self->unsent_since_ms = u64map_size(self->outbox) ? clock_mono_ms() : 0;
    size_t cursor = 0;
    outbox_t *o;
    while ((o = u64map_next(self->outbox, &cursor, NULL))) {
        o->sent_ms = 0;
        zlist_append(self->to_send, o);
    }
}

//  Say Hello with the tasks we run and the results we hold. `resend`: a
//  new connection, so every unacked result goes out again on it.
static void
s_send_hello(worker_t *self, bool resend)
{
    size_t n_held = u64map_size(self->runs);
    size_t n_done = u64map_size(self->outbox);
    Shoal__TaskRef *refs = calloc(n_held + n_done + 1, sizeof *refs);
    Shoal__TaskRef **held = calloc(n_held + 1, sizeof *held);
    Shoal__TaskRef **done = calloc(n_done + 1, sizeof *done);
    if (!refs || !held || !done) {
        free(refs); free(held); free(done);
        return;
    }
    size_t i = 0, cursor = 0;
    run_t *run;
    while ((run = u64map_next(self->runs, &cursor, NULL))) {
        shoal__task_ref__init(&refs[i]);
        refs[i].has_task_id = refs[i].has_lease = 1;
        refs[i].task_id = run->task_id;
        refs[i].lease = run->lease;
        held[i] = &refs[i];
        i++;
    }
    size_t j = 0;
    cursor = 0;
    outbox_t *o;
    while ((o = u64map_next(self->outbox, &cursor, NULL))) {
        shoal__task_ref__init(&refs[i + j]);
        refs[i + j].has_task_id = refs[i + j].has_lease = 1;
        refs[i + j].task_id = o->task_id;
        refs[i + j].lease = o->lease;
        done[j] = &refs[i + j];
        j++;
    }
    Shoal__TaskKind kinds[4];
    size_t n_kinds = 0;
    for (int k = 1; k < 4; k++)
        if (self->kinds & (1u << k))
            kinds[n_kinds++] = (Shoal__TaskKind) k;
    Shoal__Hello hello = SHOAL__HELLO__INIT;
    hello.worker_id = self->worker_id;
    hello.host = self->host;
    hello.has_pid = hello.has_slots = hello.has_instance = 1;
    hello.instance = self->instance;
    hello.has_seq = 1;
    hello.seq = ++self->hello_seq;
    hello.pid = (uint32_t) getpid();
    hello.version = SHOAL_VERSION;
    hello.slots = (uint32_t) self->cfg.slots;
    hello.kinds = kinds;
    hello.n_kinds = n_kinds;
    hello.held = held;
    hello.n_held = i;
    hello.done = done;
    hello.n_done = j;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_HELLO;
    env.hello = &hello;
    s_send(self, &env);
    self->last_hello_ms = clock_mono_ms();
    free(refs);
    free(held);
    free(done);
    if (resend)
        s_resend_all(self);
    if (self->draining) {
        Shoal__Heartbeat hb = SHOAL__HEARTBEAT__INIT;
        hb.has_draining = 1;
        hb.draining = 1;
        Shoal__Envelope henv = SHOAL__ENVELOPE__INIT;
        henv.body_case = SHOAL__ENVELOPE__BODY_HEARTBEAT;
        henv.heartbeat = &hb;
        s_send(self, &henv);
    }
}

static int
s_connect(worker_t *self)
{
    //  the old socket is dead to us: close it at once. Left lingering, it
    //  would deliver its queued Hello when the network comes back, after
    //  the new socket's, and take the worker id over at the broker's ROUTER
    //  (handover), so the broker would talk to a socket nobody reads
    if (self->dealer) {
        int zero = 0;
        zmq_setsockopt(self->dealer_raw, ZMQ_LINGER, &zero, sizeof zero);
    }
    zsock_destroy(&self->dealer);
    self->dealer = zsock_new(ZMQ_DEALER);
    if (!self->dealer)
        return -1;
    self->dealer_raw = zsock_resolve(self->dealer);
    wire_socket_defaults(self->dealer_raw);
    int hwm = (int) self->cfg.hwm;
    zmq_setsockopt(self->dealer_raw, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(self->dealer_raw, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(self->dealer_raw, ZMQ_ROUTING_ID, self->worker_id, strlen(self->worker_id));
    //  give the last results and the Bye a moment to leave at exit
    int linger = 2000;
    zmq_setsockopt(self->dealer_raw, ZMQ_LINGER, &linger, sizeof linger);
    if (keys_apply(self->cfg.keys, self->dealer_raw) != 0) {
        log_error("curve_failed", "error=\"%s\"", zmq_strerror(zmq_errno()));
        return -1;
    }
    if (zsock_connect(self->dealer, "%s", self->cfg.broker) < 0) {
        log_error("connect_failed", "broker=%s error=\"%s\"", self->cfg.broker, zmq_strerror(zmq_errno()));
        return -1;
    }
    self->welcomed = false;
    self->last_recv_ms = clock_mono_ms();
    s_send_hello(self, true);
    return 0;
}

void
worker_result(worker_t *self, run_t *run, Shoal__Result *result)
{
    if (result->outcome == SHOAL__OUTCOME__OUTCOME_OK)
        self->done++;
    else
        self->failed++;
    outbox_t *o = calloc(1, sizeof *o);
    if (!o)
        return;
    o->task_id = result->task_id;
    o->lease = result->lease;
    o->len = shoal__result__get_packed_size(result);
    o->data = malloc(o->len ? o->len : 1);
    if (!o->data) {
        free(o);
        return;
    }
    shoal__result__pack(result, o->data);
    outbox_t *old = u64map_get(self->outbox, o->lease);
    if (old) {
        //  one result per lease; a second one cannot happen, keep the first
        free(o->data);
        free(o);
        return;
    }
    u64map_put(self->outbox, o->lease, o);
    zlist_append(self->to_send, o);
    if (!self->unsent_since_ms)
        self->unsent_since_ms = clock_mono_ms();
}

static void
s_outbox_drop(worker_t *self, uint64_t task_id, uint64_t lease)
{
    outbox_t *o = u64map_get(self->outbox, lease);
    if (!o || o->task_id != task_id)
        return;
    u64map_remove(self->outbox, lease);
    zlist_remove(self->to_send, o);
    free(o->data);
    free(o);
}

//  Send what is waiting, in messages of bounded size. A busy worker waits
//  for a batch (or a couple of milliseconds) so that results and the tasks
//  answering them travel in fewer, larger messages; an idle one sends at once.
static void
s_flush(worker_t *self, bool force)
{
    int64_t now = clock_mono_ms();
    if (!force && zlist_size(self->to_send) < FLUSH_AT_RESULTS && u64map_size(self->runs) > 0
    &&  self->unsent_since_ms && now - self->unsent_since_ms < FLUSH_AFTER_MS)
        return;
    while (zlist_size(self->to_send)) {
        uint8_t *items[MAX_RESULTS_PER_MSG];
        size_t lens[MAX_RESULTS_PER_MSG];
        outbox_t *batch[MAX_RESULTS_PER_MSG];
        size_t n = 0, bytes = 0;
        outbox_t *o;
        while (n < MAX_RESULTS_PER_MSG && (o = zlist_first(self->to_send))
        &&  (n == 0 || bytes + o->len < MAX_BYTES_PER_MSG)) {
            zlist_pop(self->to_send);
            items[n] = o->data;
            lens[n] = o->len;
            batch[n] = o;
            bytes += o->len;
            n++;
        }
        size_t len = 0;
        uint8_t *frame = wire_pack_results(items, lens, n, self->worker_id, &len);
        if (!frame)
            return;
        int rc = zmq_send(self->dealer_raw, frame, len, ZMQ_DONTWAIT);
        free(frame);
        if (rc < 0) {
            //  the queue to the broker is full: try again on the next pass
            for (size_t i = n; i-- > 0; )
                zlist_push(self->to_send, batch[i]);
            return;
        }
        self->last_send_ms = now;
        for (size_t i = 0; i < n; i++)
            batch[i]->sent_ms = now;
        self->unsent_since_ms = zlist_size(self->to_send) ? now : 0;
        log_debug("results_sent", "count=%zu unacked=%zu", n, u64map_size(self->outbox));
    }
}

//  Results whose ack is overdue go out again (a lost message, a broker that
//  restarted without us noticing).
static void
s_resend_overdue(worker_t *self, int64_t now)
{
    int64_t overdue = self->heartbeat_ms * self->liveness * 2;
    size_t cursor = 0, resent = 0;
    outbox_t *o;
    while ((o = u64map_next(self->outbox, &cursor, NULL)))
        if (o->sent_ms && now - o->sent_ms > overdue) {
            o->sent_ms = 0;
            zlist_append(self->to_send, o);
            resent++;
        }
    if (resent) {
        if (!self->unsent_since_ms)
            self->unsent_since_ms = now;
        log_debug("results_resent", "count=%zu unacked=%zu", resent, u64map_size(self->outbox));
    }
}

static void
s_on_message(worker_t *self, const void *data, size_t size)
{
    char err[512];
    bool version_mismatch;
    Shoal__Envelope *env = wire_decode(data, size, err, sizeof err, &version_mismatch);
    if (!env) {
        char q[600];
        log_warn("bad_message", "error=%s", log_quote(err, q, sizeof q));
        return;
    }
    self->last_recv_ms = clock_mono_ms();
    self->reconnect_backoff_ms = 0;
    switch (env->body_case) {
        case SHOAL__ENVELOPE__BODY_WELCOME: {
            Shoal__Welcome *w = env->welcome;
            if (self->epoch && self->epoch != w->epoch) {
                log_info("broker_restarted", "epoch=%llu previous=%llu unacked=%zu",
                         (unsigned long long) w->epoch, (unsigned long long) self->epoch,
                         u64map_size(self->outbox));
                //  results the previous broker run never acked may be lost with it
                s_resend_all(self);
            }
            else
                log_info("welcomed", "broker=%s epoch=%llu heartbeat_ms=%u", self->cfg.broker,
                         (unsigned long long) w->epoch, w->heartbeat_ms);
            self->epoch = w->epoch;
            self->heartbeat_ms = w->heartbeat_ms;
            self->liveness = w->liveness;
            self->welcomed = true;
            break;
        }
        case SHOAL__ENVELOPE__BODY_TASKS: {
            Shoal__Tasks *t = env->tasks;
            for (size_t i = 0; i < t->n_tasks; i++) {
                const Shoal__JobDefaults *defaults = NULL;
                uint32_t job = (uint32_t) (t->tasks[i]->task_id >> 32);
                for (size_t j = 0; j < t->n_jobs; j++)
                    if (t->jobs[j]->job_id == job)
                        defaults = t->jobs[j]->defaults;
                run_start(self, t->tasks[i], defaults);
            }
            break;
        }
        case SHOAL__ENVELOPE__BODY_RESULT_ACK:
            for (size_t i = 0; i < env->result_ack->n_acked; i++)
                s_outbox_drop(self, env->result_ack->acked[i]->task_id, env->result_ack->acked[i]->lease);
            break;
        case SHOAL__ENVELOPE__BODY_CANCEL:
            for (size_t i = 0; i < env->cancel->n_tasks; i++) {
                run_t *run = run_find(self, env->cancel->tasks[i]->task_id, env->cancel->tasks[i]->lease);
                if (run)
                    run_abort(self, run, SHOAL__OUTCOME__OUTCOME_CANCELLED, "cancelled by the broker");
            }
            break;
        case SHOAL__ENVELOPE__BODY_HEARTBEAT:
            break;
        case SHOAL__ENVELOPE__BODY_ERROR: {
            Shoal__Error *e = env->error;
            if (e->code == SHOAL__ERROR_CODE__ERR_UNKNOWN_PEER) {
                //  the broker restarted or gave up on us: introduce ourselves
                //  (same connection: what we sent it has seen; a new broker
                //  run is told again after its Welcome shows a new epoch)
                if (clock_mono_ms() - self->last_hello_ms >= self->heartbeat_ms / 2)
                    s_send_hello(self, false);
            }
            else {
                char q[600];
                log_warn("broker_error", "code=%d message=%s", (int) e->code,
                         log_quote(e->message ? e->message : "", q, sizeof q));
                if (e->code == SHOAL__ERROR_CODE__ERR_VERSION)
                    s_signals = 2;
            }
            break;
        }
        default:
            log_warn("unexpected_message", "body=%s", wire_body_name(env));
            break;
    }
    wire_free(env);
}

static void
s_drain_socket(worker_t *self)
{
    for (int i = 0; i < 1000; i++) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, self->dealer_raw, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            return;
        }
        if (!zmq_msg_more(&msg))
            s_on_message(self, zmq_msg_data(&msg), zmq_msg_size(&msg));
        else {
            //  multi-frame messages are not ours
            while (zmq_msg_more(&msg)) {
                zmq_msg_close(&msg);
                zmq_msg_init(&msg);
                if (zmq_msg_recv(&msg, self->dealer_raw, ZMQ_DONTWAIT) < 0)
                    break;
            }
        }
        zmq_msg_close(&msg);
    }
}

static void
s_heartbeat(worker_t *self)
{
    Shoal__Heartbeat hb = SHOAL__HEARTBEAT__INIT;
    hb.has_running = 1;
    hb.running = (uint32_t) u64map_size(self->runs);
    if (self->draining) {
        hb.has_draining = 1;
        hb.draining = 1;
    }
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    s_send(self, &env);
}

static void
s_abort_all(worker_t *self, const char *why)
{
    run_t *run;
    size_t cursor = 0;
    zlist_t *all = zlist_new();
    while ((run = u64map_next(self->runs, &cursor, NULL)))
        zlist_append(all, run);
    while ((run = zlist_pop(all)))
        run_abort(self, run, SHOAL__OUTCOME__OUTCOME_CANCELLED, why);
    zlist_destroy(&all);
}

static void
s_send_bye(worker_t *self, const char *reason)
{
    Shoal__Bye bye = SHOAL__BYE__INIT;
    bye.reason = (char *) reason;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_BYE;
    env.bye = &bye;
    s_send(self, &env);
}

static void
s_free_outbox(worker_t *self)
{
    size_t cursor = 0;
    outbox_t *o;
    while ((o = u64map_next(self->outbox, &cursor, NULL))) {
        free(o->data);
        free(o);
    }
}

int
worker_run(const worker_config_t *cfg)
{
    zsys_handler_set(NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    worker_t self_data;
    worker_t *self = &self_data;
    memset(self, 0, sizeof *self);
    self->cfg = *cfg;
    self->heartbeat_ms = cfg->heartbeat_ms;
    self->liveness = cfg->liveness;
    gethostname(self->host, sizeof self->host - 1);
    self->instance = ((uint64_t) getpid() << 32) ^ (uint64_t) clock_wall_us() ^ (uint64_t) random();
    if (cfg->worker_id)
        snprintf(self->worker_id, sizeof self->worker_id, "%s", cfg->worker_id);
    else
        snprintf(self->worker_id, sizeof self->worker_id, "%.64s-%d-%04x", self->host, (int) getpid(),
                 (unsigned) (clock_wall_us() & 0xffff));
    //  kinds
    char kinds[128];
    snprintf(kinds, sizeof kinds, "%s", cfg->kinds);
    for (char *tok = strtok(kinds, ", "); tok; tok = strtok(NULL, ", ")) {
        Shoal__TaskKind k = taskspec_kind_parse(tok);
        if (k == SHOAL__TASK_KIND__KIND_NONE) {
            log_error("bad_kind", "kind=%s detail=\"known kinds: noop, http, exec\"", tok);
            return 2;
        }
        if (k == SHOAL__TASK_KIND__KIND_EXEC && !cfg->allow_exec) {
            log_error("exec_not_allowed", "detail=\"exec tasks run commands: start the worker with"
                      " --allow-exec to accept them\"");
            return 2;
        }
        self->kinds |= 1u << k;
    }
    if (cfg->allow_exec)
        self->kinds |= 1u << SHOAL__TASK_KIND__KIND_EXEC;
    if (self->kinds & (1u << SHOAL__TASK_KIND__KIND_HTTP)) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        self->http = http_new(cfg->body_dir, (size_t) cfg->slots);
        if (!self->http) {
            log_error("startup_failed", "error=\"cannot set up libcurl\"");
            return 1;
        }
    }
    if (cfg->allow_exec && !(self->exec = exec_new())) {
        log_error("startup_failed", "error=\"cannot set up the exec executor\"");
        return 1;
    }
    self->runs = u64map_new();
    self->timers = heap_new();
    self->outbox = u64map_new();
    self->to_send = zlist_new();
    if (!self->runs || !self->timers || !self->outbox || !self->to_send || s_connect(self) != 0)
        return 1;
    log_info("worker_started", "id=%s broker=%s slots=%lld kinds=%s", self->worker_id, cfg->broker,
             (long long) cfg->slots, cfg->kinds);

    int exit_code = 0;
    int64_t next_resend_check = clock_mono_ms() + 1000;
    int seen_signals = 0;
    int64_t last_turn_ms = clock_mono_ms();
    while (true) {
        int64_t now = clock_mono_ms();
        //  the loop never sleeps longer than a heartbeat: a longer gap means
        //  this process was frozen (SIGSTOP, a suspended VM), and the
        //  broker's silence meanwhile is ours, not its
        if (now - last_turn_ms > self->heartbeat_ms * 2) {
            log_info("resumed", "frozen_ms=%lld", (long long) (now - last_turn_ms));
            self->last_recv_ms = now;
        }
        last_turn_ms = now;
        int64_t deadline = self->last_send_ms + self->heartbeat_ms;
        int64_t live_deadline = self->last_recv_ms + self->heartbeat_ms * self->liveness
                              + self->reconnect_backoff_ms;
        if (live_deadline < deadline)
            deadline = live_deadline;
        heap_entry_t e;
        if (heap_peek(self->timers, &e) && e.when < deadline)
            deadline = e.when;
        if (http_deadline_ms(self->http) < deadline)
            deadline = http_deadline_ms(self->http);
        if (next_resend_check < deadline)
            deadline = next_resend_check;
        if (self->draining && self->drain_deadline_ms < deadline)
            deadline = self->drain_deadline_ms;
        if (self->unsent_since_ms && self->unsent_since_ms + FLUSH_AFTER_MS < deadline)
            deadline = self->unsent_since_ms + FLUSH_AFTER_MS;
        long timeout = deadline <= now ? 0 : (long) (deadline - now);
        //  the broker socket, then every socket the transfers use
        size_t want = 3;
        if (want > self->items_alloc) {
            zmq_pollitem_t *grown = realloc(self->items, want * sizeof *grown);
            if (!grown) {
                exit_code = 1;
                break;
            }
            self->items = grown;
            self->items_alloc = want;
        }
        zmq_pollitem_t *items = self->items;
        items[0] = (zmq_pollitem_t) { self->dealer_raw, 0, ZMQ_POLLIN, 0 };
        size_t n_http = http_poll_items(self->http, items + 1, self->items_alloc - 1);
        size_t n_exec = exec_poll_items(self->exec, items + 1 + n_http, self->items_alloc - 1 - n_http);
        int rc = zmq_poll(items, (int) (1 + n_http + n_exec), timeout);
        if (rc < 0 && errno != EINTR) {
            log_error("poll_failed", "error=\"%s\"", zmq_strerror(errno));
            exit_code = 1;
            break;
        }
        if (s_signals != seen_signals) {
            seen_signals = s_signals;
            if (seen_signals == 1 && !self->draining) {
                self->draining = true;
                self->drain_deadline_ms = clock_mono_ms() + cfg->grace_ms;
                log_info("draining", "running=%zu unacked=%zu grace_ms=%lld", u64map_size(self->runs),
                         u64map_size(self->outbox), (long long) cfg->grace_ms);
                s_heartbeat(self);
            }
            else
            if (seen_signals >= 2 && !self->aborting) {
                log_warn("aborting", "running=%zu", u64map_size(self->runs));
                self->aborting = true;
                self->draining = true;
                self->drain_deadline_ms = clock_mono_ms() + 1000;   //  a moment for the acks
                s_abort_all(self, "worker stopped (second SIGTERM)");
            }
        }
        if (rc > 0 && (items[0].revents & ZMQ_POLLIN))
            s_drain_socket(self);
        http_after_poll(self, items + 1, n_http);
        exec_after_poll(self, items + 1 + n_http, n_exec);
        now = clock_mono_ms();
        if (now - last_turn_ms > self->heartbeat_ms * 2) {
            log_info("resumed", "frozen_ms=%lld", (long long) (now - last_turn_ms));
            self->last_recv_ms = now;
        }
        last_turn_ms = now;
        run_timers(self, now);
        if (now >= next_resend_check) {
            s_resend_overdue(self, now);
            next_resend_check = now + 1000;
        }
        s_flush(self, self->draining);
        if (now - self->last_send_ms >= self->heartbeat_ms)
            s_heartbeat(self);
        if (now - self->last_recv_ms > self->heartbeat_ms * self->liveness + self->reconnect_backoff_ms) {
            log_warn("broker_lost", "silent_ms=%lld running=%zu unacked=%zu", (long long) (now - self->last_recv_ms),
                     u64map_size(self->runs), u64map_size(self->outbox));
            self->reconnect_backoff_ms = self->reconnect_backoff_ms
                ? (self->reconnect_backoff_ms * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : self->reconnect_backoff_ms * 2)
                : 500;
            if (s_connect(self) != 0) {
                exit_code = 1;
                break;
            }
        }
        if (self->draining) {
            bool idle = u64map_size(self->runs) == 0 && u64map_size(self->outbox) == 0;
            if (idle) {
                log_info("drained", "done=%llu failed=%llu", (unsigned long long) self->done,
                         (unsigned long long) self->failed);
                break;
            }
            if (!self->aborting && now >= self->drain_deadline_ms) {
                log_warn("grace_expired", "running=%zu", u64map_size(self->runs));
                self->aborting = true;
                s_abort_all(self, "worker stopped (grace period over)");
                self->drain_deadline_ms = now + 2000;   //  a moment for the acks
            }
            else
            if (self->aborting && u64map_size(self->runs) == 0 && (u64map_size(self->outbox) == 0
                || now >= self->drain_deadline_ms)) {
                s_flush(self, true);
                break;
            }
        }
    }
    s_send_bye(self, self->aborting ? "aborted" : "drained");
    zsock_destroy(&self->dealer);
    s_abort_all(self, "exit");
    s_free_outbox(self);
    if (self->http) {
        http_destroy(&self->http);
        curl_global_cleanup();
    }
    exec_destroy(&self->exec);
    free(self->items);
    u64map_destroy(&self->runs);
    u64map_destroy(&self->outbox);
    heap_destroy(&self->timers);
    zlist_destroy(&self->to_send);
    log_info("worker_stopped", "id=%s", self->worker_id);
    return exit_code;
}
