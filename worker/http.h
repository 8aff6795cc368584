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
//  The poll item for the sockets curl wants watched (one epoll fd, when there
//  are any); returns the number of items filled (0 or 1).
size_t http_poll_items(http_t *h, zmq_pollitem_t *items, size_t max);
//  Poll items http_poll_items will fill (0 or 1).
size_t http_socket_count(const http_t *h);
//  When curl wants to be called back (monotonic ms), INT64_MAX for never.
int64_t http_deadline_ms(const http_t *h);
//  Give curl what the poll saw, and finish the transfers that are done.
void http_after_poll(worker_t *self, zmq_pollitem_t *items, size_t n);

#endif
