#!/usr/bin/env bash
# Helpers for tests that use shoal-monitor as a person does: in a terminal
# (a tmux pane of a fixed size), pressing keys (send-keys) and reading the
# screen (capture-pane). Sourced after tests/lib.sh; named .bash so the
# test glob (*.sh) does not run it.
#
#   m_start NAME COLS ROWS [VAR=VALUE...] -- [monitor flags...]
#   m_screen NAME                     # the screen as text
#   m_keys NAME KEY...                # tmux send-keys
#   m_wait_screen NAME "what" TIMEOUT_S REGEX
#   m_done NAME JOB                   # DONE/TOTAL of the job's row, commas removed
#   m_detail NAME LABEL               # a number from the detail pane's "tasks" line
#   m_quit NAME...                    # q; each must exit with status 0

command -v tmux >/dev/null || t_skip "tmux is not installed (scripts/deps.sh test installs it)"
M_SOCK="$T_DIR/tmux.sock"
# no status line (the pane is the whole window), keep dead panes to read,
# a known shell
printf 'set -g status off\nset -g remain-on-exit on\nset -g history-limit 0\nset -g default-shell /bin/sh\n' \
    > "$T_DIR/tmux.conf"

m_tmux() { tmux -S "$M_SOCK" -f "$T_DIR/tmux.conf" "$@"; }

m_start() {
    local name=$1 cols=$2 rows=$3; shift 3
    local envs=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    local cmd
    cmd=$(printf '%q ' env "${envs[@]}" "$SHOAL_BIN/shoal-monitor" --broker "$FRONTEND" --progress "$PROGRESS" "$@")
    # the monitor runs under the pane's shell, as in a terminal: tmux sends
    # SIGCONT to a pane's own process when it stops, not to its children
    # (and it writes the monitor's exit status: tmux does not always have
    # it when several panes end at once)
    rm -f "$T_DIR/exit-$name"
    m_tmux new-session -d -s "$name" -x "$cols" -y "$rows" \
        "$cmd 2>>$T_DIR/monitor-$name.log; echo \$? > $T_DIR/exit-$name.tmp; mv $T_DIR/exit-$name.tmp $T_DIR/exit-$name"
    PID[tmux]=$(m_tmux display -p '#{pid}')
    local shell; shell=$(m_tmux display -p -t "$name" '#{pane_pid}')
    PID[shell-$name]=$shell
    t_wait "the monitor started in tmux" 10 pgrep -P "$shell"
    PID[monitor-$name]=$(pgrep -P "$shell")
}

m_screen() { m_tmux capture-pane -p -t "$1"; }
m_keys() { local name=$1; shift; m_tmux send-keys -t "$name" "$@"; }
m_has() { m_screen "$1" | grep -qE -- "$2"; }
# like t_wait, and on a timeout the screen goes to the log
m_wait_screen() {
    local name=$1 what=$2 timeout=$3 regex=$4
    local deadline=$(( $(date +%s%N) / 1000000 + timeout * 1000 ))
    until m_has "$name" "$regex"; do
        if [ $(( $(date +%s%N) / 1000000 )) -gt $deadline ]; then
            m_dump "$name"
            t_fail "timed out after ${timeout}s waiting for: $what"
        fi
        sleep 0.05
    done
}
m_dump() { { echo "---- screen of $1"; m_screen "$1"; echo "----"; } >&2; }
# t_wait for a condition on the screen, dumping the screen on a timeout
m_wait() {
    local name=$1 what=$2 timeout=$3; shift 3
    local deadline=$(( $(date +%s%N) / 1000000 + timeout * 1000 ))
    until "$@" > /dev/null 2>&1; do
        if [ $(( $(date +%s%N) / 1000000 )) -gt $deadline ]; then
            m_dump "$name"
            t_fail "timed out after ${timeout}s waiting for: $what"
        fi
        sleep 0.05
    done
}
# the job's row: "> " or "  ", the id, the name...
m_job_row() { m_screen "$1" | grep -E "^(> |  ) *$2 " | head -n 1; }
m_done() { m_job_row "$1" "$2" | tr ' ' '\n' | grep -E '^[0-9,]+/[0-9,]+$' | head -n 1 | tr -d ,; }
m_job_state() { m_job_row "$1" "$2" | sed 's/^> /  /' | awk '{print $3}'; }
# done count is between lo and hi
m_done_between() {
    local d; d=$(m_done "$1" "$2"); d=${d%/*}
    [ -n "$d" ] && [ "$d" -ge "$3" ] && [ "$d" -le "$4" ]
}
m_detail() {
    m_screen "$1" | grep -E '^ tasks ' | grep -oE "(^| )$2 [0-9,]+" | awk '{print $NF}' | tr -d ,
}
# the monitor in the pane exited; m_exit_status says how
m_pane_dead() { [ -f "$T_DIR/exit-$1" ]; }
m_exit_status() { cat "$T_DIR/exit-$1"; }
# q, then the monitor must exit with status 0 (under the sanitizer build
# its leak check runs then, instead of being cut short by the cleanup)
m_quit() {
    local name
    for name in "$@"; do m_keys "$name" q; done
    for name in "$@"; do
        t_wait "the $name monitor exits on q" 20 m_pane_dead "$name"
        [ "$(m_exit_status "$name")" = 0 ] \
            || t_fail "the $name monitor exited with status $(m_exit_status "$name") (128 + N: signal N)"
        unset "PID[monitor-$name]"
    done
}
# the screen is drawn for COLS x ROWS: as many lines, the jobs rule and the
# header as wide as the window, the footer on the last line
m_drawn_at() {
    local name=$1 cols=$2 rows=$3 screen
    screen=$(m_screen "$name")
    [ "$(printf '%s\n' "$screen" | wc -l)" -eq "$rows" ] || return 1
    [ "$(printf '%s\n' "$screen" | grep -E '^--- Jobs' | awk '{print length}')" = "$cols" ] || return 1
    [ "$(printf '%s\n' "$screen" | head -n 1 | awk '{print length}')" = "$cols" ] || return 1
    printf '%s\n' "$screen" | tail -n 1 | grep -q 'q quit'
}
