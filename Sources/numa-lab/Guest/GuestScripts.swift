// What runs inside the guest: /init (in the initramfs, fixed per cache) and
// the runner script (in the control share, written per run).
import Foundation

/// Where the guest finds the two writable shares, seen from inside `chroot /host`.
enum GuestPaths {
    static let controlTag = "labctl"
    static let outTag = "labout"
    static let hostRootTag = "hostroot"
    /// Folders the guest covers with an empty tmpfs (the shared root is read-only).
    static let tmpfsFolders = ["/tmp", "/var/tmp", "/run", "/var/lib", "/var/log"]
    static let control = "/run/labctl"
    static let out = "/run/labout"

    /// The host folders the guest must still see although they lie under a
    /// folder it covers with tmpfs (a checkout cloned under /tmp, say): for
    /// the working directory and each absolute path in the command, the
    /// first folder below the covered one. The guest binds them back.
    static func keptFolders(for paths: [String]) -> [String] {
        var kept: [String] = []
        for path in paths where path.hasPrefix("/") {
            for folder in tmpfsFolders where path.hasPrefix(folder + "/") {
                guard let first = path.dropFirst(folder.count + 1).split(separator: "/").first else { continue }
                let keep = folder + "/" + first
                var isFolder: ObjCBool = false
                if FileManager.default.fileExists(atPath: keep, isDirectory: &isFolder), isFolder.boolValue,
                   !kept.contains(keep) { kept.append(keep) }
            }
        }
        return kept
    }
}

enum GuestScripts {
    /// /init: load the 9p modules, mount the host's root read-only at /host
    /// with tmpfs over the folders programs write to (the root is read-only),
    /// the kernel's filesystems inside it, the two shares under /host/run;
    /// then run the control share's runner in `chroot /host` and power off.
    /// Messages go to the serial console, which the host shows only on failure.
    static func initScript(moduleOrder: [String]) -> String {
        """
        #!/bin/busybox sh
        # numa-lab guest init (generated; see Sources/numa-lab/Guest/GuestScripts.swift)
        /bin/busybox --install -s /bin
        export PATH=/bin
        mount -t devtmpfs devtmpfs /dev
        exec </dev/console >/dev/console 2>&1
        mount -t proc proc /proc
        mount -t sysfs sysfs /sys
        fail() { echo "lab-init: $*"; poweroff -f; }
        for module in \(moduleOrder.joined(separator: " ")); do
            insmod /lib/modules/$module.ko || fail "cannot load the kernel module $module"
        done
        p9=trans=virtio,version=9p2000.L,msize=262144
        mount -t 9p -o $p9,ro,cache=loose \(GuestPaths.hostRootTag) /host || fail "cannot mount the host's root (9p)"
        \(GuestSystemd.initFragment)
        # Keep a view of the folders about to be covered, to bind back what the run needs.
        for folder in \(GuestPaths.tmpfsFolders.map { String($0.dropFirst()) }.joined(separator: " ")); do
            mkdir -p /orig/$folder && mount -o bind /host/$folder /orig/$folder
        done
        for folder in \(GuestPaths.tmpfsFolders.map { String($0.dropFirst()) }.joined(separator: " ")); do
            mount -t tmpfs -o mode=0755 tmpfs /host/$folder || fail "cannot mount a tmpfs on /$folder"
        done
        chmod 1777 /host/tmp /host/var/tmp
        mount -t proc proc /host/proc || fail "cannot mount /proc"
        mount -t sysfs sysfs /host/sys || fail "cannot mount /sys"
        mount -t devtmpfs devtmpfs /host/dev || fail "cannot mount /dev"
        mkdir -p /host/dev/shm /host/dev/pts
        mount -t tmpfs -o mode=1777 tmpfs /host/dev/shm
        mount -t devpts devpts /host/dev/pts
        mount -t cgroup2 cgroup2 /host/sys/fs/cgroup || echo "lab-init: no cgroup2"
        mkdir -p /host\(GuestPaths.control) /host\(GuestPaths.out)
        mount -t 9p -o $p9 \(GuestPaths.controlTag) /host\(GuestPaths.control) || fail "cannot mount the control share"
        mount -t 9p -o $p9 \(GuestPaths.outTag) /host\(GuestPaths.out) || fail "cannot mount the out share"
        while read -r kept; do
            [ -n "$kept" ] && mkdir -p "/host$kept" && mount -o bind "/orig$kept" "/host$kept"
        done < /host\(GuestPaths.control)/keep
        cut -d' ' -f1 /proc/uptime > /host\(GuestPaths.control)/booted
        chroot /host /bin/sh \(GuestPaths.control)/run.sh || echo "lab-init: the runner failed"
        sync
        poweroff -f

        """
    }

    /// The runner, run by the host's own /bin/sh inside `chroot /host`: the
    /// command's stdout and stderr go to files the host streams as they grow,
    /// its exit code to `rc`; `started` tells a boot failure from a crash.
    static let runner = """
        # numa-lab runner (generated; see Sources/numa-lab/Guest/GuestScripts.swift)
        ctl=\(GuestPaths.control)
        exec </dev/null >$ctl/stdout 2>$ctl/stderr
        . $ctl/env
        cwd=$(cat $ctl/cwd)
        cd "$cwd" 2>/dev/null || { echo "numa-lab: $cwd is not visible in the guest (tmpfs there); running in /" >&2; cd /; }
        cut -d' ' -f1 /proc/uptime > $ctl/started
        /bin/sh $ctl/cmd
        echo $? > $ctl/rc

        """

    /// The command line as a sh script: each word single-quoted, so nothing
    /// in it is expanded; `exec` so the command's exit code is the script's.
    static func commandScript(_ argv: [String]) -> String {
        "exec " + argv.map(shellQuoted).joined(separator: " ") + "\n"
    }

    /// `export NAME='value'` lines, sorted for a stable file.
    static func environmentScript(_ variables: [String: String]) -> String {
        variables.keys.sorted().map { "export \($0)=\(shellQuoted(variables[$0] ?? ""))\n" }.joined()
    }
}

/// `word` single-quoted for sh: a `'` inside becomes `'\''`.
func shellQuoted(_ word: String) -> String {
    "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// Whether `name` can be an environment variable name in sh.
func isShellName(_ name: String) -> Bool {
    guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else {
        return false
    }
    return name.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && $0.properties.isAlphabetic) || ($0.value >= 48 && $0.value <= 57) }
}
