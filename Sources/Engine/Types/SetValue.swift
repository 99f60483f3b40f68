// The Set type, with Redis 7.0's two encodings:
//   "intset"    a sorted array of Int64, while every member is a canonical
//               integer and there are at most set-max-intset-entries of them;
//   "hashtable" a MemberTable of malloc'ed members ([UInt32 length][bytes]).
// A set never converts back from hashtable to intset (as in Redis).

import Glibc
import RESP

/// A hashtable member: UInt32 length, then the bytes.
enum SetMemberLayout: MemberLayout {
    @inline(__always)
    static func member(_ p: UnsafeMutableRawPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: p + 4, count: Int(p.load(as: UInt32.self)))
    }

    static func make(_ m: UnsafeRawBufferPointer) -> UnsafeMutableRawPointer {
        let p = malloc(4 + m.count)!
        p.storeBytes(of: UInt32(m.count), as: UInt32.self)
        if m.count > 0 { (p + 4).copyMemory(from: m.baseAddress!, byteCount: m.count) }
        return p
    }
}

/// Writes the decimal form of `v` to a stack buffer and passes it to `body`.
@inline(__always)
func withDecimalBytes<R>(_ v: Int64, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)
    return try withUnsafeMutableBytes(of: &tmp) { raw in
        let n = writeDecimal(v, to: raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
        return try body(UnsafeRawBufferPointer(rebasing: raw[0..<n]))
    }
}

public final class SetValue: ValueObject {
    /// True while the set is an intset.
    public private(set) var isIntset: Bool
    /// Members of an intset, ascending.
    private(set) var ints: [Int64] = []
    /// Members of a hashtable set.
    private(set) var table = MemberTable<SetMemberLayout>()

    /// An empty intset (Redis's createIntsetObject).
    public init() { isIntset = true }

    /// An empty set with the encoding Redis picks for a first member `m` (setTypeCreate).
    public init(forFirstMember m: UnsafeRawBufferPointer) {
        isIntset = parseCanonicalInt64(m) != nil
    }

    /// An empty hashtable set sized for `n` members.
    public init(hashtableReserving n: Int) {
        isIntset = false
        table = MemberTable(reserving: n)
    }

    deinit {
        if !isIntset {
            table.forEach { free($0) }
            table.deallocate()
        }
    }

    public var count: Int { isIntset ? ints.count : table.count }

    public var encodingName: StaticString { isIntset ? "intset" : "hashtable" }

    public func duplicate() -> SetValue {
        if isIntset {
            let s = SetValue()
            s.ints = ints
            return s
        }
        let s = SetValue(hashtableReserving: table.count)
        table.forEach { p in s.table.insertNew(SetMemberLayout.make(SetMemberLayout.member(p))) }
        return s
    }

    /// Bytes allocated for the value (approximate MEMORY USAGE).
    public var allocatedBytes: Int {
        if isIntset { return 48 + ints.capacity * 8 }
        var total = 48 + table.overheadBytes
        table.forEach { p in total += Self.mallocSize(4 + SetMemberLayout.member(p).count) }
        return total
    }

    static func mallocSize(_ n: Int) -> Int { n <= 8 ? 8 : (n + 15) & ~15 }

    // MARK: membership

