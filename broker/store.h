/*  store — the broker's PostgreSQL thread(s).

    The dispatcher never waits on the database. Each store_t is a zactor
    thread with its own libpq connection; the dispatcher hands it a request
    (ownership moves with the pointer over the inproc pipe), the thread runs
    it and hands the same request back with its outcome. Requests to one
    store run in the order they were sent: this FIFO order is what the
    broker relies on between writing results and paging tasks in.

    The broker runs four: "writer" (results, job state, and paging where
    finished tasks must be skipped), "pager" (paging fresh tasks), "ingest"
    (job opens, submitted chunks, seals) and "reader" (queries from clients).

    The SQL of each request: store_jobs.c (load, open, ingest, seal, job
    rows), store_control.c (pause, resume, cancel, retry), store_write.c
    (result batches), store_page.c (paging tasks in), store_export.c (pages
    of results), store_term.c (what a term records of itself), over the
    libpq helpers of store_sql.c.
*/
#ifndef SHOAL_STORE_H
#define SHOAL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buckets.h"
#include "item_counts.h"
#include "pgcopy.h"
#include "shoal.pb-c.h"

typedef enum {
    STORE_LOAD,             //  start-up: read active jobs and counters
    STORE_OPEN_JOB,         //  create a job, or find it by idempotency key
    STORE_INGEST,           //  commit a chunk of tasks
    STORE_SEAL,             //  mark a job's task list complete
    STORE_WRITE,            //  commit a batch of results and attempts
    STORE_PAGE,             //  read the next unfinished tasks of a job
    STORE_CONTROL,          //  pause / resume / cancel / retry a job (then_delete: shoal delete --cancel)
    STORE_QUERY_JOB,        //  one job's row
    STORE_QUERY_JOBS,       //  the newest jobs
    STORE_QUERY_RESULTS,    //  a page of results, packed as a reply
    STORE_UPDATE,           //  change a job's defaults (store_lifecycle.c)
    STORE_STEPS,            //  a pipeline job's tasks and outcomes per step (store_steps.c)
    STORE_DELETE,           //  delete a finished job's rows, a slice at a time (store_delete.c)
    STORE_MARK_LEASED       //  this term hands out leases: shoal_meta leased_term (store_term.c)
} store_op_t;

typedef enum {
    STORE_OK = 0,
    STORE_ERR_DOWN,         //  database unreachable: nothing was stored
    STORE_ERR_CONFLICT,     //  out-of-order chunk, total mismatch, duplicate
    STORE_ERR_STATE,        //  the job's state forbids the operation
    STORE_ERR_NOT_FOUND,    //  no such job
    STORE_ERR_FAILED,       //  any other database error
    STORE_ERR_APPLIED,      //  (internal) this result batch was committed before
    STORE_ERR_FENCED        //  another broker leads now (a newer term): nothing was stored
} store_status_t;

//  A pipeline step's tasks as stored: one grouped query (store_steps.c).
typedef struct {
    uint64_t tasks, ok, failed, cancelled;
} store_step_t;

//  A job as stored in the jobs table.
typedef struct {
    uint32_t id;
    char    *name;              //  owned
    char    *key;               //  owned, NULL when the job has none
    Shoal__JobState state;
    uint32_t priority;
    bool     sealed;
    uint8_t *defaults;          //  owned, encoded JobDefaults
    size_t   defaults_len;
    uint64_t n_tasks, n_ok, n_failed, n_cancelled, n_retries, n_stale, n_duplicate;
    uint64_t n_failed_total;    //  failed results ever stored (retry never lowers it)
    int64_t  created_us;        //  unix microseconds
    int64_t  finished_us;       //  0 while running
    int64_t  frontier;          //  highest seq with a result or attempt row, -1: none
    char    *pipeline;          //  owned, the steps (JSON) of a pipeline job, else NULL
    uint64_t n_children;        //  tasks pipeline steps created (seqs from STORE_CHILD_BASE)
    int64_t  child_top;         //  highest child seq so far (STORE_CHILD_BASE - 1: none)
    int64_t  updated_us;        //  last shoal update, unix microseconds; 0: never
    char    *update_note;       //  owned, what it changed; NULL: never
    store_step_t *steps;        //  owned, per step index (STORE_QUERY_JOB of a pipeline job), else NULL
    size_t   n_steps;
    item_tally_t items;         //  STORE_QUERY_JOB of a pipeline job: how its items stand
    bool     has_items;
} store_job_t;

