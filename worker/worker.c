/*  worker — the event loop, and the actions of the conversation with the
    broker (the state machine's table is peer.c).

    One thread. Each turn polls the DEALER socket and the executors'
    descriptors, sleeping until the next timer; then fires the timers that
    are due, and before sleeping again sends the results waiting. Every
    deadline is a timer (timers.c): runs' timeouts, executors' wake-ups,
    unacked results, the heartbeat and the broker's liveness.

    Liveness: if nothing arrives from the broker for `liveness` heartbeat
    intervals, the worker drops the socket, opens a new one and says Hello
    again, waiting a little longer each time (up to 10 s) while the broker
    stays away. Running tasks carry on meanwhile. */
#include "worker.h"

#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "executor.h"
#include "handler_exec.h"
#include "link.h"
#include "log.h"
#include "outbox.h"
#include "peer.h"
#include "run.h"
#include "stopsig.h"
#include "taskspec.h"
#include "timers.h"
#include "wire.h"

#define RECONNECT_MAX_MS  10000
#define MAX_EXECUTORS     16

typedef struct {
    worker_config_t cfg;
    peer_state_t state;         //  of the conversation with the broker (peer.h)
    link_t    link;             //  the socket and who we are
    timers_t *timers;           //  every deadline
    runs_t   *runs;             //  tasks running (and their executors)
    outbox_t *outbox;           //  results until acked
    uint64_t  epoch;            //  broker epoch from Welcome, 0 before
    int64_t   heartbeat_ms;     //  from Welcome (until then the flag's)
    int64_t   liveness;
    int64_t   reconnect_backoff_ms;     //  added to the silence allowed, grows while the broker stays away
    int64_t   last_turn_ms;     //  when the loop last woke (freeze detection)
    uint64_t  heartbeat_timer, liveness_timer, stop_timer;
    int       seen_signals;
    int       exit_code;        //  of the process, once stopped
    uint64_t  done, failed;
    executor_t *handler;        //  the handler executor (owned by runs), NULL without --handler
    Shoal__Label *labels;       //  --label, parsed (link.labels points here)
    Shoal__Label **label_ptrs;
} worker_t;

static volatile sig_atomic_t s_signals = 0;

static void
s_on_signal(int sig)
{
    s_signals++;
}

static void s_post(worker_t *self, peer_event_t event, const Shoal__Envelope *env);

// ------------------------------------------------------------------ timers

static void s_on_heartbeat_timer(void *arg, int64_t now_ms);
static void s_on_liveness_timer(void *arg, int64_t now_ms);

//  The heartbeat is due a heartbeat after the last send; the broker is
//  lost after `liveness` heartbeats of silence (longer while it stays away).
static int64_t s_heartbeat_due(const worker_t *self) { return self->link.last_send_ms + self->heartbeat_ms; }
static int64_t
s_silence_limit(const worker_t *self)
{
    return self->link.last_recv_ms + self->heartbeat_ms * self->liveness + self->reconnect_backoff_ms;
}

//  (Re)arm the heartbeat and liveness timers from the link's clocks.
static void
s_arm_link_timers(worker_t *self)
{
    timers_cancel(self->timers, self->heartbeat_timer);
    timers_cancel(self->timers, self->liveness_timer);
    self->heartbeat_timer = self->liveness_timer = 0;
    if (self->state == PEER_STOPPED)
        return;
    //  never in the past: a timer set for now would fire again at once
    int64_t soonest = clock_mono_ms() + 1;
    int64_t heartbeat = s_heartbeat_due(self), silence = s_silence_limit(self) + 1;
    self->heartbeat_timer = timers_add(self->timers, heartbeat > soonest ? heartbeat : soonest,
                                       s_on_heartbeat_timer, self);
    self->liveness_timer = timers_add(self->timers, silence > soonest ? silence : soonest,
                                      s_on_liveness_timer, self);
}

