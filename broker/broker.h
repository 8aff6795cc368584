/*  broker — shared state of shoal-broker (internal header).

    One server_t owns everything: sockets, the store threads, the jobs and
    the workers. Only the dispatcher thread touches it. The pieces (each
    module with a header of its own declares itself there):

    run.c       the broker's life: schema, standby, a term as leader, shutdown
    startup.c   schema migration; the leader's state loaded from the database
    listen.c    the three sockets (limits, CURVE, monitors) and the start clocks
    loop.c      one turn of the event loop: poll, stall detection, timers, writes
    server.c    server_t made and destroyed; rid keys, lease ids, log budgets
    backend.c   the worker protocol: hello, results, heartbeats, loss
    frontend.c  the client protocol: submit, control, status, results
    dispatch.c  sending tasks to workers with free slots (credits)
    stride.c    which task next: stride scheduling, kinds and hosts in turn
    job.c       jobs in memory; paging from the store; timers
    window.c    the paging window's arithmetic
    lane.c      per-host politeness: caps, token bucket, throttle
    task.c      the task life cycle: every transition and its counters
    lease.h     the lease encoding
    outcome.c   what a result does: fence, classify, record
    fanout.c    results whose children render over several loop turns
    fence.c     the verdict on a result's lease
    retry.c     retry classification, backoff, Retry-After cap, jitter
    held.c      tasks a worker runs under an earlier broker run's lease
    batch.c     result/attempt rows waiting for the writer; acks after commit
    progress.c  job/worker/cluster figures; snapshots on the PUB socket
    handshake.c connections refused in the handshake (CURVE, garbage): counted, logged
*/
#ifndef SHOAL_BROKER_H
#define SHOAL_BROKER_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "heap.h"
#include "buckets.h"
#include "hist.h"
#include "keys.h"
#include "pipeline.h"
#include "pgcopy.h"
#include "rate.h"
#include "retry.h"
#include "shoal.pb-c.h"
#include "store.h"
#include "taskspec.h"
#include "u64map.h"

//  Task kinds the broker dispatches: 1..BROKER_KINDS (noop, http, exec, handler).
#define BROKER_KINDS 4

typedef struct _server_t server_t;
typedef struct _job_t    job_t;
typedef struct _lane_t   lane_t;
typedef struct _task_t   task_t;
typedef struct _peer_t   peer_t;
typedef struct _route_t  route_t;

//  A handler a worker announced (routing.c).
typedef struct {
    char     name[64];
    uint32_t procs, up, busy;   //  processes: configured, running, running a task
    uint64_t restarts, served;
    bool     broken;            //  start-up keeps failing there: route nothing to it
} peer_handler_t;

//  A task a pipeline step creates, kept until its batch commits.
typedef struct {
    uint64_t id;            //  job_id << 32 | seq
    uint8_t *spec;          //  encoded TaskSpec (owned)
    uint32_t spec_len;
    uint32_t step;          //  its step index (steps.c counts it when created)
} pchild_t;

//  The children of one ok result on their way into a batch (pipeline.c).
typedef struct _pipeline_fanout_t pipeline_fanout_t;

//  A pipeline result waiting for its children (fanout.c): what recording
//  it needs later.
typedef struct {
    uint32_t job_id;
    uint64_t task_id;
    uint64_t lease;         //  the result's
    uint32_t attempt;
    char    *worker;        //  worker id for the rows (owned)
    uint8_t  rid[256];      //  the worker's routing id, for its ack
    size_t   rid_len;
    uint8_t *packed;        //  the worker's Result, packed (owned)
    size_t   packed_len;
} fanout_result_t;

//  Settings from flags and environment.
typedef struct {
    const char *db;             //  libpq connection string or URI
    const char *frontend;       //  client endpoint
    const char *backend;        //  worker endpoint
    const char *progress;       //  PUB endpoint
    const char *endpoints_file; //  write the bound endpoints here, NULL: nowhere
    int64_t heartbeat_ms;       //  heartbeat interval both ways
    int64_t liveness;           //  silent intervals before a worker is lost
    int64_t lease_grace_ms;     //  added to a task's timeout for the lease deadline
    int64_t window;             //  queued tasks per job held in memory
    int64_t snapshot_ms;        //  progress snapshot cadence
    int64_t progress_hwm;       //  progress messages queued per subscriber before it misses some
    int64_t hwm;                //  send high-water mark of the ROUTER sockets (messages)
    int64_t recovery_ms;        //  after start, wait this long for workers to resend before dispatching
    int64_t retry_after_max_ms; //  cap on a server's Retry-After (a job may set its own)
    int64_t delete_batch;       //  seqs of a job deleted per transaction (shoal delete)
    int64_t lease_ttl_ms;       //  leadership lease: lasts this long after a renewal
    int64_t lease_renew_ms;     //  ... renewed this often
    int64_t standby_poll_ms;    //  a standby looks at the lease this often
    const keys_t *keys;         //  CURVE server keys + zauth (borrowed), NULL: plaintext
} broker_config_t;

