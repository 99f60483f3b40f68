// maxmemory enforcement, with Redis 7.0's behaviour (evict.c):
//
// - Before every command (when maxmemory is set) `performEvictions` compares
//   used_memory with maxmemory; over the limit it deletes keys chosen by the
//   policy until it freed the excess, or until the time budget derived from
//   maxmemory-eviction-tenacity is spent (checked every 16 keys), in which
//   case eviction goes on from the event loop (`evictionTimeProc`) and the
//   command still runs. Only when nothing can be evicted ("fail") are
//   commands flagged denyoom (and anything queued inside MULTI) refused with
//   the OOM error.
// - LRU, LFU and volatile-ttl choose through an eviction pool of 16
//   candidates kept sorted by "idle" score (higher = better to evict), fed
//   with maxmemory-samples keys sampled from every database per round; the
//   best candidate that still exists is evicted. Random policies pick a random
//   key, visiting databases round-robin.
// - Each evicted key is counted (evicted_keys), signalled to WATCH, notified
//   as "evicted" and propagated as DEL (UNLINK with lazyfree-lazy-eviction).

import CShims
import Glibc

public enum EvictionPolicy: String, CaseIterable, Sendable {
    case volatileLRU = "volatile-lru", volatileLFU = "volatile-lfu", volatileRandom = "volatile-random"
    case volatileTTL = "volatile-ttl", allkeysLRU = "allkeys-lru", allkeysLFU = "allkeys-lfu"
    case allkeysRandom = "allkeys-random", noeviction = "noeviction"

    /// Candidates come from every key (else only from keys with an expire).
    public var allKeys: Bool { self == .allkeysLRU || self == .allkeysLFU || self == .allkeysRandom }
    public var isLRU: Bool { self == .volatileLRU || self == .allkeysLRU }
    public var isLFU: Bool { self == .volatileLFU || self == .allkeysLFU }
    public var isRandom: Bool { self == .volatileRandom || self == .allkeysRandom }
    /// Chooses through the eviction pool.
    public var usesPool: Bool { isLRU || isLFU || self == .volatileTTL }

    /// Whether a key may be evicted under this policy at all.
    public func isEligible(hasExpire: Bool) -> Bool {
        switch self {
        case .noeviction: return false
        case .allkeysLRU, .allkeysLFU, .allkeysRandom: return true
        default: return hasExpire
        }
    }
}

/// Redis's EvictionPoolLRU: up to 16 candidates in ascending order of score.
public struct EvictionPool {
    public static let size = 16

    public struct Candidate {
        public var idle: UInt64
        public var key: [UInt8]
        public var db: Int
    }

    /// Sorted by ascending `idle`; the best candidate is last.
    public private(set) var candidates: [Candidate] = []
    /// Key buffers of removed candidates, reused to avoid allocations.
    private var spare: [[UInt8]] = []

    public init() { candidates.reserveCapacity(EvictionPool.size) }

    public var isEmpty: Bool { candidates.isEmpty }

    /// Offers a sampled key: kept if the pool has room or it scores better
    /// than the worst candidate (which is then dropped).
    public mutating func offer(idle: UInt64, key: UnsafeRawBufferPointer, db: Int) {
        var k = 0
        while k < candidates.count && candidates[k].idle < idle { k += 1 }
        let full = candidates.count == EvictionPool.size
        if k == 0 && full { return }
        if full {
            // Drop the lowest score; the new one goes just before position k.
            spare.append(candidates.removeFirst().key)
            k -= 1
        }
        var buf = spare.popLast() ?? []
        buf.removeAll(keepingCapacity: true)
        buf.append(contentsOf: key)
        candidates.insert(Candidate(idle: idle, key: buf, db: db), at: k)
    }

    /// Removes and returns the best candidate (highest score).
    public mutating func popBest() -> Candidate? {
        guard let c = candidates.popLast() else { return nil }
        return c
    }

