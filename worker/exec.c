/*  exec — the exec executor: run a command, feed its stdin, keep the tails
    of its stdout and stderr, report its exit status.

    Only on workers started with --allow-exec. Each command runs under a
    shim of its own (contain.c) that keeps whatever the command starts from
    outliving the task. The pipes and a pidfd of the shim (readable when
    it exits, after the command and everything it left behind are gone)
    sit in one epoll set that the worker's loop polls. Nothing here waits
    for a process: what was killed is reaped later, without blocking.

    The command's environment is the worker's, without SHOAL_* variables,
    plus the task's env entries (exec_parts.c). */
#include "executor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "contain.h"
#include "exec_parts.h"
#include "log.h"
#include "vars.h"

#define DEFAULT_TAIL (64u * 1024)

typedef enum { FD_STDIN, FD_STDOUT, FD_STDERR, FD_EXIT, FD_STATUS, FD_COUNT } fd_kind_t;

typedef struct _proc_t proc_t;

typedef struct {
    proc_t   *proc;
    fd_kind_t kind;
} slot_t;

struct _proc_t {
    run_t   *run;
    pid_t    pid;               //  the shim
    pid_t    command;           //  the command (its process group), 0 until the shim says
    contain_task_t box;         //  the task's cgroup, if any
    int      fds[FD_COUNT];     //  -1 when closed
    slot_t   slots[FD_COUNT];   //  epoll data points here
    const uint8_t *stdin_data;
    size_t   stdin_len, stdin_off;
    exec_tail_t out, err;
    capture_t capture;          //  a pipeline step's stdout head, for its extraction rules
    uint64_t out_total;         //  stdout bytes read
    uint8_t  record[sizeof(contain_record_t)];  //  a partial status record
    size_t   record_len;
    int      exec_errno;        //  the command could not start
    bool     has_status;        //  the shim reported the command's wait status
    int      status;
};

//  A shim that was killed or ended, not yet reaped, or a cgroup not yet removed.
typedef struct {
    pid_t pid;                  //  0 once reaped
    contain_task_t box;
} reap_t;

typedef struct {
    executor_t base;
    int    epfd;
    size_t procs;               //  running commands
    contain_t *contain;         //  cgroup or reaper (contain.c)
    vars_t *vars;               //  compiled extraction rules of pipeline steps
    reap_t *reap;               //  never wait in the loop: reaped later
    size_t n_reap, alloc_reap;
} exec_t;

//  Reap what was killed and remove the cgroups left, without waiting (a
//  process that does not die must not stall the loop).
static void
s_reap(exec_t *x)
{
    size_t kept = 0;
    for (size_t i = 0; i < x->n_reap; i++) {
        reap_t *r = &x->reap[i];
        if (r->pid && waitpid(r->pid, NULL, WNOHANG) != 0)
            r->pid = 0;
        if (r->pid || !contain_task_remove(x->contain, &r->box))
            x->reap[kept++] = *r;
    }
    x->n_reap = kept;
}

//  Remember a shim (or a cgroup, pid 0) to reap later.
static void
s_reap_later(exec_t *x, pid_t pid, const contain_task_t *box)
{
    if (x->n_reap == x->alloc_reap) {
        size_t alloc = x->alloc_reap ? x->alloc_reap * 2 : 16;
        reap_t *grown = realloc(x->reap, alloc * sizeof *grown);
        if (!grown) {
            log_warn("reap_lost", "pid=%d detail=\"out of memory\"", (int) pid);
            return;
        }
        x->reap = grown;
        x->alloc_reap = alloc;
    }
    x->reap[x->n_reap++] = (reap_t) { pid, *box };
}

static void
s_close(exec_t *x, proc_t *p, fd_kind_t kind)
{
    if (p->fds[kind] < 0)
        return;
    epoll_ctl(x->epfd, EPOLL_CTL_DEL, p->fds[kind], NULL);
    close(p->fds[kind]);
    p->fds[kind] = -1;
}

