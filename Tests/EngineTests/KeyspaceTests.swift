// The keyspace itself: the database table (insert, delete, resize,
// tombstones), SCAN's guarantee across resizes, the expires index, the
// active expiry cycle, glob matching and the LRU/LFU helpers.

import Testing
@testable import Engine
import EngineTestSupport

private func key(_ s: String) -> [UInt8] { Array(s.utf8) }

private func makeServer() -> ShardEngine { ShardEngine(config: Config()) }

extension ShardEngine {
    /// Test helper: stores a string value.
    func put(_ db: Database, _ k: [UInt8], _ v: String = "v", expireAt: Int64? = nil) {
        k.withUnsafeBytes { setString(db, $0, Array(v.utf8), expireAt: expireAt) }
    }
}

extension Database {
    func has(_ k: [UInt8]) -> Bool { k.withUnsafeBytes { rawLookup($0) != nil } }
    @discardableResult func del(_ k: [UInt8]) -> Bool { k.withUnsafeBytes { delete($0) } }

    /// Every key, via a full SCAN (no changes in between).
    func scanAll() -> [[UInt8]] {
        var out: [[UInt8]] = []
        var cursor: UInt64 = 0
        repeat { cursor = scanStep(cursor: cursor) { out.append($0.keyBytes) } } while cursor != 0
        return out
    }

    /// Checks the expires index against the table: same set of entries, positions consistent.
    func expiresIndexIsConsistent() -> Bool {
        var withExpire = 0
        var ok = true
        forEach { e in
            if e.hasExpire {
                withExpire += 1
                let i = e.expireIndex
                if i >= expiresCount || expiringEntry(at: i).ptr != e.ptr { ok = false }
            }
        }
        for i in 0..<expiresCount where expiringEntry(at: i).expireIndex != i || !expiringEntry(at: i).hasExpire {
            ok = false
        }
        return ok && withExpire == expiresCount
    }
}

// MARK: - Database table

