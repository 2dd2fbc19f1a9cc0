# Helpers for the daemon lab scripts (sourced after lab-lib.sh): the daemon
# under a config of the script's, workloads measured by `numa-workload probe`
# (numa_maps and threads' CPUs: the truth, not the daemon's own estimate).

nb=/tmp/nb
w="$bin/numa-workload"
mkdir -p "$nb/policies.d"
# The ruler is measured, not balanced (and its CPU is not a workload's).
cat > "$nb/policies.d/10-lab-probe.yaml" <<POLICY
apiVersion: numabalance/v1
kind: Policy
name: lab-probe
description: The lab's ruler, numa-workload probe, is measured, not balanced.
match:
  cmdline: "numa-workload probe"
placement:
  mode: ignore
POLICY
# The config the daemon starts with; scripts may rewrite it.
write_config() {
    cat > "$nb/numabalance.yaml" <<CONFIG
kernelBalancing: ${1:-leave}
stateDirectory: $nb/state
runtimeDirectory: $nb/run
policyDirectory: $nb/policies.d
logLevel: debug
scanPeriod:
  min: 1s
  max: 10s
sampling:
  minRSS: 16MiB
migration:
  maxRateMBps: ${2:-1024}
CONFIG
}

# daemon_start NAME [WRAPPER...]: `numabalance run` in the background (under
# WRAPPER, which must exec it), its log in NAME-daemon.log; waits until it
# answers on its socket. Sets $daemon.
daemon_start() {
    name=$1; shift
    "$@" "$bin/numabalance" run --config "$nb/numabalance.yaml" > "$out/$name-daemon.log" 2>&1 &
    daemon=$!
    tries=0
    until "$bin/numabalance" status --runtime-dir "$nb/run" > /dev/null 2>&1; do
        tries=$((tries + 1))
        if [ $tries -gt 300 ] || ! kill -0 "$daemon" 2>/dev/null; then
            echo "lab: the daemon did not come up" >&2
            cat "$out/$name-daemon.log" >&2
            return 1
        fi
        sleep 0.1
    done
    mark "$name-daemon-up"
}

# begin_standalone: the guest's start: its nodes described, the kernel
# balancer off (as found: the daemon leaves it), the daemon up.
begin_standalone() {
    mark start
    describe_nodes
    echo 0 > /proc/sys/kernel/numa_balancing
    write_config leave
    daemon_start standalone
}

# daemon_stop NAME: SIGTERM, then the exit code and the seconds it took.
daemon_stop() {
    t0=$(cut -d' ' -f1 /proc/uptime)
    kill -TERM "$daemon"
    wait "$daemon"
    echo $? > "$out/$1-daemon.rc"
    t1=$(cut -d' ' -f1 /proc/uptime)
    echo "$t0 $t1" | awk '{ printf "%.2f\n", $2 - $1 }' > "$out/$1-daemon-stop-seconds.txt"
}

# status NAME: the daemon's status as JSON, into NAME-status.json.
status() { "$bin/numabalance" status --json --runtime-dir "$nb/run" > "$out/$1-status.json" 2>&1; }

# wait_idle: until the daemon's status says no action is in flight (its
# totals then count every page its acts moved: a migrate_pages call adds
# them only when it returns), 120 s at most; then pgmigrate_success too
# must hold still for a second (the kernel counts a call's pages at its end).
wait_idle() {
    tries=0
    until "$bin/numabalance" status --json --runtime-dir "$nb/run" 2>/dev/null | grep -q '"actionInFlight" *: *false'; do
        tries=$((tries + 1))
        if [ $tries -gt 1200 ]; then echo "lab: the daemon was still acting after 120 s" >&2; return 1; fi
        sleep 0.1
    done
    # With the kernel's balancer on, the kernel migrates pages at any time:
    # the counter is not the daemon's to hold still.
    [ "$(cat /proc/sys/kernel/numa_balancing)" = 0 ] || return 0
    a=$(sed -n 's/^pgmigrate_success //p' /proc/vmstat)
    while :; do
        sleep 1
        b=$(sed -n 's/^pgmigrate_success //p' /proc/vmstat)
        [ "$a" = "$b" ] && return 0
        a=$b
    done
}

# settled NAME: NAME-status.json and NAME-migrated-end.txt (pgmigrate_success)
# read while the daemon is idle. An act can start between wait_idle and the
# status (a 2-page move did, once: "taken while the daemon acted"), so both
# are read again until the status says idle and the counter held still
# around it.
settled() {
    kernel_balancing=$(cat /proc/sys/kernel/numa_balancing)
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        wait_idle || return 1
        before=$(sed -n 's/^pgmigrate_success //p' /proc/vmstat)
        status "$1"
        after=$(sed -n 's/^pgmigrate_success //p' /proc/vmstat)
        # (In hybrid mode the kernel's own migrations move the counter: the status alone decides.)
        if { [ "$kernel_balancing" != 0 ] || [ "$before" = "$after" ]; } \
            && grep -q '"actionInFlight" *: *false' "$out/$1-status.json"; then
            echo "$after" > "$out/$1-migrated-end.txt"
            return 0
        fi
    done
    echo "lab: the daemon did not stay idle long enough for $1's status" >&2
    return 1
}

# ready_pids FILE: the pids of every ready line, comma-separated.
ready_pids() { sed -n 's/^ready pid=\([0-9]*\).*/\1/p' "$1" | paste -sd, -; }

# scenario NAME COUNT TARGET SECONDS COMMAND...: starts a workload of COUNT
# processes, probes their locality every second until all are at TARGET for
# 3 s (mean:T: their mean at T for 10 s, since a passing touch of it is
# easy where no process fits a node) or SECONDS pass (NAME-probe.jsonl);
# once the daemon is idle, keeps its status and pgmigrate_success; stops it.
# SECONDS is longer than the test's bound, so a late arrival fails the bound.
# With no_daemon=1 (a control run of the kernel alone) no status is kept.
scenario() {
    name=$1; count=$2; target=$3; seconds=$4; shift 4
    mark "$name-start"
    sed -n 's/^pgmigrate_success //p' /proc/vmstat > "$out/$name-migrated-start.txt"
    [ "${no_daemon:-}" = 1 ] || status "$name-start"
    "$@" > "$out/$name.log" 2>&1 &
    workload=$!
    wait_ready "$out/$name.log" "$count" || return 1
    pids=$(ready_pids "$out/$name.log")
    echo "$pids" > "$out/$name-pids.txt"
    mark "$name-ready"
    case "$target" in
        -) until="" ;;
        mean:*) until="--until ${target#mean:} --mean --hold 10" ;;
        *) until="--until $target" ;;
    esac
    # shellcheck disable=SC2086
    nice -n 10 "$bin/numa-workload" probe --pids "$pids" --seconds "$seconds" $until > "$out/$name-probe.jsonl"
    if [ "${no_daemon:-}" = 1 ]; then
        sed -n 's/^pgmigrate_success //p' /proc/vmstat > "$out/$name-migrated-end.txt"
    else
        settled "$name" || return 1
    fi
    stop "$workload"
    mark "$name-end"
}
