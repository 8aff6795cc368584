/*  fuzz_urls — the URL list reader and the URL template expander
    (shoal submit --format urls, --url-template). The first byte picks
    which; a template is expanded for at most a few hundred tasks. */
#include <string.h>

#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (!(data[0] & 1))
        return fuzz_input(INPUT_URLS, data + 1, size - 1);
    char pattern[4096];
    size_t n = size - 1 < sizeof pattern - 1 ? size - 1 : sizeof pattern - 1;
    memcpy(pattern, data + 1, n);
    pattern[n] = 0;
    char err[512];
    input_t *in = input_new_template(pattern, err, sizeof err);
    if (!in)
        return 0;
    input_total(in);
    input_skip(in, (uint64_t) (data[0] >> 1) * 1000003ULL);
    for (int i = 0; i < 300; i++) {
        Shoal__TaskSpec *spec = NULL;
        int rc = input_next(in, &spec, err, sizeof err);
        if (rc == 1)
            shoal__task_spec__free_unpacked(spec, NULL);
        else
        if (rc == 0)
            break;
    }
    input_destroy(&in);
    return 0;
}
