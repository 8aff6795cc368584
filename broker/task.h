/*  task — the life cycle of a task in memory, in one place.

        load --> QUEUED <--> LEASED --> COMMITTING --> forgotten
                   ^  \        |            
                   |   v       v             
                 WAITING <-----'  (retry backoff)

    Every transition is one function here, and these functions are the only
    code that changes the counters that go with the states: the lane's
    queue and `queued`, `lane->running`, the job's n_queued / n_waiting /
    n_leased / n_committing, the worker's task list and `leased`. A task
    between two states (taken out, not yet put anywhere) is TASK_DETACHED
    and counted nowhere. Where the task goes next is decided elsewhere
    (outcome.c, dispatch.c, held.c); the worker's ready ring is the
    caller's (dispatch_peer_ready). */
#ifndef SHOAL_TASK_H
#define SHOAL_TASK_H

#include "broker.h"

//  A new task in memory (detached) for job/lane, spec copied; NULL on
//  allocation failure or when the id is in memory already.
task_t *task_new(server_t *self, job_t *job, lane_t *lane, uint64_t id, const uint8_t *spec,
                 size_t spec_len);
//  Take a task out of whatever state it is in (a leased one off its
//  worker): it is counted nowhere until put somewhere.
void task_detach(server_t *self, task_t *task);
//  Queue a detached task at the back (new) or front (retried, requeued) of its lane.
void task_enqueue(server_t *self, task_t *task, bool front);
//  Put a detached task in retry backoff until due_ms (monotonic).
void task_wait(server_t *self, task_t *task, int64_t due_ms);
//  Lease a detached task to a worker.
void task_lease(server_t *self, peer_t *peer, task_t *task, uint64_t lease, int64_t now_ms,
                int64_t now_us);
//  A detached task's final row is in `batch`: forget it once committed.
void task_commit(server_t *self, task_t *task, batch_t *batch);
//  Forget a task whatever its state (its result is committed or its job is gone).
void task_forget(server_t *self, task_t *task);
//  Free every task of a job without bookkeeping (the job is being freed).
void task_free_job(server_t *self, job_t *job);
//  The tasks of a job in memory, those in state COMMITTING too when
//  `committing`; caller destroys the list.
zlist_t *task_list_job(server_t *self, job_t *job, bool committing);

#endif
