// CRC-64/Jones (reflected, polynomial 0xad93d23594c935a9, init 0), the
// checksum of RDB files and DUMP payloads. Slicing-by-8: eight tables let
// the loop fold eight bytes per step (a byte-at-a-time loop made the CRC
// 6% of loading an RDB).

public enum CRC64 {
    /// tables[k][b]: the CRC of byte b followed by k zero bytes.
    static let tables: [UInt64] = {
        let poly: UInt64 = 0x95ac9329ac4bc9b5  // 0xad93d23594c935a9 bit-reversed
        var t = [UInt64](repeating: 0, count: 8 * 256)
        for i in 0..<256 {
            var crc = UInt64(i)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ poly : crc >> 1 }
            t[i] = crc
        }
        for k in 1..<8 {
            for i in 0..<256 {
                let prev = t[(k - 1) * 256 + i]
                t[k * 256 + i] = t[Int(UInt8(truncatingIfNeeded: prev))] ^ (prev >> 8)
            }
        }
        return t
    }()

    public static func update(_ crc: UInt64, _ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var c = crc
        guard let base = bytes.baseAddress else { return c }
        let n = bytes.count
        tables.withUnsafeBufferPointer { t in
            var i = 0
            while i + 8 <= n {
                let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt64.self)) ^ c
                c = t[7 * 256 + Int(word & 0xff)] ^ t[6 * 256 + Int((word >> 8) & 0xff)]
                    ^ t[5 * 256 + Int((word >> 16) & 0xff)] ^ t[4 * 256 + Int((word >> 24) & 0xff)]
                    ^ t[3 * 256 + Int((word >> 32) & 0xff)] ^ t[2 * 256 + Int((word >> 40) & 0xff)]
                    ^ t[1 * 256 + Int((word >> 48) & 0xff)] ^ t[Int(word >> 56)]
                i += 8
            }
            while i < n {
                c = t[Int(UInt8(truncatingIfNeeded: c) ^ base.load(fromByteOffset: i, as: UInt8.self))] ^ (c >> 8)
                i += 1
            }
        }
        return c
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { update(0, $0) }
    }
}
