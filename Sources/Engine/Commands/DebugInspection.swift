// DEBUG OBJECT / DIGEST / DIGEST-VALUE / HTSTATS / HTSTATS-KEY.
//
// Digest coverage: every key's name, type, expire flag and value. Strings by
// their bytes; lists, hashes, sets and sorted sets element by element through
// DebugInspectable (DebugConformances.swift): lists in order, the others
// order-independently, so a value's digest does not depend on its encoding.
// A value type that does not adopt DebugInspectable contributes only its
// encoding and element count. The digest is Tessera's own (Redis's SHA1-based
// values are not reproduced): compare digests between Tessera servers only.

import CShims
import RESP

/// A 160-bit digest, shown as 40 hex digits (all zeros for "nothing").
public struct DebugDigest {
    var w: (UInt64, UInt64, UInt64) = (0, 0, 0)

    public init() {}

    static func hash160(_ p: UnsafeRawBufferPointer) -> (UInt64, UInt64, UInt64) {
        (ts_hash_bytes(p.baseAddress, p.count, 0x9E37_79B9_7F4A_7C15),
         ts_hash_bytes(p.baseAddress, p.count, 0xC2B2_AE3D_27D4_EB4F),
         ts_hash_bytes(p.baseAddress, p.count, 0x1656_67B1_9E37_79F9) & 0xFFFF_FFFF)
    }

    /// Order-dependent mixing of `bytes` into the digest (Redis's mixDigest).
    public mutating func mix(_ bytes: UnsafeRawBufferPointer) {
        let h = DebugDigest.hash160(bytes)
        var state: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (w.0, w.1, w.2, h.0, h.1, h.2)
        w = withUnsafeBytes(of: &state) { DebugDigest.hash160($0) }
    }

    public mutating func mix(_ bytes: [UInt8]) { bytes.withUnsafeBytes { mix($0) } }
    public mutating func mix(_ s: String) { mix(Array(s.utf8)) }

    /// Order-independent combination (Redis's xorDigest).
    public mutating func xor(_ other: DebugDigest) {
        w = (w.0 ^ other.w.0, w.1 ^ other.w.1, w.2 ^ other.w.2)
    }

    public mutating func xor(_ bytes: [UInt8]) {
        var d = DebugDigest()
        d.mix(bytes)
        xor(d)
    }

    public var isZero: Bool { w == (0, 0, 0) }

    public var hex: String {
        let digits = Array("0123456789abcdef")
        var s = ""
        for (i, word) in [w.0, w.1, w.2].enumerated() {
            let nibbles = i == 2 ? 8 : 16
            for k in stride(from: nibbles - 1, through: 0, by: -1) { s.append(digits[Int((word >> (UInt64(k) * 4)) & 15)]) }
        }
        return s
    }
}

/// Low-level details a value type can give DEBUG (defaults exist for all).
public protocol DebugInspectable: AnyObject {
    /// Mixes the content into `d` the way DEBUG DIGEST-VALUE expects.
    func debugDigest(into d: inout DebugDigest)
    /// Estimated size of the value in an RDB file (DEBUG OBJECT serializedlength).
    var debugSerializedLength: Int { get }
    /// Quicklist figures for lists (ql_nodes, ql_avg_node...), nil for other types.
    var debugQuicklist: (nodes: Int, avgNode: Double, listpackMax: Int, compressed: Int, uncompressedSize: Int)? { get }
}

extension DebugInspectable {
    public var debugSerializedLength: Int { 0 }
    public var debugQuicklist: (nodes: Int, avgNode: Double, listpackMax: Int, compressed: Int, uncompressedSize: Int)? { nil }
}

extension ShardEngine {
    /// DEBUG DIGEST: every key of every database, independent of order.
    func datasetDigest() -> DebugDigest {
        var final = DebugDigest()
        for db in databases where db.count > 0 {
            var dbIndex = UInt32(db.index).bigEndian
            withUnsafeBytes(of: &dbIndex) { final.mix($0) }
            db.forEach { e in
                var d = DebugDigest()
                d.mix(e.key)
                digestValue(e, into: &d)
                if e.hasExpire { d.xor(Array("!!expire!!".utf8)) }
                final.xor(d)
            }
        }
        return final
    }

    /// Mixes the type and value of `e` into `d`.
    func digestValue(_ e: Entry, into d: inout DebugDigest) {
        var type = e.type.rawValue
        withUnsafeBytes(of: &type) { d.mix($0) }
        if e.type == .string {
            d.mix(e.stringValue)
            return
        }
        let obj = e.object
        if let x = obj as? DebugInspectable {
            x.debugDigest(into: &d)
        } else if let v = obj as? ValueObject {
            // Not inspectable yet: only the shape is covered.
            d.mix(String(describing: v.encodingName))
            d.mix(String(v.count))
        }
    }

