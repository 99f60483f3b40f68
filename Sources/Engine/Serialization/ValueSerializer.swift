// Serializes one value to and from Redis's RDB value format: the payload of
// DUMP/RESTORE here, and of every key in an RDB file for the persistence layer.
//
// Writing uses the plain encodings every Redis since 2.x loads (string, list,
// set, zset with binary scores, hash), so a DUMP from Tessera RESTOREs into
// Redis 7.0. Reading accepts everything Redis 7.0 writes or still loads:
// listpack, quicklist (v1 and v2), ziplist, intset and zipmap encodings.

public enum ValueSerializer {
    /// The RDB version DUMP payloads carry (Redis 7.0's RDB_VERSION).
    public static let rdbVersion: UInt16 = 10

    /// Writes the type byte and the value of entry `e`.
    public static func write(_ e: Entry, into w: inout RDBWriter) {
        switch e.type {
        case .string:
            w.byte(RDBType.string.rawValue)
            w.string(e.stringValue)
        case .list:
            let l = e.object as! ListValue
            w.byte(RDBType.list.rawValue)
            w.length(l.count)
            l.forEach { w.string($0); return true }
        case .set:
            let s = e.object as! SetValue
            w.byte(RDBType.set.rawValue)
            w.length(s.count)
            s.forEach { w.string($0) }
        case .zset:
            let z = e.object as! ZSetValue
            w.byte(RDBType.zset2.rawValue)
            w.length(z.count)
            z.forEach { m, score in w.string(m); w.binaryDouble(score) }
        case .hash:
            let h = e.object as! HashValue
            w.byte(RDBType.hash.rawValue)
            w.length(h.count)
            h.forEach { f, v in w.string(f); w.string(v) }
        case .stream:
            writeStream(e.object as! StreamValue, into: &w)
        case .module:
            preconditionFailure("no serializer for \(e.type)")
        }
    }

    /// A decoded value: either string bytes or an object with its type.
    public enum Value {
        case string([UInt8])
        case object(AnyObject, ValueType)
    }

    /// Reads a value whose type byte is `type`.
    public static func read(type: UInt8, _ r: inout RDBReader, config: Config) throws -> Value {
        guard let t = RDBType(rawValue: type) else { throw RDBError("unknown RDB value type \(type)") }
        switch t {
        case .string:
            return .string(try r.string())
        case .list:
            let n = try r.plainLength()
            return list(try (0..<n).map { _ in try r.string() }, config)
        case .listZiplist:
            return list(try PackedFormats.ziplist(try r.string()), config)
        case .listQuicklist:
            let nodes = try r.plainLength()
            var all: [[UInt8]] = []
            for _ in 0..<nodes { all += try PackedFormats.ziplist(try r.string()) }
            return list(all, config)
        case .listQuicklist2:
            let nodes = try r.plainLength()
            var all: [[UInt8]] = []
            for _ in 0..<nodes {
                let container = try r.plainLength()
                let blob = try r.string()
                if container == 1 { all.append(blob) }          // plain node: one big element
                else if container == 2 { all += try PackedFormats.listpack(blob) }
                else { throw RDBError("bad quicklist container \(container)") }
            }
            return list(all, config)
        case .set:
            let n = try r.plainLength()
            return set(try (0..<n).map { _ in try r.string() }, config)
        case .setIntset:
            return set(try PackedFormats.intset(try r.string()).map { decimalBytes($0) }, config)
        case .zset, .zset2:
            let n = try r.plainLength()
            var pairs: [([UInt8], Double)] = []
            for _ in 0..<n {
                let m = try r.string()
                let score = t == .zset2 ? try r.binaryDouble() : try r.textDouble()
                if score.isNaN { throw RDBError("zset score is NaN") }
                pairs.append((m, score))
            }
            return zset(pairs, config)
        case .zsetZiplist, .zsetListpack:
            let blob = try r.string()
            let flat = t == .zsetListpack ? try PackedFormats.listpack(blob) : try PackedFormats.ziplist(blob)
            guard flat.count % 2 == 0 else { throw RDBError("odd zset element count") }
            var pairs: [([UInt8], Double)] = []
            for i in stride(from: 0, to: flat.count, by: 2) {
                guard let d = parseDouble(flat[i + 1]) else { throw RDBError("bad zset score") }
                pairs.append((flat[i], d))
            }
            return zset(pairs, config)
        case .hash:
            let n = try r.plainLength()
            var flat: [[UInt8]] = []
            for _ in 0..<(2 * n) { flat.append(try r.string()) }
            return try hash(flat, config)
        case .hashZiplist:
            return try hash(try PackedFormats.ziplist(try r.string()), config)
        case .hashListpack:
            return try hash(try PackedFormats.listpack(try r.string()), config)
        case .hashZipmap:
            return try hash(try PackedFormats.zipmap(try r.string()), config)
        case .streamListpacks, .streamListpacks2:
            return .object(try readStream(&r, v2: t == .streamListpacks2), .stream)
        case .module, .module2:
            throw RDBError("RDB value type \(type) is not supported yet")
        }
    }

