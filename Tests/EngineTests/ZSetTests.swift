import Testing
@testable import Engine
import EngineTestSupport

private func withBytes<R>(_ s: String, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    var s = s
    return s.withUTF8 { body(UnsafeRawBufferPointer($0)) }
}

private func str(_ b: UnsafeRawBufferPointer) -> String { String(decoding: b, as: UTF8.self) }

/// A naive model: (score, member) pairs kept sorted.
private struct Model {
    var items: [(Double, String)] = []

    static func less(_ a: (Double, String), _ b: (Double, String)) -> Bool {
        a.0 < b.0 || (a.0 == b.0 && Array(a.1.utf8).lexicographicallyPrecedes(Array(b.1.utf8)))
    }

    func index(of m: String) -> Int? { items.firstIndex { $0.1 == m } }

    mutating func set(_ m: String, _ s: Double) {
        if let i = index(of: m) { items.remove(at: i) }
        let e = (s, m)
        let at = items.firstIndex { Model.less(e, $0) } ?? items.count
        items.insert(e, at: at)
    }

    mutating func remove(_ m: String) -> Bool {
        guard let i = index(of: m) else { return false }
        items.remove(at: i)
        return true
    }
}

private func contents(_ z: ZSetValue) -> [(Double, String)] {
    var r: [(Double, String)] = []
    z.forEach { m, s in r.append((s, str(m))) }
    return r
}

private func same(_ a: [(Double, String)], _ b: [(Double, String)]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
}

@Suite("Sorted set type")
struct ZSetTests {
    @Test func listpackConvertsToSkiplistBySizeAndLength() {
        let z = ZSetValue()
        for i in 0..<4 { withBytes("m\(i)") { z.set($0, score: Double(i), maxEntries: 4, maxValue: 8) } }
        #expect(z.isListpack)
        withBytes("m4") { z.set($0, score: 4, maxEntries: 4, maxValue: 8) }
        #expect(!z.isListpack)
        #expect("\(z.encodingName)" == "skiplist")
        #expect(contents(z).map { $0.1 } == ["m0", "m1", "m2", "m3", "m4"])
        let y = ZSetValue()
        withBytes("short") { y.set($0, score: 1, maxEntries: 4, maxValue: 8) }
        withBytes("muchlongername") { y.set($0, score: 0, maxEntries: 4, maxValue: 8) }
        #expect(!y.isListpack)
        #expect(contents(y).map { $0.1 } == ["muchlongername", "short"])
        #expect(z.validate() && y.validate())
    }

    @Test func addFlagsFollowRedis() {
        let z = ZSetValue()
        var ns = 0.0
        func add(_ m: String, _ s: Double, _ f: ZSetValue.AddFlags) -> ZSetValue.AddResult {
            withBytes(m) { z.add($0, score: s, flags: f, maxEntries: 128, maxValue: 64, newScore: &ns) }
        }
        #expect(add("a", 5, []) == .added)
        #expect(add("a", 5, []) == .unchanged)
        #expect(add("a", 9, [.nx]) == .nop)
        #expect(add("b", 1, [.xx]) == .nop)
        #expect(add("a", 3, [.gt]) == .nop)
        #expect(add("a", 7, [.gt]) == .updated && ns == 7)
        #expect(add("a", 8, [.lt]) == .nop)
        #expect(add("a", 2, [.incr]) == .updated && ns == 9)
        #expect(add("a", .infinity, [.incr]) == .updated)
        #expect(add("a", -.infinity, [.incr]) == .nan)
        #expect(add("c", .nan, []) == .nan)
        #expect(z.count == 1)
    }

    @Test func negativeZeroIsZeroInAListpackOnly() {
        let lp = ZSetValue()
        withBytes("a") { lp.set($0, score: -0.0, maxEntries: 128, maxValue: 64) }
        #expect(withBytes("a") { lp.score($0) }!.sign == .plus)
        let sl = ZSetValue(skiplist: true)
        withBytes("a") { sl.set($0, score: -0.0, maxEntries: 128, maxValue: 64) }
        #expect(withBytes("a") { sl.score($0) }!.sign == .minus)
    }