//  Seqs of the tasks pipeline steps create start here (submitted tasks
//  are below): docs/pipelines.md.
#define STORE_CHILD_BASE 1073741824u

//  One unfinished task read by STORE_PAGE.
typedef struct {
    uint32_t seq;
    uint32_t spec_len;
    uint8_t *spec;              //  points into the page's arena
    uint32_t attempts;          //  attempts logged so far
    uint32_t counted;           //  of those, counted against max_attempts
    int64_t  retry_at_us;       //  unix time the next attempt may start, 0 = now
} store_page_row_t;

//  Counters the broker adds to a job with a result batch.
typedef struct {
    uint32_t job_id;
    uint64_t ok, failed, cancelled; //  result rows of each outcome in the batch
    uint64_t retries;           //  attempts that will be retried
    uint64_t stale;             //  results refused as stale
    uint64_t children;          //  tasks pipeline steps created in the batch (child_rows)
} store_delta_t;

//  Cluster-wide counters that only grow (table shoal_counters): a result
//  batch adds its figures in the transaction that stores its rows, and the
//  broker reads the totals at start.
typedef struct {
    uint64_t duration[BUCKETS_N + 1];   //  run time buckets (lib/buckets.h)
    uint64_t wait[BUCKETS_N + 1];       //  queued -> started buckets
    uint64_t http_class[6];             //  0 = no response, 1..5 = 1xx..5xx
    uint64_t duration_sum_us, wait_sum_us;
} store_counters_t;

//  What a result batch did to one job.
typedef struct {
    uint32_t job_id;
    uint64_t ok, failed, cancelled; //  rows inserted
    uint64_t duplicate;         //  rows refused: the task already had a result
    bool     done;              //  the job is now complete
} store_outcome_t;

//  STORE_LOAD: read the active jobs (the job rows come back in req->jobs).
//  The epoch was bumped when this run took the leadership (leader.c).
typedef struct {
    uint64_t epoch;                 //  in: this broker run's epoch (its term)
    uint64_t lease_tag;             //  in: the database's lease tag (lease.h)
    store_counters_t counters;      //  out: the cluster counters' totals
} store_load_t;

//  STORE_OPEN_JOB: create a job or find it by key (out: req->jobs[0]).
typedef struct {
    char    *name;                  //  owned
    char    *key;                   //  owned, NULL for no key
    uint32_t priority;
    uint8_t *defaults;              //  owned, encoded JobDefaults
    size_t   defaults_len;
    char    *pipeline;              //  owned, the pipeline (JSON) or NULL
    bool     existed;               //  out: the key matched an existing job
} store_open_t;

//  STORE_INGEST: commit a chunk of tasks.
typedef struct {
    uint64_t first_seq;             //  must equal the job's committed count
    uint32_t count;                 //  tasks in the chunk
    bool     seal;                  //  seal the job with this chunk
    pgbuf_t  rows;                  //  the tasks' COPY rows
    //  the chunk's specs for the dispatcher, untouched by the store
    store_page_row_t *specs;        //  owned array
    size_t   n_specs;
    uint8_t *arena;                 //  owned: the specs' bytes
    uint64_t committed;             //  out: the job's committed task count
    bool     sealed_now;            //  out (refused): the job row says sealed
} store_ingest_t;

