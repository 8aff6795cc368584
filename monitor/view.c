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
    ASCII when the locale is not UTF-8; colours are off under NO_COLOR. */
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

//  What a piece of text means; its attributes depend on NO_COLOR.
typedef enum { K_NORMAL, K_OK, K_BAD, K_WARN, K_TITLE, K_DIM, K_KEY, K_ALERT } kind_t;

enum { PAIR_OK = 1, PAIR_BAD, PAIR_WARN, PAIR_TITLE, PAIR_ALERT };

#define MIN_COLS 50
#define MIN_ROWS 12

void
view_init(view_t *view)
{
    view->color = false;
    if (getenv("NO_COLOR") || !has_colors() || start_color() != OK)
        return;
    use_default_colors();
    init_pair(PAIR_OK, COLOR_GREEN, -1);
    init_pair(PAIR_BAD, COLOR_RED, -1);
    init_pair(PAIR_WARN, COLOR_YELLOW, -1);
    init_pair(PAIR_TITLE, COLOR_CYAN, -1);
    init_pair(PAIR_ALERT, COLOR_WHITE, COLOR_RED);
    view->color = true;
}

//  The attributes for a kind of text, with or without colours.
static attr_t
s_attr(const view_t *v, kind_t kind)
{
    switch (kind) {
        case K_OK:    return v->color ? COLOR_PAIR(PAIR_OK) : A_NORMAL;
        case K_BAD:   return v->color ? COLOR_PAIR(PAIR_BAD) | A_BOLD : A_BOLD;
        case K_WARN:  return v->color ? COLOR_PAIR(PAIR_WARN) | A_BOLD : A_BOLD;
        case K_TITLE: return v->color ? COLOR_PAIR(PAIR_TITLE) | A_BOLD : A_BOLD;
        case K_DIM:   return A_DIM;
        case K_KEY:   return A_BOLD;
        case K_ALERT: return v->color ? COLOR_PAIR(PAIR_ALERT) | A_BOLD : A_REVERSE | A_BOLD;
        default:      return A_NORMAL;
    }
}

//  ---------------------------------------------------------------- text

//  Copy the longest prefix of text that fits in `cols` screen columns into
//  out, with unprintable characters as '?'. Returns the columns it takes.
static int
s_fit(const view_t *v, const char *text, int cols, char *out, size_t size)
{
    size_t o = 0;
    int used = 0;
    mbstate_t mb;
    memset(&mb, 0, sizeof mb);
    const char *p = text ? text : "";
    size_t left = strlen(p);
    while (*p && o + 8 < size) {
        int width = 1;
        size_t len = 1;
        bool ok = false;
        if (v->utf8) {
            wchar_t wc;
            len = mbrtowc(&wc, p, left, &mb);
            if (len == (size_t) -1 || len == (size_t) -2 || len == 0) {
                memset(&mb, 0, sizeof mb);
                len = 1;
            }
            else {
                width = wcwidth(wc);
                ok = width >= 0 && wc >= 0x20;
            }
        }
        else
            ok = (unsigned char) *p >= 0x20 && (unsigned char) *p < 0x7f;
        if (!ok)
            width = 1;
        if (used + width > cols)
            break;
        if (ok) {
            memcpy(out + o, p, len);
            o += len;
        }
        else
            out[o++] = '?';
        used += width;
        p += len;
        left -= len;
    }
    out[o] = '\0';
    return used;
}

//  Draw text at (y, x) in at most w columns; returns the columns used.
static int
s_text(const view_t *v, int y, int x, int w, kind_t kind, const char *text)
{
    if (y < 0 || y >= LINES || x >= COLS || w <= 0)
        return 0;
    if (x + w > COLS)
        w = COLS - x;
    char buf[1024];
    int used = s_fit(v, text, w, buf, sizeof buf);
    attr_t a = s_attr(v, kind);
    attron(a);
    mvaddstr(y, x, buf);
    attroff(a);
    return used;
}

