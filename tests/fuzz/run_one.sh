#!/usr/bin/env bash
# Run one libFuzzer target: first over the committed seed corpus (every
# input there, including past crashes kept as regression seeds, must pass),
# then fuzz for SECONDS from a scratch copy of it. A crash leaves its input
# in a kept directory and fails the test.
#   run_one.sh TARGET_BINARY SEED_DIR SECONDS
set -euo pipefail
bin=$1 seeds=$2 seconds=$3
name=$(basename "$bin")
work=$(mktemp -d "/tmp/shoal-fuzz-$name.XXXXXX")
mkdir -p "$work/corpus"
cp "$seeds"/* "$work/corpus/" 2>/dev/null || true
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
opts=(-timeout=10 -rss_limit_mb=2048 -max_len=65536 -artifact_prefix="$work/" -print_final_stats=1)
# a dictionary of the format's words beside the seeds, if there is one
[ -f "${seeds%/}.dict" ] && opts+=(-dict="${seeds%/}.dict")
echo "$name: $(ls "$seeds" | wc -l) seeds, then ${seconds}s of fuzzing" >&2
if ! "$bin" "${opts[@]}" -runs=0 "$seeds" >"$work/seeds.log" 2>&1; then
    tail -n 60 "$work/seeds.log" >&2
    echo "$name: a seed input fails; kept in $work" >&2
    exit 1
fi
if ! "$bin" "${opts[@]}" -max_total_time="$seconds" "$work/corpus" >"$work/fuzz.log" 2>&1; then
    tail -n 80 "$work/fuzz.log" >&2
    echo "$name: crash; reproducer(s): $(ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* 2>/dev/null | tr '\n' ' ')" >&2
    echo "$name: run it again with: $bin <reproducer>" >&2
    exit 1
fi
grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)' "$work/fuzz.log" | tr '\n' ' ' >&2 || true
echo >&2
echo "$name: ok, corpus grew from $(ls "$seeds" | wc -l) to $(ls "$work/corpus" | wc -l) inputs" >&2
rm -rf "$work"
