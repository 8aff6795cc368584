/*  submit — shoal submit: stream tasks to the broker in chunks, with a window of chunks
    in flight, each acked only after it is committed.

    Memory stays constant: the input is read as it is sent, and a chunk's
    specs are kept only until its ack. With --key the submit is idempotent:
    run the same command again after it was killed or cut off and it
    resumes at the broker's committed count, so no task is missing and none
    is doubled. Chunks of the killed run may still reach the broker after
    the rerun started; the broker's guard on the committed count refuses
    whichever copy comes second (a conflict), and the rerun then asks for
    the committed count again and goes on from there (s_reconcile). A bad
    input line stops the submit before the job is sealed (or is skipped
    with --skip-invalid); what was committed stays committed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "submit.h"
#include "wire.h"

//  The checks the option table cannot make; the CSV delimiter into
//  *delimiter. Returns EXIT_OK or EXIT_USAGE after saying why.
static int
s_check(const submit_opts_t *o, const config_t *cfg, const char *path, char *delimiter)
{
    int sources = (path != NULL) + (o->url_template != NULL) + (o->count >= 0) + (o->range != NULL);
    if (cfg->positional_count > 1 || sources > 1) {
        fprintf(stderr, "shoal submit: give one source: a FILE, --url-template or --count\n");
        return EXIT_USAGE;
    }
    if (o->chunk < 1 || o->chunk > 100000 || o->window < 1 || o->window > MAX_WINDOW
    ||  o->priority < 1 || o->priority > 1000 || o->max_line < 16 || o->max_line > (64 << 20)
    ||  o->count < -1 || o->sleep_ms < 0 || o->sleep_ms > UINT32_MAX) {
        fprintf(stderr, "shoal submit: out of range: --chunk 1..100000, --window 1..%d, --priority 1..1000,"
                " --max-line 16..67108864, --count and --sleep-ms 0 or more\n", MAX_WINDOW);
        return EXIT_USAGE;
    }
    *delimiter = 0;
    if (o->csv_delimiter) {
        const char *d = o->csv_delimiter;
        if (!strcmp(d, ",") || !strcmp(d, ";"))
            *delimiter = d[0];
        else
        if (!strcmp(d, "\t") || !strcmp(d, "\\t") || !strcmp(d, "tab"))
            *delimiter = '\t';
        else {
            fprintf(stderr, "shoal submit: --csv-delimiter must be ',', ';' or tab (got '%s')\n", d);
            return EXIT_USAGE;
        }
    }
    if ((o->range || o->pipeline) && (o->url_template || o->count >= 0 || !o->pipeline)) {
        fprintf(stderr, "shoal submit: --pipeline takes items from a FILE (CSV, JSONL) or --range;"
                " --range needs --pipeline\n");
        return EXIT_USAGE;
    }
    if (o->key && (!*o->key || strlen(o->key) > 200)) {
        fprintf(stderr, "shoal submit: --key must be 1..200 characters\n");
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

//  Read and check a pipeline file; its canonical JSON goes in *text.
//  NULL after saying why (FILE:LINE).
static pipeline_t *
s_load_pipeline(const char *path, char **text)
{
    char err[1024];
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "shoal submit: cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(PIPELINE_MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, PIPELINE_MAX_BYTES + 1, f) : 0;
    fclose(f);
    pipeline_t *p = buf ? pipeline_parse(buf, n, path, err, sizeof err) : NULL;
    free(buf);
    if (!p) {
        fprintf(stderr, "%s\n", buf ? err : "shoal submit: out of memory");
        return NULL;
    }
    json_t *doc = pipeline_json(p);
    *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!*text) {
        fprintf(stderr, "shoal submit: out of memory\n");
        pipeline_destroy(&p);
    }
    return p;
}

//  The tasks' source: a template, --count, or a file (stdin for "-" or
//  none; *path becomes "-" then, *file the stream to close). NULL with
//  the exit code in *code after saying why.
static input_t *
s_open_input(const submit_opts_t *o, const char **path, FILE **file, char delimiter, int *code)
{
    char err[1024];
    input_t *input = NULL;
    *code = EXIT_INPUT;
    if (o->range) {
        input_range_t range;
        if (input_range_parse(o->range, &range, err, sizeof err)) {
            fprintf(stderr, "shoal submit: %s\n", err);
            *code = EXIT_USAGE;
            return NULL;
        }
        if (!(input = input_new_range(&range)))
            fprintf(stderr, "shoal submit: out of memory\n");
        return input;
    }
    if (o->url_template) {
        input = input_new_template(o->url_template, err, sizeof err);
        if (!input) {
            fprintf(stderr, "shoal submit: --url-template: %s\n", err);
            *code = EXIT_USAGE;
            return NULL;
        }
        return input;
    }
    if (o->count >= 0) {
        Shoal__NoopSpec noop = SHOAL__NOOP_SPEC__INIT;
        noop.has_sleep_ms = o->sleep_ms > 0;
        noop.sleep_ms = (uint32_t) o->sleep_ms;
        Shoal__TaskSpec proto = SHOAL__TASK_SPEC__INIT;
        proto.kind_case = SHOAL__TASK_SPEC__KIND_NOOP;
        proto.noop = &noop;
        input = input_new_count((uint64_t) o->count, &proto);
    }
    else {
        const char *format = o->format ? o->format : submit_guess_format(*path);
        int f = input_format_parse(format);
        if (f < 0) {
            fprintf(stderr, "shoal submit: --format must be jsonl, urls or csv (got '%s')\n", format);
            *code = EXIT_USAGE;
            return NULL;
        }
        if (!*path || !strcmp(*path, "-")) {
            if (isatty(0))
                fprintf(stderr, "shoal submit: reading tasks from the terminal; give a FILE, "
                        "--url-template or --count (or pipe tasks in)\n");
            *file = stdin;
            *path = "-";
        }
        else
        if (!(*file = fopen(*path, "r"))) {
            fprintf(stderr, "shoal submit: cannot open %s: %s\n", *path, strerror(errno));
            return NULL;
        }
        input = input_new((input_format_t) f, *file, !strcmp(*path, "-") ? "stdin" : *path, (size_t) o->max_line);
        if (input)
            input_set_csv_delimiter(input, delimiter);
        if (input && o->pipeline && f == INPUT_URLS) {
            fprintf(stderr, "shoal submit: pipeline items come from CSV or JSONL, not a URL list\n");
            *code = EXIT_USAGE;
            input_destroy(&input);
            return NULL;
        }
    }
    if (!input)
        fprintf(stderr, "shoal submit: out of memory\n");
    return input;
}

//  Open (or find, by key) the job; on a resumed job skip the tasks it
//  already holds. Returns EXIT_OK, or an exit code after saying why;
//  *done: the job is already complete.
static int
s_open_job(submit_t *s, const submit_opts_t *o, Shoal__JobOpen *open, bool *existed, bool *done)
{
    char err[1024];
    int code = 0;
    Shoal__Envelope req = SHOAL__ENVELOPE__INIT;
    req.body_case = SHOAL__ENVELOPE__BODY_JOB_OPEN;
    req.job_open = open;
    Shoal__Envelope *reply = client_call(s->client, &req, err, sizeof err, &code);
    if (!reply || reply->body_case != SHOAL__ENVELOPE__BODY_JOB_OPENED) {
        fprintf(stderr, "shoal submit: cannot open the job: %s\n", reply ? "unexpected reply" : err);
        wire_free(reply);
        return reply ? EXIT_REFUSED : code;
    }
    s->job_id = reply->job_opened->job_id;
    s->committed = s->resumed_at = reply->job_opened->committed;
    *existed = reply->job_opened->existed;
    bool sealed = reply->job_opened->sealed;
    wire_free(reply);
    *done = *existed && sealed;
    if (*done) {
        fprintf(stderr, "shoal submit: job %u (key %s) is already complete with %llu tasks\n",
                s->job_id, o->key, (unsigned long long) s->committed);
        return EXIT_OK;
    }
    if (*existed && s->committed) {
        uint64_t skipped = input_skip(s->input, s->committed);
        if (skipped < s->committed) {
            fprintf(stderr, "shoal submit: job %u already has %llu tasks but the input has only %llu;"
                    " is this the same input?\n", s->job_id, (unsigned long long) s->committed,
                    (unsigned long long) skipped);
            return EXIT_INPUT;
        }
        if (!o->quiet)
            fprintf(stderr, "shoal submit: resuming job %u after %llu committed tasks\n", s->job_id,
                    (unsigned long long) s->committed);
    }
    chunk_window_set_job(s->window, s->job_id);
    chunk_window_start_at(s->window, s->committed);
    return EXIT_OK;
}

//  How reading the input ended.
typedef enum { STREAM_END, STREAM_BAD_LINE, STREAM_INTERRUPTED } stream_end_t;

//  Read the input and send it in chunks; a full chunk waits until the
//  next task is read (submit_flush keeps it back), so that the last chunk
//  can seal the job in the same commit. Counts skipped bad lines in
//  *invalid.
static stream_end_t
s_stream(submit_t *s, const submit_opts_t *o, uint64_t *invalid)
{
    char err[1024];
    cli_catch_interrupt();
    while (!s->complete) {
        if (cli_interrupted())
            return STREAM_INTERRUPTED;     //  what was read goes out unsealed
        Shoal__TaskSpec *spec = NULL;
        int r = input_next(s->input, &spec, err, sizeof err);
        if (r == 0)
            break;
        if (r == -2 && cli_interrupted())
            return STREAM_INTERRUPTED;     //  Ctrl-C while reading a pipe
        if (r < 0) {
            fprintf(stderr, "%s%s\n", s->tty ? "\r\033[K" : "", err);
            if (r == -1)
                (*invalid)++;
            if (r == -1 && o->skip_invalid)
                continue;
            return STREAM_BAD_LINE;
        }
        if (chunk_window_add(s->window, spec)) {
            if (submit_flush(s, false, true))
                break;
            submit_progress(s, false);
        }
    }
    return STREAM_END;
}

//  Seal a job no chunk sealed (an empty input or rest). EXIT_OK or a code.
static int
s_seal(submit_t *s)
{
    char err[1024];
    int code = 0;
    Shoal__JobSeal seal = SHOAL__JOB_SEAL__INIT;
    seal.has_job_id = seal.has_total = 1;
    seal.job_id = s->job_id;
    seal.total = s->committed;
    Shoal__Envelope req = SHOAL__ENVELOPE__INIT;
    req.body_case = SHOAL__ENVELOPE__BODY_JOB_SEAL;
    req.job_seal = &seal;
    Shoal__Envelope *reply = client_call(s->client, &req, err, sizeof err, &code);
    if (!reply) {
        fprintf(stderr, "shoal submit: cannot seal job %u: %s\n", s->job_id, err);
        return code;
    }
    wire_free(reply);
    return EXIT_OK;
}

//  After the stream: the last chunk (sealing the job unless stopped), the
//  acks, and what to tell the user. Returns the exit code; *sealed when
//  the job is complete and its id should be printed.
static int
s_conclude(submit_t *s, const submit_opts_t *o, stream_end_t end, uint64_t invalid, bool *sealed)
{
    *sealed = false;
    if (!s->error_code)
        submit_flush(s, end == STREAM_END, false);
    if (!s->error_code)
        submit_drain(s);
    submit_progress(s, true);
    if (s->error_code) {
        if (strncmp(s->error, "job ", 4) == 0)
            fprintf(stderr, "shoal submit: %s\n", s->error);
        else
            fprintf(stderr, "shoal submit: job %u: %s\n", s->job_id, s->error);
        if (s->broker_error == SHOAL__ERROR_CODE__ERR_CONFLICT)
            fprintf(stderr, "shoal submit: another submit with key %s seems to be running\n", o->key);
        submit_report_committed(s, o->key);
        return s->error_code;
    }
    if (s->complete) {
        fprintf(stderr, "shoal submit: job %u (key %s) was completed by an earlier run of this submit"
                " with %llu tasks\n", s->job_id, o->key, (unsigned long long) s->committed);
        *sealed = true;
        return EXIT_OK;
    }
    if (end == STREAM_INTERRUPTED) {
        fprintf(stderr, "shoal submit: interrupted; job %u is not sealed and has %llu tasks committed."
                " Run the same command with --key %s to continue, or 'shoal cancel %u' to drop it.\n",
                s->job_id, (unsigned long long) s->committed, o->key, s->job_id);
        return EXIT_INTERRUPTED;
    }
    if (end == STREAM_BAD_LINE) {
        fprintf(stderr, "shoal submit: stopped at the bad line above, before sealing job %u; %llu tasks"
                " are committed and kept. Fix the input and run the same command with --key %s to"
                " continue after them (or add --skip-invalid to skip bad lines), or 'shoal cancel %u'"
                " to drop the job.\n", s->job_id, (unsigned long long) s->committed, o->key, s->job_id);
        return EXIT_INPUT;
    }
    int code = chunk_window_seal_sent(s->window) ? EXIT_OK : s_seal(s);
    if (code != EXIT_OK)
        return code;
    if (invalid)
        fprintf(stderr, "shoal submit: skipped %llu invalid lines\n", (unsigned long long) invalid);
    *sealed = true;
    return EXIT_OK;
}

//  The job's name: --name, else the template, "noop", "stdin" or the
//  file's base name.
static const char *
s_job_name(const submit_opts_t *o, const char *path)
{
    const char *base = path && strcmp(path, "-") ? strrchr(path, '/') : NULL;
    return o->name ? o->name : o->url_template ? o->url_template : o->count >= 0 ? "noop"
         : path && !strcmp(path, "-") ? "stdin" : base ? base + 1 : path ? path : "";
}

int
cmd_submit(cli_globals_t *g, int argc, char **argv)
{
    submit_opts_t o = {
        .priority = 1, .count = -1, .sleep_ms = 0, .chunk = 5000, .window = 8, .max_line = 1 << 20,
        .max_attempts = -1, .backoff_ms = -1, .backoff_max_ms = -1, .timeout_ms = -1, .per_host = -1,
        .connect_timeout_ms = -1, .max_redirects = -1, .max_response_bytes = -1, .inline_limit = -1,
        .rate_per_host = -1,
    };
    opt_t opts[SUBMIT_MAX_OPTS];
    config_t cfg;
    submit_options(&o, opts, &cfg);
    int rc = config_parse(&cfg, argc, argv);
    if (rc != 0) {
        config_free(&cfg);
        return rc > 0 ? EXIT_OK : EXIT_USAGE;
    }
    const char *path = cfg.positional_count ? cfg.positional[0] : NULL;
    FILE *file = NULL;
    Shoal__JobDefaults *defaults = NULL;
    pipeline_t *pipeline = NULL;
    char *pipeline_text = NULL;
    submit_t s = { .g = g };
    char err[1024], auto_key[64], delimiter;
    uint64_t invalid = 0;
    bool existed = false, sealed = false;
    int exit_code = s_check(&o, &cfg, path, &delimiter);
    if (exit_code != EXIT_OK)
        goto cleanup;
    if (!(defaults = submit_defaults(&o, err, sizeof err))) {
        fprintf(stderr, "shoal submit: %s\n", err);
        exit_code = EXIT_USAGE;
        goto cleanup;
    }
    if (o.pipeline && !(pipeline = s_load_pipeline(o.pipeline, &pipeline_text))) {
        exit_code = EXIT_INPUT;
        goto cleanup;
    }
    if (!(s.input = s_open_input(&o, &path, &file, delimiter, &exit_code)))
        goto cleanup;
    if (pipeline)
        input_set_pipeline(s.input, pipeline);
    if (!(s.client = cli_connect(g, "shoal submit", &exit_code)))
        goto cleanup;
    s.total = input_total(s.input);
    s.tty = isatty(2) && !o.quiet && !g->json;
    s.quiet = o.quiet;
    if (!(s.window = submit_window_new(s.client, (size_t) o.window, (size_t) o.chunk))) {
        fprintf(stderr, "shoal submit: out of memory\n");
        exit_code = EXIT_INPUT;
        goto cleanup;
    }
    //  without --key the submit still gets one, so a failure can say how to resume
    if (!o.key) {
        snprintf(auto_key, sizeof auto_key, "auto-%llx-%x", (unsigned long long) clock_wall_us(),
                 (unsigned) getpid());
        o.key = auto_key;
    }
    Shoal__JobOpen open = SHOAL__JOB_OPEN__INIT;
    open.name = (char *) s_job_name(&o, path);
    open.key = (char *) o.key;
    open.has_priority = 1;
    open.priority = (uint32_t) o.priority;
    open.defaults = defaults;
    open.pipeline = pipeline_text;
    s.open = &open;
    exit_code = s_open_job(&s, &o, &open, &existed, &sealed);
    if (exit_code == EXIT_OK && !sealed) {
        s.started_ms = clock_mono_ms();
        stream_end_t end = s_stream(&s, &o, &invalid);
        exit_code = s_conclude(&s, &o, end, invalid, &sealed);
    }
    if (!sealed)
        goto cleanup;
    if (g->json)
        printf("{\"job\":%u,\"tasks\":%llu,\"resumed\":%s,\"invalid\":%llu}\n", s.job_id,
               (unsigned long long) s.committed, existed ? "true" : "false", (unsigned long long) invalid);
    else
        printf("%u\n", s.job_id);
    fflush(stdout);
    if (o.wait) {
        cli_follow_t how = { .prog = "shoal submit", .wait = true, .quiet = o.quiet, .interval_ms = 500 };
        exit_code = cli_follow_job(g, s.client, s.job_id, &how);
    }
cleanup:
    chunk_window_destroy(&s.window);
    client_destroy(&s.client);
    input_destroy(&s.input);
    if (file && file != stdin)
        fclose(file);
    if (defaults)
        shoal__job_defaults__free_unpacked(defaults, NULL);
    pipeline_destroy(&pipeline);
    free(pipeline_text);
    config_free(&cfg);
    return exit_code;
}
