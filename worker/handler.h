/*  handler — the user's own code as warm processes: a pool of long-lived
    processes for one handler NAME=COMMAND, fed one task at a time each as
    JSON lines on stdin, answering on stdout (see handler_proto.h and
    docs/handlers.md).

    The pool is driven by the caller's event loop: poll handler_fd() for
    input, call handler_after_poll() when it is readable, and
    handler_timers() at handler_next_wake_ms(). Every submitted task ends in
    exactly one call of the done callback, unless it is cancelled first.

    handler_config_t cfg;
    handler_config_parse("ocr[procs=4,max_tasks=50]=python3 ocr.py", &cfg, err, sizeof err);
    handler_t *h = handler_new(&cfg, guard, on_done, arg, err, sizeof err);
    handler_submit(h, run_id, "12/7", 1, deadline, "{\"x\":1}", NULL, err, sizeof err);
*/
#ifndef SHOAL_WORKER_HANDLER_H
#define SHOAL_WORKER_HANDLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "guard.h"

#define HANDLER_MAX_NAME        64
#define HANDLER_MAX_PROCS       1024
#define HANDLER_DEFAULT_MAX_LINE (4u << 20)    //  longest stdout line read
#define HANDLER_BROKEN_AFTER    3               //  start-up failures in a row

typedef struct {
    char     name[HANDLER_MAX_NAME];    //  [A-Za-z0-9_.-]+
    char    *command;                   //  run by /bin/sh -c (owned)
    uint32_t procs;                     //  processes at most (0 = not given; handler_new takes 1)
    uint64_t max_tasks;                 //  recycle after this many tasks, 0 = never
    int64_t  max_age_ms;                //  recycle when older (checked between tasks), 0 = never
    uint64_t max_rss;                   //  recycle when its processes' RSS is larger (bytes), 0 = never
    int64_t  startup_timeout_ms;        //  time to say {"ready": true} when `ready` (default 30 s)
    bool     ready;                     //  wait for {"ready": true} before the first task
    bool     warm;                      //  start the processes before any task arrives
    int64_t  kill_grace_ms;             //  SIGTERM, then SIGKILL after this (default 5 s)
    size_t   max_line;                  //  longest stdout line (default 4 MiB)
} handler_config_t;

//  How a task ended, passed to the done callback (pointers valid during the call).
typedef struct {
    bool        ok;         //  the handler answered ok: true
    const char *output;     //  ok: compact JSON text, or NULL
    const char *vars;       //  ok: compact JSON object text, or NULL
    const char *error;      //  !ok: why
    bool        retry;      //  !ok: retryable
    bool        crashed;    //  !ok: the process died, hung or broke the protocol (a counted attempt)
    bool        refused;    //  !ok: never reached a process (the handler is broken): try elsewhere
    pid_t       pid;        //  the process that ran it, 0 if none
} handler_outcome_t;

typedef void (handler_done_fn)(void *arg, uint64_t ref, const handler_outcome_t *outcome);

//  Figures for Hello, heartbeats and `shoal workers`.
typedef struct {
    uint32_t procs;         //  configured
    uint32_t up;            //  processes running (ready or busy)
    uint32_t busy;          //  processes running a task
    uint32_t queued;        //  tasks waiting for a process
    uint64_t restarts;      //  processes started after the first `procs`
    uint64_t served;        //  answers received
    bool     broken;        //  start-up keeps failing
} handler_stats_t;

typedef struct _handler_t handler_t;

//  Parse "NAME[opt=value,...]=COMMAND" into cfg (defaults filled in).
//  Options: procs, max_tasks, max_age (30m, 90s, 500ms), max_rss (500M, 2G),
//  startup_timeout, kill_grace, max_line, ready, warm (0/1 or bare).
//  Returns 0, or -1 with a message naming the option.
int handler_config_parse(const char *text, handler_config_t *cfg, char *err, size_t errlen);
//  Free what a parsed configuration owns.
void handler_config_free(handler_config_t *cfg);

//  Create a handler pool (starts processes now when warm). The command is
//  copied; guard may be NULL. Returns NULL with a message on failure.
handler_t *handler_new(const handler_config_t *cfg, guard_t *guard, handler_done_fn *done, void *arg,
                       char *err, size_t errlen);
//  Kill every process (SIGKILL), wait a moment for them, free; NULLs the pointer.
void handler_destroy(handler_t **self_p);
//  The handler's name.
const char *handler_name(const handler_t *self);
//  Queue a task: ref names it in the callback and in handler_cancel; id is
//  what the process sees. Returns 0, or -1 with a message when the line
//  cannot be built (bad payload JSON) — then no callback comes.
int handler_submit(handler_t *self, uint64_t ref, const char *id, uint32_t attempt, int64_t deadline_ms,
                   const char *payload, const char *vars, char *err, size_t errlen);
//  Forget a task without a callback; a process running it is killed
//  (SIGTERM to its group, SIGKILL after kill_grace) and replaced.
void handler_cancel(handler_t *self, uint64_t ref);
//  The epoll descriptor to poll for input.
int handler_fd(const handler_t *self);
//  Handle whatever the processes wrote or whether they exited.
void handler_after_poll(handler_t *self);
//  When handler_timers() is next needed (monotonic ms), INT64_MAX for never.
int64_t handler_next_wake_ms(const handler_t *self);
//  Handle due timers: start-up timeouts, SIGKILLs, restarts, max_age.
void handler_timers(handler_t *self, int64_t now_ms);
//  Stop: no more processes start; idle ones get SIGTERM now, busy ones
//  after their task; SIGKILL after kill_grace. Queued tasks are kept.
void handler_stop(handler_t *self);
//  True when no process of this handler is left (after handler_stop).
bool handler_idle(const handler_t *self);
//  Current figures.
void handler_stats(const handler_t *self, handler_stats_t *stats);
//  Pids of the running processes (for tests): up to max into pids, returns the count.
size_t handler_pids(const handler_t *self, pid_t *pids, size_t max);

#endif