static int
s_watch(exec_t *x, proc_t *p, fd_kind_t kind, uint32_t events)
{
    p->slots[kind].proc = p;
    p->slots[kind].kind = kind;
    struct epoll_event ev = { .events = events, .data.ptr = &p->slots[kind] };
    return epoll_ctl(x->epfd, EPOLL_CTL_ADD, p->fds[kind], &ev);
}

static void
s_proc_free(exec_t *x, proc_t *p)
{
    for (int k = 0; k < FD_COUNT; k++)
        s_close(x, p, (fd_kind_t) k);
    free(p->out.data);
    free(p->err.data);
    capture_free(&p->capture);
    free(p);
}

//  Resource shortages that pass (another task's processes exit, a limit
//  is raised): worth another attempt, unlike a missing program.
static bool
s_transient(int err)
{
    return err == EAGAIN || err == ENOMEM || err == EMFILE || err == ENFILE;
}

//  End a run that could not start: "what: strerror(err)"; permanent
//  unless the error is a passing shortage.
static void
s_fail_now(executor_t *self, run_t *run, const char *what, int err)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
    executor_fail(self, run, SHOAL__OUTCOME__OUTCOME_ERROR, !s_transient(err), msg);
}

//  stdin, stdout, stderr and the shim's status pipe, close-on-exec;
//  0, or -1 with errno (nothing left open).
static int
s_pipes(int pipes[4][2])
{
    for (int i = 0; i < 4; i++)
        pipes[i][0] = pipes[i][1] = -1;
    for (int i = 0; i < 4; i++)
        if (pipe2(pipes[i], O_CLOEXEC) != 0) {
            int err = errno;
            for (int j = 0; j < 4; j++) {
                if (pipes[j][0] >= 0) close(pipes[j][0]);
                if (pipes[j][1] >= 0) close(pipes[j][1]);
            }
            errno = err;
            return -1;
        }
    return 0;
}

//  Move fd to `to` (close-on-exec), by way of a high number so that no
//  other descriptor of the child is overwritten on the way; -1 stays -1.
static int
s_move_fd(int fd, int to)
{
    if (fd < 0)
        return -1;
    int high = fcntl(fd, F_DUPFD_CLOEXEC, 100);
    return high < 0 ? -1 : dup3(high, to, O_CLOEXEC);
}

//  The forked child: stdio on the pipes, its status pipe and cgroup files
//  on 3, 4, 5, nothing else of the worker's open (the shim lives as long
//  as the task: another task's pipe end held here would keep that task's
//  stdin from ending), then the shim runs the command.
static _Noreturn void
s_child(int pipes[4][2], const contain_task_t *box, char **argv, char **env, const char *cwd)
{
    dup2(pipes[0][0], 0);
    dup2(pipes[1][1], 1);
    dup2(pipes[2][1], 2);
    int status = fcntl(pipes[3][1], F_DUPFD_CLOEXEC, 100);
    int procs = box->procs_fd >= 0 ? fcntl(box->procs_fd, F_DUPFD_CLOEXEC, 100) : -1;
    int kill_fd = box->kill_fd >= 0 ? fcntl(box->kill_fd, F_DUPFD_CLOEXEC, 100) : -1;
    contain_task_t mine = *box;
    status = s_move_fd(status, 3);
    mine.procs_fd = s_move_fd(procs, 4);
    mine.kill_fd = s_move_fd(kill_fd, 5);
    syscall(SYS_close_range, 6, ~0U, 0);
    contain_shim(&mine, status, argv, env, cwd);
}

//  Watch a started process's descriptors; false when no pidfd can be had.
static bool
s_watch_proc(exec_t *x, proc_t *p)
{
    for (int k = 0; k < FD_COUNT; k++)
        if (p->fds[k] >= 0)
            fcntl(p->fds[k], F_SETFL, fcntl(p->fds[k], F_GETFL) | O_NONBLOCK);
    if (p->stdin_len == 0)
        s_close(x, p, FD_STDIN);
    else
        s_watch(x, p, FD_STDIN, EPOLLOUT);
    s_watch(x, p, FD_STDOUT, EPOLLIN);
    s_watch(x, p, FD_STDERR, EPOLLIN);
    s_watch(x, p, FD_STATUS, EPOLLIN);
    return p->fds[FD_EXIT] >= 0 && s_watch(x, p, FD_EXIT, EPOLLIN) == 0;
}

