/*  job — jobs in memory; paging their tasks in from the store; timers.

    The broker holds only a window of each job's unfinished tasks (how
    much and when: window.c). Because careful pages and result writes go
    through the same store thread in order, a page never returns a task
    whose result was committed before the page was asked for; a task
    still in memory is skipped by id. Lanes are lane.c's, the tasks' life
    cycle is task.c's. */
#include "broker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "lane.h"
#include "log.h"
#include "routing.h"
#include "stride.h"
#include "task.h"
#include "window.h"

#define FORGET_FINISHED_MS 60000    //  finished jobs stay visible this long

static void
s_counter_free(void **item)
{
    //  counters are integers stored in the pointer
    *item = NULL;
}

job_t *
job_new(server_t *self, const store_job_t *row)
{
    if (row->state != SHOAL__JOB_STATE__JOB_ACTIVE && row->state != SHOAL__JOB_STATE__JOB_PAUSED)
        return NULL;
    job_t *existing = job_lookup(self, row->id);
    if (existing)
        return existing;
    job_t *job = calloc(1, sizeof *job);
    if (!job)
        return NULL;
    job->id = row->id;
    job->name = strdup(row->name ? row->name : "");
    job->key = row->key ? strdup(row->key) : NULL;
    job->state = row->state;
    job->priority = row->priority ? row->priority : 1;
    job->sealed = row->sealed;
    lifecycle_apply_defaults(job, row);
    job->n_tasks = row->n_tasks;
    job->next_seq = row->n_tasks;
    job->ok = row->n_ok;
    job->failed = row->n_failed;
    job->failed_total = row->n_failed_total;
    job->cancelled = row->n_cancelled;
    job->retries = row->n_retries;
    job->stale = row->n_stale;
    job->duplicate = row->n_duplicate;
    job->created_us = row->created_us;
    job->cursor = -1;
    job->frontier = row->frontier;
    job->page_more = row->n_tasks > row->n_ok + row->n_failed + row->n_cancelled;
    //  a pipeline's counts mix items and their steps: page to find out (so
    //  do a plain job's whose items brought their own steps)
    if (pipeline_job_load(job, row) == 0 && job->pipeline) {
        job->page_more = true;
        steps_job_new(self, job, row);
    }
    if (row->n_children > 0)
        job->page_more = true;
    job->lanes = zhashx_new();
    job->fail_hosts = zhashx_new();
    job->fail_errors = zhashx_new();
    if (!job->name || !job->defaults || !job->lanes || !job->fail_hosts || !job->fail_errors) {
        job_destroy(self, &job);
        return NULL;
    }
    zhashx_set_destructor(job->lanes, lane_free_item);
    zhashx_set_destructor(job->fail_hosts, s_counter_free);
    zhashx_set_destructor(job->fail_errors, s_counter_free);
    job->pass = stride_start_pass(self);
    char key[16];
    snprintf(key, sizeof key, "%u", job->id);
    zhashx_insert(self->jobs, key, job);
    zlist_append(self->job_list, job);
    return job;
}

//  Forget the job's "stored by an earlier broker run" marks.
static void
s_forget_recovered(server_t *self, job_t *job)
{
    size_t cursor = 0;
    uint64_t id;
    zlist_t *mine = zlist_new();
    while (u64map_next(self->recovered, &cursor, &id))
        if ((uint32_t) (id >> 32) == job->id)
            zlist_append(mine, (void *) (uintptr_t) id);
    void *item;
    while ((item = zlist_pop(mine)))
        u64map_remove(self->recovered, (uint64_t) (uintptr_t) item);
    zlist_destroy(&mine);
}

void
job_destroy(server_t *self, job_t **job_p)
{
    job_t *job = *job_p;
    if (!job)
        return;
    if (self) {
        //  tasks first: they point at lanes
        task_free_job(self, job);
        s_forget_recovered(self, job);
        char key[16];
        snprintf(key, sizeof key, "%u", job->id);
        if (zhashx_lookup(self->jobs, key) == job)
            zhashx_delete(self->jobs, key);
        zlist_remove(self->job_list, job);
    }
    zhashx_destroy(&job->lanes);
    zhashx_destroy(&job->fail_hosts);
    zhashx_destroy(&job->fail_errors);
    if (job->defaults)
        shoal__job_defaults__free_unpacked(job->defaults, NULL);
    pipeline_job_free(job);
    steps_job_free(job);
    free(job->update_note);
    free(job->name);
    free(job->key);
    free(job);
    *job_p = NULL;
}

job_t *
job_lookup(server_t *self, uint32_t id)
{
    char key[16];
    snprintf(key, sizeof key, "%u", id);
    return (job_t *) zhashx_lookup(self->jobs, key);
}

size_t
job_in_memory(const job_t *job)
{
    return job->n_queued + job->n_waiting + job->n_leased + job->n_committing;
}

Shoal__TaskSpec *
job_task_spec(const task_t *task)
{
    return shoal__task_spec__unpack(NULL, task->spec_len, task->spec);
}