//  The same, right-aligned so the text ends at column x + w.
static void
s_text_right(const view_t *v, int y, int x, int w, kind_t kind, const char *text)
{
    char buf[1024];
    int used = s_fit(v, text, w, buf, sizeof buf);
    s_text(v, y, x + w - used, used, kind, buf);
}

//  Draw a glyph (UTF-8 or ASCII per the locale) n times.
static void
s_glyphs(const view_t *v, int y, int x, int n, kind_t kind, const char *utf8, char ascii)
{
    if (y < 0 || y >= LINES || n <= 0)
        return;
    if (x + n > COLS)
        n = COLS - x;
    attr_t a = s_attr(v, kind);
    attron(a);
    move(y, x);
    for (int i = 0; i < n; i++) {
        if (v->utf8)
            addstr(utf8);
        else
            addch((chtype) (unsigned char) ascii);
    }
    attroff(a);
}

//  "── Title ─────" across the screen.
static void
s_rule(const view_t *v, int y, const char *title, const char *extra)
{
    s_glyphs(v, y, 0, COLS, K_DIM, "─", '-');
    int x = 3;
    x += s_text(v, y, x, COLS - x, K_TITLE, " ");
    x += s_text(v, y, x, COLS - x, K_TITLE, title);
    x += s_text(v, y, x, COLS - x, K_TITLE, " ");
    if (extra && *extra) {
        x += s_text(v, y, x, COLS - x, K_DIM, extra);
        s_text(v, y, x, COLS - x, K_DIM, " ");
    }
}

//  label value   label value ... in one line; returns the column after.
typedef struct {
    const char *label;
    const char *value;
    kind_t      kind;
} pair_t;

static int
s_pairs(const view_t *v, int y, int x, int w, const pair_t *pairs, size_t n)
{
    int end = x + w;
    for (size_t i = 0; i < n && x < end; i++) {
        if (!pairs[i].value)
            continue;
        if (pairs[i].label && *pairs[i].label) {
            x += s_text(v, y, x, end - x, K_DIM, pairs[i].label);
            x += s_text(v, y, x, end - x, K_DIM, " ");
        }
        x += s_text(v, y, x, end - x, pairs[i].kind, pairs[i].value);
        x += 3;
    }
    return x;
}

//  A wall time as HH:MM:SS, local time.
static const char *
s_clock(int64_t time_us, char *buf, size_t size)
{
    time_t t = (time_t) (time_us / 1000000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, size, "%H:%M:%S", &tm);
    return buf;
}

//  12,345,678.
static const char *
s_num(uint64_t n, char *buf, size_t size)
{
    return text_thousands((unsigned long long) n, buf, size);
}

//  The job will not change any more.
static bool
s_finished(const Shoal__JobInfo *j)
{
    return j->state == SHOAL__JOB_STATE__JOB_DONE || j->state == SHOAL__JOB_STATE__JOB_CANCELLED;
}

//  How a job's state is shown.
static kind_t
s_state_kind(const Shoal__JobInfo *j)
{
    switch (j->state) {
        case SHOAL__JOB_STATE__JOB_ACTIVE:    return K_OK;
        case SHOAL__JOB_STATE__JOB_PAUSED:    return K_WARN;
        case SHOAL__JOB_STATE__JOB_CANCELLED: return K_BAD;
        default:                              return K_NORMAL;
    }
}

//  ---------------------------------------------------------------- header

