/*  rogue — a hostile peer for the broker's frontend and backend.

    For --seconds it sends, over DEALER sockets, frames no shoal program
    would: empty, random, truncated and bit-flipped envelopes, fields over
    their limits, a wrong protocol version, multi-frame junk, requests on
    the wrong socket, results for leases nobody issued, Hellos that claim
    tasks with duplicate leases, a frame just over WIRE_MAX_FRAME and one
    over ZMQ_MAXMSGSIZE; and over plain TCP, bytes that are not ZMTP. It
    never sends a well-formed control request, so a test can tell the
    broker's own decisions from the rogue's. At the end it prints what it
    sent as one logfmt line.

    shoal_rogue --frontend EP --backend EP [--seconds N] [--seed S] [--rate N]
                [--curve-server-key FILE --curve-key FILE]
*/
#include <arpa/inet.h>
#include <czmq.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "keys.h"
#include "wire.h"

typedef struct {
    uint64_t frames;        //  messages sent
    uint64_t empty, random, truncated, flipped, oversized_field, version, multi, wrong_socket;
    uint64_t stale, dup_lease_hello, big_frame, huge_frame, raw_tcp, replies;
} stats_t;

static uint64_t s_state = 88172645463325252ULL;

static uint64_t
s_rand(void)
{
    s_state ^= s_state << 13;
    s_state ^= s_state >> 7;
    s_state ^= s_state << 17;
    return s_state;
}

static void
s_fill(uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t) s_rand();
}

static uint8_t *
s_pack(Shoal__Envelope *env, uint32_t version, size_t *len)
{
    env->has_version = 1;
    env->version = version;
    *len = shoal__envelope__get_packed_size(env);
    uint8_t *buf = malloc(*len ? *len : 1);
    if (buf)
        shoal__envelope__pack(env, buf);
    return buf;
}

//  A valid-looking envelope of one of a few kinds, never a control
//  request. `long_field`: one text field over its limit.
static uint8_t *
s_template(int which, bool long_field, size_t *len)
{
    static char big[70000];
    memset(big, 'x', sizeof big - 1);
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    Shoal__Hello hello = SHOAL__HELLO__INIT;
    Shoal__Results results = SHOAL__RESULTS__INIT;
    Shoal__Result r = SHOAL__RESULT__INIT;
    Shoal__Result *rs[] = { &r };
    Shoal__Heartbeat hb = SHOAL__HEARTBEAT__INIT;
    Shoal__StatusRequest sr = SHOAL__STATUS_REQUEST__INIT;
    Shoal__SubmitChunk chunk = SHOAL__SUBMIT_CHUNK__INIT;
    Shoal__TaskSpec spec = SHOAL__TASK_SPEC__INIT;
    Shoal__HttpSpec http = SHOAL__HTTP_SPEC__INIT;
    Shoal__TaskSpec *specs[] = { &spec };
    Shoal__TaskKind kinds[] = { SHOAL__TASK_KIND__KIND_NOOP };
    char name[64];
    snprintf(name, sizeof name, "rogue-%04x", (unsigned) (s_rand() & 0xffff));
    switch (which % 5) {
        case 0:
            hello.worker_id = long_field ? big + sizeof big - 200 : name;
            hello.has_slots = 1;
            hello.slots = 1 + (uint32_t) (s_rand() % 8);
            hello.kinds = kinds;
            hello.n_kinds = 1;
            hello.host = long_field ? big + sizeof big - 1000 : "rogue";
            env.body_case = SHOAL__ENVELOPE__BODY_HELLO;
            env.hello = &hello;
            break;
        case 1:
            r.has_task_id = r.has_lease = r.has_outcome = 1;
            r.task_id = (1ULL << 32) | (s_rand() % 4000);
            r.lease = s_rand();
            r.outcome = SHOAL__OUTCOME__OUTCOME_OK;
            r.error = long_field ? big : NULL;
            results.results = rs;
            results.n_results = 1;
            results.worker_id = name;
            env.body_case = SHOAL__ENVELOPE__BODY_RESULTS;
            env.results = &results;
            break;
        case 2:
            hb.has_running = 1;
            env.body_case = SHOAL__ENVELOPE__BODY_HEARTBEAT;
            env.heartbeat = &hb;
            break;
        case 3:
            sr.has_job_id = 1;
            sr.job_id = 1;
            env.body_case = SHOAL__ENVELOPE__BODY_STATUS_REQUEST;
            env.status_request = &sr;
            break;
        default:
            //  a chunk for a job nobody opened (job ids far above the test's)
            http.url = long_field ? big : "https://example.invalid/x";
            spec.http = &http;
            spec.kind_case = SHOAL__TASK_SPEC__KIND_HTTP;
            chunk.has_job_id = chunk.has_first_seq = 1;
            chunk.job_id = 1000000 + (uint32_t) (s_rand() % 1000);
            chunk.first_seq = 0;
            chunk.tasks = specs;
            chunk.n_tasks = 1;
            env.body_case = SHOAL__ENVELOPE__BODY_SUBMIT_CHUNK;
            env.submit_chunk = &chunk;
            break;
    }
    return s_pack(&env, SHOAL_PROTO_MAJOR, len);
}

