/*  store — the broker's PostgreSQL thread(s).

    The dispatcher never waits on the database. Each store_t is a zactor
    thread with its own libpq connection; the dispatcher hands it a request
    (ownership moves with the pointer over the inproc pipe), the thread runs
    it and hands the same request back with its outcome. Requests to one
    store run in the order they were sent: this FIFO order is what the
    broker relies on between writing results and paging tasks in.

    The broker runs four: "writer" (results, job state, and paging where
    finished tasks must be skipped), "pager" (paging fresh tasks), "ingest"
    (submitted chunks) and "reader" (queries from clients).
*/
#ifndef SHOAL_STORE_H
#define SHOAL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pgcopy.h"
#include "shoal.pb-c.h"

typedef enum {
    STORE_LOAD,             //  start-up: bump the epoch, read active jobs
    STORE_OPEN_JOB,         //  create a job, or find it by idempotency key
    STORE_INGEST,           //  commit a chunk of tasks
    STORE_SEAL,             //  mark a job's task list complete
    STORE_WRITE,            //  commit a batch of results and attempts
    STORE_PAGE,             //  read the next unfinished tasks of a job
    STORE_CONTROL,          //  pause / resume / cancel / retry a job
    STORE_QUERY_JOB,        //  one job's row
    STORE_QUERY_JOBS,       //  the newest jobs
    STORE_QUERY_RESULTS     //  a page of results, packed as a reply
} store_op_t;

typedef enum {
    STORE_OK = 0,
    STORE_ERR_DOWN,         //  database unreachable: nothing was stored
    STORE_ERR_CONFLICT,     //  out-of-order chunk, total mismatch, duplicate
    STORE_ERR_STATE,        //  the job's state forbids the operation
    STORE_ERR_NOT_FOUND,    //  no such job
    STORE_ERR_FAILED,       //  any other database error
    STORE_ERR_APPLIED       //  (internal) this result batch was committed before
} store_status_t;

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
    int64_t  created_us;        //  unix microseconds
    int64_t  finished_us;       //  0 while running
    int64_t  frontier;          //  highest seq with a result or attempt row, -1: none
    char    *pipeline;          //  owned, the steps (JSON) of a pipeline job, else NULL
    uint64_t n_children;        //  tasks pipeline steps created (seqs from STORE_CHILD_BASE)
    int64_t  child_top;         //  highest child seq so far (STORE_CHILD_BASE - 1: none)
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
} store_delta_t;

//  What a result batch did to one job.
typedef struct {
    uint32_t job_id;
    uint64_t ok, failed, cancelled; //  rows inserted
    uint64_t duplicate;         //  rows refused: the task already had a result
    bool     done;              //  the job is now complete
} store_outcome_t;

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

    //  STORE_LOAD (out), STORE_OPEN_JOB (out: jobs[0]), STORE_QUERY_JOB(S) (out)
    uint64_t       epoch;
    uint64_t       lease_tag;       //  STORE_LOAD: the database's lease tag (lease.h)
    store_job_t   *jobs;            //  owned array
    size_t         n_jobs;
    //  STORE_OPEN_JOB (in)
    char          *name;            //  owned
    char          *key;             //  owned, NULL for no key
    uint32_t       priority;
    uint8_t       *defaults;        //  owned, encoded JobDefaults
    size_t         defaults_len;
    char          *pipeline;        //  owned, the pipeline (JSON) or NULL
    bool           existed;         //  out: the key matched an existing job
    //  STORE_INGEST (in; page/page_arena hold the chunk's specs for the
    //  dispatcher, untouched by the store), STORE_SEAL (in: total = first_seq)
    uint64_t       first_seq;
    uint32_t       count;
    pgbuf_t        rows;            //  task rows (INGEST) or result rows (WRITE)
    uint64_t       committed;       //  out: the job's committed task count
    bool           seal;            //  STORE_INGEST: seal the job with this chunk
    bool           sealed_now;      //  out (a refused INGEST/SEAL): the job row says sealed
    //  STORE_WRITE (in)
    uint64_t       batch_id;        //  with epoch: recorded with the rows, once
    pgbuf_t        attempt_rows;
    pgbuf_t        child_rows;      //  tasks created by pipeline steps (stage table rows)
    uint64_t      *inserted;        //  out, owned: ids (job << 32 | seq) of the children inserted
    size_t         n_inserted;
    store_delta_t *deltas;          //  owned array
    size_t         n_deltas;
    store_outcome_t *outcomes;      //  out, owned array
    size_t         n_outcomes;
    //  STORE_PAGE (in: first_seq = after_seq + 1, count = limit; out)
    int64_t        after_seq;
    store_page_row_t *page;         //  owned array
    size_t         n_page;
    uint8_t       *page_arena;      //  owned: the rows' spec bytes
    int64_t        page_n_tasks;    //  in: the job's committed count when asked
    bool           page_full;       //  in: skip finished tasks, read attempt counts
    uint32_t       page_gen;        //  in: the job's paging generation (dispatcher only)
    int64_t        page_upto;       //  in (page_full): highest seq to read
    bool           page_children;   //  in: pipeline steps' range (dispatcher only)
    //  STORE_CONTROL (in)
    Shoal__ControlAction action;
    uint32_t      *retry_status;    //  owned arrays
    size_t         n_retry_status;
    uint32_t      *retry_class;
    size_t         n_retry_class;
    uint64_t       affected;        //  out
    Shoal__JobState new_state;      //  out
    //  STORE_QUERY_RESULTS (in: after_seq, count = limit)
    bool           failed_only;
    bool           with_body;
    uint8_t       *reply;           //  out: a packed Envelope to send as is
    size_t         reply_len;
} store_req_t;

typedef struct _store_t store_t;

//  Start a store thread that connects with conninfo (a libpq string or URI).
//  `name` appears in logs and in application_name. NULL on failure.
store_t *store_new(const char *conninfo, const char *name);
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
