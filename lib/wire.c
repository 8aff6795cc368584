/*  wire — frame <-> validated Envelope. See wire.h. */
#include "wire.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "clock.h"
#include "errbuf.h"
#include "taskspec.h"
#include "text.h"
#include "wirescan.h"

//  Optional string: at most max bytes of UTF-8.
static int
s_text(const char *field, const char *v, size_t max, char *err, size_t errlen)
{
    if (!v)
        return 0;
    size_t n = strlen(v);
    if (n > max)
        return errbuf_set(err, errlen, "%s: too long (%zu > %zu bytes)", field, n, max);
    if (!text_utf8_valid(v, n))
        return errbuf_set(err, errlen, "%s: not valid UTF-8", field);
    return 0;
}

//  Required string: present, non-empty, at most max bytes.
static int
s_need_text(const char *field, const char *v, size_t max, char *err, size_t errlen)
{
    if (!v || !*v)
        return errbuf_set(err, errlen, "%s: missing", field);
    return s_text(field, v, max, err, errlen);
}

static int
s_count(const char *field, size_t n, size_t max, char *err, size_t errlen)
{
    if (n > max)
        return errbuf_set(err, errlen, "%s: %zu items, limit %zu", field, n, max);
    return 0;
}

static int
s_refs(const char *field, Shoal__TaskRef **refs, size_t n, char *err, size_t errlen)
{
    if (s_count(field, n, WIRE_MAX_REFS, err, errlen))
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!refs[i]->has_task_id || !refs[i]->has_lease)
            return errbuf_set(err, errlen, "%s[%zu]: task_id and lease required", field, i);
    return 0;
}

//  A worker's handlers (Hello, Heartbeat): names unique enough to route by.
static int
s_validate_handlers(const char *field, Shoal__HandlerInfo **h, size_t n, char *err, size_t errlen)
{
    if (s_count(field, n, WIRE_MAX_HANDLERS, err, errlen))
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s_need_text(field, h[i]->name, 63, err, errlen))
            return -1;
        if (h[i]->has_procs && h[i]->procs > 100000)
            return errbuf_set(err, errlen, "%s[%zu].procs: at most 100000", field, i);
    }
    return 0;
}

static int
s_validate_hello(const Shoal__Hello *m, char *err, size_t errlen)
{
    if (s_need_text("hello.worker_id", m->worker_id, 128, err, errlen)
    ||  s_text("hello.host", m->host, 256, err, errlen)
    ||  s_text("hello.version", m->version, 64, err, errlen))
        return -1;
    if (!m->has_slots || m->slots < 1 || m->slots > 100000)
        return errbuf_set(err, errlen, "hello.slots: must be 1..100000");
    if (s_count("hello.kinds", m->n_kinds, 16, err, errlen))
        return -1;
    for (size_t i = 0; i < m->n_kinds; i++)
        if (m->kinds[i] < SHOAL__TASK_KIND__KIND_NOOP || m->kinds[i] > SHOAL__TASK_KIND__KIND_HANDLER)
            return errbuf_set(err, errlen, "hello.kinds[%zu]: unknown kind %d", i, (int) m->kinds[i]);
    if (s_count("hello.labels", m->n_labels, 64, err, errlen))
        return -1;
    for (size_t i = 0; i < m->n_labels; i++)
        if (s_need_text("hello.labels.key", m->labels[i]->key, 64, err, errlen)
        ||  s_text("hello.labels.value", m->labels[i]->value, 256, err, errlen))
            return -1;
    if (s_refs("hello.done", m->done, m->n_done, err, errlen)
    ||  s_validate_handlers("hello.handlers", m->handlers, m->n_handlers, err, errlen))
        return -1;
    return s_refs("hello.held", m->held, m->n_held, err, errlen);
}

