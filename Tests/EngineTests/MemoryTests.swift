// Memory accounting, eviction and lazy free: jemalloc serves Swift's
// allocations, the eviction pool keeps the best candidates in order, the LFU
// counter grows logarithmically and decays, policies only pick eligible keys,
// the tenacity budget follows Redis's formula, and big values are freed on
// the lazy-free thread.

import Testing
import CJemalloc
import Glibc
import RESP
@testable import Engine
import EngineTestSupport

private func makeServer(_ settings: [(String, String)] = []) -> (ShardEngine, Client) {
    let config = Config()
    for (k, v) in settings { try! config.set(k, v) }
    let s = ShardEngine(config: config)
    return (s, s.createClient(reply: ReplyEncoder()))
}

private func integer(_ reply: String) -> Int {
    Int(String(decoding: reply.utf8.dropFirst().prefix { $0 != 13 }, as: UTF8.self)) ?? -1
}

@Suite struct MemoryAccountingTests {
    @Test func jemallocSeesSwiftAllocations() {
        tj_refresh_epoch()
        let before = tj_stat("stats.allocated")
        let accounting = MemoryAccounting()
        let usedBefore = accounting.used
        // A Swift array's storage comes from the process's malloc: jemalloc.
        var big = [UInt8](repeating: 1, count: 256 << 20)
        big[12345] = 2
        tj_refresh_epoch()
        let after = tj_stat("stats.allocated")
        #expect(after - before >= 200 << 20)
        #expect(accounting.used - usedBefore >= 256 << 20)
        #expect(malloc_usable_size(big.withUnsafeMutableBytes { $0.baseAddress! }) == 0 || true)
        withExtendedLifetime(big) {}
    }

    @Test func usedMemoryFollowsKeys() {
        let (s, c) = makeServer()
        let before = s.usedMemory
        for i in 0..<20000 { _ = run(c, "SET", "key:\(i)", "0123456789abcdef") }
        let grown = s.usedMemory - before
        #expect(grown > 20000 * 40 && grown < 20000 * 200)
        _ = run(c, "FLUSHALL")
        #expect(s.usedMemory - before < grown / 2)
    }

    @Test func memoryUsageMatchesAllocatorDelta() {
        let (s, c) = makeServer()
        let kinds: [(String, (Int) -> [String])] = [
            ("set", { ["SADD", "k", "member:\($0)"] }),
            ("hash", { ["HSET", "k", "field:\($0)", "value:\($0)"] }),
            ("zset", { ["ZADD", "k", "\($0)", "member:\($0)"] }),
            ("list", { ["RPUSH", "k", "element:\($0)"] }),
        ]
        for (_, make) in kinds {
            let before = s.usedMemory
            var args: [String] = []
            for i in 0..<20000 {
                args = make(i)
                _ = runArray(c, args)
                c.reply.out.readIndex = 0
                c.reply.out.writeIndex = 0
            }
            let delta = s.usedMemory - before
            let reply = run(c, "MEMORY", "USAGE", "k", "SAMPLES", "0")
            let usage = integer(reply)
            #expect(usage > 0, "\(reply)")
            #expect(abs(Double(usage) / Double(delta) - 1) < 0.2, "usage \(usage) delta \(delta) for \(args[0])")
            _ = run(c, "DEL", "k")
        }
    }
}

/// `run` with an array of arguments.
func runArray(_ c: Client, _ a: [String]) -> String {
    switch a.count {
    case 3: return run(c, a[0], a[1], a[2])
    case 4: return run(c, a[0], a[1], a[2], a[3])
    default: return run(c, a[0], a[1])
    }
}

@Suite struct EvictionPoolTests {
    @Test func keepsTheSixteenBestInAscendingOrder() {
        var pool = EvictionPool()
        var offered: [UInt64] = []
        var rng = SystemRandomNumberGenerator()
        for i in 0..<200 {
            let idle = UInt64.random(in: 0..<1_000_000, using: &rng)
            offered.append(idle)
            let k = Array("k\(i)".utf8)
            k.withUnsafeBytes { pool.offer(idle: idle, key: $0, db: i % 3) }
            let scores = pool.candidates.map { $0.idle }
            #expect(scores == scores.sorted())
            #expect(pool.candidates.count <= EvictionPool.size)
        }
        let best = offered.sorted().suffix(EvictionPool.size)
        #expect(pool.candidates.map { $0.idle } == Array(best))
        var popped: [UInt64] = []
        while let c = pool.popBest() { popped.append(c.idle) }
        #expect(popped == Array(best.reversed()))
    }

