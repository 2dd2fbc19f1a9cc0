#!/bin/sh
# The 2x2 guest's daemon checks (DaemonLabTests, PolicyLabTests): standalone
# on misplaced, numa01, numa01-thread-alloc, shm-group and numa02; policy
# plan and apply (daemon-policies.sh); SIGHUP with a broken
# config; churn; SIGTERM during a large move; kill -9 and a restart that
# restores a disabled kernel balancer; hybrid mode on shm-group and numa02.
# Usage (inside numa-lab): sh daemon-2x2.sh BIN_FOLDER
. "$(dirname "$0")/lab-lib.sh"
. "$(dirname "$0")/rebalance-lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
# Standalone: the kernel balancer off, as found; the daemon leaves it.
begin_standalone || exit 1
grep '^Cap' /proc/"$daemon"/status > "$out/standalone-caps.txt"
for task in /proc/"$daemon"/task/*; do grep '^CapEff' "$task/status"; done > "$out/standalone-task-caps.txt"
grep '^NoNewPrivs' /proc/"$daemon"/status >> "$out/standalone-caps.txt"

# Started on node 1 (numactl): its runtime memory is local, its 64 MiB are not.
scenario misplaced 1 0.9 60 numactl --cpunodebind=1 "$w" misplaced --mib 64 --mem-node 0 --cpu-node 1
scenario numa01 2 0.9 90 "$w" numa01 --mib 64 --mem-node 0
scenario threadalloc 2 0.9 90 "$w" numa01-thread-alloc --mib 64 --mem-node 0
scenario shm 4 0.9 120 "$w" shm-group --groups 2 --procs 2 --mib 32 --mem-node 0
scenario numa02 1 - 25 "$w" numa02 --mib 64 --threads 4

# Policies (issue 8): plan, apply pin / ignore / interleave.
. "$(dirname "$0")/daemon-policies.sh"

# SIGHUP with a broken config: still running, old settings in force, the
# error logged with file:line:column.
status hup-before
cp "$nb/numabalance.yaml" "$nb/good.yaml"
printf 'scanPeriod:\n  min: 1s\n  maxx: 10s\n' > "$nb/numabalance.yaml"
kill -HUP "$daemon"
sleep 2
kill -0 "$daemon"; echo $? > "$out/hup-alive.rc"
status hup-after
cp "$nb/good.yaml" "$nb/numabalance.yaml"

# Churn: 200 processes start and exit while the daemon runs (20 waves of
# 10 dd's, each with a 24 MiB buffer, sampled if they live long enough);
# the daemon's RSS before, at half time and after.
grep VmRSS /proc/"$daemon"/status > "$out/churn-rss.txt"
wave=0
while [ $wave -lt 20 ]; do
    i=0; children=""
    while [ $i -lt 10 ]; do
        dd if=/dev/zero of=/dev/null bs=24M count=$((2 + i % 3)) 2> /dev/null &
        children="$children $!"
        i=$((i + 1))
    done
    for child in $children; do wait "$child" 2>/dev/null; done
    wave=$((wave + 1))
    [ $wave -eq 10 ] && grep VmRSS /proc/"$daemon"/status >> "$out/churn-rss.txt"
done
sleep 2
grep VmRSS /proc/"$daemon"/status >> "$out/churn-rss.txt"
kill -0 "$daemon"; echo $? > "$out/churn-alive.rc"
status churn

# SIGTERM during a large move: 256 MiB misplaced, moved at 32 MiB/s (8 s);
# the stop comes once pages are moving.
daemon_stop standalone
write_config leave 32
daemon_start slowmove || exit 1
"$w" misplaced --mib 256 --mem-node 0 --cpu-node 1 > "$out/slowmove.log" 2>&1 &
workload=$!
wait_ready "$out/slowmove.log" 1
before=$(sed -n 's/^pgmigrate_success //p' /proc/vmstat)
tries=0
while [ $tries -lt 300 ]; do
    now=$(sed -n 's/^pgmigrate_success //p' /proc/vmstat)
    [ $((now - before)) -gt 2048 ] && break
    tries=$((tries + 1)); sleep 0.1
done
echo $((now - before)) > "$out/slowmove-migrated-at-stop.txt"
daemon_stop slowmove
after=$(sed -n 's/^pgmigrate_success //p' /proc/vmstat)
echo $((after - before)) > "$out/slowmove-migrated-total.txt"
stop "$workload"

# kill -9, then a restart: the disabled kernel balancer comes back, the
# journal is read (cool-downs survive).
echo 1 > /proc/sys/kernel/numa_balancing
write_config disable
daemon_start crash || exit 1
cat /proc/sys/kernel/numa_balancing > "$out/crash-sysctl-running.txt"
"$w" misplaced --mib 64 --mem-node 0 --cpu-node 1 > "$out/crash.log" 2>&1 &
workload=$!
wait_ready "$out/crash.log" 1
"$w" probe --pids "$(ready_pids "$out/crash.log")" --seconds 40 --until 0.9 > "$out/crash-probe.jsonl"
kill -KILL "$daemon"; wait "$daemon" 2>/dev/null
cat /proc/sys/kernel/numa_balancing > "$out/crash-sysctl-killed.txt"
write_config warn
daemon_start restart || exit 1
cat /proc/sys/kernel/numa_balancing > "$out/restart-sysctl.txt"
sleep 3
status restart
stop "$workload"
daemon_stop restart

# Hybrid: the kernel balancer on, left on.
echo 1 > /proc/sys/kernel/numa_balancing
write_config leave
daemon_start hybrid || exit 1
scenario hybridshm 4 0.9 90 "$w" shm-group --groups 2 --procs 2 --mib 32 --mem-node 0
scenario hybridnuma02 1 - 30 "$w" numa02 --mib 64 --threads 4
daemon_stop hybrid
cp "$nb/state/journal.jsonl" "$out/journal.jsonl" 2>/dev/null
mark end