//  A Hello claiming tasks of jobs 1..8 as held under leases of an earlier
//  broker run (epoch 1: start the broker twice), several tasks sharing one
//  lease, from a peer that then falls silent. A broker must not trust these
//  refs to be consistent.
static uint8_t *
s_dup_lease_hello(size_t *len)
{
    enum { N = 64 };
    Shoal__TaskRef refs[N];
    Shoal__TaskRef *ptrs[N];
    //  epoch 1 in the top 24 bits: "an earlier run" for a broker started twice
    uint64_t lease = (1ULL << 40) | (1 + s_rand() % 1000);
    for (size_t i = 0; i < N; i++) {
        shoal__task_ref__init(&refs[i]);
        refs[i].has_task_id = refs[i].has_lease = 1;
        refs[i].task_id = ((uint64_t) (1 + s_rand() % 8) << 32) | (s_rand() % 64);
        refs[i].lease = i % 4 == 0 ? (1ULL << 40) | (1 + s_rand() % 1000) : lease;
        ptrs[i] = &refs[i];
    }
    Shoal__TaskKind kinds[] = { SHOAL__TASK_KIND__KIND_HTTP };
    char name[64];
    snprintf(name, sizeof name, "rogue-held-%04x", (unsigned) (s_rand() & 0xffff));
    Shoal__Hello hello = SHOAL__HELLO__INIT;
    hello.worker_id = name;
    hello.host = "rogue";
    hello.has_slots = hello.has_instance = 1;
    hello.slots = 4;
    hello.instance = s_rand();
    //  http only: the test's noop tasks are never dispatched here
    hello.kinds = kinds;
    hello.n_kinds = 1;
    hello.held = ptrs;
    hello.n_held = N;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.body_case = SHOAL__ENVELOPE__BODY_HELLO;
    env.hello = &hello;
    return s_pack(&env, SHOAL_PROTO_MAJOR, len);
}

static void
s_send(void *sock, const void *data, size_t len, int flags, stats_t *st)
{
    if (zmq_send(sock, data, len, flags | ZMQ_DONTWAIT) >= 0 && !(flags & ZMQ_SNDMORE))
        st->frames++;
}

