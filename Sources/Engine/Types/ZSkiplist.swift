// The "skiplist" encoding of a sorted set: a skiplist ordered by (score,
// member) whose links carry spans (so rank queries are O(log n)), plus a
// MemberTable from member to node for O(1) score lookups.
//
// A node is one malloc'ed block:
//    0  Double score
//    8  backward node pointer (nil for the first node)
//   16  UInt32 member length
//   20  UInt32 number of levels
//   24  levels: (forward pointer, span Int) x levels
//   ..  member bytes
// The header node has 32 levels and no member.

import Glibc

typealias ZNodePtr = UnsafeMutableRawPointer

enum ZNode {
    static let maxLevel = 32

    @inline(__always) static func score(_ n: ZNodePtr) -> Double { n.load(as: Double.self) }
    @inline(__always) static func setScore(_ n: ZNodePtr, _ s: Double) { n.storeBytes(of: s, as: Double.self) }
    @inline(__always) static func backward(_ n: ZNodePtr) -> ZNodePtr? { n.load(fromByteOffset: 8, as: ZNodePtr?.self) }
    @inline(__always) static func setBackward(_ n: ZNodePtr, _ b: ZNodePtr?) { n.storeBytes(of: b, toByteOffset: 8, as: ZNodePtr?.self) }
    @inline(__always) static func levels(_ n: ZNodePtr) -> Int { Int(n.load(fromByteOffset: 20, as: UInt32.self)) }
    @inline(__always) static func forward(_ n: ZNodePtr, _ i: Int) -> ZNodePtr? {
        n.load(fromByteOffset: 24 + 16 * i, as: ZNodePtr?.self)
    }
    @inline(__always) static func setForward(_ n: ZNodePtr, _ i: Int, _ f: ZNodePtr?) {
        n.storeBytes(of: f, toByteOffset: 24 + 16 * i, as: ZNodePtr?.self)
    }
    @inline(__always) static func span(_ n: ZNodePtr, _ i: Int) -> Int { n.load(fromByteOffset: 32 + 16 * i, as: Int.self) }
    @inline(__always) static func setSpan(_ n: ZNodePtr, _ i: Int, _ s: Int) {
        n.storeBytes(of: s, toByteOffset: 32 + 16 * i, as: Int.self)
    }
    @inline(__always) static func member(_ n: ZNodePtr) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: n + 24 + 16 * levels(n), count: Int(n.load(fromByteOffset: 16, as: UInt32.self)))
    }

    static func make(levels: Int, score: Double, member m: UnsafeRawBufferPointer) -> ZNodePtr {
        let n = malloc(24 + 16 * levels + m.count)!
        setScore(n, score)
        setBackward(n, nil)
        n.storeBytes(of: UInt32(m.count), toByteOffset: 16, as: UInt32.self)
        n.storeBytes(of: UInt32(levels), toByteOffset: 20, as: UInt32.self)
        for i in 0..<levels { setForward(n, i, nil); setSpan(n, i, 0) }
        if m.count > 0 { (n + 24 + 16 * levels).copyMemory(from: m.baseAddress!, byteCount: m.count) }
        return n
    }

    static func randomLevel() -> Int {
        var lvl = 1
        while lvl < maxLevel && (fastRandom() & 0xFFFF) < 0x4000 { lvl += 1 }
        return lvl
    }

    /// (s, m) < (node's score, node's member)
    @inline(__always) static func less(_ s: Double, _ m: UnsafeRawBufferPointer, than n: ZNodePtr) -> Bool {
        let ns = score(n)
        return s < ns || (s == ns && compareBytes(m, member(n)) < 0)
    }

    /// node's (score, member) < (s, m)
    @inline(__always) static func nodeLess(_ n: ZNodePtr, _ s: Double, _ m: UnsafeRawBufferPointer) -> Bool {
        let ns = score(n)
        return ns < s || (ns == s && compareBytes(member(n), m) < 0)
    }
}

enum ZNodeLayout: MemberLayout {
    @inline(__always)
    static func member(_ p: UnsafeMutableRawPointer) -> UnsafeRawBufferPointer { ZNode.member(p) }
}

struct ZSkiplist {
    let header: ZNodePtr
    private(set) var tail: ZNodePtr? = nil
    private(set) var length = 0
    private(set) var level = 1
    var dict = MemberTable<ZNodeLayout>()

    init(reserving n: Int = 0) {
        header = ZNode.make(levels: ZNode.maxLevel, score: 0, member: UnsafeRawBufferPointer(start: nil, count: 0))
        if n > 0 { dict.reserve(n) }
    }

    /// Frees every node and the table.
    func deallocate() {
        var x = ZNode.forward(header, 0)
        while let n = x {
            x = ZNode.forward(n, 0)
            free(n)
        }
        free(header)
        dict.deallocate()
    }

