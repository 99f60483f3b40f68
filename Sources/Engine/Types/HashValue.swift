// Hash values, in Redis's two encodings:
//
// - "listpack" while the hash has at most hash-max-listpack-entries fields and
//   no field or value longer than hash-max-listpack-value: one flat buffer of
//   pairs, each `varint(flen) field varint(vlen) value`, searched linearly.
// - "hashtable" after that, for good (no conversion back, as in Redis):
//   a MemberTable of one malloc'd block per field (HashFieldLayout), one
//   allocation per field where Redis needs a dictEntry and two sds strings.
//   The table struct is boxed (one small block) so that the many small
//   listpack hashes do not carry its room.
//
// Byte views handed out (get, forEach...) are valid until the hash changes.

import Glibc
import CJemalloc

/// A hashtable field: UInt32 field length, UInt32 value length, field bytes, value bytes.
enum HashFieldLayout: MemberLayout {
    @inline(__always) static func fieldLength(_ p: UnsafeRawPointer) -> Int { Int(p.load(as: UInt32.self)) }
    @inline(__always) static func valueLength(_ p: UnsafeRawPointer) -> Int { Int(p.load(fromByteOffset: 4, as: UInt32.self)) }
    @inline(__always) static func blockSize(_ p: UnsafeRawPointer) -> Int { 8 + fieldLength(p) + valueLength(p) }

    @inline(__always)
    static func member(_ p: UnsafeMutableRawPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: p + 8, count: fieldLength(p))
    }

    @inline(__always)
    static func value(_ p: UnsafeRawPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: p + 8 + fieldLength(p), count: valueLength(p))
    }

    static func make(_ f: UnsafeRawBufferPointer, _ v: UnsafeRawBufferPointer) -> UnsafeMutableRawPointer {
        let p = malloc(8 + f.count + v.count)!
        p.storeBytes(of: UInt32(f.count), as: UInt32.self)
        p.storeBytes(of: UInt32(v.count), toByteOffset: 4, as: UInt32.self)
        if f.count > 0 { memcpy(p + 8, f.baseAddress!, f.count) }
        if v.count > 0 { memcpy(p + 8 + f.count, v.baseAddress!, v.count) }
        return p
    }

    /// The block `p` with its value replaced by `v` (reallocated if the length changes).
    static func withValue(_ p: UnsafeMutableRawPointer, _ v: UnsafeRawBufferPointer) -> UnsafeMutableRawPointer {
        var p = p
        let fl = fieldLength(p)
        if valueLength(p) != v.count {
            p = realloc(p, 8 + fl + v.count)!
            p.storeBytes(of: UInt32(v.count), toByteOffset: 4, as: UInt32.self)
        }
        if v.count > 0 { memcpy(p + 8 + fl, v.baseAddress!, v.count) }
        return p
    }

    static func clone(_ p: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
        let size = blockSize(p)
        let q = malloc(size)!
        memcpy(q, p, size)
        return q
    }
}

public final class HashValue: ValueObject {
    // The object is 32 bytes (jemalloc's class): one pointer, to the listpack
    // buffer or to the boxed table, and the listpack's 32-bit sizes; a used
    // size of UInt32.max marks the hashtable form. The buffer's capacity is
    // its allocation's real size (malloc_usable_size), not a stored field.
    private var storage: UnsafeMutableRawPointer? = nil
    private var lpUsed32: UInt32 = 0
    private var lpCount32: UInt32 = 0
    private static let tableMark = UInt32.max

    /// The listpack buffer (listpack form only).
    var lp: UnsafeMutableRawPointer? {
        @inline(__always) get { lpUsed32 == HashValue.tableMark ? nil : storage }
        set { storage = newValue }
    }
    var lpUsed: Int {
        @inline(__always) get { lpUsed32 == HashValue.tableMark ? 0 : Int(lpUsed32) }
        @inline(__always) set { lpUsed32 = UInt32(newValue) }
    }
    var lpCount: Int {
        @inline(__always) get { Int(lpCount32) }
        @inline(__always) set { lpCount32 = UInt32(newValue) }
    }
    var lpCap: Int { lp.map { malloc_usable_size($0) } ?? 0 }
    /// The boxed table (hashtable form only); set once, by the conversion.
    private(set) var table: UnsafeMutablePointer<MemberTable<HashFieldLayout>>? {
        @inline(__always) get {
            lpUsed32 == HashValue.tableMark ? storage?.assumingMemoryBound(to: MemberTable<HashFieldLayout>.self) : nil
        }
        set {
            storage = newValue.map { UnsafeMutableRawPointer($0) }
            lpUsed32 = HashValue.tableMark
            lpCount32 = 0
        }
    }

    public init() {}

