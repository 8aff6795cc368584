/*  view_jobs — the monitor's jobs table (one row per job: state,
    progress bar, done/total, failures, rate, ETA, latency percentiles; the
    selected one marked '>') and the selected job's detail pane (counts by
    state, per-step counts of a pipeline, latency, HTTP classes, top errors
    and failing hosts). Drawn with view_cells.h; laid out by view.c. */
#define _XOPEN_SOURCE_EXTENDED 1
#include "view_cells.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "text.h"

//  ---------------------------------------------------------------- jobs

typedef struct {
    int  id_w, name_w, state_w, bar_w, pct_w, done_w, failed_w, rate_w, eta_w, lat_w;
    bool eta, p50, p95, p99;        //  columns shown
} jobcols_t;

//  Columns the job table needs besides the bar.
static int
s_jobcols_fixed(const jobcols_t *c)
{
    int w = 2 + c->id_w + 1 + c->name_w + 1 + c->state_w + 1 + 1 + c->pct_w + 1 + c->done_w + 1 + c->failed_w
          + 1 + c->rate_w;
    w += c->eta ? 1 + c->eta_w : 0;
    w += (c->p50 + c->p95 + c->p99) * (1 + c->lat_w);
    return w;
}

//  Column widths for the jobs in the snapshot at the current width.
static jobcols_t
s_jobcols(const Shoal__Snapshot *snap)
{
    jobcols_t c = { .id_w = 3, .name_w = 16, .state_w = 9, .pct_w = 6, .done_w = 10, .failed_w = 6,
                    .rate_w = 8, .eta_w = 7, .lat_w = 7, .eta = true, .p50 = true, .p95 = true, .p99 = true };
    for (size_t i = 0; snap && i < snap->n_jobs; i++) {
        const Shoal__JobInfo *j = snap->jobs[i];
        char a[32], b[32], buf[80];
        snprintf(buf, sizeof buf, "%u", j->id);
        if ((int) strlen(buf) > c.id_w)
            c.id_w = (int) strlen(buf);
        report_progress_t p = report_progress(j);
        snprintf(buf, sizeof buf, "%s/%s", vc_num(p.ok + p.failed + p.cancelled, a, sizeof a),
                 vc_num(p.total, b, sizeof b));
        if ((int) strlen(buf) > c.done_w)
            c.done_w = (int) strlen(buf);
        vc_num(p.failed, a, sizeof a);
        if ((int) strlen(a) > c.failed_w)
            c.failed_w = (int) strlen(a);
    }
    //  the bar takes what is left; on a narrow terminal the latency
    //  columns go first, then the name shrinks, and the ETA goes last
    bool *drop[] = { &c.p95, &c.p99, &c.p50 };
    c.bar_w = COLS - s_jobcols_fixed(&c) - 1;
    for (size_t d = 0; d < 3 && c.bar_w < 12; d++) {
        *drop[d] = false;
        c.bar_w = COLS - s_jobcols_fixed(&c) - 1;
    }
    while (c.bar_w < 10 && c.name_w > 10) {
        c.name_w--;
        c.bar_w++;
    }
    if (c.bar_w < 8) {
        c.eta = false;
        c.bar_w = COLS - s_jobcols_fixed(&c) - 1;
    }
    while (c.bar_w < 10 && c.name_w > 8) {
        c.name_w--;
        c.bar_w++;
    }
    if (c.bar_w > 50) {
        int more = c.bar_w - 50 < 16 ? c.bar_w - 50 : 16;
        c.name_w += more;
        c.bar_w -= more;
    }
    if (c.bar_w > 60)
        c.bar_w = 60;
    if (c.bar_w < 4)
        c.bar_w = 0;
    return c;
}

