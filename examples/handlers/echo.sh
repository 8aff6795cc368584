#!/bin/sh
# echo.sh -- a handler in plain shell: answers each task with its id, the
# process id and a per-process counter. It shows the whole protocol: say
# ready, read a line, write one answer line. (Real handlers want a JSON
# parser; this one only needs the id, which is always the first field.)
#
#   shoal-worker --handler 'shecho[procs=2]=sh examples/handlers/echo.sh'
echo '{"ready": true}'
n=0
while IFS= read -r line; do
    n=$((n + 1))
    id=${line#*\"id\":\"}
    id=${id%%\"*}
    printf '{"id":"%s","ok":true,"output":{"pid":%d,"n":%d}}\n' "$id" "$$" "$n"
done