    deinit {
        if let p = lp { free(p) }
        if let t = table {
            t.pointee.forEach { free($0) }
            t.pointee.deallocate()
            t.deallocate()
        }
    }

    public var count: Int { table?.pointee.count ?? lpCount }
    public var isListpack: Bool { table == nil }
    public var encodingName: StaticString { table == nil ? "listpack" : "hashtable" }

    private static func box(_ t: MemberTable<HashFieldLayout>) -> UnsafeMutablePointer<MemberTable<HashFieldLayout>> {
        let p = UnsafeMutablePointer<MemberTable<HashFieldLayout>>.allocate(capacity: 1)
        p.initialize(to: t)
        return p
    }

    public func duplicate() -> HashValue {
        let h = HashValue()
        if let t = table {
            h.table = HashValue.box(t.pointee.copy(HashFieldLayout.clone))
        } else if lpUsed > 0 {
            h.lp = malloc(lpUsed)!
            memcpy(h.lp!, lp!, lpUsed)
            h.lpUsed = lpUsed
            h.lpCount = lpCount
        }
        return h
    }

    public var allocatedBytes: Int {
        guard let t = table else { return lpCap }
        var n = t.pointee.overheadBytes
        t.pointee.forEach { n += HashFieldLayout.blockSize($0) }
        return n
    }

    // MARK: listpack helpers

    /// Reads the pair at offset `o`: field, value, offset of the value's
    /// varint, and the offset of the next pair.
    @inline(__always)
    func lpPair(at o: Int) -> (UnsafeRawBufferPointer, UnsafeRawBufferPointer, Int, Int) {
        let p = lp!
        let (fl, fs) = PackedCodec.read(p + o)
        let vo = o + fs + fl
        let (vl, vs) = PackedCodec.read(p + vo)
        return (UnsafeRawBufferPointer(start: p + o + fs, count: fl),
                UnsafeRawBufferPointer(start: p + vo + vs, count: vl), vo, vo + vs + vl)
    }

    /// Offset of the pair whose field is `f`, or -1.
    func lpFind(_ f: UnsafeRawBufferPointer) -> Int {
        var o = 0
        while o < lpUsed {
            let (fl, fs) = PackedCodec.read(lp! + o)
            if fl == f.count && (fl == 0 || memcmp(lp! + o + fs, f.baseAddress!, fl) == 0) { return o }
            let vo = o + fs + fl
            let (vl, vs) = PackedCodec.read(lp! + vo)
            o = vo + vs + vl
        }
        return -1
    }

    /// Grows the buffer to the allocator's size class holding `extra` more
    /// bytes (classes are at most 25% apart: amortized O(1), little slack).
    private func lpReserve(_ extra: Int) {
        let need = lpUsed + extra
        if need <= lpCap { return }
        lp = realloc(lp, need)!
    }

    /// Replaces bytes [o, o+oldLen) with room for newLen bytes.
    private func lpResize(_ o: Int, _ oldLen: Int, _ newLen: Int) {
        if newLen > oldLen { lpReserve(newLen - oldLen) }
        let rest = lpUsed - o - oldLen
        if rest > 0 && newLen != oldLen { memmove(lp! + o + newLen, lp! + o + oldLen, rest) }
        lpUsed += newLen - oldLen
    }

    private func lpAppend(_ f: UnsafeRawBufferPointer, _ v: UnsafeRawBufferPointer) {
        let fs = PackedCodec.size(f.count), vs = PackedCodec.size(v.count)
        lpReserve(fs + f.count + vs + v.count)
        let p = lp! + lpUsed
        PackedCodec.write(f.count, p)
        if f.count > 0 { memcpy(p + fs, f.baseAddress!, f.count) }
        PackedCodec.write(v.count, p + fs + f.count)
        if v.count > 0 { memcpy(p + fs + f.count + vs, v.baseAddress!, v.count) }
        lpUsed += fs + f.count + vs + v.count
        lpCount += 1
    }

    /// Converts to the hashtable encoding (for good).
    public func convertToTable() {
        if table != nil { return }
        var t = MemberTable<HashFieldLayout>(reserving: lpCount)
        var o = 0
        while o < lpUsed {
            let (f, v, _, next) = lpPair(at: o)
            t.insertNew(HashFieldLayout.make(f, v))
            o = next
        }
        if let p = lp { free(p) }
        lp = nil
        lpUsed = 0
        lpCount = 0
        table = HashValue.box(t)
    }

    // MARK: access

    public func get(_ f: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        if let t = table {
            let i = t.pointee.find(f)
            return i < 0 ? nil : HashFieldLayout.value(t.pointee.element(at: i))
        }
        let o = lpFind(f)
        return o < 0 ? nil : lpPair(at: o).1
    }

    public func contains(_ f: UnsafeRawBufferPointer) -> Bool {
        if let t = table { return t.pointee.find(f) >= 0 }
        return lpFind(f) >= 0
    }

