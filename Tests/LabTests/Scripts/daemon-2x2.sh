#!/bin/sh
# The 2x2 guest's daemon checks (DaemonLabTests, PolicyLabTests): standalone
# on misplaced, numa01, numa01-thread-alloc, shm-group and numa02; policy
# plan and apply (daemon-policies.sh); SIGHUP with a broken
# config; churn; SIGTERM during a large move; kill -9 and a restart that
# restores a disabled kernel balancer; hybrid mode on shm-group and numa02.
# Usage (inside numa-lab): sh daemon-2x2.sh BIN_FOLDER [SECTION,...]
# Sections: misplaced numa01 threadalloc shm numa02 policies hup churn
# slowmove crash hybrid (all by default).
. "$(dirname "$0")/lab-lib.sh"
. "$(dirname "$0")/rebalance-lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
# Standalone: the kernel balancer off, as found; the daemon leaves it.
begin_standalone || exit 1
grep '^Cap' /proc/"$daemon"/status > "$out/standalone-caps.txt"
for task in /proc/"$daemon"/task/*; do grep '^CapEff' "$task/status"; done > "$out/standalone-task-caps.txt"
grep '^NoNewPrivs' /proc/"$daemon"/status >> "$out/standalone-caps.txt"

# Started on node 1 (numactl): its runtime memory is local, its 64 MiB are not.
# Each probe runs 30 s past the test's bound (60, 90, 90, 120 s).
if want misplaced; then
        scenario misplaced 1 0.9 90 numactl --cpunodebind=1 "$w" misplaced --mib 64 --mem-node 0 --cpu-node 1 || exit 1
fi
if want numa01; then scenario numa01 2 0.9 120 "$w" numa01 --mib 64 --mem-node 0 || exit 1; fi
if want threadalloc; then scenario threadalloc 2 0.9 120 "$w" numa01-thread-alloc --mib 64 --mem-node 0 || exit 1; fi
if want shm; then scenario shm 4 0.9 150 "$w" shm-group --groups 2 --procs 2 --mib 32 --mem-node 0 || exit 1; fi
if want numa02; then scenario numa02 1 - 25 "$w" numa02 --mib 64 --threads 4 || exit 1; fi

# Policies (issue 8): plan, apply pin / ignore / interleave.
if want policies; then . "$(dirname "$0")/daemon-policies.sh"; fi

# SIGHUP with a broken config: still running, old settings in force, the
# error logged with file:line:column.
if want hup; then
    status hup-before
    cp "$nb/numabalance.yaml" "$nb/good.yaml"
    printf 'scanPeriod:\n  min: 1s\n  maxx: 10s\n' > "$nb/numabalance.yaml"
    kill -HUP "$daemon"
    sleep 2
    kill -0 "$daemon"; echo $? > "$out/hup-alive.rc"
    status hup-after
    cp "$nb/good.yaml" "$nb/numabalance.yaml"
fi

# Churn: 200 processes start and exit while the daemon runs (20 waves of
# 10, each holding 24 MiB it touched and sweeps for 4 s: long enough to be
# listed and sampled); the daemon's RSS before, at half time and after.
if want churn; then
    grep VmRSS /proc/"$daemon"/status > "$out/churn-rss.txt"
    : > "$out/churn-pids.txt"
    wave=0
    while [ $wave -lt 20 ]; do
        i=0; children=""
        while [ $i -lt 10 ]; do
            "$w" split --mib 24 --share 0:1 --seconds 4 > /dev/null 2>&1 &
            children="$children $!"
            i=$((i + 1))
        done
        echo $children >> "$out/churn-pids.txt"
        for child in $children; do wait "$child" 2>/dev/null; done
        wave=$((wave + 1))
        [ $wave -eq 10 ] && grep VmRSS /proc/"$daemon"/status >> "$out/churn-rss.txt"
    done
    sleep 3
    grep VmRSS /proc/"$daemon"/status >> "$out/churn-rss.txt"
    kill -0 "$daemon"; echo $? > "$out/churn-alive.rc"
    status churn
fi

# SIGTERM during a large move: 256 MiB misplaced, moved at 32 MiB/s (8 s);
# the stop comes once pages are moving.
daemon_stop standalone
if want slowmove; then
    write_config leave 32
    daemon_start slowmove || exit 1
    "$w" misplaced --mib 256 --mem-node 0 --cpu-node 1 > "$out/slowmove.log" 2>&1 &
    workload=$!
    wait_ready "$out/slowmove.log" 1 || exit 1
    ready_pids "$out/slowmove.log" > "$out/slowmove-pids.txt"
    # Pages arriving on node 1 (numa_maps) are the move in flight: migrate_pages'
    # counters are added only when a call returns. No move within 60 s: "none".
    slow_pid=$(cat "$out/slowmove-pids.txt")
    node1_pages() { grep -v ' file=' "/proc/$slow_pid/numa_maps" | tr ' ' '\n' | sed -n 's/^N1=//p' | awk '{ n += $1 } END { print n + 0 }'; }
    start1=$(node1_pages)
    tries=0; moving=none
    while [ $tries -lt 600 ]; do
        [ $(($(node1_pages) - start1)) -gt 2048 ] && { moving=$(($(node1_pages) - start1)); break; }
        tries=$((tries + 1)); sleep 0.1
    done
    echo "$moving" > "$out/slowmove-migrated-at-stop.txt"
    status slowmove-at-stop
    daemon_stop slowmove
    echo $(($(node1_pages) - start1)) > "$out/slowmove-migrated-total.txt"
    stop "$workload"
fi

# kill -9, then a restart: the disabled kernel balancer comes back, the
# journal is read (cool-downs survive).
if want crash; then
    echo 1 > /proc/sys/kernel/numa_balancing
    write_config disable
    daemon_start crash || exit 1
    cat /proc/sys/kernel/numa_balancing > "$out/crash-sysctl-running.txt"
    "$w" misplaced --mib 64 --mem-node 0 --cpu-node 1 > "$out/crash.log" 2>&1 &
    workload=$!
    wait_ready "$out/crash.log" 1 || exit 1
    "$w" probe --pids "$(ready_pids "$out/crash.log")" --seconds 40 --until 0.9 > "$out/crash-probe.jsonl"
    # Killed between acts: the locality is reached before the move's outcome
    # is journalled, and an act cut short is sampled afresh, not cooled down
    # (slowmove covers a stop mid-act).
    wait_idle || exit 1
    kill -KILL "$daemon"; wait "$daemon" 2>/dev/null
    cat /proc/sys/kernel/numa_balancing > "$out/crash-sysctl-killed.txt"
    write_config warn
    daemon_start restart || exit 1
    cat /proc/sys/kernel/numa_balancing > "$out/restart-sysctl.txt"
    sleep 3
    status restart
    stop "$workload"
    daemon_stop restart
fi

# Hybrid: the kernel balancer on. First the control, the kernel alone on
# the same shm-group (no daemon), then the daemon in hybrid mode, which must
# beat it; both probes have the same 120 s window, the test's bound.
if want hybrid; then
        echo 1 > /proc/sys/kernel/numa_balancing
        no_daemon=1
        scenario hybridshmkernel 4 0.9 120 "$w" shm-group --groups 2 --procs 2 --mib 32 --mem-node 0 || exit 1
        no_daemon=
        write_config leave
        daemon_start hybrid || exit 1
        scenario hybridshm 4 0.9 120 "$w" shm-group --groups 2 --procs 2 --mib 32 --mem-node 0 || exit 1
        scenario hybridnuma02 1 - 30 "$w" numa02 --mib 64 --threads 4 || exit 1
        daemon_stop hybrid
fi
cp "$nb/state/journal.jsonl" "$out/journal.jsonl"
mark end
