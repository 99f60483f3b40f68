#ifndef TESSERA_CJEMALLOC_H
#define TESSERA_CJEMALLOC_H
// Debian's libjemalloc-dev builds jemalloc unprefixed: linking it replaces
// malloc/free for the whole process, the Swift runtime included.
#include <jemalloc/jemalloc.h>
#include <stdint.h>
#include <stddef.h>

/// Refreshes jemalloc's statistics snapshot (the "epoch" mallctl); the
/// stats.* values read afterwards are current.
static inline void tj_refresh_epoch(void) {
    uint64_t epoch = 1;
    size_t len = sizeof(epoch);
    mallctl("epoch", &epoch, &len, &epoch, len);
}

/// A size_t statistic such as "stats.allocated" (0 if unavailable).
static inline size_t tj_stat(const char *name) {
    size_t v = 0, len = sizeof(v);
    if (mallctl(name, &v, &len, NULL, 0) != 0) return 0;
    return v;
}

/// Pointers to the calling thread's running totals of bytes allocated and
/// deallocated (usable sizes); they stay valid for the thread's lifetime and
/// reading them costs two loads. Returns 0 on success.
static inline int tj_thread_counters(uint64_t **allocated, uint64_t **deallocated) {
    size_t len = sizeof(uint64_t *);
    if (mallctl("thread.allocatedp", allocated, &len, NULL, 0) != 0) return -1;
    len = sizeof(uint64_t *);
    return mallctl("thread.deallocatedp", deallocated, &len, NULL, 0);
}

/// Returns unused dirty pages of every arena to the system (MEMORY PURGE).
static inline int tj_purge_all_arenas(void) {
    char name[64];
    unsigned narenas = 0;
    size_t len = sizeof(narenas);
    if (mallctl("arenas.narenas", &narenas, &len, NULL, 0) != 0) return -1;
    // MALLCTL_ARENAS_ALL (4096) addresses every arena at once.
    (void)name;
    return mallctl("arena.4096.purge", NULL, NULL, NULL, 0);
}

/// Reads a 64-bit counter another thread updates (plain aligned load).
static inline uint64_t tj_load_counter(const uint64_t *p) {
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}
#endif
