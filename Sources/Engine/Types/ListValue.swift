// List values: a deque of packed chunks (the idea of Redis's quicklist).
// Every list reports OBJECT ENCODING "quicklist", as Redis 7.0 does.
//
// Chunks hold up to `maxBytes` of encoded elements (list-max-listpack-size:
// -2 = 8 KB by default) or `maxCount` elements; an element larger than that
// gets a chunk of its own. Pushes and pops at both ends are O(1) amortized.
//
// Index lookups (LINDEX, LSET, LRANGE's start) binary-search the chunks by
// their first element's index. Those indexes are cached in `ListChunk.start`
// as "virtual" positions: the real index of chunk k is `start - origin`, so a
// push or pop at the front only moves `origin` and chunk 0's start. Changes in
// the middle invalidate the cache from that chunk on (`valid`), and it is
// rebuilt lazily, only as far as a lookup needs.
//
// The push/pop methods are the entry points for other code (blocking pops,
// LMOVE): they keep `count` and the index cache consistent.

import Glibc

public final class ListValue: ValueObject {
    /// The chunks in order, in one block with an 8-byte header (ChunkArray):
    /// a small list's one chunk descriptor costs a 48-byte block instead of a
    /// Swift Array's 64 (or a Deque's 96). The O(chunks) moves at the front
    /// happen once per chunk filled or emptied (thousands of elements), not
    /// per push or pop.
    var chunks = ChunkArray()
    public private(set) var count = 0
    /// Virtual index of element 0.
    var origin = 0
    // The rest packs into 8 bytes so the object fits jemalloc's 48-byte class:
    // the index cache's extent, and the chunk limits (bytes - 1 in 16 bits,
    // up to 64 KB; an element count up to 32767 like Redis's 16-bit quicklist
    // fill, or 0xFFFF for no count limit).
    private var valid32: UInt32 = 0
    private let maxBytes16: UInt16
    private let maxCount16: UInt16

    /// chunks[0..<valid] have a correct `start`.
    var valid: Int {
        @inline(__always) get { Int(valid32) }
        @inline(__always) set { valid32 = UInt32(newValue) }
    }
    @inline(__always) var maxBytes: Int { Int(maxBytes16) + 1 }
    @inline(__always) var maxCount: Int { maxCount16 == 0xFFFF ? Int.max : Int(maxCount16) }

    public init(maxBytes: Int = 8192, maxCount: Int = Int.max) {
        maxBytes16 = UInt16(min(max(maxBytes, 1), 65536) - 1)
        maxCount16 = maxCount >= 0xFFFF ? 0xFFFF : UInt16(min(max(maxCount, 1), 32767))
    }

    /// A list sized as Redis's list-max-listpack-size: negative -1...-5 is a
    /// byte limit of 4..64 KB, positive an element count (8 KB safety limit).
    public convenience init(fill: Int) {
        if fill >= 0 {
            self.init(maxBytes: 8192, maxCount: max(fill, 1))
        } else {
            let level = min(-fill, 5)
            self.init(maxBytes: 4096 << (level - 1), maxCount: Int.max)
        }
    }

    deinit {
        for c in chunks { c.free() }
        chunks.deallocate()
    }

    public var encodingName: StaticString { "quicklist" }

    public func duplicate() -> ListValue {
        let l = ListValue(maxBytes: maxBytes, maxCount: maxCount)
        for c in chunks {
            var n = ListChunk(copying: c.buf + c.head, bytes: c.bytes, count: c.count)
            n.start = c.start
            l.chunks.append(n)
        }
        l.count = count
        l.origin = origin
        l.valid = valid
        return l
    }

    /// Number of chunks (for tests and DEBUG-style introspection).
    public var chunkCount: Int { chunks.count }

    /// Bytes allocated for element storage (approximate MEMORY USAGE).
    public var allocatedBytes: Int {
        var n = 0
        for c in chunks { n += c.cap }
        return n + chunks.count * MemoryLayout<ListChunk>.stride
    }

    @inline(__always) func fits(_ c: ListChunk, _ s: Int) -> Bool {
        c.count == 0 || (c.count < maxCount && c.bytes + s <= maxBytes)
    }

    // MARK: push / pop (also the hooks for blocking operations)

