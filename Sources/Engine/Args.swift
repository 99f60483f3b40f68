// The arguments of the command being executed: byte ranges of a buffer that
// stays untouched while the command runs (the query buffer, or a MULTI queue).

import RESP
import CShims

public struct Args {
    public let base: UnsafeRawPointer
    public let spans: UnsafeBufferPointer<ArgSpan>

    @inline(__always) public init(base: UnsafeRawPointer, spans: UnsafeBufferPointer<ArgSpan>) {
        self.base = base
        self.spans = spans
    }

    @inline(__always) public var count: Int { spans.count }

    @inline(__always) public subscript(i: Int) -> UnsafeRawBufferPointer {
        let s = spans[i]
        return UnsafeRawBufferPointer(start: base + s.offset, count: s.count)
    }

    public func bytes(_ i: Int) -> [UInt8] { Array(self[i]) }

    public func string(_ i: Int) -> String { String(decoding: self[i], as: UTF8.self) }

    /// Case-insensitive comparison with an ASCII literal (option names).
    @inline(__always)
    public func equals(_ i: Int, _ literal: StaticString) -> Bool {
        self[i].equalsIgnoringCase(literal)
    }

    /// The argument as an integer, with Redis's strict rules (string2ll).
    public func int64(_ i: Int) -> Int64? { parseCanonicalInt64(self[i]) }

    public func double(_ i: Int) -> Double? { parseDouble(self[i]) }
}

extension UnsafeRawBufferPointer {
    @inline(__always)
    public func equalsIgnoringCase(_ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        if count != n { return false }
        let l = literal.utf8Start
        for i in 0..<n {
            var c = self[i]
            if c >= 65 && c <= 90 { c |= 0x20 }
            var d = l[i]
            if d >= 65 && d <= 90 { d |= 0x20 }
            if c != d { return false }
        }
        return true
    }
}

extension Array where Element == UInt8 {
    public func equalsIgnoringCase(_ literal: StaticString) -> Bool {
        withUnsafeBytes { $0.equalsIgnoringCase(literal) }
    }
}

/// Parses a double as Redis's string2d / getDoubleFromObject: "inf", "-inf",
/// "+inf" accepted; NaN, spaces and trailing garbage rejected.
public func parseDouble(_ b: UnsafeRawBufferPointer) -> Double? {
    if b.count == 0 { return nil }
    var out = 0.0
    let ok = b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) {
        ts_parse_double($0, b.count, &out)
    }
    return ok == 1 ? out : nil
}

public func parseDouble(_ a: [UInt8]) -> Double? { a.withUnsafeBytes { parseDouble($0) } }

/// Formats a double the way Redis stores scores as strings (%.17g, with inf/-inf).
public func formatDouble(_ d: Double) -> [UInt8] {
    if d.isInfinite { return d > 0 ? Array("inf".utf8) : Array("-inf".utf8) }
    var buf = [CChar](repeating: 0, count: 64)
    let n = ts_format_double17(&buf, 64, d)
    return buf[0..<Int(n)].map { UInt8(bitPattern: $0) }
}

/// Formats a long-double result the human-friendly way (INCRBYFLOAT, HINCRBYFLOAT).
public func formatLongDoubleHuman(_ d: Double) -> [UInt8] {
    var buf = [CChar](repeating: 0, count: 5200)
    let n = ts_format_long_double_human(&buf, 5200, Float80(d))
    return buf[0..<Int(n)].map { UInt8(bitPattern: $0) }
}

public func decimalBytes(_ v: Int64) -> [UInt8] {
    var r = [UInt8](repeating: 0, count: 21)
    let n = r.withUnsafeMutableBufferPointer { writeDecimal(v, to: $0.baseAddress!) }
    r.removeLast(21 - n)
    return r
}
