/*  routing — see routing.h. */
#include "routing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "taskspec.h"

static int
s_cmp_label(const void *a, const void *b)
{
    const Shoal__Label *x = *(Shoal__Label *const *) a, *y = *(Shoal__Label *const *) b;
    return strcmp(x->key, y->key);
}

void
routing_key(const Shoal__TaskSpec *spec, const Shoal__JobDefaults *defaults, char *buf, size_t size)
{
    buf[0] = '\0';
    //  the task's labels, then the job's for keys the task does not name
    Shoal__Label *merged[2 * TASKSPEC_MAX_LABELS];
    size_t n = 0;
    for (size_t i = 0; i < spec->n_require && n < 2 * TASKSPEC_MAX_LABELS; i++)
        merged[n++] = spec->require[i];
    size_t own = n;
    for (size_t i = 0; defaults && i < defaults->n_require && n < 2 * TASKSPEC_MAX_LABELS; i++) {
        bool named = false;
        for (size_t j = 0; j < own && !named; j++)
            named = !strcmp(merged[j]->key, defaults->require[i]->key);
        if (!named)
            merged[n++] = defaults->require[i];
    }
    qsort(merged, n, sizeof merged[0], s_cmp_label);
    size_t o = 0;
    if (spec->kind_case == SHOAL__TASK_SPEC__KIND_HANDLER && spec->handler->name) {
        int w = snprintf(buf, size, "@%s", spec->handler->name);
        o = w > 0 ? (size_t) w : 0;
    }
    for (size_t i = 0; i < n && o + 1 < size; i++) {
        int w = snprintf(buf + o, size - o, "%s%s=%s", o ? ";" : "", merged[i]->key,
                         merged[i]->value ? merged[i]->value : "");
        if (w < 0)
            break;
        o += (size_t) w;
    }
    if (o >= size)
        buf[size - 1] = '\0';
}

route_t *
routing_route_new(const char *key)
{
    if (!key || !*key)
        return NULL;
    route_t *self = calloc(1, sizeof *self);
    char *copy = strdup(key);
    size_t parts = 1;
    for (const char *p = key; *p; p++)
        parts += *p == ';';
    if (!self || !copy || !(self->labels = calloc(parts, sizeof *self->labels))) {
        free(copy);
        routing_route_destroy(&self);
        return NULL;
    }
    char *save = NULL;
    for (char *item = strtok_r(copy, ";", &save); item; item = strtok_r(NULL, ";", &save)) {
        char *dup = strdup(item[0] == '@' ? item + 1 : item);
        if (!dup)
            continue;
        if (item[0] == '@' && !self->handler)
            self->handler = dup;
        else
            self->labels[self->n_labels++] = dup;
    }
    free(copy);
    return self;
}

void
routing_route_destroy(route_t **self_p)
{
    route_t *self = *self_p;
    if (!self)
        return;
    free(self->handler);
    for (size_t i = 0; i < self->n_labels; i++)
        free(self->labels[i]);
    free(self->labels);
    free(self);
    *self_p = NULL;
}

const peer_handler_t *
routing_peer_handler(const peer_t *peer, const char *name)
{
    for (size_t i = 0; i < peer->n_handlers; i++)
        if (!strcmp(peer->handlers[i].name, name))
            return &peer->handlers[i];
    return NULL;
}

static bool
s_has_label(const peer_t *peer, const char *label)
{
    if (!peer->labels)
        return false;
    for (char *l = zlist_first(peer->labels); l; l = zlist_next(peer->labels))
        if (!strcmp(l, label))
            return true;
    return false;
}

bool
routing_peer_can(const peer_t *peer, Shoal__TaskKind kind, const route_t *route)
{
    if (kind < 0 || kind > 31 || !(peer->kinds & (1u << kind)))
        return false;
    if (!route)
        return true;
    if (route->handler) {
        const peer_handler_t *h = routing_peer_handler(peer, route->handler);
        if (!h || h->broken)
            return false;
    }
    for (size_t i = 0; i < route->n_labels; i++)
        if (!s_has_label(peer, route->labels[i]))
            return false;
    return true;
}

