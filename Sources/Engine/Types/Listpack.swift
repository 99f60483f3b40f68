// Redis's listpack byte format, written and read in place: the stream's
// nodes are listpacks byte for byte as Redis 7.0 builds them, so they go to
// RDB/DUMP unchanged and node boundaries (which XADD/XTRIM `~` expose) match.
//
//   header: UInt32 total bytes, UInt16 element count (65535 = unknown)
//   entries: encoding byte(s) + data + back-length (1-5 bytes)
//   terminator: 0xFF

/// One decoded listpack element: an integer, or a string in the listpack.
public struct LPElement {
    public var isInt: Bool
    public var int: Int64
    public var str: UnsafeRawPointer?
    public var len: Int
    /// Bytes of the entry, back-length included.
    public var size: Int
}

public enum Listpack {
    public static let headerSize = 6
    static let eof: UInt8 = 0xFF
    /// Counts above this are stored as "unknown".
    static let unknownCount = 65535

    @inline(__always) static func totalBytes(_ lp: UnsafeRawPointer) -> Int {
        Int(lp.loadUnaligned(as: UInt32.self).littleEndian)
    }
    @inline(__always) static func setTotalBytes(_ lp: UnsafeMutableRawPointer, _ n: Int) {
        lp.storeBytes(of: UInt32(n).littleEndian, as: UInt32.self)
    }
    @inline(__always) static func numElements(_ lp: UnsafeRawPointer) -> Int {
        Int((lp + 4).loadUnaligned(as: UInt16.self).littleEndian)
    }
    @inline(__always) static func setNumElements(_ lp: UnsafeMutableRawPointer, _ n: Int) {
        (lp + 4).storeBytes(of: UInt16(min(n, unknownCount)).littleEndian, as: UInt16.self)
    }
    /// Adds `delta` elements to the header count unless it is already "unknown".
    @inline(__always) static func bumpNumElements(_ lp: UnsafeMutableRawPointer, _ delta: Int) {
        let n = numElements(lp)
        if n != unknownCount { setNumElements(lp, n + delta) }
    }

    // MARK: sizes

    @inline(__always) static func backlenSize(_ l: Int) -> Int {
        l <= 127 ? 1 : (l < 16383 ? 2 : (l < 2_097_151 ? 3 : (l < 268_435_455 ? 4 : 5)))
    }

    /// Encoded size of an integer (without back-length).
    @inline(__always) static func intEncodedSize(_ v: Int64) -> Int {
        if v >= 0 && v <= 127 { return 1 }
        if v >= -4096 && v <= 4095 { return 2 }
        if v >= -32768 && v <= 32767 { return 3 }
        if v >= -8_388_608 && v <= 8_388_607 { return 4 }
        if v >= -2_147_483_648 && v <= 2_147_483_647 { return 5 }
        return 9
    }

    @inline(__always) static func intEntrySize(_ v: Int64) -> Int {
        let l = intEncodedSize(v)
        return l + backlenSize(l)
    }

    @inline(__always) static func strEncodedSize(_ n: Int) -> Int {
        n < 64 ? 1 + n : (n < 4096 ? 2 + n : 5 + n)
    }

    /// Bytes an element holding `s` takes (integers are stored as such, like lpAppend).
    @inline(__always) static func entrySize(_ s: UnsafeRawBufferPointer) -> Int {
        if s.count <= 20, let v = parseCanonicalInt64(s) { return intEntrySize(v) }
        let l = strEncodedSize(s.count)
        return l + backlenSize(l)
    }

    // MARK: writing (the caller made room)

    @inline(__always) static func writeBacklen(_ l: Int, _ p: UnsafeMutableRawPointer) -> Int {
        let b = p.assumingMemoryBound(to: UInt8.self)
        let u = UInt64(l)
        switch backlenSize(l) {
        case 1: b[0] = UInt8(u); return 1
        case 2: b[0] = UInt8(u >> 7); b[1] = UInt8(u & 127) | 128; return 2
        case 3:
            b[0] = UInt8(u >> 14); b[1] = UInt8((u >> 7) & 127) | 128; b[2] = UInt8(u & 127) | 128; return 3
        case 4:
            b[0] = UInt8(u >> 21); b[1] = UInt8((u >> 14) & 127) | 128
            b[2] = UInt8((u >> 7) & 127) | 128; b[3] = UInt8(u & 127) | 128; return 4
        default:
            b[0] = UInt8(truncatingIfNeeded: u >> 28); b[1] = UInt8((u >> 21) & 127) | 128
            b[2] = UInt8((u >> 14) & 127) | 128; b[3] = UInt8((u >> 7) & 127) | 128
            b[4] = UInt8(u & 127) | 128; return 5
        }
    }

