// Commands in RESP multibulk form (`*<n>\r\n` then `$<len>\r\n<bytes>\r\n`
// per argument): what a client sends. One encoder serves every place that
// writes commands: the links between shards, the AOF (propagated writes and
// rewrites), and the control protocol of the supervisor and tessera-ctl.

/// A growable byte destination a command can be written to.
public protocol RESPCommandSink {
    mutating func appendBytes(_ bytes: UnsafeRawBufferPointer)
    mutating func appendByte(_ byte: UInt8)
    mutating func appendDecimal(_ value: Int64)
}

extension RESPCommandSink {
    /// `*<count>\r\n`: the header of a command of `count` arguments.
    @inlinable
    public mutating func appendCommandHeader(_ count: Int) {
        appendByte(UInt8(ascii: "*"))
        appendDecimal(Int64(count))
        appendByte(13)
        appendByte(10)
    }

    /// One argument: `$<len>\r\n<bytes>\r\n`.
    @inlinable
    public mutating func appendBulkArgument(_ bytes: UnsafeRawBufferPointer) {
        appendByte(UInt8(ascii: "$"))
        appendDecimal(Int64(bytes.count))
        appendByte(13)
        appendByte(10)
        appendBytes(bytes)
        appendByte(13)
        appendByte(10)
    }

    @inlinable
    public mutating func appendBulkArgument(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { appendBulkArgument($0) }
    }

    /// A whole command.
    @inlinable
    public mutating func appendCommand(_ argv: [[UInt8]]) {
        appendCommandHeader(argv.count)
        for a in argv { appendBulkArgument(a) }
    }
}

extension ByteBuffer: RESPCommandSink {
    @inlinable public func appendBytes(_ bytes: UnsafeRawBufferPointer) { append(bytes) }
    @inlinable public func appendByte(_ byte: UInt8) { append(byte) }
}

extension Array: RESPCommandSink where Element == UInt8 {
    @inlinable public mutating func appendBytes(_ bytes: UnsafeRawBufferPointer) { append(contentsOf: bytes) }
    @inlinable public mutating func appendByte(_ byte: UInt8) { append(byte) }
    @inlinable public mutating func appendDecimal(_ value: Int64) {
        if value >= 0 && value < 10 { append(UInt8(48 + value)); return }
        var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)
        let n = Swift.withUnsafeMutableBytes(of: &scratch) { raw in
            writeDecimal(value, to: raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        Swift.withUnsafeBytes(of: &scratch) { append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
    }
}

/// A command built from text arguments (the control protocol's requests).
public func encodeRESPCommand(_ args: [String]) -> [UInt8] {
    var out: [UInt8] = []
    out.appendCommand(args.map { Array($0.utf8) })
    return out
}
