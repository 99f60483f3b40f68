// The Sorted Set type, with Redis 7.0's two encodings:
//   "listpack"  a packed sorted array (ZListpack), while there are at most
//               zset-max-listpack-entries members of at most
//               zset-max-listpack-value bytes;
//   "skiplist"  a skiplist with spans plus a member table (ZSkiplist).
// Ranks are 0-based here. A skiplist is only turned back into a listpack
// where Redis does it (results of store commands built for their size).

import Glibc

public final class ZSetValue: ValueObject {
    // The object is 48 bytes (jemalloc's class): the listpack's descriptor
    // (20 bytes) and a pointer to the boxed skiplist, which only big sorted
    // sets have; the encoding is which of the two is in use.
    var lp = ZListpack()
    private var slBox: UnsafeMutablePointer<ZSkiplist>? = nil

    /// The skiplist (skiplist encoding only).
    var sl: ZSkiplist? {
        @inline(__always) get { slBox?.pointee }
        set {
            if let v = newValue {
                if let b = slBox { b.pointee = v } else {
                    let b = UnsafeMutablePointer<ZSkiplist>.allocate(capacity: 1)
                    b.initialize(to: v)
                    slBox = b
                }
            } else if let b = slBox {
                b.deinitialize(count: 1)
                b.deallocate()
                slBox = nil
            }
        }
    }

    public var isListpack: Bool { slBox == nil }

    /// An empty listpack-encoded sorted set.
    public init() {}

    /// An empty sorted set in the given encoding.
    public init(skiplist: Bool, reserving n: Int = 0) {
        if skiplist { sl = ZSkiplist(reserving: n) }
    }

    /// The encoding Redis gives a new key whose first member is `firstMember` bytes long.
    public convenience init(forFirstMemberLength n: Int, maxEntries: Int, maxValue: Int) {
        self.init(skiplist: maxEntries == 0 || maxValue < n)
    }

    deinit {
        lp.deallocate()
        sl?.deallocate()
        sl = nil
    }

    public var count: Int { isListpack ? lp.count : sl!.length }

    public var encodingName: StaticString { isListpack ? "listpack" : "skiplist" }

    public func duplicate() -> ZSetValue {
        if isListpack {
            let z = ZSetValue()
            z.lp = lp.copy()
            return z
        }
        let z = ZSetValue(skiplist: true, reserving: count)
        forEach { m, s in z.sl!.append(m, score: s) }
        return z
    }

    /// Bytes allocated for the value (approximate MEMORY USAGE).
    public var allocatedBytes: Int {
        if isListpack { return 48 + lp.allocatedBytes }
        var total = 48 + 24 + 16 * ZNode.maxLevel + sl!.dict.overheadBytes
        sl!.dict.forEach { n in total += SetValue.mallocSize(24 + 16 * ZNode.levels(n) + ZNode.member(n).count) }
        return total
    }

    // MARK: encoding

    /// Converts a listpack to a skiplist.
    public func convertToSkiplist() {
        if !isListpack { return }
        var s = ZSkiplist(reserving: lp.count)
        var o = 0
        while o < lp.used {
            let e = lp.entry(o)
            s.append(e.member, score: e.score)
            o = e.next
        }
        lp.deallocate()
        lp = ZListpack()
        sl = s
    }

    /// Converts a skiplist to a listpack if it is within the limits (zsetConvertToListpackIfNeeded).
    public func convertToListpackIfFits(maxEntries: Int, maxValue: Int) {
        guard !isListpack, let s = sl else { return }
        if s.length > maxEntries { return }
        var longest = 0
        s.dict.forEach { longest = Swift.max(longest, ZNode.member($0).count) }
        if longest > maxValue { return }
        var l = ZListpack()
        forEach { m, sc in l.append(m, score: sc) }
        s.deallocate()
        sl = nil
        lp = l
    }

