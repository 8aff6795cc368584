/*  shoal — the command line: submit jobs, watch them, control them, get
    every result out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "keys.h"
#include "log.h"
#include "wire.h"

typedef struct {
    const char    *name;
    cli_command_fn fn;
    const char    *summary;
} command_t;

static const command_t s_commands[] = {
    { "submit",  cmd_submit,  "submit a job of tasks (file, stdin, URL template or --count)" },
    { "jobs",    cmd_jobs,    "list jobs with their state and counts" },
    { "status",  cmd_status,  "show one job (--watch to follow it)" },
    { "results", cmd_results, "export a job's results as JSONL or CSV" },
    { "pause",   cmd_control, "stop handing out a job's tasks" },
    { "resume",  cmd_control, "hand out a paused job's tasks again" },
    { "cancel",  cmd_control, "cancel a job: running tasks are aborted" },
    { "retry",   cmd_control, "run a job's failed tasks again" },
    { "workers", cmd_workers, "list connected workers" },
    { "keygen",  cmd_keygen,  "write a CURVE key pair (NAME.key, NAME.key_secret)" },
    { "version", NULL,        "print the version" },
    { NULL }
};

static void
s_usage(FILE *out)
{
    fprintf(out,
        "Usage: shoal [--broker EP] [-o table|json] COMMAND [options] [args]\n\n"
        "Commands:\n");
    for (const command_t *c = s_commands; c->name; c++)
        fprintf(out, "  %-9s %s\n", c->name, c->summary);
    fprintf(out,
        "\nGlobal options:\n"
        "  -b, --broker EP            broker's client endpoint (default tcp://localhost:5555) [env SHOAL_BROKER]\n"
        "  -o, --output FORMAT        table (people) or json (scripts) [env SHOAL_OUTPUT]\n"
        "      --broker-timeout-ms MS how long to wait for the broker (default 5000) [env SHOAL_BROKER_TIMEOUT_MS]\n"
        "      --curve-server-key FILE|Z85  turn on CURVE: the broker's public key [env SHOAL_CURVE_SERVER_KEY]\n"
        "      --curve-key FILE       our key pair (NAME.key_secret from shoal keygen) [env SHOAL_CURVE_KEY]\n"
        "  -h, --help                 this help; 'shoal COMMAND --help' for a command\n"
        "      --version              print the version\n"
        "\nExit codes: 0 ok, 1 job had failed tasks, 2 usage error, 3 bad input,\n"
        "            4 broker unreachable, 5 broker refused the request.\n"
        "\nExamples:\n"
        "  shoal submit --name crawl urls.txt --format urls --wait\n"
        "  shoal submit --url-template 'https://example.com/page/{1..1000}' --per-host 8\n"
        "  shoal status 3 --watch\n"
        "  shoal results 3 --format csv > results.csv\n");
}

int
main(int argc, char **argv)
{
    log_init("shoal", LEVEL_WARN);
    cli_globals_t g = {
        .broker = "tcp://localhost:5555",
        .timeout_ms = 5000,
        .output = "table",
    };
    const char *curve_server_key = NULL;
    const char *curve_key = NULL;
    opt_t opts[] = {
        { "broker", 'b', "SHOAL_BROKER", OPT_STRING, &g.broker, "EP", "broker's client endpoint" },
        { "output", 'o', "SHOAL_OUTPUT", OPT_STRING, &g.output, "FORMAT", "table or json" },
        { "broker-timeout-ms", 0, "SHOAL_BROKER_TIMEOUT_MS", OPT_INT, &g.timeout_ms, "MS",
          "how long to wait for the broker" },
        { "curve-server-key", 0, "SHOAL_CURVE_SERVER_KEY", OPT_STRING, &curve_server_key, "FILE|Z85",
          "the broker's public key (turns on CURVE)" },
        { "curve-key", 0, "SHOAL_CURVE_KEY", OPT_STRING, &curve_key, "FILE", "our key pair" },
        { NULL }
    };
    config_t config = { .prog = "shoal", .usage = "COMMAND", .opts = opts, .stop_at_positional = true };
    //  our own --help lists the commands
    for (int i = 1; i < argc && argv[i][0] == '-'; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            s_usage(stdout);
            return 0;
        }
    int rc = config_parse(&config, argc, argv);
    if (rc != 0) {
        config_free(&config);
        return rc > 0 ? 0 : EXIT_USAGE;
    }
    int rest = config.rest_index;
    config_free(&config);
    if (strcmp(g.output, "table") && strcmp(g.output, "json")) {
        fprintf(stderr, "shoal: --output must be table or json (got '%s')\n", g.output);
        return EXIT_USAGE;
    }
    g.json = !strcmp(g.output, "json");
    if (g.timeout_ms < 1) {
        fprintf(stderr, "shoal: --broker-timeout-ms must be positive\n");
        return EXIT_USAGE;
    }
    if (rest >= argc) {
        s_usage(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[rest];
    if (!strcmp(name, "version")) {
        if (g.json)
            printf("{\"version\":\"%s\",\"protocol\":%d}\n", SHOAL_VERSION, SHOAL_PROTO_MAJOR);
        else
            printf("shoal %s (protocol %d)\n", SHOAL_VERSION, SHOAL_PROTO_MAJOR);
        return 0;
    }
    if (!strcmp(name, "help")) {
        s_usage(stdout);
        return 0;
    }
    keys_t *keys = NULL;
    if ((curve_server_key || curve_key) && strcmp(name, "keygen") != 0) {
        char err[1024];
        if (keys_client_new(curve_server_key, curve_key, &keys, err, sizeof err)) {
            fprintf(stderr, "shoal: %s\n", err);
            return EXIT_USAGE;
        }
        g.keys = keys;
    }
    for (const command_t *c = s_commands; c->name; c++)
        if (!strcmp(c->name, name) && c->fn) {
            rc = c->fn(&g, argc - rest, argv + rest);
            keys_destroy(&keys);
            return rc;
        }
    keys_destroy(&keys);
    fprintf(stderr, "shoal: unknown command '%s' (see shoal --help)\n", name);
    return EXIT_USAGE;
}
