#!/usr/bin/env bash
# The Debian package on this machine (docs/debian.md): built by CPack,
# installed with apt, its units started, a job run, purged.
#   - cpack builds shoal_VERSION_amd64.deb from the build directory
#   - apt-get install ./shoal_*.deb: the programs in /usr/bin, the units,
#     the shoal system user, /etc/shoal/*.env as conffiles, the docs
#   - systemd is not PID 1 here: each unit's ExecStart runs the way systemd
#     would run it, read from the installed unit file (User=, Group=,
#     EnvironmentFile=, WorkingDirectory=, StateDirectory=, the %i and %H
#     specifiers), so a wrong unit fails the test
#   - a broker and a worker from those units run a job
#   - apt-get purge: every file the package installed is gone, /etc/shoal
#     and /var/lib/shoal too, and the user it created
# It installs into the real system: skipped unless root, or if a shoal
# package or /usr/bin/shoal-broker is already here; the package is purged
# when the test exits, whatever happened.
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || t_skip "needs root (installs a package)"
for tool in cpack apt-get dpkg-shlibdeps setpriv; do
    command -v "$tool" >/dev/null || t_skip "$tool is not installed"
done
! dpkg -s shoal >/dev/null 2>&1 || t_skip "a shoal package is installed here already: not touching it"
[ ! -e /usr/bin/shoal-broker ] || t_skip "/usr/bin/shoal-broker exists already: not touching it"
user_existed=0
getent passwd shoal >/dev/null && user_existed=1

# ---- build
cpack -G DEB -B "$T_DIR/pkg" --config "$SHOAL_BIN/CPackConfig.cmake" > "$T_DIR/cpack.log" 2>&1 \
    || t_fail "cpack: $(tail -n 5 "$T_DIR/cpack.log")"
deb=$(ls "$T_DIR"/pkg/shoal_*_amd64.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || t_fail "no shoal_*_amd64.deb in $T_DIR/pkg"
t_log "ok: built $(basename "$deb")"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libpq5 libczmq4 libzmq5 libcurl4 adduser; do
    [[ $depends == *"$lib"* ]] || t_fail "Depends lacks $lib: $depends"
done
t_log "ok: Depends: $depends"

# ---- install (and purge at exit, whatever happens)
apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 -y "$@"; }
t_purge() {
    dpkg -s shoal >/dev/null 2>&1 || return 0
    apt_get purge shoal >> "$T_DIR/apt.log" 2>&1 || dpkg --purge --force-all shoal >> "$T_DIR/apt.log" 2>&1
}
t_on_exit t_purge
apt_get install --no-install-recommends "$deb" > "$T_DIR/apt.log" 2>&1 || t_fail "apt-get install: $(tail -n 5 "$T_DIR/apt.log")"
dpkg-query -L shoal > "$T_DIR/files"
for f in /usr/bin/shoal-broker /usr/bin/shoal-worker /usr/bin/shoal /usr/bin/shoal-monitor /usr/bin/shoal-gateway \
         /usr/lib/systemd/system/shoal-broker.service /usr/lib/systemd/system/shoal-worker@.service \
         /etc/shoal/broker.env /etc/shoal/worker.env /usr/share/doc/shoal/README.md /usr/share/doc/shoal/operations.md; do
    grep -qx "$f" "$T_DIR/files" || t_fail "the package does not install $f"
    [ -e "$f" ] || t_fail "$f listed but missing"
done
getent passwd shoal >/dev/null || t_fail "postinst made no shoal user"
t_assert_eq "owner of /var/lib/shoal" shoal "$(stat -c %U /var/lib/shoal)"
t_assert_eq "mode and group of /etc/shoal/broker.env" "640 shoal" "$(stat -c '%a %G' /etc/shoal/broker.env)"
t_assert_eq "conffiles" "/etc/shoal/broker.env /etc/shoal/worker.env" \
    "$(dpkg-query -W -f '${Conffiles}\n' shoal | awk 'NF {print $1}' | sort | xargs)"
/usr/bin/shoal-broker --version >/dev/null 2>&1 || /usr/bin/shoal-broker --help >/dev/null 2>&1 \
    || t_fail "the installed broker does not run: $(/usr/bin/shoal-broker --help 2>&1 | head -n 3)"
if command -v systemd-analyze >/dev/null; then
    systemd-analyze verify /usr/lib/systemd/system/shoal-broker.service > "$T_DIR/verify.out" 2>&1 || true
    [ ! -s "$T_DIR/verify.out" ] || t_fail "systemd-analyze verify: $(cat "$T_DIR/verify.out")"
fi