//  A log line budget: at most LOG_BUDGET_BURST lines a minute of one kind,
//  so a hostile peer cannot flood the log; the rest are counted.
#define LOG_BUDGET_BURST      30
#define LOG_BUDGET_WINDOW_MS  60000
typedef struct {
    int64_t  window_ms;     //  start of the current window (monotonic)
    int      logged;        //  lines logged in the window
    uint64_t suppressed;    //  lines not logged in the window
} log_budget_t;

//  Has this term recorded, before its first lease, that it hands out
//  leases (shoal_meta leased_term, store_term.c)?
enum { LEASE_MARK_NONE, LEASE_MARK_PENDING, LEASE_MARK_DONE };

typedef enum {
    TASK_QUEUED,        //  in its lane's queue, ready to dispatch
    TASK_WAITING,       //  in retry backoff until `due_ms`
    TASK_LEASED,        //  at a worker under `lease`
    TASK_COMMITTING,    //  final result is in a write batch
    TASK_DETACHED       //  between two states inside one transition (task.c)
} task_state_t;

struct _task_t {
    uint64_t  id;           //  job_id << 32 | seq
    job_t    *job;          //  owner
    lane_t   *lane;         //  queue it belongs to (kind + host)
    task_t   *prev, *next;  //  links in the lane queue or the worker's list
    uint8_t  *spec;         //  encoded TaskSpec (owned)
    uint32_t  spec_len;
    uint32_t  timeout_ms;   //  effective timeout
    uint32_t  attempt;      //  attempts made (the next one is attempt + 1)
    uint32_t  tries;        //  attempts counted against max_attempts
    task_state_t state;
    uint64_t  lease;        //  current fencing token (TASK_LEASED)
    peer_t   *worker;       //  holder (TASK_LEASED)
    int64_t   due_ms;       //  lease deadline or retry time (monotonic)
    int64_t   leased_us;    //  wall time of the dispatch (latency)
    int64_t   queued_us;    //  wall time it last entered a queue (wait figures)
    uint64_t  gen;          //  bumps on every state change; heap entries check it
    uint64_t  answered;     //  lease whose result was taken (a resend of it is no news)
    bool      answer_committed; //  ... and its row is committed (its ack went out)
};

//  Tasks of one job that share a kind and a target host: the unit of
//  per-host politeness.
struct _lane_t {
    char     *key;          //  "http:example.com:443", "noop:", "handler:|@ocr;region=eu"
    job_t    *job;
    Shoal__TaskKind kind;
    route_t  *route;        //  what a worker needs to run these tasks (routing.c), NULL: its kind
    task_t   *head, *tail;  //  queued tasks, FIFO
    size_t    queued;
    uint32_t  running;      //  leased tasks
    uint32_t  refs;         //  tasks in memory that belong to the lane
    double    tokens;       //  rate limiter bucket
    int64_t   tokens_ms;    //  when the bucket was last filled
    int64_t   blocked_until_ms; //  throttled (429/503) until
    bool      in_ready;     //  linked in the job's ready ring
    lane_t   *rprev, *rnext;//  ready ring links
    uint64_t  gen;          //  for heap entries
};

