/*  contain — see contain.h. The worker side finds a writable cgroup v2
    hierarchy and makes a cgroup per task; the shim side runs in the
    forked child and uses raw system calls only (no malloc, no stdio: the
    worker has threads, and a forked child of a threaded process may only
    make async-signal-safe calls). */
#include "contain.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

struct _contain_t {
    char *dir;                  //  the worker's cgroup for its tasks, NULL = reaper mode
};

// ------------------------------------------------------------------ the worker's side

//  The cgroup v2 directory this process is in, into buf; -1 when there is none.
static int
s_own_cgroup(char *buf, size_t size)
{
    char mount[512] = "", root[512] = "", line[1024];
    buf[0] = 0;
    FILE *f = fopen("/proc/self/mountinfo", "re");
    while (f && fgets(line, sizeof line, f)) {
        char r[512], m[512];
        const char *dash = strstr(line, " - cgroup2 ");
        if (dash && sscanf(line, "%*s %*s %*s %511s %511s", r, m) == 2) {
            snprintf(root, sizeof root, "%s", r);
            snprintf(mount, sizeof mount, "%s", m);
            break;
        }
    }
    if (f)
        fclose(f);
    char path[1024] = "";
    f = fopen("/proc/self/cgroup", "re");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "0::", 3) == 0) {
            snprintf(path, sizeof path, "%s", line + 3);
            path[strcspn(path, "\n")] = 0;
        }
    if (f)
        fclose(f);
    if (!*mount || !*path)
        return -1;
    //  the mount may show a subtree: the path is relative to its root
    const char *rel = path;
    size_t root_len = strlen(root);
    if (strcmp(root, "/") != 0 && strncmp(path, root, root_len) == 0)
        rel = path + root_len;
    int n = snprintf(buf, size, "%s%s", mount, strcmp(rel, "/") == 0 ? "" : rel);
    return n > 0 && (size_t) n < size ? 0 : -1;
}

contain_t *
contain_new(const char *mode, char *err, size_t errlen)
{
    bool want_cgroup = !strcmp(mode, "cgroup"), auto_mode = !strcmp(mode, "auto");
    if (!want_cgroup && !auto_mode && strcmp(mode, "reaper") != 0) {
        snprintf(err, errlen, "--exec-containment must be auto, cgroup or reaper (got '%s')", mode);
        return NULL;
    }
    contain_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    char base[1600], dir[1700];
    if ((want_cgroup || auto_mode) && s_own_cgroup(base, sizeof base) == 0) {
        snprintf(dir, sizeof dir, "%s/shoal-exec-%d", base, (int) getpid());
        if (mkdir(dir, 0755) == 0 || errno == EEXIST)
            self->dir = strdup(dir);
        else
        if (want_cgroup)
            snprintf(err, errlen, "cannot make a cgroup for exec tasks (%s: %s)", dir, strerror(errno));
    }
    else
    if (want_cgroup)
        snprintf(err, errlen, "no cgroup v2 hierarchy for this process (see /proc/self/cgroup)");
    if (want_cgroup && !self->dir) {
        free(self);
        return NULL;
    }
    log_info("exec_containment", "mode=%s%s%s", contain_mode(self), self->dir ? " cgroup=" : "",
             self->dir ? self->dir : "");
    return self;
}

void
contain_destroy(contain_t **self_p)
{
    contain_t *self = *self_p;
    if (!self)
        return;
    if (self->dir)
        rmdir(self->dir);
    free(self->dir);
    free(self);
    *self_p = NULL;
}

const char *
contain_mode(const contain_t *self)
{
    return self->dir ? "cgroup" : "reaper";
}

//  Open one file of a task's cgroup for writing, -1 on failure.
static int
s_open_in(const char *dir, const char *name, const char *file)
{
    char path[1800];
    snprintf(path, sizeof path, "%s/%s/%s", dir, name, file);
    return open(path, O_WRONLY | O_CLOEXEC);
}

void
contain_task_new(contain_t *self, uint64_t id, contain_task_t *task)
{
    *task = (contain_task_t) { -1, -1, "" };
    if (!self->dir)
        return;
    char path[1800];
    snprintf(task->name, sizeof task->name, "t%llu", (unsigned long long) id);
    snprintf(path, sizeof path, "%s/%s", self->dir, task->name);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        log_warn("cgroup_failed", "path=%s error=\"%s\" detail=\"this task is contained by the reaper only\"",
                 path, strerror(errno));
        task->name[0] = 0;
        return;
    }
    task->procs_fd = s_open_in(self->dir, task->name, "cgroup.procs");
    task->kill_fd = s_open_in(self->dir, task->name, "cgroup.kill");
    if (task->procs_fd < 0 || task->kill_fd < 0) {
        contain_task_close(task);
        rmdir(path);
        task->name[0] = 0;
    }
}

