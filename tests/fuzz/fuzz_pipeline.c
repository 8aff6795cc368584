/*  fuzz_pipeline — pipeline files (lib/pipeline.c): parse, check the
    variables, render every step with a few variables, store and read
    back the canonical JSON. */
#include <stdint.h>
#include <stdlib.h>

#include "pipeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    pipeline_t *p = pipeline_parse((const char *) data, size, "fuzz.json", err, sizeof err);
    if (!p)
        return 0;
    json_t *vars = json_pack("{s:s, s:s, s:[s]}", "page", "1", "id", "x", "links", "/a");
    pipeline_check_vars(p, vars, err, sizeof err);
    for (size_t i = 0; i < pipeline_steps(p); i++) {
        Shoal__TaskSpec *spec = pipeline_render(p, i, vars, err, sizeof err);
        if (spec)
            shoal__task_spec__free_unpacked(spec, NULL);
    }
    json_t *stored = pipeline_json(p);
    pipeline_t *again = pipeline_from_json(stored, err, sizeof err);
    if (!again || pipeline_steps(again) != pipeline_steps(p))
        __builtin_trap();
    pipeline_destroy(&again);
    json_decref(stored);
    json_decref(vars);
    pipeline_destroy(&p);
    return 0;
}
