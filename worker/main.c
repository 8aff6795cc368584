/*  shoal-worker — runs tasks from a shoal broker. Start as many as you like,
    anywhere that can reach the broker. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "config.h"
#include "handler.h"
#include "keys.h"
#include "log.h"
#include "s3proto.h"
#include "worker.h"

//  Split `text` at `sep` into list items (copies kept in *store, freed by the caller).
static void
s_split(const char *text, const char *sep, strlist_t *list, char **store)
{
    *store = text ? strdup(text) : NULL;
    char *save = NULL;
    for (char *item = *store ? strtok_r(*store, sep, &save) : NULL; item; item = strtok_r(NULL, sep, &save))
        if (*item)
            strlist_push(list, item);
}

//  --handler and SHOAL_HANDLERS into configurations; -1 after printing why.
static int
s_parse_handlers(const strlist_t *specs, int64_t slots, handler_config_t **out, size_t *n_out)
{
    handler_config_t *list = calloc(specs->count + 1, sizeof *list);
    *out = list;
    *n_out = 0;
    if (!list)
        return -1;
    for (size_t i = 0; i < specs->count; i++) {
        char err[512];
        if (handler_config_parse(specs->items[i], &list[i], err, sizeof err)) {
            fprintf(stderr, "shoal-worker: --handler: %s\n", err);
            return -1;
        }
        *n_out = i + 1;
        //  by default a handler may use every slot (processes start when tasks come)
        if (!list[i].procs)
            list[i].procs = (uint32_t) (slots < HANDLER_MAX_PROCS ? slots : HANDLER_MAX_PROCS);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(list[j].name, list[i].name)) {
                fprintf(stderr, "shoal-worker: --handler: %s is given twice\n", list[i].name);
                return -1;
            }
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
    worker_config_t cfg = {
        .broker = "tcp://localhost:5556",
        .slots = 16,
        .kinds = "noop,http",
        .grace_ms = 30000,
        .heartbeat_ms = 1000,
        .liveness = 5,
        .body_dir = "shoal-bodies",
        .exec_containment = "auto",
        .hwm = 100000,
    };
    int64_t s3_part_mib = (int64_t) (S3_DEFAULT_PART_SIZE >> 20);
    int64_t s3_multipart_mib = (int64_t) (S3_DEFAULT_MULTIPART_ABOVE >> 20);
    const char *log_level = "info";
    const char *curve_server_key = NULL;
    const char *curve_key = NULL;
    strlist_t handler_specs = { 0 }, labels = { 0 };
    //  SHOAL_HANDLERS holds one handler a line, SHOAL_LABELS key=value,key=value
    char *env_handlers = NULL, *env_labels = NULL;
    s_split(getenv("SHOAL_HANDLERS"), "\n", &handler_specs, &env_handlers);
    s_split(getenv("SHOAL_LABELS"), ",", &labels, &env_labels);
    opt_t opts[] = {
        { "broker", 'b', "SHOAL_BROKER", OPT_STRING, &cfg.broker, "EP",
          "broker's worker endpoint, or a comma-separated list of the brokers sharing a database: the worker follows the leader (default tcp://localhost:5556)" },
        { "slots", 's', "SHOAL_SLOTS", OPT_INT, &cfg.slots, "N", "tasks run at once (default 16)" },
        { "kinds", 0, "SHOAL_KINDS", OPT_STRING, &cfg.kinds, "LIST",
          "task kinds to accept (default noop,http)" },
        { "allow-exec", 0, "SHOAL_ALLOW_EXEC", OPT_BOOL, &cfg.allow_exec, NULL,
          "also accept exec tasks, which run commands on this machine" },
        { "exec-containment", 0, "SHOAL_EXEC_CONTAINMENT", OPT_STRING, &cfg.exec_containment, "MODE",
          "how exec tasks are kept from outliving themselves: cgroup, reaper or auto (default: cgroup"
          " where one can be made)" },
        { "worker-id", 0, "SHOAL_WORKER_ID", OPT_STRING, &cfg.worker_id, "ID",
          "name of this worker (default host-pid-random)" },
        { "grace-ms", 0, "SHOAL_GRACE_MS", OPT_INT, &cfg.grace_ms, "MS",
          "on SIGTERM, time to finish running tasks before aborting them (default 30000)" },
        { "body-dir", 0, "SHOAL_BODY_DIR", OPT_STRING, &cfg.body_dir, "DIR",
          "where http bodies stored 'dir' go, named by SHA-256 (default ./shoal-bodies)" },
        { "s3-endpoint", 0, "SHOAL_S3_ENDPOINT", OPT_STRING, &cfg.s3.endpoint, "URL",
          "S3-compatible service for store: s3 (default AWS: https://s3.REGION.amazonaws.com)" },
        { "s3-path-style", 0, "SHOAL_S3_PATH_STYLE", OPT_BOOL, &cfg.s3.path_style, NULL,
          "address buckets as URL/bucket/key (MinIO, Garage, Ceph) instead of bucket.host/key" },
        { "s3-region", 0, "SHOAL_S3_REGION", OPT_STRING, &cfg.s3.region, "REGION",
          "region to sign for (default $AWS_REGION, $AWS_DEFAULT_REGION, us-east-1)" },
        { "s3-part-mib", 0, "SHOAL_S3_PART_MIB", OPT_INT, &s3_part_mib, "MIB",
          "multipart upload part size in MiB, 5..5120 (default 16)" },
        { "s3-multipart-mib", 0, "SHOAL_S3_MULTIPART_MIB", OPT_INT, &s3_multipart_mib, "MIB",
          "bodies larger than this many MiB go up in parts, up to 5120 in one PUT (default 64)" },
        { "s3-spool-dir", 0, "SHOAL_S3_SPOOL_DIR", OPT_STRING, &cfg.s3.spool_dir, "DIR",
          "where bodies wait for their upload, in deleted files (default $TMPDIR or /tmp)" },
        { "curve-server-key", 0, "SHOAL_CURVE_SERVER_KEY", OPT_STRING, &curve_server_key, "FILE|Z85",
          "turn on CURVE: the broker's public key (broker.key, or its 40-character text)" },
        { "curve-key", 0, "SHOAL_CURVE_KEY", OPT_STRING, &curve_key, "FILE",
          "this worker's key pair (NAME.key_secret from shoal keygen); the broker must allow NAME.key" },
        { "handler", 0, NULL, OPT_LIST, &handler_specs, "NAME=CMD",
          "run handler tasks NAME with long-lived CMD processes (repeatable; SHOAL_HANDLERS, one a line);"
          " options: NAME[procs=4,max_tasks=50,max_age=30m,max_rss=500M,startup_timeout=30s,ready,warm]=CMD" },
        { "label", 0, NULL, OPT_LIST, &labels, "KEY=VALUE",
          "a label tasks can require (repeatable; SHOAL_LABELS=k=v,k=v)" },
        { "test-hooks", 0, "SHOAL_TEST_HOOKS", OPT_BOOL, &cfg.test_hooks, NULL,
          "honour noop tasks that crash the worker (for fault tests only)" },
        { "log-level", 0, "SHOAL_LOG_LEVEL", OPT_STRING, &log_level, "LEVEL",
          "debug, info, warn or error (default info)" },
        { NULL }
    };
    config_t config = {
        .prog = "shoal-worker",
        .usage = "[options]",
        .description =
            "Connects to a shoal broker and runs the tasks it hands out, up to --slots at once.\n"
            "SIGTERM stops taking tasks and finishes the running ones; a second SIGTERM aborts.",
        .epilog =
            "Examples:\n"
            "  shoal-worker --broker tcp://broker.example:5556 --slots 64\n"
            "  SHOAL_BROKER=tcp://10.0.0.5:5556 shoal-worker --kinds noop,http,exec --allow-exec\n"
            "  shoal-worker --broker tcp://broker.example:5556 --curve-server-key keys/broker.key"
            " --curve-key keys/worker.key_secret\n"
            "  shoal-worker --handler 'ocr[procs=4,max_tasks=50]=python3 ocr.py' --label region=eu",
        .opts = opts,
    };
    int rc = config_parse(&config, argc, argv);
    if (rc != 0) {
        config_free(&config);
        return rc > 0 ? 0 : 2;
    }
    int level = log_level_parse(log_level);
    if (level < 0 || config.positional_count) {
        fprintf(stderr, "shoal-worker: %s (see --help)\n",
                level < 0 ? "--log-level must be debug, info, warn or error" : "unexpected argument");
        config_free(&config);
        return 2;
    }
    if (cfg.slots < 1 || cfg.slots > 100000) {
        fprintf(stderr, "shoal-worker: --slots must be 1..100000\n");
        config_free(&config);
        return 2;
    }
    if (s3_part_mib < 5 || s3_part_mib > 5120 || s3_multipart_mib < 0 || s3_multipart_mib > 5120) {
        fprintf(stderr, "shoal-worker: --s3-part-mib must be 5..5120 and --s3-multipart-mib 0..5120\n");
        config_free(&config);
        return 2;
    }
    cfg.s3.part_size = (uint64_t) s3_part_mib << 20;
    cfg.s3.multipart_above = (uint64_t) s3_multipart_mib << 20;
    handler_config_t *handlers = NULL;
    size_t n_handlers = 0;
    if (s_parse_handlers(&handler_specs, cfg.slots, &handlers, &n_handlers)) {
        rc = 2;
        goto done;
    }
    cfg.handlers = handlers;
    cfg.n_handlers = n_handlers;
    cfg.labels = labels.items;
    cfg.n_labels = labels.count;
    log_init("shoal-worker", (log_level_t) level);
    keys_t *keys = NULL;
    if (curve_server_key || curve_key) {
        char err[1024];
        if (keys_client_new(curve_server_key, curve_key, &keys, err, sizeof err)) {
            fprintf(stderr, "shoal-worker: %s\n", err);
            config_free(&config);
            return 2;
        }
        cfg.keys = keys;
        log_info("curve_enabled", "public_key=%s", keys_public_txt(keys));
    }
    rc = worker_run(&cfg);
    keys_destroy(&keys);
done:
    for (size_t i = 0; i < n_handlers; i++)
        handler_config_free(&handlers[i]);
    free(handlers);
    config_free(&config);
    strlist_free(&handler_specs);
    strlist_free(&labels);
    free(env_handlers);
    free(env_labels);
    return rc;
}
