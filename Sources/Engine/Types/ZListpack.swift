// The "listpack" encoding of a small sorted set: one malloc'ed buffer of
// entries sorted by (score, member), each
//    score | member length (LEB128) | member bytes
// where the score is, like Redis's listpack integers, compact when integral:
// LEB128 of (zigzag(score) << 1) for integral scores within +-2^53, else the
// byte 0x01 followed by the 8-byte double. Lookups are linear like Redis's
// listpack; the size limits (zset-max-listpack-entries / -value) keep them
// short. Like Redis's listpack, the buffer starts with its sizes (UInt32 used
// bytes, UInt32 entry count) so the descriptor is one pointer; it grows to
// the allocator's size classes (little slack); an empty listpack is nil.

import Glibc
import CJemalloc

struct ZListpack {
    /// The allocation: 8 bytes of sizes, then the entries.
    private(set) var buf: UnsafeMutableRawPointer? = nil
    static let headerSize = 8

    /// Start of the entries (buf must exist).
    @inline(__always) private var data: UnsafeMutableRawPointer { buf! + ZListpack.headerSize }

    /// Bytes of entries.
    private(set) var used: Int {
        @inline(__always) get { buf.map { Int($0.load(as: UInt32.self)) } ?? 0 }
        @inline(__always) set { buf!.storeBytes(of: UInt32(newValue), as: UInt32.self) }
    }
    /// Room for entries in the allocation.
    var cap: Int { buf.map { malloc_usable_size($0) - ZListpack.headerSize } ?? 0 }
    private(set) var count: Int {
        @inline(__always) get { buf.map { Int($0.load(fromByteOffset: 4, as: UInt32.self)) } ?? 0 }
        @inline(__always) set { buf!.storeBytes(of: UInt32(newValue), toByteOffset: 4, as: UInt32.self) }
    }

    init() {}

    func deallocate() { free(buf) }

    var allocatedBytes: Int { buf.map { malloc_usable_size($0) } ?? 0 }

    // MARK: score encoding

    /// Integral scores in this range are stored as integers.
    static let exactIntegerLimit = 9_007_199_254_740_992.0  // 2^53

    /// The integer form of `s` if it has one (never for -0, NaN or huge values).
    @inline(__always) static func integral(_ s: Double) -> Int64? {
        guard s.magnitude < exactIntegerLimit, s.rounded(.towardZero) == s else { return nil }
        if s == 0 && s.sign == .minus { return nil }
        return Int64(s)
    }

    @inline(__always) static func scoreSize(_ s: Double) -> Int {
        guard let v = integral(s) else { return 9 }
        return varintSize(Int((UInt64(bitPattern: (v << 1) ^ (v >> 63)) << 1)))
    }

    /// Decodes the score at `p`: (score, bytes used).
    @inline(__always) static func readScore(_ p: UnsafeMutableRawPointer) -> (Double, Int) {
        var x: UInt64 = 0, shift: UInt64 = 0, i = 0
        while true {
            let b = p.load(fromByteOffset: i, as: UInt8.self)
            x |= UInt64(b & 0x7f) << shift
            i += 1
            if b < 0x80 { break }
            shift += 7
        }
        if x & 1 == 1 { return ((p + i).loadUnaligned(as: Double.self), i + 8) }
        let z = x >> 1
        let v = Int64(bitPattern: (z >> 1) ^ (0 &- (z & 1)))
        return (Double(v), i)
    }

    /// Encodes `s` at `p`; returns the bytes written.
    @inline(__always) static func writeScore(_ s: Double, _ p: UnsafeMutableRawPointer) -> Int {
        guard let v = integral(s) else {
            p.storeBytes(of: UInt8(1), as: UInt8.self)
            (p + 1).storeBytes(of: s, as: Double.self)
            return 9
        }
        var x = UInt64(bitPattern: (v << 1) ^ (v >> 63)) << 1
        var i = 0
        while x >= 0x80 {
            (p + i).storeBytes(of: UInt8(truncatingIfNeeded: x) | 0x80, as: UInt8.self)
            x >>= 7
            i += 1
        }
        (p + i).storeBytes(of: UInt8(x), as: UInt8.self)
        return i + 1
    }

    // MARK: entries

    @inline(__always)
    func entry(_ o: Int) -> (score: Double, member: UnsafeRawBufferPointer, next: Int) {
        let p = data + o
        let (s, ss) = ZListpack.readScore(p)
        var len = 0, shift = 0, i = ss
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

    @inline(__always) static func entrySize(_ m: Int, score: Double) -> Int { scoreSize(score) + varintSize(m) + m }

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

    /// Room for `extra` more bytes: grows to the allocator's next size class
    /// that fits (classes are at most 25% apart, so growth stays amortized).
    private mutating func ensure(_ extra: Int) {
        if used + extra <= cap { return }
        let fresh = buf == nil
        buf = realloc(buf, ZListpack.headerSize + used + extra)!
        if fresh { buf!.storeBytes(of: UInt64(0), as: UInt64.self) }
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
        let size = ZListpack.entrySize(m.count, score: s)
        ensure(size)
        let p = data
        if o < used { memmove(p + o + size, p + o, used - o) }
        var i = o + ZListpack.writeScore(s, p + o)
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
        if b < used { memmove(data + a, data + b, used - b) }
        used -= b - a
        count -= n
        if used == 0 {
            free(buf)
            buf = nil
        } else if cap > 256 && used * 4 < cap {
            buf = realloc(buf, ZListpack.headerSize + used * 2)!
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
            n.buf = malloc(ZListpack.headerSize + used)!
            n.buf!.copyMemory(from: buf!, byteCount: ZListpack.headerSize + used)
        }
        return n
    }
}
