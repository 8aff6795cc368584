/*  view_cells — what the monitor's panes are drawn with (view.c,
    view_jobs.c): kinds of text and their attributes, text clipped to a
    width in screen columns, glyphs with an ASCII fallback, rules, label /
    value pairs, and the small formatters the panes share. */
#ifndef SHOAL_MONITOR_VIEW_CELLS_H
#define SHOAL_MONITOR_VIEW_CELLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <ncurses.h>

#include "monitor.h"

//  What a piece of text means; its attributes depend on NO_COLOR.
typedef enum { K_NORMAL, K_OK, K_BAD, K_WARN, K_TITLE, K_DIM, K_KEY, K_ALERT } kind_t;

enum { PAIR_OK = 1, PAIR_BAD, PAIR_WARN, PAIR_TITLE, PAIR_ALERT };

//  One "label value" of a line of pairs.
typedef struct {
    const char *label;
    const char *value;
    kind_t      kind;
} pair_t;

//  The attributes for a kind of text, with or without colours.
attr_t vc_attr(const view_t *v, kind_t kind);
//  Copy the longest prefix of text that fits in `cols` screen columns into
//  out, with unprintable characters as '?'. Returns the columns it takes.
int vc_fit(const view_t *v, const char *text, int cols, char *out, size_t size);
//  Draw text at (y, x) in at most w columns; returns the columns used.
int vc_text(const view_t *v, int y, int x, int w, kind_t kind, const char *text);
//  The same, right-aligned so the text ends at column x + w.
void vc_text_right(const view_t *v, int y, int x, int w, kind_t kind, const char *text);
//  Draw a glyph (UTF-8 or ASCII per the locale) n times.
void vc_glyphs(const view_t *v, int y, int x, int n, kind_t kind, const char *utf8, char ascii);
//  "── Title ─────" across the screen.
void vc_rule(const view_t *v, int y, const char *title, const char *extra);
//  label value   label value ... in one line; returns the column after.
int vc_pairs(const view_t *v, int y, int x, int w, const pair_t *pairs, size_t n);
//  A wall time as HH:MM:SS, local time.
const char *vc_clock(int64_t time_us, char *buf, size_t size);
//  12,345,678.
const char *vc_num(uint64_t n, char *buf, size_t size);
//  The job will not change any more.
bool vc_finished(const Shoal__JobInfo *j);
//  How a job's state is shown.
kind_t vc_state_kind(const Shoal__JobInfo *j);

//  view_jobs.c: the jobs table, and the selected job's detail pane (and
//  the rows it wants).
void view_draw_jobs(view_t *v, const state_t *s, bool live, int y, int h);
int view_detail_lines(const Shoal__JobInfo *j);
void view_draw_detail(view_t *v, const state_t *s, bool live, int y, int h, int64_t now_ms);

#endif
