import Testing
@testable import Engine
import EngineTestSupport

private func withKey<R>(_ s: String, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    var s = s
    return s.withUTF8 { body(UnsafeRawBufferPointer($0)) }
}

private func put(_ db: Database, _ key: String, _ value: String, expireAt: Int64? = nil) {
    withKey(key) { k in
        withKey(value) { v in
            db.insertNew(Entry.makeString(key: k, value: v, encoding: .raw, lru: 0, expireAt: expireAt))
        }
    }
}

private func keys(_ db: Database) -> Set<String> {
    var r = Set<String>()
    db.forEach { r.insert(String(decoding: $0.key, as: UTF8.self)) }
    return r
}

/// The keyspace table (Database on SlotTable): lookups, deletes, resizes and
/// SCAN against a plain model.
@Suite struct SlotTableKeyspaceTests {
    @Test func randomOperationsMatchModel() {
        var rng = ListHashTestRNG(7)
        let db = Database(index: 0, seed: 12345)
        var model: [String: String] = [:]
        for step in 0..<30_000 {
            let k = "key:\(Int.random(in: 0..<3000, using: &rng))"
            switch Int.random(in: 0..<4, using: &rng) {
            case 0, 1:
                let v = "v\(step)"
                if model[k] == nil {
                    put(db, k, v, expireAt: step % 3 == 0 ? Int64(step) : nil)
                    model[k] = v
                }
            case 2:
                #expect(withKey(k) { db.delete($0) } == (model.removeValue(forKey: k) != nil))
            default:
                let e = withKey(k) { db.rawLookup($0) }
                #expect((e.map { String(decoding: $0.stringValue, as: UTF8.self) }) == model[k])
            }
            #expect(db.count == model.count)
        }
        #expect(keys(db) == Set(model.keys))
        // Shrinks back when emptied, to the minimum size.
        for k in model.keys { _ = withKey(k) { db.delete($0) } }
        #expect(db.count == 0)
        #expect(db.capacity == Database.minCapacity)
        #expect(db.expiresCount == 0)
    }

    /// Every key present during the whole SCAN is returned, while the table
    /// grows and shrinks between steps.
    @Test func scanGuaranteeAcrossResizes() {
        let db = Database(index: 0, seed: 99)
        for i in 0..<2000 { put(db, "stable\(i)", "v") }
        var seen = Set<String>()
        var cursor: UInt64 = 0
        var churn = 0
        repeat {
            for _ in 0..<5 {
                cursor = db.scanStep(cursor: cursor) { seen.insert(String(decoding: $0.key, as: UTF8.self)) }
                if cursor == 0 { break }
            }
            if churn < 40 {
                for j in 0..<500 { put(db, "tmp\(churn)-\(j)", "x") }
            } else if churn < 80 {
                for j in 0..<500 { _ = withKey("tmp\(churn - 40)-\(j)") { db.delete($0) } }
            }
            churn += 1
        } while cursor != 0
        for i in 0..<2000 { #expect(seen.contains("stable\(i)")) }
    }

    @Test func removeAllAndSwap() {
        let a = Database(index: 0, seed: 1), b = Database(index: 1, seed: 2)
        for i in 0..<100 { put(a, "a\(i)", "v", expireAt: 1000) }
        for i in 0..<10 { put(b, "b\(i)", "v") }
        a.swapContents(with: b)
        #expect(keys(a) == Set((0..<10).map { "b\($0)" }))
        #expect(keys(b) == Set((0..<100).map { "a\($0)" }))
        // Seeds differ, so both sides were rehashed: lookups still work.
        #expect(withKey("a42") { b.rawLookup($0) } != nil)
        #expect(withKey("b3") { a.rawLookup($0) } != nil)
        #expect(b.expiresCount == 100 && a.expiresCount == 0)
        b.removeAll()
        #expect(b.count == 0 && b.expiresCount == 0 && b.capacity == Database.minCapacity)
        #expect(withKey("a42") { b.rawLookup($0) } == nil)
    }

    @Test func hashDuplicateIsDeep() {
        let h = HashValue()
        let f = Array("field".utf8)
        for i in 0..<300 {
            _ = Array("f\(i)".utf8).withUnsafeBytes { h.set($0, Array("v\(i)".utf8), maxEntries: 128, maxValue: 64) }
        }
        #expect(!h.isListpack)
        let d = h.duplicate()
        _ = f.withUnsafeBytes { h.set($0, Array("changed".utf8), maxEntries: 128, maxValue: 64) }
        _ = Array("f7".utf8).withUnsafeBytes { h.delete($0) }
        #expect(d.count == 300)
        #expect(Array("f7".utf8).withUnsafeBytes { d.get($0).map(Array.init) } == Array("v7".utf8))
        #expect(f.withUnsafeBytes { d.contains($0) } == false)
    }
}

/// The table's capacity ladder (m·2^k, m = 4...7) and SCAN cursors in hash space.
@Suite struct SlotTableLadderTests {
    @Test func ladderAndLoad() {
        #expect(SlotTable.nextCapacity(after: 16) == 20)
        #expect(SlotTable.nextCapacity(after: 20) == 24)
        #expect(SlotTable.nextCapacity(after: 28) == 32)
        #expect(SlotTable.capacity(for: 0, minimum: 16) == 16)
        // 1M keys: 1.25 × 2^20 slots, not 2^21.
        #expect(SlotTable.capacity(for: 838_861, minimum: 16) == 1_310_720)
        for n in [1, 10, 100, 1000, 12345, 99999] {
            let c = SlotTable.capacity(for: n, minimum: 8)
            #expect(c * 2 >= n * 3 && c * 4 >= (n + 1) * 5)
            #expect(c >= 8)
        }
    }

    @Test func cursorsAdvanceThroughHashSpace() {
        for n in [8, 10, 20, 28, 1_310_720] {
            var prev: UInt64 = 0
            for slot in 0..<min(n, 1000) - 1 {
                let c = SlotTable.nextCursor(afterSlot: slot, slots: n)
                #expect(c > prev)
                #expect(SlotTable.home(c, n) == slot + 1)
                #expect(SlotTable.home(c - 1, n) == slot)
                prev = c
            }
            #expect(SlotTable.nextCursor(afterSlot: n - 1, slots: n) == 0)
        }
    }

    /// Every member present during the whole SSCAN-style walk is returned while the table grows and shrinks.
    @Test func memberTableScanAcrossResizes() {
        let s = SetValue(hashtableReserving: 0)
        for i in 0..<3000 { withDecimalBytes(Int64(i)) { _ = s.add($0, maxIntsetEntries: 0) } }
        var seen = Set<Int64>()
        var cursor: UInt64 = 0
        var round = 0
        repeat {
            cursor = s.scanStep(cursor: cursor) { seen.insert(parseCanonicalInt64($0)!) }
            if round < 30 {
                for j in 0..<300 { withDecimalBytes(Int64(100_000 + round * 300 + j)) { _ = s.add($0, maxIntsetEntries: 0) } }
            } else if round < 60 {
                for j in 0..<300 { withDecimalBytes(Int64(100_000 + (round - 30) * 300 + j)) { _ = s.remove($0) } }
            }
            round += 1
        } while cursor != 0
        for i in 0..<3000 { #expect(seen.contains(Int64(i))) }
    }
}