# ---- start units the way systemd would
# t_unit NAME UNITFILE INSTANCE: run the unit's ExecStart as its User/Group
# with its EnvironmentFiles, working and state directories; pid in PID[NAME]
t_unit() {
    local name=$1 unit=$2 inst=$3 host; host=$(hostname)
    u_get() { sed -n "s/^$1=//p" "$unit" | sed "s/%i/$inst/g; s/%H/$host/g"; }
    local user group wd state exec f envs=()
    user=$(u_get User); group=$(u_get Group); wd=$(u_get WorkingDirectory)
    state=$(u_get StateDirectory); exec=$(u_get ExecStart)
    [ -n "$user" ] && [ -n "$exec" ] || t_fail "$unit: no User= or ExecStart="
    while read -r f; do
        [ -n "$f" ] || continue
        if [ "${f#-}" != "$f" ]; then f=${f#-}; [ -f "$f" ] || continue; fi
        [ -f "$f" ] || t_fail "$unit: EnvironmentFile $f missing"
        while IFS= read -r line; do
            [[ $line =~ ^[A-Z_][A-Z0-9_]*= ]] && envs+=("$line")
        done < "$f"
    done < <(u_get EnvironmentFile)
    if [ -n "$state" ]; then install -d -o "$user" -g "$group" "/var/lib/$state"; fi
    read -r -a argv <<< "$exec"
    [ -x "${argv[0]}" ] || t_fail "$unit: ExecStart program ${argv[0]} is not installed"
    (cd "${wd:-/}" && exec setpriv --reuid="$user" --regid="$group" --init-groups \
        env -i PATH=/usr/bin:/bin "${envs[@]}" "${argv[@]}") >> "$T_DIR/$name.log" 2>&1 &
    PID[$name]=$!
}

t_db
mkdir -p "$T_DIR/run" && chown shoal "$T_DIR/run"
cat > /etc/shoal/broker.env <<ENV
SHOAL_DB=$DB
SHOAL_FRONTEND=tcp://127.0.0.1:0
SHOAL_BACKEND=tcp://127.0.0.1:0
SHOAL_PROGRESS=tcp://127.0.0.1:0
SHOAL_ENDPOINTS_FILE=$T_DIR/run/endpoints
SHOAL_LOG_LEVEL=info
ENV
t_unit broker /usr/lib/systemd/system/shoal-broker.service ""
t_wait "broker from its unit" 30 grep -q msg=broker_started "$T_DIR/broker.log"
t_assert_eq "the broker's user" shoal "$(ps -o user= -p "${PID[broker]}")"
FRONTEND=$(sed -n 's/^frontend=//p' "$T_DIR/run/endpoints")
BACKEND=$(sed -n 's/^backend=//p' "$T_DIR/run/endpoints")
cat > /etc/shoal/worker.env <<ENV
SHOAL_BROKER=$BACKEND
SHOAL_SLOTS=4
SHOAL_GRACE_MS=5000
SHOAL_LOG_LEVEL=info
ENV
t_unit worker1 /usr/lib/systemd/system/shoal-worker@.service 1
export SHOAL_BROKER=$FRONTEND
cli=/usr/bin/shoal
t_wait "worker from its unit" 30 t_test_eq 1 bash -c "$cli -o json workers | jq length"
t_assert_eq "the worker's id (%H-%i)" "$(hostname)-1" "$($cli -o json workers | jq -r '.[0].id')"
t_assert_eq "the worker's user" shoal "$(ps -o user= -p "${PID[worker1]}")"
job=$($cli submit --count 200 --sleep-ms 1 --name deb -q)
t_wait "job $job done" 60 t_test_eq done bash -c "$cli -o json status $job | jq -r .state"
t_assert_one_result_each "$job" 200

# ---- stop (KillSignal=SIGTERM), purge, nothing left
for p in worker1 broker; do
    kill -TERM "${PID[$p]}"
    t_wait "$p exits on SIGTERM" 30 t_exited "${PID[$p]}"
    unset "PID[$p]"
done
apt_get purge shoal >> "$T_DIR/apt.log" 2>&1 || t_fail "apt-get purge: $(tail -n 5 "$T_DIR/apt.log")"
! dpkg -s shoal >/dev/null 2>&1 || t_fail "still installed after purge"
left=0
while read -r f; do
    [ -d "$f" ] && continue
    if [ -e "$f" ]; then t_log "left after purge: $f"; left=$((left + 1)); fi
done < "$T_DIR/files"
t_assert_eq "files left after purge" 0 "$left"
[ ! -e /etc/shoal ] || t_fail "/etc/shoal left after purge: $(ls -A /etc/shoal)"
[ ! -e /var/lib/shoal ] || t_fail "/var/lib/shoal left after purge"
[ ! -e /usr/share/doc/shoal ] || t_fail "/usr/share/doc/shoal left after purge"
if [ $user_existed = 0 ]; then
    ! getent passwd shoal >/dev/null || t_fail "the shoal user the package made is left after purge"
    ! getent group shoal >/dev/null || t_fail "the shoal group the package made is left after purge"
    t_log "ok: the shoal user and group are gone"
else
    getent passwd shoal >/dev/null || t_fail "purge removed a shoal user the package did not make"
fi
t_log "pass"
