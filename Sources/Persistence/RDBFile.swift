// Whole-dataset RDB files in Redis 7.0's format (RDB version 10): header,
// AUX fields, per database SELECTDB + RESIZEDB, per key its expire, its
// LRU idle time or LFU counter (as the eviction policy wants), type, key and
// value (ValueSerializer), then EOF and the CRC64 of everything before it.
// The same writer produces the RDB preamble of an AOF base file.

import Glibc
import Engine

enum RDBOpcode {
    static let function2: UInt8 = 245, function: UInt8 = 246, moduleAux: UInt8 = 247
    static let idle: UInt8 = 248, freq: UInt8 = 249, aux: UInt8 = 250, resizeDB: UInt8 = 251
    static let expireTimeMs: UInt8 = 252, expireTime: UInt8 = 253, selectDB: UInt8 = 254, eof: UInt8 = 255
}

/// Streams RDB bytes to a file descriptor in 64 KB writes, keeping the CRC.
struct RDBFileSink {
    let fd: Int32
    var w: RDBWriter
    var crc: UInt64 = 0
    let checksum: Bool
    var written = 0

    init(fd: Int32, compress: Bool, checksum: Bool) {
        self.fd = fd
        self.checksum = checksum
        w = RDBWriter(compress: compress)
        w.bytes.reserveCapacity(80 * 1024)
    }

    @inline(__always) mutating func flushIfFull() throws {
        if w.bytes.count >= 64 * 1024 { try flush() }
    }

    /// rdb-save-incremental-fsync: fsync every this many bytes (0 = only at the end).
    var autoSyncBytes = 0
    private var syncedUpTo = 0

    mutating func flush() throws {
        if w.bytes.isEmpty { return }
        try w.bytes.withUnsafeBytes { b in
            if checksum { crc = CRC64.update(crc, b) }
            try FileIO.writeAll(fd, b.baseAddress!, b.count, what: "RDB")
        }
        written += w.bytes.count
        w.bytes.removeAll(keepingCapacity: true)
        if autoSyncBytes > 0 && written - syncedUpTo >= autoSyncBytes {
            try FileIO.fsyncOrThrow(fd, what: "RDB")
            syncedUpTo = written
        }
    }
}

public struct RDBSaveOptions {
    public var compress = true
    public var checksum = true
    /// Written as the RDB preamble of an AOF base file (AUX aof-base 1).
    public var aofBase = false
    /// rdb-key-save-delay: microseconds to sleep per key (tests slow the child down with it).
    public var keySaveDelayUs = 0
    /// rdb-save-incremental-fsync: fsync every 4 MB written.
    public var incrementalFsync = true
    /// The replication position the dataset stands at (AUX repl-id,
    /// repl-offset, repl-stream-db): a replica restarted from this file, or
    /// the replicas of a master restarted from it, can continue partially.
    public var replication: RDBReplicationInfo? = nil
}

public struct RDBReplicationInfo {
    public var replid: String
    public var offset: Int64
    public var streamDB: Int
    public init(replid: String, offset: Int64, streamDB: Int) {
        self.replid = replid; self.offset = offset; self.streamDB = streamDB
    }

    /// The position an RDB's AUX fields record, if any.
    public init?(aux: [String: String]) {
        guard let id = aux["repl-id"], id.utf8.count == 40, let off = aux["repl-offset"].flatMap({ Int64($0) }) else { return nil }
        self.init(replid: id, offset: off, streamDB: aux["repl-stream-db"].flatMap { Int($0) } ?? 0)
    }
}

public enum RDBFile {
    public static let version = 10

    /// Writes the whole dataset of `server` to `fd`. Returns the number of keys.
    @discardableResult
    public static func write(_ engine: ShardEngine, to fd: Int32, options: RDBSaveOptions) throws -> Int {
        var sink = RDBFileSink(fd: fd, compress: options.compress, checksum: options.checksum)
        sink.autoSyncBytes = options.incrementalFsync ? 4 << 20 : 0
        sink.w.raw(Array("REDIS00\(version)".utf8))
        func aux(_ k: String, _ v: String) {
            sink.w.byte(RDBOpcode.aux)
            sink.w.string(Array(k.utf8))
            sink.w.string(Array(v.utf8))
        }
        aux("redis-ver", ShardEngine.redisVersion)
        aux("redis-bits", String(MemoryLayout<Int>.size * 8))
        aux("ctime", String(ShardEngine.wallClockMs() / 1000))
        aux("used-mem", String(MemoryStats.allocator().allocated))
        if let r = options.replication {
            aux("repl-stream-db", String(r.streamDB))
            aux("repl-id", r.replid)
            aux("repl-offset", String(r.offset))
        }
        aux("aof-base", options.aofBase ? "1" : "0")
        let policy = engine.config.maxmemoryPolicy
        let saveLRU = policy.hasSuffix("-lru"), saveLFU = policy.hasSuffix("-lfu")
        var keys = 0
        for db in engine.databases where db.count > 0 {
            sink.w.byte(RDBOpcode.selectDB)
            sink.w.length(db.index)
            sink.w.byte(RDBOpcode.resizeDB)
            sink.w.length(db.count)
            sink.w.length(db.expiresCount)
            var failure: Error? = nil
            db.forEach { e in
                if failure != nil { return }
                if let t = e.expireAt {
                    sink.w.byte(RDBOpcode.expireTimeMs)
                    withUnsafeBytes(of: UInt64(bitPattern: t).littleEndian) { sink.w.bytes.append(contentsOf: $0) }
                }
                if saveLRU {
                    sink.w.byte(RDBOpcode.idle)
                    sink.w.length(Int(engine.idleTimeMs(e) / 1000))
                } else if saveLFU {
                    sink.w.byte(RDBOpcode.freq)
                    sink.w.byte(engine.lfuDecayedCounter(e))
                }
                writeKeyValue(e, &sink.w)
                keys += 1
                if options.keySaveDelayUs > 0 { usleep(UInt32(options.keySaveDelayUs)) }
                do { try sink.flushIfFull() } catch { failure = error }
            }
            if let f = failure { throw f }
        }
        sink.w.byte(RDBOpcode.eof)
        try sink.flush()
        var crc = options.checksum ? sink.crc : 0
        crc = crc.littleEndian
        try withUnsafeBytes(of: &crc) { try FileIO.writeAll(fd, $0.baseAddress!, 8, what: "RDB") }
        return keys
    }

    @inline(__always)
    static func writeKeyValue(_ e: Entry, _ w: inout RDBWriter) {
        w.byte(ValueSerializer.rdbType(of: e).rawValue)
        w.string(e.key)
        ValueSerializer.writeValue(e, into: &w)
    }
}
