// The control protocol shared by the supervisor and tessera-ctl: RESP2
// values, a reader of whole values from a byte stream (the supervisor's links
// to its shards, the control socket's requests, tessera-ctl's replies) and
// their encoders.

public indirect enum RESPValue: Equatable, Sendable {
    case simple(String)
    case error(String)
    case integer(Int64)
    case bulk([UInt8]?)
    case array([RESPValue]?)

    public var text: String? {
        switch self {
        case .simple(let s), .error(let s): return s
        case .bulk(let b?): return String(decoding: b, as: UTF8.self)
        case .integer(let i): return String(i)
        default: return nil
        }
    }
}

public struct RESPReplyReader {
    public private(set) var buffer: [UInt8] = []
    public init() {}

    public mutating func append(_ bytes: UnsafeRawBufferPointer) { buffer.append(contentsOf: bytes) }
    public mutating func append(_ bytes: [UInt8]) { buffer.append(contentsOf: bytes) }

    /// The next complete reply, removed from the buffer; nil if more bytes are needed.
    public mutating func next() throws -> RESPValue? {
        var pos = 0
        guard let v = try parse(&pos) else { return nil }
        buffer.removeFirst(pos)
        return v
    }

    public struct ProtocolError: Error {}

    private func line(_ pos: inout Int) -> String? {
        var i = pos
        while i + 1 < buffer.count {
            if buffer[i] == 13 && buffer[i + 1] == 10 {
                let s = String(decoding: buffer[pos..<i], as: UTF8.self)
                pos = i + 2
                return s
            }
            i += 1
        }
        return nil
    }

    private func parse(_ pos: inout Int) throws -> RESPValue? {
        guard pos < buffer.count else { return nil }
        let kind = buffer[pos]
        var p = pos + 1
        guard let l = line(&p) else { return nil }
        switch kind {
        case UInt8(ascii: "+"): pos = p; return .simple(l)
        case UInt8(ascii: "-"): pos = p; return .error(l)
        case UInt8(ascii: ":"):
            guard let v = Int64(l) else { throw ProtocolError() }
            pos = p; return .integer(v)
        case UInt8(ascii: "$"):
            guard let n = Int(l) else { throw ProtocolError() }
            if n < 0 { pos = p; return .bulk(nil) }
            guard p + n + 2 <= buffer.count else { return nil }
            let b = Array(buffer[p..<(p + n)])
            pos = p + n + 2
            return .bulk(b)
        case UInt8(ascii: "*"):
            guard let n = Int(l) else { throw ProtocolError() }
            if n < 0 { pos = p; return .array(nil) }
            var items: [RESPValue] = []
            for _ in 0..<n {
                guard let item = try parse(&p) else { return nil }
                items.append(item)
            }
            pos = p
            return .array(items)
        default:
            throw ProtocolError()
        }
    }
}

/// RESP2 bytes of a value (maps are flat arrays, as RESP2 has no map type).
public func encodeRESPValue(_ v: RESPValue) -> [UInt8] {
    switch v {
    case .simple(let s): return Array("+\(s)\r\n".utf8)
    case .error(let s): return Array("-\(s)\r\n".utf8)
    case .integer(let i): return Array(":\(i)\r\n".utf8)
    case .bulk(nil): return Array("$-1\r\n".utf8)
    case .bulk(let b?): return Array("$\(b.count)\r\n".utf8) + b + [13, 10]
    case .array(nil): return Array("*-1\r\n".utf8)
    case .array(let items?): return Array("*\(items.count)\r\n".utf8) + items.flatMap(encodeRESPValue)
    }
}

extension RESPValue {
    public static func bulkString(_ s: String) -> RESPValue { .bulk(Array(s.utf8)) }
}

