/*  plain — shoal-monitor --plain and --json: lines for logs and scripts.

    --plain prints one line per unfinished job per interval and one last
    line when a job finishes; --json prints every snapshot and event as one
    JSON object per line. Both print a line when the broker becomes
    unreachable and when it is back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "clock.h"
#include "monitor.h"
#include "report.h"
#include "text.h"
#include "wire.h"

#define FINISHED_MAX 4096       //  finished jobs remembered as already printed

//  The local time as HH:MM:SS, the prefix of every plain line.
static const char *
s_now(char *buf, size_t size)
{
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, size, "%H:%M:%S", &tm);
    return buf;
}

//  The job will not change any more.
static bool
s_finished(const Shoal__JobInfo *j)
{
    return j->state == SHOAL__JOB_STATE__JOB_DONE || j->state == SHOAL__JOB_STATE__JOB_CANCELLED;
}

//  id is one of the n ids.
static bool
s_in(const uint32_t *ids, size_t n, uint32_t id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

//  One line per job; a finished job only until its final line was printed
//  (`printed` holds those, and is replaced by this snapshot's finished jobs).
static void
s_plain_snapshot(const monitor_config_t *cfg, const Shoal__Snapshot *snap, uint32_t *printed, size_t *n_printed)
{
    char ts[16];
    s_now(ts, sizeof ts);
    uint32_t now_finished[FINISHED_MAX];
    size_t n_now = 0;
    size_t lines = 0;
    for (size_t i = 0; i < snap->n_jobs; i++) {
        const Shoal__JobInfo *j = snap->jobs[i];
        if (s_finished(j)) {
            if (n_now < FINISHED_MAX)
                now_finished[n_now++] = j->id;
            if (s_in(printed, *n_printed, j->id))
                continue;
        }
        char done[32], total[32], failed[32], cancelled[32], rate[32], eta[32], p50[32], p95[32], p99[32];
        char *name = text_sanitize(j->name ? j->name : "", j->name ? strlen(j->name) : 0, 200);
        for (char *c = name; c && *c; c++)
            if (*c == '"' || *c == '\\' || *c == '\n' || *c == '\r' || *c == '\t')
                *c = '_';
        //  a pipeline job: done/total/failed/cancelled count its items (items=1)
        report_progress_t p = report_progress(j);
        printf("%s job=%u name=\"%s\" state=%s done=%s total=%s pct=%.1f failed=%s cancelled=%s%s queued=%llu"
               " running=%llu rate=%s eta=%s p50=%s p95=%s p99=%s\n", ts, j->id, name ? name : "",
               report_state_name(j->state),
               text_thousands(p.ok + p.failed + p.cancelled, done, sizeof done),
               text_thousands(p.total, total, sizeof total), report_percent(j),
               text_thousands(p.failed, failed, sizeof failed),
               text_thousands(p.cancelled, cancelled, sizeof cancelled), p.items ? " items=1" : "",
               (unsigned long long) j->queued,
               (unsigned long long) j->running, report_rate(s_finished(j) ? 0 : j->rate, rate, sizeof rate),
               report_duration_ms(j->eta_ms, eta, sizeof eta), report_latency_us(j->p50_us, p50, sizeof p50),
               report_latency_us(j->p95_us, p95, sizeof p95), report_latency_us(j->p99_us, p99, sizeof p99));
        free(name);
        lines++;
    }
    if (lines == 0 && snap->cluster) {
        char rate[32];
        printf("%s idle workers=%u slots=%u busy=%u rate=%s\n", ts, snap->cluster->workers, snap->cluster->slots,
               snap->cluster->in_flight, report_rate(snap->cluster->rate, rate, sizeof rate));
    }
    memcpy(printed, now_finished, n_now * sizeof *printed);
    *n_printed = n_now;
    fflush(stdout);
}

void
plain_event(const monitor_config_t *cfg, const Shoal__Event *e)
{
    char ts[16];
    char *text = text_sanitize(e->message ? e->message : "", e->message ? strlen(e->message) : 0, 1000);
    for (char *c = text; c && *c; c++)
        if (*c == '\n' || *c == '\r' || *c == '\t')
            *c = ' ';
    printf("%s event %s\n", s_now(ts, sizeof ts), text ? text : "");
    free(text);
    fflush(stdout);
}

void
plain_broker(const monitor_config_t *cfg, bool up)
{
    char ts[16];
    printf("%s broker %s %s\n", s_now(ts, sizeof ts), cfg->broker, up ? "reachable" : "unreachable");
    fflush(stdout);
}

//  Print one JSON object as a line and free it.
static void
s_print(json_t *o)
{
    char *text = json_dumps(o, JSON_COMPACT);
    if (text)
        puts(text);
    free(text);
    json_decref(o);
    fflush(stdout);
}

void
json_snapshot(const Shoal__Snapshot *snap)
{
    json_t *o = report_snapshot_json(snap);
    json_object_set_new(o, "type", json_string("snapshot"));
    s_print(o);
}

void
json_event(const Shoal__Event *e)
{
    json_t *o = report_event_json(e);
    json_object_set_new(o, "type", json_string("event"));
    s_print(o);
}

void
json_broker(bool up)
{
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string("broker"));
    json_object_set_new(o, "reachable", json_boolean(up));
    s_print(o);
}

//  Handle one message of lines mode.
static void
s_lines_message(const monitor_config_t *cfg, Shoal__Envelope *env, int64_t now_ms, int64_t *last_print_ms,
                uint32_t *printed, size_t *n_printed, uint64_t *term)
{
    const Shoal__ClusterInfo *c = env->body_case == SHOAL__ENVELOPE__BODY_SNAPSHOT ? env->snapshot->cluster : NULL;
    if (!cfg->json && c && c->leader && c->leader->term != *term) {
        //  the leader, and every takeover, as a line of its own
        char ts[16], line[512];
        printf("%s leader %s\n", s_now(ts, sizeof ts), report_leader_line(c->leader, line, sizeof line));
        fflush(stdout);
        *term = c->leader->term;
    }
    if (env->body_case == SHOAL__ENVELOPE__BODY_SNAPSHOT) {
        if (cfg->json)
            json_snapshot(env->snapshot);
        else
        if (now_ms - *last_print_ms >= cfg->interval_ms) {
            s_plain_snapshot(cfg, env->snapshot, printed, n_printed);
            *last_print_ms = now_ms;
        }
    }
    else
    if (env->body_case == SHOAL__ENVELOPE__BODY_EVENT) {
        if (cfg->json)
            json_event(env->event);
        else
            plain_event(cfg, env->event);
    }
}

//  Print a change of the broker's reachability. The first contact is news
//  for people reading a log, not for a script reading JSON (which sees the
//  snapshot itself).
static void
s_lines_change(const monitor_config_t *cfg, link_change_t change, bool *announced)
{
    if (change == LINK_NONE)
        return;
    bool up = change == LINK_UP;
    if (!up || *announced || !cfg->json) {
        if (cfg->json)
            json_broker(up);
        else
            plain_broker(cfg, up);
    }
    if (up)
        *announced = true;
}

int
lines_run(const monitor_config_t *cfg, volatile sig_atomic_t *stop)
{
    char err[256];
    link_t *link = link_new(cfg->broker, cfg->progress, cfg->timeout_ms, cfg->keys, err, sizeof err);
    uint32_t *printed = calloc(FINISHED_MAX, sizeof *printed);
    if (!link || !printed) {
        fprintf(stderr, "shoal-monitor: %s\n", link ? "out of memory" : err);
        link_destroy(&link);
        free(printed);
        return 2;
    }
    size_t n_printed = 0;
    uint64_t term = 0;
    bool announced = false;
    int64_t last_print_ms = INT64_MIN / 2;
    while (!*stop) {
        s_lines_change(cfg, link_check(link, clock_mono_ms()), &announced);
        int64_t wait = link_next_deadline(link) - clock_mono_ms();
        zmq_pollitem_t items[] = {
            { link_sub(link), 0, ZMQ_POLLIN, 0 },
            { link_dealer(link), 0, ZMQ_POLLIN, 0 },
        };
        long timeout = wait < 0 ? 0 : wait > 1000 ? 1000 : (long) wait;
        int64_t before = clock_mono_ms();
        zmq_poll(items, 2, timeout);
        //  slept much longer than asked: we were stopped, the broker was not silent
        int64_t late = clock_mono_ms() - before - timeout;
        if (late > 500)
            link_stalled(link, late);
        for (int i = 0; i < 2; i++) {
            void *socket = i == 0 ? link_sub(link) : link_dealer(link);
            //  a bounded batch per socket, so neither starves the other
            for (int n = 0; n < 1000 && !*stop && link_pending(socket); n++) {
                Shoal__Envelope *env = link_recv(link, socket);
                if (!env)
                    continue;
                //  say the broker is back before printing what it says
                s_lines_change(cfg, link_check(link, clock_mono_ms()), &announced);
                s_lines_message(cfg, env, clock_mono_ms(), &last_print_ms, printed, &n_printed, &term);
                wire_free(env);
            }
        }
    }
    free(printed);
    link_destroy(&link);
    return 0;
}