    public func pushBack(_ v: UnsafeRawBufferPointer) {
        let s = ListChunk.entrySize(v.count)
        let n = chunks.count
        if n == 0 || !fits(chunks[n - 1], s) {
            var c = ListChunk(capacity: ListChunk.growCap(s), atFront: false)
            if valid == n {
                c.start = n == 0 ? origin : chunks[n - 1].start + chunks[n - 1].count
                valid += 1
            }
            chunks.append(c)
        }
        chunks[chunks.count - 1].pushBack(v)
        count += 1
    }

    public func pushFront(_ v: UnsafeRawBufferPointer) {
        let s = ListChunk.entrySize(v.count)
        if chunks.isEmpty || !fits(chunks[0], s) {
            var c = ListChunk(capacity: ListChunk.growCap(s), atFront: true)
            c.start = origin
            chunks.insert(c, at: 0)
            valid += 1
        }
        chunks[0].pushFront(v)
        chunks[0].start -= 1
        origin -= 1
        count += 1
    }

    public func push(_ v: UnsafeRawBufferPointer, front: Bool) {
        if front { pushFront(v) } else { pushBack(v) }
    }

    public func push(_ v: [UInt8], front: Bool) {
        v.withUnsafeBytes { push($0, front: front) }
    }

    /// Removes the first element, handing its bytes to `body` before they go.
    @discardableResult
    public func popFront(_ body: (UnsafeRawBufferPointer) -> Void) -> Bool {
        if chunks.isEmpty { return false }
        let (d, next) = chunks[0].element(at: chunks[0].head)
        body(d)
        chunks[0].head = next
        chunks[0].count -= 1
        chunks[0].start += 1
        origin += 1
        count -= 1
        if chunks[0].count == 0 {
            chunks.removeFirst().free()
            valid = max(valid - 1, 0)
        }
        return true
    }

    /// Removes the last element, handing its bytes to `body` before they go.
    @discardableResult
    public func popBack(_ body: (UnsafeRawBufferPointer) -> Void) -> Bool {
        let n = chunks.count
        if n == 0 { return false }
        let (d, s) = chunks[n - 1].element(endingAt: chunks[n - 1].tail)
        body(d)
        chunks[n - 1].tail = s
        chunks[n - 1].count -= 1
        count -= 1
        if chunks[n - 1].count == 0 {
            chunks.removeLast().free()
            valid = min(valid, n - 1)
        }
        return true
    }

    @discardableResult
    public func pop(front: Bool, _ body: (UnsafeRawBufferPointer) -> Void) -> Bool {
        front ? popFront(body) : popBack(body)
    }

    public func pop(front: Bool) -> [UInt8]? {
        var out: [UInt8]? = nil
        pop(front: front) { out = Array($0) }
        return out
    }

    /// Drops the first `n` elements.
    public func removeFirst(_ n: Int) {
        var n = min(n, count)
        while n > 0 {
            let c0 = chunks[0].count
            if n >= c0 {
                chunks.removeFirst().free()
                valid = max(valid - 1, 0)
                origin += c0
                count -= c0
                n -= c0
            } else {
                chunks[0].head = chunks[0].offset(of: n)
                chunks[0].count -= n
                chunks[0].start += n
                chunks[0].shrinkIfSparse()
                origin += n
                count -= n
                n = 0
            }
        }
    }

    /// Drops the last `n` elements.
    public func removeLast(_ n: Int) {
        var n = min(n, count)
        while n > 0 {
            let last = chunks.count - 1
            let cl = chunks[last].count
            if n >= cl {
                chunks.removeLast().free()
                valid = min(valid, last)
                count -= cl
                n -= cl
            } else {
                chunks[last].tail = chunks[last].offset(of: cl - n)
                chunks[last].count -= n
                chunks[last].shrinkIfSparse()
                count -= n
                n = 0
            }
        }
    }

    // MARK: positions

    /// The chunk holding element `i` (0 <= i < count) and its local index.
    func locate(_ i: Int) -> (Int, Int) {
        let n = chunks.count
        let c0 = chunks[0].count
        if i < c0 { return (0, i) }
        let lastStart = count - chunks[n - 1].count
        if i >= lastStart { return (n - 1, i - lastStart) }
        if valid == 0 {
            chunks[0].start = origin
            valid = 1
        }
        while valid < n && chunks[valid - 1].start - origin + chunks[valid - 1].count <= i {
            chunks[valid].start = chunks[valid - 1].start + chunks[valid - 1].count
            valid += 1
        }
        // Last chunk among 0..<valid whose first index is <= i.
        var lo = 0, hi = valid - 1
        while lo < hi {
            let mid = (lo + hi + 1) >> 1
            if chunks[mid].start - origin <= i { lo = mid } else { hi = mid - 1 }
        }
        return (lo, i - (chunks[lo].start - origin))
    }