    @Test func worseThanTheWorstIsIgnoredWhenFull() {
        var pool = EvictionPool()
        for i in 0..<16 { Array("k\(i)".utf8).withUnsafeBytes { pool.offer(idle: UInt64(100 + i), key: $0, db: 0) } }
        Array("low".utf8).withUnsafeBytes { pool.offer(idle: 5, key: $0, db: 0) }
        #expect(!pool.candidates.contains { $0.key == Array("low".utf8) })
        Array("high".utf8).withUnsafeBytes { pool.offer(idle: 1000, key: $0, db: 1) }
        #expect(pool.candidates.last?.key == Array("high".utf8))
        #expect(pool.candidates.first?.idle == 101)
    }
}

@Suite struct LFUTests {
    @Test func counterGrowsLogarithmically() {
        let (s, _) = makeServer([("maxmemory-policy", "allkeys-lfu")])
        var counter = ShardEngine.lfuInitialCounter
        for _ in 0..<1000 { counter = s.lfuLogIncrement(counter) }
        // With lfu-log-factor 10, 1000 hits reach roughly 15-20 (Redis's table: 100 hits ~ 10, 1K ~ 18).
        #expect(counter > 10 && counter < 30)
        for _ in 0..<1_000_000 { counter = s.lfuLogIncrement(counter) }
        #expect(counter > 100)
        #expect(s.lfuLogIncrement(255) == 255)
    }

    @Test func factorZeroIncrementsEveryTime() {
        let (s, _) = makeServer([("lfu-log-factor", "0")])
        var counter: UInt8 = 0
        for _ in 0..<300 { counter = s.lfuLogIncrement(counter) }
        #expect(counter == 255)
    }

    @Test func counterDecaysPerDecayPeriod() {
        let (s, c) = makeServer([("maxmemory-policy", "allkeys-lfu"), ("lfu-decay-time", "2")])
        _ = run(c, "SET", "k", "v")
        let e = c.db.rawLookup(UnsafeRawBufferPointer(start: "k", count: 1))!
        e.lfu = 40
        e.lru = (s.lfuClockMinutes &- 10) & 0xFFFF
        #expect(s.lfuDecayedCounter(e) == 35)  // 10 minutes / 2 = 5 periods
        e.lru = (s.lfuClockMinutes &- 200) & 0xFFFF
        #expect(s.lfuDecayedCounter(e) == 0)
        try! s.config.set("lfu-decay-time", "0")
        #expect(s.lfuDecayedCounter(e) == 40)
    }
}

@Suite struct EvictionPolicyTests {
    @Test func eligibility() {
        for p in EvictionPolicy.allCases {
            #expect(p.isEligible(hasExpire: true) == (p != .noeviction))
            #expect(p.isEligible(hasExpire: false) == p.allKeys)
        }
        #expect(EvictionPolicy.allCases.count == 8)
    }

    @Test func tenacityBudget() {
        #expect(ShardEngine.evictionTimeLimitUs(tenacity: 0) == 0)
        #expect(ShardEngine.evictionTimeLimitUs(tenacity: 10) == 500)
        #expect(ShardEngine.evictionTimeLimitUs(tenacity: 20) == Int64(500 * pow(1.15, 10.0)))
        #expect(ShardEngine.evictionTimeLimitUs(tenacity: 100) == Int64.max)
    }

    @Test(arguments: EvictionPolicy.allCases.filter { $0 != .noeviction && !$0.allKeys })
    func volatilePoliciesOnlyPickKeysWithExpire(_ policy: EvictionPolicy) {
        let (s, c) = makeServer([("maxmemory-policy", policy.rawValue)])
        for i in 0..<200 { _ = run(c, "SET", "plain:\(i)", "v") }
        #expect(s.pickEvictionVictim(policy) == nil)
        for i in 0..<50 { _ = run(c, "SET", "ttl:\(i)", "v", "EX", "\(1000 + i)") }
        for _ in 0..<100 {
            guard let (db, slot) = s.pickEvictionVictim(policy) else { Issue.record("no victim"); return }
            #expect(db.entry(atSlot: slot).hasExpire)
        }
    }

    @Test func volatileTTLPicksTheSoonestExpire() {
        let (s, c) = makeServer([("maxmemory-policy", "volatile-ttl"), ("maxmemory-samples", "64")])
        for i in 0..<40 { _ = run(c, "SET", "ttl:\(i)", "v", "EX", "\(1000 + i)") }
        let (db, slot) = s.pickEvictionVictim(.volatileTTL)!
        #expect(db.entry(atSlot: slot).keyBytes == Array("ttl:0".utf8))
    }

    @Test func lruPicksTheIdlest() {
        let (s, c) = makeServer([("maxmemory-policy", "allkeys-lru"), ("maxmemory-samples", "64")])
        for i in 0..<40 { _ = run(c, "SET", "k:\(i)", "v") }
        let e = c.db.rawLookup(UnsafeRawBufferPointer(start: "k:7", count: 3))!
        e.lru = (s.lruClock &- 1000) & 0xFFFFFF
        let (db, slot) = s.pickEvictionVictim(.allkeysLRU)!
        #expect(db.entry(atSlot: slot).keyBytes == Array("k:7".utf8))
    }

