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

extension ShardEngine {
    static func memoryCommands() -> [Command] {
        [
            Command("memory", arity: -2, group: .server, since: "4.0.0", handler: { _ in })
                .withSubcommands([
                    Command("doctor", arity: 2, group: .server, since: "4.0.0", handler: memoryDoctorCommand),
                    Command("malloc-stats", arity: 2, group: .server, since: "4.0.0",
                            handler: { $0.reply.verbatim(mallocStatsText()) }),
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
        "    Return memory problems reports.",
        "MALLOC-STATS",
        "    Return internal statistics report from the memory allocator.",
        "PURGE",
        "    Attempt to purge dirty pages for reclamation by the allocator.",
        "STATS",
        "    Return information about the memory usage of the server.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).",
        "HELP",
        "    Prints this help.",
    ]

    static func memoryUsageCommand(_ c: Client) {
        let a = c.args
        var samples = 5
        var i = 3
        while i < a.count {
            if a.equals(i, "samples") && i + 1 < a.count {
                guard let n = c.intArg(i + 1) else { return }
                if n < 0 { c.syntaxError(); return }
                samples = n == 0 ? Int.max : Int(clamping: n)
                i += 2
            } else {
                c.syntaxError()
                return
            }
        }
        guard let e = c.engine.lookupRead(c, a[2], touch: false) else { c.reply.null(); return }
        c.reply.integer(entryMemoryUsage(e, samples: samples))
    }

    /// Bytes used by a key: its entry allocation (header, key, inline string
    /// value or object pointer, expire), its table slot and its value object.
    static func entryMemoryUsage(_ e: Entry, samples: Int) -> Int {
        var size = malloc_usable_size(e.ptr) + MemoryLayout<UnsafeMutableRawPointer?>.stride + 1
        if e.type != .string {
            let obj = e.object
            if let m = obj as? MemoryMeasurable {
                size += m.memoryUsage(samples: samples == Int.max ? 0 : samples)
            } else {
                size += instanceSize(obj)
            }
        }
        return size
    }

    /// The figures INFO memory, MEMORY STATS and MEMORY DOCTOR work from
    /// (Redis's getMemoryOverheadData).
    struct MemoryFigures {
        var allocator = AllocatorStats()
        var used = 0, rss = 0, peak = 0, startup = 0, clientsNormal = 0, overhead = 0, keys = 0, clients = 0
        var perDB: [(index: Int, main: Int, expires: Int)] = []
        var dataset: Int { max(0, used - overhead) }
        /// Memory used above the startup figure.
        var net: Int { max(0, used - startup) }
    }

    func memoryFigures() -> MemoryFigures {
        var f = MemoryFigures()
        f.used = memory.used
        f.allocator = MemoryStats.allocator()
        if f.used > admin.peakMemory {
            admin.peakMemory = f.used
            admin.peakTimeMs = now
        }
        f.peak = admin.peakMemory
        f.rss = MemoryStats.rss()
        f.startup = admin.startupMemory
        f.clientsNormal = clientBuffersMemory
        f.clients = clients.count
        f.overhead = f.startup + f.clientsNormal
        for db in databases where db.count > 0 {
            // The table, plus each entry's header (what Redis counts as
            // dictEntry + robj); the expires index and each key's expire block.
            let main = slotTableSize(capacity: db.capacity) + db.count * Entry.headerSize
            let expires = db.expiresOverheadBytes
            f.perDB.append((db.index, main, expires))
            f.overhead += main + expires
            f.keys += db.count
        }
        return f
    }

    enum StatValue { case int(Int), double(Double), db(main: Int, expires: Int) }

    static func memoryStatsCommand(_ c: Client) {
        let f = c.engine.memoryFigures()
        func ratio(_ x: Int, _ y: Int) -> Double { y > 0 ? Double(x) / Double(y) : 0 }
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
        pairs.append(("keys.bytes-per-key", .int(f.keys > 0 ? f.net / f.keys : 0)))
        pairs.append(("dataset.bytes", .int(f.dataset)))
        pairs.append(("dataset.percentage", .double(ratio(f.dataset, f.net) * 100)))
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

    /// MEMORY DOCTOR: the checks of Redis's getMemoryDoctorReport, in our own words.
    static func memoryDoctorReport(_ f: MemoryFigures) -> String {
        let mb = 1024 * 1024
        // Like Redis: under 5 MB there is nothing meaningful to diagnose.
        if f.used < 5 * mb {
            return "This instance is empty or holds very little data (under 5 MB allocated), so there is "
                + "nothing meaningful to diagnose yet. Run MEMORY DOCTOR again once it holds real data.\n"
        }
        let a = f.allocator
        func ratio(_ x: Int, _ y: Int) -> Double { y > 0 ? Double(x) / Double(y) : 0 }
        let h = MemoryStats.human
        var issues: [String] = []
        if ratio(f.peak, f.used) > 1.5 {
            issues.append("Peak memory: the peak (\(h(f.peak))) is more than 1.5 times the memory in use now "
                + "(\(h(f.used))). Freed pages may not have gone back to the system yet, which also makes the "
                + "fragmentation figures below look worse than they are.")
        }
        if ratio(f.rss, f.used) > 1.4 && f.rss - f.used > 10 * mb {
            issues.append("High total fragmentation: the process's RSS is \(formatFixed(ratio(f.rss, f.used), 2)) "
                + "times the allocated memory (\(h(f.rss - f.used)) more). Restarting the server, or MEMORY PURGE, "
                + "gives the difference back.")
        }
        if ratio(a.active, a.allocated) > 1.1 && a.active - a.allocated > 10 * mb {
            issues.append("Allocator fragmentation: jemalloc's active pages hold \(h(a.active - a.allocated)) more "
                + "than the data in them (ratio \(formatFixed(ratio(a.active, a.allocated), 2))), typical after "
                + "deleting many keys of mixed sizes.")
        }
        if ratio(a.resident, a.active) > 1.1 && a.resident - a.active > 10 * mb {
            issues.append("Allocator RSS overhead: jemalloc keeps \(h(a.resident - a.active)) of resident pages "
                + "it does not use (ratio \(formatFixed(ratio(a.resident, a.active), 2))). MEMORY PURGE returns them.")
        }
        if ratio(f.rss, a.resident) > 1.1 && f.rss - a.resident > 10 * mb {
            issues.append("Process RSS overhead: the process holds \(h(f.rss - a.resident)) of resident memory "
                + "outside the allocator (ratio \(formatFixed(ratio(f.rss, a.resident), 2))): code, stacks, or "
                + "memory mapped by libraries.")
        }
        if f.clients > 0 && f.clientsNormal / f.clients > 200 * 1024 {
            issues.append("Big client buffers: clients hold \(h(f.clientsNormal)) of query and reply buffers, "
                + "\(h(f.clientsNormal / f.clients)) per client on average. Look for slow readers or huge "
                + "pipelines (CLIENT LIST shows qbuf and omem); client-output-buffer-limit bounds them.")
        }
        if issues.isEmpty {
            return "No memory problems found: the figures of this instance look healthy.\n"
        }
        return "Memory problems found:\n\n" + issues.map { " * " + $0 }.joined(separator: "\n\n") + "\n"
    }

    static func memoryDoctorCommand(_ c: Client) {
        c.reply.verbatim(memoryDoctorReport(c.engine.memoryFigures()))
    }

    static func memoryPurgeCommand(_ c: Client) {
        _ = tj_purge_all_arenas()
        c.reply.ok()
    }

    /// jemalloc's full statistics report (malloc_stats_print with no options, as Redis).
    static func mallocStatsText() -> String {
        final class Sink { var text = "" }
        let sink = Sink()
        malloc_stats_print({ ctx, msg in
            guard let ctx, let msg else { return }
            Unmanaged<Sink>.fromOpaque(ctx).takeUnretainedValue().text += String(cString: msg)
        }, Unmanaged.passUnretained(sink).toOpaque(), nil)
        return sink.text
    }
}
