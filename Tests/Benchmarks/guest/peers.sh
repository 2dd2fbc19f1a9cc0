#!/bin/sh
# Inside a numa-lab guest: each balancer — none, the kernel's (numa_balancing=1),
# numad (-i 5), numabalance (its daemon, numa_balancing=0, started before the
# workload as on a server) and copy (no balancer: the best static placement's
# pages moved by hand with migratepages at ready, timed: the floor for
# anything that moves memory) — against each workload, one at a time, in
# this one guest, RUNS times over. Per run, one line of results.tsv: time to
# target for good (the first line of the probe's last run of lines at it, a
# run of at least HOLD lines: 3, or 10 for a mean) from the workload's launch
# and from its ready line (copy: the copy's seconds), and, for numabalance,
# from its first journal entry on the workload; locality at 10/20/40 s after
# launch; pages moved (numabalance: its own count once idle; the others:
# pgmigrate_success once still) and the misplaced pages measured from
# numa_maps at ready; the cost; pgbench's tps for postgres; numabalance's
# processes whose pages it moved to two different nodes (a page moved twice).
# Details that fit no column go to notes.txt.
# Usage: sh peers.sh BIN_FOLDER TOPOLOGY [WORKLOADS [BALANCERS [RUNS]]]
#   (space-separated; default: all of the topology's, all five, 3)
bin=${1:?bin folder}; topology=${2:?topology}; only=${3:-}
balancers=${4:-none kernel numad numabalance copy}; runs=${5:-3}
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
here=$(dirname "$0"); . "$here/peers-lib.sh"; . "$here/peers-pg.sh"
hz=$(getconf CLK_TCK)

# The issue's rows by default; shm and postgres when named.
case "$topology" in
2x2) all="misplaced misplaced-512 numa01 supervisor sparse-heap"; extra="shm postgres" ;;
4x1) all="misplaced numa01"; extra="" ;;
esac
workloads=$all
if [ -n "$only" ]; then
    workloads=""
    for workload in $only; do
        case " $all $extra " in
        *" $workload "*) workloads="$workloads $workload" ;;
        *) echo "$workload: not a $topology workload here, skipped" >> "$out/notes.txt" ;;
        esac
    done
fi

printf 'topology\tworkload\tbalancer\tto_target\tfrom_first_entry\tat10\tat20\tat40\tmoved\tmisplaced\tmoved_note\tcost\ttps\trun\tfrom_ready\ttwice\n' \
    > "$out/results.tsv"

# start_balancer / stop_balancer: $balancer around one run ($bpid: numad's
# or the daemon's pid).
start_balancer() {
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
}
stop_balancer() {
    case "$balancer" in
    numad) pkill -x numad; while pgrep -x numad > /dev/null; do sleep 0.2; done ;;
    numabalance) kill -TERM "$bpid"; wait "$bpid"; cp "$journal" "$out/$name-journal.jsonl" 2>/dev/null; rm -rf "$nb/state" ;;
    esac
}
# at_launch: the counters a run is measured from, and the launch's time.
at_launch() {
    cost0=0; [ -n "$bpid" ] && cost0=$(cputicks "$bpid")
    faults0=$(vm numa_hint_faults); mig0=$(vm pgmigrate_success)
    launched=$(uptime); launched_wall=$(date +%s.%N)
}
# failed_row NOTE: a run that could not be measured.
# The ruler for the whole 40 s (so that locality at 10/20/40 s is measured;
# the trailing-run rule judges "for good"), in the background: its t = 0 is
# $started.
probe_pid=""
start_probe() {
    started=$(uptime)
    # shellcheck disable=SC2086
    nice -n "$probe_nice" "$w" probe --pids "$pids" --seconds "$seconds" $probe_args > "$out/$name.jsonl" &
    probe_pid=$!
}

