/*  eplist — see eplist.h. */
#include "eplist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

const char *
eplist_get(const char *list, size_t i, char *buf, size_t size)
{
    size_t n = 0;
    for (const char *p = list; p && *p; ) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t) (end - p) : strlen(p);
        while (len && (*p == ' ')) {
            p++;
            len--;
        }
        while (len && p[len - 1] == ' ')
            len--;
        if (len) {
            if (n == i) {
                if (len >= size)
                    return NULL;
                memcpy(buf, p, len);
                buf[len] = 0;
                return buf;
            }
            n++;
        }
        if (!end)
            break;
        p = end + 1;
    }
    return NULL;
}

size_t
eplist_count(const char *list)
{
    char buf[512];
    size_t n = 0;
    while (n <= EPLIST_MAX && eplist_get(list, n, buf, sizeof buf))
        n++;
    return n;
}

int
eplist_connect(void *socket, const char *list, char *err, size_t errlen)
{
    size_t n = eplist_count(list);
    if (n == 0) {
        snprintf(err, errlen, "no broker endpoint in '%s'", list ? list : "");
        return -1;
    }
    if (n > EPLIST_MAX) {
        snprintf(err, errlen, "more than %d broker endpoints in '%s'", EPLIST_MAX, list);
        return -1;
    }
    if (n > 1) {
        int one = 1;
        zmq_setsockopt(socket, ZMQ_IMMEDIATE, &one, sizeof one);
    }
    for (size_t i = 0; i < n; i++) {
        char ep[512];
        eplist_get(list, i, ep, sizeof ep);
        if (zmq_connect(socket, ep) != 0) {
            snprintf(err, errlen, "cannot connect to %s (endpoint %zu of '%s'): %s", ep, i + 1, list,
                     zmq_strerror(zmq_errno()));
            return -1;
        }
    }
    return 0;
}

const char *
eplist_progress(const char *frontends, char *out, size_t size)
{
    size_t o = 0, n = eplist_count(frontends);
    out[0] = 0;
    for (size_t i = 0; i < n && i < EPLIST_MAX && o < size; i++) {
        char ep[512];
        eplist_get(frontends, i, ep, sizeof ep);
        const char *colon = strrchr(ep, ':');
        if (colon && strncmp(ep, "tcp://", 6) == 0 && colon > ep + 5) {
            long port = strtol(colon + 1, NULL, 10);
            o += (size_t) snprintf(out + o, size - o, "%s%.*s:%ld", i ? "," : "", (int) (colon - ep), ep, port + 2);
        }
        else
            o += (size_t) snprintf(out + o, size - o, "%stcp://localhost:5557", i ? "," : "");
    }
    if (!out[0])
        snprintf(out, size, "tcp://localhost:5557");
    return out;
}
