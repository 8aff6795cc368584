/*  late_hello — a worker whose older Hello reaches the broker late.

    A reconnecting worker can have a Hello from a connection it gave up
    arrive after the Hello of its current one. That late Hello lists the
    tasks held back then (none), and a broker that reconciled with it would
    requeue tasks the worker is running: they would run twice. This tool
    plays such a worker on the backend socket:

      1. Hello (seq 2) with --slots, then takes tasks until it holds --slots;
      2. sends the older Hello (seq 1, same instance, nothing held);
      3. finishes its tasks: one Results message under the leases of step 1,
         and waits for their ResultAck;
      4. says Bye, prints the task ids it finished (one per line), exits 0.

    A broker that took the late Hello has requeued the tasks: the results of
    step 3 are refused as stale, and the test sees other workers' results.

    shoal_late_hello --backend EP [--worker-id ID] [--slots N] [--timeout-ms MS]
*/
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "wire.h"

#define MAX_SLOTS 64

typedef struct {
    void     *dealer;
    char     *worker_id;
    uint64_t  instance;
    uint32_t  slots;
} fake_t;

static int
s_hello(fake_t *self, uint64_t seq)
{
    Shoal__TaskKind kinds[] = { SHOAL__TASK_KIND__KIND_NOOP };
    Shoal__Hello hello = SHOAL__HELLO__INIT;
    hello.worker_id = self->worker_id;
    hello.host = "late-hello";
    hello.has_pid = hello.has_slots = hello.has_instance = hello.has_seq = 1;
    hello.pid = (uint32_t) getpid();
    hello.slots = self->slots;
    hello.instance = self->instance;
    hello.seq = seq;
    hello.kinds = kinds;
    hello.n_kinds = 1;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_HELLO;
    env.hello = &hello;
    return wire_send(self->dealer, NULL, 0, &env, 0);
}

static void
s_heartbeat(fake_t *self, uint32_t running)
{
    Shoal__Heartbeat hb = SHOAL__HEARTBEAT__INIT;
    hb.has_running = 1;
    hb.running = running;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    wire_send(self->dealer, NULL, 0, &env, 0);
}

//  The next envelope within the deadline, answering heartbeats on the way;
//  NULL at the deadline.
static envelope_t *
s_recv(fake_t *self, int64_t deadline_ms, uint32_t running)
{
    int64_t last_beat = 0;
    while (clock_mono_ms() < deadline_ms) {
        if (clock_mono_ms() - last_beat >= 100) {
            s_heartbeat(self, running);
            last_beat = clock_mono_ms();
        }
        zmq_pollitem_t item = { self->dealer, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll(&item, 1, 100) <= 0)
            continue;
        zmsg_t *msg = zmsg_recv(self->dealer);
        if (!msg)
            continue;
        zframe_t *body = zmsg_last(msg);
        char err[256];
        envelope_t *env = body ? wire_decode(zframe_data(body), zframe_size(body), err, sizeof err, NULL) : NULL;
        zmsg_destroy(&msg);
        if (env)
            return env;
        fprintf(stderr, "late_hello: bad frame from the broker: %s\n", err);
    }
    return NULL;
}