//  One hostile message on a socket.
static void
s_attack(void *sock, bool backend, stats_t *st)
{
    uint8_t buf[4096];
    size_t len = 0;
    uint8_t *msg = NULL;
    switch (s_rand() % 10) {
        case 0:
            s_send(sock, "", 0, 0, st);
            st->empty++;
            break;
        case 1:
            len = 1 + s_rand() % sizeof buf;
            s_fill(buf, len);
            s_send(sock, buf, len, 0, st);
            st->random++;
            break;
        case 2:
            msg = s_template((int) (s_rand() % 5), false, &len);
            if (msg && len > 1) {
                s_send(sock, msg, 1 + s_rand() % (len - 1), 0, st);
                st->truncated++;
            }
            break;
        case 3:
            msg = s_template(backend ? 1 + (int) (s_rand() % 2) : 3, false, &len);
            if (msg && len) {
                for (int k = 0; k < 1 + (int) (s_rand() % 4); k++)
                    msg[s_rand() % len] ^= (uint8_t) (1u << (s_rand() % 8));
                s_send(sock, msg, len, 0, st);
                st->flipped++;
            }
            break;
        case 4:
            msg = s_template((int) (s_rand() % 5), true, &len);
            if (msg) {
                s_send(sock, msg, len, 0, st);
                st->oversized_field++;
            }
            break;
        case 5: {
            Shoal__Heartbeat hb = SHOAL__HEARTBEAT__INIT;
            Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
            env.body_case = SHOAL__ENVELOPE__BODY_HEARTBEAT;
            env.heartbeat = &hb;
            msg = s_pack(&env, 2 + (uint32_t) (s_rand() % 100), &len);
            if (msg) {
                s_send(sock, msg, len, 0, st);
                st->version++;
            }
            break;
        }
        case 6: {
            int parts = 2 + (int) (s_rand() % 4);
            for (int k = 0; k < parts; k++) {
                len = s_rand() % 64;
                s_fill(buf, len);
                s_send(sock, buf, len, k + 1 < parts ? ZMQ_SNDMORE : 0, st);
            }
            st->multi++;
            break;
        }
        case 7:
            //  the other socket's messages: a Hello to the frontend, a status
            //  request to the backend
            msg = s_template(backend ? 3 : 0, false, &len);
            if (msg) {
                s_send(sock, msg, len, 0, st);
                st->wrong_socket++;
            }
            break;
        case 8:
            if (backend) {
                msg = s_template(1, false, &len);
                if (msg) {
                    s_send(sock, msg, len, 0, st);
                    st->stale++;
                }
            }
            break;
        default:
            break;
    }
    free(msg);
}

//  One frame of `size` bytes of junk (over the decoder's or libzmq's limit).
static void
s_big(void *sock, size_t size, stats_t *st, uint64_t *counter)
{
    uint8_t *buf = malloc(size);
    if (!buf)
        return;
    s_fill(buf, 4096);
    memset(buf + 4096, 0x5a, size - 4096);
    s_send(sock, buf, size, 0, st);
    (*counter)++;
    free(buf);
}

//  Connect over plain TCP and write bytes that are not ZMTP.
static void
s_raw_tcp(const char *endpoint, stats_t *st)
{
    char host[256];
    const char *p = strncmp(endpoint, "tcp://", 6) == 0 ? endpoint + 6 : NULL;
    const char *colon = p ? strrchr(p, ':') : NULL;
    if (!colon || (size_t) (colon - p) >= sizeof host)
        return;
    memcpy(host, p, (size_t) (colon - p));
    host[colon - p] = 0;
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
    if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
        return;
    int fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
        uint8_t junk[1024];
        s_fill(junk, sizeof junk);
        if (write(fd, junk, sizeof junk) > 0)
            st->raw_tcp++;
    }
    if (fd >= 0)
        close(fd);
    freeaddrinfo(ai);
}

static void
s_drain(void *sock, stats_t *st)
{
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    while (zmq_msg_recv(&msg, sock, ZMQ_DONTWAIT) >= 0)
        if (!zmq_msg_more(&msg))
            st->replies++;
    zmq_msg_close(&msg);
}

