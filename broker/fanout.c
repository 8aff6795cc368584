/*  fanout — ok results whose next step has more children than the loop
    renders in one turn (docs/pipelines.md, "Fan-out in slices").

    A listing page's result can create up to max_each (100,000) children,
    and one drain of the backend can read hundreds of such results: all
    rendered at once, the loop froze for seconds (workers judged silent,
    the leadership lease renewed late). So each turn has a budget of
    FANOUT_TURN_CHILDREN children. A result whose children fit in what is
    left of it is recorded at once, as before; any other waits here, FIFO,
    and each turn renders the next slice of the oldest. Once all of a
    result's children are rendered, they and the result row go into the
    filling batch together (outcome_fanned_out): one transaction still
    stores a step's result and its children, or neither.

    Meanwhile the result is not acked: a crash loses nothing (the worker
    still holds it), and a resend of it is a duplicate (the task, detached
    in memory, carries its lease as answered). While more than
    FANOUT_BACKLOG_CHILDREN children wait here or in the batches not yet
    committed, no work is handed out (dispatch.c), which bounds both. */
#include "broker.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

//  One result waiting for its children to be rendered.
typedef struct {
    pipeline_fanout_t *fanout;  //  its children (owned)
    fanout_result_t    result;  //  what outcome_fanned_out needs (owned strings and bytes)
} fanout_entry_t;

static void
s_entry_destroy(fanout_entry_t **entry_p)
{
    fanout_entry_t *entry = *entry_p;
    if (!entry)
        return;
    pipeline_fanout_destroy(&entry->fanout);
    free(entry->result.packed);
    free(entry->result.worker);
    free(entry);
    *entry_p = NULL;
}

void
fanout_turn_start(server_t *self)
{
    self->fanout_budget = FANOUT_TURN_CHILDREN;
}

bool
fanout_take(server_t *self, size_t n)
{
    if ((self->fanouts && zlist_size(self->fanouts)) || n > self->fanout_budget)
        return false;
    self->fanout_budget -= n;
    return true;
}

int
fanout_defer(server_t *self, pipeline_fanout_t **fanout_p, const fanout_result_t *result,
             const Shoal__Result *r)
{
    if (!self->fanouts && !(self->fanouts = zlist_new()))
        return -1;
    fanout_entry_t *entry = calloc(1, sizeof *entry);
    if (!entry)
        return -1;
    entry->result = *result;
    entry->result.packed_len = shoal__result__get_packed_size(r);
    entry->result.packed = malloc(entry->result.packed_len ? entry->result.packed_len : 1);
    entry->result.worker = result->worker ? strdup(result->worker) : NULL;
    if (!entry->result.packed || (result->worker && !entry->result.worker)
    ||  zlist_append(self->fanouts, entry) != 0) {
        s_entry_destroy(&entry);
        return -1;
    }
    shoal__result__pack(r, entry->result.packed);
    entry->fanout = *fanout_p;
    *fanout_p = NULL;
    self->fanout_waiting += pipeline_fanout_left(entry->fanout);
    return 0;
}

//  The head entry is rendered (ok) or cannot be (error): record it.
static void
s_finish(server_t *self, fanout_entry_t *entry, bool ok, const char *error)
{
    Shoal__Result *r = shoal__result__unpack(NULL, entry->result.packed_len, entry->result.packed);
    if (!r) {
        //  cannot happen (we packed it); the worker resends it to the next run
        log_error("out_of_memory", "detail=\"a pipeline result waiting for its children\"");
        return;
    }
    outcome_fanned_out(self, &entry->result, r, &entry->fanout, ok, error);
    shoal__result__free_unpacked(r, NULL);
}

void
fanout_run(server_t *self)
{
    fanout_entry_t *entry;
    while (self->fanouts && self->fanout_budget > 0 && (entry = zlist_first(self->fanouts))) {
        job_t *job = job_lookup(self, entry->result.job_id);
        size_t left = pipeline_fanout_left(entry->fanout);
        size_t slice = left < self->fanout_budget ? left : self->fanout_budget;
        char error[512] = "";
        bool failed = !job || pipeline_fanout_render(entry->fanout, job, slice, error, sizeof error) != 0;
        size_t done = left - pipeline_fanout_left(entry->fanout);
        self->fanout_budget -= done < slice ? slice : done;
        if (!failed && pipeline_fanout_left(entry->fanout) > 0) {
            self->fanout_waiting -= done;
            continue;       //  the budget is spent: the next slice next turn
        }
        self->fanout_waiting -= left;
        zlist_remove(self->fanouts, entry);
        s_finish(self, entry, !failed, error);
        s_entry_destroy(&entry);
    }
}

size_t
fanout_pending(const server_t *self)
{
    return self->fanouts ? zlist_size(self->fanouts) : 0;
}

bool
fanout_backlogged(const server_t *self)
{
    //  children rendered but not committed count too: with rendering cheap
    //  the writer is what lags, and a filling batch took 941 listing
    //  results and their 236,000 children (180 MB) while the one before
    //  it committed
    size_t n = self->fanout_waiting;
    if (self->filling)
        n += self->filling->req->write.child_rows.rows;
    if (self->flushing)
        n += self->flushing->req->write.child_rows.rows;
    return n > FANOUT_BACKLOG_CHILDREN;
}

void
fanout_destroy_all(server_t *self)
{
    fanout_entry_t *entry;
    while (self->fanouts && (entry = zlist_pop(self->fanouts)))
        s_entry_destroy(&entry);
    zlist_destroy(&self->fanouts);
    self->fanout_waiting = 0;
}
