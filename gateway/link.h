/*  link — one request/reply channel to the broker's frontend (a DEALER).

    Each HTTP connection thread owns one link (ZeroMQ sockets are not
    shared between threads). Requests carry a correlation id and replies
    are matched by it, so a window of submit chunks can be in flight. A
    broker that does not answer within the timeout is reported as down,
    never waited on forever; the socket reconnects by itself. */
#ifndef GATEWAY_LINK_H
#define GATEWAY_LINK_H

#include <stdint.h>

#include "keys.h"
#include "shoal.pb-c.h"

typedef struct _link_t link_t;

//  Connect to the frontend; `keys` (borrowed, NULL: plaintext) makes it a
//  CURVE client. `heard_ms` (shared by every link, may be NULL) is set to
//  the monotonic time of each reply. NULL when the endpoint is not one.
link_t *link_new(const char *endpoint, int timeout_ms, const keys_t *keys, _Atomic int64_t *heard_ms);
//  Close the socket; accepts NULL, NULLs the caller's pointer.
void link_destroy(link_t **self_p);
//  Send a request; returns its correlation id, or 0 when the broker is
//  not connected within the timeout.
uint64_t link_send(link_t *self, Shoal__Envelope *env);
//  The reply to `corr` (0: any reply), or NULL after timeout_ms (-1: the
//  link's timeout). Caller frees with wire_free.
Shoal__Envelope *link_recv(link_t *self, uint64_t corr, int timeout_ms);
//  Send and wait. NULL with the reason in err and the HTTP status to
//  answer in *status (503 unreachable, 404 not found, 409 state or
//  conflict, 400 refused, 503 database down, 500 otherwise). An Error reply
//  is a failure (link_last_error says its code).
Shoal__Envelope *link_call(link_t *self, Shoal__Envelope *req, int *status, char *err, size_t errlen);
//  The HTTP status that answers a broker Error code.
int link_http_status(Shoal__ErrorCode code);
//  Change how long replies are awaited from now on.
void link_set_timeout(link_t *self, int timeout_ms);
//  The broker's error code of the last failed link_call (ERR_NONE: timeout).
Shoal__ErrorCode link_last_error(const link_t *self);

#endif
