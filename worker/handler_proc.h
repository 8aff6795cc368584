/*  handler_proc — one handler process: spawning it in its own process
    group, its pipes (bounded line reading, non-blocking writes), killing
    and reaping it, its RSS. Internal to handler.c. */
#ifndef SHOAL_WORKER_HANDLER_PROC_H
#define SHOAL_WORKER_HANDLER_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "guard.h"
#include "handler.h"

#define HPROC_MAX_ERR_LINE 4096     //  longer stderr lines are logged cut

typedef enum { HFD_IN, HFD_OUT, HFD_ERR, HFD_PID, HFD_COUNT } hfd_t;
typedef enum { HP_STARTING, HP_IDLE, HP_BUSY, HP_STOPPING } hstate_t;

typedef struct _hproc_t hproc_t;

//  A task waiting for or running in a process.
typedef struct _htask_t {
    uint64_t ref;               //  the caller's name for it
    char    *id;                //  what the process sees (owned)
    char    *line;              //  the encoded line, '\n' included (owned)
    size_t   len;
    struct _htask_t *next;      //  queue
} htask_t;

//  What epoll events point at.
typedef struct {
    hproc_t *proc;
    hfd_t    kind;
} hslot_t;

//  A line being assembled, never longer than max.
typedef struct {
    char  *data;
    size_t len, alloc;
    bool   skipping;            //  over the limit: drop until the next '\n'
} hline_t;

//  Callbacks for what a process wrote.
typedef struct {
    void (*on_line)(hproc_t *p, const char *line, size_t len);
    void (*on_err_line)(hproc_t *p, const char *line, size_t len, bool truncated);
    void (*on_overflow)(hproc_t *p);    //  a stdout line longer than max_line
} hproc_ops_t;

struct _hproc_t {
    handler_t *h;               //  owner
    pid_t    pid;               //  also the process group id
    int      fd[HFD_COUNT];     //  -1 when closed
    hslot_t  slot[HFD_COUNT];
    hstate_t state;
    bool     started;           //  proved it runs (see handler.c)
    bool     heard;             //  wrote a stdout line
    bool     startup_timed_out;
    bool     kill_sent;
    bool     exited;            //  reaped, status valid
    bool     dead;              //  accounted for, to be freed
    int      status;            //  waitpid status
    int64_t  started_ms;        //  monotonic
    int64_t  kill_at_ms;        //  STOPPING: SIGKILL at
    uint64_t served;            //  answers
    htask_t *task;              //  running (owned)
    size_t   woff;              //  bytes of task->line written
    bool     want_out;          //  stdin is watched for writability
    size_t   max_line;
    hline_t  out, err;
    hproc_t *next;
};

//  Start `/bin/sh -c command` in a new process group, its descriptors in
//  epfd, its group told to the guard. NULL with a message on failure.
hproc_t *hproc_spawn(const char *command, int epfd, guard_t *guard, char *err, size_t errlen);
//  Close the descriptors, tell the guard the group is gone, free the task
//  and the process record (it must have been reaped or killed).
void hproc_free(hproc_t *p, int epfd, guard_t *guard);
//  Write what is left of the task's line; watch stdin while some is left.
void hproc_write(hproc_t *p, int epfd);
//  Handle readiness of one descriptor (reads at most a few MiB per call).
void hproc_io(hproc_t *p, hfd_t kind, int epfd, const hproc_ops_t *ops);
//  End of input and SIGTERM to the process group.
void hproc_terminate(hproc_t *p, int epfd);
//  SIGKILL to the process group.
void hproc_kill(hproc_t *p);
//  Reap without waiting; true once it has exited (status in p->status).
bool hproc_reap(hproc_t *p);
//  Resident memory of the process and its descendants, in bytes.
uint64_t hproc_rss(const hproc_t *p);
//  "exit status 3", "killed by signal 9 (Killed)".
void hproc_describe_status(int status, char *buf, size_t size);

#endif
