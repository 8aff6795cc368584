#!/usr/bin/env bash
# Build the libFuzzer targets in a clang build of their own and run each
# for a bounded time (SHOAL_FUZZ_SECONDS, default 8). Called by ctest as
# fuzz.libfuzzer from the normal build; skipped (77) without clang's
# libFuzzer.
#   run.sh SOURCE_DIR FUZZ_BUILD_DIR
set -euo pipefail
src=$1 dir=$2
seconds=${SHOAL_FUZZ_SECONDS:-8}
if ! command -v clang >/dev/null; then
    echo "SKIP: clang is not installed (scripts/deps.sh test installs clang and libclang-rt-dev)" >&2
    exit 77
fi
probe=$(mktemp -d /tmp/shoal-fuzz-probe.XXXXXX)
trap 'rm -rf "$probe"' EXIT
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return 0; }\n' > "$probe/p.c"
if ! clang -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" 2>"$probe/err"; then
    echo "SKIP: clang cannot link libFuzzer here (install libclang-rt-dev): $(head -n 3 "$probe/err")" >&2
    exit 77
fi
echo "fuzz build in $dir (clang, -DSHOAL_FUZZ=ON), ${seconds}s per target" >&2
CC=clang cmake -S "$src" -B "$dir" -DSHOAL_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSHOAL_FUZZ_SECONDS="$seconds" >/dev/null
cmake --build "$dir" -j "$(nproc)" >"$probe/build.log" 2>&1 || { tail -n 40 "$probe/build.log" >&2; exit 1; }
# the targets are single-threaded: run them side by side, one per core
ctest --test-dir "$dir" -L fuzz --output-on-failure -j "$(nproc)"
