import Testing
@testable import Engine
import EngineTestSupport

@Suite("Listpack and intset encoders")
struct ListpackBuilderTests {
    /// Elements covering every listpack encoding: 7-bit uint, 13-bit, 16/24/32/64-bit
    /// ints, 6-bit, 12-bit and 32-bit length strings, and non-canonical numbers.
    static let elements: [[UInt8]] = {
        var e: [[UInt8]] = ["0", "127", "128", "-1", "-4096", "4095", "-4097", "32767", "-32768",
                            "8388607", "-8388608", "2147483647", "-2147483648", "9223372036854775807",
                            "-9223372036854775808", "007", "+5", "-0", "1.5", "", "hello"].map { Array($0.utf8) }
        e.append(Array(repeating: UInt8(ascii: "x"), count: 63))
        e.append(Array(repeating: UInt8(ascii: "y"), count: 64))
        e.append(Array(repeating: UInt8(ascii: "z"), count: 4095))
        e.append(Array(repeating: UInt8(ascii: "w"), count: 4096))
        e.append(Array(repeating: UInt8(ascii: "v"), count: 20000))   // 3-byte backlen
        return e
    }()

    @Test func roundTripsThroughTheDecoder() throws {
        var b = ListpackBuilder()
        for x in Self.elements { b.append(x) }
        let blob = b.finish()
        #expect(try PackedFormats.listpack(blob) == Self.elements)
        #expect(Int(blob[4]) | Int(blob[5]) << 8 == Self.elements.count)
        #expect(blob.last == 0xFF)
    }

    @Test func integersTakeTheSmallestEncoding() {
        func size(_ s: String) -> Int {
            var b = ListpackBuilder()
            b.append(Array(s.utf8))
            return b.finish().count - 7
        }
        #expect(size("5") == 2)          // 1 byte + backlen
        #expect(size("-100") == 3)       // 13-bit
        #expect(size("30000") == 4)      // 16-bit
        #expect(size("8000000") == 5)    // 24-bit
        #expect(size("2000000000") == 6) // 32-bit
        #expect(size("9000000000") == 10) // 64-bit
        #expect(size("abc") == 5)        // 6-bit string: 1 + 3 + backlen
    }

    @Test func intsetRoundTripsWithTheNarrowestWidth() throws {
        for values in [[1, 2, 3], [-40000, 5], [Int64.min, 0, Int64.max]] as [[Int64]] {
            let blob = IntsetEncoder.encode(values)
            #expect(try PackedFormats.intset(blob) == values)
        }
        #expect(IntsetEncoder.encode([1, 2])[0] == 2)
        #expect(IntsetEncoder.encode([1, 70000])[0] == 4)
        #expect(IntsetEncoder.encode([1, 1 << 40])[0] == 8)
    }
}

@Suite("Module values in RDB")
struct ModuleValueTests {
    @Test func unknownModuleTypeIsNamedInTheError() throws {
        // The id of a module type "mytype-AB" with encver 3, as Redis packs it.
        let charset = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var id: UInt64 = 0
        for ch in "mytype-AB".utf8 { id = id << 6 | UInt64(charset.firstIndex(of: ch)!) }
        id = id << 10 | 3
        #expect(ValueSerializer.moduleTypeName(id) == ("mytype-AB", 3))
        var w = RDBWriter()
        w.length64(id)
        var r = RDBReader(w.bytes)
        #expect(throws: RDBError.self) { _ = try ValueSerializer.read(type: RDBType.module2.rawValue, &r, config: Config(), moduleTypes: ModuleTypeRegistry()) }
        do {
            var r2 = RDBReader(w.bytes)
            _ = try ValueSerializer.read(type: RDBType.module2.rawValue, &r2, config: Config(), moduleTypes: ModuleTypeRegistry())
        } catch let e as RDBError {
            #expect(e.description.contains("'mytype-AB'"))
        }
    }
}
