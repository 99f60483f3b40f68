// LATENCY DOCTOR: what the latency monitor saw, event by event, and what to
// do about it, in Tessera's own words and from Tessera's own figures.

import Glibc

extension ShardEngine {
    public func latencyDoctorReport() -> String {
        let m = latency
        let threshold = config.latencyMonitorThreshold
        if m.names.isEmpty && threshold == 0 {
            return "Latency monitoring is off, so there is nothing to diagnose yet. Turn it on with "
                + "\"CONFIG SET latency-monitor-threshold <milliseconds>\": every operation of the server "
                + "thread that takes at least that long is then recorded by event class.\n"
        }
        if m.names.isEmpty {
            return "No latency spike of \(threshold) ms or more has been recorded since the monitor "
                + "was last reset. Nothing to worry about.\n"
        }
        var out = "Latency spikes were recorded (threshold \(threshold) ms). Event by event:\n\n"
        var advice: [String] = []
        func advise(_ s: String) { if !advice.contains(s) { advice.append(s) } }
        let slowlogUs = config.slowlogLogSlowerThan
        for (i, name) in m.names.enumerated() {
            let a = m.analyze(name)
            let period = a.samples > 0 ? Double(a.period) / Double(a.samples) : 0
            out += "\(i + 1). \(name): \(a.samples) spikes, \(a.avg) ms on average (mean deviation \(a.mad) ms), "
                + "one every \(formatFixed(period, 2)) s; worst ever \(a.allTimeHigh) ms.\n"
            out += "   " + ShardEngine.latencyCause(name) + "\n"
            switch name {
            case "command":
                if let culprits = slowlogCulprits() { out += "   " + culprits + "\n" }
                advise("Find the slow commands with SLOWLOG GET: O(N) commands on big values (KEYS, SORT, "
                       + "SMEMBERS/HGETALL/LRANGE of large collections, ZUNIONSTORE...) block every other client "
                       + "while they run. Prefer SCAN, SSCAN, HSCAN and ZSCAN, ranges of bounded size, and "
                       + "UNLINK or FLUSHALL ASYNC to delete big keys in the background.")
                if slowlogUs < 0 {
                    advise("The slowlog is disabled (slowlog-log-slower-than is negative): enable it, e.g. "
                           + "CONFIG SET slowlog-log-slower-than \(threshold * 1000), to see which commands are slow.")
                } else if slowlogUs / 1000 > threshold {
                    advise("slowlog-log-slower-than is \(slowlogUs) us, above the latency threshold: set it to "
                           + "\(threshold * 1000) or less so that the slowlog shows the commands behind these spikes.")
                }
            case "fast-command":
                advise("Commands that should take microseconds took milliseconds: the server thread was not "
                       + "running. Look for CPU starvation (other busy processes on the same cores, a noisy "
                       + "neighbour on a virtual machine, CPU throttling of a container) and for swapping.")
            case "fork":
                let gbps = Double(stats.latestForkUsec) > 0
                    ? Double(MemoryStats.allocator().allocated) / 1_073_741_824 / (Double(stats.latestForkUsec) / 1_000_000) : 0
                advise("fork() copies the page tables of the whole dataset (the latest took \(stats.latestForkUsec) us, "
                       + "about \(formatFixed(gbps, 2)) GB/s of dataset). Keep the instance smaller or run more shards, "
                       + "disable transparent huge pages, save less often (the save directive) and avoid virtual "
                       + "machines with slow fork.")
            case "aof-fsync-always":
                advise("appendfsync always waits for the disk after every write: use appendfsync everysec unless "
                       + "every acknowledged write must survive a power loss.")
            case "aof-write-pending-fsync", "aof-write-alone", "aof-write", "aof-write-active-child", "aof-rewrite-diff-write":
                advise("Writes to the append-only file were slow: the disk is saturated or shared. Put the AOF on a "
                       + "local SSD, keep other heavy writers off that disk, and consider no-appendfsync-on-rewrite yes "
                       + "so that rewrites and snapshots do not stall the fsync of the live file.")
            case "expire-cycle":
                advise("Many keys expired at the same time and the expire cycle had to reclaim them in one go. "
                       + "Spread TTLs (add a random offset), and set lazyfree-lazy-expire yes so big expired values "
                       + "are freed in the background.")
            case "eviction-cycle", "eviction-del":
                advise("maxmemory eviction freed a lot at once: leave more headroom below maxmemory, avoid very large "
                       + "keys, and set lazyfree-lazy-eviction yes.")
            case "rdb-unlink-temp-file":
                advise("Removing a temporary snapshot file was slow: the file system frees large files synchronously; "
                       + "a file system with fast unlink (xfs, ext4 with extents) helps.")
            default:
                break
            }
        }
        out += "\nAdvice:\n"
        for (i, a) in advice.enumerated() { out += "\(i + 1). \(a)\n" }
        return out
    }

    /// The slowest commands the slowlog holds, by name: "DEL 85 ms (1 entry), SORT 40 ms (2 entries)".
    func slowlogCulprits() -> String? {
        let entries = slowlog.newest(slowlog.count)
        guard !entries.isEmpty else { return nil }
        var byName: [String: (max: Int64, n: Int)] = [:]
        for e in entries {
            let name = String(decoding: e.name.isEmpty ? (e.args.first ?? []) : e.name, as: UTF8.self).uppercased()
            let cur = byName[name] ?? (0, 0)
            byName[name] = (max(cur.max, e.durationUs), cur.n + 1)
        }
        let top = byName.sorted { $0.value.max > $1.value.max }.prefix(5)
        var text = "The slowlog (\(entries.count) entries) names the slowest: " + top.map {
            "\($0.key) \(formatFixed(Double($0.value.max) / 1000, 1)) ms (\($0.value.n) entr\($0.value.n == 1 ? "y" : "ies"))"
        }.joined(separator: ", ") + "."
        if top.contains(where: { ["DEL", "FLUSHALL", "FLUSHDB"].contains($0.key) }) {
            text += " Deleting big keys synchronously is among them: UNLINK, FLUSHALL ASYNC and lazyfree-lazy-user-del yes free them in the background."
        }
        return text
    }

    static func latencyCause(_ event: String) -> String {
        switch event {
        case "command": return "Cause: slow commands (not flagged fast) ran for that long on the server thread."
        case "fast-command": return "Cause: commands that are O(1) or O(log N) took that long, so the process itself was stalled."
        case "fork": return "Cause: fork() for a background save or AOF rewrite blocked the server thread."
        case "aof-write": return "Cause: write(2) to the append-only file blocked."
        case "aof-fsync-always": return "Cause: fsync of the append-only file after each write (appendfsync always)."
        case "aof-write-pending-fsync": return "Cause: writing the AOF while a background fsync was still running."
        case "aof-write-active-child": return "Cause: writing the AOF while a child process was saving."
        case "aof-write-alone": return "Cause: writing the AOF with no fsync or child running: the disk is slow."
        case "aof-rewrite-diff-write": return "Cause: writing the rewrite's accumulated changes."
        case "expire-cycle": return "Cause: the active expire cycle reclaimed many keys in one run."
        case "eviction-cycle", "eviction-del": return "Cause: evicting keys to stay under maxmemory."
        case "rdb-unlink-temp-file": return "Cause: deleting a temporary RDB file."
        default: return "Cause: the \(event) operation took that long."
        }
    }
}
