/*  report — see report.h. */
#include "report.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "taskspec.h"
#include "text.h"

const char *
report_state_name(Shoal__JobState state)
{
    switch (state) {
        case SHOAL__JOB_STATE__JOB_ACTIVE:    return "active";
        case SHOAL__JOB_STATE__JOB_PAUSED:    return "paused";
        case SHOAL__JOB_STATE__JOB_DONE:      return "done";
        case SHOAL__JOB_STATE__JOB_CANCELLED: return "cancelled";
        default: return "unknown";
    }
}

static json_t *
s_counts(Shoal__Count **counts, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(counts[i]->name ? counts[i]->name : ""));
        json_object_set_new(o, "count", json_integer((json_int_t) counts[i]->count));
        json_array_append_new(arr, o);
    }
    return arr;
}

json_t *
report_job_json(const Shoal__JobInfo *j)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(j->id));
    json_object_set_new(o, "name", json_string(j->name ? j->name : ""));
    if (j->key)
        json_object_set_new(o, "key", json_string(j->key));
    json_object_set_new(o, "state", json_string(report_state_name(j->state)));
    json_object_set_new(o, "priority", json_integer(j->priority));
    json_object_set_new(o, "sealed", json_boolean(j->sealed));
    json_object_set_new(o, "total", json_integer((json_int_t) j->total));
    json_object_set_new(o, "queued", json_integer((json_int_t) j->queued));
    json_object_set_new(o, "running", json_integer((json_int_t) j->running));
    json_object_set_new(o, "ok", json_integer((json_int_t) j->ok));
    json_object_set_new(o, "failed", json_integer((json_int_t) j->failed));
    json_object_set_new(o, "cancelled", json_integer((json_int_t) j->cancelled));
    json_object_set_new(o, "retries", json_integer((json_int_t) j->retries));
    json_object_set_new(o, "retry_wait", json_integer((json_int_t) j->retry_wait));
    json_object_set_new(o, "stale", json_integer((json_int_t) j->stale));
    json_object_set_new(o, "duplicate", json_integer((json_int_t) j->duplicate));
    json_object_set_new(o, "rate", json_real(j->rate));
    json_object_set_new(o, "eta_ms", json_integer(j->eta_ms));
    json_object_set_new(o, "p50_us", json_integer((json_int_t) j->p50_us));
    json_object_set_new(o, "p95_us", json_integer((json_int_t) j->p95_us));
    json_object_set_new(o, "p99_us", json_integer((json_int_t) j->p99_us));
    json_object_set_new(o, "created_us", json_integer(j->created_us));
    if (j->has_finished_us && j->finished_us)
        json_object_set_new(o, "finished_us", json_integer(j->finished_us));
    if (j->updated_us) {
        json_object_set_new(o, "updated_us", json_integer(j->updated_us));
        json_object_set_new(o, "last_update", json_string(j->last_update ? j->last_update : ""));
    }
    if (j->n_http_class == 6) {
        json_t *h = json_object();
        static const char *names[] = { "none", "1xx", "2xx", "3xx", "4xx", "5xx" };
        for (int i = 0; i < 6; i++)
            json_object_set_new(h, names[i], json_integer((json_int_t) j->http_class[i]));
        json_object_set_new(o, "http_status", h);
    }
    json_object_set_new(o, "top_failing_hosts", s_counts(j->top_hosts, j->n_top_hosts));
    json_object_set_new(o, "top_errors", s_counts(j->top_errors, j->n_top_errors));
    json_t *held = json_array();
    for (size_t i = 0; i < j->n_held_hosts; i++) {
        json_t *h = json_object();
        json_object_set_new(h, "host", json_string(j->held_hosts[i]->host ? j->held_hosts[i]->host : ""));
        json_object_set_new(h, "until_us", json_integer(j->held_hosts[i]->until_us));
        json_array_append_new(held, h);
    }
    json_object_set_new(o, "held_hosts", held);
    if (j->n_waiting)
        json_object_set_new(o, "waiting", s_counts(j->waiting, j->n_waiting));
    if (j->has_failed_total)
        json_object_set_new(o, "failed_total", json_integer((json_int_t) j->failed_total));
    if (j->n_steps) {
        json_t *steps = json_array();
        for (size_t i = 0; i < j->n_steps; i++) {
            const Shoal__StepInfo *s = j->steps[i];
            json_t *x = json_object();
            json_object_set_new(x, "name", json_string(s->name ? s->name : ""));
            if (s->each)
                json_object_set_new(x, "each", json_string(s->each));
            json_object_set_new(x, "tasks", json_integer((json_int_t) s->tasks));
            json_object_set_new(x, "ok", json_integer((json_int_t) s->ok));
            json_object_set_new(x, "failed", json_integer((json_int_t) s->failed));
            json_object_set_new(x, "cancelled", json_integer((json_int_t) s->cancelled));
            json_object_set_new(x, "pending", json_integer((json_int_t) report_step_pending(s)));
            json_array_append_new(steps, x);
        }
        json_object_set_new(o, "steps", steps);
    }
    if (j->items) {
        const Shoal__ItemsInfo *it = j->items;
        json_t *x = json_object();
        uint64_t known = it->complete + it->failed + it->cancelled + it->running;
        json_object_set_new(x, "total", json_integer((json_int_t) it->total));
        json_object_set_new(x, "complete", json_integer((json_int_t) it->complete));
        json_object_set_new(x, "failed", json_integer((json_int_t) it->failed));
        json_object_set_new(x, "cancelled", json_integer((json_int_t) it->cancelled));
        json_object_set_new(x, "running", json_integer((json_int_t) it->running));
        json_object_set_new(x, "waiting", json_integer((json_int_t) (it->total > known ? it->total - known : 0)));
        if (it->has_rate)
            json_object_set_new(x, "rate", json_real(it->rate));
        json_object_set_new(x, "eta_ms", json_integer(it->eta_ms));
        json_object_set_new(o, "items", x);
    }
    return o;
}

