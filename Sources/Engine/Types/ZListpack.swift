// The "listpack" encoding of a small sorted set: one malloc'ed buffer of
// entries sorted by (score, member), each
//    Double score (8 bytes, unaligned) | member length (LEB128) | member bytes
// Lookups are linear like Redis's listpack; the size limits
// (zset-max-listpack-entries / -value) keep them short.

import Glibc

struct ZListpack {
    private(set) var buf: UnsafeMutableRawPointer? = nil
    private(set) var used = 0
    private(set) var cap = 0
    private(set) var count = 0

    init() {}

    func deallocate() { free(buf) }

    var allocatedBytes: Int { cap }

    // MARK: entries

    @inline(__always)
    func entry(_ o: Int) -> (score: Double, member: UnsafeRawBufferPointer, next: Int) {
        let p = buf! + o
        let s = p.loadUnaligned(as: Double.self)
        var len = 0, shift = 0, i = 8
        while true {
            let b = p.load(fromByteOffset: i, as: UInt8.self)
            len |= Int(b & 0x7f) << shift
            i += 1
            if b < 0x80 { break }
            shift += 7
        }
        return (s, UnsafeRawBufferPointer(start: p + i, count: len), o + i + len)
    }

    @inline(__always) static func varintSize(_ n: Int) -> Int {
        var k = 1, v = n >> 7
        while v > 0 { k += 1; v >>= 7 }
        return k
    }

    @inline(__always) static func entrySize(_ m: Int) -> Int { 8 + varintSize(m) + m }

    /// Byte offset of the entry of rank `r` (0-based; `count` gives the end).
    func offset(ofRank r: Int) -> Int {
        var o = 0
        for _ in 0..<r { o = entry(o).next }
        return o
    }

    /// Calls `body` with the offsets of all entries.
    func withOffsets<R>(_ body: (UnsafeMutableBufferPointer<Int>) -> R) -> R {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: Swift.max(count, 1)) { offs in
            var o = 0
            for i in 0..<count {
                offs[i] = o
                o = entry(o).next
            }
            return body(offs)
        }
    }

    /// (offset, rank, score) of `m`, or nil.
    func find(_ m: UnsafeRawBufferPointer) -> (offset: Int, rank: Int, score: Double)? {
        var o = 0
        var r = 0
        while o < used {
            let e = entry(o)
            if bytesEqual(e.member, m) { return (o, r, e.score) }
            o = e.next
            r += 1
        }
        return nil
    }

    // MARK: changes

    private mutating func ensure(_ extra: Int) {
        if used + extra <= cap { return }
        var n = Swift.max(cap * 2, 64)
        while n < used + extra { n *= 2 }
        buf = realloc(buf, n)!
        cap = n
    }

    /// Inserts (m, s) at its sorted place (m must be absent); returns its rank.
    @discardableResult
    mutating func insert(_ m: UnsafeRawBufferPointer, score s: Double) -> Int {
        var o = 0
        var r = 0
        while o < used {
            let e = entry(o)
            if s < e.score || (s == e.score && compareBytes(m, e.member) < 0) { break }
            o = e.next
            r += 1
        }
        insert(m, score: s, at: o)
        return r
    }

    /// Appends (m, s), which must sort after every entry.
    mutating func append(_ m: UnsafeRawBufferPointer, score s: Double) { insert(m, score: s, at: used) }

    private mutating func insert(_ m: UnsafeRawBufferPointer, score s0: Double, at o: Int) {
        // Redis stores a listpack score as text, and "-0" reads back as the integer 0.
        let s = s0 == 0 ? 0.0 : s0
        let size = ZListpack.entrySize(m.count)
        ensure(size)
        let p = buf!
        if o < used { memmove(p + o + size, p + o, used - o) }
        (p + o).storeBytes(of: s, as: Double.self)
        var i = o + 8
        var v = m.count
        while v >= 0x80 {
            (p + i).storeBytes(of: UInt8(truncatingIfNeeded: v) | 0x80, as: UInt8.self)
            v >>= 7
            i += 1
        }
        (p + i).storeBytes(of: UInt8(v), as: UInt8.self)
        i += 1
        if m.count > 0 { (p + i).copyMemory(from: m.baseAddress!, byteCount: m.count) }
        used += size
        count += 1
    }

    /// Deletes the entries in byte range [from, to) holding `n` entries.
    mutating func delete(from a: Int, to b: Int, entries n: Int) {
        if b < used { memmove(buf! + a, buf! + b, used - b) }
        used -= b - a
        count -= n
        if cap > 256 && used * 4 < cap {
            let nc = Swift.max(used * 2, 64)
            buf = realloc(buf, nc)!
            cap = nc
        }
    }

    /// Deletes the entry at offset `o`.
    mutating func delete(at o: Int) { delete(from: o, to: entry(o).next, entries: 1) }

    /// Deletes ranks start...end (0-based, inclusive, within bounds).
    mutating func deleteRange(rank start: Int, to end: Int) {
        let a = offset(ofRank: start)
        var b = a
        for _ in start...end { b = entry(b).next }
        delete(from: a, to: b, entries: end - start + 1)
    }

    /// A copy.
    func copy() -> ZListpack {
        var n = ZListpack()
        if used > 0 {
            n.buf = malloc(used)!
            n.buf!.copyMemory(from: buf!, byteCount: used)
            n.cap = used
            n.used = used
            n.count = count
        }
        return n
    }
}