    // MARK: DEBUG OBJECT

    static func debugObject(_ c: Client) {
        let s = c.engine
        guard let e = s.lookupWrite(c.db, c.args[2], touch: false) else { c.error(static: "ERR no such key"); return }
        var refcount = 1
        if e.type == .string && e.encodingName.description == "int",
           let v = parseCanonicalInt64(e.stringValue), v >= 0 && v < 10000,
           !s.config.maxmemoryPolicy.contains("lru") && !s.config.maxmemoryPolicy.contains("lfu") {
            refcount = Int(Int32.max)  // Redis shares small integers
        }
        let clock = s.lruClock
        let idle = clock >= e.lru ? clock - e.lru : clock + (0xFFFFFF - e.lru)
        var line = "Value at:0x\(String(UInt(bitPattern: e.ptr), radix: 16)) refcount:\(refcount)"
        line += " encoding:\(e.encodingName) serializedlength:\(serializedLength(e, s.config))"
        line += " lru:\(e.lru) lru_seconds_idle:\(idle)"
        if e.type == .list {
            let n = (e.object as? ValueObject)?.count ?? 0
            let lpMax = Int(s.config.get("list-max-listpack-size") ?? "-2") ?? -2
            let q = (e.object as? DebugInspectable)?.debugQuicklist
                ?? (nodes: n > 0 ? 1 : 0, avgNode: Double(n), listpackMax: lpMax, compressed: 0, uncompressedSize: 0)
            line += " ql_nodes:\(q.nodes) ql_avg_node:\(formatFixed(q.avgNode, 2)) ql_listpack_max:\(q.listpackMax)"
            line += " ql_compressed:\(q.compressed) ql_uncompressed_size:\(q.uncompressedSize)"
        }
        c.reply.simple(string: line)
    }

    /// Bytes an RDB length prefix takes for `n`.
    static func rdbLengthSize(_ n: Int) -> Int {
        n < 64 ? 1 : (n < 16384 ? 2 : (UInt64(n) <= UInt64(UInt32.max) ? 5 : 9))
    }

    /// RDB size of a value (Redis's rdbSavedObjectLen): exact for strings,
    /// estimated for other types unless they are DebugInspectable.
    static func serializedLength(_ e: Entry, _ config: Config) -> Int {
        if e.type == .string {
            // Exactly what an RDB file holds: integer encoding, LZF when it pays off.
            var w = RDBWriter(compress: config.get("rdbcompression") != "no")
            w.string(e.stringValue)
            return w.bytes.count
        }
        let obj = e.object
        if let x = obj as? DebugInspectable, x.debugSerializedLength > 0 { return x.debugSerializedLength }
        let n = (obj as? ValueObject)?.count ?? 0
        return rdbLengthSize(n) + n * 9
    }

    // MARK: HTSTATS

    static func htStatsText(title: String, size: Int, count: Int) -> String {
        var s = "[\(title)]\nHash table 0 stats (main hash table):\n"
        if count == 0 { return s + "No stats available for empty dictionaries\n" }
        let empty = size - count
        s += " table size: \(size)\n number of elements: \(count)\n different slots: \(count)\n max chain length: 1\n"
        s += " avg chain length (counted): 1.00\n avg chain length (computed): 1.00\n Chain length distribution:\n"
        if empty > 0 { s += "   0: \(empty) (\(formatFixed(Double(empty) * 100 / Double(size), 2))%)\n" }
        s += "   1: \(count) (\(formatFixed(Double(count) * 100 / Double(size), 2))%)\n"
        return s
    }

    static func powerOfTwo(atLeast n: Int) -> Int {
        var p = 4
        while p < n { p <<= 1 }
        return p
    }

    static func debugHTStats(_ c: Client) {
        guard let i = c.args.int64(2) else { c.notInteger(); return }
        guard let db = c.engine.database(Int(i)) else { c.error(static: "ERR Out of range database"); return }
        // The keyspace is an open-addressing table: a slot holds at most one key.
        var text = htStatsText(title: "Dictionary HT", size: db.capacity, count: db.count)
        text += htStatsText(title: "Expires HT", size: powerOfTwo(atLeast: db.expiresCount), count: db.expiresCount)
        c.reply.verbatim(text)
    }

    static func debugHTStatsKey(_ c: Client) {
        guard let e = c.engine.lookupWrite(c.db, c.args[2], touch: false) else { c.error(static: "ERR no such key"); return }
        let enc = e.encodingName.description
        guard e.type != .string, enc == "hashtable" || enc == "skiplist", let v = e.object as? ValueObject else {
            c.error(static: "ERR The value stored at the specified key is not represented using an hash table")
            return
        }
        c.reply.verbatim(htStatsText(title: "Dictionary HT", size: powerOfTwo(atLeast: v.count), count: v.count))
    }
}
