// Incremental RESP request parser.
//
// It works in place over the connection's query buffer: arguments are
// (offset, length) pairs into that buffer, so parsing copies no bytes. State
// survives between reads (remaining multibulk count, pending bulk length) so a
// 100 MB value arriving in many small reads is scanned once, not once per read.

/// Protocol limits that Redis enforces while parsing.
public enum ProtocolLimits {
    /// Longest inline command, and longest "*N" / "$N" header line (PROTO_INLINE_MAX_SIZE).
    public static let inlineMaxSize = 64 * 1024
    /// Largest multibulk count accepted (Redis 7.0 checks against INT_MAX;
    /// the query buffer limit bounds what such a command can really cost).
    public static let multibulkMax = Int(Int32.max)
    /// Bulk arguments at least this big get a buffer sized for them up front (PROTO_MBULK_BIG_ARG).
    public static let bigArgument = 32 * 1024
}

public enum ProtocolError: Error, Equatable, Sendable {
    case tooBigInlineRequest
    case unbalancedQuotes
    case tooBigMultibulkCountString
    case invalidMultibulkLength
    case tooBigBulkCountString
    case expectedDollar(UInt8)
    case invalidBulkLength
    case unauthenticatedMultibulkLength
    case unauthenticatedBulkLength

    /// The error line Redis sends before closing the connection (without "-" and CRLF).
    public var message: String {
        switch self {
        case .tooBigInlineRequest: return "ERR Protocol error: too big inline request"
        case .unbalancedQuotes: return "ERR Protocol error: unbalanced quotes in request"
        case .tooBigMultibulkCountString: return "ERR Protocol error: too big mbulk count string"
        case .invalidMultibulkLength: return "ERR Protocol error: invalid multibulk length"
        case .tooBigBulkCountString: return "ERR Protocol error: too big bulk count string"
        case .expectedDollar(let c): return "ERR Protocol error: expected '$', got '\(Character(Unicode.Scalar(c)))'"
        case .invalidBulkLength: return "ERR Protocol error: invalid bulk length"
        case .unauthenticatedMultibulkLength: return "ERR Protocol error: unauthenticated multibulk length"
        case .unauthenticatedBulkLength: return "ERR Protocol error: unauthenticated bulk length"
        }
    }
}

/// One argument of a parsed command: a byte range of the query buffer.
public struct ArgSpan: Sendable {
    public var offset: Int
    public var count: Int
    @inlinable public init(offset: Int, count: Int) { self.offset = offset; self.count = count }
}

public enum ParseOutcome: Equatable {
    /// A whole command is in `args`; the read position moved past it.
    case command
    /// An empty command (blank inline line, `*0`, `*-1`): nothing to run.
    case empty
    /// More bytes are needed.
    case incomplete
    case error(ProtocolError)
}

public struct RequestParser {
    public private(set) var args: [ArgSpan] = []
    /// True once a multibulk header was read and its arguments are pending.
    private var multibulkRemaining = 0
    private var inMultibulk = false
    /// Length of the bulk argument being waited for, or -1 while its "$N" line is pending.
    private var bulkLength = -1
    /// Maximum bulk length (`proto-max-bulk-len`).
    public var maxBulkLength: Int
    /// Unauthenticated clients get tight limits, as in Redis.
    public var authenticated = true

    public init(maxBulkLength: Int = 512 * 1024 * 1024) {
        self.maxBulkLength = maxBulkLength
        args.reserveCapacity(8)
    }

    /// True while a command is half parsed (so a buffer compaction must `rebase`).
    public var isMidCommand: Bool { inMultibulk }

    /// Bytes the buffer should be able to hold from the current position to finish
    /// the pending big bulk argument, or 0 if no big argument is pending.
    public var pendingBulkBytes: Int {
        inMultibulk && bulkLength >= ProtocolLimits.bigArgument ? bulkLength + 2 : 0
    }

    /// Gives back the argument array's memory after a command with very many
    /// arguments (between commands only), as Redis frees a command's argv.
    public mutating func releaseLargeArgs() {
        if !inMultibulk && args.capacity > 1024 {
            args = []
            args.reserveCapacity(8)
        }
    }

    /// Shift stored argument offsets after the buffer moved its bytes by `delta` to the front.
    public mutating func rebase(by delta: Int) {
        for i in args.indices { args[i].offset -= delta }
    }