    @inline(__always)
    private func intIndex(_ v: Int64) -> (found: Bool, index: Int) {
        var lo = 0, hi = ints.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            let x = ints[mid]
            if x == v { return (true, mid) }
            if x < v { lo = mid + 1 } else { hi = mid }
        }
        return (false, lo)
    }

    public func contains(_ m: UnsafeRawBufferPointer) -> Bool {
        if isIntset {
            guard let v = parseCanonicalInt64(m) else { return false }
            return intIndex(v).found
        }
        return table.find(m) >= 0
    }

    /// Adds `m`; false if it was already a member. Converts the encoding as Redis's setTypeAdd.
    @discardableResult
    public func add(_ m: UnsafeRawBufferPointer, maxIntsetEntries: Int) -> Bool {
        if isIntset {
            if let v = parseCanonicalInt64(m) {
                let (found, at) = intIndex(v)
                if found { return false }
                ints.insert(v, at: at)
                if ints.count > Swift.min(maxIntsetEntries, 1 << 30) { convertToHashtable() }
                return true
            }
            convertToHashtable()
        }
        let h = memberHash(m)
        if table.find(m, hash: h) >= 0 { return false }
        table.insertNew(SetMemberLayout.make(m), hash: h)
        return true
    }

    /// Removes `m`; false if it was not a member.
    @discardableResult
    public func remove(_ m: UnsafeRawBufferPointer) -> Bool {
        if isIntset {
            guard let v = parseCanonicalInt64(m) else { return false }
            let (found, at) = intIndex(v)
            if !found { return false }
            ints.remove(at: at)
            return true
        }
        let slot = table.find(m)
        if slot < 0 { return false }
        free(table.remove(slot: slot))
        return true
    }

    private func convertToHashtable() {
        var t = MemberTable<SetMemberLayout>(reserving: ints.count + 1)
        for v in ints {
            withDecimalBytes(v) { t.insertNew(SetMemberLayout.make($0)) }
        }
        ints = []
        table = t
        isIntset = false
    }

    // MARK: iteration

    /// Calls `body` with each member's bytes (intsets ascending). The set must not change inside.
    public func forEach(_ body: (UnsafeRawBufferPointer) -> Void) {
        if isIntset {
            for v in ints { withDecimalBytes(v, body) }
        } else {
            table.forEach { body(SetMemberLayout.member($0)) }
        }
    }

    /// Every member's bytes, copied.
    public func allMembers() -> [[UInt8]] {
        var r: [[UInt8]] = []
        r.reserveCapacity(count)
        forEach { r.append(Array($0)) }
        return r
    }

    /// SORT's input: every member (intsets ascending).
    public func sortElements() -> [[UInt8]] { allMembers() }

    /// Calls `body` with one uniformly chosen member (the set must not be empty).
    public func withRandomMember<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        if isIntset { return withDecimalBytes(ints[fastRandom(below: ints.count)], body) }
        return body(SetMemberLayout.member(table.element(at: table.randomSlot())))
    }

    /// Removes one uniformly chosen member, passing its bytes to `body` first.
    public func popRandom(_ body: (UnsafeRawBufferPointer) -> Void) {
        if isIntset {
            let i = fastRandom(below: ints.count)
            withDecimalBytes(ints[i], body)
            ints.remove(at: i)
            return
        }
        let slot = table.randomSlot()
        let p = table.element(at: slot)
        body(SetMemberLayout.member(p))
        table.remove(slot: slot)
        free(p)
    }

    /// Removes `n` distinct random members (n < count), passing each to `body`.
    /// O(n) expected on a hashtable; one O(count) pass on an intset.
    public func popRandom(count n: Int, _ body: (UnsafeRawBufferPointer) -> Void) {
        if !isIntset {
            for _ in 0..<n { popRandom(body) }
            return
        }
        // Choose n distinct positions (partial Fisher-Yates), then compact once.
        let size = ints.count
        var idx = Array(0..<size)
        for k in 0..<n {
            let j = k + fastRandom(below: size - k)
            idx.swapAt(k, j)
        }
        var chosen = [Bool](repeating: false, count: size)
        for k in 0..<n {
            chosen[idx[k]] = true
            withDecimalBytes(ints[idx[k]], body)
        }
        var w = 0
        for r in 0..<size where !chosen[r] {
            ints[w] = ints[r]
            w += 1
        }
        ints.removeLast(size - w)
    }

    /// `n` distinct random members (n < count), as SRANDMEMBER with a positive count.
    public func randomDistinct(_ n: Int, _ body: (UnsafeRawBufferPointer) -> Void) {
        let size = count
        if n * 3 > size {
            // Close to the whole set: shuffle a full index and take a prefix.
            if isIntset {
                var idx = Array(0..<size)
                for k in 0..<n { idx.swapAt(k, k + fastRandom(below: size - k)) }
                for k in 0..<n { withDecimalBytes(ints[idx[k]], body) }
            } else {
                var all = table.allElements()
                for k in 0..<n { all.swapAt(k, k + fastRandom(below: size - k)) }
                for k in 0..<n { body(SetMemberLayout.member(all[k])) }
            }
            return
        }
        // Small sample of a big set: draw until n distinct.
        var seen = Set<Int>(minimumCapacity: n)
        while seen.count < n {
            if isIntset {
                let i = fastRandom(below: size)
                if seen.insert(i).inserted { withDecimalBytes(ints[i], body) }
            } else {
                let slot = table.randomSlot()
                if seen.insert(slot).inserted { body(SetMemberLayout.member(table.element(at: slot))) }
            }
        }
    }

    /// One SSCAN step over a hashtable set (intsets are returned whole by the caller).
    public func scanStep(cursor: UInt64, _ body: (UnsafeRawBufferPointer) -> Void) -> UInt64 {
        if isIntset {
            forEach(body)
            return 0
        }
        return table.scanStep(cursor: cursor) { body(SetMemberLayout.member($0)) }
    }
}
