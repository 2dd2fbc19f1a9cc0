#!/bin/sh
# The package under a real systemd (issue 18): run by `numa-lab run
# --systemd` (systemd is PID 1, the root an overlay of the host's), as a
# service once basic.target is up. Installs the .deb Packaging/deb built,
# and checks what an operator would: the unit starts with READY=1 and a
# STATUS line, the daemon fixes a misplaced workload, reloads take a good
# policy set and keep it over a broken one (the error at error priority in
# the journal), a SIGKILL is restarted with the sysctl restored in between,
# the hardening holds, a stop is clean and removal leaves nothing behind.
# Each check writes "ok NAME ..." or "FAIL NAME ..." to checks.txt; the test
# (SystemdLabTests) wants every one it names, ok.
. "$(dirname "$0")/lab-lib.sh"
repo=$(cd "$(dirname "$0")/../../.." && pwd)
w="$bin/numa-workload"
checks="$out/checks.txt"; : > "$checks"
ok() { echo "ok $*" >> "$checks"; }
bad() { echo "FAIL $*" >> "$checks"; }
# within SECONDS COMMAND...: COMMAND until it succeeds, every 0.2 s.
within() {
    limit=$(awk -v s="$1" 'BEGIN { print s * 5 }'); shift; n=0
    until "$@" >/dev/null 2>&1; do n=$((n + 1)); [ $n -ge "$limit" ] && return 1; sleep 0.2; done
}
uptime() { cut -d' ' -f1 /proc/uptime; }
since() { awk -v a="$1" -v b="$(uptime)" 'BEGIN { printf "%.1f", b - a }'; }
sysctl_value() { cat /proc/sys/kernel/numa_balancing; }
prop() { systemctl show -p "$1" --value numabalance; }
generation() { numabalance status --json | sed -n 's/.*"policyGeneration" *: *\([0-9]*\).*/\1/p' | head -n 1; }
mark booted
systemctl --version | head -n 1 > "$out/systemd-version.txt"
found=$(sysctl_value); echo "$found" > "$out/sysctl-found.txt"

deb=$(ls "$repo"/.build-deb/numabalance_*.deb 2>/dev/null | tail -n 1)
[ -n "$deb" ] || { bad install "no .deb in $repo/.build-deb (Packaging/deb)"; exit 1; }
t=$(uptime)
if dpkg -i "$deb" > "$out/dpkg-install.txt" 2>&1 && within 30 systemctl is-active --quiet numabalance; then
    ok install "dpkg -i to active in $(since "$t") s; enabled: $(systemctl is-enabled numabalance)"
else
    bad install "$(tail -n 5 "$out/dpkg-install.txt" | tr '\n' ' '); $(systemctl status numabalance 2>&1 | tail -n 5 | tr '\n' ' ')"
fi
mark installed
status_text=$(prop StatusText)
if [ -n "$status_text" ] && numabalance status > "$out/status.txt" 2>&1; then
    ok ready "StatusText: $status_text"
else
    bad ready "StatusText '$status_text'; status: $(head -n 3 "$out/status.txt" | tr '\n' ' ')"
fi

# kernelBalancing: disable, so the unit's ExecStartPre=/ExecStopPost= write
# and restore the sysctl (the default, warn, leaves it).
sed -i 's/^kernelBalancing: .*/kernelBalancing: disable/' /etc/numabalance/numabalance.yaml
systemctl restart numabalance && within 30 systemctl is-active --quiet numabalance
[ "$(sysctl_value)" = 0 ] && ok sysctl-disabled "kernel.numa_balancing 0 while it runs (found $found)" \
    || bad sysctl-disabled "kernel.numa_balancing $(sysctl_value) while it runs"

# A misplaced workload: memory on node 0, threads on node 1.
numactl --cpunodebind=1 "$w" misplaced --mib 64 --mem-node 0 --cpu-node 1 > "$out/misplaced.log" 2>&1 &
workload=$!
if wait_ready "$out/misplaced.log" 1; then
    pid=$(first_pid "$out/misplaced.log"); mark misplaced-ready
    "$w" probe --pids "$pid" --seconds 90 --until 0.9 > "$out/misplaced-probe.jsonl"
    mark misplaced-end
    last=$(tail -n 1 "$out/misplaced-probe.jsonl")
    case "$last" in
    *"\"$pid\":0.9"*|*"\"$pid\":1"*) ok fixes "at ≥ 0.9: $last" ;;
    *) bad fixes "never at 0.9 in 90 s: $last" ;;
    esac
else
    bad fixes "the workload was never ready"
fi
stop "$workload"

# Reloads: a good set changes the generation; a broken file keeps it and
# says where, at error priority.
before=$(generation)
cp /usr/share/doc/numabalance/examples/policies/50-latency-pin.yaml /usr/share/doc/numabalance/examples/policies/99-default.yaml \
    /etc/numabalance/policies.d/