static int
s_validate_http_result(const Shoal__HttpResult *h, char *err, size_t errlen)
{
    //  text fields from the remote server are sanitized by the broker before
    //  storage; here only sizes are bounded
    if (h->final_url && strlen(h->final_url) > 65536)
        return errbuf_set(err, errlen, "result.http.final_url: too long");
    if (s_count("result.http.headers", h->n_headers, 64, err, errlen))
        return -1;
    for (size_t i = 0; i < h->n_headers; i++)
        if (!h->headers[i]->name || strlen(h->headers[i]->name) > 256
        ||  (h->headers[i]->value && strlen(h->headers[i]->value) > 65536))
            return errbuf_set(err, errlen, "result.http.headers[%zu]: bad name or too long", i);
    if (h->body_path && strlen(h->body_path) > 4096)
        return errbuf_set(err, errlen, "result.http.body_path: too long");
    if (h->body_url && strlen(h->body_url) > 4096)
        return errbuf_set(err, errlen, "result.http.body_url: too long");
    if (h->content_type && strlen(h->content_type) > 1024)
        return errbuf_set(err, errlen, "result.http.content_type: too long");
    if (h->sha256 && strlen(h->sha256) != 64)
        return errbuf_set(err, errlen, "result.http.sha256: must be 64 hex digits");
    if (h->has_status && h->status > 999)
        return errbuf_set(err, errlen, "result.http.status: %u out of range", h->status);
    return 0;
}

static int
s_validate_results(const Shoal__Results *m, char *err, size_t errlen)
{
    if (s_count("results", m->n_results, WIRE_MAX_BATCH, err, errlen)
    ||  s_text("results.worker_id", m->worker_id, 128, err, errlen))
        return -1;
    for (size_t i = 0; i < m->n_results; i++) {
        const Shoal__Result *r = m->results[i];
        if (!r->has_task_id || !r->has_lease)
            return errbuf_set(err, errlen, "results[%zu]: task_id and lease required", i);
        if (!r->has_outcome || r->outcome < SHOAL__OUTCOME__OUTCOME_OK
        ||  r->outcome > SHOAL__OUTCOME__OUTCOME_REJECTED)
            return errbuf_set(err, errlen, "results[%zu]: bad outcome", i);
        if (r->error && strlen(r->error) > 65536)
            return errbuf_set(err, errlen, "results[%zu].error: too long", i);
        //  pipelines: extracted variables, a JSON object (stored as jsonb)
        if (r->vars && s_text("results.vars", r->vars, 8u << 20, err, errlen))
            return -1;
        //  timestamps go into timestamptz columns: 2000..2200 or unset
        const int64_t lo = 946684800000000LL, hi = 7258118400000000LL;
        if ((r->has_started_us && r->started_us && (r->started_us < lo || r->started_us > hi))
        ||  (r->has_finished_us && r->finished_us && (r->finished_us < lo || r->finished_us > hi)))
            return errbuf_set(err, errlen, "results[%zu]: timestamp out of range", i);
        if (r->http && s_validate_http_result(r->http, err, errlen))
            return -1;
        if (r->handler && (taskspec_validate_json_text("result.handler.output", r->handler->output, false,
                                                       TASKSPEC_MAX_OUTPUT, err, errlen)
                           || taskspec_validate_json_text("result.handler.vars", r->handler->vars, true,
                                                          TASKSPEC_MAX_OUTPUT, err, errlen)))
            return -1;
    }
    return 0;
}

static int
s_validate_tasks(const Shoal__Tasks *m, char *err, size_t errlen)
{
    if (s_count("tasks", m->n_tasks, WIRE_MAX_BATCH, err, errlen)
    ||  s_count("tasks.jobs", m->n_jobs, WIRE_MAX_BATCH, err, errlen))
        return -1;
    for (size_t i = 0; i < m->n_jobs; i++) {
        if (!m->jobs[i]->has_job_id)
            return errbuf_set(err, errlen, "tasks.jobs[%zu]: job_id required", i);
        if (taskspec_validate_defaults(m->jobs[i]->defaults, err, errlen))
            return -1;
    }
    for (size_t i = 0; i < m->n_tasks; i++) {
        const Shoal__Task *t = m->tasks[i];
        if (!t->has_task_id || !t->has_lease || !t->has_spec)
            return errbuf_set(err, errlen, "tasks[%zu]: task_id, lease and spec required", i);
    }
    return 0;
}