struct _job_t {
    uint32_t  id;
    char     *name;
    char     *key;
    Shoal__JobState state;
    uint32_t  priority;     //  share weight
    bool      sealed;
    bool      sealing;      //  a chunk that seals the job is being stored
    Shoal__JobDefaults *defaults;   //  decoded (owned); never NULL
    size_t    defaults_size;        //  its packed size (it travels with tasks)
    uint32_t  max_per_host; //  from defaults.hosts
    double    rate_per_host;
    int64_t   updated_us;   //  last shoal update (unix us), 0: never
    char     *update_note;  //  owned: what it changed, NULL: never
    //  counts (database totals plus what is committed since load)
    uint64_t  n_tasks;      //  committed tasks
    uint64_t  next_seq;     //  next chunk's first_seq (ingest pipeline)
    uint64_t  ok, failed, cancelled, retries, stale, duplicate;
    uint64_t  failed_total;     //  failed results ever stored (retry never lowers it)
    //  in memory
    size_t    n_queued;     //  TASK_QUEUED
    size_t    n_waiting;    //  TASK_WAITING
    size_t    n_leased;     //  TASK_LEASED
    size_t    n_committing; //  TASK_COMMITTING
    //  paging
    int64_t   cursor;       //  highest seq paged in (-1: none)
    int64_t   frontier;     //  up to here some tasks may be finished: page with care
    bool      paging;       //  a page request is out
    uint32_t  page_gen;     //  bumped when paging restarts (retry): older pages are ignored
    bool      page_more;    //  the store may hold unfinished tasks past cursor
    //  lanes
    zhashx_t *lanes;        //  key -> lane_t
    lane_t   *ready[BROKER_KINDS + 1];  //  ready ring per task kind (index = kind)
    uint32_t  routed_lanes; //  lanes with a route (handler, labels) in memory
    uint32_t  next_kind;    //  which kind's turn is next (0..BROKER_KINDS-1 for kinds 1..BROKER_KINDS)
    //  scheduling
    uint64_t  pass;         //  stride scheduling position
    //  figures
    hist_t    latency;      //  dispatch -> result, microseconds
    rate_t    rate;         //  results per second
    uint64_t  http_class[6];//  0 = no status, 1..5 = 1xx..5xx
    zhashx_t *fail_hosts;   //  host -> count (uint64 in pointer)
    zhashx_t *fail_errors;  //  message -> count
    int64_t   created_us;
    int64_t   finished_us;
    int64_t   finished_ms;  //  monotonic, to forget finished jobs after a while
    uint32_t  lane_timers;  //  wake-ups of this job's lanes in the timer heap
    bool      announced;    //  JOB_FINISHED event sent
    bool      deleted;      //  its rows are deleted: invisible, freed once its timers fired
    //  pipelines (broker/pipeline.c)
    pipeline_t *pipeline;   //  the steps (owned), NULL for a plain job
    pipeline_t *own;        //  the last item's own steps parsed (owned; pipeline.c)
    char       *own_text;   //  ... and their JSON, which names them
    int64_t   child_top;    //  highest child seq allocated (STORE_CHILD_BASE - 1: none)
    int64_t   child_cursor; //  highest child seq paged in
    bool      child_more;   //  the store may hold unfinished children past child_cursor
    //  per-step counts of a pipeline job (steps.c)
    store_step_t *steps;    //  owned, index = step; NULL: not read from the store yet
    size_t    n_steps;
    bool      steps_asked;  //  a STORE_STEPS is with the writer
    bool      steps_stale;  //  the counts must be read afresh (retry, cancel, duplicates)
    bool      steps_failed; //  the last read failed: try again at the next snapshot
    item_counts_t *items;   //  how its items stand (read and kept with the steps); NULL: not known yet
};

struct _peer_t {
    char     *key;          //  hex routing id (map key)
    uint8_t   rid[256];     //  ZeroMQ routing id
    size_t    rid_len;
    char     *worker_id;
    char     *host;
    char     *version;
    uint32_t  pid;
    uint64_t  instance;     //  the worker process (Hello.instance)
    uint64_t  hello_seq;    //  the latest Hello.seq taken from it
    uint32_t  slots;
    uint32_t  kinds;        //  bit per Shoal__TaskKind
    zlist_t  *labels;       //  "key=value" strings (owned)
    peer_handler_t *handlers;   //  its handlers (owned array), from Hello / Heartbeat
    size_t    n_handlers;
    task_t   *tasks;        //  leased tasks, doubly linked
    uint32_t  leased;       //  count of `tasks`
    u64map_t *foreign;      //  lease -> held task (held.c) running there, not leased by us
    int64_t   last_recv_ms;
    int64_t   last_send_ms;
    int64_t   joined_us;
    uint64_t  done, failed;
    rate_t    rate;
    bool      draining;     //  no new tasks (SIGTERM at the worker)
    bool      suspect;      //  let a lease expire: no new tasks until heard from again
    bool      in_ready;     //  linked in the server's ready ring
    peer_t   *rprev, *rnext;
};