systemctl reload numabalance
within 15 sh -c "[ \"\$(numabalance status --json | sed -n 's/.*\"policyGeneration\" *: *\([0-9]*\).*/\1/p' | head -n 1)\" -gt ${before:-0} ]" \
    && good=$(generation) && ok reload-good "generation $before → $good" || { good=$(generation); bad reload-good "generation $before → $good"; }
t_reload=$(date '+%Y-%m-%d %H:%M:%S')
printf 'apiVersion: numabalance/v1\nkind: Policy\nname: broken\nmatch:\n  comm: [x]\nplacement:\n  mode: pin\n  nodez: [0]\n' \
    > /etc/numabalance/policies.d/60-broken.yaml
systemctl reload numabalance; sleep 3
journalctl -u numabalance -p err --since "$t_reload" --no-pager > "$out/journal-err.txt" 2>&1
after=$(generation)
if [ "$after" = "$good" ] && grep -q '60-broken.yaml:8:3' "$out/journal-err.txt"; then
    ok reload-broken "generation stays $after; $(grep -m 1 '60-broken' "$out/journal-err.txt")"
else
    bad reload-broken "generation $good → $after; journal: $(head -n 3 "$out/journal-err.txt" | tr '\n' ' ')"
fi
rm -f /etc/numabalance/policies.d/60-broken.yaml

# Hardening: the capabilities the daemon keeps, and its read-only root.
main=$(prop MainPID)
caps=$(sed -n 's/^CapEff:\t//p' "/proc/$main/status")
# CAP_DAC_READ_SEARCH 2, CAP_SYS_PTRACE 19, CAP_SYS_NICE 23, CAP_CHECKPOINT_RESTORE 40;
# CAP_NET_ADMIN (12) dropped once it has subscribed to the process events.
[ "$caps" = 0000010000880004 ] && ok capabilities "CapEff $caps" || bad capabilities "CapEff $caps, want 0000010000880004"
if nsenter -t "$main" -m sh -c 'touch /etc/numabalance/written' 2> "$out/write-outside.txt"; then
    bad read-only "wrote /etc/numabalance from the daemon's mount namespace"
elif nsenter -t "$main" -m sh -c 'touch /var/lib/numabalance/written && rm /var/lib/numabalance/written'; then
    ok read-only "outside ReadWritePaths: $(tr '\n' ' ' < "$out/write-outside.txt")"
else
    bad read-only "nothing writable, not even /var/lib/numabalance"
fi

# SIGKILL: systemd restarts it; between the two, ExecStopPost= restored the
# sysctl and ExecStartPre= saved and cleared it again; it reads its journal.
restarts=$(prop NRestarts)
t=$(uptime)
systemctl kill -s KILL numabalance
if within 30 sh -c "[ \"\$(systemctl show -p NRestarts --value numabalance)\" -gt $restarts ] && systemctl is-active --quiet numabalance"; then
    new=$(prop MainPID)
    journalctl -u numabalance --no-pager -o cat > "$out/journal.txt" 2>&1
    # ExecStopPost='s restore says what it put back (stdout, in the unit's journal).
    restored=$(grep -c "restored kernel.numa_balancing=$found" "$out/journal.txt")
    if [ "$new" != "$main" ] && [ "$(sysctl_value)" = 0 ] && [ "$restored" -ge 1 ] \
        && [ "$(grep -c 'journal read' "$out/journal.txt")" -ge 2 ]; then
        ok restart "pid $main → $new in $(since "$t") s; kernel.numa_balancing=$found restored in between, 0 again; $(grep 'journal read' "$out/journal.txt" | tail -n 1)"
    else
        bad restart "pid $main → $new, sysctl $(sysctl_value), restores to $found: $restored, journal reads: $(grep -c 'journal read' "$out/journal.txt")"
    fi
else
    bad restart "not active again 30 s after SIGKILL: $(systemctl status numabalance 2>&1 | tail -n 4 | tr '\n' ' ')"
fi

t=$(uptime)
systemctl stop numabalance
took=$(since "$t")
result=$(prop Result); code=$(prop ExecMainStatus)
if [ "$result" = success ] && [ "$code" = 0 ] && [ "$(sysctl_value)" = "$found" ]; then
    ok stop "in $took s, exit 0, kernel.numa_balancing back to $found"
else
    bad stop "in $took s, Result=$result ExecMainStatus=$code, sysctl $(sysctl_value) (found $found)"
fi

systemctl start numabalance && within 30 systemctl is-active --quiet numabalance
dpkg -r numabalance > "$out/dpkg-remove.txt" 2>&1
sleep 1
left=$(pgrep -x numabalance | tr '\n' ' ')
if [ -z "$left" ] && [ "$(sysctl_value)" = "$found" ] && [ ! -e /usr/sbin/numabalance ]; then
    ok remove "no process left, kernel.numa_balancing $found"
else
    bad remove "left: '$left', sysctl $(sysctl_value), binary $(ls /usr/sbin/numabalance 2>&1)"
fi
mark end
journalctl -u numabalance --no-pager > "$out/journal-all.txt" 2>&1
cat "$checks"
