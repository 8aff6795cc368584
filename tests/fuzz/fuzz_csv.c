/*  fuzz_csv — the CSV task reader (shoal submit --format csv): a header
    row naming task fields, then one task per row. */
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_input(INPUT_CSV, data, size);
}