    /// Parses one command starting at `pos`; on `.command`/`.empty`, `pos` is past it.
    /// The buffer must not be modified between a `.command` and the use of `args`,
    /// except that inline arguments are unescaped in place.
    public mutating func parse(_ buf: UnsafeMutableRawPointer, pos: inout Int, end: Int) -> ParseOutcome {
        if !inMultibulk {
            if pos >= end { return .incomplete }
            args.removeAll(keepingCapacity: true)
            if buf.load(fromByteOffset: pos, as: UInt8.self) == UInt8(ascii: "*") {
                return parseMultibulk(buf, pos: &pos, end: end)
            }
            return parseInline(buf, pos: &pos, end: end)
        }
        return parseMultibulk(buf, pos: &pos, end: end)
    }

    // MARK: multibulk

    private mutating func parseMultibulk(_ buf: UnsafeMutableRawPointer, pos: inout Int, end: Int) -> ParseOutcome {
        let bytes = buf.assumingMemoryBound(to: UInt8.self)
        if !inMultibulk {
            guard let nl = findCRLF(bytes, from: pos, end: end) else {
                if end - pos > ProtocolLimits.inlineMaxSize { return .error(.tooBigMultibulkCountString) }
                return .incomplete
            }
            guard let n = parseLength(bytes, from: pos + 1, to: nl), n <= ProtocolLimits.multibulkMax else {
                return .error(.invalidMultibulkLength)
            }
            if !authenticated && n > 10 { return .error(.unauthenticatedMultibulkLength) }
            pos = nl + 2
            if n <= 0 { return .empty }
            multibulkRemaining = n
            inMultibulk = true
            bulkLength = -1
            if args.capacity < n { args.reserveCapacity(min(n, 1024)) }
        }
        while multibulkRemaining > 0 {
            if bulkLength < 0 {
                if pos >= end { return .incomplete }
                guard let nl = findCRLF(bytes, from: pos, end: end) else {
                    if end - pos > ProtocolLimits.inlineMaxSize { return fail(.tooBigBulkCountString) }
                    return .incomplete
                }
                let c = bytes[pos]
                if c != UInt8(ascii: "$") { return fail(.expectedDollar(c)) }
                guard let n = parseLength(bytes, from: pos + 1, to: nl), n >= 0, n <= maxBulkLength else {
                    return fail(.invalidBulkLength)
                }
                if !authenticated && n > 16384 { return fail(.unauthenticatedBulkLength) }
                pos = nl + 2
                bulkLength = n
            }
            if end - pos < bulkLength + 2 { return .incomplete }
            args.append(ArgSpan(offset: pos, count: bulkLength))
            pos += bulkLength + 2
            bulkLength = -1
            multibulkRemaining -= 1
        }
        inMultibulk = false
        return .command
    }

    private mutating func fail(_ e: ProtocolError) -> ParseOutcome {
        inMultibulk = false
        multibulkRemaining = 0
        bulkLength = -1
        return .error(e)
    }

    // MARK: inline

    private mutating func parseInline(_ buf: UnsafeMutableRawPointer, pos: inout Int, end: Int) -> ParseOutcome {
        let bytes = buf.assumingMemoryBound(to: UInt8.self)
        var nl = pos
        while nl < end && bytes[nl] != UInt8(ascii: "\n") { nl += 1 }
        if nl == end {
            if end - pos > ProtocolLimits.inlineMaxSize { return .error(.tooBigInlineRequest) }
            return .incomplete
        }
        var lineEnd = nl
        if lineEnd > pos && bytes[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
        let start = pos
        pos = nl + 1
        guard InlineSplitter.split(bytes, from: start, to: lineEnd, into: &args) else {
            args.removeAll(keepingCapacity: true)
            return .error(.unbalancedQuotes)
        }
        return args.isEmpty ? .empty : .command
    }
}

/// Index of the "\r" of the first "\r\n" at or after `from`, if the line is complete.
@inline(__always)
func findCRLF(_ p: UnsafeMutablePointer<UInt8>, from: Int, end: Int) -> Int? {
    var i = from
    while i < end {
        if p[i] == UInt8(ascii: "\r") {
            if i + 1 >= end { return nil }
            if p[i + 1] == UInt8(ascii: "\n") { return i }
        }
        i += 1
    }
    return nil
}

/// Parses a signed decimal in [from, to). Nil if malformed or too long.
@inline(__always)
func parseLength(_ p: UnsafeMutablePointer<UInt8>, from: Int, to: Int) -> Int? {
    var i = from
    if i >= to || to - from > 20 { return nil }
    var negative = false
    if p[i] == UInt8(ascii: "-") { negative = true; i += 1; if i >= to { return nil } }
    var v = 0
    while i < to {
        let d = Int(p[i]) &- 48
        if d < 0 || d > 9 { return nil }
        let (m, o1) = v.multipliedReportingOverflow(by: 10)
        let (s, o2) = m.addingReportingOverflow(d)
        if o1 || o2 { return nil }
        v = s
        i += 1
    }
    return negative ? -v : v
}