static int
s_validate_chunk(const Shoal__SubmitChunk *m, char *err, size_t errlen)
{
    if (!m->has_job_id || !m->job_id)
        return errbuf_set(err, errlen, "submit_chunk.job_id: missing");
    if (!m->has_first_seq)
        return errbuf_set(err, errlen, "submit_chunk.first_seq: missing");
    if (m->n_tasks == 0)
        return errbuf_set(err, errlen, "submit_chunk.tasks: empty");
    if (s_count("submit_chunk.tasks", m->n_tasks, WIRE_MAX_BATCH, err, errlen))
        return -1;
    if (m->first_seq + m->n_tasks > 0x7fffffffULL)
        return errbuf_set(err, errlen, "submit_chunk: a job holds at most 2147483647 tasks");
    for (size_t i = 0; i < m->n_tasks; i++) {
        char inner[384];
        if (taskspec_validate(m->tasks[i], inner, sizeof inner))
            return errbuf_set(err, errlen, "task %llu: %s",
                          (unsigned long long) (m->first_seq + i), inner);
    }
    return 0;
}

static int
s_need_job(const char *field, protobuf_c_boolean has, uint32_t id, char *err, size_t errlen)
{
    if (!has || id == 0)
        return errbuf_set(err, errlen, "%s: job_id missing", field);
    return 0;
}

