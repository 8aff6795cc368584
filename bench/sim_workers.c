/*  sim_workers — thousands of workers in one process, for bench/scaling.sh:
    what one broker carries in connected workers and tasks/s.

    Each simulated worker is a DEALER on the broker's backend that says
    Hello (its own id, `--slots` slots, noop tasks only), sends a Heartbeat
    at the interval the Welcome names, and answers every Tasks message at
    once with a Results message holding an ok result for each task, the
    way shoal-worker answers noop tasks (but without running anything, so
    the figure is the broker's and the database's). Acks are read and
    dropped: a simulated worker never resends.

    sim_workers --backend EP [--count N] [--slots S] [--seconds T]
    Prints, at exit: workers=N results_sent=M tasks_received=K
*/
#include <czmq.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "wire.h"

#define MAX_COUNT 20000

static volatile sig_atomic_t s_stop;

static void
s_on_signal(int sig)
{
    (void) sig;
    s_stop = 1;
}

//  The process-wide state.
typedef struct {
    const char *prefix;
    int64_t     slots;
    int64_t     heartbeat_ms;   //  from the Welcome (1000 until one arrives)
    uint64_t    results_sent, tasks_received;
    char        id[64];         //  scratch: the worker id being written
} sim_t;

//  Say Hello as worker number i.
static int
s_hello(sim_t *sim, void *sock, int i)
{
    char host[32];
    snprintf(sim->id, sizeof sim->id, "%s%05d", sim->prefix, i);
    snprintf(host, sizeof host, "sim-host-%d", i % 50);
    Shoal__TaskKind kinds[] = { SHOAL__TASK_KIND__KIND_NOOP };
    Shoal__Hello h = SHOAL__HELLO__INIT;
    h.worker_id = sim->id;
    h.host = host;
    h.has_pid = h.has_slots = h.has_instance = h.has_seq = 1;
    h.pid = (uint32_t) getpid();
    h.version = SHOAL_VERSION;
    h.slots = (uint32_t) sim->slots;
    h.kinds = kinds;
    h.n_kinds = 1;
    h.instance = (uint64_t) clock_wall_us() ^ (uint64_t) i;
    h.seq = 1;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    return wire_send(sock, NULL, 0, &env, ZMQ_DONTWAIT);
}

//  Answer a Tasks message: an ok result for each task, in one Results.
static void
s_answer(sim_t *sim, void *sock, int i, const Shoal__Tasks *tasks)
{
    size_t n = tasks->n_tasks;
    if (n == 0)
        return;
    Shoal__Result *rows = calloc(n, sizeof *rows);
    Shoal__Result **ptrs = calloc(n, sizeof *ptrs);
    if (!rows || !ptrs) {
        free(rows);
        free(ptrs);
        return;
    }
    int64_t now = clock_wall_us();
    for (size_t k = 0; k < n; k++) {
        const Shoal__Task *t = tasks->tasks[k];
        shoal__result__init(&rows[k]);
        rows[k].has_task_id = rows[k].has_lease = rows[k].has_outcome = 1;
        rows[k].has_started_us = rows[k].has_finished_us = rows[k].has_attempt = 1;
        rows[k].task_id = t->task_id;
        rows[k].lease = t->lease;
        rows[k].outcome = SHOAL__OUTCOME__OUTCOME_OK;
        rows[k].attempt = t->attempt;
        rows[k].started_us = rows[k].finished_us = now;
        ptrs[k] = &rows[k];
    }
    snprintf(sim->id, sizeof sim->id, "%s%05d", sim->prefix, i);
    Shoal__Results r = SHOAL__RESULTS__INIT;
    r.results = ptrs;
    r.n_results = n;
    r.worker_id = sim->id;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_RESULTS;
    env.results = &r;
    if (wire_send(sock, NULL, 0, &env, ZMQ_DONTWAIT) == 0)
        sim->results_sent += n;
    sim->tasks_received += n;
    free(rows);
    free(ptrs);
}

//  Read what the broker sent worker i.
static void
s_drain(sim_t *sim, void *sock, int i)
{
    while (true) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            return;
        }
        char err[256];
        bool mismatch = false;
        envelope_t *env = wire_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), err, sizeof err, &mismatch);
        zmq_msg_close(&msg);
        if (!env)
            continue;
        if (env->body_case == SHOAL__ENVELOPE__BODY_WELCOME && env->welcome->has_heartbeat_ms
        &&  env->welcome->heartbeat_ms > 0)
            sim->heartbeat_ms = env->welcome->heartbeat_ms;
        else
        if (env->body_case == SHOAL__ENVELOPE__BODY_TASKS)
            s_answer(sim, sock, i, env->tasks);
        wire_free(env);
    }
}

