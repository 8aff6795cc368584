/*  timers — one-shot timers on the worker's monotonic clock.

    The worker's loop sleeps until timers_next() and then calls
    timers_fire(). Everything that has a deadline goes here: a run's
    timeout, an executor's wake-up (a noop sleep, curl's timer), an
    unacked result's resend, the heartbeat and the broker's liveness.

    A timer is named by the id timers_add returned; timers_cancel forgets
    it (the heap entry stays until it pops and is skipped; the heap is
    rebuilt when such dead entries outnumber the live ones, so memory
    follows the live timers). No allocation happens while firing except
    for what the callbacks add. A callback may add and cancel timers,
    including its own id (already spent by then).
*/
#ifndef SHOAL_WORKER_TIMERS_H
#define SHOAL_WORKER_TIMERS_H

#include <stddef.h>
#include <stdint.h>

typedef struct _timers_t timers_t;

//  What a timer calls when due: arg as given to timers_add, and the time
//  the loop fired it at.
typedef void (timer_fn)(void *arg, int64_t now_ms);

//  An empty set; NULL on allocation failure.
timers_t *timers_new(void);
//  Destroy the set (the callbacks' args are not touched); NULLs the pointer.
void timers_destroy(timers_t **self_p);
//  Call fn(arg) once, at or after when_ms. Returns the timer's id (never
//  0), or 0 on allocation failure.
uint64_t timers_add(timers_t *self, int64_t when_ms, timer_fn *fn, void *arg);
//  Forget a timer; an id that fired, was cancelled or is 0 is ignored.
void timers_cancel(timers_t *self, uint64_t id);
//  The earliest deadline of a live timer, INT64_MAX when there is none.
int64_t timers_next(timers_t *self);
//  Call every timer due at now_ms, earliest first (a timer added by a
//  callback for now or earlier runs in the same call). Returns how many ran.
size_t timers_fire(timers_t *self, int64_t now_ms);
//  Live timers.
size_t timers_size(const timers_t *self);
//  Heap entries, dead ones included (what memory the set holds).
size_t timers_entries(const timers_t *self);

#endif
