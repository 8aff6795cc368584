/*  input — turning user input into task specs.

    Formats (docs/cli.md has the field reference):
      jsonl     one JSON object per line: {"url": "...", "method": "POST", ...}
      urls      one URL per line (blank lines and # comments skipped)
      csv       a header row naming task fields, then one task per row
                (lib/csvin.c: quoting, CRLF, BOM, `,` `;` or tab)
      template  no input: "https://host/page/{1..168867}" expanded lazily

    Every error names the line ("tasks.jsonl:17: http.url: scheme must be
    http or https"); the caller decides whether to stop or skip. Memory is
    bounded by the longest allowed line, whatever the input size.
*/
#ifndef SHOAL_INPUT_H
#define SHOAL_INPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pipeline.h"
#include "shoal.pb-c.h"

typedef enum {
    INPUT_JSONL,
    INPUT_URLS,
    INPUT_CSV,
    INPUT_TEMPLATE,
    INPUT_COUNT,        //  N copies of one spec (noop benchmarks, --count)
    INPUT_RANGE         //  pipeline items NAME=FIRST..LAST (--range)
} input_format_t;

//  A --range: items {NAME: "FIRST"} .. {NAME: "LAST"} every STEP.
typedef struct {
    char     name[65];
    uint64_t first, last, step, count;
    int      width;         //  zero padding when FIRST has leading zeros
} input_range_t;

typedef struct _input_t input_t;

//  Map one JSON object to a new task spec. `from_text` lets numbers and
//  booleans arrive as strings (CSV). Returns NULL with a message in err.
//  Free the spec with shoal__task_spec__free_unpacked(spec, NULL).
Shoal__TaskSpec *input_task_from_json(json_t *obj, bool from_text, char *err, size_t errlen);
//  Map the same JSON fields to job defaults (no url/argv required).
Shoal__JobDefaults *input_defaults_from_json(json_t *obj, char *err, size_t errlen);

//  Open a reader over `file` (not closed by the reader). `name` is used in
//  messages. For INPUT_TEMPLATE, `file` is NULL and `name` is the
//  template; for INPUT_COUNT, `count` copies of `proto` (borrowed).
input_t *input_new(input_format_t format, FILE *file, const char *name, size_t max_line);
input_t *input_new_template(const char *pattern, char *err, size_t errlen);
input_t *input_new_count(uint64_t count, const Shoal__TaskSpec *proto);
void input_destroy(input_t **self_p);
//  CSV only, before the first read: the delimiter (',', ';', '\t'), or 0
//  to detect it from the header line (the default).
void input_set_csv_delimiter(input_t *self, char delimiter);
//  True when `name` is a task field a JSONL line or a CSV column may set.
bool input_field_known(const char *name);
//  Read the next task. Returns 1 with *spec set (caller frees), 0 at the
//  end, -1 for a bad line with "NAME:LINE: reason" in err (reading can go
//  on), -2 for an error that stops reading (I/O, a bad CSV header, which
//  is reported at line 1).
int input_next(input_t *self, Shoal__TaskSpec **spec, char *err, size_t errlen);
//  Line number of the last task read (1-based; CSV counts the header).
uint64_t input_line(const input_t *self);
//  Skip n tasks without parsing them fully (resume). Returns tasks skipped.
uint64_t input_skip(input_t *self, uint64_t n);
//  Total tasks when known in advance (template, count), else 0.
uint64_t input_total(const input_t *self);
//  Pipelines (input_items.c): from now on every item (CSV row under its
//  header of variable names, JSONL object of strings, range value) is the
//  variables of one item, and the task read is its first step, rendered.
//  `p` is borrowed.
void input_set_pipeline(input_t *self, const pipeline_t *p);
//  Parse "NAME=FIRST..LAST[..STEP]"; 0 or -1 with the reason.
int input_range_parse(const char *text, input_range_t *r, char *err, size_t errlen);
//  A reader of the items of a range (needs input_set_pipeline).
input_t *input_new_range(const input_range_t *r);
//  The first step of the item `vars` (name:line for messages): 1 with
//  *spec, or -1 with "NAME:LINE: why".
int input_item_spec(const pipeline_t *p, json_t *vars, const char *name, uint64_t line, Shoal__TaskSpec **spec,
                    char *err, size_t errlen);
//  A JSONL line as an item (docs/pipelines.md, "Items with their own
//  steps"): an object of variables under the job's steps p, or
//  {"vars": {...}, "steps": [...], "max_each": N}: its vars, and its own
//  steps (checked as a pipeline file's) for this item instead of p's. p
//  may be NULL (a plain job: the line must have "steps"). 1 with *spec (the
//  item's first step; with own steps their JSON rides in spec->pipeline),
//  or -1 with "NAME:LINE: why". Numbers in obj may become text.
int input_item_line(const pipeline_t *p, json_t *obj, const char *name, uint64_t line, Shoal__TaskSpec **spec,
                    char *err, size_t errlen);
//  True when obj is an item with its own vars or steps: in a pipeline job
//  a list "steps" or an object "vars" (a variable is text); in a plain job
//  any "steps".
bool input_item_has_steps(json_t *obj, bool pipeline);
//  Parse a format name; returns -1 when unknown.
int input_format_parse(const char *name);

#endif
