# Shared set-up of the benchmark scripts: source it from bench/*.sh.
#   bench_setup NAME DEPS    build (RelWithDebInfo, scripts/deps.sh DEPS),
#                            make $work, kill $pids and stop what ran in
#                            $work at exit, start a throwaway PostgreSQL
#                            with fsync on ($DB)
# Also: $bin (the build directory), ms (wall clock, ms), rate N MS (per s).
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bench_setup() {
    scripts/deps.sh "$2" >/dev/null
    cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build build -j "$(nproc)" >/dev/null
    bin=$PWD/build
    work=$(mktemp -d "/tmp/shoal-bench-$1.XXXXXX"); chmod 755 "$work"
    pids=()
    trap bench_cleanup EXIT
    DB=$(PG_FSYNC=on scripts/pg-sandbox.sh start "$work/pg")
}

bench_cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    scripts/nginx-sandbox.sh stop "$work/nginx" >/dev/null 2>&1 || true
    scripts/pg-sandbox.sh stop "$work/pg" immediate >/dev/null 2>&1 || true
    rm -rf "$work"
}

ms() { date +%s%3N; }
rate() { awk -v n="$1" -v ms="$2" 'BEGIN { printf "%.0f", n * 1000 / ms }'; }