//  ok ███ failed ▓▓ cancelled ▒ unfinished ░, each at least one cell when
//  non-zero so a handful of failures in a million tasks still shows.
static void
s_draw_bar(const view_t *v, int y, int x, int w, const Shoal__JobInfo *j, bool live)
{
    if (w <= 0)
        return;
    report_progress_t p = report_progress(j);     //  a pipeline: its items
    double total = (double) (p.total ? p.total : 1);
    int cells[3];
    uint64_t counts[3] = { p.ok, p.failed, p.cancelled };
    int used = 0;
    for (int i = 0; i < 3; i++) {
        cells[i] = (int) ((double) counts[i] / total * w + 0.5);
        if (counts[i] && cells[i] == 0)
            cells[i] = 1;
        if (used + cells[i] > w)
            cells[i] = w - used;
        used += cells[i];
    }
    //  a job not quite done does not look done
    uint64_t finished = p.ok + p.failed + p.cancelled;
    if (used == w && finished < p.total) {
        int big = cells[0] >= cells[1] ? (cells[0] >= cells[2] ? 0 : 2) : (cells[1] >= cells[2] ? 1 : 2);
        cells[big]--;
        used--;
    }
    int at = x;
    vc_glyphs(v, y, at, cells[0], live ? K_OK : K_DIM, "█", '#');
    at += cells[0];
    vc_glyphs(v, y, at, cells[1], live ? K_BAD : K_DIM, "▓", 'X');
    at += cells[1];
    vc_glyphs(v, y, at, cells[2], live ? K_WARN : K_DIM, "▒", '~');
    at += cells[2];
    vc_glyphs(v, y, at, w - used, K_DIM, "░", '.');
}

//  The jobs pane in rows y..y+h-1, scrolled to keep the selection visible.
void
view_draw_jobs(view_t *v, const state_t *s, bool live, int y, int h)
{
    const Shoal__Snapshot *snap = s->snap;
    size_t n = snap ? snap->n_jobs : 0;
    int rows = h - 2;
    int sel = state_selected_index(s);
    if (rows < 1)
        rows = 1;
    //  scroll so the selected job is visible
    if (sel >= 0 && sel < v->job_top)
        v->job_top = sel;
    if (sel >= 0 && sel >= v->job_top + rows)
        v->job_top = sel - rows + 1;
    if (v->job_top > (int) n - rows)
        v->job_top = (int) n - rows;
    if (v->job_top < 0)
        v->job_top = 0;
    char title[64], extra[64] = "";
    snprintf(title, sizeof title, "Jobs (%zu)", n);
    if ((int) n > rows)
        snprintf(extra, sizeof extra, "rows %d-%d", v->job_top + 1,
                 v->job_top + rows < (int) n ? v->job_top + rows : (int) n);
    vc_rule(v, y, title, extra);
    if (h < 2)
        return;
    jobcols_t c = s_jobcols(snap);
    int hy = y + 1;
    int x = 2;
    vc_text_right(v, hy, x, c.id_w, K_DIM, "JOB");          x += c.id_w + 1;
    vc_text(v, hy, x, c.name_w, K_DIM, "NAME");             x += c.name_w + 1;
    vc_text(v, hy, x, c.state_w, K_DIM, "STATE");           x += c.state_w + 1;
    vc_text(v, hy, x, c.bar_w, K_DIM, "PROGRESS");          x += c.bar_w + 1;
    vc_text_right(v, hy, x, c.pct_w, K_DIM, "%");           x += c.pct_w + 1;
    vc_text_right(v, hy, x, c.done_w, K_DIM, "DONE/TOTAL"); x += c.done_w + 1;
    vc_text_right(v, hy, x, c.failed_w, K_DIM, "FAILED");   x += c.failed_w + 1;
    vc_text_right(v, hy, x, c.rate_w, K_DIM, "RATE");       x += c.rate_w + 1;
    if (c.eta) { vc_text_right(v, hy, x, c.eta_w, K_DIM, "ETA"); x += c.eta_w + 1; }
    if (c.p50) { vc_text_right(v, hy, x, c.lat_w, K_DIM, "P50"); x += c.lat_w + 1; }
    if (c.p95) { vc_text_right(v, hy, x, c.lat_w, K_DIM, "P95"); x += c.lat_w + 1; }
    if (c.p99) { vc_text_right(v, hy, x, c.lat_w, K_DIM, "P99"); x += c.lat_w + 1; }
    if (n == 0) {
        vc_text(v, y + 2, 2, COLS - 2, K_DIM, "no jobs; submit one with: shoal submit ...");
        return;
    }
    for (int r = 0; r < rows && v->job_top + r < (int) n; r++) {
        int i = v->job_top + r;
        const Shoal__JobInfo *j = snap->jobs[i];
        int ry = y + 2 + r;
        bool selected = i == sel;
        kind_t k = live ? K_NORMAL : K_DIM;
        char buf[80], a[32], b[32];
        if (selected) {
            attr_t rev = A_REVERSE | A_BOLD;
            attron(rev);
            mvaddstr(ry, 0, "> ");
            attroff(rev);
        }
        x = 2;
        snprintf(buf, sizeof buf, "%u", j->id);
        vc_text_right(v, ry, x, c.id_w, selected ? K_KEY : k, buf);
        x += c.id_w + 1;
        vc_text(v, ry, x, c.name_w, selected ? K_KEY : k, j->name && *j->name ? j->name : "-");
        x += c.name_w + 1;
        const char *state = report_state_name(j->state);
        if (j->state == SHOAL__JOB_STATE__JOB_ACTIVE && !j->sealed)
            state = "receiving";
        vc_text(v, ry, x, c.state_w, live ? vc_state_kind(j) : K_DIM, state);
        x += c.state_w + 1;
        s_draw_bar(v, ry, x, c.bar_w, j, live);
        x += c.bar_w + 1;
        snprintf(buf, sizeof buf, "%.1f%%", report_percent(j));
        vc_text_right(v, ry, x, c.pct_w, k, buf);
        x += c.pct_w + 1;
        report_progress_t p = report_progress(j);     //  a pipeline: its items
        snprintf(buf, sizeof buf, "%s/%s", vc_num(p.ok + p.failed + p.cancelled, a, sizeof a),
                 vc_num(p.total, b, sizeof b));
        vc_text_right(v, ry, x, c.done_w, selected ? K_KEY : k, buf);
        x += c.done_w + 1;
        vc_text_right(v, ry, x, c.failed_w, p.failed && live ? K_BAD : k, vc_num(p.failed, a, sizeof a));
        x += c.failed_w + 1;
        bool running = !vc_finished(j);
        vc_text_right(v, ry, x, c.rate_w, k, running ? report_rate(j->rate, a, sizeof a) : "-");
        x += c.rate_w + 1;
        if (c.eta) {
            const char *eta = j->state == SHOAL__JOB_STATE__JOB_PAUSED ? "paused"
                            : running ? report_duration_ms(j->eta_ms, a, sizeof a) : "-";
            vc_text_right(v, ry, x, c.eta_w, k, eta);
            x += c.eta_w + 1;
        }
        uint64_t lat[3] = { j->p50_us, j->p95_us, j->p99_us };
        bool show[3] = { c.p50, c.p95, c.p99 };
        for (int l = 0; l < 3; l++) {
            if (!show[l])
                continue;
            vc_text_right(v, ry, x, c.lat_w, k, lat[l] ? report_latency_us(lat[l], a, sizeof a) : "-");
            x += c.lat_w + 1;
        }
    }
}

