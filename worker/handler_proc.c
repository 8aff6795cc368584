/*  handler_proc — one handler process and its pipes (see handler_proc.h).

    Lines are assembled in a buffer that never grows past the limit: a
    process that writes a 100 MiB line costs max_line bytes, then its
    stdout is closed and the process recycled. */
#include "handler_proc.h"

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

#define READ_CHUNK   65536
#define READS_PER_IO 32         //  2 MiB per process per loop turn at most
#define RSS_MAX_PROCS 64

extern char **environ;

//  The worker's environment without SHOAL_* (keys, endpoints stay out).
static char **
s_environment(void)
{
    size_t n = 0;
    for (char **e = environ; *e; e++)
        n++;
    char **env = calloc(n + 1, sizeof *env);
    if (!env)
        return NULL;
    size_t o = 0;
    for (char **e = environ; *e; e++)
        if (strncmp(*e, "SHOAL_", 6) != 0)
            env[o++] = *e;
    return env;
}

static int
s_watch(hproc_t *p, int epfd, hfd_t kind, uint32_t events)
{
    p->slot[kind].proc = p;
    p->slot[kind].kind = kind;
    struct epoll_event ev = { .events = events, .data.ptr = &p->slot[kind] };
    return epoll_ctl(epfd, EPOLL_CTL_ADD, p->fd[kind], &ev);
}

static void
s_close(hproc_t *p, int epfd, hfd_t kind)
{
    if (p->fd[kind] < 0)
        return;
    epoll_ctl(epfd, EPOLL_CTL_DEL, p->fd[kind], NULL);
    close(p->fd[kind]);
    p->fd[kind] = -1;
    if (kind == HFD_IN)
        p->want_out = false;
}

hproc_t *
hproc_spawn(const char *command, int epfd, guard_t *guard, char *err, size_t errlen)
{
    hproc_t *p = calloc(1, sizeof *p);
    char **env = s_environment();
    int pipes[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } };
    if (!p || !env) {
        free(p);
        free(env);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (int k = 0; k < HFD_COUNT; k++)
        p->fd[k] = -1;
    for (int i = 0; i < 3; i++)
        if (pipe2(pipes[i], O_CLOEXEC) != 0) {
            snprintf(err, errlen, "creating pipes: %s", strerror(errno));
            for (int j = 0; j < 3; j++) {
                if (pipes[j][0] >= 0) close(pipes[j][0]);
                if (pipes[j][1] >= 0) close(pipes[j][1]);
            }
            free(p);
            free(env);
            return NULL;
        }
    pid_t pid = fork();
    if (pid == 0) {
        //  its own process group: a kill reaches everything it starts
        setpgid(0, 0);
        //  the worker dies, so does it (the guard takes care of the rest)
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(pipes[0][0], 0);
        dup2(pipes[1][1], 1);
        dup2(pipes[2][1], 2);
        syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
        //  what the worker ignores, the handler should not
        int sigs[] = { SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT };
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
            signal(sigs[i], SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        char *argv[] = { "sh", "-c", (char *) command, NULL };
        execve("/bin/sh", argv, env);
        _exit(127);
    }
    int fork_errno = errno;
    free(env);
    close(pipes[0][0]);
    close(pipes[1][1]);
    close(pipes[2][1]);
    p->fd[HFD_IN] = pipes[0][1];
    p->fd[HFD_OUT] = pipes[1][0];
    p->fd[HFD_ERR] = pipes[2][0];
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(fork_errno));
        hproc_free(p, epfd, NULL);
        return NULL;
    }
    setpgid(pid, pid);      //  also here: no race with the child
    p->pid = pid;
    guard_add(guard, pid);
    p->fd[HFD_PID] = (int) syscall(SYS_pidfd_open, pid, 0);
    for (int k = 0; k < HFD_COUNT; k++)
        if (p->fd[k] >= 0)
            fcntl(p->fd[k], F_SETFL, fcntl(p->fd[k], F_GETFL) | O_NONBLOCK);
    if (p->fd[HFD_PID] < 0 || s_watch(p, epfd, HFD_OUT, EPOLLIN) || s_watch(p, epfd, HFD_ERR, EPOLLIN)
    ||  s_watch(p, epfd, HFD_PID, EPOLLIN)) {
        snprintf(err, errlen, "watching the process: %s", strerror(errno));
        kill(-pid, SIGKILL);
        waitpid(pid, NULL, 0);      //  SIGKILLed child of ours: returns at once
        p->exited = true;
        hproc_free(p, epfd, guard);
        return NULL;
    }
    return p;
}

