#!/bin/sh
# Inside a numa-lab guest: the daemon for MINUTES under churn (waves of 20
# short processes, one after another), SIGHUP every minute with a good
# policy set (two in turn), a broken one on top of it and the good one
# again (a start refuses a broken file, as it should, so it is never left in
# place), and kill -9 plus a restart every 5 minutes, with long-lived workloads it pins and moves (numa01, shm-group).
# Writes what the host's Tests/Benchmarks/soak sums up:
#   rss.tsv        seconds, incarnation, daemon VmRSS in KiB (every 20 s)
#   deaths.txt     incarnation, how it ended (killed by us, or anything else)
#   sysctl.txt     kernel.numa_balancing at each kill and restart
#   hup.txt        each SIGHUP: which set, and whether the daemon was alive after
#   pinned-*.txt   the workloads' threads pinned narrower than the machine,
#                  before and after `restore`; restore-*.json its answers
# Usage: sh soak.sh BIN_FOLDER MINUTES
here=$(dirname "$0")/../../LabTests/Scripts
minutes=${2:-30}
. "$here/lab-lib.sh"
. "$here/daemon-lib.sh"
mark start
describe_nodes
echo 1 > /proc/sys/kernel/numa_balancing
write_config disable
all_cpus=$(cat /sys/devices/system/cpu/online)
seconds=$((minutes * 60))

# Policy sets for the reloads: A (the lab's probe only), B (A and a pin by a
# cmdline regex), broken (B and a file that does not parse).
set_policies() {
    rm -f "$nb/policies.d/20-soak.yaml" "$nb/policies.d/30-broken.yaml"
    case $1 in
    B|broken)
        cat > "$nb/policies.d/20-soak.yaml" <<POLICY
apiVersion: numabalance/v1
kind: Policy
name: soak-sleepers
match:
  cmdline: "^sleep 86400"
placement:
  mode: ignore
POLICY
        ;;
    esac
    if [ "$1" = broken ]; then
        printf 'apiVersion: numabalance/v1\nkind: Policy\nname: [broken\n' > "$nb/policies.d/30-broken.yaml"
    fi
}
set_policies A

incarnation=1
daemon_start soak-1 || exit 1
# Long-lived work the daemon pins and moves: its acts are what restore undoes.
"$w" numa01 --mib 64 --mem-node 0 --seconds $((seconds + 300)) > "$out/numa01.log" 2>&1 &
numa01=$!
"$w" shm-group --groups 2 --procs 2 --mib 32 --mem-node 0 --seconds $((seconds + 300)) > "$out/shm.log" 2>&1 &
shm=$!
wait_ready "$out/numa01.log" 2 || exit 1
wait_ready "$out/shm.log" 4 || exit 1
workload_pids="$(ready_pids "$out/numa01.log"),$(ready_pids "$out/shm.log")"
echo "$workload_pids" > "$out/workload-pids.txt"

# Churn: waves of 20 processes of 8 to 24 MiB living 2 to 6 s, until told to stop.
: > "$out/churn-count.txt"
(
    wave=0
    while [ ! -e "$nb/stop-churn" ]; do
        i=0; children=""
        while [ $i -lt 20 ]; do
            "$w" split --mib $((8 + (i % 3) * 8)) --share 0:1 --seconds $((2 + i % 5)) > /dev/null 2>&1 &
            children="$children $!"
            i=$((i + 1))
        done
        for child in $children; do wait "$child" 2>/dev/null; done
        wave=$((wave + 1))
        echo $((wave * 20)) > "$out/churn-count.txt"
    done
) &
churner=$!

start=$(cut -d' ' -f1 /proc/uptime | cut -d. -f1)
now() { echo $(( $(cut -d' ' -f1 /proc/uptime | cut -d. -f1) - start )); }
: > "$out/rss.tsv"; : > "$out/deaths.txt"; : > "$out/sysctl.txt"; : > "$out/hup.txt"
next_hup=60; next_kill=300; next_rss=0; hup=0
while [ "$(now)" -lt "$seconds" ]; do
    t=$(now)
    if ! kill -0 "$daemon" 2>/dev/null; then
        wait "$daemon"; rc=$?
        echo "$incarnation died rc=$rc at $t s (not killed by the soak)" >> "$out/deaths.txt"
        incarnation=$((incarnation + 1))
        daemon_start "soak-$incarnation" || exit 1
    fi
    if [ "$t" -ge "$next_rss" ]; then
        echo "$t $incarnation $(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' /proc/"$daemon"/status)" >> "$out/rss.tsv"
        next_rss=$((next_rss + 20))
    fi
    if [ "$t" -ge "$next_hup" ]; then
        # A good set (A and B in turn), then a broken one on top of it, then
        # the good one again: each reload and whether the daemon lived.
        hup=$((hup + 1))
        [ $((hup % 2)) -eq 1 ] && set=B || set=A
        for step in $set broken $set; do
            set_policies $step
            kill -HUP "$daemon"
            sleep 2
            kill -0 "$daemon" 2>/dev/null && alive=alive || alive=dead
            echo "$t $step $alive" >> "$out/hup.txt"
        done
        next_hup=$((next_hup + 60))
    fi
    if [ "$t" -ge "$next_kill" ]; then
        kill -KILL "$daemon"; wait "$daemon" 2>/dev/null
        echo "$incarnation killed at $t s" >> "$out/deaths.txt"
        echo "$t killed $(cat /proc/sys/kernel/numa_balancing)" >> "$out/sysctl.txt"
        incarnation=$((incarnation + 1))
        daemon_start "soak-$incarnation" || exit 1
        echo "$(now) restarted $(cat /proc/sys/kernel/numa_balancing)" >> "$out/sysctl.txt"
        next_kill=$((next_kill + 300))
    fi
    sleep 1
done

# The end: a last kill -9, then what restore undoes against what is outstanding.
touch "$nb/stop-churn"; wait "$churner"
kill -KILL "$daemon"; wait "$daemon" 2>/dev/null
echo "$incarnation killed at the end" >> "$out/deaths.txt"
echo "$(now) killed-last $(cat /proc/sys/kernel/numa_balancing)" >> "$out/sysctl.txt"
# pinned FILE: the workloads' threads whose affinity is narrower than the machine.
pinned() {
    for pid in $(echo "$workload_pids" | tr , ' '); do
        for task in /proc/"$pid"/task/*; do
            cpus=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "$task/status" 2>/dev/null)
            [ -n "$cpus" ] && [ "$cpus" != "$all_cpus" ] && echo "$pid $(basename "$task") $cpus"
        done
    done > "$1"
}
pinned "$out/pinned-before.txt"
"$bin/numabalance" restore --state-dir "$nb/state" --json > "$out/restore-1.json" 2> "$out/restore-1.err"
echo $? > "$out/restore-1.rc"
pinned "$out/pinned-after.txt"
"$bin/numabalance" restore --state-dir "$nb/state" --json > "$out/restore-2.json" 2>&1
"$bin/numabalance" restore --kernel-balancing > "$out/restore-sysctl.txt" 2>&1
echo "$(now) restored $(cat /proc/sys/kernel/numa_balancing)" >> "$out/sysctl.txt"
cp "$nb/state/journal.jsonl" "$out/journal.jsonl"
stop "$numa01"; stop "$shm"
mark end
