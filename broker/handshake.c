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

#define HANDSHAKE_EVENTS  (ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL \
                         | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)

static const char *s_names[] = { "frontend", "backend", "progress" };

int
handshake_watch(server_t *self, int which, void *raw)
{
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "inproc://shoal-handshake-%s", s_names[which]);
    if (zmq_socket_monitor(raw, endpoint, HANDSHAKE_EVENTS) != 0)
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

//  Why a handshake failed; each reason has its own log budget, so a flood
//  of one kind cannot hide another.
enum { R_KEY_REFUSED, R_MECHANISM, R_CRYPTO, R_ZAP, R_MALFORMED, R_CLOSED, R_COUNT };
static const char *s_reasons[R_COUNT] = {
    "key_refused",          //  a CURVE key not in the allow directory
    "mechanism_mismatch",   //  plaintext peer, or CURVE on one side only
    "cryptographic",        //  wrong server key, tampered box
    "zap_error",
    "malformed_handshake",
    "closed_or_timed_out"   //  hung up, or silent past WIRE_HANDSHAKE_MS
};

static int
s_protocol_reason(uint32_t code)
{
    switch (code) {
        case ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH:
            return R_MECHANISM;
        case ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC:
            return R_CRYPTO;
        case ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED:
        case ZMQ_PROTOCOL_ERROR_ZAP_MALFORMED_REPLY:
        case ZMQ_PROTOCOL_ERROR_ZAP_BAD_REQUEST_ID:
        case ZMQ_PROTOCOL_ERROR_ZAP_BAD_VERSION:
        case ZMQ_PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE:
        case ZMQ_PROTOCOL_ERROR_ZAP_INVALID_METADATA:
            return R_ZAP;
        default:
            return R_MALFORMED;
    }
}

static void
s_count(server_t *self, int which, int reason, uint32_t value)
{
    self->handshake_failures++;
    char what[64];
    snprintf(what, sizeof what, "handshake_failed:%s", s_reasons[reason]);
    if (broker_log_budget(&self->hs_log[reason], what))
        log_warn("handshake_failed", "socket=%s reason=%s code=%u total=%llu", s_names[which],
                 s_reasons[reason], value, (unsigned long long) self->handshake_failures);
}

void
handshake_on_event(server_t *self, int which)
{
    for (int i = 0; i < 100; i++) {
        zmq_msg_t head, addr;
        zmq_msg_init(&head);
        if (zmq_msg_recv(&head, self->monitor_raw[which], ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&head);
            return;
        }
        zmq_msg_init(&addr);
        bool two = zmq_msg_more(&head)
                && zmq_msg_recv(&addr, self->monitor_raw[which], ZMQ_DONTWAIT) >= 0;
        if (two && zmq_msg_size(&head) == 6) {
            const uint8_t *d = zmq_msg_data(&head);
            uint16_t event;
            uint32_t value;
            memcpy(&event, d, 2);
            memcpy(&value, d + 2, 4);
            if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
                s_count(self, which, R_KEY_REFUSED, value);     //  ZAP status, 400
            else
            if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
                s_count(self, which, s_protocol_reason(value), value);
            else
            if (event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
                s_count(self, which, R_CLOSED, value);          //  errno
        }
        //  a monitor message has exactly two frames; anything else is skipped
        zmq_msg_close(&addr);
        zmq_msg_close(&head);
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
