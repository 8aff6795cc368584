/*  test_fanout — a big fan-out rendered a slice per loop turn
    (broker/fanout.c, broker/pipeline.c): the same task rows as rendered at
    once, never more than FANOUT_TURN_CHILDREN children per turn, the
    result recorded once with every child, or failed with none. The
    broker's other modules are stubs here. */
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "check.h"

//  ---- stubs of what pipeline.c and fanout.c call elsewhere in the broker

static job_t *s_job;            //  the one job job_lookup knows
static uint64_t s_children_counted;

job_t *
job_lookup(server_t *self, uint32_t id)
{
    return s_job && s_job->id == id ? s_job : NULL;
}

size_t
job_in_memory(const job_t *job)
{
    return 0;
}

task_t *
job_task_load(server_t *self, job_t *job, const store_page_row_t *row)
{
    return NULL;
}

void
steps_count_child(job_t *job, uint32_t step)
{
}

void
steps_mark_stale(server_t *self, job_t *job)
{
}

void
steps_count_item_child(batch_t *batch, job_t *job, uint32_t root)
{
}

void
batch_count_child(batch_t *batch, uint32_t job_id)
{
    s_children_counted++;
}

//  What outcome_fanned_out saw.
static int s_finished;
static bool s_finished_ok;
static char s_finished_error[512];
static uint64_t s_finished_task;

void
outcome_fanned_out(server_t *self, const fanout_result_t *result, const Shoal__Result *r,
                   pipeline_fanout_t **fanout_p, bool ok, const char *error)
{
    s_finished++;
    s_finished_ok = ok;
    snprintf(s_finished_error, sizeof s_finished_error, "%s", error ? error : "");
    s_finished_task = r->task_id == result->task_id ? r->task_id : 0;
    if (ok)
        pipeline_fanout_land(self, *fanout_p);
    pipeline_fanout_destroy(fanout_p);
}

//  ---- helpers

static const char *s_crawl =
    "{\"max_each\": 5000, \"steps\": [\n"
    "  {\"name\": \"page\", \"url\": \"https://court.example/list?page={{page}}\",\n"
    "   \"extract\": {\"links\": \"all:regex:href=\\\"(/pdf/[^\\\"]+)\\\"\"}},\n"
    "  {\"name\": \"pdf\", \"each\": \"links\", \"url\": \"https://court.example{{links}}\", \"store\": \"dir\"}\n"
    "]}";

static job_t *
s_job_new(uint32_t id)
{
    job_t *job = calloc(1, sizeof *job);
    char err[512];
    job->id = id;
    job->state = SHOAL__JOB_STATE__JOB_ACTIVE;
    job->pipeline = pipeline_parse(s_crawl, strlen(s_crawl), "crawl.json", err, sizeof err);
    job->child_top = (int64_t) STORE_CHILD_BASE - 1;
    return job;
}

static void
s_job_destroy(job_t **job_p)
{
    pipeline_destroy(&(*job_p)->pipeline);
    free(*job_p);
    *job_p = NULL;
}

//  An ok result of the page step of task seq with n links (`bad`: one of
//  them cannot be a URL).
static Shoal__Result *
s_result(uint32_t job_id, uint32_t seq, size_t n, bool bad)
{
    json_t *links = json_array();
    for (size_t i = 0; i < n; i++) {
        char link[64];
        snprintf(link, sizeof link, bad && i == n - 1 ? "/pdf/a %zu.pdf" : "/pdf/%zu.pdf", i);
        json_array_append_new(links, json_string(link));
    }
    json_t *vars = json_pack("{s:s, s:o}", "page", "7", "links", links);
    Shoal__Result *r = calloc(1, sizeof *r);
    shoal__result__init(r);
    r->has_task_id = r->has_step = r->has_lease = 1;
    r->task_id = ((uint64_t) job_id << 32) | seq;
    r->step = 0;
    r->lease = 42;
    r->vars = json_dumps(vars, JSON_COMPACT);
    json_decref(vars);
    return r;
}

static void
s_result_free(Shoal__Result *r)
{
    free(r->vars);
    free(r);
}

static server_t *
s_server_new(void)
{
    server_t *self = calloc(1, sizeof *self);
    self->filling = calloc(1, sizeof *self->filling);
    self->filling->req = calloc(1, sizeof *self->filling->req);
    self->filling->children = zlist_new();
    return self;
}

static void
s_server_destroy(server_t **self_p)
{
    server_t *self = *self_p;
    fanout_destroy_all(self);
    pchild_t *child;
    while ((child = zlist_pop(self->filling->children))) {
        free(child->spec);
        free(child);
    }
    zlist_destroy(&self->filling->children);
    pgbuf_free(&self->filling->req->write.child_rows);
    free(self->filling->req);
    free(self->filling);
    free(self);
    *self_p = NULL;
}