int
wire_validate(const envelope_t *env, char *err, size_t errlen)
{
    switch (env->body_case) {
        case SHOAL__ENVELOPE__BODY_HELLO:
            return s_validate_hello(env->hello, err, errlen);
        case SHOAL__ENVELOPE__BODY_WELCOME:
            if (!env->welcome->has_heartbeat_ms || env->welcome->heartbeat_ms < 1
            ||  env->welcome->heartbeat_ms > 3600000)
                return errbuf_set(err, errlen, "welcome.heartbeat_ms: must be 1..3600000");
            if (!env->welcome->has_liveness || env->welcome->liveness < 1
            ||  env->welcome->liveness > 1000)
                return errbuf_set(err, errlen, "welcome.liveness: must be 1..1000");
            return 0;
        case SHOAL__ENVELOPE__BODY_TASKS:
            return s_validate_tasks(env->tasks, err, errlen);
        case SHOAL__ENVELOPE__BODY_RESULTS:
            return s_validate_results(env->results, err, errlen);
        case SHOAL__ENVELOPE__BODY_RESULT_ACK:
            return s_refs("result_ack.acked", env->result_ack->acked, env->result_ack->n_acked,
                          err, errlen);
        case SHOAL__ENVELOPE__BODY_HEARTBEAT:
            return s_validate_handlers("heartbeat.handlers", env->heartbeat->handlers,
                                       env->heartbeat->n_handlers, err, errlen);
        case SHOAL__ENVELOPE__BODY_CANCEL:
            return s_refs("cancel.tasks", env->cancel->tasks, env->cancel->n_tasks, err, errlen);
        case SHOAL__ENVELOPE__BODY_BYE:
            return s_text("bye.reason", env->bye->reason, 1024, err, errlen);
        case SHOAL__ENVELOPE__BODY_JOB_OPEN: {
            const Shoal__JobOpen *m = env->job_open;
            if (s_text("job_open.name", m->name, 256, err, errlen)
            ||  s_text("job_open.key", m->key, 256, err, errlen)
            ||  s_text("job_open.pipeline", m->pipeline, 1u << 20, err, errlen))
                return -1;
            if (m->has_priority && (m->priority < 1 || m->priority > 1000))
                return errbuf_set(err, errlen, "job_open.priority: must be 1..1000");
            return taskspec_validate_defaults(m->defaults, err, errlen);
        }
        case SHOAL__ENVELOPE__BODY_JOB_OPENED:
            return s_need_job("job_opened", env->job_opened->has_job_id, env->job_opened->job_id,
                              err, errlen);
        case SHOAL__ENVELOPE__BODY_SUBMIT_CHUNK:
            return s_validate_chunk(env->submit_chunk, err, errlen);
        case SHOAL__ENVELOPE__BODY_SUBMIT_ACK:
            return s_need_job("submit_ack", env->submit_ack->has_job_id, env->submit_ack->job_id,
                              err, errlen);
        case SHOAL__ENVELOPE__BODY_JOB_SEAL:
            if (!env->job_seal->has_total)
                return errbuf_set(err, errlen, "job_seal.total: missing");
            return s_need_job("job_seal", env->job_seal->has_job_id, env->job_seal->job_id,
                              err, errlen);
        case SHOAL__ENVELOPE__BODY_JOB_CONTROL: {
            const Shoal__JobControl *m = env->job_control;
            if (s_need_job("job_control", m->has_job_id, m->job_id, err, errlen))
                return -1;
            if (!m->has_action || m->action < SHOAL__CONTROL_ACTION__CONTROL_PAUSE
            ||  m->action > SHOAL__CONTROL_ACTION__CONTROL_RETRY)
                return errbuf_set(err, errlen, "job_control.action: unknown action");
            if (s_count("job_control.retry_status", m->n_retry_status, 100, err, errlen)
            ||  s_count("job_control.retry_class", m->n_retry_class, 10, err, errlen))
                return -1;
            for (size_t i = 0; i < m->n_retry_class; i++)
                if (m->retry_class[i] > 5)
                    return errbuf_set(err, errlen, "job_control.retry_class: %u is not 0..5",
                                  m->retry_class[i]);
            return 0;
        }
        case SHOAL__ENVELOPE__BODY_JOB_UPDATE: {
            const Shoal__JobUpdate *m = env->job_update;
            if (s_need_job("job_update", m->has_job_id, m->job_id, err, errlen))
                return -1;
            if (m->has_priority && (m->priority < 1 || m->priority > 1000))
                return errbuf_set(err, errlen, "job_update.priority: must be 1..1000");
            if (!m->defaults && !m->has_priority)
                return errbuf_set(err, errlen, "job_update: nothing to change");
            return taskspec_validate_defaults(m->defaults, err, errlen);
        }
        case SHOAL__ENVELOPE__BODY_JOB_DELETE:
            return s_need_job("job_delete", env->job_delete->has_job_id, env->job_delete->job_id,
                              err, errlen);
        case SHOAL__ENVELOPE__BODY_JOBS_REQUEST: {
            const Shoal__JobsRequest *m = env->jobs_request;
            if (s_count("jobs_request.ended", m->n_ended, 3, err, errlen))
                return -1;
            for (size_t i = 0; i < m->n_ended; i++)
                if (!m->ended[i] || (strcmp(m->ended[i], "done") && strcmp(m->ended[i], "failed")
                                     && strcmp(m->ended[i], "cancelled")))
                    return errbuf_set(err, errlen, "jobs_request.ended[%zu]: '%.40s' is not done, failed"
                                      " or cancelled", i, m->ended[i] ? m->ended[i] : "");
            if (m->has_finished_before_us && m->finished_before_us < 0)
                return errbuf_set(err, errlen, "jobs_request.finished_before_us: negative");
            return 0;
        }
        case SHOAL__ENVELOPE__BODY_STATUS_REQUEST:
            return s_need_job("status_request", env->status_request->has_job_id,
                              env->status_request->job_id, err, errlen);
        case SHOAL__ENVELOPE__BODY_RESULTS_REQUEST: {
            const Shoal__ResultsRequest *m = env->results_request;
            if (s_need_job("results_request", m->has_job_id, m->job_id, err, errlen))
                return -1;
            if (m->has_limit && m->limit > 100000)
                return errbuf_set(err, errlen, "results_request.limit: at most 100000");
            return 0;
        }
        case SHOAL__ENVELOPE__BODY_WORKERS_REQUEST:
        case SHOAL__ENVELOPE__BODY_SNAPSHOT_REQUEST:
        case SHOAL__ENVELOPE__BODY_CONTROL_REPLY:
        case SHOAL__ENVELOPE__BODY_JOB_DELETED:
        case SHOAL__ENVELOPE__BODY_STATUS_REPLY:
        case SHOAL__ENVELOPE__BODY_JOBS_REPLY:
        case SHOAL__ENVELOPE__BODY_RESULTS_PAGE:
        case SHOAL__ENVELOPE__BODY_WORKERS_REPLY:
        case SHOAL__ENVELOPE__BODY_SNAPSHOT:
        case SHOAL__ENVELOPE__BODY_EVENT:
        case SHOAL__ENVELOPE__BODY_ERROR:
            //  replies come from the broker; clients only read them
            return 0;
        default:
            return errbuf_set(err, errlen, "envelope: no body or unknown body %d", (int) env->body_case);
    }
}

