// Loads an RDB file (versions 1 to 10, everything Redis 7.0 loads) into the
// databases of a server. Keys whose expire has passed are dropped, as a Redis
// master does, except in an AOF preamble where later commands may still
// refer to them. A checksum mismatch, a truncated file, an unknown type or a
// duplicate key fails the load with a message naming the problem.

import Engine

public struct RDBLoadOptions {
    /// DEBUG RELOAD MERGE: a key already present is replaced instead of failing the load.
    public var allowDuplicates = false
    /// Loading the RDB preamble of an AOF: expired keys are kept.
    public var aofPreamble = false
    /// Keep the keys dropped as expired (a master restarted with its
    /// replication position propagates their DELs to its replicas).
    public var collectExpiredKeys = false
    /// Called every few thousand keys, so the loop can answer -LOADING meanwhile.
    public var progress: ((_ bytesDone: Int, _ bytesTotal: Int) -> Void)? = nil
    public init() {}
}

public struct RDBLoadResult {
    public var keysLoaded = 0
    public var keysExpired = 0
    public var aux: [String: String] = [:]
    public var rdbVersion = 0
    /// Bytes of the RDB itself (an AOF preamble is followed by commands).
    public var bytesConsumed = 0
    /// The keys dropped as expired, by database (with `collectExpiredKeys`).
    public var expiredKeys: [(db: Int, key: [UInt8])] = []
}

public enum RDBLoader {
    public static func load(_ bytes: [UInt8], into engine: ShardEngine, options: RDBLoadOptions = RDBLoadOptions()) throws -> RDBLoadResult {
        // Read in place: nothing of the reader outlives the call.
        try bytes.withUnsafeBytes { buf in
            try load(RDBBytes(base: buf.baseAddress ?? UnsafeRawPointer(bitPattern: 8)!, count: buf.count, release: {}),
                     into: engine, options: options)
        }
    }

    /// Loads from `storage` (a mapped file: the parsed part's pages are
    /// given back as the load goes, so the file is never resident whole).
    public static func load(_ storage: RDBBytes, into engine: ShardEngine, options: RDBLoadOptions = RDBLoadOptions()) throws -> RDBLoadResult {
        var r = RDBReader(storage)
        do {
            return try load(&r, engine, options)
        } catch let e as RDBError {
            throw RDBError("Short read or corrupt RDB data at offset \(r.pos) of \(storage.count): \(e.description)")
        }
    }

    private static func load(_ r: inout RDBReader, _ engine: ShardEngine, _ options: RDBLoadOptions) throws -> RDBLoadResult {
        var result = RDBLoadResult()
        let storage = r.storage
        let bytes = storage.buffer
        guard bytes.count >= 9, bytes[0..<5].elementsEqual("REDIS".utf8),
              let version = Int(String(decoding: bytes[5..<9], as: UTF8.self)) else {
            throw RDBError("Wrong signature trying to load DB from file")
        }
        guard version >= 1 && version <= RDBFile.version else {
            throw RDBError("Can't handle RDB format version \(version)")
        }
        result.rdbVersion = version
        r.pos = 9
        var meta = KeyMeta(db: engine.databases[0])
        let now = ShardEngine.wallClockMs()
        var sinceProgress = 0
        // The checksum follows the parse, so each part of the file is read
        // once and can be dropped from memory behind the parser.
        var crc: UInt64 = 0, crcPos = 0
        func advanceChecksum(to end: Int) {
            crc = CRC64.update(crc, UnsafeRawBufferPointer(rebasing: bytes[crcPos..<end]))
            crcPos = end
            storage.dropPages(before: end)
        }
        while true {
            let type = try r.byte()
            switch type {
            case RDBOpcode.expireTimeMs:
                meta.expireAt = Int64(bitPattern: try r.uint64LE())
                continue
            case RDBOpcode.expireTime:
                let s = try r.take(4)
                var v: UInt32 = 0
                for (i, b) in s.enumerated() { v |= UInt32(b) << (8 * UInt32(i)) }
                meta.expireAt = Int64(Int32(bitPattern: v)) * 1000
                continue
            case RDBOpcode.idle:
                meta.idle = Int64(try r.plainLength())
                continue
            case RDBOpcode.freq:
                meta.freq = Int(try r.byte())
                continue
            case RDBOpcode.selectDB:
                let i = try r.plainLength()
                guard let d = engine.database(i) else {
                    throw RDBError("FATAL: Data file was created with a Redis server configured to handle more than \(engine.databases.count) databases. Exiting")
                }
                meta.db = d
                continue
            case RDBOpcode.resizeDB:
                meta.db.reserve(try r.plainLength())
                _ = try r.plainLength()
                continue
            case RDBOpcode.aux:
                let k = String(decoding: try r.string(), as: UTF8.self)
                let v = String(decoding: try r.string(), as: UTF8.self)
                result.aux[k] = v
                continue
            case RDBOpcode.moduleAux:
                throw RDBError("The RDB file contains module auxiliary data (no module that could read it is loaded)")
            case RDBOpcode.function, RDBOpcode.function2:
                throw RDBError("The RDB file contains Redis Functions libraries, which Tessera cannot run (no scripting)")
            case RDBOpcode.eof:
                let end = r.pos
                if version >= 5 {
                    let stored = try r.uint64LE()
                    if stored != 0 {
                        advanceChecksum(to: end)
                        let computed = crc
                        if computed != stored {
                            throw RDBError("Wrong RDB checksum expected: (\(hex(stored))) got: (\(hex(computed))). Aborting now.")
                        }
                    }
                }
                result.bytesConsumed = r.pos
                return result
            default:
                break
            }
            // A key-value pair of type `type`. Strings, most of most datasets,
            // go from the file's bytes to their entry without a copy in between.
            if type == RDBType.string.rawValue && !options.allowDuplicates {
                try loadString(&r, meta, engine, options, now, &result)
            } else {
                try loadValue(type, &r, meta, engine, options, now, &result)
            }
            meta.expireAt = nil
            meta.idle = nil
            meta.freq = nil
            sinceProgress += 1
            if sinceProgress >= 4096 {
                sinceProgress = 0
                advanceChecksum(to: r.pos)
                options.progress?(r.pos, bytes.count)
            }
        }
    }

