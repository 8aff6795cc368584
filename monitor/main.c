/*  shoal-monitor — live progress of a shoal cluster: full screen on a
    terminal, --plain lines for logs, --json for scripts. */
#include <czmq.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "keys.h"
#include "log.h"
#include "monitor.h"
#include "wire.h"

static volatile sig_atomic_t s_stop = 0;

static void
s_on_signal(int sig)
{
    s_stop = 1;
}

//  tcp://host:5555 -> tcp://host:5557 when --progress is not given
static void
s_default_progress(const char *broker, char *out, size_t size)
{
    const char *colon = strrchr(broker, ':');
    if (colon && colon > strchr(broker, ':') + 0 && strncmp(broker, "tcp://", 6) == 0) {
        long port = strtol(colon + 1, NULL, 10);
        snprintf(out, size, "%.*s:%ld", (int) (colon - broker), broker, port + 2);
    }
    else
        snprintf(out, size, "tcp://localhost:5557");
}

//  Lines mode: subscribe, print, ask for a snapshot when joining and after
//  the broker comes back.
static int
s_run_lines(const monitor_config_t *cfg)
{
    zsock_t *sub = zsock_new(ZMQ_SUB);
    zsock_t *dealer = zsock_new(ZMQ_DEALER);
    if (!sub || !dealer)
        return 1;
    wire_socket_defaults(zsock_resolve(sub));
    wire_socket_defaults(zsock_resolve(dealer));
    if (keys_apply(cfg->keys, sub) != 0 || keys_apply(cfg->keys, dealer) != 0) {
        fprintf(stderr, "shoal-monitor: cannot set the CURVE keys on the sockets\n");
        zsock_destroy(&sub);
        zsock_destroy(&dealer);
        return 1;
    }
    zsock_set_subscribe(sub, "");
    if (zsock_connect(sub, "%s", cfg->progress) < 0 || zsock_connect(dealer, "%s", cfg->broker) < 0) {
        fprintf(stderr, "shoal-monitor: bad endpoint %s or %s\n", cfg->progress, cfg->broker);
        zsock_destroy(&sub);
        zsock_destroy(&dealer);
        return 2;
    }
    bool up = false;
    bool announced = false;
    int64_t last_heard = 0;
    int64_t last_ask = 0;
    int64_t last_print = 0;
    uint64_t corr = 0;
    while (!s_stop) {
        int64_t now = clock_mono_ms();
        //  ask for the whole picture: at start, and while the broker is silent
        if (!up && now - last_ask >= 1000) {
            Shoal__SnapshotRequest sr = SHOAL__SNAPSHOT_REQUEST__INIT;
            Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
            env.body_case = SHOAL__ENVELOPE__BODY_SNAPSHOT_REQUEST;
            env.snapshot_request = &sr;
            env.has_corr = 1;
            env.corr = ++corr;
            wire_send(zsock_resolve(dealer), NULL, 0, &env, ZMQ_DONTWAIT);
            last_ask = now;
        }
        zmq_pollitem_t items[] = {
            { zsock_resolve(sub), 0, ZMQ_POLLIN, 0 },
            { zsock_resolve(dealer), 0, ZMQ_POLLIN, 0 },
        };
        zmq_poll(items, 2, 250);
        for (int i = 0; i < 2; i++) {
            if (!(items[i].revents & ZMQ_POLLIN))
                continue;
            zmsg_t *msg = zmsg_recv(i == 0 ? (void *) sub : (void *) dealer);
            if (!msg)
                continue;
            zframe_t *body = zmsg_last(msg);
            char err[256];
            Shoal__Envelope *env = body ? wire_decode(zframe_data(body), zframe_size(body), err, sizeof err, NULL) : NULL;
            zmsg_destroy(&msg);
            if (!env)
                continue;
            last_heard = clock_mono_ms();
            if (!up) {
                up = true;
                if (announced || !cfg->json) {
                    if (cfg->json)
                        json_broker(true);
                    else
                        plain_broker(cfg, true);
                }
                announced = true;
            }
            if (env->body_case == SHOAL__ENVELOPE__BODY_SNAPSHOT) {
                if (cfg->json)
                    json_snapshot(env->snapshot);
                else
                if (last_heard - last_print >= cfg->interval_ms) {
                    plain_snapshot(cfg, env->snapshot);
                    last_print = last_heard;
                }
            }
            else
            if (env->body_case == SHOAL__ENVELOPE__BODY_EVENT) {
                if (cfg->json)
                    json_event(env->event);
                else
                    plain_event(cfg, env->event);
            }
            wire_free(env);
        }
        if (up && clock_mono_ms() - last_heard > cfg->timeout_ms) {
            up = false;
            if (cfg->json)
                json_broker(false);
            else
                plain_broker(cfg, false);
        }
    }
    zsock_destroy(&sub);
    zsock_destroy(&dealer);
    return 0;
}

int
main(int argc, char **argv)
{
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
          "broker's client endpoint (default tcp://localhost:5555)" },
        { "progress", 'p', "SHOAL_PROGRESS", OPT_STRING, &cfg.progress, "EP",
          "broker's progress endpoint (default: the broker's port + 2)" },
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
        .epilog = "Keys (full screen): up/down select a job, p pause, r resume, c cancel, R retry failed,\n"
                  "w/j/e toggle panes, ? help, q quit.\n\n"
                  "Examples:\n  shoal-monitor --broker tcp://broker:5555\n  shoal-monitor --plain >> progress.log",
        .opts = opts };
    int rc = config_parse(&config, argc, argv);
    if (rc != 0) {
        config_free(&config);
        return rc > 0 ? 0 : 2;
    }
    config_free(&config);
    log_init("shoal-monitor", LEVEL_WARN);
    char progress[256];
    if (!cfg.progress) {
        s_default_progress(cfg.broker, progress, sizeof progress);
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
    zsys_handler_set(NULL);
    signal(SIGINT, s_on_signal);
    signal(SIGTERM, s_on_signal);
    if (!cfg.plain && !cfg.json && !isatty(1))
        cfg.plain = true;
    rc = cfg.plain || cfg.json ? s_run_lines(&cfg) : tui_run(&cfg);
    keys_destroy(&keys);
    return rc;
}
