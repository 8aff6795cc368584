#!/usr/bin/env bash
# Build shoal and run its whole test suite against a throwaway PostgreSQL.
#
#   scripts/test.sh              normal build, then the sanitizer build
#   scripts/test.sh --quick      normal build only
#   scripts/test.sh --sanitize   sanitizer build only
#   scripts/test.sh ... -- ARGS  extra ctest arguments (e.g. -- -L fault)
# Tests run in parallel, SHOAL_TEST_JOBS at once (default: the number of
# cores; at cores + 1 the bulk tests stalled the shared PostgreSQL and a
# broker's memory bound failed): each black-box test has its own database, kernel-chosen ports
# (tests/lib.sh) and temporary directory; tests that need the machine to
# themselves say so with RUN_SERIAL (tests/CMakeLists.txt).
# Exits with ctest's status.
set -euo pipefail
cd "$(dirname "$0")/.."
builds=(normal sanitize)
case "${1:-}" in
    --quick) builds=(normal); shift ;;
    --sanitize) builds=(sanitize); shift ;;
esac
[ "${1:-}" = -- ] && shift
ctest_args=("$@")

scripts/deps.sh test

pgdir=$(mktemp -d /tmp/shoal-test-pg.XXXXXX)
chmod 755 "$pgdir"
cleanup() {
    scripts/pg-sandbox.sh stop "$pgdir/pg" immediate >/dev/null 2>&1 || true
    rm -rf "$pgdir"
}
trap cleanup EXIT
SHOAL_TEST_PG=$(scripts/pg-sandbox.sh start "$pgdir/pg")
export SHOAL_TEST_PG

status=0
for b in "${builds[@]}"; do
    if [ "$b" = sanitize ]; then
        dir=build-sanitize
        flags=(-DSHOAL_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
        export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
        export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    else
        dir=build
        flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
    fi
    echo "== $b build ($dir)" >&2
    cmake -S . -B "$dir" "${flags[@]}" >/dev/null
    cmake --build "$dir" -j "$(nproc)" >/dev/null
    extra=()
    # the sanitizer run leaves out the tests labelled slow (throughput,
    # memory figures, long waits), the offline check of the deployment
    # files and the network namespace test (its code paths run under the
    # sanitizer in security.* and fault.*); the normal run has them all
    [ "$b" = sanitize ] && extra=(-LE 'slow|deploy|multihost')
    SHOAL_SANITIZED=$([ "$b" = sanitize ] && echo 1 || echo 0) \
        ctest --test-dir "$dir" --output-on-failure -j "${SHOAL_TEST_JOBS:-$(nproc)}" \
            "${extra[@]}" "${ctest_args[@]}" || status=$?
    [ $status -eq 0 ] || break
done
exit $status
