/*  zmonitor_event — reading a ZeroMQ socket monitor (zmq_socket_monitor)
    and naming why a handshake failed. Shared by the broker, which counts
    the connections it refused (broker/handshake.c), and the worker, which
    says why it cannot reach its broker (worker/link.c). */
#ifndef SHOAL_ZMONITOR_EVENT_H
#define SHOAL_ZMONITOR_EVENT_H

#include <stdbool.h>
#include <stdint.h>
#include <zmq.h>

#define ZMONITOR_HANDSHAKE_FAILED (ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL \
                                   | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)

typedef enum {
    ZMONITOR_KEY_REFUSED,       //  a CURVE key not in the allow directory
    ZMONITOR_MECHANISM,         //  plaintext peer, or CURVE on one side only
    ZMONITOR_CRYPTO,            //  wrong server key, tampered box
    ZMONITOR_ZAP,
    ZMONITOR_MALFORMED,
    ZMONITOR_CLOSED,            //  hung up, or silent past WIRE_HANDSHAKE_MS
    ZMONITOR_REASONS            //  (not a handshake failure)
} zmonitor_reason_t;

//  Take one event from the monitor's PAIR socket without waiting: true and
//  its event and value, or false when none is queued. Malformed messages
//  (not exactly two frames, the first of 6 bytes) are skipped.
bool zmonitor_event_recv(void *pair, uint16_t *event, uint32_t *value);
//  Why a handshake failed, from the event and its value;
//  ZMONITOR_REASONS for an event that is no handshake failure.
zmonitor_reason_t zmonitor_reason(uint16_t event, uint32_t value);
//  "key_refused", "mechanism_mismatch", "cryptographic", "zap_error",
//  "malformed_handshake", "closed_or_timed_out" ("?" otherwise).
const char *zmonitor_reason_name(zmonitor_reason_t reason);

#endif