//  Result/attempt rows on their way to the database, and what to do once
//  they are committed.
typedef struct {
    store_req_t *req;       //  rows accumulate in req->rows / req->attempt_rows
    zlist_t     *commit;    //  task_t * in TASK_COMMITTING to forget after commit
    u64map_t    *answered;  //  task id -> lease of a retried task's result in this batch
    zhashx_t    *acks;      //  peer key -> ack list (ack_t *)
    zhashx_t    *deltas;    //  job id -> store_delta_t *
    size_t       results;   //  result rows
    int64_t      first_ms;  //  when the oldest row was added
    zlist_t     *children;  //  pipeline steps created with these rows (pchild_t *)
    zhashx_t    *step_deltas;   //  job id -> steps_delta_t (steps.c): results per step
    item_batch_t *item_changes; //  what the batch does to pipeline items (steps.c)
} batch_t;

struct _server_t {
    broker_config_t cfg;
    zsock_t  *frontend;
    zsock_t  *backend;
    zsock_t  *publisher;
    void     *frontend_raw, *backend_raw, *publisher_raw;
    store_t  *writer;       //  results, careful paging, job state: FIFO matters
    store_t  *pager;        //  paging above the frontier
    store_t  *ingest;       //  job opens, submitted chunks, seals: in order
    store_t  *reader;       //  client queries
    store_t  *janitor;      //  deletions (shoal delete, prune): their own connection
    zlist_t  *deletes_waiting;  //  STORE_DELETE requests whose job still has results on the way
    uint64_t  epoch;        //  this run's leadership term: from the database, +1 per takeover
    struct _leader_t *leader;   //  renews the leadership lease (leader.h)
    int64_t   term_since_us;    //  unix time this broker became the leader
    char      previous_leader[128]; //  who led before this term ("" when none)
    int64_t   commit_until_ms;  //  the lease is ours until then (monotonic): no commit after
    bool      lapsed;       //  the lease ran out on our clock (not renewed in time)
    bool      deposed;      //  another broker leads now: stop serving, stand by
    uint64_t  lease_tag;    //  names the database in every lease (lease.h)
    char      broker_id[64];
    uint64_t  lease_counter;
    int64_t   started_ms;
    //  jobs
    zhashx_t *jobs;         //  id (as string) -> job_t; active and recently finished
    zlist_t  *job_list;     //  job_t * in id order, for scheduling
    u64map_t *tasks;        //  task id -> task_t, every task in memory
    u64map_t *recovered;    //  task ids stored from an earlier epoch's lease: never page them in
    u64map_t *held;         //  task id -> held task (held.c): running at a worker, not leased by us
    u64map_t *answered;     //  task id -> lease of a result committed lately (resends are no news)
    uint64_t *answered_ring;//  the same task ids in commit order, to forget the oldest (65536)
    size_t    answered_pos;
    heap_t   *timers;       //  retry due times and lane unblocks
    //  workers
    zhashx_t *peers;        //  key -> peer_t
    peer_t   *ready;        //  ring of peers with free slots
    //  writing
    batch_t  *filling;      //  collecting rows
    batch_t  *flushing;     //  with the writer
    uint64_t  batch_seq;    //  ids of result batches in this epoch
    int64_t   write_retry_ms;   //  next attempt after a failed write
    int64_t   write_backoff_ms;
    bool      db_up;
    //  figures
    rate_t    rate;
    uint64_t  bad_messages;
    uint64_t  handshake_failures;   //  connections refused before any message (handshake.c)
    uint64_t  stale_total;
    //  finished tasks, all time: the persisted shoal_counters, read at start and
    //  added to as batches commit (the gateway's histograms, lib/buckets.h)
    uint64_t  duration_buckets[BUCKETS_N + 1];
    uint64_t  duration_sum_us;
    uint64_t  wait_buckets[BUCKETS_N + 1];
    uint64_t  wait_sum_us;
    uint64_t  http_class_total[6];  //  0 = no response, 1..5 = 1xx..5xx
    uint64_t  lost_workers;
    uint64_t  stale_hellos;     //  late Hellos of a live worker, ignored
    uint64_t  snapshot_seq;
    int64_t   next_snapshot_ms;
    int64_t   fail_event_second;    //  sampling window of task-failure events
    int       fail_events_sent;
    int64_t   next_cron_ms;
    //  handshake monitors (handshake.c), index: 0 frontend, 1 backend, 2 progress
    zsock_t  *monitors[3];
    void     *monitor_raw[3];
    log_budget_t hs_log[6]; //  handshake_failed lines, one budget per reason
    log_budget_t bad_log;   //  bad_message lines
    //  lifecycle
    bool      stopping;     //  SIGTERM: refuse new work, flush, exit
    bool      loaded;       //  state rebuilt from the database
    int64_t   dispatch_after_ms;    //  end of the start-up recovery window
    uint64_t  unfinished_at_start;  //  tasks without a result when the state was loaded
    bool      previous_clean;       //  the term before ours resigned with no task out
    bool      leases_out;           //  a worker may run or hold a task leased by an earlier term
    int       lease_mark;           //  LEASE_MARK_*: has this term said it hands out leases
    int64_t   lease_mark_after_ms;  //  after a failed mark: not asked again before this
    int64_t   cron_period_ms;       //  heartbeats, losses and lease deadlines this often
    int64_t   last_turn_ms;         //  the loop's previous turn (a long gap: the broker was frozen)
    retry_rng_t rng;        //  retry jitter, seeded per run
    bool      steps_wanted; //  some pipeline job's per-step counts must be read (steps.c)
    //  fan-outs rendered over several turns (fanout.c)
    zlist_t  *fanouts;      //  results waiting for their children, oldest first (created on first use)
    size_t    fanout_budget;    //  children this turn may still render
    size_t    fanout_waiting;   //  children of waiting results not rendered yet
};