//  STORE_SEAL: mark a job's task list complete at `total` tasks.
typedef struct {
    uint64_t total;
    uint64_t committed;             //  out: the job's committed task count
    bool     sealed_now;            //  out (refused): the job row says sealed
    Shoal__JobState new_state;      //  out
} store_seal_t;

//  STORE_WRITE: commit a batch of results and attempts.
typedef struct {
    uint64_t epoch, batch_id;       //  recorded with the rows: a batch commits once
    pgbuf_t  rows;                  //  results rows
    pgbuf_t  attempt_rows;          //  attempts rows
    pgbuf_t  child_rows;            //  tasks created by pipeline steps (stage table rows)
    uint64_t *inserted;             //  out, owned: ids (job << 32 | seq) of the children inserted
    size_t   n_inserted;
    bool     children_all;          //  out: every child was inserted (the fast path's COPY), `inserted` unused
    store_delta_t   *deltas;        //  owned array: counters to add, one per job
    size_t           n_deltas;
    store_outcome_t *outcomes;      //  out, owned array
    size_t           n_outcomes;
    store_counters_t counters;      //  the batch's cluster counters, to add
} store_write_t;

//  STORE_PAGE: read the next unfinished tasks of a job.
typedef struct {
    int64_t  after_seq;             //  read seqs above this
    uint32_t limit;                 //  at most this many
    int64_t  n_tasks;               //  the job's committed count when asked
    bool     full;                  //  below the frontier: skip finished tasks, read attempts
    int64_t  upto;                  //  (full) highest seq to read
    uint32_t gen;                   //  the job's paging generation (dispatcher only)
    bool     children;              //  pipeline steps' range (dispatcher only)
    store_page_row_t *rows;         //  out, owned array
    size_t   n_rows;
    uint8_t *arena;                 //  out, owned: the rows' spec bytes
} store_page_t;

//  STORE_CONTROL: pause / resume / cancel / retry a job (out: req->jobs[0]).
typedef struct {
    Shoal__ControlAction action;
    uint32_t *retry_status;         //  owned: RETRY only these HTTP statuses
    size_t    n_retry_status;
    uint32_t *retry_class;          //  owned: RETRY only these classes (4 = 4xx)
    size_t    n_retry_class;
    uint64_t  affected;             //  out: tasks cancelled or requeued
    Shoal__JobState new_state;      //  out
    struct store_req *then_delete;  //  (dispatcher) a STORE_DELETE waiting for this cancel, owned
} store_control_t;

//  STORE_QUERY_JOBS (limit, prune filter) and STORE_QUERY_RESULTS.
typedef struct {
    uint32_t limit;                 //  rows at most (0: the default)
    int64_t  finished_before_us;    //  (jobs) finished before this unix time; 0: no filter
    bool     ended_done, ended_failed, ended_cancelled; //  (jobs) how they ended; none set: any
    int64_t  after_seq;             //  results above this seq
    bool     failed_only;           //  results not ok only
    bool     with_body;             //  include stored bodies
    bool     items;                 //  pipelines: a page of items (store_items.c), not of results
    uint8_t *reply;                 //  out: a packed Envelope to send as is
    size_t   reply_len;
} store_query_t;

//  STORE_UPDATE: merge a change over a job's defaults (out: req->jobs[0]).
typedef struct {
    uint8_t *change;                //  owned, encoded JobDefaults: the fields to change
    size_t   change_len;
    uint32_t priority;              //  0: unchanged
} store_update_t;

//  STORE_STEPS: the counts per step of job req->job_id.
typedef struct {
    store_step_t *rows;             //  out, owned: index = step
    size_t        n;
    //  and its items (item_counts.h): the tally and every item under way
    item_tally_t  items;
    item_open_t  *open;             //  out, owned
    size_t        n_open;
    bool          has_items;
} store_steps_t;

//  Seqs per transaction of a deletion, unless the broker says otherwise
//  (--delete-batch).
#define STORE_DELETE_BATCH 10000