//  Rows 0-2: the broker, the cluster's figures, the rate sparkline.
static void
s_draw_header(view_t *v, const state_t *s, const link_t *link, const monitor_config_t *cfg, int64_t now_ms)
{
    const Shoal__Snapshot *snap = s->snap;
    const Shoal__ClusterInfo *c = snap ? snap->cluster : NULL;
    char buf[512], a[64], b[64];
    int x = 0;
    x += s_text(v, 0, x, COLS, K_TITLE, "shoal-monitor ");
    x += s_text(v, 0, x, COLS - x, K_NORMAL, cfg->broker);
    x += 1;
    bool up = link_up(link);
    if (up) {
        x += s_text(v, 0, x, COLS - x, K_OK, "[live]");
        if (c) {
            snprintf(buf, sizeof buf, "broker %s  epoch %llu  up %s", c->broker_id ? c->broker_id : "?",
                     (unsigned long long) c->epoch, report_duration_ms(c->uptime_ms, a, sizeof a));
            int w = COLS - x - 1;
            if (w > 10)
                s_text_right(v, 0, x + 1, w, K_DIM, buf);
        }
    }
    else
    if (!link_ever_up(link)) {
        x += s_text(v, 0, x, COLS - x, K_WARN, "[connecting]");
        snprintf(buf, sizeof buf, " waiting for the broker (progress on %s)", cfg->progress);
        s_text(v, 0, x, COLS - x, K_DIM, buf);
    }
    else {
        x += s_text(v, 0, x, COLS - x, K_ALERT, " BROKER UNREACHABLE ");
        int64_t silent = now_ms - link_last_heard(link);
        snprintf(buf, sizeof buf, " no answer for %s, retrying; figures below are from %s",
                 report_duration_ms(silent, a, sizeof a),
                 snap ? s_clock(snap->time_us, b, sizeof b) : "never");
        s_text(v, 0, x, COLS - x, K_BAD, buf);
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
        s_num(c->results_held, held, sizeof held);
        pair_t pairs[] = {
            { "workers", workers, k }, { "slots", slots, k }, { "busy", busy, k },
            { "rate", rate, up ? K_KEY : K_DIM },
            { "db lag", lag, !up ? K_DIM : c->db_lag_ms > 5000 ? K_BAD : c->db_lag_ms > 1000 ? K_WARN : k },
            { "unwritten", held, k },
        };
        x = s_pairs(v, 1, 0, COLS, pairs, sizeof pairs / sizeof *pairs);
        if (!c->db_up)
            x += s_text(v, 1, x, COLS - x, K_ALERT, " DATABASE DOWN ") + 3;
        if (c->lost_workers) {
            snprintf(buf, sizeof buf, "%llu", (unsigned long long) c->lost_workers);
            pair_t lost = { "lost workers", buf, up ? K_WARN : K_DIM };
            x = s_pairs(v, 1, x, COLS - x, &lost, 1);
        }
        if (c->bad_messages) {
            snprintf(buf, sizeof buf, "%llu", (unsigned long long) c->bad_messages);
            pair_t bad = { "bad messages", buf, up ? K_WARN : K_DIM };
            s_pairs(v, 1, x, COLS - x, &bad, 1);
        }
    }
    else
        s_text(v, 1, 0, COLS, K_DIM, "no snapshot yet");

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
    s_text(v, 2, 0, 5, K_DIM, "rate ");
    static const char *levels[] = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
    static const char ascii[] = "_.-=+*#@";
    for (size_t i = 0; i < n; i++) {
        if (!have[i] || vals[i] <= 0 || max <= 0)
            continue;
        int level = (int) (vals[i] / max * 7.999);
        if (level < 0) level = 0;
        if (level > 7) level = 7;
        s_glyphs(v, 2, 5 + (int) i, 1, up ? K_OK : K_DIM, levels[level], ascii[level]);
    }
    snprintf(buf, sizeof buf, "max %s, last %s", report_rate(max, a, sizeof a),
             report_duration_ms((int64_t) n * STATE_BUCKET_MS, b, sizeof b));
    s_text(v, 2, 5 + (int) n + 1, COLS - 6 - (int) n, K_DIM, buf);
    free(vals);
    free(have);
}

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
        snprintf(buf, sizeof buf, "%s/%s", s_num(j->ok + j->failed + j->cancelled, a, sizeof a),
                 s_num(j->total, b, sizeof b));
        if ((int) strlen(buf) > c.done_w)
            c.done_w = (int) strlen(buf);
        s_num(j->failed, a, sizeof a);
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
    double total = (double) (j->total ? j->total : 1);
    int cells[3];
    uint64_t counts[3] = { j->ok, j->failed, j->cancelled };
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
    uint64_t finished = j->ok + j->failed + j->cancelled;
    if (used == w && finished < j->total) {
        int big = cells[0] >= cells[1] ? (cells[0] >= cells[2] ? 0 : 2) : (cells[1] >= cells[2] ? 1 : 2);
        cells[big]--;
        used--;
    }
    int at = x;
    s_glyphs(v, y, at, cells[0], live ? K_OK : K_DIM, "█", '#');
    at += cells[0];
    s_glyphs(v, y, at, cells[1], live ? K_BAD : K_DIM, "▓", 'X');
    at += cells[1];
    s_glyphs(v, y, at, cells[2], live ? K_WARN : K_DIM, "▒", '~');
    at += cells[2];
    s_glyphs(v, y, at, w - used, K_DIM, "░", '.');
}

