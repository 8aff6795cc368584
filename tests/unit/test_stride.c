/*  test_stride — stride scheduling between jobs, kinds and hosts taking
    turns (broker/stride.c). */
#include "broker_fake.h"
#include "check.h"
#include "stride.h"

#define ALL_KINDS ((1u << SHOAL__TASK_KIND__KIND_HTTP) | (1u << SHOAL__TASK_KIND__KIND_EXEC) \
                   | (1u << SHOAL__TASK_KIND__KIND_NOOP))

//  Priority 3 against priority 1: three tasks for one while both have work.
static void
s_test_shares(void)
{
    server_t *self = fake_server();
    job_t *a = fake_job(self, 1, 1);
    job_t *b = fake_job(self, 2, 3);
    for (int i = 0; i < 100; i++) {
        fake_task(self, a, SHOAL__TASK_KIND__KIND_NOOP, "");
        fake_task(self, b, SHOAL__TASK_KIND__KIND_NOOP, "");
    }
    int got[3] = { 0 };
    for (int i = 0; i < 80; i++) {
        task_t *t = stride_pick(self, ALL_KINDS, NULL);
        CHECK(t && t->state == TASK_DETACHED);
        got[t->job->id]++;
        task_forget(self, t);
    }
    CHECK(got[1] == 20 && got[2] == 60);
    CHECK(a->n_queued == 80 && b->n_queued == 40);
    //  a paused job gets nothing, a new job starts level with the least advanced
    b->state = SHOAL__JOB_STATE__JOB_PAUSED;
    CHECK(stride_pick(self, ALL_KINDS, NULL)->job == a);
    CHECK(stride_start_pass(self) == (a->pass < b->pass ? a->pass : b->pass));
    fake_destroy(&self);
}

//  Hosts take turns within a kind; kinds take turns; a worker gets only kinds it runs.
static void
s_test_turns(void)
{
    server_t *self = fake_server();
    job_t *job = fake_job(self, 1, 1);
    for (int i = 0; i < 4; i++) {
        fake_task(self, job, SHOAL__TASK_KIND__KIND_HTTP, "a:443");
        fake_task(self, job, SHOAL__TASK_KIND__KIND_HTTP, "b:443");
    }
    fake_task(self, job, SHOAL__TASK_KIND__KIND_NOOP, "");
    fake_task(self, job, SHOAL__TASK_KIND__KIND_NOOP, "");
    char seen[8] = "";
    for (int i = 0; i < 4; i++) {
        task_t *t = stride_pick(self, 1u << SHOAL__TASK_KIND__KIND_HTTP, NULL);
        seen[i] = t->lane->key[5];      //  "http:a:443"
        task_forget(self, t);
    }
    CHECK(strcmp(seen, "abab") == 0);
    //  only noop for a noop worker
    task_t *t = stride_pick(self, 1u << SHOAL__TASK_KIND__KIND_NOOP, NULL);
    CHECK(t && t->lane->kind == SHOAL__TASK_KIND__KIND_NOOP);
    task_forget(self, t);
    CHECK(stride_pick(self, 1u << SHOAL__TASK_KIND__KIND_EXEC, NULL) == NULL);
    //  kinds alternate for a worker that runs both
    int http = 0, noop = 0;
    for (int i = 0; i < 2; i++) {
        t = stride_pick(self, ALL_KINDS, NULL);
        if (t->lane->kind == SHOAL__TASK_KIND__KIND_HTTP) http++; else noop++;
        task_forget(self, t);
    }
    CHECK(http == 1 && noop == 1);
    fake_destroy(&self);
}

//  The life cycle keeps every counter consistent through each transition.
static void
s_test_counters(void)
{
    server_t *self = fake_server();
    job_t *job = fake_job(self, 1, 1);
    peer_t peer = { .slots = 4 };
    batch_t batch = { .commit = zlist_new() };
    task_t *t = fake_task(self, job, SHOAL__TASK_KIND__KIND_HTTP, "h:443");
    lane_t *lane = t->lane;
    CHECK(job->n_queued == 1 && lane->queued == 1 && lane->refs == 1);
    task_lease(self, &peer, t, 5ULL << 40, 100, 0);
    CHECK(job->n_queued == 0 && lane->queued == 0 && job->n_leased == 1 && lane->running == 1);
    CHECK(peer.leased == 1 && peer.tasks == t && t->worker == &peer && t->due_ms == 100 + 1000 + 1000);
    task_wait(self, t, 5000);
    CHECK(job->n_leased == 0 && lane->running == 0 && peer.leased == 0 && !peer.tasks && !t->worker);
    CHECK(job->n_waiting == 1);
    task_enqueue(self, t, true);
    CHECK(job->n_waiting == 0 && job->n_queued == 1 && lane->head == t);
    task_lease(self, &peer, t, 6ULL << 40, 0, 0);
    task_commit(self, t, &batch);
    CHECK(job->n_leased == 0 && peer.leased == 0 && job->n_committing == 1 && zlist_size(batch.commit) == 1);
    task_forget(self, t);
    CHECK(job->n_committing == 0 && u64map_size(self->tasks) == 0);
    zlist_destroy(&batch.commit);
    fake_destroy(&self);
}

int
main(void)
{
    s_test_shares();
    s_test_turns();
    s_test_counters();
    return check_result("test_stride");
}