//  STORE_DELETE: delete a finished job (job_id), or finish a deletion an
//  earlier broker run began (resume; job_id 0: the oldest pending one).
//  The first slice claims the job in one transaction (refused while it is
//  active or paused; the jobs row goes, the id is recorded in
//  job_deletions); every slice then deletes `batch` seqs of tasks, results
//  and attempts per transaction for about `budget_ms`, and says whether
//  rows are left (`more`: send the same request again). Counts add up.
typedef struct {
    uint32_t batch;                 //  seqs per transaction (store_delete_batch)
    int64_t  budget_ms;             //  run slices of work this long, then answer
    bool     resume;                //  the job was claimed by an earlier broker run
    bool     claimed;               //  out: the jobs row is gone (from the first slice on)
    bool     more;                  //  out: rows left, submit again
    bool     cancel;                //  (dispatcher) cancel an active job first
    bool     cancelled;             //  (dispatcher) ... and it was
    int64_t  next_seq;              //  where the next slice starts
    char    *name;                  //  out, owned: the job's name
    Shoal__JobState state;          //  out: its state when claimed
    uint64_t tasks, results, attempts, updates; //  out: rows deleted so far
    uint32_t batches;               //  out: transactions so far
    uint32_t longest_ms;            //  out: the longest of them
} store_delete_t;

//  One request: who asked, the outcome, and the payload of its operation.
typedef struct store_req {
    store_op_t     op;
    store_status_t status;          //  outcome, set by the store thread
    char           error[512];      //  message when status != STORE_OK
    //  who to answer on the frontend, if anyone
    uint8_t        rid[256];
    size_t         rid_len;
    uint64_t       corr;
    uint32_t       job_id;          //  the job the request is about
    void          *owner;           //  the dispatcher's context; never touched by the store
    //  out (LOAD, OPEN_JOB, SEAL, CONTROL, QUERY_JOB, QUERY_JOBS): job rows read
    store_job_t   *jobs;            //  owned array
    size_t         n_jobs;
    union {                         //  the member named by op
        store_load_t    load;
        store_open_t    open;
        store_ingest_t  ingest;
        store_seal_t    seal;
        store_write_t   write;
        store_page_t    page;
        store_control_t control;
        store_query_t   query;      //  QUERY_JOBS, QUERY_RESULTS
        store_update_t  update;
        store_steps_t   steps;
        store_delete_t  del;
        uint64_t        mark_term;  //  MARK_LEASED: the term that hands out leases
    };
} store_req_t;

typedef struct _store_t store_t;

//  Start a store thread that connects with conninfo (a libpq string or URI).
//  `name` appears in logs and in application_name. Its writes are fenced
//  by `term` (the leadership term, shoal.term: docs/failover.md; 0: not
//  fenced). NULL on failure.
store_t *store_new(const char *conninfo, const char *name, uint64_t term);
//  Stop the thread and close its connection; NULLs the caller's pointer.
void store_destroy(store_t **self_p);
//  The socket to poll for completed requests (a zsock_t *).
void *store_sock(store_t *self);
//  Hand a request to the thread (ownership moves). Returns 0 or -1.
int store_submit(store_t *self, store_req_t *req);
//  Take back one completed request (ownership returns); NULL if none.
store_req_t *store_recv(store_t *self);
//  Requests handed over and not yet taken back.
size_t store_pending(const store_t *self);

//  A new zeroed request.
store_req_t *store_req_new(store_op_t op);
//  Free a request and everything it owns; NULLs the caller's pointer.
void store_req_destroy(store_req_t **req_p);
//  Free the strings and buffers of a job row.
void store_job_free(store_job_t *job);

//  Open a connection synchronously and migrate the schema (start-up only).
//  Returns 0, or -1 with a message in err.
int store_migrate(const char *conninfo, int *version, int *applied, char *err, size_t errlen);
//  Name of a job state as stored ("active", ...).
const char *store_state_name(Shoal__JobState state);

#endif