    /// 10k members, random adds/updates/removals, checked against the model
    /// for scores, ranks, rank ranges and score ranges.
    @Test(arguments: [false, true])
    func bigZsetMatchesModel(startAsListpack: Bool) {
        var rng = SystemRandomNumberGenerator()
        let z = startAsListpack ? ZSetValue() : ZSetValue(skiplist: true)
        var model = Model()
        let maxEntries = 128
        for i in 0..<10_000 {
            let m = "member:\(i)"
            let s = Double(Int.random(in: -2000...2000, using: &rng)) / 4
            withBytes(m) { z.set($0, score: s, maxEntries: maxEntries, maxValue: 64) }
            model.set(m, s)
        }
        #expect(!z.isListpack)
        for _ in 0..<3000 {
            let m = "member:\(Int.random(in: 0..<12_000, using: &rng))"
            switch Int.random(in: 0..<3, using: &rng) {
            case 0:
                let s = Double(Int.random(in: -2000...2000, using: &rng)) / 4
                withBytes(m) { z.set($0, score: s, maxEntries: maxEntries, maxValue: 64) }
                model.set(m, s)
            case 1:
                let removed = withBytes(m) { z.remove($0) }
                #expect(removed == model.remove(m))
            default:
                let sc = withBytes(m) { z.score($0) }
                #expect(sc == model.index(of: m).map { model.items[$0].0 })
            }
        }
        #expect(z.validate())
        #expect(z.count == model.items.count)
        #expect(same(contents(z), model.items))
        // Ranks of a sample of members.
        for _ in 0..<300 {
            let k = Int.random(in: 0..<model.items.count, using: &rng)
            #expect(withBytes(model.items[k].1) { z.rank($0) } == k)
            z.withElement(atRank: k) { m, s in
                #expect(str(m) == model.items[k].1 && s == model.items[k].0)
            }
        }
        // Rank ranges, both directions.
        for _ in 0..<100 {
            let a = Int.random(in: 0..<model.items.count, using: &rng)
            let n = Int.random(in: 1...50, using: &rng)
            var fwd: [(Double, String)] = []
            z.walk(from: a, reverse: false) { m, s in fwd.append((s, str(m))); return fwd.count < n }
            #expect(same(fwd, Array(model.items[a..<min(a + n, model.items.count)])))
            var back: [(Double, String)] = []
            z.walk(from: a, reverse: true) { m, s in back.append((s, str(m))); return back.count < n }
            #expect(same(back, Array(model.items[max(0, a - n + 1)...a].reversed())))
        }
        // Score ranges.
        for _ in 0..<200 {
            let lo = Double(Int.random(in: -2100...2100, using: &rng)) / 4
            let hi = lo + Double(Int.random(in: -10...400, using: &rng)) / 4
            let r = ScoreRange(min: lo, max: hi, minEx: Bool.random(using: &rng), maxEx: Bool.random(using: &rng))
            let inRange = model.items.indices.filter { r.contains(model.items[$0].0) }
            #expect(z.firstInRange(r) == inRange.first)
            #expect(z.lastInRange(r) == inRange.last)
        }
        // Rank-range deletion.
        let a = 100, b = 2000
        z.deleteRange(rank: a, to: b)
        model.items.removeSubrange(a...b)
        #expect(z.validate())
        #expect(same(contents(z), model.items))
    }

    @Test func lexRanges() {
        let z = ZSetValue(skiplist: true)
        let ms = ["a", "aa", "ab", "b", "ba", "c", "d"]
        for m in ms { withBytes(m) { z.set($0, score: 0, maxEntries: 0, maxValue: 0) } }
        let args: [(String, String, [String])] = [
            ("[a", "[b", ["a", "aa", "ab", "b"]), ("(a", "(b", ["aa", "ab"]), ("-", "+", ms),
            ("[b", "+", ["b", "ba", "c", "d"]), ("+", "-", []), ("[c", "[b", []), ("(d", "+", []),
        ]
        for (lo, hi, expected) in args {
            var l = Array(lo.utf8), h = Array(hi.utf8)
            l.withUnsafeMutableBytes { lb in h.withUnsafeMutableBytes { hb in
                let r = LexRange.parse(UnsafeRawBufferPointer(lb), UnsafeRawBufferPointer(hb))!
                let f = z.firstInRange(r), t = z.lastInRange(r)
                if expected.isEmpty {
                    #expect(f == nil || t == nil || f! > t!)
                } else {
                    #expect(f == ms.firstIndex(of: expected.first!))
                    #expect(t == ms.firstIndex(of: expected.last!))
                }
            } }
        }
        #expect(withBytes("a") { LexRange.parse($0, $0) } == nil)
        #expect(withBytes("[") { LexRange.parse($0, $0) } != nil)
    }

    @Test func scoreRangeParsing() {
        func parse(_ a: String, _ b: String) -> ScoreRange? { withBytes(a) { x in withBytes(b) { ScoreRange.parse(x, $0) } } }
        #expect(parse("-inf", "+inf")!.max == .infinity)
        #expect(parse("(1", "2")!.minEx)
        #expect(parse("", "(")!.min == 0)
        #expect(parse("x", "1") == nil)
        #expect(parse("nan", "1") == nil)
        #expect(parse("1", "[2") == nil)
        #expect(parse("(1.5", "0x10")!.max == 16)
    }

    @Test func duplicateAndListpackRoundTrip() {
        let z = ZSetValue(skiplist: true)
        for i in 0..<50 { withBytes("m\(i)") { z.set($0, score: Double(i % 7), maxEntries: 0, maxValue: 0) } }
        let d = z.duplicate()
        #expect(same(contents(d), contents(z)) && d.validate())
        d.convertToListpackIfFits(maxEntries: 128, maxValue: 64)
        #expect(d.isListpack)
        #expect(same(contents(d), contents(z)))
        d.convertToSkiplist()
        #expect(!d.isListpack && d.validate() && same(contents(d), contents(z)))
    }

    @Test func randomDistinctElements() {
        for skiplist in [false, true] {
            let z = ZSetValue(skiplist: skiplist)
            for i in 0..<100 { withBytes("m\(i)") { z.set($0, score: Double(i), maxEntries: 1000, maxValue: 64) } }
            for n in [1, 5, 40, 99] {
                var got = Set<String>()
                z.randomDistinct(n) { m, s in got.insert(str(m)); #expect(Double(str(m).dropFirst())! == s) }
                #expect(got.count == n)
            }
        }
    }
}
