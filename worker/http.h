/*  http — the worker's HTTP executor on libcurl multi (see http.c). */
#ifndef SHOAL_WORKER_HTTP_H
#define SHOAL_WORKER_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "taskspec.h"
#include "worker.h"

//  A multi handle for up to `slots` transfers; bodies stored "dir" go to body_dir.
http_t *http_new(const char *body_dir, size_t slots);
//  Destroy (no transfers may be running); NULLs the caller's pointer.
void http_destroy(http_t **h_p);
//  Start a task's request; it ends in exactly one run_finish.
void http_start(worker_t *self, run_t *run);
//  Abort a running request (the caller finishes the run).
void http_cancel(worker_t *self, run_t *run);
//  Poll items for the sockets curl wants watched (at most max); returns the count.
size_t http_poll_items(http_t *h, zmq_pollitem_t *items, size_t max);
//  Sockets curl watches now.
size_t http_socket_count(const http_t *h);
//  When curl wants to be called back (monotonic ms), INT64_MAX for never.
int64_t http_deadline_ms(const http_t *h);
//  Give curl what the poll saw, and finish the transfers that are done.
void http_after_poll(worker_t *self, zmq_pollitem_t *items, size_t n);

#endif
