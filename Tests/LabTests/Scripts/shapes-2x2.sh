#!/bin/sh
# The 2x2 guest's checks of real process shapes (issue 14, ShapeLabTests):
# a sparse heap, a supervisor holding every group's segment, a user's pins
# to single CPUs and across nodes, a pool of many lightly loaded threads,
# hugetlb memory. One standalone daemon (the kernel balancer off) runs
# through every section; each workload is judged by numa_maps and its
# threads' CPUs, read here, not by the daemon.
# Usage (inside numa-lab): sh shapes-2x2.sh BIN_FOLDER [SECTION,...]
# Sections: events movers sparse supervisor cpupin manythreads hugetlb forged cpupinhybrid
# (all by default).
. "$(dirname "$0")/lab-lib.sh"
. "$(dirname "$0")/rebalance-lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
begin_standalone || exit 1

# tasks PID NAME: "tid state cpu Cpus_allowed_list Cpus_allowed" per thread
# (state and the CPU it last ran on from task/TID/stat, fields 3 and 39),
# in one awk: a process a thread costs seconds in a busy emulated guest.
tasks() {
    awk '
        { split(FILENAME, path, "/"); tid = path[5] }
        FILENAME ~ /\/stat$/ { line = $0; sub(/.*\) /, "", line); split(line, f, " ")
                               state[tid] = f[1]; cpu[tid] = f[37]; next }
        /^Cpus_allowed:/ { mask[tid] = $2 }
        /^Cpus_allowed_list:/ { list[tid] = $2 }
        END { for (t in state) print t, state[t], cpu[t], list[t], mask[t] }
    ' /proc/"$1"/task/*/stat /proc/"$1"/task/*/status > "$out/$2-tasks.txt"
}

# huge_pages PID: "N0 N1" huge pages of its hugetlb mappings, from numa_maps.
huge_pages() {
    grep ' huge ' "/proc/$1/numa_maps" | tr ' ' '\n' | awk -F= '
        /^N0=/ { n0 += $2 } /^N1=/ { n1 += $2 } END { printf "%d %d\n", n0, n1 }'
}

# pids_where FILE PATTERN: pids of the ready lines matching PATTERN, comma-separated.
pids_where() { grep '^ready ' "$1" | grep -e "$2" | sed -n 's/^ready pid=\([0-9]*\).*/\1/p' | paste -sd, -; }

# shape NAME COUNT PROBE_PIDS_PATTERN TARGET SECONDS COMMAND...: as daemon-lib's
# scenario (status and pgmigrate_success around it, the probe until TARGET
# holds 3 s or SECONDS pass, then idle), with hooks: at_ready NAME once the
# workload is ready, at_end NAME before it is stopped. The probe watches the
# ready lines matching the pattern; $probe_args adds flags to it.
shape() {
    name=$1; count=$2; pattern=$3; target=$4; seconds=$5; shift 5
    mark "$name-start"
    sed -n 's/^pgmigrate_success //p' /proc/vmstat > "$out/$name-migrated-start.txt"
    status "$name-start"
    "$@" > "$out/$name.log" 2>&1 &
    workload=$!
    wait_ready "$out/$name.log" "$count" || return 1
    pids=$(pids_where "$out/$name.log" "$pattern")
    echo "$pids" > "$out/$name-pids.txt"
    mark "$name-ready"
    # The kernel's count from here: before its ready line the workload
    # gathers its own pages on --mem-node (migrate_pages; about 2,500 pages
    # of its runtime once), which pgmigrate_success counts too.
    sed -n 's/^pgmigrate_success //p' /proc/vmstat > "$out/$name-migrated-ready.txt"
    status "$name-ready"
    at_ready "$name"
    # shellcheck disable=SC2086
    # Not niced, unlike daemon-lib's: among four busy workers a niced probe
    # got a line only every 10 s, and overran its --seconds by half.
    "$bin/numa-workload" probe --pids "$pids" --seconds "$seconds" --until "$target" \
        ${probe_args:-} > "$out/$name-probe.jsonl"
    settled "$name" || return 1
    at_end "$name"
    stop "$workload"
    mark "$name-end"
}
at_ready() { :; }
at_end() { :; }

