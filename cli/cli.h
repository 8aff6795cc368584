/*  cli — shared state of the shoal command line (internal header).

    main.c      global options, subcommand table, help
    submit.c    shoal submit
    status.c    shoal status / jobs / workers / pause / resume / cancel / retry
    results.c   shoal results
    keygen.c    shoal keygen
*/
#ifndef SHOAL_CLI_H
#define SHOAL_CLI_H

#include <stdbool.h>
#include <stdint.h>

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

//  Connect, or print why not. NULL -> exit EXIT_UNREACHABLE.
client_t *cli_connect(cli_globals_t *g);
//  Parse a job id argument ("12"); returns 0 and prints on error.
uint32_t cli_job_id(const char *prog, const char *arg);
//  Print one job as a block of lines (people) or JSON (scripts).
void cli_print_job(cli_globals_t *g, const Shoal__JobInfo *job);
//  Ask the broker for a job; NULL after printing why (*code set).
Shoal__Envelope *cli_get_status(cli_globals_t *g, client_t *client, uint32_t job_id, int *code);
//  Follow a job until it is done/cancelled, showing progress on stderr
//  when it is a terminal. Returns EXIT_OK, EXIT_FAILURES or an error code.
int cli_wait_job(cli_globals_t *g, client_t *client, uint32_t job_id, bool quiet);

#endif