    /// Gives a popped candidate's key buffer back for reuse.
    mutating func recycle(_ key: [UInt8]) { if spare.count < EvictionPool.size { spare.append(key) } }
}

/// Eviction state of one server (Redis keeps these in statics and `server`).
final class EvictionState {
    var pool = EvictionPool()
    var samples: [UnsafeMutableRawPointer] = []
    /// Round-robin position of the random policies.
    var nextDB = 0
    /// Eviction continues from the event loop (Redis's isEvictionProcRunning).
    var procRunning = false
    /// Monotonic µs since used memory went over maxmemory without recovering (0: not over).
    var exceededSinceUs: Int64 = 0
    var totalExceededUs: Int64 = 0
    var random: UInt64 = 0x2545_F491_4F6C_DD1D
    /// Sizes of buffers not counted for eviction (AOF, replicas).
    var notCounted: [() -> Int] = []
    /// Server clock (ms) of the last maxmemory-clients check.
    var lastClientEvictionCheckMs: Int64 = -1

    func nextRandom() -> UInt64 {
        random ^= random >> 12
        random ^= random << 25
        random ^= random >> 27
        return random &* 0x2545_F491_4F6C_DD1D
    }
}

public enum EvictionResult: Sendable { case ok, running, fail }

@inline(__always) func monotonicUs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
}

extension ShardEngine {
    /// Bytes in use as maxmemory sees them (Redis's zmalloc_used_memory).
    @inline(__always) public var usedMemory: Int { memory.used }

    /// Memory not counted for eviction (Redis's freeMemoryGetNotCountedMemory:
    /// replica output buffers and the AOF buffer), from the providers that
    /// registered (`addMemoryNotCountedForEvict`). Read only when over the limit.
    public var memoryNotCountedForEvict: Int {
        var n = 0
        for f in eviction.notCounted { n += f() }
        return n
    }

    /// Registers buffers that must not count toward maxmemory (the AOF buffer,
    /// replicas' output): evicting keys would only make them grow.
    public func addMemoryNotCountedForEvict(_ provider: @escaping () -> Int) {
        eviction.notCounted.append(provider)
    }

    /// CONFIG SET maxmemory: warn when the new limit is below the memory in
    /// use, and evict at once (Redis's updateMaxmemory).
    func maxmemoryChanged() {
        let limit = Int(config.maxmemory)
        if limit == 0 { return }
        let used = memory.used - memoryNotCountedForEvict
        if limit < used {
            logger.warning("WARNING: the new maxmemory value set via CONFIG SET (\(limit)) is smaller than the current memory usage (\(used)). This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy.")
        }
        performEvictions()
    }

    /// Redis's evictionTimeLimitUs: 0...500 µs linearly up to tenacity 10,
    /// then +15% per step, unlimited at 100.
    static func evictionTimeLimitUs(tenacity: Int) -> Int64 {
        if tenacity <= 10 { return 50 * Int64(tenacity) }
        if tenacity < 100 { return Int64(500.0 * pow(1.15, Double(tenacity) - 10.0)) }
        return Int64.max
    }

    /// The eviction score of `e` for `policy`: higher is a better candidate.
    public func evictionScore(_ e: Entry, policy: EvictionPolicy) -> UInt64 {
        if policy.isLRU { return UInt64(max(0, idleTimeMs(e))) }
        if policy.isLFU { return 255 - UInt64(lfuDecayedCounter(e)) }
        // volatile-ttl: the sooner the expire, the better.
        return UInt64.max - UInt64(bitPattern: e.expireAt ?? Int64.max)
    }

