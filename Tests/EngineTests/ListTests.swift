import Testing
@testable import Engine
import EngineTestSupport

/// A deterministic generator so failures reproduce.
struct ListHashTestRNG: RandomNumberGenerator {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
}

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

extension ListValue {
    func pushBack(_ v: [UInt8]) { v.withUnsafeBytes { pushBack($0) } }
    func pushFront(_ v: [UInt8]) { v.withUnsafeBytes { pushFront($0) } }
    func at(_ i: Int) -> [UInt8]? { element(at: i).map { Array($0) } }
}

@Suite struct ListTests {
    @Test func varintRoundTrip() {
        var buf = [UInt8](repeating: 0, count: 32)
        for v in [0, 1, 127, 128, 255, 16383, 16384, 1 << 21 - 1, 1 << 21, 1 << 28, 1 << 35, Int.max] {
            buf.withUnsafeMutableBytes { p in
                PackedCodec.write(v, p.baseAddress!)
                let (r, n) = PackedCodec.read(p.baseAddress!)
                #expect(r == v)
                #expect(n == PackedCodec.size(v))
                PackedCodec.writeBack(v, end: p.baseAddress! + 20)
                let (rb, nb) = PackedCodec.readBack(end: p.baseAddress! + 20)
                #expect(rb == v)
                #expect(nb == PackedCodec.size(v))
            }
        }
    }

    @Test func pushPopBothEnds() {
        let l = ListValue(maxBytes: 64)
        for i in 0..<100 { l.pushBack(bytes("r\(i)")) }
        for i in 0..<100 { l.pushFront(bytes("l\(i)")) }
        #expect(l.count == 200)
        #expect(l.chunkCount > 10)
        #expect(l.checkInvariants())
        #expect(l.at(0) == bytes("l99"))
        #expect(l.at(199) == bytes("r99"))
        #expect(l.at(100) == bytes("r0"))
        #expect(l.at(99) == bytes("l0"))
        #expect(l.pop(front: true) == bytes("l99"))
        #expect(l.pop(front: false) == bytes("r99"))
        #expect(l.checkInvariants())
        var n = 0
        while l.pop(front: n % 2 == 0) != nil { n += 1 }
        #expect(n == 198)
        #expect(l.count == 0)
        #expect(l.chunkCount == 0)
        #expect(l.pop(front: true) == nil)
    }

    @Test func bigElementsGetTheirOwnChunk() {
        let l = ListValue(maxBytes: 128)
        let big = [UInt8](repeating: 7, count: 100_000)
        l.pushBack(bytes("a"))
        l.pushBack(big)
        l.pushBack(bytes("b"))
        l.pushFront(big)
        #expect(l.checkInvariants())
        #expect(l.at(1) == bytes("a"))
        #expect(l.at(2) == big)
        #expect(l.at(0) == big)
        #expect(big.withUnsafeBytes { l.set(at: 1, $0) })
        #expect(l.at(1) == big)
        #expect(l.checkInvariants())
        #expect(l.elements() == [big, big, big, bytes("b")])
    }

    @Test func countLimitedChunks() {
        let l = ListValue(fill: 3)
        for i in 0..<10 { l.pushBack(bytes("\(i)")) }
        #expect(l.chunkCount == 4)
        #expect(l.checkInvariants())
    }

