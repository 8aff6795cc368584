/*  hub — the broker's progress feed, shared by every HTTP connection.

    One thread holds a SUB socket on the broker's PUB (progress) socket and
    keeps the last HUB_RING messages (snapshots, events, and the gateway's
    own broker-up/down notices) in a ring, in their packed form. SSE
    streams read the ring at their own pace from a cursor; one that falls
    more than the ring behind skips to the newest message, so a slow
    browser costs a fixed amount of memory. The hub also says whether the
    broker is there: it is up while anything arrived within the timeout,
    which lets API routes answer 503 at once while it is away. */
#ifndef GATEWAY_HUB_H
#define GATEWAY_HUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys.h"

#define HUB_RING 64

typedef enum {
    HUB_SNAPSHOT = 1,       //  packed Envelope with a Snapshot
    HUB_EVENT,              //  packed Envelope with an Event
    HUB_BROKER_DOWN,        //  no message from the broker within the timeout (no data)
    HUB_BROKER_UP           //  the broker is heard from again (no data)
} hub_kind_t;

typedef struct _hub_t hub_t;

//  Subscribe to `progress` and start the thread. `down_after_ms`: silence
//  after which the broker counts as down. NULL on failure.
hub_t *hub_new(const char *progress, int down_after_ms, const keys_t *keys);
//  Stop the thread, free the ring; accepts NULL, NULLs the pointer.
void hub_destroy(hub_t **self_p);
//  True while the broker was heard from within the timeout.
bool hub_broker_up(hub_t *self);
//  Sequence number of the newest message (0: none yet).
uint64_t hub_newest(hub_t *self);
//  Wait up to timeout_ms for a message after *cursor; copy it into a new
//  buffer (*data, *size; caller frees; NULL for up/down notices), set
//  *kind and advance *cursor. Returns 1, 0 on timeout, -1 when stopping.
int hub_next(hub_t *self, uint64_t *cursor, hub_kind_t *kind, uint8_t **data, size_t *size, int timeout_ms);
//  A copy of the newest snapshot (packed Envelope), NULL when none. Caller frees.
uint8_t *hub_snapshot(hub_t *self, size_t *size);
//  Tell every waiting stream to end (shutdown).
void hub_stop(hub_t *self);

#endif
