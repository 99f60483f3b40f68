// One node of a list: a malloc'd buffer of packed elements, with free room
// kept at both ends so pushes at either side are O(1) amortized.
//
// Element encoding (listpack-like, walkable in both directions):
//
//   varint(len)  len bytes  backvarint(len)
//
// `varint` is LEB128 (low 7 bits first, high bit = more bytes follow);
// `backvarint` holds the same groups mirrored, so it can be read backwards
// from the element's end. A small element (< 128 bytes) costs 2 bytes of
// overhead, as in a Redis listpack.

import Glibc
import CJemalloc

/// Varint helpers of the packed encodings (lists, listpack hashes).
enum PackedCodec {
    @inline(__always) static func size(_ v: Int) -> Int {
        if v < 0x80 { return 1 }
        var n = 1
        var x = UInt(v) >> 7
        while x != 0 { n += 1; x >>= 7 }
        return n
    }

    @inline(__always) static func write(_ v: Int, _ p: UnsafeMutableRawPointer) {
        var x = UInt(v)
        var i = 0
        while x >= 0x80 {
            p.storeBytes(of: UInt8(truncatingIfNeeded: x) | 0x80, toByteOffset: i, as: UInt8.self)
            x >>= 7
            i += 1
        }
        p.storeBytes(of: UInt8(x), toByteOffset: i, as: UInt8.self)
    }

    /// Reads a varint at `p`: (value, size in bytes).
    @inline(__always) static func read(_ p: UnsafeRawPointer) -> (Int, Int) {
        var b = p.load(as: UInt8.self)
        if b < 0x80 { return (Int(b), 1) }
        var v = UInt(b & 0x7f)
        var shift: UInt = 7
        var i = 1
        while true {
            b = p.load(fromByteOffset: i, as: UInt8.self)
            v |= UInt(b & 0x7f) << shift
            i += 1
            if b < 0x80 { break }
            shift += 7
        }
        return (Int(v), i)
    }

    /// Writes the mirrored varint so that it ends right before `end`.
    @inline(__always) static func writeBack(_ v: Int, end: UnsafeMutableRawPointer) {
        var x = UInt(v)
        var i = -1
        while x >= 0x80 {
            end.storeBytes(of: UInt8(truncatingIfNeeded: x) | 0x80, toByteOffset: i, as: UInt8.self)
            x >>= 7
            i -= 1
        }
        end.storeBytes(of: UInt8(x), toByteOffset: i, as: UInt8.self)
    }

    /// Reads a mirrored varint ending right before `end`: (value, size in bytes).
    @inline(__always) static func readBack(end: UnsafeRawPointer) -> (Int, Int) {
        var b = end.load(fromByteOffset: -1, as: UInt8.self)
        if b < 0x80 { return (Int(b), 1) }
        var v = UInt(b & 0x7f)
        var shift: UInt = 7
        var i = 2
        while true {
            b = end.load(fromByteOffset: -i, as: UInt8.self)
            v |= UInt(b & 0x7f) << shift
            if b < 0x80 { break }
            i += 1
            shift += 7
        }
        return (Int(v), i)
    }

    @inline(__always) static func equal(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        a.count == b.count && (a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0)
    }
}

struct ListChunk {
    var buf: UnsafeMutableRawPointer
    // Offsets and counts are 32-bit (a chunk holds at most 64 KB of small
    // elements, or one element: elements are limited to 4 GB), so a chunk's
    // descriptor is 32 bytes and a small list's chunk array 64.
    private var head32: UInt32
    private var tail32: UInt32
    private var cap32: UInt32
    private var count32: UInt32 = 0
    /// Virtual index of the first element (see ListValue's index cache).
    var start = 0

    /// Used bytes are [head, tail).
    var head: Int {
        @inline(__always) get { Int(head32) }
        @inline(__always) set { head32 = UInt32(newValue) }
    }
    var tail: Int {
        @inline(__always) get { Int(tail32) }
        @inline(__always) set { tail32 = UInt32(newValue) }
    }
    var cap: Int {
        @inline(__always) get { Int(cap32) }
        @inline(__always) set { cap32 = UInt32(newValue) }
    }
    var count: Int {
        @inline(__always) get { Int(count32) }
        @inline(__always) set { count32 = UInt32(newValue) }
    }