    static func list(_ elements: [[UInt8]], _ config: Config) -> Value {
        let l = ListValue(fill: config.listMaxListpackSize)
        for e in elements { l.push(e, front: false) }
        return .object(l, .list)
    }

    static func set(_ members: [[UInt8]], _ config: Config) -> Value {
        let s = SetValue()
        for m in members { _ = m.withUnsafeBytes { s.add($0, maxIntsetEntries: config.setMaxIntsetEntries) } }
        return .object(s, .set)
    }

    static func zset(_ pairs: [([UInt8], Double)], _ config: Config) -> Value {
        let z = ZSetValue()
        for (m, score) in pairs {
            m.withUnsafeBytes {
                z.set($0, score: score, maxEntries: config.zsetMaxListpackEntries, maxValue: config.zsetMaxListpackValue)
            }
        }
        return .object(z, .zset)
    }

    static func hash(_ flat: [[UInt8]], _ config: Config) throws -> Value {
        guard flat.count % 2 == 0 else { throw RDBError("odd hash element count") }
        let h = HashValue()
        for i in stride(from: 0, to: flat.count, by: 2) {
            flat[i].withUnsafeBytes { f in
                _ = h.set(f, flat[i + 1], maxEntries: config.hashMaxListpackEntries, maxValue: config.hashMaxListpackValue)
            }
        }
        return .object(h, .hash)
    }

    // MARK: DUMP payloads

    /// DUMP's payload: value, RDB version (2 bytes LE), CRC64 (8 bytes LE).
    public static func dumpPayload(_ e: Entry, compress: Bool) -> [UInt8] {
        var w = RDBWriter(compress: compress)
        write(e, into: &w)
        withUnsafeBytes(of: rdbVersion.littleEndian) { w.bytes.append(contentsOf: $0) }
        let crc = CRC64.checksum(w.bytes)
        withUnsafeBytes(of: crc.littleEndian) { w.bytes.append(contentsOf: $0) }
        return w.bytes
    }

    /// True if `p` has a known RDB version and (unless skipped) a correct checksum.
    public static func verifyPayload(_ p: [UInt8], checkCRC: Bool) -> Bool {
        guard p.count >= 10 else { return false }
        let version = UInt16(p[p.count - 10]) | UInt16(p[p.count - 9]) << 8
        if version > rdbVersion { return false }
        if !checkCRC { return true }
        var crc: UInt64 = 0
        for k in 0..<8 { crc |= UInt64(p[p.count - 8 + k]) << (8 * UInt64(k)) }
        return p.withUnsafeBytes { CRC64.update(0, UnsafeRawBufferPointer(rebasing: $0[0..<(p.count - 8)])) } == crc
    }
}