//  protobuf-c allocates every repeated element before we can count them:
//  a frame of many empty submessages would cost many times its size. The
//  decoder gets a budget instead, and one block (an arena) sized from the
//  frame's counted cost: each allocation is a bump of a pointer in it, the
//  whole envelope is one free (a 2 KB HTTP body, its strings and structs
//  were a malloc and a free each, a third of the broker's CPU per result:
//  issue 16). What does not fit in the block (protobuf-c's scratch arrays,
//  the rounding) comes from malloc, within the same budget.
typedef struct {
    size_t used;        //  bytes handed out
    size_t budget;      //  at most
    bool   exceeded;    //  a request was refused
    size_t cap;         //  bytes of data[]
    size_t off;         //  the next free byte of data[]
    size_t outside;     //  allocations from malloc not freed yet
    _Alignas(16) uint8_t data[];
} arena_t;

#define ARENA_ALIGN 8   //  protobuf-c's structs hold pointers and 64-bit integers at most

static bool
s_in_arena(const arena_t *a, const void *ptr)
{
    return (const uint8_t *) ptr >= a->data && (const uint8_t *) ptr < a->data + a->cap;
}

static void *
s_arena_alloc(void *data, size_t size)
{
    arena_t *a = data;
    if (size > a->budget - a->used) {
        a->exceeded = true;
        return NULL;
    }
    a->used += size;
    size_t rounded = (size + ARENA_ALIGN - 1) & ~(size_t) (ARENA_ALIGN - 1);
    if (rounded >= size && rounded <= a->cap - a->off) {
        void *p = a->data + a->off;
        a->off += rounded;
        return p;
    }
    void *p = malloc(size ? size : 1);
    a->outside += p != NULL;
    return p;
}

static void
s_arena_free(void *data, void *ptr)
{
    arena_t *a = data;
    if (ptr && !s_in_arena(a, ptr)) {
        a->outside--;
        free(ptr);
    }
}

//  The arena of an envelope wire_decode returned: the envelope is the
//  first thing protobuf-c allocates, at the start of data[].
static arena_t *
s_arena_of(envelope_t *env)
{
    return (arena_t *) ((uint8_t *) env - offsetof(arena_t, data));
}

static void
s_arena_release(arena_t *a, envelope_t *env)
{
    if (env && a->outside) {
        ProtobufCAllocator allocator = { s_arena_alloc, s_arena_free, a };
        shoal__envelope__free_unpacked(env, &allocator);     //  frees what came from malloc
    }
    free(a);
}

//  protobuf-c takes a field numbered 0 (invalid in protobuf) for an unknown
//  field and packs it back as different bytes (found by fuzz_envelope):
//  refuse it anywhere in the message tree. The schema bounds the depth.
static bool
s_bad_unknown(const ProtobufCMessage *m)
{
    for (unsigned i = 0; i < m->n_unknown_fields; i++)
        if (m->unknown_fields[i].tag == 0)
            return true;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const char *base = (const char *) m;
    for (unsigned f = 0; f < d->n_fields; f++) {
        const ProtobufCFieldDescriptor *fd = &d->fields[f];
        if (fd->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *) (base + fd->quantifier_offset);
            ProtobufCMessage *const *items = *(ProtobufCMessage *const *const *) (base + fd->offset);
            for (size_t k = 0; k < n; k++)
                if (items[k] && s_bad_unknown(items[k]))
                    return true;
        }
        else {
            //  a oneof member is there only when the case names it
            if ((fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
            &&  *(const uint32_t *) (base + fd->quantifier_offset) != fd->id)
                continue;
            const ProtobufCMessage *sub = *(const ProtobufCMessage *const *) (base + fd->offset);
            if (sub && s_bad_unknown(sub))
                return true;
        }
    }
    return false;
}

