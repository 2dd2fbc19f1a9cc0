#!/bin/sh
# The 2x2 guest's checks: topology, inspect against numa_maps on a misplaced
# and a split workload, and migratepages moving the misplaced one.
# Usage (inside numa-lab): sh two-by-two.sh BIN_FOLDER
. "$(dirname "$0")/lab-lib.sh"
. "$(dirname "$0")/sampler-accuracy.sh"
mark start
# The kernel's balancer would start moving pages under the checks.
echo 0 > /proc/sys/kernel/numa_balancing
describe_nodes
"$bin/numabalance" topology --json > "$out/topology.json" 2> "$out/topology.err"
echo $? > "$out/topology.rc"
mark topology

# misplaced: 64 MiB first touched on node 0, both threads pinned to node 1.
"$bin/numa-workload" misplaced --mib 64 --mem-node 0 --cpu-node 1 > "$out/misplaced.log" 2>&1 &
workload=$!
wait_ready "$out/misplaced.log" 1 || exit 1
pid=$(first_pid "$out/misplaced.log")
mark misplaced-ready
snapshot "$pid" misplaced
"$bin/numabalance" inspect "$pid" --exact --json > "$out/misplaced-inspect.json" 2> "$out/misplaced-inspect.err"
echo $? > "$out/misplaced-inspect.rc"
mark misplaced-inspected
# Stopped while its pages move: under TCG, migrating pages that two vCPUs
# keep writing takes about 40 s for 64 MiB (2-7 s stopped), on kernel 6.1.
grep pgmigrate_success /proc/vmstat > "$out/vmstat-before.txt"
kill -STOP "$pid"
migratepages "$pid" 0 1 > "$out/migratepages.log" 2>&1
echo $? > "$out/migratepages.rc"
kill -CONT "$pid"
grep pgmigrate_success /proc/vmstat > "$out/vmstat-after.txt"
snapshot "$pid" migrated
mark migrated
stop "$workload"

# split: 64 MiB in 64 KiB blocks, 70 % on node 0 and 30 % on node 1, idle.
"$bin/numa-workload" split --mib 64 --share 0:0.7,1:0.3 --idle > "$out/split.log" 2>&1 &
workload=$!
wait_ready "$out/split.log" 1 || exit 1
pid=$(first_pid "$out/split.log")
mark split-ready
snapshot "$pid" split
"$bin/numabalance" inspect "$pid" --exact --json > "$out/split-inspect.json" 2> "$out/split-inspect.err"
echo $? > "$out/split-inspect.rc"
mark split-inspected
stop "$workload"

# The sampler's checks (SamplerLabTests; functions in sampler-accuracy.sh).
accuracy split-70-30 0:0.7,1:0.3 7
coverage split-70-30 100
stop "$acc_workload"
accuracy split-95-5 0:0.95,1:0.05 11
stop "$acc_workload"
samplers
mark sampler-checks

# Access tiers on a workload that writes its memory (local: node 0 for both),
# last, since it turns the kernel's balancer on for a moment.
"$bin/numa-workload" misplaced --mib 32 --mem-node 0 --cpu-node 0 > "$out/writer.log" 2>&1 &
writer=$!
wait_ready "$out/writer.log" 1 || exit 1
tiers "$(first_pid "$out/writer.log")"
stop "$writer"
mark tiers