uint64_t
report_step_pending(const Shoal__StepInfo *s)
{
    uint64_t done = s->ok + s->failed + s->cancelled;
    return s->tasks > done ? s->tasks - done : 0;
}

const char *
report_worker_labels(const Shoal__WorkerInfo *w, char *buf, size_t size)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < w->n_labels && o + 1 < size; i++) {
        int n = snprintf(buf + o, size - o, "%s%s=%s", i ? "," : "", w->labels[i]->key ? w->labels[i]->key : "",
                         w->labels[i]->value ? w->labels[i]->value : "");
        if (n < 0)
            break;
        o += (size_t) n;
    }
    return buf;
}

const char *
report_worker_handlers(const Shoal__WorkerInfo *w, char *buf, size_t size)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < w->n_handlers && o + 1 < size; i++) {
        const Shoal__HandlerInfo *h = w->handlers[i];
        int n = snprintf(buf + o, size - o, "%s%s %u/%u up %u busy %llu restarts%s", i ? ", " : "",
                         h->name ? h->name : "", h->up, h->procs, h->busy, (unsigned long long) h->restarts,
                         h->broken ? " BROKEN" : "");
        if (n < 0)
            break;
        o += (size_t) n;
    }
    return buf;
}

json_t *
report_worker_json(const Shoal__WorkerInfo *w)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(w->id ? w->id : ""));
    json_object_set_new(o, "host", json_string(w->host ? w->host : ""));
    json_object_set_new(o, "pid", json_integer(w->pid));
    json_object_set_new(o, "version", json_string(w->version ? w->version : ""));
    json_object_set_new(o, "slots", json_integer(w->slots));
    json_object_set_new(o, "busy", json_integer(w->busy));
    json_object_set_new(o, "done", json_integer((json_int_t) w->done));
    json_object_set_new(o, "failed", json_integer((json_int_t) w->failed));
    json_object_set_new(o, "rate", json_real(w->rate));
    json_object_set_new(o, "last_seen_ms", json_integer(w->last_seen_ms));
    json_object_set_new(o, "draining", json_boolean(w->draining));
    json_t *kinds = json_array();
    for (size_t i = 0; i < w->n_kinds; i++)
        json_array_append_new(kinds, json_string(taskspec_kind_name(w->kinds[i])));
    json_object_set_new(o, "kinds", kinds);
    json_t *labels = json_object();
    for (size_t i = 0; i < w->n_labels; i++)
        if (w->labels[i]->key)
            json_object_set_new(labels, w->labels[i]->key, json_string(w->labels[i]->value ? w->labels[i]->value : ""));
    json_object_set_new(o, "labels", labels);
    json_t *handlers = json_array();
    for (size_t i = 0; i < w->n_handlers; i++) {
        const Shoal__HandlerInfo *h = w->handlers[i];
        json_array_append_new(handlers, json_pack("{s:s, s:i, s:i, s:i, s:I, s:I, s:b}", "name",
                                                  h->name ? h->name : "", "procs", (int) h->procs, "up", (int) h->up,
                                                  "busy", (int) h->busy, "restarts", (json_int_t) h->restarts,
                                                  "served", (json_int_t) h->served, "broken", (int) h->broken));
    }
    json_object_set_new(o, "handlers", handlers);
    return o;
}

