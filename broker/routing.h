/*  routing — which workers may run which tasks.

    A handler task runs only on a worker that announced that handler (and
    does not report it broken); a task or its job may require labels
    ("require": {"region": "eu"}), which the worker must carry (--label).
    Tasks that need the same are in lanes of their own (the route is part
    of the lane's key), so dispatch skips a lane a worker cannot serve and
    a lane nobody can serve just waits, without holding up the job's other
    lanes. Unit tests: tests/unit/test_routing.c. */
#ifndef SHOAL_ROUTING_H
#define SHOAL_ROUTING_H

#include <stdbool.h>
#include <stddef.h>

#include "broker.h"

//  What a lane's tasks need beyond their kind; NULL when nothing.
struct _route_t {
    char   *handler;        //  handler name, NULL for other kinds
    char  **labels;         //  "key=value", sorted by key
    size_t  n_labels;
};

//  The route of a task under its job's defaults, as canonical text for a
//  lane key ("" when it needs nothing): "@ocr;proxy=p1;region=eu".
void routing_key(const Shoal__TaskSpec *spec, const Shoal__JobDefaults *defaults, char *buf, size_t size);
//  Parse routing_key's text; NULL for "" (or out of memory).
route_t *routing_route_new(const char *key);
//  Free a route; NULLs the pointer.
void routing_route_destroy(route_t **self_p);
//  True when the worker runs tasks of this kind and route.
bool routing_peer_can(const peer_t *peer, Shoal__TaskKind kind, const route_t *route);
//  The first lane of a ready ring (from its head) the worker may run, or NULL.
lane_t *routing_first_lane(const peer_t *peer, lane_t *ring);
//  True when some connected worker (draining or not) could run the lane.
bool routing_anyone_can(server_t *self, const lane_t *lane);
//  "handler ocr / labels region=eu" (what the lane waits for) into buf.
void routing_describe(Shoal__TaskKind kind, const route_t *route, char *buf, size_t size);
//  Queued tasks of a job that no connected worker can run, grouped by
//  what they wait for ("waiting for a worker with handler ocr / labels
//  region=eu"): a new array of Counts (free with routing_free_waiting).
void routing_waiting(server_t *self, job_t *job, Shoal__Count ***out, size_t *n_out);
//  Free what routing_waiting returned.
void routing_free_waiting(Shoal__Count **list, size_t n);
//  Replace a worker's handlers with what it announced.
void routing_peer_set_handlers(peer_t *peer, Shoal__HandlerInfo **handlers, size_t n);
//  A worker's handler by name, or NULL.
const peer_handler_t *routing_peer_handler(const peer_t *peer, const char *name);

#endif