//  The jobs pane in rows y..y+h-1, scrolled to keep the selection visible.
static void
s_draw_jobs(view_t *v, const state_t *s, bool live, int y, int h)
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
    s_rule(v, y, title, extra);
    if (h < 2)
        return;
    jobcols_t c = s_jobcols(snap);
    int hy = y + 1;
    int x = 2;
    s_text_right(v, hy, x, c.id_w, K_DIM, "JOB");          x += c.id_w + 1;
    s_text(v, hy, x, c.name_w, K_DIM, "NAME");             x += c.name_w + 1;
    s_text(v, hy, x, c.state_w, K_DIM, "STATE");           x += c.state_w + 1;
    s_text(v, hy, x, c.bar_w, K_DIM, "PROGRESS");          x += c.bar_w + 1;
    s_text_right(v, hy, x, c.pct_w, K_DIM, "%");           x += c.pct_w + 1;
    s_text_right(v, hy, x, c.done_w, K_DIM, "DONE/TOTAL"); x += c.done_w + 1;
    s_text_right(v, hy, x, c.failed_w, K_DIM, "FAILED");   x += c.failed_w + 1;
    s_text_right(v, hy, x, c.rate_w, K_DIM, "RATE");       x += c.rate_w + 1;
    if (c.eta) { s_text_right(v, hy, x, c.eta_w, K_DIM, "ETA"); x += c.eta_w + 1; }
    if (c.p50) { s_text_right(v, hy, x, c.lat_w, K_DIM, "P50"); x += c.lat_w + 1; }
    if (c.p95) { s_text_right(v, hy, x, c.lat_w, K_DIM, "P95"); x += c.lat_w + 1; }
    if (c.p99) { s_text_right(v, hy, x, c.lat_w, K_DIM, "P99"); x += c.lat_w + 1; }
    if (n == 0) {
        s_text(v, y + 2, 2, COLS - 2, K_DIM, "no jobs; submit one with: shoal submit ...");
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
        s_text_right(v, ry, x, c.id_w, selected ? K_KEY : k, buf);
        x += c.id_w + 1;
        s_text(v, ry, x, c.name_w, selected ? K_KEY : k, j->name && *j->name ? j->name : "-");
        x += c.name_w + 1;
        const char *state = report_state_name(j->state);
        if (j->state == SHOAL__JOB_STATE__JOB_ACTIVE && !j->sealed)
            state = "receiving";
        s_text(v, ry, x, c.state_w, live ? s_state_kind(j) : K_DIM, state);
        x += c.state_w + 1;
        s_draw_bar(v, ry, x, c.bar_w, j, live);
        x += c.bar_w + 1;
        snprintf(buf, sizeof buf, "%.1f%%", report_percent(j));
        s_text_right(v, ry, x, c.pct_w, k, buf);
        x += c.pct_w + 1;
        snprintf(buf, sizeof buf, "%s/%s", s_num(j->ok + j->failed + j->cancelled, a, sizeof a),
                 s_num(j->total, b, sizeof b));
        s_text_right(v, ry, x, c.done_w, selected ? K_KEY : k, buf);
        x += c.done_w + 1;
        s_text_right(v, ry, x, c.failed_w, j->failed && live ? K_BAD : k, s_num(j->failed, a, sizeof a));
        x += c.failed_w + 1;
        bool running = !s_finished(j);
        s_text_right(v, ry, x, c.rate_w, k, running ? report_rate(j->rate, a, sizeof a) : "-");
        x += c.rate_w + 1;
        if (c.eta) {
            const char *eta = j->state == SHOAL__JOB_STATE__JOB_PAUSED ? "paused"
                            : running ? report_duration_ms(j->eta_ms, a, sizeof a) : "-";
            s_text_right(v, ry, x, c.eta_w, k, eta);
            x += c.eta_w + 1;
        }
        uint64_t lat[3] = { j->p50_us, j->p95_us, j->p99_us };
        bool show[3] = { c.p50, c.p95, c.p99 };
        for (int l = 0; l < 3; l++) {
            if (!show[l])
                continue;
            s_text_right(v, ry, x, c.lat_w, k, lat[l] ? report_latency_us(lat[l], a, sizeof a) : "-");
            x += c.lat_w + 1;
        }
    }
}

