// The AOF's command encoding, and the dataset written as commands (the base
// file of a rewrite when aof-use-rdb-preamble is off): SET, RPUSH, SADD,
// ZADD, HMSET in batches of 64 elements, PEXPIREAT for expires, SELECT per
// database. Replaying it rebuilds the same dataset.

import Glibc
import Engine
import RESP

/// Appends commands in RESP multibulk form (RESP's CommandEncoder) to a
/// byte buffer that a rewrite streams to its file in 64 KB writes.
struct AOFCommandBuffer {
    var bytes: [UInt8] = []
    /// When set, `flushIfFull` streams the buffer to this file in 64 KB writes.
    var fd: Int32 = -1
    var failure: Error? = nil

    mutating func flushIfFull() {
        guard fd >= 0, bytes.count >= 64 * 1024, failure == nil else { return }
        do { try FileIO.writeAll(fd, bytes, what: "AOF rewrite") } catch { failure = error }
        bytes.removeAll(keepingCapacity: true)
    }

    mutating func header(_ n: Int) { bytes.appendCommandHeader(n) }
    mutating func bulk(_ b: UnsafeRawBufferPointer) { bytes.appendBulkArgument(b) }
    mutating func bulk(_ b: [UInt8]) { bytes.appendBulkArgument(b) }
    mutating func bulk(_ s: StaticString) { bulk(UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount)) }
    mutating func bulk(decimal v: Int64) { bulk(decimalBytes(v)) }
    mutating func command(_ argv: [[UInt8]]) { bytes.appendCommand(argv) }
}

enum AOFRewrite {
    static let itemsPerCommand = 64

    /// Writes the whole dataset of `server` as commands to `fd`.
    static func writeCommands(_ engine: ShardEngine, to fd: Int32) throws {
        var out = AOFCommandBuffer()
        out.bytes.reserveCapacity(80 * 1024)
        out.fd = fd
        for db in engine.databases where db.count > 0 {
            out.command([Array("SELECT".utf8), decimalBytes(Int64(db.index))])
            db.forEach { e in
                if out.failure != nil { return }
                emit(e, into: &out)
                if let t = e.expireAt {
                    out.header(3)
                    out.bulk("PEXPIREAT")
                    out.bulk(e.key)
                    out.bulk(decimal: t)
                }
                out.flushIfFull()
            }
            if let f = out.failure { throw f }
        }
        try FileIO.writeAll(fd, out.bytes, what: "AOF rewrite")
    }

    /// The commands that recreate one key's value.
    static func emit(_ e: Entry, into out: inout AOFCommandBuffer) {
        let key = e.key
        /// Emits `total` items in commands of at most 64, `item` writing one item's arguments.
        func batched(_ name: StaticString, total: Int, argsPerItem: Int, _ each: (_ item: (UnsafeRawBufferPointer) -> Void) -> Void) {
            var left = total, inBatch = 0
            each { arg in
                if inBatch == 0 {
                    let n = min(left, itemsPerCommand)
                    out.header(2 + n * argsPerItem)
                    out.bulk(name)
                    out.bulk(key)
                }
                out.bulk(arg)
                // A batch is counted in items, each of `argsPerItem` arguments.
                inBatch += 1
                if inBatch == min(left, itemsPerCommand) * argsPerItem {
                    left -= inBatch / argsPerItem
                    inBatch = 0
                    out.flushIfFull()
                }
            }
        }
        switch e.type {
        case .string:
            out.header(3)
            out.bulk("SET")
            out.bulk(key)
            out.bulk(e.stringValue)
        case .list:
            let l = e.object as! ListValue
            batched("RPUSH", total: l.count, argsPerItem: 1) { item in l.forEach { item($0); return true } }
        case .set:
            let s = e.object as! SetValue
            batched("SADD", total: s.count, argsPerItem: 1) { item in s.forEach { item($0) } }
        case .zset:
            let z = e.object as! ZSetValue
            batched("ZADD", total: z.count, argsPerItem: 2) { item in
                z.forEach { m, score in
                    formatDouble(score).withUnsafeBytes { item($0) }
                    item(m)
                }
            }
        case .hash:
            let h = e.object as! HashValue
            batched("HMSET", total: h.count, argsPerItem: 2) { item in h.forEach { f, v in item(f); item(v) } }
        case .stream:
            (e.object as! StreamValue).rewriteCommands(key: Array(key)) { argv in
                out.command(argv)
                out.flushIfFull()
            }
        case .module:
            let m = e.object as! ModuleValue
            m.moduleType.aofRewrite(key: Array(key), m.value) { argv in
                out.command(argv)
                out.flushIfFull()
            }
        }
    }
}
