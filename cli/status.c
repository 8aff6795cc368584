/*  status — shoal status, jobs and workers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "report.h"
#include "taskspec.h"
#include "text.h"
#include "wire.h"

int
cmd_status(cli_globals_t *g, int argc, char **argv)
{
    bool watch = false, wait = false, quiet = false;
    int64_t interval_ms = 1000;
    opt_t opts[] = {
        { "watch", 'w', NULL, OPT_BOOL, &watch, NULL, "show the status again every interval until the job ends" },
        { "wait", 0, NULL, OPT_BOOL, &wait, NULL, "wait until the job ends; exit 1 if any task failed or it was cancelled" },
        { "interval-ms", 0, NULL, OPT_INT, &interval_ms, "MS", "between updates with --watch/--wait (default 1000)" },
        { "quiet", 'q', NULL, OPT_BOOL, &quiet, NULL, "with --wait: no progress line and no summary" },
        { NULL }
    };
    config_t cfg = { .prog = "shoal status", .usage = "JOB [--watch] [--wait]", .opts = opts,
        .description =
            "Show a job: state, counts, rate, ETA, latency, the most frequent errors.\n"
            "--watch redraws it on a terminal (one line per change in a pipe, one JSON\n"
            "object per update with -o json); --wait shows a progress line on a terminal\n"
            "and exits when the job ends: 0 all ok, 1 tasks failed or the job was cancelled.",
        .epilog =
            "Examples:\n"
            "  shoal status 3\n"
            "  shoal status 3 --watch\n"
            "  shoal status 3 --wait && echo all ok\n"
            "  shoal -o json status 3 | jq .failed" };
    int rc = config_parse(&cfg, argc, argv);
    if (rc != 0) {
        config_free(&cfg);
        return rc > 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (cfg.positional_count != 1) {
        fprintf(stderr, "shoal status: expected one JOB (see shoal status --help)\n");
        config_free(&cfg);
        return EXIT_USAGE;
    }
    uint32_t job_id = cli_job_id("shoal status", cfg.positional[0]);
    config_free(&cfg);
    if (!job_id)
        return EXIT_USAGE;
    if (interval_ms < 100 || interval_ms > 3600000) {
        fprintf(stderr, "shoal status: --interval-ms must be 100..3600000\n");
        return EXIT_USAGE;
    }
    int code = EXIT_OK;
    client_t *client = cli_connect(g, "shoal status", &code);
    if (!client)
        return code;
    if (watch || wait) {
        cli_follow_t how = { .prog = "shoal status", .watch = watch, .wait = wait, .quiet = quiet && !watch,
                             .interval_ms = interval_ms };
        code = cli_follow_job(g, client, job_id, &how);
    }
    else {
        char err[1024];
        Shoal__Envelope *reply = cli_get_status(client, job_id, err, sizeof err, &code);
        if (reply) {
            cli_print_job(g, stdout, reply->status_reply->job);
            char line[512];
            if (!g->json && reply->status_reply->leader)
                printf("%s\n", report_leader_line(reply->status_reply->leader, line, sizeof line));
            wire_free(reply);
        }
        else
            fprintf(stderr, "shoal status: %s\n", err);
    }
    client_destroy(&client);
    return code;
}

int
cmd_jobs(cli_globals_t *g, int argc, char **argv)
{
    int64_t limit = 50;
    opt_t opts[] = {
        { "limit", 'n', NULL, OPT_INT, &limit, "N", "newest N jobs (default 50)" },
        { NULL }
    };
    config_t cfg = { .prog = "shoal jobs", .usage = "[--limit N]", .opts = opts,
        .description = "List jobs, newest first, with their state and counts. STATE 'receiving'\n"
                       "is an active job whose submit has not finished (not sealed).",
        .epilog = "Examples:\n  shoal jobs\n  shoal jobs -n 5\n"
                  "  shoal -o json jobs | jq -r '.[] | select(.failed > 0) | .id'" };
    int rc = config_parse(&cfg, argc, argv);
    if (rc == 0 && cfg.positional_count) {
        fprintf(stderr, "shoal jobs: unexpected argument '%s' (see shoal jobs --help)\n", cfg.positional[0]);
        rc = -1;
    }
    config_free(&cfg);
    if (rc != 0)
        return rc > 0 ? EXIT_OK : EXIT_USAGE;
    if (limit < 1 || limit > 10000) {
        fprintf(stderr, "shoal jobs: --limit must be 1..10000\n");
        return EXIT_USAGE;
    }
    int code = EXIT_OK;
    client_t *client = cli_connect(g, "shoal jobs", &code);
    if (!client)
        return code;
    Shoal__JobsRequest jr = SHOAL__JOBS_REQUEST__INIT;
    jr.has_limit = 1;
    jr.limit = (uint32_t) limit;
    Shoal__Envelope req = SHOAL__ENVELOPE__INIT;
    req.body_case = SHOAL__ENVELOPE__BODY_JOBS_REQUEST;
    req.jobs_request = &jr;
    char err[1024];
    Shoal__Envelope *reply = client_call(client, &req, err, sizeof err, &code);
    client_destroy(&client);
    if (!reply) {
        fprintf(stderr, "shoal jobs: %s\n", err);
        return code;
    }
    Shoal__JobsReply *jobs = reply->body_case == SHOAL__ENVELOPE__BODY_JOBS_REPLY ? reply->jobs_reply : NULL;
    if (g->json) {
        json_t *arr = json_array();
        for (size_t i = 0; jobs && i < jobs->n_jobs; i++)
            json_array_append_new(arr, report_job_json(jobs->jobs[i]));
        char *text = json_dumps(arr, JSON_COMPACT);
        printf("%s\n", text ? text : "[]");
        free(text);
        json_decref(arr);
    }
    else
    if (!jobs || jobs->n_jobs == 0)
        printf("no jobs yet ('shoal submit --help' shows how to start one)\n");
    else {
        printf("%6s  %-9s  %6s  %12s  %12s  %10s  %10s  %s\n", "JOB", "STATE", "DONE%", "TOTAL", "OK",
               "FAILED", "RATE", "NAME");
        for (size_t i = 0; i < jobs->n_jobs; i++) {
            const Shoal__JobInfo *j = jobs->jobs[i];
            char total[32], ok[32], failed[32], rate[32];
            const char *state = j->state == SHOAL__JOB_STATE__JOB_ACTIVE && !j->sealed
                              ? "receiving" : report_state_name(j->state);
            //  a pipeline job counts its items (ok: complete)
            report_progress_t p = report_progress(j);
            printf("%6u  %-9s  %5.1f%%  %12s  %12s  %10s  %10s  %s%s\n", j->id, state,
                   report_percent(j), text_thousands(p.total, total, sizeof total),
                   text_thousands(p.ok, ok, sizeof ok), text_thousands(p.failed, failed, sizeof failed),
                   j->state == SHOAL__JOB_STATE__JOB_ACTIVE ? report_rate(j->rate, rate, sizeof rate) : "-",
                   j->name ? j->name : "", p.items ? " (items)" : "");
        }
    }
    wire_free(reply);
    return EXIT_OK;
}

int
cmd_workers(cli_globals_t *g, int argc, char **argv)
{
    opt_t opts[] = { { NULL } };
    config_t cfg = { .prog = "shoal workers", .usage = "", .opts = opts,
        .description = "List the workers connected to the broker: slots, busy slots, tasks done\n"
                       "and failed, and how long ago the broker last heard from each.",
        .epilog = "Examples:\n  shoal workers\n  shoal -o json workers | jq '[.[].busy] | add'" };
    int rc = config_parse(&cfg, argc, argv);
    if (rc == 0 && cfg.positional_count) {
        fprintf(stderr, "shoal workers: unexpected argument '%s' (see shoal workers --help)\n",
                cfg.positional[0]);
        rc = -1;
    }
    config_free(&cfg);
    if (rc != 0)
        return rc > 0 ? EXIT_OK : EXIT_USAGE;
    int code = EXIT_OK;
    client_t *client = cli_connect(g, "shoal workers", &code);
    if (!client)
        return code;
    Shoal__WorkersRequest wr = SHOAL__WORKERS_REQUEST__INIT;
    Shoal__Envelope req = SHOAL__ENVELOPE__INIT;
    req.body_case = SHOAL__ENVELOPE__BODY_WORKERS_REQUEST;
    req.workers_request = &wr;
    char err[1024];
    Shoal__Envelope *reply = client_call(client, &req, err, sizeof err, &code);
    client_destroy(&client);
    if (!reply) {
        fprintf(stderr, "shoal workers: %s\n", err);
        return code;
    }
    Shoal__WorkersReply *w = reply->body_case == SHOAL__ENVELOPE__BODY_WORKERS_REPLY ? reply->workers_reply : NULL;
    if (g->json) {
        json_t *arr = json_array();
        for (size_t i = 0; w && i < w->n_workers; i++)
            json_array_append_new(arr, report_worker_json(w->workers[i]));
        char *text = json_dumps(arr, JSON_COMPACT);
        printf("%s\n", text ? text : "[]");
        free(text);
        json_decref(arr);
    }
    else
    if (w && w->leader) {
        //  which broker answered: the leader (docs/failover.md)
        char line[512];
        printf("%s\n", report_leader_line(w->leader, line, sizeof line));
    }
    if (g->json)
        ;   //  printed above
    else
    if (!w || w->n_workers == 0)
        printf("no workers connected (start one: shoal-worker --broker tcp://BROKER:5556)\n");
    else {
        printf("%-32s  %-16s  %7s  %5s  %5s  %10s  %8s  %9s  %s\n", "WORKER", "HOST", "PID", "SLOTS", "BUSY",
               "DONE", "FAILED", "LAST SEEN", "KINDS");
        for (size_t i = 0; i < w->n_workers; i++) {
            const Shoal__WorkerInfo *x = w->workers[i];
            char done[32], seen[32], kinds[64] = "";
            for (size_t k = 0, o = 0; k < x->n_kinds && o < sizeof kinds; k++)
                o += (size_t) snprintf(kinds + o, sizeof kinds - o, "%s%s", k ? "," : "",
                                       taskspec_kind_name(x->kinds[k]));
            printf("%-32s  %-16s  %7u  %5u  %5u  %10s  %8llu  %9s  %s%s\n", x->id ? x->id : "",
                   x->host ? x->host : "", x->pid, x->slots, x->busy,
                   text_thousands(x->done, done, sizeof done), (unsigned long long) x->failed,
                   report_duration_ms(x->last_seen_ms, seen, sizeof seen), kinds,
                   x->draining ? "  draining" : "");
            char labels[512], handlers[1024];
            if (x->n_labels)
                printf("    labels    %s\n", report_worker_labels(x, labels, sizeof labels));
            if (x->n_handlers)
                printf("    handlers  %s\n", report_worker_handlers(x, handlers, sizeof handlers));
        }
    }
    wire_free(reply);
    return EXIT_OK;
}
