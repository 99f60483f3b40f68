import Testing
@testable import RESP

@Suite("Command encoder")
struct CommandEncoderTests {
    /// What a client sends for SET k v, with a binary and an empty argument,
    /// byte for byte, written into either kind of sink.
    static let argv: [[UInt8]] = [Array("SET".utf8), [0, 13, 10, 255], [], Array(repeating: 120, count: 12)]
    static let expected = Array("*4\r\n$3\r\nSET\r\n$4\r\n".utf8) + [0, 13, 10, 255] + Array("\r\n$0\r\n\r\n$12\r\nxxxxxxxxxxxx\r\n".utf8)

    @Test func arrayAndByteBufferSinksWriteTheSameBytes() {
        var array: [UInt8] = []
        array.appendCommand(Self.argv)
        #expect(array == Self.expected)

        var buffer = ByteBuffer(capacity: 8)
        buffer.appendCommand(Self.argv)
        #expect(Array(buffer.readableView) == Self.expected)
    }

    @Test func headerAndArgumentsOneByOne() {
        var out: [UInt8] = []
        out.appendCommandHeader(Self.argv.count)
        for a in Self.argv { out.appendBulkArgument(a) }
        #expect(out == Self.expected)
    }

    @Test func textCommandsFromTheControlProtocol() {
        let bytes = encodeRESPCommand(["CONFIG", "SET", "maxmemory", "100mb"])
        #expect(String(decoding: bytes, as: UTF8.self) == "*4\r\n$6\r\nCONFIG\r\n$3\r\nSET\r\n$9\r\nmaxmemory\r\n$5\r\n100mb\r\n")
    }

    @Test func decimalsInArraySinksMatchSwiftsFormatting() {
        for v: Int64 in [0, 9, 10, -1, 123_456_789, Int64.max, Int64.min] {
            var out: [UInt8] = []
            out.appendDecimal(v)
            #expect(String(decoding: out, as: UTF8.self) == String(v))
        }
    }
}
