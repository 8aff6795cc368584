/*  shoal-broker — takes jobs from clients, keeps them in PostgreSQL, hands
    tasks to workers, stores every result, publishes progress. */
#include <stdio.h>
#include <stdlib.h>

#include "broker.h"
#include "config.h"
#include "leader.h"
#include "keys.h"
#include "log.h"

//  Check and complete the settings after parsing: the log level, no stray
//  argument, the database from DATABASE_URL or libpq's variables, ranges,
//  the recovery window's default. 0, or -1 after saying what is wrong.
static int
s_settle(broker_config_t *cfg, const config_t *config, const char *log_level)
{
    int level = log_level_parse(log_level);
    if (level < 0) {
        fprintf(stderr, "shoal-broker: --log-level must be debug, info, warn or error\n");
        return -1;
    }
    log_init("shoal-broker", (log_level_t) level);
    if (config->positional_count) {
        fprintf(stderr, "shoal-broker: unexpected argument '%s' (see --help)\n", config->positional[0]);
        return -1;
    }
    if (!cfg->db)
        cfg->db = getenv("DATABASE_URL");
    if (!cfg->db)
        cfg->db = "";   //  libpq falls back to PGHOST, PGDATABASE, ...
    if (cfg->heartbeat_ms < 10 || cfg->heartbeat_ms > 600000 || cfg->liveness < 2 || cfg->liveness > 1000
    ||  cfg->window < 16 || cfg->snapshot_ms < 50 || cfg->hwm < 100 || cfg->lease_grace_ms < 0
    ||  cfg->progress_hwm < 1 || cfg->progress_hwm > 1000000
    ||  cfg->retry_after_max_ms < 0 || cfg->retry_after_max_ms > 86400000
    ||  cfg->delete_batch < 1 || cfg->delete_batch > 2000000000) {
        fprintf(stderr, "shoal-broker: a timing or size flag is out of range (see --help)\n");
        return -1;
    }
    leader_config_t lc = { .ttl_ms = cfg->lease_ttl_ms, .renew_ms = cfg->lease_renew_ms,
                           .poll_ms = cfg->standby_poll_ms };
    const char *bad = leader_check_config(&lc);
    if (bad) {
        fprintf(stderr, "shoal-broker: %s (see --help)\n", bad);
        return -1;
    }
    if (cfg->recovery_ms < 0)
        cfg->recovery_ms = cfg->heartbeat_ms * 3 > 500 ? cfg->heartbeat_ms * 3 : 500;
    return 0;
}

