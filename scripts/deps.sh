#!/usr/bin/env bash
# Install the Debian packages shoal needs, if any are missing.
#   scripts/deps.sh build   -> compilers and -dev libraries
#   scripts/deps.sh test    -> build + PostgreSQL, nginx, jq, python3, tmux, iproute2, clang,
#                              docker-compose and python3-yaml (to check docker/compose.yml offline),
#                              prometheus (the gateway's /metrics is scraped by a real one),
#                              wrk (bench/gateway_ingest.sh), chromium (the dashboard is tested in a
#                              real browser; playwright-core comes from npm, the npm of Node.js),
#                              python3-boto3 and moto_server (the S3 tests; moto is not packaged
#                              in Debian 12, so it comes from PyPI through pipx into /usr/local/bin),
#                              dpkg-dev and adduser (the .deb: dpkg-shlibdeps, tests/deploy/deb_install.sh)
#   scripts/deps.sh peers   -> build + what bench/peers.sh runs beside shoal (../shared/peers/README.md):
#                              gearmand and its C library, Redis (BullMQ), psycopg2, Node.js and npm
#                              (graphile-worker and bullmq come from npm), nginx, wrk, PostgreSQL;
#                              never installed by the test suite
set -euo pipefail
what=${1:-test}
pkgs=(build-essential cmake pkg-config protobuf-c-compiler libprotobuf-c-dev libzmq3-dev libczmq-dev
      libcurl4-openssl-dev libpq-dev libjansson-dev libncurses-dev libssl-dev libcsv-dev
      libpcre2-dev libmicrohttpd-dev zlib1g-dev)
if [ "$what" = test ] || [ "$what" = demo ]; then
    pkgs+=(postgresql postgresql-client jq python3 nginx curl procps util-linux)
fi
if [ "$what" = peers ]; then
    pkgs+=(postgresql postgresql-client nginx wrk curl time gearman-job-server libgearman-dev redis-server
           python3-psycopg2 nodejs)
    command -v npm >/dev/null 2>&1 || pkgs+=(npm)     #  a Node.js from elsewhere may bring its own npm
fi
if [ "$what" = test ]; then
    pkgs+=(tmux iproute2 iptables clang libclang-rt-dev docker-compose python3-yaml prometheus
           python3-boto3 pipx wrk chromium dpkg-dev adduser)
fi
# moto_server for tests/s3 (after the Debian packages, which bring pipx)
s_moto() {
    [ "$what" = test ] || return 0
    command -v moto_server >/dev/null 2>&1 && return 0
    if [ "$(id -u)" != 0 ]; then
        echo "missing moto_server (tests/s3): install it with: pipx install 'moto[server]'" >&2
        return 1
    fi
    echo "installing: moto[server] (pipx, into /usr/local/bin)" >&2
    # without it only tests/s3 fail (each says what to install); the rest of
    # the suite still runs, so a registry that cannot be reached is no reason
    # to stop here
    PIPX_HOME=/opt/pipx PIPX_BIN_DIR=/usr/local/bin pipx install --quiet 'moto[server]' >/dev/null \
        || echo "could not install moto[server] with pipx: the tests/s3 tests will fail until moto_server is on PATH" >&2
}
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    s_moto
    exit $?
fi
if [ "$(id -u)" != 0 ]; then
    echo "missing Debian packages: ${missing[*]}" >&2
    echo "install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
s_moto
# a system PostgreSQL cluster is not needed: tests use throwaway ones
