# Sourced by a topology's script (lab-lib.sh loaded): the sampler's accuracy
# on split workloads with known shares, and its pinned threads.
# accuracy NAME SHARES SEED: a split workload, inspected once (JSON), with a
# numa_maps snapshot taken right after; idle, so nothing moves in between.
accuracy() {
    "$bin/numa-workload" split --mib 64 --share "$2" --seed "$3" --idle > "$out/$1.log" 2>&1 &
    acc_workload=$!
    wait_ready "$out/$1.log" 1 || return 1
    acc_pid=$(first_pid "$out/$1.log")
    "$bin/numabalance" inspect "$acc_pid" --json --seed "$3" --interval 0.05 > "$out/$1-inspect.json" 2> "$out/$1-inspect.err"
    echo $? > "$out/$1-inspect.rc"
    snapshot "$acc_pid" "$1"
}

# coverage NAME ROUNDS: repeated rounds (a new seed each) on the workload
# `accuracy` left running, snapshots before and after to show nothing moved.
coverage() {
    snapshot "$acc_pid" "$1-before"
    "$bin/numabalance" inspect "$acc_pid" --json --repeat "$2" --interval 0.01 > "$out/$1-rounds.jsonl" 2> "$out/$1-rounds.err"
    echo $? > "$out/$1-rounds.rc"
    snapshot "$acc_pid" "$1-after"
}

samplers() {
    "$bin/numabalance" samplers --json > "$out/samplers.json" 2> "$out/samplers.err"
    echo $? > "$out/samplers.rc"
}

# tiers PID: the access tiers on a workload that writes its memory: soft-dirty
# (opt-in), then the kernel's hint-fault stats with the kernel balancer on.
tiers() {
    "$bin/numabalance" inspect "$1" --json --track-writes --interval 0.5 > "$out/tier-writes.json" 2> "$out/tier-writes.err"
    echo $? > "$out/tier-writes.rc"
    echo 1 > /proc/sys/kernel/numa_balancing
    sleep 3
    "$bin/numabalance" inspect "$1" --json --interval 0.5 > "$out/tier-faults.json" 2> "$out/tier-faults.err"
    echo $? > "$out/tier-faults.rc"
    echo 0 > /proc/sys/kernel/numa_balancing
}
