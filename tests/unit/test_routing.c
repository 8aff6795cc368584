/*  test_routing — which workers may run which lanes (broker/routing.c):
    route keys from task and job requirements, matching handlers (broken
    ones excluded) and labels, skipping lanes in a ready ring, and the
    "waiting for a worker with ..." figures of a job. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "routing.h"

static Shoal__Label *
s_label(const char *key, const char *value)
{
    Shoal__Label *l = calloc(1, sizeof *l);
    shoal__label__init(l);
    l->key = (char *) key;
    l->value = (char *) value;
    return l;
}

static void
s_peer(peer_t *p, uint32_t kinds, const char *labels[], const char *handler, bool broken)
{
    memset(p, 0, sizeof *p);
    p->kinds = kinds;
    p->labels = zlist_new();
    zlist_autofree(p->labels);
    for (int i = 0; labels && labels[i]; i++)
        zlist_append(p->labels, (void *) labels[i]);
    if (handler) {
        Shoal__HandlerInfo h = SHOAL__HANDLER_INFO__INIT, *hp = &h;
        h.name = (char *) handler;
        h.has_broken = 1;
        h.broken = broken;
        routing_peer_set_handlers(p, &hp, 1);
    }
}

static void
s_peer_free(peer_t *p)
{
    zlist_destroy(&p->labels);
    free(p->handlers);
}

static void
test_keys(void)
{
    char key[256];
    Shoal__TaskSpec spec = SHOAL__TASK_SPEC__INIT;
    Shoal__NoopSpec noop = SHOAL__NOOP_SPEC__INIT;
    spec.kind_case = SHOAL__TASK_SPEC__KIND_NOOP;
    spec.noop = &noop;
    routing_key(&spec, NULL, key, sizeof key);
    CHECK_STR(key, "");
    CHECK(routing_route_new(key) == NULL);
    //  the task's labels win over the job's for the same key; keys sorted
    Shoal__Label *own[] = { s_label("region", "eu"), s_label("gpu", "1") };
    Shoal__Label *job[] = { s_label("region", "us"), s_label("proxy", "p1") };
    spec.require = own;
    spec.n_require = 2;
    Shoal__JobDefaults d = SHOAL__JOB_DEFAULTS__INIT;
    d.require = job;
    d.n_require = 2;
    Shoal__HandlerSpec h = SHOAL__HANDLER_SPEC__INIT;
    h.name = "ocr";
    spec.kind_case = SHOAL__TASK_SPEC__KIND_HANDLER;
    spec.handler = &h;
    routing_key(&spec, &d, key, sizeof key);
    CHECK_STR(key, "@ocr;gpu=1;proxy=p1;region=eu");
    route_t *r = routing_route_new(key);
    CHECK(r && r->handler && !strcmp(r->handler, "ocr") && r->n_labels == 3);
    CHECK_STR(r->labels[2], "region=eu");
    char what[256];
    routing_describe(SHOAL__TASK_KIND__KIND_HANDLER, r, what, sizeof what);
    CHECK_STR(what, "handler ocr / labels gpu=1,proxy=p1,region=eu");
    routing_describe(SHOAL__TASK_KIND__KIND_EXEC, NULL, what, sizeof what);
    CHECK_STR(what, "exec tasks");
    routing_route_destroy(&r);
    CHECK(r == NULL);
    //  a job's requirement alone
    spec.n_require = 0;
    spec.kind_case = SHOAL__TASK_SPEC__KIND_NOOP;
    routing_key(&spec, &d, key, sizeof key);
    CHECK_STR(key, "proxy=p1;region=us");
    for (int i = 0; i < 2; i++) {
        free(own[i]);
        free(job[i]);
    }
}

static void
test_match(void)
{
    const uint32_t noop = 1u << SHOAL__TASK_KIND__KIND_NOOP, handler = 1u << SHOAL__TASK_KIND__KIND_HANDLER;
    peer_t eu, us, broken, plain;
    const char *eu_labels[] = { "region=eu", "proxy=p1", NULL }, *us_labels[] = { "region=us", NULL };
    s_peer(&eu, noop | handler, eu_labels, "ocr", false);
    s_peer(&us, noop | handler, us_labels, "ocr", false);
    s_peer(&broken, noop | handler, eu_labels, "ocr", true);
    s_peer(&plain, noop, NULL, NULL, false);
    route_t *eu_route = routing_route_new("region=eu");
    route_t *ocr = routing_route_new("@ocr");
    route_t *ocr_eu = routing_route_new("@ocr;proxy=p1;region=eu");
    route_t *scan = routing_route_new("@scan");
    CHECK(routing_peer_can(&eu, SHOAL__TASK_KIND__KIND_NOOP, NULL));
    CHECK(routing_peer_can(&eu, SHOAL__TASK_KIND__KIND_NOOP, eu_route));
    CHECK(!routing_peer_can(&us, SHOAL__TASK_KIND__KIND_NOOP, eu_route));
    CHECK(!routing_peer_can(&plain, SHOAL__TASK_KIND__KIND_NOOP, eu_route));
    CHECK(routing_peer_can(&us, SHOAL__TASK_KIND__KIND_HANDLER, ocr));
    CHECK(!routing_peer_can(&plain, SHOAL__TASK_KIND__KIND_HANDLER, ocr));
    CHECK(!routing_peer_can(&broken, SHOAL__TASK_KIND__KIND_HANDLER, ocr));
    CHECK(routing_peer_can(&eu, SHOAL__TASK_KIND__KIND_HANDLER, ocr_eu));
    CHECK(!routing_peer_can(&us, SHOAL__TASK_KIND__KIND_HANDLER, ocr_eu));
    CHECK(!routing_peer_can(&eu, SHOAL__TASK_KIND__KIND_HANDLER, scan));
    CHECK(!routing_peer_can(&eu, SHOAL__TASK_KIND__KIND_EXEC, NULL));
    //  a ring: the us worker skips the eu lane and takes the next it can run
    lane_t a = { .kind = SHOAL__TASK_KIND__KIND_NOOP, .route = eu_route };
    lane_t b = { .kind = SHOAL__TASK_KIND__KIND_HANDLER, .route = scan };
    lane_t c = { .kind = SHOAL__TASK_KIND__KIND_HANDLER, .route = ocr };
    a.rnext = &b;
    b.rnext = &c;
    c.rnext = &a;
    CHECK(routing_first_lane(&us, &a) == &c);
    CHECK(routing_first_lane(&eu, &a) == &a);
    CHECK(routing_first_lane(&plain, &a) == NULL);
    CHECK(routing_first_lane(&us, NULL) == NULL);
    //  a handler that mends is routed to again
    Shoal__HandlerInfo h = SHOAL__HANDLER_INFO__INIT, *hp = &h;
    h.name = "ocr";
    routing_peer_set_handlers(&broken, &hp, 1);
    CHECK(routing_peer_can(&broken, SHOAL__TASK_KIND__KIND_HANDLER, ocr));
    routing_route_destroy(&eu_route);
    routing_route_destroy(&ocr);
    routing_route_destroy(&ocr_eu);
    routing_route_destroy(&scan);
    s_peer_free(&eu);
    s_peer_free(&us);
    s_peer_free(&broken);
    s_peer_free(&plain);
}

//  A job's queued lanes that no connected worker can run are reported.
static void
test_waiting(void)
{
    server_t server;
    memset(&server, 0, sizeof server);
    server.peers = zhashx_new();
    peer_t us;
    const char *us_labels[] = { "region=us", NULL };
    s_peer(&us, 1u << SHOAL__TASK_KIND__KIND_NOOP | 1u << SHOAL__TASK_KIND__KIND_HANDLER, us_labels, "ocr", false);
    zhashx_insert(server.peers, "us", &us);
    job_t job;
    memset(&job, 0, sizeof job);
    job.lanes = zhashx_new();
    lane_t eu = { .kind = SHOAL__TASK_KIND__KIND_NOOP, .queued = 5, .route = routing_route_new("region=eu") };
    lane_t scan = { .kind = SHOAL__TASK_KIND__KIND_HANDLER, .queued = 2, .route = routing_route_new("@scan") };
    lane_t ocr = { .kind = SHOAL__TASK_KIND__KIND_HANDLER, .queued = 7, .route = routing_route_new("@ocr") };
    lane_t plain = { .kind = SHOAL__TASK_KIND__KIND_NOOP, .queued = 9 };
    zhashx_insert(job.lanes, "eu", &eu);
    zhashx_insert(job.lanes, "scan", &scan);
    zhashx_insert(job.lanes, "ocr", &ocr);
    zhashx_insert(job.lanes, "plain", &plain);
    job.routed_lanes = 3;
    Shoal__Count **list;
    size_t n;
    routing_waiting(&server, &job, &list, &n);
    CHECK(n == 2);
    uint64_t eu_count = 0, scan_count = 0;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(list[i]->name, "waiting for a worker with noop tasks / labels region=eu"))
            eu_count = list[i]->count;
        if (!strcmp(list[i]->name, "waiting for a worker with handler scan"))
            scan_count = list[i]->count;
    }
    CHECK(eu_count == 5 && scan_count == 2);
    routing_free_waiting(list, n);
    //  an eu worker with scan joins: nothing waits
    peer_t eu_peer;
    const char *eu_labels[] = { "region=eu", NULL };
    s_peer(&eu_peer, 1u << SHOAL__TASK_KIND__KIND_NOOP | 1u << SHOAL__TASK_KIND__KIND_HANDLER, eu_labels, "scan",
           false);
    zhashx_insert(server.peers, "eu", &eu_peer);
    routing_waiting(&server, &job, &list, &n);
    CHECK(n == 0 && list == NULL);
    routing_route_destroy(&eu.route);
    routing_route_destroy(&scan.route);
    routing_route_destroy(&ocr.route);
    zhashx_destroy(&job.lanes);
    zhashx_destroy(&server.peers);
    s_peer_free(&us);
    s_peer_free(&eu_peer);
}

int
main(void)
{
    test_keys();
    test_match();
    test_waiting();
    return check_result("test_routing");
}
