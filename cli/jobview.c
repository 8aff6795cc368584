/*  jobview — one job as people and scripts see it: the block `shoal
    status` prints, the progress line `--wait` rewrites, and the status
    request both ask the broker. Shared by status.c and follow.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "report.h"
#include "text.h"
#include "wire.h"

//  A pipeline job's steps, one line each: tasks (children of a fan-out
//  included), ok, failed, cancelled, pending.
static void
s_print_steps(FILE *out, const Shoal__JobInfo *j)
{
    size_t width = 4;
    for (size_t i = 0; i < j->n_steps; i++)
        if (j->steps[i]->name && strlen(j->steps[i]->name) > width)
            width = strlen(j->steps[i]->name);
    if (width > 32)
        width = 32;
    for (size_t i = 0; i < j->n_steps; i++) {
        const Shoal__StepInfo *s = j->steps[i];
        char tasks[32], ok[32], failed[32], cancelled[32], pending[32], each[96] = "";
        if (s->each)
            snprintf(each, sizeof each, "  (each %.64s)", s->each);
        fprintf(out, "  %s %-*.*s  tasks %s  ok %s  failed %s  cancelled %s  pending %s%s\n",
                i ? "          " : "steps     ", (int) width, (int) width, s->name ? s->name : "",
                text_thousands(s->tasks, tasks, sizeof tasks), text_thousands(s->ok, ok, sizeof ok),
                text_thousands(s->failed, failed, sizeof failed),
                text_thousands(s->cancelled, cancelled, sizeof cancelled),
                text_thousands(report_step_pending(s), pending, sizeof pending), each);
    }
}

void
cli_print_job(cli_globals_t *g, FILE *out, const Shoal__JobInfo *j)
{
    if (g->json) {
        json_t *o = report_job_json(j);
        char *text = json_dumps(o, JSON_COMPACT);
        fprintf(out, "%s\n", text ? text : "{}");
        free(text);
        json_decref(o);
        return;
    }
    char total[32], ok[32], failed[32], cancelled[32], queued[32], running[32], rate[32], eta[32];
    char p50[32], p95[32], p99[32];
    fprintf(out, "job %u  %s%s%s\n", j->id, j->name && *j->name ? "\"" : "", j->name ? j->name : "",
            j->name && *j->name ? "\"" : "");
    fprintf(out, "  state      %s%s  priority %u\n", report_state_name(j->state),
            j->sealed ? "" : " (receiving tasks)", j->priority);
    report_progress_t p = report_progress(j);
    fprintf(out, "  progress   %.1f%%  %s of %s%s done\n", report_percent(j),
            text_thousands(p.ok + p.failed + p.cancelled, ok, sizeof ok),
            text_thousands(p.total, total, sizeof total), p.items ? " items" : "");
    if (j->items) {
        //  a pipeline job: its input items (docs/pipelines.md, "Seeing it")
        char c[32], f[32], x[32], r[32], w[32];
        uint64_t known = j->items->complete + j->items->failed + j->items->cancelled + j->items->running;
        fprintf(out, "  items      complete %s  failed %s  cancelled %s  running %s  waiting %s\n",
                text_thousands(j->items->complete, c, sizeof c), text_thousands(j->items->failed, f, sizeof f),
                text_thousands(j->items->cancelled, x, sizeof x), text_thousands(j->items->running, r, sizeof r),
                text_thousands(j->items->total > known ? j->items->total - known : 0, w, sizeof w));
    }
    fprintf(out, "  tasks      ok %s  failed %s  cancelled %s  queued %s  running %s\n",
            text_thousands(j->ok, ok, sizeof ok), text_thousands(j->failed, failed, sizeof failed),
            text_thousands(j->cancelled, cancelled, sizeof cancelled),
            text_thousands(j->queued, queued, sizeof queued), text_thousands(j->running, running, sizeof running));
    fprintf(out, "  retries    %llu (waiting %llu)  stale %llu  duplicate %llu\n",
            (unsigned long long) j->retries, (unsigned long long) j->retry_wait,
            (unsigned long long) j->stale, (unsigned long long) j->duplicate);
    if ((j->state == SHOAL__JOB_STATE__JOB_ACTIVE || j->state == SHOAL__JOB_STATE__JOB_PAUSED) && j->items) {
        char irate[32];
        fprintf(out, "  rate       %s (items %s)  eta %s\n", report_rate(j->rate, rate, sizeof rate),
                report_rate(j->items->rate, irate, sizeof irate), report_duration_ms(j->eta_ms, eta, sizeof eta));
    }
    else
    if (j->state == SHOAL__JOB_STATE__JOB_ACTIVE || j->state == SHOAL__JOB_STATE__JOB_PAUSED)
        fprintf(out, "  rate       %s  eta %s\n", report_rate(j->rate, rate, sizeof rate),
                report_duration_ms(j->eta_ms, eta, sizeof eta));
    if (j->p50_us)
        fprintf(out, "  latency    p50 %s  p95 %s  p99 %s\n", report_latency_us(j->p50_us, p50, sizeof p50),
                report_latency_us(j->p95_us, p95, sizeof p95), report_latency_us(j->p99_us, p99, sizeof p99));
    if (j->n_http_class == 6 && (j->http_class[1] + j->http_class[2] + j->http_class[3] + j->http_class[4]
                                 + j->http_class[5] + j->http_class[0]))
        fprintf(out, "  http       2xx %llu  3xx %llu  4xx %llu  5xx %llu  no response %llu\n",
                (unsigned long long) j->http_class[2], (unsigned long long) j->http_class[3],
                (unsigned long long) j->http_class[4], (unsigned long long) j->http_class[5],
                (unsigned long long) j->http_class[0]);
    for (size_t i = 0; i < j->n_top_errors; i++)
        fprintf(out, "  %s %6llu  %s\n", i ? "          " : "errors    ",
                (unsigned long long) j->top_errors[i]->count, j->top_errors[i]->name);
    for (size_t i = 0; i < j->n_top_hosts; i++)
        fprintf(out, "  %s %6llu  %s\n", i ? "          " : "fail hosts",
                (unsigned long long) j->top_hosts[i]->count, j->top_hosts[i]->name);
    if (j->updated_us) {
        //  shoal update: when, and what it changed (header names, not values)
        time_t at = (time_t) (j->updated_us / 1000000);
        char when[32];
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&at));
        fprintf(out, "  updated    %s  %s\n", when, j->last_update ? j->last_update : "");
    }
    for (size_t i = 0; i < j->n_held_hosts; i++) {
        //  a 429/503 holds the host back (Retry-After, capped: docs/tasks.md)
        time_t until = (time_t) (j->held_hosts[i]->until_us / 1000000);
        char when[32];
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&until));
        fprintf(out, "  %s until %s  %s\n", i ? "          " : "held back ", when, j->held_hosts[i]->host);
    }
    for (size_t i = 0; i < j->n_waiting; i++)
        fprintf(out, "  %s %6llu  %s\n", i ? "          " : "waiting   ",
                (unsigned long long) j->waiting[i]->count, j->waiting[i]->name);
    s_print_steps(out, j);
}

void
cli_progress_line(const Shoal__JobInfo *j, char *buf, size_t size)
{
    char done[32], total[32], failed[32], rate[32], eta[32], tail[96] = "";
    bool live = j->state == SHOAL__JOB_STATE__JOB_ACTIVE || j->state == SHOAL__JOB_STATE__JOB_PAUSED;
    if (live)
        snprintf(tail, sizeof tail, "  %s  eta %s", report_rate(j->rate, rate, sizeof rate),
                 report_duration_ms(j->eta_ms, eta, sizeof eta));
    report_progress_t p = report_progress(j);
    snprintf(buf, size, "job %u %s%s %5.1f%%  %s/%s%s done  failed %s%s", j->id,
             report_state_name(j->state), j->sealed ? "" : " (receiving)", report_percent(j),
             text_thousands(p.ok + p.failed + p.cancelled, done, sizeof done),
             text_thousands(p.total, total, sizeof total), p.items ? " items" : "",
             text_thousands(p.failed, failed, sizeof failed), tail);
}

Shoal__Envelope *
cli_get_status(client_t *client, uint32_t job_id, char *err, size_t errlen, int *code)
{
    Shoal__StatusRequest sr = SHOAL__STATUS_REQUEST__INIT;
    sr.has_job_id = 1;
    sr.job_id = job_id;
    Shoal__Envelope req = SHOAL__ENVELOPE__INIT;
    req.body_case = SHOAL__ENVELOPE__BODY_STATUS_REQUEST;
    req.status_request = &sr;
    Shoal__Envelope *reply = client_call(client, &req, err, errlen, code);
    if (!reply)
        return NULL;
    if (reply->body_case != SHOAL__ENVELOPE__BODY_STATUS_REPLY || !reply->status_reply->job) {
        snprintf(err, errlen, "unexpected reply '%s' to a status request", wire_body_name(reply));
        wire_free(reply);
        *code = EXIT_REFUSED;
        return NULL;
    }
    return reply;
}
