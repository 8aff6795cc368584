/*  test_report — what every front end prints of a job (lib/report.c): the
    progress of plain and pipeline jobs, the JSON of a job, its steps and
    items, and the human forms of rates, durations and latencies. */
#include <stdlib.h>

#include "check.h"
#include "report.h"

static char *
s_dump(json_t *o)
{
    char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return text;
}

//  A plain job counts its tasks; a pipeline job with its items known
//  counts items (ten items of seven tasks: 10 of 10, never 70 of 10).
static void
s_test_progress(void)
{
    Shoal__JobInfo j = SHOAL__JOB_INFO__INIT;
    j.total = 10, j.ok = 6, j.failed = 1, j.cancelled = 1, j.sealed = 1;
    report_progress_t p = report_progress(&j);
    CHECK(!p.items && p.ok == 6 && p.failed == 1 && p.cancelled == 1 && p.total == 10);
    CHECK(report_percent(&j) == 80.0);
    //  the pipeline: 70 task results, 10 items of which 8 complete and 2 failed
    Shoal__ItemsInfo items = SHOAL__ITEMS_INFO__INIT;
    items.total = 10, items.complete = 8, items.failed = 2;
    j.ok = 68, j.failed = 2, j.cancelled = 0;
    j.items = &items;
    p = report_progress(&j);
    CHECK(p.items && p.ok == 8 && p.failed == 2 && p.total == 10);
    CHECK(report_percent(&j) == 100.0);
    items.complete = 3, items.failed = 1, items.running = 4;
    CHECK(report_percent(&j) == 40.0);
    //  nothing submitted: 0% while receiving, 100% once sealed
    Shoal__JobInfo empty = SHOAL__JOB_INFO__INIT;
    CHECK(report_percent(&empty) == 0.0);
    empty.sealed = 1;
    CHECK(report_percent(&empty) == 100.0);
}

//  The JSON of a pipeline job: its steps with `pending`, its items with
//  `waiting` (what is neither ended nor running).
static void
s_test_job_json(void)
{
    Shoal__JobInfo j = SHOAL__JOB_INFO__INIT;
    j.id = 7, j.name = "crawl", j.state = SHOAL__JOB_STATE__JOB_ACTIVE, j.total = 10, j.ok = 12, j.eta_ms = -1;
    Shoal__StepInfo s0 = SHOAL__STEP_INFO__INIT, s1 = SHOAL__STEP_INFO__INIT;
    s0.name = "page", s0.tasks = 10, s0.ok = 8, s0.failed = 1;
    s1.name = "pdf", s1.each = "links", s1.tasks = 40, s1.ok = 4;
    Shoal__StepInfo *steps[] = { &s0, &s1 };
    j.steps = steps, j.n_steps = 2;
    Shoal__ItemsInfo items = SHOAL__ITEMS_INFO__INIT;
    items.total = 10, items.complete = 0, items.failed = 1, items.running = 7, items.has_rate = 1, items.rate = 0.5;
    items.eta_ms = 18000;
    j.items = &items;
    char *text = s_dump(report_job_json(&j));
    CHECK_CONTAINS(text, "\"id\":7");
    CHECK_CONTAINS(text, "\"state\":\"active\"");
    CHECK_CONTAINS(text, "{\"cancelled\":0,\"failed\":1,\"name\":\"page\",\"ok\":8,\"pending\":1,\"tasks\":10}");
    CHECK_CONTAINS(text, "\"each\":\"links\"");
    CHECK_CONTAINS(text, "\"pending\":36");
    CHECK_CONTAINS(text, "\"items\":{\"cancelled\":0,\"complete\":0,\"eta_ms\":18000,\"failed\":1,\"rate\":0.5,"
                         "\"running\":7,\"total\":10,\"waiting\":2}");
    free(text);
    //  a plain job has neither
    Shoal__JobInfo plain = SHOAL__JOB_INFO__INIT;
    text = s_dump(report_job_json(&plain));
    CHECK(text && !strstr(text, "\"items\"") && !strstr(text, "\"steps\""));
    free(text);
    //  a step's pending never goes below zero (counts read at different moments)
    Shoal__StepInfo odd = SHOAL__STEP_INFO__INIT;
    odd.tasks = 3, odd.ok = 4;
    CHECK(report_step_pending(&odd) == 0);
}

//  Human forms: rates, durations (-- for unknown), latencies.
static void
s_test_forms(void)
{
    char b[32];
    CHECK_STR(report_rate(0.25, b, sizeof b), "0.2/s");
    CHECK_STR(report_rate(42, b, sizeof b), "42/s");
    CHECK_STR(report_rate(1500, b, sizeof b), "1.5k/s");
    CHECK_STR(report_rate(25000, b, sizeof b), "25k/s");
    CHECK_STR(report_rate(2.5e6, b, sizeof b), "2.5M/s");
    CHECK_STR(report_duration_ms(-1, b, sizeof b), "--");
    CHECK_STR(report_duration_ms(8200, b, sizeof b), "8.2s");
    CHECK_STR(report_duration_ms(760000, b, sizeof b), "12m40s");
    CHECK_STR(report_duration_ms(11100000, b, sizeof b), "3h05m");
    CHECK_STR(report_duration_ms(3 * 86400000LL + 3600000, b, sizeof b), "3d01h");
    CHECK_STR(report_latency_us(850, b, sizeof b), "850us");
    CHECK_STR(report_latency_us(12300, b, sizeof b), "12.3ms");
    CHECK_STR(report_latency_us(1200000, b, sizeof b), "1.20s");
}

//  The leader as JSON and as the line `shoal workers` starts with.
static void
s_test_leader(void)
{
    Shoal__LeaderInfo l = SHOAL__LEADER_INFO__INIT;
    l.broker_id = "a:1", l.role = "leader", l.term = 8, l.previous = "b:2";
    char *text = s_dump(report_leader_json(&l));
    CHECK_STR(text, "{\"broker\":\"a:1\",\"previous\":\"b:2\",\"role\":\"leader\",\"since_us\":0,\"term\":8}");
    free(text);
    char line[256];
    CHECK_CONTAINS(report_leader_line(&l, line, sizeof line), "a:1");
    CHECK_CONTAINS(report_leader_line(NULL, line, sizeof line), "unknown");
}

int
main(void)
{
    s_test_progress();
    s_test_job_json();
    s_test_forms();
    s_test_leader();
    return check_result("test_report");
}
