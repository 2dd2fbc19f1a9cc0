#!/bin/sh
# The 2x2 guest's real-server checks (RealServerLabTests, issue 14): a real
# PostgreSQL 15 and a real JVM (OpenJDK 17), both run as non-root users,
# under the standalone daemon (kernel.numa_balancing=0), then PostgreSQL
# again with no balancing at all, as the control.
# Usage (inside numa-lab): sh real-servers-2x2.sh BIN_FOLDER [SECTION,...]
# Sections: pg (clients that fit a node, and the control run), pgwide (more
# clients than a node has CPUs), jvm (all by default). The JVM's class is
# compiled on the host into BIN_FOLDER/lab-java before the guest boots.
. "$(dirname "$0")/lab-lib.sh"
. "$(dirname "$0")/rebalance-lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
. "$(dirname "$0")/server-lib.sh"
# Standalone: the kernel balancer off; the daemon up before any server, as
# on a real machine.
begin_standalone || exit 1
grep '^Cap' /proc/"$daemon"/status > "$out/standalone-caps.txt"

# PostgreSQL: a cluster on tmpfs, pgbench's tables at scale 3 (300,000
# accounts: about 45 MiB of buffers) loaded and prewarmed by the server
# pinned to node 0, so its buffers live there; then every server process is
# unpinned and pgbench -S runs for a fixed time.
if want pg || want pgwide; then
    mark pg-setup-start
    pg_init || { echo "lab: initdb failed" >&2; cat "$out/pg-initdb.log" >&2; exit 1; }
    mark pg-initdb
    pg_start pg || { echo "lab: the server did not start" >&2; cat "$out/pg-pg_ctl.log" >&2; exit 1; }
    pg_load 3 || { echo "lab: pgbench -i failed" >&2; cat "$out/pg-load.log" >&2; exit 1; }
    mark pg-loaded
    pg_prewarm pg || { echo "lab: pg_prewarm failed" >&2; cat "$out/pg-prewarm.txt" >&2; exit 1; }
    server_sampler pg-prewarmed once
    pg_unpin pg || exit 1
    # Clients that fit one node: 2 clients (2 backends, 2 pgbench threads)
    # for 60 s; the test's bound for 90 % is 45 s.
    if want pg; then pg_bench pg1 2 60 || exit 1; fi
    # The daemon's cost, paired: 6 pairs of 10 s pgbench runs, the daemon
    # running, then stopped (SIGSTOP: it takes no CPU and moves nothing),
    # on the same server and placement. Runs minutes apart differ by up to
    # 30 % under the emulator (pgbase alone: 492 and 672 tps in two full
    # runs); alternating short runs cancel that drift.
    if want pg; then
        for pair in 1 2 3 4 5 6; do
            for state in on off; do
                [ "$state" = off ] && kill -STOP "$daemon"
                as_pg "$pgbin/pgbench" -h "$pgsock" -n -S -c 2 -j 2 -T 10 bench > "$out/pgpair-$state-$pair-pgbench.log" 2>&1
                echo $? > "$out/pgpair-$state-$pair-pgbench.rc"
                [ "$state" = off ] && kill -CONT "$daemon"
            done
        done
    fi
    # More clients than a node has CPUs: 4 backends and 4 pgbench threads on
    # 4 CPUs, for 45 s; the test judges the last 15 s.
    if want pgwide; then pg_bench pgwide 4 45 || exit 1; fi
    pg_stop
    mark pg-stopped
fi

# The JVM, as nobody: 3 GiB of heap reserved and committed (-Xms = -Xmx),
# 192 MiB of it touched by 2 sweeping threads, all first touched on node 0
# (started with node 0's CPUs). Once ready, the user pins every thread to
# node 1 (taskset -a): the daemon must keep that pin, and the memory must
# follow it. The probe runs 90 s; the test's bound is 60 s.
if want jvm; then
    sed -n 's/^pgmigrate_success //p' /proc/vmstat > "$out/jvm-migrated-start.txt"
    status jvm-start
    mark jvm-start
    taskset -c "$node0_cpus" setpriv --reuid=nobody --regid=nogroup --clear-groups \
        java -Xms3g -Xmx3g -Xmn16m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:CICompilerCount=1 \
        -XX:-UsePerfData -cp "$bin/lab-java" SparseHeap 192 2 > "$out/jvm.log" 2>&1 &
    workload=$!
    wait_ready "$out/jvm.log" 1 || exit 1
    mark jvm-ready
    jvm=$(first_pid "$out/jvm.log")
    echo "$jvm" > "$out/jvm-pids.txt"
    snapshot "$jvm" jvm-before
    thread_affinity "$jvm" jvm-before
    taskset -a -p -c "$node1_cpus" "$jvm" > /dev/null || exit 1
    mark jvm-pinned
    thread_affinity "$jvm" jvm-pinned
    nice -n 10 "$w" probe --pids "$jvm" --seconds 90 --until 0.9 > "$out/jvm-probe.jsonl"
    settled jvm || exit 1
    snapshot "$jvm" jvm-after
    thread_affinity "$jvm" jvm-after
    stop "$workload"
    mark jvm-end
fi
status end
daemon_stop standalone
cp "$nb/state/journal.jsonl" "$out/journal.jsonl" 2>/dev/null || : > "$out/journal.jsonl"

# The control: the same PostgreSQL run with no balancing at all (no daemon,
# kernel.numa_balancing=0): the server restarted pinned to node 0, the
# buffers prewarmed there, every process unpinned, the same pgbench.
if want pg; then
    pg_start pgbase || { echo "lab: the server did not restart" >&2; cat "$out/pgbase-pg_ctl.log" >&2; exit 1; }
    pg_prewarm pgbase || exit 1
    pg_unpin pgbase || exit 1
    no_daemon=1
    pg_bench pgbase 2 60 || exit 1
    no_daemon=
    pg_stop
fi
mark end
