# PostgreSQL for peers.sh's postgres workload (sourced after peers-lib.sh;
# $out and $w set). After Tests/LabTests/Scripts/server-lib.sh: a real
# PostgreSQL 15 run as the `postgres` user, its data and socket on the
# guest's tmpfs (/tmp: a folder made on the host 0700 would be unreadable to
# postgres), started pinned to node 0 (taskset: an affinity, which can be
# undone from outside), loaded and prewarmed there, then unpinned.

# The settings the lab's real-server tests use (pg_conf).
. "$here/../../LabTests/Scripts/pg-conf.sh"
pgbin=/usr/lib/postgresql/15/bin
pgroot=/tmp/pg
pgdata=$pgroot/data
pgsock=$pgroot/sock
node0_cpus=$(cat /sys/devices/system/node/node0/cpulist)
node1_cpus=$(cat /sys/devices/system/node/node1/cpulist)
all_cpus=$(cat /sys/devices/system/cpu/online)

# pg_as CPUS COMMAND...: COMMAND as postgres, on CPUS.
pg_as() { cpus=$1; shift; taskset -c "$cpus" setpriv --reuid=postgres --regid=postgres --clear-groups "$@"; }
# pg_sql DB PSQL_ARGS...: psql on node 0 (its backend is forked by the
# postmaster, pinned there until the unpin).
pg_sql() { db=$1; shift; pg_as "$node0_cpus" "$pgbin/psql" -X -q -h "$pgsock" -d "$db" -v ON_ERROR_STOP=1 "$@"; }

# pg_setup: a cluster on tmpfs with the emulator's settings (no fsync, small
# WAL; shared_buffers 128MB, MAP_SHARED|MAP_ANONYMOUS memory in 4 KiB pages),
# pgbench's tables at scale 2 loaded from node 0; the server stopped again.
pg_setup() {
    mkdir -p "$pgroot" "$pgsock"
    chown postgres:postgres "$pgroot" "$pgsock"
    pg_as "$all_cpus" "$pgbin/initdb" -D "$pgdata" --no-locale -E UTF8 -A trust -U postgres > "$out/pg-initdb.log" 2>&1 || return 1
    pg_conf "$pgdata" "$pgsock"
    pg_start pg-setup || return 1
    pg_as "$node0_cpus" "$pgbin/createdb" -h "$pgsock" bench > "$out/pg-load.log" 2>&1 \
        && pg_as "$node0_cpus" "$pgbin/pgbench" -h "$pgsock" -i -q -s 2 bench >> "$out/pg-load.log" 2>&1 \
        && pg_sql bench -c "CREATE EXTENSION IF NOT EXISTS pg_prewarm" >> "$out/pg-load.log" 2>&1
    rc=$?
    pg_stop
    return $rc
}

# pg_start NAME: the server started pinned to node 0; sets $postmaster.
pg_start() {
    pg_as "$node0_cpus" "$pgbin/pg_ctl" -D "$pgdata" -l "$pgroot/server.log" -w -t 300 start > "$out/$1-pg_ctl.log" 2>&1 || {
        cat "$pgroot/server.log" >> "$out/$1-pg_ctl.log"; return 1; }
    postmaster=$(head -n 1 "$pgdata/postmaster.pid")
}

pg_stop() {
    pg_as "$all_cpus" "$pgbin/pg_ctl" -D "$pgdata" -m fast -w -t 300 stop > /dev/null 2>&1
    cat "$pgroot/server.log" >> "$out/pg-server.log" 2>/dev/null; : > "$pgroot/server.log"
}

# client_backends: the children serving a client of the bench database
# (process title "postgres: postgres bench [local] …"), comma-separated.
client_backends() {
    for p in $(server_pids); do
        [ "$p" = "$postmaster" ] && continue
        case "$(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null)" in "postgres: postgres bench "*) echo "$p" ;; esac
    done | paste -sd, -
}

# pg_prewarm_view NAME: every pgbench relation read into the shared buffers by
# a backend on node 0 (pg_prewarm, buffer mode: no ring, every block copied
# in by that backend, so its page tables map every buffer page it filled);
# that backend is then kept asleep while its numa_maps is read: the buffers'
# pages per node ("server NODE PAGES", the /dev/zero and SysV mappings) into
# NAME-buffers.txt, the blocks read into NAME-prewarm.txt; then it is ended.
pg_prewarm_view() {
    pg_sql bench -At \
        -c "SELECT sum(pg_prewarm(c::regclass)) AS blocks FROM unnest(ARRAY['pgbench_accounts', 'pgbench_accounts_pkey', 'pgbench_branches', 'pgbench_branches_pkey', 'pgbench_tellers', 'pgbench_tellers_pkey']) AS c" \
        -c "SELECT pg_sleep(3600)" > "$out/$1-prewarm.txt" 2>&1 &
    session=$!
    tries=0; sleeper=""
    while [ -z "$sleeper" ]; do
        kill -0 "$session" 2>/dev/null || { echo "prewarm session ended early" >> "$out/$1-prewarm.txt"; return 1; }
        tries=$((tries + 1)); [ $tries -lt 300 ] || { kill "$session"; return 1; }
        sleep 1
        sleeper=$(pg_sql bench -At -c "SELECT pid FROM pg_stat_activity WHERE wait_event = 'PgSleep'" 2>/dev/null | head -n 1)
    done
    grep -e 'file=/dev/zero' -e 'file=/SYSV' "/proc/$sleeper/numa_maps" | per_node | sed 's/^/server /' > "$out/$1-buffers.txt"
    kill -TERM "$sleeper"; wait "$session" 2>/dev/null
    # Every client backend gone (a backend outlives its psql a moment), so
    # that the next ones seen are pgbench's.
    tries=0
    while [ -n "$(client_backends)" ] && [ $tries -lt 300 ]; do sleep 0.2; tries=$((tries + 1)); done
}

# pg_unpin: every server process (every thread) allowed on every CPU again;
# backends forked later inherit the postmaster's.
pg_unpin() { for p in $(server_pids); do taskset -a -p -c "$all_cpus" "$p" > /dev/null || return 1; done; }
