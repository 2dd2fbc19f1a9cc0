# The policy checks of the 2x2 daemon guest (issue 8), sourced by
# daemon-2x2.sh while its standalone daemon runs: `policy plan` changes
# nothing; `policy apply` of a pin, an ignore and an interleave policy; the
# daemon re-evaluates the matching processes at once.

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

# wait_for SECONDS COMMAND...: until COMMAND succeeds; prints the seconds taken.
wait_for() {
    limit=$1; shift
    t0=$(cut -d' ' -f1 /proc/uptime)
    while :; do
        if "$@"; then break; fi
        t=$(cut -d' ' -f1 /proc/uptime)
        if [ "$(echo "$t $t0 $limit" | awk '{ print ($1 - $2 > $3) }')" = 1 ]; then echo never; return 1; fi
        sleep 0.5
    done
    echo "$(cut -d' ' -f1 /proc/uptime) $t0" | awk '{ printf "%.1f\n", $1 - $2 }'
}

# --- pin: plan first (nothing may change), then apply.
policy_file 20-pin "misplaced --mib 48( |$)" pin "  nodes: [1]"
start pinw "$w" misplaced --mib 48 --mem-node 0 --cpu-node 0
affinity "$pid" plan-before; node_pages "$pid" > "$out/plan-before-pages.txt"
"$bin/numabalance" policy plan "$nb/20-pin.yaml" > "$out/plan.txt" 2>&1; echo $? > "$out/plan.rc"
affinity "$pid" plan-after; node_pages "$pid" > "$out/plan-after-pages.txt"
echo "$pid" > "$out/pin-pid.txt"
"$bin/numabalance" policy apply --config "$nb/numabalance.yaml" "$nb/20-pin.yaml" > "$out/apply-pin.txt" 2>&1
echo $? > "$out/apply-pin.rc"
pinned() {
    [ "$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/"$pid"/status)" = "2-3" ] || return 1
    node_pages "$pid" | awk '{ exit !($2 >= 0.95 * ($1 + $2)) }'
}
wait_for 30 pinned > "$out/pin-seconds.txt"
affinity "$pid" pin-after; node_pages "$pid" > "$out/pin-after-pages.txt"
stop "$workload"

# --- ignore: one workload ignored, another balanced at the same time.
policy_file 30-ignore "misplaced --mib 40( |$)" ignore ""
"$bin/numabalance" policy apply --config "$nb/numabalance.yaml" "$nb/30-ignore.yaml" > "$out/apply-ignore.txt" 2>&1
echo $? > "$out/apply-ignore.rc"
start ignored "$w" misplaced --mib 40 --mem-node 0 --cpu-node 1
ignored_pid=$pid; ignored_workload=$workload
echo "$ignored_pid" > "$out/ignored-pid.txt"
scenario notignored 1 0.9 60 "$w" misplaced --mib 44 --mem-node 0 --cpu-node 1
affinity "$ignored_pid" ignored-after; node_pages "$ignored_pid" > "$out/ignored-after-pages.txt"
stop "$ignored_workload"

# --- interleave: the existing pages spread over both nodes.
policy_file 40-interleave "misplaced --mib 64( |$)" interleave "  nodes: [0, 1]"
"$bin/numabalance" policy apply --config "$nb/numabalance.yaml" "$nb/40-interleave.yaml" > "$out/apply-interleave.txt" 2>&1
echo $? > "$out/apply-interleave.rc"
start interleaved "$w" misplaced --mib 64 --mem-node 0 --cpu-node 0
even() { node_pages "$pid" | awk '{ s = $1 + $2; exit !(s > 0 && $1 >= 0.45 * s && $2 >= 0.45 * s) }'; }
wait_for 45 even > "$out/interleave-seconds.txt"
node_pages "$pid" > "$out/interleave-after-pages.txt"
stop "$workload"
"$bin/numabalance" policy list --policy-dir "$nb/policies.d" > "$out/policy-list.txt" 2>&1
# Back to the lab's own policy only, for what follows.
rm -f "$nb/policies.d/20-pin.yaml" "$nb/policies.d/30-ignore.yaml" "$nb/policies.d/40-interleave.yaml"
kill -HUP "$daemon"
