#!/bin/sh
# Docker HEALTHCHECK of the shoal image.
#   the broker: its frontend answers a request (`shoal workers`, answered
#     from memory, so a database outage shows in the logs, not as a restart)
#   the gateway: GET /healthz answers 200 (the broker answers and its
#     database is up)
#   a worker, a monitor: the process is still there
# The program is found from process 1's command line (SHOAL_HEALTH_PID
# names another process, for tests). With CURVE on, the check is a client
# of the broker: SHOAL_CURVE_SERVER_KEY and SHOAL_CURVE_KEY must name the
# broker's public key and a key pair the broker allows.
set -eu
pid=${SHOAL_HEALTH_PID:-1}
cmd=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null) || exit 1
case "$cmd" in
    *shoal-broker*)
        exec shoal --broker "${SHOAL_HEALTH_BROKER:-tcp://127.0.0.1:5555}" --broker-timeout-ms 3000 \
            -o json workers >/dev/null ;;
    *shoal-gateway*)
        exec curl -fsS --max-time 4 -o /dev/null "${SHOAL_HEALTH_GATEWAY:-http://127.0.0.1:8080}/healthz" ;;
    *)
        kill -0 "$pid" ;;
esac
