#!/bin/sh
# Inside a numa-lab guest: each balancer — none, the kernel's (numa_balancing=1),
# numad (-i 5) and numabalance (its daemon, numa_balancing=0) — against each
# workload, one at a time, in this one guest. Per run, one line of
# results.tsv: time to target for good (the first line of the probe's last
# run of lines at it, a run of at least HOLD lines: 3, or 10 for a mean),
# from the workload's launch and, for numabalance, from its first journal
# entry on the workload; locality at 10/20/40 s after launch; pages moved
# (numabalance: its own count once idle; the others: pgmigrate_success once
# still) and the misplaced pages measured from numa_maps at ready; the cost.
# Usage: sh peers.sh BIN_FOLDER TOPOLOGY
bin=${1:?bin folder}; topology=${2:?topology}
out=${LAB_OUT:?run me with numa-lab}
w="$bin/numa-workload"
nb=/tmp/nb; mkdir -p "$nb/policies.d"
cat > "$nb/policies.d/10-probe.yaml" <<POLICY
apiVersion: numabalance/v1
kind: Policy
name: bench-probe
match:
  cmdline: "numa-workload probe"
placement:
  mode: ignore
POLICY
cat > "$nb/numabalance.yaml" <<CONFIG
kernelBalancing: leave
stateDirectory: $nb/state
runtimeDirectory: $nb/run
policyDirectory: $nb/policies.d
CONFIG
here=$(dirname "$0"); . "$here/peers-lib.sh"
hz=$(getconf CLK_TCK)

case "$topology" in
2x2) workloads="misplaced numa01 shm" ;;
4x1) workloads="misplaced numa01" ;;
esac

printf 'topology\tworkload\tbalancer\tto_target\tfrom_first_entry\tat10\tat20\tat40\tmoved\tmisplaced\tmoved_note\tcost\n' \
    > "$out/results.tsv"
