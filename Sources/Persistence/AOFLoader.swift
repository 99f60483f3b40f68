// Replays AOF files into the server (Redis's loadSingleAppendOnlyFile): an
// optional RDB preamble, then commands in RESP multibulk form, '#'
// annotations skipped. A MULTI without its EXEC at the end of the file is
// reverted (its commands are not run), and a command cut short by a crash
// is reported as a truncation at the last complete command, so the caller
// can cut the file there when aof-load-truncated allows it.

import Glibc
import Engine
import RESP

struct AOFFileLoad {
    var commands = 0
    /// Offset just past the last complete command (or complete transaction).
    var validBytes = 0
    var totalBytes = 0
    var truncated = false
    var revertedMulti = false
    var rdbPreamble = false
}

struct AOFFormatError: Error, CustomStringConvertible {
    let description: String
}

enum AOFLoader {
    /// Loads the file at `path` (which must exist) into `server` through `client`.
    static func load(path: String, engine: ShardEngine, client: Client,
                     progress: ((Int, Int) -> Void)?) throws -> AOFFileLoad {
        try scan(path: path, engine: engine, progress: progress) { spans, base in
            try execute(spans, base: base, engine: engine, client: client)
        }
    }

    /// Walks the file's RDB preamble (into `server`) and commands, calling
    /// `run` for each command that takes effect (transactions only once their
    /// EXEC is seen). `--check-aof` passes a `run` that only counts.
    static func scan(path: String, engine: ShardEngine, progress: ((Int, Int) -> Void)?,
                     run execute: ([ArgSpan], UnsafeMutableRawPointer) throws -> Void) throws -> AOFFileLoad {
        guard var bytes = try FileIO.readFile(path) else {
            throw AOFFormatError(description: "The AOF file \(path) doesn't exist")
        }
        var result = AOFFileLoad()
        result.totalBytes = bytes.count
        if bytes.isEmpty { return result }
        var pos = 0
        if bytes.count >= 5 && bytes[0..<5].elementsEqual("REDIS".utf8) {
            var opts = RDBLoadOptions()
            opts.aofPreamble = true
            opts.progress = progress
            let r = try RDBLoader.load(bytes, into: engine, options: opts)
            pos = r.bytesConsumed
            result.rdbPreamble = true
        }
        result.validBytes = pos
        var parser = RequestParser(maxBulkLength: Int.max / 2)
        var inMulti = false
        var multiStart = 0
        var queued: [Int] = []
        let count = bytes.count
        try bytes.withUnsafeMutableBytes { raw in
            let base = raw.baseAddress!
            func run(at start: Int) throws {
                var p = start
                guard parser.parse(base, pos: &p, end: count) == .command else { return }
                try execute(parser.args, base)
                result.commands += 1
                if result.commands & 4095 == 0 { progress?(p, count) }
            }
            while pos < count {
                let first = raw[pos]
                if first == UInt8(ascii: "#") {
                    // An annotation line (e.g. "#TS:..."): skip it whole.
                    guard let nl = raw[pos...].firstIndex(of: 10) else { result.truncated = true; break }
                    pos = nl + 1
                    if !inMulti { result.validBytes = pos }
                    continue
                }
                guard first == UInt8(ascii: "*") else {
                    throw AOFFormatError(description: "Bad file format reading the append only file \(path): make a backup of your AOF file, then use tessera-server --check-aof --fix <filename.manifest>")
                }
                let start = pos
                switch parser.parse(base, pos: &pos, end: count) {
                case .incomplete:
                    result.truncated = true
                    pos = count
                    continue
                case .error:
                    throw AOFFormatError(description: "Bad file format reading the append only file \(path): make a backup of your AOF file, then use tessera-server --check-aof --fix <filename.manifest>")
                case .empty:
                    if !inMulti { result.validBytes = pos }
                case .command:
                    let name = UnsafeRawBufferPointer(start: base + parser.args[0].offset, count: parser.args[0].count)
                    if inMulti {
                        if asciiEqual(name, "exec") {
                            inMulti = false
                            for q in queued { try run(at: q) }
                            queued.removeAll()
                            result.validBytes = pos
                        } else if asciiEqual(name, "discard") {
                            inMulti = false
                            queued.removeAll()
                            result.validBytes = pos
                        } else {
                            queued.append(start)
                        }
                    } else if asciiEqual(name, "multi") {
                        inMulti = true
                        multiStart = start
                    } else {
                        try execute(parser.args, base)
                        result.commands += 1
                        result.validBytes = pos
                        if result.commands & 4095 == 0 { progress?(pos, count) }
                    }
                }
            }
        }
        if inMulti {
            result.revertedMulti = true
            result.truncated = true
            result.validBytes = multiStart
        }
        return result
    }

    private static func execute(_ spans: [ArgSpan], base: UnsafeMutableRawPointer, engine: ShardEngine, client: Client) throws {
        try spans.withUnsafeBufferPointer { s in
            client.args = Args(base: UnsafeRawPointer(base), spans: s)
            if !engine.replay(client) {
                let name = String(decoding: client.args[0], as: UTF8.self)
                throw AOFFormatError(description: "Unknown command '\(name)' reading the append only file")
            }
            client.reply.out.truncate(to: 0)
        }
    }

    static func asciiEqual(_ b: UnsafeRawBufferPointer, _ s: StaticString) -> Bool {
        guard b.count == s.utf8CodeUnitCount else { return false }
        for i in 0..<b.count where b[i] | 0x20 != s.utf8Start[i] | 0x20 { return false }
        return true
    }
}
