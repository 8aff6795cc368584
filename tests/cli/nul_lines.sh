#!/usr/bin/env bash
# A NUL byte in a submitted line is an error naming FILE:LINE, wherever it
# is in the line (at its start it used to make the line vanish: exit 0,
# the job sealed without it), in every line format.
. "$(dirname "$0")/helpers.bash"

t_db
t_broker

for format in jsonl txt csv; do
    file="$T_DIR/nul.$format"
    header="" first=1
    [ $format = csv ] && header=$'url\n' first=2
    good() { case $format in jsonl) printf '{"url": "https://in.example/%s"}\n' "$1" ;; *) printf 'https://in.example/%s\n' "$1" ;; esac; }
    { printf '%s' "$header"; good 1
      printf '\0'; good lead            # a NUL at the start of the line
      case $format in jsonl) printf '{"url": "https://in.example/mid\0dle"}\n' ;; *) printf 'https://in.example/mid\0dle\n' ;; esac
      good 4; } > "$file"
    lead=$((first + 1)) mid=$((first + 2))

    t_run "$format.stop" shoal submit "$file"
    t_rc "$format: a NUL at the start of a line stops the submit" 3
    t_grep "$format: named FILE:LINE" "^$file:$lead: a NUL byte at column 1" "$T_DIR/$format.stop.err"

    t_run "$format.skip" shoal submit --skip-invalid "$file"
    t_rc "$format: --skip-invalid goes on" 0
    t_grep "$format: the leading NUL reported" "^$file:$lead: a NUL byte at column 1" "$T_DIR/$format.skip.err"
    t_grep "$format: the inner NUL reported" "^$file:$mid: a NUL byte at column [0-9]+" "$T_DIR/$format.skip.err"
    t_grep "$format: both counted" "skipped 2 invalid lines" "$T_DIR/$format.skip.err"
    job=$(cat "$T_DIR/$format.skip.out")
    t_assert_eq "$format: the two good lines, sealed" "2|t" "$(t_job_row "$job" "n_tasks, sealed")"
done
t_log "pass"
