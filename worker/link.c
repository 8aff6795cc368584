/*  link — the socket to the broker. A connection that went silent is
    replaced, not repaired: the old socket is closed at once (see
    link_connect) and the new one starts with a Hello that tells the
    broker what this worker runs and holds. */
#include "link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "eplist.h"
#include "log.h"
#include "wire.h"
#include "zmonitor_event.h"

//  Watch the new socket's connections: when one comes up again the
//  worker says Hello at once, instead of at its next heartbeat. A broker
//  restarted on the same endpoint, or a new leader of a list, then hears
//  from the worker within a round trip of listening (issue 16).
static int
s_monitor(link_t *self)
{
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "inproc://shoal-link-events-%llu",
             (unsigned long long) ++self->sockets);
    if (zmq_socket_monitor(self->raw, endpoint, ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED
                                              | ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMONITOR_HANDSHAKE_FAILED) != 0
        || !(self->monitor = zsock_new(ZMQ_PAIR))) {
        log_error("monitor_failed", "error=\"%s\"", zmq_strerror(zmq_errno()));
        return -1;
    }
    self->monitor_raw = zsock_resolve(self->monitor);
    int zero = 0;
    zmq_setsockopt(self->monitor_raw, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_connect(self->monitor_raw, endpoint) != 0) {
        log_error("monitor_failed", "endpoint=%s error=\"%s\"", endpoint, zmq_strerror(zmq_errno()));
        return -1;
    }
    //  read once now: the descriptor only signals events that come after
    //  a read found none
    self->handshakes = 0;
    self->reconnected = self->connecting = false;
    self->reconnected = link_take_reconnected(self);
    return 0;
}

int
link_events_fd(link_t *self)
{
    int fd = -1;
    size_t size = sizeof fd;
    if (!self->monitor_raw || zmq_getsockopt(self->monitor_raw, ZMQ_FD, &fd, &size) != 0)
        return -1;
    return fd;
}

_Static_assert(ZMONITOR_REASONS < sizeof ((link_t *) 0)->warned_ms / sizeof (int64_t),
               "a warning clock per kind of handshake failure");

//  Say why the broker cannot be reached, at most once per kind every 30 s.
static void
s_warn_handshake(link_t *self, int kind, const char *reason, uint32_t code, const char *detail)
{
    int64_t now = clock_mono_ms();
    if (self->warned_ms[kind] && now - self->warned_ms[kind] < 30000)
        return;
    self->warned_ms[kind] = now;
    log_warn("broker_handshake_failed", "broker=%s reason=%s code=%u detail=\"%s\"", self->endpoint, reason,
             code, detail);
}

static void
s_on_handshake_failed(link_t *self, zmonitor_reason_t reason, uint32_t code)
{
    static const char *details[ZMONITOR_REASONS] = {
        "the broker refused this worker's CURVE key: is its public key in the broker's allow directory?",
        "one side uses CURVE and the other does not (--curve-server-key, --curve-key)",
        "the CURVE handshake failed: is --curve-server-key the broker's public key?",
        "the broker's authentication failed",
        "the endpoint does not speak ZeroMQ's protocol as a shoal broker does",
        "the connection closed or timed out during the handshake",
    };
    s_warn_handshake(self, (int) reason, zmonitor_reason_name(reason), code, details[reason]);
}

bool
link_take_reconnected(link_t *self)
{
    bool reconnected = self->reconnected;
    self->reconnected = false;
    uint16_t event;
    uint32_t value;
    for (int i = 0; i < 100 && zmonitor_event_recv(self->monitor_raw, &event, &value); i++) {
        zmonitor_reason_t reason = zmonitor_reason(event, value);
        if (event == ZMQ_EVENT_CONNECTED)
            self->connecting = true;
        else
        if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            self->connecting = false;
            if (self->handshakes++ > 0)
                reconnected = true;
        }
        else
        if (reason != ZMONITOR_REASONS) {
            self->connecting = false;
            s_on_handshake_failed(self, reason, value);
        }
        else
        if (event == ZMQ_EVENT_DISCONNECTED && self->connecting) {
            //  libzmq reports no failure when the peer's socket type does
            //  not match (a PUB, a server's other port), and never tries the
            //  endpoint again: the silence limit opens a new socket
            self->connecting = false;
            s_warn_handshake(self, ZMONITOR_REASONS, "closed_before_handshake", 0,
                             "the endpoint closed the connection before the ZeroMQ handshake ended: is it a"
                             " shoal broker's backend (--backend, default port 5556), not its frontend or"
                             " progress port?");
        }
    }
    return reconnected;
}

