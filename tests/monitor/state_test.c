/*  state_test — the full-screen monitor's model without a terminal or a
    broker: job order, the selection following the top row until the user
    picks one, late replies dropped, a broker restart noted, the rate
    history bucketed by the broker's clock, repeated failures folded. */
#include <stdlib.h>
#include <string.h>

#include "../unit/check.h"
#include "monitor.h"
#include "wire.h"

typedef struct {
    uint32_t id;
    Shoal__JobState state;
} job_spec_t;

static const char *s_broker_id = NULL;   //  the broker the next snapshots come from (NULL: none named)

//  A decoded Snapshot envelope, as the monitor gets it from the socket.
static Shoal__Envelope *
s_snapshot(uint64_t seq, uint64_t epoch, int64_t time_us, double rate, const job_spec_t *specs, size_t n)
{
    Shoal__ClusterInfo cluster = SHOAL__CLUSTER_INFO__INIT;
    cluster.broker_id = (char *) s_broker_id;
    cluster.has_epoch = cluster.has_rate = 1;
    cluster.epoch = epoch;
    cluster.rate = rate;
    Shoal__JobInfo jobs[8];
    Shoal__JobInfo *ptrs[8];
    for (size_t i = 0; i < n; i++) {
        shoal__job_info__init(&jobs[i]);
        jobs[i].has_id = jobs[i].has_state = 1;
        jobs[i].id = specs[i].id;
        jobs[i].state = specs[i].state;
        ptrs[i] = &jobs[i];
    }
    Shoal__Snapshot snap = SHOAL__SNAPSHOT__INIT;
    snap.has_seq = snap.has_time_us = 1;
    snap.seq = seq;
    snap.time_us = time_us;
    snap.cluster = &cluster;
    snap.jobs = ptrs;
    snap.n_jobs = n;
    Shoal__Envelope env = SHOAL__ENVELOPE__INIT;
    env.has_version = 1;
    env.version = SHOAL_PROTO_MAJOR;
    env.body_case = SHOAL__ENVELOPE__BODY_SNAPSHOT;
    env.snapshot = &snap;
    size_t len = shoal__envelope__get_packed_size(&env);
    uint8_t *buf = malloc(len);
    shoal__envelope__pack(&env, buf);
    char err[256];
    Shoal__Envelope *out = wire_decode(buf, len, err, sizeof err, NULL);
    free(buf);
    return out;
}

//  The job ids in the order the model shows them, as "3 2 1".
static const char *
s_order(const state_t *s, char *buf, size_t size)
{
    buf[0] = '\0';
    for (size_t i = 0; s->snap && i < s->snap->n_jobs; i++) {
        size_t len = strlen(buf);
        snprintf(buf + len, size - len, "%s%u", i ? " " : "", s->snap->jobs[i]->id);
    }
    return buf;
}

static void
test_order_and_selection(void)
{
    state_t *s = state_new();
    char buf[64];
    job_spec_t a[] = { { 1, SHOAL__JOB_STATE__JOB_DONE }, { 2, SHOAL__JOB_STATE__JOB_ACTIVE },
                       { 3, SHOAL__JOB_STATE__JOB_PAUSED }, { 4, SHOAL__JOB_STATE__JOB_CANCELLED } };
    Shoal__Envelope *env = s_snapshot(1, 1, 1000000, 0, a, 4);
    CHECK(env != NULL);
    state_apply_snapshot(s, &env, 0);
    CHECK(env == NULL);
    //  unfinished first, newest first in each group
    CHECK_STR(s_order(s, buf, sizeof buf), "3 2 4 1");
    //  nothing chosen: the top row
    CHECK(s->selected == 3);
    //  a new running job takes the top, and the selection follows
    job_spec_t b[] = { { 1, SHOAL__JOB_STATE__JOB_DONE }, { 2, SHOAL__JOB_STATE__JOB_ACTIVE },
                       { 3, SHOAL__JOB_STATE__JOB_PAUSED }, { 5, SHOAL__JOB_STATE__JOB_ACTIVE } };
    env = s_snapshot(2, 1, 1500000, 0, b, 4);
    state_apply_snapshot(s, &env, 500);
    CHECK_STR(s_order(s, buf, sizeof buf), "5 3 2 1");
    CHECK(s->selected == 5);
    //  the user picks job 2: it stays selected when the order changes
    state_select_move(s, 2);
    CHECK(s->selected == 2);
    job_spec_t c[] = { { 1, SHOAL__JOB_STATE__JOB_DONE }, { 2, SHOAL__JOB_STATE__JOB_ACTIVE },
                       { 3, SHOAL__JOB_STATE__JOB_PAUSED }, { 5, SHOAL__JOB_STATE__JOB_ACTIVE },
                       { 6, SHOAL__JOB_STATE__JOB_ACTIVE } };
    env = s_snapshot(3, 1, 2000000, 0, c, 5);
    state_apply_snapshot(s, &env, 1000);
    CHECK(s->selected == 2);
    CHECK(state_selected_index(s) == 3);
    //  moves are clamped
    state_select_move(s, 100);
    CHECK(s->selected == 1);
    state_select_move(s, -100);
    CHECK(s->selected == 6);
    //  the selected job disappears: the row it was on
    state_select_move(s, 1);
    CHECK(s->selected == 5);
    job_spec_t d[] = { { 1, SHOAL__JOB_STATE__JOB_DONE }, { 2, SHOAL__JOB_STATE__JOB_ACTIVE },
                       { 3, SHOAL__JOB_STATE__JOB_PAUSED }, { 6, SHOAL__JOB_STATE__JOB_ACTIVE } };
    env = s_snapshot(4, 1, 2500000, 0, d, 4);
    state_apply_snapshot(s, &env, 1500);
    CHECK_STR(s_order(s, buf, sizeof buf), "6 3 2 1");
    CHECK(s->selected == 3);
    //  a late reply (older seq, same broker) is dropped
    env = s_snapshot(2, 1, 1500000, 0, b, 4);
    state_apply_snapshot(s, &env, 1600);
    CHECK(s->snap->seq == 4);
    //  a new broker (new epoch) starts its seqs again: taken, and noted
    env = s_snapshot(1, 2, 3000000, 0, d, 4);
    state_apply_snapshot(s, &env, 2000);
    CHECK(s->snap->seq == 1 && s->epoch == 2);
    CHECK_CONTAINS(state_event(s, 0)->text, "broker restarted: epoch 1 -> 2");
    //  no jobs: no selection
    env = s_snapshot(2, 2, 3500000, 0, NULL, 0);
    state_apply_snapshot(s, &env, 2500);
    CHECK(s->selected == 0 && state_selected_job(s) == NULL);
    //  another broker with a new term: a takeover, noted with both brokers
    s_broker_id = "a:1";
    env = s_snapshot(3, 2, 4000000, 0, NULL, 0);
    state_apply_snapshot(s, &env, 3000);
    s_broker_id = "b:2";
    env = s_snapshot(1, 3, 5000000, 0, NULL, 0);
    state_apply_snapshot(s, &env, 3500);
    CHECK_CONTAINS(state_event(s, 0)->text, "leader changed at ");
    CHECK_CONTAINS(state_event(s, 0)->text, ": a:1 -> b:2 (term 2 -> 3)");
    s_broker_id = NULL;
    state_destroy(&s);
    CHECK(s == NULL);
}

