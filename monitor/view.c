/*  view — the full screen drawn from the model, top to bottom:

      header    the broker (live / UNREACHABLE), cluster figures, a sparkline
                of the cluster rate over the last minutes
      jobs      one row per job: state, progress bar, done/total, failures,
                rate, ETA, latency percentiles; the selected one marked '>'
      detail    the selected job: counts by state, latency, HTTP classes,
                top errors and failing hosts
      workers   one row per worker: host, pid, slots, busy, done, failed,
                rate, last heard
      events    the tail of what happened, newest last
      footer    keys, or the answer to the last command, or the y/n prompt

    Every cell is drawn at a computed column and clipped to its width in
    screen columns (job names and error texts come from users), so a
    resize or a long name never shifts the table. Glyphs fall back to
    ASCII when the locale is not UTF-8; colours are off under NO_COLOR.
    The cells are view_cells.c, the jobs and detail panes view_jobs.c. */
#define _XOPEN_SOURCE_EXTENDED 1
#include <ncurses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "monitor.h"
#include "report.h"
#include "text.h"
#include "view_cells.h"

#define MIN_COLS 50
#define MIN_ROWS 12

//  ---------------------------------------------------------------- header

//  Rows 0-2: the broker, the cluster's figures, the rate sparkline.
static void
s_draw_header(view_t *v, const state_t *s, const link_t *link, const monitor_config_t *cfg, int64_t now_ms)
{
    const Shoal__Snapshot *snap = s->snap;
    const Shoal__ClusterInfo *c = snap ? snap->cluster : NULL;
    char buf[512], a[64], b[64];
    int x = 0;
    x += vc_text(v, 0, x, COLS, K_TITLE, "shoal-monitor ");
    x += vc_text(v, 0, x, COLS - x, K_NORMAL, cfg->broker);
    x += 1;
    bool up = link_up(link);
    if (up) {
        x += vc_text(v, 0, x, COLS - x, K_OK, "[live]");
        if (c) {
            snprintf(buf, sizeof buf, "leader %s  epoch %llu  up %s", c->broker_id ? c->broker_id : "?",
                     (unsigned long long) c->epoch, report_duration_ms(c->uptime_ms, a, sizeof a));
            int w = COLS - x - 1;
            if (w > 10)
                vc_text_right(v, 0, x + 1, w, K_DIM, buf);
        }
    }
    else
    if (!link_ever_up(link)) {
        x += vc_text(v, 0, x, COLS - x, K_WARN, "[connecting]");
        snprintf(buf, sizeof buf, " waiting for the broker (progress on %s)", cfg->progress);
        vc_text(v, 0, x, COLS - x, K_DIM, buf);
    }
    else {
        x += vc_text(v, 0, x, COLS - x, K_ALERT, " BROKER UNREACHABLE ");
        int64_t silent = now_ms - link_last_heard(link);
        snprintf(buf, sizeof buf, " no answer for %s, retrying; figures below are from %s",
                 report_duration_ms(silent, a, sizeof a),
                 snap ? vc_clock(snap->time_us, b, sizeof b) : "never");
        vc_text(v, 0, x, COLS - x, K_BAD, buf);
    }

    //  cluster figures; stale ones are dim
    kind_t k = up ? K_NORMAL : K_DIM;
    if (c) {
        char workers[32], slots[32], busy[32], rate[32], lag[32], held[32];
        snprintf(workers, sizeof workers, "%u", c->workers);
        snprintf(slots, sizeof slots, "%u", c->slots);
        snprintf(busy, sizeof busy, "%u (%u%%)", c->in_flight, c->slots ? c->in_flight * 100 / c->slots : 0);
        report_rate(c->rate, rate, sizeof rate);
        report_duration_ms(c->db_lag_ms, lag, sizeof lag);
        vc_num(c->results_held, held, sizeof held);
        pair_t pairs[] = {
            { "workers", workers, k }, { "slots", slots, k }, { "busy", busy, k },
            { "rate", rate, up ? K_KEY : K_DIM },
            { "db lag", lag, !up ? K_DIM : c->db_lag_ms > 5000 ? K_BAD : c->db_lag_ms > 1000 ? K_WARN : k },
            { "unwritten", held, k },
        };
        x = vc_pairs(v, 1, 0, COLS, pairs, sizeof pairs / sizeof *pairs);
        if (!c->db_up)
            x += vc_text(v, 1, x, COLS - x, K_ALERT, " DATABASE DOWN ") + 3;
        if (c->lost_workers) {
            snprintf(buf, sizeof buf, "%llu", (unsigned long long) c->lost_workers);
            pair_t lost = { "lost workers", buf, up ? K_WARN : K_DIM };
            x = vc_pairs(v, 1, x, COLS - x, &lost, 1);
        }
        if (c->bad_messages) {
            snprintf(buf, sizeof buf, "%llu", (unsigned long long) c->bad_messages);
            pair_t bad = { "bad messages", buf, up ? K_WARN : K_DIM };
            vc_pairs(v, 1, x, COLS - x, &bad, 1);
        }
    }
    else
        vc_text(v, 1, 0, COLS, K_DIM, "no snapshot yet");

    //  the sparkline: a slowdown is seen, not read
    size_t n = COLS > 60 ? (size_t) COLS - 40 : 20;
    double *vals = calloc(n, sizeof *vals);
    bool *have = calloc(n, sizeof *have);
    if (!vals || !have) {
        free(vals);
        free(have);
        return;
    }
    double max = state_history(s, now_ms, n, vals, have);
    vc_text(v, 2, 0, 5, K_DIM, "rate ");
    static const char *levels[] = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
    static const char ascii[] = "_.-=+*#@";
    for (size_t i = 0; i < n; i++) {
        if (!have[i] || vals[i] <= 0 || max <= 0)
            continue;
        int level = (int) (vals[i] / max * 7.999);
        if (level < 0) level = 0;
        if (level > 7) level = 7;
        vc_glyphs(v, 2, 5 + (int) i, 1, up ? K_OK : K_DIM, levels[level], ascii[level]);
    }
    snprintf(buf, sizeof buf, "max %s, last %s", report_rate(max, a, sizeof a),
             report_duration_ms((int64_t) n * STATE_BUCKET_MS, b, sizeof b));
    vc_text(v, 2, 5 + (int) n + 1, COLS - 6 - (int) n, K_DIM, buf);
    free(vals);
    free(have);
}

