// Primitives of Redis's RDB serialization (shared by DUMP/RESTORE and the
// RDB files of the persistence layer): length and string encodings, binary
// doubles, and the RDB type codes of Redis 7.0.

public enum RDBType: UInt8 {
    case string = 0, list = 1, set = 2, zset = 3, hash = 4, zset2 = 5, module = 6, module2 = 7
    case hashZipmap = 9, listZiplist = 10, setIntset = 11, zsetZiplist = 12, hashZiplist = 13
    case listQuicklist = 14, streamListpacks = 15, hashListpack = 16, zsetListpack = 17
    case listQuicklist2 = 18, streamListpacks2 = 19
}

public struct RDBError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// Appends RDB-encoded values to a byte array.
public struct RDBWriter {
    public var bytes: [UInt8] = []
    /// LZF-compress strings longer than 20 bytes when it saves space (`rdbcompression`).
    public var compress: Bool

    public init(compress: Bool = true) { self.compress = compress }

    public mutating func byte(_ b: UInt8) { bytes.append(b) }

    public mutating func length(_ n: Int) {
        if n < 1 << 6 {
            bytes.append(UInt8(n))
        } else if n < 1 << 14 {
            bytes.append(UInt8(0x40 | (n >> 8)))
            bytes.append(UInt8(n & 0xff))
        } else if n <= Int(UInt32.max) {
            bytes.append(0x80)
            withUnsafeBytes(of: UInt32(n).bigEndian) { bytes.append(contentsOf: $0) }
        } else {
            bytes.append(0x81)
            withUnsafeBytes(of: UInt64(n).bigEndian) { bytes.append(contentsOf: $0) }
        }
    }

    /// A length that may need all 64 bits (module type ids).
    public mutating func length64(_ n: UInt64) {
        if n <= UInt64(UInt32.max) { length(Int(n)); return }
        bytes.append(0x81)
        withUnsafeBytes(of: n.bigEndian) { bytes.append(contentsOf: $0) }
    }

    /// A string, integer-encoded when it is a canonical integer that fits 32 bits.
    public mutating func string(_ s: UnsafeRawBufferPointer) {
        if s.count <= 11, let v = parseCanonicalInt64(s) {
            if v >= Int64(Int8.min) && v <= Int64(Int8.max) {
                bytes.append(0xC0); bytes.append(UInt8(bitPattern: Int8(v))); return
            } else if v >= Int64(Int16.min) && v <= Int64(Int16.max) {
                bytes.append(0xC1); withUnsafeBytes(of: Int16(v).littleEndian) { bytes.append(contentsOf: $0) }; return
            } else if v >= Int64(Int32.min) && v <= Int64(Int32.max) {
                bytes.append(0xC2); withUnsafeBytes(of: Int32(v).littleEndian) { bytes.append(contentsOf: $0) }; return
            }
        }
        if compress && s.count > 20, let c = LZF.compress(s) {
            bytes.append(0xC3)
            length(c.count)
            length(s.count)
            bytes.append(contentsOf: c)
            return
        }
        length(s.count)
        bytes.append(contentsOf: s)
    }

    public mutating func string(_ s: [UInt8]) { s.withUnsafeBytes { string($0) } }

    /// A double in binary form (RDB_TYPE_ZSET_2 scores): 8 bytes little endian.
    public mutating func binaryDouble(_ d: Double) {
        withUnsafeBytes(of: d.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func raw(_ b: [UInt8]) { bytes.append(contentsOf: b) }
}

/// Reads RDB-encoded values from a byte buffer.
/// The bytes an RDBReader reads: a copy it owns, or a read-only mapping of a
/// file (loading an RDB without holding it twice in memory). Views handed
/// out by the reader stay valid while the storage lives.
public final class RDBBytes {
    public let base: UnsafeRawPointer
    public let count: Int
    private let release: () -> Void

    public init(_ bytes: [UInt8]) {
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 8)
        bytes.withUnsafeBytes { if let b = $0.baseAddress { p.copyMemory(from: b, byteCount: $0.count) } }
        base = UnsafeRawPointer(p)
        count = bytes.count
        release = { p.deallocate() }
    }

    /// Bytes someone else allocated (a file mapping); `release` frees them,
    /// `drop(n)` tells that the first n bytes will not be read again.
    public init(base: UnsafeRawPointer, count: Int, release: @escaping () -> Void,
                drop: ((Int) -> Void)? = nil) {
        self.base = base
        self.count = count
        self.release = release
        self.drop = drop
    }

    private var drop: ((Int) -> Void)? = nil

    deinit { release() }

    /// The reader is past `offset` for good (loading a mapped file: its
    /// pages can leave memory).
    public func dropPages(before offset: Int) { drop?(offset) }

    public var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }
}

public struct RDBReader {
    public let storage: RDBBytes
    public var pos = 0

