/*  exec — the worker's command executor (see exec.c). */
#ifndef SHOAL_WORKER_EXEC_H
#define SHOAL_WORKER_EXEC_H

#include <stddef.h>
#include <zmq.h>

#include "worker.h"

exec_t *exec_new(void);
void exec_destroy(exec_t **x_p);
//  Start a task's command; it ends in exactly one run_finish.
void exec_start(worker_t *self, run_t *run);
//  Kill a running command's process group (the caller finishes the run).
void exec_cancel(worker_t *self, run_t *run);
//  The poll item for running commands (one epoll fd, when there are any).
size_t exec_poll_items(exec_t *x, zmq_pollitem_t *items, size_t max);
//  Feed stdin, collect output, finish the commands that exited.
void exec_after_poll(worker_t *self, zmq_pollitem_t *items, size_t n);

#endif
