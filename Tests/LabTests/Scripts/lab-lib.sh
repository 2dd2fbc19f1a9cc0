# Helpers for the lab scripts, sourced by each. They run inside a numa-lab
# guest as root; $LAB_OUT is the folder the test reads afterwards.

out=${LAB_OUT:?run me with numa-lab}
bin=${1:?give the folder holding numabalance and numa-workload}
# The sections to run, comma-separated (all when empty): Tests/mutants runs
# one (NUMABALANCE_LAB_ONLY, passed on by the lab harness).
only=${2:-}

# want NAME: whether this run does the section NAME.
want() { [ -z "$only" ] || case ",$only," in *",$1,"*) true ;; *) false ;; esac; }

# mark NAME: the guest's uptime at this point, for the test's timings.
mark() { echo "$1 $(cut -d' ' -f1 /proc/uptime)" >> "$out/marks.txt"; }

# wait_ready FILE COUNT: until FILE has COUNT "ready" lines (120 s at most:
# a loaded host makes TCG slow).
wait_ready() {
    tries=0
    while :; do
        count=$(grep -c '^ready ' "$1" 2>/dev/null)
        [ "${count:-0}" -ge "$2" ] && return 0
        tries=$((tries + 1))
        if [ $tries -gt 1200 ]; then
            echo "lab: no $2 ready line(s) in $1 after 120 s:" >&2
            cat "$1" >&2
            return 1
        fi
        sleep 0.1
    done
}

# first_pid FILE: the pid of the first ready line.
first_pid() { sed -n 's/^ready pid=\([0-9]*\).*/\1/p' "$1" | head -n 1; }

# snapshot PID NAME: maps and numa_maps of PID, read back to back.
snapshot() {
    cat "/proc/$1/maps" > "$out/$2-maps.txt"
    cat "/proc/$1/numa_maps" > "$out/$2-numa_maps.txt"
}

# stop PID: SIGTERM and wait (the workloads stop cleanly on it).
stop() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

# The guest's view of its nodes, for diagnostics when a check fails.
describe_nodes() {
    numactl -H > "$out/numactl.txt" 2>&1
    for node in /sys/devices/system/node/node[0-9]*; do
        echo "$(basename "$node") cpus=$(cat "$node/cpulist") distance=$(cat "$node/distance")"
    done > "$out/sysfs-nodes.txt"
}