envelope_t *
wire_decode(const void *data, size_t size, char *err, size_t errlen, bool *version_mismatch)
{
    if (version_mismatch)
        *version_mismatch = false;
    if (size == 0) {
        errbuf_set(err, errlen, "empty frame");
        return NULL;
    }
    if (size > WIRE_MAX_FRAME) {
        errbuf_set(err, errlen, "frame too large (%zu bytes, limit %d)", size, WIRE_MAX_FRAME);
        return NULL;
    }
    //  a legitimate message decodes into a few times its size, plus the
    //  structs of its elements: a chunk of 5,000 tiny tasks (a noop with a
    //  sleep, 9 bytes each on the wire) decodes into about 30 times its
    //  size, so small frames get a floor that a whole default chunk of the
    //  smallest tasks fits under (WIRE_DECODE_FLOOR)
    size_t budget = size * 8 + WIRE_DECODE_FLOOR;
    //  counted first without allocating: a frame over budget costs one read
    size_t cost = wirescan_cost(&shoal__envelope__descriptor, data, size, budget);
    if (cost > budget) {
        errbuf_set(err, errlen, "frame would decode into more than %zu bytes (%zu bytes)", budget, size);
        return NULL;
    }
    //  the cost is a floor; room for the rounding of each allocation
    size_t cap = cost + cost / 4 + 256;
    arena_t *a = malloc(sizeof *a + cap);
    if (!a) {
        errbuf_set(err, errlen, "out of memory decoding a frame of %zu bytes", size);
        return NULL;
    }
    *a = (arena_t) { .budget = budget, .cap = cap };
    ProtobufCAllocator allocator = { s_arena_alloc, s_arena_free, a };
    envelope_t *env = shoal__envelope__unpack(&allocator, size, data);
    if (!env) {
        if (a->exceeded)
            errbuf_set(err, errlen, "frame would decode into more than %zu bytes (%zu bytes)", budget, size);
        else
            errbuf_set(err, errlen, "frame is not a shoal envelope (protobuf decode failed, %zu bytes)", size);
        free(a);
        return NULL;
    }
    if ((void *) env != (void *) a->data) {
        //  wire_free finds the arena from the envelope: a protobuf-c that
        //  allocates something else first is refused loudly, not guessed at
        errbuf_set(err, errlen, "protobuf-c did not allocate the envelope first (arena decoding)");
        s_arena_release(a, env);
        return NULL;
    }
    if (s_bad_unknown(&env->base)) {
        errbuf_set(err, errlen, "frame is not a shoal envelope (a field numbered 0)");
        s_arena_release(a, env);
        return NULL;
    }
    if (!env->has_version || env->version != SHOAL_PROTO_MAJOR) {
        errbuf_set(err, errlen, "protocol version %u not supported (this peer speaks %d)",
               env->has_version ? env->version : 0, SHOAL_PROTO_MAJOR);
        if (version_mismatch)
            *version_mismatch = true;
        s_arena_release(a, env);
        return NULL;
    }
    if (wire_validate(env, err, errlen)) {
        s_arena_release(a, env);
        return NULL;
    }
    return env;
}

void
wire_free(envelope_t *env)
{
    if (env)
        s_arena_release(s_arena_of(env), env);
}

const char *
wire_body_name(const envelope_t *env)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field(&shoal__envelope__descriptor, (unsigned) env->body_case);
    return f ? f->name : "none";
}

static void
s_free_packed(void *data, void *hint)
{
    free(data);
}

int
wire_send(void *socket, const void *routing_id, size_t routing_len, envelope_t *env, int flags)
{
    env->has_version = 1;
    env->version = SHOAL_PROTO_MAJOR;
    if (routing_id && zmq_send(socket, routing_id, routing_len, ZMQ_SNDMORE | flags) < 0)
        return -1;
    size_t n = shoal__envelope__get_packed_size(env);
    void *buf = malloc(n ? n : 1);
    if (!buf) {
        errno = ENOMEM;
        return -1;
    }
    shoal__envelope__pack(env, buf);
    zmq_msg_t msg;
    zmq_msg_init_data(&msg, buf, n, s_free_packed, NULL);
    if (zmq_msg_send(&msg, socket, flags) < 0) {
        int saved = errno;
        zmq_msg_close(&msg);
        errno = saved;
        return -1;
    }
    return 0;
}