json_t *
report_leader_json(const Shoal__LeaderInfo *l)
{
    json_t *o = json_object();
    if (!l)
        return o;
    json_object_set_new(o, "broker", json_string(l->broker_id ? l->broker_id : ""));
    json_object_set_new(o, "role", json_string(l->role ? l->role : ""));
    json_object_set_new(o, "term", json_integer((json_int_t) l->term));
    json_object_set_new(o, "since_us", json_integer(l->since_us));
    json_object_set_new(o, "previous", json_string(l->previous ? l->previous : ""));
    return o;
}

const char *
report_leader_line(const Shoal__LeaderInfo *l, char *buf, size_t size)
{
    if (!l) {
        snprintf(buf, size, "leader unknown (an older broker)");
        return buf;
    }
    time_t t = (time_t) (l->since_us / 1000000);
    struct tm tm;
    char when[32] = "?";
    if (localtime_r(&t, &tm))
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(buf, size, "broker %s  role %s  term %llu  since %s%s%s", l->broker_id ? l->broker_id : "?",
             l->role ? l->role : "?", (unsigned long long) l->term, when,
             l->previous && *l->previous ? "  after " : "", l->previous && *l->previous ? l->previous : "");
    return buf;
}

json_t *
report_cluster_json(const Shoal__ClusterInfo *c)
{
    json_t *o = json_object();
    if (!c)
        return o;
    json_object_set_new(o, "broker", json_string(c->broker_id ? c->broker_id : ""));
    json_object_set_new(o, "epoch", json_integer((json_int_t) c->epoch));
    json_object_set_new(o, "uptime_ms", json_integer(c->uptime_ms));
    json_object_set_new(o, "workers", json_integer(c->workers));
    json_object_set_new(o, "slots", json_integer(c->slots));
    json_object_set_new(o, "in_flight", json_integer(c->in_flight));
    json_object_set_new(o, "rate", json_real(c->rate));
    json_object_set_new(o, "db_up", json_boolean(c->db_up));
    json_object_set_new(o, "db_lag_ms", json_integer(c->db_lag_ms));
    json_object_set_new(o, "results_held", json_integer((json_int_t) c->results_held));
    json_object_set_new(o, "bad_messages", json_integer((json_int_t) c->bad_messages));
    json_object_set_new(o, "stale_total", json_integer((json_int_t) c->stale_total));
    json_object_set_new(o, "lost_workers", json_integer((json_int_t) c->lost_workers));
    json_object_set_new(o, "handshake_failures", json_integer((json_int_t) c->handshake_failures));
    if (c->leader)
        json_object_set_new(o, "leader", report_leader_json(c->leader));
    return o;
}

json_t *
report_snapshot_json(const Shoal__Snapshot *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "seq", json_integer((json_int_t) s->seq));
    json_object_set_new(o, "time_us", json_integer(s->time_us));
    json_object_set_new(o, "cluster", report_cluster_json(s->cluster));
    json_t *jobs = json_array();
    for (size_t i = 0; i < s->n_jobs; i++)
        json_array_append_new(jobs, report_job_json(s->jobs[i]));
    json_object_set_new(o, "jobs", jobs);
    json_t *workers = json_array();
    for (size_t i = 0; i < s->n_workers; i++)
        json_array_append_new(workers, report_worker_json(s->workers[i]));
    json_object_set_new(o, "workers", workers);
    return o;
}

