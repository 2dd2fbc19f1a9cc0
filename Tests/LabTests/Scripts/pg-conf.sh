# What the real-server tests (server-lib.sh) and the peers benchmark
# (peers-pg.sh) share about the lab's PostgreSQL: its settings, for the emulator
# (no fsync, small WAL), shared_buffers 128MB (MAP_SHARED|MAP_ANONYMOUS
# memory) in 4 KiB pages, a Unix socket only.
# pg_conf DATA_DIR SOCKET_DIR: appends them to DATA_DIR/postgresql.conf.
pg_conf() {
    cat >> "$1/postgresql.conf" <<CONF
shared_buffers = 128MB
huge_pages = off
fsync = off
synchronous_commit = off
full_page_writes = off
max_wal_size = 256MB
listen_addresses = ''
unix_socket_directories = '$2'
max_connections = 20
max_parallel_workers_per_gather = 0
log_min_messages = warning
CONF
}

# server_pids: the postmaster ($postmaster) and its children, from one
# read of every stat.
server_pids() {
    echo "$postmaster"
    cat /proc/[0-9]*/stat 2>/dev/null | awk -v pm="$postmaster" '{
        pid = $1; s = $0; sub(/^.*\) /, "", s); split(s, f, " ")
        if (f[2] == pm) print pid }'
}