int
wire_publish(void *socket, const char *topic, envelope_t *env)
{
    if (zmq_send(socket, topic, strlen(topic), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -1;
    return wire_send(socket, NULL, 0, env, ZMQ_DONTWAIT);
}

int
wire_send_error(void *socket, const void *routing_id, size_t routing_len, uint64_t corr,
                Shoal__ErrorCode code, const char *message)
{
    Shoal__Error e = SHOAL__ERROR__INIT;
    e.has_code = 1;
    e.code = code;
    e.message = (char *) message;
    envelope_t env = SHOAL__ENVELOPE__INIT;
    env.has_corr = corr != 0;
    env.corr = corr;
    env.body_case = SHOAL__ENVELOPE__BODY_ERROR;
    env.error = &e;
    return wire_send(socket, routing_id, routing_len, &env, ZMQ_DONTWAIT);
}

_Static_assert(WIRE_MAX_CLIENT_FRAME >= TASKSPEC_MAX_PACKED + (32 << 10),
               "a client frame must hold the largest task spec with its envelope");

void
wire_socket_max_frame(void *socket, size_t max)
{
    int64_t cap = (int64_t) max + 4096;
    zmq_setsockopt(socket, ZMQ_MAXMSGSIZE, &cap, sizeof cap);
}

void
wire_socket_defaults(void *socket)
{
    wire_socket_max_frame(socket, WIRE_MAX_FRAME);
    int linger = 0;
    zmq_setsockopt(socket, ZMQ_LINGER, &linger, sizeof linger);
    int handshake = WIRE_HANDSHAKE_MS;
    zmq_setsockopt(socket, ZMQ_HANDSHAKE_IVL, &handshake, sizeof handshake);
}

static size_t
s_varint(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t) (v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t) v;
    return n;
}

uint8_t *
wire_pack_results(uint8_t *const *items, const size_t *lens, size_t n, const char *worker_id,
                  size_t *out_len)
{
    //  Results { repeated Result results = 1; optional string worker_id = 2; }
    //  Envelope { optional uint32 version = 1; ... Results results = 13; }
    uint8_t tmp[10];
    size_t body = 0;
    for (size_t i = 0; i < n; i++)
        body += 1 + s_varint(tmp, lens[i]) + lens[i];
    size_t wid = worker_id ? strlen(worker_id) : 0;
    if (worker_id)
        body += 1 + s_varint(tmp, wid) + wid;
    size_t total = 2 + 1 + s_varint(tmp, body) + body;
    uint8_t *out = malloc(total);
    if (!out)
        return NULL;
    size_t o = 0;
    out[o++] = (1 << 3) | 0;                    //  version, varint
    out[o++] = SHOAL_PROTO_MAJOR;
    out[o++] = (SHOAL__ENVELOPE__BODY_RESULTS << 3) | 2;   //  results, length-delimited
    o += s_varint(out + o, body);
    for (size_t i = 0; i < n; i++) {
        out[o++] = (1 << 3) | 2;
        o += s_varint(out + o, lens[i]);
        memcpy(out + o, items[i], lens[i]);
        o += lens[i];
    }
    if (worker_id) {
        out[o++] = (2 << 3) | 2;
        o += s_varint(out + o, wid);
        memcpy(out + o, worker_id, wid);
        o += wid;
    }
    *out_len = o;
    return out;
}

envelope_t *
wire_await(void *socket, uint64_t corr, int timeout_ms, void (*heard)(void *arg), void *arg)
{
    int64_t deadline = clock_mono_ms() + timeout_ms;
    while (true) {
        int64_t left = deadline - clock_mono_ms();
        if (left < 0)
            return NULL;
        zmq_pollitem_t item = { socket, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll(&item, 1, (long) left) <= 0)
            continue;
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, socket, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            continue;
        }
        char err[256];
        envelope_t *env = wire_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), err, sizeof err, NULL);
        zmq_msg_close(&msg);
        if (!env)
            continue;
        if (heard)
            heard(arg);
        if (corr == 0 || (env->has_corr && env->corr == corr))
            return env;
        wire_free(env);     //  a late reply to an earlier request
    }
}
