/*  test_fence — the verdict on a result's lease (broker/fence.c). */
#include "check.h"
#include "fence.h"
#include "lease.h"

//  A task leased now under lease (epoch 9, counter 100) in a job of 10 tasks
//  on the database tagged 777.
static fence_input_t
s_base(void)
{
    fence_input_t in = {
        .lease = lease_make(777, 9, 100), .seq = 3, .epoch = 9, .lease_tag = 777,
        .job_known = true, .job_tasks = 10,
        .task_known = true, .task_leased = true, .task_lease = lease_make(777, 9, 100),
        .answered = 0,
    };
    return in;
}

int
main(void)
{
    fence_input_t in = s_base();
    CHECK(fence_judge(&in) == FENCE_CURRENT);

    //  bad: no broker issued it, or the task does not exist
    in = s_base(); in.lease = 77;
    CHECK(fence_judge(&in) == FENCE_BAD);
    in = s_base(); in.seq = 10; in.task_known = false;
    CHECK(fence_judge(&in) == FENCE_BAD);

    //  duplicate: the result of this lease was taken already
    in = s_base(); in.answered = in.lease; in.task_leased = false;
    CHECK(fence_judge(&in) == FENCE_DUPLICATE);
    in = s_base(); in.task_known = false; in.task_leased = false; in.answered = in.lease;
    CHECK(fence_judge(&in) == FENCE_DUPLICATE);
    //  ... another lease's answer is no duplicate
    in = s_base(); in.answered = lease_make(777, 9, 1);
    CHECK(fence_judge(&in) == FENCE_CURRENT);

    //  stale: this run replaced the lease
    in = s_base(); in.task_lease = lease_make(777, 9, 101);
    CHECK(fence_judge(&in) == FENCE_STALE);
    in = s_base(); in.task_leased = false;
    CHECK(fence_judge(&in) == FENCE_STALE);

    //  recovered: an earlier run on this database, task in memory or below the count
    in = s_base(); in.lease = lease_make(777, 8, 5); in.task_leased = false;
    CHECK(fence_judge(&in) == FENCE_RECOVERED);
    in = s_base(); in.lease = lease_make(777, 5, 5); in.task_known = false; in.task_leased = false;
    CHECK(fence_judge(&in) == FENCE_RECOVERED);
    //  ... while the task runs again here: still the earlier run's result
    in = s_base(); in.lease = lease_make(777, 7, 5);
    CHECK(fence_judge(&in) == FENCE_RECOVERED);
    //  ... but not for a job we do not know (finished and forgotten)
    in = s_base(); in.lease = lease_make(777, 8, 5); in.job_known = false; in.task_known = false;
    in.task_leased = false;
    CHECK(fence_judge(&in) == FENCE_STALE);

    //  a later epoch than ours, or another database's lease (another tag)
    in = s_base(); in.lease = lease_make(777, 12, 5); in.task_leased = false;
    CHECK(fence_judge(&in) == FENCE_STALE);
    in = s_base(); in.lease = lease_make(778, 8, 5); in.task_leased = false;
    CHECK(fence_judge(&in) == FENCE_STALE);
    in = s_base(); in.lease = lease_make(0, 8, 5); in.task_leased = false;
    CHECK(fence_judge(&in) == FENCE_STALE);

    CHECK_STR(fence_name(FENCE_RECOVERED), "recovered");
    CHECK_STR(fence_name(FENCE_BAD), "bad");
    return check_result("test_fence");
}
