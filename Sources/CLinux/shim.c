#include "CLinux.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_set_mempolicy_home_node
#define SYS_set_mempolicy_home_node 450
#endif

static size_t clinux_setsize(size_t nwords) { return nwords * sizeof(uint64_t); }

int clinux_sched_getaffinity(pid_t tid, uint64_t *words, size_t nwords) {
    memset(words, 0, clinux_setsize(nwords));
    /* The raw syscall takes any multiple of sizeof(long); bit i is CPU i. */
    long rc = syscall(SYS_sched_getaffinity, tid, clinux_setsize(nwords), words);
    return rc < 0 ? -errno : 0;
}

int clinux_sched_setaffinity(pid_t tid, const uint64_t *words, size_t nwords) {
    long rc = syscall(SYS_sched_setaffinity, tid, clinux_setsize(nwords), words);
    return rc < 0 ? -errno : 0;
}

pid_t clinux_gettid(void) { return (pid_t)syscall(SYS_gettid); }

int clinux_set_thread_name(const char *name) {
    char buf[16];
    strncpy(buf, name, sizeof(buf) - 1);
    buf[sizeof(buf) - 1] = 0;
    int rc = pthread_setname_np(pthread_self(), buf);
    return -rc;
}

int clinux_getcpu(void) {
    int cpu = sched_getcpu();
    return cpu < 0 ? -errno : cpu;
}

int clinux_pidfd_open(pid_t pid) {
    long rc = syscall(SYS_pidfd_open, pid, 0);
    return rc < 0 ? -errno : (int)rc;
}

int clinux_pidfd_send_signal(int pidfd, int sig) {
    long rc = syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
    return rc < 0 ? -errno : 0;
}

long clinux_move_pages(pid_t pid, unsigned long count, void **pages,
                       const int *nodes, int *status, int flags) {
    long rc = syscall(SYS_move_pages, pid, count, pages, nodes, status, flags);
    return rc < 0 ? -errno : rc;
}

long clinux_migrate_pages(pid_t pid, unsigned long maxnode,
                          const unsigned long *old_nodes,
                          const unsigned long *new_nodes) {
    long rc = syscall(SYS_migrate_pages, pid, maxnode, old_nodes, new_nodes);
    return rc < 0 ? -errno : rc;
}

long clinux_set_mempolicy_home_node(unsigned long start, unsigned long len,
                                    unsigned long home_node, unsigned long flags) {
    long rc = syscall(SYS_set_mempolicy_home_node, start, len, home_node, flags);
    return rc < 0 ? -errno : rc;
}

int clinux_set_parent_death_signal(int sig) {
    return prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) < 0 ? -errno : 0;
}

int clinux_set_no_new_privs(void) {
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? -errno : 0;
}

int clinux_eventfd(void) {
    int fd = eventfd(0, EFD_CLOEXEC);
    return fd < 0 ? -errno : fd;
}
