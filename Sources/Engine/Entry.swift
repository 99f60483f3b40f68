// The layout of one key's entry in a database: a single allocation holding a
// small header, the key bytes and the value.
//
//   0  UInt32 key length
//   4  UInt32 value length (strings: bytes; objects: 8)
//   8  UInt8  type (bits 0-3, ValueType), encoding (bits 4-5, strings:
//             StringEncoding), has-expire flag (bit 7)
//   9  UInt32 (unaligned) LRU clock or LFU minutes (bits 0-23), LFU counter (bits 24-31)
//  13  key bytes
//  ..  value bytes, or a retained object pointer for non-string types
//  ..  if it has an expire: Int64 unix ms + UInt32 position in the expires index
//
// One allocation per key keeps memory per key well below Redis's (which uses a
// dictEntry, a robj and an sds) and makes a GET one hash probe plus one read.
// The header is 13 bytes rather than 16 so that an aggregate's entry with a
// key of up to 11 bytes (13 + key + 8-byte pointer) fits jemalloc's 32-byte
// class instead of 48; the LRU clock is 24 bits, as Redis's.

import Glibc

public enum ValueType: UInt8, Sendable {
    case string = 0, list = 1, set = 2, zset = 3, hash = 4, stream = 5, module = 6

    public var name: StaticString {
        switch self {
        case .string: return "string"
        case .list: return "list"
        case .set: return "set"
        case .zset: return "zset"
        case .hash: return "hash"
        case .stream: return "stream"
        case .module: return "module"
        }
    }
}

public enum StringEncoding: UInt8, Sendable {
    case raw = 0, embstr = 1, int = 2
}

/// A view of an entry. Valid until the database changes the key.
public struct Entry {
    public let ptr: UnsafeMutableRawPointer

    @inline(__always) public init(_ ptr: UnsafeMutableRawPointer) { self.ptr = ptr }

    static let headerSize = 13
    static let expireBlockSize = 12
    static let flagHasExpire: UInt8 = 0x80
    static let typeMask: UInt8 = 0x0F
    static let encodingShift: UInt8 = 4
    static let encodingMask: UInt8 = 0x30

    @inline(__always) public var keyCount: Int { Int(ptr.load(as: UInt32.self)) }
    @inline(__always) var valueCount: Int { Int(ptr.load(fromByteOffset: 4, as: UInt32.self)) }
    /// The byte holding type, encoding and flags.
    @inline(__always) private var meta: UInt8 {
        get { ptr.load(fromByteOffset: 8, as: UInt8.self) }
        nonmutating set { ptr.storeBytes(of: newValue, toByteOffset: 8, as: UInt8.self) }
    }
    @inline(__always) public var type: ValueType { ValueType(rawValue: meta & Entry.typeMask)! }
    @inline(__always) var typeRaw: UInt8 { meta & Entry.typeMask }
    @inline(__always) public var encodingRaw: UInt8 {
        get { (meta & Entry.encodingMask) >> Entry.encodingShift }
        nonmutating set { meta = (meta & ~Entry.encodingMask) | ((newValue << Entry.encodingShift) & Entry.encodingMask) }
    }
    /// Flag bits (Entry.flagHasExpire).
    @inline(__always) var flags: UInt8 {
        get { meta & Entry.flagHasExpire }
        nonmutating set { meta = (meta & ~Entry.flagHasExpire) | (newValue & Entry.flagHasExpire) }
    }
    /// The packed access word: LRU clock / LFU minutes (24 bits) and LFU counter (8 bits).
    @inline(__always) private var accessWord: UInt32 {
        get { ptr.loadUnaligned(fromByteOffset: 9, as: UInt32.self) }
        nonmutating set { ptr.storeBytes(of: newValue, toByteOffset: 9, as: UInt32.self) }
    }
    @inline(__always) public var lfu: UInt8 {
        get { UInt8(truncatingIfNeeded: accessWord >> 24) }
        nonmutating set { accessWord = (accessWord & 0xFF_FFFF) | (UInt32(newValue) << 24) }
    }
    /// LRU clock in seconds, or LFU minutes: 24 bits (wider values are truncated).
    @inline(__always) public var lru: UInt32 {
        get { accessWord & 0xFF_FFFF }
        nonmutating set { accessWord = (accessWord & 0xFF00_0000) | (newValue & 0xFF_FFFF) }
    }