//  Both timers fire, post their event if it is still true (a send or a
//  message may have come since they were set), and are set again.
static void
s_on_heartbeat_timer(void *arg, int64_t now_ms)
{
    worker_t *self = arg;
    self->heartbeat_timer = 0;
    if (now_ms >= s_heartbeat_due(self))
        s_post(self, PEER_HEARTBEAT_DUE, NULL);
    s_arm_link_timers(self);
}

static void
s_on_liveness_timer(void *arg, int64_t now_ms)
{
    worker_t *self = arg;
    self->liveness_timer = 0;
    if (now_ms > s_silence_limit(self))
        s_post(self, PEER_SILENCE, NULL);
    s_arm_link_timers(self);
}

static void
s_on_grace_over(void *arg, int64_t now_ms)
{
    worker_t *self = arg;
    self->stop_timer = 0;
    s_post(self, PEER_GRACE_OVER, NULL);
}

static void
s_on_ack_wait_over(void *arg, int64_t now_ms)
{
    worker_t *self = arg;
    self->stop_timer = 0;
    s_post(self, PEER_ACK_WAIT_OVER, NULL);
}

// ------------------------------------------------------------------ actions

static void
s_store_welcome(worker_t *self, const Shoal__Welcome *w)
{
    if (self->epoch && self->epoch != w->epoch)
        log_info("broker_restarted", "epoch=%llu previous=%llu unacked=%zu", (unsigned long long) w->epoch,
                 (unsigned long long) self->epoch, outbox_size(self->outbox));
    else
        log_info("welcomed", "broker=%s epoch=%llu heartbeat_ms=%u", self->cfg.broker,
                 (unsigned long long) w->epoch, w->heartbeat_ms);
    self->epoch = w->epoch;
    self->heartbeat_ms = w->heartbeat_ms;
    self->liveness = w->liveness;
    outbox_set_overdue(self->outbox, self->heartbeat_ms * self->liveness * 2);
    s_arm_link_timers(self);
}

//  Run the tasks (reject: end each at once, cancelled with that reason).
static void
s_start_tasks(worker_t *self, const Shoal__Tasks *t, const char *reject)
{
    for (size_t i = 0; i < t->n_tasks; i++) {
        const Shoal__JobDefaults *defaults = NULL;
        uint32_t job = (uint32_t) (t->tasks[i]->task_id >> 32);
        for (size_t j = 0; j < t->n_jobs; j++)
            if (t->jobs[j]->job_id == job)
                defaults = t->jobs[j]->defaults;
        runs_start(self->runs, t->tasks[i], defaults, reject);
    }
}

static void
s_forget_acked(worker_t *self, const Shoal__ResultAck *ack)
{
    for (size_t i = 0; i < ack->n_acked; i++)
        outbox_ack(self->outbox, ack->acked[i]->task_id, ack->acked[i]->lease);
}

static void
s_cancel_tasks(worker_t *self, const Shoal__Cancel *cancel)
{
    for (size_t i = 0; i < cancel->n_tasks; i++)
        runs_cancel(self->runs, cancel->tasks[i]->task_id, cancel->tasks[i]->lease, "cancelled by the broker");
}

//  The broker restarted or gave up on us: introduce ourselves (same
//  connection: what we sent it has seen; a new broker run is told again
//  after its Welcome shows a new epoch). At most twice a heartbeat.
static void
s_say_hello_again(worker_t *self)
{
    if (clock_mono_ms() - self->link.last_hello_ms >= self->heartbeat_ms / 2)
        link_send_hello(&self->link, self->runs, self->outbox);
}

static void
s_log_broker_error(const Shoal__Error *e)
{
    char q[600];
    log_warn("broker_error", "code=%d message=%s", (int) e->code,
             log_quote(e->message ? e->message : "", q, sizeof q));
}

static void
s_send_heartbeat(worker_t *self)
{
    link_send_heartbeat(&self->link, (uint32_t) runs_size(self->runs), self->state >= PEER_DRAINING);
}