//  ---------------------------------------------------------------- workers

//  The workers pane in rows y..y+h-1.
static void
s_draw_workers(view_t *v, const state_t *s, bool live, int y, int h)
{
    const Shoal__Snapshot *snap = s->snap;
    size_t n = snap ? snap->n_workers : 0;
    char title[64];
    snprintf(title, sizeof title, "Workers (%zu)", n);
    vc_rule(v, y, title, "");
    if (h < 2)
        return;
    int id_w = 16;
    for (size_t i = 0; i < n; i++) {
        int len = snap->workers[i]->id ? (int) strlen(snap->workers[i]->id) : 1;
        if (len > id_w)
            id_w = len;
    }
    //  every column fits 80 columns, narrower under 100
    bool wide = COLS >= 100;
    const int host_w = wide ? 16 : 10, pid_w = 7, slots_w = 5, busy_w = wide ? 5 : 4, done_w = wide ? 11 : 9;
    const int failed_w = wide ? 8 : 6, rate_w = wide ? 8 : 7, seen_w = 9;
    int fixed = 2 + 1 + host_w + 1 + pid_w + 1 + slots_w + 1 + busy_w + 1 + done_w + 1 + failed_w + 1 + rate_w + 1
              + seen_w + (wide ? 10 : 0);
    if (id_w > COLS - fixed)
        id_w = COLS - fixed > 8 ? COLS - fixed : 8;
    int x = 2, hy = y + 1;
    vc_text(v, hy, x, id_w, K_DIM, "WORKER");                 x += id_w + 1;
    vc_text(v, hy, x, host_w, K_DIM, "HOST");                 x += host_w + 1;
    vc_text_right(v, hy, x, pid_w, K_DIM, "PID");             x += pid_w + 1;
    vc_text_right(v, hy, x, slots_w, K_DIM, "SLOTS");         x += slots_w + 1;
    vc_text_right(v, hy, x, busy_w, K_DIM, "BUSY");           x += busy_w + 1;
    vc_text_right(v, hy, x, done_w, K_DIM, "DONE");           x += done_w + 1;
    vc_text_right(v, hy, x, failed_w, K_DIM, "FAILED");       x += failed_w + 1;
    vc_text_right(v, hy, x, rate_w, K_DIM, "RATE");           x += rate_w + 1;
    vc_text_right(v, hy, x, seen_w, K_DIM, "LAST SEEN");
    if (n == 0) {
        vc_text(v, y + 2, 2, COLS - 2, live ? K_WARN : K_DIM, "no workers; start some with: shoal-worker --broker ...");
        return;
    }
    int rows = h - 2;
    bool more = (int) n > rows;
    for (int r = 0; r < rows && r < (int) n; r++) {
        int ry = y + 2 + r;
        if (more && r == rows - 1) {
            char buf[64];
            snprintf(buf, sizeof buf, "... and %zu more", n - (size_t) r);
            vc_text(v, ry, 2, COLS - 2, K_DIM, buf);
            break;
        }
        const Shoal__WorkerInfo *w = snap->workers[r];
        kind_t k = live ? K_NORMAL : K_DIM;
        char buf[64];
        x = 2;
        vc_text(v, ry, x, id_w, k, w->id ? w->id : "?");       x += id_w + 1;
        vc_text(v, ry, x, host_w, k, w->host ? w->host : "?"); x += host_w + 1;
        snprintf(buf, sizeof buf, "%u", w->pid);
        vc_text_right(v, ry, x, pid_w, k, buf);                 x += pid_w + 1;
        snprintf(buf, sizeof buf, "%u", w->slots);
        vc_text_right(v, ry, x, slots_w, k, buf);               x += slots_w + 1;
        snprintf(buf, sizeof buf, "%u", w->busy);
        vc_text_right(v, ry, x, busy_w, w->busy && live ? K_OK : k, buf);
        x += busy_w + 1;
        vc_text_right(v, ry, x, done_w, k, vc_num(w->done, buf, sizeof buf));
        x += done_w + 1;
        vc_text_right(v, ry, x, failed_w, w->failed && live ? K_BAD : k, vc_num(w->failed, buf, sizeof buf));
        x += failed_w + 1;
        vc_text_right(v, ry, x, rate_w, k, report_rate(w->rate, buf, sizeof buf));
        x += rate_w + 1;
        kind_t seen = !live ? K_DIM : w->last_seen_ms > 10000 ? K_BAD : w->last_seen_ms > 3000 ? K_WARN : k;
        vc_text_right(v, ry, x, seen_w, seen, report_duration_ms(w->last_seen_ms, buf, sizeof buf));
        x += seen_w + 1;
        if (w->draining) {
            vc_text(v, ry, x + 1, COLS - x - 1, K_WARN, "draining");
            x += 10;
        }
        //  handlers (processes up/busy/restarts, BROKEN) and labels, as room allows
        if ((w->n_handlers || w->n_labels) && x + 2 < COLS) {
            char handlers[512], labels[256], extra[800];
            report_worker_handlers(w, handlers, sizeof handlers);
            report_worker_labels(w, labels, sizeof labels);
            snprintf(extra, sizeof extra, "%s%s%s", handlers, handlers[0] && labels[0] ? "  " : "", labels);
            bool broken = strstr(handlers, "BROKEN") != NULL;
            vc_text(v, ry, x + 1, COLS - x - 1, broken && live ? K_BAD : K_DIM, extra);
        }
    }
}

