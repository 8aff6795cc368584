/*  outbox — finished results on their way to the broker, kept until it
    acks them (see outbox.c). */
#ifndef SHOAL_WORKER_OUTBOX_H
#define SHOAL_WORKER_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shoal.pb-c.h"
#include "timers.h"

typedef struct _outbox_t outbox_t;

//  An empty outbox; unacked results are sent again overdue_ms after they
//  were sent (a timer each). NULL on allocation failure.
outbox_t *outbox_new(timers_t *timers, int64_t overdue_ms);
//  Destroy (results still held are dropped); NULLs the caller's pointer.
void outbox_destroy(outbox_t **self_p);
//  How long an ack may take before the result goes out again.
void outbox_set_overdue(outbox_t *self, int64_t overdue_ms);
//  Keep a result (packed now) and queue it to be sent. One result per
//  lease: a second one for the same lease is ignored. -1 on allocation failure.
int outbox_add(outbox_t *self, const Shoal__Result *result);
//  The broker committed this result: forget it.
void outbox_ack(outbox_t *self, uint64_t task_id, uint64_t lease);
//  Queue every held result to be sent again (a new connection, a new broker run).
void outbox_resend_all(outbox_t *self);
//  Send what is queued, in messages of bounded size. Unless `force`, a
//  busy worker waits for a batch or a couple of milliseconds first.
//  Returns true when something was sent.
bool outbox_flush(outbox_t *self, void *socket, const char *worker_id, bool force, bool busy);
//  When a flush is due (monotonic ms): INT64_MAX when nothing is queued.
int64_t outbox_flush_due(const outbox_t *self);
//  Results held (sent or not, not acked yet).
size_t outbox_size(const outbox_t *self);
//  Fill refs[i] (task and lease) and ptrs[i] = &refs[i] for up to max held
//  results; returns how many.
size_t outbox_refs(const outbox_t *self, Shoal__TaskRef *refs, Shoal__TaskRef **ptrs, size_t max);

#endif
