# Helpers of peers.sh (sourced; $bin, $nb, $out and $here, this folder, set):
# what is misplaced at ready, when the daemon is idle, and counters read once
# they hold still.
uptime() { cut -d' ' -f1 /proc/uptime; }
vm() { sed -n "s/^$1 //p" /proc/vmstat; }
# cputicks PID: utime+stime of a process (0 if gone).
cputicks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# field LINE NAME: NAME's value in a `ready key=value …` line.
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
# per_node: "NODE PAGES" lines from numa_maps lines on stdin.
per_node() { tr ' ' '\n' | awk -F= '/^N[0-9]+=/ { n[substr($1, 2)] += $2 } END { for (k in n) print k, n[k] }'; }
# node_of_cpu CPU
node_of_cpu() { basename /sys/devices/system/cpu/cpu"$1"/node* | sed 's/^node//'; }
# threads_node PID: the node most of its threads last ran on.
threads_node() {
    for stat in /proc/"$1"/task/*/stat; do
        node_of_cpu "$(sed 's/.*) //' "$stat" | awk '{ print $37 }')"
    done | sort | uniq -c | sort -rn | awk 'NR == 1 { print $2 }'
}

# segments: "UNIT NODE PAGES" of each SysV segment once, from lines "UNIT
# SHMID PID NODE PAGES" (every member's view): the fullest member's shares
# (numa_maps counts only pages a process has touched) × the segment's
# resident pages in /proc/sysvipc/shm.
segments() {
    awk -v shm=/proc/sysvipc/shm '
        BEGIN { while ((getline line < shm) > 0) { split(line, f, " "); if (f[2] ~ /^[0-9]+$/) rss[f[2]] = f[15] / 4096 } }
        { unit[$2] = $1; n[$2, $3, $4] += $5; seen[$4] = 1
          tot[$2, $3] += $5; if (tot[$2, $3] > most[$2]) { most[$2] = tot[$2, $3]; who[$2] = $3 } }
        END { for (s in unit) for (k in seen) if (n[s, who[s], k] > 0)
                  printf "%s %s %d\n", unit[s], k, n[s, who[s], k] / most[s] * rss[s] + 0.5 }'
}

# misplaced_at_ready LOG [pinned]: the workload's misplaced pages now, from
# numa_maps (non-file pages per node, a SysV segment once per group) through
# best-static.awk; a unit gets the nodes its threads need (a group: all its
# members'). pinned: the threads stay on the node they run on. Only the ready
# lines matching $units (default: all) are units: the supervisor's parent,
# idle and attached to every segment, is none (its segments are counted once
# per group, from the members' views; its own pages are not the workload's).
misplaced_at_ready() {
    nodes=$(ls -d /sys/devices/system/node/node[0-9]* | wc -l)
    per=$(ls -d /sys/devices/system/cpu/cpu[0-9]*/node0 | wc -l)
    fixed=""; : > "$out/segments.txt"; : > "$out/threads.txt"
    sed -n 's/^ready //p' "$1" | grep -e "${units:-.}" > "$out/ready.txt"
    while read -r line; do
        pid=$(field "$line" pid); group=$(field "$line" group); shmid=$(field "$line" shmid)
        unit=p$pid; [ -n "$group" ] && unit=g$group
        grep -v ' file=' "/proc/$pid/numa_maps" | per_node | sed "s/^/$unit /"
        [ -z "$shmid" ] || grep SYSV "/proc/$pid/numa_maps" | per_node | sed "s/^/$unit $shmid $pid /" >> "$out/segments.txt"
        [ "${2:-}" != pinned ] || fixed="$unit:$(threads_node "$pid")"
        echo "$unit $(field "$line" threads)" >> "$out/threads.txt"
    done < "$out/ready.txt" > "$out/units.txt"
    segments < "$out/segments.txt" >> "$out/units.txt"   # kept: what the figure was made of
    span=$(awk -v per="$per" '{ t[$1] += $2 } END { s = 1; for (u in t) { k = int((t[u] + per - 1) / per); if (k > s) s = k }; print s }' "$out/threads.txt")
    awk -v nodes="$nodes" -v span="$span" -v fixed="$fixed" -f "$here/best-static.awk" "$out/units.txt"
    rm -f "$out/ready.txt" "$out/segments.txt" "$out/threads.txt"
}

# settled NAME: "VALUE" of a /proc/vmstat counter once it held still for 2 s
# (the kernel counts a migrate_pages call's pages when the call returns);
# "VALUE moving" if it never did in 2 minutes.
settled() {
    a=$(vm "$1"); tries=0
    while sleep 2; do
        b=$(vm "$1"); [ "$a" = "$b" ] && { echo "$a"; return; }
        a=$b; tries=$((tries + 1)); [ $tries -lt 60 ] || { echo "$a moving"; return; }
    done
}

# The daemon's journal: JSON lines, keys sorted, each action an intent line
# then an outcome line with the same id (Sources/NUMAActuation/Journal.swift).
journal="$nb/state/journal.jsonl"
journal_lines() { if [ -f "$journal" ]; then wc -l < "$journal"; else echo 0; fi; }
# open_intents: intents without their outcome yet.
open_intents() {
    [ -f "$journal" ] || { echo 0; return; }
    sed -n 's/.*"by":"[^"]*","id":"\([^"]*\)".*"phase":"\([a-z]*\)".*/\2 \1/p' "$journal" | awk '
        $1 == "intent" { i[$2] = 1 } $1 == "outcome" { o[$2] = 1 }
        END { n = 0; for (k in i) if (!(k in o)) n++; print n }'
}
# first_entry PIDS: wall-clock time of the first journal line naming one of
# the comma-separated pids (the daemon's first act on the workload), or "".
first_entry() {
    [ -f "$journal" ] || return 0
    grep -m 1 -E "\"pid\":($(echo "$1" | tr , '|'))," "$journal" | sed -n 's/.*"time":\([0-9.eE+]*\).*/\1/p'
}
# daemon_idle FILE: until every intent has its outcome and the status (kept
# in FILE) says no act is in flight, the journal unchanged meanwhile (so the
# totals count every act's pages); 10 minutes at most.
daemon_idle() {
    tries=0
    while [ $tries -lt 600 ]; do
        lines=$(journal_lines)
        if [ "$(open_intents)" = 0 ] && "$bin/numabalance" status --json --runtime-dir "$nb/run" > "$1" 2>/dev/null \
            && grep -q '"actionInFlight" *: *false' "$1" && [ "$(journal_lines)" = "$lines" ]; then return 0; fi
        tries=$((tries + 1)); sleep 1
    done
    return 1
}
# pages_moved FILE: totals.pagesMoved of a status JSON.
pages_moved() { sed -n 's/.*"pagesMoved" *: *\([0-9]*\).*/\1/p' "$1" | head -n 1; }