    /// A new empty chunk; `atFront` puts the free room before the data (LPUSH).
    init(capacity: Int, atFront: Bool) {
        buf = malloc(capacity)!
        cap32 = UInt32(capacity)
        head32 = atFront ? UInt32(capacity) : 0
        tail32 = head32
    }

    /// A chunk holding a copy of `bytes` (already encoded entries).
    init(copying p: UnsafeRawPointer, bytes n: Int, count: Int) {
        let c = ListChunk.growCap(n)
        buf = malloc(c)!
        if n > 0 { memcpy(buf, p, n) }
        cap32 = UInt32(c)
        head32 = 0
        tail32 = UInt32(n)
        count32 = UInt32(count)
    }

    func free() { Glibc.free(buf) }

    @inline(__always) var bytes: Int { tail - head }

    @inline(__always) static func entrySize(_ n: Int) -> Int { n + 2 * PackedCodec.size(n) }

    /// The buffer size for `x` bytes: the allocator's size class that holds
    /// them (classes are at most 25% apart, so no power-of-two slack), exact
    /// past 64 KB.
    static func growCap(_ x: Int) -> Int {
        if x <= 16 { return 16 }
        if x > 65536 { return x }
        return Int(nallocx(x, 0))
    }

    /// Writes the encoded entry for `v` (of total size `size`) at `p`.
    @inline(__always) static func write(_ v: UnsafeRawBufferPointer, size: Int, at p: UnsafeMutableRawPointer) {
        let vs = (size - v.count) >> 1
        PackedCodec.write(v.count, p)
        if v.count > 0 { memcpy(p + vs, v.baseAddress!, v.count) }
        PackedCodec.writeBack(v.count, end: p + size)
    }

    // MARK: reading

    /// The element starting at offset `o`, and the offset of the next one.
    @inline(__always) func element(at o: Int) -> (UnsafeRawBufferPointer, Int) {
        let (len, vs) = PackedCodec.read(buf + o)
        return (UnsafeRawBufferPointer(start: buf + o + vs, count: len), o + len + 2 * vs)
    }

    /// The element ending at offset `e`, and the offset where it starts.
    @inline(__always) func element(endingAt e: Int) -> (UnsafeRawBufferPointer, Int) {
        let (len, vs) = PackedCodec.readBack(end: buf + e)
        let s = e - len - 2 * vs
        return (UnsafeRawBufferPointer(start: buf + s + vs, count: len), s)
    }

    /// Offset of the element with local index `j` (walks from the nearer end).
    func offset(of j: Int) -> Int {
        if j <= count / 2 {
            var o = head
            var k = 0
            while k < j { o = element(at: o).1; k += 1 }
            return o
        }
        var e = tail
        var k = count
        while k > j { e = element(endingAt: e).1; k -= 1 }
        return e
    }

    // MARK: writing

    /// Makes `s` free bytes at element boundary `o`; returns where they start.
    mutating func makeGap(at o: Int, _ s: Int) -> Int {
        let front = o - head, back = tail - o
        let roomFront = head, roomBack = cap - tail
        if back == 0 && roomBack >= s { tail += s; return o }
        if front == 0 && roomFront >= s { head -= s; return o - s }
        if front > 0 && back > 0 {
            if front <= back && roomFront >= s {
                memmove(buf + head - s, buf + head, front); head -= s; return o - s
            }
            if roomBack >= s { memmove(buf + o + s, buf + o, back); tail += s; return o }
            if roomFront >= s { memmove(buf + head - s, buf + head, front); head -= s; return o - s }
        }
        // Not enough room where needed: lay the data out again, growing when full.
        let need = front + back + s
        let newCap = need > cap ? ListChunk.growCap(max(need, cap + cap / 2)) : cap
        let slack = newCap - need
        let frontSlack: Int
        if front == 0 { frontSlack = slack - min(roomBack, slack / 2) }
        else if back == 0 { frontSlack = min(roomFront, slack / 2) }
        else { frontSlack = slack / 2 }
        let newHead = frontSlack
        if newCap != cap {
            let nb = malloc(newCap)!
            if front > 0 { memcpy(nb + newHead, buf + head, front) }
            if back > 0 { memcpy(nb + newHead + front + s, buf + o, back) }
            Glibc.free(buf)
            buf = nb
            cap = newCap
        } else if newHead > head {
            memmove(buf + newHead + front + s, buf + o, back)
            memmove(buf + newHead, buf + head, front)
        } else {
            memmove(buf + newHead, buf + head, front)
            memmove(buf + newHead + front + s, buf + o, back)
        }
        head = newHead
        tail = newHead + need
        return newHead + front
    }