    /// Writes the header of a new entry.
    @inline(__always) private static func storeHeader(_ p: UnsafeMutableRawPointer, keyCount: Int, valueCount: Int,
                                                     type: ValueType, encoding: UInt8, hasExpire: Bool, lru: UInt32) {
        p.storeBytes(of: UInt32(keyCount), as: UInt32.self)
        p.storeBytes(of: UInt32(valueCount), toByteOffset: 4, as: UInt32.self)
        let meta = type.rawValue | (encoding << encodingShift) | (hasExpire ? flagHasExpire : 0)
        p.storeBytes(of: meta, toByteOffset: 8, as: UInt8.self)
        // LFU_INIT_VAL (5) in the counter byte.
        p.storeBytes(of: (lru & 0xFF_FFFF) | (5 << 24), toByteOffset: 9, as: UInt32.self)
    }

    @inline(__always) public var keyPointer: UnsafeMutableRawPointer { ptr + Entry.headerSize }
    @inline(__always) public var key: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: keyPointer, count: keyCount)
    }
    public var keyBytes: [UInt8] { Array(key) }

    @inline(__always) var valuePointer: UnsafeMutableRawPointer { ptr + Entry.headerSize + keyCount }

    /// The string value's bytes (type must be .string).
    @inline(__always) public var stringValue: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: valuePointer, count: valueCount)
    }

    /// The object of a non-string value.
    @inline(__always) public var object: AnyObject {
        let raw = valuePointer.loadUnaligned(as: UInt.self)
        return Unmanaged<AnyObject>.fromOpaque(UnsafeRawPointer(bitPattern: raw)!).takeUnretainedValue()
    }

    @inline(__always) public var hasExpire: Bool { flags & Entry.flagHasExpire != 0 }

    @inline(__always) var expireBlock: UnsafeMutableRawPointer { valuePointer + valueCount }

    /// Unix time in ms at which the key expires, or nil.
    @inline(__always) public var expireAt: Int64? {
        hasExpire ? expireBlock.loadUnaligned(as: Int64.self) : nil
    }

    @inline(__always) var expireIndex: Int {
        get { Int(expireBlock.loadUnaligned(fromByteOffset: 8, as: UInt32.self)) }
        nonmutating set { expireBlock.storeBytes(of: UInt32(newValue), toByteOffset: 8, as: UInt32.self) }
    }

    @inline(__always) func storeExpireAt(_ ms: Int64) {
        expireBlock.storeBytes(of: ms, as: Int64.self)
    }

    var allocationSize: Int {
        Entry.headerSize + keyCount + valueCount + (hasExpire ? Entry.expireBlockSize : 0)
    }

    @inline(__always) func keyEquals(_ k: UnsafeRawBufferPointer) -> Bool {
        keyCount == k.count && (k.count == 0 || memcmp(keyPointer, k.baseAddress!, k.count) == 0)
    }

    // MARK: creation

    /// Allocates an entry for a string value.
    static func makeString(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer,
                           encoding: StringEncoding, lru: UInt32, expireAt: Int64?) -> Entry {
        let size = headerSize + key.count + value.count + (expireAt != nil ? expireBlockSize : 0)
        let p = malloc(size)!
        storeHeader(p, keyCount: key.count, valueCount: value.count, type: .string, encoding: encoding.rawValue,
                    hasExpire: expireAt != nil, lru: lru)
        if key.count > 0 { (p + headerSize).copyMemory(from: key.baseAddress!, byteCount: key.count) }
        if value.count > 0 { (p + headerSize + key.count).copyMemory(from: value.baseAddress!, byteCount: value.count) }
        let e = Entry(p)
        if let t = expireAt { e.storeExpireAt(t) }
        return e
    }

    /// Allocates an entry holding a retained reference to `object`.
    static func makeObject(key: UnsafeRawBufferPointer, object: AnyObject, type: ValueType,
                           lru: UInt32, expireAt: Int64?) -> Entry {
        let size = headerSize + key.count + 8 + (expireAt != nil ? expireBlockSize : 0)
        let p = malloc(size)!
        storeHeader(p, keyCount: key.count, valueCount: 8, type: type, encoding: 0,
                    hasExpire: expireAt != nil, lru: lru)
        if key.count > 0 { (p + headerSize).copyMemory(from: key.baseAddress!, byteCount: key.count) }
        let raw = UInt(bitPattern: Unmanaged.passRetained(object).toOpaque())
        (p + headerSize + key.count).storeBytes(of: raw, as: UInt.self)
        let e = Entry(p)
        if let t = expireAt { e.storeExpireAt(t) }
        return e
    }

    /// Reallocates a string entry so its value has `newCount` bytes (at least
    /// the current count, at most UInt32.max): the new bytes are zeroed and the
    /// expire block moves along. The allocator often extends in place, so
    /// growing a bitmap a little at a time (SETBIT) does not copy it each time.
    /// Nil if memory is exhausted (the entry is then unchanged). The database
    /// slot must be repointed at the result (Database.moved).
    func grownString(to newCount: Int) -> Entry? {
        let oldCount = valueCount
        let expireBytes = hasExpire ? Entry.expireBlockSize : 0
        guard let p = realloc(ptr, Entry.headerSize + keyCount + newCount + expireBytes) else { return nil }
        let e = Entry(p)
        let v = e.valuePointer
        if expireBytes > 0 { memmove(v + newCount, v + oldCount, expireBytes) }
        memset(v + oldCount, 0, newCount - oldCount)
        p.storeBytes(of: UInt32(newCount), toByteOffset: 4, as: UInt32.self)
        return e
    }

    /// Frees the entry and releases its object, if any.
    func destroy() {
        if typeRaw != ValueType.string.rawValue {
            let raw = valuePointer.loadUnaligned(as: UInt.self)
            Unmanaged<AnyObject>.fromOpaque(UnsafeRawPointer(bitPattern: raw)!).release()
        }
        free(ptr)
    }
}

