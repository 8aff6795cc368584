/*  plain — shoal-monitor --plain and --json: lines for logs and scripts. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "monitor.h"
#include "report.h"
#include "text.h"

static const char *
s_now(char *buf, size_t size)
{
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, size, "%H:%M:%S", &tm);
    return buf;
}

void
plain_snapshot(const monitor_config_t *cfg, const Shoal__Snapshot *snap)
{
    char ts[16];
    s_now(ts, sizeof ts);
    for (size_t i = 0; i < snap->n_jobs; i++) {
        const Shoal__JobInfo *j = snap->jobs[i];
        char done[32], total[32], failed[32], rate[32], eta[32], p50[32], p99[32];
        printf("%s job=%u name=\"%s\" state=%s done=%s total=%s pct=%.1f failed=%s queued=%llu running=%llu"
               " rate=%s eta=%s p50=%s p99=%s\n", ts, j->id, j->name ? j->name : "",
               report_state_name(j->state),
               text_thousands(j->ok + j->failed + j->cancelled, done, sizeof done),
               text_thousands(j->total, total, sizeof total), report_percent(j),
               text_thousands(j->failed, failed, sizeof failed), (unsigned long long) j->queued,
               (unsigned long long) j->running, report_rate(j->rate, rate, sizeof rate),
               report_duration_ms(j->eta_ms, eta, sizeof eta), report_latency_us(j->p50_us, p50, sizeof p50),
               report_latency_us(j->p99_us, p99, sizeof p99));
    }
    if (snap->n_jobs == 0 && snap->cluster)
        printf("%s idle workers=%u slots=%u\n", ts, snap->cluster->workers, snap->cluster->slots);
    fflush(stdout);
}

void
plain_event(const monitor_config_t *cfg, const Shoal__Event *e)
{
    char ts[16];
    printf("%s event %s\n", s_now(ts, sizeof ts), e->message ? e->message : "");
    fflush(stdout);
}

void
plain_broker(const monitor_config_t *cfg, bool up)
{
    char ts[16];
    printf("%s broker %s %s\n", s_now(ts, sizeof ts), cfg->broker, up ? "reachable" : "unreachable");
    fflush(stdout);
}

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