static void
s_start(executor_t *self, run_t *run)
{
    exec_t *x = (exec_t *) self;
    const Shoal__ExecSpec *t = run->spec->exec;
    const Shoal__ExecSpec *d = run->defaults ? run->defaults->exec : NULL;
    proc_t *p = calloc(1, sizeof *p);
    char **env = exec_environment(t, d);
    char **argv = calloc(t->n_argv + 1, sizeof *argv);
    int pipes[4][2];
    if (!p || !env || !argv || s_pipes(pipes) != 0) {
        int err = p && env && argv ? errno : ENOMEM;
        free(p); free(env); free(argv);
        s_fail_now(self, run, err == ENOMEM ? "out of memory" : "creating pipes", err);
        return;
    }
    for (int k = 0; k < FD_COUNT; k++)
        p->fds[k] = -1;
    for (size_t i = 0; i < t->n_argv; i++)
        argv[i] = t->argv[i];
    contain_task_new(x->contain, run->id, &p->box);
    pid_t pid = fork();
    if (pid == 0)
        s_child(pipes, &p->box, argv, env, t->cwd ? t->cwd : d ? d->cwd : NULL);
    int fork_errno = errno;
    close(pipes[0][0]);
    close(pipes[1][1]);
    close(pipes[2][1]);
    close(pipes[3][1]);
    free(env);
    free(argv);
    p->fds[FD_STDIN] = pipes[0][1];
    p->fds[FD_STDOUT] = pipes[1][0];
    p->fds[FD_STDERR] = pipes[2][0];
    p->fds[FD_STATUS] = pipes[3][0];
    if (pid < 0) {
        s_reap_later(x, 0, &p->box);
        s_proc_free(x, p);
        s_fail_now(self, run, "fork", fork_errno);
        return;
    }
    setpgid(pid, pid);      //  also from here: no race with the child
    if (p->box.procs_fd >= 0) {     //  the shim moved itself in; the parent needs only cgroup.kill
        close(p->box.procs_fd);
        p->box.procs_fd = -1;
    }
    p->pid = pid;
    p->run = run;
    p->fds[FD_EXIT] = (int) syscall(SYS_pidfd_open, pid, 0);
    size_t tail = t->has_tail_bytes ? t->tail_bytes : d && d->has_tail_bytes ? d->tail_bytes : DEFAULT_TAIL;
    p->out.cap = p->err.cap = tail;
    p->capture.on = run->spec->pipeline && run->spec->pipeline->extract;
    const ProtobufCBinaryData *in = t->has_stdin ? &t->stdin : d && d->has_stdin ? &d->stdin : NULL;
    p->stdin_data = in ? in->data : NULL;
    p->stdin_len = in ? in->len : 0;
    if (!s_watch_proc(x, p)) {
        //  no pidfd (too many open files, a kernel before 5.3): stop the
        //  shim and its command, reap it later, never wait here
        int err = errno;
        kill(-pid, SIGKILL);
        s_reap_later(x, pid, &p->box);
        s_proc_free(x, p);
        s_fail_now(self, run, "pidfd_open", err);
        return;
    }
    x->procs++;
    run->state = p;
    log_debug("exec_started", "task=%llx pid=%d argv0=%s", (unsigned long long) run->task_id, (int) pid,
              t->argv[0]);
}

//  What the shim said: the command's pid, its exit status, or why it
//  could not start.
static void
s_on_record(proc_t *p, const contain_record_t *r)
{
    if (r->kind == CONTAIN_PID)
        p->command = r->value;
    else
    if (r->kind == CONTAIN_STATUS) {
        p->has_status = true;
        p->status = r->value;
    }
    else
    if (r->kind == CONTAIN_EXEC_ERRNO)
        p->exec_errno = r->value;
}

