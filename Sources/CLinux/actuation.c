// Syscalls the actuator needs that Swift's Glibc module does not give as
// plain functions returning -errno. Each returns 0 (or a value) or -errno;
// EINTR is retried by the Swift layer, in one place.
#include "CLinux.h"

#include <errno.h>
#include <poll.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MPOL_F_ADDR
#define MPOL_F_ADDR (1 << 1)
#endif

long clinux_mbind(void *addr, unsigned long len, int mode,
                  const unsigned long *nodemask, unsigned long maxnode,
                  unsigned int flags) {
    long rc = syscall(SYS_mbind, addr, len, mode, nodemask, maxnode, flags);
    return rc < 0 ? -errno : rc;
}

long clinux_set_mempolicy(int mode, const unsigned long *nodemask,
                          unsigned long maxnode) {
    long rc = syscall(SYS_set_mempolicy, mode, nodemask, maxnode);
    return rc < 0 ? -errno : rc;
}

long clinux_get_mempolicy_at(int *mode, unsigned long *nodemask,
                             unsigned long maxnode, void *addr) {
    long rc = syscall(SYS_get_mempolicy, mode, nodemask, maxnode, addr, MPOL_F_ADDR);
    return rc < 0 ? -errno : rc;
}

int clinux_shm_attach_readonly(int shmid, void **address) {
    void *at = shmat(shmid, NULL, SHM_RDONLY);
    if (at == (void *)-1) return -errno;
    *address = at;
    return 0;
}

int clinux_shm_detach(const void *address) {
    return shmdt(address) < 0 ? -errno : 0;
}

int clinux_map_shared_readonly(int fd, size_t length, off_t offset, void **address) {
    void *at = mmap(NULL, length, PROT_READ, MAP_SHARED, fd, offset);
    if (at == MAP_FAILED) return -errno;
    *address = at;
    return 0;
}

int clinux_unmap(void *address, size_t length) {
    return munmap(address, length) < 0 ? -errno : 0;
}

int clinux_mincore(void *address, size_t length, unsigned char *vector) {
    return mincore(address, length, vector) < 0 ? -errno : 0;
}

unsigned long clinux_prefault_read(const void *address, size_t length, size_t page_size) {
    const volatile unsigned char *bytes = address;
    unsigned long sum = 0;
    for (size_t offset = 0; offset < length; offset += page_size) sum += bytes[offset];
    return sum;
}

int clinux_pidfd_exited(int pidfd) {
    struct pollfd entry = {.fd = pidfd, .events = POLLIN, .revents = 0};
    int rc = poll(&entry, 1, 0);
    if (rc < 0) return -errno;
    return rc > 0 ? 1 : 0;
}
