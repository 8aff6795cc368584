/*  exec — the exec executor: run a command, feed its stdin, keep the tails
    of its stdout and stderr, report its exit status.

    Only on workers started with --allow-exec. Each command runs in its own
    process group, so a timeout or a cancel kills everything it started.
    Its pipes and a pidfd (readable when it exits) sit in one epoll set
    that the worker's loop polls, like the HTTP executor's sockets.

    The command's environment is the worker's, without SHOAL_* variables,
    plus the task's env entries. */
#include "executor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

#define DEFAULT_TAIL (64u * 1024)

extern char **environ;

typedef enum { FD_STDIN, FD_STDOUT, FD_STDERR, FD_EXIT, FD_ERRPIPE, FD_COUNT } fd_kind_t;

//  The last `cap` bytes written to it.
typedef struct {
    uint8_t *data;
    size_t   cap, len, start;   //  ring: len bytes from start
} tail_t;

typedef struct _proc_t proc_t;

typedef struct {
    proc_t   *proc;
    fd_kind_t kind;
} slot_t;

struct _proc_t {
    run_t   *run;
    pid_t    pid;
    int      fds[FD_COUNT];     //  -1 when closed
    slot_t   slots[FD_COUNT];   //  epoll data points here
    const uint8_t *stdin_data;
    size_t   stdin_len, stdin_off;
    tail_t   out, err;
    int      exec_errno;        //  from the child when execvp failed
    bool     exited;
    int      status;
};

typedef struct {
    executor_t base;
    int    epfd;
    size_t procs;               //  running commands
    pid_t *reap;                //  killed, not yet reaped (never wait in the loop)
    size_t n_reap, alloc_reap;
} exec_t;

//  Reap what was killed, without waiting (a child in an uninterruptible
//  sleep must not stall the loop).
static void
s_reap(exec_t *x)
{
    size_t kept = 0;
    for (size_t i = 0; i < x->n_reap; i++)
        if (waitpid(x->reap[i], NULL, WNOHANG) == 0)
            x->reap[kept++] = x->reap[i];
    x->n_reap = kept;
}


static void
s_tail_add(tail_t *t, const uint8_t *data, size_t n)
{
    if (t->cap == 0)
        return;
    if (!t->data) {
        t->data = malloc(t->cap);
        if (!t->data)
            return;
    }
    if (n >= t->cap) {
        memcpy(t->data, data + n - t->cap, t->cap);
        t->start = 0;
        t->len = t->cap;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        size_t pos = (t->start + t->len) % t->cap;
        t->data[pos] = data[i];
        if (t->len < t->cap)
            t->len++;
        else
            t->start = (t->start + 1) % t->cap;
    }
}

//  The tail in order, into a new buffer (caller frees).
static uint8_t *
s_tail_flat(const tail_t *t)
{
    uint8_t *out = malloc(t->len ? t->len : 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < t->len; i++)
        out[i] = t->data[(t->start + i) % t->cap];
    return out;
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
    free(p);
}

//  The child's environment: ours without SHOAL_*, then the task's entries.
static char **
s_environment(const Shoal__ExecSpec *t, const Shoal__ExecSpec *d)
{
    size_t n = 0;
    for (char **e = environ; *e; e++)
        n++;
    size_t extra = (t ? t->n_env : 0) + (d ? d->n_env : 0);
    char **env = calloc(n + extra + 1, sizeof *env);
    if (!env)
        return NULL;
    size_t o = 0;
    const Shoal__ExecSpec *layers[2] = { d, t };
    for (char **e = environ; *e; e++) {
        if (strncmp(*e, "SHOAL_", 6) == 0)
            continue;
        //  replaced by a task or job entry of the same name?
        size_t name_len = strcspn(*e, "=");
        bool replaced = false;
        for (int l = 0; l < 2 && !replaced; l++)
            for (size_t i = 0; layers[l] && i < layers[l]->n_env; i++)
                if (strncmp(layers[l]->env[i], *e, name_len + 1) == 0)
                    replaced = true;
        if (!replaced)
            env[o++] = *e;
    }
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; layers[l] && i < layers[l]->n_env; i++) {
            //  the task's entry wins over the job's of the same name
            size_t name_len = strcspn(layers[l]->env[i], "=");
            bool later = false;
            for (int m = l + 1; m < 2 && !later; m++)
                for (size_t j = 0; layers[m] && j < layers[m]->n_env; j++)
                    if (strncmp(layers[m]->env[j], layers[l]->env[i], name_len + 1) == 0)
                        later = true;
            if (!later)
                env[o++] = layers[l]->env[i];
        }
    env[o] = NULL;
    return env;
}

//  End a run that could not start: "what: strerror(err)", permanent.
static void
s_fail_now(executor_t *self, run_t *run, const char *what, int err)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
    executor_fail(self, run, SHOAL__OUTCOME__OUTCOME_ERROR, true, msg);
}

