// CRC-64/Jones (reflected, polynomial 0xad93d23594c935a9, init 0), the
// checksum of RDB files and DUMP payloads. Table-driven, one byte at a time.

public enum CRC64 {
    static let table: [UInt64] = {
        let poly: UInt64 = 0x95ac9329ac4bc9b5  // 0xad93d23594c935a9 bit-reversed
        return (0..<256).map { i -> UInt64 in
            var crc = UInt64(i)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ poly : crc >> 1 }
            return crc
        }
    }()

    public static func update(_ crc: UInt64, _ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var c = crc
        table.withUnsafeBufferPointer { t in
            for b in bytes { c = t[Int(UInt8(truncatingIfNeeded: c) ^ b)] ^ (c >> 8) }
        }
        return c
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { update(0, $0) }
    }
}
