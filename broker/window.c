/*  window — see window.h. */
#include "window.h"

#define CAREFUL_PAGES 8     //  a careful page scans at most this many pages' worth of seqs

bool
window_wants_page(size_t window, size_t n_queued, size_t in_memory)
{
    return n_queued < window / 2 && in_memory < window * 2;
}

window_plan_t
window_plan(size_t window, size_t n_queued, int64_t cursor, int64_t frontier)
{
    window_plan_t plan;
    plan.count = (uint32_t) (window - n_queued);
    plan.full = cursor < frontier;
    plan.upto = frontier;
    if (plan.full && plan.upto > cursor + CAREFUL_PAGES * (int64_t) plan.count)
        plan.upto = cursor + CAREFUL_PAGES * (int64_t) plan.count;
    return plan;
}

int64_t
window_cursor_after(const window_page_t *page, int64_t cursor, uint64_t n_tasks_now, bool *more)
{
    int64_t last = page->rows ? page->last_seq : cursor;
    int64_t next;
    if (page->rows >= page->count)
        next = last;                //  a full page: more may follow
    else
    if (page->full)
        next = page->upto > last ? page->upto : last;
    else {
        //  everything committed when the page was asked for is in memory
        //  or finished; only tasks committed since can be new
        int64_t seen = page->n_tasks_then - 1;
        next = last > seen ? last : seen;
        *more = (int64_t) n_tasks_now > page->n_tasks_then;
    }
    return next > cursor ? next : cursor;
}

bool
window_chunk_fits(size_t window, size_t n_queued, int64_t cursor, int64_t frontier,
                  uint64_t first_seq, size_t n_rows)
{
    return n_rows > 0 && cursor == (int64_t) first_seq - 1 && cursor >= frontier
        && n_queued + n_rows <= window;
}
