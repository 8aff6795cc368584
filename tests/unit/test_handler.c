/*  test_handler — handler pools (worker/handler*.c) with small shell and
    Python handlers: the protocol, recycling, crashes, broken commands,
    protocol abuse with bounded memory, cancel and SIGKILL escalation,
    stderr in the log, stopping, and the guard after a kill -9. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "clock.h"
#include "guard.h"
#include "handler.h"
#include "handler_proto.h"
#include "log.h"

//  Answers {"id":..,"ok":true,"output":{"pid":$$,"n":N}}; exits on "die", says ready first.
#define SH_ECHO \
    "echo '{\"ready\": true}'; n=0; while IFS= read -r line; do n=$((n+1)); " \
    "id=${line#*\\\"id\\\":\\\"}; id=${id%%\\\"*}; " \
    "case \"$line\" in *die*) exit 3;; *fail*) echo \"{\\\"id\\\":\\\"$id\\\",\\\"ok\\\":false,\\\"error\\\":\\\"no\\\",\\\"retry\\\":false}\"; continue;; esac; " \
    "echo \"{\\\"id\\\":\\\"$id\\\",\\\"ok\\\":true,\\\"output\\\":{\\\"pid\\\":$$,\\\"n\\\":$n}}\"; done"

typedef struct {
    int      done;
    int      ok, failed, crashed, refused;
    pid_t    pid[4096];         //  by ref
    int      n[4096];           //  the process's counter, by ref
    char     error[512];
    char     output[512];
    bool     retry;
} sink_t;

static void
s_on_done(void *arg, uint64_t ref, const handler_outcome_t *o)
{
    sink_t *s = arg;
    s->done++;
    if (ref < 4096)
        s->pid[ref] = o->pid;
    if (o->ok) {
        s->ok++;
        snprintf(s->output, sizeof s->output, "%s", o->output ? o->output : "");
        const char *n = o->output ? strstr(o->output, "\"n\":") : NULL;
        if (n && ref < 4096)
            s->n[ref] = atoi(n + 4);
    }
    else {
        s->failed++;
        s->crashed += o->crashed;
        s->refused += o->refused;
        s->retry = o->retry;
        snprintf(s->error, sizeof s->error, "%s", o->error ? o->error : "");
    }
}

//  Drive the pool like the worker's loop until `want` tasks are done or
//  timeout_ms passes (want < 0: just run that long).
static void
s_pump(handler_t *h, sink_t *s, int want, int64_t timeout_ms)
{
    int64_t until = clock_mono_ms() + timeout_ms;
    while ((want < 0 || s->done < want) && clock_mono_ms() < until) {
        int64_t now = clock_mono_ms();
        int64_t wake = handler_next_wake_ms(h);
        int64_t t = (wake < until ? wake : until) - now;
        if (t < 0)
            t = 0;
        if (t > 100)
            t = 100;
        struct pollfd pfd = { .fd = handler_fd(h), .events = POLLIN };
        if (poll(&pfd, 1, (int) t) > 0)
            handler_after_poll(h);
        handler_timers(h, clock_mono_ms());
    }
}

static handler_t *
s_new(const char *spec, sink_t *s)
{
    handler_config_t cfg;
    char err[256];
    if (handler_config_parse(spec, &cfg, err, sizeof err)) {
        fprintf(stderr, "bad spec %s: %s\n", spec, err);
        return NULL;
    }
    memset(s, 0, sizeof *s);
    handler_t *h = handler_new(&cfg, NULL, s_on_done, s, err, sizeof err);
    handler_config_free(&cfg);
    return h;
}

static void
s_submit(handler_t *h, uint64_t ref, const char *payload)
{
    char id[32], err[256];
    snprintf(id, sizeof id, "t%llu", (unsigned long long) ref);
    int rc = handler_submit(h, ref, id, 1, 0, payload, NULL, err, sizeof err);
    CHECK(rc == 0);
}

static bool
s_alive(pid_t pid)
{
    return kill(pid, 0) == 0;
}

static void
test_config(void)
{
    handler_config_t c;
    char err[256];
    CHECK(handler_config_parse("ocr=python3 ocr.py --fast", &c, err, sizeof err) == 0);
    CHECK_STR(c.name, "ocr");
    CHECK_STR(c.command, "python3 ocr.py --fast");
    CHECK(c.procs == 0 && c.max_tasks == 0 && !c.warm && !c.ready && c.startup_timeout_ms == 30000);
    handler_config_free(&c);
    CHECK(handler_config_parse("b.x-1[procs=4,max_tasks=50,max_age=30m,max_rss=500M,startup_timeout=2s,warm,"
                               "ready=1,kill_grace=250ms,max_line=64K]=a=b c", &c, err, sizeof err) == 0);
    CHECK(c.procs == 4 && c.max_tasks == 50 && c.max_age_ms == 1800000 && c.max_rss == 500ull << 20);
    CHECK(c.startup_timeout_ms == 2000 && c.warm && c.ready && c.kill_grace_ms == 250 && c.max_line == 65536);
    CHECK_STR(c.command, "a=b c");
    handler_config_free(&c);
    CHECK(handler_config_parse("x[procs=0]=cmd", &c, err, sizeof err) < 0);
    CHECK_CONTAINS(err, "procs must be 1..1024");
    CHECK(handler_config_parse("x[speed=3]=cmd", &c, err, sizeof err) < 0);
    CHECK_CONTAINS(err, "unknown option \"speed\"");
    CHECK(handler_config_parse("x[max_age=soon]=cmd", &c, err, sizeof err) < 0);
    CHECK_CONTAINS(err, "max_age must be a duration");
    CHECK(handler_config_parse("x[warm=maybe]=cmd", &c, err, sizeof err) < 0);
    CHECK(handler_config_parse("x[procs=2=cmd", &c, err, sizeof err) < 0);
    CHECK_CONTAINS(err, "closing \"]=\"");
    CHECK(handler_config_parse("x=   ", &c, err, sizeof err) < 0);
    CHECK_CONTAINS(err, "command is empty");
    CHECK(handler_config_parse("=cmd", &c, err, sizeof err) < 0);
    CHECK(handler_config_parse("a b=cmd", &c, err, sizeof err) < 0);
}

static void
test_proto(void)
{
    char err[256];
    size_t len;
    char *line = handler_proto_task_line("3/7", 2, 1700000000123, "{\n \"url\": \"x\"\n}", "{\"k\":1}", &len, err,
                                         sizeof err);
    CHECK_STR(line, "{\"id\":\"3/7\",\"attempt\":2,\"deadline_ms\":1700000000123,\"payload\":{\"url\":\"x\"},"
                    "\"vars\":{\"k\":1}}\n");
    CHECK(line && len == strlen(line));
    free(line);
    CHECK(handler_proto_task_line("1", 1, 0, "{bad", NULL, &len, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "handler.payload");
    hanswer_t a;
#define PARSE(text) handler_proto_parse(text, strlen(text), &a)
    PARSE("{\"ready\": true}");
    CHECK(a.kind == HANSWER_READY);
    handler_proto_clear(&a);
    PARSE("{\"id\":\"1\",\"ok\":true,\"output\":{\"a\": [1, 2]},\"vars\":{\"v\":\"x\"}}");
    CHECK(a.kind == HANSWER_OK);
    CHECK_STR(a.id, "1");
    CHECK_STR(a.output, "{\"a\":[1,2]}");
    CHECK_STR(a.vars, "{\"v\":\"x\"}");
    handler_proto_clear(&a);
    PARSE("{\"id\":\"1\",\"ok\":true,\"output\":\"plain\"}");
    CHECK(a.kind == HANSWER_OK && a.vars == NULL);
    CHECK_STR(a.output, "\"plain\"");
    handler_proto_clear(&a);
    PARSE("{\"id\":\"2\",\"ok\":false,\"error\":\"quota\",\"retry\":false}");
    CHECK(a.kind == HANSWER_FAIL && !a.retry);
    CHECK_STR(a.error, "quota");
    handler_proto_clear(&a);
    PARSE("{\"id\":\"2\",\"ok\":false}");
    CHECK(a.kind == HANSWER_FAIL && a.retry);
    handler_proto_clear(&a);
    const char *bad[] = { "hello", "[1]", "{\"ok\":true}", "{\"id\":1,\"ok\":true}", "{\"id\":\"1\"}",
                          "{\"id\":\"1\",\"ok\":\"yes\"}", "{\"ready\":false}", "{\"id\":\"1\",\"ok\":true,\"vars\":3}",
                          "{\"id\":\"1\",\"ok\":false,\"retry\":1}", "{\"id\":\"1\",\"id\":\"2\",\"ok\":true}", "" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        PARSE(bad[i]);
        CHECK(a.kind == HANSWER_BAD && a.error && a.error[0]);
        handler_proto_clear(&a);
    }
    //  an output over the limit fails the task for good
    size_t big = HANDLER_MAX_OUTPUT + 100;
    char *text = malloc(big + 64);
    int n = sprintf(text, "{\"id\":\"9\",\"ok\":true,\"output\":\"");
    memset(text + n, 'x', big);
    strcpy(text + n + big, "\"}");
    PARSE(text);
    CHECK(a.kind == HANSWER_FAIL && a.too_big && !a.retry && !a.output);
    handler_proto_clear(&a);
    free(text);
#undef PARSE
}

//  2 processes serve 40 tasks; each answer names the process that gave it.
static void
test_echo(void)
{
    sink_t *s = calloc(1, sizeof *s);
    handler_t *h = s_new("echo[procs=2]=" SH_ECHO, s);
    CHECK(h != NULL);
    for (int i = 1; i <= 40; i++)
        s_submit(h, (uint64_t) i, "{\"x\": 1}");
    s_pump(h, s, 40, 10000);
    CHECK(s->ok == 40);
    pid_t pids[8];
    size_t np = handler_pids(h, pids, 8);
    CHECK(np == 2);
    for (int i = 1; i <= 40; i++)
        CHECK(s->pid[i] == pids[0] || s->pid[i] == pids[1]);
    CHECK_CONTAINS(s->output, "\"pid\":");
    handler_stats_t st;
    handler_stats(h, &st);
    CHECK(st.up == 2 && st.busy == 0 && st.queued == 0 && st.served == 40 && !st.broken && st.restarts == 0);
    //  a failure the handler reports is passed on as it is
    s_submit(h, 41, "{\"fail\": 1}");
    s_pump(h, s, 41, 5000);
    CHECK(s->failed == 1 && s->crashed == 0 && !s->retry);
    CHECK_STR(s->error, "no");
    handler_destroy(&h);
    CHECK(h == NULL);
    for (size_t i = 0; i < np; i++)
        CHECK(!s_alive(pids[i]));
    free(s);
}

//  max_tasks 3: every process serves at most 3, and is replaced.
static void
test_max_tasks(void)
{
    sink_t *s = calloc(1, sizeof *s);
    handler_t *h = s_new("echo[procs=2,max_tasks=3]=" SH_ECHO, s);
    for (int i = 1; i <= 30; i++)
        s_submit(h, (uint64_t) i, "{}");
    s_pump(h, s, 30, 15000);
    CHECK(s->ok == 30);
    int distinct = 0;
    for (int i = 1; i <= 30; i++) {
        CHECK(s->n[i] >= 1 && s->n[i] <= 3);
        bool seen = false;
        int count = 0;
        for (int j = 1; j <= 30; j++) {
            seen |= j < i && s->pid[j] == s->pid[i];
            count += s->pid[j] == s->pid[i];
        }
        distinct += !seen;
        CHECK(count <= 3);
    }
    CHECK(distinct >= 10);
    handler_stats_t st;
    handler_stats(h, &st);
    CHECK(st.restarts >= 8);
    handler_destroy(&h);
    free(s);
}

//  A crash mid-task fails that task (counted) and a new process takes the next.
static void
test_crash(void)
{
    sink_t *s = calloc(1, sizeof *s);
    handler_t *h = s_new("echo=" SH_ECHO, s);
    s_submit(h, 1, "{}");
    s_submit(h, 2, "{\"die\": true}");
    s_submit(h, 3, "{}");
    s_pump(h, s, 3, 10000);
    CHECK(s->ok == 2 && s->failed == 1 && s->crashed == 1 && s->retry);
    CHECK_CONTAINS(s->error, "exit status 3 during the task");
    CHECK(s->pid[1] == s->pid[2] && s->pid[3] != s->pid[2]);
    handler_stats_t st;
    handler_stats(h, &st);
    CHECK(!st.broken && st.restarts == 1);
    handler_destroy(&h);
    free(s);
}

//  A command that cannot start: broken after 3 tries, tasks refused (not charged).
static void
test_broken(void)
{
    sink_t *s = calloc(1, sizeof *s);
    handler_t *h = s_new("bad=/nonexistent/handler --serve", s);
    s_submit(h, 1, "{}");
    s_submit(h, 2, "{}");
    s_pump(h, s, 2, 10000);
    CHECK(s->done == 2 && s->refused == 2 && s->crashed == 0);
    CHECK_CONTAINS(s->error, "handler bad is broken on this worker: exited at start-up (exit status 127)");
    handler_stats_t st;
    handler_stats(h, &st);
    CHECK(st.broken);
    //  while broken, a new task is refused at once
    s_submit(h, 3, "{}");
    CHECK(s->done == 3 && s->refused == 3);
    handler_destroy(&h);
    //  ready: a process that never says ready in time is a start-up failure
    h = s_new("mute[ready,startup_timeout=200ms,kill_grace=100ms]=sleep 30", s);
    s_submit(h, 1, "{}");
    s_pump(h, s, 1, 10000);
    CHECK(s->refused == 1);
    CHECK_CONTAINS(s->error, "no {\"ready\": true} in time");
    handler_destroy(&h);
    //  ready: a slow start is waited for, the task is not sent before
    h = s_new("slow[ready]=sleep 0.3; " SH_ECHO, s);
    s_submit(h, 1, "{}");
    s_pump(h, s, 1, 5000);
    CHECK(s->ok == 1);
    handler_destroy(&h);
    free(s);
}

//  Protocol abuse: every kind fails the task (retryable) and recycles the process.
static void
test_protocol_abuse(void)
{
    const char *cases[][2] = {
        { "garbage", "read l; echo 'not json at all'; sleep 30" },
        { "wrong id", "read l; echo '{\"id\":\"other\",\"ok\":true}'; sleep 30" },
        { "with no task", "echo '{\"id\":\"t0\",\"ok\":true}'; read l; sleep 30" },
        { "ready twice", "echo '{\"ready\":true}'; read l; echo '{\"ready\":true}'; sleep 30" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sink_t *s = calloc(1, sizeof *s);
        char spec[512];
        snprintf(spec, sizeof spec, "abuse[kill_grace=200ms]=%s", cases[i][1]);
        handler_t *h = s_new(spec, s);
        s_submit(h, 1, "{}");
        s_pump(h, s, 1, 5000);
        CHECK(s->failed == 1 && s->crashed == 1 && s->retry);
        CHECK_CONTAINS(s->error, "broke the protocol");
        pid_t first = s->pid[1];
        s_pump(h, s, -1, 400);
        if (first)
            CHECK(!s_alive(first));
        handler_destroy(&h);
        free(s);
    }
    //  two answers: the first counts, the second fails the next task
    sink_t *s = calloc(1, sizeof *s);
    handler_t *h = s_new("twice=while read l; do id=${l#*\\\"id\\\":\\\"}; id=${id%%\\\"*}; "
                         "echo \"{\\\"id\\\":\\\"$id\\\",\\\"ok\\\":true}\"; sleep 0.2; "
                         "echo \"{\\\"id\\\":\\\"$id\\\",\\\"ok\\\":true}\"; done", s);
    s_submit(h, 1, "{}");
    s_submit(h, 2, "{}");
    s_pump(h, s, 2, 5000);
    CHECK(s->ok == 1 && s->failed == 1 && s->crashed == 1);
    CHECK_CONTAINS(s->error, "answer for id \"t1\" while running \"t2\"");
    handler_destroy(&h);
    free(s);
}

static long
s_rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &size, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

//  A 100 MiB line costs max_line, not 100 MiB.
static void
test_huge_line(void)
{
    sink_t *s = calloc(1, sizeof *s);
    handler_t *h = s_new("huge[max_line=1M,kill_grace=200ms]=read l; head -c 104857600 /dev/zero | tr '\\0' x; "
                         "echo; sleep 30", s);
    long before = s_rss_kib();
    s_submit(h, 1, "{}");
    s_pump(h, s, 1, 20000);
    long after = s_rss_kib();
    CHECK(s->failed == 1 && s->crashed == 1);
    CHECK_CONTAINS(s->error, "a line longer than 1048576 bytes");
    CHECK(after - before < 8 * 1024);
    handler_destroy(&h);
    free(s);
}

//  Cancel kills the process running the task; one that ignores SIGTERM gets SIGKILL.
static void
test_cancel(void)
{
    sink_t *s = calloc(1, sizeof *s);
    handler_t *h = s_new("hang[kill_grace=300ms]=trap '' TERM; echo '{\"ready\":true}'; read l; "
                         "while :; do sleep 0.05; done", s);
    s_submit(h, 1, "{}");
    s_pump(h, s, -1, 300);
    pid_t pids[2];
    CHECK(handler_pids(h, pids, 2) == 1);
    handler_stats_t st;
    handler_stats(h, &st);
    CHECK(st.busy == 1);
    handler_cancel(h, 1);
    int64_t t0 = clock_mono_ms();
    s_pump(h, s, -1, 150);
    CHECK(s_alive(pids[0]));          //  SIGTERM is ignored...
    while (s_alive(pids[0]) && clock_mono_ms() - t0 < 3000)
        s_pump(h, s, -1, 20);
    CHECK(!s_alive(pids[0]));         //  ...SIGKILL is not
    CHECK(clock_mono_ms() - t0 >= 250);
    CHECK(s->done == 0);              //  a cancelled task has no callback
    //  a queued task cancelled before it ran is just forgotten
    s_submit(h, 2, "{}");
    s_submit(h, 3, "{}");
    handler_cancel(h, 3);
    s_pump(h, s, -1, 200);
    handler_stats(h, &st);
    CHECK(st.queued == 0 && st.busy == 1);
    //  all processes busy and tasks queued: no timer is due (it would spin the loop)
    s_submit(h, 4, "{}");
    CHECK(handler_next_wake_ms(h) > clock_mono_ms());
    handler_destroy(&h);
    free(s);
}

//  max_rss and max_age recycle; warm starts processes before any task.
static void
test_limits(void)
{
    sink_t *s = calloc(1, sizeof *s);
    handler_t *h = s_new("fat[max_rss=20M]=python3 -c \""
                         "import sys,os,json\n"
                         "hog = bytearray(40 << 20)\n"
                         "for i in range(len(hog) // 4096): hog[i * 4096] = 1\n"
                         "for l in sys.stdin:\n"
                         "    t = json.loads(l)\n"
                         "    print(json.dumps({'id': t['id'], 'ok': True, 'output': {'pid': os.getpid()}}), flush=True)\n"
                         "\"", s);
    s_submit(h, 1, "{}");
    s_submit(h, 2, "{}");
    s_pump(h, s, 2, 20000);
    CHECK(s->ok == 2 && s->pid[1] != s->pid[2]);
    handler_destroy(&h);
    h = s_new("old[max_age=300ms,warm]=" SH_ECHO, s);
    s_pump(h, s, -1, 100);
    pid_t first[1];
    CHECK(handler_pids(h, first, 1) == 1);
    s_pump(h, s, -1, 600);
    pid_t now[1];
    CHECK(handler_pids(h, now, 1) == 1 && now[0] != first[0]);
    CHECK(!s_alive(first[0]));
    handler_destroy(&h);
    h = s_new("warm[procs=3,warm]=" SH_ECHO, s);
    handler_stats_t st;
    handler_stats(h, &st);
    CHECK(st.up == 3);
    handler_destroy(&h);
    free(s);
}

//  Stderr goes to the log, line by line, long lines cut.
static void
test_stderr(void)
{
    char path[] = "/tmp/test_handler_log_XXXXXX";
    int fd = mkstemp(path);
    int saved = dup(2);
    dup2(fd, 2);
    sink_t *s = calloc(1, sizeof *s);
    handler_t *h = s_new("noisy=echo 'first words' >&2; printf 'second\\nthird' >&2; head -c 10000 /dev/zero | "
                         "tr '\\0' y >&2; echo >&2; echo after >&2; " SH_ECHO, s);
    s_submit(h, 1, "{}");
    s_pump(h, s, 1, 5000);
    s_pump(h, s, -1, 100);
    handler_destroy(&h);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char buf[65536] = "";
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(path);
    CHECK(s->ok == 1);
    CHECK_CONTAINS(buf, "msg=handler_stderr handler=noisy pid=");
    CHECK_CONTAINS(buf, "line=\"first words\"");
    CHECK_CONTAINS(buf, "line=second");
    CHECK_CONTAINS(buf, "truncated=1 line=thirdyyy");
    CHECK_CONTAINS(buf, "line=after");
    free(s);
}

//  handler_stop: the busy process finishes its task, then all exit.
static void
test_stop(void)
{
    sink_t *s = calloc(1, sizeof *s);
    handler_t *h = s_new("stopper[procs=2,warm]=echo '{\"ready\":true}'; read l; sleep 0.3; "
                         "id=${l#*\\\"id\\\":\\\"}; id=${id%%\\\"*}; echo \"{\\\"id\\\":\\\"$id\\\",\\\"ok\\\":true}\"; "
                         "read l", s);
    s_submit(h, 1, "{}");
    s_pump(h, s, -1, 50);
    handler_stop(h);
    int64_t until = clock_mono_ms() + 5000;
    while (!handler_idle(h) && clock_mono_ms() < until)
        s_pump(h, s, -1, 20);
    CHECK(handler_idle(h));
    CHECK(s->ok == 1);
    handler_destroy(&h);
    free(s);
}

//  kill -9 of the worker: the guard kills what the handler started.
static void
test_guard(void)
{
    char path[] = "/tmp/test_handler_pgid_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    pid_t child = fork();
    if (child == 0) {
        guard_t *g = guard_new();
        handler_config_t cfg;
        char spec[256], err[256];
        snprintf(spec, sizeof spec, "orphan[warm]=sleep 300 & echo $$ > %s.tmp && mv %s.tmp %s; wait", path, path,
                 path);
        handler_config_parse(spec, &cfg, err, sizeof err);
        sink_t *s = calloc(1, sizeof *s);
        handler_t *h = handler_new(&cfg, g, s_on_done, s, err, sizeof err);
        for (;;)
            s_pump(h, s, -1, 1000);
    }
    int64_t until = clock_mono_ms() + 5000;
    pid_t pgid = 0;
    while (!pgid && clock_mono_ms() < until) {
        FILE *f = fopen(path, "r");
        if (f) {
            if (fscanf(f, "%d", &pgid) != 1)
                pgid = 0;
            fclose(f);
        }
        if (!pgid)
            usleep(10000);
    }
    CHECK(pgid > 0);
    CHECK(kill(-pgid, 0) == 0);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    until = clock_mono_ms() + 5000;
    while (kill(-pgid, 0) == 0 && clock_mono_ms() < until)
        usleep(10000);
    CHECK(kill(-pgid, 0) != 0 && errno == ESRCH);
    unlink(path);
}

int
main(void)
{
    signal(SIGPIPE, SIG_IGN);
    log_init("test_handler", LEVEL_INFO);
    test_config();
    test_proto();
    test_echo();
    test_max_tasks();
    test_crash();
    test_broken();
    test_protocol_abuse();
    test_huge_line();
    test_cancel();
    test_limits();
    test_stderr();
    test_stop();
    test_guard();
    return check_result("test_handler");
}