    /// Builds a sorted set from `count` members given in ascending (score,
    /// member) order, the longest `longest` bytes long: a listpack if it fits
    /// the limits, else a skiplist (as zsetConvertToListpackIfNeeded decides).
    public static func fromSorted(count n: Int, longest: Int, maxEntries: Int, maxValue: Int,
                                  _ produce: ((UnsafeRawBufferPointer, Double) -> Void) -> Void) -> ZSetValue {
        let skiplist = n > maxEntries || longest > maxValue
        let z = ZSetValue(skiplist: skiplist, reserving: skiplist ? n : 0)
        produce { m, s in
            if z.isListpack { z.lp.append(m, score: s) } else { z.sl!.append(m, score: s) }
        }
        return z
    }

    // MARK: members

    /// The score of `m`, or nil.
    public func score(_ m: UnsafeRawBufferPointer) -> Double? {
        if isListpack { return lp.find(m)?.score }
        guard let n = sl!.node(m) else { return nil }
        return ZNode.score(n)
    }

    /// 0-based rank of `m` (ascending), with its score.
    public func rank(_ m: UnsafeRawBufferPointer) -> Int? {
        if isListpack { return lp.find(m)?.rank }
        guard let n = sl!.node(m) else { return nil }
        return sl!.rank(of: n) - 1
    }

