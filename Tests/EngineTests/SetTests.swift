import Testing
@testable import Engine
import EngineTestSupport

private func withBytes<R>(_ s: String, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    var s = s
    return s.withUTF8 { body(UnsafeRawBufferPointer($0)) }
}

private func members(_ set: SetValue) -> [String] {
    set.allMembers().map { String(decoding: $0, as: UTF8.self) }.sorted()
}

@Suite("Set type")
struct SetTests {
    @Test func intsetStaysSortedAndConvertsOnNonInteger() {
        let s = SetValue()
        for v in [5, -3, 12, 0, 5, -3] { _ = withBytes(String(v)) { s.add($0, maxIntsetEntries: 512) } }
        #expect(s.isIntset)
        #expect(s.count == 4)
        #expect(s.allMembers().map { String(decoding: $0, as: UTF8.self) } == ["-3", "0", "5", "12"])
        #expect(withBytes("12") { s.contains($0) })
        #expect(!withBytes("012") { s.contains($0) })
        #expect(withBytes("x") { s.add($0, maxIntsetEntries: 512) })
        #expect(!s.isIntset)
        #expect("\(s.encodingName)" == "hashtable")
        #expect(members(s) == ["-3", "0", "12", "5", "x"])
        // Removing the non-integer does not convert back.
        #expect(withBytes("x") { s.remove($0) })
        #expect(!s.isIntset)
        #expect(withBytes("12") { s.contains($0) })
    }

    @Test func intsetEntryLimit() {
        let s = SetValue()
        for v in 0..<16 { _ = withBytes(String(v)) { s.add($0, maxIntsetEntries: 16) } }
        #expect(s.isIntset)
        _ = withBytes("16") { s.add($0, maxIntsetEntries: 16) }
        #expect(!s.isIntset)
        #expect(s.count == 17)
        #expect(members(s) == (0...16).map(String.init).sorted())
    }

    @Test func nonCanonicalIntegersAreStrings() {
        for m in ["01", "+1", " 1", "-0", "1.0", "9223372036854775808"] {
            let s = SetValue(forFirstMember: UnsafeRawBufferPointer(start: nil, count: 0))
            _ = withBytes(m) { s.add($0, maxIntsetEntries: 512) }
            #expect(!s.isIntset, "\(m) must not be an intset member")
        }
        let s = SetValue()
        _ = withBytes("-9223372036854775808") { s.add($0, maxIntsetEntries: 512) }
        _ = withBytes("9223372036854775807") { s.add($0, maxIntsetEntries: 512) }
        #expect(s.isIntset)
        #expect(members(s) == ["-9223372036854775808", "9223372036854775807"])
    }

    @Test func hashtableMatchesModel() {
        var rng = SystemRandomNumberGenerator()
        let s = SetValue(hashtableReserving: 0)
        var model = Set<String>()
        for _ in 0..<20000 {
            let m = "m\(Int.random(in: 0..<3000, using: &rng))"
            if Bool.random(using: &rng) {
                let added = withBytes(m) { s.add($0, maxIntsetEntries: 512) }
                #expect(added == model.insert(m).inserted)
            } else {
                let removed = withBytes(m) { s.remove($0) }
                #expect(removed == (model.remove(m) != nil))
            }
        }
        #expect(s.count == model.count)
        #expect(Set(members(s)) == model)
        for m in model.prefix(100) { #expect(withBytes(m) { s.contains($0) }) }
    }

    @Test func popRandomEmptiesTheSet() {
        for intset in [true, false] {
            let s = intset ? SetValue() : SetValue(hashtableReserving: 0)
            for i in 0..<1000 { _ = withBytes(String(i)) { s.add($0, maxIntsetEntries: 100_000) } }
            var seen = Set<String>()
            s.popRandom(count: 600) { seen.insert(String(decoding: $0, as: UTF8.self)) }
            #expect(seen.count == 600)
            #expect(s.count == 400)
            while s.count > 0 { s.popRandom { seen.insert(String(decoding: $0, as: UTF8.self)) } }
            #expect(seen.count == 1000)
        }
    }

    @Test func randomDistinctIsDistinctAndCoversEverything() {
        for intset in [true, false] {
            let s = intset ? SetValue() : SetValue(hashtableReserving: 0)
            for i in 0..<300 { _ = withBytes(String(i)) { s.add($0, maxIntsetEntries: 100_000) } }
            for n in [1, 10, 99, 101, 250, 299] {
                var got: [String] = []
                s.randomDistinct(n) { got.append(String(decoding: $0, as: UTF8.self)) }
                #expect(got.count == n)
                #expect(Set(got).count == n)
            }
            var hits = Set<String>()
            for _ in 0..<5000 { s.withRandomMember { hits.insert(String(decoding: $0, as: UTF8.self)) } }
            #expect(hits.count == 300)
        }
    }

    @Test func randomPicksAreRoughlyUniform() {
        // 10 members, 20000 picks: each should get close to 2000.
        let s = SetValue(hashtableReserving: 0)
        for i in 0..<10 { _ = withBytes("k\(i)") { s.add($0, maxIntsetEntries: 0) } }
        var counts: [String: Int] = [:]
        for _ in 0..<20000 { s.withRandomMember { counts[String(decoding: $0, as: UTF8.self), default: 0] += 1 } }
        let chi2 = counts.values.reduce(0.0) { acc, v in let d = Double(v) - 2000; return acc + d * d / 2000 }
        #expect(chi2 < 40)  // df = 9
    }

    @Test func scanReturnsEveryStableMemberAcrossResizes() {
        let s = SetValue(hashtableReserving: 0)
        for i in 0..<2000 { _ = withBytes("stable\(i)") { s.add($0, maxIntsetEntries: 0) } }
        var seen = Set<String>()
        var cursor: UInt64 = 0
        var step = 0
        repeat {
            cursor = s.scanStep(cursor: cursor) { seen.insert(String(decoding: $0, as: UTF8.self)) }
            step += 1
            // Grow and shrink the table while scanning.
            if step % 50 == 0 {
                for i in 0..<3000 { _ = withBytes("tmp\(step)-\(i)") { s.add($0, maxIntsetEntries: 0) } }
            }
            if step % 50 == 25 {
                for m in s.allMembers() where m.starts(with: Array("tmp".utf8)) {
                    _ = m.withUnsafeBytes { s.remove($0) }
                }
            }
        } while cursor != 0
        for i in 0..<2000 { #expect(seen.contains("stable\(i)")) }
    }

    @Test func duplicateIsDeep() {
        let s = SetValue(hashtableReserving: 0)
        for m in ["a", "b", "c"] { _ = withBytes(m) { s.add($0, maxIntsetEntries: 512) } }
        let d = s.duplicate()
        _ = withBytes("a") { s.remove($0) }
        #expect(members(d) == ["a", "b", "c"])
        #expect(members(s) == ["b", "c"])
        let i = SetValue()
        _ = withBytes("7") { i.add($0, maxIntsetEntries: 512) }
        #expect(i.duplicate().isIntset)
    }
}
