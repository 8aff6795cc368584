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

static int s_cmd_version(cli_globals_t *g, int argc, char **argv);

static const command_t s_commands[] = {
    { "submit",  cmd_submit,  "submit a job of tasks (file, stdin, URL template or --count)" },
    { "jobs",    cmd_jobs,    "list jobs with their state and counts" },
    { "status",  cmd_status,  "show one job (--watch to follow it)" },
    { "results", cmd_results, "export a job's results as JSONL or CSV" },
    { "pause",   cmd_control, "stop handing out a job's tasks" },
    { "resume",  cmd_control, "hand out a paused job's tasks again" },
    { "cancel",  cmd_control, "cancel a job: running tasks are aborted" },
    { "retry",   cmd_control, "run a job's failed tasks again" },
    { "update",  cmd_update,  "change a running job's defaults (headers, timeouts, retries, limits)" },
    { "delete",  cmd_delete,  "delete finished jobs with their tasks and results (--archive DIR keeps them)" },
    { "prune",   cmd_prune,   "delete the jobs that finished before an age (--older-than 30d)" },
    { "workers", cmd_workers, "list connected workers" },
    { "keygen",  cmd_keygen,  "write a CURVE key pair (NAME.key, NAME.key_secret)" },
    { "version", s_cmd_version, "print the version of this program and its protocol" },
    { NULL }
};

//  shoal version: this program's version and protocol, no broker needed.
static int
s_cmd_version(cli_globals_t *g, int argc, char **argv)
{
    opt_t opts[] = { { NULL } };
    config_t cfg = { .prog = "shoal version", .usage = "", .opts = opts,
        .description = "Print the version of shoal and of its wire protocol (no broker needed).",
        .epilog = "Examples:\n  shoal version\n  shoal -o json version | jq -r .version" };
    int rc = config_parse(&cfg, argc, argv);
    if (rc == 0 && cfg.positional_count) {
        fprintf(stderr, "shoal version: unexpected argument '%s'\n", cfg.positional[0]);
        rc = -1;
    }
    config_free(&cfg);
    if (rc != 0)
        return rc > 0 ? EXIT_OK : EXIT_USAGE;
    if (g->json)
        printf("{\"version\":\"%s\",\"protocol\":%d}\n", SHOAL_VERSION, SHOAL_PROTO_MAJOR);
    else
        printf("shoal %s (protocol %d)\n", SHOAL_VERSION, SHOAL_PROTO_MAJOR);
    return EXIT_OK;
}

client_t *
cli_connect(cli_globals_t *g, const char *prog, int *code)
{
    client_t *client = client_new(g->broker, (int) g->timeout_ms, g->keys);
    if (!client) {
        fprintf(stderr, "%s: '%s' is not a broker endpoint (expected like tcp://host:5555)\n", prog, g->broker);
        *code = EXIT_USAGE;
    }
    return client;
}

uint32_t
cli_job_id(const char *prog, const char *arg)
{
    char *end;
    unsigned long v = arg && *arg >= '0' && *arg <= '9' ? strtoul(arg, &end, 10) : 0;
    if (!v || *end || v > UINT32_MAX) {
        fprintf(stderr, "%s: expected a job id (a positive number, see 'shoal jobs'), got '%s'\n", prog,
                arg ? arg : "");
        return 0;
    }
    return (uint32_t) v;
}

