// The reply encoder: every reply type in its RESP2 and RESP3 wire form.

import Testing
@testable import RESP

private func encode(_ proto: Int, _ body: (ReplyEncoder) -> Void) -> String {
    let r = ReplyEncoder()
    r.proto = proto
    body(r)
    return String(decoding: r.out.readableView, as: UTF8.self)
}

@Suite struct EncoderTests {
    @Test func scalarsSameInBothProtocols() {
        for p in [2, 3] {
            #expect(encode(p) { $0.ok() } == "+OK\r\n")
            #expect(encode(p) { $0.simple("PONG") } == "+PONG\r\n")
            #expect(encode(p) { $0.simple(string: "QUEUED") } == "+QUEUED\r\n")
            #expect(encode(p) { $0.integer(-42) } == ":-42\r\n")
            #expect(encode(p) { $0.integer(Int64.min) } == ":-9223372036854775808\r\n")
            #expect(encode(p) { $0.bulk(string: "hello") } == "$5\r\nhello\r\n")
            #expect(encode(p) { $0.bulk(string: "") } == "$0\r\n\r\n")
            #expect(encode(p) { $0.bulk([0, 255]) } == "$2\r\n\u{0}" + String(decoding: [255], as: UTF8.self) + "\r\n")
            #expect(encode(p) { $0.bulk(decimal: 1234) } == "$4\r\n1234\r\n")
            #expect(encode(p) { $0.bulk(decimal: -7) } == "$2\r\n-7\r\n")
            #expect(encode(p) { $0.array(3) } == "*3\r\n")
            #expect(encode(p) { $0.error("ERR bad thing") } == "-ERR bad thing\r\n")
            #expect(encode(p) { $0.error(static: "WRONGTYPE x") } == "-WRONGTYPE x\r\n")
        }
    }

    @Test func errorNewlinesBecomeSpaces() {
        #expect(encode(2) { $0.error("ERR a\r\nb\nc") } == "-ERR a  b c\r\n")
    }

    @Test func nulls() {
        #expect(encode(2) { $0.null() } == "$-1\r\n")
        #expect(encode(3) { $0.null() } == "_\r\n")
        #expect(encode(2) { $0.nullArray() } == "*-1\r\n")
        #expect(encode(3) { $0.nullArray() } == "_\r\n")
    }

    @Test func doubles() {
        #expect(encode(2) { $0.double(1.5) } == "$3\r\n1.5\r\n")
        #expect(encode(3) { $0.double(1.5) } == ",1.5\r\n")
        #expect(encode(2) { $0.double(0.1) } == "$19\r\n0.10000000000000001\r\n")
        #expect(encode(3) { $0.double(0.1) } == ",0.10000000000000001\r\n")
        #expect(encode(3) { $0.double(3) } == ",3\r\n")
        #expect(encode(2) { $0.double(.infinity) } == "$3\r\ninf\r\n")
        #expect(encode(2) { $0.double(-.infinity) } == "$4\r\n-inf\r\n")
        #expect(encode(3) { $0.double(.infinity) } == ",inf\r\n")
        #expect(encode(3) { $0.double(-.infinity) } == ",-inf\r\n")
        #expect(encode(3) { $0.double(1e300) } == ",1.0000000000000001e+300\r\n")
    }

    @Test func booleans() {
        #expect(encode(2) { $0.bool(true) } == ":1\r\n")
        #expect(encode(2) { $0.bool(false) } == ":0\r\n")
        #expect(encode(3) { $0.bool(true) } == "#t\r\n")
        #expect(encode(3) { $0.bool(false) } == "#f\r\n")
    }

    @Test func bigNumbers() {
        #expect(encode(2) { $0.bigNumber("1234567999999999999999999999999999999") }
                == "$37\r\n1234567999999999999999999999999999999\r\n")
        #expect(encode(3) { $0.bigNumber("-12345678901234567890") } == "(-12345678901234567890\r\n")
    }

    @Test func verbatim() {
        #expect(encode(2) { $0.verbatim("a\nb") } == "$3\r\na\nb\r\n")
        #expect(encode(3) { $0.verbatim("a\nb") } == "=7\r\ntxt:a\nb\r\n")
        #expect(encode(3) { $0.verbatim("x", format: "mkd") } == "=5\r\nmkd:x\r\n")
    }

    @Test func aggregates() {
        #expect(encode(2) { $0.map(2) } == "*4\r\n")
        #expect(encode(3) { $0.map(2) } == "%2\r\n")
        #expect(encode(2) { $0.set(3) } == "*3\r\n")
        #expect(encode(3) { $0.set(3) } == "~3\r\n")
        #expect(encode(2) { $0.push(2) } == "*2\r\n")
        #expect(encode(3) { $0.push(2) } == ">2\r\n")
        #expect(encode(3) { $0.attribute(1) } == "|1\r\n")
        #expect(encode(2) { $0.attribute(1) } == "")
    }

    @Test func nestedMap() {
        let body: (ReplyEncoder) -> Void = { r in
            r.map(1)
            r.bulk(string: "k")
            r.set(2)
            r.integer(1)
            r.null()
        }
        #expect(encode(2, body) == "*2\r\n$1\r\nk\r\n*2\r\n:1\r\n$-1\r\n")
        #expect(encode(3, body) == "%1\r\n$1\r\nk\r\n~2\r\n:1\r\n_\r\n")
    }

    @Test func deferredLengths() {
        for (kind, p, header) in [(ReplyEncoder.AggregateKind.array, 2, "*2"), (.array, 3, "*2"),
                                  (.map, 2, "*4"), (.map, 3, "%2"), (.set, 2, "*2"), (.set, 3, "~2")] {
            let s = encode(p) { r in
                r.ok()
                let mark = r.deferLength()
                r.integer(1)
                r.integer(2)
                if kind == .map { r.integer(3); r.integer(4) }
                r.setDeferredLength(mark, 2, kind: kind)
            }
            let tail = kind == .map ? ":1\r\n:2\r\n:3\r\n:4\r\n" : ":1\r\n:2\r\n"
            #expect(s == "+OK\r\n" + header + "\r\n" + tail)
        }
    }

    @Test func protocolSwitchAffectsOnlyLaterReplies() {
        let r = ReplyEncoder()
        r.null()
        r.proto = 3
        r.null()
        r.proto = 2
        r.map(1)
        #expect(String(decoding: r.out.readableView, as: UTF8.self) == "$-1\r\n_\r\n*2\r\n")
    }
}
