#!/bin/sh
# The 2x2 guest's rebalance checks (ActuatorLabTests): misplaced, a user's
# taskset pin, numa02 fitting and not fitting one node, restore, shm-group,
# a shared anonymous mapping, dry run, an exit mid-move, a non-root user.
# Usage (inside numa-lab): sh rebalance-2x2.sh BIN_FOLDER [SECTION,...]
# Sections: misplaced pinned numa02fit numa02spread shm anon exiting nobody.
. "$(dirname "$0")/lab-lib.sh"
. "$(dirname "$0")/rebalance-lib.sh"
mark start
echo 0 > /proc/sys/kernel/numa_balancing   # standalone mode
describe_nodes
mkdir -p -m 700 /tmp/nobody-state && chown 65534:65534 /tmp/nobody-state
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all env NUMABALANCE_STATE_DIR=/tmp/nobody-state "$@"; }

# 1. misplaced: memory on node 0, threads pinned (by the workload) to node 1.
# First a dry run (nothing may change), then a non-root user tries it (root's
# process: refused, naming the capability), then the real rebalance.
if want misplaced; then
    start misplaced "$bin/numa-workload" misplaced --mib 32 --mem-node 0 --cpu-node 1
    snapshot "$pid" dry-before; affinity "$pid" dry-before
    rebalance dry-rebalance "$pid" --dry-run
    snapshot "$pid" dry-after; affinity "$pid" dry-after
    as_nobody "$bin/numabalance" rebalance "$pid" --json > "$out/nobody-other.json" 2> "$out/nobody-other.err"
    echo $? > "$out/nobody-other.rc"
    snapshot "$pid" misplaced-before; affinity "$pid" misplaced-before; migrated misplaced-before
    rebalance misplaced-rebalance "$pid"
    migrated misplaced-after; snapshot "$pid" misplaced-after; affinity "$pid" misplaced-after
    stop "$workload"
fi

# 2. a user's pin: threads pinned with taskset to node 1, memory on node 0.
if want pinned; then
    start pinned "$bin/numa-workload" misplaced --mib 32 --mem-node 0 --cpu-node 0
    taskset -a -p -c 2,3 "$pid" > "$out/pinned-taskset.txt" 2>&1
    sleep 1
    snapshot "$pid" pinned-before; affinity "$pid" pinned-before
    rebalance pinned-rebalance "$pid"
    snapshot "$pid" pinned-after; affinity "$pid" pinned-after
    stop "$workload"
fi

# 3. numa02 that fits one node (2 threads, 2 CPUs a node), then restore.
if want numa02fit; then
    start numa02fit "$bin/numa-workload" numa02 --mib 32 --threads 2
    affinity "$pid" numa02fit-before
    rebalance numa02fit-rebalance "$pid"
    snapshot "$pid" numa02fit-after; affinity "$pid" numa02fit-after
    "$bin/numabalance" restore --pid "$pid" --json > "$out/restore.json" 2> "$out/restore.err"
    echo $? > "$out/restore.rc"
    affinity "$pid" numa02fit-restored
    stop "$workload"
fi

# 4. numa02 that does not fit one node: 4 threads on 3 CPUs (1-3, both nodes:
# the user's pin, so where they run does not wander between rounds), 3 CPUs'
# worth of load for nodes of 2 CPUs.
if want numa02spread; then
    start numa02spread "$bin/numa-workload" numa02 --mib 32 --threads 4
    taskset -a -p -c 1-3 "$pid" > /dev/null
    sleep 1
    rebalance numa02spread-rebalance "$pid"
    snapshot "$pid" numa02spread-after; affinity "$pid" numa02spread-after
    stop "$workload"
fi

# 5. shm-group: one group of 2 sharing a SysV segment on node 0; member 1 pinned to node 1.
# Small: under TCG, pages that other processes keep writing migrate slowly (about 9 ms a page).
if want shm; then
    start shm "$bin/numa-workload" shm-group --groups 1 --procs 2 --mib 8 --mem-node 0
    wait_ready "$out/shm.log" 2 || exit 1
    members=$(sed -n 's/^ready pid=\([0-9]*\).*/\1/p' "$out/shm.log")
    m1=$(echo "$members" | sed -n 1p); m2=$(echo "$members" | sed -n 2p)
    taskset -a -p -c 2,3 "$m1" > /dev/null
    sleep 1
    snapshot "$m1" shm-before
    rebalance shm-rebalance "$m1"
    snapshot "$m1" shm-after; snapshot "$m2" shm-other-after
    stop "$workload"
fi

# 6. a 64 MiB MAP_SHARED|MAP_ANONYMOUS mapping shared with 2 children pinned
# to node 1, idle (see 5), moved by the operator's --to.
if want anon; then
    start anon "$bin/numa-workload" shared-anon --mib 64 --children 2 --mem-node 0 --cpu-node 1 --idle
    wait_ready "$out/anon.log" 3 || exit 1
    parent=$pid
    child=$(sed -n 's/^ready pid=\([0-9]*\) role=child.*/\1/p' "$out/anon.log" | head -n 1)
    snapshot "$parent" anon-before
    rebalance anon-rebalance "$child" --to 1
    snapshot "$parent" anon-after; snapshot "$child" anon-child-after
    stop "$workload"
fi

# 7. the workload exits in the middle of a move (64 MiB at 2 MiB/s takes 32 s;
# sampling under TCG takes about 10 s).
if want exiting; then
    start exiting "$bin/numa-workload" misplaced --mib 64 --mem-node 0 --cpu-node 1 --seconds 16
    rebalance exiting-rebalance "$pid" --max-rate 2
    wait "$workload" 2>/dev/null
fi

# 8. a non-root user's own process (another user's was step 1).
if want nobody; then
    as_nobody "$bin/numa-workload" misplaced --mib 32 --mem-node 0 --cpu-node 1 > "$out/nobody-own.log" 2>&1 &
    workload=$!
    wait_ready "$out/nobody-own.log" 1 || exit 1
    pid=$(first_pid "$out/nobody-own.log")
    as_nobody "$bin/numabalance" rebalance "$pid" --json > "$out/nobody-own.json" 2> "$out/nobody-own.err"
    echo $? > "$out/nobody-own.rc"
    snapshot "$pid" nobody-own-after
    stop "$workload"
fi
cp "$journal_dir/journal.jsonl" "$out/journal.jsonl"
mark end
