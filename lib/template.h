/*  template — `{{name}}` in the string fields of a pipeline step.

    Syntax (docs/pipelines.md): `{{name}}` is replaced by the variable
    `name`; `{{name|json}}` by it as a JSON string literal, `|url` percent-
    encoded (everything but A-Z a-z 0-9 - . _ ~), `|b64` base64; filters
    chain left to right (`{{x|b64|url}}`). Spaces inside the braces are
    allowed. Names are letters, digits, `_`, `-` and `.`, not starting with
    a digit. A `{{{` is a literal `{` followed by `{{`, so JSON bodies such
    as `{"a": {{x|json}}}` read as meant. Parsing is strict: an unclosed
    `{{`, a bad name or an unknown filter is an error naming the byte.

    A variable is a JSON string (used as it is) or an array (`all:`
    extraction), which renders as its compact JSON text. Output is bounded:
    rendering fails beyond max_out bytes.
*/
#ifndef SHOAL_TEMPLATE_H
#define SHOAL_TEMPLATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define TEMPLATE_MAX_NAME 64        //  bytes of a variable name

typedef struct _template_t template_t;

//  Parse `text` (n bytes). Returns NULL with "at byte N: why" in err.
template_t *template_new(const char *text, size_t n, char *err, size_t errlen);
//  Destroy; idempotent, NULLs the caller's pointer.
void template_destroy(template_t **self_p);
//  True when the text holds no `{{` at all (nothing to render).
bool template_is_literal(const template_t *self);
//  Number of variable references, and the name of the i-th (borrowed).
size_t template_refs(const template_t *self);
const char *template_ref(const template_t *self, size_t i);
//  Render with the variables of `vars` (a JSON object). Returns a new
//  string (caller frees) with its length in *len, or NULL with "unknown
//  variable 'x'" or "output longer than N bytes" in err.
char *template_render(const template_t *self, json_t *vars, size_t max_out, size_t *len,
                      char *err, size_t errlen);
//  Parse and render in one step (the same errors as both).
char *template_render_text(const char *text, json_t *vars, size_t max_out, char *err, size_t errlen);
//  Check every reference of `text` against `known` (a JSON object whose
//  keys are the names known): 0, or -1 with "unknown variable 'x'" or the
//  parse error.
int template_check(const char *text, json_t *known, char *err, size_t errlen);

#endif
