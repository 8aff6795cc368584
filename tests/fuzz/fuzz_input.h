/*  fuzz_input — the shared body of the input parser fuzz targets: read
    every task of one input format from a memory buffer as `shoal submit`
    reads a file, and check what the CLI would send is what the broker
    accepts. */
#ifndef SHOAL_FUZZ_INPUT_H
#define SHOAL_FUZZ_INPUT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "input.h"
#include "taskspec.h"

static int
fuzz_input(input_format_t format, const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    FILE *f = fmemopen((void *) data, size, "r");
    if (!f)
        return 0;
    //  a small line limit keeps each run fast and exercises the long-line path
    input_t *in = input_new(format, f, "fuzz", 4096);
    if (!in) {
        fclose(f);
        return 0;
    }
    char err[512];
    for (int i = 0; i < 10000; i++) {
        Shoal__TaskSpec *spec = NULL;
        int rc = input_next(in, &spec, err, sizeof err);
        if (rc == 0 || rc == -2)
            break;
        if (rc != 1)
            continue;
        //  the CLI validates before sending; the broker validates again
        //  after the wire: both must accept what the parser produced
        size_t len = shoal__task_spec__get_packed_size(spec);
        uint8_t *buf = malloc(len ? len : 1);
        if (buf) {
            shoal__task_spec__pack(spec, buf);
            Shoal__TaskSpec *again = shoal__task_spec__unpack(NULL, len, buf);
            if (!again || taskspec_validate(again, err, sizeof err) != 0)
                __builtin_trap();
            char target[256];
            taskspec_target(again, target, sizeof target);
            taskspec_host(again, target, sizeof target);
            shoal__task_spec__free_unpacked(again, NULL);
            free(buf);
        }
        shoal__task_spec__free_unpacked(spec, NULL);
    }
    input_skip(in, 3);
    input_destroy(&in);
    fclose(f);
    return 0;
}

#endif