# events: a process started while the daemon runs is looked at half a
# second after it starts (the kernel's process events), not at the next
# /proc listing (every 30 s with the events on). Its launch in wall-clock
# seconds, as the daemon's log stamps its lines, and its pid.
if want events; then
    mark events-start
    date +%s.%N > "$out/events-launch.txt"
    sleep 30 &
    echo "$!" > "$out/events-pid.txt"
    sleep 3
    kill "$!"
    wait "$!" 2>/dev/null
    mark events-end
fi

# movers: two processes misplaced the opposite ways at once, 256 MiB each
# (A: memory on node 0, B on node 1), each started where its memory is and
# then pinned by "the user" (taskset -a) to the other node, both pins in the
# same instant: each one's setup under emulation can take 20 s more than the
# other's (A was once ready 19 s after B, B's move over by then), and a
# process misplaced by its own start would begin its move that much later.
# One move goes to node 1's mover and one to node 0's: their journal
# entries must overlap. While they run, `numabalance status` is asked every
# 0.2 s: "START END IN_FLIGHT ANSWER" per call in movers-status.txt
# (wall-clock seconds around the whole command, whether the daemon said an
# act was in flight, and the daemon's answer time as `--time` measured it:
# in this guest, busy with both workloads, the command's own start takes
# seconds). One thread each: with two each and both moves' copies the four
# CPUs were so oversubscribed that the emulator took 0.7 s to run the
# daemon's answer. Both workloads' numa_maps at the pins and at the end.
if want movers; then
    mark movers-start
    "$w" misplaced --mib 256 --mem-node 0 --cpu-node 0 --threads 1 > "$out/movers-a.log" 2>&1 &
    mover_a=$!
    "$w" misplaced --mib 256 --mem-node 1 --cpu-node 1 --threads 1 > "$out/movers-b.log" 2>&1 &
    mover_b=$!
    wait_ready "$out/movers-a.log" 1 || exit 1
    wait_ready "$out/movers-b.log" 1 || exit 1
    pid_a=$(pids_where "$out/movers-a.log" .); pid_b=$(pids_where "$out/movers-b.log" .)
    echo "$pid_a $pid_b" > "$out/movers-pids.txt"
    snapshot "$pid_a" movers-a-ready; snapshot "$pid_b" movers-b-ready
    taskset -a -p -c "$(cat /sys/devices/system/node/node1/cpulist)" "$pid_a" > /dev/null || exit 1
    taskset -a -p -c "$(cat /sys/devices/system/node/node0/cpulist)" "$pid_b" > /dev/null || exit 1
    mark movers-ready
    : > "$out/movers-status.txt"
    # 40 s at most: at the emulator's some 60 MB/s both moves take about 5 s.
    end=$(( $(date +%s) + 40 )); seen=0
    while [ "$(date +%s)" -lt "$end" ]; do
        t0=$(date +%s.%N)
        "$bin/numabalance" status --json --time --runtime-dir "$nb/run" > "$out/movers-last-status.json" \
            2> "$out/movers-last-time.txt"
        t1=$(date +%s.%N)
        if grep -q '"actionInFlight" *: *true' "$out/movers-last-status.json"; then flight=1; seen=1; else flight=0; fi
        answer=$(sed -n 's/^answered in \([0-9.]*\) s$/\1/p' "$out/movers-last-time.txt")
        echo "$t0 $t1 $flight ${answer:--}" >> "$out/movers-status.txt"
        # Done once both have had an act and none is in flight.
        if [ "$seen" = 1 ] && [ "$flight" = 0 ]; then break; fi
        sleep 0.2
    done
    wait_idle || exit 1
    snapshot "$pid_a" movers-a-end; snapshot "$pid_b" movers-b-end
    stop "$mover_a"; stop "$mover_b"
    mark movers-end
fi

# sparse-heap: 4 GiB reserved (MAP_NORESERVE), 32 MiB touched on node 0 in
# 1 MiB pieces spread over it, threads pinned to node 1 by the workload
# itself (the user's pin: memory must follow). These 4 KiB pages, which its
# threads keep writing, move at about 0.75 MB/s here (128 MiB took 172 s,
# where the kernel's balancer took 19 s: issue 17), so 32 MiB take about
# 45 s. Bound 75 s; the probe runs 80 s.
if want sparse; then
    at_ready() { snapshot "$pids" sparse-ready; }
    at_end() { snapshot "$pids" sparse-end; }
    shape sparse 1 . 0.9 80 "$w" sparse-heap --reserve-mib 4096 --touch-mib 32 --mem-node 0 --cpu-node 1 || exit 1
