import Testing
@testable import Engine
import EngineTestSupport

private func b(_ s: String) -> [UInt8] { Array(s.utf8) }

extension HashValue {
    func put(_ f: [UInt8], _ v: [UInt8], entries: Int = 128, value: Int = 64) -> Bool {
        f.withUnsafeBytes { fb in v.withUnsafeBytes { set(fb, $0, maxEntries: entries, maxValue: value) } }
    }
    func value(_ f: [UInt8]) -> [UInt8]? { f.withUnsafeBytes { get($0).map { Array($0) } } }
    func del(_ f: [UInt8]) -> Bool { f.withUnsafeBytes { delete($0) } }
    func dict() -> [[UInt8]: [UInt8]] {
        var d: [[UInt8]: [UInt8]] = [:]
        forEach { d[Array($0)] = Array($1) }
        return d
    }
}

@Suite struct HashTests {
    @Test func listpackBasics() {
        let h = HashValue()
        #expect("\(h.encodingName)" == "listpack")
        #expect(h.put(b("a"), b("1")))
        #expect(h.put(b("b"), b("2")))
        #expect(!h.put(b("a"), b("longer value")))
        #expect(h.put(b(""), b("")))
        #expect(h.value(b("a")) == b("longer value"))
        #expect(h.value(b("")) == [])
        #expect(h.value(b("zz")) == nil)
        #expect(h.count == 3)
        // insertion order is kept, like a Redis listpack
        #expect(h.pairs().map { $0.0 } == [b("a"), b("b"), b("")])
        #expect(h.del(b("b")))
        #expect(!h.del(b("b")))
        #expect(h.count == 2)
        #expect(h.dict() == [b("a"): b("longer value"), b(""): []])
        #expect("\(h.encodingName)" == "listpack")
    }

    @Test func convertsOnEntriesAndNeverBack() {
        let h = HashValue()
        for i in 0..<16 { _ = h.put(b("f\(i)"), b("v"), entries: 16) }
        #expect("\(h.encodingName)" == "listpack")
        _ = h.put(b("f16"), b("v"), entries: 16)
        #expect("\(h.encodingName)" == "hashtable")
        for i in 0..<15 { _ = h.del(b("f\(i)")) }
        #expect("\(h.encodingName)" == "hashtable")
        #expect(h.count == 2)
        #expect(h.value(b("f16")) == b("v"))
    }

    @Test func convertsOnLongFieldOrValue() {
        let h = HashValue()
        _ = h.put(b("f"), [UInt8](repeating: 1, count: 10), value: 10)
        #expect("\(h.encodingName)" == "listpack")
        _ = h.put(b("g"), [UInt8](repeating: 1, count: 11), value: 10)
        #expect("\(h.encodingName)" == "hashtable")
        let h2 = HashValue()
        _ = h2.put([UInt8](repeating: 2, count: 11), b("v"), value: 10)
        #expect("\(h2.encodingName)" == "hashtable")
        #expect(h.dict() == [b("f"): [UInt8](repeating: 1, count: 10), b("g"): [UInt8](repeating: 1, count: 11)])
    }

    @Test(arguments: [4, 128, 100_000])
    func randomOperationsMatchModel(maxEntries: Int) {
        var rng = ListHashTestRNG(UInt64(maxEntries))
        let h = HashValue()
        var model: [[UInt8]: [UInt8]] = [:]
        for step in 0..<20_000 {
            let f = b("field\(Int.random(in: 0..<600, using: &rng))")
            switch Int.random(in: 0..<5, using: &rng) {
            case 0, 1, 2:
                let v = [UInt8](repeating: UInt8.random(in: 0...255, using: &rng), count: Int.random(in: 0..<80, using: &rng))
                #expect(h.put(f, v, entries: maxEntries) == (model[f] == nil))
                model[f] = v
            case 3:
                #expect(h.del(f) == (model.removeValue(forKey: f) != nil))
            default:
                #expect(h.value(f) == model[f])
            }
            #expect(h.count == model.count)
            if step % 1000 == 0 { #expect(h.dict() == model) }
        }
        #expect(h.dict() == model)
        #expect(h.duplicate().dict() == model)
    }

    /// SCAN guarantee: every field present during the whole scan is returned,
    /// even while the table grows and shrinks in between calls.
    @Test func scanGuaranteeAcrossResizes() {
        var rng = ListHashTestRNG(42)
        let h = HashValue()
        for i in 0..<2000 { _ = h.put(b("stable\(i)"), b("v")) }
        #expect(!h.isListpack)
        var seen = Set<[UInt8]>()
        var cursor: UInt64 = 0
        var churn = 0
        repeat {
            cursor = h.scan(cursor: cursor, count: 7) { f, _ in seen.insert(Array(f)) }
            // Grow and shrink the table between calls.
            if churn < 40 {
                for j in 0..<500 { _ = h.put(b("tmp\(churn)-\(j)"), b("x")) }
            } else if churn < 80 {
                for j in 0..<500 { _ = h.del(b("tmp\(churn - 40)-\(j)")) }
            }
            churn += 1
            _ = Int.random(in: 0..<2, using: &rng)
        } while cursor != 0
        for i in 0..<2000 { #expect(seen.contains(b("stable\(i)"))) }
    }

    @Test func listpackScanReturnsEverything() {
        let h = HashValue()
        for i in 0..<50 { _ = h.put(b("f\(i)"), b("\(i)")) }
        var n = 0
        let next = h.scan(cursor: 0, count: 1) { _, _ in n += 1 }
        #expect(next == 0)
        #expect(n == 50)
    }

    @Test func randomHandlesCoverAllFields() {
        for size in [5, 300] {
            let h = HashValue()
            for i in 0..<size { _ = h.put(b("f\(i)"), b("v\(i)")) }
            var seen = Set<[UInt8]>()
            for _ in 0..<(size * 40) { seen.insert(Array(h.pair(h.randomHandle()).0)) }
            #expect(seen.count == size)
            #expect(h.allHandles().count == size)
        }
    }
}
