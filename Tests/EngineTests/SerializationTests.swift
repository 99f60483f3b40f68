import Testing
@testable import Engine
import EngineTestSupport

@Suite("RDB serialization primitives")
struct SerializationTests {
    @Test func crc64MatchesRedisCheckValue() {
        // Redis's crc64 self-test: crc64(0, "123456789") == 0xe9c6d914c4b8d9ca.
        #expect(CRC64.checksum(Array("123456789".utf8)) == 0xe9c6d914c4b8d9ca)
    }

    @Test func lzfRoundTrip() throws {
        let inputs: [[UInt8]] = [
            Array(repeating: UInt8(ascii: "a"), count: 1000),
            Array("hello hello hello hello hello world world world".utf8),
            (0..<5000).map { UInt8(truncatingIfNeeded: $0 * 7 % 13) },
        ]
        for input in inputs {
            let c = try #require(input.withUnsafeBytes { LZF.compress($0) })
            #expect(c.count < input.count)
            let d = c.withUnsafeBytes { LZF.decompress($0, outputCount: input.count) }
            #expect(d == input)
        }
    }

    @Test func lzfRejectsCorruptInput() {
        let bad: [UInt8] = [0xE0, 0xFF, 0x10]  // back-reference before the start
        #expect(bad.withUnsafeBytes { LZF.decompress($0, outputCount: 10) } == nil)
    }

    @Test func lengthAndStringEncodingsRoundTrip() throws {
        var w = RDBWriter()
        let lengths = [0, 63, 64, 16383, 16384, 1 << 31, 1 << 33]
        for n in lengths { w.length(n) }
        let strings: [[UInt8]] = [[], Array("12".utf8), Array("-300".utf8), Array("70000".utf8),
                                  Array("007".utf8), Array(repeating: 120, count: 500), Array("hello".utf8)]
        for s in strings { w.string(s) }
        w.binaryDouble(3.25)
        var r = RDBReader(w.bytes)
        for n in lengths { #expect(try r.plainLength() == n) }
        for s in strings { #expect(try r.string() == s) }
        #expect(try r.binaryDouble() == 3.25)
        #expect(r.remaining == 0)
    }

    @Test func integerStringsUseIntegerEncoding() {
        var w = RDBWriter()
        w.string(Array("-5".utf8))
        #expect(w.bytes == [0xC0, 0xFB])
    }

    @Test func decodesListpack() throws {
        // A listpack of "a", 5, -1, 1000 built by hand: header(6) entries... 0xFF
        var body: [UInt8] = []
        body += [0x81, UInt8(ascii: "a"), 2]          // 6-bit string "a", backlen 2
        body += [0x05, 1]                              // 7-bit uint 5
        body += [0xDF, 0xFF, 2]                        // 13-bit int -1
        body += [0xC3, 0xE8, 2]                        // 13-bit int 1000
        let total = 6 + body.count + 1
        let blob: [UInt8] = [UInt8(total), 0, 0, 0, 4, 0] + body + [0xFF]
        let elements = try PackedFormats.listpack(blob)
        #expect(elements.map { String(decoding: $0, as: UTF8.self) } == ["a", "5", "-1", "1000"])
    }

    @Test func decodesIntsetAndRejectsBadWidth() throws {
        let blob: [UInt8] = [2, 0, 0, 0, 2, 0, 0, 0, 0xFF, 0xFF, 7, 0]
        #expect(try PackedFormats.intset(blob) == [-1, 7])
        #expect(throws: RDBError.self) { try PackedFormats.intset([3, 0, 0, 0, 0, 0, 0, 0]) }
    }
}