    /// Samples keys of every database into the pool (Redis's evictionPoolPopulate loop).
    /// Returns the number of keys the policy could choose from.
    func populateEvictionPool(_ policy: EvictionPolicy) -> Int {
        let ev = eviction
        var total = 0
        for db in databases {
            let n = policy.allKeys ? db.count : db.expiresCount
            if n == 0 { continue }
            total += n
            ev.samples.removeAll(keepingCapacity: true)
            if policy.allKeys {
                db.sampleEntries(config.maxmemorySamples, random: ev.nextRandom(), into: &ev.samples)
            } else {
                db.sampleExpiring(config.maxmemorySamples, random: ev.nextRandom(), into: &ev.samples)
            }
            // Each sample is a cache miss on a random entry: start them all, then read.
            for p in ev.samples { ts_prefetch(p) }
            for p in ev.samples {
                let e = Entry(p)
                ev.pool.offer(idle: evictionScore(e, policy: policy), key: e.key, db: db.index)
            }
        }
        return total
    }

    /// The next key to evict: (database, slot), or nil if no key is eligible.
    func pickEvictionVictim(_ policy: EvictionPolicy) -> (Database, Int)? {
        let ev = eviction
        if policy.usesPool {
            while true {
                if populateEvictionPool(policy) == 0 { return nil }
                while let c = ev.pool.popBest() {
                    let db = databases[c.db]
                    let slot = c.key.withUnsafeBytes { db.find($0) }
                    ev.pool.recycle(c.key)
                    // Gone (or no longer volatile): a ghost, try the next one.
                    if slot >= 0 && (policy.allKeys || db.entry(atSlot: slot).hasExpire) { return (db, slot) }
                }
            }
        }
        if policy.isRandom {
            let n = databases.count
            for _ in 0..<n {
                ev.nextDB = (ev.nextDB + 1) % n
                let db = databases[ev.nextDB]
                if policy.allKeys {
                    if db.count == 0 { continue }
                    ev.samples.removeAll(keepingCapacity: true)
                    // One random slot, then the first key from there.
                    db.sampleEntries(1, random: ev.nextRandom(), into: &ev.samples)
                } else {
                    if db.expiresCount == 0 { continue }
                    ev.samples.removeAll(keepingCapacity: true)
                    db.sampleExpiring(1, random: ev.nextRandom(), into: &ev.samples)
                }
                if let p = ev.samples.first { return (db, db.find(Entry(p).key)) }
            }
        }
        return nil
    }

    /// Deletes one chosen key as Redis's eviction does: the key leaves the
    /// table, WATCH/notifications/propagation see it (reading its bytes from
    /// the unlinked entry, no copy), then its memory is freed.
    private func evictKey(_ db: Database, slot: Int) {
        let e = db.remove(slot: slot)
        let lazy = config.lazyfreeLazyEviction
        let key = e.key
        stats.evictedKeys += 1
        signalModifiedKey(db, key)
        notifyKeyspaceEvent(.evicted, "evicted", key, db.index)
        if isPropagating { propagateDeletion(db: db.index, key: Array(key), lazy: lazy) }
        disposeEntry(e, lazy: lazy)
    }

    /// Redis's performEvictions: frees memory down to maxmemory if needed and
    /// possible. `.fail` means over the limit with nothing left to evict.
    @discardableResult
    public func performEvictions() -> EvictionResult {
        // replica-ignore-maxmemory (Redis's default): a replica's keyspace follows its master.
        if replicationGate.isReplica && config.replicaIgnoreMaxmemory { return .ok }
        let result = evictionRound()
        let ev = eviction
        if result == .ok {
            if ev.exceededSinceUs != 0 {
                ev.totalExceededUs += monotonicUs() - ev.exceededSinceUs
                ev.exceededSinceUs = 0
            }
        } else if ev.exceededSinceUs == 0 {
            ev.exceededSinceUs = monotonicUs()
        }
        return result
    }

