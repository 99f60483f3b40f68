// The RESP request parser: commands split at every possible byte boundary,
// every protocol error with Redis's exact message, inline quoting rules and
// big bulk arguments arriving over many reads.

import Testing
@testable import RESP

/// Feeds `input` to a parser in chunks (as reads would deliver it) and
/// collects what it parses, the way the shard runtime drives it.
private struct Feeder {
    var parser: RequestParser
    var buffer: [UInt8] = []
    var pos = 0
    var commands: [[[UInt8]]] = []
    var empties = 0
    var error: ProtocolError? = nil

    init(maxBulk: Int = 512 * 1024 * 1024, authenticated: Bool = true) {
        parser = RequestParser(maxBulkLength: maxBulk)
        parser.authenticated = authenticated
    }

    mutating func feed(_ chunk: [UInt8]) {
        guard error == nil else { return }
        buffer += chunk
        while true {
            let outcome = buffer.withUnsafeMutableBytes { raw in
                parser.parse(raw.baseAddress!, pos: &pos, end: raw.count)
            }
            switch outcome {
            case .command:
                commands.append(parser.args.map { Array(buffer[$0.offset..<($0.offset + $0.count)]) })
            case .empty:
                empties += 1
            case .incomplete:
                return
            case .error(let e):
                error = e
                return
            }
        }
    }

    mutating func feed(_ s: String) { feed(Array(s.utf8)) }

    var strings: [[String]] { commands.map { $0.map { String(decoding: $0, as: UTF8.self) } } }
}

private func parseAll(_ input: String, chunk: Int = Int.max, authenticated: Bool = true, maxBulk: Int = 512 << 20) -> Feeder {
    var f = Feeder(maxBulk: maxBulk, authenticated: authenticated)
    let bytes = Array(input.utf8)
    var i = 0
    while i < bytes.count {
        let end = min(bytes.count, i + chunk)
        f.feed(Array(bytes[i..<end]))
        i = end
    }
    return f
}

@Suite struct ParserTests {
    static let pipeline = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n*1\r\n$4\r\nPING\r\nGET key\r\n*2\r\n$4\r\nECHO\r\n$0\r\n\r\n"
    static let expected = [["SET", "key", "value"], ["PING"], ["GET", "key"], ["ECHO", ""]]

    @Test func wholeBuffer() {
        let f = parseAll(Self.pipeline)
        #expect(f.error == nil)
        #expect(f.strings == Self.expected)
        #expect(f.pos == Self.pipeline.utf8.count)
    }

    @Test(arguments: [1, 2, 3, 5, 7, 13])
    func fragmented(chunk: Int) {
        let f = parseAll(Self.pipeline, chunk: chunk)
        #expect(f.error == nil)
        #expect(f.strings == Self.expected)
    }

    @Test func everySplitPoint() {
        let bytes = Array(Self.pipeline.utf8)
        for cut in 1..<bytes.count {
            var f = Feeder()
            f.feed(Array(bytes[..<cut]))
            f.feed(Array(bytes[cut...]))
            #expect(f.strings == Self.expected, "split at \(cut)")
        }
    }

    @Test func binarySafeBulk() {
        var f = Feeder()
        f.feed([UInt8]("*2\r\n$4\r\nECHO\r\n$5\r\n".utf8) + [0, 13, 10, 255, 42] + [13, 10])
        #expect(f.commands == [[Array("ECHO".utf8), [0, 13, 10, 255, 42]]])
    }

    @Test func emptyCommands() {
        let f = parseAll("\r\n\n*0\r\n*-1\r\nPING\r\n")
        #expect(f.empties == 4)
        #expect(f.strings == [["PING"]])
    }

    @Test func inlineWithoutCarriageReturn() {
        #expect(parseAll("SET a b\nGET a\n").strings == [["SET", "a", "b"], ["GET", "a"]])
    }