static void
s_start(executor_t *self, run_t *run)
{
    exec_t *x = (exec_t *) self;
    const Shoal__ExecSpec *t = run->spec->exec;
    const Shoal__ExecSpec *d = run->defaults ? run->defaults->exec : NULL;
    const char *cwd = t->cwd ? t->cwd : d ? d->cwd : NULL;
    proc_t *p = calloc(1, sizeof *p);
    char **env = s_environment(t, d);
    char **argv = calloc(t->n_argv + 1, sizeof *argv);
    int pipes[4][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 }, { -1, -1 } };
    if (!p || !env || !argv) {
        free(p);
        free(env);
        free(argv);
        s_fail_now(self, run, "out of memory", ENOMEM);
        return;
    }
    for (int k = 0; k < FD_COUNT; k++)
        p->fds[k] = -1;
    for (size_t i = 0; i < t->n_argv; i++)
        argv[i] = t->argv[i];
    //  stdin, stdout, stderr, and a close-on-exec pipe for execvp's errno
    for (int i = 0; i < 4; i++)
        if (pipe2(pipes[i], O_CLOEXEC) != 0) {
            int err = errno;
            for (int j = 0; j < 4; j++) {
                if (pipes[j][0] >= 0) close(pipes[j][0]);
                if (pipes[j][1] >= 0) close(pipes[j][1]);
            }
            free(p);
            free(env);
            free(argv);
            s_fail_now(self, run, "creating pipes", err);
            return;
        }
    pid_t pid = fork();
    if (pid == 0) {
        //  the child: its own process group, so a kill reaches all it starts
        setpgid(0, 0);
        //  if the worker dies, its commands go with it (their tasks will
        //  run again elsewhere)
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(pipes[0][0], 0);
        dup2(pipes[1][1], 1);
        dup2(pipes[2][1], 2);
        //  the worker's sockets and files stay out of the command
        syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
        signal(SIGPIPE, SIG_DFL);
        if (cwd && chdir(cwd) != 0) {
            int err = errno;
            (void) !write(pipes[3][1], &err, sizeof err);
            _exit(127);
        }
        //  PATH is looked up in the command's environment
        environ = env;
        execvp(argv[0], argv);
        int err = errno;
        (void) !write(pipes[3][1], &err, sizeof err);
        _exit(127);
    }
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
    p->fds[FD_ERRPIPE] = pipes[3][0];
    if (pid < 0) {
        s_proc_free(x, p);
        s_fail_now(self, run, "fork", fork_errno);
        return;
    }
    setpgid(pid, pid);      //  also from here: no race with the child
    p->pid = pid;
    p->run = run;
    p->fds[FD_EXIT] = (int) syscall(SYS_pidfd_open, pid, 0);
    size_t tail = t->has_tail_bytes ? t->tail_bytes : d && d->has_tail_bytes ? d->tail_bytes : DEFAULT_TAIL;
    p->out.cap = p->err.cap = tail;
    const ProtobufCBinaryData *in = t->has_stdin ? &t->stdin : d && d->has_stdin ? &d->stdin : NULL;
    p->stdin_data = in ? in->data : NULL;
    p->stdin_len = in ? in->len : 0;
    for (int k = 0; k < FD_COUNT; k++)
        if (p->fds[k] >= 0)
            fcntl(p->fds[k], F_SETFL, fcntl(p->fds[k], F_GETFL) | O_NONBLOCK);
    if (p->stdin_len == 0)
        s_close(x, p, FD_STDIN);
    else
        s_watch(x, p, FD_STDIN, EPOLLOUT);
    s_watch(x, p, FD_STDOUT, EPOLLIN);
    s_watch(x, p, FD_STDERR, EPOLLIN);
    s_watch(x, p, FD_ERRPIPE, EPOLLIN);
    if (p->fds[FD_EXIT] < 0 || s_watch(x, p, FD_EXIT, EPOLLIN) != 0) {
        //  no pidfd: this kernel is too old for the worker's exec support
        kill(-pid, SIGKILL);
        waitpid(pid, NULL, 0);
        s_proc_free(x, p);
        s_fail_now(self, run, "pidfd_open", errno);
        return;
    }
    x->procs++;
    run->state = p;
    log_debug("exec_started", "task=%llx pid=%d argv0=%s", (unsigned long long) run->task_id, (int) pid,
              t->argv[0]);
}

