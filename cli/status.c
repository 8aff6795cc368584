/*  status — shoal status, jobs, workers, pause, resume, cancel, retry, and
    the helpers they share (connecting, printing a job, following one). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "config.h"
#include "report.h"
#include "text.h"
#include "wire.h"

client_t *
cli_connect(cli_globals_t *g)
{
    client_t *client = client_new(g->broker, (int) g->timeout_ms, g->keys);
    if (!client)
        fprintf(stderr, "shoal: cannot use broker endpoint '%s' (expected like tcp://host:5555)\n", g->broker);
    return client;
}

uint32_t
cli_job_id(const char *prog, const char *arg)
{
    char *end;
    unsigned long v = arg ? strtoul(arg, &end, 10) : 0;
    if (!arg || *end || v == 0 || v > UINT32_MAX) {
        fprintf(stderr, "%s: expected a job id (a positive number), got '%s'\n", prog, arg ? arg : "");
        return 0;
    }
    return (uint32_t) v;
}

void
cli_print_job(cli_globals_t *g, const Shoal__JobInfo *j)
{
    if (g->json) {
        json_t *o = report_job_json(j);
        char *text = json_dumps(o, JSON_COMPACT);
        printf("%s\n", text);
        free(text);
        json_decref(o);
        return;
    }
    char total[32], ok[32], failed[32], cancelled[32], queued[32], running[32], rate[32], eta[32];
    char p50[32], p95[32], p99[32];
    printf("job %u  %s%s%s\n", j->id, j->name && *j->name ? "\"" : "", j->name ? j->name : "",
           j->name && *j->name ? "\"" : "");
    printf("  state      %s%s  priority %u\n", report_state_name(j->state), j->sealed ? "" : " (receiving tasks)",
           j->priority);
    printf("  progress   %.1f%%  %s of %s done\n", report_percent(j),
           text_thousands(j->ok + j->failed + j->cancelled, ok, sizeof ok),
           text_thousands(j->total, total, sizeof total));
    printf("  tasks      ok %s  failed %s  cancelled %s  queued %s  running %s\n",
           text_thousands(j->ok, ok, sizeof ok), text_thousands(j->failed, failed, sizeof failed),
           text_thousands(j->cancelled, cancelled, sizeof cancelled),
           text_thousands(j->queued, queued, sizeof queued), text_thousands(j->running, running, sizeof running));
    printf("  retries    %llu (waiting %llu)  stale %llu  duplicate %llu\n",
           (unsigned long long) j->retries, (unsigned long long) j->retry_wait,
           (unsigned long long) j->stale, (unsigned long long) j->duplicate);
    if (j->state == SHOAL__JOB_STATE__JOB_ACTIVE || j->state == SHOAL__JOB_STATE__JOB_PAUSED)
        printf("  rate       %s  eta %s\n", report_rate(j->rate, rate, sizeof rate),
               report_duration_ms(j->eta_ms, eta, sizeof eta));
    if (j->p50_us)
        printf("  latency    p50 %s  p95 %s  p99 %s\n", report_latency_us(j->p50_us, p50, sizeof p50),
               report_latency_us(j->p95_us, p95, sizeof p95), report_latency_us(j->p99_us, p99, sizeof p99));
    if (j->n_http_class == 6 && (j->http_class[1] + j->http_class[2] + j->http_class[3] + j->http_class[4]
                                 + j->http_class[5] + j->http_class[0]))
        printf("  http       2xx %llu  3xx %llu  4xx %llu  5xx %llu  no response %llu\n",
               (unsigned long long) j->http_class[2], (unsigned long long) j->http_class[3],
               (unsigned long long) j->http_class[4], (unsigned long long) j->http_class[5],
               (unsigned long long) j->http_class[0]);
    for (size_t i = 0; i < j->n_top_errors; i++)
        printf("  %s %6llu  %s\n", i ? "          " : "errors    ", (unsigned long long) j->top_errors[i]->count,
               j->top_errors[i]->name);
    for (size_t i = 0; i < j->n_top_hosts; i++)
        printf("  %s %6llu  %s\n", i ? "          " : "fail hosts", (unsigned long long) j->top_hosts[i]->count,
               j->top_hosts[i]->name);
}

Shoal__Envelope *
cli_get_status(cli_globals_t *g, client_t *client, uint32_t job_id, int *code)
{
    Shoal__StatusRequest sr = SHOAL__STATUS_REQUEST__INIT;
    sr.has_job_id = 1;
    sr.job_id = job_id;
    Shoal__Envelope req = SHOAL__ENVELOPE__INIT;
    req.body_case = SHOAL__ENVELOPE__BODY_STATUS_REQUEST;
    req.status_request = &sr;
    char err[1024];
    Shoal__Envelope *reply = client_call(client, &req, err, sizeof err, code);
    if (!reply) {
        fprintf(stderr, "shoal: job %u: %s\n", job_id, err);
        return NULL;
    }
    if (reply->body_case != SHOAL__ENVELOPE__BODY_STATUS_REPLY || !reply->status_reply->job) {
        fprintf(stderr, "shoal: unexpected reply '%s'\n", wire_body_name(reply));
        wire_free(reply);
        *code = EXIT_REFUSED;
        return NULL;
    }
    return reply;
}

static volatile sig_atomic_t s_interrupted = 0;

static void
s_on_sigint(int sig)
{
    s_interrupted = 1;
}

int
cli_wait_job(cli_globals_t *g, client_t *client, uint32_t job_id, bool quiet)
{
    signal(SIGINT, s_on_sigint);
    bool tty = isatty(2) && !quiet;
    int misses = 0;
    while (!s_interrupted) {
        int code = 0;
        Shoal__Envelope *reply = cli_get_status(g, client, job_id, &code);
        if (!reply) {
            //  a broker restart is not the end of the job: keep asking a while
            if (code == EXIT_UNREACHABLE && ++misses < 60) {
                usleep(500 * 1000);
                continue;
            }
            return code;
        }
        misses = 0;
        const Shoal__JobInfo *j = reply->status_reply->job;
        bool finished = j->state == SHOAL__JOB_STATE__JOB_DONE || j->state == SHOAL__JOB_STATE__JOB_CANCELLED;
        if (tty) {
            char done[32], total[32], rate[32], eta[32];
            fprintf(stderr, "\r\033[Kjob %u %s %5.1f%%  %s/%s  failed %llu  %s  eta %s", j->id,
                    report_state_name(j->state), report_percent(j),
                    text_thousands(j->ok + j->failed + j->cancelled, done, sizeof done),
                    text_thousands(j->total, total, sizeof total), (unsigned long long) j->failed,
                    report_rate(j->rate, rate, sizeof rate), report_duration_ms(j->eta_ms, eta, sizeof eta));
        }
        if (finished) {
            if (tty)
                fprintf(stderr, "\n");
            int rc = j->failed || j->state == SHOAL__JOB_STATE__JOB_CANCELLED ? EXIT_FAILURES : EXIT_OK;
            if (!quiet) {
                if (g->json)
                    cli_print_job(g, j);
                else
                    fprintf(stderr, "job %u %s: %llu ok, %llu failed, %llu cancelled\n", j->id,
                            report_state_name(j->state), (unsigned long long) j->ok,
                            (unsigned long long) j->failed, (unsigned long long) j->cancelled);
            }
            wire_free(reply);
            return rc;
        }
        wire_free(reply);
        usleep(250 * 1000);
    }
    return EXIT_FAILURES;
}

int
cmd_status(cli_globals_t *g, int argc, char **argv)
{
    bool watch = false, wait = false;
    opt_t opts[] = {
        { "watch", 'w', NULL, OPT_BOOL, &watch, NULL, "redraw every second until the job ends" },
        { "wait", 0, NULL, OPT_BOOL, &wait, NULL, "wait until the job ends; exit 1 if any task failed" },
        { NULL }
    };
    config_t cfg = { .prog = "shoal status", .usage = "JOB [--watch | --wait]", .opts = opts,
        .description = "Show a job: state, counts, rate, ETA, latency, errors.",
        .epilog = "Examples:\n  shoal status 3\n  shoal status 3 --watch\n  shoal -o json status 3 | jq .failed" };
    int rc = config_parse(&cfg, argc, argv);
    if (rc != 0) {
        config_free(&cfg);
        return rc > 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (cfg.positional_count != 1) {
        fprintf(stderr, "shoal status: expected one JOB (see --help)\n");
        config_free(&cfg);
        return EXIT_USAGE;
    }
    uint32_t job_id = cli_job_id("shoal status", cfg.positional[0]);
    config_free(&cfg);
    if (!job_id)
        return EXIT_USAGE;
    client_t *client = cli_connect(g);
    if (!client)
        return EXIT_UNREACHABLE;
    int code = EXIT_OK;
    if (wait) {
        code = cli_wait_job(g, client, job_id, false);
        client_destroy(&client);
        return code;
    }
    signal(SIGINT, s_on_sigint);
    while (true) {
        Shoal__Envelope *reply = cli_get_status(g, client, job_id, &code);
        if (!reply)
            break;
        const Shoal__JobInfo *j = reply->status_reply->job;
        if (watch && !g->json && isatty(1))
            printf("\033[H\033[2J");
        cli_print_job(g, j);
        fflush(stdout);
        bool finished = j->state == SHOAL__JOB_STATE__JOB_DONE || j->state == SHOAL__JOB_STATE__JOB_CANCELLED;
        wire_free(reply);
        if (!watch || finished || s_interrupted)
            break;
        sleep(1);
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
        .description = "List jobs, newest first.", .epilog = "Examples:\n  shoal jobs\n  shoal -o json jobs --limit 5" };
    int rc = config_parse(&cfg, argc, argv);
    config_free(&cfg);
    if (rc != 0)
        return rc > 0 ? EXIT_OK : EXIT_USAGE;
    if (limit < 1 || limit > 10000) {
        fprintf(stderr, "shoal jobs: --limit must be 1..10000\n");
        return EXIT_USAGE;
    }
    client_t *client = cli_connect(g);
    if (!client)
        return EXIT_UNREACHABLE;
    Shoal__JobsRequest jr = SHOAL__JOBS_REQUEST__INIT;
    jr.has_limit = 1;
    jr.limit = (uint32_t) limit;
    Shoal__Envelope req = SHOAL__ENVELOPE__INIT;
    req.body_case = SHOAL__ENVELOPE__BODY_JOBS_REQUEST;
    req.jobs_request = &jr;
    char err[1024];
    int code = EXIT_OK;
    Shoal__Envelope *reply = client_call(client, &req, err, sizeof err, &code);
    client_destroy(&client);
    if (!reply) {
        fprintf(stderr, "shoal jobs: %s\n", err);
        return code;
    }
    Shoal__JobsReply *jobs = reply->jobs_reply;
    if (g->json) {
        json_t *arr = json_array();
        for (size_t i = 0; jobs && i < jobs->n_jobs; i++)
            json_array_append_new(arr, report_job_json(jobs->jobs[i]));
        char *text = json_dumps(arr, JSON_COMPACT);
        printf("%s\n", text);
        free(text);
        json_decref(arr);
    }
    else {
        printf("%6s  %-9s  %6s  %12s  %12s  %10s  %10s  %s\n", "JOB", "STATE", "DONE%", "TOTAL", "OK",
               "FAILED", "RATE", "NAME");
        for (size_t i = 0; jobs && i < jobs->n_jobs; i++) {
            const Shoal__JobInfo *j = jobs->jobs[i];
            char total[32], ok[32], failed[32], rate[32];
            printf("%6u  %-9s  %5.1f%%  %12s  %12s  %10s  %10s  %s\n", j->id, report_state_name(j->state),
                   report_percent(j), text_thousands(j->total, total, sizeof total),
                   text_thousands(j->ok, ok, sizeof ok), text_thousands(j->failed, failed, sizeof failed),
                   j->state == SHOAL__JOB_STATE__JOB_ACTIVE ? report_rate(j->rate, rate, sizeof rate) : "-",
                   j->name ? j->name : "");
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
        .description = "List the workers connected to the broker.",
        .epilog = "Examples:\n  shoal workers\n  shoal -o json workers | jq '.[].busy'" };
    int rc = config_parse(&cfg, argc, argv);
    config_free(&cfg);
    if (rc != 0)
        return rc > 0 ? EXIT_OK : EXIT_USAGE;
    client_t *client = cli_connect(g);
    if (!client)
        return EXIT_UNREACHABLE;
    Shoal__WorkersRequest wr = SHOAL__WORKERS_REQUEST__INIT;
    Shoal__Envelope req = SHOAL__ENVELOPE__INIT;
    req.body_case = SHOAL__ENVELOPE__BODY_WORKERS_REQUEST;
    req.workers_request = &wr;
    char err[1024];
    int code = EXIT_OK;
    Shoal__Envelope *reply = client_call(client, &req, err, sizeof err, &code);
    client_destroy(&client);
    if (!reply) {
        fprintf(stderr, "shoal workers: %s\n", err);
        return code;
    }
    Shoal__WorkersReply *w = reply->workers_reply;
    if (g->json) {
        json_t *arr = json_array();
        for (size_t i = 0; w && i < w->n_workers; i++)
            json_array_append_new(arr, report_worker_json(w->workers[i]));
        char *text = json_dumps(arr, JSON_COMPACT);
        printf("%s\n", text);
        free(text);
        json_decref(arr);
    }
    else {
        printf("%-32s  %-16s  %7s  %5s  %5s  %10s  %8s  %9s\n", "WORKER", "HOST", "PID", "SLOTS", "BUSY",
               "DONE", "FAILED", "LAST SEEN");
        for (size_t i = 0; w && i < w->n_workers; i++) {
            const Shoal__WorkerInfo *x = w->workers[i];
            char done[32], seen[32];
            printf("%-32s  %-16s  %7u  %5u  %5u  %10s  %8llu  %9s%s\n", x->id, x->host, x->pid, x->slots, x->busy,
                   text_thousands(x->done, done, sizeof done), (unsigned long long) x->failed,
                   report_duration_ms(x->last_seen_ms, seen, sizeof seen), x->draining ? "  draining" : "");
        }
    }
    wire_free(reply);
    return EXIT_OK;
}

//  retry --status 5xx,429,0 -> classes and statuses
static int
s_parse_status_filter(const char *text, uint32_t *statuses, size_t *n_statuses, uint32_t *classes,
                      size_t *n_classes)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", text);
    for (char *tok = strtok(buf, ", "); tok; tok = strtok(NULL, ", ")) {
        if (strlen(tok) == 3 && tok[0] >= '1' && tok[0] <= '5' && (tok[1] == 'x' || tok[1] == 'X')
        &&  (tok[2] == 'x' || tok[2] == 'X')) {
            if (*n_classes >= 10)
                return -1;
            classes[(*n_classes)++] = (uint32_t) (tok[0] - '0');
            continue;
        }
        if (!strcmp(tok, "none") || !strcmp(tok, "0")) {
            if (*n_classes >= 10)
                return -1;
            classes[(*n_classes)++] = 0;
            continue;
        }
        char *end;
        long v = strtol(tok, &end, 10);
        if (*end || v < 100 || v > 599 || *n_statuses >= 100)
            return -1;
        statuses[(*n_statuses)++] = (uint32_t) v;
    }
    return 0;
}

int
cmd_control(cli_globals_t *g, int argc, char **argv)
{
    const char *name = argv[0];
    const char *status_filter = NULL;
    bool failed = false;
    opt_t retry_opts[] = {
        { "failed", 0, NULL, OPT_BOOL, &failed, NULL, "retry failed tasks (the default)" },
        { "status", 0, NULL, OPT_STRING, &status_filter, "LIST",
          "only failed tasks with these HTTP statuses: 503,429,5xx,4xx, none (no response)" },
        { NULL }
    };
    opt_t none[] = { { NULL } };
    char prog[64];
    snprintf(prog, sizeof prog, "shoal %s", name);
    Shoal__ControlAction action = !strcmp(name, "pause") ? SHOAL__CONTROL_ACTION__CONTROL_PAUSE
                                : !strcmp(name, "resume") ? SHOAL__CONTROL_ACTION__CONTROL_RESUME
                                : !strcmp(name, "cancel") ? SHOAL__CONTROL_ACTION__CONTROL_CANCEL
                                : SHOAL__CONTROL_ACTION__CONTROL_RETRY;
    const char *description =
        action == SHOAL__CONTROL_ACTION__CONTROL_PAUSE ? "Stop handing out the job's tasks; running tasks finish."
      : action == SHOAL__CONTROL_ACTION__CONTROL_RESUME ? "Hand out a paused job's tasks again."
      : action == SHOAL__CONTROL_ACTION__CONTROL_CANCEL ? "Cancel the job: queued tasks are marked cancelled and running ones aborted."
      : "Run the job's failed tasks again, with a fresh attempt budget.";
    char epilog[256];
    snprintf(epilog, sizeof epilog, "Examples:\n  shoal %s 3%s", name,
             action == SHOAL__CONTROL_ACTION__CONTROL_RETRY ? "\n  shoal retry 3 --failed --status 5xx,429" : "");
    config_t cfg = { .prog = prog, .usage = action == SHOAL__CONTROL_ACTION__CONTROL_RETRY
                     ? "JOB [--failed] [--status LIST]" : "JOB",
                     .opts = action == SHOAL__CONTROL_ACTION__CONTROL_RETRY ? retry_opts : none,
                     .description = description, .epilog = epilog };
    int rc = config_parse(&cfg, argc, argv);
    if (rc != 0) {
        config_free(&cfg);
        return rc > 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (cfg.positional_count != 1) {
        fprintf(stderr, "%s: expected one JOB (see --help)\n", prog);
        config_free(&cfg);
        return EXIT_USAGE;
    }
    uint32_t job_id = cli_job_id(prog, cfg.positional[0]);
    config_free(&cfg);
    if (!job_id)
        return EXIT_USAGE;
    uint32_t statuses[100], classes[10];
    size_t n_statuses = 0, n_classes = 0;
    if (status_filter && s_parse_status_filter(status_filter, statuses, &n_statuses, classes, &n_classes)) {
        fprintf(stderr, "%s: --status takes HTTP statuses and classes like 503,429,5xx,none\n", prog);
        return EXIT_USAGE;
    }
    client_t *client = cli_connect(g);
    if (!client)
        return EXIT_UNREACHABLE;
    Shoal__JobControl jc = SHOAL__JOB_CONTROL__INIT;
    jc.has_job_id = jc.has_action = 1;
    jc.job_id = job_id;
    jc.action = action;
    jc.retry_status = statuses;
    jc.n_retry_status = n_statuses;
    jc.retry_class = classes;
    jc.n_retry_class = n_classes;
    Shoal__Envelope req = SHOAL__ENVELOPE__INIT;
    req.body_case = SHOAL__ENVELOPE__BODY_JOB_CONTROL;
    req.job_control = &jc;
    char err[1024];
    int code = EXIT_OK;
    Shoal__Envelope *reply = client_call(client, &req, err, sizeof err, &code);
    client_destroy(&client);
    if (!reply) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return code;
    }
    Shoal__ControlReply *cr = reply->control_reply;
    if (g->json) {
        json_t *o = cr && cr->job ? report_job_json(cr->job) : json_object();
        json_object_set_new(o, "affected", json_integer(cr ? (json_int_t) cr->affected : 0));
        char *text = json_dumps(o, JSON_COMPACT);
        printf("%s\n", text);
        free(text);
        json_decref(o);
    }
    else {
        const char *past = action == SHOAL__CONTROL_ACTION__CONTROL_PAUSE ? "paused"
                         : action == SHOAL__CONTROL_ACTION__CONTROL_RESUME ? "resumed"
                         : action == SHOAL__CONTROL_ACTION__CONTROL_CANCEL ? "cancelled" : "retrying";
        if (action == SHOAL__CONTROL_ACTION__CONTROL_CANCEL)
            printf("job %u cancelled (%llu tasks not yet run)\n", job_id,
                   (unsigned long long) (cr ? cr->affected : 0));
        else
        if (action == SHOAL__CONTROL_ACTION__CONTROL_RETRY)
            printf("job %u: %s %llu failed tasks\n", job_id, past, (unsigned long long) (cr ? cr->affected : 0));
        else
            printf("job %u %s\n", job_id, past);
    }
    wire_free(reply);
    return EXIT_OK;
}
