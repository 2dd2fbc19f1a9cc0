// libnuma (numa.h, numaif.h) and libcap (sys/capability.h), from Debian's
// libnuma-dev and libcap-dev.
#include <numa.h>
#include <numaif.h>
#include <sys/capability.h>