//  ---------------------------------------------------------------- events

//  How an event line is shown.
static kind_t
s_event_kind(int kind)
{
    switch (kind) {
        case SHOAL__EVENT_TYPE__EVENT_WORKER_LOST:
        case SHOAL__EVENT_TYPE__EVENT_TASK_FAILED:
        case SHOAL__EVENT_TYPE__EVENT_DB_DOWN:
            return K_BAD;
        case SHOAL__EVENT_TYPE__EVENT_WORKER_JOINED:
        case SHOAL__EVENT_TYPE__EVENT_DB_UP:
            return K_OK;
        case SHOAL__EVENT_TYPE__EVENT_JOB_FINISHED:
            return K_TITLE;
        case SHOAL__EVENT_TYPE__EVENT_JOB_CONTROL:
        case NOTE_WARN:
            return K_WARN;
        default:
            return K_NORMAL;
    }
}

//  The newest events that fit in rows y+1..y+h-1, oldest first.
static void
s_draw_events(view_t *v, const state_t *s, int y, int h)
{
    vc_rule(v, y, "Events", "");
    int rows = h - 1;
    size_t shown = s->n_events < (size_t) rows ? s->n_events : (size_t) rows;
    if (shown == 0) {
        if (rows > 0)
            vc_text(v, y + 1, 2, COLS - 2, K_DIM, "none yet");
        return;
    }
    for (size_t i = 0; i < shown; i++) {
        const state_event_t *e = state_event(s, shown - 1 - i);
        int ry = y + 1 + (int) i;
        char ts[16], more[48];
        vc_text(v, ry, 1, 8, K_DIM, vc_clock(e->time_us, ts, sizeof ts));
        int x = 10;
        if (e->repeats) {
            snprintf(more, sizeof more, "%s%u ", v->utf8 ? "×" : "x", e->repeats + 1);
            x += vc_text(v, ry, x, COLS - x, K_KEY, more);
        }
        vc_text(v, ry, x, COLS - x, s_event_kind(e->kind), e->text);
    }
}

