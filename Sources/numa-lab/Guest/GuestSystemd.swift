// `numa-lab run --systemd`: the guest boots systemd as PID 1 on a writable
// root (an overlay: the host's root, read-only over 9p, below a tmpfs) and
// runs the command as a service once basic.target is up, so that a unit can
// be installed, started, reloaded and killed as on a server (issue 18).

enum GuestSystemd {
    /// Kernel arguments: /init's switch, the one target to boot (not the
    /// host's default: none of its services), no fstab (the host's names
    /// disks the guest has not).
    static let kernelArguments = ["numalab.init=systemd", "systemd.unit=numa-lab.target", "fstab=no",
                                  "systemd.show_status=false"]

    /// The target booted: basic.target and the run.
    static let target = """
        [Unit]
        Description=numa-lab: the command, under systemd
        Requires=basic.target numa-lab-run.service
        After=basic.target numa-lab-run.service
        AllowIsolate=yes

        """

    /// The command as a service; the guest powers off when it ends, however.
    static let service = """
        [Unit]
        Description=numa-lab: the command
        After=basic.target
        DefaultDependencies=no
        Requires=sysinit.target
        [Service]
        Type=oneshot
        ExecStart=/bin/sh \(GuestPaths.control)/run.sh
        ExecStopPost=/bin/systemctl --no-block poweroff
        TimeoutStartSec=infinity

        """

    /// The part of /init that builds the overlay, the shares and the two
    /// units, then hands the machine to systemd. Runs after the 9p root is
    /// mounted at /host and before any chroot; never returns.
    static var initFragment: String {
        """
        if grep -q numalab.init=systemd /proc/cmdline; then
            mkdir -p /rw /newroot
            mount -t tmpfs -o mode=0755 tmpfs /rw || fail "cannot mount the overlay's tmpfs"
            mkdir -p /rw/upper /rw/work
            mount -t overlay overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work /newroot \\
                || fail "cannot mount the overlay root"
            # The host's root may be a container's: systemd that sees
            # /.dockerenv believes it runs in one and ignores the kernel's
            # command line (systemd.unit=), booting the host's default target.
            # Its policy-rc.d (docker's images carry one) would forbid
            # dpkg to start or stop any service: a VM has none.
            rm -f /newroot/.dockerenv /newroot/usr/sbin/policy-rc.d
            # /run a tmpfs of our own with the shares in it: systemd keeps a
            # mounted /run, so the runner finds them where it always does.
            mount -t tmpfs -o mode=0755 tmpfs /newroot/run
            mkdir -p /newroot\(GuestPaths.control) /newroot\(GuestPaths.out)
            mount -t 9p -o $p9 \(GuestPaths.controlTag) /newroot\(GuestPaths.control) || fail "cannot mount the control share"
            mount -t 9p -o $p9 \(GuestPaths.outTag) /newroot\(GuestPaths.out) || fail "cannot mount the out share"
            # Debian's tmp.conf empties /tmp at boot: the host's /tmp (a
            # checkout, the command's files) stays as the host has it.
            mkdir -p /newroot/etc/tmpfiles.d && : > /newroot/etc/tmpfiles.d/tmp.conf
            units=/newroot/etc/systemd/system
            mkdir -p $units
            cat > $units/numa-lab.target <<'UNIT'
        \(target)UNIT
            cat > $units/numa-lab-run.service <<'UNIT'
        \(service)UNIT
            mount -t devtmpfs devtmpfs /newroot/dev
            cut -d' ' -f1 /proc/uptime > /newroot\(GuestPaths.control)/booted
            umount /proc /sys 2>/dev/null
            exec switch_root /newroot /lib/systemd/systemd || fail "switch_root to systemd failed"
        fi

        """
    }
}
