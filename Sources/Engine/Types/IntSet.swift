// The "intset" encoding of a set: Redis's intset.c layout idea, one malloc'ed
// block sized exactly (the allocator's size class), holding
//    UInt32 width (2, 4 or 8 bytes per integer) | UInt32 count | sorted integers
// The width is the smallest that fits every member and only grows (an
// insertion that needs more upgrades the whole block), so ten small integers
// take 8 + 20 bytes instead of an array of 64-bit integers with a header.
// An empty intset is the nil pointer. The static *InPlace functions work on
// any memory in this format (SetValue keeps small intsets inside its object).

import Glibc

struct IntSet {
    private(set) var block: UnsafeMutableRawPointer? = nil

    init() {}
    init(block: UnsafeMutableRawPointer?) { self.block = block }

    @inline(__always) var count: Int { block.map { Int($0.load(fromByteOffset: 4, as: UInt32.self)) } ?? 0 }
    @inline(__always) private var width: Int { block.map { Int($0.load(as: UInt32.self)) } ?? 2 }

    /// Bytes requested for the block (the allocation may round up).
    var byteCount: Int { block == nil ? 0 : 8 + count * width }

    @inline(__always) static func width(for v: Int64) -> Int {
        if v >= Int64(Int16.min) && v <= Int64(Int16.max) { return 2 }
        if v >= Int64(Int32.min) && v <= Int64(Int32.max) { return 4 }
        return 8
    }

    @inline(__always) private static func load(_ p: UnsafeMutableRawPointer, _ w: Int, _ i: Int) -> Int64 {
        let q = p + 8 + i * w
        switch w {
        case 2: return Int64(q.loadUnaligned(as: Int16.self))
        case 4: return Int64(q.loadUnaligned(as: Int32.self))
        default: return q.loadUnaligned(as: Int64.self)
        }
    }

    @inline(__always) private static func store(_ p: UnsafeMutableRawPointer, _ w: Int, _ i: Int, _ v: Int64) {
        let q = p + 8 + i * w
        switch w {
        case 2: q.storeBytes(of: Int16(truncatingIfNeeded: v), as: Int16.self)
        case 4: q.storeBytes(of: Int32(truncatingIfNeeded: v), as: Int32.self)
        default: q.storeBytes(of: v, as: Int64.self)
        }
    }

    @inline(__always) subscript(i: Int) -> Int64 {
        get { IntSet.load(block!, width, i) }
    }

    /// Binary search: whether `v` is present, and where it is or would go.
    func search(_ v: Int64) -> (found: Bool, index: Int) {
        guard let p = block else { return (false, 0) }
        let w = width
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo + hi) >> 1
            let x = IntSet.load(p, w, mid)
            if x == v { return (true, mid) }
            if x < v { lo = mid + 1 } else { hi = mid }
        }
        return (false, lo)
    }

    /// Inserts `v` (absent) at position `at` (from `search`), upgrading the width if needed.
    mutating func insert(_ v: Int64, at: Int) {
        let n = count
        let w = max(width, IntSet.width(for: v))
        let p = realloc(block, 8 + (n + 1) * w)!
        if block == nil { p.storeBytes(of: UInt64(2), as: UInt64.self) }  // width 2, count 0
        IntSet.insertInPlace(p, v, at: at)
        block = p
    }

    /// Width (bytes per integer) an intset at `p` needs after inserting `v`.
    @inline(__always) static func widthAfterInsert(_ p: UnsafeMutableRawPointer, _ v: Int64) -> Int {
        max(Int(p.load(as: UInt32.self)), width(for: v))
    }

    /// Inserts `v` (absent) at `at` into the intset whose header is at `p`,
    /// which has room for count + 1 integers of `widthAfterInsert` bytes.
    static func insertInPlace(_ p: UnsafeMutableRawPointer, _ v: Int64, at: Int) {
        let n = Int(p.load(fromByteOffset: 4, as: UInt32.self))
        let oldWidth = Int(p.load(as: UInt32.self))
        let w = max(oldWidth, IntSet.width(for: v))
        if w != oldWidth && n > 0 {
            // Upgrade in place from the back, leaving the gap at `at`.
            var i = n - 1
            while i >= 0 {
                let x = IntSet.load(p, oldWidth, i)
                IntSet.store(p, w, i >= at ? i + 1 : i, x)
                i -= 1
            }
        } else if at < n {
            memmove(p + 8 + (at + 1) * w, p + 8 + at * w, (n - at) * w)
        }
        p.storeBytes(of: UInt32(w), as: UInt32.self)
        IntSet.store(p, w, at, v)
        p.storeBytes(of: UInt32(n + 1), toByteOffset: 4, as: UInt32.self)
    }

    /// Removes the integer at `at` of the intset at `p`, without reallocating.
    static func removeInPlace(_ p: UnsafeMutableRawPointer, at: Int) {
        let n = Int(p.load(fromByteOffset: 4, as: UInt32.self)), w = Int(p.load(as: UInt32.self))
        if at < n - 1 { memmove(p + 8 + at * w, p + 8 + (at + 1) * w, (n - at - 1) * w) }
        p.storeBytes(of: UInt32(n - 1), toByteOffset: 4, as: UInt32.self)
    }

    /// Keeps the integers of the intset at `p` whose position is not marked in `drop`, without reallocating.
    static func removeMarkedInPlace(_ p: UnsafeMutableRawPointer, _ drop: [Bool]) {
        let n = Int(p.load(fromByteOffset: 4, as: UInt32.self)), w = Int(p.load(as: UInt32.self))
        var kept = 0
        for i in 0..<n where !drop[i] {
            if kept != i { IntSet.store(p, w, kept, IntSet.load(p, w, i)) }
            kept += 1
        }
        p.storeBytes(of: UInt32(kept), toByteOffset: 4, as: UInt32.self)
    }

    /// Removes the integer at `at`.
    mutating func remove(at: Int) {
        IntSet.removeInPlace(block!, at: at)
        shrink(to: count)
    }

    /// Keeps only the integers whose position is not marked in `drop`.
    mutating func removeMarked(_ drop: [Bool]) {
        guard let p = block else { return }
        IntSet.removeMarkedInPlace(p, drop)
        shrink(to: count)
    }

    private mutating func shrink(to n: Int) {
        let p = block!
        if n == 0 {
            free(p)
            block = nil
            return
        }
        block = realloc(p, 8 + n * width)!
    }

    /// An independent copy.
    func copy() -> IntSet {
        guard let p = block else { return IntSet() }
        let size = byteCount
        let q = malloc(size)!
        memcpy(q, p, size)
        return IntSet(block: q)
    }

    func deallocate() { free(block) }
}
