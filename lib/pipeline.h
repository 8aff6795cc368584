/*  pipeline — a pipeline file: the ordered steps applied to every item.

    File (docs/pipelines.md):
      {"steps": [{"name": "upload", "url": "https://api/{{x}}", ..., "extract": {"id": "json:/id"}},
                 {"name": "pdf", "each": "links", "url": "https://h{{links}}", "delay_ms": 100}],
       "max_each": 10000}
    A step is a task (every task field, with `{{var}}` templates in its
    strings) plus `name`, `extract` (lib/extract.h), `each` (fan out over a
    list variable from an earlier `all:` rule) and `delay_ms`. Every error
    names FILE:LINE (the line of the step or of its field) and the step.

    The variables a step may use: the item's, plus what earlier steps
    extract, plus its own `each` variable; pipeline_check_vars tells at
    submit time which reference is unknown.
*/
#ifndef SHOAL_PIPELINE_H
#define SHOAL_PIPELINE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "shoal.pb-c.h"

#define PIPELINE_MAX_STEPS      32
#define PIPELINE_MAX_EACH       100000      //  hard cap on children of one task
#define PIPELINE_DEFAULT_EACH   10000       //  default cap (max_each)
#define PIPELINE_MAX_DELAY_MS   (24u * 3600 * 1000)
#define PIPELINE_MAX_BYTES      (1u << 20)  //  a pipeline file
#define PIPELINE_MAX_ITEM_BYTES (64u << 10) //  an item's own steps (canonical JSON; in every step's spec)

typedef struct {
    char     *name;         //  unique in the pipeline
    json_t   *task;         //  task fields with templates (owned)
    json_t   *extract;      //  name -> rule, or NULL
    json_t   *sets;         //  handler steps: names its answer's vars carry, or NULL
    char     *each;         //  the list variable to fan out over, or NULL
    uint32_t  delay_ms;     //  due this long after the previous step
    uint64_t  line;         //  line of the step in its file (0 when not from a file)
} pipeline_step_t;

typedef struct _pipeline_t pipeline_t;

//  Parse a pipeline from text (a file's n bytes; `name` for messages).
//  Returns NULL with "NAME:LINE: why" in err.
pipeline_t *pipeline_parse(const char *text, size_t n, const char *name, char *err, size_t errlen);
//  Parse a pipeline from its JSON (the stored form); errors without lines.
pipeline_t *pipeline_from_json(json_t *obj, char *err, size_t errlen);
//  Destroy; idempotent, NULLs the caller's pointer.
void pipeline_destroy(pipeline_t **self_p);
//  Steps, and step i (borrowed).
size_t pipeline_steps(const pipeline_t *self);
const pipeline_step_t *pipeline_step(const pipeline_t *self, size_t i);
//  Index of the step named `name`, or -1.
int pipeline_find(const pipeline_t *self, const char *name);
//  The cap on children of one task.
uint32_t pipeline_max_each(const pipeline_t *self);
//  The canonical JSON of the pipeline (new reference): what is stored.
json_t *pipeline_json(const pipeline_t *self);
//  Check every `{{var}}` of every step against the item variables (a JSON
//  object; its keys count) and what earlier steps extract. Returns 0, or
//  -1 with "NAME:LINE: step 'x': unknown variable 'y' in url" in err.
int pipeline_check_vars(const pipeline_t *self, json_t *item_vars, char *err, size_t errlen);
//  Render step i with `vars` into a task spec (caller frees with
//  shoal__task_spec__free_unpacked). NULL with "step 'x': why" in err.
Shoal__TaskSpec *pipeline_render(const pipeline_t *self, size_t i, json_t *vars, char *err, size_t errlen);
//  Render step i's task fields with `vars` into a new JSON object (the
//  templates replaced); NULL with the reason.
json_t *pipeline_render_json(const pipeline_t *self, size_t i, json_t *vars, char *err, size_t errlen);

#endif
