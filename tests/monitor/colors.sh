#!/usr/bin/env bash
# Colours and glyphs follow the environment: with NO_COLOR set (to any
# value, even empty) the screen has no colour at all, bold and reverse
# still mark what matters; without it there are colours. A UTF-8 locale
# gets block glyphs for the bars and the sparkline, any other locale plain
# ASCII. Too small a terminal is said, not garbled.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tmux.bash"

t_db
t_broker --heartbeat-ms 200
t_worker w1 --slots 4
t_wait_workers 1
job=$(shoal submit --count 200 --sleep-ms 10 --name colors -q)
t_wait_done "$job" 60

m_start color 120 40 LC_ALL=C.UTF-8 --
m_start nocolor 120 40 LC_ALL=C.UTF-8 NO_COLOR=1 --
m_start empty 120 40 LC_ALL=C NO_COLOR= --
m_start tiny 40 8 LC_ALL=C --
for s in color nocolor empty; do
    m_wait_screen $s "job $job done on the $s screen" 20 "^> +$job +colors +done "
done
# what tmux holds for each cell, attributes as escape sequences
sgr() { m_tmux capture-pane -p -e -t "$1" | grep -oE $'\e\\[[0-9;]*m' | sort -u | tr '\n' ' '; }
has_colour() { grep -qE $'\e\\[([0-9]+;)*(3[0-7]|38|4[0-7]|48|9[0-7]|10[0-7])(;[0-9]+)*m' <<<"$(sgr "$1")"; }
has_colour color || t_fail "no colour without NO_COLOR: $(sgr color | cat -v)"
has_colour nocolor && t_fail "colours with NO_COLOR=1: $(sgr nocolor | cat -v)"
has_colour empty && t_fail "colours with NO_COLOR set empty: $(sgr empty | cat -v)"
grep -qE $'\e\\[([0-9]+;)*1(;[0-9]+)*m' <<<"$(sgr nocolor)" || t_fail "no bold with NO_COLOR: $(sgr nocolor | cat -v)"
t_log "escape sequences: colour: $(sgr color | cat -v); NO_COLOR: $(sgr nocolor | cat -v)"

# glyphs: blocks in UTF-8, ASCII elsewhere
m_has color "^> +$job +colors +done +█+ +100\\.0%" || { m_dump color; t_fail "no block bar in a UTF-8 locale"; }
m_has color "^rate .*[▁▂▃▄▅▆▇█]" || { m_dump color; t_fail "no block sparkline in a UTF-8 locale"; }
m_has empty "^> +$job +colors +done +#+ +100\\.0%" || { m_dump empty; t_fail "no ASCII bar in the C locale"; }
t_assert_eq "non-ASCII bytes on the C-locale screen" 0 "$(m_screen empty | LC_ALL=C grep -c $'[\x80-\xff]' || true)"

# too small: a message instead of a broken layout
m_wait_screen tiny "the small terminal says so" 10 "terminal too small: 40x8"
m_tmux resize-window -t tiny -x 100 -y 30
m_wait_screen tiny "grown to 100x30, it shows the job" 10 "^> +$job +colors +done "
m_quit color nocolor empty tiny
t_log "pass"
