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
mark end
