/*  fuzz_template — the step template parser and renderer (lib/template.c):
    any text from a pipeline file, rendered with a few variables under a
    small output bound. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static json_t *vars;
    if (!vars)
        vars = json_pack("{s:s, s:s, s:[s,s], s:s}", "id", "42", "x", "a \"b\" & c/\xc3\xa9",
                         "links", "/a", "/b", "empty", "");
    char err[256];
    template_t *t = template_new((const char *) data, size, err, sizeof err);
    if (!t)
        return 0;
    for (size_t i = 0; i < template_refs(t); i++)
        if (!template_ref(t, i) || strlen(template_ref(t, i)) > TEMPLATE_MAX_NAME)
            __builtin_trap();
    size_t len = 0;
    char *out = template_render(t, vars, 1024, &len, err, sizeof err);
    if (out && len > 1024)
        __builtin_trap();
    free(out);
    template_destroy(&t);
    char *text = malloc(size + 1);
    if (text) {
        memcpy(text, data, size);
        text[size] = 0;
        template_check(text, vars, err, sizeof err);
        free(text);
    }
    return 0;
}
