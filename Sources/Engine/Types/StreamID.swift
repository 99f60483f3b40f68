// Stream entry IDs (<ms>-<seq>, two unsigned 64-bit halves) and their
// parsing with Redis 7.0's rules (streamGenericParseIDOrReply).

import Glibc

public struct StreamID: Comparable, Hashable, Sendable {
    public var ms: UInt64
    public var seq: UInt64

    @inline(__always) public init(ms: UInt64, seq: UInt64) { self.ms = ms; self.seq = seq }

    public static let zero = StreamID(ms: 0, seq: 0)
    public static let max = StreamID(ms: UInt64.max, seq: UInt64.max)

    @inline(__always) public static func < (a: StreamID, b: StreamID) -> Bool {
        a.ms < b.ms || (a.ms == b.ms && a.seq < b.seq)
    }

    @inline(__always) public var isZero: Bool { ms == 0 && seq == 0 }

    /// The next ID, or nil after the last possible one.
    @inline(__always) public var incremented: StreamID? {
        if seq == UInt64.max {
            if ms == UInt64.max { return nil }
            return StreamID(ms: ms + 1, seq: 0)
        }
        return StreamID(ms: ms, seq: seq + 1)
    }

    /// The previous ID, or nil before 0-0.
    @inline(__always) public var decremented: StreamID? {
        if seq == 0 {
            if ms == 0 { return nil }
            return StreamID(ms: ms - 1, seq: UInt64.max)
        }
        return StreamID(ms: ms, seq: seq - 1)
    }

    /// "<ms>-<seq>" written into a stack buffer, handed to `body`.
    @inline(__always)
    public func withText<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        var buf: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &buf) { raw in
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var n = StreamID.writeUnsigned(ms, p)
            p[n] = UInt8(ascii: "-"); n += 1
            n += StreamID.writeUnsigned(seq, p + n)
            return body(UnsafeRawBufferPointer(start: p, count: n))
        }
    }

    public var text: [UInt8] { withText { Array($0) } }
    public var description: String { withText { String(decoding: $0, as: UTF8.self) } }

    @inline(__always)
    static func writeUnsigned(_ v: UInt64, _ p: UnsafeMutablePointer<UInt8>) -> Int {
        var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)
        return withUnsafeMutableBytes(of: &tmp) { raw in
            let t = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var x = v, n = 0
            repeat { t[n] = UInt8(48 + x % 10); x /= 10; n += 1 } while x > 0
            for i in 0..<n { p[i] = t[n - 1 - i] }
            return n
        }
    }

    /// The 16-byte big-endian form (radix tree keys, RDB PEL entries).
    public var bigEndianBytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 {
            out[i] = UInt8(truncatingIfNeeded: ms >> (56 - 8 * UInt64(i)))
            out[8 + i] = UInt8(truncatingIfNeeded: seq >> (56 - 8 * UInt64(i)))
        }
        return out
    }

    public init<C: Collection>(bigEndian b: C) where C.Element == UInt8, C.Index == Int {
        var ms: UInt64 = 0, seq: UInt64 = 0
        let s = b.startIndex
        for i in 0..<8 { ms = ms << 8 | UInt64(b[s + i]) }
        for i in 8..<16 { seq = seq << 8 | UInt64(b[s + i]) }
        self.init(ms: ms, seq: seq)
    }

    // MARK: parsing

    /// Parses an ID argument. `missingSeq` fills a sequence left out ("5" ->
    /// 5-missingSeq); `strict` refuses "-" and "+"; `allowSeqStar` accepts
    /// "<ms>-*" (XADD), reported by `seqGiven` false.
    public static func parse(_ b: UnsafeRawBufferPointer, missingSeq: UInt64 = 0, strict: Bool = false,
                             allowSeqStar: Bool = false) -> (id: StreamID, seqGiven: Bool)? {
        let n = b.count
        if n > 127 { return nil }
        if n == 1 && (b[0] == UInt8(ascii: "-") || b[0] == UInt8(ascii: "+")) {
            if strict { return nil }
            return (b[0] == UInt8(ascii: "-") ? .zero : .max, true)
        }
        // C string semantics: the argument ends at a NUL byte.
        var len = 0
        while len < n && b[len] != 0 { len += 1 }
        var dash = -1
        for i in 0..<len where b[i] == UInt8(ascii: "-") { dash = i; break }
        let msPart = UnsafeRawBufferPointer(rebasing: b[0..<(dash < 0 ? len : dash)])
        guard let ms = parseULL(msPart) else { return nil }
        if dash < 0 { return (StreamID(ms: ms, seq: missingSeq), true) }
        let seqPart = UnsafeRawBufferPointer(rebasing: b[(dash + 1)..<len])
        if allowSeqStar && seqPart.count == 1 && seqPart[0] == UInt8(ascii: "*") {
            return (StreamID(ms: ms, seq: 0), false)
        }
        guard let seq = parseULL(seqPart) else { return nil }
        return (StreamID(ms: ms, seq: seq), true)
    }

    public static func parse(_ a: [UInt8], missingSeq: UInt64 = 0, strict: Bool = false) -> StreamID? {
        a.withUnsafeBytes { parse($0, missingSeq: missingSeq, strict: strict)?.id }
    }

    /// Redis's string2ull: a canonical non-negative integer, else whatever strtoull accepts whole.
    static func parseULL(_ b: UnsafeRawBufferPointer) -> UInt64? {
        if let v = parseCanonicalInt64(b) { return v < 0 ? nil : UInt64(v) }
        if b.count == 0 { return nil }
        var buf = [CChar](repeating: 0, count: b.count + 1)
        for i in 0..<b.count { buf[i] = CChar(bitPattern: b[i]) }
        return buf.withUnsafeMutableBufferPointer { p -> UInt64? in
            var end: UnsafeMutablePointer<CChar>? = nil
            errno = 0
            let v = strtoull(p.baseAddress!, &end, 10)
            if errno == EINVAL || errno == ERANGE { return nil }
            guard let e = end, e != p.baseAddress!, e.pointee == 0 else { return nil }
            return UInt64(v)
        }
    }
}
