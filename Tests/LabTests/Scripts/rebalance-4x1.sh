#!/bin/sh
# The 4x1 guest's rebalance checks (ActuatorLabTests): misplaced onto a
# one-CPU node, and numa02 with more threads than any node has CPUs.
# Usage (inside numa-lab): sh rebalance-4x1.sh BIN_FOLDER
. "$(dirname "$0")/lab-lib.sh"
. "$(dirname "$0")/rebalance-lib.sh"
mark start
echo 0 > /proc/sys/kernel/numa_balancing
describe_nodes

start misplaced "$bin/numa-workload" misplaced --mib 32 --mem-node 0 --cpu-node 2
snapshot "$pid" misplaced-before; affinity "$pid" misplaced-before; migrated misplaced-before
rebalance misplaced-rebalance "$pid"
migrated misplaced-after; snapshot "$pid" misplaced-after; affinity "$pid" misplaced-after
stop "$workload"

# numa02 with 2 threads: no 1-CPU node fits it; the user lets it run on nodes 1 and 3.
start numa02spread "$bin/numa-workload" numa02 --mib 32 --threads 2
taskset -a -p -c 1,3 "$pid" > /dev/null
sleep 1
rebalance numa02spread-rebalance "$pid"
snapshot "$pid" numa02spread-after; affinity "$pid" numa02spread-after
stop "$workload"
mark end
