/*  delete — shoal delete JOB... and shoal prune --older-than AGE: finished
    jobs leave the database with every row of them.

    The broker deletes (the only process with database access), in short
    batches on a connection of its own, and answers with the counts once
    every row is gone; that can take minutes for a job of tens of millions
    of rows, so the CLI waits as long as the broker still answers a probe.
    With --archive DIR the CLI first streams the job's results, exactly as
    `shoal results JOB` prints them, into DIR/job-ID.jsonl.gz (archive.c),
    and asks for the deletion only once that file is complete. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "archive.h"
#include "cli.h"
#include "clock.h"
#include "config.h"
#include "duration.h"
#include "report.h"
#include "wire.h"

#define PRUNE_MAX_JOBS 10000

//  What to do with each job.
typedef struct {
    const char *prog;           //  for messages
    bool        cancel;         //  cancel an active job first
    const char *archive;        //  DIR, or NULL
    uint64_t    jobs, tasks, results;   //  deleted so far
} plan_t;

//  Ask the broker and wait for the answer for as long as the broker still
//  answers a probe every broker timeout. NULL with err and *code on failure.
static Shoal__Envelope *
s_call_long(cli_globals_t *g, client_t *client, Shoal__Envelope *req, char *err, size_t errlen, int *code)
{
    uint64_t want = client_send(client, req);
    uint64_t probe = 0;
    bool probe_answered = true;
    *code = EXIT_UNREACHABLE;
    if (!want) {
        snprintf(err, errlen, "cannot send to the broker at %s", client_endpoint(client));
        return NULL;
    }
    while (true) {
        Shoal__Envelope *reply = client_recv(client, 0, (int) g->timeout_ms);
        if (!reply) {
            if (!probe_answered) {
                snprintf(err, errlen, "the broker at %s stopped answering (the deletion may go on there;"
                         " see 'shoal jobs')", client_endpoint(client));
                return NULL;
            }
            Shoal__WorkersRequest body = SHOAL__WORKERS_REQUEST__INIT;
            Shoal__Envelope ping = SHOAL__ENVELOPE__INIT;
            ping.body_case = SHOAL__ENVELOPE__BODY_WORKERS_REQUEST;
            ping.workers_request = &body;
            probe = client_send(client, &ping);
            probe_answered = false;
            continue;
        }
        uint64_t corr = reply->has_corr ? reply->corr : 0;
        if (corr == want) {
            if (reply->body_case == SHOAL__ENVELOPE__BODY_ERROR) {
                client_error_text(reply, err, errlen);
                *code = EXIT_REFUSED;
                wire_free(reply);
                return NULL;
            }
            *code = EXIT_OK;
            return reply;
        }
        if (corr == probe)
            probe_answered = true;
        wire_free(reply);
    }
}

//  The archive's sink: each row as its JSON line.
static int
s_to_archive(void *arg, const Shoal__ResultRow *row, uint32_t job_id)
{
    archive_t *a = arg;
    char *text = cli_result_line(row, job_id);
    char err[600];
    int rc = text ? archive_line(a, text, err, sizeof err) : -1;
    if (rc)
        fprintf(stderr, "shoal: archive of job %u: %s\n", job_id, text ? err : "out of memory");
    free(text);
    return rc;
}

//  Write DIR/job-ID.jsonl.gz from the broker's results; path into `path`.
//  Returns EXIT_OK or why not (reported).
static int
s_archive(client_t *client, plan_t *p, uint32_t job_id, char *path, size_t pathlen, uint64_t *rows)
{
    char err[1024];
    archive_t *a = archive_new(p->archive, job_id, err, sizeof err);
    if (!a) {
        fprintf(stderr, "%s: job %u not deleted: %s\n", p->prog, job_id, err);
        return EXIT_USAGE;
    }
    snprintf(path, pathlen, "%s", archive_path(a));
    cli_export_t x = { p->prog, job_id, false, false, false, 1000, false };
    int code = cli_export(client, &x, s_to_archive, a, rows);
    if (code != EXIT_OK) {
        archive_destroy(&a);
        fprintf(stderr, "%s: job %u not deleted: its archive is incomplete\n", p->prog, job_id);
        return code;
    }
    if (archive_commit(&a, err, sizeof err)) {
        fprintf(stderr, "%s: job %u not deleted: %s\n", p->prog, job_id, err);
        return EXIT_INPUT;
    }
    return EXIT_OK;
}

//  Print what the broker deleted.
static void
s_print(cli_globals_t *g, const Shoal__JobDeleted *d, const char *archive, uint64_t archived)
{
    if (g->json) {
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(d->job_id));
        json_object_set_new(o, "action", json_string("delete"));
        json_object_set_new(o, "name", json_string(d->name ? d->name : ""));
        json_object_set_new(o, "state", json_string(report_state_name(d->state)));
        json_object_set_new(o, "cancelled", json_boolean(d->cancelled));
        json_object_set_new(o, "tasks", json_integer((json_int_t) d->tasks));
        json_object_set_new(o, "results", json_integer((json_int_t) d->results));
        json_object_set_new(o, "attempts", json_integer((json_int_t) d->attempts));
        json_object_set_new(o, "updates", json_integer((json_int_t) d->updates));
        json_object_set_new(o, "batches", json_integer(d->batches));
        json_object_set_new(o, "longest_batch_ms", json_integer(d->longest_ms));
        if (archive) {
            json_object_set_new(o, "archive", json_string(archive));
            json_object_set_new(o, "archived", json_integer((json_int_t) archived));
        }
        char *text = json_dumps(o, JSON_COMPACT);
        printf("%s\n", text ? text : "{}");
        free(text);
        json_decref(o);
        return;
    }
    printf("job %u deleted%s: %llu tasks, %llu results, %llu attempts, %llu updates"
           " (%u transactions, longest %u ms)", d->job_id, d->cancelled ? " (cancelled first)" : "",
           (unsigned long long) d->tasks, (unsigned long long) d->results,
           (unsigned long long) d->attempts, (unsigned long long) d->updates, d->batches, d->longest_ms);
    if (archive)
        printf("; %llu results archived in %s", (unsigned long long) archived, archive);
    printf("\n");
}

//  Cancel an active job before archiving it (its results are then final).
static int
s_cancel_first(client_t *client, plan_t *p, const Shoal__JobInfo *job)
{
    if (job->state != SHOAL__JOB_STATE__JOB_ACTIVE && job->state != SHOAL__JOB_STATE__JOB_PAUSED)
        return EXIT_OK;
    Shoal__JobControl jc = SHOAL__JOB_CONTROL__INIT;
    jc.has_job_id = jc.has_action = 1;
    jc.job_id = job->id;
    jc.action = SHOAL__CONTROL_ACTION__CONTROL_CANCEL;
    Shoal__Envelope req = SHOAL__ENVELOPE__INIT;
    req.body_case = SHOAL__ENVELOPE__BODY_JOB_CONTROL;
    req.job_control = &jc;
    char err[1024];
    int code = EXIT_OK;
    Shoal__Envelope *reply = client_call(client, &req, err, sizeof err, &code);
    if (!reply && client_error_code(client) != SHOAL__ERROR_CODE__ERR_STATE) {
        fprintf(stderr, "%s: job %u: cancelling: %s\n", p->prog, job->id, err);
        return code;
    }
    wire_free(reply);
    return EXIT_OK;
}

//  Archive (if asked) and delete one job. Returns the exit code.
static int
s_delete_job(cli_globals_t *g, client_t *client, plan_t *p, const Shoal__JobInfo *job)
{
    bool active = job->state == SHOAL__JOB_STATE__JOB_ACTIVE || job->state == SHOAL__JOB_STATE__JOB_PAUSED;
    if (active && !p->cancel) {
        fprintf(stderr, "%s: job %u is %s: only finished (done or cancelled) jobs are deleted;"
                " add --cancel to cancel it first\n", p->prog, job->id, report_state_name(job->state));
        return EXIT_REFUSED;
    }
    char path[4200] = "";
    uint64_t archived = 0;
    int code = EXIT_OK;
    if (p->archive) {
        if (p->cancel && (code = s_cancel_first(client, p, job)) != EXIT_OK)
            return code;
        if ((code = s_archive(client, p, job->id, path, sizeof path, &archived)) != EXIT_OK)
            return code;
    }
    Shoal__JobDelete jd = SHOAL__JOB_DELETE__INIT;
    jd.has_job_id = jd.has_cancel = 1;
    jd.job_id = job->id;
    jd.cancel = p->cancel;
    Shoal__Envelope req = SHOAL__ENVELOPE__INIT;
    req.body_case = SHOAL__ENVELOPE__BODY_JOB_DELETE;
    req.job_delete = &jd;
    char err[1024];
    Shoal__Envelope *reply = s_call_long(g, client, &req, err, sizeof err, &code);
    if (!reply) {
        fprintf(stderr, "%s: job %u: %s\n", p->prog, job->id, err);
        return code;
    }
    if (reply->body_case != SHOAL__ENVELOPE__BODY_JOB_DELETED) {
        fprintf(stderr, "%s: job %u: unexpected reply '%s'\n", p->prog, job->id, wire_body_name(reply));
        wire_free(reply);
        return EXIT_REFUSED;
    }
    s_print(g, reply->job_deleted, p->archive ? path : NULL, archived);
    p->jobs++;
    p->tasks += reply->job_deleted->tasks;
    p->results += reply->job_deleted->results;
    wire_free(reply);
    return EXIT_OK;
}

//  One line about a job for the confirmation.
static void
s_describe(FILE *out, const Shoal__JobInfo *job)
{
    char finished[32] = "";
    if (job->finished_us > 0) {
        time_t t = (time_t) (job->finished_us / 1000000);
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(finished, sizeof finished, ", finished %Y-%m-%d %H:%M", &tm);
    }
    fprintf(out, "  job %u %s (%s, %llu tasks, %llu failed%s)\n", job->id, job->name && *job->name ? job->name : "-",
            report_state_name(job->state), (unsigned long long) job->total, (unsigned long long) job->failed,
            finished);
}

//  Ask on the terminal; --yes answers for scripts. True: go ahead.
static bool
s_confirm(const char *prog, bool yes, Shoal__JobInfo **jobs, size_t n)
{
    if (yes)
        return true;
    if (!isatty(STDIN_FILENO)) {
        fprintf(stderr, "%s: not deleting without a confirmation: stdin is not a terminal (add --yes in"
                " scripts)\n", prog);
        return false;
    }
    fprintf(stderr, "This deletes, with every task, result and attempt row (no undo):\n");
    for (size_t i = 0; i < n && i < 20; i++)
        s_describe(stderr, jobs[i]);
    if (n > 20)
        fprintf(stderr, "  ... and %zu more\n", n - 20);
    fprintf(stderr, "Delete %zu job%s? [y/N] ", n, n == 1 ? "" : "s");
    char line[64];
    if (!fgets(line, sizeof line, stdin))
        return false;
    return line[0] == 'y' || line[0] == 'Y';
}

//  Delete the listed jobs after the confirmation; the exit code of the
//  first failure (the other jobs are still tried).
static int
s_run(cli_globals_t *g, client_t *client, plan_t *p, bool yes, Shoal__JobInfo **jobs, size_t n)
{
    if (!s_confirm(p->prog, yes, jobs, n))
        return EXIT_USAGE;
    int worst = EXIT_OK;
    for (size_t i = 0; i < n; i++) {
        int code = s_delete_job(g, client, p, jobs[i]);
        if (code != EXIT_OK && worst == EXIT_OK)
            worst = code;
    }
    if (n > 1 && !g->json)
        printf("%llu of %zu jobs deleted: %llu tasks, %llu results\n", (unsigned long long) p->jobs, n,
               (unsigned long long) p->tasks, (unsigned long long) p->results);
    return worst;
}

int
cmd_delete(cli_globals_t *g, int argc, char **argv)
{
    plan_t p = { .prog = "shoal delete" };
    bool yes = false;
    opt_t opts[] = {
        { "yes", 'y', NULL, OPT_BOOL, &yes, NULL, "do not ask (scripts; required when stdin is not a terminal)" },
        { "cancel", 0, NULL, OPT_BOOL, &p.cancel, NULL, "cancel an active or paused job first (else it is refused)" },
        { "archive", 0, NULL, OPT_STRING, &p.archive, "DIR",
          "first write each job's results to DIR/job-ID.jsonl.gz (what 'shoal results ID' prints, gzip)" },
        { NULL }
    };
    config_t cfg = { .prog = p.prog, .usage = "JOB... [--yes] [--cancel] [--archive DIR]", .opts = opts,
        .description =
            "Delete finished (done or cancelled) jobs with every task, result, attempt and\n"
            "update row. The broker deletes in short transactions on a connection of its\n"
            "own, so running jobs go on at full speed; it answers with the counts when\n"
            "every row is gone. Deleted jobs leave 'shoal jobs', status, the monitor and\n"
            "the gateway. On a terminal it asks first; scripts pass --yes.",
        .epilog =
            "Examples:\n"
            "  shoal delete 3\n"
            "  shoal delete 3 4 5 --yes\n"
            "  shoal delete 7 --cancel --yes               # a job still running\n"
            "  shoal delete 3 --archive /backup/shoal --yes  # zcat /backup/shoal/job-3.jsonl.gz" };
    int rc = config_parse(&cfg, argc, argv);
    if (rc != 0) {
        config_free(&cfg);
        return rc > 0 ? EXIT_OK : EXIT_USAGE;
    }
    size_t n = (size_t) cfg.positional_count;
    uint32_t *ids = calloc(n ? n : 1, sizeof *ids);
    int code = EXIT_USAGE;
    if (n == 0)
        fprintf(stderr, "%s: expected one or more JOB ids (see %s --help)\n", p.prog, p.prog);
    for (size_t i = 0; ids && i < n; i++)
        if (!(ids[i] = cli_job_id(p.prog, cfg.positional[i])))
            n = 0;
    config_free(&cfg);
    client_t *client = n && ids ? cli_connect(g, p.prog, &code) : NULL;
    Shoal__Envelope **replies = client ? calloc(n, sizeof *replies) : NULL;
    Shoal__JobInfo **jobs = client ? calloc(n, sizeof *jobs) : NULL;
    size_t found = 0;
    for (size_t i = 0; replies && jobs && i < n; i++) {
        char err[1024];
        replies[i] = cli_get_status(client, ids[i], err, sizeof err, &code);
        if (!replies[i]) {
            fprintf(stderr, "%s: %s\n", p.prog, err);
            break;
        }
        jobs[found++] = replies[i]->status_reply->job;
    }
    if (client && found == n)
        code = s_run(g, client, &p, yes, jobs, n);
    for (size_t i = 0; replies && i < n; i++)
        wire_free(replies[i]);
    free(replies);
    free(jobs);
    free(ids);
    client_destroy(&client);
    return code;
}

//  --state done,failed,cancelled into the request. 0, or -1 after saying why.
static int
s_parse_states(const char *text, Shoal__JobsRequest *jr, char **names, size_t room)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", text);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        const char *known[] = { "done", "failed", "cancelled" };
        size_t k = 0;
        while (k < 3 && strcmp(tok, known[k]))
            k++;
        if (k == 3) {
            fprintf(stderr, "shoal prune: --state: '%s' is not done, failed or cancelled\n", tok);
            return -1;
        }
        bool seen = false;
        for (size_t i = 0; i < jr->n_ended; i++)
            seen = seen || !strcmp(names[i], known[k]);
        if (!seen && jr->n_ended < room)
            names[jr->n_ended++] = (char *) known[k];
    }
    jr->ended = names;
    return 0;
}

int
cmd_prune(cli_globals_t *g, int argc, char **argv)
{
    plan_t p = { .prog = "shoal prune" };
    bool yes = false, dry_run = false;
    const char *older = NULL, *states = NULL;
    opt_t opts[] = {
        { "older-than", 0, NULL, OPT_STRING, &older, "AGE", "jobs that finished longer ago than AGE: 30d, 12h, 90m, 2w, 1d12h" },
        { "state", 0, NULL, OPT_STRING, &states, "LIST",
          "only jobs that ended so: done (every task ok), failed (done with failed tasks),\n"
          "                                 cancelled; comma-separated (default: all three)" },
        { "yes", 'y', NULL, OPT_BOOL, &yes, NULL, "do not ask (scripts; required when stdin is not a terminal)" },
        { "dry-run", 'n', NULL, OPT_BOOL, &dry_run, NULL, "list the jobs it would delete, delete nothing" },
        { "archive", 0, NULL, OPT_STRING, &p.archive, "DIR", "first write each job's results to DIR/job-ID.jsonl.gz" },
        { NULL }
    };
    config_t cfg = { .prog = p.prog, .usage = "--older-than AGE [--state LIST] [--yes] [--dry-run] [--archive DIR]",
        .opts = opts,
        .description =
            "Delete the finished jobs whose finished_at is older than AGE, as shoal delete\n"
            "does (every row, short transactions, counts). Active and paused jobs are never\n"
            "pruned. At most 10000 jobs per run.",
        .epilog =
            "Examples:\n"
            "  shoal prune --older-than 30d --dry-run\n"
            "  shoal prune --older-than 30d --state done --yes\n"
            "  shoal prune --older-than 2w --archive /backup/shoal --yes" };
    int rc = config_parse(&cfg, argc, argv);
    if (rc == 0 && cfg.positional_count) {
        fprintf(stderr, "%s: unexpected argument '%s' (see %s --help)\n", p.prog, cfg.positional[0], p.prog);
        rc = -1;
    }
    config_free(&cfg);
    if (rc != 0)
        return rc > 0 ? EXIT_OK : EXIT_USAGE;
    int64_t age = 0;
    char err[1024];
    if (!older) {
        fprintf(stderr, "%s: --older-than AGE is required (e.g. --older-than 30d)\n", p.prog);
        return EXIT_USAGE;
    }
    if (duration_parse(older, &age, err, sizeof err)) {
        fprintf(stderr, "%s: --older-than: %s\n", p.prog, err);
        return EXIT_USAGE;
    }
    Shoal__JobsRequest jr = SHOAL__JOBS_REQUEST__INIT;
    char *names[3];
    if (states && s_parse_states(states, &jr, names, 3))
        return EXIT_USAGE;
    jr.has_limit = jr.has_finished_before_us = 1;
    jr.limit = PRUNE_MAX_JOBS;
    jr.finished_before_us = clock_wall_us() - age * 1000000;
    if (jr.finished_before_us <= 0)
        jr.finished_before_us = 1;
    int code = EXIT_OK;
    client_t *client = cli_connect(g, p.prog, &code);
    if (!client)
        return code;
    Shoal__Envelope req = SHOAL__ENVELOPE__INIT;
    req.body_case = SHOAL__ENVELOPE__BODY_JOBS_REQUEST;
    req.jobs_request = &jr;
    Shoal__Envelope *reply = client_call(client, &req, err, sizeof err, &code);
    if (!reply || reply->body_case != SHOAL__ENVELOPE__BODY_JOBS_REPLY) {
        fprintf(stderr, "%s: %s\n", p.prog, reply ? "unexpected reply" : err);
        wire_free(reply);
        client_destroy(&client);
        return reply ? EXIT_REFUSED : code;
    }
    Shoal__JobsReply *list = reply->jobs_reply;
    if (list->n_jobs == 0) {
        if (!g->json)
            printf("no finished jobs older than %s%s%s\n", older, states ? " ended " : "", states ? states : "");
    }
    else
    if (dry_run) {
        for (size_t i = 0; i < list->n_jobs; i++)
            s_describe(stdout, list->jobs[i]);
        if (!g->json)
            printf("%zu jobs would be deleted (--dry-run: nothing deleted)\n", list->n_jobs);
    }
    else
        code = s_run(g, client, &p, yes, list->jobs, list->n_jobs);
    wire_free(reply);
    client_destroy(&client);
    return code;
}
