import Testing
@testable import Engine
import EngineTestSupport


private func add(_ s: SetValue, _ v: Int64, max: Int = 512) -> Bool {
    withDecimalBytes(v) { s.add($0, maxIntsetEntries: max) }
}

private func members(_ s: SetValue) -> [Int64] {
    var r: [Int64] = []
    s.forEach { r.append(parseCanonicalInt64($0)!) }
    return r.sorted()
}

/// Small intsets live inside the set object; bigger ones move to a block, then a hashtable.
@Suite struct SetInlineIntsetTests {
    @Test func objectIsFortyEightBytes() {
        let s = SetValue()
        #expect(instanceSize(s) == 48)
    }

    @Test func inlineThenBlockThenHashtableMatchesModel() {
        var rng = ListHashTestRNG(11)
        for widthLimit in [Int64(100), 40_000, 3_000_000_000] {
            let s = SetValue()
            var model = Set<Int64>()
            for step in 0..<600 {
                let v = Int64.random(in: -widthLimit...widthLimit, using: &rng)
                if step % 3 == 2 {
                    #expect(withDecimalBytes(v) { s.remove($0) } == (model.remove(v) != nil))
                } else {
                    #expect(add(s, v) == model.insert(v).inserted)
                }
                #expect(s.count == model.count)
                if step % 50 == 0 {
                    #expect(members(s) == model.sorted())
                    let d = s.duplicate()
                    #expect(members(d) == model.sorted() && d.isIntset == s.isIntset)
                }
            }
            #expect(s.isIntset == (model.count <= 512))
            #expect(members(s) == model.sorted())
            #expect(s.ints == model.sorted() || !s.isIntset)
        }
    }

    @Test func popAndRemoveMarkedInline() {
        let s = SetValue()
        for v in 0..<10 { _ = add(s, Int64(v)) }
        var popped: [Int64] = []
        s.popRandom(count: 4) { popped.append(parseCanonicalInt64($0)!) }
        #expect(s.count == 6 && Set(popped).count == 4)
        #expect(Set(members(s)).union(popped) == Set(0..<10))
        s.popRandom { _ in }
        #expect(s.count == 5)
        #expect(s.memoryUsage(samples: 0) == 48)
    }
}

/// The chunk descriptors block of a list.
@Suite struct ChunkArrayTests {
    @Test func insertRemoveKeepOrder() {
        var a = ChunkArray()
        var model: [Int] = []
        func chunk(_ tag: Int) -> ListChunk { var c = ListChunk(capacity: 16, atFront: false); c.start = tag; return c }
        var rng = ListHashTestRNG(5)
        for step in 0..<400 {
            if model.isEmpty || Int.random(in: 0..<3, using: &rng) > 0 {
                let at = Int.random(in: 0...model.count, using: &rng)
                a.insert(chunk(step), at: at)
                model.insert(step, at: at)
            } else {
                let at = Int.random(in: 0..<model.count, using: &rng)
                a.remove(at: at).free()
                model.remove(at: at)
            }
            #expect(a.map { $0.start } == model)
        }
        for c in a { c.free() }
        a.deallocate()
    }

    @Test func smallListBlocks() {
        let l = ListValue()
        for i in 0..<10 { l.push(Array("e\(i)".utf8), front: false) }
        #expect(l.chunkCount == 1)
        #expect(l.chunks.byteCount == 40)
        #expect(instanceSize(l) == 48)
    }
}
