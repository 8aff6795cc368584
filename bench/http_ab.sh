#!/usr/bin/env bash
# An A/B of two builds on this noisy machine: bench/http_profile.sh run with
# the programs of OLD_BUILD and of this checkout's build/, alternating, in
# one run, so both see the same load. Extra settings (SHOAL_PROFILE_LOOP,
# SHOAL_PROFILE_CALLGRIND, SHOAL_PROFILE_STRACE) pass through.
#
#   bench/http_ab.sh OLD_BUILD [TASKS] [ROUNDS]      default 30,000 tasks, 3 rounds
#   e.g. git worktree add /tmp/old main~3 && cmake -S /tmp/old -B /tmp/old/build
#        -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build /tmp/old/build -j2
set -euo pipefail
cd "$(dirname "$0")/.."
old=${1:?usage: bench/http_ab.sh OLD_BUILD [TASKS] [ROUNDS]}
n=${2:-30000}; rounds=${3:-3}
for r in $(seq 1 "$rounds"); do
    for v in old new; do
        b=$([ $v = old ] && echo "$old" || echo "$PWD/build")
        SHOAL_PROFILE_PERF=0 SHOAL_PROFILE_BIN=$b bench/http_profile.sh "$n" 2>&1 \
            | grep -E '^(load|CPU|context|callgrind|bare)' | sed "s/^/round $r $v: /"
    done
done
