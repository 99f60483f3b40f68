// Redis Cluster's key → hash slot mapping: CRC16 (XMODEM: polynomial 0x1021,
// initial value 0) of the key, or of its {hash tag}, modulo 16384. Clients
// compute the same function, so it must match Redis bit for bit.

public enum HashSlot {
    public static let count = 16384

    /// The CRC16 table for polynomial 0x1021, built once.
    static let table: [UInt16] = (0..<256).map { byte -> UInt16 in
        var crc = UInt16(byte) << 8
        for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        return crc
    }

    @inline(__always)
    public static func crc16(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
        var crc: UInt16 = 0
        table.withUnsafeBufferPointer { t in
            for b in bytes { crc = (crc << 8) ^ t[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ b)] }
        }
        return crc
    }

    /// The slot of `key`: only the part between the first `{` and the next `}`
    /// is hashed when that part is not empty, so `{user1}.a` and `{user1}.b`
    /// share a slot.
    @inline(__always)
    public static func of(_ key: UnsafeRawBufferPointer) -> Int {
        if let open = key.firstIndex(of: UInt8(ascii: "{")) {
            var close = open + 1
            while close < key.count && key[close] != UInt8(ascii: "}") { close += 1 }
            if close < key.count && close > open + 1 {
                return Int(crc16(UnsafeRawBufferPointer(rebasing: key[(open + 1)..<close])) & 0x3FFF)
            }
        }
        return Int(crc16(key) & 0x3FFF)
    }

    public static func of(_ key: [UInt8]) -> Int { key.withUnsafeBytes { of($0) } }
}