failed_row() {
    printf '%s\t%s\t%s\tnever\t-\t-\t-\t-\t0\t-\t%s\t-\t-\t%s\tnever\t-\n' "$topology" "$workload" "$balancer" "$1" "$run" \
        >> "$out/results.tsv"
}
# copy_by_hand PIDS: the best static placement's moves, by migratepages,
# for the workload at hand (the processes' threads keep running, as they do
# under a balancer): where its threads are pinned, each process's pages from
# node 0 to that node; numa01, one of the two processes to node 1; the
# supervisor and shm, one group's segment through one of its members.
copy_by_hand() {
    first=$(echo "$1" | cut -d, -f1); second=$(echo "$1" | cut -d, -f2)
    case "$workload" in
    misplaced|misplaced-512|sparse-heap) migratepages "$first" 0 "$(threads_node "$first")" ;;
    numa01) migratepages "$second" 0 1 ;;
    supervisor|shm)
        member=$(grep '^ready .*group=1' "$log" | head -n 1 | sed -n 's/^ready pid=\([0-9]*\).*/\1/p')
        migratepages "$member" 0 1 ;;
    *) return 1 ;;
    esac
}
# moved_twice JOURNAL: processes whose pages, and shared objects whose
# pages, numabalance moved to two different nodes (a page may have moved
# twice). A spread's moves (a process too big for one node, its memory laid
# evenly over the nodes it was given) count as one destination, the layout:
# each of its pages moves once; a spread then a move to one node counts two.
moved_twice() {
    [ -f "$1" ] || { echo 0; return; }
    grep '"phase":"outcome"' "$1" | grep -E '"kind":"(movePages|moveRanges|setObjectPolicy)"' | awk '
        { moved = $0; sub(/.*"pagesMoved":/, "", moved); sub(/[,}].*/, "", moved)
          if (moved + 0 == 0) next
          if ($0 ~ /"kind":"setObjectPolicy"/) {
              who = $0; sub(/.*"objectKey":"/, "", who); sub(/".*/, "", who)
              to = $0; sub(/.*"nodes":\[/, "", to); sub(/\].*/, "", to)
          } else {
              who = $0; sub(/.*"process":\{"pid":/, "", who); sub(/[,}].*/, "", who)
              to = $0; sub(/.*"to":/, "", to); sub(/[,}].*/, "", to)
              if ($0 ~ /"rule":"spread-over-active-nodes"/) to = "spread"
          }
          if (!((who, to) in seen)) { seen[who, to] = 1; n[who]++ } }
        END { c = 0; for (w in n) if (n[w] > 1) c++; print c }'
}
# nodes_of: "N0=… N1=…" from per_node's lines on stdin.
nodes_of() { sort -n | awk '{ printf "%sN%s=%s", sep, $1, $2; sep = " " }'; }
# vma_of PID HEX: the start of the mapping holding address HEX, as
# numa_maps prints it (a mapping may have merged with its neighbours).
vma_of() {
    a=$((0x$2))
    while IFS='- ' read -r s e _; do
        if [ $((0x$s)) -le $a ] && [ $a -lt $((0x$e)) ]; then echo "$s"; return; fi
    done < "/proc/$1/maps"
}

