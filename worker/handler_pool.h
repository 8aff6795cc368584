/*  handler_pool — the inside of a handler pool (handler.c), shared with
    handler_events.c: the pool's state and the steps both files take. Not
    for use outside those two files; everyone else uses handler.h. */
#ifndef SHOAL_WORKER_HANDLER_POOL_H
#define SHOAL_WORKER_HANDLER_POOL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "handler.h"
#include "handler_proc.h"

#define BACKOFF_FIRST_MS   100
#define BACKOFF_MAX_MS     10000
#define BACKOFF_BROKEN_MS  30000
#define STARTED_AFTER_MS   1000     //  without `ready`: alive this long = started

struct _handler_t {
    handler_config_t cfg;       //  own copy (command owned)
    guard_t  *guard;            //  borrowed, may be NULL
    handler_done_fn *done;
    void     *arg;
    int       epfd;
    hproc_t  *procs;            //  every process not yet reaped (list)
    htask_t  *queue_head, *queue_tail;  //  tasks waiting for a process
    uint32_t  n_queued;
    uint32_t  fails;            //  failures in a row (backoff)
    uint32_t  startup_fails;    //  start-up failures in a row (broken)
    bool      broken;
    bool      stopping;         //  handler_stop was called
    int64_t   restart_at_ms;    //  no new process before this
    uint64_t  spawned, served;
    char      last_failure[256];
};

//  Tell the caller how a task ended and free it.
void hpool_complete(handler_t *self, htask_t *t, const handler_outcome_t *o);
//  End a task with an error.
void hpool_fail(handler_t *self, htask_t *t, pid_t pid, const char *error, bool crashed, bool refused);
//  Mark a process started: it proved the command works.
void hpool_started(handler_t *self, hproc_t *p);
//  Ask a process to go: end of input, SIGTERM to its group, SIGKILL later.
void hpool_stop(handler_t *self, hproc_t *p, const char *why);
//  A failure that calls for a slower restart.
void hpool_failure(handler_t *self, const char *what);
//  Refuse every queued task: the handler is broken (they can run elsewhere).
void hpool_refuse_queue(handler_t *self);

//  handler_events.c: what a process says (stdout lines, stderr lines, a
//  line too long) and its exit, once reaped.
extern const hproc_ops_t hpool_ops;
void hpool_on_exit(handler_t *self, hproc_t *p);

#endif
