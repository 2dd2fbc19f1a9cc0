#!/bin/sh
# The 4x1 guest's daemon checks (DaemonLabTests): standalone, where no
# numa01 process and no shm group fits one node (one CPU each): the best
# possible locality is 0.50, with no node running more busy threads than
# CPUs; misplaced onto a one-CPU node.
# Usage (inside numa-lab): sh daemon-4x1.sh BIN_FOLDER
. "$(dirname "$0")/lab-lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
begin_standalone || exit 1
# Each probe runs 30 s past the test's bound (90 s).
scenario misplaced 1 0.9 120 numactl --cpunodebind=2 "$w" misplaced --mib 64 --mem-node 0 --cpu-node 2 || exit 1
scenario numa01 2 mean:0.47 120 "$w" numa01 --mib 64 --mem-node 0 || exit 1
scenario shm 4 mean:0.47 120 "$w" shm-group --groups 2 --procs 2 --mib 32 --mem-node 0 || exit 1
daemon_stop standalone
cp "$nb/state/journal.jsonl" "$out/journal.jsonl"

# The unit's way with `disable` (issue 15, point 8): ExecStartPre=+ saves and
# writes 0, the daemon runs where /proc/sys is read-only (systemd's
# ProtectKernelTunables=, here a mount namespace of its own), ExecStopPost=+
# writes the value back. First the daemon alone there: it cannot start.
echo 1 > /proc/sys/kernel/numa_balancing
write_config disable
# (exec: in daemon_start's background subshell, $! is then the daemon itself.)
readonly_sys() { exec unshare --mount sh -c 'mount --bind -o ro /proc/sys /proc/sys && exec "$@"' readonly-sys "$@"; }
(readonly_sys "$bin/numabalance" run --config "$nb/numabalance.yaml") > "$out/unprepared-daemon.log" 2>&1
echo $? > "$out/unprepared-daemon.rc"
"$bin/numabalance" prepare --kernel-balancing --config "$nb/numabalance.yaml" > "$out/service-prepare.txt" 2>&1
echo $? >> "$out/service-prepare.txt"
cat /proc/sys/kernel/numa_balancing > "$out/service-sysctl-prepared.txt"
daemon_start service readonly_sys || exit 1
grep '^CapEff' /proc/"$daemon"/status > "$out/service-caps.txt"
status service
daemon_stop service
cat /proc/sys/kernel/numa_balancing > "$out/service-sysctl-stopped.txt"
"$bin/numabalance" restore --kernel-balancing > "$out/service-restore.txt" 2>&1
echo $? >> "$out/service-restore.txt"
cat /proc/sys/kernel/numa_balancing > "$out/service-sysctl-restored.txt"
mark end