fi

# supervisor: the parent creates two 32 MiB SysV segments on node 0, starts
# two groups of two unpinned workers (one thread each, its group's segment),
# keeps both segments attached and sleeps. Bound 90 s; the probe runs 95 s
# over the workers only. Moving one 32 MiB segment its sharers write takes
# about 3.5 s at the emulator's 10 MB/s.
if want supervisor; then
    at_ready() {
        sed -n 's/^ready pid=\([0-9]*\) role=supervisor.*/\1/p' "$out/$1.log" > "$out/$1-parent-pid.txt"
        parent=$(cat "$out/$1-parent-pid.txt")
        tasks "$parent" "$1-parent-ready"
        snapshot "$parent" "$1-parent-ready"
    }
    at_end() {
        tasks "$parent" "$1-parent-end"
        snapshot "$parent" "$1-parent-end"
        for worker in $(tr ',' ' ' < "$out/$1-pids.txt"); do
            tasks "$worker" "$1-$worker-end"
            snapshot "$worker" "$1-$worker-end"
        done
    }
    shape supervisor 5 'group=' 0.9 95 "$w" supervisor --groups 2 --procs 2 --mib 32 --mem-node 0 || exit 1
fi
at_ready() { :; }
at_end() { :; }

# cpu-pin: A's two threads pinned by the user to CPU 0 and CPU 2, each
# sweeping a 32 MiB buffer first touched on the other node; B under
# `taskset -c 1,3` (one CPU on each node), numa02 with two threads. Every
# thread's affinity is read before and after 60 s of the daemon. A's
# buffers stay where they are: per process, its memory and CPU are both
# half on each node (cpupinhybrid has the kernel move them per thread).
if want cpupin; then
    mark cpupin-start
    sed -n 's/^pgmigrate_success //p' /proc/vmstat > "$out/cpupin-migrated-start.txt"
    status cpupin-start
    taskset -c 1,3 "$w" numa02 --mib 32 --threads 2 > "$out/cpupin-b.log" 2>&1 &
    workload_b=$!
    wait_ready "$out/cpupin-b.log" 1 || exit 1
    # Each process's pins read as soon as it is ready: the daemon may act on
    # B while A sets itself up (it did, in 9 s, before this read came first).
    tasks "$(first_pid "$out/cpupin-b.log")" cpupin-b-before
    "$w" cpu-pin --cpus 0,2 --mem-nodes 1,0 --mib 32 > "$out/cpupin-a.log" 2>&1 &
    workload_a=$!
    wait_ready "$out/cpupin-a.log" 1 || exit 1
    pid_a=$(first_pid "$out/cpupin-a.log"); pid_b=$(first_pid "$out/cpupin-b.log")
    tasks "$pid_a" cpupin-a-before
    snapshot "$pid_a" cpupin-a-ready
    echo "$pid_a" > "$out/cpupin-a-pid.txt"; echo "$pid_b" > "$out/cpupin-b-pid.txt"
    mark cpupin-ready
    sleep 60
    tasks "$pid_a" cpupin-a-after; tasks "$pid_b" cpupin-b-after
    snapshot "$pid_a" cpupin-a-end; snapshot "$pid_b" cpupin-b-end
    settled cpupin || exit 1
    stop "$workload_a"; stop "$workload_b"
    mark cpupin-end
fi

# many-threads: 64 threads, each busy 1 ms of every 50 ms (about 1.5 % of
# a CPU each under the emulator, 1 CPU in all), 64 MiB first touched on
# node 0, every thread pinned to node 1 by the workload. The probe counts
# every thread at its last CPU (few are running at any instant). Bound 45 s;
# the probe runs 50 s.
if want manythreads; then
    probe_args=--all-threads
    at_ready() { snapshot "$pids" manythreads-ready; }
    at_end() { tasks "$pids" manythreads-end; snapshot "$pids" manythreads-end; }
    shape manythreads 1 . 0.9 50 "$w" many-threads --threads 64 --mib 64 --mem-node 0 --cpu-node 1 || exit 1
    probe_args=
    at_ready() { :; }
    at_end() { :; }
fi