//  ---------------------------------------------------------------- detail

//  Pipeline steps shown in the detail pane (a pipeline has at most 32).
#define DETAIL_STEPS 8

//  Lines the detail pane wants for job j (without its rule).
static int
s_detail_lines(const Shoal__JobInfo *j)
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
    return n;
}

//  A pipeline job's steps, one row each from `row` (at most DETAIL_STEPS
//  and up to `last`): name, tasks (children of a fan-out included), ok,
//  failed, cancelled, pending. Returns the next free row.
static int
s_draw_steps(view_t *v, const Shoal__JobInfo *j, bool live, int row, int last)
{
    kind_t k = live ? K_NORMAL : K_DIM;
    for (size_t i = 0; i < j->n_steps && i < DETAIL_STEPS && row <= last; i++, row++) {
        const Shoal__StepInfo *st = j->steps[i];
        char tasks[32], ok[32], failed[32], cancelled[32], pending[32], name[48];
        s_num(st->tasks, tasks, sizeof tasks);
        s_num(st->ok, ok, sizeof ok);
        s_num(st->failed, failed, sizeof failed);
        s_num(st->cancelled, cancelled, sizeof cancelled);
        s_num(report_step_pending(st), pending, sizeof pending);
        snprintf(name, sizeof name, "%.24s%s", st->name ? st->name : "", st->each ? " (each)" : "");
        pair_t pairs[] = {
            { "tasks", tasks, k }, { "ok", ok, live ? K_OK : K_DIM },
            { "failed", failed, st->failed && live ? K_BAD : k },
            { "cancelled", st->cancelled ? cancelled : NULL, live ? K_WARN : k },
            { "pending", pending, k },
        };
        if (i == 0)
            s_text(v, row, 1, 9, K_DIM, "steps");
        s_text(v, row, 10, 32, k, name);
        s_pairs(v, row, 43, COLS - 43, pairs, sizeof pairs / sizeof *pairs);
    }
    return row;
}