//  ---- run.c
//  Run the broker until SIGTERM/SIGINT. Returns the process exit code.
int broker_run(const broker_config_t *cfg);
//  SIGTERM/SIGINT received so far (1: stop cleanly, 2: stop now).
int broker_signals(void);

//  ---- startup.c
//  Create or migrate the schema, waiting for the database to come up
//  (compose, systemd). 0, or -1 when a migration fails or a signal came.
int startup_migrate(const broker_config_t *cfg);
//  The leader's state from the database: the store threads (their writes
//  fenced by this term) and the active jobs. 0 or -1.
int startup_load(server_t *self);

//  ---- listen.c
//  Bind the three sockets and start the clocks. Returns 0 or -1 (logged).
int listen_start(server_t *self);

//  ---- loop.c
//  Wait for the next event or deadline; handle what arrived. Returns -1
//  when polling failed.
int loop_poll(server_t *self);
//  One turn after the poll: timers, cron, snapshot, paging, dispatch,
//  fan-out slices, writes.
void loop_turn(server_t *self);

//  ---- server.c
//  The broker's state, before the database and the sockets; NULL when out of memory.
server_t *server_new(const broker_config_t *cfg);
//  Destroy, the store threads first; idempotent, NULLs the caller's pointer.
void server_destroy(server_t **self_p);
//  A fresh lease for a dispatch.
uint64_t broker_next_lease(server_t *self);
//  Hex key for a routing id (into buf, at least 2*len+1 bytes).
const char *broker_rid_key(const uint8_t *rid, size_t len, char *buf);
//  True when one more `what` line may be logged now; when a window ends,
//  logs how many such lines were suppressed in it.
bool broker_log_budget(log_budget_t *budget, const char *what);

//  ---- backend.c
void backend_on_message(server_t *self, const uint8_t *rid, size_t rid_len,
                        const void *data, size_t size);
//  Heartbeats out, lost workers in, lease deadlines.
void backend_cron(server_t *self, int64_t now_ms);
//  The broker was frozen for frozen_ms: that time does not count as the
//  workers' silence, nor against their lease deadlines.
void backend_resume(server_t *self, int64_t now_ms, int64_t frozen_ms);
//  True when no task is out: none leased, none held by a worker under an
//  earlier run's lease, every result received committed, none waiting for
//  its children (a clean stop).
bool backend_nothing_out(server_t *self);
//  Forget a worker: requeue its tasks (counting an attempt when `counted`).
void backend_drop_peer(server_t *self, peer_t *peer, bool counted, const char *why);
//  Send a Cancel for these tasks to their holder.
void backend_cancel_task(server_t *self, task_t *task);
//  Send an envelope to a worker (updates last_send).
int backend_send(server_t *self, peer_t *peer, Shoal__Envelope *env);
//  Send a ResultAck for refs to a routing id.
void backend_send_acks(server_t *self, const uint8_t *rid, size_t rid_len,
                       Shoal__TaskRef **refs, size_t n);

//  ---- frontend.c
void frontend_on_message(server_t *self, const uint8_t *rid, size_t rid_len,
                         const void *data, size_t size);
//  A store request that carried a client's question came back.
void frontend_on_store(server_t *self, store_req_t *req);

//  ---- lifecycle.c: shoal update (later: delete, prune)
//  A JobUpdate from a client: store the change (answered when stored).
void lifecycle_on_update(server_t *self, const uint8_t *rid, size_t rid_len, uint64_t corr,
                         const Shoal__JobUpdate *m);