static void
test_history(void)
{
    state_t *s = state_new();
    //  2 s buckets by the broker's clock: 100 and 300 average in one
    //  bucket, 50 in the next, then a gap of one bucket, then 80
    int64_t t0 = 1000000000LL * 1000;     //  a round number of 2 s buckets, in us
    double rates[] = { 100, 300, 50, 80 };
    int64_t at_ms[] = { 0, 1500, 2500, 6500 };
    for (int i = 0; i < 4; i++) {
        Shoal__Envelope *env = s_snapshot((uint64_t) i + 1, 1, t0 + at_ms[i] * 1000, rates[i], NULL, 0);
        state_apply_snapshot(s, &env, 10000 + at_ms[i]);
    }
    double v[5];
    bool have[5];
    //  "now" on the monitor's clock is its last snapshot's time
    double max = state_history(s, 10000 + 6500, 5, v, have);
    CHECK(max == 200);
    CHECK(!have[0]);
    CHECK(have[1] && v[1] == 200);
    CHECK(have[2] && v[2] == 50);
    CHECK(!have[3]);
    CHECK(have[4] && v[4] == 80);
    //  time goes on without snapshots (broker away): the columns move left
    max = state_history(s, 10000 + 6500 + 4000, 5, v, have);
    CHECK(have[0] && v[0] == 50 && have[2] && v[2] == 80 && !have[3] && !have[4]);
    state_destroy(&s);
}

static void
test_events(void)
{
    state_t *s = state_new();
    Shoal__Event e = SHOAL__EVENT__INIT;
    e.has_type = e.has_job_id = e.has_time_us = 1;
    e.type = SHOAL__EVENT_TYPE__EVENT_TASK_FAILED;
    e.job_id = 2;
    e.time_us = 1;
    e.message = "job 2 task 10 failed after 3 attempts: HTTP 503";
    state_add_event(s, &e);
    e.message = "job 2 task 11 failed after 3 attempts: HTTP 503";
    state_add_event(s, &e);
    //  the same reason folds into one line with the latest text
    CHECK(s->n_events == 1);
    CHECK(state_event(s, 0)->repeats == 1);
    CHECK_CONTAINS(state_event(s, 0)->text, "task 11");
    //  another reason, another job, or another event in between: new lines
    e.message = "job 2 task 12 failed after 3 attempts: timed out";
    state_add_event(s, &e);
    e.job_id = 3;
    state_add_event(s, &e);
    CHECK(s->n_events == 3);
    Shoal__Event joined = SHOAL__EVENT__INIT;
    joined.has_type = 1;
    joined.type = SHOAL__EVENT_TYPE__EVENT_WORKER_JOINED;
    joined.message = "worker w1 joined\nwith a newline\x1b[31m";
    state_add_event(s, &joined);
    state_add_event(s, &e);
    CHECK(s->n_events == 5);
    //  text from the network is one printable line
    const char *text = state_event(s, 1)->text;
    CHECK(strchr(text, '\n') == NULL && strchr(text, '\x1b') == NULL);
    //  the ring keeps the newest STATE_EVENTS
    for (int i = 0; i < STATE_EVENTS + 10; i++)
        state_note(s, NOTE_INFO, "note %d", i);
    CHECK(s->n_events == STATE_EVENTS);
    char want[32];
    snprintf(want, sizeof want, "note %d", STATE_EVENTS + 9);
    CHECK_STR(state_event(s, 0)->text, want);
    CHECK(state_event(s, STATE_EVENTS) == NULL);
    state_destroy(&s);
}

int
main(void)
{
    test_order_and_selection();
    test_history();
    test_events();
    return check_result("test_monitor_state");
}
