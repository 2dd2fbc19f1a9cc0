// Syscalls the actuator needs that Swift's Glibc module does not give as
// plain functions returning -errno. Each returns 0 (or a value) or -errno;
// EINTR is retried by the Swift layer, in one place.
#include "CLinux.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MPOL_F_ADDR
#define MPOL_F_ADDR (1 << 1)
#endif
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
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

// Kernels before 5.14 have no MADV_POPULATE_READ: the pages are read one by
// one, and a page past the end of a file that shrank meanwhile raises SIGBUS.
// The handler jumps back only for the thread inside such a read; any other
// SIGBUS keeps its default action (the process dies, as it would have).
static __thread sigjmp_buf *populate_jump;
static struct sigaction previous_bus;

static void populate_bus(int sig, siginfo_t *info, void *context) {
    sigjmp_buf *jump = populate_jump;
    if (jump) siglongjmp(*jump, 1);
    sigaction(SIGBUS, &previous_bus, NULL);
    raise(sig);
    (void)info; (void)context;
}

static void install_populate_bus(void) {
    struct sigaction action = {0};
    action.sa_sigaction = populate_bus;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    sigaction(SIGBUS, &action, &previous_bus);
}

static int read_pages_guarded(const void *address, size_t length, size_t page_size) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install_populate_bus);
    sigjmp_buf jump;
    if (sigsetjmp(jump, 1)) {
        populate_jump = NULL;
        return -EFAULT;
    }
    populate_jump = &jump;
    const volatile unsigned char *bytes = address;
    for (size_t offset = 0; offset < length; offset += page_size) (void)bytes[offset];
    populate_jump = NULL;
    return 0;
}

int clinux_populate_read(const void *address, size_t length, size_t page_size) {
    if (madvise((void *)address, length, MADV_POPULATE_READ) == 0) return 0;
    if (errno != EINVAL) return -errno;
    return read_pages_guarded(address, length, page_size);
}

int clinux_pidfd_exited(int pidfd) {
    struct pollfd entry = {.fd = pidfd, .events = POLLIN, .revents = 0};
    int rc = poll(&entry, 1, 0);
    if (rc < 0) return -errno;
    return rc > 0 ? 1 : 0;
}
