/*  bench_latency — submit -> result-committed latency on an idle cluster.

    Each sample is a job of one noop task: open the job, send the chunk
    (which seals the job), and wait for the broker's JOB_FINISHED event on the PUB socket,
    which it publishes once the result row is committed. The clock starts
    when the chunk is sent.

    bench_latency FRONTEND PROGRESS SAMPLES */
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "wire.h"

static Shoal__Envelope *
s_call(void *dealer, Shoal__Envelope *req, uint64_t corr)
{
    req->has_corr = 1;
    req->corr = corr;
    if (wire_send(dealer, NULL, 0, req, 0))
        return NULL;
    while (true) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, dealer, 0) < 0)
            return NULL;
        char err[256];
        Shoal__Envelope *env = wire_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), err, sizeof err, NULL);
        zmq_msg_close(&msg);
        if (env && env->corr == corr)
            return env;
        wire_free(env);
    }
}

static int
s_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bench_latency FRONTEND PROGRESS SAMPLES\n");
        return 2;
    }
    int samples = atoi(argv[3]);
    zsock_t *dealer = zsock_new_dealer(argv[1]);
    zsock_t *sub = zsock_new_sub(argv[2], "event");
    int timeout = 10000;
    zmq_setsockopt(zsock_resolve(dealer), ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(zsock_resolve(sub), ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zclock_sleep(300);      //  let the subscription reach the broker
    int64_t *lat = calloc((size_t) samples, sizeof *lat);
    Shoal__NoopSpec noop = SHOAL__NOOP_SPEC__INIT;
    Shoal__TaskSpec spec = SHOAL__TASK_SPEC__INIT;
    spec.kind_case = SHOAL__TASK_SPEC__KIND_NOOP;
    spec.noop = &noop;
    Shoal__TaskSpec *specs[] = { &spec };
    uint64_t corr = 1;
    for (int i = 0; i < samples; i++) {
        Shoal__JobOpen open = SHOAL__JOB_OPEN__INIT;
        open.name = "latency";
        Shoal__Envelope req = SHOAL__ENVELOPE__INIT;
        req.body_case = SHOAL__ENVELOPE__BODY_JOB_OPEN;
        req.job_open = &open;
        Shoal__Envelope *reply = s_call(zsock_resolve(dealer), &req, corr++);
        if (!reply || reply->body_case != SHOAL__ENVELOPE__BODY_JOB_OPENED) {
            fprintf(stderr, "open failed\n");
            return 1;
        }
        uint32_t job = reply->job_opened->job_id;
        wire_free(reply);
        int64_t start = clock_mono_us();
        Shoal__SubmitChunk chunk = SHOAL__SUBMIT_CHUNK__INIT;
        chunk.has_job_id = chunk.has_first_seq = 1;
        chunk.job_id = job;
        chunk.tasks = specs;
        chunk.n_tasks = 1;
        chunk.has_seal = 1;
        chunk.seal = 1;     //  the one chunk seals the job in the same commit
        Shoal__Envelope creq = SHOAL__ENVELOPE__INIT;
        creq.body_case = SHOAL__ENVELOPE__BODY_SUBMIT_CHUNK;
        creq.submit_chunk = &chunk;
        reply = s_call(zsock_resolve(dealer), &creq, corr++);
        if (!reply || reply->body_case != SHOAL__ENVELOPE__BODY_SUBMIT_ACK) {
            fprintf(stderr, "chunk failed\n");
            return 1;
        }
        wire_free(reply);
        //  the finished event
        while (true) {
            zmsg_t *msg = zmsg_recv(sub);
            if (!msg) {
                fprintf(stderr, "no finish event for job %u\n", job);
                return 1;
            }
            zframe_t *f = zmsg_last(msg);
            char err[256];
            Shoal__Envelope *ev = wire_decode(zframe_data(f), zframe_size(f), err, sizeof err, NULL);
            zmsg_destroy(&msg);
            bool mine = ev && ev->body_case == SHOAL__ENVELOPE__BODY_EVENT
                     && ev->event->type == SHOAL__EVENT_TYPE__EVENT_JOB_FINISHED && ev->event->job_id == job;
            wire_free(ev);
            if (mine)
                break;
        }
        lat[i] = clock_mono_us() - start;
    }
    qsort(lat, (size_t) samples, sizeof *lat, s_cmp);
    printf("latency_samples=%d p50_us=%lld p90_us=%lld p99_us=%lld max_us=%lld\n", samples,
           (long long) lat[samples / 2], (long long) lat[samples * 9 / 10],
           (long long) lat[samples * 99 / 100], (long long) lat[samples - 1]);
    free(lat);
    zsock_destroy(&dealer);
    zsock_destroy(&sub);
    return 0;
}