task_t *
job_task_load(server_t *self, job_t *job, const store_page_row_t *row)
{
    uint64_t id = ((uint64_t) job->id << 32) | row->seq;
    if (u64map_get(self->tasks, id))
        return NULL;
    if (u64map_remove(self->recovered, id))
        return NULL;    //  finished by a worker of an earlier broker run
    Shoal__TaskSpec *spec = shoal__task_spec__unpack(NULL, row->spec_len, row->spec);
    if (!spec) {
        log_error("bad_stored_spec", "job=%u seq=%u", job->id, row->seq);
        return NULL;
    }
    //  the lane: target host, then what a worker needs (handler, labels)
    char host[256], route[1024], lane_host[1300];
    taskspec_host(spec, host, sizeof host);
    routing_key(spec, job->defaults, route, sizeof route);
    snprintf(lane_host, sizeof lane_host, "%s%s%s", host, route[0] ? "|" : "", route);
    Shoal__TaskKind kind = taskspec_kind(spec);
    uint32_t timeout = taskspec_timeout_ms(spec, job->defaults);
    //  a pipeline step's delay_ms: due after its previous step, like a backoff
    int64_t due_us = spec->pipeline && spec->pipeline->has_due_us && spec->pipeline->due_us > row->retry_at_us
                   ? spec->pipeline->due_us : row->retry_at_us;
    shoal__task_spec__free_unpacked(spec, NULL);

    lane_t *lane = lane_for(job, kind, lane_host);
    task_t *task = lane ? task_new(self, job, lane, id, row->spec, row->spec_len) : NULL;
    if (!task)
        return NULL;
    task->timeout_ms = timeout;
    task->attempt = row->attempts;
    task->tries = row->counted;
    int64_t now_us = clock_wall_us();
    if (due_us > now_us)
        task_wait(self, task, (clock_mono_us() + (due_us - now_us) + 999) / 1000);
    else
        task_enqueue(self, task, false);
    //  a worker may still be running it under the previous broker run's lease
    held_adopt(self, task);
    return task;
}

void
job_page_all(server_t *self)
{
    if (!self->db_up && self->write_retry_ms > clock_mono_ms())
        return;
    size_t window = (size_t) self->cfg.window;
    for (job_t *job = zlist_first(self->job_list); job; job = zlist_next(self->job_list)) {
        if (job->paging || !(job->page_more || job->child_more) || job->state != SHOAL__JOB_STATE__JOB_ACTIVE
        ||  !window_wants_page(window, job->n_queued, job_in_memory(job)))
            continue;
        if (job->child_more) {
            //  pipeline steps first: items under way finish before new ones start
            store_req_t *req = store_req_new(STORE_PAGE);
            if (!req)
                return;
            req->job_id = job->id;
            req->page.after_seq = job->child_cursor;
            req->page.limit = (uint32_t) (window - job->n_queued);
            req->page.gen = job->page_gen;
            req->page.full = true;
            req->page.children = true;
            req->page.upto = job->child_top;
            if (req->page.upto > job->child_cursor + 8 * (int64_t) req->page.limit)
                req->page.upto = job->child_cursor + 8 * (int64_t) req->page.limit;
            if (store_submit(self->writer, req) != 0) {
                store_req_destroy(&req);
                return;
            }
            job->paging = true;
            continue;
        }
        store_req_t *req = store_req_new(STORE_PAGE);
        if (!req)
            return;
        window_plan_t plan = window_plan(window, job->n_queued, job->cursor, job->frontier);
        req->job_id = job->id;
        req->page.after_seq = job->cursor;
        req->page.limit = plan.count;
        req->page.n_tasks = (int64_t) job->n_tasks;
        req->page.gen = job->page_gen;
        req->page.full = plan.full;
        req->page.upto = plan.upto;
        if (store_submit(plan.full ? self->writer : self->pager, req) != 0) {
            store_req_destroy(&req);
            return;
        }
        job->paging = true;
    }
}

void
job_repage(server_t *self, job_t *job)
{
    //  every task may be unfinished again: page carefully from the start,
    //  and ignore any page asked for before now
    job->frontier = (int64_t) job->n_tasks - 1;
    job->cursor = -1;
    job->page_more = true;
    job->page_gen++;
    //  and so may any step a pipeline created (shoal retry: its failed steps)
    job->child_cursor = (int64_t) STORE_CHILD_BASE - 1;
    job->child_more = job->child_top >= (int64_t) STORE_CHILD_BASE;
    s_forget_recovered(self, job);
}

void
job_load_chunk(server_t *self, job_t *job, store_req_t *ingest)
{
    if (job->paging || job->state != SHOAL__JOB_STATE__JOB_ACTIVE
    ||  !window_chunk_fits((size_t) self->cfg.window, job->n_queued, job->cursor, job->frontier,
                           ingest->ingest.first_seq, ingest->ingest.n_specs))
        return;
    for (size_t i = 0; i < ingest->ingest.n_specs; i++)
        job_task_load(self, job, &ingest->ingest.specs[i]);
    job->cursor = (int64_t) ingest->ingest.specs[ingest->ingest.n_specs - 1].seq;
    job->page_more = (int64_t) job->n_tasks - 1 > job->cursor;
}

