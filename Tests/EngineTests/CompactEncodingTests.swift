// The compact encodings behind small sets and sorted sets: the intset block
// (widths 16/32/64 with upgrades, removals) against a sorted-array model, and
// the listpack score encoding (integral scores as varints, the rest as
// doubles) on edge values.

import Testing
@testable import Engine
import EngineTestSupport

@Suite struct IntSetTests {
    @Test func matchesASortedArrayModel() {
        var rng = SystemRandomNumberGenerator()
        for round in 0..<20 {
            var s = IntSet()
            var model: [Int64] = []
            let ranges: [ClosedRange<Int64>] = [-100...100, -40000...40000, Int64(Int32.min) * 4...Int64(Int32.max) * 4,
                                                Int64.min...Int64.max]
            for step in 0..<400 {
                // Widen the range as the round goes on, so upgrades happen mid-way.
                let r = ranges[min(ranges.count - 1, (step / 100 + round) % ranges.count)]
                let v = Int64.random(in: r, using: &rng)
                let (found, at) = s.search(v)
                let m = model.firstIndex { $0 >= v } ?? model.count
                #expect(found == (m < model.count && model[m] == v))
                #expect(at == m)
                if found {
                    if Bool.random(using: &rng) { s.remove(at: at); model.remove(at: m) }
                } else {
                    s.insert(v, at: at)
                    model.insert(v, at: m)
                }
                #expect(s.count == model.count)
            }
            #expect((0..<s.count).map { s[$0] } == model)
            var drop = [Bool](repeating: false, count: model.count)
            for i in stride(from: 0, to: model.count, by: 3) { drop[i] = true }
            s.removeMarked(drop)
            model = model.enumerated().filter { !drop[$0.offset] }.map { $0.element }
            #expect((0..<s.count).map { s[$0] } == model)
            let copy = s.copy()
            #expect((0..<copy.count).map { copy[$0] } == model)
            copy.deallocate()
            s.deallocate()
        }
    }

    @Test func smallIntegersUseTwoBytesEach() {
        var s = IntSet()
        for v in Int64(0)..<10 { s.insert(v, at: s.search(v).index) }
        #expect(s.byteCount == 8 + 10 * 2)
        s.insert(1 << 40, at: s.count)
        #expect(s.byteCount == 8 + 11 * 8)
        #expect(s[10] == 1 << 40 && s[3] == 3)
        while s.count > 0 { s.remove(at: 0) }
        #expect(s.block == nil)
    }

    @Test func setValueKeepsIntsetSemantics() {
        let set = SetValue()
        for v in ["5", "-3", "70000", "5", "9223372036854775807", "-9223372036854775808"] {
            v.utf8CString.withUnsafeBytes { raw in
                _ = set.add(UnsafeRawBufferPointer(rebasing: raw.dropLast()), maxIntsetEntries: 512)
            }
        }
        #expect(set.isIntset && set.count == 5)
        var members: [String] = []
        set.forEach { members.append(String(decoding: $0, as: UTF8.self)) }
        #expect(members == ["-9223372036854775808", "-3", "5", "70000", "9223372036854775807"])
        let dup = set.duplicate()
        #expect(dup.count == 5 && dup.isIntset)
        Array("x".utf8).withUnsafeBytes { _ = set.add($0, maxIntsetEntries: 512) }
        #expect(!set.isIntset && set.count == 6)
        #expect(dup.count == 5)
    }
}

@Suite struct ZListpackScoreTests {
    @Test(arguments: [0.0, 1, -1, 9, 63, 64, -64, 1e15, -1e15, 9_007_199_254_740_991, 9_007_199_254_740_992,
                      -9_007_199_254_740_992, 0.5, -2.25, 1e300, .infinity, -.infinity,
                      Double.leastNonzeroMagnitude, 3.0e-5])
    func scoresRoundTrip(_ score: Double) {
        var lp = ZListpack()
        Array("m".utf8).withUnsafeBytes { _ = lp.insert($0, score: score) }
        let e = lp.entry(0)
        #expect(e.score == score)
        #expect(String(decoding: e.member, as: UTF8.self) == "m")
        #expect(e.next == lp.used)
        if ZListpack.integral(score) != nil && score.magnitude < 32 { #expect(lp.used == 1 + 1 + 1) }
        lp.deallocate()
    }

    @Test func negativeZeroIsStoredAsZero() {
        var lp = ZListpack()
        Array("m".utf8).withUnsafeBytes { _ = lp.insert($0, score: -0.0) }
        #expect(lp.entry(0).score == 0 && lp.entry(0).score.sign == .plus)
        lp.deallocate()
    }

    @Test func orderIsKeptAcrossEncodings() {
        var lp = ZListpack()
        let scores: [Double] = [3, -1.5, 1e20, 2, -7, 0.25, 2]
        for (i, s) in scores.enumerated() { Array("m\(i)".utf8).withUnsafeBytes { _ = lp.insert($0, score: s) } }
        var o = 0
        var seen: [Double] = []
        while o < lp.used { let e = lp.entry(o); seen.append(e.score); o = e.next }
        #expect(seen == scores.sorted())
        #expect(lp.count == scores.count)
        lp.deallocate()
    }
}