    /// (chunk, byte offset) of element `i`.
    func position(_ i: Int) -> (Int, Int) {
        let (k, j) = locate(i)
        return (k, chunks[k].offset(of: j))
    }

    /// Element `i` (0-based, non-negative); valid until the list changes.
    public func element(at i: Int) -> UnsafeRawBufferPointer? {
        if i < 0 || i >= count { return nil }
        let (k, o) = position(i)
        return chunks[k].element(at: o).0
    }

    /// Calls `body` for elements i, i+1, ... until it returns false or the end.
    public func forEach(from i: Int = 0, _ body: (UnsafeRawBufferPointer) -> Bool) {
        if i < 0 || i >= count { return }
        var (k, o) = position(i)
        let n = chunks.count
        while true {
            let c = chunks[k]
            while o < c.tail {
                let (d, next) = c.element(at: o)
                if !body(d) { return }
                o = next
            }
            k += 1
            if k == n { return }
            o = chunks[k].head
        }
    }

    /// Calls `body` for elements i, i-1, ... 0 until it returns false.
    public func forEachReversed(from i: Int, _ body: (UnsafeRawBufferPointer) -> Bool) {
        if i < 0 || i >= count { return }
        var k: Int, e: Int
        if i == count - 1 {
            k = chunks.count - 1
            e = chunks[k].tail
        } else {
            let (kk, o) = position(i)
            k = kk
            e = chunks[k].element(at: o).1
        }
        while true {
            let c = chunks[k]
            while e > c.head {
                let (d, s) = c.element(endingAt: e)
                if !body(d) { return }
                e = s
            }
            if k == 0 { return }
            k -= 1
            e = chunks[k].tail
        }
    }

    /// All elements, copied (tests, SORT, DUMP...).
    public func elements() -> [[UInt8]] {
        var out: [[UInt8]] = []
        out.reserveCapacity(count)
        forEach { out.append(Array($0)); return true }
        return out
    }

    // MARK: SORT support (ValueObject)

    public func sortElements() -> [[UInt8]] { elements() }

    /// SORT ... STORE: a list of `elements`, chunked as configured.
    public static func fromSortResult(_ elements: [[UInt8]], config: Config) -> ListValue? {
        let l = ListValue(fill: config.listMaxListpackSize)
        for e in elements { l.push(e, front: false) }
        return l
    }

    // MARK: changes in the middle

    /// Replaces element `i`; false if out of range.
    @discardableResult
    public func set(at i: Int, _ v: UnsafeRawBufferPointer) -> Bool {
        if i < 0 || i >= count { return false }
        let (k, o) = position(i)
        let (old, next) = chunks[k].element(at: o)
        let s = ListChunk.entrySize(v.count)
        let oldSize = next - o
        if s == oldSize || chunks[k].count == 1 || chunks[k].bytes - oldSize + s <= maxBytes {
            _ = old
            chunks[k].replace(at: o, with: v)
            if s < oldSize { chunks[k].shrinkIfSparse() }
            return true
        }
        // Too big for this chunk: take the old element out and insert anew.
        let b = chunks[k].removeRange(o, oldSize, elements: 1)
        count -= 1
        insert(v, chunk: k, offset: b)
        return true
    }