    @Test func inlineQuoting() {
        let f = parseAll(#"SET "a b" 'c d' "\x41\n\t\\\"" 'it\'s' "" x"# + "\r\n")
        #expect(f.error == nil)
        #expect(f.strings == [["SET", "a b", "c d", "A\n\t\\\"", "it's", "", "x"]])
    }

    @Test func inlineExtraSpaces() {
        #expect(parseAll("   SET    a\t b   \r\n").strings == [["SET", "a", "b"]])
    }

    @Test func midCommandState() {
        var f = Feeder()
        f.feed("*2\r\n$3\r\nGET\r\n")
        #expect(f.commands.isEmpty)
        #expect(f.parser.isMidCommand)
        f.feed("$1\r\nk\r\n")
        #expect(!f.parser.isMidCommand)
        #expect(f.strings == [["GET", "k"]])
    }

    @Test func bigBulkAcrossReads() {
        let size = 1_000_000
        var payload = [UInt8](repeating: 0, count: size)
        for i in 0..<size { payload[i] = UInt8(truncatingIfNeeded: i &* 31) }
        let input = [UInt8]("*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$\(size)\r\n".utf8) + payload + [13, 10]
        var f = Feeder()
        var i = 0
        var sawPending = false
        while i < input.count {
            let end = min(input.count, i + 4096)
            f.feed(Array(input[i..<end]))
            if f.parser.pendingBulkBytes > 0 {
                sawPending = true
                #expect(f.parser.pendingBulkBytes == size + 2)
            }
            i = end
        }
        #expect(sawPending)
        #expect(f.commands.count == 1)
        #expect(f.commands[0][2] == payload)
        #expect(f.parser.pendingBulkBytes == 0)
    }

    @Test func rebaseAfterCompaction() {
        // The runtime moves unread bytes to the front mid-command and rebases offsets.
        var p = RequestParser()
        var buf = Array("*2\r\n$4\r\nECHO\r\n$5\r\nhel".utf8)
        var pos = 0
        var r = buf.withUnsafeMutableBytes { p.parse($0.baseAddress!, pos: &pos, end: $0.count) }
        #expect(r == .incomplete)
        // Drop the first 4 bytes ("*2\r\n") as a compaction would.
        buf.removeFirst(4)
        pos -= 4
        p.rebase(by: 4)
        buf += Array("lo\r\n".utf8)
        r = buf.withUnsafeMutableBytes { p.parse($0.baseAddress!, pos: &pos, end: $0.count) }
        #expect(r == .command)
        let args = p.args.map { String(decoding: buf[$0.offset..<($0.offset + $0.count)], as: UTF8.self) }
        #expect(args == ["ECHO", "hello"])
    }

    // MARK: errors

    @Test func errorMessages() {
        #expect(ProtocolError.tooBigInlineRequest.message == "ERR Protocol error: too big inline request")
        #expect(ProtocolError.unbalancedQuotes.message == "ERR Protocol error: unbalanced quotes in request")
        #expect(ProtocolError.tooBigMultibulkCountString.message == "ERR Protocol error: too big mbulk count string")
        #expect(ProtocolError.invalidMultibulkLength.message == "ERR Protocol error: invalid multibulk length")
        #expect(ProtocolError.tooBigBulkCountString.message == "ERR Protocol error: too big bulk count string")
        #expect(ProtocolError.expectedDollar(UInt8(ascii: "+")).message == "ERR Protocol error: expected '$', got '+'")
        #expect(ProtocolError.invalidBulkLength.message == "ERR Protocol error: invalid bulk length")
        #expect(ProtocolError.unauthenticatedMultibulkLength.message == "ERR Protocol error: unauthenticated multibulk length")
        #expect(ProtocolError.unauthenticatedBulkLength.message == "ERR Protocol error: unauthenticated bulk length")
    }

    @Test func unbalancedQuotes() {
        #expect(parseAll("SET \"abc\r\n").error == .unbalancedQuotes)
        #expect(parseAll("SET 'abc\r\n").error == .unbalancedQuotes)
        // A closing quote must be followed by a space or the end of the line.
        #expect(parseAll("SET \"a\"b\r\n").error == .unbalancedQuotes)
        #expect(parseAll("SET 'a'b\r\n").error == .unbalancedQuotes)
    }

    @Test func tooBigInline() {
        let long = String(repeating: "a", count: 64 * 1024 + 10)
        #expect(parseAll(long, chunk: 16 * 1024).error == .tooBigInlineRequest)
        // Exactly at the limit and then a newline is fine.
        #expect(parseAll(String(repeating: "a", count: 1000) + "\r\n").strings.count == 1)
    }

    @Test func multibulkCountErrors() {
        #expect(parseAll("*abc\r\n").error == .invalidMultibulkLength)
        #expect(parseAll("*\r\n").error == .invalidMultibulkLength)
        // Redis 7.0 accepts counts up to INT_MAX (the query buffer limit bounds the rest).
        #expect(parseAll("*2147483648\r\n").error == .invalidMultibulkLength)
        #expect(parseAll("*2147483647\r\n").error == nil)
        #expect(parseAll("*-2\r\n").error == nil)
        #expect(parseAll("*" + String(repeating: "1", count: 64 * 1024 + 10), chunk: 8192).error == .tooBigMultibulkCountString)
    }

    @Test func bulkLengthErrors() {
        #expect(parseAll("*1\r\n+PING\r\n").error == .expectedDollar(UInt8(ascii: "+")))
        #expect(parseAll("*1\r\n:1\r\n").error == .expectedDollar(UInt8(ascii: ":")))
        #expect(parseAll("*1\r\n$-1\r\n").error == .invalidBulkLength)
        #expect(parseAll("*1\r\n$abc\r\n").error == .invalidBulkLength)
        #expect(parseAll("*1\r\n$\r\n").error == .invalidBulkLength)
        #expect(parseAll("*1\r\n$100\r\n", maxBulk: 99).error == .invalidBulkLength)
        #expect(parseAll("*1\r\n$99\r\n", maxBulk: 99).error == nil)
        #expect(parseAll("*1\r\n$" + String(repeating: "1", count: 64 * 1024 + 10), chunk: 8192).error == .tooBigBulkCountString)
    }

    @Test func unauthenticatedLimits() {
        let args11 = "*11\r\n" + String(repeating: "$1\r\na\r\n", count: 11)
        #expect(parseAll(args11, authenticated: false).error == .unauthenticatedMultibulkLength)
        #expect(parseAll(args11, authenticated: true).error == nil)
        #expect(parseAll("*1\r\n$16385\r\n", authenticated: false).error == .unauthenticatedBulkLength)
        #expect(parseAll("*1\r\n$16384\r\n", authenticated: false).error == nil)
    }

    @Test func errorResetsState() {
        var f = Feeder()
        f.feed("*2\r\n$3\r\nGET\r\n!oops\r\n")
        #expect(f.error == .expectedDollar(UInt8(ascii: "!")))
        #expect(!f.parser.isMidCommand)
    }
}