static void
s_usage(FILE *out)
{
    fprintf(out,
        "Usage: shoal [--broker EP] [-o table|json] COMMAND [options] [args]\n\n"
        "Commands:\n");
    for (const command_t *c = s_commands; c->name; c++)
        fprintf(out, "  %-9s %s\n", c->name, c->summary);
    fprintf(out,
        "\nGlobal options (before or after the command):\n"
        "  -b, --broker EP            broker's client endpoint (default tcp://localhost:5555) [env SHOAL_BROKER]\n"
        "  -o, --output FORMAT        table (people) or json (scripts) [env SHOAL_OUTPUT]\n"
        "      --broker-timeout-ms MS how long to wait for the broker (default 5000) [env SHOAL_BROKER_TIMEOUT_MS]\n"
        "      --curve-server-key FILE|Z85  turn on CURVE: the broker's public key [env SHOAL_CURVE_SERVER_KEY]\n"
        "      --curve-key FILE       our key pair (NAME.key_secret from shoal keygen) [env SHOAL_CURVE_KEY]\n"
        "  -h, --help                 this help; 'shoal COMMAND --help' (or 'shoal help COMMAND') for a command\n"
        "      --version              print the version\n"
        "\nExit codes: 0 ok, 1 the job had failed (or cancelled) tasks, 2 usage error,\n"
        "            3 bad input (FILE:LINE reported), 4 broker unreachable,\n"
        "            5 broker refused the request (no such job, wrong state, database down),\n"
        "            130 interrupted (Ctrl-C).\n"
        "\nExamples:\n"
        "  shoal submit --name crawl --format urls urls.txt --wait\n"
        "  shoal submit --key crawl-1 tasks.jsonl       # run again after a crash: it resumes\n"
        "  shoal submit --url-template 'https://example.com/page/{1..1000}' --per-host 8\n"
        "  shoal jobs\n"
        "  shoal status 3 --watch\n"
        "  shoal results 3 --format csv > results.csv\n"
        "  shoal retry 3 --status 5xx,429\n"
        "  SHOAL_BROKER=tcp://10.0.0.5:5555 shoal -o json workers\n");
}

//  Global options may also follow the command ("shoal status 3 -o json"):
//  move them in front of it, so that one parser sees them. Stops at "--".
static void
s_hoist_globals(int argc, char **argv, int command)
{
    static const char *const with_value[] = { "-b", "--broker", "-o", "--output", "--broker-timeout-ms",
                                              "--curve-server-key", "--curve-key", NULL };
    for (int i = command + 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        int take = 0;
        for (int k = 0; with_value[k]; k++) {
            size_t n = strlen(with_value[k]);
            if (!strcmp(argv[i], with_value[k]))
                take = i + 1 < argc ? 2 : 1;
            else
            if (!strncmp(argv[i], with_value[k], n)
            &&  (argv[i][n] == '=' || (with_value[k][1] != '-' && argv[i][n])))
                take = 1;       //  --broker=EP, -oEP
            if (take)
                break;
        }
        if (!take)
            continue;
        //  rotate argv[command..i+take) so the option comes first
        char *moved[2] = { argv[i], take == 2 ? argv[i + 1] : NULL };
        memmove(argv + command + take, argv + command, (size_t) (i - command) * sizeof *argv);
        for (int k = 0; k < take; k++)
            argv[command + k] = moved[k];
        command += take;
        i += take - 1;
    }
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
        { "broker", 'b', "SHOAL_BROKER", OPT_STRING, &g.broker, "EP", "broker's client endpoint, or a comma-separated list of the brokers sharing a database" },
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
    //  find the command (the first word that is not an option or its value)
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] != '-') {
            s_hoist_globals(argc, argv, i);
            break;
        }
        if (!strcmp(argv[i], "-b") || !strcmp(argv[i], "--broker") || !strcmp(argv[i], "-o")
        ||  !strcmp(argv[i], "--output") || !strcmp(argv[i], "--broker-timeout-ms")
        ||  !strcmp(argv[i], "--curve-server-key") || !strcmp(argv[i], "--curve-key"))
            i++;
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
    if (g.timeout_ms < 1 || g.timeout_ms > 3600000) {
        fprintf(stderr, "shoal: --broker-timeout-ms must be 1..3600000\n");
        return EXIT_USAGE;
    }
    if (rest >= argc) {
        s_usage(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[rest];
    if (!strcmp(name, "help")) {
        if (rest + 1 >= argc) {
            s_usage(stdout);
            return 0;
        }
        //  shoal help COMMAND -> shoal COMMAND --help
        name = argv[rest + 1];
        char help[] = "--help";
        char *args[] = { (char *) name, help, NULL };
        for (const command_t *c = s_commands; c->name; c++)
            if (!strcmp(c->name, name))
                return c->fn(&g, 2, args);
        fprintf(stderr, "shoal: unknown command '%s' (see shoal --help)\n", name);
        return EXIT_USAGE;
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
        if (!strcmp(c->name, name)) {
            rc = c->fn(&g, argc - rest, argv + rest);
            keys_destroy(&keys);
            return rc;
        }
    keys_destroy(&keys);
    fprintf(stderr, "shoal: unknown command '%s' (see shoal --help)\n", name);
    return EXIT_USAGE;
}
