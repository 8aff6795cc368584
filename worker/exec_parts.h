/*  exec_parts — the pieces of the exec executor that do not touch
    processes: the kept tail of an output stream, the command's
    environment (exec_parts.c). */
#ifndef SHOAL_WORKER_EXEC_PARTS_H
#define SHOAL_WORKER_EXEC_PARTS_H

#include <stddef.h>
#include <stdint.h>

#include "shoal.pb-c.h"

//  The last `cap` bytes written to it.
typedef struct {
    uint8_t *data;
    size_t   cap, len, start;   //  ring: len bytes from start
} exec_tail_t;

//  Keep the end of what was written.
void exec_tail_add(exec_tail_t *t, const uint8_t *data, size_t n);
//  The tail in order, into a new buffer (caller frees); NULL on allocation failure.
uint8_t *exec_tail_flat(const exec_tail_t *t);
//  The command's environment: the worker's without SHOAL_*, then the
//  job's (d) and the task's (t) entries, the task's winning. A new array
//  of borrowed strings (free the array only); NULL on allocation failure.
char **exec_environment(const Shoal__ExecSpec *t, const Shoal__ExecSpec *d);

#endif