    public init(_ bytes: [UInt8]) { storage = RDBBytes(bytes) }
    public init(_ storage: RDBBytes) { self.storage = storage }

    public var count: Int { storage.count }
    public var remaining: Int { storage.count - pos }

    public mutating func byte() throws -> UInt8 {
        guard pos < storage.count else { throw RDBError("unexpected end of data") }
        pos += 1
        return storage.base.load(fromByteOffset: pos - 1, as: UInt8.self)
    }

    /// The next `n` bytes, as a view into the storage.
    public mutating func take(_ n: Int) throws -> UnsafeRawBufferPointer {
        guard n >= 0 && pos + n <= storage.count else { throw RDBError("unexpected end of data") }
        pos += n
        return UnsafeRawBufferPointer(start: storage.base + (pos - n), count: n)
    }

    private mutating func bigEndian(_ n: Int) throws -> UInt64 {
        var v: UInt64 = 0
        for b in try take(n) { v = v << 8 | UInt64(b) }
        return v
    }

    private mutating func littleEndian(_ n: Int) throws -> UInt64 {
        var v: UInt64 = 0
        for (i, b) in try take(n).enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
        return v
    }

    /// A length; `encoded` is set when it is a special string encoding instead.
    public mutating func length() throws -> (value: Int, encoded: Bool) {
        let b = try byte()
        switch b >> 6 {
        case 0: return (Int(b & 0x3f), false)
        case 1: return (Int(b & 0x3f) << 8 | Int(try byte()), false)
        case 2:
            if b == 0x80 { return (Int(try bigEndian(4)), false) }
            if b == 0x81 {
                let v = try bigEndian(8)
                guard v <= UInt64(Int.max) else { throw RDBError("length out of range") }
                return (Int(v), false)
            }
            throw RDBError("unknown length encoding \(b)")
        default: return (Int(b & 0x3f), true)
        }
    }

    /// A length as an unsigned 64-bit value (module type ids use all 64 bits).
    public mutating func length64() throws -> UInt64 {
        let b = try byte()
        if b == 0x81 { return try bigEndian(8) }
        pos -= 1
        return UInt64(try plainLength())
    }

    public mutating func plainLength() throws -> Int {
        let (v, enc) = try length()
        if enc { throw RDBError("unexpected encoded length") }
        return v
    }

    public mutating func string() throws -> [UInt8] {
        let (v, enc) = try length()
        if !enc { return Array(try take(v)) }
        return try encodedString(v)
    }

    /// Two consecutive strings (a key and its string value) handed to `body`
    /// without a copy where they are stored plain (views into the data, valid
    /// only inside `body`); integer and LZF forms are decoded first.
    public mutating func withTwoStrings<R>(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> R) throws -> R {
        let a = try stringSource(), b = try stringSource()
        let all = storage.buffer
        return try RDBReader.view(a, all) { first in try RDBReader.view(b, all) { second in try body(first, second) } }
    }

    private enum StringSource { case range(Int, Int), decoded([UInt8]) }

    private mutating func stringSource() throws -> StringSource {
        let (v, enc) = try length()
        if enc { return .decoded(try encodedString(v)) }
        guard v >= 0 && pos + v <= storage.count else { throw RDBError("unexpected end of data") }
        pos += v
        return .range(pos - v, v)
    }

    private static func view<R>(_ s: StringSource, _ all: UnsafeRawBufferPointer,
                                _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch s {
        case .range(let start, let count): return try body(UnsafeRawBufferPointer(rebasing: all[start..<(start + count)]))
        case .decoded(let bytes): return try bytes.withUnsafeBytes(body)
        }
    }

    private mutating func encodedString(_ v: Int) throws -> [UInt8] {
        switch v {
        case 0: return decimalBytes(Int64(Int8(bitPattern: try byte())))
        case 1: return decimalBytes(Int64(Int16(truncatingIfNeeded: try littleEndian(2))))
        case 2: return decimalBytes(Int64(Int32(truncatingIfNeeded: try littleEndian(4))))
        case 3:
            let clen = try plainLength()
            let len = try plainLength()
            let c = try take(clen)
            guard let out = LZF.decompress(c, outputCount: len) else {
                throw RDBError("invalid LZF data")
            }
            return out
        default: throw RDBError("unknown string encoding \(v)")
        }
    }

    public mutating func binaryDouble() throws -> Double {
        Double(bitPattern: try littleEndian(8))
    }

    /// The old text double of RDB_TYPE_ZSET: length byte, 253 nan, 254 +inf, 255 -inf.
    public mutating func textDouble() throws -> Double {
        let len = try byte()
        switch len {
        case 253: return .nan
        case 254: return .infinity
        case 255: return -.infinity
        default:
            let s = try take(Int(len))
            guard let d = parseDouble(Array(s)) else { throw RDBError("invalid double") }
            return d
        }
    }

    public mutating func uint64LE() throws -> UInt64 { try littleEndian(8) }
}
