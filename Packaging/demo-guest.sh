#!/bin/sh
# Runs inside the lab guest (see Packaging/demo). $1: the build's bin folder.
set -eu
bin="$1"
say() { printf '\n== %s ==\n' "$*"; }
migrated() { sed -n 's/^pgmigrate_success //p' /proc/vmstat; }
# Root's journal is /var/lib/numabalance/journal.jsonl (a tmpfs in the guest:
# the host's root is read-only there).
# Standalone mode: numabalance places the pages, the kernel's balancer is off.
echo 0 > /proc/sys/kernel/numa_balancing

say "numabalance topology (what the guest's kernel reports)"
"$bin/numabalance" topology

say "a misplaced workload: 64 MiB first touched on node 0, its threads pinned to node 1"
"$bin/numa-workload" misplaced --mib 64 --mem-node 0 --cpu-node 1 > /tmp/workload.out 2>&1 &
for _ in $(seq 300); do grep -q '^ready' /tmp/workload.out 2>/dev/null && break; sleep 0.2; done
pid=$(sed -n 's/^ready pid=\([0-9]*\).*/\1/p' /tmp/workload.out | head -n1)
[ -n "$pid" ] || { echo "the workload did not start:"; cat /tmp/workload.out; exit 1; }
echo "workload pid $pid"

say "numabalance inspect $pid --exact (sampled with move_pages; numa_maps beside it)"
"$bin/numabalance" inspect "$pid" --exact
echo "The pages are on node 0 and the CPU time on node 1: locality near 0, every access remote."

say "numabalance rebalance $pid (two sampling rounds a second apart, then act)"
before=$(migrated)
status=0
"$bin/numabalance" rebalance "$pid" || status=$?
after=$(migrated)
echo "(exit status $status: 0 done, 3 partial, 4 the process exited; see --help)"

say "numabalance inspect $pid --exact, after"
"$bin/numabalance" inspect "$pid" --exact
echo "kernel's count of migrated pages (/proc/vmstat pgmigrate_success): $before before, $after after:" \
    "$((after - before)) pages ($(( (after - before) * 4 / 1024 )) MiB) moved"
grep -E '^pgmigrate_(success|fail)' /proc/vmstat

say "what this shows"
echo "The threads were pinned to node 1 by the workload itself: numabalance respects a user's pin,"
echo "so the memory followed the threads (move_pages, or one migrate_pages call when the move fits"
echo "a second of the --max-rate budget). Every action is in the journal (/var/lib/numabalance);"
echo "'numabalance restore' undoes affinity and policy changes."
echo "The guest's CPU is emulated (QEMU TCG): remote memory is not slower here, so the workload's own"
echo "speed shows nothing and no speed-up is claimed; numabalance judges by pages, CPU time and locality."
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true

say "the daemon: numabalance run, then a second misplaced workload appears"
mkdir -p /tmp/nb/policies.d
cat > /tmp/nb/numabalance.yaml <<CONFIG
kernelBalancing: leave
stateDirectory: /tmp/nb/state
runtimeDirectory: /tmp/nb/run
policyDirectory: /tmp/nb/policies.d
CONFIG
"$bin/numabalance" run --config /tmp/nb/numabalance.yaml > /tmp/nb/daemon.log 2>&1 &
daemon=$!
until "$bin/numabalance" status --runtime-dir /tmp/nb/run > /dev/null 2>&1; do sleep 0.2; done
numactl --cpunodebind=1 "$bin/numa-workload" misplaced --mib 64 --mem-node 0 --cpu-node 1 > /tmp/workload2.out 2>&1 &
for _ in $(seq 300); do grep -q '^ready' /tmp/workload2.out 2>/dev/null && break; sleep 0.2; done
pid=$(sed -n 's/^ready pid=\([0-9]*\).*/\1/p' /tmp/workload2.out | head -n1)
echo "workload pid $pid; its locality (numa_maps and its threads' CPUs) once a second until it is 90 % local:"
"$bin/numa-workload" probe --pids "$pid" --seconds 60 --until 0.9 --hold 2 | sed 's/^/  /'
say "numabalance status"
"$bin/numabalance" status --runtime-dir /tmp/nb/run
say "the daemon's decisions (one log line each)"
grep ' decision ' /tmp/nb/daemon.log | sed 's/^/  /'
kill -TERM "$daemon"; wait "$daemon" || true
kill "$pid" 2>/dev/null || true
