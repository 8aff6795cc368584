/*  bomb — frames that cost the receiver far more than their size.

    Sends --count frames to the broker's frontend, each an Envelope with a
    correlation id whose body (--body, a field number of the Envelope's
    oneof) is --element (hex bytes) repeated until the frame is --size
    bytes: e.g. --body 32 --element 1a00 is a SubmitChunk holding millions
    of empty TaskSpecs. Waits up to --timeout-ms for each reply and prints
    one logfmt line: how many were answered, how many answers echoed the
    frame's corr, and the slowest answer in ms.

    shoal_bomb --frontend EP --body N --element HEX [--size BYTES]
               [--count N] [--timeout-ms MS]
*/
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "wire.h"

//  Append a protobuf varint; returns the bytes written.
static size_t
s_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    do {
        p[n++] = (uint8_t) ((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return n;
}

//  Parse hex into bytes; returns the count or 0 on bad input.
static size_t
s_hex(const char *hex, uint8_t *out, size_t max)
{
    size_t n = strlen(hex);
    if (n == 0 || n % 2 || n / 2 > max)
        return 0;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return 0;
        out[i] = (uint8_t) v;
    }
    return n / 2;
}

//  Build the frame: version 1, corr, body field holding `elem` repeated.
static uint8_t *
s_frame(uint32_t body, const uint8_t *elem, size_t elem_len, size_t size, uint64_t corr, size_t *len)
{
    uint8_t *buf = malloc(size + 64);
    if (!buf)
        return NULL;
    size_t n = 0;
    buf[n++] = 0x08;
    buf[n++] = SHOAL_PROTO_MAJOR;
    buf[n++] = 0x10;
    n += s_varint(buf + n, corr);
    n += s_varint(buf + n, ((uint64_t) body << 3) | 2);
    size_t reps = size > n + 8 ? (size - n - 8) / elem_len : 1;
    n += s_varint(buf + n, reps * elem_len);
    for (size_t i = 0; i < reps; i++, n += elem_len)
        memcpy(buf + n, elem, elem_len);
    *len = n;
    return buf;
}

int
main(int argc, char **argv)
{
    const char *frontend = NULL, *element = NULL;
    int64_t body = 0, size = 16 << 20, count = 1, timeout_ms = 30000;
    opt_t opts[] = {
        { "frontend", 0, NULL, OPT_STRING, &frontend, "EP", "the broker's client endpoint" },
        { "body", 0, NULL, OPT_INT, &body, "N", "the Envelope's body field number" },
        { "element", 0, NULL, OPT_STRING, &element, "HEX", "bytes repeated inside the body" },
        { "size", 0, NULL, OPT_INT, &size, "BYTES", "frame size (default 16 MiB)" },
        { "count", 0, NULL, OPT_INT, &count, "N", "frames to send (default 1)" },
        { "timeout-ms", 0, NULL, OPT_INT, &timeout_ms, "MS", "wait for each reply (default 30000)" },
        { NULL }
    };
    config_t config = { .prog = "shoal_bomb", .usage = "--frontend EP --body N --element HEX", .opts = opts };
    int rc = config_parse(&config, argc, argv);
    config_free(&config);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    uint8_t elem[256];
    size_t elem_len = element ? s_hex(element, elem, sizeof elem) : 0;
    if (!frontend || body < 1 || body > 1000 || !elem_len || size < 64 || size > (256 << 20)
    ||  count < 1 || timeout_ms < 1) {
        fprintf(stderr, "shoal_bomb: --frontend EP --body 1..1000 --element HEX --size 64.. --count 1..\n");
        return 2;
    }
    zsys_handler_set(NULL);
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    if (!sock || zsock_connect(sock, "%s", frontend) < 0) {
        fprintf(stderr, "shoal_bomb: bad endpoint %s\n", frontend);
        return 2;
    }
    int64_t answered = 0, echoed = 0, slowest = 0;
    for (int64_t i = 0; i < count; i++) {
        uint64_t corr = 0x5ea1ed00 + (uint64_t) i;
        size_t len;
        uint8_t *frame = s_frame((uint32_t) body, elem, elem_len, (size_t) size, corr, &len);
        if (!frame)
            return 2;
        int64_t sent = clock_mono_ms();
        zmq_send(zsock_resolve(sock), frame, len, 0);
        free(frame);
        zpoller_t *poller = zpoller_new(sock, NULL);
        if (zpoller_wait(poller, (int) timeout_ms) == sock) {
            zframe_t *reply = zframe_recv(sock);
            int64_t ms = clock_mono_ms() - sent;
            answered++;
            slowest = ms > slowest ? ms : slowest;
            envelope_t *env = reply ? wire_decode(zframe_data(reply), zframe_size(reply), NULL, 0, NULL) : NULL;
            if (env && env->has_corr && env->corr == corr)
                echoed++;
            wire_free(env);
            zframe_destroy(&reply);
        }
        zpoller_destroy(&poller);
    }
    printf("msg=bomb_done sent=%lld answered=%lld echoed=%lld slowest_ms=%lld\n", (long long) count,
           (long long) answered, (long long) echoed, (long long) slowest);
    zsock_destroy(&sock);
    return 0;
}