static zsock_t *
s_dealer(const char *endpoint, const keys_t *keys)
{
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    if (!sock)
        return NULL;
    void *raw = zsock_resolve(sock);
    //  no ZMQ_MAXMSGSIZE here: the rogue sends what the broker must refuse
    int linger = 0, hwm = 10000;
    zmq_setsockopt(raw, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(raw, ZMQ_SNDHWM, &hwm, sizeof hwm);
    keys_apply(keys, raw);
    if (zsock_connect(sock, "%s", endpoint) != 0)
        zsock_destroy(&sock);
    return sock;
}

int
main(int argc, char **argv)
{
    const char *frontend = NULL, *backend = NULL, *server_key = NULL, *own_key = NULL;
    int64_t seconds = 10, seed = 1, rate = 2000;
    opt_t opts[] = {
        { "frontend", 0, NULL, OPT_STRING, &frontend, "EP", "broker's client endpoint" },
        { "backend", 0, NULL, OPT_STRING, &backend, "EP", "broker's worker endpoint" },
        { "seconds", 0, NULL, OPT_INT, &seconds, "N", "how long to attack (default 10)" },
        { "seed", 0, NULL, OPT_INT, &seed, "S", "random seed (default 1)" },
        { "rate", 0, NULL, OPT_INT, &rate, "N", "messages per second per socket (default 2000)" },
        { "curve-server-key", 0, NULL, OPT_STRING, &server_key, "FILE", "broker's public key" },
        { "curve-key", 0, NULL, OPT_STRING, &own_key, "FILE", "our key pair (an insider gone bad)" },
        { NULL }
    };
    config_t cfg = { .prog = "shoal_rogue", .usage = "--frontend EP --backend EP [options]", .opts = opts };
    int rc = config_parse(&cfg, argc, argv);
    config_free(&cfg);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    if (!frontend || !backend || seconds < 1 || rate < 1) {
        fprintf(stderr, "shoal_rogue: --frontend and --backend are required\n");
        return 2;
    }
    s_state ^= (uint64_t) seed * 0x9e3779b97f4a7c15ULL;
    keys_t *keys = NULL;
    char err[1024];
    if (server_key && keys_client_new(server_key, own_key, &keys, err, sizeof err)) {
        fprintf(stderr, "shoal_rogue: %s\n", err);
        return 2;
    }
    zsock_t *fe = s_dealer(frontend, keys);
    zsock_t *be = s_dealer(backend, keys);
    if (!fe || !be) {
        fprintf(stderr, "shoal_rogue: bad endpoint\n");
        return 2;
    }
    stats_t st = { 0 };
    int64_t start = clock_mono_ms();
    int64_t end = start + seconds * 1000;
    bool big_sent = false, huge_sent = false;
    int64_t next_hello = start;
    uint64_t sent = 0;
    while (clock_mono_ms() < end) {
        int64_t now = clock_mono_ms();
        //  pace: `rate` messages per second per socket
        uint64_t due = (uint64_t) ((now - start) * rate / 1000);
        while (sent < due) {
            s_attack(zsock_resolve(fe), false, &st);
            s_attack(zsock_resolve(be), true, &st);
            sent++;
        }
        //  one frame just over WIRE_MAX_FRAME (the decoder refuses it) and
        //  one over ZMQ_MAXMSGSIZE (libzmq drops the connection; the DEALER
        //  reconnects by itself) to each socket, a second in
        if (!big_sent && now - start > 1000) {
            s_big(zsock_resolve(fe), WIRE_MAX_FRAME + 100, &st, &st.big_frame);
            s_big(zsock_resolve(be), WIRE_MAX_FRAME + 100, &st, &st.big_frame);
            big_sent = true;
        }
        if (!huge_sent && now - start > 2000) {
            s_big(zsock_resolve(fe), WIRE_MAX_FRAME + 8192, &st, &st.huge_frame);
            s_big(zsock_resolve(be), WIRE_MAX_FRAME + 8192, &st, &st.huge_frame);
            huge_sent = true;
        }
        //  twice a second, a Hello holding tasks under duplicate leases (the
        //  next Hello, with another instance, makes the broker drop it)
        if (now >= next_hello) {
            size_t len = 0;
            uint8_t *msg = s_dup_lease_hello(&len);
            if (msg)
                s_send(zsock_resolve(be), msg, len, 0, &st);
            free(msg);
            st.dup_lease_hello++;
            next_hello = now + 500;
        }
        if (s_rand() % 50 == 0) {
            s_raw_tcp(frontend, &st);
            s_raw_tcp(backend, &st);
        }
        s_drain(zsock_resolve(fe), &st);
        s_drain(zsock_resolve(be), &st);
        zclock_sleep(5);
    }
    printf("msg=rogue_done frames=%llu empty=%llu random=%llu truncated=%llu flipped=%llu"
           " oversized_field=%llu version=%llu multi=%llu wrong_socket=%llu stale=%llu"
           " dup_lease_hello=%llu big_frame=%llu huge_frame=%llu raw_tcp=%llu replies=%llu\n",
           (unsigned long long) st.frames, (unsigned long long) st.empty, (unsigned long long) st.random,
           (unsigned long long) st.truncated, (unsigned long long) st.flipped,
           (unsigned long long) st.oversized_field, (unsigned long long) st.version,
           (unsigned long long) st.multi, (unsigned long long) st.wrong_socket,
           (unsigned long long) st.stale, (unsigned long long) st.dup_lease_hello,
           (unsigned long long) st.big_frame, (unsigned long long) st.huge_frame,
           (unsigned long long) st.raw_tcp, (unsigned long long) st.replies);
    zsock_destroy(&fe);
    zsock_destroy(&be);
    keys_destroy(&keys);
    return 0;
}