# hugetlb: 2 MiB pools on both nodes, then two workloads with 64 MiB of
# MAP_HUGETLB memory on node 0 and threads pinned to node 1 (their other
# memory, 24 MiB and the runtime's, on node 1): "moved" matched by a policy
# with sampling.hugetlb: true, "alone" by none. `inspect` of "alone" first;
# then both run together for 40 s at most (the bound for "moved": 64 MiB of
# private pages move in about a second at 60 MB/s).
if want hugetlb; then
    mark hugetlb-start
    pool=/sys/devices/system/node/node%d/hugepages/hugepages-2048kB/nr_hugepages
    # shellcheck disable=SC2059
    echo 72 > "$(printf "$pool" 0)"; echo 40 > "$(printf "$pool" 1)"
    # shellcheck disable=SC2059
    echo "$(cat "$(printf "$pool" 0)") $(cat "$(printf "$pool" 1)")" > "$out/hugetlb-pools.txt"
    cat > "$nb/70-hugetlb.yaml" <<POLICY
apiVersion: numabalance/v1
kind: Policy
name: lab-hugetlb
description: The lab's hugetlb check; its huge pages are sampled and moved.
match:
  cmdline: "numa-workload hugetlb .*--label moved( |$)"
placement:
  mode: auto
sampling:
  hugetlb: true
POLICY
    chmod 0644 "$nb/70-hugetlb.yaml"
    "$bin/numabalance" policy apply --config "$nb/numabalance.yaml" "$nb/70-hugetlb.yaml" > "$out/apply-hugetlb.txt" 2>&1
    echo $? > "$out/apply-hugetlb.rc"
    sed -n 's/^pgmigrate_success //p' /proc/vmstat > "$out/hugetlb-migrated-start.txt"
    status hugetlb-start
    "$w" hugetlb --mib 64 --private-mib 24 --mem-node 0 --cpu-node 1 --label alone > "$out/hugetlb-alone.log" 2>&1 &
    workload_alone=$!
    wait_ready "$out/hugetlb-alone.log" 1 || exit 1
    alone=$(first_pid "$out/hugetlb-alone.log"); echo "$alone" > "$out/hugetlb-alone-pid.txt"
    alone_since=$(cut -d' ' -f1 /proc/uptime)
    # "moved" sets itself up while "alone" is inspected.
    "$w" hugetlb --mib 64 --private-mib 24 --mem-node 0 --cpu-node 1 --label moved > "$out/hugetlb-moved.log" 2>&1 &
    workload_moved=$!
    snapshot "$alone" hugetlb-inspect-before
    "$bin/numabalance" inspect "$alone" --hugetlb --exact --json > "$out/hugetlb-inspect.json" 2> "$out/hugetlb-inspect.err"
    echo $? > "$out/hugetlb-inspect.rc"
    snapshot "$alone" hugetlb-inspect-after
    wait_ready "$out/hugetlb-moved.log" 1 || exit 1
    moved=$(first_pid "$out/hugetlb-moved.log"); echo "$moved" > "$out/hugetlb-moved-pid.txt"
    mark hugetlb-ready
    huge_pages "$moved" > "$out/hugetlb-moved-ready-pages.txt"
    huge_pages "$alone" > "$out/hugetlb-alone-ready-pages.txt"
    since=$(cut -d' ' -f1 /proc/uptime); result=never
    while [ "$(echo "$(cut -d' ' -f1 /proc/uptime) $since" | awk '{ print ($1 - $2 <= 40) }')" = 1 ]; do
        if huge_pages "$moved" | awk '{ s = $1 + $2; exit !(s > 0 && $2 >= 0.9 * s) }'; then
            result=$(echo "$(cut -d' ' -f1 /proc/uptime) $since" | awk '{ printf "%.1f\n", $1 - $2 }'); break
        fi
        sleep 0.5
    done
    echo "$result" > "$out/hugetlb-moved-seconds.txt"
    # "alone" is judged after 30 s with the daemon at least (its scan period
    # is at most 10 s here), and 5 s more than "moved" needed.
    sleep 5
    while [ "$(echo "$(cut -d' ' -f1 /proc/uptime) $alone_since" | awk '{ print ($1 - $2 < 30) }')" = 1 ]; do sleep 1; done
    wait_idle || exit 1
    huge_pages "$moved" > "$out/hugetlb-moved-end-pages.txt"
    huge_pages "$alone" > "$out/hugetlb-alone-end-pages.txt"
    snapshot "$moved" hugetlb-moved-end; snapshot "$alone" hugetlb-alone-end
    tasks "$moved" hugetlb-moved-end; tasks "$alone" hugetlb-alone-end
    settled hugetlb || exit 1
    stop "$workload_moved"; stop "$workload_alone"
    mark hugetlb-end
