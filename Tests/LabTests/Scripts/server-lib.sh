# Helpers for the real-server lab script (sourced after lab-lib.sh and
# daemon-lib.sh): a real PostgreSQL run as the `postgres` user with its data
# and socket on the guest's tmpfs, and a sampler that records, once a second,
# every server process's state, last CPU, CPU time, affinity and pages per
# node (numa_maps: the truth, read independently of the daemon).

. "$(dirname "$0")/pg-conf.sh"
pgbin=/usr/lib/postgresql/15/bin
pgroot=/tmp/pg            # the guest's tmpfs; made here, owned by postgres (not 0700 on the host)
pgdata=$pgroot/data
pgsock=$pgroot/sock
node0_cpus=$(cat /sys/devices/system/node/node0/cpulist)
node1_cpus=$(cat /sys/devices/system/node/node1/cpulist)
all_cpus=$(cat /sys/devices/system/cpu/online)

# as_user USER GROUP COMMAND...: COMMAND as a non-root user (a service's
# shape: the daemon reads another user's processes).
as_user() { u=$1; g=$2; shift 2; setpriv --reuid="$u" --regid="$g" --clear-groups "$@"; }
as_pg() { as_user postgres postgres "$@"; }

# pg_init: a cluster on tmpfs, settings for the emulator (no fsync, small
# WAL), shared_buffers 128MB (MAP_SHARED|MAP_ANONYMOUS memory), 4 KiB pages.
pg_init() {
    mkdir -p "$pgroot" "$pgsock"
    chown postgres:postgres "$pgroot" "$pgsock"
    as_pg "$pgbin/initdb" -D "$pgdata" --no-locale -E UTF8 -A trust -U postgres > "$out/pg-initdb.log" 2>&1 || return 1
    pg_conf "$pgdata" "$pgsock"
}

# pg_start NAME: the server started pinned to node 0 (taskset, the CPUs of
# node 0: an affinity, which can be undone from outside, unlike a bind
# mempolicy). Sets $postmaster.
pg_start() {
    taskset -c "$node0_cpus" setpriv --reuid=postgres --regid=postgres --clear-groups \
        "$pgbin/pg_ctl" -D "$pgdata" -l "$pgroot/server.log" -w -t 120 start > "$out/$1-pg_ctl.log" 2>&1 || {
        cat "$pgroot/server.log" >> "$out/$1-pg_ctl.log"; return 1; }
    postmaster=$(head -n 1 "$pgdata/postmaster.pid")
    echo "$postmaster" > "$out/$1-postmaster.txt"
    mark "$1-server-up"
}

pg_stop() { as_pg "$pgbin/pg_ctl" -D "$pgdata" -m fast -w stop > /dev/null 2>&1; cat "$pgroot/server.log" >> "$out/pg-server.log"; : > "$pgroot/server.log"; }

# psql_node0 DB PSQL_ARGS...: psql as postgres on node 0 (its backend is
# forked by the pinned postmaster, so it runs there too).
psql_node0() {
    db=$1; shift
    taskset -c "$node0_cpus" setpriv --reuid=postgres --regid=postgres --clear-groups \
        "$pgbin/psql" -X -q -h "$pgsock" -d "$db" -v ON_ERROR_STOP=1 "$@"
}

# pg_load SCALE: the pgbench tables, loaded from node 0.
pg_load() {
    taskset -c "$node0_cpus" setpriv --reuid=postgres --regid=postgres --clear-groups \
        "$pgbin/createdb" -h "$pgsock" bench > "$out/pg-load.log" 2>&1 || return 1
    taskset -c "$node0_cpus" setpriv --reuid=postgres --regid=postgres --clear-groups \
        "$pgbin/pgbench" -h "$pgsock" -i -q -s "$1" bench >> "$out/pg-load.log" 2>&1
}

# pg_prewarm NAME: every pgbench relation read into the shared buffers by a
# backend on node 0; the blocks read, into NAME-prewarm.txt.
pg_prewarm() {
    psql_node0 bench -c "CREATE EXTENSION IF NOT EXISTS pg_prewarm" \
        -c "SELECT sum(pg_prewarm(c::regclass)) AS blocks FROM unnest(ARRAY['pgbench_accounts', 'pgbench_accounts_pkey', 'pgbench_branches', 'pgbench_branches_pkey', 'pgbench_tellers', 'pgbench_tellers_pkey']) AS c" \
        > "$out/$1-prewarm.txt" 2>&1
}

# pg_unpin NAME: every server process (every thread) allowed on every CPU
# again; their affinities after it, into NAME-unpinned.txt. Backends forked
# later inherit the postmaster's.
pg_unpin() {
    for p in $(server_pids); do taskset -a -p -c "$all_cpus" "$p" > /dev/null || return 1; done
    for p in $(server_pids); do
        echo "$p $(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/"$p"/status)"
    done > "$out/$1-unpinned.txt"
    mark "$1-unpinned"
}