void
hproc_free(hproc_t *p, int epfd, guard_t *guard)
{
    if (!p)
        return;
    for (int k = 0; k < HFD_COUNT; k++)
        s_close(p, epfd, (hfd_t) k);
    if (p->pid > 0) {
        if (!p->exited) {
            kill(-p->pid, SIGKILL);
            waitpid(p->pid, NULL, WNOHANG);
        }
        guard_remove(guard, p->pid);
    }
    if (p->task) {
        free(p->task->id);
        free(p->task->line);
        free(p->task);
    }
    free(p->out.data);
    free(p->err.data);
    free(p);
}

void
hproc_write(hproc_t *p, int epfd)
{
    htask_t *t = p->task;
    if (!t || p->fd[HFD_IN] < 0)
        return;
    while (p->woff < t->len) {
        ssize_t n = write(p->fd[HFD_IN], t->line + p->woff, t->len - p->woff);
        if (n > 0) {
            p->woff += (size_t) n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            if (!p->want_out && s_watch(p, epfd, HFD_IN, EPOLLOUT) == 0)
                p->want_out = true;
            return;
        }
        //  it stopped reading (EPIPE: it is exiting; the pidfd says when)
        s_close(p, epfd, HFD_IN);
        return;
    }
    if (p->want_out) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, p->fd[HFD_IN], NULL);
        p->want_out = false;
    }
}

//  Append to a line buffer up to max bytes; false when it would not fit.
static bool
s_append(hline_t *l, const char *data, size_t n, size_t max)
{
    if (l->len + n > max)
        return false;
    if (l->len + n > l->alloc) {
        size_t alloc = l->alloc ? l->alloc : 4096;
        while (alloc < l->len + n)
            alloc *= 2;
        if (alloc > max)
            alloc = max;
        char *grown = realloc(l->data, alloc);
        if (!grown)
            return false;
        l->data = grown;
        l->alloc = alloc;
    }
    memcpy(l->data + l->len, data, n);
    l->len += n;
    return true;
}

//  Split a chunk of stdout into lines.
static void
s_feed_out(hproc_t *p, int epfd, const char *buf, size_t n, const hproc_ops_t *ops)
{
    while (n > 0 && p->fd[HFD_OUT] >= 0) {
        const char *nl = memchr(buf, '\n', n);
        size_t piece = nl ? (size_t) (nl - buf) : n;
        if (nl && p->out.len == 0) {
            if (piece > p->max_line)
                goto overflow;
            ops->on_line(p, buf, piece);
        }
        else {
            if (!s_append(&p->out, buf, piece, p->max_line))
                goto overflow;
            if (nl) {
                size_t len = p->out.len;
                p->out.len = 0;
                ops->on_line(p, p->out.data, len);
            }
        }
        if (!nl)
            return;
        buf += piece + 1;
        n -= piece + 1;
    }
    return;
overflow:
    free(p->out.data);
    p->out.data = NULL;
    p->out.len = p->out.alloc = 0;
    s_close(p, epfd, HFD_OUT);
    ops->on_overflow(p);
}