int
link_connect(link_t *self)
{
    //  the old socket is dead to us: close it at once. Left lingering, it
    //  would deliver its queued Hello when the network comes back, after
    //  the new socket's, and take the worker id over at the broker's ROUTER
    //  (handover), so the broker would talk to a socket nobody reads
    if (self->dealer) {
        int zero = 0;
        zmq_setsockopt(self->raw, ZMQ_LINGER, &zero, sizeof zero);
    }
    zsock_destroy(&self->dealer);
    zsock_destroy(&self->monitor);
    self->monitor_raw = NULL;
    self->dealer = zsock_new(ZMQ_DEALER);
    if (!self->dealer)
        return -1;
    self->raw = zsock_resolve(self->dealer);
    if (s_monitor(self) != 0)
        return -1;
    wire_socket_defaults(self->raw);
    zmq_setsockopt(self->raw, ZMQ_SNDHWM, &self->hwm, sizeof self->hwm);
    zmq_setsockopt(self->raw, ZMQ_RCVHWM, &self->hwm, sizeof self->hwm);
    zmq_setsockopt(self->raw, ZMQ_ROUTING_ID, self->worker_id, strlen(self->worker_id));
    //  a broker that went away is tried again every 50-100 ms (libzmq adds
    //  up to one interval at random), not 100-200: with the Hello sent on
    //  the connection coming up, this is most of a restarted broker's wait
    //  for its workers (issue 16, docs/benchmarks.md)
    int reconnect_ms = LINK_RECONNECT_MS;
    zmq_setsockopt(self->raw, ZMQ_RECONNECT_IVL, &reconnect_ms, sizeof reconnect_ms);
    //  give the last results and the Bye a moment to leave at exit
    int linger = 2000;
    zmq_setsockopt(self->raw, ZMQ_LINGER, &linger, sizeof linger);
    if (keys_apply(self->keys, self->raw) != 0) {
        log_error("curve_failed", "error=\"%s\"", zmq_strerror(zmq_errno()));
        return -1;
    }
    //  every broker of a list: only the leader listens, and after a
    //  takeover the same socket reaches the new one (docs/failover.md)
    char err[600], q[700];
    if (eplist_connect(self->raw, self->endpoint, err, sizeof err) != 0) {
        log_error("connect_failed", "broker=%s error=%s", self->endpoint, log_quote(err, q, sizeof q));
        return -1;
    }
    self->last_recv_ms = clock_mono_ms();
    return 0;
}

void
link_close(link_t *self)
{
    zsock_destroy(&self->dealer);
    self->raw = NULL;
    zsock_destroy(&self->monitor);
    self->monitor_raw = NULL;
}

int
link_send(link_t *self, Shoal__Envelope *env)
{
    self->last_send_ms = clock_mono_ms();
    return wire_send(self->raw, NULL, 0, env, ZMQ_DONTWAIT);
}

void
link_send_hello(link_t *self, runs_t *runs, const outbox_t *outbox)
{
    size_t n_held = runs_size(runs);
    size_t n_done = outbox_size(outbox);
    Shoal__TaskRef *refs = calloc(n_held + n_done + 1, sizeof *refs);
    Shoal__TaskRef **held = calloc(n_held + 1, sizeof *held);
    Shoal__TaskRef **done = calloc(n_done + 1, sizeof *done);
    if (!refs || !held || !done) {
        free(refs); free(held); free(done);
        return;
    }
    size_t i = 0, cursor = 0;
    run_t *run;
    while (i < n_held && (run = runs_next(runs, &cursor))) {
        run_ref_init(&refs[i], run->task_id, run->lease);
        held[i] = &refs[i];
        i++;
    }
    size_t j = outbox_refs(outbox, refs + i, done, n_done);
    Shoal__TaskKind kinds[16];
    size_t n_kinds = 0;
    for (int k = 1; k < 16; k++)
        if (self->kinds & (1u << k))
            kinds[n_kinds++] = (Shoal__TaskKind) k;
    Shoal__Hello hello = SHOAL__HELLO__INIT;
    hello.worker_id = self->worker_id;
    hello.host = self->host;
    hello.has_pid = hello.has_slots = hello.has_instance = hello.has_seq = 1;
    hello.instance = self->instance;
    hello.seq = ++self->hello_seq;
    hello.pid = (uint32_t) getpid();
    hello.version = SHOAL_VERSION;
    hello.slots = self->slots;
    hello.kinds = kinds;
    hello.n_kinds = n_kinds;
    hello.labels = self->labels;
    hello.n_labels = self->n_labels;
    Shoal__HandlerInfo infos[WIRE_MAX_HANDLERS], *info_ptrs[WIRE_MAX_HANDLERS];
    size_t n_infos = self->handler_infos ? self->handler_infos(self->handler_ctx, infos, WIRE_MAX_HANDLERS) : 0;
    for (size_t k = 0; k < n_infos; k++)
        info_ptrs[k] = &infos[k];
    hello.handlers = info_ptrs;
    hello.n_handlers = n_infos;
    hello.held = held;
    hello.n_held = i;
    hello.done = done;
    hello.n_done = j;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_HELLO;
    env.hello = &hello;
    link_send(self, &env);
    self->last_hello_ms = clock_mono_ms();
    free(refs);
    free(held);
    free(done);
}

void
link_send_heartbeat(link_t *self, uint32_t running, bool draining)
{
    Shoal__Heartbeat hb = SHOAL__HEARTBEAT__INIT;
    hb.has_running = 1;
    hb.running = running;
    if (draining) {
        hb.has_draining = 1;
        hb.draining = 1;
    }
    Shoal__HandlerInfo infos[WIRE_MAX_HANDLERS], *info_ptrs[WIRE_MAX_HANDLERS];
    size_t n_infos = self->handler_infos ? self->handler_infos(self->handler_ctx, infos, WIRE_MAX_HANDLERS) : 0;
    for (size_t k = 0; k < n_infos; k++)
        info_ptrs[k] = &infos[k];
    hb.handlers = info_ptrs;
    hb.n_handlers = n_infos;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    link_send(self, &env);
}

void
link_send_bye(link_t *self, const char *reason)
{
    Shoal__Bye bye = SHOAL__BYE__INIT;
    bye.reason = (char *) reason;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_BYE;
    env.bye = &bye;
    link_send(self, &env);
}
