// used_memory: a running total of the bytes the process holds, cheap enough
// to read before every command (maxmemory is checked that often).
//
// jemalloc serves every allocation (Swift runtime included) and keeps, per
// thread, the running totals of bytes allocated and deallocated (usable
// sizes). used_memory is jemalloc's stats.allocated when the server started,
// plus what the engine thread and the lazy-free thread allocated minus what
// they freed since then: two loads per thread, no epoch refresh, no lock.
// (stats.allocated itself needs an epoch refresh that merges every arena's
// statistics: fine for INFO's allocator_* figures, too slow per command.)
// A value allocated by the engine thread and freed by the lazy-free thread
// moves the lazy-free thread's deallocated total: the sum stays right.

import CJemalloc

public final class MemoryAccounting {
    struct ThreadCounters {
        let allocated: UnsafeMutablePointer<UInt64>
        let deallocated: UnsafeMutablePointer<UInt64>
        /// allocated - deallocated when the thread was registered.
        let baseline: Int64

        @inline(__always) var net: Int64 {
            Int64(bitPattern: tj_load_counter(allocated) &- tj_load_counter(deallocated)) - baseline
        }

        static func current() -> ThreadCounters? {
            var a: UnsafeMutablePointer<UInt64>? = nil, d: UnsafeMutablePointer<UInt64>? = nil
            guard tj_thread_counters(&a, &d) == 0, let a, let d else { return nil }
            return ThreadCounters(allocated: a, deallocated: d,
                                  baseline: Int64(bitPattern: tj_load_counter(a) &- tj_load_counter(d)))
        }
    }

    /// stats.allocated when the accounting started.
    let startAllocated: Int
    /// The engine thread's counters (the thread that created the server).
    private let engine: ThreadCounters?
    /// Other threads that allocate or free on the engine's behalf (lazy free).
    private var helpers: [ThreadCounters] = []

    init() {
        tj_refresh_epoch()
        startAllocated = tj_stat("stats.allocated")
        engine = ThreadCounters.current()
    }

    /// Registers the calling thread's counters (call it from that thread,
    /// before it allocates or frees anything for the engine). The engine
    /// thread must not read `used` concurrently with this call: register
    /// helpers while the engine waits for them (LazyFree does).
    func registerCurrentThread() {
        if let t = ThreadCounters.current() { helpers.append(t) }
    }

    /// Bytes in use now (Redis's zmalloc_used_memory).
    @inline(__always) public var used: Int {
        guard let e = engine else { return MemoryStats.allocator().allocated }
        var n = Int64(startAllocated) + e.net
        for h in helpers { n += h.net }
        return n > 0 ? Int(n) : 0
    }
}
