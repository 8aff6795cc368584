/*  guard — the process that cleans up the worker's handler process groups
    when the worker dies (see guard.h).

    The worker writes fixed-size records ('+' or '-', then a pid) on a pipe.
    The guard keeps the live groups in a table allocated before the fork
    and, in the child, calls only read(), kill() and _exit(), which are
    safe after fork() in a threaded process. A full table never blocks the
    worker: the guard then forgets the oldest entry. */
#include "guard.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define GUARD_MAX_GROUPS 8192

typedef struct {
    char  op;       //  '+' add, '-' remove, 'q' quit without killing
    pid_t pgid;
} record_t;

struct _guard_t {
    pid_t pid;      //  the guard process
    int   fd;       //  write end of its pipe
};

//  The guard's life: follow the records; at end of file kill what is left.
static void __attribute__((noreturn))
s_guard_main(int fd, pid_t *groups)
{
    size_t n = 0;
    record_t rec;
    for (;;) {
        ssize_t got = read(fd, &rec, sizeof rec);
        if (got < 0 && errno == EINTR)
            continue;
        if (got != (ssize_t) sizeof rec)
            break;      //  the worker is gone (or wrote garbage: same thing)
        if (rec.op == 'q')
            _exit(0);
        if (rec.op == '+') {
            if (n == GUARD_MAX_GROUPS) {
                memmove(groups, groups + 1, (n - 1) * sizeof *groups);
                n--;
            }
            groups[n++] = rec.pgid;
        }
        else
        if (rec.op == '-')
            for (size_t i = 0; i < n; i++)
                if (groups[i] == rec.pgid) {
                    groups[i] = groups[--n];
                    break;
                }
    }
    for (size_t i = 0; i < n; i++)
        if (groups[i] > 1)
            kill(-groups[i], SIGKILL);
    _exit(0);
}

guard_t *
guard_new(void)
{
    guard_t *self = calloc(1, sizeof *self);
    pid_t *groups = malloc(GUARD_MAX_GROUPS * sizeof *groups);
    int fds[2];
    if (!self || !groups || pipe2(fds, O_CLOEXEC) != 0) {
        free(self);
        free(groups);
        return NULL;
    }
    pid_t pid = fork();
    if (pid == 0) {
        //  signals meant for the worker's terminal or group are not for us:
        //  the guard ends when the worker does
        signal(SIGINT, SIG_IGN);
        signal(SIGTERM, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        signal(SIGQUIT, SIG_IGN);
        signal(SIGPIPE, SIG_IGN);
        close(fds[1]);
        if (fds[0] != 3) {
            dup2(fds[0], 3);
            close(fds[0]);
        }
        syscall(SYS_close_range, 4, ~0U, 0);
        s_guard_main(3, groups);
    }
    int err = errno;
    close(fds[0]);
    free(groups);
    if (pid < 0) {
        close(fds[1]);
        free(self);
        errno = err;
        return NULL;
    }
    self->pid = pid;
    self->fd = fds[1];
    return self;
}

static void
s_send(guard_t *self, char op, pid_t pgid)
{
    record_t rec = { .op = op, .pgid = pgid };
    //  records are smaller than PIPE_BUF: written whole or not at all
    ssize_t rc;
    do
        rc = write(self->fd, &rec, sizeof rec);
    while (rc < 0 && errno == EINTR);
}

void
guard_destroy(guard_t **self_p)
{
    guard_t *self = *self_p;
    if (!self)
        return;
    s_send(self, 'q', 0);
    close(self->fd);
    //  it exits at once on 'q' or end of file
    waitpid(self->pid, NULL, 0);
    free(self);
    *self_p = NULL;
}

pid_t
guard_pid(const guard_t *self)
{
    return self->pid;
}

void
guard_add(guard_t *self, pid_t pgid)
{
    if (self)
        s_send(self, '+', pgid);
}

void
guard_remove(guard_t *self, pid_t pgid)
{
    if (self)
        s_send(self, '-', pgid);
}
