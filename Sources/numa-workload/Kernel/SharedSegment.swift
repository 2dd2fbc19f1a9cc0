// SysV shared memory segments for the shm-group scenario (the database case:
// processes of one group sharing "shared buffers").
import Glibc

/// One attachment of a segment.
struct SharedSegment: Sendable {
    let id: Int32
    let region: MemoryRegion

    /// Creates a private segment of `size` bytes and attaches it. Wraps shmget(2), shmat(2).
    static func create(bytes size: Int) throws -> SharedSegment {
        let id = shmget(IPC_PRIVATE, size, IPC_CREAT | 0o600)
        guard id >= 0 else { throw WorkloadError("shmget of \(size >> 20) MiB", errno: errno) }
        do {
            return try attach(id: id)
        } catch {
            _ = shmctl(id, IPC_RMID, nil)
            throw error
        }
    }

    /// Attaches an existing segment by id. On Linux this works even after
    /// IPC_RMID, as long as some process still has it attached (the segment
    /// only goes away at the last detach); the lab checks it. Wraps shmat(2).
    static func attach(id: Int32) throws -> SharedSegment {
        guard let base = shmat(id, nil, 0), base != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw WorkloadError("shmat of segment \(id)", errno: errno)
        }
        var info = shmid_ds()
        guard shmctl(id, IPC_STAT, &info) == 0 else { throw WorkloadError("shmctl(IPC_STAT) of \(id)", errno: errno) }
        return SharedSegment(id: id, region: MemoryRegion(base: base, size: Int(info.shm_segsz)))
    }

    /// Marks the segment for removal: it disappears at the last detach, so a
    /// killed workload (SIGKILL included: the kernel detaches on exit) leaves
    /// nothing behind. Wraps shmctl(IPC_RMID).
    func markForRemoval() throws {
        guard shmctl(id, IPC_RMID, nil) == 0 else { throw WorkloadError("shmctl(IPC_RMID) of \(id)", errno: errno) }
    }

    /// Wraps shmdt(2).
    func detach() { _ = shmdt(region.base) }
}
