// Redis Cluster's key → hash slot mapping: CRC16 (XMODEM: polynomial 0x1021,
// initial value 0) of the key, or of its {hash tag}, modulo 16384. Clients
// compute the same function, so it must match Redis bit for bit.

import CShims

public enum HashSlot {
    public static let count = 16384

    /// CRC16-XMODEM (the table lives in C: no Swift global access or ARC per call).
    @inline(__always)
    public static func crc16(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
        ts_crc16(bytes.baseAddress, bytes.count)
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
