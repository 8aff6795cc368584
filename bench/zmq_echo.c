/*  bench_zmq_echo — the ceiling of the transport on this machine: a ROUTER
    echoing messages back to a DEALER over TCP loopback, with a window of
    messages in flight, in two processes' worth of threads.

    bench_zmq_echo MESSAGES WINDOW PAYLOAD_BYTES */
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>

#include "clock.h"

static void
s_server(zsock_t *pipe, void *args)
{
    zsock_t *router = zsock_new(ZMQ_ROUTER);
    int port = zsock_bind(router, "tcp://127.0.0.1:*");
    zsock_signal(pipe, 0);
    zstr_sendf(pipe, "%d", port);
    zpoller_t *poller = zpoller_new(pipe, router, NULL);
    void *raw = zsock_resolve(router);
    while (true) {
        void *which = zpoller_wait(poller, -1);
        if (which == pipe || !which)
            break;
        for (int i = 0; i < 1000; i++) {
            zmq_msg_t id, body;
            zmq_msg_init(&id);
            if (zmq_msg_recv(&id, raw, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&id);
                break;
            }
            zmq_msg_init(&body);
            zmq_msg_recv(&body, raw, 0);
            zmq_msg_send(&id, raw, ZMQ_SNDMORE);
            zmq_msg_send(&body, raw, 0);
        }
    }
    zpoller_destroy(&poller);
    zsock_destroy(&router);
}

int
main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bench_zmq_echo MESSAGES WINDOW PAYLOAD_BYTES\n");
        return 2;
    }
    long n = atol(argv[1]);
    int window = atoi(argv[2]);
    size_t payload = (size_t) atol(argv[3]);
    zactor_t *server = zactor_new(s_server, NULL);
    char *port = zstr_recv(server);
    zsock_t *dealer = zsock_new(ZMQ_DEALER);
    zsock_connect(dealer, "tcp://127.0.0.1:%s", port);
    zstr_free(&port);
    void *raw = zsock_resolve(dealer);
    char *buf = calloc(1, payload ? payload : 1);
    int64_t start = clock_mono_us();
    long sent = 0, received = 0;
    while (received < n) {
        while (sent < n && sent - received < window) {
            zmq_send(raw, buf, payload, 0);
            sent++;
        }
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        zmq_msg_recv(&msg, raw, 0);
        zmq_msg_close(&msg);
        received++;
    }
    double secs = (double) (clock_mono_us() - start) / 1e6;
    printf("echo_messages=%ld window=%d payload=%zu seconds=%.3f messages_per_s=%.0f\n", n, window, payload,
           secs, (double) n / secs);
    free(buf);
    zsock_destroy(&dealer);
    zactor_destroy(&server);
    return 0;
}
