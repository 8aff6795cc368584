/*  task — see task.h. */
#include "task.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "lane.h"

//  Unlink a leased task from its worker's list (and its counters).
static void
s_unlink_peer(task_t *task)
{
    peer_t *peer = task->worker;
    if (task->prev) task->prev->next = task->next; else peer->tasks = task->next;
    if (task->next) task->next->prev = task->prev;
    task->prev = task->next = NULL;
    peer->leased--;
    task->worker = NULL;
    task->lane->running--;
    task->job->n_leased--;
}

//  Unlink a queued task from its lane's queue (and its counters).
static void
s_unlink_lane(task_t *task)
{
    lane_t *lane = task->lane;
    if (task->prev) task->prev->next = task->next; else lane->head = task->next;
    if (task->next) task->next->prev = task->prev; else lane->tail = task->prev;
    task->prev = task->next = NULL;
    lane->queued--;
    task->job->n_queued--;
}

task_t *
task_new(server_t *self, job_t *job, lane_t *lane, uint64_t id, const uint8_t *spec, size_t spec_len)
{
    if (u64map_get(self->tasks, id))
        return NULL;
    task_t *task = calloc(1, sizeof *task);
    if (!task || !(task->spec = malloc(spec_len ? spec_len : 1))) {
        free(task);
        return NULL;
    }
    memcpy(task->spec, spec, spec_len);
    task->spec_len = (uint32_t) spec_len;
    task->id = id;
    task->job = job;
    task->lane = lane;
    task->state = TASK_DETACHED;
    if (u64map_put(self->tasks, id, task)) {
        free(task->spec);
        free(task);
        return NULL;
    }
    lane->refs++;
    return task;
}

void
task_detach(server_t *self, task_t *task)
{
    job_t *job = task->job;
    lane_t *lane = task->lane;
    switch (task->state) {
        case TASK_QUEUED:
            s_unlink_lane(task);
            break;
        case TASK_WAITING:
            job->n_waiting--;   //  its heap entry checks the state and the due time
            break;
        case TASK_LEASED:
            s_unlink_peer(task);
            break;
        case TASK_COMMITTING:
            job->n_committing--;
            break;
        case TASK_DETACHED:
            return;
    }
    task->state = TASK_DETACHED;
    task->gen++;
    lane_update(self, lane);
}

void
task_enqueue(server_t *self, task_t *task, bool front)
{
    lane_t *lane = task->lane;
    task_detach(self, task);
    task->state = TASK_QUEUED;
    task->gen++;
    task->queued_us = clock_wall_us();
    if (front) {
        task->prev = NULL;
        task->next = lane->head;
        if (lane->head) lane->head->prev = task; else lane->tail = task;
        lane->head = task;
    }
    else {
        task->next = NULL;
        task->prev = lane->tail;
        if (lane->tail) lane->tail->next = task; else lane->head = task;
        lane->tail = task;
    }
    lane->queued++;
    task->job->n_queued++;
    lane_update(self, lane);
}

void
task_wait(server_t *self, task_t *task, int64_t due_ms)
{
    task_detach(self, task);
    task->state = TASK_WAITING;
    task->gen++;
    task->due_ms = due_ms;
    task->job->n_waiting++;
    //  the heap names the task by id: a forgotten task is simply not found
    heap_push(self->timers, due_ms, NULL, task->id);
}

void
task_lease(server_t *self, peer_t *peer, task_t *task, uint64_t lease, int64_t now_ms, int64_t now_us)
{
    task_detach(self, task);
    task->state = TASK_LEASED;
    task->gen++;
    task->lease = lease;
    task->worker = peer;
    task->due_ms = now_ms + task->timeout_ms + self->cfg.lease_grace_ms;
    task->leased_us = now_us;
    task->prev = NULL;
    task->next = peer->tasks;
    if (peer->tasks)
        peer->tasks->prev = task;
    peer->tasks = task;
    peer->leased++;
    task->lane->running++;
    task->job->n_leased++;
    lane_update(self, task->lane);
}

void
task_commit(server_t *self, task_t *task, batch_t *batch)
{
    task_detach(self, task);
    task->state = TASK_COMMITTING;
    task->gen++;
    task->job->n_committing++;
    zlist_append(batch->commit, task);
}

void
task_forget(server_t *self, task_t *task)
{
    lane_t *lane = task->lane;
    task_detach(self, task);
    u64map_remove(self->tasks, task->id);
    free(task->spec);
    free(task);
    lane->refs--;
    lane_update(self, lane);
}

zlist_t *
task_list_job(server_t *self, job_t *job, bool committing)
{
    zlist_t *mine = zlist_new();
    size_t cursor = 0;
    uint64_t id;
    task_t *task;
    while (mine && (task = u64map_next(self->tasks, &cursor, &id)))
        if (task->job == job && (committing || task->state != TASK_COMMITTING))
            zlist_append(mine, task);
    return mine;
}

void
task_free_job(server_t *self, job_t *job)
{
    zlist_t *mine = task_list_job(self, job, true);
    task_t *task;
    while (mine && (task = zlist_pop(mine))) {
        if (task->state == TASK_LEASED && task->worker)
            s_unlink_peer(task);
        u64map_remove(self->tasks, task->id);
        free(task->spec);
        free(task);
    }
    zlist_destroy(&mine);
}