//  New socket, Hello, every unacked result again; a longer wait for the
//  broker each time it stays away.
static int
s_reconnect(worker_t *self)
{
    if (self->link.dealer) {
        log_warn("broker_lost", "silent_ms=%lld running=%zu unacked=%zu",
                 (long long) (clock_mono_ms() - self->link.last_recv_ms), runs_size(self->runs),
                 outbox_size(self->outbox));
        int64_t b = self->reconnect_backoff_ms;
        self->reconnect_backoff_ms = b ? (b * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : b * 2) : 500;
    }
    if (link_connect(&self->link) != 0)
        return -1;
    link_send_hello(&self->link, self->runs, self->outbox);
    outbox_resend_all(self->outbox);
    s_arm_link_timers(self);
    return 0;
}

static void
s_start_grace(worker_t *self)
{
    log_info("draining", "running=%zu unacked=%zu grace_ms=%lld", runs_size(self->runs),
             outbox_size(self->outbox), (long long) self->cfg.grace_ms);
    timers_cancel(self->timers, self->stop_timer);
    self->stop_timer = timers_add(self->timers, clock_mono_ms() + self->cfg.grace_ms, s_on_grace_over, self);
}

static void
s_abort_tasks(worker_t *self, peer_event_t why)
{
    const char *reason = why == PEER_GRACE_OVER ? "worker stopped (grace period over)"
                       : why == PEER_VERSION_ERROR ? "worker stopped (the broker speaks another protocol version)"
                       : "worker stopped (second SIGTERM)";
    log_warn(why == PEER_GRACE_OVER ? "grace_expired" : "aborting", "running=%zu", runs_size(self->runs));
    runs_abort_all(self->runs, reason);
}

//  A moment for the last acks: 2 s after the grace period, 1 s when asked
//  to stop at once.
static void
s_wait_for_acks(worker_t *self, peer_event_t why)
{
    timers_cancel(self->timers, self->stop_timer);
    self->stop_timer = timers_add(self->timers, clock_mono_ms() + (why == PEER_GRACE_OVER ? 2000 : 1000),
                                  s_on_ack_wait_over, self);
}

static void
s_send_results(worker_t *self)
{
    if (outbox_flush(self->outbox, self->link.raw, self->link.worker_id, true, false))
        self->link.last_send_ms = clock_mono_ms();
}

static void
s_say_bye(worker_t *self, peer_state_t from)
{
    if (from == PEER_DRAINING)
        log_info("drained", "done=%llu failed=%llu", (unsigned long long) self->done,
                 (unsigned long long) self->failed);
    link_send_bye(&self->link, from == PEER_DRAINING ? "drained" : "aborted");
}

//  One action of a transition; env is the message the event came with.
static void
s_act(worker_t *self, peer_action_t action, peer_state_t from, peer_event_t event, const Shoal__Envelope *env)
{
    switch (action) {
        case PEER_STORE_WELCOME:    s_store_welcome(self, env->welcome); break;
        case PEER_RESEND_RESULTS:   outbox_resend_all(self->outbox); break;
        case PEER_START_TASKS:      s_start_tasks(self, env->tasks, NULL); break;
        case PEER_REFUSE_TASKS:     s_start_tasks(self, env->tasks, "worker is shutting down"); break;
        case PEER_FORGET_ACKED:     s_forget_acked(self, env->result_ack); break;
        case PEER_CANCEL_TASKS:     s_cancel_tasks(self, env->cancel); break;
        case PEER_SAY_HELLO_AGAIN:  s_say_hello_again(self); break;
        case PEER_SAY_HELLO:        link_send_hello(&self->link, self->runs, self->outbox); break;
        case PEER_LOG_BROKER_ERROR: s_log_broker_error(env->error); break;
        case PEER_SEND_HEARTBEAT:   s_send_heartbeat(self); break;
        case PEER_RECONNECT:
            if (s_reconnect(self) != 0) {
                self->state = PEER_STOPPED;     //  no socket: nothing more to do
                self->exit_code = 1;
            }
            break;
        case PEER_FORGIVE_SILENCE:  self->link.last_recv_ms = clock_mono_ms(); break;
        case PEER_ANNOUNCE_DRAINING: s_send_heartbeat(self); break;
        case PEER_START_GRACE:      s_start_grace(self); break;
        case PEER_ABORT_TASKS:      s_abort_tasks(self, event); break;
        case PEER_WAIT_FOR_ACKS:    s_wait_for_acks(self, event); break;
        case PEER_SEND_RESULTS:     s_send_results(self); break;
        case PEER_SAY_BYE:          s_say_bye(self, from); break;
        case PEER_NOTHING: case PEER_ACTIONS: break;
    }
}

