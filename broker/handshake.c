/*  handshake — connections the broker refused before any message: counted
    and logged.

    libzmq closes a connection whose handshake fails before a single frame
    reaches the broker: a CURVE key that is not in the allow directory, a
    wrong server key, a plaintext peer on a CURVE socket, a peer that stays
    silent for WIRE_HANDSHAKE_MS or hangs up half way. A socket monitor on
    each of the three sockets reports these; the broker counts them
    (cluster.handshake_failures in every snapshot) and logs them, at most
    LOG_BUDGET_BURST lines a minute per reason, so a port scanner cannot
    flood the log, nor hide a refused key behind its own lines. libzmq's monitor names the socket's own endpoint, not the remote
    address, so the log cannot say who it was (firewall logs can).

    Not reported by libzmq, so not counted: bytes that are not ZMTP at all
    on a CURVE socket (libzmq takes them for ZMTP 1.0 and closes at once). */
#include "broker.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "zmonitor_event.h"

static const char *s_names[] = { "frontend", "backend", "progress" };

int
handshake_watch(server_t *self, int which, void *raw)
{
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "inproc://shoal-handshake-%s", s_names[which]);
    if (zmq_socket_monitor(raw, endpoint, ZMONITOR_HANDSHAKE_FAILED) != 0)
        return -1;
    zsock_t *pair = zsock_new(ZMQ_PAIR);
    if (!pair || zsock_connect(pair, "%s", endpoint) != 0) {
        zsock_destroy(&pair);
        zmq_socket_monitor(raw, NULL, 0);
        return -1;
    }
    self->monitors[which] = pair;
    self->monitor_raw[which] = zsock_resolve(pair);
    return 0;
}

//  Each reason (zmonitor_event.h) has its own log budget, so a flood of
//  one kind cannot hide another.
static void
s_count(server_t *self, int which, int reason, uint32_t value)
{
    self->handshake_failures++;
    char what[64];
    snprintf(what, sizeof what, "handshake_failed:%s", zmonitor_reason_name(reason));
    if (broker_log_budget(&self->hs_log[reason], what))
        log_warn("handshake_failed", "socket=%s reason=%s code=%u total=%llu", s_names[which],
                 zmonitor_reason_name(reason), value, (unsigned long long) self->handshake_failures);
}

void
handshake_on_event(server_t *self, int which)
{
    uint16_t event;
    uint32_t value;
    for (int i = 0; i < 100 && zmonitor_event_recv(self->monitor_raw[which], &event, &value); i++) {
        zmonitor_reason_t reason = zmonitor_reason(event, value);
        if (reason != ZMONITOR_REASONS)
            s_count(self, which, (int) reason, value);
    }
}

void
handshake_destroy(server_t *self)
{
    void *socks[3] = { self->frontend_raw, self->backend_raw, self->publisher_raw };
    for (int i = 0; i < 3; i++) {
        if (self->monitors[i] && socks[i])
            zmq_socket_monitor(socks[i], NULL, 0);
        zsock_destroy(&self->monitors[i]);
        self->monitor_raw[i] = NULL;
    }
}
