/*  client — see client.h. */
#include "client.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "eplist.h"
#include "wire.h"

struct _client_t {
    zsock_t  *dealer;
    void     *raw;
    zsock_t  *monitor;      //  handshake events of the dealer, may be NULL
    bool      curve;        //  CURVE client
    char     *endpoint;
    int       timeout_ms;
    uint64_t  next_corr;
    Shoal__ErrorCode last_error;    //  code of the last Error reply, ERR_NONE after a timeout
};

//  Watch the dealer's handshakes, to tell "refused" from "unreachable".
static void
s_watch(client_t *self)
{
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://shoal-client-%p", (void *) self);
    if (zmq_socket_monitor(self->raw, ep, ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
                           | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) != 0)
        return;
    self->monitor = zsock_new(ZMQ_PAIR);
    if (self->monitor && zsock_connect(self->monitor, "%s", ep) != 0)
        zsock_destroy(&self->monitor);
}

client_t *
client_new(const char *endpoint, int timeout_ms, const keys_t *keys)
{
    client_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->dealer = zsock_new(ZMQ_DEALER);
    self->endpoint = strdup(endpoint);
    if (!self->dealer || !self->endpoint) {
        client_destroy(&self);
        return NULL;
    }
    self->raw = zsock_resolve(self->dealer);
    wire_socket_defaults(self->raw);
    //  fail fast instead of queueing forever when the broker is gone
    int one = 1;
    zmq_setsockopt(self->raw, ZMQ_IMMEDIATE, &one, sizeof one);
    self->curve = keys != NULL;
    if (keys_apply(keys, self->raw) != 0) {
        client_destroy(&self);
        return NULL;
    }
    s_watch(self);
    char err[600];
    if (eplist_connect(self->raw, endpoint, err, sizeof err) != 0) {
        fprintf(stderr, "shoal: %s\n", err);
        client_destroy(&self);
        return NULL;
    }
    self->timeout_ms = timeout_ms;
    self->next_corr = (uint64_t) clock_wall_us();
    return self;
}

void
client_destroy(client_t **self_p)
{
    client_t *self = *self_p;
    if (!self)
        return;
    if (self->monitor)
        zmq_socket_monitor(self->raw, NULL, 0);
    zsock_destroy(&self->monitor);
    zsock_destroy(&self->dealer);
    free(self->endpoint);
    free(self);
    *self_p = NULL;
}

void *
client_socket(client_t *self)
{
    return self->raw;
}

const char *
client_endpoint(const client_t *self)
{
    return self->endpoint;
}

uint64_t
client_send(client_t *self, Shoal__Envelope *env)
{
    env->has_corr = 1;
    env->corr = ++self->next_corr;
    //  ZMQ_IMMEDIATE: while not connected the send would block; wait up to
    //  the timeout for the connection instead
    int timeout = self->timeout_ms;
    zmq_setsockopt(self->raw, ZMQ_SNDTIMEO, &timeout, sizeof timeout);
    if (wire_send(self->raw, NULL, 0, env, 0) != 0)
        return 0;
    return env->corr;
}

Shoal__Envelope *
client_recv(client_t *self, uint64_t corr, int timeout_ms)
{
    return wire_await(self->raw, corr, timeout_ms < 0 ? self->timeout_ms : timeout_ms, NULL, NULL);
}

bool
client_explain_silence(client_t *self, char *err, size_t errlen, int *code)
{
    //  the worker list comes from the broker's memory, never its database
    Shoal__WorkersRequest body = SHOAL__WORKERS_REQUEST__INIT;
    Shoal__Envelope probe = SHOAL__ENVELOPE__INIT;
    probe.body_case = SHOAL__ENVELOPE__BODY_WORKERS_REQUEST;
    probe.workers_request = &body;
    uint64_t corr = client_send(self, &probe);
    Shoal__Envelope *reply = corr ? client_recv(self, corr, self->timeout_ms < 3000 ? self->timeout_ms : 3000)
                                  : NULL;
    if (!reply)
        return false;
    wire_free(reply);
    snprintf(err, errlen, "the broker at %s answers, but its database did not answer within %d ms"
             " (PostgreSQL stalled or overloaded, or a table locked?); a change asked for may still"
             " be applied when it answers. --broker-timeout-ms waits longer",
             self->endpoint, self->timeout_ms);
    *code = EXIT_REFUSED;
    return true;
}

