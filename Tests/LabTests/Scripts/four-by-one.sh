#!/bin/sh
# The 4x1 guest's checks: topology, and shm-group leaving no segment behind.
# Usage (inside numa-lab): sh four-by-one.sh BIN_FOLDER
. "$(dirname "$0")/lab-lib.sh"
. "$(dirname "$0")/sampler-accuracy.sh"
mark start
# Nothing here may move pages but the checks themselves (numa-lab boots
# with the kernel's balancer on).
echo 0 > /proc/sys/kernel/numa_balancing
describe_nodes
"$bin/numabalance" topology --json > "$out/topology.json" 2> "$out/topology.err"
echo $? > "$out/topology.rc"
mark topology

# Two groups of two processes, each group sharing a 32 MiB segment placed on
# node 0 and already marked IPC_RMID; members attach by id after that.
"$bin/numa-workload" shm-group --groups 2 --procs 2 --mib 32 > "$out/shm-group.log" 2>&1 &
workload=$!
wait_ready "$out/shm-group.log" 4 || exit 1
mark shm-ready
cat /proc/sysvipc/shm > "$out/shm-while-running.txt"
stop "$workload"
echo $? > "$out/shm-group.rc"
cat /proc/sysvipc/shm > "$out/shm-after.txt"
mark shm-stopped

# The sampler's checks (SamplerLabTests; functions in sampler-accuracy.sh).
accuracy split-50-25-25-0 0:0.5,1:0.25,2:0.25,3:0 13
stop "$acc_workload"
samplers
mark sampler-checks
