/*  window — the paging window's arithmetic: when a job asks for more
    tasks, how many, through which store, and where its cursor goes.

    The broker holds only a window of each job's unfinished tasks. When a
    job's queue runs below half the window it asks for the next page (tasks
    after its cursor that have no result). Up to the frontier some tasks may
    be finished or tried: such a page goes through the writer, after every
    result it holds, over a bounded range (8 pages' worth) that keeps the
    query cheap. Past the frontier no task was ever handed out: a plain
    range scan on the pager. Pure functions: tests/unit/test_window.c. */
#ifndef SHOAL_WINDOW_H
#define SHOAL_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  A page to ask for.
typedef struct {
    uint32_t count;     //  tasks wanted
    bool     full;      //  careful page (through the writer, skips finished tasks)
    int64_t  upto;      //  a careful page looks no further than this seq
} window_plan_t;

//  A page that came back.
typedef struct {
    uint32_t count;         //  tasks asked for
    size_t   rows;          //  tasks returned
    int64_t  last_seq;      //  seq of the last one (when rows > 0)
    bool     full;          //  as asked
    int64_t  upto;
    int64_t  n_tasks_then;  //  the job's committed tasks when it was asked for
} window_page_t;

//  True when a job with n_queued queued tasks and in_memory tasks in
//  memory at all should ask for a page.
bool window_wants_page(size_t window, size_t n_queued, size_t in_memory);
//  The page to ask for after `cursor` with the job's frontier.
window_plan_t window_plan(size_t window, size_t n_queued, int64_t cursor, int64_t frontier);
//  The cursor after a page; *more says whether the store may hold
//  unfinished tasks past it (left alone when the page cannot tell).
int64_t window_cursor_after(const window_page_t *page, int64_t cursor, uint64_t n_tasks_now, bool *more);
//  True when a committed chunk of n_rows tasks starting at first_seq can
//  go straight into memory (it continues the cursor, past the frontier,
//  and fits the window).
bool window_chunk_fits(size_t window, size_t n_queued, int64_t cursor, int64_t frontier,
                       uint64_t first_seq, size_t n_rows);

#endif
