// The Set type, with Redis 7.0's two encodings:
//   "intset"    a compact sorted block of 16/32/64-bit integers (IntSet.swift),
//               while every member is a canonical integer and there are at
//               most set-max-intset-entries of them;
//   "hashtable" a MemberTable of malloc'ed members ([UInt32 length][bytes]),
//               boxed in its own small block.
// The object holds one pointer (the intset block or the table's box) and the
// encoding flag: 32 bytes, so a small set costs about what Redis's robj +
// intset do. A set never converts back from hashtable to intset (as in Redis).

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
    typealias Table = MemberTable<SetMemberLayout>

    /// The intset block, or the hashtable's box.
    private var storage: UnsafeMutableRawPointer? = nil
    /// True while the set is an intset.
    public private(set) var isIntset: Bool

    /// Members of an intset, ascending, as integers (RDB/DUMP encoding).
    var ints: [Int64] {
        let s = intset
        return (0..<s.count).map { s[$0] }
    }

    /// Members of an intset, ascending.
    var intset: IntSet {
        @inline(__always) get { IntSet(block: isIntset ? storage : nil) }
        @inline(__always) set { storage = newValue.block }
    }

    /// The hashtable's box (hashtable sets only).
    @inline(__always) var tablePtr: UnsafeMutablePointer<Table> { storage!.assumingMemoryBound(to: Table.self) }
    /// Members of a hashtable set.
    @inline(__always) var table: Table { tablePtr.pointee }

    private static func makeTable(reserving n: Int) -> UnsafeMutableRawPointer {
        let box = UnsafeMutablePointer<Table>.allocate(capacity: 1)
        box.initialize(to: Table(reserving: n))
        return UnsafeMutableRawPointer(box)
    }

    /// An empty intset (Redis's createIntsetObject).
    public init() { isIntset = true }

    /// An empty set with the encoding Redis picks for a first member `m` (setTypeCreate).
    public init(forFirstMember m: UnsafeRawBufferPointer) {
        isIntset = parseCanonicalInt64(m) != nil
        if !isIntset { storage = SetValue.makeTable(reserving: 0) }
    }

    /// An empty hashtable set sized for `n` members.
    public init(hashtableReserving n: Int) {
        isIntset = false
        storage = SetValue.makeTable(reserving: n)
    }

    deinit {
        if isIntset {
            intset.deallocate()
        } else {
            table.forEach { free($0) }
            table.deallocate()
            tablePtr.deallocate()
        }
    }

    public var count: Int { isIntset ? intset.count : table.count }

    public var encodingName: StaticString { isIntset ? "intset" : "hashtable" }

    public func duplicate() -> SetValue {
        if isIntset {
            let s = SetValue()
            s.intset = intset.copy()
            return s
        }
        let s = SetValue(hashtableReserving: table.count)
        table.forEach { p in s.tablePtr.pointee.insertNew(SetMemberLayout.make(SetMemberLayout.member(p))) }
        return s
    }

    /// Bytes allocated for the value (approximate MEMORY USAGE).
    public var allocatedBytes: Int {
        if isIntset { return 32 + intset.byteCount }
        var total = 48 + table.overheadBytes
        table.forEach { p in total += Self.mallocSize(4 + SetMemberLayout.member(p).count) }
        return total
    }

    static func mallocSize(_ n: Int) -> Int { n <= 8 ? 8 : (n + 15) & ~15 }

    // MARK: membership

    @inline(__always)
    private func intIndex(_ v: Int64) -> (found: Bool, index: Int) { intset.search(v) }

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
                intset.insert(v, at: at)
                if intset.count > Swift.min(maxIntsetEntries, 1 << 30) { convertToHashtable() }
                return true
            }
            convertToHashtable()
        }
        let h = memberHash(m)
        if table.find(m, hash: h) >= 0 { return false }
        tablePtr.pointee.insertNew(SetMemberLayout.make(m), hash: h)
        return true
    }

    /// Removes `m`; false if it was not a member.
    @discardableResult
    public func remove(_ m: UnsafeRawBufferPointer) -> Bool {
        if isIntset {
            guard let v = parseCanonicalInt64(m) else { return false }
            let (found, at) = intIndex(v)
            if !found { return false }
            intset.remove(at: at)
            return true
        }
        let slot = table.find(m)
        if slot < 0 { return false }
        free(tablePtr.pointee.remove(slot: slot))
        return true
    }

    private func convertToHashtable() {
        let old = intset
        let box = SetValue.makeTable(reserving: old.count + 1)
        let t = box.assumingMemoryBound(to: Table.self)
        for i in 0..<old.count {
            withDecimalBytes(old[i]) { t.pointee.insertNew(SetMemberLayout.make($0)) }
        }
        old.deallocate()
        storage = box
        isIntset = false
    }

    // MARK: iteration

    /// Calls `body` with each member's bytes (intsets ascending). The set must not change inside.
    public func forEach(_ body: (UnsafeRawBufferPointer) -> Void) {
        if isIntset {
            let s = intset
            for i in 0..<s.count { withDecimalBytes(s[i], body) }
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
        if isIntset { return withDecimalBytes(intset[fastRandom(below: intset.count)], body) }
        return body(SetMemberLayout.member(table.element(at: table.randomSlot())))
    }

    /// Removes one uniformly chosen member, passing its bytes to `body` first.
    public func popRandom(_ body: (UnsafeRawBufferPointer) -> Void) {
        if isIntset {
            let i = fastRandom(below: intset.count)
            withDecimalBytes(intset[i], body)
            intset.remove(at: i)
            return
        }
        let slot = table.randomSlot()
        let p = table.element(at: slot)
        body(SetMemberLayout.member(p))
        tablePtr.pointee.remove(slot: slot)
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
        let size = intset.count
        var idx = Array(0..<size)
        for k in 0..<n {
            let j = k + fastRandom(below: size - k)
            idx.swapAt(k, j)
        }
        var chosen = [Bool](repeating: false, count: size)
        for k in 0..<n {
            chosen[idx[k]] = true
            withDecimalBytes(intset[idx[k]], body)
        }
        intset.removeMarked(chosen)
    }

    /// `n` distinct random members (n < count), as SRANDMEMBER with a positive count.
    public func randomDistinct(_ n: Int, _ body: (UnsafeRawBufferPointer) -> Void) {
        let size = count
        if n * 3 > size {
            // Close to the whole set: shuffle a full index and take a prefix.
            if isIntset {
                var idx = Array(0..<size)
                for k in 0..<n { idx.swapAt(k, k + fastRandom(below: size - k)) }
                for k in 0..<n { withDecimalBytes(intset[idx[k]], body) }
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
                if seen.insert(i).inserted { withDecimalBytes(intset[i], body) }
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
