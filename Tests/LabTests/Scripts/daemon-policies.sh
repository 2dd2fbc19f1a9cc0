# The policy checks of the 2x2 daemon guest (issue 8), sourced by
# daemon-2x2.sh while its standalone daemon runs: `policy plan` changes
# nothing; `policy apply` of a pin, an ignore, an interleave, a preferred
# policy and an interleave of a shared segment; the daemon re-evaluates the
# matching processes at once.
mark policies-start

# policy_file NAME MATCH MODE NODES: a policy file in $nb, root's, 0644.
policy_file() {
    cat > "$nb/$1.yaml" <<POLICY
apiVersion: numabalance/v1
kind: Policy
name: lab-$1
description: The lab's $3 check.
match:
  cmdline: "$2"
placement:
  mode: $3
$4
POLICY
    chmod 0644 "$nb/$1.yaml"
}

# node_pages PID: "N0 N1" pages of its anonymous memory, from numa_maps.
node_pages() {
    grep -v ' file=' "/proc/$1/numa_maps" | tr ' ' '\n' | awk -F= '
        /^N0=/ { n0 += $2 } /^N1=/ { n1 += $2 } END { printf "%d %d\n", n0, n1 }'
}

# shm_pages PID: "N0 N1" pages of its SysV segments, from numa_maps.
shm_pages() {
    grep 'SYSV' "/proc/$1/numa_maps" | tr ' ' '\n' | awk -F= '
        /^N0=/ { n0 += $2 } /^N1=/ { n1 += $2 } END { printf "%d %d\n", n0, n1 }'
}

# apply_policy NAME: `policy apply` of $nb/NAME.yaml; output in apply-NAME.txt, exit code in apply-NAME.rc.
apply_policy() {
    "$bin/numabalance" policy apply --config "$nb/numabalance.yaml" "$nb/$1.yaml" > "$out/apply-$1.txt" 2>&1
    echo $? > "$out/apply-$1.rc"
}

# now_s: the guest's seconds since boot.
now_s() { cut -d' ' -f1 /proc/uptime; }

# wait_for SECONDS COMMAND...: until COMMAND succeeds, for at most SECONDS
# from now; prints the seconds taken since $since (default: now), or never.
wait_for() {
    limit=$1; shift
    t0=$(now_s)
    from=${since:-$t0}
    while :; do
        if "$@"; then break; fi
        if [ "$(echo "$(now_s) $t0 $limit" | awk '{ print ($1 - $2 > $3) }')" = 1 ]; then echo never; return 1; fi
        sleep 0.5
    done
    echo "$(now_s) $from" | awk '{ printf "%.1f\n", $1 - $2 }'
}

# --- pin: plan first (nothing may change), then apply.
policy_file 20-pin "misplaced --mib 48( |$)" pin "  nodes: [1]"
start pinw "$w" misplaced --mib 48 --mem-node 0 --cpu-node 0
affinity "$pid" plan-before; node_pages "$pid" > "$out/plan-before-pages.txt"; status plan-before
"$bin/numabalance" policy plan "$nb/20-pin.yaml" > "$out/plan.txt" 2>&1; echo $? > "$out/plan.rc"
# A plan that wrongly installed its policy would show at the daemon's next
# rounds, not the instant plan returns.
sleep 3
affinity "$pid" plan-after; node_pages "$pid" > "$out/plan-after-pages.txt"; status plan-after
echo "$pid" > "$out/pin-pid.txt"
since=$(now_s)
apply_policy 20-pin
# Threads first (the policy in force), then the pages (numa_maps follows,
# at the emulated machine's copying speed); both timed from the apply.
on_node1_cpus() { [ "$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/"$pid"/status)" = "2-3" ]; }
pinned() { on_node1_cpus && node_pages "$pid" | awk '{ exit !($2 >= 0.95 * ($1 + $2)) }'; }
wait_for 30 on_node1_cpus > "$out/pin-threads-seconds.txt"
wait_for 90 pinned > "$out/pin-seconds.txt"
since=
affinity "$pid" pin-after; node_pages "$pid" > "$out/pin-after-pages.txt"
stop "$workload"

# --- ignore: one workload ignored, another balanced at the same time.
policy_file 30-ignore "misplaced --mib 40( |$)" ignore ""
apply_policy 30-ignore
start ignored "$w" misplaced --mib 40 --mem-node 0 --cpu-node 1
ignored_pid=$pid; ignored_workload=$workload
echo "$ignored_pid" > "$out/ignored-pid.txt"
scenario notignored 1 0.9 60 "$w" misplaced --mib 44 --mem-node 0 --cpu-node 1
affinity "$ignored_pid" ignored-after; node_pages "$ignored_pid" > "$out/ignored-after-pages.txt"
stop "$ignored_workload"

# --- interleave: the existing pages spread over both nodes.
policy_file 40-interleave "misplaced --mib 64( |$)" interleave "  nodes: [0, 1]"
apply_policy 40-interleave
start interleaved "$w" misplaced --mib 64 --mem-node 0 --cpu-node 0
even() { node_pages "$pid" | awk '{ s = $1 + $2; exit !(s > 0 && $1 >= 0.45 * s && $2 >= 0.45 * s) }'; }
wait_for 45 even > "$out/interleave-seconds.txt"
node_pages "$pid" > "$out/interleave-after-pages.txt"
stop "$workload"

# --- preferred: threads and existing pages toward node 1.
policy_file 50-preferred "misplaced --mib 36( |$)" preferred "  nodes: [1]"
apply_policy 50-preferred
start preferred "$w" misplaced --mib 36 --mem-node 0 --cpu-node 0
since=$(now_s)
wait_for 30 on_node1_cpus > "$out/preferred-threads-seconds.txt"
wait_for 90 pinned > "$out/preferred-seconds.txt"
since=
affinity "$pid" preferred-after; node_pages "$pid" > "$out/preferred-after-pages.txt"
stop "$workload"

# --- interleave of a shared segment: MPOL_INTERLEAVE set on the object (so
# later faults by any member follow it), its existing pages spread.
policy_file 60-shm-interleave "worker --shm-id" interleave "  nodes: [0, 1]"
apply_policy 60-shm-interleave
start shminterleave "$w" shm-group --groups 1 --procs 2 --mib 24 --mem-node 0
shm_even() { shm_pages "$pid" | awk '{ s = $1 + $2; exit !(s > 0 && $1 >= 0.45 * s && $2 >= 0.45 * s) }'; }
wait_for 60 shm_even > "$out/shm-interleave-seconds.txt"
grep SYSV "/proc/$pid/numa_maps" > "$out/shm-interleave-numa-maps.txt"
shm_pages "$pid" > "$out/shm-interleave-after-pages.txt"
stop "$workload"

"$bin/numabalance" policy list --policy-dir "$nb/policies.d" > "$out/policy-list.txt" 2>&1
# Back to the lab's own policy only, for what follows.
for name in 20-pin 30-ignore 40-interleave 50-preferred 60-shm-interleave; do rm -f "$nb/policies.d/$name.yaml"; done
kill -HUP "$daemon"
mark policies-end
