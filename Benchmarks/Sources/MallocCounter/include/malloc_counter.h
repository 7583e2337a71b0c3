// Counts calls to malloc, calloc, realloc and posix_memalign in this process, so benchmarks can
// report allocations per span. The definitions interpose glibc's (same symbol names).
#ifndef MALLOC_COUNTER_H
#define MALLOC_COUNTER_H
#include <stdint.h>
uint64_t malloc_counter_allocations(void);
/// Bytes the heap has handed out and not taken back (glibc's mallinfo2), for memory per item.
uint64_t malloc_counter_heap_bytes(void);
#endif