@Test func insertLookupDeleteMatchesModel() {
    let s = makeServer()
    let db = s.databases[0]
    var model = Set<[UInt8]>()
    var rng = SystemRandomNumberGenerator()
    for step in 0..<20_000 {
        let k = key("k\(Int.random(in: 0..<3000, using: &rng))")
        if Int.random(in: 0..<3, using: &rng) == 0 {
            #expect(db.del(k) == model.contains(k))
            model.remove(k)
        } else {
            s.put(db, k, "v\(step)")
            model.insert(k)
        }
        if step % 1000 == 0 { #expect(db.count == model.count) }
    }
    #expect(db.count == model.count)
    for k in model { #expect(db.has(k)) }
    for i in 0..<3000 where !model.contains(key("k\(i)")) { #expect(!db.has(key("k\(i)"))) }
    #expect(Set(db.scanAll()) == model)
}

@Test func tableGrowsAndShrinks() {
    let s = makeServer()
    let db = s.databases[0]
    #expect(db.capacity == Database.minCapacity)
    for i in 0..<10_000 { s.put(db, key("key:\(i)")) }
    #expect(db.count == 10_000)
    // Load factor stays at most 3/4.
    #expect(db.capacity >= 10_000 * 4 / 3)
    let grown = db.capacity
    for i in 0..<9_990 { #expect(db.del(key("key:\(i)"))) }
    #expect(db.count == 10)
    #expect(db.capacity < grown / 8)
    for i in 9_990..<10_000 { #expect(db.has(key("key:\(i)"))) }
    for i in 9_990..<10_000 { #expect(db.del(key("key:\(i)"))) }
    #expect(db.count == 0)
    #expect(db.capacity == Database.minCapacity)
}

@Test func deletionsInsideProbeRunsKeepOtherKeysReachable() {
    // Many keys in a small table: probe runs are long, and deleting keys in
    // the middle of runs must leave the keys after them findable.
    let s = makeServer()
    let db = s.databases[0]
    for i in 0..<11 { s.put(db, key("t\(i)")) }
    #expect(db.capacity == Database.minCapacity)
    for i in stride(from: 0, to: 11, by: 2) { #expect(db.del(key("t\(i)"))) }
    for i in 0..<11 { #expect(db.has(key("t\(i)")) == (i % 2 == 1)) }
    // Re-insert into the tombstoned table; everything still consistent.
    for i in stride(from: 0, to: 11, by: 2) { s.put(db, key("t\(i)"), "again") }
    for i in 0..<11 { #expect(db.has(key("t\(i)"))) }
    #expect(db.count == 11)
    #expect(Set(db.scanAll()) == Set((0..<11).map { key("t\($0)") }))
}

@Test func churnDoesNotGrowTheTable() {
    // Insert/delete cycles leave tombstones; they must be recycled (by
    // rehashing) instead of growing the table or making probes endless.
    let s = makeServer()
    let db = s.databases[0]
    for i in 0..<8 { s.put(db, key("stable\(i)")) }
    for round in 0..<5_000 {
        let k = key("churn\(round)")
        s.put(db, k)
        #expect(db.del(k))
    }
    #expect(db.count == 8)
    #expect(db.capacity <= 32)
    for i in 0..<8 { #expect(db.has(key("stable\(i)"))) }
    #expect(!db.has(key("churn-absent")))
}

@Test func replaceKeepsCountAndValue() {
    let s = makeServer()
    let db = s.databases[0]
    s.put(db, key("a"), "short")
    s.put(db, key("a"), String(repeating: "x", count: 100))
    s.put(db, key("a"), "12345")
    #expect(db.count == 1)
    let e = key("a").withUnsafeBytes { db.rawLookup($0) }!
    #expect(Array(e.stringValue) == key("12345"))
    #expect(e.encodingName.description == "int")
}

@Test func removeAllAndSwapContents() {
    let s = makeServer()
    let a = s.databases[0], b = s.databases[1]
    for i in 0..<100 { s.put(a, key("a\(i)"), expireAt: i % 2 == 0 ? s.now + 100_000 : nil) }
    s.put(b, key("b"))
    a.swapContents(with: b)
    #expect(a.count == 1 && b.count == 100)
    #expect(b.expiresCount == 50 && a.expiresCount == 0)
    #expect(a.has(key("b")) && b.has(key("a7")))
    #expect(a.expiresIndexIsConsistent() && b.expiresIndexIsConsistent())
    b.removeAll()
    #expect(b.count == 0 && b.expiresCount == 0 && !b.has(key("a7")))
}

// MARK: - SCAN

@Test func scanReturnsEveryKeyOnceWithoutChanges() {
    let s = makeServer()
    let db = s.databases[0]
    for i in 0..<1000 { s.put(db, key("key:\(i)")) }
    let got = db.scanAll()
    #expect(got.count == 1000)
    #expect(Set(got).count == 1000)
}

@Test func scanCoversAllKeysAcrossGrowthMidScan() {
    let s = makeServer()
    let db = s.databases[0]
    let original = (0..<200).map { key("orig:\($0)") }
    for k in original { s.put(db, k) }
    var seen = Set<[UInt8]>()
    var cursor: UInt64 = 0
    var steps = 0
    var added = 0
    repeat {
        cursor = db.scanStep(cursor: cursor) { seen.insert($0.keyBytes) }
        steps += 1
        // Grow the table several times while the scan is under way.
        if steps % 5 == 0 && added < 20_000 {
            for _ in 0..<2_000 { s.put(db, key("new:\(added)")); added += 1 }
        }
    } while cursor != 0
    #expect(added > 0)
    for k in original { #expect(seen.contains(k)) }
}

@Test func scanCoversAllKeysAcrossShrinkMidScan() {
    let s = makeServer()
    let db = s.databases[0]
    let kept = (0..<100).map { key("keep:\($0)") }
    for k in kept { s.put(db, k) }
    for i in 0..<20_000 { s.put(db, key("tmp:\(i)")) }
    let bigCapacity = db.capacity
    var seen = Set<[UInt8]>()
    var cursor: UInt64 = 0
    var steps = 0
    var removed = 0
    repeat {
        cursor = db.scanStep(cursor: cursor) { seen.insert($0.keyBytes) }
        steps += 1
        // Delete the temporary keys in batches (never during scanStep itself).
        if steps % 3 == 0 && removed < 20_000 {
            for _ in 0..<4_000 { db.del(key("tmp:\(removed)")); removed += 1 }
        }
    } while cursor != 0
    #expect(db.capacity < bigCapacity)
    for k in kept { #expect(seen.contains(k)) }
}

@Test func scanCoversAllKeysAcrossMixedResizes() {
    // Random growth and shrink between steps; keys present for the whole
    // scan must all be returned.
    let s = makeServer()
    let db = s.databases[0]
    let kept = (0..<300).map { key("k\($0)") }
    for k in kept { s.put(db, k) }
    var rng = SystemRandomNumberGenerator()
    for trial in 0..<4 {
        var extra: [[UInt8]] = []
        var seen = Set<[UInt8]>()
        var cursor: UInt64 = 0
        var n = 0
        repeat {
            cursor = db.scanStep(cursor: cursor) { seen.insert($0.keyBytes) }
            if Bool.random(using: &rng) && extra.count < 3_000 {
                for _ in 0..<Int.random(in: 0..<1000, using: &rng) { let k = key("x\(trial):\(n)"); n += 1; s.put(db, k); extra.append(k) }
            } else {
                while !extra.isEmpty && Int.random(in: 0..<4, using: &rng) != 0 { db.del(extra.removeLast()) }
            }
        } while cursor != 0
        for k in kept { #expect(seen.contains(k)) }
        for k in extra { db.del(k) }
    }
}

// MARK: - expires index

@Test func expiresIndexStaysConsistent() {
    let s = makeServer()
    let db = s.databases[0]
    var rng = SystemRandomNumberGenerator()
    let far = s.now + 1_000_000
    for step in 0..<20_000 {
        let k = key("e\(Int.random(in: 0..<500, using: &rng))")
        switch Int.random(in: 0..<6, using: &rng) {
        case 0: s.put(db, k, "v", expireAt: far + Int64(step))           // new/replace with expire
        case 1: s.put(db, k, "value-\(step)")                             // replace without expire
        case 2: k.withUnsafeBytes { _ = s.setExpire(db, $0, far) }        // add expire (realloc)
        case 3: k.withUnsafeBytes { _ = s.setExpire(db, $0, nil) }        // remove expire (realloc)
        case 4: db.del(k)
        default: k.withUnsafeBytes { s.setString(db, $0, [1, 2, 3], keepTTL: true) }
        }
        if step % 500 == 0 { #expect(db.expiresIndexIsConsistent()) }
    }
    #expect(db.expiresIndexIsConsistent())
    var withExpire = 0
    db.forEach { if $0.hasExpire { withExpire += 1 } }
    #expect(withExpire == db.expiresCount)
}

@Test func expireAtIsStoredAndCleared() {
    let s = makeServer()
    let db = s.databases[0]
    s.put(db, key("k"))
    let at = s.now + 5000
    #expect(key("k").withUnsafeBytes { s.setExpire(db, $0, at) })
    #expect(key("k").withUnsafeBytes { db.rawLookup($0)?.expireAt } == at)
    #expect(db.expiresCount == 1)
    #expect(key("k").withUnsafeBytes { s.setExpire(db, $0, nil) })
    #expect(key("k").withUnsafeBytes { db.rawLookup($0)?.expireAt } == nil)
    #expect(db.expiresCount == 0)
    #expect(!key("nokey").withUnsafeBytes { s.setExpire(db, $0, at) })
}

// MARK: - active expiry

@Test func activeExpireCycleRemovesExpiredKeysOnly() {
    let s = makeServer()
    let db0 = s.databases[0], db3 = s.databases[3]
    let past = s.now - 10
    let future = s.now + 3_600_000
    for i in 0..<500 { s.put(db0, key("dead\(i)"), expireAt: past) }
    for i in 0..<200 { s.put(db0, key("alive\(i)"), expireAt: future) }
    for i in 0..<100 { s.put(db0, key("plain\(i)")) }
    for i in 0..<50 { s.put(db3, key("dead\(i)"), expireAt: past) }
    let before = s.stats.expiredKeys
    var total = 0
    for _ in 0..<1000 where db0.expiresCount > 200 || db3.expiresCount > 0 { total += s.activeExpireCycle() }
    #expect(total == 550)
    #expect(s.stats.expiredKeys - before == 550)
    #expect(db0.count == 300 && db0.expiresCount == 200)
    #expect(db3.count == 0)
    for i in 0..<200 { #expect(db0.has(key("alive\(i)"))) }
    for i in 0..<100 { #expect(db0.has(key("plain\(i)"))) }
    #expect(db0.expiresIndexIsConsistent())
    #expect(db0.avgTTL > 0)
}

@Test func activeExpireCycleCanBeDisabled() {
    let s = makeServer()
    let db = s.databases[0]
    s.put(db, key("dead"), expireAt: s.now - 1)
    s.activeExpireEnabled = false
    #expect(s.activeExpireCycle() == 0)
    #expect(db.count == 1)
    s.activeExpireEnabled = true
    #expect(s.activeExpireCycle() == 1)
    #expect(db.count == 0)
}

// MARK: - glob

@Test(arguments: [
    ("*", "", false), ("**", "", false), ("*", "anything", true), ("", "", true), ("", "a", false),
    ("h?llo", "hello", true), ("h?llo", "hllo", false),
    ("h*llo", "hllo", true), ("h*llo", "heeeello", true), ("h*llo", "hellox", false),
    ("h[ae]llo", "hallo", true), ("h[ae]llo", "hillo", false),
    ("h[^e]llo", "hallo", true), ("h[^e]llo", "hello", false),
    ("h[a-b]llo", "hbllo", true), ("h[b-a]llo", "hallo", true), ("h[a-b]llo", "hcllo", false),
    ("h[!e]llo", "hello", true), ("h[!e]llo", "hallo", false),
    ("h\\*llo", "h*llo", true), ("h\\*llo", "hello", false),
    ("h[\\]]llo", "h]llo", true), ("h[\\[]llo", "h[llo", true),
    ("h\\\\llo", "h\\llo", true),
    ("*e*e*", "heeeello", true), ("*e*e*", "hello", false),
    ("a*b*c", "aXbYc", true), ("a*b*c", "aXbY", false),
    ("[abc", "a", true), ("[a-", "a", true), ("[a-]", "a", true),
    ("user:1*", "user:17", true), ("user:1*", "user:2", false),
    ("a\\", "a\\", true), ("trailing\\", "trailing", false),
])
func globMatches(pattern: String, string: String, expected: Bool) {
    #expect(globMatch(Array(pattern.utf8), Array(string.utf8)) == expected)
}

@Test func globNocaseAndPathologicalPatterns() {
    #expect(globMatch(key("HELLO"), key("hello"), nocase: true))
    #expect(!globMatch(key("HELLO"), key("hello")))
    #expect(globMatch(key("h[A-C]llo"), key("hbllo"), nocase: true))
    // Backtracking over many '*' must stay fast (Redis's skip of longer
    // matches once the rest of the pattern failed everywhere).
    let pattern = key(String(repeating: "a*", count: 40) + "b")
    let subject = key(String(repeating: "a", count: 60))
    #expect(!globMatch(pattern, subject))
    #expect(globMatch(pattern, subject + key("b")))
    #expect(globMatch(key("*a*b*c*"), key("xxaxxbxxcxx")))
    #expect(!globMatch(key("*a*b*c*d"), key("xxaxxbxxcxx")))
}

// MARK: - LRU / LFU

@Test func idleTimeHandlesClockWrap() {
    let s = makeServer()
    let db = s.databases[0]
    s.put(db, key("k"))
    let e = key("k").withUnsafeBytes { db.rawLookup($0) }!
    e.lru = s.lruClock &- 42
    #expect(s.idleTimeMs(e) == 42_000)
    #expect(s.setAccessData(e, idleSeconds: 1000, frequency: nil))
    #expect(s.idleTimeMs(e) == 1_000_000)
    // A clock value "ahead" of now is an idle time that wrapped around.
    e.lru = (s.lruClock + 10) & 0xFFFFFF
    #expect(s.idleTimeMs(e) == (Int64((1 << 24) - 1) - 10) * 1000)
}

@Test func lfuCounterGrowsLogarithmicallyAndDecays() throws {
    let config = Config()
    try config.set("maxmemory-policy", "allkeys-lfu")
    #expect(config.lfuPolicy)
    let s = ShardEngine(config: config)
    let db = s.databases[0]
    s.put(db, key("k"))
    let e = key("k").withUnsafeBytes { db.rawLookup($0) }!
    #expect(e.lfu == ShardEngine.lfuInitialCounter)
    #expect(e.lru == s.lfuClockMinutes)
    // Up to the initial value every access counts; beyond it increments get rarer.
    for _ in 0..<100 { s.touchEntry(e) }
    let after100 = e.lfu
    #expect(after100 > 5 && after100 < 30)
    for _ in 0..<100_000 { s.touchEntry(e) }
    #expect(e.lfu > after100 && e.lfu < 255)
    #expect(s.lfuLogIncrement(255) == 255)
    // Decay: one unit per lfu-decay-time minutes without access.
    e.lfu = 20
    e.lru = (s.lfuClockMinutes &- 7) & 0xFFFF
    #expect(s.lfuDecayedCounter(e) == 13)
    e.lru = (s.lfuClockMinutes &- 100) & 0xFFFF
    #expect(s.lfuDecayedCounter(e) == 0)
    try config.set("lfu-decay-time", "0")
    #expect(s.lfuDecayedCounter(e) == 20)
    #expect(s.setAccessData(e, idleSeconds: 5, frequency: 77))
    #expect(e.lfu == 77)
}

@Test func lfuLogFactorZeroAlwaysIncrements() throws {
    let config = Config()
    try config.set("maxmemory-policy", "volatile-lfu")
    try config.set("lfu-log-factor", "0")
    let s = ShardEngine(config: config)
    var c: UInt8 = 5
    for _ in 0..<50 { c = s.lfuLogIncrement(c) }
    #expect(c == 55)
    let r = (0..<1000).map { _ in s.nextLFURandom() }
    #expect(r.allSatisfy { $0 >= 0 && $0 < 1 })
    #expect(Set(r).count > 990)
}