//  Split a chunk of stderr into log lines, cutting long ones.
static void
s_feed_err(hproc_t *p, const char *buf, size_t n, const hproc_ops_t *ops)
{
    while (n > 0) {
        const char *nl = memchr(buf, '\n', n);
        size_t piece = nl ? (size_t) (nl - buf) : n;
        if (!p->err.skipping) {
            size_t room = HPROC_MAX_ERR_LINE - p->err.len;
            size_t take = piece < room ? piece : room;
            s_append(&p->err, buf, take, HPROC_MAX_ERR_LINE);
            if (take < piece || (!nl && p->err.len == HPROC_MAX_ERR_LINE)) {
                ops->on_err_line(p, p->err.data, p->err.len, true);
                p->err.len = 0;
                p->err.skipping = true;
            }
            else
            if (nl) {
                ops->on_err_line(p, p->err.data ? p->err.data : "", p->err.len, false);
                p->err.len = 0;
            }
        }
        if (!nl)
            return;
        p->err.skipping = false;
        buf += piece + 1;
        n -= piece + 1;
    }
}

void
hproc_io(hproc_t *p, hfd_t kind, int epfd, const hproc_ops_t *ops)
{
    if (kind == HFD_IN) {
        hproc_write(p, epfd);
        return;
    }
    char buf[READ_CHUNK];
    for (int i = 0; i < READS_PER_IO && p->fd[kind] >= 0; i++) {
        ssize_t n = read(p->fd[kind], buf, sizeof buf);
        if (n > 0) {
            if (kind == HFD_OUT)
                s_feed_out(p, epfd, buf, (size_t) n, ops);
            else
                s_feed_err(p, buf, (size_t) n, ops);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        //  end of file: a partial last stderr line still goes to the log
        if (kind == HFD_ERR && p->err.len && !p->err.skipping)
            ops->on_err_line(p, p->err.data, p->err.len, false);
        p->err.len = 0;
        s_close(p, epfd, kind);
        return;
    }
}

void
hproc_terminate(hproc_t *p, int epfd)
{
    s_close(p, epfd, HFD_IN);
    if (!p->exited)
        kill(-p->pid, SIGTERM);
}

void
hproc_kill(hproc_t *p)
{
    p->kill_sent = true;
    if (!p->exited)
        kill(-p->pid, SIGKILL);
}

bool
hproc_reap(hproc_t *p)
{
    if (p->exited)
        return true;
    int status;
    if (waitpid(p->pid, &status, WNOHANG) != p->pid)
        return false;
    p->exited = true;
    p->status = status;
    //  what it left running in its group goes with it
    kill(-p->pid, SIGKILL);
    return true;
}

//  Resident pages of one process, and its children's pids appended to todo.
static uint64_t
s_rss_pages(pid_t pid, pid_t *todo, size_t *n, size_t max)
{
    char path[64];
    uint64_t size = 0, resident = 0;
    snprintf(path, sizeof path, "/proc/%d/statm", (int) pid);
    FILE *f = fopen(path, "r");
    if (f) {
        if (fscanf(f, "%lu %lu", &size, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int) pid, (int) pid);
    f = fopen(path, "r");
    if (f) {
        int child;
        while (*n < max && fscanf(f, "%d", &child) == 1)
            todo[(*n)++] = child;
        fclose(f);
    }
    return resident;
}

uint64_t
hproc_rss(const hproc_t *p)
{
    pid_t todo[RSS_MAX_PROCS];
    size_t n = 0, done = 0;
    todo[n++] = p->pid;
    uint64_t pages = 0;
    while (done < n)
        pages += s_rss_pages(todo[done++], todo, &n, RSS_MAX_PROCS);
    return pages * (uint64_t) sysconf(_SC_PAGESIZE);
}

void
hproc_describe_status(int status, char *buf, size_t size)
{
    if (WIFEXITED(status))
        snprintf(buf, size, "exit status %d", WEXITSTATUS(status));
    else
    if (WIFSIGNALED(status))
        snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(buf, size, "status %d", status);
}
