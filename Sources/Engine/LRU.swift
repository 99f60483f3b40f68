// Access bookkeeping behind OBJECT IDLETIME / OBJECT FREQ (and, later,
// eviction), with Redis's semantics.
//
// Under an LRU (or no-eviction) policy, Entry.lru holds the LRU clock in
// seconds (24 bits, wrapping) of the last access. Under an LFU policy
// (allkeys-lfu / volatile-lfu) Redis keeps a 16-bit "last decrement time" in
// minutes plus an 8-bit logarithmic counter in the same 24 bits; here the
// counter has its own byte (Entry.lfu) and Entry.lru holds the minutes. As in
// Redis, switching policy at runtime leaves the old meaning in place until
// keys are accessed again.
//
// The LFU counter grows logarithmically: an access increments it with
// probability 1 / ((counter - LFU_INIT_VAL) * lfu-log-factor + 1), and it
// loses one unit per lfu-decay-time minutes without access.

extension ShardEngine {
    /// Initial LFU counter of a new key (Redis's LFU_INIT_VAL), so new keys are not evicted at once.
    public static let lfuInitialCounter: UInt8 = 5
    static let lruClockMax: Int64 = (1 << 24) - 1

    /// Minutes clock of the LFU decay time, 16 bits (wrapping).
    @inline(__always) public var lfuClockMinutes: UInt32 {
        UInt32(truncatingIfNeeded: now / 60_000) & 0xFFFF
    }

    /// What a created or accessed entry stores in Entry.lru for the current policy.
    @inline(__always) public var accessStamp: UInt32 {
        config.lfuPolicy ? lfuClockMinutes : lruClock
    }

    /// Records an access to `e` (Redis's lookupKey "touch"): LRU clock, or LFU decay + increment.
    @inline(__always) func touchEntry(_ e: Entry) {
        if config.lfuPolicy { updateLFU(e) } else { e.lru = lruClock }
    }

    // MARK: LRU

    /// Milliseconds since the last access, from the wrapping 24-bit LRU clock
    /// (Redis's estimateObjectIdleTime, 1 s resolution).
    public func idleTimeMs(_ e: Entry) -> Int64 {
        let clock = Int64(lruClock), last = Int64(e.lru & 0xFFFFFF)
        if clock >= last { return (clock - last) * 1000 }
        return (clock + (ShardEngine.lruClockMax - last)) * 1000
    }

    // MARK: LFU

    /// Minutes elapsed since the 16-bit minutes stamp `ldt`, across wraps.
    @inline(__always) func lfuElapsedMinutes(_ ldt: UInt32) -> UInt32 {
        let nowMin = lfuClockMinutes
        return nowMin >= ldt ? nowMin - ldt : 65535 - ldt + nowMin
    }

    /// The LFU counter of `e` after applying the decay for the time elapsed
    /// since its last decrement (does not store it: OBJECT FREQ uses this).
    public func lfuDecayedCounter(_ e: Entry) -> UInt8 {
        let counter = UInt32(e.lfu)
        let decay = config.lfuDecayTime
        let periods = decay > 0 ? lfuElapsedMinutes(e.lru & 0xFFFF) / UInt32(decay) : 0
        if periods == 0 { return UInt8(counter) }
        return periods > counter ? 0 : UInt8(counter - periods)
    }

    /// One probabilistic logarithmic increment of an LFU counter (saturates at 255).
    func lfuLogIncrement(_ counter: UInt8) -> UInt8 {
        if counter == 255 { return 255 }
        let base = counter > ShardEngine.lfuInitialCounter ? Double(counter - ShardEngine.lfuInitialCounter) : 0
        let p = 1.0 / (base * Double(config.lfuLogFactor) + 1)
        if p >= 1 || nextLFURandom() < p { return counter + 1 }
        return counter
    }

    /// Decays, increments and stamps the LFU data of an accessed entry (Redis's updateLFU).
    @inline(__always) func updateLFU(_ e: Entry) {
        e.lfu = lfuLogIncrement(lfuDecayedCounter(e))
        e.lru = lfuClockMinutes
    }

    /// A uniform double in [0, 1) from a xorshift64* generator (cheap; no syscall per access).
    func nextLFURandom() -> Double {
        var x = lfuRandomState
        x ^= x >> 12
        x ^= x << 25
        x ^= x >> 27
        lfuRandomState = x
        return Double((x &* 0x2545_F491_4F6C_DD1D) >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    // MARK: restoring access data (RESTORE IDLETIME/FREQ, DEBUG)

    /// Sets the access data of `e` as Redis's objectSetLRUOrLFU: `frequency`
    /// (0...255) applies under an LFU policy, `idleSeconds` (>= 0) otherwise.
    /// Returns true if something was set.
    @discardableResult
    public func setAccessData(_ e: Entry, idleSeconds: Int64?, frequency: Int?) -> Bool {
        if config.lfuPolicy {
            guard let f = frequency else { return false }
            e.lfu = UInt8(clamping: f)
            e.lru = lfuClockMinutes
            return true
        }
        guard let idle = idleSeconds, idle >= 0 else { return false }
        let clock = Int64(lruClock)
        var abs = clock - idle
        if abs < 0 {
            // Too far in the past for the wrapping clock: half a cycle ahead
            // keeps it looking very idle (Redis does the same).
            abs = (clock + ShardEngine.lruClockMax / 2) % ShardEngine.lruClockMax
        }
        e.lru = UInt32(abs)
        return true
    }
}