lane_t *
routing_first_lane(const peer_t *peer, lane_t *ring)
{
    lane_t *lane = ring;
    if (!lane)
        return NULL;
    do {
        if (routing_peer_can(peer, lane->kind, lane->route))
            return lane;
        lane = lane->rnext;
    } while (lane && lane != ring);
    return NULL;
}

bool
routing_anyone_can(server_t *self, const lane_t *lane)
{
    for (peer_t *peer = zhashx_first(self->peers); peer; peer = zhashx_next(self->peers))
        if (routing_peer_can(peer, lane->kind, lane->route))
            return true;
    return false;
}

void
routing_describe(Shoal__TaskKind kind, const route_t *route, char *buf, size_t size)
{
    size_t o = 0;
    int w;
    if (route && route->handler)
        w = snprintf(buf, size, "handler %s", route->handler);
    else
        w = snprintf(buf, size, "%s tasks", taskspec_kind_name(kind));
    o = w > 0 ? (size_t) w : 0;
    for (size_t i = 0; route && i < route->n_labels && o + 1 < size; i++) {
        w = snprintf(buf + o, size - o, "%s%s", i ? "," : " / labels ", route->labels[i]);
        if (w < 0)
            break;
        o += (size_t) w;
    }
}

void
routing_peer_set_handlers(peer_t *peer, Shoal__HandlerInfo **handlers, size_t n)
{
    peer_handler_t *list = n ? calloc(n, sizeof *list) : NULL;
    if (n && !list)
        return;     //  keep what we knew
    for (size_t i = 0; i < n; i++) {
        const Shoal__HandlerInfo *h = handlers[i];
        snprintf(list[i].name, sizeof list[i].name, "%s", h->name ? h->name : "");
        list[i].procs = h->procs;
        list[i].up = h->up;
        list[i].busy = h->busy;
        list[i].restarts = h->restarts;
        list[i].served = h->served;
        list[i].broken = h->broken;
    }
    free(peer->handlers);
    peer->handlers = list;
    peer->n_handlers = n;
}

#define WAITING_MAX 16      //  kinds of waiting shown per job

//  Add n tasks under `what` to the list (merging equal descriptions).
static void
s_waiting_add(Shoal__Count **list, size_t *n, const char *what, uint64_t count)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp(list[i]->name, what)) {
            list[i]->count += count;
            return;
        }
    if (*n == WAITING_MAX)
        return;
    Shoal__Count *c = calloc(1, sizeof *c);
    if (!c)
        return;
    shoal__count__init(c);
    c->name = strdup(what);
    if (!c->name) {
        free(c);
        return;
    }
    c->has_count = 1;
    c->count = count;
    list[(*n)++] = c;
}

void
routing_waiting(server_t *self, job_t *job, Shoal__Count ***out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    uint32_t kinds = 0;
    for (peer_t *peer = zhashx_first(self->peers); peer; peer = zhashx_next(self->peers))
        kinds |= peer->kinds;
    //  the common case, no lane with a route and every kind served: nothing to walk
    bool all_kinds = true;
    for (int k = 1; k <= BROKER_KINDS; k++)
        if (job->ready[k] && !(kinds & (1u << k)))
            all_kinds = false;
    if (job->routed_lanes == 0 && all_kinds)
        return;
    Shoal__Count **list = calloc(WAITING_MAX, sizeof *list);
    if (!list)
        return;
    size_t n = 0;
    for (lane_t *lane = zhashx_first(job->lanes); lane; lane = zhashx_next(job->lanes)) {
        if (!lane->queued)
            continue;
        bool can = lane->route ? routing_anyone_can(self, lane) : (kinds & (1u << lane->kind)) != 0;
        if (can)
            continue;
        char what[512], line[600];
        routing_describe(lane->kind, lane->route, what, sizeof what);
        snprintf(line, sizeof line, "waiting for a worker with %s", what);
        s_waiting_add(list, &n, line, lane->queued);
    }
    if (!n) {
        free(list);
        return;
    }
    *out = list;
    *n_out = n;
}

void
routing_free_waiting(Shoal__Count **list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(list[i]->name);
        free(list[i]);
    }
    free(list);
}
