/*  report — protocol messages as JSON and as text for people, shared by the
    CLI and the monitor so both print the same names and units. */
#ifndef SHOAL_REPORT_H
#define SHOAL_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shoal.pb-c.h"

//  "active", "paused", "done", "cancelled".
const char *report_state_name(Shoal__JobState state);
json_t *report_job_json(const Shoal__JobInfo *job);
//  A pipeline step's tasks without a result yet (tasks - ok - failed - cancelled).
uint64_t report_step_pending(const Shoal__StepInfo *step);
json_t *report_worker_json(const Shoal__WorkerInfo *worker);
json_t *report_cluster_json(const Shoal__ClusterInfo *cluster);
//  The broker that answers: id, role, term, since (unix us), who led before.
json_t *report_leader_json(const Shoal__LeaderInfo *leader);
//  The same as one line of text ("broker h:1  role leader  term 7  since ...") in buf.
const char *report_leader_line(const Shoal__LeaderInfo *leader, char *buf, size_t size);
//  "region=eu,gpu=1" of a worker's labels into buf ("" when none); returns buf.
const char *report_worker_labels(const Shoal__WorkerInfo *worker, char *buf, size_t size);
//  "ocr 3/4 up 1 busy 2 restarts, bad BROKEN" of a worker's handlers into buf; returns buf.
const char *report_worker_handlers(const Shoal__WorkerInfo *worker, char *buf, size_t size);
json_t *report_snapshot_json(const Shoal__Snapshot *snap);
json_t *report_event_json(const Shoal__Event *event);
//  A result row as JSON; the body as base64 unless it is valid UTF-8 text.
json_t *report_result_json(const Shoal__ResultRow *row, uint32_t job_id);
//  shoal results --items: one pipeline item {job, item, outcome, tasks,
//  last_step, step, vars, failed_step, error} (a new reference).
json_t *report_item_json(const Shoal__ResultRow *row, uint32_t job_id);
//  "1.2k/s", "350/s".
const char *report_rate(double per_second, char *buf, size_t size);
//  "3h05m", "12m40s", "8.2s", "--" for unknown (< 0).
const char *report_duration_ms(int64_t ms, char *buf, size_t size);
//  "850us", "12.3ms", "1.20s".
const char *report_latency_us(uint64_t us, char *buf, size_t size);
//  Percentage of done (ok + failed + cancelled) over total, 0..100.
double report_percent(const Shoal__JobInfo *job);
//  What a job's progress counts: a pipeline job's input items once they are
//  known (ok = complete), else its tasks.
typedef struct {
    uint64_t ok, failed, cancelled, total;
    bool     items;
} report_progress_t;
report_progress_t report_progress(const Shoal__JobInfo *job);

#endif