    @inline(__always) var first: ZNodePtr? { ZNode.forward(header, 0) }

    // MARK: linking

    /// Links `node` (not in the list) at its place; its level count is its own.
    private mutating func link(_ node: ZNodePtr) {
        let s = ZNode.score(node), m = ZNode.member(node)
        var update = (ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none,
                      ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none,
                      ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none,
                      ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none)
        var rank = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &update) { ub in
            withUnsafeMutableBytes(of: &rank) { rb in
                let upd = ub.baseAddress!.assumingMemoryBound(to: ZNodePtr?.self)
                let rk = rb.baseAddress!.assumingMemoryBound(to: Int.self)
                var x = header
                var i = level - 1
                while i >= 0 {
                    rk[i] = i == level - 1 ? 0 : rk[i + 1]
                    while let f = ZNode.forward(x, i), ZNode.nodeLess(f, s, m) {
                        rk[i] += ZNode.span(x, i)
                        x = f
                    }
                    upd[i] = x
                    i -= 1
                }
                let lvl = ZNode.levels(node)
                if lvl > level {
                    for j in level..<lvl {
                        rk[j] = 0
                        upd[j] = header
                        ZNode.setSpan(header, j, length)
                    }
                    level = lvl
                }
                for j in 0..<lvl {
                    let u = upd[j]!
                    ZNode.setForward(node, j, ZNode.forward(u, j))
                    ZNode.setForward(u, j, node)
                    ZNode.setSpan(node, j, ZNode.span(u, j) - (rk[0] - rk[j]))
                    ZNode.setSpan(u, j, rk[0] - rk[j] + 1)
                }
                if lvl < level {
                    for j in lvl..<level { ZNode.setSpan(upd[j]!, j, ZNode.span(upd[j]!, j) + 1) }
                }
                ZNode.setBackward(node, upd[0]! == header ? nil : upd[0]!)
                if let f = ZNode.forward(node, 0) { ZNode.setBackward(f, node) } else { tail = node }
                length += 1
            }
        }
    }

    /// Unlinks `node` from the list (does not free it or touch the table).
    private mutating func unlink(_ node: ZNodePtr) {
        let s = ZNode.score(node), m = ZNode.member(node)
        var update = (ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none,
                      ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none,
                      ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none,
                      ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none)
        withUnsafeMutableBytes(of: &update) { ub in
            let upd = ub.baseAddress!.assumingMemoryBound(to: ZNodePtr?.self)
            var x = header
            var i = level - 1
            while i >= 0 {
                while let f = ZNode.forward(x, i), f != node, ZNode.nodeLess(f, s, m) { x = f }
                upd[i] = x
                i -= 1
            }
            unlink(node, update: upd)
        }
    }

    private mutating func unlink(_ x: ZNodePtr, update upd: UnsafeMutablePointer<ZNodePtr?>) {
        for i in 0..<level {
            let u = upd[i]!
            if ZNode.forward(u, i) == x {
                ZNode.setSpan(u, i, ZNode.span(u, i) + ZNode.span(x, i) - 1)
                ZNode.setForward(u, i, ZNode.forward(x, i))
            } else {
                ZNode.setSpan(u, i, ZNode.span(u, i) - 1)
            }
        }
        if let f = ZNode.forward(x, 0) { ZNode.setBackward(f, ZNode.backward(x)) } else { tail = ZNode.backward(x) }
        while level > 1 && ZNode.forward(header, level - 1) == nil { level -= 1 }
        length -= 1
    }

    // MARK: element operations

    /// Inserts a member known to be absent.
    @discardableResult
    mutating func insert(_ m: UnsafeRawBufferPointer, score: Double, hash h: UInt64? = nil) -> ZNodePtr {
        let node = ZNode.make(levels: ZNode.randomLevel(), score: score, member: m)
        link(node)
        dict.insertNew(node, hash: h ?? memberHash(m))
        return node
    }

    /// Appends a member known to sort after every current one (building from sorted input).
    mutating func append(_ m: UnsafeRawBufferPointer, score: Double) {
        let node = ZNode.make(levels: ZNode.randomLevel(), score: score, member: m)
        let lvl = ZNode.levels(node)
        if lvl > level {
            for j in level..<lvl { ZNode.setSpan(header, j, length) }
            level = lvl
        }
        // The last node at each level is found by walking from the header along that level.
        var x = header
        var rank = 0
        var i = level - 1
        while i >= 0 {
            while let f = ZNode.forward(x, i) {
                rank += ZNode.span(x, i)
                x = f
            }
            if i < lvl {
                ZNode.setForward(x, i, node)
                ZNode.setSpan(x, i, length + 1 - rank)
                ZNode.setSpan(node, i, 0)
            } else {
                // A nil link's span is the distance to the end, which grows by one.
                ZNode.setSpan(x, i, ZNode.span(x, i) + 1)
            }
            i -= 1
        }
        ZNode.setBackward(node, tail)
        tail = node
        length += 1
        dict.insertNew(node, hash: memberHash(m))
    }

    /// The node of `m`, or nil.
    @inline(__always)
    func node(_ m: UnsafeRawBufferPointer) -> ZNodePtr? {
        let slot = dict.find(m)
        return slot < 0 ? nil : dict.element(at: slot)
    }

    /// Removes `m`; false if absent.
    mutating func remove(_ m: UnsafeRawBufferPointer) -> Bool {
        let slot = dict.find(m)
        if slot < 0 { return false }
        let node = dict.element(at: slot)
        dict.remove(slot: slot)
        unlink(node)
        free(node)
        return true
    }

    /// Changes the score of `node`, moving it if its place changes.
    mutating func updateScore(_ node: ZNodePtr, to s: Double) {
        let back = ZNode.backward(node), fwd = ZNode.forward(node, 0)
        if (back == nil || ZNode.score(back!) < s) && (fwd == nil || ZNode.score(fwd!) > s) {
            ZNode.setScore(node, s)
            return
        }
        unlink(node)
        ZNode.setScore(node, s)
        link(node)
    }

    // MARK: ranks

    /// 1-based rank of `node`.
    func rank(of node: ZNodePtr) -> Int {
        let s = ZNode.score(node), m = ZNode.member(node)
        var x = header
        var rank = 0
        var i = level - 1
        while i >= 0 {
            while let f = ZNode.forward(x, i), !ZNode.less(s, m, than: f) {
                rank += ZNode.span(x, i)
                x = f
            }
            if x == node { return rank }
            i -= 1
        }
        return rank
    }

    /// The node at 1-based `rank`, or nil.
    func node(atRank r: Int) -> ZNodePtr? {
        if r < 1 || r > length { return nil }
        var x = header
        var traversed = 0
        var i = level - 1
        while i >= 0 {
            while let f = ZNode.forward(x, i), traversed + ZNode.span(x, i) <= r {
                traversed += ZNode.span(x, i)
                x = f
            }
            if traversed == r { return x }
            i -= 1
        }
        return nil
    }

    /// The last node (and its 1-based rank) for which `before` holds, walking
    /// forward from the header while the next node satisfies `before`.
    /// Returns (header, 0) when none does.
    @inline(__always)
    func lastWhere(_ before: (ZNodePtr) -> Bool) -> (ZNodePtr, Int) {
        var x = header
        var rank = 0
        var i = level - 1
        while i >= 0 {
            while let f = ZNode.forward(x, i), before(f) {
                rank += ZNode.span(x, i)
                x = f
            }
            i -= 1
        }
        return (x, rank)
    }

    /// Deletes the nodes of 1-based ranks start...end; returns how many.
    @discardableResult
    mutating func deleteRange(rank start: Int, to end: Int) -> Int {
        var update = (ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none,
                      ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none,
                      ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none,
                      ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none, ZNodePtr?.none)
        var removed = 0
        withUnsafeMutableBytes(of: &update) { ub in
            let upd = ub.baseAddress!.assumingMemoryBound(to: ZNodePtr?.self)
            var x = header
            var traversed = 0
            var i = level - 1
            while i >= 0 {
                while let f = ZNode.forward(x, i), traversed + ZNode.span(x, i) < start {
                    traversed += ZNode.span(x, i)
                    x = f
                }
                upd[i] = x
                i -= 1
            }
            traversed += 1
            var cur = ZNode.forward(x, 0)
            while let n = cur, traversed <= end {
                let next = ZNode.forward(n, 0)
                unlink(n, update: upd)
                let slot = dict.find(ZNode.member(n))
                dict.remove(slot: slot)
                free(n)
                removed += 1
                traversed += 1
                cur = next
            }
        }
        return removed
    }

    /// Checks the structure (tests): order, spans, backward links, table.
    func validate() -> Bool {
        var n = 0
        var prev: ZNodePtr? = nil
        var x = ZNode.forward(header, 0)
        while let c = x {
            if ZNode.backward(c) != prev { return false }
            if let p = prev, !ZNode.nodeLess(p, ZNode.score(c), ZNode.member(c)) { return false }
            if node(ZNode.member(c)) != c { return false }
            n += 1
            prev = c
            x = ZNode.forward(c, 0)
        }
        if n != length || tail != prev || dict.count != length { return false }
        // Spans: at every level, the sum of spans to each node equals its rank.
        for i in 0..<level {
            var r = 0
            var y = header
            while let f = ZNode.forward(y, i) {
                r += ZNode.span(y, i)
                if rank(of: f) != r { return false }
                y = f
            }
        }
        return true
    }
}
