// What DEBUG and MEMORY learn from the aggregate value types: their content
// for DEBUG DIGEST(-VALUE), their RDB size for DEBUG OBJECT serializedlength,
// quicklist figures for lists, and their memory for MEMORY USAGE.
//
// RDB sizes follow Redis 7.0's encodings (listpacks, intsets, plain string
// lists); listpack blobs are counted uncompressed (Redis LZF-compresses those
// longer than 20 bytes when it saves space).

import Glibc
import CJemalloc

/// Sizes of Redis listpack encodings (listpack.c), to model RDB and quicklist figures.
enum ListpackSize {
    static let header = 6, terminator = 1

    /// Bytes of one listpack entry (encoding, data and back-length) holding `s`.
    static func entry(_ s: UnsafeRawBufferPointer) -> Int {
        var n: Int
        if s.count <= 20, let v = parseCanonicalInt64(s) {
            if v >= 0 && v <= 127 { n = 1 }
            else if v >= -4096 && v <= 4095 { n = 2 }
            else if v >= Int64(Int16.min) && v <= Int64(Int16.max) { n = 3 }
            else if v >= -(1 << 23) && v < (1 << 23) { n = 4 }
            else if v >= Int64(Int32.min) && v <= Int64(Int32.max) { n = 5 }
            else { n = 9 }
        } else if s.count < 64 {
            n = 1 + s.count
        } else if s.count < 4096 {
            n = 2 + s.count
        } else {
            n = 5 + s.count
        }
        return n + backlen(n)
    }

    static func entry(_ d: Double) -> Int {
        // Scores are stored as integers when they are integral, else as "%.17g" text.
        let text = formatDouble(d)
        return text.withUnsafeBytes { entry($0) }
    }

    static func backlen(_ l: Int) -> Int {
        l <= 127 ? 1 : (l < 16383 ? 2 : (l < 2_097_151 ? 3 : (l < 268_435_455 ? 4 : 5)))
    }

    /// RDB bytes of a listpack of `size` bytes saved as a string.
    static func rdbBlob(_ size: Int) -> Int { ShardEngine.rdbLengthSize(size) + size }
}

/// RDB bytes of one string as Redis writes it (integer encodings, no LZF).
private func rdbString(_ s: UnsafeRawBufferPointer) -> Int {
    var w = RDBWriter(compress: false)
    w.string(s)
    return w.bytes.count
}


extension ListValue: DebugInspectable, MemoryMeasurable {
    public func debugDigest(into d: inout DebugDigest) {
        forEach { d.mix($0); return true }
    }

    /// Listpack bytes of each node, in order.
    private var nodeSizes: [Int] {
        var sizes: [Int] = []
        var counts = chunks.map { $0.count }.makeIterator()
        var left = counts.next() ?? 0
        var size = ListpackSize.header + ListpackSize.terminator
        forEach { e in
            while left == 0 {
                sizes.append(size)
                size = ListpackSize.header + ListpackSize.terminator
                left = counts.next() ?? Int.max
            }
            size += ListpackSize.entry(e)
            left -= 1
            return true
        }
        if count > 0 { sizes.append(size) }
        return sizes
    }

    public var debugSerializedLength: Int {
        // quicklist 2: node count, then per node its container type and listpack.
        let nodes = nodeSizes
        return ShardEngine.rdbLengthSize(nodes.count) + nodes.reduce(0) { $0 + 1 + ListpackSize.rdbBlob($1) }
    }

    public var debugQuicklist: (nodes: Int, avgNode: Double, listpackMax: Int, compressed: Int, uncompressedSize: Int)? {
        let sizes = nodeSizes
        // list-max-listpack-size as configured: an element count, or -1...-5 for 4...64 KB.
        var fill = maxCount
        if maxCount == Int.max {
            var level = 1
            while (4096 << (level - 1)) < maxBytes && level < 5 { level += 1 }
            fill = -level
        }
        return (sizes.count, sizes.isEmpty ? 0 : Double(count) / Double(sizes.count), fill, 0, sizes.reduce(0, +))
    }

}

extension HashValue: DebugInspectable, MemoryMeasurable {
    public func debugDigest(into d: inout DebugDigest) {
        forEach { f, v in
            var e = DebugDigest()
            e.mix(f)
            e.mix(v)
            d.xor(e)
        }
    }

    public var debugSerializedLength: Int {
        if isListpack {
            var size = ListpackSize.header + ListpackSize.terminator
            forEach { f, v in size += ListpackSize.entry(f) + ListpackSize.entry(v) }
            return ListpackSize.rdbBlob(size)
        }
        var size = ShardEngine.rdbLengthSize(count)
        forEach { f, v in size += rdbString(f) + rdbString(v) }
        return size
    }

}

extension SetValue: DebugInspectable, MemoryMeasurable {
    public func debugDigest(into d: inout DebugDigest) {
        forEach { m in
            var e = DebugDigest()
            e.mix(m)
            d.xor(e)
        }
    }

    public var debugSerializedLength: Int {
        if isIntset {
            // An intset blob: encoding width and length headers, then the integers.
            var width = 2
            forEach { m in
                guard let v = parseCanonicalInt64(m) else { return }
                if v < Int64(Int32.min) || v > Int64(Int32.max) { width = 8 }
                else if (v < Int64(Int16.min) || v > Int64(Int16.max)) && width < 4 { width = 4 }
            }
            return ListpackSize.rdbBlob(8 + count * width)
        }
        var size = ShardEngine.rdbLengthSize(count)
        forEach { m in size += rdbString(m) }
        return size
    }

}

extension ZSetValue: DebugInspectable, MemoryMeasurable {
    public func debugDigest(into d: inout DebugDigest) {
        forEach { m, score in
            var e = DebugDigest()
            e.mix(m)
            e.mix(formatDouble(score))
            d.xor(e)
        }
    }

    public var debugSerializedLength: Int {
        if isListpack {
            var size = ListpackSize.header + ListpackSize.terminator
            forEach { m, score in size += ListpackSize.entry(m) + ListpackSize.entry(score) }
            return ListpackSize.rdbBlob(size)
        }
        // RDB_TYPE_ZSET_2: members with 8-byte binary scores.
        var size = ShardEngine.rdbLengthSize(count)
        forEach { m, _ in size += rdbString(m) + 8 }
        return size
    }

}