void
job_on_page(server_t *self, store_req_t *req)
{
    job_t *job = job_lookup(self, req->job_id);
    if (!job) {
        store_req_destroy(&req);
        return;
    }
    job->paging = false;
    if (req->page.gen != job->page_gen) {
        //  asked for before a retry restarted paging: what it says is stale
        store_req_destroy(&req);
        return;
    }
    if (req->status != STORE_OK) {
        char q[600];
        log_warn("page_failed", "job=%u error=%s", job->id, log_quote(req->error, q, sizeof q));
        //  try again after the write backoff (the database is likely down)
        if (self->write_retry_ms < clock_mono_ms() + 500)
            self->write_retry_ms = clock_mono_ms() + 500;
        store_req_destroy(&req);
        return;
    }
    bool live = job->state == SHOAL__JOB_STATE__JOB_ACTIVE || job->state == SHOAL__JOB_STATE__JOB_PAUSED;
    for (size_t i = 0; live && i < req->page.n_rows; i++)
        job_task_load(self, job, &req->page.rows[i]);
    if (req->page.children) {
        int64_t last_child = req->page.n_rows ? (int64_t) req->page.rows[req->page.n_rows - 1].seq : job->child_cursor;
        int64_t next = req->page.n_rows >= req->page.limit ? last_child : req->page.upto;
        if (next > job->child_cursor)
            job->child_cursor = next;
        job->child_more = job->child_cursor < job->child_top;
        store_req_destroy(&req);
        return;
    }
    window_page_t page = {
        .count = req->page.limit, .rows = req->page.n_rows,
        .last_seq = req->page.n_rows ? (int64_t) req->page.rows[req->page.n_rows - 1].seq : 0,
        .full = req->page.full, .upto = req->page.upto, .n_tasks_then = req->page.n_tasks,
    };
    job->cursor = window_cursor_after(&page, job->cursor, job->n_tasks, &job->page_more);
    log_debug("paged", "job=%u rows=%zu cursor=%lld more=%d", job->id, req->page.n_rows,
              (long long) job->cursor, job->page_more);
    store_req_destroy(&req);
}

void
job_timers(server_t *self, int64_t now_ms)
{
    heap_entry_t e;
    while (heap_peek(self->timers, &e) && e.when <= now_ms) {
        heap_pop(self->timers, &e);
        if (e.item) {
            lane_wake(self, e.item, e.tag, now_ms);
            continue;
        }
        task_t *task = u64map_get(self->tasks, e.tag);
        if (task && task->state == TASK_WAITING && task->due_ms == e.when)
            task_enqueue(self, task, true);
    }
    //  forget jobs that finished a while ago
    job_t *job = zlist_first(self->job_list);
    while (job) {
        job_t *next = zlist_next(self->job_list);
        if (job->finished_ms && now_ms - job->finished_ms > FORGET_FINISHED_MS
        &&  job_in_memory(job) == 0 && job->lane_timers == 0)
            job_destroy(self, &job);
        job = next;
    }
}

int64_t
job_next_timer(server_t *self)
{
    heap_entry_t e;
    return heap_peek(self->timers, &e) ? e.when : INT64_MAX;
}

void
job_drop_tasks(server_t *self, job_t *job)
{
    zlist_t *mine = task_list_job(self, job, false);
    task_t *task;
    while (mine && (task = zlist_pop(mine))) {
        peer_t *holder = task->state == TASK_LEASED ? task->worker : NULL;
        if (holder)
            backend_cancel_task(self, task);
        task_forget(self, task);
        if (holder)
            dispatch_peer_ready(self, holder);
    }
    zlist_destroy(&mine);
    job->page_more = false;
}

void
job_set_state(server_t *self, job_t *job, Shoal__JobState state)
{
    Shoal__JobState old = job->state;
    job->state = state;
    if (state == SHOAL__JOB_STATE__JOB_CANCELLED && old != state) {
        job_drop_tasks(self, job);
        job_finished(self, job);
    }
    else
    if (state == SHOAL__JOB_STATE__JOB_DONE && old != state)
        job_finished(self, job);
    else
    if (state == SHOAL__JOB_STATE__JOB_ACTIVE) {
        job->finished_ms = 0;
        job->finished_us = 0;
        job->announced = false;
    }
}

void
job_finished(server_t *self, job_t *job)
{
    if (job->announced)
        return;
    job->announced = true;
    job->finished_ms = clock_mono_ms();
    job->finished_us = clock_wall_us();
    log_info("job_finished", "job=%u state=%s tasks=%llu ok=%llu failed=%llu cancelled=%llu",
             job->id, store_state_name(job->state), (unsigned long long) job->n_tasks,
             (unsigned long long) job->ok, (unsigned long long) job->failed,
             (unsigned long long) job->cancelled);
    progress_event(self, SHOAL__EVENT_TYPE__EVENT_JOB_FINISHED, job->id, NULL, job->n_tasks,
                   "job %u %s: %llu ok, %llu failed, %llu cancelled", job->id,
                   store_state_name(job->state), (unsigned long long) job->ok,
                   (unsigned long long) job->failed, (unsigned long long) job->cancelled);
}