    private func evictionRound() -> EvictionResult {
        let maxmemory = Int(config.maxmemory)
        if maxmemory == 0 { return .ok }
        let used = memory.used
        if used <= maxmemory { return .ok }
        // Paused clients: the dataset must not change (Redis's isSafeToPerformEvictions).
        if admin.isPaused { return .ok }
        let counted = used - memoryNotCountedForEvict
        if counted <= maxmemory { return .ok }
        let toFree = counted - maxmemory
        let policy = config.evictionPolicy
        if policy == .noeviction { return .fail }

        let limitUs = ShardEngine.evictionTimeLimitUs(tenacity: config.maxmemoryEvictionTenacity)
        let start = monotonicUs()
        let lazy = config.lazyfreeLazyEviction
        var freed = 0
        var keysFreed = 0
        var result = EvictionResult.fail
        var exhausted = false
        while freed < toFree {
            guard let (db, slot) = pickEvictionVictim(policy) else { exhausted = true; break }
            let before = memory.used
            evictKey(db, slot: slot)
            freed += before - memory.used
            keysFreed += 1
            if keysFreed % 16 == 0 {
                // The lazy-free thread releases memory meanwhile: check the real figure.
                if lazy && memory.used <= maxmemory { break }
                if monotonicUs() - start > limitUs {
                    eviction.procRunning = true
                    break
                }
            }
        }
        // Like Redis (propagate_no_multi), the DELs go out one by one, never
        // wrapped in MULTI/EXEC, even when a command (CONFIG SET) evicted.
        if keysFreed > 0 && isPropagating && !pendingPropagation.isEmpty {
            let batch = pendingPropagation
            pendingPropagation.removeAll(keepingCapacity: true)
            for p in batch { writeStream.feed(p) }
        }
        if !exhausted {
            result = eviction.procRunning ? .running : .ok
        } else {
            // Nothing left to evict; values being freed in the background may
            // still bring memory under the limit: wait a little for them.
            while lazyFree.pending > 0 && monotonicUs() - start < limitUs {
                if memory.used <= maxmemory { result = .ok; break }
                usleep(UInt32(min(limitUs, 1000)))
            }
        }
        return result
    }

    /// Called by the event loop while `evictionInProgress` (Redis's evictionTimeProc).
    public func evictionTimeProc() {
        if performEvictions() != .running { eviction.procRunning = false }
    }

    /// Eviction must go on from the event loop before it waits again.
    public var evictionInProgress: Bool { eviction.procRunning }

    /// INFO stats total_eviction_exceeded_time / current_eviction_exceeded_time (ms).
    var evictionExceededTimes: (total: Int64, current: Int64) {
        let ev = eviction
        let current = ev.exceededSinceUs != 0 ? monotonicUs() - ev.exceededSinceUs : 0
        return ((ev.totalExceededUs + current) / 1000, current / 1000)
    }

    /// CONFIG RESETSTAT: the eviction time counters start over.
    func resetEvictionStats() {
        eviction.totalExceededUs = 0
        eviction.exceededSinceUs = 0
    }

    /// The maxmemory check of Redis's processCommand. Returns false (after
    /// replying the OOM error and flagging a transaction) if `cmd` must not run.
    func checkMaxmemory(_ c: Client, _ cmd: Command) -> Bool {
        let outOfMemory = performEvictions() == .fail
        if !outOfMemory { return true }
        var reject = cmd.flags.contains(.denyOOM)
        if cmd.name == "exec" && c.inMulti {
            reject = c.multiQueue.contains { $0.command.flags.contains(.denyOOM) }
        }
        if c.inMulti && !ShardEngine.oomAllowedInMulti.contains(cmd.name) { reject = true }
        if !reject { return true }
        if cmd.name == "exec" && c.inMulti {
            // Redis's execCommandAbort: the transaction is discarded.
            cmd.rejectedCalls += 1
            ShardEngine.discardTransaction(c)
            c.error(static: "EXECABORT Transaction discarded because of: OOM command not allowed when used memory > 'maxmemory'.")
            return false
        }
        self.reject(c, cmd, static: "OOM command not allowed when used memory > 'maxmemory'.")
        return false
    }

    static let oomAllowedInMulti: Set<String> = ["exec", "discard", "quit", "reset"]
}