//  Feed an event to the state machine: the new state, then its actions.
static void
s_post(worker_t *self, peer_event_t event, const Shoal__Envelope *env)
{
    peer_state_t from = self->state;
    const peer_transition_t *t = peer_transition(from, event);
    if (t->next != from)
        log_debug("peer_state", "from=%s event=%s to=%s", peer_state_name(from), peer_event_name(event),
                  peer_state_name(t->next));
    self->state = t->next;
    for (int i = 0; i < PEER_MAX_ACTIONS && t->actions[i] != PEER_NOTHING; i++)
        s_act(self, t->actions[i], from, event, env);
}

// ------------------------------------------------------------------ events

//  Which event a message from the broker is.
static int
s_classify(const worker_t *self, const Shoal__Envelope *env, peer_event_t *event)
{
    switch (env->body_case) {
        case SHOAL__ENVELOPE__BODY_WELCOME:
            *event = self->epoch && self->epoch != env->welcome->epoch ? PEER_WELCOME_NEW_EPOCH : PEER_WELCOME;
            return 0;
        case SHOAL__ENVELOPE__BODY_TASKS:       *event = PEER_TASKS; return 0;
        case SHOAL__ENVELOPE__BODY_RESULT_ACK:  *event = PEER_RESULT_ACK; return 0;
        case SHOAL__ENVELOPE__BODY_CANCEL:      *event = PEER_CANCEL; return 0;
        case SHOAL__ENVELOPE__BODY_HEARTBEAT:   *event = PEER_HEARTBEAT; return 0;
        case SHOAL__ENVELOPE__BODY_ERROR:
            *event = env->error->code == SHOAL__ERROR_CODE__ERR_UNKNOWN_PEER ? PEER_UNKNOWN_PEER
                   : env->error->code == SHOAL__ERROR_CODE__ERR_VERSION ? PEER_VERSION_ERROR
                   : PEER_BROKER_ERROR;
            return 0;
        default:
            return -1;
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
    self->link.last_recv_ms = clock_mono_ms();
    self->reconnect_backoff_ms = 0;
    peer_event_t event;
    if (s_classify(self, env, &event) == 0)
        s_post(self, event, env);
    else
        log_warn("unexpected_message", "body=%s", wire_body_name(env));
    wire_free(env);
}

//  Read what the broker sent (a bounded number of messages per turn).
static void
s_read_socket(worker_t *self)
{
    for (int i = 0; i < 1000 && self->state != PEER_STOPPED; i++) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, self->link.raw, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            return;
        }
        if (!zmq_msg_more(&msg))
            s_on_message(self, zmq_msg_data(&msg), zmq_msg_size(&msg));
        else    //  multi-frame messages are not ours
            while (zmq_msg_more(&msg)) {
                zmq_msg_close(&msg);
                zmq_msg_init(&msg);
                if (zmq_msg_recv(&msg, self->link.raw, ZMQ_DONTWAIT) < 0)
                    break;
            }
        zmq_msg_close(&msg);
    }
}

//  The loop never sleeps longer than a heartbeat: a longer gap means this
//  process was frozen (SIGSTOP, a suspended VM), and the broker's silence
//  meanwhile is ours, not its.
static void
s_check_frozen(worker_t *self)
{
    int64_t now = clock_mono_ms();
    if (now - self->last_turn_ms > self->heartbeat_ms * 2) {
        log_info("resumed", "frozen_ms=%lld", (long long) (now - self->last_turn_ms));
        s_post(self, PEER_RESUMED, NULL);
    }
    self->last_turn_ms = now;
}