//  CURVE keys from --curve-secret and --curve-allow into *keys (NULL when
//  neither is given). 0, or -1 after saying what is wrong.
static int
s_curve(broker_config_t *cfg, const char *curve_secret, const char *curve_allow, keys_t **keys)
{
    if (!curve_secret && !curve_allow)
        return 0;
    char err[1024];
    if (!curve_secret)
        snprintf(err, sizeof err, "--curve-allow needs --curve-secret FILE (the broker's key pair)");
    if (!curve_secret || keys_server_new(curve_secret, curve_allow, keys, err, sizeof err)) {
        fprintf(stderr, "shoal-broker: %s\n", err);
        return -1;
    }
    cfg->keys = *keys;
    if (keys_allowed_count(*keys) == 0) {
        char q[600];
        log_warn("curve_no_keys", "allow_dir=%s detail=\"no public keys there yet: nobody can"
                 " connect until NAME.key files are copied in\"", log_quote(curve_allow, q, sizeof q));
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
    broker_config_t cfg = {
        .db = NULL,
        .frontend = "tcp://*:5555",
        .backend = "tcp://*:5556",
        .progress = "tcp://*:5557",
        .heartbeat_ms = 1000,
        .liveness = 5,
        .lease_grace_ms = 10000,
        .window = 8192,
        .snapshot_ms = 500,
        .hwm = 100000,
        .progress_hwm = 1000,
        .recovery_ms = -1,
        .retry_after_max_ms = RETRY_AFTER_MAX_DEFAULT_MS,
        .delete_batch = STORE_DELETE_BATCH,
        .lease_ttl_ms = LEADER_TTL_MS_DEFAULT,
        .lease_renew_ms = LEADER_RENEW_MS_DEFAULT,
        .standby_poll_ms = LEADER_POLL_MS_DEFAULT,
    };
    const char *log_level = "info";
    const char *curve_secret = NULL;
    const char *curve_allow = NULL;
    opt_t opts[] = {
        { "db", 'd', "SHOAL_DB", OPT_STRING, &cfg.db, "URI",
          "PostgreSQL connection string or URI (also DATABASE_URL, or libpq's PG* variables)" },
        { "frontend", 0, "SHOAL_FRONTEND", OPT_STRING, &cfg.frontend, "EP",
          "endpoint for clients (default tcp://*:5555)" },
        { "backend", 0, "SHOAL_BACKEND", OPT_STRING, &cfg.backend, "EP",
          "endpoint for workers (default tcp://*:5556)" },
        { "progress", 0, "SHOAL_PROGRESS", OPT_STRING, &cfg.progress, "EP",
          "PUB endpoint for live progress (default tcp://*:5557)" },
        { "endpoints-file", 0, "SHOAL_ENDPOINTS_FILE", OPT_STRING, &cfg.endpoints_file, "FILE",
          "write the bound endpoints here once listening (frontend=EP, backend=EP,"
          " progress=EP lines); with port 0 (tcp://127.0.0.1:0) the kernel picks the ports" },
        { "heartbeat-ms", 0, "SHOAL_HEARTBEAT_MS", OPT_INT, &cfg.heartbeat_ms, "MS",
          "heartbeat interval to and from workers (default 1000)" },
        { "liveness", 0, "SHOAL_LIVENESS", OPT_INT, &cfg.liveness, "N",
          "silent heartbeat intervals before a worker is lost (default 5)" },
        { "lease-grace-ms", 0, "SHOAL_LEASE_GRACE_MS", OPT_INT, &cfg.lease_grace_ms, "MS",
          "added to a task's timeout for the broker's lease deadline (default 10000)" },
        { "window", 0, "SHOAL_WINDOW", OPT_INT, &cfg.window, "N",
          "queued tasks per job held in memory (default 8192)" },
        { "snapshot-ms", 0, "SHOAL_SNAPSHOT_MS", OPT_INT, &cfg.snapshot_ms, "MS",
          "progress snapshot cadence (default 500)" },
        { "hwm", 0, "SHOAL_HWM", OPT_INT, &cfg.hwm, "N",
          "send high-water mark of the client and worker sockets, in messages (default 100000)" },
        { "progress-hwm", 0, "SHOAL_PROGRESS_HWM", OPT_INT, &cfg.progress_hwm, "N",
          "progress messages queued per subscriber that does not read, then dropped for it (default 1000)" },
        { "curve-secret", 0, "SHOAL_CURVE_SECRET", OPT_STRING, &curve_secret, "FILE",
          "turn on CURVE: the broker's key pair (NAME.key_secret from shoal keygen); every socket"
          " then encrypts and admits only keys in --curve-allow" },
        { "curve-allow", 0, "SHOAL_CURVE_ALLOW", OPT_STRING, &curve_allow, "DIR",
          "directory of the public keys (NAME.key) of the workers, clients and monitors allowed"
          " to connect; re-read when it changes" },
        { "recovery-ms", 0, "SHOAL_RECOVERY_MS", OPT_INT, &cfg.recovery_ms, "MS",
          "after start, let workers resend finished work this long before dispatching"
          " (default 3 heartbeats, at least 500)" },
        { "retry-after-max-ms", 0, "SHOAL_RETRY_AFTER_MAX_MS", OPT_INT, &cfg.retry_after_max_ms, "MS",
          "longest Retry-After honoured; a job's retry_after_max_ms overrides (default 300000)" },
        { "delete-batch", 0, "SHOAL_DELETE_BATCH", OPT_INT, &cfg.delete_batch, "N",
          "task seqs deleted per transaction by shoal delete/prune (default 10000; docs/lifecycle.md)" },
        { "lease-ttl-ms", 0, "SHOAL_LEASE_TTL_MS", OPT_INT, &cfg.lease_ttl_ms, "MS",
          "leadership lease: a standby takes over this long after the leader's last renewal"
          " (default 3000; docs/failover.md)" },
        { "lease-renew-ms", 0, "SHOAL_LEASE_RENEW_MS", OPT_INT, &cfg.lease_renew_ms, "MS",
          "the leader renews its lease this often, at most half the TTL (default 1000)" },
        { "standby-poll-ms", 0, "SHOAL_STANDBY_POLL_MS", OPT_INT, &cfg.standby_poll_ms, "MS",
          "a standby looks at the lease this often; a resigning leader wakes it at once (default 250)" },
        { "log-level", 0, "SHOAL_LOG_LEVEL", OPT_STRING, &log_level, "LEVEL",
          "debug, info, warn or error (default info)" },
        { NULL }
    };
    config_t config = {
        .prog = "shoal-broker",
        .usage = "[options]",
        .description =
            "Takes jobs of tasks from clients, keeps them durably in PostgreSQL, hands them to\n"
            "workers, stores every result and publishes live progress.",
        .epilog =
            "Examples:\n"
            "  shoal-broker --db postgresql://shoal@localhost/shoal\n"
            "  SHOAL_DB='host=/run/postgresql dbname=shoal' shoal-broker --backend tcp://*:6000\n"
            "  shoal-broker --db ... --curve-secret keys/broker.key_secret --curve-allow keys/allowed",
        .opts = opts,
    };
    int rc = config_parse(&config, argc, argv);
    if (rc != 0) {
        config_free(&config);
        return rc > 0 ? 0 : 2;
    }
    keys_t *keys = NULL;
    rc = s_settle(&cfg, &config, log_level) || s_curve(&cfg, curve_secret, curve_allow, &keys) ? 2 : 0;
    if (rc == 0)
        rc = broker_run(&cfg);
    keys_destroy(&keys);
    config_free(&config);
    return rc;
}