    /// What the opcodes before a key said about it.
    private struct KeyMeta {
        var db: Database
        var expireAt: Int64? = nil
        var idle: Int64? = nil
        var freq: Int? = nil
    }

    private static func loadString(_ r: inout RDBReader, _ meta: KeyMeta, _ engine: ShardEngine,
                                   _ options: RDBLoadOptions, _ now: Int64, _ result: inout RDBLoadResult) throws {
        let db = meta.db
        let expired = meta.expireAt.map { $0 < now && !options.aofPreamble } ?? false
        try r.withTwoStrings { k, v in
            if expired {
                if options.collectExpiredKeys { result.expiredKeys.append((db.index, Array(k))) }
                return
            }
            guard let e = engine.addLoadedString(db, k, v, expireAt: meta.expireAt) else {
                throw RDBError("RDB has duplicated key '\(String(decoding: k, as: UTF8.self))' in DB \(db.index)")
            }
            if meta.idle != nil || meta.freq != nil { _ = engine.setAccessData(e, idleSeconds: meta.idle, frequency: meta.freq) }
        }
        if expired { result.keysExpired += 1 } else { result.keysLoaded += 1 }
    }

    private static func loadValue(_ type: UInt8, _ r: inout RDBReader, _ meta: KeyMeta, _ engine: ShardEngine,
                                  _ options: RDBLoadOptions, _ now: Int64, _ result: inout RDBLoadResult) throws {
        let db = meta.db
        let key = try r.string()
        let value = try ValueSerializer.read(type: type, &r, config: engine.config, moduleTypes: engine.moduleTypes)
        if case .object(let o, let t) = value, t != .stream, let v = o as? ValueObject, v.count == 0 {  // empty streams are kept, as Redis
            engine.logger.warning("RDB has an empty value for key '\(String(decoding: key, as: UTF8.self))': skipped")
            return
        }
        if let t = meta.expireAt, t < now, !options.aofPreamble {
            result.keysExpired += 1
            if options.collectExpiredKeys { result.expiredKeys.append((db.index, key)) }
            return
        }
        let hasAccessData = meta.idle != nil || meta.freq != nil
        try key.withUnsafeBytes { k in
            if options.allowDuplicates {
                // DEBUG RELOAD MERGE: a present key is replaced.
                switch value {
                case .string(let s): engine.setString(db, k, s, expireAt: meta.expireAt)
                case .object(let o, let t): engine.setObject(db, k, o, type: t, expireAt: meta.expireAt)
                }
                if hasAccessData, let e = db.rawLookup(k) { _ = engine.setAccessData(e, idleSeconds: meta.idle, frequency: meta.freq) }
                return
            }
            let added: Entry?
            switch value {
            case .string(let s): added = s.withUnsafeBytes { engine.addLoadedString(db, k, $0, expireAt: meta.expireAt) }
            case .object(let o, let t): added = engine.addLoadedObject(db, k, o, type: t, expireAt: meta.expireAt)
            }
            guard let e = added else {
                throw RDBError("RDB has duplicated key '\(String(decoding: key, as: UTF8.self))' in DB \(db.index)")
            }
            if hasAccessData { _ = engine.setAccessData(e, idleSeconds: meta.idle, frequency: meta.freq) }
        }
        result.keysLoaded += 1
    }

    static func hex(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, 16 - s.count)) + s
    }
}