fi

# forged: a file named like a SysV segment (security review 4.5). A tmpfs
# file SYSV0000beef, mapped shared by a parent and two children pinned to
# node 1, first touched on node 0; then unlinked and its mount lazily
# detached, so that maps shows "/SYSV0000beef (deleted)" as for a real
# segment, on the tmpfs's device. Once named a segment, the daemon used to
# shmat the shmid of the file's inode number: any tenant's segment.
if want forged; then
    mark forged-start
    mkdir -p /tmp/forge && mount -t tmpfs forge /tmp/forge || exit 1
    "$w" shared-anon --file /tmp/forge/SYSV0000beef --mib 16 --mem-node 0 --children 2 --cpu-node 1 \
        > "$out/forged.log" 2>&1 &
    workload=$!
    wait_ready "$out/forged.log" 3 || exit 1
    rm /tmp/forge/SYSV0000beef; umount -l /tmp/forge
    ready_pids "$out/forged.log" > "$out/forged-pids.txt"
    grep SYSV "/proc/$(first_pid "$out/forged.log")/maps" > "$out/forged-maps.txt"
    mark forged-ready
    # Two looks at the children at least (the two-stage filter), then idle.
    sleep 20
    settled forged || exit 1
    stop "$workload"
    mark forged-end
fi

daemon_stop standalone

# cpu-pin in hybrid mode: the kernel balancer on, whose hint faults are per
# thread (it sees which thread touches which buffer; userspace sees pages
# per process); numabalance in hybrid mode keeps A's pins and leaves its
# private pages to the kernel. A fresh A, each buffer first touched on the
# other node from its thread's; its pages on its thread's node polled from
# numa_maps every 2 s until both hold 90 % or 90 s pass.
if want cpupinhybrid; then
    echo 1 > /proc/sys/kernel/numa_balancing
    daemon_start hybrid || exit 1
    mark cpupinh-start
    "$w" cpu-pin --cpus 0,2 --mem-nodes 1,0 --mib 32 > "$out/cpupinh.log" 2>&1 &
    workload_h=$!
    wait_ready "$out/cpupinh.log" 1 || exit 1
    pid_h=$(first_pid "$out/cpupinh.log"); echo "$pid_h" > "$out/cpupinh-pid.txt"
    tasks "$pid_h" cpupinh-before
    snapshot "$pid_h" cpupinh-ready
    mark cpupinh-ready
    t0=$(cut -d' ' -f1 /proc/uptime)
    buffers=$(sed -n 's/^ready .*buffers=\([^ ]*\).*/\1/p' "$out/cpupinh.log" | tr ',' ' ')
    result=never
    while :; do
        followed=0
        for buffer in $buffers; do
            start=${buffer%%:*}; rest=${buffer#*:}; cpu=${rest%%:*}
            home=$(ls -d /sys/devices/system/cpu/cpu"$cpu"/node* | sed 's/.*node//')
            pages=$(grep "^$start " "/proc/$pid_h/numa_maps" | tr ' ' '\n' | sed -n "s/^N$home=//p")
            [ "${pages:-0}" -ge 7373 ] && followed=$((followed + 1))
        done
        now=$(cut -d' ' -f1 /proc/uptime)
        if [ "$followed" -eq 2 ]; then result=$(echo "$t0 $now" | awk '{ printf "%.1f", $2 - $1 }'); break; fi
        [ "$(echo "$t0 $now" | awk '{ print ($2 - $1 >= 90) }')" = 1 ] && break
        sleep 2
    done
    echo "$result" > "$out/cpupinh-seconds.txt"
    tasks "$pid_h" cpupinh-after
    snapshot "$pid_h" cpupinh-end
    settled cpupinh || exit 1
    stop "$workload_h"
    daemon_stop hybrid
    echo 0 > /proc/sys/kernel/numa_balancing
    mark cpupinh-end
fi
# No journal (no act at all) stays missing: the tests then fail, never pass on no file.
cp "$nb/state/journal.jsonl" "$out/journal.jsonl" 2>/dev/null || :
mark end