//  ---------------------------------------------------------------- detail

//  Pipeline steps shown in the detail pane (a pipeline has at most 32).
#define DETAIL_STEPS 8

//  Lines the detail pane wants for job j (without its rule).
int
view_detail_lines(const Shoal__JobInfo *j)
{
    if (!j)
        return 1;
    int n = 2;      //  tasks, latency
    uint64_t http = 0;
    for (size_t i = 0; i < j->n_http_class; i++)
        http += j->http_class[i];
    if (http)
        n++;
    size_t fails = j->n_top_errors > j->n_top_hosts ? j->n_top_errors : j->n_top_hosts;
    n += fails ? (int) (fails < 3 ? fails : 3) : 1;
    n += (int) (j->n_steps < DETAIL_STEPS ? j->n_steps : DETAIL_STEPS);
    n += j->items != NULL;
    return n;
}

//  A pipeline job's steps, one row each from `row` (at most DETAIL_STEPS
//  and up to `last`): name, tasks (children of a fan-out included), ok,
//  failed, cancelled, pending. Returns the next free row.
static int
s_draw_steps(view_t *v, const Shoal__JobInfo *j, bool live, int row, int last)
{
    kind_t k = live ? K_NORMAL : K_DIM;
    if (j->items && row <= last) {
        //  its input items: what the progress bar and done/total count
        const Shoal__ItemsInfo *it = j->items;
        char c[32], f[32], x[32], r[32], w[32], rate[32];
        uint64_t known = it->complete + it->failed + it->cancelled + it->running;
        pair_t pairs[] = {
            { "complete", vc_num(it->complete, c, sizeof c), live ? K_OK : K_DIM },
            { "failed", vc_num(it->failed, f, sizeof f), it->failed && live ? K_BAD : k },
            { "cancelled", it->cancelled ? vc_num(it->cancelled, x, sizeof x) : NULL, live ? K_WARN : k },
            { "running", vc_num(it->running, r, sizeof r), k },
            { "waiting", vc_num(it->total > known ? it->total - known : 0, w, sizeof w), k },
            { "rate", it->has_rate && !vc_finished(j) ? report_rate(it->rate, rate, sizeof rate) : NULL, k },
        };
        vc_text(v, row, 1, 9, K_DIM, "items");
        vc_pairs(v, row, 10, COLS - 10, pairs, sizeof pairs / sizeof *pairs);
        row++;
    }
    for (size_t i = 0; i < j->n_steps && i < DETAIL_STEPS && row <= last; i++, row++) {
        const Shoal__StepInfo *st = j->steps[i];
        char tasks[32], ok[32], failed[32], cancelled[32], pending[32], name[48];
        vc_num(st->tasks, tasks, sizeof tasks);
        vc_num(st->ok, ok, sizeof ok);
        vc_num(st->failed, failed, sizeof failed);
        vc_num(st->cancelled, cancelled, sizeof cancelled);
        vc_num(report_step_pending(st), pending, sizeof pending);
        snprintf(name, sizeof name, "%.24s%s", st->name ? st->name : "", st->each ? " (each)" : "");
        pair_t pairs[] = {
            { "tasks", tasks, k }, { "ok", ok, live ? K_OK : K_DIM },
            { "failed", failed, st->failed && live ? K_BAD : k },
            { "cancelled", st->cancelled ? cancelled : NULL, live ? K_WARN : k },
            { "pending", pending, k },
        };
        if (i == 0)
            vc_text(v, row, 1, 9, K_DIM, "steps");
        vc_text(v, row, 10, 32, k, name);
        vc_pairs(v, row, 43, COLS - 43, pairs, sizeof pairs / sizeof *pairs);
    }
    return row;
}

