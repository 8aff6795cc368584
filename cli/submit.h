/*  submit — shoal submit (internal header).

    submit.c         the command: options, input, the job, the stream of tasks
    submit_window.c  acks and conflicts with an earlier run, over lib/chunk_window.c
    submit_opts.c    job defaults from the flags, the input's format
*/
#ifndef SHOAL_CLI_SUBMIT_H
#define SHOAL_CLI_SUBMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "chunk_window.h"
#include "cli.h"
#include "config.h"
#include "input.h"

#define MAX_WINDOW      CHUNK_WINDOW_MAX
#define MAX_RECONCILES  20          //  conflicts resolved per run before giving up
#define MAX_FOLLOWS     6           //  silences taken for a takeover per run (a list of brokers)

typedef struct {
    cli_globals_t *g;
    client_t  *client;
    input_t   *input;               //  to skip tasks an earlier run committed meanwhile
    Shoal__JobOpen *open;           //  to ask for the committed count again
    uint32_t   job_id;
    uint64_t   committed;           //  tasks the broker committed (as last told)
    uint64_t   resumed_at;          //  committed when this run started
    uint64_t   total;               //  tasks in the input when known in advance, else 0
    chunk_window_t *window;         //  tasks read and not sent, chunks in flight (lib/chunk_window.h)
    bool       complete;            //  an earlier run sealed the job meanwhile
    int        reconciles;
    int        follows;     //  silences after which the submit asked the (new) leader again
    bool       tty;                 //  show the progress line
    bool       quiet;               //  no notes on stderr
    int64_t    started_ms;
    int64_t    last_progress_ms;
    char       error[1024];
    int        error_code;          //  exit code when stopped by an error, else 0
    Shoal__ErrorCode broker_error;  //  code of the Error reply that stopped the submit
} submit_t;

//  Job defaults from the command line.
typedef struct {
    const char *name, *key, *format, *url_template, *defaults_json, *csv_delimiter, *pipeline, *range;
    int64_t priority, count, sleep_ms, chunk, window, max_line;
    int64_t max_attempts, backoff_ms, backoff_max_ms, timeout_ms, per_host, connect_timeout_ms;
    int64_t max_redirects, max_response_bytes, inline_limit;
    double rate_per_host;
    const char *method, *body, *store, *retry_status;
    strlist_t headers;
    strlist_t require;          //  "key=value" labels every task needs
    bool insecure, follow, no_follow, skip_invalid, wait, quiet;
} submit_opts_t;

//  ---- submit_window.c
//  Show the progress line (on a terminal; `final`: the last time).
void submit_progress(submit_t *s, bool final);
//  The chunk window of a submit over `client` (borrowed): `window` chunks
//  of `chunk` tasks at the most in flight. NULL when out of memory.
chunk_window_t *submit_window_new(client_t *client, size_t window, size_t chunk);
//  Send the tasks in hand as a chunk (sealing the job with it when
//  `seal`), after making room in the window; `keep_last` keeps the last
//  one back. Returns 0, or -1 with s->error set.
int submit_flush(submit_t *s, bool seal, bool keep_last);
//  Wait until every chunk in flight is answered; 0 or -1 with s->error set.
int submit_drain(submit_t *s);
//  After a failure: how many tasks the broker holds and how to go on.
void submit_report_committed(submit_t *s, const char *key);

//  ---- submit_opts.c
//  Build job defaults from the flags (through the same JSON mapping as
//  input). NULL with a message in err.
Shoal__JobDefaults *submit_defaults(const submit_opts_t *o, char *err, size_t errlen);
//  The options of shoal submit, into opts (room for SUBMIT_MAX_OPTS),
//  pointing into o; and the command's help around them into cfg.
#define SUBMIT_MAX_OPTS 64
void submit_options(submit_opts_t *o, opt_t *opts, config_t *cfg);
//  The input format a file name suggests (jsonl when it says nothing).
const char *submit_guess_format(const char *path);

#endif
