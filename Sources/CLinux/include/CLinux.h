// A small, prefixed C shim for what Swift's Glibc module does not import:
// the CPU_SET family (macros), raw syscalls without glibc wrappers, and
// GNU extensions. _GNU_SOURCE comes from the target's cSettings.
#ifndef CLINUX_H
#define CLINUX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/// Affinity of a task as a bit array of `nwords` 64-bit words (CPU i is bit i).
/// Returns 0 or -errno. Wraps sched_getaffinity(2).
int clinux_sched_getaffinity(pid_t tid, uint64_t *words, size_t nwords);

/// Sets the affinity of a task. Returns 0 or -errno. Wraps sched_setaffinity(2).
int clinux_sched_setaffinity(pid_t tid, const uint64_t *words, size_t nwords);

/// The calling thread's kernel id. Wraps gettid(2).
pid_t clinux_gettid(void);

/// Names the calling thread (at most 15 characters). Returns 0 or -errno.
int clinux_set_thread_name(const char *name);

/// The CPU the caller runs on, or -errno. Wraps sched_getcpu(3).
int clinux_getcpu(void);

/// A pidfd for `pid`, or -errno. Wraps pidfd_open(2).
int clinux_pidfd_open(pid_t pid);

/// Sends a signal through a pidfd. Returns 0 or -errno. Wraps pidfd_send_signal(2).
int clinux_pidfd_send_signal(int pidfd, int sig);

/// move_pages(2) through the raw syscall, so the status array always comes
/// back (libnuma's wrapper is the same syscall). Returns 0, the number of
/// pages not moved, or -errno.
long clinux_move_pages(pid_t pid, unsigned long count, void **pages,
                       const int *nodes, int *status, int flags);

/// migrate_pages(2): returns pages not moved, or -errno.
long clinux_migrate_pages(pid_t pid, unsigned long maxnode,
                          const unsigned long *old_nodes,
                          const unsigned long *new_nodes);

/// set_mempolicy_home_node(2) (Linux 5.17+). Returns 0 or -errno.
long clinux_set_mempolicy_home_node(unsigned long start, unsigned long len,
                                    unsigned long home_node, unsigned long flags);

/// Ask the kernel to deliver `sig` to this process when its parent dies.
int clinux_set_parent_death_signal(int sig);

/// An eventfd with close-on-exec, or -errno. Wraps eventfd(2).
int clinux_eventfd(void);

/// Sets PR_SET_NO_NEW_PRIVS. Returns 0 or -errno.
int clinux_set_no_new_privs(void);

// ---- Actuation (NUMAActuation): memory policy, shared objects, pidfd polling.

/// mbind(2) through the raw syscall. Returns 0 or -errno.
long clinux_mbind(void *addr, unsigned long len, int mode,
                  const unsigned long *nodemask, unsigned long maxnode,
                  unsigned int flags);

/// set_mempolicy(2) through the raw syscall. Returns 0 or -errno.
long clinux_set_mempolicy(int mode, const unsigned long *nodemask,
                          unsigned long maxnode);

/// get_mempolicy(2) of the policy governing `addr` (MPOL_F_ADDR): for a
/// shared object, the object's own policy. Returns 0 or -errno.
long clinux_get_mempolicy_at(int *mode, unsigned long *nodemask,
                             unsigned long maxnode, void *addr);

/// Maps `length` bytes of `fd` from `offset`, shared and read-only.
/// Returns 0 and the address, or -errno. Wraps mmap(2).
int clinux_map_shared_readonly(int fd, size_t length, off_t offset, void **address);

/// Unmaps. Returns 0 or -errno. Wraps munmap(2).
int clinux_unmap(void *address, size_t length);

/// One byte per page of `length` at `address`: bit 0 set when the page is
/// resident. Returns 0 or -errno. Wraps mincore(2).
int clinux_mincore(void *address, size_t length, unsigned char *vector);

/// Maps every page of [address, address+length) into the caller's page
/// tables as a read would (for a shared object's resident pages, so that
/// mbind's MPOL_MF_MOVE_ALL reaches them): madvise(MADV_POPULATE_READ) on
/// Linux 5.14+, else a read of each page with SIGBUS caught. Returns 0, or
/// -EFAULT when part of the range is past the end of its file (truncated
/// since: a plain read would have raised SIGBUS), or -errno.
int clinux_populate_read(const void *address, size_t length, size_t page_size);

/// 1 when the process behind `pidfd` has exited, 0 while it runs, or -errno.
/// Wraps poll(2) on a pidfd.
int clinux_pidfd_exited(int pidfd);

#endif