json_t *
report_event_json(const Shoal__Event *e)
{
    static const char *types[] = { "none", "worker_joined", "worker_lost", "worker_left",
                                   "job_finished", "task_failed", "job_control", "db_down", "db_up",
                                   "leader" };
    json_t *o = json_object();
    json_object_set_new(o, "event", json_string(e->type < 10 ? types[e->type] : "unknown"));
    json_object_set_new(o, "time_us", json_integer(e->time_us));
    if (e->has_job_id)
        json_object_set_new(o, "job", json_integer(e->job_id));
    if (e->worker_id)
        json_object_set_new(o, "worker", json_string(e->worker_id));
    json_object_set_new(o, "count", json_integer((json_int_t) e->count));
    json_object_set_new(o, "message", json_string(e->message ? e->message : ""));
    return o;
}

static json_t *
s_bytes_json(const ProtobufCBinaryData *b)
{
    if (text_utf8_valid((const char *) b->data, b->len))
        return json_stringn((const char *) b->data, b->len);
    size_t cap = 4 * ((b->len + 2) / 3) + 1;
    char *out = malloc(cap);
    if (!out)
        return json_null();
    EVP_EncodeBlock((unsigned char *) out, b->data, (int) b->len);
    json_t *o = json_object();
    json_object_set_new(o, "base64", json_string(out));
    free(out);
    return o;
}

json_t *
report_result_json(const Shoal__ResultRow *row, uint32_t job_id)
{
    json_t *o = json_object();
    const Shoal__Result *r = row->result;
    json_object_set_new(o, "job", json_integer(job_id));
    json_object_set_new(o, "seq", json_integer(row->seq));
    json_object_set_new(o, "outcome", json_string(row->outcome ? row->outcome : ""));
    json_object_set_new(o, "attempt", json_integer(row->attempt));
    if (row->target)
        json_object_set_new(o, "target", json_string(row->target));
    if (row->tag)
        json_object_set_new(o, "tag", json_string(row->tag));
    if (row->worker)
        json_object_set_new(o, "worker", json_string(row->worker));
    if (r && r->error)
        json_object_set_new(o, "error", json_string(r->error));
    if (r && r->has_started_us)
        json_object_set_new(o, "started_us", json_integer(r->started_us));
    if (r && r->has_finished_us)
        json_object_set_new(o, "finished_us", json_integer(r->finished_us));
    //  a handler's output, as the JSON it is
    if (r && r->handler && r->handler->output) {
        json_t *out = json_loads(r->handler->output, JSON_DECODE_ANY, NULL);
        if (out)
            json_object_set_new(o, "output", out);
    }
    const Shoal__HttpResult *h = r ? r->http : NULL;
    if (h) {
        json_t *hj = json_object();
        if (h->has_status)
            json_object_set_new(hj, "status", json_integer(h->status));
        if (h->final_url)
            json_object_set_new(hj, "final_url", json_string(h->final_url));
        if (h->has_bytes)
            json_object_set_new(hj, "bytes", json_integer((json_int_t) h->bytes));
        if (h->sha256)
            json_object_set_new(hj, "sha256", json_string(h->sha256));
        if (h->body_path)
            json_object_set_new(hj, "body_path", json_string(h->body_path));
        if (h->body_url)
            json_object_set_new(hj, "body_url", json_string(h->body_url));
        if (h->content_type)
            json_object_set_new(hj, "content_type", json_string(h->content_type));
        if (h->has_truncated)
            json_object_set_new(hj, "truncated", json_boolean(h->truncated));
        if (h->has_body)
            json_object_set_new(hj, "body", s_bytes_json(&h->body));
        json_t *headers = json_object();
        for (size_t i = 0; i < h->n_headers; i++)
            json_object_set_new(headers, h->headers[i]->name,
                                json_string(h->headers[i]->value ? h->headers[i]->value : ""));
        json_object_set_new(hj, "headers", headers);
        json_t *t = json_object();
        if (h->has_dns_us)     json_object_set_new(t, "dns_ms", json_real(h->dns_us / 1000.0));
        if (h->has_connect_us) json_object_set_new(t, "connect_ms", json_real(h->connect_us / 1000.0));
        if (h->has_tls_us)     json_object_set_new(t, "tls_ms", json_real(h->tls_us / 1000.0));
        if (h->has_ttfb_us)    json_object_set_new(t, "ttfb_ms", json_real(h->ttfb_us / 1000.0));
        if (h->has_total_us)   json_object_set_new(t, "total_ms", json_real(h->total_us / 1000.0));
        json_object_set_new(hj, "timings", t);
        json_object_set_new(o, "http", hj);
    }
    const Shoal__ExecResult *x = r ? r->exec : NULL;
    if (x) {
        json_t *xj = json_object();
        if (x->has_exit_code)
            json_object_set_new(xj, "exit_code", json_integer(x->exit_code));
        if (x->has_signal)
            json_object_set_new(xj, "signal", json_integer(x->signal));
        if (x->has_stdout_tail)
            json_object_set_new(xj, "stdout", s_bytes_json(&x->stdout_tail));
        if (x->has_stderr_tail)
            json_object_set_new(xj, "stderr", s_bytes_json(&x->stderr_tail));
        json_object_set_new(o, "exec", xj);
    }
    return o;
}

