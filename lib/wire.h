/*  wire — the one place that turns frames into validated messages and back.

    Every ZeroMQ message carries one protobuf Envelope. wire_decode() checks
    size, protobuf structure, protocol version and the body's own rules
    (required fields, counts, sizes, enum values) and either returns a
    message that is safe to use or NULL with a reason a person can read.
*/
#ifndef SHOAL_WIRE_H
#define SHOAL_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shoal.pb-c.h"

#define SHOAL_PROTO_MAJOR   1
//  Largest frame any shoal socket accepts (ZMQ_MAXMSGSIZE); see docs/protocol.md.
#define WIRE_MAX_FRAME      (64 << 20)
//  What any frame may decode into besides 8 times its size: room for the
//  structs of 50,000 of the smallest task specs (a chunk of tasks).
#define WIRE_DECODE_FLOOR   (16u << 20)
//  Largest frame the broker takes from a client (its frontend). The largest
//  request is a submit chunk: specs up to 4 MiB, or one spec alone up to
//  TASKSPEC_MAX_PACKED (16 MiB); a job's defaults are bounded the same way.
#define WIRE_MAX_CLIENT_FRAME ((16 << 20) + (64 << 10))
//  Largest number of items in one batch message (tasks, results, specs).
#define WIRE_MAX_BATCH      100000
//  Largest number of task references in one ack/cancel/hello.
#define WIRE_MAX_REFS       (1 << 20)
//  Handlers one worker may announce.
#define WIRE_MAX_HANDLERS   64
//  A connection that has not finished the ZMTP/CURVE handshake after this
//  long is closed (ZMQ_HANDSHAKE_IVL; libzmq's default is 30 s).
#define WIRE_HANDSHAKE_MS   10000
//  Messages the broker queues from one peer before it stops reading that
//  peer's connection (ZMQ_RCVHWM on the ROUTER sockets, per peer). Workers
//  and clients keep only a few messages in flight; the cap bounds what one
//  peer can make the broker hold at RCVHWM x WIRE_MAX_FRAME.
#define WIRE_RCVHWM         1000

typedef Shoal__Envelope envelope_t;

//  Decode and validate one frame. Returns a new envelope (free with
//  wire_free) or NULL with the reason in err. A peer speaking another major
//  version yields NULL with *version_mismatch set, so the caller can answer
//  with ERR_VERSION.
envelope_t *wire_decode(const void *data, size_t size, char *err, size_t errlen,
                        bool *version_mismatch);
//  Free an envelope wire_decode returned; accepts NULL. Its whole tree is
//  one block (an arena): free no part of it on its own, put no malloc'd
//  pointer in it, and free no other envelope with this.
void wire_free(envelope_t *env);
//  Validate an envelope's body (wire_decode calls this). Returns 0 or -1 + err.
int wire_validate(const envelope_t *env, char *err, size_t errlen);
//  Name of the body kind, for logs ("hello", "results", ...).
const char *wire_body_name(const envelope_t *env);

//  Send an envelope on a raw libzmq socket, optionally after a routing id
//  frame. Sets the protocol version. Returns 0, or -1 (errno from libzmq;
//  EAGAIN when the peer's queue is full and ZMQ_DONTWAIT is in flags).
int wire_send(void *socket, const void *routing_id, size_t routing_len,
              envelope_t *env, int flags);
//  Wait up to timeout_ms on a DEALER-side socket for the reply to `corr`
//  (0: the first envelope that decodes); what does not decode and late
//  replies to earlier requests are dropped. `heard` (may be NULL) is
//  called with `arg` for every envelope that decodes. NULL at the end of
//  the time. The CLI's client and the gateway's links share it.
envelope_t *wire_await(void *socket, uint64_t corr, int timeout_ms, void (*heard)(void *arg), void *arg);
//  Send an envelope after a topic frame (PUB).
int wire_publish(void *socket, const char *topic, envelope_t *env);
//  Send an Error body with a message.
int wire_send_error(void *socket, const void *routing_id, size_t routing_len,
                    uint64_t corr, Shoal__ErrorCode code, const char *message);

//  Build a packed Envelope carrying a Results body from Result messages that
//  are already packed (a worker keeps its unacked results packed). Returns
//  a malloc'd buffer and its size in *out_len, or NULL on allocation failure.
uint8_t *wire_pack_results(uint8_t *const *items, const size_t *lens, size_t n,
                           const char *worker_id, size_t *out_len);

//  Set the socket options every shoal socket gets: max message size,
//  linger 0, handshake timeout. See docs/protocol.md, "Limits".
void wire_socket_defaults(void *socket);
//  Lower a socket's ZMQ_MAXMSGSIZE to `max` + 4 KiB (frames between `max`
//  and the cap reach the receiver, which refuses and counts them).
void wire_socket_max_frame(void *socket, size_t max);

#endif
