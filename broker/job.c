/*  job — jobs, lanes and tasks in memory; paging tasks in from the store.

    The broker holds only a window of each job's unfinished tasks: when a
    job's queue runs below half the window it asks the writer for the next
    page (tasks after its cursor that have no result). Because pages and
    result writes go through the same store thread in order, a page never
    returns a task whose result was committed before the page was asked
    for; a task still in memory is skipped by id. */
#include "broker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"

#define FORGET_FINISHED_MS 60000    //  finished jobs stay visible this long

static void
s_lane_destroy(lane_t **lane_p)
{
    lane_t *lane = *lane_p;
    if (lane) {
        free(lane->key);
        free(lane);
        *lane_p = NULL;
    }
}

static void
s_lane_free_item(void **item)
{
    s_lane_destroy((lane_t **) item);
}

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
    job->defaults = row->defaults_len
                  ? shoal__job_defaults__unpack(NULL, row->defaults_len, row->defaults) : NULL;
    if (!job->defaults) {
        job->defaults = malloc(sizeof *job->defaults);
        if (job->defaults)
            shoal__job_defaults__init(job->defaults);
    }
    if (job->defaults)
        job->defaults_size = shoal__job_defaults__get_packed_size(job->defaults);
    if (job->defaults && job->defaults->hosts) {
        job->max_per_host = job->defaults->hosts->max_per_host;
        job->rate_per_host = job->defaults->hosts->rate_per_host;
    }
    job->n_tasks = row->n_tasks;
    job->next_seq = row->n_tasks;
    job->ok = row->n_ok;
    job->failed = row->n_failed;
    job->cancelled = row->n_cancelled;
    job->retries = row->n_retries;
    job->stale = row->n_stale;
    job->duplicate = row->n_duplicate;
    job->created_us = row->created_us;
    job->cursor = -1;
    job->frontier = row->frontier;
    job->page_more = row->n_tasks > row->n_ok + row->n_failed + row->n_cancelled;
    job->lanes = zhashx_new();
    job->fail_hosts = zhashx_new();
    job->fail_errors = zhashx_new();
    if (!job->name || !job->defaults || !job->lanes || !job->fail_hosts || !job->fail_errors) {
        job_destroy(self, &job);
        return NULL;
    }
    zhashx_set_destructor(job->lanes, s_lane_free_item);
    zhashx_set_destructor(job->fail_hosts, s_counter_free);
    zhashx_set_destructor(job->fail_errors, s_counter_free);
    //  a new job starts level with the busiest one, so it neither starves
    //  nor monopolises
    uint64_t min_pass = UINT64_MAX;
    for (job_t *j = zlist_first(self->job_list); j; j = zlist_next(self->job_list))
        if (j->pass < min_pass)
            min_pass = j->pass;
    job->pass = min_pass == UINT64_MAX ? 0 : min_pass;
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
        size_t cursor = 0;
        uint64_t id;
        task_t *task;
        zlist_t *mine = zlist_new();
        while ((task = u64map_next(self->tasks, &cursor, &id)))
            if (task->job == job)
                zlist_append(mine, task);
        while ((task = zlist_pop(mine))) {
            if (task->state == TASK_LEASED && task->worker) {
                peer_t *peer = task->worker;
                if (task->prev) task->prev->next = task->next; else peer->tasks = task->next;
                if (task->next) task->next->prev = task->prev;
                peer->leased--;
            }
            u64map_remove(self->tasks, task->id);
            free(task->spec);
            free(task);
        }
        zlist_destroy(&mine);
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

static lane_t *
s_lane_for(job_t *job, Shoal__TaskKind kind, const char *host)
{
    char key[300];
    snprintf(key, sizeof key, "%s:%s", taskspec_kind_name(kind), host);
    lane_t *lane = zhashx_lookup(job->lanes, key);
    if (lane)
        return lane;
    lane = calloc(1, sizeof *lane);
    if (!lane)
        return NULL;
    lane->key = strdup(key);
    if (!lane->key) {
        free(lane);
        return NULL;
    }
    lane->job = job;
    lane->kind = kind;
    lane->tokens = 1;
    zhashx_insert(job->lanes, key, lane);
    return lane;
}

//  Free a lane nobody needs: no task of it in memory, no timer pending.
//  (A job over a million hosts must not keep a million idle lanes.)
static void
s_lane_maybe_free(lane_t *lane)
{
    if (lane->refs || lane->in_ready || (lane->gen & 1))
        return;
    zhashx_delete(lane->job->lanes, lane->key);
}

static void
s_ready_link(lane_t *lane)
{
    job_t *job = lane->job;
    lane_t **ring = &job->ready[lane->kind & 3];
    if (lane->in_ready)
        return;
    if (*ring) {
        lane->rnext = *ring;
        lane->rprev = (*ring)->rprev;
        (*ring)->rprev->rnext = lane;
        (*ring)->rprev = lane;
    }
    else {
        lane->rnext = lane->rprev = lane;
        *ring = lane;
    }
    lane->in_ready = true;
}

