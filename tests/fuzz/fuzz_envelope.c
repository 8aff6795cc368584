/*  fuzz_envelope — wire_decode on arbitrary frames, as the broker and the
    workers call it on everything that arrives, and what they do next with
    a message that passed: a validated envelope packs and decodes again,
    and the task specs it carries go through the same helpers the broker
    (lanes, targets) and the worker (spec decode, timeout, retry policy) use. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "taskspec.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

//  What the broker and the worker derive from one spec.
static void
s_use_spec(const Shoal__TaskSpec *spec, const Shoal__JobDefaults *defaults)
{
    char buf[512];
    char err[512];
    taskspec_validate(spec, err, sizeof err);
    taskspec_kind_name(taskspec_kind(spec));
    taskspec_target(spec, buf, sizeof buf);
    taskspec_host(spec, buf, sizeof buf);
    taskspec_timeout_ms(spec, defaults);
    retry_policy_t policy;
    taskspec_retry_policy(spec, defaults, &policy);
    taskspec_backoff_ms(&policy, 2, 0.5);
    taskspec_backoff_ms(&policy, 1000, 1.0);
    taskspec_status_retryable(&policy, 503);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    bool version_mismatch = false;
    envelope_t *env = wire_decode(data, size, err, sizeof err, &version_mismatch);
    if (!env) {
        //  the frontend decodes a refused frame again for its corr id
        envelope_t *raw = size <= WIRE_MAX_FRAME ? shoal__envelope__unpack(NULL, size, data) : NULL;
        shoal__envelope__free_unpacked(raw, NULL);     //  not wire_decode's: no arena
        return 0;
    }
    wire_body_name(env);
    //  a message that passed validation survives a round trip
    size_t len = shoal__envelope__get_packed_size(env);
    uint8_t *buf = malloc(len ? len : 1);
    if (buf) {
        shoal__envelope__pack(env, buf);
        envelope_t *again = wire_decode(buf, len, err, sizeof err, NULL);
        if (!again && len > 0)
            __builtin_trap();   //  validated, packed, refused: the rules disagree with themselves
        wire_free(again);
        free(buf);
    }
    if (env->body_case == SHOAL__ENVELOPE__BODY_SUBMIT_CHUNK)
        for (size_t i = 0; i < env->submit_chunk->n_tasks; i++)
            s_use_spec(env->submit_chunk->tasks[i], NULL);
    if (env->body_case == SHOAL__ENVELOPE__BODY_TASKS) {
        //  the worker: each task's spec is bytes, decoded and validated there
        Shoal__Tasks *t = env->tasks;
        for (size_t i = 0; i < t->n_tasks; i++) {
            const Shoal__JobDefaults *defaults = NULL;
            for (size_t j = 0; j < t->n_jobs; j++)
                if (t->jobs[j]->job_id == (uint32_t) (t->tasks[i]->task_id >> 32))
                    defaults = t->jobs[j]->defaults;
            Shoal__TaskSpec *spec = shoal__task_spec__unpack(NULL, t->tasks[i]->spec.len,
                                                              t->tasks[i]->spec.data);
            if (spec) {
                s_use_spec(spec, defaults);
                shoal__task_spec__free_unpacked(spec, NULL);
            }
        }
    }
    if (env->body_case == SHOAL__ENVELOPE__BODY_JOB_OPEN && env->job_open->defaults) {
        retry_policy_t policy;
        taskspec_retry_policy(NULL, env->job_open->defaults, &policy);
        taskspec_backoff_ms(&policy, 5, 0.0);
    }
    wire_free(env);
    return 0;
}
