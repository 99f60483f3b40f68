// Decoders for the packed blobs Redis stores inside RDB values: listpack
// (7.0), ziplist (older RDBs and DUMPs), intset, zipmap. Each yields the
// elements as byte strings (integers in decimal form), which the value types
// rebuild their own representation from.

public enum PackedFormats {
    /// Elements of a listpack blob.
    public static func listpack(_ b: [UInt8]) throws -> [[UInt8]] {
        guard b.count >= 7 else { throw RDBError("listpack too short") }
        let total = Int(b[0]) | Int(b[1]) << 8 | Int(b[2]) << 16 | Int(b[3]) << 24
        guard total == b.count, b[total - 1] == 0xFF else { throw RDBError("listpack corrupt header") }
        var out: [[UInt8]] = []
        var i = 6
        func need(_ n: Int) throws { if i + n > total - 1 { throw RDBError("listpack entry out of range") } }
        while i < total - 1 {
            let start = i
            let e = b[i]
            if e & 0x80 == 0 {
                out.append(decimalBytes(Int64(e & 0x7f))); i += 1
            } else if e & 0xC0 == 0x80 {
                let len = Int(e & 0x3f); try need(1 + len)
                out.append(Array(b[(i + 1)..<(i + 1 + len)])); i += 1 + len
            } else if e & 0xE0 == 0xC0 {
                try need(2)
                var v = Int64(Int(e & 0x1f) << 8 | Int(b[i + 1]))
                if v >= 1 << 12 { v -= 1 << 13 }
                out.append(decimalBytes(v)); i += 2
            } else if e & 0xF0 == 0xE0 {
                try need(2)
                let len = Int(e & 0x0f) << 8 | Int(b[i + 1]); try need(2 + len)
                out.append(Array(b[(i + 2)..<(i + 2 + len)])); i += 2 + len
            } else if e == 0xF0 {
                try need(5)
                let len = Int(b[i + 1]) | Int(b[i + 2]) << 8 | Int(b[i + 3]) << 16 | Int(b[i + 4]) << 24
                try need(5 + len)
                out.append(Array(b[(i + 5)..<(i + 5 + len)])); i += 5 + len
            } else if e >= 0xF1 && e <= 0xF4 {
                let n = [0xF1: 2, 0xF2: 3, 0xF3: 4, 0xF4: 8][Int(e)]!
                try need(1 + n)
                var u: UInt64 = 0
                for k in 0..<n { u |= UInt64(b[i + 1 + k]) << (8 * UInt64(k)) }
                let shift = UInt64(64 - 8 * n)
                let v = Int64(bitPattern: u << shift) >> Int64(shift)
                out.append(decimalBytes(v)); i += 1 + n
            } else {
                throw RDBError("listpack bad encoding")
            }
            let entryLen = i - start
            i += entryLen <= 127 ? 1 : entryLen < 16383 ? 2 : entryLen < 2097151 ? 3 : entryLen < 268435455 ? 4 : 5
        }
        return out
    }

    /// Elements of a ziplist blob.
    public static func ziplist(_ b: [UInt8]) throws -> [[UInt8]] {
        guard b.count >= 11, b[b.count - 1] == 0xFF else { throw RDBError("ziplist corrupt header") }
        var out: [[UInt8]] = []
        var i = 10
        func need(_ n: Int) throws { if i + n > b.count - 1 { throw RDBError("ziplist entry out of range") } }
        while i < b.count - 1 {
            i += b[i] == 0xFE ? 5 : 1
            try need(1)
            let e = b[i]
            switch e >> 6 {
            case 0:
                let len = Int(e & 0x3f); try need(1 + len)
                out.append(Array(b[(i + 1)..<(i + 1 + len)])); i += 1 + len
            case 1:
                try need(2)
                let len = Int(e & 0x3f) << 8 | Int(b[i + 1]); try need(2 + len)
                out.append(Array(b[(i + 2)..<(i + 2 + len)])); i += 2 + len
            case 2:
                try need(5)
                let len = Int(b[i + 1]) << 24 | Int(b[i + 2]) << 16 | Int(b[i + 3]) << 8 | Int(b[i + 4])
                try need(5 + len)
                out.append(Array(b[(i + 5)..<(i + 5 + len)])); i += 5 + len
            default:
                let n: Int
                switch e {
                case 0xC0: n = 2
                case 0xD0: n = 4
                case 0xE0: n = 8
                case 0xF0: n = 3
                case 0xFE: n = 1
                case 0xF1...0xFD:
                    out.append(decimalBytes(Int64(e & 0x0f) - 1)); i += 1; continue
                default: throw RDBError("ziplist bad encoding")
                }
                try need(1 + n)
                var u: UInt64 = 0
                for k in 0..<n { u |= UInt64(b[i + 1 + k]) << (8 * UInt64(k)) }
                let shift = UInt64(64 - 8 * n)
                out.append(decimalBytes(Int64(bitPattern: u << shift) >> Int64(shift)))
                i += 1 + n
            }
        }
        return out
    }

    /// Members of an intset blob.
    public static func intset(_ b: [UInt8]) throws -> [Int64] {
        guard b.count >= 8 else { throw RDBError("intset too short") }
        let width = Int(b[0]) | Int(b[1]) << 8 | Int(b[2]) << 16 | Int(b[3]) << 24
        let count = Int(b[4]) | Int(b[5]) << 8 | Int(b[6]) << 16 | Int(b[7]) << 24
        guard width == 2 || width == 4 || width == 8, b.count == 8 + width * count else {
            throw RDBError("intset corrupt")
        }
        var out: [Int64] = []
        out.reserveCapacity(count)
        for k in 0..<count {
            var u: UInt64 = 0
            for j in 0..<width { u |= UInt64(b[8 + k * width + j]) << (8 * UInt64(j)) }
            let shift = UInt64(64 - 8 * width)
            out.append(Int64(bitPattern: u << shift) >> Int64(shift))
        }
        return out
    }

    /// Field/value pairs of a zipmap blob (RDB_TYPE_HASH_ZIPMAP, pre-2.6 dumps).
    public static func zipmap(_ b: [UInt8]) throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        var i = 1
        func len() throws -> Int {
            guard i < b.count else { throw RDBError("zipmap truncated") }
            if b[i] < 254 { i += 1; return Int(b[i - 1]) }
            guard b[i] == 254, i + 5 <= b.count else { throw RDBError("zipmap bad length") }
            let v = Int(b[i + 1]) | Int(b[i + 2]) << 8 | Int(b[i + 3]) << 16 | Int(b[i + 4]) << 24
            i += 5
            return v
        }
        while i < b.count && b[i] != 0xFF {
            let kl = try len()
            guard i + kl <= b.count else { throw RDBError("zipmap truncated") }
            out.append(Array(b[i..<(i + kl)])); i += kl
            let vl = try len()
            guard i < b.count else { throw RDBError("zipmap truncated") }
            let free = Int(b[i]); i += 1
            guard i + vl + free <= b.count else { throw RDBError("zipmap truncated") }
            out.append(Array(b[i..<(i + vl)])); i += vl + free
        }
        return out
    }
}
