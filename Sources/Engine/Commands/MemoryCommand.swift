// MEMORY USAGE / STATS / DOCTOR / MALLOC-STATS / PURGE / HELP.
//
// Sizes come from the allocator: a key's entry is one allocation whose real
// size malloc_usable_size reports, plus its slot in the database table. Values
// of aggregate types report their own size when they adopt MemoryMeasurable;
// otherwise an estimate from their element count is used.

import CJemalloc
import RESP

/// Value types that can tell how much memory they use (MEMORY USAGE).
public protocol MemoryMeasurable: AnyObject {
    /// Bytes used by the value; `samples` bounds how many nested elements are
    /// looked at (0: all), as Redis samples big aggregates.
    func memoryUsage(samples: Int) -> Int
}

extension Server {
    static func memoryCommands() -> [Command] {
        [
            Command("memory", arity: -2, group: .server, since: "4.0.0", handler: { _ in })
                .withSubcommands([
                    Command("doctor", arity: 2, group: .server, since: "4.0.0", handler: memoryDoctorCommand),
                    Command("malloc-stats", arity: 2, group: .server, since: "4.0.0",
                            handler: { $0.reply.verbatim(jemallocStatsText()) }),
                    Command("help", arity: 2, flags: [.loading, .stale], group: .server, since: "4.0.0",
                            handler: { replyHelp($0, memoryHelp) }),
                    Command("usage", arity: -3, flags: [.readonly], keys: (2, 2, 1), group: .server, since: "4.0.0",
                            handler: memoryUsageCommand),
                    Command("stats", arity: 2, group: .server, since: "4.0.0", handler: memoryStatsCommand),
                    Command("purge", arity: 2, group: .server, since: "4.0.0", handler: memoryPurgeCommand),
                ]),
        ]
    }

    static let memoryHelp = [
        "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DOCTOR",
        "    Report memory problems, if any.",
        "MALLOC-STATS",
        "    Return the allocator's (jemalloc) detailed statistics.",
        "PURGE",
        "    Ask the allocator to return unused dirty pages to the system.",
        "STATS",
        "    Return a breakdown of the memory the server uses.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return the bytes <key> and its value use. Big aggregates are estimated from",
        "    <count> sampled elements (default 5, 0 samples all).",
        "HELP",
        "    Print this help.",
    ]

    static func memoryUsageCommand(_ c: Client) {
        let a = c.args
        var samples = 5
        var i = 3
        while i < a.count {
            if a.equals(i, "samples") && i + 1 < a.count {
                guard let n = c.intArg(i + 1) else { return }
                if n < 0 { c.syntaxError(); return }
                samples = Int(n)
                i += 2
            } else {
                c.syntaxError()
                return
            }
        }
        guard let e = c.server.lookupRead(c, a[2], touch: false) else { c.reply.null(); return }
        c.reply.integer(entryMemoryUsage(e, samples: samples))
    }

    /// Bytes used by a key: its entry allocation, its table slot and its value object.
    static func entryMemoryUsage(_ e: Entry, samples: Int) -> Int {
        var size = malloc_usable_size(e.ptr) + MemoryLayout<UnsafeMutableRawPointer?>.stride + 1
        if e.type != .string {
            let obj = e.object
            if let m = obj as? MemoryMeasurable {
                size += m.memoryUsage(samples: samples)
            } else {
                size += malloc_usable_size(Unmanaged.passUnretained(obj).toOpaque())
                size += ((obj as? ValueObject)?.count ?? 0) * 16
            }
        }
        return size
    }

    /// The figures MEMORY STATS and MEMORY DOCTOR work from.
    struct MemoryFigures {
        var allocator = AllocatorStats()
        var rss = 0, peak = 0, startup = 0, clientsNormal = 0, overhead = 0, keys = 0
        var perDB: [(index: Int, main: Int, expires: Int)] = []
        var used: Int { allocator.allocated }
        var dataset: Int { max(0, used - overhead) }
    }

    func memoryFigures() -> MemoryFigures {
        var f = MemoryFigures()
        f.allocator = MemoryStats.allocator()
        if f.allocator.allocated > admin.peakMemory { admin.peakMemory = f.allocator.allocated }
        f.peak = admin.peakMemory
        f.rss = MemoryStats.rss()
        f.startup = admin.startupMemory
        f.clientsNormal = clientBuffersMemory
        f.overhead = f.startup + f.clientsNormal
        for db in databases where db.count > 0 {
            let main = db.tableOverheadBytes, expires = db.expiresCount * MemoryLayout<Int>.stride
            f.perDB.append((db.index, main, expires))
            f.overhead += main + expires
            f.keys += db.count
        }
        return f
    }

