#!/bin/sh
# Make the CURVE keys of a compose cluster once, in DIR (default /keys):
# broker, worker (shared by every scaled worker), client (the CLI, the
# monitor and the broker's healthcheck); the public keys of worker and
# client go into DIR/allowed, the broker's --curve-allow directory; and a
# bearer token for the gateway in DIR/gateway.tokens. Keys and tokens that
# exist are kept, so `docker compose up` again changes nothing.
set -eu
dir=${1:-/keys}
mkdir -p "$dir/allowed"
for name in broker worker client; do
    [ -f "$dir/$name.key_secret" ] || shoal keygen "$name" --dir "$dir" >/dev/null
done
for name in worker client; do
    cp "$dir/$name.key" "$dir/allowed/$name.key"
done
if [ ! -s "$dir/gateway.tokens" ]; then
    (umask 077; od -An -tx1 -N24 /dev/urandom | tr -d ' \n' > "$dir/gateway.tokens"; echo >> "$dir/gateway.tokens")
fi
echo "keys in $dir: broker.key (give to workers and clients), allowed/ ($(ls "$dir/allowed" | tr '\n' ' ')), gateway.tokens"
