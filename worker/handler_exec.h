/*  handler_exec — handler tasks on the worker (see handler_exec.c). */
#ifndef SHOAL_WORKER_HANDLER_EXEC_H
#define SHOAL_WORKER_HANDLER_EXEC_H

#include <stdbool.h>
#include <stddef.h>

#include "executor.h"
#include "handler.h"

//  The handler executor with one pool per configuration (copied); NULL
//  after logging why.
executor_t *handler_executor_new(const executor_host_t *host, const handler_config_t *configs, size_t n);
//  The handlers' figures for Hello and Heartbeat (names borrowed from the
//  executor): fills up to max, returns how many.
size_t handler_executor_infos(executor_t *self, Shoal__HandlerInfo *infos, size_t max);
//  True once after a handler broke or mended (tell the broker now).
bool handler_executor_changed(executor_t *self);

#endif
