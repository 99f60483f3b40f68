// Serializes one value to and from Redis's RDB value format: the payload of
// DUMP/RESTORE here, and of every key in an RDB file for the persistence layer.
//
// Writing uses the encodings Redis 7.0 itself writes (listpacks, intsets,
// quicklist nodes), so our dumps and payloads load into Redis 7.0. Reading accepts everything Redis 7.0 writes or still loads:
// listpack, quicklist (v1 and v2), ziplist, intset and zipmap encodings.

public enum ValueSerializer {
    /// The RDB version DUMP payloads carry (Redis 7.0's RDB_VERSION).
    public static let rdbVersion: UInt16 = 10

    /// Writes the type byte and the value of entry `e`.
    public static func write(_ e: Entry, into w: inout RDBWriter) {
        w.byte(rdbType(of: e).rawValue)
        writeValue(e, into: &w)
    }

    /// The RDB type Redis 7.0 would write for `e`: QUICKLIST_2 lists, INTSET or
    /// SET sets, ZSET_LISTPACK or ZSET_2 zsets, HASH_LISTPACK or HASH hashes.
    public static func rdbType(of e: Entry) -> RDBType {
        switch e.type {
        case .string: return .string
        case .list: return .listQuicklist2
        case .set: return (e.object as! SetValue).isIntset ? .setIntset : .set
        case .zset: return (e.object as! ZSetValue).isListpack ? .zsetListpack : .zset2
        case .hash: return (e.object as! HashValue).isListpack ? .hashListpack : .hash
        case .stream: return .streamListpacks2
        case .module: return .module2
        }
    }

    /// Writes the value of `e` (without its type byte) in the encoding of `rdbType(of:)`.
    public static func writeValue(_ e: Entry, into w: inout RDBWriter) {
        switch e.type {
        case .string:
            w.string(e.stringValue)
        case .list:
            let l = e.object as! ListValue
            var nodes = 0
            for c in l.chunks where c.count > 0 { nodes += 1 }
            w.length(nodes)
            for c in l.chunks where c.count > 0 {
                var lp = ListpackBuilder(reservingCapacity: c.tail - c.head)
                var o = c.head
                while o < c.tail {
                    let (d, next) = c.element(at: o)
                    lp.append(d)
                    o = next
                }
                w.length(2)   // container: packed
                w.string(lp.finish())
            }
        case .set:
            let s = e.object as! SetValue
            if s.isIntset {
                w.string(IntsetEncoder.encode(s.ints))
            } else {
                w.length(s.count)
                s.forEach { w.string($0) }
            }
        case .zset:
            let z = e.object as! ZSetValue
            if z.isListpack {
                var lp = ListpackBuilder()
                z.forEach { m, score in
                    lp.append(m)
                    lp.append(listpackScoreBytes(score))
                }
                w.string(lp.finish())
            } else {
                // Highest score first, as Redis: each loaded element then goes in at the head.
                w.length(z.count)
                z.walk(from: z.count - 1, reverse: true) { m, score in
                    w.string(m)
                    w.binaryDouble(score)
                    return true
                }
            }
        case .hash:
            let h = e.object as! HashValue
            if h.isListpack {
                var lp = ListpackBuilder()
                h.forEach { f, v in lp.append(f); lp.append(v) }
                w.string(lp.finish())
            } else {
                w.length(h.count)
                h.forEach { f, v in w.string(f); w.string(v) }
            }
        case .stream:
            writeStreamBody(e.object as! StreamValue, into: &w)
        case .module:
            let m = e.object as! ModuleValue
            w.length64(m.moduleType.typeID)
            m.moduleType.rdbSave(m.value, into: &w)
        }
    }

    /// A decoded value: either string bytes or an object with its type.
    public enum Value {
        case string([UInt8])
        case object(AnyObject, ValueType)
    }

    /// Reads a value whose type byte is `type`.
    public static func read(type: UInt8, _ r: inout RDBReader, config: Config,
                            moduleTypes: ModuleTypeRegistry) throws -> Value {
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
            // A module value starts with its 64-bit type id: 9 name characters and an encoding version.
            let id = try r.length64()
            let (name, encver) = moduleTypeName(id)
            if t == .module2, let handle = moduleTypes.lookup(id) {
                let v = try handle.rdbLoad(&r, encver: encver)
                return .object(ModuleValue(type: handle, value: v), .module)
            }
            throw RDBError("The RDB file contains module data for the module type '\(name)', version \(encver), and no loaded module provides that type")
        }
    }

    /// The name and encoding version packed in a module type id (9 chars of 6 bits, then 10 bits).
    public static func moduleTypeName(_ id: UInt64) -> (String, Int) {
        let charset = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var rest = id >> 10
        var name = [Character](repeating: " ", count: 9)
        for j in 0..<9 {
            name[8 - j] = charset[Int(rest & 63)]
            rest >>= 6
        }
        return (String(name), Int(id & 1023))
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
