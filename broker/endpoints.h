/*  endpoints — where the broker's three sockets are bound, for people and
    scripts: an endpoint given with port 0 (tcp://127.0.0.1:0) gets a port
    from the kernel, which only ZMQ_LAST_ENDPOINT tells. */
#ifndef SHOAL_ENDPOINTS_H
#define SHOAL_ENDPOINTS_H

#include <stddef.h>

//  The endpoint a raw libzmq socket is bound to, with the chosen port, into
//  buf (size bytes); `fallback` when the socket cannot say. Returns buf.
const char *endpoints_bound(void *socket, const char *fallback, char *buf, size_t size);

//  Write "frontend=EP\nbackend=EP\nprogress=EP\n" to `path` atomically (a
//  temporary file renamed over it), so a reader never sees half of it.
//  Returns 0, or -1 with the reason logged.
int endpoints_write(const char *path, const char *frontend, const char *backend,
                    const char *progress);

#endif