//  ---------------------------------------------------------------- footer, help

//  The last row: the y/N prompt, or the keys and the latest message.
static void
s_draw_footer(view_t *v, const state_t *s, int64_t now_ms)
{
    int y = LINES - 1;
    if (v->confirm_cancel) {
        const Shoal__JobInfo *j = NULL;
        for (size_t i = 0; s->snap && i < s->snap->n_jobs; i++)
            if (s->snap->jobs[i]->id == v->confirm_cancel)
                j = s->snap->jobs[i];
        char name[64], buf[300];
        vc_fit(v, j && j->name ? j->name : "", 30, name, sizeof name);
        snprintf(buf, sizeof buf, " Cancel job %u%s%s%s? Unfinished tasks end cancelled, running ones are aborted."
                 " [y/N] ", v->confirm_cancel, *name ? " \"" : "", name, *name ? "\"" : "");
        vc_glyphs(v, y, 0, COLS, K_ALERT, " ", ' ');
        vc_text(v, y, 0, COLS, K_ALERT, buf);
        return;
    }
    static const struct { const char *key, *what; } keys[] = {
        { NULL, "select" }, { "p", "pause" }, { "r", "resume" }, { "c", "cancel" }, { "R", "retry failed" },
        { "j/d/w/e", "panes" }, { "?", "help" }, { "q", "quit" },
    };
    bool message = s->message[0] && now_ms - s->message_ms < 30000;
    int msg_w = message ? (int) strlen(s->message) + 2 : 0;
    size_t n = sizeof keys / sizeof *keys;
    //  help and quit always show; the others when they fit beside them and
    //  the message
    int reserve = 0;
    for (size_t i = n - 2; i < n; i++)
        reserve += (int) strlen(keys[i].what) + (int) strlen(keys[i].key) + 3;
    int x = 1;
    for (size_t i = 0; i < n; i++) {
        const char *key = keys[i].key ? keys[i].key : v->utf8 ? "↑↓" : "Up/Dn";
        int need = (int) strlen(keys[i].what) + (int) (keys[i].key ? strlen(key) : 2) + 3;
        if (i + 2 < n && x + need + reserve > COLS - msg_w)
            continue;
        x += vc_text(v, y, x, COLS - x, K_KEY, key);
        x += vc_text(v, y, x, COLS - x, K_DIM, " ");
        x += vc_text(v, y, x, COLS - x, K_DIM, keys[i].what);
        x += 2;
    }
    if (message) {
        int w = COLS - x - 1;
        if (w > 10)
            vc_text_right(v, y, x, w, s->message_bad ? K_BAD : K_OK, s->message);
    }
}

