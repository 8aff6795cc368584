/*  fence — see fence.h. */
#include "fence.h"

#include "lease.h"

//  The job has a task with this seq: submitted, or created by a step.
static bool
s_seq_exists(const fence_input_t *in)
{
    return in->seq < in->job_tasks
        || (in->job_child_top && in->seq >= FENCE_CHILD_BASE && in->seq <= in->job_child_top);
}

fence_t
fence_judge(const fence_input_t *in)
{
    if (!lease_valid(in->lease) || (in->job_known && !s_seq_exists(in)))
        return FENCE_BAD;
    //  a result we already took, sent again (an ack overdue, a reconnect)
    if (in->answered && in->answered == in->lease)
        return FENCE_DUPLICATE;
    if (in->task_known && in->task_leased && in->task_lease == in->lease)
        return FENCE_CURRENT;
    //  a task not in memory must be below its job's committed count
    bool exists = in->task_known || (in->job_known && s_seq_exists(in));
    if (exists && lease_earlier_run(in->lease, in->lease_tag, in->epoch))
        return FENCE_RECOVERED;
    //  a lease this run replaced (the worker was declared lost, the lease
    //  expired), or one no run on this database issued
    return FENCE_STALE;
}

const char *
fence_name(fence_t verdict)
{
    switch (verdict) {
        case FENCE_BAD:       return "bad";
        case FENCE_DUPLICATE: return "duplicate";
        case FENCE_STALE:     return "stale";
        case FENCE_CURRENT:   return "current";
        case FENCE_RECOVERED: return "recovered";
    }
    return "?";
}