for run in $(seq 1 "$runs"); do
for workload in $workloads; do
    # units: the ready lines that are units of the best static placement and
    # are probed (the supervisor's idle parent is neither); probe_nice: the
    # probe's niceness (among four busy workers, or pgbench's clients and
    # backends, a niced probe got a line only every few seconds: shapes-2x2.sh).
    pinned=""; target=0.9; mode=each; hold=3; units=.; probe_nice=10; probe_args=""; kind=workload
    case "$workload:$topology" in
    misplaced:2x2) cmd="$w misplaced --mib 256 --mem-node 0 --cpu-node 1"; count=1; pinned=pinned ;;
    misplaced-512:2x2) cmd="$w misplaced --mib 512 --mem-node 0 --cpu-node 1"; count=1; pinned=pinned ;;
    misplaced:4x1) cmd="$w misplaced --mib 256 --mem-node 0 --cpu-node 2"; count=1; pinned=pinned ;;
    numa01:2x2) cmd="$w numa01 --mib 256 --mem-node 0"; count=2 ;;
    numa01:4x1) cmd="$w numa01 --mib 256 --mem-node 0"; count=2; target=0.47; mode=mean; hold=10 ;;
    shm:2x2) cmd="$w shm-group --groups 2 --procs 2 --mib 128 --mem-node 0"; count=4 ;;
    # 4 GiB reserved (MAP_NORESERVE), 128 MiB touched on node 0 in 1 MiB
    # pieces, threads pinned to node 1 by the workload: the touched pages are
    # what is misplaced (numa_maps counts only resident pages).
    sparse-heap:2x2) cmd="$w sparse-heap --reserve-mib 4096 --touch-mib 128 --mem-node 0 --cpu-node 1"; count=1; pinned=pinned ;;
    # 2 groups × 2 unpinned workers, each group's 32 MiB SysV segment first
    # touched on node 0; the parent keeps both attached and sleeps. Ready
    # lines: 4 workers' (group=), then the parent's (role=supervisor).
    supervisor:2x2) cmd="$w supervisor --groups 2 --procs 2 --mib 32 --mem-node 0"; count=5; units=" group="; probe_nice=0 ;;
    # PostgreSQL 15 (peers-pg.sh): a fresh start pinned to node 0 per run,
    # pgbench's tables (scale 2) prewarmed there, every server process
    # unpinned (the launch), then pgbench -S, 2 clients pinned to node 1, for
    # 40 s. The probe watches the 2 client backends, counting each at the CPU
    # it last ran on (a backend waits on its client most of the time).
    postgres:2x2) kind=postgres; probe_nice=0; probe_args=--all-threads ;;
    esac
    if [ "$kind" = postgres ] && ! pg_setup; then
        for balancer in $balancers; do failed_row "postgres setup failed"; done
        continue
    fi
    for balancer in $balancers; do
        if [ "$balancer" = copy ] && [ "$kind" = postgres ]; then continue; fi
        name="$topology-$workload-$balancer-$run"
        log="$out/$name.log"
        start_balancer
        tps=-; moved0=0
        if [ "$kind" = postgres ]; then
            if ! pg_start "$name" || ! pg_prewarm_view "$name"; then
                failed_row "postgres did not start or prewarm"; pg_stop; stop_balancer; continue
            fi
            # The counters from here: the server's start and prewarm, pinned
            # to node 0 where its memory is, are not the balancers' work.
            at_launch
            if [ "$balancer" = numabalance ]; then
                "$bin/numabalance" status --json --runtime-dir "$nb/run" > "$out/$name-status-launch.json" 2>/dev/null
                moved0=$(pages_moved "$out/$name-status-launch.json"); [ -n "$moved0" ] || moved0=0
            fi
            pg_unpin || { failed_row "unpin failed"; pg_stop; stop_balancer; continue; }
            bench_started=$(uptime)
            taskset -c "$node1_cpus" setpriv --reuid=postgres --regid=postgres --clear-groups \
                "$pgbin/pgbench" -h "$pgsock" -n -S -c 2 -j 2 -T 40 bench > "$log" 2>&1 &
            wpid=$!
            # Ready: both clients' backends exist (120 s at most; a look at
            # every server process costs the busy guest a good part of a second).
            tries=0; pids=""
            while [ "$(echo "$pids" | tr , '\n' | grep -c .)" -lt 2 ] && [ $tries -lt 240 ] && kill -0 "$wpid" 2>/dev/null; do
                sleep 0.5; tries=$((tries + 1)); pids=$(client_backends)
            done
            if [ "$(echo "$pids" | tr , '\n' | grep -c .)" -lt 2 ]; then
                failed_row "pgbench's backends never appeared"; kill "$wpid" 2>/dev/null; wait "$wpid"; pg_stop; stop_balancer; continue
            fi
            journal_pids=$(server_pids | paste -sd, -)
            # Misplaced: the buffers' pages off node 1 (the clients' node), as
            # the prewarm backend saw them just before the unpin.
            cp "$out/$name-buffers.txt" "$out/$name-units.txt"
            misplaced=$(awk -v nodes=2 -v span=1 -v fixed=server:1 -f "$here/best-static.awk" "$out/$name-units.txt")
            echo "postgres, $balancer: $(head -n 1 "$out/$name-prewarm.txt") blocks prewarmed; the buffers at the unpin (the prewarm backend's numa_maps): $(sed 's/^server //' "$out/$name-buffers.txt" | nodes_of); client backends $pids" >> "$out/notes.txt"
            # pgbench runs 40 s from its start: the probe ends before it (its
            # own start takes a second or two, and its last line overruns),
            # while the backends are there to be read (their system time).
            seconds=$(echo "$(uptime) $bench_started" | awk '{ s = int(36 - ($1 - $2)); print (s < 5) ? 5 : s }')
        else
            at_launch
            $cmd > "$log" 2>&1 &
            wpid=$!
            until [ "$(grep -c '^ready ' "$log")" -ge "$count" ]; do sleep 0.1; done
            ready=$(uptime)
            pids=$(grep '^ready ' "$log" | grep -e "$units" | sed -n 's/^ready pid=\([0-9]*\).*/\1/p' | paste -sd, -)
            journal_pids=$pids
            # The ruler starts at the ready line, before the numa_maps of the
            # snapshot below are read: under a balancer's move they took 12 s
            # of a numa01 run, during which the probe had not started, and
            # both the kernel and numabalance were already at target by its
            # first line (to target 12.6 and 12.5 s: the snapshot's time).
            seconds=40
            [ "$balancer" = copy ] || start_probe
            misplaced=$(misplaced_at_ready "$log" $pinned); mv "$out/units.txt" "$out/$name-units.txt"
            if [ "$workload" = sparse-heap ]; then
                line=$(grep -m 1 '^ready ' "$log"); p=$(field "$line" pid); touched=$(field "$line" touch-mib)
                heap=$(vma_of "$p" "$(field "$line" heap)")
                echo "sparse-heap, $balancer, at ready: the heap's mapping ($(field "$line" reserve-mib) MiB reserved, $touched MiB = $(( ${touched:-0} * 256 )) pages touched) has $(grep "^$heap " "/proc/$p/numa_maps" | per_node | nodes_of) resident; every non-file page of the process: $(grep -v ' file=' "/proc/$p/numa_maps" | per_node | nodes_of); misplaced (best static, the threads kept on node $(threads_node "$p")): $misplaced" >> "$out/notes.txt"
            fi
        fi
        if [ "$balancer" = copy ]; then
            t0=$(date +%s.%N)
            copy_by_hand "$pids" > "$out/$name-copy.txt" 2>&1 || echo "copy failed: $(cat "$out/$name-copy.txt")" >> "$out/notes.txt"
            t1=$(date +%s.%N)
            set -- $(settled pgmigrate_success); moved=$(( $1 - mig0 ))
            kill "$wpid" 2>/dev/null; wait "$wpid" 2>/dev/null
            copied=$(echo "$t0 $t1" | awk '{ printf "%.1f", $2 - $1 }')
            printf '%s\t%s\t%s\t-\t-\t-\t-\t-\t%s\t%s\t-\t-\t-\t%s\t%s\t-\n' "$topology" "$workload" "$balancer" \
                "$moved" "$misplaced" "$run" "$copied" >> "$out/results.tsv"
            stop_balancer
            continue
        fi
        # postgres: a line with no backend left (pgbench done) is not a 0.
        skip_empty=0; [ "$kind" = postgres ] && skip_empty=1
        [ -n "$probe_pid" ] || start_probe
        wait "$probe_pid"; probe_pid=""
        probed=$(echo "$pids" | tr , '\n' | grep -c .)
        stime=0
        for p in $(echo "$pids" | tr , ' '); do stime=$((stime + $(awk '{ print $15 }' "/proc/$p/stat" 2>/dev/null || echo 0))); done
        faults=$(( $(vm numa_hint_faults) - faults0 ))
        if [ "$kind" = postgres ]; then
            wait "$wpid"
            tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$log" | head -n 1); [ -n "$tps" ] || tps="pgbench failed"
        fi
        note=-   # a tab-separated field is never empty
        if [ "$balancer" = numabalance ]; then
            daemon_idle "$out/$name-status.json" || note="still moving after 10 min"
            moved=$(pages_moved "$out/$name-status.json"); if [ -n "$moved" ]; then moved=$((moved - moved0)); else moved=0; note="no status"; fi
            first=$(first_entry "$journal_pids")
        else
            set -- $(settled pgmigrate_success); moved=$(( $1 - mig0 )); [ -z "${2:-}" ] || note="still moving after 2 min"
            first=""
        fi
        cost1=0; [ -n "$bpid" ] && cost1=$(cputicks "$bpid")
        if [ "$kind" = postgres ]; then pg_stop; else kill "$wpid" 2>/dev/null; wait "$wpid" 2>/dev/null; fi
        stop_balancer
        case "$balancer" in
        kernel) cost="hint_faults=$faults;workload_stime=$(echo "$stime $hz" | awk '{ printf "%.2fs", $1 / $2 }')" ;;
        none) cost="-" ;;
        *) cost="cpu=$(echo "$((cost1 - cost0)) $hz" | awk '{ printf "%.2fs", $1 / $2 }')" ;;
        esac
        [ "$balancer" = numad ] && [ -z "$bpid" ] && cost="numad did not start"
        offset=$(echo "$started $launched" | awk '{ print $1 - $2 }')
        # From the ready line (postgres: from pgbench's start).
        [ "$kind" = postgres ] && ready=$bench_started
        offset_ready=$(echo "$started $ready" | awk '{ print $1 - $2 }')
        twice=-; [ "$balancer" = numabalance ] && twice=$(moved_twice "$out/$name-journal.jsonl")
        # Seconds from launch to the daemon's first act on the workload ("" if none).
        acted=$([ -n "$first" ] && echo "$first $launched_wall" | awk '{ print $1 - $2 }')
        awk -v off="$offset" -v offr="$offset_ready" -v acted="$acted" -v target="$target" -v mode="$mode" -v n="$probed" -v hold="$hold" -v skip_empty="$skip_empty" '
            { t = $0; sub(/.*"t":/, "", t); sub(/[,}].*/, "", t)
              loc = $0; sub(/.*"locality":\{/, "", loc); sub(/\}.*/, "", loc)
              k = split(loc, parts, ","); sum = 0; ok = (k == n); minv = 1
              if (k == 0 && skip_empty) next
              for (i = 1; i <= k; i++) { split(parts[i], kv, ":"); v = kv[2] + 0; sum += v; if (v < minv) minv = v }
              value = (k > 0) ? sum / k : 0
              hit = (mode == "mean") ? (ok && value >= target) : (ok && minv >= target)
              if (hit) { if (run == 0) first = t; run++ } else run = 0
              for (s = 10; s <= 40; s *= 2) if (at[s] == "" && t + off >= s - 0.6) at[s] = sprintf("%.2f", value)
              last = sprintf("%.2f", value) }
            END { for (s = 10; s <= 40; s *= 2) if (at[s] == "") at[s] = last
                  good = (run >= hold)
                  from = (acted == "") ? "-" : (good ? sprintf("%.1f", first + off - acted) : "never")
                  printf "%s\t%s\t%s\t%s\t%s", (good ? sprintf("%.1f", first + off) : "never"), from, at[10], at[20], at[40]
                  printf "\t%s", (good ? sprintf("%.1f", first + offr) : "never") > "/dev/stderr" }' \
            "$out/$name.jsonl" > "$out/row.txt" 2> "$out/row-ready.txt"
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$topology" "$workload" "$balancer" "$(cat "$out/row.txt")" \
            "$moved" "$misplaced" "$note" "$cost" "$tps" "$run" "$(sed 's/^\t//' "$out/row-ready.txt")" "$twice" >> "$out/results.tsv"
    done
done
done
rm -f "$out/row.txt" "$out/row-ready.txt"
echo 0 > /proc/sys/kernel/numa_balancing