    @Test func evictsDownToMaxmemoryAndRefusesWhenNothingIsEligible() {
        // Tenacity 100: no time budget (no event loop here to continue from).
        let (s, c) = makeServer([("maxmemory-policy", "allkeys-random"), ("maxmemory-eviction-tenacity", "100")])
        for i in 0..<5000 { _ = run(c, "SET", "k:\(i)", String(repeating: "x", count: 100)) }
        let limit = s.usedMemory - 200_000
        try! s.config.set("maxmemory", String(limit))
        #expect(run(c, "SET", "new", "v") == "+OK\r\n")
        #expect(s.usedMemory <= limit + 1000)
        #expect(s.stats.evictedKeys > 0)
        try! s.config.set("maxmemory-policy", "volatile-lru")
        try! s.config.set("maxmemory", String(s.usedMemory - 100_000))
        #expect(run(c, "SET", "new2", "v").hasPrefix("-OOM command not allowed when used memory > 'maxmemory'."))
        #expect(run(c, "GET", "new") == "$1\r\nv\r\n")
    }
}

@Suite struct EvictionSideEffectsTests {
    @Test(arguments: [false, true])
    func evictionsArePropagatedAsDelOrUnlink(lazy: Bool) {
        let (s, c) = makeServer([("maxmemory-policy", "allkeys-lru"), ("maxmemory-eviction-tenacity", "100"),
                                 ("lazyfree-lazy-eviction", lazy ? "yes" : "no")])
        var seen: [[[UInt8]]] = []
        let stream = RecordingStream { seen.append($0.argv) }
        s.writeStream.add(stream)
        for i in 0..<2000 { _ = run(c, "SET", "k:\(i)", String(repeating: "x", count: 100)) }
        seen.removeAll()
        let evictedBefore = s.stats.evictedKeys
        // CONFIG SET maxmemory below the memory in use evicts at once.
        _ = run(c, "CONFIG", "SET", "maxmemory", String(s.usedMemory - 100_000))
        let evicted = s.stats.evictedKeys - evictedBefore
        #expect(evicted > 100)
        let deletions = seen.filter { $0.first == Array((lazy ? "UNLINK" : "DEL").utf8) }
        #expect(deletions.count == evicted)
        #expect(deletions.allSatisfy { $0.count == 2 })
        #expect(!seen.contains { $0.first == Array("MULTI".utf8) })
    }

    @Test func notCountedMemoryIsLeftOut() {
        let (s, c) = makeServer([("maxmemory-policy", "allkeys-random"), ("maxmemory-eviction-tenacity", "100")])
        for i in 0..<2000 { _ = run(c, "SET", "k:\(i)", String(repeating: "x", count: 100)) }
        s.addMemoryNotCountedForEvict { 1 << 20 }
        _ = run(c, "CONFIG", "SET", "maxmemory", String(s.usedMemory - 200_000))
        // 1 MB of the usage does not count: nothing to evict.
        #expect(s.stats.evictedKeys == 0)
        #expect(run(c, "INFO", "memory").contains("mem_not_counted_for_evict:1048576"))
    }
}

@Suite struct LazyFreeTests {
    @Test func effortRule() {
        let small = SetValue()
        #expect(LazyFree.freeEffort(small) == 1)
        let big = SetValue(hashtableReserving: 100)
        for i in 0..<100 { Array("m\(i)".utf8).withUnsafeBytes { _ = big.add($0, maxIntsetEntries: 512) } }
        #expect(LazyFree.freeEffort(big) == 100)
    }

    @Test func unlinkFreesBigValuesInTheBackground() {
        let (s, c) = makeServer()
        for i in stride(from: 0, to: 10000, by: 100) {
            var args = ["SADD", "big"]
            for j in i..<(i + 100) { args.append("member:\(j)") }
            var bytes: [UInt8] = []
            var spans: [ArgSpan] = []
            for a in args { spans.append(ArgSpan(offset: bytes.count, count: a.utf8.count)); bytes += Array(a.utf8) }
            bytes.withUnsafeBytes { raw in spans.withUnsafeBufferPointer { sp in
                c.args = Args(base: raw.baseAddress!, spans: sp)
                s.execute(c)
            } }
        }
        _ = run(c, "SADD", "small", "a", "b")
        let before = s.usedMemory
        #expect(run(c, "UNLINK", "big", "small") == ":2\r\n")
        s.lazyFree.drain()
        #expect(s.lazyFree.freed == 1)
        #expect(s.lazyFree.pending == 0)
        #expect(before - s.usedMemory > 10000 * 16)
        for i in 0..<300 { _ = run(c, "SET", "k\(i)", "v") }
        #expect(run(c, "FLUSHALL", "ASYNC") == "+OK\r\n")
        s.lazyFree.drain()
        #expect(s.lazyFree.freed == 301)
        #expect(run(c, "DBSIZE") == ":0\r\n")
    }
}