static void
s_heartbeat_all(zmq_pollitem_t *items, int count)
{
    for (int i = 0; i < count; i++) {
        Shoal__Heartbeat hb = SHOAL__HEARTBEAT__INIT;
        hb.has_running = 1;
        Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
        env.body_case = SHOAL__ENVELOPE__BODY_HEARTBEAT;
        env.heartbeat = &hb;
        wire_send(items[i].socket, NULL, 0, &env, ZMQ_DONTWAIT);
    }
}

int
main(int argc, char **argv)
{
    const char *backend = NULL;
    sim_t sim = { .prefix = "sim", .slots = 1, .heartbeat_ms = 1000 };
    int64_t count = 1000, seconds = 3600;
    opt_t opts[] = {
        { "backend", 0, NULL, OPT_STRING, &backend, "EP", "broker's worker endpoint" },
        { "count", 0, NULL, OPT_INT, &count, "N", "workers (default 1000)" },
        { "slots", 0, NULL, OPT_INT, &sim.slots, "S", "slots each (default 1)" },
        { "prefix", 0, NULL, OPT_STRING, &sim.prefix, "NAME", "worker ids: NAME00000, ..." },
        { "seconds", 0, NULL, OPT_INT, &seconds, "S", "run this long at most (default 3600)" },
        { NULL }
    };
    config_t cfg = { .prog = "sim_workers", .usage = "--backend EP [--count N] [--slots S]", .opts = opts };
    int rc = config_parse(&cfg, argc, argv);
    config_free(&cfg);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    if (!backend || count < 1 || count > MAX_COUNT || sim.slots < 1 || sim.slots > 1024) {
        fprintf(stderr, "sim_workers: --backend EP, --count 1..%d, --slots 1..1024\n", MAX_COUNT);
        return 2;
    }
    signal(SIGTERM, s_on_signal);
    signal(SIGINT, s_on_signal);
    zsys_set_max_sockets((size_t) count + 64);
    zsys_set_io_threads(2);
    zsock_t **socks = calloc((size_t) count, sizeof *socks);
    zmq_pollitem_t *items = calloc((size_t) count, sizeof *items);
    if (!socks || !items)
        return 1;
    int64_t opened = clock_mono_ms();
    for (int i = 0; i < count; i++) {
        socks[i] = zsock_new(ZMQ_DEALER);
        if (!socks[i] || zsock_connect(socks[i], "%s", backend) < 0) {
            fprintf(stderr, "sim_workers: cannot open worker %d on %s (raise ulimit -n?)\n", i, backend);
            return 1;
        }
        wire_socket_defaults(zsock_resolve(socks[i]));
        items[i] = (zmq_pollitem_t) { zsock_resolve(socks[i]), 0, ZMQ_POLLIN, 0 };
        s_hello(&sim, items[i].socket, i);
    }
    fprintf(stderr, "sim_workers: %lld workers said hello in %lld ms\n", (long long) count,
            (long long) (clock_mono_ms() - opened));
    int64_t end = clock_mono_ms() + seconds * 1000;
    int64_t next_beat = clock_mono_ms() + sim.heartbeat_ms;
    while (!s_stop && clock_mono_ms() < end) {
        int64_t wait = next_beat - clock_mono_ms();
        if (zmq_poll(items, (int) count, wait < 0 ? 0 : (long) wait) > 0)
            for (int i = 0; i < count; i++)
                if (items[i].revents & ZMQ_POLLIN)
                    s_drain(&sim, items[i].socket, i);
        if (clock_mono_ms() >= next_beat) {
            next_beat = clock_mono_ms() + sim.heartbeat_ms;
            s_heartbeat_all(items, (int) count);
        }
    }
    printf("workers=%lld results_sent=%llu tasks_received=%llu\n", (long long) count,
           (unsigned long long) sim.results_sent, (unsigned long long) sim.tasks_received);
    for (int i = 0; i < count; i++)
        zsock_destroy(&socks[i]);
    free(socks);
    free(items);
    return 0;
}