bool
client_handshake_failed(client_t *self, char *err, size_t errlen, int *code)
{
    //  of all the attempts, report the most telling: a refused key, then
    //  CURVE on one side only, then anything else
    int best = 0;
    uint32_t status = 0;
    while (self->monitor) {
        zmq_msg_t head, addr;
        zmq_msg_init(&head);
        zmq_msg_init(&addr);
        void *raw = zsock_resolve(self->monitor);
        if (zmq_msg_recv(&head, raw, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&head);
            zmq_msg_close(&addr);
            break;
        }
        if (zmq_msg_more(&head))
            zmq_msg_recv(&addr, raw, ZMQ_DONTWAIT);
        if (zmq_msg_size(&head) == 6) {
            uint16_t event;
            uint32_t value;
            memcpy(&event, zmq_msg_data(&head), 2);
            memcpy(&value, (uint8_t *) zmq_msg_data(&head) + 2, 4);
            int rank = event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ? 3
                     : event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                       && value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH ? 2 : 1;
            if (rank > best) {
                best = rank;
                status = value;
            }
        }
        zmq_msg_close(&head);
        zmq_msg_close(&addr);
    }
    if (best == 3) {
        *code = EXIT_REFUSED;
        snprintf(err, errlen, "the broker at %s refused our CURVE key (status %u): copy this"
                 " program's NAME.key into the broker's --curve-allow directory", self->endpoint, status);
    }
    else
    if (best == 2) {
        *code = EXIT_UNREACHABLE;
        snprintf(err, errlen, self->curve
                 ? "the broker at %s does not use CURVE, but we do: drop --curve-server-key"
                 : "the broker at %s uses CURVE: pass --curve-server-key (its public key)"
                   " and --curve-key (our key pair)", self->endpoint);
    }
    else
    if (best == 1) {
        *code = EXIT_UNREACHABLE;
        snprintf(err, errlen, self->curve
                 ? "the CURVE handshake with the broker at %s failed: is --curve-server-key"
                   " the broker's public key, and is our key in its --curve-allow directory?"
                 : "the handshake with the broker at %s failed (does it use CURVE?)", self->endpoint);
    }
    return best > 0;
}

void
client_error_text(const Shoal__Envelope *reply, char *err, size_t errlen)
{
    const Shoal__Error *e = reply->error;
    const char *text = e->message && *e->message ? e->message : "the broker refused the request";
    switch (e->has_code ? e->code : SHOAL__ERROR_CODE__ERR_NONE) {
        case SHOAL__ERROR_CODE__ERR_NOT_FOUND:
            snprintf(err, errlen, "%s ('shoal jobs' lists the jobs)", text);
            break;
        case SHOAL__ERROR_CODE__ERR_UNAVAILABLE:
            if (strstr(text, "database unavailable"))
                snprintf(err, errlen, "%s; try again when it is back", text);
            else
                snprintf(err, errlen, "database unavailable at the broker: %s; nothing was stored,"
                         " try again when it is back", text);
            break;
        case SHOAL__ERROR_CODE__ERR_VERSION:
            snprintf(err, errlen, "the broker speaks another protocol version (this is shoal %s): %s",
                     SHOAL_VERSION, text);
            break;
        default:
            snprintf(err, errlen, "%s", text);
    }
}

Shoal__ErrorCode
client_error_code(const client_t *self)
{
    return self->last_error;
}

Shoal__Envelope *
client_call(client_t *self, Shoal__Envelope *req, char *err, size_t errlen, int *code)
{
    self->last_error = SHOAL__ERROR_CODE__ERR_NONE;
    uint64_t corr = client_send(self, req);
    if (!corr) {
        snprintf(err, errlen, "cannot reach the broker at %s: no connection within %d ms"
                 " (is shoal-broker running there? set --broker or SHOAL_BROKER)",
                 self->endpoint, self->timeout_ms);
        *code = EXIT_UNREACHABLE;
        client_handshake_failed(self, err, errlen, code);
        return NULL;
    }
    Shoal__Envelope *reply = client_recv(self, corr, -1);
    if (!reply) {
        snprintf(err, errlen, "no answer from the broker at %s within %d ms"
                 " (is shoal-broker running there? --broker-timeout-ms waits longer)",
                 self->endpoint, self->timeout_ms);
        *code = EXIT_UNREACHABLE;
        if (!client_handshake_failed(self, err, errlen, code))
            client_explain_silence(self, err, errlen, code);
        return NULL;
    }
    if (reply->body_case == SHOAL__ENVELOPE__BODY_ERROR) {
        client_error_text(reply, err, errlen);
        self->last_error = reply->error->has_code ? reply->error->code : SHOAL__ERROR_CODE__ERR_INTERNAL;
        *code = EXIT_REFUSED;
        wire_free(reply);
        return NULL;
    }
    return reply;
}