    /// Inserts `v` at byte boundary `o` of chunk `k`, splitting it if full.
    func insert(_ v: UnsafeRawBufferPointer, chunk k: Int, offset o: Int) {
        let s = ListChunk.entrySize(v.count)
        count += 1
        if fits(chunks[k], s) {
            chunks[k].insert(v, at: o)
            valid = min(valid, k + 1)
            return
        }
        if o == chunks[k].head && k > 0 && fits(chunks[k - 1], s) {
            chunks[k - 1].pushBack(v)
            valid = min(valid, k)
            return
        }
        if o == chunks[k].tail && k + 1 < chunks.count && fits(chunks[k + 1], s) {
            chunks[k + 1].pushFront(v)
            valid = min(valid, k + 2)
            return
        }
        valid = min(valid, k + 1)
        if o == chunks[k].tail {
            var c = ListChunk(capacity: ListChunk.growCap(s), atFront: false)
            c.pushBack(v)
            chunks.insert(c, at: k + 1)
            return
        }
        // Split chunk k at o: [head, o) stays, [o, tail) moves to a new chunk.
        var moved = 0
        var p = o
        while p < chunks[k].tail { p = chunks[k].element(at: p).1; moved += 1 }
        let b = ListChunk(copying: chunks[k].buf + o, bytes: chunks[k].tail - o, count: moved)
        chunks[k].tail = o
        chunks[k].count -= moved
        chunks.insert(b, at: k + 1)
        if fits(chunks[k], s) {
            chunks[k].pushBack(v)
        } else if fits(chunks[k + 1], s) {
            chunks[k + 1].pushFront(v)
        } else {
            var c = ListChunk(capacity: ListChunk.growCap(s), atFront: false)
            c.pushBack(v)
            chunks.insert(c, at: k + 1)
        }
    }

    /// Inserts `v` before or after the first element equal to `pivot`.
    /// False if there is no such element.
    public func insert(_ v: UnsafeRawBufferPointer, pivot: UnsafeRawBufferPointer, after: Bool) -> Bool {
        for k in 0..<chunks.count {
            let c = chunks[k]
            var o = c.head
            while o < c.tail {
                let (d, next) = c.element(at: o)
                if PackedCodec.equal(d, pivot) {
                    insert(v, chunk: k, offset: after ? next : o)
                    return true
                }
                o = next
            }
        }
        return false
    }

    /// Removes up to `limit` elements equal to `v` (0: all), from the head or
    /// the tail; returns how many were removed.
    public func remove(_ v: UnsafeRawBufferPointer, limit: Int, fromTail: Bool) -> Int {
        let limit = limit <= 0 ? Int.max : limit
        var removed = 0
        if !fromTail {
            var k = 0
            while k < chunks.count && removed < limit {
                let r = chunks[k].removeMatching(v, limit: limit - removed, fromBack: false)
                if r > 0 {
                    removed += r
                    if afterRemoval(k, r) { continue }
                }
                k += 1
            }
        } else {
            var k = chunks.count - 1
            while k >= 0 && removed < limit {
                let r = chunks[k].removeMatching(v, limit: limit - removed, fromBack: true)
                if r > 0 {
                    removed += r
                    _ = afterRemoval(k, r)
                }
                k -= 1
            }
        }
        if removed > 0 { mergeSmallChunks() }
        return removed
    }

    /// Bookkeeping after `r` elements left chunk `k`; true if the chunk was dropped.
    private func afterRemoval(_ k: Int, _ r: Int) -> Bool {
        count -= r
        if chunks[k].count == 0 {
            chunks.remove(at: k).free()
            valid = min(valid, k)
            return true
        }
        valid = min(valid, k + 1)
        return false
    }

    /// Merges neighbouring chunks that together fit in one (after LREM).
    func mergeSmallChunks() {
        var k = 0
        while k + 1 < chunks.count {
            let a = chunks[k], b = chunks[k + 1]
            if a.bytes + b.bytes <= maxBytes && a.count + b.count <= maxCount {
                let w = chunks[k].makeGap(at: chunks[k].tail, b.bytes)
                memcpy(chunks[k].buf + w, b.buf + b.head, b.bytes)
                chunks[k].count += b.count
                chunks.remove(at: k + 1).free()
                valid = min(valid, k + 1)
            } else {
                chunks[k].shrinkIfSparse()
                k += 1
            }
        }
        if !chunks.isEmpty { chunks[chunks.count - 1].shrinkIfSparse() }
    }

    /// Checks the internal invariants (tests).
    func checkInvariants() -> Bool {
        var total = 0
        for (k, c) in chunks.enumerated() {
            if c.count == 0 || c.head < 0 || c.tail > c.cap || c.head > c.tail { return false }
            var o = c.head, n = 0
            while o < c.tail { o = c.element(at: o).1; n += 1 }
            if o != c.tail || n != c.count { return false }
            if k < valid && c.start - origin != total { return false }
            total += c.count
        }
        return total == count
    }
}
