/*  shoal-gateway — an HTTP/JSON front door to a shoal broker: submit,
    status, results, control, Server-Sent Events and Prometheus /metrics.

    A client of the broker's frontend like the CLI: it holds no state and
    no database credentials, speaks CURVE when the broker does, and
    reconnects by itself. Several gateways may serve one broker. TLS is a
    reverse proxy's job (docs/api.md has an nginx snippet). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <czmq.h>

#include "config.h"
#include "eplist.h"
#include "gateway.h"
#include "log.h"

static volatile sig_atomic_t s_stop;

static void
s_on_signal(int sig)
{
    s_stop = 1;
}


//  Check the numeric settings; prints and returns -1 when one is out of range.
static int
s_check(const gw_settings_t *c)
{
    struct { const char *name; int64_t v, lo, hi; } r[] = {
        { "--broker-timeout-ms", c->broker_timeout_ms, 1, 3600000 },
        { "--down-timeout-ms", c->down_timeout_ms, 1, 3600000 },
        { "--max-body", c->max_body, 1024, (int64_t) 1 << 32 },
        { "--max-header", c->max_header, 4096, 1 << 24 },
        { "--max-line", c->max_line, 16, 64 << 20 },
        { "--client-timeout-s", c->client_timeout_s, 1, 86400 },
        { "--max-connections", c->max_connections, 1, 10000 },
        { "--metrics-jobs", c->metrics_jobs, 0, 10000 },
        { "--chunk", c->chunk, 1, 100000 },
        { "--window", c->window, 1, 64 },
    };
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++)
        if (r[i].v < r[i].lo || r[i].v > r[i].hi) {
            fprintf(stderr, "shoal-gateway: %s must be %lld..%lld\n", r[i].name, (long long) r[i].lo,
                    (long long) r[i].hi);
            return -1;
        }
    return 0;
}

int
main(int argc, char **argv)
{
    //  before anything touches CZMQ: its SIGINT/SIGTERM handler (installed
    //  by the first socket) only sets a flag this program does not read, so
    //  a stop signal between that and our own handler would be swallowed
    //  and the process run on; until ours is in place a signal terminates
    zsys_handler_set(NULL);
    gw_t gw = { .cfg = {
        .listen = "127.0.0.1:8080", .broker = "tcp://localhost:5555",
        .broker_timeout_ms = 5000, .down_timeout_ms = 1000, .max_body = 16 << 20, .max_header = 32 << 10,
        .max_line = 1 << 20, .client_timeout_s = 30, .max_connections = 256, .metrics_jobs = 50,
        .chunk = 5000, .window = 8 } };
    const char *curve_server_key = NULL, *curve_key = NULL, *log_level = "info";
    gw_settings_t *c = &gw.cfg;
    opt_t opts[] = {
        { "listen", 'l', "SHOAL_LISTEN", OPT_STRING, &c->listen, "ADDR:PORT", "HTTP address (default 127.0.0.1:8080)" },
        { "broker", 'b', "SHOAL_BROKER", OPT_STRING, &c->broker, "EP", "broker's client endpoint, or a comma-separated list of the brokers sharing a database" },
        { "progress", 'p', "SHOAL_PROGRESS", OPT_STRING, &c->progress, "EP",
          "broker's progress endpoint(s) (default: each broker's port + 2)" },
        { "token-file", 't', "SHOAL_TOKEN_FILE", OPT_STRING, &c->token_file, "FILE",
          "bearer tokens, one per line (read again when it changes)" },
        { "no-auth", 0, "SHOAL_NO_AUTH", OPT_BOOL, &c->no_auth, NULL, "serve without tokens (local development only)" },
        { "metrics-open", 0, "SHOAL_METRICS_OPEN", OPT_BOOL, &c->metrics_open, NULL, "/metrics without a token" },
        { "broker-timeout-ms", 0, "SHOAL_BROKER_TIMEOUT_MS", OPT_INT, &c->broker_timeout_ms, "MS",
          "how long to wait for the broker (default 5000)" },
        { "down-timeout-ms", 0, "SHOAL_DOWN_TIMEOUT_MS", OPT_INT, &c->down_timeout_ms, "MS",
          "the wait while the progress feed says the broker is gone (default 1000)" },
        { "max-body", 0, "SHOAL_MAX_BODY", OPT_INT, &c->max_body, "BYTES", "largest JSON body (default 16 MiB)" },
        { "max-header", 0, "SHOAL_MAX_HEADER", OPT_INT, &c->max_header, "BYTES",
          "request line + headers (default 32 KiB)" },
        { "max-line", 0, "SHOAL_MAX_LINE", OPT_INT, &c->max_line, "BYTES", "longest NDJSON line (default 1 MiB)" },
        { "client-timeout-s", 0, "SHOAL_CLIENT_TIMEOUT_S", OPT_INT, &c->client_timeout_s, "S",
          "close a connection idle this long (default 30)" },
        { "max-connections", 0, "SHOAL_MAX_CONNECTIONS", OPT_INT, &c->max_connections, "N",
          "connections at once (default 256)" },
        { "metrics-jobs", 0, "SHOAL_METRICS_JOBS", OPT_INT, &c->metrics_jobs, "N",
          "recent jobs with their own label in /metrics; older ones are job=\"other\" (default 50)" },
        { "chunk", 0, "SHOAL_CHUNK", OPT_INT, &c->chunk, "N", "tasks per submit chunk (default 5000)" },
        { "window", 0, "SHOAL_WINDOW", OPT_INT, &c->window, "N", "submit chunks in flight (default 8)" },
        { "curve-server-key", 0, "SHOAL_CURVE_SERVER_KEY", OPT_STRING, &curve_server_key, "FILE|Z85",
          "the broker's public key (turns on CURVE)" },
        { "curve-key", 0, "SHOAL_CURVE_KEY", OPT_STRING, &curve_key, "FILE", "our key pair" },
        { "log-level", 0, "SHOAL_LOG_LEVEL", OPT_STRING, &log_level, "LEVEL", "debug, info, warn or error" },
        { NULL }
    };
    config_t config = { .prog = "shoal-gateway", .usage = "[--listen ADDR:PORT] [--broker EP] --token-file FILE",
        .opts = opts,
        .description = "HTTP/JSON API, Server-Sent Events and Prometheus /metrics for a shoal broker.\n"
                       "Routes (docs/api.md): POST/GET /v1/jobs, GET /v1/jobs/{id}[/results|/events],\n"
                       "POST /v1/jobs/{id}/pause|resume|cancel|retry, GET /v1/workers, /healthz, /metrics.",
        .epilog = "Examples:\n  shoal-gateway --broker tcp://broker:5555 --token-file /etc/shoal/tokens\n"
                  "  curl -H \"Authorization: Bearer $TOKEN\" localhost:8080/v1/jobs" };
    int rc = config_parse(&config, argc, argv);
    config_free(&config);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    int level = log_level_parse(log_level);
    if (level < 0) {
        fprintf(stderr, "shoal-gateway: --log-level must be debug, info, warn or error\n");
        return 2;
    }
    log_init("shoal-gateway", (log_level_t) level);
    if (s_check(c))
        return 2;
    if (!c->token_file && !c->no_auth) {
        fprintf(stderr, "shoal-gateway: give --token-file FILE (bearer tokens, one per line), or --no-auth"
                " to serve without tokens on a trusted machine\n");
        return 2;
    }
    char err[1024];
    if (c->token_file && !(gw.auth = auth_new(c->token_file, err, sizeof err))) {
        fprintf(stderr, "shoal-gateway: %s\n", err);
        return 2;
    }
    if ((curve_server_key || curve_key) && keys_client_new(curve_server_key, curve_key, &gw.keys, err, sizeof err)) {
        fprintf(stderr, "shoal-gateway: %s\n", err);
        auth_destroy(&gw.auth);
        return 2;
    }
    char progress[2048];
    if (!c->progress) {
        eplist_progress(c->broker, progress, sizeof progress);
        c->progress = progress;
    }
    signal(SIGPIPE, SIG_IGN);
    gw.hub = hub_new(c->progress, 3000, gw.keys);
    if (!gw.hub) {
        fprintf(stderr, "shoal-gateway: '%s' is not a progress endpoint (like tcp://host:5557)\n", c->progress);
        rc = 2;
        goto cleanup;
    }
    if (server_start(&gw, err, sizeof err)) {
        fprintf(stderr, "shoal-gateway: %s\n", err);
        rc = 1;
        goto cleanup;
    }
    log_info("listening", "port=%u listen=%s broker=%s progress=%s auth=%s", gw.port, c->listen, c->broker,
             c->progress, gw.auth ? "tokens" : "none");
    struct sigaction sa = { .sa_handler = s_on_signal };
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    while (!s_stop)
        pause();
    log_info("stopping", "%s", "signal=1");
    hub_stop(gw.hub);           //  SSE streams end
    server_stop(&gw);
    rc = 0;
cleanup:
    hub_destroy(&gw.hub);
    keys_destroy(&gw.keys);
    auth_destroy(&gw.auth);
    return rc;
}
