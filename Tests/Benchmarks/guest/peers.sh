#!/bin/sh
# Inside a numa-lab guest: each balancer — none, the kernel's (numa_balancing=1),
# numad (-i 5) and numabalance (its daemon, numa_balancing=0) — against each
# workload, one at a time, in this one guest. Per run, one line of
# results.tsv: time to 90 % locality (each process; "mean" workloads: their
# mean at 0.5) counted from the workload's launch, locality at 10/20/40 s,
# pages migrated, and the balancer's cost.
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
uptime() { cut -d' ' -f1 /proc/uptime; }
vm() { sed -n "s/^$1 //p" /proc/vmstat; }
# cputicks PID: utime+stime of a process (0 if gone).
cputicks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
hz=$(getconf CLK_TCK)

case "$topology" in
2x2) workloads="misplaced numa01 shm" ;;
4x1) workloads="misplaced numa01" ;;
esac

printf 'topology\tworkload\tbalancer\tto90\tat10\tat20\tat40\tmigrated\tmisplaced\tcost\n' > "$out/results.tsv"
for workload in $workloads; do
    case "$workload:$topology" in
    misplaced:2x2) cmd="$w misplaced --mib 256 --mem-node 0 --cpu-node 1"; count=1; misplaced=65536; target=0.9; mode=each ;;
    misplaced:4x1) cmd="$w misplaced --mib 256 --mem-node 0 --cpu-node 2"; count=1; misplaced=65536; target=0.9; mode=each ;;
    numa01:2x2) cmd="$w numa01 --mib 128 --mem-node 0"; count=2; misplaced=32768; target=0.9; mode=each ;;
    numa01:4x1) cmd="$w numa01 --mib 128 --mem-node 0"; count=2; misplaced=49152; target=0.47; mode=mean ;;
    shm:2x2) cmd="$w shm-group --groups 2 --procs 2 --mib 128 --mem-node 0"; count=4; misplaced=32768; target=0.9; mode=each ;;
    esac
    for balancer in none kernel numad numabalance; do
        echo 0 > /proc/sys/kernel/numa_balancing
        [ "$balancer" = kernel ] && echo 1 > /proc/sys/kernel/numa_balancing
        bpid=""
        if [ "$balancer" = numad ]; then
            numad -i 5 > /dev/null 2>&1; sleep 1; bpid=$(cat /var/run/numad.pid 2>/dev/null)
        elif [ "$balancer" = numabalance ]; then
            "$bin/numabalance" run --config "$nb/numabalance.yaml" > "$out/$topology-$workload-daemon.log" 2>&1 &
            bpid=$!
            until "$bin/numabalance" status --runtime-dir "$nb/run" > /dev/null 2>&1; do sleep 0.2; done
        fi
        cost0=0; [ -n "$bpid" ] && cost0=$(cputicks "$bpid")
        faults0=$(vm numa_hint_faults); mig0=$(vm pgmigrate_success)
        launched=$(uptime)
        log="$out/$topology-$workload-$balancer.log"
        $cmd > "$log" 2>&1 &
        wpid=$!
        until [ "$(grep -c '^ready ' "$log")" -ge "$count" ]; do sleep 0.1; done
        ready=$(uptime)
        pids=$(sed -n 's/^ready pid=\([0-9]*\).*/\1/p' "$log" | paste -sd, -)
        nice -n 10 "$w" probe --pids "$pids" --seconds 40 > "$out/$topology-$workload-$balancer.jsonl"
        stime=0
        for p in $(echo "$pids" | tr , ' '); do stime=$((stime + $(awk '{ print $15 }' "/proc/$p/stat" 2>/dev/null || echo 0))); done
        cost1=0; [ -n "$bpid" ] && cost1=$(cputicks "$bpid")
        faults=$(( $(vm numa_hint_faults) - faults0 )); migrated=$(( $(vm pgmigrate_success) - mig0 ))
        kill "$wpid" 2>/dev/null; wait "$wpid" 2>/dev/null
        case "$balancer" in
        numad) kill "$bpid" 2>/dev/null; sleep 1 ;;
        numabalance) kill -TERM "$bpid"; wait "$bpid" ;;
        esac
        case "$balancer" in
        kernel) cost="hint_faults=$faults;workload_stime=$(echo "$stime $hz" | awk '{ printf "%.2fs", $1 / $2 }')" ;;
        none) cost="-" ;;
        *) cost="cpu=$(echo "$((cost1 - cost0)) $hz" | awk '{ printf "%.2fs", $1 / $2 }')" ;;
        esac
        offset=$(echo "$ready $launched" | awk '{ print $1 - $2 }')
        # Time to target from launch, and locality near 10, 20, 40 s after launch.
        awk -v off="$offset" -v target="$target" -v mode="$mode" -v n="$count" '
            { t = $0; sub(/.*"t":/, "", t); sub(/[,}].*/, "", t); t += off
              loc = $0; sub(/.*"locality":\{/, "", loc); sub(/\}.*/, "", loc)
              k = split(loc, parts, ","); sum = 0; ok = (k == n); minv = 1
              for (i = 1; i <= k; i++) { split(parts[i], kv, ":"); v = kv[2] + 0; sum += v; if (v < minv) minv = v }
              value = (k > 0) ? sum / k : 0
              hit = (mode == "mean") ? (ok && value >= target) : (ok && minv >= target)
              if (hit && to == "") to = sprintf("%.1f", t)
              for (s = 10; s <= 40; s *= 2) if (at[s] == "" && t >= s - 0.6) at[s] = sprintf("%.2f", value)
              last = sprintf("%.2f", value) }
            END { for (s = 10; s <= 40; s *= 2) if (at[s] == "") at[s] = last
                  printf "%s\t%s\t%s\t%s", (to == "" ? "never" : to), at[10], at[20], at[40] }' \
            "$out/$topology-$workload-$balancer.jsonl" > "$out/row.txt"
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$topology" "$workload" "$balancer" "$(cat "$out/row.txt")" \
            "$migrated" "$misplaced" "$cost" >> "$out/results.tsv"
    done
done
echo 0 > /proc/sys/kernel/numa_balancing