static void
s_check_signals(worker_t *self)
{
    int signals = s_signals;
    if (signals != self->seen_signals) {
        self->seen_signals = signals;
        s_post(self, signals == 1 ? PEER_STOP : PEER_STOP_NOW, NULL);
    }
}

//  A result from a run: count it, keep it until acked.
static void
s_on_result(void *ctx, const Shoal__Result *result)
{
    worker_t *self = ctx;
    if (result->outcome == SHOAL__OUTCOME__OUTCOME_OK)
        self->done++;
    else
        self->failed++;
    if (outbox_add(self->outbox, result) != 0)
        log_error("result_dropped", "task=%llx error=\"out of memory\"", (unsigned long long) result->task_id);
}

// ------------------------------------------------------------------ the loop

//  Whether the broker's socket has a message to read. ZMQ_FD, which the
//  turn polls, only says that the socket's state may have changed (and a
//  send or a receive can consume that signal with messages still queued),
//  so this asks the socket itself, as the last ZeroMQ call before the poll.
static bool
s_link_readable(worker_t *self)
{
    uint32_t events = 0;
    size_t size = sizeof events;
    return self->link.raw && zmq_getsockopt(self->link.raw, ZMQ_EVENTS, &events, &size) == 0
        && (events & ZMQ_POLLIN);
}

//  One turn: sleep until something happens or a timer is due, handle it,
//  send what waits. Returns -1 when the loop cannot go on.
//
//  One poll() over the socket's ZMQ_FD and the executors' descriptors, not
//  zmq_poll: that asks the socket for its events before and after polling
//  and polls twice when nothing is ready at once (4 polls and 2 getpid a
//  turn against 2 and 1 here, issue 16).
static int
s_turn(worker_t *self)
{
    int64_t now = clock_mono_ms();
    int64_t due = timers_next(self->timers);
    if (outbox_flush_due(self->outbox) < due)
        due = outbox_flush_due(self->outbox);
    struct pollfd items[2 + MAX_EXECUTORS];
    executor_t *all[MAX_EXECUTORS], *polled[2 + MAX_EXECUTORS];
    size_t n_all = runs_executors(self->runs, all, MAX_EXECUTORS), n = 2;
    int zfd = -1;
    size_t zfd_size = sizeof zfd;
    if (self->link.raw)
        zmq_getsockopt(self->link.raw, ZMQ_FD, &zfd, &zfd_size);
    items[0] = (struct pollfd) { .fd = zfd, .events = POLLIN };     //  fd -1: ignored
    items[1] = (struct pollfd) { .fd = link_events_fd(&self->link), .events = POLLIN };
    for (size_t i = 0; i < n_all; i++) {
        int fd = all[i]->ops->poll_fd ? all[i]->ops->poll_fd(all[i]) : -1;
        if (fd >= 0) {
            items[n] = (struct pollfd) { .fd = fd, .events = POLLIN };
            polled[n++] = all[i];
        }
    }
    bool queued = s_link_readable(self);
    int64_t wait = queued || self->link.reconnected || due <= now ? 0 : due - now;
    if (poll(items, (nfds_t) n, wait > INT_MAX ? INT_MAX : (int) wait) < 0 && errno != EINTR) {
        log_error("poll_failed", "error=\"%s\"", strerror(errno));
        return -1;
    }
    s_check_signals(self);
    if (queued || items[0].revents)
        s_read_socket(self);
    if ((items[1].revents || self->link.reconnected) && link_take_reconnected(&self->link)
        && self->state != PEER_STOPPED) {
        log_info("broker_reconnected", "broker=%s", self->link.endpoint);
        s_post(self, PEER_RECONNECTED, NULL);
    }
    for (size_t i = 2; i < n; i++)
        if (items[i].revents)
            polled[i]->ops->on_ready(polled[i]);
    s_check_frozen(self);
    timers_fire(self->timers, clock_mono_ms());
    //  a handler broke or mended: the broker hears it before the results
    //  of the tasks it refused, so it routes them elsewhere
    if (handler_executor_changed(self->handler) && self->link.raw)
        s_send_heartbeat(self);
    if (self->state == PEER_STOPPED)
        return 0;
    if (outbox_flush(self->outbox, self->link.raw, self->link.worker_id, self->state >= PEER_DRAINING,
                     runs_size(self->runs) > 0))
        self->link.last_send_ms = clock_mono_ms();
    if (self->state >= PEER_DRAINING && runs_size(self->runs) == 0 && outbox_size(self->outbox) == 0)
        s_post(self, PEER_IDLE, NULL);
    return 0;
}

