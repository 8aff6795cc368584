/*  worker — shared state of shoal-worker (internal header).

    worker.c    the event loop, the connection (Hello, heartbeats, reconnect
                with backoff), tasks in, results out (kept until acked)
    run.c       one running task: start, finish, cancel, timeout
    noop.c      the noop executor (optional sleep; test hooks)
    http.c      the http executor (libcurl multi in this loop)
    exec.c      the exec executor (commands, process groups, pidfds)
*/
#ifndef SHOAL_WORKER_H
#define SHOAL_WORKER_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "heap.h"
#include "keys.h"
#include "shoal.pb-c.h"
#include "u64map.h"

typedef struct _worker_t worker_t;
typedef struct _run_t    run_t;
typedef struct _http_t   http_t;
typedef struct _exec_t   exec_t;

typedef struct {
    const char *broker;         //  backend endpoint
    int64_t     slots;          //  tasks at once
    const char *worker_id;      //  NULL: host-pid-random
    const char *kinds;          //  "noop,http" (exec needs allow_exec)
    bool        allow_exec;     //  explicit opt-in for exec tasks
    bool        test_hooks;     //  noop.crash is honoured
    int64_t     grace_ms;       //  SIGTERM: time to finish in-flight tasks
    int64_t     heartbeat_ms;   //  until the broker's Welcome says otherwise
    int64_t     liveness;
    const char *body_dir;       //  where STORE_DIR bodies go
    int64_t     hwm;
    const keys_t *keys;         //  CURVE client keys (borrowed), NULL: plaintext
} worker_config_t;

//  One task being executed.
struct _run_t {
    uint64_t  id;               //  local id (heap entries name runs by it)
    uint64_t  task_id;
    uint64_t  lease;
    uint32_t  attempt;
    uint32_t  timeout_ms;
    Shoal__TaskSpec *spec;      //  decoded (owned)
    Shoal__JobDefaults *defaults;   //  copy of the job's defaults (owned), may be NULL
    int64_t   started_us;       //  wall clock
    int64_t   deadline_ms;      //  timeout (monotonic)
    int64_t   wake_ms;          //  executor's own timer, 0 = none
    void     *exec;             //  executor state
    Shoal__TaskKind kind;
};

//  A finished result waiting to be sent and acked.
typedef struct {
    uint64_t task_id;
    uint64_t lease;
    uint8_t *data;              //  packed Result
    size_t   len;
    int64_t  sent_ms;           //  0 = not sent on this connection yet
} outbox_t;

struct _worker_t {
    worker_config_t cfg;
    char      worker_id[128];
    uint64_t  instance;         //  random per process (Hello.instance)
    uint64_t  hello_seq;        //  Hellos sent by this process (Hello.seq)
    char      host[128];
    uint32_t  kinds;            //  bit per Shoal__TaskKind
    zsock_t  *dealer;
    void     *dealer_raw;
    //  connection
    int64_t   heartbeat_ms;
    int64_t   liveness;
    uint64_t  epoch;            //  broker epoch from Welcome, 0 before
    bool      welcomed;
    int64_t   last_recv_ms;
    int64_t   last_send_ms;
    int64_t   last_hello_ms;
    int64_t   reconnect_at_ms;  //  0 = connected
    int64_t   reconnect_backoff_ms;
    //  work
    u64map_t *runs;             //  run id -> run_t
    uint64_t  next_run_id;
    heap_t   *timers;           //  run wake-ups and timeouts (by run id)
    u64map_t *outbox;           //  task_id ^ lease hash -> outbox_t
    zlist_t  *to_send;          //  outbox_t * not yet sent
    int64_t   unsent_since_ms;  //  when the oldest of to_send was queued, 0 = none
    //  lifecycle
    bool      draining;
    int64_t   drain_deadline_ms;
    bool      aborting;
    uint64_t  done, failed;
    http_t   *http;             //  http executor (http.c), NULL if the worker runs no http
    exec_t   *exec;             //  exec executor (exec.c), NULL without --allow-exec
    zmq_pollitem_t *items;      //  poll set: the broker socket, then executors' fds
    size_t    items_alloc;
};

//  ---- worker.c
int worker_run(const worker_config_t *cfg);
//  Queue a finished result (ownership of the unpacked fields stays with the caller).
void worker_result(worker_t *self, run_t *run, Shoal__Result *result);

//  ---- run.c
//  Start a task from the broker; always ends in exactly one worker_result.
void run_start(worker_t *self, const Shoal__Task *task, const Shoal__JobDefaults *defaults);
//  Finish a run with a result and free it.
void run_finish(worker_t *self, run_t *run, Shoal__Result *result);
//  Abort a run: cancelled (by the broker or a second SIGTERM) or timed out.
void run_abort(worker_t *self, run_t *run, Shoal__Outcome outcome, const char *why);
//  Fire due timers.
void run_timers(worker_t *self, int64_t now_ms);
//  Schedule the executor's wake-up for a run.
void run_wake_at(worker_t *self, run_t *run, int64_t when_ms);
//  Find a run by task and lease.
run_t *run_find(worker_t *self, uint64_t task_id, uint64_t lease);

//  ---- noop.c
void noop_start(worker_t *self, run_t *run);
void noop_wake(worker_t *self, run_t *run);
void noop_cancel(worker_t *self, run_t *run);

#endif