# server_sampler NAME [once]: once a second (or once), one JSON line per
# server process (the postmaster and its children) into NAME-samples.jsonl:
# uptime t, state, the CPU it last ran on, utime+stime in clock ticks,
# Cpus_allowed_list, pages per node of its shared memory (the /dev/zero and
# SysV mappings: the buffers) and of its private anonymous memory (numa_maps
# lines with no file), and its command line (PostgreSQL's process title).
# Until $nb/stop-NAME exists. One long-lived awk reading /proc itself: a
# shell loop forking per process was starved under the emulator (a sample
# every 15-40 s with pgbench busy).
server_sampler() {
    awk -v pm="$postmaster" -v stop="$nb/stop-$1" -v once="${2:-}" '
        function counts(a,   k, s) { s = ""; for (k in a) s = s (s == "" ? "" : ",") "\"" k "\":" a[k]; return s }
        function sample(   line, t, f, w, s, n, i, p, file, allowed, shared, kv, reader, cmd) {
            getline line < "/proc/uptime"; close("/proc/uptime"); split(line, f, " "); t = f[1]
            n = 0
            lister = "cat /proc/[0-9]*/stat 2>/dev/null"
            while ((lister | getline line) > 0) {
                split(line, w, " "); s = line; sub(/^.*\) /, "", s); split(s, f, " ")
                if (w[1] != pm && f[2] != pm) continue
                n++; pids[n] = w[1]; state[w[1]] = f[1]; ticks[w[1]] = f[12] + f[13]; cpu[w[1]] = f[37]
            }
            close(lister)
            for (i = 1; i <= n; i++) {
                p = pids[i]
                # A backend shows the postmaster command line until it sets its title.
                if (!(p in title) || (p != pm && title[p] !~ /^postgres: /)) {
                    reader = "tr \"\\0\" \" \" < /proc/" p "/cmdline 2>/dev/null"
                    cmd = ""; reader | getline cmd; close(reader)
                    gsub(/["\\]/, "", cmd); sub(/ +$/, "", cmd); title[p] = cmd
                }
                allowed = ""; file = "/proc/" p "/status"
                while ((getline line < file) > 0) if (line ~ /^Cpus_allowed_list:/) { split(line, kv, /[ \t]+/); allowed = kv[2] }
                close(file)
                split("", shm); split("", anon)
                file = "/proc/" p "/numa_maps"
                while ((getline line < file) > 0) {
                    if (line !~ / N[0-9]+=/) continue
                    shared = (line ~ / file=\/dev\/zero/ || line ~ / file=\/SYSV/)
                    if (line ~ / file=/ && !shared) continue
                    split(line, w, " ")
                    for (k = 3; k in w; k++) if (w[k] ~ /^N[0-9]+=/) {
                        split(substr(w[k], 2), kv, "=")
                        if (shared) shm[kv[1]] += kv[2]; else anon[kv[1]] += kv[2]
                    }
                }
                close(file)
                if (allowed == "") continue   # gone since the listing
                printf "{\"t\":%s,\"pid\":%s,\"state\":\"%s\",\"cpu\":%s,\"ticks\":%s,\"allowed\":\"%s\",\"shm\":{%s},\"anon\":{%s},\"cmd\":\"%s\"}\n",
                    t, p, state[p], cpu[p], ticks[p], allowed, counts(shm), counts(anon), title[p]
            }
            fflush()
        }
        BEGIN {
            if (once != "") { sample(); exit }
            while ((getline x < stop) < 0) { sample(); system("sleep 1") }
        }' >> "$out/$1-samples.jsonl"
}

# thread_affinity PID NAME: every thread's Cpus_allowed_list, one "tid list"
# line each, into NAME-affinity.txt (one awk: no fork per thread).
thread_affinity() {
    awk '/^Pid:/ { tid = $2 } /^Cpus_allowed_list:/ { print tid, $2 }' /proc/"$1"/task/*/status > "$out/$2-affinity.txt"
}

# pg_bench NAME CLIENTS SECONDS: `pgbench -S` (select only) from CLIENTS
# clients and threads, unpinned, as postgres, for SECONDS, with the sampler
# running. Its output into NAME-pgbench.log; with
# a daemon (not no_daemon=1), its status at the start and once idle after.
# shared_resident NAME: the resident pages of the postmaster's shared
# memory (its /dev/zero and SysV mappings) by fincore on map_files: the
# object's own count, pages no server process has mapped included (what
# a move of the object moves), into NAME-shared-resident.txt.
shared_resident() {
    total=0
    for range in $(grep -e '/dev/zero' -e 'SYSV' "/proc/$postmaster/maps" | awk '{ print $1 }'); do
        bytes=$(fincore -b -n -o RES "/proc/$postmaster/map_files/$range" 2>/dev/null)
        total=$((total + ${bytes:-0}))
    done
    echo $((total / $(getconf PAGESIZE))) > "$out/$1-shared-resident.txt"
}

pg_bench() {
    name=$1; clients=$2; seconds=$3
    sed -n 's/^pgmigrate_success //p' /proc/vmstat > "$out/$name-migrated-start.txt"
    [ "${no_daemon:-}" = 1 ] || status "$name-start"
    rm -f "$nb/stop-$name"
    # Not niced: a niced sampler starves while pgbench keeps every CPU busy.
    server_sampler "$name" &
    sampler=$!
    mark "$name-start"
    as_pg "$pgbin/pgbench" -h "$pgsock" -n -S -c "$clients" -j "$clients" -T "$seconds" bench > "$out/$name-pgbench.log" 2>&1
    echo $? > "$out/$name-pgbench.rc"
    mark "$name-end"
    shared_resident "$name"
    touch "$nb/stop-$name"
    wait "$sampler"
    if [ "${no_daemon:-}" = 1 ]; then
        sed -n 's/^pgmigrate_success //p' /proc/vmstat > "$out/$name-migrated-end.txt"
    else
        settled "$name" || return 1
    fi
}
