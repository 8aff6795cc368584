/*  broker_fake — a server_t with jobs, lanes and tasks in memory and no
    sockets or database, for the unit tests of the broker's logic. */
#ifndef SHOAL_BROKER_FAKE_H
#define SHOAL_BROKER_FAKE_H

#include <stdlib.h>

#include "broker.h"
#include "lane.h"
#include "task.h"

static inline server_t *
fake_server(void)
{
    server_t *self = calloc(1, sizeof *self);
    self->tasks = u64map_new();
    self->timers = heap_new();
    self->job_list = zlist_new();
    self->cfg.lease_grace_ms = 1000;
    return self;
}

static inline job_t *
fake_job(server_t *self, uint32_t id, uint32_t priority)
{
    job_t *job = calloc(1, sizeof *job);
    job->id = id;
    job->state = SHOAL__JOB_STATE__JOB_ACTIVE;
    job->priority = priority;
    job->lanes = zhashx_new();
    zhashx_set_destructor(job->lanes, lane_free_item);
    zlist_append(self->job_list, job);
    return job;
}

//  A queued task of `kind` for `host` in job (seq numbers count up).
static inline task_t *
fake_task(server_t *self, job_t *job, Shoal__TaskKind kind, const char *host)
{
    lane_t *lane = lane_for(job, kind, host);
    uint8_t spec = 0;
    task_t *task = task_new(self, job, lane, ((uint64_t) job->id << 32) | job->n_tasks++, &spec, 1);
    task->timeout_ms = 1000;
    task_enqueue(self, task, false);
    return task;
}

static inline void
fake_destroy(server_t **self_p)
{
    server_t *self = *self_p;
    job_t *job;
    while ((job = zlist_pop(self->job_list))) {
        task_free_job(self, job);
        zhashx_destroy(&job->lanes);
        free(job);
    }
    zlist_destroy(&self->job_list);
    u64map_destroy(&self->tasks);
    heap_destroy(&self->timers);
    free(self);
    *self_p = NULL;
}

#endif