/// Chooses how a string value is reported by OBJECT ENCODING, as Redis's
/// tryObjectEncoding does: integers that fit in 64 bits are "int", short
/// strings "embstr", the rest "raw".
@inline(__always)
public func stringEncoding(for v: UnsafeRawBufferPointer) -> StringEncoding {
    if v.count <= 20, parseCanonicalInt64(v) != nil { return .int }
    return v.count <= 44 ? .embstr : .raw
}

/// Parses a decimal integer exactly as Redis's string2ll: no spaces, no '+',
/// no leading zeros, "-0" rejected, within Int64.
@inline(__always)
public func parseCanonicalInt64(_ b: UnsafeRawBufferPointer) -> Int64? {
    let n = b.count
    if n == 0 || n > 20 { return nil }
    let p = b.baseAddress!.assumingMemoryBound(to: UInt8.self)
    if n == 1 && p[0] == UInt8(ascii: "0") { return 0 }
    var i = 0
    var negative = false
    if p[0] == UInt8(ascii: "-") { negative = true; i = 1; if n == 1 { return nil } }
    if p[i] < UInt8(ascii: "1") || p[i] > UInt8(ascii: "9") { return nil }
    var v: UInt64 = 0
    while i < n {
        let d = p[i] &- 48
        if d > 9 { return nil }
        let (m, o1) = v.multipliedReportingOverflow(by: 10)
        let (s, o2) = m.addingReportingOverflow(UInt64(d))
        if o1 || o2 { return nil }
        v = s
        i += 1
    }
    if negative {
        if v > UInt64(Int64.max) + 1 { return nil }
        return v == UInt64(Int64.max) + 1 ? Int64.min : -Int64(v)
    }
    if v > UInt64(Int64.max) { return nil }
    return Int64(v)
}