//  ---- tests

//  Rendered in slices of 1000, 1000, 500, the rows are those of one go.
static void
test_slices_match_one_go(void)
{
    Shoal__Result *r = s_result(7, 3, 2500, false);
    char err[512];
    server_t *whole = s_server_new(), *sliced = s_server_new();
    job_t *job = s_job_new(7);
    pipeline_fanout_t *fo = NULL;
    CHECK(pipeline_fanout_new(job, 3, r, &fo, err, sizeof err) == 0 && fo);
    CHECK(pipeline_fanout_left(fo) == 2500);
    CHECK(pipeline_fanout_render(fo, job, SIZE_MAX, err, sizeof err) == 0);
    CHECK(pipeline_fanout_left(fo) == 0);
    CHECK(pipeline_fanout_land(whole, fo) == 0);
    pipeline_fanout_destroy(&fo);
    CHECK(fo == NULL);
    s_job_destroy(&job);

    job = s_job_new(7);
    CHECK(pipeline_fanout_new(job, 3, r, &fo, err, sizeof err) == 0 && fo);
    size_t want_left[] = { 1500, 500, 0 };
    for (int i = 0; i < 3; i++) {
        CHECK(pipeline_fanout_render(fo, job, 1000, err, sizeof err) == 0);
        CHECK(pipeline_fanout_left(fo) == want_left[i]);
    }
    CHECK(pipeline_fanout_land(sliced, fo) == 0);
    pipeline_fanout_destroy(&fo);
    CHECK(job->child_top == (int64_t) STORE_CHILD_BASE - 1 + 2500);

    pgbuf_t *a = &whole->filling->req->write.child_rows, *b = &sliced->filling->req->write.child_rows;
    CHECK(a->rows == 2500 && b->rows == 2500);
    CHECK(a->len == b->len && a->len > 0 && memcmp(a->data, b->data, a->len) == 0);
    CHECK(zlist_size(sliced->filling->children) == 2500);
    pchild_t *last = zlist_last(sliced->filling->children);
    CHECK(last && last->id == ((7ULL << 32) | (STORE_CHILD_BASE + 2499)) && last->step == 1);
    s_job_destroy(&job);
    s_server_destroy(&whole);
    s_server_destroy(&sliced);
    s_result_free(r);
}

//  A fan-out that does not fit in a turn waits; each turn renders at most
//  FANOUT_TURN_CHILDREN; the result is recorded once, with every child.
static void
test_turns(void)
{
    server_t *self = s_server_new();
    s_job = s_job_new(9);
    s_children_counted = 0;
    s_finished = 0;
    char err[512];
    fanout_turn_start(self);
    CHECK(fanout_take(self, 400));              //  fits: rendered at once
    CHECK(!fanout_take(self, FANOUT_TURN_CHILDREN));    //  600 left this turn
    Shoal__Result *r = s_result(9, 5, 2500, false);
    pipeline_fanout_t *fo = NULL;
    CHECK(pipeline_fanout_new(s_job, 5, r, &fo, err, sizeof err) == 0 && fo);
    fanout_result_t kept = { .job_id = 9, .task_id = r->task_id, .lease = 42, .attempt = 1,
                             .worker = "w1", .rid = { 1, 2 }, .rid_len = 2 };
    CHECK(fanout_defer(self, &fo, &kept, r) == 0 && fo == NULL);
    s_result_free(r);                           //  fanout.c keeps its own copy
    CHECK(fanout_pending(self) == 1);
    CHECK(!fanout_take(self, 1));               //  nothing jumps the queue
    CHECK(!fanout_backlogged(self));
    int turns = 0;
    size_t before = 0;
    while (fanout_pending(self) && turns < 10) {
        if (turns)
            fanout_turn_start(self);
        fanout_run(self);
        turns++;
        CHECK(self->fanout_budget == 0 || !fanout_pending(self));
        size_t rendered = 2500 - (fanout_pending(self) ? self->fanout_waiting : 0);
        CHECK(rendered - before <= FANOUT_TURN_CHILDREN);
        before = rendered;
        CHECK(s_finished == (fanout_pending(self) ? 0 : 1));
    }
    //  600 in the first turn (what was left), 1000, then 900
    CHECK(turns == 3);
    CHECK(s_finished == 1 && s_finished_ok && s_finished_task == ((9ULL << 32) | 5));
    CHECK(self->filling->req->write.child_rows.rows == 2500 && s_children_counted == 2500);
    CHECK(self->fanout_waiting == 0);
    fanout_turn_start(self);
    CHECK(fanout_take(self, 1));                //  the queue is empty again
    s_job_destroy(&s_job);
    s_server_destroy(&self);
}