int
main(int argc, char **argv)
{
    const char *backend = NULL;
    const char *worker_id = "late-hello";
    int64_t slots = 4, timeout_ms = 30000;
    opt_t opts[] = {
        { "backend", 0, NULL, OPT_STRING, &backend, "EP", "the broker's worker endpoint" },
        { "worker-id", 0, NULL, OPT_STRING, &worker_id, "ID", "worker id (default late-hello)" },
        { "slots", 0, NULL, OPT_INT, &slots, "N", "tasks to take before the late Hello (default 4)" },
        { "timeout-ms", 0, NULL, OPT_INT, &timeout_ms, "MS", "give up after (default 30000)" },
        { NULL }
    };
    config_t config = { .prog = "shoal_late_hello", .usage = "--backend EP", .opts = opts };
    int rc = config_parse(&config, argc, argv);
    config_free(&config);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    if (!backend || slots < 1 || slots > MAX_SLOTS) {
        fprintf(stderr, "late_hello: --backend EP and --slots 1..%d\n", MAX_SLOTS);
        return 2;
    }
    zsys_handler_set(NULL);
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    fake_t self = { zsock_resolve(sock), (char *) worker_id,
                    (uint64_t) clock_wall_us() ^ ((uint64_t) getpid() << 40), (uint32_t) slots };
    wire_socket_defaults(self.dealer);
    zmq_setsockopt(self.dealer, ZMQ_ROUTING_ID, worker_id, strlen(worker_id));
    if (zsock_connect(sock, "%s", backend) < 0) {
        fprintf(stderr, "late_hello: bad endpoint %s\n", backend);
        return 2;
    }
    int64_t deadline = clock_mono_ms() + timeout_ms;
    s_hello(&self, 2);

    //  1. take tasks until every slot is busy
    uint64_t ids[MAX_SLOTS], leases[MAX_SLOTS];
    uint32_t attempts[MAX_SLOTS];
    uint32_t held = 0;
    while (held < self.slots) {
        envelope_t *env = s_recv(&self, deadline, held);
        if (!env) {
            fprintf(stderr, "late_hello: holding %u of %u tasks at the deadline\n", held, self.slots);
            return 1;
        }
        if (env->body_case == SHOAL__ENVELOPE__BODY_TASKS)
            for (size_t i = 0; i < env->tasks->n_tasks && held < self.slots; i++) {
                ids[held] = env->tasks->tasks[i]->task_id;
                leases[held] = env->tasks->tasks[i]->lease;
                attempts[held] = env->tasks->tasks[i]->attempt;
                held++;
            }
        wire_free(env);
    }
    //  2. the older Hello, late: it knows nothing of these tasks
    s_hello(&self, 1);

    //  3. the tasks are done: one Results message under the leases of step 1
    Shoal__Result results[MAX_SLOTS];
    Shoal__Result *ptrs[MAX_SLOTS];
    int64_t now_us = clock_wall_us();
    for (uint32_t i = 0; i < held; i++) {
        shoal__result__init(&results[i]);
        results[i].has_task_id = results[i].has_lease = results[i].has_outcome = 1;
        results[i].has_started_us = results[i].has_finished_us = results[i].has_attempt = 1;
        results[i].task_id = ids[i];
        results[i].lease = leases[i];
        results[i].outcome = SHOAL__OUTCOME__OUTCOME_OK;
        results[i].started_us = results[i].finished_us = now_us;
        results[i].attempt = attempts[i];
        ptrs[i] = &results[i];
    }
    Shoal__Results rs = SHOAL__RESULTS__INIT;
    rs.results = ptrs;
    rs.n_results = held;
    rs.worker_id = self.worker_id;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_RESULTS;
    env.results = &rs;
    wire_send(self.dealer, NULL, 0, &env, 0);
    uint32_t acked = 0;
    while (acked < held) {
        envelope_t *reply = s_recv(&self, deadline, 0);
        if (!reply) {
            fprintf(stderr, "late_hello: %u of %u results acked at the deadline\n", acked, held);
            return 1;
        }
        if (reply->body_case == SHOAL__ENVELOPE__BODY_RESULT_ACK)
            for (size_t i = 0; i < reply->result_ack->n_acked; i++)
                for (uint32_t k = 0; k < held; k++)
                    if (reply->result_ack->acked[i]->task_id == ids[k]
                    &&  reply->result_ack->acked[i]->lease == leases[k])
                        acked++;
        wire_free(reply);
    }
    //  4. leave
    Shoal__Bye bye = SHOAL__BYE__INIT;
    bye.reason = "done";
    Shoal__Envelope benv = SHOAL__ENVELOPE__INIT;
    benv.body_case = SHOAL__ENVELOPE__BODY_BYE;
    benv.bye = &bye;
    wire_send(self.dealer, NULL, 0, &benv, 0);
    for (uint32_t i = 0; i < held; i++)
        printf("%u/%u\n", (unsigned) (ids[i] >> 32), (unsigned) (ids[i] & 0xffffffffu));
    zsock_destroy(&sock);
    return 0;
}