    enum StatValue { case int(Int), double(Double), db(main: Int, expires: Int) }

    static func memoryStatsCommand(_ c: Client) {
        let f = c.server.memoryFigures()
        func ratio(_ x: Int, _ y: Int) -> Double { y > 0 ? Double(x) / Double(y) : 0 }
        let net = f.used - f.startup
        var pairs: [(String, StatValue)] = [
            ("peak.allocated", .int(f.peak)), ("total.allocated", .int(f.used)),
            ("startup.allocated", .int(f.startup)), ("replication.backlog", .int(0)),
            ("clients.slaves", .int(0)), ("clients.normal", .int(f.clientsNormal)),
            ("cluster.links", .int(0)), ("aof.buffer", .int(0)), ("lua.caches", .int(0)),
            ("functions.caches", .int(0)),
        ]
        for db in f.perDB { pairs.append(("db.\(db.index)", .db(main: db.main, expires: db.expires))) }
        pairs.append(("overhead.total", .int(f.overhead)))
        pairs.append(("keys.count", .int(f.keys)))
        pairs.append(("keys.bytes-per-key", .int(f.keys > 0 ? net / f.keys : 0)))
        pairs.append(("dataset.bytes", .int(f.dataset)))
        pairs.append(("dataset.percentage", .double(ratio(f.dataset, net) * 100)))
        pairs.append(("peak.percentage", .double(ratio(f.used, f.peak) * 100)))
        let a = f.allocator
        pairs.append(("allocator.allocated", .int(a.allocated)))
        pairs.append(("allocator.active", .int(a.active)))
        pairs.append(("allocator.resident", .int(a.resident)))
        pairs.append(("allocator-fragmentation.ratio", .double(ratio(a.active, a.allocated))))
        pairs.append(("allocator-fragmentation.bytes", .int(a.active - a.allocated)))
        pairs.append(("allocator-rss.ratio", .double(ratio(a.resident, a.active))))
        pairs.append(("allocator-rss.bytes", .int(a.resident - a.active)))
        pairs.append(("rss-overhead.ratio", .double(ratio(f.rss, a.resident))))
        pairs.append(("rss-overhead.bytes", .int(f.rss - a.resident)))
        pairs.append(("fragmentation", .double(ratio(f.rss, f.used))))
        pairs.append(("fragmentation.bytes", .int(f.rss - f.used)))
        let r = c.reply
        r.map(pairs.count)
        for (k, v) in pairs {
            r.bulk(string: k)
            switch v {
            case .int(let n): r.integer(n)
            case .double(let d): r.double(d)
            case .db(let main, let expires):
                r.map(3)
                r.bulk(string: "overhead.hashtable.main"); r.integer(main)
                r.bulk(string: "overhead.hashtable.expires"); r.integer(expires)
                r.bulk(string: "overhead.hashtable.slot-to-keys"); r.integer(0)
            }
        }
    }

    static func memoryDoctorCommand(_ c: Client) {
        let f = c.server.memoryFigures()
        let mb = 1024 * 1024
        var issues: [String] = []
        if f.used < 5 * mb {
            c.reply.verbatim("The instance is empty or uses very little memory (under 5 MB): there is nothing to diagnose yet.\n")
            return
        }
        if f.peak > f.used * 3 / 2 {
            issues.append("Peak memory: the peak (\(MemoryStats.human(f.peak))) is much higher than the memory used now "
                          + "(\(MemoryStats.human(f.used))). The allocator may not have returned freed pages to the system "
                          + "yet: RSS and the fragmentation ratio can look high until it does (MEMORY PURGE helps).")
        }
        let frag = f.used > 0 ? Double(f.rss) / Double(f.used) : 0
        if frag > 1.4 && f.rss - f.used > 10 * mb {
            issues.append("High fragmentation: RSS is \(formatFixed(frag, 2)) times the memory in use "
                          + "(\(MemoryStats.human(f.rss - f.used)) more).")
        }
        if f.clientsNormal > 200 * mb {
            issues.append("Big client buffers: clients hold \(MemoryStats.human(f.clientsNormal)) of query and reply "
                          + "buffers. Check for slow readers and huge pipelines (CLIENT LIST shows qbuf and omem).")
        }
        if issues.isEmpty {
            c.reply.verbatim("No memory problems detected.\n")
        } else {
            c.reply.verbatim("Memory problems found:\n\n" + issues.map { " * " + $0 }.joined(separator: "\n\n") + "\n")
        }
    }

    static func memoryPurgeCommand(_ c: Client) {
        // MALLCTL_ARENAS_ALL: every arena.
        _ = mallctl("arena.4096.purge", nil, nil, nil, 0)
        c.reply.ok()
    }
}