static void
s_ready_unlink(lane_t *lane)
{
    job_t *job = lane->job;
    lane_t **ring = &job->ready[lane->kind & 3];
    if (!lane->in_ready)
        return;
    if (lane->rnext == lane)
        *ring = NULL;
    else {
        lane->rprev->rnext = lane->rnext;
        lane->rnext->rprev = lane->rprev;
        if (*ring == lane)
            *ring = lane->rnext;
    }
    lane->rnext = lane->rprev = NULL;
    lane->in_ready = false;
}

void
job_lane_update(server_t *self, lane_t *lane)
{
    job_t *job = lane->job;
    int64_t now = clock_mono_ms();
    bool ready = lane->queued > 0;
    int64_t wake = 0;
    if (ready && job->max_per_host && lane->kind == SHOAL__TASK_KIND__KIND_HTTP
    &&  lane->running >= job->max_per_host)
        ready = false;
    if (ready && lane->blocked_until_ms > now) {
        ready = false;
        wake = lane->blocked_until_ms;
    }
    if (ready && job->rate_per_host > 0 && lane->kind == SHOAL__TASK_KIND__KIND_HTTP) {
        //  token bucket holding one token: requests are spaced 1/rate apart,
        //  so no one-second window sees more than rate + 1
        double cap = 1;
        if (lane->tokens_ms == 0)
            lane->tokens_ms = now;
        lane->tokens += (double) (now - lane->tokens_ms) * job->rate_per_host / 1000.0;
        if (lane->tokens > cap)
            lane->tokens = cap;
        lane->tokens_ms = now;
        if (lane->tokens < 1) {
            ready = false;
            wake = now + (int64_t) ((1 - lane->tokens) * 1000.0 / job->rate_per_host) + 1;
        }
    }
    if (ready)
        s_ready_link(lane);
    else
        s_ready_unlink(lane);
    if (wake && !(lane->gen & 1)) {
        //  odd gen = a wake-up is pending in the heap (which points at the
        //  lane: neither it nor its job may be freed until it pops)
        lane->gen |= 1;
        job->lane_timers++;
        heap_push(self->timers, wake, lane, lane->gen);
    }
    if (!ready && !wake)
        s_lane_maybe_free(lane);
}

void
job_task_enqueue(server_t *self, task_t *task, bool front)
{
    lane_t *lane = task->lane;
    task->state = TASK_QUEUED;
    task->gen++;
    task->worker = NULL;
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
    job_lane_update(self, lane);
}

void
job_task_dequeue(server_t *self, task_t *task)
{
    lane_t *lane = task->lane;
    if (task->prev) task->prev->next = task->next; else lane->head = task->next;
    if (task->next) task->next->prev = task->prev; else lane->tail = task->prev;
    task->prev = task->next = NULL;
    lane->queued--;
    task->job->n_queued--;
}

void
job_task_wait(server_t *self, task_t *task, int64_t due_ms)
{
    task->state = TASK_WAITING;
    task->gen++;
    task->due_ms = due_ms;
    task->worker = NULL;
    task->job->n_waiting++;
    //  the heap names the task by id: a forgotten task is simply not found
    heap_push(self->timers, due_ms, NULL, task->id);
}

void
job_task_forget(server_t *self, task_t *task)
{
    job_t *job = task->job;
    switch (task->state) {
        case TASK_QUEUED:     job_task_dequeue(self, task); break;
        case TASK_WAITING:    job->n_waiting--; break;
        case TASK_LEASED:     job->n_leased--; break;
        case TASK_COMMITTING: job->n_committing--; break;
    }
    lane_t *lane = task->lane;
    u64map_remove(self->tasks, task->id);
    free(task->spec);
    free(task);
    if (lane) {
        lane->refs--;
        job_lane_update(self, lane);
    }
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
    char host[256];
    taskspec_host(spec, host, sizeof host);
    Shoal__TaskKind kind = taskspec_kind(spec);
    uint32_t timeout = taskspec_timeout_ms(spec, job->defaults);
    shoal__task_spec__free_unpacked(spec, NULL);

    task_t *task = calloc(1, sizeof *task);
    lane_t *lane = s_lane_for(job, kind, host);
    if (!task || !lane || !(task->spec = malloc(row->spec_len ? row->spec_len : 1))) {
        free(task);
        return NULL;
    }
    memcpy(task->spec, row->spec, row->spec_len);
    task->spec_len = row->spec_len;
    task->id = id;
    task->job = job;
    task->lane = lane;
    task->timeout_ms = timeout;
    task->attempt = row->attempts;
    task->tries = row->counted;
    if (u64map_put(self->tasks, id, task)) {
        free(task->spec);
        free(task);
        return NULL;
    }
    lane->refs++;
    int64_t now_us = clock_wall_us();
    if (row->retry_at_us > now_us)
        job_task_wait(self, task, (clock_mono_us() + (row->retry_at_us - now_us) + 999) / 1000);
    else
        job_task_enqueue(self, task, false);
    //  a worker may still be running it under the previous broker run's lease
    held_adopt(self, task);
    return task;
}