//  A child that cannot be rendered fails its parent: no child is kept.
static void
test_render_error(void)
{
    server_t *self = s_server_new();
    s_job = s_job_new(11);
    s_finished = 0;
    char err[512];
    Shoal__Result *r = s_result(11, 1, 1500, true);
    pipeline_fanout_t *fo = NULL;
    CHECK(pipeline_fanout_new(s_job, 1, r, &fo, err, sizeof err) == 0 && fo);
    fanout_result_t kept = { .job_id = 11, .task_id = r->task_id, .lease = 42, .attempt = 1 };
    fanout_turn_start(self);
    CHECK(fanout_defer(self, &fo, &kept, r) == 0);
    for (int turn = 0; turn < 3 && fanout_pending(self); turn++) {
        fanout_turn_start(self);
        fanout_run(self);
    }
    CHECK(s_finished == 1 && !s_finished_ok);
    CHECK_CONTAINS(s_finished_error, "step 'pdf': http.url:");
    CHECK(self->filling->req->write.child_rows.rows == 0);
    CHECK(self->fanout_waiting == 0);
    s_result_free(r);

    //  more than max_each: refused before anything is rendered
    r = s_result(11, 2, 5001, false);
    CHECK(pipeline_fanout_new(s_job, 2, r, &fo, err, sizeof err) == -1 && fo == NULL);
    CHECK_CONTAINS(err, "has 5001 elements, more than max_each 5000");
    s_result_free(r);
    //  the item's last step: no children
    r = s_result(11, 3, 3, false);
    r->step = 1;
    CHECK(pipeline_fanout_new(s_job, 3, r, &fo, err, sizeof err) == 0 && fo == NULL);
    s_result_free(r);
    s_job_destroy(&s_job);
    s_server_destroy(&self);
}

//  Past FANOUT_BACKLOG_CHILDREN waiting children, dispatch holds back.
static void
test_backlog(void)
{
    server_t *self = s_server_new();
    s_job = s_job_new(13);
    char err[512];
    fanout_turn_start(self);
    self->fanout_budget = 0;
    size_t waiting = 0;
    for (uint32_t seq = 0; waiting <= FANOUT_BACKLOG_CHILDREN; seq++) {
        Shoal__Result *r = s_result(13, seq, 4000, false);
        pipeline_fanout_t *fo = NULL;
        CHECK(pipeline_fanout_new(s_job, seq, r, &fo, err, sizeof err) == 0);
        CHECK(!fanout_backlogged(self));
        fanout_result_t kept = { .job_id = 13, .task_id = r->task_id, .lease = 42, .attempt = 1 };
        CHECK(fanout_defer(self, &fo, &kept, r) == 0);
        waiting += 4000;
        s_result_free(r);
    }
    CHECK(fanout_backlogged(self));
    CHECK(self->fanout_waiting == waiting);
    s_job_destroy(&s_job);
    s_server_destroy(&self);        //  the waiting results are dropped, not recorded
}

//  Children rendered into a batch not yet committed count as waiting too:
//  rendering is cheap, the writer is what lags (a filling batch once took
//  236,000 children while the one before it committed).
static void
test_backlog_uncommitted(void)
{
    server_t *self = s_server_new();
    s_job = s_job_new(14);
    char err[512];
    fanout_turn_start(self);
    self->fanout_budget = 0;
    for (uint32_t seq = 0; seq < 6; seq++) {
        Shoal__Result *r = s_result(14, seq, 4000, false);
        pipeline_fanout_t *fo = NULL;
        CHECK(pipeline_fanout_new(s_job, seq, r, &fo, err, sizeof err) == 0);
        fanout_result_t kept = { .job_id = 14, .task_id = r->task_id, .lease = 42, .attempt = 1 };
        CHECK(fanout_defer(self, &fo, &kept, r) == 0);
        s_result_free(r);
    }
    CHECK(fanout_backlogged(self));
    for (int turns = 0; fanout_pending(self) && turns < 40; turns++) {
        fanout_turn_start(self);
        fanout_run(self);
    }
    CHECK(!fanout_pending(self) && self->fanout_waiting == 0);
    CHECK(self->filling->req->write.child_rows.rows == 24000);
    CHECK(fanout_backlogged(self));             //  rendered, not committed
    batch_t *sent = self->filling;              //  with the writer now
    batch_t empty = { 0 };
    store_req_t empty_req = { 0 };
    empty.req = &empty_req;
    self->flushing = sent;
    self->filling = &empty;
    CHECK(fanout_backlogged(self));
    self->flushing = NULL;                      //  committed
    CHECK(!fanout_backlogged(self));
    self->filling = sent;                       //  freed with the server
    s_job_destroy(&s_job);
    s_server_destroy(&self);
}

int
main(void)
{
    test_slices_match_one_go();
    test_turns();
    test_render_error();
    test_backlog();
    test_backlog_uncommitted();
    return check_result("test_fanout");
}