void
contain_task_close(contain_task_t *task)
{
    if (task->procs_fd >= 0)
        close(task->procs_fd);
    if (task->kill_fd >= 0)
        close(task->kill_fd);
    task->procs_fd = task->kill_fd = -1;
}

bool
contain_task_remove(contain_t *self, contain_task_t *task)
{
    contain_task_close(task);
    if (!self->dir || !task->name[0])
        return true;
    char path[1800];
    snprintf(path, sizeof path, "%s/%s", self->dir, task->name);
    if (rmdir(path) != 0 && errno == EBUSY)
        return false;
    task->name[0] = 0;
    return true;
}

// ------------------------------------------------------------------ the shim (async-signal-safe only)

static volatile pid_t s_command = 0;

//  Cancelled (the task timed out, was cancelled, the worker stops): the
//  command's process group goes; the sweep does the rest.
static void
s_on_term(int sig)
{
    if (s_command > 0)
        kill(-s_command, SIGKILL);
}

static void
s_record(int fd, int32_t kind, int32_t value)
{
    contain_record_t r = { kind, value };
    (void) !write(fd, &r, sizeof r);
}

//  The parent pid in /proc/PID/stat ("pid (comm) state ppid ..."; comm
//  may hold spaces and parentheses: the last ')' ends it). -1 if unreadable.
static pid_t
s_ppid_of(const char *pid)
{
    char path[64] = "/proc/", buf[512];
    size_t n = 6;
    for (size_t i = 0; pid[i] && n < sizeof path - 6; i++)
        path[n++] = pid[i];
    memcpy(path + n, "/stat", 6);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t len = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (len <= 0)
        return -1;
    buf[len] = 0;
    char *p = NULL;
    for (char *q = buf; *q; q++)
        if (*q == ')')
            p = q;
    if (!p || p[1] != ' ' || !p[2] || p[3] != ' ')
        return -1;
    pid_t v = 0;
    for (p += 4; *p >= '0' && *p <= '9'; p++)
        v = v * 10 + (*p - '0');
    return v;
}

//  SIGKILL every live child of this process (and its process group, so a
//  daemon's own children go at once). Returns how many.
static int
s_kill_children(pid_t me)
{
    int killed = 0;
    int dir = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0)
        return 0;
    char buf[4096];
    long n;
    while ((n = syscall(SYS_getdents64, dir, buf, sizeof buf)) > 0)
        for (long off = 0; off < n; ) {
            struct dirent64 *d = (struct dirent64 *) (buf + off);
            off += d->d_reclen;
            if (d->d_name[0] < '1' || d->d_name[0] > '9' || s_ppid_of(d->d_name) != me)
                continue;
            pid_t pid = 0;
            for (const char *c = d->d_name; *c >= '0' && *c <= '9'; c++)
                pid = pid * 10 + (*c - '0');
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            killed++;
        }
    close(dir);
    return killed;
}

//  Kill and reap every descendant left; returns when there is none.
static void
s_sweep(const contain_task_t *task)
{
    if (task->kill_fd >= 0)
        (void) !write(task->kill_fd, "1", 1);
    pid_t me = getpid();
    struct timespec nap = { 0, 5 * 1000 * 1000 };
    while (true) {
        s_kill_children(me);
        pid_t r;
        while ((r = waitpid(-1, NULL, WNOHANG)) > 0)
            ;
        if (r < 0 && errno == ECHILD)
            return;
        nanosleep(&nap, NULL);
    }
}

_Noreturn void
contain_shim(const contain_task_t *task, int status_fd, char *const argv[], char **env, const char *cwd)
{
    extern char **environ;
    setpgid(0, 0);
    //  if the worker dies, the shim goes, and its command with it (their
    //  tasks will run again elsewhere)
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (task->procs_fd >= 0)
        (void) !write(task->procs_fd, "0", 1);      //  into the task's cgroup
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    signal(SIGPIPE, SIG_DFL);
    if (cwd && chdir(cwd) != 0) {
        s_record(status_fd, CONTAIN_EXEC_ERRNO, errno);
        _exit(127);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_term;
    sigaction(SIGTERM, &sa, NULL);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGTERM, SIG_DFL);
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        environ = env;          //  PATH is looked up in the command's environment
        execvp(argv[0], argv);
        s_record(status_fd, CONTAIN_EXEC_ERRNO, errno);
        _exit(127);
    }
    if (pid < 0) {
        s_record(status_fd, CONTAIN_EXEC_ERRNO, errno);
        _exit(127);
    }
    s_command = pid;
    s_record(status_fd, CONTAIN_PID, pid);
    //  the command's stdio is its own: the shim keeps no pipe end open
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    for (int fd = 0; fd < 3; fd++)
        dup2(null, fd);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    s_record(status_fd, CONTAIN_STATUS, status);
    s_sweep(task);
    _exit(0);
}
