/*  cli — shared state of the shoal command line (internal header).

    main.c      global options, subcommand table, help
    submit.c    shoal submit
    status.c    shoal status / jobs / workers
    jobview.c   one job as printed (block, progress line) and the status request
    control.c   shoal pause / resume / cancel / retry
    update.c    shoal update
    delete.c    shoal delete / prune (archive.c: --archive DIR)
    follow.c    following a job: status --watch, status --wait, submit --wait
    results.c   shoal results
    keygen.c    shoal keygen
*/
#ifndef SHOAL_CLI_H
#define SHOAL_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "client.h"
#include "shoal.pb-c.h"

typedef struct {
    const char *broker;         //  frontend endpoint
    int64_t     timeout_ms;     //  how long to wait for the broker
    const char *output;         //  "table" or "json"
    bool        json;           //  output == json
    const keys_t *keys;         //  CURVE client keys (borrowed), NULL: plaintext
} cli_globals_t;

//  Each subcommand: argc/argv start at the subcommand's name.
typedef int (*cli_command_fn)(cli_globals_t *g, int argc, char **argv);

int cmd_submit(cli_globals_t *g, int argc, char **argv);
int cmd_status(cli_globals_t *g, int argc, char **argv);
int cmd_jobs(cli_globals_t *g, int argc, char **argv);
int cmd_workers(cli_globals_t *g, int argc, char **argv);
int cmd_control(cli_globals_t *g, int argc, char **argv);
int cmd_results(cli_globals_t *g, int argc, char **argv);
int cmd_keygen(cli_globals_t *g, int argc, char **argv);
int cmd_update(cli_globals_t *g, int argc, char **argv);
int cmd_delete(cli_globals_t *g, int argc, char **argv);
int cmd_prune(cli_globals_t *g, int argc, char **argv);

//  ---- main.c
//  Connect, or print why not and set *code (EXIT_USAGE for an endpoint
//  that is not one). The client is the caller's.
client_t *cli_connect(cli_globals_t *g, const char *prog, int *code);
//  Parse a job id argument ("12"); returns 0 and prints on error.
uint32_t cli_job_id(const char *prog, const char *arg);
//  ---- results.c
//  How to export a job's results: the job, the format, which rows.
typedef struct {
    const char *prog;           //  for messages
    uint32_t job_id;
    bool     csv, failed, with_body;
    int64_t  page;              //  results per request
    bool     items;             //  pipelines: one row per input item (shoal results --items)
} cli_export_t;
//  Where each row goes; non-zero stops the export (the sink reports why).
typedef int (*cli_row_fn)(void *arg, const Shoal__ResultRow *row, uint32_t job_id);
//  Every page of a job's results through emit, in seq order; *rows counts
//  them. Returns EXIT_OK, EXIT_INPUT when the sink stopped it, or why the
//  broker's answers stopped it (reported on stderr).
int cli_export(client_t *client, const cli_export_t *x, cli_row_fn emit, void *arg, uint64_t *rows);
//  One result as shoal results' JSON line (without the newline); caller frees.
char *cli_result_line(const Shoal__ResultRow *row, uint32_t job_id);
//  ---- jobview.c
//  Print one job as a block of lines (people) or one JSON line (scripts).
void cli_print_job(cli_globals_t *g, FILE *out, const Shoal__JobInfo *job);
//  One line of a job's progress: "job 3 active 42.0%  4,200/10,000  failed 3 ...".
void cli_progress_line(const Shoal__JobInfo *job, char *buf, size_t size);
//  Ask the broker for a job. Returns the StatusReply (caller frees with
//  wire_free), or NULL with why in err and the exit code in *code.
Shoal__Envelope *cli_get_status(client_t *client, uint32_t job_id, char *err, size_t errlen, int *code);

//  ---- follow.c
//  How to follow a job.
typedef struct {
    const char *prog;           //  for messages
    bool     watch;             //  redraw the whole status (else a progress line on a terminal)
    bool     wait;              //  exit 1 when tasks failed or the job was cancelled
    bool     quiet;             //  no progress, no summary
    int64_t  interval_ms;       //  between status requests
} cli_follow_t;

//  Follow a job until it is done or cancelled, or until Ctrl-C. A broker
//  that answered once and then went away (a restart) is asked again for
//  up to CLI_BROKER_LOSS_TIMEOUTS broker timeouts (60 s by default) before
//  giving up. Returns EXIT_OK, EXIT_FAILURES (wait: failed tasks or
//  cancelled), EXIT_INTERRUPTED or an error code.
int cli_follow_job(cli_globals_t *g, client_t *client, uint32_t job_id, const cli_follow_t *how);
#define CLI_BROKER_LOSS_TIMEOUTS 12

//  Catch Ctrl-C from now on: cli_interrupted() turns true, a second
//  Ctrl-C ends the process as usual.
void cli_catch_interrupt(void);
bool cli_interrupted(void);

#endif
