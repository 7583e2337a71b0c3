// The SIGBUS handler behind include/mapping_guard.h. Written in C because a signal handler may
// only do async-signal-safe work: here, atomic loads and stores on a fixed table, `mmap` and
// `sigaction` (system calls), and nothing that allocates or takes a lock.
#define _GNU_SOURCE
#include "mapping_guard.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

enum { slot_count = 256 };

struct guarded_mapping {
    // 0 while the slot is free; set last when a slot is taken, cleared first when it is freed.
    _Atomic uintptr_t base;
    _Atomic size_t length;
    _Atomic size_t lost_from;
};

static struct guarded_mapping slots[slot_count];
static struct sigaction previous_action;
static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static size_t page_size = 4096;

static void on_bus_error(int signal_number, siginfo_t *info, void *context) {
    uintptr_t address = (uintptr_t)info->si_addr;
    for (int index = 0; index < slot_count; index++) {
        uintptr_t base = atomic_load_explicit(&slots[index].base, memory_order_acquire);
        size_t length = atomic_load_explicit(&slots[index].length, memory_order_relaxed);
        if (base <= 1 || address < base || address - base >= length) continue;
        uintptr_t page = address & ~(uintptr_t)(page_size - 1);
        size_t offset = page - base;
        // Noted before the zeros appear, so a thread that reads them finds the loss noted.
        size_t lost = atomic_load_explicit(&slots[index].lost_from, memory_order_relaxed);
        while (offset < lost && !atomic_compare_exchange_weak_explicit(
                   &slots[index].lost_from, &lost, offset, memory_order_release, memory_order_relaxed)) {
        }
        // The rest of the mapping at once: one fault, not one a page.
        size_t rest = (length - offset + page_size - 1) & ~(page_size - 1);
        void *zeros = mmap((void *)page, rest, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        if (zeros != MAP_FAILED) return;
        break;
    }
    // Not a guarded mapping's page (or it could not be replaced): what would have happened
    // without this handler.
    if (previous_action.sa_flags & SA_SIGINFO) {
        if (previous_action.sa_sigaction != NULL) {
            previous_action.sa_sigaction(signal_number, info, context);
            return;
        }
    } else if (previous_action.sa_handler != SIG_DFL && previous_action.sa_handler != SIG_IGN) {
        previous_action.sa_handler(signal_number);
        return;
    }
    // The default action: restored, then the faulting instruction runs again and raises it.
    struct sigaction fallback;
    memset(&fallback, 0, sizeof fallback);
    fallback.sa_handler = SIG_DFL;
    sigemptyset(&fallback.sa_mask);
    sigaction(SIGBUS, &fallback, NULL);
}

static void install(void) {
    long size = sysconf(_SC_PAGESIZE);
    if (size > 0) page_size = (size_t)size;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_bus_error;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    sigaction(SIGBUS, &action, &previous_action);
}

int trapline_mapping_guard_add(const void *base, size_t length) {
    if (base == NULL || length == 0) return -1;
    pthread_once(&install_once, install);
    for (int index = 0; index < slot_count; index++) {
        uintptr_t expected = 0;
        // Claimed with a placeholder base (1, never a mapping's) so no handler matches it while
        // its length and loss are set.
        if (!atomic_compare_exchange_strong(&slots[index].base, &expected, (uintptr_t)1)) continue;
        atomic_store_explicit(&slots[index].length, length, memory_order_relaxed);
        atomic_store_explicit(&slots[index].lost_from, SIZE_MAX, memory_order_relaxed);
        atomic_store_explicit(&slots[index].base, (uintptr_t)base, memory_order_release);
        return index;
    }
    return -1;
}

void trapline_mapping_guard_remove(int slot) {
    if (slot < 0 || slot >= slot_count) return;
    atomic_store_explicit(&slots[slot].base, 0, memory_order_release);
    atomic_store_explicit(&slots[slot].length, 0, memory_order_relaxed);
}

long trapline_mapping_guard_lost_from(int slot) {
    if (slot < 0 || slot >= slot_count) return -1;
    size_t lost = atomic_load_explicit(&slots[slot].lost_from, memory_order_acquire);
    return lost == SIZE_MAX ? -1 : (long)lost;
}
