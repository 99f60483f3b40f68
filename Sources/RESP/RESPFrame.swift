// Finding where one RESP value ends in a byte stream, without building it.
// Shards relay each other's replies byte for byte (one frame per forwarded
// command) and merge fan-out replies (MGET, KEYS, DBSIZE...) at this level.

public enum RESPFrame {
    /// The length of the complete value starting at `start`, nil while more
    /// bytes are needed, -1 when the bytes are not RESP.
    public static func length(_ p: UnsafeRawPointer, _ start: Int, _ end: Int) -> Int? {
        var pos = start
        var pending = 1
        while pending > 0 {
            guard pos < end else { return nil }
            let type = p.load(fromByteOffset: pos, as: UInt8.self)
            var lineEnd = pos + 1
            while lineEnd < end && p.load(fromByteOffset: lineEnd, as: UInt8.self) != 13 { lineEnd += 1 }
            guard lineEnd + 1 < end else { return nil }
            let next = lineEnd + 2
            pending -= 1
            switch type {
            case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "_"),
                 UInt8(ascii: "#"), UInt8(ascii: ","), UInt8(ascii: "("):
                pos = next
            case UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="):
                guard let n = integer(p, pos + 1, lineEnd) else { return -1 }
                if n < 0 { pos = next; break }
                guard next + n + 2 <= end else { return nil }
                pos = next + n + 2
            case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"):
                guard let n = integer(p, pos + 1, lineEnd) else { return -1 }
                if n > 0 { pending += n }
                pos = next
            case UInt8(ascii: "%"):
                guard let n = integer(p, pos + 1, lineEnd) else { return -1 }
                if n > 0 { pending += 2 * n }
                pos = next
            case UInt8(ascii: "|"):
                // Attributes precede the value they describe: that value is still pending.
                guard let n = integer(p, pos + 1, lineEnd) else { return -1 }
                pending += 1 + 2 * max(n, 0)
                pos = next
            default:
                return -1
            }
        }
        return pos - start
    }

    public static func length(_ b: UnsafeRawBufferPointer) -> Int? {
        guard let base = b.baseAddress else { return nil }
        return length(base, 0, b.count)
    }

    /// The decimal integer in bytes [from, to).
    static func integer(_ p: UnsafeRawPointer, _ from: Int, _ to: Int) -> Int? {
        var i = from
        var negative = false
        if i < to && p.load(fromByteOffset: i, as: UInt8.self) == UInt8(ascii: "-") { negative = true; i += 1 }
        guard i < to else { return nil }
        var v = 0
        while i < to {
            let d = p.load(fromByteOffset: i, as: UInt8.self) &- 48
            guard d < 10 else { return nil }
            v = v &* 10 &+ Int(d)
            i += 1
        }
        return negative ? -v : v
    }

    /// The value of an integer reply (":42\r\n"), nil for anything else.
    public static func integerValue(_ frame: [UInt8]) -> Int? {
        guard frame.first == UInt8(ascii: ":"), frame.count >= 4 else { return nil }
        return frame.withUnsafeBytes { integer($0.baseAddress!, 1, frame.count - 2) }
    }

    /// The payload of a bulk string reply, nil for anything else (null included).
    public static func bulkValue(_ frame: [UInt8]) -> [UInt8]? {
        guard frame.first == UInt8(ascii: "$") || frame.first == UInt8(ascii: "="),
              let cr = frame.firstIndex(of: 13), let n = frame.withUnsafeBytes({ integer($0.baseAddress!, 1, cr) }),
              n >= 0, cr + 2 + n <= frame.count else { return nil }
        return Array(frame[(cr + 2)..<(cr + 2 + n)])
    }

    public static func isError(_ frame: [UInt8]) -> Bool { frame.first == UInt8(ascii: "-") || frame.first == UInt8(ascii: "!") }

    /// The elements of an array/set/push reply, each as its own frame; nil for
    /// anything else (null arrays included).
    public static func elements(_ frame: [UInt8]) -> [[UInt8]]? {
        guard let t = frame.first, t == UInt8(ascii: "*") || t == UInt8(ascii: "~") || t == UInt8(ascii: ">"),
              let cr = frame.firstIndex(of: 13) else { return nil }
        return frame.withUnsafeBytes { raw -> [[UInt8]]? in
            let p = raw.baseAddress!
            guard let n = integer(p, 1, cr), n >= 0 else { return nil }
            var out: [[UInt8]] = []
            out.reserveCapacity(n)
            var pos = cr + 2
            for _ in 0..<n {
                guard let len = length(p, pos, frame.count), len > 0 else { return nil }
                out.append(Array(raw[pos..<(pos + len)]))
                pos += len
            }
            return out
        }
    }

    /// An array header ("*3\r\n").
    public static func arrayHeader(_ n: Int) -> [UInt8] { Array("*\(n)\r\n".utf8) }
}