//  The selected job's detail pane in rows y..y+h-1.
void
view_draw_detail(view_t *v, const state_t *s, bool live, int y, int h, int64_t now_ms)
{
    const Shoal__JobInfo *j = state_selected_job(s);
    char title[160], extra[160], a[32], b[32];
    if (!j) {
        vc_rule(v, y, "Job", "");
        vc_text(v, y + 1, 2, COLS - 2, K_DIM, "no job selected");
        return;
    }
    char name[64];
    vc_fit(v, j->name ? j->name : "", 40, name, sizeof name);
    snprintf(title, sizeof title, "Job %u%s%s%s", j->id, *name ? " \"" : "", name, *name ? "\"" : "");
    int64_t end_us = j->has_finished_us && j->finished_us ? j->finished_us
                   : s->snap ? s->snap->time_us : 0;
    snprintf(extra, sizeof extra, "%s%s, priority %u, created %s, %s %s", report_state_name(j->state),
             j->sealed ? "" : " (receiving tasks)", j->priority, vc_clock(j->created_us, a, sizeof a),
             vc_finished(j) ? "took" : "running for",
             report_duration_ms(end_us > j->created_us ? (end_us - j->created_us) / 1000 : 0, b, sizeof b));
    vc_rule(v, y, title, extra);
    int row = y + 1, last = y + h - 1;
    kind_t k = live ? K_NORMAL : K_DIM;
    if (row <= last) {
        char ok[32], failed[32], cancelled[32], queued[48], running[32], retries[32], stale[32], dup[32], w[32];
        vc_num(j->ok, ok, sizeof ok);
        vc_num(j->failed, failed, sizeof failed);
        vc_num(j->cancelled, cancelled, sizeof cancelled);
        vc_num(j->queued, queued, sizeof queued);
        if (j->retry_wait) {
            size_t len = strlen(queued);
            snprintf(queued + len, sizeof queued - len, " (%s in backoff)", vc_num(j->retry_wait, w, sizeof w));
        }
        vc_num(j->running, running, sizeof running);
        vc_num(j->retries, retries, sizeof retries);
        vc_num(j->stale, stale, sizeof stale);
        vc_num(j->duplicate, dup, sizeof dup);
        pair_t pairs[] = {
            { "ok", ok, live ? K_OK : K_DIM }, { "failed", failed, j->failed && live ? K_BAD : k },
            { "cancelled", cancelled, j->cancelled && live ? K_WARN : k }, { "queued", queued, k },
            { "running", running, k }, { "retried", retries, k },
            { "stale", j->stale ? stale : NULL, k }, { "duplicate", j->duplicate ? dup : NULL, k },
        };
        vc_text(v, row, 1, 9, K_DIM, "tasks");
        vc_pairs(v, row, 10, COLS - 10, pairs, sizeof pairs / sizeof *pairs);
        row++;
    }
    if (row <= last) {
        char p50[32], p95[32], p99[32], rate[32], eta[32];
        bool running = !vc_finished(j);
        pair_t pairs[] = {
            { "p50", j->p50_us ? report_latency_us(j->p50_us, p50, sizeof p50) : "-", k },
            { "p95", j->p95_us ? report_latency_us(j->p95_us, p95, sizeof p95) : "-", k },
            { "p99", j->p99_us ? report_latency_us(j->p99_us, p99, sizeof p99) : "-", k },
            { "rate", running ? report_rate(j->rate, rate, sizeof rate) : NULL, k },
            { "eta", running && j->state != SHOAL__JOB_STATE__JOB_PAUSED
                     ? report_duration_ms(j->eta_ms, eta, sizeof eta) : NULL, k },
        };
        vc_text(v, row, 1, 9, K_DIM, "latency");
        vc_pairs(v, row, 10, COLS - 10, pairs, sizeof pairs / sizeof *pairs);
        row++;
    }
    uint64_t http = 0;
    for (size_t i = 0; i < j->n_http_class; i++)
        http += j->http_class[i];
    if (http && j->n_http_class == 6 && row <= last) {
        char c[6][32];
        for (int i = 0; i < 6; i++)
            vc_num(j->http_class[i], c[i], sizeof c[i]);
        pair_t pairs[] = {
            { "2xx", c[2], live ? K_OK : K_DIM }, { "3xx", c[3], k }, { "4xx", c[4], j->http_class[4] && live ? K_WARN : k },
            { "5xx", c[5], j->http_class[5] && live ? K_BAD : k }, { "no response", c[0], j->http_class[0] && live ? K_BAD : k },
            { "1xx", j->http_class[1] ? c[1] : NULL, k },
        };
        vc_text(v, row, 1, 9, K_DIM, "http");
        vc_pairs(v, row, 10, COLS - 10, pairs, sizeof pairs / sizeof *pairs);
        row++;
    }
    row = s_draw_steps(v, j, live, row, last);
    if (row > last)
        return;
    if (j->n_top_errors == 0 && j->n_top_hosts == 0) {
        vc_text(v, row, 1, 9, K_DIM, "failures");
        vc_text(v, row, 10, COLS - 10, k, "none");
        return;
    }
    //  top errors on the left, top failing hosts on the right
    int half = j->n_top_hosts ? (COLS - 10) * 2 / 3 : COLS - 10;
    vc_text(v, row, 1, 9, K_DIM, "errors");
    if (j->n_top_hosts)
        vc_text(v, row, 10 + half, 7, K_DIM, "hosts");
    for (size_t i = 0; i < 3 && row <= last; i++, row++) {
        if (i < j->n_top_errors) {
            vc_text_right(v, row, 10, 8, live ? K_BAD : K_DIM, vc_num(j->top_errors[i]->count, a, sizeof a));
            vc_text(v, row, 20, half - 11, k, j->top_errors[i]->name);
        }
        if (i < j->n_top_hosts) {
            vc_text_right(v, row, 10 + half + 6, 8, live ? K_BAD : K_DIM, vc_num(j->top_hosts[i]->count, a, sizeof a));
            vc_text(v, row, 10 + half + 16, COLS - (10 + half + 16), k, j->top_hosts[i]->name);
        }
        if (i + 1 >= j->n_top_errors && i + 1 >= j->n_top_hosts)
            break;
    }
}