    /// Writes an integer entry at `p`; returns its size.
    @inline(__always) static func writeInt(_ v: Int64, _ p: UnsafeMutableRawPointer) -> Int {
        let b = p.assumingMemoryBound(to: UInt8.self)
        let l = intEncodedSize(v)
        let u = UInt64(bitPattern: v)
        switch l {
        case 1: b[0] = UInt8(v)
        case 2:
            let x = v < 0 ? (1 << 13) + v : v
            b[0] = UInt8(x >> 8) | 0xC0; b[1] = UInt8(x & 0xFF)
        case 3: b[0] = 0xF1; b[1] = UInt8(truncatingIfNeeded: u); b[2] = UInt8(truncatingIfNeeded: u >> 8)
        case 4:
            b[0] = 0xF2
            for k in 0..<3 { b[1 + k] = UInt8(truncatingIfNeeded: u >> (8 * UInt64(k))) }
        case 5:
            b[0] = 0xF3
            for k in 0..<4 { b[1 + k] = UInt8(truncatingIfNeeded: u >> (8 * UInt64(k))) }
        default:
            b[0] = 0xF4
            for k in 0..<8 { b[1 + k] = UInt8(truncatingIfNeeded: u >> (8 * UInt64(k))) }
        }
        return l + writeBacklen(l, p + l)
    }

    /// Writes an element holding `s` at `p` (as an integer when it is one); returns its size.
    @inline(__always) static func writeString(_ s: UnsafeRawBufferPointer, _ p: UnsafeMutableRawPointer) -> Int {
        if s.count <= 20, let v = parseCanonicalInt64(s) { return writeInt(v, p) }
        let b = p.assumingMemoryBound(to: UInt8.self)
        let n = s.count
        var h: Int
        if n < 64 { b[0] = UInt8(n) | 0x80; h = 1 }
        else if n < 4096 { b[0] = UInt8(n >> 8) | 0xE0; b[1] = UInt8(n & 0xFF); h = 2 }
        else {
            b[0] = 0xF0
            for k in 0..<4 { b[1 + k] = UInt8(truncatingIfNeeded: n >> (8 * k)) }
            h = 5
        }
        if n > 0 { (p + h).copyMemory(from: s.baseAddress!, byteCount: n) }
        return h + n + writeBacklen(h + n, p + h + n)
    }

    // MARK: reading

    /// Decodes the element at `p` (which must not be the terminator).
    @inline(__always) static func element(_ p: UnsafeRawPointer) -> LPElement {
        let b = p.assumingMemoryBound(to: UInt8.self)
        let e = b[0]
        var l: Int
        var r = LPElement(isInt: true, int: 0, str: nil, len: 0, size: 0)
        if e & 0x80 == 0 {
            r.int = Int64(e); l = 1
        } else if e & 0xC0 == 0x80 {
            let n = Int(e & 0x3F)
            r.isInt = false; r.str = p + 1; r.len = n; l = 1 + n
        } else if e & 0xE0 == 0xC0 {
            var v = Int64(Int(e & 0x1F) << 8 | Int(b[1]))
            if v >= 1 << 12 { v -= 1 << 13 }
            r.int = v; l = 2
        } else if e & 0xF0 == 0xE0 {
            let n = Int(e & 0x0F) << 8 | Int(b[1])
            r.isInt = false; r.str = p + 2; r.len = n; l = 2 + n
        } else if e == 0xF0 {
            let n = Int(UInt32(littleEndian: (p + 1).loadUnaligned(as: UInt32.self)))
            r.isInt = false; r.str = p + 5; r.len = n; l = 5 + n
        } else {
            let w: Int
            switch e {
            case 0xF1: w = 2
            case 0xF2: w = 3
            case 0xF3: w = 4
            default: w = 8
            }
            var u: UInt64 = 0
            for k in 0..<w { u |= UInt64(b[1 + k]) << (8 * UInt64(k)) }
            let shift = UInt64(64 - 8 * w)
            r.int = Int64(bitPattern: u << shift) >> Int64(shift)
            l = 1 + w
        }
        r.size = l + backlenSize(l)
        return r
    }

    /// The integer value of the element at `p` (stream metadata is always integers).
    @inline(__always) static func int(_ p: UnsafeRawPointer) -> Int64 {
        let e = element(p)
        if e.isInt { return e.int }
        return parseCanonicalInt64(UnsafeRawBufferPointer(start: e.str, count: e.len)) ?? 0
    }

    @inline(__always) static func skip(_ p: UnsafeRawPointer) -> Int { element(p).size }

    /// Calls `body` with the bytes of the element (integers in decimal form).
    @inline(__always)
    static func withBytes<R>(_ e: LPElement, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        if !e.isInt { return body(UnsafeRawBufferPointer(start: e.str, count: e.len)) }
        var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)
        return withUnsafeMutableBytes(of: &tmp) { raw in
            let n = writeDecimal(e.int, to: raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
            return body(UnsafeRawBufferPointer(start: raw.baseAddress!, count: n))
        }
    }

    /// True if the element equals `s` byte for byte (as Redis compares master fields).
    @inline(__always) static func equals(_ e: LPElement, _ s: UnsafeRawBufferPointer) -> Bool {
        withBytes(e) { $0.count == s.count && (s.count == 0 || memcmp($0.baseAddress!, s.baseAddress!, s.count) == 0) }
    }
}

import Glibc
import RESP
