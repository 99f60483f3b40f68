// The Set type, with Redis 7.0's two encodings:
//   "intset"    a compact sorted block of 16/32/64-bit integers (IntSet.swift),
//               while every member is a canonical integer and there are at
//               most set-max-intset-entries of them;
//   "hashtable" a MemberTable of malloc'ed members ([UInt32 length][bytes]),
//               boxed in its own small block.
// The object is 48 bytes: an intset of up to 24 bytes of integers (twelve
// 16-bit ones) lives inside it, with no block of its own, so a small set of
// integers costs less than Redis's robj + intset; bigger intsets and the
// hashtable hang off one pointer. A set never converts back from hashtable to intset (as in Redis).

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

    /// 32 bytes, the object's only field (so the object is jemalloc's 48-byte
    /// class): either a small intset kept inline, in IntSet's block format
    /// (UInt32 width 2/4/8, UInt32 count, then up to 24 bytes of integers:
    /// 12 of 16 bits, 6 of 32, 3 of 64), or a kind in the first UInt32 (0: an
    /// intset block, 1: the hashtable's box) and the pointer in the second word.
    private var payload: (UInt64, UInt64, UInt64, UInt64) = (2, 0, 0, 0)

    static let inlineCapacity = 32
    private static let kindBlock: UInt32 = 0
    private static let kindTable: UInt32 = 1

    /// Address of `payload`: a Swift object is a 16-byte header (metadata,
    /// reference counts) followed by its stored properties in order.
    @inline(__always) var payloadAddress: UnsafeMutableRawPointer {
        Unmanaged.passUnretained(self).toOpaque() + 16
    }
    @inline(__always) private var kind: UInt32 { payloadAddress.load(as: UInt32.self) }
    @inline(__always) private var isInline: Bool { kind >= 2 }
    /// The out-of-line pointer (intset block or table box).
    @inline(__always) private var storage: UnsafeMutableRawPointer? {
        get { UnsafeMutableRawPointer(bitPattern: UInt(payload.1)) }
        set { payload.1 = UInt64(UInt(bitPattern: newValue)) }
    }

    /// True while the set is an intset.
    public var isIntset: Bool { @inline(__always) get { kind != SetValue.kindTable } }

    /// Members of an intset, ascending, as integers (RDB/DUMP encoding).
    var ints: [Int64] {
        let s = intset
        return (0..<s.count).map { s[$0] }
    }

    /// Members of an intset, ascending (a read-only view: inline or block).
    var intset: IntSet {
        @inline(__always) get {
            let k = kind
            if k >= 2 { return IntSet(block: payloadAddress) }
            return IntSet(block: k == SetValue.kindBlock ? storage : nil)
        }
    }

    /// The intset's own block (nil while inline or empty, or for a hashtable).
    var intsetBlock: UnsafeMutableRawPointer? { kind == SetValue.kindBlock ? storage : nil }

    /// The hashtable's box (hashtable sets only).
    @inline(__always) var tablePtr: UnsafeMutablePointer<Table> { storage!.assumingMemoryBound(to: Table.self) }
    /// Members of a hashtable set.
    @inline(__always) var table: Table { tablePtr.pointee }

    private static func makeTable(reserving n: Int) -> UnsafeMutableRawPointer {
        let box = UnsafeMutablePointer<Table>.allocate(capacity: 1)
        box.initialize(to: Table(reserving: n))
        return UnsafeMutableRawPointer(box)
    }

    private func setTable(_ box: UnsafeMutableRawPointer) {
        payload = (UInt64(SetValue.kindTable), UInt64(UInt(bitPattern: box)), 0, 0)
    }

    /// An empty intset (Redis's createIntsetObject).
    public init() {}

    /// An empty set with the encoding Redis picks for a first member `m` (setTypeCreate).
    public init(forFirstMember m: UnsafeRawBufferPointer) {
        if parseCanonicalInt64(m) == nil { setTable(SetValue.makeTable(reserving: 0)) }
    }

    /// An empty hashtable set sized for `n` members.
    public init(hashtableReserving n: Int) {
        setTable(SetValue.makeTable(reserving: n))
    }

    deinit {
        switch kind {
        case SetValue.kindBlock: free(storage)
        case SetValue.kindTable:
            table.forEach { free($0) }
            table.deallocate()
            tablePtr.deallocate()
        default: break
        }
    }

    public var count: Int { isIntset ? intset.count : table.count }

    public var encodingName: StaticString { isIntset ? "intset" : "hashtable" }

    public func duplicate() -> SetValue {
        let s = SetValue()
        switch kind {
        case SetValue.kindBlock:
            s.payload = (UInt64(SetValue.kindBlock), 0, 0, 0)
            s.storage = intset.copy().block
        case SetValue.kindTable:
            let t = SetValue.makeTable(reserving: table.count).assumingMemoryBound(to: Table.self)
            table.forEach { p in t.pointee.insertNew(SetMemberLayout.make(SetMemberLayout.member(p))) }
            s.setTable(UnsafeMutableRawPointer(t))
        default:
            s.payload = payload
        }
        return s
    }

    // MARK: intset changes (inline or block)

    /// Inserts `v` (absent) at `at`, moving an inline intset to its own block when it outgrows the object.
    private func intsetInsert(_ v: Int64, at: Int) {
        if isInline {
            let p = payloadAddress
            let n = Int(p.load(fromByteOffset: 4, as: UInt32.self))
            let w = IntSet.widthAfterInsert(p, v)
            if 8 + (n + 1) * w <= SetValue.inlineCapacity {
                IntSet.insertInPlace(p, v, at: at)
                return
            }
            let oldBytes = 8 + n * Int(p.load(as: UInt32.self))
            let b = malloc(8 + (n + 1) * w)!
            memcpy(b, p, oldBytes)
            IntSet.insertInPlace(b, v, at: at)
            payload = (UInt64(SetValue.kindBlock), UInt64(UInt(bitPattern: b)), 0, 0)
            return
        }
        var s = IntSet(block: storage)
        s.insert(v, at: at)
        storage = s.block
    }

    private func intsetRemove(at: Int) {
        if isInline { IntSet.removeInPlace(payloadAddress, at: at); return }
        var s = IntSet(block: storage)
        s.remove(at: at)
        storage = s.block
    }

    private func intsetRemoveMarked(_ drop: [Bool]) {
        if isInline { IntSet.removeMarkedInPlace(payloadAddress, drop); return }
        var s = IntSet(block: storage)
        s.removeMarked(drop)
        storage = s.block
    }

    /// Bytes allocated for the value (approximate MEMORY USAGE).
    public var allocatedBytes: Int {
        if isIntset { return 48 + (intsetBlock == nil ? 0 : intset.byteCount) }
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
                intsetInsert(v, at: at)
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
            intsetRemove(at: at)
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
        if kind == SetValue.kindBlock { old.deallocate() }
        setTable(box)
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
            intsetRemove(at: i)
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
        intsetRemoveMarked(chosen)
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
