/*  view_cells — see view_cells.h. */
#define _XOPEN_SOURCE_EXTENDED 1
#include "view_cells.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "text.h"
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
attr_t
vc_attr(const view_t *v, kind_t kind)
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
int
vc_fit(const view_t *v, const char *text, int cols, char *out, size_t size)
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
int
vc_text(const view_t *v, int y, int x, int w, kind_t kind, const char *text)
{
    if (y < 0 || y >= LINES || x >= COLS || w <= 0)
        return 0;
    if (x + w > COLS)
        w = COLS - x;
    char buf[1024];
    int used = vc_fit(v, text, w, buf, sizeof buf);
    attr_t a = vc_attr(v, kind);
    attron(a);
    mvaddstr(y, x, buf);
    attroff(a);
    return used;
}

//  The same, right-aligned so the text ends at column x + w.
void
vc_text_right(const view_t *v, int y, int x, int w, kind_t kind, const char *text)
{
    char buf[1024];
    int used = vc_fit(v, text, w, buf, sizeof buf);
    vc_text(v, y, x + w - used, used, kind, buf);
}

//  Draw a glyph (UTF-8 or ASCII per the locale) n times.
void
vc_glyphs(const view_t *v, int y, int x, int n, kind_t kind, const char *utf8, char ascii)
{
    if (y < 0 || y >= LINES || n <= 0)
        return;
    if (x + n > COLS)
        n = COLS - x;
    attr_t a = vc_attr(v, kind);
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
void
vc_rule(const view_t *v, int y, const char *title, const char *extra)
{
    vc_glyphs(v, y, 0, COLS, K_DIM, "─", '-');
    int x = 3;
    x += vc_text(v, y, x, COLS - x, K_TITLE, " ");
    x += vc_text(v, y, x, COLS - x, K_TITLE, title);
    x += vc_text(v, y, x, COLS - x, K_TITLE, " ");
    if (extra && *extra) {
        x += vc_text(v, y, x, COLS - x, K_DIM, extra);
        vc_text(v, y, x, COLS - x, K_DIM, " ");
    }
}

int
vc_pairs(const view_t *v, int y, int x, int w, const pair_t *pairs, size_t n)
{
    int end = x + w;
    for (size_t i = 0; i < n && x < end; i++) {
        if (!pairs[i].value)
            continue;
        if (pairs[i].label && *pairs[i].label) {
            x += vc_text(v, y, x, end - x, K_DIM, pairs[i].label);
            x += vc_text(v, y, x, end - x, K_DIM, " ");
        }
        x += vc_text(v, y, x, end - x, pairs[i].kind, pairs[i].value);
        x += 3;
    }
    return x;
}

//  A wall time as HH:MM:SS, local time.
const char *
vc_clock(int64_t time_us, char *buf, size_t size)
{
    time_t t = (time_t) (time_us / 1000000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, size, "%H:%M:%S", &tm);
    return buf;
}

//  12,345,678.
const char *
vc_num(uint64_t n, char *buf, size_t size)
{
    return text_thousands((unsigned long long) n, buf, size);
}

//  The job will not change any more.
bool
vc_finished(const Shoal__JobInfo *j)
{
    return j->state == SHOAL__JOB_STATE__JOB_DONE || j->state == SHOAL__JOB_STATE__JOB_CANCELLED;
}

//  How a job's state is shown.
kind_t
vc_state_kind(const Shoal__JobInfo *j)
{
    switch (j->state) {
        case SHOAL__JOB_STATE__JOB_ACTIVE:    return K_OK;
        case SHOAL__JOB_STATE__JOB_PAUSED:    return K_WARN;
        case SHOAL__JOB_STATE__JOB_CANCELLED: return K_BAD;
        default:                              return K_NORMAL;
    }
}
