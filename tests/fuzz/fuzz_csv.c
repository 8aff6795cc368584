/*  fuzz_csv — the CSV readers: lib/csvin.c (libcsv records: quoting,
    quoted line breaks, CRLF, BOM, delimiter detection, recovery after a
    bad record) under the CSV task reader of `shoal submit --format csv`
    (a header row naming task fields, then one task per row). */
#include <string.h>

#include "csvin.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

//  Every record of the raw reader, with a small bound; the first byte
//  picks the delimiter (given or detected).
static void
s_records(const uint8_t *data, size_t size)
{
    static const char delimiters[] = { 0, ',', ';', '\t' };
    FILE *f = fmemopen((void *) (data + 1), size - 1, "r");
    if (!f)
        return;
    csvin_t *in = csvin_new(f, "fuzz", 512, delimiters[data[0] & 3]);
    char err[256];
    uint64_t last = 0;
    for (int i = 0; in && i < 10000; i++) {
        char **fields;
        size_t n;
        int rc = csvin_next(in, &fields, &n, err, sizeof err);
        if (rc == 0 || rc == -2)
            break;
        //  records start on increasing lines, never past the input
        if (csvin_line(in) < last || csvin_line(in) > size)
            __builtin_trap();
        last = csvin_line(in);
        for (size_t k = 0; rc == 1 && k < n; k++)
            if (strlen(fields[k]) > 512)
                __builtin_trap();
    }
    csvin_destroy(&in);
    fclose(f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    s_records(data, size);
    return fuzz_input(INPUT_CSV, data, size);
}
