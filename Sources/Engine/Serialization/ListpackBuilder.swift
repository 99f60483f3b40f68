// Encoders for the packed blobs of Redis's RDB encodings: listpack (hashes,
// zsets and quicklist nodes, RDB types 16/17/18) and intset (type 11). Our
// in-memory layouts differ, so values are transcoded on write; the decoders
// are in PackedFormats.swift.

/// Builds one Redis listpack: a 6-byte header (total bytes, element count),
/// the entries, each followed by its length encoded backwards, and 0xFF.
public struct ListpackBuilder {
    public private(set) var bytes: [UInt8]
    public private(set) var count = 0

    public init(reservingCapacity n: Int = 64) {
        bytes = [0, 0, 0, 0, 0, 0]
        bytes.reserveCapacity(n + 7)
    }

    /// Appends an element: integer-encoded when it is a canonical integer, as Redis does.
    public mutating func append(_ s: UnsafeRawBufferPointer) {
        if s.count <= 20, let v = parseCanonicalInt64(s) {
            append(int: v)
            return
        }
        let start = bytes.count
        let n = s.count
        if n < 64 {
            bytes.append(0x80 | UInt8(n))
        } else if n < 4096 {
            bytes.append(0xE0 | UInt8(n >> 8))
            bytes.append(UInt8(n & 0xFF))
        } else {
            bytes.append(0xF0)
            withUnsafeBytes(of: UInt32(n).littleEndian) { bytes.append(contentsOf: $0) }
        }
        bytes.append(contentsOf: s)
        appendBacklen(bytes.count - start)
        count += 1
    }

    public mutating func append(_ s: [UInt8]) { s.withUnsafeBytes { append($0) } }

    public mutating func append(int v: Int64) {
        let start = bytes.count
        if v >= 0 && v <= 127 {
            bytes.append(UInt8(v))
        } else if v >= -4096 && v <= 4095 {
            let u = v < 0 ? Int((1 << 13) + v) : Int(v)
            bytes.append(0xC0 | UInt8(u >> 8))
            bytes.append(UInt8(u & 0xFF))
        } else {
            let width: Int, tag: UInt8
            if v >= -32768 && v <= 32767 { width = 2; tag = 0xF1 }
            else if v >= -8_388_608 && v <= 8_388_607 { width = 3; tag = 0xF2 }
            else if v >= Int64(Int32.min) && v <= Int64(Int32.max) { width = 4; tag = 0xF3 }
            else { width = 8; tag = 0xF4 }
            bytes.append(tag)
            let u = UInt64(bitPattern: v)
            for k in 0..<width { bytes.append(UInt8(truncatingIfNeeded: u >> (8 * UInt64(k)))) }
        }
        appendBacklen(bytes.count - start)
        count += 1
    }

    /// The entry length, written so it can be read from its last byte backwards:
    /// 7-bit groups, most significant first; all but the first carry the high bit.
    private mutating func appendBacklen(_ l: Int) {
        let groups = l <= 127 ? 1 : l < 16383 ? 2 : l < 2_097_151 ? 3 : l < 268_435_455 ? 4 : 5
        bytes.append(UInt8((l >> (7 * (groups - 1))) & 127))
        var g = groups - 1
        while g > 0 {
            g -= 1
            bytes.append(UInt8((l >> (7 * g)) & 127) | 128)
        }
    }

    /// The finished blob.
    public mutating func finish() -> [UInt8] {
        bytes.append(0xFF)
        let total = UInt32(bytes.count)
        for k in 0..<4 { bytes[k] = UInt8(truncatingIfNeeded: total >> (8 * UInt32(k))) }
        let n = UInt16(min(count, 65535))
        bytes[4] = UInt8(n & 0xFF)
        bytes[5] = UInt8(n >> 8)
        return bytes
    }
}

public enum IntsetEncoder {
    /// An intset blob of ascending `values`: encoding width, count, little-endian members.
    public static func encode(_ values: [Int64]) -> [UInt8] {
        var width = 2
        for v in values {
            if v < Int64(Int32.min) || v > Int64(Int32.max) { width = 8; break }
            if v < Int64(Int16.min) || v > Int64(Int16.max) { width = 4 }
        }
        var out: [UInt8] = []
        out.reserveCapacity(8 + width * values.count)
        withUnsafeBytes(of: UInt32(width).littleEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(values.count).littleEndian) { out.append(contentsOf: $0) }
        for v in values {
            let u = UInt64(bitPattern: v)
            for k in 0..<width { out.append(UInt8(truncatingIfNeeded: u >> (8 * UInt64(k)))) }
        }
        return out
    }
}