    /// Random operations against an array model, with small chunks so every
    /// path (splits, merges, index cache) is exercised.
    @Test(arguments: [(16, Int.max), (64, Int.max), (8192, Int.max), (8192, 2), (40, 5)])
    func randomOperationsMatchModel(maxBytes: Int, maxCount: Int) {
        var rng = ListHashTestRNG(UInt64(maxBytes * 31 + min(maxCount, 1000)))
        let l = ListValue(maxBytes: maxBytes, maxCount: maxCount)
        var model: [[UInt8]] = []
        func value() -> [UInt8] {
            let n = Int.random(in: 0..<4, using: &rng)
            switch n {
            case 0: return []
            case 1: return bytes("v\(Int.random(in: 0..<8, using: &rng))")
            case 2: return [UInt8](repeating: UInt8.random(in: 0...255, using: &rng), count: Int.random(in: 1..<40, using: &rng))
            default: return [UInt8](repeating: 65, count: Int.random(in: 100..<300, using: &rng))
            }
        }
        for step in 0..<4000 {
            let op = Int.random(in: 0..<12, using: &rng)
            switch op {
            case 0, 1:
                let v = value(); l.pushBack(v); model.append(v)
            case 2, 3:
                let v = value(); l.pushFront(v); model.insert(v, at: 0)
            case 4:
                let front = Bool.random(using: &rng)
                let got = l.pop(front: front)
                let want = model.isEmpty ? nil : (front ? model.removeFirst() : model.removeLast())
                #expect(got == want)
            case 5:
                if !model.isEmpty {
                    let i = Int.random(in: 0..<model.count, using: &rng)
                    let v = value()
                    v.withUnsafeBytes { _ = l.set(at: i, $0) }
                    model[i] = v
                }
            case 6:
                let pivot = bytes("v\(Int.random(in: 0..<8, using: &rng))")
                let after = Bool.random(using: &rng)
                let v = value()
                let ok = v.withUnsafeBytes { vb in pivot.withUnsafeBytes { l.insert(vb, pivot: $0, after: after) } }
                if let i = model.firstIndex(of: pivot) {
                    #expect(ok)
                    model.insert(v, at: after ? i + 1 : i)
                } else {
                    #expect(!ok)
                }
            case 7:
                let target = bytes("v\(Int.random(in: 0..<8, using: &rng))")
                let limit = Int.random(in: 0..<3, using: &rng)
                let fromTail = Bool.random(using: &rng)
                let r = target.withUnsafeBytes { l.remove($0, limit: limit, fromTail: fromTail) }
                var removed = 0
                if fromTail {
                    var i = model.count - 1
                    while i >= 0 && (limit == 0 || removed < limit) {
                        if model[i] == target { model.remove(at: i); removed += 1 }
                        i -= 1
                    }
                } else {
                    var i = 0
                    while i < model.count && (limit == 0 || removed < limit) {
                        if model[i] == target { model.remove(at: i); removed += 1 } else { i += 1 }
                    }
                }
                #expect(r == removed)
            case 8:
                let n = Int.random(in: 0..<5, using: &rng)
                if Bool.random(using: &rng) {
                    l.removeFirst(n); model.removeFirst(min(n, model.count))
                } else {
                    l.removeLast(n); model.removeLast(min(n, model.count))
                }
            case 9:
                if !model.isEmpty {
                    let i = Int.random(in: 0..<model.count, using: &rng)
                    #expect(l.at(i) == model[i])
                }
            case 10:
                if !model.isEmpty {
                    let i = Int.random(in: 0..<model.count, using: &rng)
                    var got: [[UInt8]] = []
                    l.forEach(from: i) { got.append(Array($0)); return got.count < 7 }
                    #expect(got == Array(model[i..<min(i + 7, model.count)]))
                    var back: [[UInt8]] = []
                    l.forEachReversed(from: i) { back.append(Array($0)); return back.count < 7 }
                    #expect(back == Array(model[max(0, i - 6)...i].reversed()))
                }
            default:
                let d = l.duplicate()
                #expect(d.elements() == model)
            }
            #expect(l.count == model.count)
            if step % 50 == 0 {
                #expect(l.checkInvariants())
                #expect(l.elements() == model)
            }
        }
        #expect(l.checkInvariants())
        #expect(l.elements() == model)
    }

    @Test func indexLookupsAfterFrontChanges() {
        let l = ListValue(maxBytes: 32)
        var model: [[UInt8]] = []
        for i in 0..<500 { let v = bytes("x\(i)"); l.pushBack(v); model.append(v) }
        for round in 0..<50 {
            let v = bytes("f\(round)")
            l.pushFront(v); model.insert(v, at: 0)
            #expect(l.at(250) == model[250])
            _ = l.pop(front: true); model.removeFirst()
            _ = l.pop(front: true); model.removeFirst()
            #expect(l.at(300) == model[300])
            #expect(l.checkInvariants())
        }
    }

    /// Memory check for the packed representation (not a strict bound on the
    /// allocator, just that per-element overhead stays near 2 bytes).
    @Test func packedMemoryForManySmallElements() {
        let l = ListValue(fill: -2)
        for i in 0..<1_000_000 { l.pushBack(bytes("e\(i % 100000)")) }
        // ~7 data bytes + 2 bytes of lengths per element.
        #expect(l.allocatedBytes < 1_000_000 * 11)
        #expect(l.checkInvariants())
        #expect(l.at(999_999) == bytes("e99999"))
        #expect(l.at(500_000) == bytes("e0"))
    }
}
