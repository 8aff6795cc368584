/*  client — request/reply with the broker's frontend over a DEALER socket.

    Requests carry a correlation id; replies are matched by it, so several
    requests can be in flight (the submit window). A broker that does not
    answer within the timeout is reported as unreachable, never waited on
    forever. */
#ifndef SHOAL_CLIENT_H
#define SHOAL_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "keys.h"
#include "shoal.pb-c.h"

//  Exit codes of the shoal CLI (docs/cli.md).
#define EXIT_OK           0
#define EXIT_FAILURES     1     //  the job finished with failed tasks
#define EXIT_USAGE        2     //  bad command line
#define EXIT_INPUT        3     //  bad task input (file:line reported)
#define EXIT_UNREACHABLE  4     //  no answer from the broker
#define EXIT_REFUSED      5     //  the broker refused (not found, state, database down)
#define EXIT_INTERRUPTED  130   //  Ctrl-C while following a job or submitting

typedef struct _client_t client_t;

//  Connect to the frontend. `timeout_ms` bounds every wait for a reply.
//  `keys` (borrowed, may be NULL for plaintext) makes the socket a CURVE
//  client of the broker.
client_t *client_new(const char *endpoint, int timeout_ms, const keys_t *keys);
void client_destroy(client_t **self_p);
//  The raw libzmq socket (for polling together with other things).
void *client_socket(client_t *self);
//  Send a request; returns its correlation id, 0 on failure.
uint64_t client_send(client_t *self, Shoal__Envelope *env);
//  Wait for the reply to `corr` (0: any reply) for at most timeout_ms
//  (-1: the client's timeout). Replies to other ids are handed back too
//  when corr is 0. NULL on timeout. Caller frees with wire_free.
Shoal__Envelope *client_recv(client_t *self, uint64_t corr, int timeout_ms);
//  Send and wait. On failure returns NULL with a message in err and the
//  exit code in *code (EXIT_UNREACHABLE or EXIT_REFUSED). An Error reply
//  is a failure.
Shoal__Envelope *client_call(client_t *self, Shoal__Envelope *req, char *err, size_t errlen, int *code);
//  After a request got no answer in time: ask the broker something it
//  answers from memory. If it answers, its database is what is silent: err
//  says so, *code is EXIT_REFUSED, and this returns true.
bool client_explain_silence(client_t *self, char *err, size_t errlen, int *code);
//  True when the connection failed in its handshake (CURVE key refused,
//  wrong server key, CURVE on one side only); err then says which and what
//  to check, and *code is EXIT_REFUSED or EXIT_UNREACHABLE.
bool client_handshake_failed(client_t *self, char *err, size_t errlen, int *code);
//  Describe an Error reply ("database unavailable: ...").
void client_error_text(const Shoal__Envelope *reply, char *err, size_t errlen);
//  The broker's error code in the last Error reply client_call saw
//  (ERR_NONE when the last failure was a timeout).
Shoal__ErrorCode client_error_code(const client_t *self);
//  Endpoint this client talks to.
const char *client_endpoint(const client_t *self);

#endif