    /// Sets `f` to `v`; true if the field is new. Converts to a hashtable
    /// when a length exceeds `maxValue` or the size exceeds `maxEntries`.
    @discardableResult
    public func set(_ f: UnsafeRawBufferPointer, _ v: UnsafeRawBufferPointer, maxEntries: Int, maxValue: Int) -> Bool {
        if table == nil && (f.count > maxValue || v.count > maxValue) { convertToTable() }
        if let t = table {
            let h = memberHash(f)
            let i = t.pointee.find(f, hash: h)
            if i >= 0 {
                t.pointee.replace(slot: i, with: HashFieldLayout.withValue(t.pointee.element(at: i), v))
                return false
            }
            t.pointee.insertNew(HashFieldLayout.make(f, v), hash: h)
            return true
        }
        let o = lpFind(f)
        if o >= 0 {
            let (_, old, vo, next) = lpPair(at: o)
            let oldLen = next - vo
            let vs = PackedCodec.size(v.count)
            let newLen = vs + v.count
            _ = old
            lpResize(vo, oldLen, newLen)
            PackedCodec.write(v.count, lp! + vo)
            if v.count > 0 { memcpy(lp! + vo + vs, v.baseAddress!, v.count) }
            return false
        }
        lpAppend(f, v)
        if lpCount > maxEntries { convertToTable() }
        return true
    }

    public func set(_ f: UnsafeRawBufferPointer, _ v: [UInt8], maxEntries: Int, maxValue: Int) -> Bool {
        v.withUnsafeBytes { set(f, $0, maxEntries: maxEntries, maxValue: maxValue) }
    }

    /// Removes `f`; true if it was there.
    @discardableResult
    public func delete(_ f: UnsafeRawBufferPointer) -> Bool {
        if let t = table {
            let i = t.pointee.find(f)
            if i < 0 { return false }
            free(t.pointee.remove(slot: i))
            return true
        }
        let o = lpFind(f)
        if o < 0 { return false }
        let next = lpPair(at: o).3
        lpResize(o, next - o, 0)
        lpCount -= 1
        return true
    }

    /// Calls `body` for every (field, value), in a stable order while the hash is unchanged.
    public func forEach(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) {
        if let t = table {
            t.pointee.forEach { body(HashFieldLayout.member($0), HashFieldLayout.value($0)) }
            return
        }
        var o = 0
        while o < lpUsed {
            let (f, v, _, next) = lpPair(at: o)
            body(f, v)
            o = next
        }
    }

    /// SORT BY/GET "pattern->field".
    public func sortHashField(_ field: UnsafeRawBufferPointer) -> [UInt8]? {
        get(field).map { Array($0) }
    }

    /// All pairs, copied (tests, DUMP, SORT BY...).
    public func pairs() -> [([UInt8], [UInt8])] {
        var r: [([UInt8], [UInt8])] = []
        r.reserveCapacity(count)
        forEach { r.append((Array($0), Array($1))) }
        return r
    }

    /// One HSCAN call: a listpack hash returns everything with cursor 0; a
    /// hashtable visits buckets until about `count` fields were produced.
    public func scan(cursor: UInt64, count: Int,
                     _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) -> UInt64 {
        guard let t = table else {
            forEach(body)
            return 0
        }
        var cur = cursor
        var produced = 0
        var budget = count > Int.max / 10 ? Int.max : count * 10
        repeat {
            cur = t.pointee.scanStep(cursor: cur) { p in
                produced += 1
                body(HashFieldLayout.member(p), HashFieldLayout.value(p))
            }
            budget -= 1
        } while cur != 0 && budget > 0 && produced < count
        return cur
    }

    // MARK: random access (HRANDFIELD)

    /// Opaque handles of all pairs (listpack offsets or table slots).
    func allHandles() -> [Int] {
        if let t = table { return t.pointee.allSlots() }
        var r: [Int] = []
        r.reserveCapacity(lpCount)
        var o = 0
        while o < lpUsed { r.append(o); o = lpPair(at: o).3 }
        return r
    }

    /// A uniformly chosen pair's handle (the hash must not be empty).
    func randomHandle() -> Int {
        if let t = table { return t.pointee.randomSlot() }
        let k = Int.random(in: 0..<lpCount)
        var o = 0
        for _ in 0..<k { o = lpPair(at: o).3 }
        return o
    }

    /// The pair behind a handle.
    @inline(__always) func pair(_ h: Int) -> (UnsafeRawBufferPointer, UnsafeRawBufferPointer) {
        if let t = table {
            let p = t.pointee.element(at: h)
            return (HashFieldLayout.member(p), HashFieldLayout.value(p))
        }
        let (f, v, _, _) = lpPair(at: h)
        return (f, v)
    }
}
