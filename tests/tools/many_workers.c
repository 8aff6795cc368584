/*  many_workers — hundreds of idle workers in one process, for tests of
    what shows them (the dashboard with 500 workers).

    Each is a DEALER on the backend that says Hello (its own id, one of ten
    hosts, a label, one slot, task kind exec only, so noop and http jobs
    never go to it) and then a Heartbeat every second, and drops whatever
    the broker sends. It runs until SIGTERM or --seconds.

    shoal_many_workers --backend EP [--count N] [--prefix NAME] [--seconds S]
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

#define MAX_COUNT 2000

static volatile sig_atomic_t s_stop;

static void
s_on_signal(int sig)
{
    s_stop = 1;
}

//  Say Hello as worker number i.
static int
s_hello(void *sock, const char *prefix, int i)
{
    char id[64], host[32];
    snprintf(id, sizeof id, "%s%03d", prefix, i);
    snprintf(host, sizeof host, "fake-host-%d", i % 10);
    Shoal__Label label = SHOAL__LABEL__INIT;
    label.key = "zone";
    label.value = i % 2 ? "b" : "a";
    Shoal__Label *labels[] = { &label };
    Shoal__TaskKind kinds[] = { SHOAL__TASK_KIND__KIND_EXEC };
    Shoal__Hello h = SHOAL__HELLO__INIT;
    h.worker_id = id;
    h.host = host;
    h.has_pid = h.has_slots = h.has_instance = h.has_seq = 1;
    h.pid = (uint32_t) getpid();
    h.version = SHOAL_VERSION;
    h.slots = 1;
    h.kinds = kinds;
    h.n_kinds = 1;
    h.labels = labels;
    h.n_labels = 1;
    h.instance = (uint64_t) clock_wall_us() ^ (uint64_t) i;
    h.seq = 1;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    return wire_send(sock, NULL, 0, &env, ZMQ_DONTWAIT);
}

int
main(int argc, char **argv)
{
    const char *backend = NULL, *prefix = "fake";
    int64_t count = 500, seconds = 3600;
    opt_t opts[] = {
        { "backend", 0, NULL, OPT_STRING, &backend, "EP", "broker's worker endpoint" },
        { "count", 0, NULL, OPT_INT, &count, "N", "workers (default 500)" },
        { "prefix", 0, NULL, OPT_STRING, &prefix, "NAME", "worker ids: NAME000, NAME001, ..." },
        { "seconds", 0, NULL, OPT_INT, &seconds, "S", "run this long at most (default 3600)" },
        { NULL }
    };
    config_t cfg = { .prog = "shoal_many_workers", .usage = "--backend EP [--count N]", .opts = opts };
    int rc = config_parse(&cfg, argc, argv);
    config_free(&cfg);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    if (!backend || count < 1 || count > MAX_COUNT) {
        fprintf(stderr, "shoal_many_workers: --backend EP and --count 1..%d\n", MAX_COUNT);
        return 2;
    }
    signal(SIGTERM, s_on_signal);
    signal(SIGINT, s_on_signal);
    zsock_t **socks = calloc((size_t) count, sizeof *socks);
    zmq_pollitem_t *items = calloc((size_t) count, sizeof *items);
    if (!socks || !items)
        return 1;
    for (int i = 0; i < count; i++) {
        socks[i] = zsock_new(ZMQ_DEALER);
        if (!socks[i] || zsock_connect(socks[i], "%s", backend) < 0) {
            fprintf(stderr, "shoal_many_workers: cannot connect to %s\n", backend);
            return 1;
        }
        wire_socket_defaults(zsock_resolve(socks[i]));
        items[i] = (zmq_pollitem_t) { zsock_resolve(socks[i]), 0, ZMQ_POLLIN, 0 };
        s_hello(items[i].socket, prefix, i);
    }
    fprintf(stderr, "shoal_many_workers: %lld workers said hello\n", (long long) count);
    int64_t end = clock_mono_ms() + seconds * 1000, next_beat = clock_mono_ms() + 1000;
    while (!s_stop && clock_mono_ms() < end) {
        if (zmq_poll(items, (int) count, 200) > 0)
            for (int i = 0; i < count; i++)
                while (zsock_events(socks[i]) & ZMQ_POLLIN) {
                    zmq_msg_t msg;
                    zmq_msg_init(&msg);
                    zmq_msg_recv(&msg, items[i].socket, ZMQ_DONTWAIT);
                    zmq_msg_close(&msg);
                }
        if (clock_mono_ms() >= next_beat) {
            next_beat += 1000;
            for (int i = 0; i < count; i++) {
                Shoal__Heartbeat hb = SHOAL__HEARTBEAT__INIT;
                hb.has_running = 1;
                Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
                env.body_case = SHOAL__ENVELOPE__BODY_HEARTBEAT;
                env.heartbeat = &hb;
                wire_send(items[i].socket, NULL, 0, &env, ZMQ_DONTWAIT);
            }
        }
    }
    for (int i = 0; i < count; i++)
        zsock_destroy(&socks[i]);
    free(socks);
    free(items);
    return 0;
}
