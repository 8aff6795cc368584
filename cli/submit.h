/*  submit — shoal submit (internal header).

    submit.c         the command: options, input, the job, the stream of tasks
    submit_window.c  chunks in flight, acks, conflicts with an earlier run
    submit_opts.c    job defaults from the flags, the input's format
*/
#ifndef SHOAL_CLI_SUBMIT_H
#define SHOAL_CLI_SUBMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "cli.h"
#include "config.h"
#include "input.h"

#define MAX_WINDOW      64
#define MAX_CHUNK_BYTES (4u << 20)  //  a chunk is sent once its specs pass this size
#define MAX_RECONCILES  20          //  conflicts resolved per run before giving up
#define MAX_FOLLOWS     6           //  silences taken for a takeover per run (a list of brokers)

//  One chunk sent and not yet acked.
typedef struct {
    uint64_t corr;                  //  request id
    uint64_t first_seq;             //  seq of specs[0]
    size_t   count;                 //  specs in the chunk
    bool     seal;                  //  the job's last chunk
    Shoal__TaskSpec **specs;        //  owned until the ack: sent again after a conflict
    Shoal__Envelope *reply;         //  its answer, when it came before an older chunk's
} inflight_t;

typedef struct {
    cli_globals_t *g;
    client_t  *client;
    input_t   *input;               //  to skip tasks an earlier run committed meanwhile
    Shoal__JobOpen *open;           //  to ask for the committed count again
    uint32_t   job_id;
    uint64_t   sent;                //  next seq to send
    uint64_t   committed;           //  tasks the broker committed (as last told)
    uint64_t   resumed_at;          //  committed when this run started
    uint64_t   total;               //  tasks in the input when known in advance, else 0
    inflight_t window[MAX_WINDOW];  //  ring of chunks in flight
    size_t     head, count;
    size_t     max_window;
    Shoal__TaskSpec **partial;      //  tasks read and not sent: the next chunk (+ 1 read ahead)
    size_t     n_partial;
    size_t     partial_bytes;
    size_t     chunk_size;          //  tasks per chunk
    bool       seal_sent;           //  a chunk that seals the job is in flight or acked
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
//  Free n specs and the array's entries (not the array).
void submit_free_specs(Shoal__TaskSpec **specs, size_t n);
//  Send the tasks in hand as a chunk (sealing the job with it when
//  `seal`), after making room in the window; `keep_last` keeps the last
//  one back. Returns 0, or -1 with s->error set.
int submit_flush(submit_t *s, bool seal, bool keep_last);
//  Wait until every chunk in flight is answered; 0 or -1 with s->error set.
int submit_drain(submit_t *s);
//  Drop the oldest in-flight chunk (acked or given up).
void submit_pop(submit_t *s);
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
