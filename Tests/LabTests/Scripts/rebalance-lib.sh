# Helpers for the rebalance lab scripts (sourced after lab-lib.sh).

# Root's journal (NUMABALANCE_STATE_DIR is not honoured for root); a tmpfs in the guest.
journal_dir=/var/lib/numabalance

# affinity PID NAME: every thread's Cpus_allowed_list, one "tid list" line each.
affinity() {
    for task in /proc/"$1"/task/*; do
        echo "$(basename "$task") $(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "$task/status")"
    done > "$out/$2-affinity.txt"
}

# migrated NAME: pgmigrate_success now, into NAME-vmstat.txt.
migrated() { sed -n "s/^pgmigrate_success //p" /proc/vmstat > "$out/$1-vmstat.txt"; }

# rebalance NAME PID ARGS...: runs numabalance rebalance --json, keeping
# its JSON, stderr, exit code and the guest's time around it.
rebalance() {
    name=$1; shift
    mark "$name-start"
    "$bin/numabalance" rebalance "$@" --json > "$out/$name.json" 2> "$out/$name.err"
    echo $? > "$out/$name.rc"
    mark "$name-end"
}

# start NAME COMMAND...: a workload in the background, its log in NAME.log;
# sets $workload (its pid as the shell knows it) and $pid (the first ready line's).
# A workload that never gets ready ends the script (the test reports why).
start() {
    name=$1; shift
    "$@" > "$out/$name.log" 2>&1 &
    workload=$!
    wait_ready "$out/$name.log" 1 || exit 1
    pid=$(first_pid "$out/$name.log")
}