//  The task kinds to accept, from --kinds and --allow-exec; -1 after
//  logging why not.
static int
s_parse_kinds(worker_t *self)
{
    char kinds[128];
    snprintf(kinds, sizeof kinds, "%s", self->cfg.kinds);
    for (char *tok = strtok(kinds, ", "); tok; tok = strtok(NULL, ", ")) {
        Shoal__TaskKind k = taskspec_kind_parse(tok);
        if (k == SHOAL__TASK_KIND__KIND_NONE) {
            log_error("bad_kind", "kind=%s detail=\"known kinds: noop, http, exec, handler\"", tok);
            return -1;
        }
        if (k == SHOAL__TASK_KIND__KIND_HANDLER && !self->cfg.n_handlers) {
            log_error("no_handlers", "detail=\"handler tasks need --handler NAME=COMMAND\"");
            return -1;
        }
        if (k == SHOAL__TASK_KIND__KIND_EXEC && !self->cfg.allow_exec) {
            log_error("exec_not_allowed", "detail=\"exec tasks run commands: start the worker with"
                      " --allow-exec to accept them\"");
            return -1;
        }
        self->link.kinds |= 1u << k;
    }
    if (self->cfg.allow_exec)
        self->link.kinds |= 1u << SHOAL__TASK_KIND__KIND_EXEC;
    if (self->cfg.n_handlers)
        self->link.kinds |= 1u << SHOAL__TASK_KIND__KIND_HANDLER;
    return 0;
}

static size_t
s_handler_infos(void *ctx, Shoal__HandlerInfo *out, size_t max)
{
    return handler_executor_infos(ctx, out, max);
}

//  --label key=value into the Hello's labels; -1 after logging.
static int
s_parse_labels(worker_t *self)
{
    size_t n = self->cfg.n_labels;
    self->labels = calloc(n + 1, sizeof *self->labels);
    self->label_ptrs = calloc(n + 1, sizeof *self->label_ptrs);
    if (!self->labels || !self->label_ptrs)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *text = self->cfg.labels[i];
        const char *eq = strchr(text, '=');
        Shoal__Label *l = &self->labels[i];
        shoal__label__init(l);
        l->key = eq ? strndup(text, (size_t) (eq - text)) : NULL;
        l->value = eq ? strdup(eq + 1) : NULL;
        self->label_ptrs[i] = l;
        self->link.n_labels = i + 1;
        char err[256], q[300], tq[300];
        if (!eq)
            snprintf(err, sizeof err, "expected KEY=VALUE");
        if (!eq || !l->key || !l->value
        ||  taskspec_validate_labels("--label", self->label_ptrs, i + 1, err, sizeof err)) {
            log_error("bad_label", "label=%s detail=%s", log_quote(text, tq, sizeof tq), log_quote(err, q, sizeof q));
            return -1;
        }
    }
    self->link.labels = self->label_ptrs;
    return 0;
}