//  The selected job's detail pane in rows y..y+h-1.
static void
s_draw_detail(view_t *v, const state_t *s, bool live, int y, int h, int64_t now_ms)
{
    const Shoal__JobInfo *j = state_selected_job(s);
    char title[160], extra[160], a[32], b[32];
    if (!j) {
        s_rule(v, y, "Job", "");
        s_text(v, y + 1, 2, COLS - 2, K_DIM, "no job selected");
        return;
    }
    char name[64];
    s_fit(v, j->name ? j->name : "", 40, name, sizeof name);
    snprintf(title, sizeof title, "Job %u%s%s%s", j->id, *name ? " \"" : "", name, *name ? "\"" : "");
    int64_t end_us = j->has_finished_us && j->finished_us ? j->finished_us
                   : s->snap ? s->snap->time_us : 0;
    snprintf(extra, sizeof extra, "%s%s, priority %u, created %s, %s %s", report_state_name(j->state),
             j->sealed ? "" : " (receiving tasks)", j->priority, s_clock(j->created_us, a, sizeof a),
             s_finished(j) ? "took" : "running for",
             report_duration_ms(end_us > j->created_us ? (end_us - j->created_us) / 1000 : 0, b, sizeof b));
    s_rule(v, y, title, extra);
    int row = y + 1, last = y + h - 1;
    kind_t k = live ? K_NORMAL : K_DIM;
    if (row <= last) {
        char ok[32], failed[32], cancelled[32], queued[48], running[32], retries[32], stale[32], dup[32], w[32];
        s_num(j->ok, ok, sizeof ok);
        s_num(j->failed, failed, sizeof failed);
        s_num(j->cancelled, cancelled, sizeof cancelled);
        s_num(j->queued, queued, sizeof queued);
        if (j->retry_wait) {
            size_t len = strlen(queued);
            snprintf(queued + len, sizeof queued - len, " (%s in backoff)", s_num(j->retry_wait, w, sizeof w));
        }
        s_num(j->running, running, sizeof running);
        s_num(j->retries, retries, sizeof retries);
        s_num(j->stale, stale, sizeof stale);
        s_num(j->duplicate, dup, sizeof dup);
        pair_t pairs[] = {
            { "ok", ok, live ? K_OK : K_DIM }, { "failed", failed, j->failed && live ? K_BAD : k },
            { "cancelled", cancelled, j->cancelled && live ? K_WARN : k }, { "queued", queued, k },
            { "running", running, k }, { "retried", retries, k },
            { "stale", j->stale ? stale : NULL, k }, { "duplicate", j->duplicate ? dup : NULL, k },
        };
        s_text(v, row, 1, 9, K_DIM, "tasks");
        s_pairs(v, row, 10, COLS - 10, pairs, sizeof pairs / sizeof *pairs);
        row++;
    }
    if (row <= last) {
        char p50[32], p95[32], p99[32], rate[32], eta[32];
        bool running = !s_finished(j);
        pair_t pairs[] = {
            { "p50", j->p50_us ? report_latency_us(j->p50_us, p50, sizeof p50) : "-", k },
            { "p95", j->p95_us ? report_latency_us(j->p95_us, p95, sizeof p95) : "-", k },
            { "p99", j->p99_us ? report_latency_us(j->p99_us, p99, sizeof p99) : "-", k },
            { "rate", running ? report_rate(j->rate, rate, sizeof rate) : NULL, k },
            { "eta", running && j->state != SHOAL__JOB_STATE__JOB_PAUSED
                     ? report_duration_ms(j->eta_ms, eta, sizeof eta) : NULL, k },
        };
        s_text(v, row, 1, 9, K_DIM, "latency");
        s_pairs(v, row, 10, COLS - 10, pairs, sizeof pairs / sizeof *pairs);
        row++;
    }
    uint64_t http = 0;
    for (size_t i = 0; i < j->n_http_class; i++)
        http += j->http_class[i];
    if (http && j->n_http_class == 6 && row <= last) {
        char c[6][32];
        for (int i = 0; i < 6; i++)
            s_num(j->http_class[i], c[i], sizeof c[i]);
        pair_t pairs[] = {
            { "2xx", c[2], live ? K_OK : K_DIM }, { "3xx", c[3], k }, { "4xx", c[4], j->http_class[4] && live ? K_WARN : k },
            { "5xx", c[5], j->http_class[5] && live ? K_BAD : k }, { "no response", c[0], j->http_class[0] && live ? K_BAD : k },
            { "1xx", j->http_class[1] ? c[1] : NULL, k },
        };
        s_text(v, row, 1, 9, K_DIM, "http");
        s_pairs(v, row, 10, COLS - 10, pairs, sizeof pairs / sizeof *pairs);
        row++;
    }
    row = s_draw_steps(v, j, live, row, last);
    if (row > last)
        return;
    if (j->n_top_errors == 0 && j->n_top_hosts == 0) {
        s_text(v, row, 1, 9, K_DIM, "failures");
        s_text(v, row, 10, COLS - 10, k, "none");
        return;
    }
    //  top errors on the left, top failing hosts on the right
    int half = j->n_top_hosts ? (COLS - 10) * 2 / 3 : COLS - 10;
    s_text(v, row, 1, 9, K_DIM, "errors");
    if (j->n_top_hosts)
        s_text(v, row, 10 + half, 7, K_DIM, "hosts");
    for (size_t i = 0; i < 3 && row <= last; i++, row++) {
        if (i < j->n_top_errors) {
            s_text_right(v, row, 10, 8, live ? K_BAD : K_DIM, s_num(j->top_errors[i]->count, a, sizeof a));
            s_text(v, row, 20, half - 11, k, j->top_errors[i]->name);
        }
        if (i < j->n_top_hosts) {
            s_text_right(v, row, 10 + half + 6, 8, live ? K_BAD : K_DIM, s_num(j->top_hosts[i]->count, a, sizeof a));
            s_text(v, row, 10 + half + 16, COLS - (10 + half + 16), k, j->top_hosts[i]->name);
        }
        if (i + 1 >= j->n_top_errors && i + 1 >= j->n_top_hosts)
            break;
    }
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
    s_rule(v, y, title, "");
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
    s_text(v, hy, x, id_w, K_DIM, "WORKER");                 x += id_w + 1;
    s_text(v, hy, x, host_w, K_DIM, "HOST");                 x += host_w + 1;
    s_text_right(v, hy, x, pid_w, K_DIM, "PID");             x += pid_w + 1;
    s_text_right(v, hy, x, slots_w, K_DIM, "SLOTS");         x += slots_w + 1;
    s_text_right(v, hy, x, busy_w, K_DIM, "BUSY");           x += busy_w + 1;
    s_text_right(v, hy, x, done_w, K_DIM, "DONE");           x += done_w + 1;
    s_text_right(v, hy, x, failed_w, K_DIM, "FAILED");       x += failed_w + 1;
    s_text_right(v, hy, x, rate_w, K_DIM, "RATE");           x += rate_w + 1;
    s_text_right(v, hy, x, seen_w, K_DIM, "LAST SEEN");
    if (n == 0) {
        s_text(v, y + 2, 2, COLS - 2, live ? K_WARN : K_DIM, "no workers; start some with: shoal-worker --broker ...");
        return;
    }
    int rows = h - 2;
    bool more = (int) n > rows;
    for (int r = 0; r < rows && r < (int) n; r++) {
        int ry = y + 2 + r;
        if (more && r == rows - 1) {
            char buf[64];
            snprintf(buf, sizeof buf, "... and %zu more", n - (size_t) r);
            s_text(v, ry, 2, COLS - 2, K_DIM, buf);
            break;
        }
        const Shoal__WorkerInfo *w = snap->workers[r];
        kind_t k = live ? K_NORMAL : K_DIM;
        char buf[64];
        x = 2;
        s_text(v, ry, x, id_w, k, w->id ? w->id : "?");       x += id_w + 1;
        s_text(v, ry, x, host_w, k, w->host ? w->host : "?"); x += host_w + 1;
        snprintf(buf, sizeof buf, "%u", w->pid);
        s_text_right(v, ry, x, pid_w, k, buf);                 x += pid_w + 1;
        snprintf(buf, sizeof buf, "%u", w->slots);
        s_text_right(v, ry, x, slots_w, k, buf);               x += slots_w + 1;
        snprintf(buf, sizeof buf, "%u", w->busy);
        s_text_right(v, ry, x, busy_w, w->busy && live ? K_OK : k, buf);
        x += busy_w + 1;
        s_text_right(v, ry, x, done_w, k, s_num(w->done, buf, sizeof buf));
        x += done_w + 1;
        s_text_right(v, ry, x, failed_w, w->failed && live ? K_BAD : k, s_num(w->failed, buf, sizeof buf));
        x += failed_w + 1;
        s_text_right(v, ry, x, rate_w, k, report_rate(w->rate, buf, sizeof buf));
        x += rate_w + 1;
        kind_t seen = !live ? K_DIM : w->last_seen_ms > 10000 ? K_BAD : w->last_seen_ms > 3000 ? K_WARN : k;
        s_text_right(v, ry, x, seen_w, seen, report_duration_ms(w->last_seen_ms, buf, sizeof buf));
        x += seen_w + 1;
        if (w->draining) {
            s_text(v, ry, x + 1, COLS - x - 1, K_WARN, "draining");
            x += 10;
        }
        //  handlers (processes up/busy/restarts, BROKEN) and labels, as room allows
        if ((w->n_handlers || w->n_labels) && x + 2 < COLS) {
            char handlers[512], labels[256], extra[800];
            report_worker_handlers(w, handlers, sizeof handlers);
            report_worker_labels(w, labels, sizeof labels);
            snprintf(extra, sizeof extra, "%s%s%s", handlers, handlers[0] && labels[0] ? "  " : "", labels);
            bool broken = strstr(handlers, "BROKEN") != NULL;
            s_text(v, ry, x + 1, COLS - x - 1, broken && live ? K_BAD : K_DIM, extra);
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
    s_rule(v, y, "Events", "");
    int rows = h - 1;
    size_t shown = s->n_events < (size_t) rows ? s->n_events : (size_t) rows;
    if (shown == 0) {
        if (rows > 0)
            s_text(v, y + 1, 2, COLS - 2, K_DIM, "none yet");
        return;
    }
    for (size_t i = 0; i < shown; i++) {
        const state_event_t *e = state_event(s, shown - 1 - i);
        int ry = y + 1 + (int) i;
        char ts[16], more[48];
        s_text(v, ry, 1, 8, K_DIM, s_clock(e->time_us, ts, sizeof ts));
        int x = 10;
        if (e->repeats) {
            snprintf(more, sizeof more, "%s%u ", v->utf8 ? "×" : "x", e->repeats + 1);
            x += s_text(v, ry, x, COLS - x, K_KEY, more);
        }
        s_text(v, ry, x, COLS - x, s_event_kind(e->kind), e->text);
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
        s_fit(v, j && j->name ? j->name : "", 30, name, sizeof name);
        snprintf(buf, sizeof buf, " Cancel job %u%s%s%s? Unfinished tasks end cancelled, running ones are aborted."
                 " [y/N] ", v->confirm_cancel, *name ? " \"" : "", name, *name ? "\"" : "");
        s_glyphs(v, y, 0, COLS, K_ALERT, " ", ' ');
        s_text(v, y, 0, COLS, K_ALERT, buf);
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
        x += s_text(v, y, x, COLS - x, K_KEY, key);
        x += s_text(v, y, x, COLS - x, K_DIM, " ");
        x += s_text(v, y, x, COLS - x, K_DIM, keys[i].what);
        x += 2;
    }
    if (message) {
        int w = COLS - x - 1;
        if (w > 10)
            s_text_right(v, y, x, w, s->message_bad ? K_BAD : K_OK, s->message);
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
        s_glyphs(v, y0 + r, x0, w, K_NORMAL, " ", ' ');
        s_glyphs(v, y0 + r, x0, 1, K_TITLE, "│", '|');
        s_glyphs(v, y0 + r, x0 + w - 1, 1, K_TITLE, "│", '|');
    }
    s_glyphs(v, y0, x0, w, K_TITLE, "─", '-');
    s_glyphs(v, y0 + h - 1, x0, w, K_TITLE, "─", '-');
    s_text(v, y0, x0 + 2, w - 4, K_TITLE, " shoal-monitor help ");
    for (int i = 0; i < n && i < h - 2; i++)
        s_text(v, y0 + 1 + i, x0 + 2, w - 4, i == 0 || i == 11 ? K_TITLE : K_NORMAL,
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
        s_text(v, 0, 0, COLS, K_WARN, buf);
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
    int want_detail = v->show_detail ? 1 + s_detail_lines(state_selected_job(s)) : 0;
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
        s_draw_jobs(v, s, live, y, jobs_h);
        y += jobs_h;
    }
    if (detail_h > 0) {
        s_draw_detail(v, s, live, y, detail_h, now_ms);
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
