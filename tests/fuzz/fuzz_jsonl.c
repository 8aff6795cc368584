/*  fuzz_jsonl — the JSONL task reader (shoal submit --format jsonl). */
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_input(INPUT_JSONL, data, size);
}
