/*  shoal-monitor — live progress of a shoal cluster: full screen on a
    terminal, --plain lines for logs, --json for scripts. */
#include <czmq.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "eplist.h"
#include "keys.h"
#include "log.h"
#include "stopsig.h"
#include "monitor.h"

static volatile sig_atomic_t s_stop = 0;

static void
s_on_signal(int sig)
{
    s_stop = 1;
}


int
main(int argc, char **argv)
{
    //  before anything touches CZMQ: its SIGINT/SIGTERM handler (installed
    //  by the first socket) only sets a flag this program does not read, so
    //  a stop signal between that and our own handler would be swallowed
    //  and the process run on; until ours is in place a signal terminates
    zsys_handler_set(NULL);
    monitor_config_t cfg = {
        .broker = "tcp://localhost:5555",
        .progress = NULL,
        .interval_ms = 1000,
        .timeout_ms = 3000,
    };
    const char *curve_server_key = NULL;
    const char *curve_key = NULL;
    opt_t opts[] = {
        { "broker", 'b', "SHOAL_BROKER", OPT_STRING, &cfg.broker, "EP",
          "broker's client endpoint, or a comma-separated list of the brokers sharing a database (default tcp://localhost:5555)" },
        { "progress", 'p', "SHOAL_PROGRESS", OPT_STRING, &cfg.progress, "EP",
          "broker's progress endpoint(s) (default: each broker's port + 2)" },
        { "plain", 0, "SHOAL_PLAIN", OPT_BOOL, &cfg.plain, NULL, "one line per job per interval (logs)" },
        { "json", 0, NULL, OPT_BOOL, &cfg.json, NULL, "one JSON object per snapshot and event" },
        { "interval-ms", 0, NULL, OPT_INT, &cfg.interval_ms, "MS", "--plain: line interval (default 1000)" },
        { "timeout-ms", 0, NULL, OPT_INT, &cfg.timeout_ms, "MS",
          "show the broker as lost after this silence (default 3000)" },
        { "curve-server-key", 0, "SHOAL_CURVE_SERVER_KEY", OPT_STRING, &curve_server_key, "FILE|Z85",
          "turn on CURVE: the broker's public key (broker.key, or its 40-character text)" },
        { "curve-key", 0, "SHOAL_CURVE_KEY", OPT_STRING, &curve_key, "FILE",
          "this monitor's key pair (NAME.key_secret); the broker must allow NAME.key" },
        { NULL }
    };
    config_t config = { .prog = "shoal-monitor", .usage = "[--broker EP] [--progress EP] [--plain|--json]",
        .description = "Live progress of a shoal cluster. Full screen on a terminal; --plain or --json\n"
                       "(also used automatically when stdout is not a terminal) for logs and scripts.",
        .epilog = "Keys (full screen): up/down select a job, p pause, r resume, c cancel (asks y/n),\n"
                  "R retry failed tasks, j/d/w/e show or hide the jobs/detail/workers/events panes,\n"
                  "? help, q quit. NO_COLOR in the environment turns colours off.\n\n"
                  "Examples:\n  shoal-monitor --broker tcp://broker:5555\n  shoal-monitor --plain >> progress.log",
        .opts = opts };
    int rc = config_parse(&config, argc, argv);
    if (rc != 0) {
        config_free(&config);
        return rc > 0 ? 0 : 2;
    }
    config_free(&config);
    log_init("shoal-monitor", LEVEL_WARN);
    char progress[2048];
    if (!cfg.progress) {
        eplist_progress(cfg.broker, progress, sizeof progress);
        cfg.progress = progress;
    }
    if (cfg.interval_ms < 0 || cfg.timeout_ms < 100) {
        fprintf(stderr, "shoal-monitor: --interval-ms >= 0, --timeout-ms >= 100\n");
        return 2;
    }
    keys_t *keys = NULL;
    if (curve_server_key || curve_key) {
        char err[1024];
        if (keys_client_new(curve_server_key, curve_key, &keys, err, sizeof err)) {
            fprintf(stderr, "shoal-monitor: %s\n", err);
            return 2;
        }
        cfg.keys = keys;
    }
    stopsig_install(s_on_signal, true);
    if (!cfg.plain && !cfg.json && (!isatty(1) || !isatty(0)))
        cfg.plain = true;
    rc = cfg.plain || cfg.json ? lines_run(&cfg, &s_stop) : tui_run(&cfg, &s_stop);
    keys_destroy(&keys);
    return rc;
}