//  An executor for every kind this worker accepts; -1 after logging.
static int
s_executors_new(worker_t *self)
{
    const executor_host_t *host = runs_host(self->runs);
    uint32_t kinds = self->link.kinds;
    if (kinds & (1u << SHOAL__TASK_KIND__KIND_NOOP))
        runs_set_executor(self->runs, SHOAL__TASK_KIND__KIND_NOOP, noop_executor_new(host, self->cfg.test_hooks));
    if (kinds & (1u << SHOAL__TASK_KIND__KIND_HTTP)) {
        executor_t *http = http_executor_new(host, self->cfg.body_dir, (size_t) self->cfg.slots, &self->cfg.s3);
        if (!http) {
            log_error("startup_failed", "error=\"cannot set up libcurl\"");
            return -1;
        }
        runs_set_executor(self->runs, SHOAL__TASK_KIND__KIND_HTTP, http);
    }
    if (kinds & (1u << SHOAL__TASK_KIND__KIND_EXEC)) {
        executor_t *exec = exec_executor_new(host, self->cfg.exec_containment);
        if (!exec) {
            log_error("startup_failed", "error=\"cannot set up the exec executor\"");
            return -1;
        }
        runs_set_executor(self->runs, SHOAL__TASK_KIND__KIND_EXEC, exec);
    }
    if (self->cfg.n_handlers) {
        self->handler = handler_executor_new(host, self->cfg.handlers, self->cfg.n_handlers);
        if (!self->handler)
            return -1;
        runs_set_executor(self->runs, SHOAL__TASK_KIND__KIND_HANDLER, self->handler);
        self->link.handler_infos = s_handler_infos;
        self->link.handler_ctx = self->handler;
    }
    return 0;
}

//  Who we are, what we run, the first connection. Returns 0 or the exit code.
static int
s_setup(worker_t *self, const worker_config_t *cfg)
{
    memset(self, 0, sizeof *self);
    self->cfg = *cfg;
    self->heartbeat_ms = cfg->heartbeat_ms;
    self->liveness = cfg->liveness;
    self->last_turn_ms = clock_mono_ms();
    link_t *l = &self->link;
    l->endpoint = cfg->broker;
    l->keys = cfg->keys;
    l->hwm = (int) cfg->hwm;
    l->slots = (uint32_t) cfg->slots;
    gethostname(l->host, sizeof l->host - 1);
    l->instance = ((uint64_t) getpid() << 32) ^ (uint64_t) clock_wall_us() ^ (uint64_t) random();
    if (cfg->worker_id)
        snprintf(l->worker_id, sizeof l->worker_id, "%s", cfg->worker_id);
    else
        snprintf(l->worker_id, sizeof l->worker_id, "%.64s-%d-%04x", l->host, (int) getpid(),
                 (unsigned) (clock_wall_us() & 0xffff));
    if (s_parse_kinds(self) != 0 || s_parse_labels(self) != 0)
        return 2;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    self->timers = timers_new();
    self->outbox = self->timers ? outbox_new(self->timers, self->heartbeat_ms * self->liveness * 2) : NULL;
    self->runs = self->timers ? runs_new(self->timers, s_on_result, self) : NULL;
    if (!self->outbox || !self->runs || s_executors_new(self) != 0 || s_reconnect(self) != 0)
        return 1;
    log_info("worker_started", "id=%s broker=%s slots=%lld kinds=%s", l->worker_id, cfg->broker,
             (long long) cfg->slots, cfg->kinds);
    return 0;
}

static void
s_teardown(worker_t *self)
{
    link_close(&self->link);
    if (self->runs)
        runs_abort_all(self->runs, "exit");
    runs_destroy(&self->runs);
    outbox_destroy(&self->outbox);
    timers_destroy(&self->timers);
    curl_global_cleanup();
    for (size_t i = 0; self->labels && i < self->cfg.n_labels; i++) {
        free(self->labels[i].key);
        free(self->labels[i].value);
    }
    free(self->labels);
    free(self->label_ptrs);
}

int
worker_run(const worker_config_t *cfg)
{
    stopsig_install(s_on_signal, false);

    worker_t self;
    int rc = s_setup(&self, cfg);
    while (rc == 0 && self.state != PEER_STOPPED)
        if (s_turn(&self) != 0) {
            link_send_bye(&self.link, "failed");
            rc = 1;
        }
    if (rc == 0)
        rc = self.exit_code;
    s_teardown(&self);
    log_info("worker_stopped", "id=%s", self.link.worker_id);
    return rc;
}