//  Read what is there; false at end of file.
static bool
s_drain(exec_t *x, proc_t *p, fd_kind_t kind)
{
    uint8_t buf[65536];
    while (p->fds[kind] >= 0) {
        ssize_t n = read(p->fds[kind], buf, sizeof buf);
        if (n > 0) {
            if (kind == FD_STDOUT)
                s_tail_add(&p->out, buf, (size_t) n);
            else
            if (kind == FD_STDERR)
                s_tail_add(&p->err, buf, (size_t) n);
            else
            if (kind == FD_ERRPIPE && (size_t) n >= sizeof(int))
                memcpy(&p->exec_errno, buf, sizeof(int));
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return true;
        s_close(x, p, kind);
        return false;
    }
    return false;
}

static void
s_finish(exec_t *x, proc_t *p)
{
    run_t *run = p->run;
    //  what is still in the pipes belongs to the result
    s_drain(x, p, FD_STDOUT);
    s_drain(x, p, FD_STDERR);
    s_drain(x, p, FD_ERRPIPE);
    Shoal__Result r = SHOAL__RESULT__INIT;
    Shoal__ExecResult er = SHOAL__EXEC_RESULT__INIT;
    r.has_outcome = 1;
    r.exec = &er;
    uint8_t *out = s_tail_flat(&p->out), *err = s_tail_flat(&p->err);
    er.has_stdout_tail = er.has_stderr_tail = 1;
    er.stdout_tail.data = out;
    er.stdout_tail.len = out ? p->out.len : 0;
    er.stderr_tail.data = err;
    er.stderr_tail.len = err ? p->err.len : 0;
    char error[512] = "";
    if (p->exec_errno) {
        r.outcome = SHOAL__OUTCOME__OUTCOME_ERROR;
        r.has_permanent = r.permanent = 1;
        snprintf(error, sizeof error, "cannot run %s: %s", run->spec->exec->argv[0], strerror(p->exec_errno));
    }
    else
    if (WIFEXITED(p->status)) {
        er.has_exit_code = 1;
        er.exit_code = WEXITSTATUS(p->status);
        r.outcome = er.exit_code == 0 ? SHOAL__OUTCOME__OUTCOME_OK : SHOAL__OUTCOME__OUTCOME_ERROR;
        if (er.exit_code)
            snprintf(error, sizeof error, "exit status %d", er.exit_code);
    }
    else
    if (WIFSIGNALED(p->status)) {
        er.has_signal = 1;
        er.signal = WTERMSIG(p->status);
        r.outcome = SHOAL__OUTCOME__OUTCOME_ERROR;
        snprintf(error, sizeof error, "killed by signal %d (%s)", er.signal, strsignal(er.signal));
    }
    r.error = error[0] ? error : NULL;
    //  what it left running in its process group goes with it
    kill(-p->pid, SIGKILL);
    run->state = NULL;
    x->procs--;
    s_proc_free(x, p);
    executor_finish(&x->base, run, &r);
    free(out);
    free(err);
}

static void
s_cancel(executor_t *self, run_t *run)
{
    exec_t *x = (exec_t *) self;
    proc_t *p = run->state;
    run->state = NULL;
    if (!p)
        return;
    //  the whole process group (SIGKILL cannot be ignored); reaped later
    kill(-p->pid, SIGKILL);
    if (waitpid(p->pid, NULL, WNOHANG) == 0) {
        if (x->n_reap == x->alloc_reap) {
            size_t alloc = x->alloc_reap ? x->alloc_reap * 2 : 16;
            pid_t *grown = realloc(x->reap, alloc * sizeof *grown);
            if (grown) {
                x->reap = grown;
                x->alloc_reap = alloc;
            }
        }
        if (x->n_reap < x->alloc_reap)
            x->reap[x->n_reap++] = p->pid;
    }
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

//  Feed stdin, collect output, finish the commands that exited.
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
            if (pass == 0 && s->kind == FD_STDIN && p->fds[FD_STDIN] >= 0) {
                ssize_t w = write(p->fds[FD_STDIN], p->stdin_data + p->stdin_off, p->stdin_len - p->stdin_off);
                if (w > 0)
                    p->stdin_off += (size_t) w;
                if ((w < 0 && errno != EAGAIN && errno != EINTR) || p->stdin_off >= p->stdin_len)
                    s_close(x, p, FD_STDIN);    //  EOF for the command (or it stopped reading)
            }
            else
            if (pass == 0 && (s->kind == FD_STDOUT || s->kind == FD_STDERR || s->kind == FD_ERRPIPE))
                s_drain(x, p, s->kind);
            else
            if (pass == 1 && s->kind == FD_EXIT && !p->exited) {
                if (waitpid(p->pid, &p->status, WNOHANG) == p->pid) {
                    p->exited = true;
                    //  the slot is freed with the process: forget it in the
                    //  rest of this batch
                    for (int j = i + 1; j < ready; j++) {
                        slot_t *o = events[j].data.ptr;
                        if (o && o->proc == p)
                            events[j].data.ptr = NULL;
                    }
                    s_finish(x, p);
                }
            }
        }
}

static void
s_destroy(executor_t *self)
{
    exec_t *x = (exec_t *) self;
    s_reap(x);
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
exec_executor_new(const executor_host_t *host)
{
    exec_t *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->base = (executor_t) { &s_ops, host };
    x->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (x->epfd < 0) {
        free(x);
        return NULL;
    }
    return &x->base;
}