for workload in $workloads; do
    pinned=""; target=0.9; mode=each; hold=3
    case "$workload:$topology" in
    misplaced:2x2) cmd="$w misplaced --mib 256 --mem-node 0 --cpu-node 1"; count=1; pinned=pinned ;;
    misplaced:4x1) cmd="$w misplaced --mib 256 --mem-node 0 --cpu-node 2"; count=1; pinned=pinned ;;
    numa01:2x2) cmd="$w numa01 --mib 128 --mem-node 0"; count=2 ;;
    numa01:4x1) cmd="$w numa01 --mib 128 --mem-node 0"; count=2; target=0.47; mode=mean; hold=10 ;;
    shm:2x2) cmd="$w shm-group --groups 2 --procs 2 --mib 128 --mem-node 0"; count=4 ;;
    esac
    for balancer in none kernel numad numabalance; do
        name="$topology-$workload-$balancer"
        echo 0 > /proc/sys/kernel/numa_balancing
        [ "$balancer" = kernel ] && echo 1 > /proc/sys/kernel/numa_balancing
        bpid=""
        if [ "$balancer" = numad ]; then
            numad -i 5 > /dev/null 2>&1; sleep 1
            bpid=$(cat /var/run/numad.pid 2>/dev/null || pgrep -x numad | head -n 1)
        elif [ "$balancer" = numabalance ]; then
            "$bin/numabalance" run --config "$nb/numabalance.yaml" > "$out/$topology-$workload-daemon.log" 2>&1 &
            bpid=$!
            until "$bin/numabalance" status --runtime-dir "$nb/run" > /dev/null 2>&1; do sleep 0.2; done
        fi
        cost0=0; [ -n "$bpid" ] && cost0=$(cputicks "$bpid")
        faults0=$(vm numa_hint_faults); mig0=$(vm pgmigrate_success)
        launched=$(uptime); launched_wall=$(date +%s.%N)
        log="$out/$name.log"
        $cmd > "$log" 2>&1 &
        wpid=$!
        until [ "$(grep -c '^ready ' "$log")" -ge "$count" ]; do sleep 0.1; done
        pids=$(sed -n 's/^ready pid=\([0-9]*\).*/\1/p' "$log" | paste -sd, -)
        misplaced=$(misplaced_at_ready "$log" $pinned); mv "$out/units.txt" "$out/$name-units.txt"
        # The whole 40 s, so that locality at 10/20/40 s is measured; the
        # trailing-run rule below judges "for good".
        started=$(uptime)   # the probe's t = 0
        nice -n 10 "$w" probe --pids "$pids" --seconds 40 > "$out/$name.jsonl"
        stime=0
        for p in $(echo "$pids" | tr , ' '); do stime=$((stime + $(awk '{ print $15 }' "/proc/$p/stat" 2>/dev/null || echo 0))); done
        faults=$(( $(vm numa_hint_faults) - faults0 ))
        note=-   # a tab-separated field is never empty
        if [ "$balancer" = numabalance ]; then
            daemon_idle "$out/$name-status.json" || note="still moving after 10 min"
            moved=$(pages_moved "$out/$name-status.json"); [ -n "$moved" ] || { moved=0; note="no status"; }
            first=$(first_entry "$pids")
        else
            set -- $(settled pgmigrate_success); moved=$(( $1 - mig0 )); [ -z "${2:-}" ] || note="still moving after 2 min"
            first=""
        fi
        cost1=0; [ -n "$bpid" ] && cost1=$(cputicks "$bpid")
        kill "$wpid" 2>/dev/null; wait "$wpid" 2>/dev/null
        case "$balancer" in
        numad) pkill -x numad; while pgrep -x numad > /dev/null; do sleep 0.2; done ;;
        numabalance) kill -TERM "$bpid"; wait "$bpid"; cp "$journal" "$out/$name-journal.jsonl" 2>/dev/null; rm -rf "$nb/state" ;;
        esac
        case "$balancer" in
        kernel) cost="hint_faults=$faults;workload_stime=$(echo "$stime $hz" | awk '{ printf "%.2fs", $1 / $2 }')" ;;
        none) cost="-" ;;
        *) cost="cpu=$(echo "$((cost1 - cost0)) $hz" | awk '{ printf "%.2fs", $1 / $2 }')" ;;
        esac
        [ "$balancer" = numad ] && [ -z "$bpid" ] && cost="numad did not start"
        offset=$(echo "$started $launched" | awk '{ print $1 - $2 }')
        # Seconds from launch to the daemon's first act on the workload ("" if none).
        acted=$([ -n "$first" ] && echo "$first $launched_wall" | awk '{ print $1 - $2 }')
        awk -v off="$offset" -v acted="$acted" -v target="$target" -v mode="$mode" -v n="$count" -v hold="$hold" '
            { t = $0; sub(/.*"t":/, "", t); sub(/[,}].*/, "", t)
              loc = $0; sub(/.*"locality":\{/, "", loc); sub(/\}.*/, "", loc)
              k = split(loc, parts, ","); sum = 0; ok = (k == n); minv = 1
              for (i = 1; i <= k; i++) { split(parts[i], kv, ":"); v = kv[2] + 0; sum += v; if (v < minv) minv = v }
              value = (k > 0) ? sum / k : 0
              hit = (mode == "mean") ? (ok && value >= target) : (ok && minv >= target)
              if (hit) { if (run == 0) first = t; run++ } else run = 0
              for (s = 10; s <= 40; s *= 2) if (at[s] == "" && t + off >= s - 0.6) at[s] = sprintf("%.2f", value)
              last = sprintf("%.2f", value) }
            END { for (s = 10; s <= 40; s *= 2) if (at[s] == "") at[s] = last
                  good = (run >= hold)
                  from = (acted == "") ? "-" : (good ? sprintf("%.1f", first + off - acted) : "never")
                  printf "%s\t%s\t%s\t%s\t%s", (good ? sprintf("%.1f", first + off) : "never"), from, at[10], at[20], at[40] }' \
            "$out/$name.jsonl" > "$out/row.txt"
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$topology" "$workload" "$balancer" "$(cat "$out/row.txt")" \
            "$moved" "$misplaced" "$note" "$cost" >> "$out/results.tsv"
    done
done
rm -f "$out/row.txt"
echo 0 > /proc/sys/kernel/numa_balancing