    public struct AddFlags: OptionSet, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let nx = AddFlags(rawValue: 1)
        public static let xx = AddFlags(rawValue: 2)
        public static let gt = AddFlags(rawValue: 4)
        public static let lt = AddFlags(rawValue: 8)
        public static let incr = AddFlags(rawValue: 16)
    }

    public enum AddResult { case added, updated, unchanged, nop, nan }

    /// Adds or updates `m` as Redis's zsetAdd; `newScore` gets the resulting score.
    public func add(_ m: UnsafeRawBufferPointer, score s: Double, flags: AddFlags,
                    maxEntries: Int, maxValue: Int, newScore: inout Double) -> AddResult {
        if s.isNaN { return .nan }
        if isListpack {
            if let (off, _, cur) = lp.find(m) {
                return ZSetValue.update(current: cur, s, flags, &newScore) { ns in
                    lp.delete(at: off)
                    lp.insert(m, score: ns)
                }
            }
            if flags.contains(.xx) { return .nop }
            if lp.count + 1 > maxEntries || m.count > maxValue {
                convertToSkiplist()
            } else {
                lp.insert(m, score: s)
                newScore = s
                return .added
            }
        }
        let h = memberHash(m)
        let slot = sl!.dict.find(m, hash: h)
        if slot >= 0 {
            let node = sl!.dict.element(at: slot)
            return ZSetValue.update(current: ZNode.score(node), s, flags, &newScore) { sl!.updateScore(node, to: $0) }
        }
        if flags.contains(.xx) { return .nop }
        sl!.insert(m, score: s, hash: h)
        newScore = s
        return .added
    }

    /// zsetAdd for a member present with score `cur`: works out its new
    /// score from `s` and the flags, and calls `apply` with it if it changes.
    @inline(__always)
    private static func update(current cur: Double, _ s: Double, _ flags: AddFlags, _ newScore: inout Double,
                               _ apply: (Double) -> Void) -> AddResult {
        if flags.contains(.nx) { return .nop }
        var s = s
        if flags.contains(.incr) {
            s += cur
            if s.isNaN { return .nan }
        }
        if (flags.contains(.lt) && s >= cur) || (flags.contains(.gt) && s <= cur) { return .nop }
        newScore = s
        if s == cur { return .unchanged }
        apply(s)
        return .updated
    }

    /// Sets the score of `m` (adding it if absent), converting as needed.
    public func set(_ m: UnsafeRawBufferPointer, score s: Double, maxEntries: Int, maxValue: Int) {
        var ns = 0.0
        _ = add(m, score: s, flags: [], maxEntries: maxEntries, maxValue: maxValue, newScore: &ns)
    }

    /// Removes `m`; false if absent.
    @discardableResult
    public func remove(_ m: UnsafeRawBufferPointer) -> Bool {
        if isListpack {
            guard let f = lp.find(m) else { return false }
            lp.delete(at: f.offset)
            return true
        }
        return sl!.remove(m)
    }

    /// Deletes ranks start...end (0-based, inclusive, within bounds).
    public func deleteRange(rank start: Int, to end: Int) {
        if start > end { return }
        if isListpack { lp.deleteRange(rank: start, to: end) } else { sl!.deleteRange(rank: start + 1, to: end + 1) }
    }

    // MARK: traversal

    /// Calls `body` with (member, score) in ascending order.
    public func forEach(_ body: (UnsafeRawBufferPointer, Double) -> Void) {
        if isListpack {
            var o = 0
            while o < lp.used {
                let e = lp.entry(o)
                body(e.member, e.score)
                o = e.next
            }
        } else {
            var x = sl!.first
            while let n = x {
                body(ZNode.member(n), ZNode.score(n))
                x = ZNode.forward(n, 0)
            }
        }
    }

    /// SORT's input: the members in rank order.
    public func sortElements() -> [[UInt8]] {
        var r: [[UInt8]] = []
        r.reserveCapacity(count)
        forEach { m, _ in r.append(Array(m)) }
        return r
    }

    /// Calls `body` from rank `start` onwards, ascending (or descending when
    /// `reverse`), until it returns false or the set ends. No changes inside.
    public func walk(from start: Int, reverse: Bool, _ body: (UnsafeRawBufferPointer, Double) -> Bool) {
        if start < 0 || start >= count { return }
        if isListpack {
            if !reverse {
                var o = lp.offset(ofRank: start)
                while o < lp.used {
                    let e = lp.entry(o)
                    if !body(e.member, e.score) { return }
                    o = e.next
                }
            } else {
                lp.withOffsets { offs in
                    var r = start
                    while r >= 0 {
                        let e = lp.entry(offs[r])
                        if !body(e.member, e.score) { return }
                        r -= 1
                    }
                }
            }
            return
        }
        var x: ZNodePtr?
        if start == 0 { x = sl!.first } else if start == count - 1 { x = sl!.tail } else { x = sl!.node(atRank: start + 1) }
        while let n = x {
            if !body(ZNode.member(n), ZNode.score(n)) { return }
            x = reverse ? ZNode.backward(n) : ZNode.forward(n, 0)
        }
    }

    /// The (member, score) at rank `r`, passed to `body`.
    public func withElement<R>(atRank r: Int, _ body: (UnsafeRawBufferPointer, Double) -> R) -> R {
        if isListpack {
            let e = lp.entry(lp.offset(ofRank: r))
            return body(e.member, e.score)
        }
        let n = r == 0 ? sl!.first! : (r == count - 1 ? sl!.tail! : sl!.node(atRank: r + 1)!)
        return body(ZNode.member(n), ZNode.score(n))
    }

    // MARK: ranges

    /// Rank of the first element in `range`, or nil.
    public func firstInRange<R: ZSetRange>(_ range: R) -> Int? {
        if range.isEmpty || count == 0 || outsideEnds(range) { return nil }
        if isListpack {
            var o = 0, r = 0
            while o < lp.used {
                let e = lp.entry(o)
                if range.gteMin(e.member, e.score) { return range.lteMax(e.member, e.score) ? r : nil }
                o = e.next
                r += 1
            }
            return nil
        }
        let (x, rank) = sl!.lastWhere { !range.gteMin(ZNode.member($0), ZNode.score($0)) }
        guard let n = ZNode.forward(x, 0), range.lteMax(ZNode.member(n), ZNode.score(n)) else { return nil }
        return rank
    }

    /// Rank of the last element in `range`, or nil.
    public func lastInRange<R: ZSetRange>(_ range: R) -> Int? {
        if range.isEmpty || count == 0 || outsideEnds(range) { return nil }
        if isListpack {
            return lp.withOffsets { offs -> Int? in
                var r = lp.count - 1
                while r >= 0 {
                    let e = lp.entry(offs[r])
                    if range.lteMax(e.member, e.score) { return range.gteMin(e.member, e.score) ? r : nil }
                    r -= 1
                }
                return nil
            }
        }
        let s = sl!
        let (x, rank) = s.lastWhere { range.lteMax(ZNode.member($0), ZNode.score($0)) }
        if x == s.header || !range.gteMin(ZNode.member(x), ZNode.score(x)) { return nil }
        return rank - 1
    }

    /// Where ZREMRANGEBYSCORE / ZREMRANGEBYLEX start deleting: the first
    /// element in range on a listpack; on a skiplist the first element >= min,
    /// found without checking the range ends first (as zslDeleteRangeByScore).
    public func removalStart<R: ZSetRange>(_ range: R) -> Int? {
        if isListpack { return firstInRange(range) }
        let (x, rank) = sl!.lastWhere { !range.gteMin(ZNode.member($0), ZNode.score($0)) }
        return ZNode.forward(x, 0) == nil ? nil : rank
    }

    /// The last element is before min or the first after max (Redis's
    /// zslIsInRange / zzlIsInLexRange end checks). Skipped on a listpack
    /// when the range follows the set's order: the scan finds nothing then anyway.
    private func outsideEnds<R: ZSetRange>(_ range: R) -> Bool {
        if isListpack && R.followsSetOrder { return false }
        return !withElement(atRank: count - 1) { range.gteMin($0, $1) } || !withElement(atRank: 0) { range.lteMax($0, $1) }
    }

    // MARK: random and scan

    /// Calls `body` with a uniformly chosen element (the set must not be empty).
    public func withRandomElement<R>(_ body: (UnsafeRawBufferPointer, Double) -> R) -> R {
        if isListpack { return withElement(atRank: fastRandom(below: lp.count), body) }
        let n = sl!.dict.element(at: sl!.dict.randomSlot())
        return body(ZNode.member(n), ZNode.score(n))
    }

    /// Calls `body` `n` times with random elements (repetitions allowed).
    public func randomElements(_ n: Int, _ body: (UnsafeRawBufferPointer, Double) -> Void) {
        if isListpack {
            lp.withOffsets { offs in
                for _ in 0..<n {
                    let e = lp.entry(offs[fastRandom(below: lp.count)])
                    body(e.member, e.score)
                }
            }
            return
        }
        for _ in 0..<n { withRandomElement(body) }
    }

    /// Calls `body` with `n` distinct random elements (n < count).
    public func randomDistinct(_ n: Int, _ body: (UnsafeRawBufferPointer, Double) -> Void) {
        let size = count
        if isListpack {
            lp.withOffsets { offs in
                for k in 0..<n { offs.swapAt(k, k + fastRandom(below: size - k)) }
                for k in 0..<n {
                    let e = lp.entry(offs[k])
                    body(e.member, e.score)
                }
            }
            return
        }
        let dict = sl!.dict
        if n * 3 > size {
            var all = dict.allElements()
            for k in 0..<n { all.swapAt(k, k + fastRandom(below: size - k)) }
            for k in 0..<n { body(ZNode.member(all[k]), ZNode.score(all[k])) }
            return
        }
        var seen = Set<Int>(minimumCapacity: n)
        while seen.count < n {
            let slot = dict.randomSlot()
            if seen.insert(slot).inserted {
                let node = dict.element(at: slot)
                body(ZNode.member(node), ZNode.score(node))
            }
        }
    }

    /// One ZSCAN step over a skiplist's table: (member, score) for each element of the cursor's bucket.
    public func scanStep(cursor: UInt64, _ body: (UnsafeRawBufferPointer, Double) -> Void) -> UInt64 {
        if isListpack {
            forEach(body)
            return 0
        }
        return sl!.dict.scanStep(cursor: cursor) { body(ZNode.member($0), ZNode.score($0)) }
    }

    /// Checks the internal structure (tests).
    func validate() -> Bool {
        if isListpack {
            var prev: (Double, [UInt8])? = nil
            var n = 0
            var ok = true
            forEach { m, s in
                if let (ps, pm) = prev {
                    let c = pm.withUnsafeBytes { compareBytes($0, m) }
                    if !(ps < s || (ps == s && c < 0)) { ok = false }
                }
                prev = (s, Array(m))
                n += 1
            }
            return ok && n == lp.count
        }
        return sl!.validate()
    }
}
