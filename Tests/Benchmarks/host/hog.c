/* One process of the daemon-cpu benchmark: touches MIB MiB, then either
 * sleeps (idle) or sweeps it forever (busy). Built by the benchmark. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    size_t bytes = (size_t)atoi(argc > 1 ? argv[1] : "8") << 20;
    int busy = argc > 2 && argv[2][0] == 'b';
    volatile char *memory = malloc(bytes);
    memset((char *)memory, 1, bytes);
    if (!busy) for (;;) pause();
    for (size_t i = 0;; i = (i + 64) % bytes) memory[i]++;
}
