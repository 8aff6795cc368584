/*  results — export every result of a job, page by page, in constant
    memory: JSON lines (every field) or CSV (the columns people sort by). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "report.h"
#include "result_csv.h"
#include "wire.h"

char *
cli_result_line(const Shoal__ResultRow *row, uint32_t job_id)
{
    json_t *o = report_result_json(row, job_id);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return text;
}

//  shoal results' own sink: each row to stdout, as JSON or CSV.
static int
s_to_stdout(void *arg, const Shoal__ResultRow *row, uint32_t job_id)
{
    const cli_export_t *x = arg;
    if (x->csv && x->items)
        result_csv_item_row(stdout, row, job_id);
    else
    if (x->csv)
        result_csv_row(stdout, row, job_id, x->with_body);
    else {
        json_t *o = x->items ? report_item_json(row, job_id) : NULL;
        char *text = o ? json_dumps(o, JSON_COMPACT) : cli_result_line(row, job_id);
        json_decref(o);
        if (text)
            puts(text);
        free(text);
    }
    return ferror(stdout) ? -1 : 0;
}

int
cli_export(client_t *client, const cli_export_t *x, cli_row_fn emit, void *arg, uint64_t *rows_out)
{
    char err[1024];
    int code = EXIT_OK;
    int64_t after = -1;
    uint64_t rows = 0;
    uint32_t job_id = x->job_id;
    bool failed = x->failed, with_body = x->with_body;
    int64_t page = x->page;
    while (true) {
        Shoal__ResultsRequest rr = SHOAL__RESULTS_REQUEST__INIT;
        rr.has_job_id = rr.has_after_seq = rr.has_limit = rr.has_failed_only = rr.has_with_body = 1;
        rr.job_id = job_id;
        rr.after_seq = after;
        rr.limit = (uint32_t) page;
        rr.failed_only = failed;
        rr.with_body = with_body;
        rr.has_items = rr.items = x->items;
        Shoal__Envelope req = SHOAL__ENVELOPE__INIT;
        req.body_case = SHOAL__ENVELOPE__BODY_RESULTS_REQUEST;
        req.results_request = &rr;
        Shoal__Envelope *reply = client_call(client, &req, err, sizeof err, &code);
        if (!reply) {
            fprintf(stderr, "%s: results of job %u, after %llu rows: %s\n", x->prog ? x->prog : "shoal results",
                    job_id, (unsigned long long) rows, err);
            break;
        }
        Shoal__ResultsPage *p = reply->results_page;
        if (reply->body_case != SHOAL__ENVELOPE__BODY_RESULTS_PAGE || !p) {
            fprintf(stderr, "%s: unexpected reply '%s'\n", x->prog ? x->prog : "shoal results",
                    wire_body_name(reply));
            wire_free(reply);
            code = EXIT_REFUSED;
            break;
        }
        bool stop = false;
        for (size_t i = 0; i < p->n_rows && !stop; i++) {
            stop = emit(arg, p->rows[i], job_id) != 0;
            after = p->rows[i]->seq;
            rows++;
        }
        bool last = p->last;
        if (p->has_next_after_seq && p->next_after_seq > after)
            after = p->next_after_seq;
        else
        if (p->n_rows == 0)
            last = true;        //  an older broker: no rows means the end
        wire_free(reply);
        if (stop) {
            code = EXIT_INPUT;      //  the sink said why
            break;
        }
        if (last)
            break;
    }
    *rows_out = rows;
    return code;
}

int
cmd_results(cli_globals_t *g, int argc, char **argv)
{
    const char *format = "jsonl";
    bool failed = false, with_body = false, items = false;
    int64_t page = 1000;
    opt_t opts[] = {
        { "format", 'f', NULL, OPT_STRING, &format, "FMT", "jsonl (every field) or csv (default jsonl)" },
        { "failed", 0, NULL, OPT_BOOL, &failed, NULL, "only tasks that did not succeed" },
        { "with-body", 0, NULL, OPT_BOOL, &with_body, NULL, "include stored response bodies (CSV: base64)" },
        { "items", 0, NULL, OPT_BOOL, &items, NULL, "pipelines: one row per input item (outcome, furthest step, variables)" },
        { "page", 0, NULL, OPT_INT, &page, "N", "results per request (default 1000)" },
        { NULL }
    };
    config_t cfg = { .prog = "shoal results", .usage = "JOB [--format jsonl|csv] [--failed] [--with-body] [--items]",
        .opts = opts,
        .description =
            "Write every result of a job to stdout in task order (seq), page by page, in\n"
            "constant memory. A running job gives the results stored so far.\n"
            "jsonl: one object per task with every field (http: status, headers, bytes,\n"
            "sha256, timings; exec: exit_code, signal, stdout/stderr tails).\n"
            "csv: job,seq,outcome,attempt,target,tag,worker,error,http_status,bytes,sha256,\n"
            "final_url,body_path,total_ms,exit_code,started_us,finished_us[,body_b64].\n"
            "Bodies are left out unless --with-body: JSON gets text bodies as a string and\n"
            "binary ones as {\"base64\": ...}; CSV gets a base64 column.\n"
            "--items (pipeline jobs): one row per input item instead, in item order: its\n"
            "outcome (complete, failed, cancelled, running), tasks, the furthest step, its\n"
            "variables so far, the failed step and error (csv: " RESULT_CSV_ITEM_HEADER ").",
        .epilog = "Examples:\n  shoal results 3 > results.jsonl\n  shoal results 3 --format csv --failed > failures.csv\n"
                  "  shoal results 3 | jq -r 'select(.http.status == 404) | .target'\n"
                  "  shoal results 3 --with-body | jq -r .http.body" };
    int rc = config_parse(&cfg, argc, argv);
    if (rc != 0) {
        config_free(&cfg);
        return rc > 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (cfg.positional_count != 1) {
        fprintf(stderr, "shoal results: expected one JOB (see --help)\n");
        config_free(&cfg);
        return EXIT_USAGE;
    }
    uint32_t job_id = cli_job_id("shoal results", cfg.positional[0]);
    config_free(&cfg);
    if (!job_id)
        return EXIT_USAGE;
    bool csv = !strcmp(format, "csv");
    if (!csv && strcmp(format, "jsonl")) {
        fprintf(stderr, "shoal results: --format must be jsonl or csv (got '%s')\n", format);
        return EXIT_USAGE;
    }
    if (items && (failed || with_body)) {
        fprintf(stderr, "shoal results: --items goes without --failed and --with-body (filter items with jq or on 'outcome')\n");
        return EXIT_USAGE;
    }
    if (page < 1 || page > 100000) {
        fprintf(stderr, "shoal results: --page must be 1..100000\n");
        return EXIT_USAGE;
    }
    int code = EXIT_OK;
    client_t *client = cli_connect(g, "shoal results", &code);
    if (!client)
        return code;
    //  a job that does not exist is an error, not an empty export
    char err[1024];
    Shoal__Envelope *status = cli_get_status(client, job_id, err, sizeof err, &code);
    if (!status) {
        fprintf(stderr, "shoal results: %s\n", err);
        client_destroy(&client);
        return code;
    }
    wire_free(status);
    if (csv)
        printf("%s%s\n", items ? RESULT_CSV_ITEM_HEADER : RESULT_CSV_HEADER, with_body ? ",body_b64" : "");
    uint64_t rows = 0;
    cli_export_t x = { "shoal results", job_id, csv, failed, with_body, page, items };
    code = cli_export(client, &x, s_to_stdout, &x, &rows);
    if (code == EXIT_INPUT)
        code = EXIT_OK;             //  a write error: reported below
    if ((fflush(stdout) != 0 || ferror(stdout)) && code == EXIT_OK) {
        fprintf(stderr, "shoal results: cannot write the results after %llu rows: %s\n",
                (unsigned long long) rows, strerror(errno));
        code = EXIT_INPUT;
    }
    client_destroy(&client);
    return code;
}
