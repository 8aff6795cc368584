/*  submit_opts — what the flags of shoal submit mean for the job: its
    defaults (through the same JSON mapping as the input's task fields)
    and the input's format. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "submit.h"

static int
s_set(json_t *obj, const char *key, json_t *value)
{
    return json_object_set_new(obj, key, value);
}

Shoal__JobDefaults *
submit_defaults(const submit_opts_t *o, char *err, size_t errlen)
{
    json_t *d = NULL;
    if (o->defaults_json) {
        json_error_t jerr;
        d = json_loads(o->defaults_json, 0, &jerr);
        if (!json_is_object(d)) {
            snprintf(err, errlen, "--defaults: not a JSON object (%s)", d ? "wrong type" : jerr.text);
            json_decref(d);
            return NULL;
        }
    }
    else
        d = json_object();
    if (o->max_attempts >= 0)   s_set(d, "max_attempts", json_integer(o->max_attempts));
    if (o->backoff_ms >= 0)     s_set(d, "backoff_ms", json_integer(o->backoff_ms));
    if (o->backoff_max_ms >= 0) s_set(d, "backoff_max_ms", json_integer(o->backoff_max_ms));
    if (o->timeout_ms >= 0)     s_set(d, "timeout_ms", json_integer(o->timeout_ms));
    if (o->per_host >= 0)       s_set(d, "max_per_host", json_integer(o->per_host));
    //  -1: not given; 0 is a value (no limit): shoal update --rate-per-host 0 clears one
    if (o->rate_per_host < 0 && o->rate_per_host != -1) {
        snprintf(err, errlen, "--rate-per-host: %g is negative (0: no limit)", o->rate_per_host);
        json_decref(d);
        return NULL;
    }
    if (o->rate_per_host >= 0)  s_set(d, "rate_per_host", json_real(o->rate_per_host));
    if (o->connect_timeout_ms >= 0) s_set(d, "connect_timeout_ms", json_integer(o->connect_timeout_ms));
    if (o->max_redirects >= 0)  s_set(d, "max_redirects", json_integer(o->max_redirects));
    if (o->max_response_bytes >= 0) s_set(d, "max_response_bytes", json_integer(o->max_response_bytes));
    if (o->inline_limit >= 0)   s_set(d, "inline_limit", json_integer(o->inline_limit));
    if (o->method)              s_set(d, "method", json_string(o->method));
    if (o->body)                s_set(d, "body", json_string(o->body));
    if (o->store)               s_set(d, "store", json_string(o->store));
    if (o->insecure)            s_set(d, "insecure", json_true());
    if (o->follow)              s_set(d, "follow_redirects", json_true());
    if (o->no_follow)           s_set(d, "follow_redirects", json_false());
    if (o->headers.count) {
        json_t *h = json_array();
        for (size_t i = 0; i < o->headers.count; i++)
            json_array_append_new(h, json_string(o->headers.items[i]));
        s_set(d, "headers", h);
    }
    if (o->require.count) {
        json_t *req = json_object_get(d, "require");
        if (!json_is_object(req)) {
            req = json_object();
            s_set(d, "require", req);
        }
        for (size_t i = 0; i < o->require.count; i++) {
            const char *eq = strchr(o->require.items[i], '=');
            if (!eq || eq == o->require.items[i]) {
                snprintf(err, errlen, "--require: '%s' is not KEY=VALUE", o->require.items[i]);
                json_decref(d);
                return NULL;
            }
            char key[128];
            snprintf(key, sizeof key, "%.*s", (int) (eq - o->require.items[i]), o->require.items[i]);
            json_object_set_new(req, key, json_string(eq + 1));
        }
    }
    if (o->retry_status) {
        json_t *list = json_array();
        char buf[512];
        snprintf(buf, sizeof buf, "%s", o->retry_status);
        for (char *tok = strtok(buf, ", "); tok; tok = strtok(NULL, ", ")) {
            char *end;
            long v = strtol(tok, &end, 10);
            if (*end || v < 100 || v > 599) {
                snprintf(err, errlen, "--retry-status: '%s' is not an HTTP status", tok);
                json_decref(list);
                json_decref(d);
                return NULL;
            }
            json_array_append_new(list, json_integer(v));
        }
        s_set(d, "retry_status", list);
    }
    char inner[512];
    Shoal__JobDefaults *defaults = input_defaults_from_json(d, inner, sizeof inner);
    json_decref(d);
    if (!defaults)
        snprintf(err, errlen, "job defaults: %s", inner);
    return defaults;
}

const char *
submit_guess_format(const char *path)
{
    const char *dot = path ? strrchr(path, '.') : NULL;
    if (dot && !strcmp(dot, ".csv"))
        return "csv";
    if (dot && (!strcmp(dot, ".txt") || !strcmp(dot, ".urls") || !strcmp(dot, ".lst")))
        return "urls";
    return "jsonl";
}


//  The options of shoal submit, into opts (room for SUBMIT_MAX_OPTS),
//  pointing into o; and the command's help around them into cfg.
void
submit_options(submit_opts_t *o, opt_t *opts, config_t *cfg)
{
    const opt_t table[] = {
        { "name", 'n', NULL, OPT_STRING, &o->name, "NAME", "job name (default: the file name or template)" },
        { "key", 'k', NULL, OPT_STRING, &o->key, "KEY", "idempotency key: the same key resumes the same job" },
        { "format", 'f', NULL, OPT_STRING, &o->format, "FMT", "jsonl, urls or csv (default from the file name, else jsonl)" },
        { "pipeline", 0, NULL, OPT_STRING, &o->pipeline, "FILE", "apply the steps of a pipeline file to every item (docs/pipelines.md)" },
        { "range", 0, NULL, OPT_STRING, &o->range, "NAME=A..B", "with --pipeline: items NAME=A..B[..STEP] instead of a FILE" },
        { "csv-delimiter", 0, NULL, OPT_STRING, &o->csv_delimiter, "D", "CSV delimiter: ',', ';' or tab (default: detected from the header)" },
        { "url-template", 't', NULL, OPT_STRING, &o->url_template, "URL", "generate tasks: 'https://h/p/{1..1000}' ({FIRST..LAST..STEP}, {001..100} pads)" },
        { "count", 0, NULL, OPT_INT, &o->count, "N", "submit N noop tasks (tests, benchmarks)" },
        { "sleep-ms", 0, NULL, OPT_INT, &o->sleep_ms, "MS", "with --count: each noop task sleeps this long" },
        { "priority", 'p', NULL, OPT_INT, &o->priority, "N", "share weight against other jobs, 1..1000 (default 1)" },
        { "max-attempts", 0, NULL, OPT_INT, &o->max_attempts, "N", "attempts per task (default 3)" },
        { "backoff-ms", 0, NULL, OPT_INT, &o->backoff_ms, "MS", "first retry delay, doubling (default 1000)" },
        { "backoff-max-ms", 0, NULL, OPT_INT, &o->backoff_max_ms, "MS", "longest retry delay (default 60000)" },
        { "retry-status", 0, NULL, OPT_STRING, &o->retry_status, "LIST", "HTTP statuses to retry (default 429 and 5xx)" },
        { "timeout-ms", 0, NULL, OPT_INT, &o->timeout_ms, "MS", "task timeout (default 60000)" },
        { "per-host", 0, NULL, OPT_INT, &o->per_host, "N", "at most N requests at once per target host" },
        { "rate-per-host", 0, NULL, OPT_DOUBLE, &o->rate_per_host, "R", "at most R requests per second per host" },
        { "method", 'X', NULL, OPT_STRING, &o->method, "METHOD", "default HTTP method" },
        { "header", 'H', NULL, OPT_LIST, &o->headers, "'N: V'", "default HTTP header (repeatable)" },
        { "body", 0, NULL, OPT_STRING, &o->body, "TEXT", "default HTTP body" },
        { "connect-timeout-ms", 0, NULL, OPT_INT, &o->connect_timeout_ms, "MS", "HTTP connect timeout" },
        { "follow-redirects", 0, NULL, OPT_BOOL, &o->follow, NULL, "follow HTTP redirects" },
        { "no-follow-redirects", 0, NULL, OPT_BOOL, &o->no_follow, NULL, "do not follow redirects" },
        { "max-redirects", 0, NULL, OPT_INT, &o->max_redirects, "N", "redirects to follow at most" },
        { "insecure", 0, NULL, OPT_BOOL, &o->insecure, NULL, "do not verify TLS certificates" },
        { "max-response-bytes", 0, NULL, OPT_INT, &o->max_response_bytes, "N", "cut responses after N bytes" },
        { "store", 0, NULL, OPT_STRING, &o->store, "WHERE", "response bodies: inline, dir or discard" },
        { "inline-limit", 0, NULL, OPT_INT, &o->inline_limit, "N", "body bytes kept in the result row" },
        { "require", 0, NULL, OPT_LIST, &o->require, "KEY=VALUE", "run only on workers with this --label (repeatable)" },
        { "defaults", 0, NULL, OPT_STRING, &o->defaults_json, "JSON", "job defaults as a JSON object (task fields)" },
        { "skip-invalid", 0, NULL, OPT_BOOL, &o->skip_invalid, NULL, "report bad lines and go on (default: stop before sealing)" },
        { "wait", 'w', NULL, OPT_BOOL, &o->wait, NULL, "follow the job until done; exit 1 if any task failed" },
        { "quiet", 'q', NULL, OPT_BOOL, &o->quiet, NULL, "no progress line, no summary" },
        { "chunk", 0, NULL, OPT_INT, &o->chunk, "N", "tasks per chunk (default 5000; a chunk also stops at 4 MiB)" },
        { "window", 0, NULL, OPT_INT, &o->window, "N", "chunks in flight (default 8)" },
        { "max-line", 0, NULL, OPT_INT, &o->max_line, "BYTES", "longest input line (default 1048576)" },
        { NULL }
    };
    size_t n = sizeof table / sizeof table[0];
    memcpy(opts, table, n * sizeof *opts);     //  with its { NULL } end
    *cfg = (config_t) {
        .prog = "shoal submit", .usage = "[options] [FILE|-]", .opts = opts,
        .description =
            "Submit a job. Tasks come from FILE (or stdin: '-' or a pipe), from\n"
            "--url-template, or from --count. The input is streamed in chunks, each\n"
            "acknowledged once the broker committed it, in constant memory whatever its\n"
            "size; on a terminal a progress line shows tasks sent, committed and the rate.\n"
            "The job id goes to stdout (-o json: {\"job\", \"tasks\", \"resumed\", \"invalid\"}).\n"
            "\n"
            "Resume: with --key K the submit is idempotent. After the CLI was killed or the\n"
            "connection dropped, run the same command again: it skips the tasks the broker\n"
            "already committed and sends the rest, so no task is missing and none doubled;\n"
            "a job already complete is not touched. Without --key every submit is a new job\n"
            "(it gets a key 'auto-...' that error messages show, to continue it).\n"
            "\n"
            "Bad input: a line that does not parse or validate is reported as FILE:LINE: why.\n"
            "The submit stops there before sealing the job (exit 3) and says how to go on;\n"
            "--skip-invalid reports and skips such lines instead. Committed tasks are kept.\n"
            "\n"
            "Job options below become the job's defaults; a task's own fields win.",
        .epilog =
            "Input formats (--format, default from the file name: .csv, .txt/.urls/.lst, else jsonl):\n"
            "  jsonl  one task per line: {\"url\": \"https://example.com/a\", \"method\": \"POST\", \"body\": \"x\"}\n"
            "         {\"argv\": [\"convert\", \"in.png\", \"out.jpg\"]}   {\"kind\": \"noop\", \"sleep_ms\": 5}\n"
            "         (every field: docs/cli.md; unknown fields are errors)\n"
            "  urls   one URL per line; blank lines and # comments are skipped\n"
            "  csv    a header row of task fields (url, method, body, tag, timeout_ms,\n"
            "         header:Accept, ...), then one task per row; empty cells are unset;\n"
            "         quoted cells may hold line breaks; CRLF and a UTF-8 BOM are fine;\n"
            "         the delimiter (, ; or tab) is detected from the header (--csv-delimiter)\n"
            "  --url-template 'https://h/p/{1..168867}'  ranges {FIRST..LAST} or {FIRST..LAST..STEP};\n"
            "         {001..100} pads with zeros; several ranges multiply\n"
            "\nExamples:\n"
            "  shoal submit --name pages --format urls urls.txt --per-host 4 --wait\n"
            "  shoal submit --key crawl-2026-11 tasks.jsonl     # run again to resume after a crash\n"
            "  shoal submit --url-template 'https://api.example.com/item/{1..168867}' -H 'Accept: application/json'\n"
            "  shoal submit --format csv --skip-invalid --max-attempts 5 --rate-per-host 10 items.csv\n"
            "  zcat urls.gz | shoal submit --format urls --key urls-1 -\n"
            "  shoal submit --count 100000 --name bench",
    };
}