//  A STORE_UPDATE came back: new defaults for the tasks dispatched from now; reply.
void lifecycle_on_updated(server_t *self, store_req_t *req);
//  Take a job row's defaults (and what the last update changed) into job.
void lifecycle_apply_defaults(job_t *job, const store_job_t *row);
//  ---- deletion.c: shoal delete / prune
//  Work of one janitor slice before the request comes back (ms).
#define DELETION_SLICE_MS 500
//  A JobDelete from a client: cancel first if asked, then delete on the janitor.
void deletion_on_request(server_t *self, const uint8_t *rid, size_t rid_len, uint64_t corr,
                         const Shoal__JobDelete *m);
//  A STORE_CONTROL cancel that a deletion waited for came back (the
//  deletion is taken from it).
void deletion_on_cancelled(server_t *self, store_req_t *cancel);
//  A STORE_DELETE slice came back: send the next, or answer.
void deletion_on_store(server_t *self, store_req_t *req);
//  Start deletions whose job has nothing left on its way to the database.
void deletion_cron(server_t *self);
//  At start: finish the deletions an earlier run began (job_deletions).
void deletion_resume(server_t *self);
//  At shutdown: answer the deletions still waiting.
void deletion_drop_waiting(server_t *self);
//  Send a reply to a client.
int frontend_send(server_t *self, const uint8_t *rid, size_t rid_len, Shoal__Envelope *env);
void frontend_send_error(server_t *self, const uint8_t *rid, size_t rid_len, uint64_t corr,
                         Shoal__ErrorCode code, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

//  ---- dispatch.c
//  Give tasks to every worker with free slots.
void dispatch_run(server_t *self);
//  Link/unlink a peer in the ready ring.
void dispatch_peer_ready(server_t *self, peer_t *peer);
void dispatch_peer_unready(server_t *self, peer_t *peer);
//  Ask the store to record that this term hands out leases (once; the
//  first dispatch waits for it), and take its answer (the request).
void dispatch_mark_leased(server_t *self);
void dispatch_on_marked(server_t *self, store_req_t *req);

//  ---- job.c
job_t *job_new(server_t *self, const store_job_t *row);
void job_destroy(server_t *self, job_t **job_p);
job_t *job_lookup(server_t *self, uint32_t id);
//  Turn a paged row into a task in memory (queued or waiting). NULL if it
//  is already in memory or on allocation failure.
task_t *job_task_load(server_t *self, job_t *job, const store_page_row_t *row);
//  Ask the writer for more tasks where a job's window runs low.
void job_page_all(server_t *self);
//  A committed chunk that starts right after the cursor goes straight into
//  memory (no page query) when the job has room and no page is out.
void job_load_chunk(server_t *self, job_t *job, store_req_t *ingest);
void job_on_page(server_t *self, store_req_t *req);
//  Failed tasks became unfinished again (retry): page the job from the start.
void job_repage(server_t *self, job_t *job);
//  Requeue due retries and unblock lanes.
void job_timers(server_t *self, int64_t now_ms);
//  Earliest timer, or INT64_MAX.
int64_t job_next_timer(server_t *self);
//  Tasks of the job in memory.
size_t job_in_memory(const job_t *job);
//  The job's state changed (pause, resume, cancel, done): adjust memory.
void job_set_state(server_t *self, job_t *job, Shoal__JobState state);
//  Drop everything of a cancelled job from memory (in-flight tasks get a Cancel).
void job_drop_tasks(server_t *self, job_t *job);
//  A job finished: publish the event, schedule forgetting it.
void job_finished(server_t *self, job_t *job);
//  Decode a task's spec (caller frees with shoal__task_spec__free_unpacked).
Shoal__TaskSpec *job_task_spec(const task_t *task);

//  ---- outcome.c
//  Remember that the result of (task, lease) is committed (a bounded memory).
void outcome_committed(server_t *self, uint64_t task_id, uint64_t lease);
//  Apply one result from a worker. `sender` may be NULL (unknown peer).
void outcome_apply(server_t *self, peer_t *sender, const char *worker_id,
                   const uint8_t *rid, size_t rid_len, Shoal__Result *result,
                   Shoal__TaskRef ***now_acks, size_t *n_now_acks);
//  A leased task's worker vanished or its lease ran out.
//  A result fanout.c kept is rendered (ok; *fanout_p holds its children)
//  or cannot be (error): record it as s_record would have, or ack it at
//  once when its job or task moved on meanwhile. Destroys *fanout_p.
void outcome_fanned_out(server_t *self, const fanout_result_t *result, const Shoal__Result *r,
                        pipeline_fanout_t **fanout_p, bool ok, const char *error);
void outcome_lost(server_t *self, task_t *task, const char *outcome, const char *why, bool counted);

//  ---- held.c
//  A worker runs a task under a lease of an earlier broker run.
void held_add(server_t *self, peer_t *peer, uint64_t task_id, uint64_t lease);
//  Its result arrived (or it was cancelled): the slot is free.
void held_release(server_t *self, peer_t *peer, uint64_t lease);
//  The worker is gone or said Hello again.
void held_drop_peer(server_t *self, peer_t *peer);
//  Slots of a worker taken by such tasks.
uint32_t held_count(const peer_t *peer);
//  If a worker holds this task (queued or waiting), lease it to that worker.
bool held_adopt(server_t *self, task_t *task);

//  ---- handshake.c
//  Watch a bound socket (0 frontend, 1 backend, 2 progress) for failed
//  handshakes. Returns 0 or -1.
int handshake_watch(server_t *self, int which, void *raw);
//  Read the monitor events of one socket: count and log failures.
void handshake_on_event(server_t *self, int which);
//  Stop the monitors (before the sockets are closed).
void handshake_destroy(server_t *self);

//  ---- batch.c
batch_t *batch_new(void);
void batch_destroy(batch_t **batch_p);
//  Remember to ack (task_id, lease) to a routing id after the commit.
void batch_add_ack(batch_t *batch, const uint8_t *rid, size_t rid_len, uint64_t task_id, uint64_t lease);
//  A retried task's result (task, lease) is in this batch.
void batch_add_answer(batch_t *batch, uint64_t task_id, uint64_t lease);
//  Add to a job's retry/stale counters.
void batch_add_delta(batch_t *batch, uint32_t job_id, uint64_t retries, uint64_t stale);
//  Count a result row of the batch (outcome "ok", "failed" or "cancelled")
//  in its job's counters (the row itself: schema_rows_result).
void batch_count_result(batch_t *batch, uint32_t job_id, const char *outcome);
//  A pipeline step's task row went into the batch's child rows: count it
//  for the job's n_children (added with the batch's other counters).
void batch_count_child(batch_t *batch, uint32_t job_id);
//  Hand the filling batch to the writer when it is idle (or retry a failed one).
void batch_flush(server_t *self, int64_t now_ms);
//  The writer answered a STORE_WRITE.
void batch_on_written(server_t *self, store_req_t *req);
//  Rows waiting (filling + flushing).
size_t batch_held(const server_t *self);

//  ---- progress.c
void progress_fill_job(server_t *self, job_t *job, Shoal__JobInfo *info, int64_t now_ms);
void progress_fill_job_row(const store_job_t *row, Shoal__JobInfo *info);
void progress_free_job(Shoal__JobInfo *info);
//  Build a snapshot envelope body (free with progress_free_snapshot).
Shoal__Snapshot *progress_snapshot(server_t *self);
void progress_free_snapshot(Shoal__Snapshot *snap);
void progress_publish(server_t *self);
void progress_event(server_t *self, Shoal__EventType type, uint32_t job_id,
                    const char *worker_id, uint64_t count, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
//  Add a committed batch's cluster counters to the totals.
void progress_add_counters(server_t *self, const store_counters_t *c);
//  Record a finished task's figures on its job.
void progress_task_done(server_t *self, task_t *task, const Shoal__Result *r, bool failed,
                        const char *error);
//  Fill a LeaderInfo: this broker, its role and term (strings borrowed from self).
void progress_fill_leader(server_t *self, Shoal__LeaderInfo *info);
//  Fill a WorkerInfo for a peer.
void progress_fill_worker(server_t *self, peer_t *peer, Shoal__WorkerInfo *info, int64_t now_ms);
void progress_free_worker(Shoal__WorkerInfo *info);

// pipeline.c: steps of pipeline jobs as durable tasks
//  Parse the job's stored pipeline (job_new); 0, or -1 when it is bad.
int pipeline_job_load(job_t *job, const store_job_t *row);
//  Free what pipeline_job_load set (job_destroy).
void pipeline_job_free(job_t *job);
//  The children of one ok result on their way into the filling batch
//  (fanout.c renders big ones a slice per loop turn): pipeline_fanout_t.
//  The children an ok result of task seq creates: *out is NULL when none
//  (a plain job, the item's last step). 0, or -1 with why in err (the
//  next step cannot be made: the caller fails this step with err).
int pipeline_fanout_new(job_t *job, uint32_t seq, const Shoal__Result *r, pipeline_fanout_t **out,
                        char *err, size_t errlen);
//  Children not rendered yet.
size_t pipeline_fanout_left(const pipeline_fanout_t *fanout);
//  Render up to `max` more children (their seqs are taken from the job).
//  0, or -1 with why in err: the parent fails and nothing of it is kept.
int pipeline_fanout_render(pipeline_fanout_t *fanout, job_t *job, size_t max, char *err, size_t errlen);
//  Every child rendered: move their rows into the filling batch, which
//  must get the parent's result row in the same turn. 0, or -1 when out
//  of memory.
int pipeline_fanout_land(server_t *self, pipeline_fanout_t *fanout);
//  Destroy; idempotent, NULLs the caller's pointer.
void pipeline_fanout_destroy(pipeline_fanout_t **fanout_p);
//  A batch committed: load the steps it created into memory (first in
//  their lanes, so items finish before new ones start).
void pipeline_on_written(server_t *self, batch_t *batch);
//  Free a batch's children (batch_destroy).
void pipeline_batch_free(batch_t *batch);

// fanout.c: ok results whose children are rendered over several loop turns
#define FANOUT_TURN_CHILDREN    1000    //  children rendered per loop turn, at most (plus one result's when it fits)
#define FANOUT_BACKLOG_CHILDREN 20000   //  no dispatch while more children than this wait to be rendered
//  A new loop turn: a fresh budget of children.
void fanout_turn_start(server_t *self);
//  True when n children may be rendered at once now (nothing waits and
//  they fit in this turn's budget, which they then use).
bool fanout_take(server_t *self, size_t n);
//  Keep a result (r, and result's fields: strings and bytes are copied)
//  until its children are rendered; takes *fanout_p. 0, or -1 when out of
//  memory (nothing taken: the caller renders at once).
int fanout_defer(server_t *self, pipeline_fanout_t **fanout_p, const fanout_result_t *result,
                 const Shoal__Result *r);
//  Render this turn's slice; record the results whose children are all rendered.
void fanout_run(server_t *self);
//  Results waiting for their children.
size_t fanout_pending(const server_t *self);
//  True while too many children wait: hand out no more work.
bool fanout_backlogged(const server_t *self);
//  Drop every waiting result (the broker stops or is deposed: not acked, workers resend).
void fanout_destroy_all(server_t *self);

// steps.c: per-step counts of pipeline jobs (docs/pipelines.md, "Seeing it")
//  A pipeline job came into memory: counts of zero for a new job, else
//  read from the store.
void steps_job_new(server_t *self, job_t *job, const store_job_t *row);
//  A final result of `task` (NULL: not in memory) with what the worker said
//  (r, may lack the step) goes into the batch: count it under its step.
void steps_count_result(batch_t *batch, job_t *job, task_t *task, uint32_t seq, const Shoal__Result *r,
                        char outcome);
//  A child of step `step` was created (its batch committed).
void steps_count_child(job_t *job, uint32_t step);
//  A child of item `root` goes into the batch (its item gains an open task).
void steps_count_item_child(batch_t *batch, job_t *job, uint32_t root);
//  A batch committed: add its per-step results to the jobs' counts (or
//  mark a job's counts stale when the store refused some of its rows).
void steps_on_written(server_t *self, batch_t *batch);
//  The job's counts must be read afresh from the store (retry, cancel).
void steps_mark_stale(server_t *self, job_t *job);
//  Ask the writer for the counts of pipeline jobs that need them (FIFO with
//  the result batches, so what comes back matches what was committed):
//  at once when some were marked, and every snapshot for those whose read failed.
void steps_refresh(server_t *self, bool retry_failed);
//  A STORE_STEPS came back.
void steps_on_read(server_t *self, store_req_t *req);
//  Fill info->steps from the counts (rows: `steps` per index; step 0's task
//  count is the job's submitted tasks). Free with steps_free_info.
void steps_fill_info(const pipeline_t *pipeline, const store_step_t *steps, size_t n_steps,
                     uint64_t submitted, Shoal__JobInfo *info);
//  Fill info->items (with the items' rate and ETA when `counts` is given,
//  a job in memory). Freed by steps_free_info.
void steps_fill_items(const item_tally_t *tally, const item_counts_t *counts, uint64_t submitted,
                      int64_t now_ms, Shoal__JobInfo *info);
void steps_free_info(Shoal__JobInfo *info);
//  Free a batch's per-step deltas / a job's counts.
void steps_batch_free(batch_t *batch);
void steps_job_free(job_t *job);

#endif
