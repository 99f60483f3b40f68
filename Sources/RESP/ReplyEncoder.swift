// Encodes replies in RESP2 or RESP3 into a connection's output buffer.
//
// Commands call the semantic method (`map`, `set`, `double`, `null`) and the
// encoder picks the wire form for the connection's protocol version, the way
// Redis's addReply* family does.

import CShims

public final class ReplyEncoder {
    public let out: ByteBuffer
    /// 2 or 3 (HELLO).
    public var proto: Int = 2

    public init(out: ByteBuffer = ByteBuffer()) { self.out = out }

    @inline(__always) public var isResp3: Bool { proto == 3 }

    // MARK: scalars

    @inline(__always) public func ok() { out.append("+OK\r\n") }

    @inline(__always) public func simple(_ s: StaticString) {
        out.append(UInt8(ascii: "+")); out.append(s); out.append("\r\n")
    }

    public func simple(string s: String) {
        out.append(UInt8(ascii: "+")); out.append(string: s); out.append("\r\n")
    }

    /// An error reply; `message` starts with its code (e.g. "ERR ...", "WRONGTYPE ...").
    public func error(_ message: String) {
        out.append(UInt8(ascii: "-"))
        var m = message
        // Newlines would break the protocol; Redis replaces them with spaces.
        if m.utf8.contains(where: { $0 == 10 || $0 == 13 }) {
            m = String(decoding: m.utf8.map { $0 == 10 || $0 == 13 ? 32 : $0 }, as: UTF8.self)
        }
        out.append(string: m)
        out.append("\r\n")
    }

    @inline(__always) public func error(static message: StaticString) {
        out.append(UInt8(ascii: "-")); out.append(message); out.append("\r\n")
    }

    @inline(__always) public func integer(_ v: Int64) {
        out.append(UInt8(ascii: ":")); out.appendDecimal(v); out.append("\r\n")
    }

    @inline(__always) public func integer(_ v: Int) { integer(Int64(v)) }

    @inline(__always) public func bulk(_ p: UnsafeRawPointer, _ n: Int) {
        out.reserve(n + 32)
        out.append(UInt8(ascii: "$")); out.appendDecimal(Int64(n)); out.append("\r\n")
        out.append(p, n); out.append("\r\n")
    }

    @inline(__always) public func bulk(_ b: UnsafeRawBufferPointer) {
        bulk(b.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, b.count)
    }

    @inline(__always) public func bulk(_ b: [UInt8]) {
        b.withUnsafeBytes { bulk($0) }
    }

    public func bulk(string s: String) {
        var s = s
        s.withUTF8 { bulk(UnsafeRawBufferPointer($0)) }
    }

    /// A bulk string holding the decimal form of `v` (e.g. SCAN cursors).
    public func bulk(decimal v: Int64) {
        var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &tmp) { raw in
            let n = writeDecimal(v, to: raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
            bulk(raw.baseAddress!, n)
        }
    }

    /// Null bulk string: `$-1` in RESP2, `_` in RESP3.
    @inline(__always) public func null() {
        if proto == 3 { out.append("_\r\n") } else { out.append("$-1\r\n") }
    }

    /// Null array: `*-1` in RESP2, `_` in RESP3.
    @inline(__always) public func nullArray() {
        if proto == 3 { out.append("_\r\n") } else { out.append("*-1\r\n") }
    }

    /// A double: RESP3 `,` type, RESP2 bulk string in "%.17g" form.
    public func double(_ d: Double) {
        if d.isInfinite {
            if proto == 3 { out.append(d > 0 ? ",inf\r\n" : ",-inf\r\n") }
            else { out.append(d > 0 ? "$3\r\ninf\r\n" : "$4\r\n-inf\r\n") }
            return
        }
        var tmp: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &tmp) { raw in
            let p = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
            let n = Int(ts_format_double17(p, 64, d))
            if proto == 3 {
                out.append(UInt8(ascii: ",")); out.append(raw.baseAddress!, n); out.append("\r\n")
            } else {
                bulk(raw.baseAddress!, n)
            }
        }
    }

    public func bool(_ b: Bool) {
        if proto == 3 { out.append(b ? "#t\r\n" : "#f\r\n") } else { out.append(b ? ":1\r\n" : ":0\r\n") }
    }

    /// RESP3 verbatim string (`=`), a plain bulk string in RESP2.
    public func verbatim(_ s: String, format: StaticString = "txt") {
        if proto == 3 {
            let bytes = Array(s.utf8)
            out.append(UInt8(ascii: "=")); out.appendDecimal(Int64(bytes.count + 4)); out.append("\r\n")
            out.append(format); out.append(UInt8(ascii: ":")); out.append(bytes); out.append("\r\n")
        } else {
            bulk(string: s)
        }
    }

    /// A big number: RESP3 `(`, a bulk string in RESP2. `digits` is its decimal form.
    public func bigNumber(_ digits: String) {
        if proto == 3 {
            out.append(UInt8(ascii: "(")); out.append(string: digits); out.append("\r\n")
        } else {
            bulk(string: digits)
        }
    }

    // MARK: aggregates

    /// An attribute map of `n` pairs preceding a reply (`|n`); RESP2 has no
    /// attributes, so there the caller must skip the pairs (see `isResp3`).
    public func attribute(_ n: Int) {
        if proto == 3 { out.append(UInt8(ascii: "|")); out.appendDecimal(Int64(n)); out.append("\r\n") }
    }

    @inline(__always) public func array(_ n: Int) {
        out.append(UInt8(ascii: "*")); out.appendDecimal(Int64(n)); out.append("\r\n")
    }

    /// A map of `n` pairs: `%n` in RESP3, a flat array of 2n in RESP2.
    @inline(__always) public func map(_ n: Int) {
        if proto == 3 { out.append(UInt8(ascii: "%")); out.appendDecimal(Int64(n)) }
        else { out.append(UInt8(ascii: "*")); out.appendDecimal(Int64(2 * n)) }
        out.append("\r\n")
    }

    /// A set: `~n` in RESP3, an array in RESP2.
    @inline(__always) public func set(_ n: Int) {
        out.append(UInt8(ascii: proto == 3 ? "~" : "*")); out.appendDecimal(Int64(n)); out.append("\r\n")
    }

    /// An out-of-band push (`>n`) in RESP3; an array in RESP2 (pub/sub messages).
    @inline(__always) public func push(_ n: Int) {
        out.append(UInt8(ascii: proto == 3 ? ">" : "*")); out.appendDecimal(Int64(n)); out.append("\r\n")
    }

    // MARK: deferred lengths

    public enum AggregateKind { case array, map, set }

    /// Marks where an aggregate header goes whose length is not known yet.
    @inline(__always) public func deferLength() -> Int { out.writeIndex }

    /// Writes the header for the aggregate started at `mark` with `n` elements (pairs for maps).
    public func setDeferredLength(_ mark: Int, _ n: Int, kind: AggregateKind = .array) {
        var header = [UInt8]()
        header.reserveCapacity(24)
        switch kind {
        case .array: header.append(UInt8(ascii: "*")); header += Array(String(n).utf8)
        case .map:
            if proto == 3 { header.append(UInt8(ascii: "%")); header += Array(String(n).utf8) }
            else { header.append(UInt8(ascii: "*")); header += Array(String(2 * n).utf8) }
        case .set: header.append(UInt8(ascii: proto == 3 ? "~" : "*")); header += Array(String(n).utf8)
        }
        header += [13, 10]
        header.withUnsafeBytes { out.insert($0, at: mark) }
    }
}