const char *
report_rate(double r, char *buf, size_t size)
{
    if (r >= 1e6)
        snprintf(buf, size, "%.1fM/s", r / 1e6);
    else
    if (r >= 1e4)
        snprintf(buf, size, "%.0fk/s", r / 1e3);
    else
    if (r >= 1e3)
        snprintf(buf, size, "%.1fk/s", r / 1e3);
    else
    if (r >= 10)
        snprintf(buf, size, "%.0f/s", r);
    else
        snprintf(buf, size, "%.1f/s", r);
    return buf;
}

const char *
report_duration_ms(int64_t ms, char *buf, size_t size)
{
    if (ms < 0)
        snprintf(buf, size, "--");
    else
    if (ms < 10000)
        snprintf(buf, size, "%.1fs", (double) ms / 1000.0);
    else
    if (ms < 3600000)
        snprintf(buf, size, "%lldm%02llds", (long long) (ms / 60000), (long long) (ms / 1000 % 60));
    else
    if (ms < 86400000LL * 2)
        snprintf(buf, size, "%lldh%02lldm", (long long) (ms / 3600000), (long long) (ms / 60000 % 60));
    else
        snprintf(buf, size, "%lldd%02lldh", (long long) (ms / 86400000), (long long) (ms / 3600000 % 24));
    return buf;
}

const char *
report_latency_us(uint64_t us, char *buf, size_t size)
{
    if (us < 1000)
        snprintf(buf, size, "%lluus", (unsigned long long) us);
    else
    if (us < 1000000)
        snprintf(buf, size, "%.1fms", (double) us / 1000.0);
    else
        snprintf(buf, size, "%.2fs", (double) us / 1e6);
    return buf;
}

report_progress_t
report_progress(const Shoal__JobInfo *j)
{
    if (j->items)
        return (report_progress_t) { j->items->complete, j->items->failed, j->items->cancelled,
                                     j->items->total, true };
    return (report_progress_t) { j->ok, j->failed, j->cancelled, j->total, false };
}

double
report_percent(const Shoal__JobInfo *j)
{
    report_progress_t p = report_progress(j);
    if (!p.total)
        return j->sealed ? 100.0 : 0.0;
    double done = (double) (p.ok + p.failed + p.cancelled);
    return 100.0 * done / (double) p.total;
}

json_t *
report_item_json(const Shoal__ResultRow *row, uint32_t job_id)
{
    const Shoal__Result *r = row->result;
    json_t *o = json_object();
    json_object_set_new(o, "job", json_integer(job_id));
    json_object_set_new(o, "item", json_integer(row->seq));
    json_object_set_new(o, "outcome", json_string(row->outcome ? row->outcome : ""));
    json_object_set_new(o, "tasks", json_integer(row->tasks));
    json_object_set_new(o, "last_step", json_integer(row->last_step));
    if (row->step_name)
        json_object_set_new(o, "step", json_string(row->step_name));
    json_t *vars = r && r->vars ? json_loads(r->vars, 0, NULL) : NULL;
    json_object_set_new(o, "vars", vars ? vars : json_object());
    if (row->failed_step)
        json_object_set_new(o, "failed_step", json_string(row->failed_step));
    if (r && r->error) {
        json_t *e = json_string(r->error);
        json_object_set_new(o, "error", e ? e : json_string("(not valid UTF-8)"));
    }
    return o;
}