//  Read what is there; false at end of file.
static bool
s_drain(exec_t *x, proc_t *p, fd_kind_t kind)
{
    uint8_t buf[65536];
    while (p->fds[kind] >= 0) {
        ssize_t n = read(p->fds[kind], buf, kind == FD_STATUS ? sizeof p->record - p->record_len : sizeof buf);
        if (n > 0) {
            if (kind == FD_STDOUT) {
                exec_tail_add(&p->out, buf, (size_t) n);
                p->out_total += (uint64_t) n;
                //  the head for extraction (bounded by EXTRACT_MAX_BODY)
                if (p->capture.on && capture_body(&p->capture, (const char *) buf, (size_t) n) < 0)
                    p->capture.on = false;
            }
            else
            if (kind == FD_STDERR)
                exec_tail_add(&p->err, buf, (size_t) n);
            else {
                memcpy(p->record + p->record_len, buf, (size_t) n);
                p->record_len += (size_t) n;
                if (p->record_len == sizeof p->record) {
                    contain_record_t r;
                    memcpy(&r, p->record, sizeof r);
                    s_on_record(p, &r);
                    p->record_len = 0;
                }
            }
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return true;
        s_close(x, p, kind);
        return false;
    }
    return false;
}

//  The shim is gone (the command and all it left behind with it): the
//  result, from what the shim reported.
static void
s_finish(exec_t *x, proc_t *p, int shim_status)
{
    run_t *run = p->run;
    //  what is still in the pipes belongs to the result
    s_drain(x, p, FD_STDOUT);
    s_drain(x, p, FD_STDERR);
    s_drain(x, p, FD_STATUS);
    if (!contain_task_remove(x->contain, &p->box))
        s_reap_later(x, 0, &p->box);
    int status = p->has_status ? p->status : shim_status;
    Shoal__Result r = SHOAL__RESULT__INIT;
    Shoal__ExecResult er = SHOAL__EXEC_RESULT__INIT;
    r.has_outcome = 1;
    r.exec = &er;
    uint8_t *out = exec_tail_flat(&p->out), *err = exec_tail_flat(&p->err);
    er.has_stdout_tail = er.has_stderr_tail = 1;
    er.stdout_tail.data = out;
    er.stdout_tail.len = out ? p->out.len : 0;
    er.stderr_tail.data = err;
    er.stderr_tail.len = err ? p->err.len : 0;
    char error[512] = "";
    r.outcome = SHOAL__OUTCOME__OUTCOME_ERROR;
    if (p->exec_errno) {
        if (!s_transient(p->exec_errno))
            r.has_permanent = r.permanent = 1;
        snprintf(error, sizeof error, "cannot run %s: %s", run->spec->exec->argv[0], strerror(p->exec_errno));
    }
    else
    if (WIFEXITED(status)) {
        er.has_exit_code = 1;
        er.exit_code = WEXITSTATUS(status);
        if (er.exit_code == 0)
            r.outcome = SHOAL__OUTCOME__OUTCOME_OK;
        else
            snprintf(error, sizeof error, "exit status %d", er.exit_code);
    }
    else
    if (WIFSIGNALED(status)) {
        er.has_signal = 1;
        er.signal = WTERMSIG(status);
        snprintf(error, sizeof error, "killed by signal %d (%s)", er.signal, strsignal(er.signal));
    }
    r.error = error[0] ? error : NULL;
    //  a pipeline step: its rules read stdout (status: the exit code)
    const Shoal__PipelineStep *ps = run->spec->pipeline;
    char *owned = NULL;
    if (r.outcome == SHOAL__OUTCOME__OUTCOME_OK && ps && ps->extract) {
        if (!p->capture.on || !x->vars) {
            r.outcome = SHOAL__OUTCOME__OUTCOME_ERROR;
            r.error = "extract: out of memory keeping stdout";
        }
        else
            vars_apply(x->vars, ps->extract, ps->vars, &p->capture, (uint32_t) er.exit_code, "",
                       p->out_total, &r, &owned);
    }
    run->state = NULL;
    x->procs--;
    s_proc_free(x, p);
    executor_finish(&x->base, run, &r);
    free(owned);
    free(out);
    free(err);
}

//  Stop a command and all it started: the cgroup at once where there is
//  one, else the command's group and the shim (which sweeps the rest);
//  the shim is reaped later.
static void
s_cancel(executor_t *self, run_t *run)
{
    exec_t *x = (exec_t *) self;
    proc_t *p = run->state;
    run->state = NULL;
    if (!p)
        return;
    if (p->box.kill_fd >= 0)
        (void) !write(p->box.kill_fd, "1", 1);
    if (p->command > 0)
        kill(-p->command, SIGKILL);
    kill(p->pid, SIGTERM);
    s_reap_later(x, p->pid, &p->box);
    x->procs--;
    s_proc_free(x, p);
}

static int
s_poll_fd(executor_t *self)
{
    exec_t *x = (exec_t *) self;
    if (x->n_reap)
        s_reap(x);
    return x->procs ? x->epfd : -1;
}

//  Feed stdin, collect output, finish the commands whose shim exited.
static void
s_on_ready(executor_t *self)
{
    exec_t *x = (exec_t *) self;
    struct epoll_event events[64];
    int ready = epoll_wait(x->epfd, events, 64, 0);
    //  exits last: a process's output and exit can be ready together, and
    //  finishing frees the process
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < ready; i++) {
            slot_t *s = events[i].data.ptr;
            if (!s || !s->proc)
                continue;
            proc_t *p = s->proc;
            int status;
            if (pass == 0 && s->kind == FD_STDIN && p->fds[FD_STDIN] >= 0) {
                ssize_t w = write(p->fds[FD_STDIN], p->stdin_data + p->stdin_off, p->stdin_len - p->stdin_off);
                if (w > 0)
                    p->stdin_off += (size_t) w;
                if ((w < 0 && errno != EAGAIN && errno != EINTR) || p->stdin_off >= p->stdin_len)
                    s_close(x, p, FD_STDIN);    //  EOF for the command (or it stopped reading)
            }
            else
            if (pass == 0 && (s->kind == FD_STDOUT || s->kind == FD_STDERR || s->kind == FD_STATUS))
                s_drain(x, p, s->kind);
            else
            if (pass == 1 && s->kind == FD_EXIT && waitpid(p->pid, &status, WNOHANG) == p->pid) {
                //  the slot is freed with the process: forget it in the
                //  rest of this batch
                for (int j = i + 1; j < ready; j++) {
                    slot_t *o = events[j].data.ptr;
                    if (o && o->proc == p)
                        events[j].data.ptr = NULL;
                }
                s_finish(x, p, status);
            }
        }
}

static void
s_destroy(executor_t *self)
{
    exec_t *x = (exec_t *) self;
    s_reap(x);
    contain_destroy(&x->contain);
    vars_destroy(&x->vars);
    close(x->epfd);
    free(x->reap);
    free(x);
}

static const executor_ops_t s_ops = {
    .name = "exec",
    .start = s_start,
    .cancel = s_cancel,
    .poll_fd = s_poll_fd,
    .on_ready = s_on_ready,
    .destroy = s_destroy,
};

executor_t *
exec_executor_new(const executor_host_t *host, const char *containment)
{
    exec_t *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->base = (executor_t) { &s_ops, host };
    char err[512];
    x->contain = contain_new(containment ? containment : "auto", err, sizeof err);
    if (!x->contain)
        log_error("exec_containment_failed", "error=\"%s\"", err);
    x->epfd = x->contain ? epoll_create1(EPOLL_CLOEXEC) : -1;
    x->vars = vars_new();
    if (x->epfd < 0 || !x->vars) {
        if (x->epfd >= 0)
            close(x->epfd);
        vars_destroy(&x->vars);
        contain_destroy(&x->contain);
        free(x);
        return NULL;
    }
    return &x->base;
}
