/*  contain — keeps everything an exec task starts from outliving it.

    Each command runs under a small supervisor process of its own (the
    "shim", forked from the worker): the shim is a child subreaper
    (PR_SET_CHILD_SUBREAPER), so whatever the command starts and abandons —
    a daemon that double-forks, `setsid -f` — is reparented to the shim,
    not to PID 1. When the command exits (or the task is cancelled or
    times out: SIGTERM to the shim), the shim reports the exit status,
    kills every descendant left and reaps them, then exits itself; the
    worker's task ends when the shim is gone.

    Two guarantees, by what the machine allows:
      cgroup  (cgroup v2 mounted and writable, e.g. root or a delegated
              subtree): the shim moves into a cgroup of its own before it
              starts the command, and the sweep is cgroup.kill — every
              process of the task, whatever it did, atomically (a fork
              bomb included).
      reaper  (elsewhere): the sweep SIGKILLs the shim's children again
              and again until none is left. Holds for everything that
              stays a descendant (all of it, unless the shim itself is
              killed with SIGKILL or the worker dies).
    docs/tasks.md says which holds where; `shoal-worker --exec-containment`
    picks one (auto: cgroup when possible). */
#ifndef SHOAL_WORKER_CONTAIN_H
#define SHOAL_WORKER_CONTAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _contain_t contain_t;

//  One task's container: its cgroup's files, or nothing (reaper).
typedef struct {
    int  procs_fd;              //  the cgroup's cgroup.procs (write "0": move in), -1 = reaper
    int  kill_fd;               //  its cgroup.kill, -1 = reaper
    char name[48];              //  the cgroup's directory name, "" = none
} contain_task_t;

//  What the shim writes on the status pipe (one record per write).
typedef struct {
    int32_t kind;               //  CONTAIN_EXEC_ERRNO, CONTAIN_STATUS, CONTAIN_PID
    int32_t value;
} contain_record_t;
#define CONTAIN_EXEC_ERRNO 1    //  the command could not start: errno
#define CONTAIN_STATUS     2    //  the command ended: its wait status
#define CONTAIN_PID        3    //  the command's pid (its process group)

//  mode: "auto", "cgroup" or "reaper". NULL with a message in err when
//  cgroup was asked for and cannot be had, or mode is unknown.
contain_t *contain_new(const char *mode, char *err, size_t errlen);
//  Remove the worker's cgroup directory (tasks' ones must be gone); NULLs the pointer.
void contain_destroy(contain_t **self_p);
//  "cgroup" or "reaper".
const char *contain_mode(const contain_t *self);
//  A container for run `id` (a cgroup, or none in reaper mode; falls back
//  to none when the cgroup cannot be made). Never fails.
void contain_task_new(contain_t *self, uint64_t id, contain_task_t *task);
//  Close the parent's copies of the task's files (after the fork).
void contain_task_close(contain_task_t *task);
//  Remove the task's cgroup once its shim is reaped; false while it is
//  still busy (try again later).
bool contain_task_remove(contain_t *self, contain_task_t *task);
//  In the forked child, with stdin/stdout/stderr in place: become the
//  shim, run argv (looked up in env's PATH, in cwd), report on status_fd,
//  sweep, exit. Uses only async-signal-safe calls (the worker has threads).
_Noreturn void contain_shim(const contain_task_t *task, int status_fd, char *const argv[], char **env,
                            const char *cwd);

#endif