void
job_page_all(server_t *self)
{
    if (!self->db_up && self->write_retry_ms > clock_mono_ms())
        return;
    for (job_t *job = zlist_first(self->job_list); job; job = zlist_next(self->job_list)) {
        if (job->paging || !job->page_more || job->state != SHOAL__JOB_STATE__JOB_ACTIVE)
            continue;
        size_t window = (size_t) self->cfg.window;
        if (job->n_queued >= window / 2 || job_in_memory(job) >= window * 2)
            continue;
        store_req_t *req = store_req_new(STORE_PAGE);
        if (!req)
            return;
        req->job_id = job->id;
        req->after_seq = job->cursor;
        req->count = (uint32_t) (window - job->n_queued);
        req->page_n_tasks = (int64_t) job->n_tasks;
        //  at or below the frontier some tasks are finished or were tried:
        //  that page goes through the writer, after every result it holds
        //  bounded ranges keep every page query cheap whatever the
        //  planner knows about a freshly filled table
        req->page_gen = job->page_gen;
        req->page_full = job->cursor < job->frontier;
        req->page_upto = job->frontier;
        if (req->page_full && req->page_upto > job->cursor + 8 * (int64_t) req->count)
            req->page_upto = job->cursor + 8 * (int64_t) req->count;
        if (store_submit(req->page_full ? self->writer : self->pager, req) != 0) {
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
    s_forget_recovered(self, job);
}

void
job_load_chunk(server_t *self, job_t *job, store_req_t *ingest)
{
    if (job->paging || job->state != SHOAL__JOB_STATE__JOB_ACTIVE || ingest->n_page == 0
    ||  job->cursor != (int64_t) ingest->first_seq - 1 || job->cursor < job->frontier
    ||  job->n_queued + ingest->n_page > (size_t) self->cfg.window)
        return;
    for (size_t i = 0; i < ingest->n_page; i++)
        job_task_load(self, job, &ingest->page[i]);
    job->cursor = (int64_t) ingest->page[ingest->n_page - 1].seq;
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
    if (req->page_gen != job->page_gen) {
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
    for (size_t i = 0; live && i < req->n_page; i++)
        job_task_load(self, job, &req->page[i]);
    int64_t last = req->n_page ? (int64_t) req->page[req->n_page - 1].seq : job->cursor;
    int64_t cursor;
    if (req->n_page >= req->count)
        cursor = last;
    else
    if (req->page_full)
        cursor = req->page_upto > last ? req->page_upto : last;
    else {
        //  everything committed when the page was asked for is in memory
        //  or finished; only tasks committed since can be new
        int64_t seen = req->page_n_tasks - 1;
        cursor = last > seen ? last : seen;
        job->page_more = (int64_t) job->n_tasks > req->page_n_tasks;
    }
    if (cursor > job->cursor)
        job->cursor = cursor;
    log_debug("paged", "job=%u rows=%zu cursor=%lld more=%d", job->id, req->n_page,
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
            lane_t *lane = e.item;
            if (lane->gen != e.tag)
                continue;
            lane->gen++;            //  even again: no wake-up pending
            lane->job->lane_timers--;
            if (lane->blocked_until_ms && lane->blocked_until_ms <= now_ms)
                lane->blocked_until_ms = 0;
            job_lane_update(self, lane);
            continue;
        }
        task_t *task = u64map_get(self->tasks, e.tag);
        if (!task || task->state != TASK_WAITING || task->due_ms != e.when)
            continue;
        task->job->n_waiting--;
        job_task_enqueue(self, task, true);
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
    zlist_t *mine = zlist_new();
    size_t cursor = 0;
    uint64_t id;
    task_t *task;
    while ((task = u64map_next(self->tasks, &cursor, &id)))
        if (task->job == job && task->state != TASK_COMMITTING)
            zlist_append(mine, task);
    while ((task = zlist_pop(mine))) {
        if (task->state == TASK_LEASED) {
            backend_cancel_task(self, task);
            peer_t *peer = task->worker;
            if (task->prev) task->prev->next = task->next; else peer->tasks = task->next;
            if (task->next) task->next->prev = task->prev;
            task->prev = task->next = NULL;
            peer->leased--;
            task->lane->running--;
            dispatch_peer_ready(self, peer);
        }
        job_task_forget(self, task);
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