    @inline(__always) mutating func pushBack(_ v: UnsafeRawBufferPointer) {
        let s = ListChunk.entrySize(v.count)
        let w = makeGap(at: tail, s)
        ListChunk.write(v, size: s, at: buf + w)
        count += 1
    }

    @inline(__always) mutating func pushFront(_ v: UnsafeRawBufferPointer) {
        let s = ListChunk.entrySize(v.count)
        let w = makeGap(at: head, s)
        ListChunk.write(v, size: s, at: buf + w)
        count += 1
    }

    /// Inserts `v` at element boundary `o`.
    mutating func insert(_ v: UnsafeRawBufferPointer, at o: Int) {
        let s = ListChunk.entrySize(v.count)
        let w = makeGap(at: o, s)
        ListChunk.write(v, size: s, at: buf + w)
        count += 1
    }

    /// Removes bytes [o, o+n) holding `k` elements, shifting the smaller side.
    /// Returns the offset of the boundary where the range was.
    @discardableResult
    mutating func removeRange(_ o: Int, _ n: Int, elements k: Int) -> Int {
        let front = o - head, back = tail - o - n
        count -= k
        if front < back {
            if front > 0 { memmove(buf + head + n, buf + head, front) }
            head += n
            return o + n
        }
        if back > 0 { memmove(buf + o, buf + o + n, back) }
        tail -= n
        return o
    }

    /// Replaces the element at `o` with `v`.
    mutating func replace(at o: Int, with v: UnsafeRawBufferPointer) {
        let (old, next) = element(at: o)
        let oldSize = next - o
        let s = ListChunk.entrySize(v.count)
        if s == oldSize {
            ListChunk.write(v, size: s, at: buf + o)
            return
        }
        _ = old
        let b = removeRange(o, oldSize, elements: 1)
        insert(v, at: b)
    }

    /// Removes up to `limit` elements equal to `v`, scanning from the front or
    /// the back; returns how many were removed.
    mutating func removeMatching(_ v: UnsafeRawBufferPointer, limit: Int, fromBack: Bool) -> Int {
        var removed = 0
        if !fromBack {
            var r = head, w = head
            while r < tail {
                let (d, next) = element(at: r)
                if removed < limit && PackedCodec.equal(d, v) {
                    removed += 1
                } else {
                    if w != r { memmove(buf + w, buf + r, next - r) }
                    w += next - r
                }
                r = next
            }
            tail = w
        } else {
            var r = tail, w = tail
            while r > head {
                let (d, s) = element(endingAt: r)
                if removed < limit && PackedCodec.equal(d, v) {
                    removed += 1
                } else {
                    if w != r { memmove(buf + w - (r - s), buf + s, r - s) }
                    w -= r - s
                }
                r = s
            }
            head = w
        }
        count -= removed
        return removed
    }

    /// Gives back memory when most of the buffer is unused.
    mutating func shrinkIfSparse() {
        let used = bytes
        if cap <= 64 || used * 4 > cap { return }
        let newCap = ListChunk.growCap(used)
        if newCap >= cap { return }
        let nb = malloc(newCap)!
        if used > 0 { memcpy(nb, buf + head, used) }
        Glibc.free(buf)
        buf = nb
        cap = newCap
        head = 0
        tail = used
    }
}
