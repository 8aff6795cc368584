/*  test_window — the paging window's arithmetic (broker/window.c). */
#include "check.h"
#include "window.h"

int
main(void)
{
    //  ask when the queue is below half the window, unless memory is full
    CHECK(window_wants_page(100, 0, 0));
    CHECK(window_wants_page(100, 49, 60));
    CHECK(!window_wants_page(100, 50, 50));
    CHECK(!window_wants_page(100, 10, 200));

    //  past the frontier: a plain page on the pager for what the window lacks
    window_plan_t plan = window_plan(100, 30, 499, 200);
    CHECK(plan.count == 70);
    CHECK(!plan.full);
    //  below the frontier: careful, bounded to 8 pages' worth of seqs
    plan = window_plan(100, 0, -1, 5000);
    CHECK(plan.full);
    CHECK(plan.count == 100);
    CHECK(plan.upto == -1 + 800);
    plan = window_plan(100, 0, 99, 150);
    CHECK(plan.full && plan.upto == 150);

    bool more = true;
    //  a full page: the cursor goes to its last row
    window_page_t page = { .count = 100, .rows = 100, .last_seq = 349, .full = false, .n_tasks_then = 1000 };
    CHECK(window_cursor_after(&page, 249, 1000, &more) == 349);
    CHECK(more);
    //  a short careful page: everything up to its bound was seen
    page = (window_page_t) { .count = 100, .rows = 3, .last_seq = 20, .full = true, .upto = 799 };
    CHECK(window_cursor_after(&page, -1, 1000, &more) == 799);
    CHECK(more);
    //  a short plain page: everything committed then was seen; more only if tasks came since
    page = (window_page_t) { .count = 100, .rows = 5, .last_seq = 995, .full = false, .n_tasks_then = 1000 };
    CHECK(window_cursor_after(&page, 900, 1000, &more) == 999);
    CHECK(!more);
    more = false;
    CHECK(window_cursor_after(&page, 900, 1200, &more) == 999);
    CHECK(more);
    //  an empty plain page of an empty job
    page = (window_page_t) { .count = 100, .rows = 0, .full = false, .n_tasks_then = 0 };
    CHECK(window_cursor_after(&page, -1, 0, &more) == -1);
    CHECK(!more);
    //  the cursor never goes back
    page = (window_page_t) { .count = 100, .rows = 1, .last_seq = 10, .full = false, .n_tasks_then = 5 };
    CHECK(window_cursor_after(&page, 50, 5, &more) == 50);

    //  a committed chunk goes straight in when it continues the cursor past the frontier
    CHECK(window_chunk_fits(100, 0, 99, 50, 100, 50));
    CHECK(!window_chunk_fits(100, 0, 99, 50, 101, 50));    //  a gap
    CHECK(!window_chunk_fits(100, 0, 99, 150, 100, 50));   //  below the frontier
    CHECK(!window_chunk_fits(100, 60, 99, 50, 100, 50));   //  does not fit
    CHECK(!window_chunk_fits(100, 0, 99, 50, 100, 0));     //  empty
    return check_result("test_window");
}