//  The help box over the middle of the screen.
static void
s_draw_help(const view_t *v)
{
    static const char *lines[] = {
        "Keys",
        "  Up Down        select a job (also PgUp PgDn Home End Tab)",
        "  p              pause it: running tasks finish, none start",
        "  r              resume it",
        "  c              cancel it (asks y/n first)",
        "  R              retry its failed tasks",
        "  j d w e        show/hide jobs, detail, workers, events",
        "  Ctrl-L         redraw the screen",
        "  ? or h         this help; any key closes it",
        "  q              quit (the jobs go on)",
        "",
        "Figures",
        "  DONE/TOTAL     finished (ok + failed + cancelled) / submitted",
        "  RATE           tasks finished per second over the last 5 s",
        "  ETA            unfinished tasks / rate",
        "  P50 P95 P99    time from dispatch to result, percentiles",
        "  busy           tasks at workers now, of the slots they offer",
        "  db lag         age of the oldest result not yet in PostgreSQL",
        "  rate graph     cluster results per second, a column per 2 s",
        NULL,
    };
    int n = (int) (sizeof lines / sizeof *lines);
    int w = 70 < COLS - 2 ? 70 : COLS - 2;
    int h = n + 2 < LINES - 1 ? n + 2 : LINES - 1;
    int y0 = (LINES - h) / 2, x0 = (COLS - w) / 2;
    for (int r = 0; r < h; r++) {
        vc_glyphs(v, y0 + r, x0, w, K_NORMAL, " ", ' ');
        vc_glyphs(v, y0 + r, x0, 1, K_TITLE, "│", '|');
        vc_glyphs(v, y0 + r, x0 + w - 1, 1, K_TITLE, "│", '|');
    }
    vc_glyphs(v, y0, x0, w, K_TITLE, "─", '-');
    vc_glyphs(v, y0 + h - 1, x0, w, K_TITLE, "─", '-');
    vc_text(v, y0, x0 + 2, w - 4, K_TITLE, " shoal-monitor help ");
    for (int i = 0; i < n && i < h - 2; i++)
        vc_text(v, y0 + 1 + i, x0 + 2, w - 4, i == 0 || i == 11 ? K_TITLE : K_NORMAL,
               lines[i] ? lines[i] : v->utf8 ? "  bar            █ ok, ▓ failed, ▒ cancelled, ░ unfinished"
                                             : "  bar            # ok, X failed, ~ cancelled, . unfinished");
}

//  ---------------------------------------------------------------- layout

void
view_draw(view_t *v, const state_t *s, const link_t *link, const monitor_config_t *cfg, int64_t now_ms)
{
    erase();
    if (COLS < MIN_COLS || LINES < MIN_ROWS) {
        char buf[128];
        snprintf(buf, sizeof buf, "terminal too small: %dx%d, shoal-monitor needs %dx%d (q quits)", COLS, LINES,
                 MIN_COLS, MIN_ROWS);
        vc_text(v, 0, 0, COLS, K_WARN, buf);
        refresh();
        return;
    }
    bool live = link_up(link);
    s_draw_header(v, s, link, cfg, now_ms);
    //  rows between the header (3) and the footer (1), shared by the panes:
    //  each gets what it needs, the events the rest
    int avail = LINES - 4;
    size_t n_jobs = s->snap ? s->snap->n_jobs : 0, n_workers = s->snap ? s->snap->n_workers : 0;
    int want_jobs = v->show_jobs ? 2 + (n_jobs ? (int) n_jobs : 1) : 0;
    int want_detail = v->show_detail ? 1 + view_detail_lines(state_selected_job(s)) : 0;
    int want_workers = v->show_workers ? 2 + (n_workers ? (int) n_workers : 1) : 0;
    int min_events = v->show_events ? 4 : 0;
    int jobs_h = 0, detail_h = 0, workers_h = 0, events_h = 0;
    int left = avail - min_events;
    detail_h = want_detail < left / 3 ? want_detail : left / 3;
    if (v->show_detail && detail_h < 2)
        detail_h = left >= 2 ? 2 : 0;
    left -= detail_h;
    if (v->show_jobs) {
        int cap = v->show_workers ? left * 3 / 5 : left;
        jobs_h = want_jobs < cap ? want_jobs : cap;
        if (jobs_h < 3)
            jobs_h = left >= 3 ? 3 : left;
        left -= jobs_h;
    }
    if (v->show_workers) {
        workers_h = want_workers < left ? want_workers : left;
        left -= workers_h;
    }
    //  unused rows: the detail's full want first, then the events
    if (v->show_detail && detail_h < want_detail && left > 0) {
        int more = want_detail - detail_h < left ? want_detail - detail_h : left;
        detail_h += more;
        left -= more;
    }
    events_h = v->show_events ? left + min_events : 0;
    int y = 3;
    if (jobs_h > 0) {
        view_draw_jobs(v, s, live, y, jobs_h);
        y += jobs_h;
    }
    if (detail_h > 0) {
        view_draw_detail(v, s, live, y, detail_h, now_ms);
        y += detail_h;
    }
    if (workers_h > 0) {
        s_draw_workers(v, s, live, y, workers_h);
        y += workers_h;
    }
    if (events_h > 1)
        s_draw_events(v, s, y, events_h);
    s_draw_footer(v, s, now_ms);
    if (v->help)
        s_draw_help(v);
    refresh();
}
