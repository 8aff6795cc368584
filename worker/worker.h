/*  worker — shoal-worker's event loop and its conversation with the
    broker (internal header).

    main.c      flags
    worker.c    the loop, the actions of the peer state machine
    peer.c      the state machine's table (states, events, actions)
    link.c      the socket to the broker: connect, Hello, Heartbeat, Bye
    outbox.c    results kept until the broker acks them
    run.c       one running task: start, timeout, cancel, its one result
    timers.c    one-shot timers (a heap), for every deadline of the worker
    executor.h  the interface every task kind implements
    noop.c      the noop executor (optional sleep; test hooks)
    http.c      the http executor (libcurl multi in this loop)
    s3*.c       its S3 sink (store: s3), upload.c the upload_s3 task
    exec.c      the exec executor (commands, their pipes and exits)
    exec_parts.c  its output tails and the command's environment
    contain.c   what keeps an exec task's processes from outliving it
*/
#ifndef SHOAL_WORKER_H
#define SHOAL_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "handler.h"
#include "keys.h"
#include "s3.h"

typedef struct {
    const char *broker;         //  backend endpoint
    int64_t     slots;          //  tasks at once
    const char *worker_id;      //  NULL: host-pid-random
    const char *kinds;          //  "noop,http" (exec needs allow_exec)
    bool        allow_exec;     //  explicit opt-in for exec tasks
    const char *exec_containment;   //  auto, cgroup or reaper (contain.h)
    bool        test_hooks;     //  noop.crash is honoured
    int64_t     grace_ms;       //  SIGTERM: time to finish in-flight tasks
    int64_t     heartbeat_ms;   //  until the broker's Welcome says otherwise
    int64_t     liveness;
    const char *body_dir;       //  where STORE_DIR bodies go
    int64_t     hwm;
    const keys_t *keys;         //  CURVE client keys (borrowed), NULL: plaintext
    s3_config_t s3;             //  where store: s3 bodies go (credentials: the environment)
    const handler_config_t *handlers;   //  --handler NAME=COMMAND (borrowed)
    size_t      n_handlers;
    const char *const *labels;  //  --label key=value (borrowed)
    size_t      n_labels;
} worker_config_t;

//  Run the worker until it is stopped; returns the process's exit code.
int worker_run(const worker_config_t *cfg);

#endif
