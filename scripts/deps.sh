#!/usr/bin/env bash
# Install the Debian packages shoal needs, if any are missing.
#   scripts/deps.sh build   -> compilers and -dev libraries
#   scripts/deps.sh test    -> build + PostgreSQL, nginx, jq, python3, tmux, iproute2, clang,
#                              docker-compose and python3-yaml (to check docker/compose.yml offline),
#                              prometheus (the gateway's /metrics is scraped by a real one)
set -euo pipefail
what=${1:-test}
pkgs=(build-essential cmake pkg-config protobuf-c-compiler libprotobuf-c-dev libzmq3-dev libczmq-dev
      libcurl4-openssl-dev libpq-dev libjansson-dev libncurses-dev libssl-dev libcsv-dev
      libpcre2-dev libmicrohttpd-dev)
if [ "$what" = test ] || [ "$what" = demo ]; then
    pkgs+=(postgresql postgresql-client jq python3 nginx curl procps util-linux)
fi
if [ "$what" = test ]; then
    pkgs+=(tmux iproute2 iptables clang libclang-rt-dev docker-compose python3-yaml prometheus)
fi
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "missing Debian packages: ${missing[*]}" >&2
    echo "install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# a system PostgreSQL cluster is not needed: tests use throwaway ones
