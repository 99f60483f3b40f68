// The latency monitor: for each event class (Redis's names: "command",
// "fast-command", "fork", "aof-write", "expire-cycle"...) the last 160
// seconds that saw a spike of at least `latency-monitor-threshold` ms, and
// the all-time maximum. LATENCY LATEST / HISTORY / RESET / GRAPH / DOCTOR /
// HISTOGRAM / HELP.

import Glibc

public final class LatencyMonitor {
    public static let historyLength = 160

    public struct Sample { public var time: Int64; public var ms: Int64 }

    public final class Series {
        public var samples: [Sample] = Array(repeating: Sample(time: 0, ms: 0), count: LatencyMonitor.historyLength)
        public var next = 0
        public var max: Int64 = 0

        /// Samples oldest first.
        public var history: [Sample] {
            (0..<LatencyMonitor.historyLength).map { samples[(next + $0) % LatencyMonitor.historyLength] }
                .filter { $0.time != 0 }
        }
        public var latest: Sample { samples[(next + LatencyMonitor.historyLength - 1) % LatencyMonitor.historyLength] }
    }

    /// Event names in order of first occurrence.
    public private(set) var names: [String] = []
    public private(set) var series: [String: Series] = [:]

    public init() {}

    /// Records a spike of `ms` milliseconds for `event` at `now` (unix seconds).
    /// Spikes within the same second keep the worst.
    public func addSample(_ event: String, _ ms: Int64, now: Int64 = Int64(Glibc.time(nil))) {
        let s: Series
        if let x = series[event] { s = x } else {
            s = Series()
            series[event] = s
            names.append(event)
        }
        if ms > s.max { s.max = ms }
        let prev = (s.next + LatencyMonitor.historyLength - 1) % LatencyMonitor.historyLength
        if s.samples[prev].time == now {
            if ms > s.samples[prev].ms { s.samples[prev].ms = ms }
            return
        }
        s.samples[s.next] = Sample(time: now, ms: ms)
        s.next = (s.next + 1) % LatencyMonitor.historyLength
    }

    /// Forgets `event` (case-insensitive), or every event when nil; returns how many were dropped.
    @discardableResult
    public func reset(_ event: String? = nil) -> Int {
        guard let e = event?.lowercased() else {
            let n = names.count
            names.removeAll()
            series.removeAll()
            return n
        }
        let hit = names.filter { $0.lowercased() == e }
        for h in hit { series[h] = nil }
        names.removeAll { $0.lowercased() == e }
        return hit.count
    }

    public struct Analysis {
        public var samples = 0
        public var avg: Int64 = 0, min: Int64 = 0, max: Int64 = 0, mad: Int64 = 0
        public var period: Int64 = 0
        public var allTimeHigh: Int64 = 0
    }

    public func analyze(_ event: String, now: Int64 = Int64(Glibc.time(nil))) -> Analysis {
        var a = Analysis()
        guard let s = series[event] else { return a }
        a.allTimeHigh = s.max
        let h = s.history
        if h.isEmpty { return a }
        a.samples = h.count
        a.min = h.map(\.ms).min()!
        a.max = h.map(\.ms).max()!
        a.avg = h.reduce(0) { $0 + $1.ms } / Int64(h.count)
        a.period = Swift.max(1, now - h.map(\.time).min()!)
        a.mad = h.reduce(0) { $0 + abs($1.ms - a.avg) } / Int64(h.count)
        return a
    }
}

extension ShardEngine {
    /// Records a latency spike of `ms` milliseconds for `event` if it reaches
    /// `latency-monitor-threshold` (the persistence layer's fork, AOF writes...).
    public func latencyAddSample(_ event: String, _ ms: Int64) {
        let t = config.latencyMonitorThreshold
        if t > 0 && ms >= t { latency.addSample(event, ms) }
    }

    /// Milliseconds since `startMs` when the latency monitor is on, else 0
    /// (callers time an operation only when it matters).
    public var latencyMonitorEnabled: Bool { config.latencyMonitorThreshold > 0 }

    // MARK: LATENCY command

    static func latencyCommands() -> [Command] {
        let f: CommandFlags = [.admin, .noScript, .loading, .stale]
        return [
            Command("latency", arity: -2, group: .server, since: "2.8.13", handler: { _ in })
                .withSubcommands([
                    Command("doctor", arity: 2, flags: f, group: .server, since: "2.8.13",
                            handler: { $0.reply.verbatim($0.engine.latencyDoctorReport()) }),
                    Command("graph", arity: 3, flags: f, group: .server, since: "2.8.13", handler: latencyGraphCommand),
                    Command("help", arity: 2, flags: [.loading, .stale], group: .server, since: "2.8.13",
                            handler: { replyHelp($0, latencyHelp) }),
                    Command("histogram", arity: -2, flags: f, group: .server, since: "7.0.0", handler: latencyHistogramCommand),
                    Command("history", arity: 3, flags: f, group: .server, since: "2.8.13", handler: latencyHistoryCommand),
                    Command("latest", arity: 2, flags: f, group: .server, since: "2.8.13", handler: latencyLatestCommand),
                    Command("reset", arity: -2, flags: f, group: .server, since: "2.8.13", handler: latencyResetCommand),
                ]),
        ]
    }

    static let latencyHelp = [
        "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DOCTOR",
        "    Return a human readable latency analysis report.",
        "GRAPH <event>",
        "    Return an ASCII latency graph for the <event> class.",
        "HISTORY <event>",
        "    Return time-latency samples for the <event> class.",
        "LATEST",
        "    Return the latest latency samples for all events.",
        "RESET [<event> ...]",
        "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)",
        "HISTOGRAM [COMMAND ...]",
        "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
        "    If no commands are specified then all histograms are replied.",
        "HELP",
        "    Print this help.",
    ]

    static func latencyHistoryCommand(_ c: Client) {
        guard let s = c.engine.latency.series[c.args.string(2)] else { c.reply.array(0); return }
        let h = s.history
        c.reply.array(h.count)
        for x in h {
            c.reply.array(2)
            c.reply.integer(x.time)
            c.reply.integer(x.ms)
        }
    }

    static func latencyLatestCommand(_ c: Client) {
        let m = c.engine.latency
        c.reply.array(m.names.count)
        for n in m.names {
            let s = m.series[n]!
            c.reply.array(4)
            c.reply.bulk(string: n)
            c.reply.integer(s.latest.time)
            c.reply.integer(s.latest.ms)
            c.reply.integer(s.max)
        }
    }

    static func latencyResetCommand(_ c: Client) {
        let m = c.engine.latency
        if c.args.count == 2 { c.reply.integer(m.reset()); return }
        var n = 0
        for i in 2..<c.args.count { n += m.reset(c.args.string(i)) }
        c.reply.integer(n)
    }

    static func latencyGraphCommand(_ c: Client) {
        let event = c.args.string(2)
        guard let s = c.engine.latency.series[event] else {
            c.error("ERR No samples available for event '\(event)'")
            return
        }
        c.reply.verbatim(latencyGraph(event, s, now: Int64(Glibc.time(nil))))
    }

    /// A bar chart of the event's history, one column per sample (oldest
    /// left), 4 rows high, with how long ago each sample was as a vertical label.
    static func latencyGraph(_ event: String, _ s: LatencyMonitor.Series, now: Int64) -> String {
        let h = Array(s.history.suffix(80))
        let lo = h.map(\.ms).min() ?? 0, hi = h.map(\.ms).max() ?? 0
        var out = "\(event) - high \(hi) ms, low \(lo) ms (all time high \(s.max) ms)\n"
        out += String(repeating: "-", count: 80) + "\n"
        let rows = 4
        // Height of each column in quarter-rows (at least a mark for the smallest sample).
        let heights: [Int] = h.map { x in
            hi == lo ? rows * 2 : 1 + Int(Double(x.ms - lo) / Double(hi - lo) * Double(rows * 2 - 1))
        }
        for r in stride(from: rows - 1, through: 0, by: -1) {
            var line = ""
            for v in heights {
                let full = (r + 1) * 2, half = r * 2 + 1
                line += v >= full ? "#" : (v >= half ? "_" : " ")
            }
            out += line + "\n"
        }
        // Labels written vertically below their column.
        let labels: [String] = h.map { x in
            let e = max(0, now - x.time)
            if e < 60 { return "\(e)s" }
            if e < 3600 { return "\(e / 60)m" }
            if e < 86400 { return "\(e / 3600)h" }
            return "\(e / 86400)d"
        }
        let depth = labels.map(\.count).max() ?? 0
        for r in 0..<depth {
            var line = ""
            for l in labels { line += r < l.count ? String(Array(l)[r]) : " " }
            out += line + "\n"
        }
        return out
    }

    static func latencyHistogramCommand(_ c: Client) {
        let s = c.engine
        var picked: [Command] = []
        if c.args.count == 2 {
            for cmd in s.commands.all {
                if cmd.latencyHistogram != nil { picked.append(cmd) }
                for sub in cmd.subcommands where sub.latencyHistogram != nil { picked.append(sub) }
            }
        } else {
            for i in 2..<c.args.count {
                guard let cmd = s.lookupCommand(fullName: c.args.string(i)) else { continue }
                if cmd.latencyHistogram != nil { picked.append(cmd) }
                for sub in cmd.subcommands where sub.latencyHistogram != nil { picked.append(sub) }
            }
        }
        c.reply.map(picked.count)
        for cmd in picked {
            let h = cmd.latencyHistogram!
            c.reply.bulk(string: cmd.fullName)
            c.reply.map(2)
            c.reply.bulk(string: "calls")
            c.reply.integer(h.totalCount)
            c.reply.bulk(string: "histogram_usec")
            let cdf = h.cumulativeMicros()
            c.reply.map(cdf.count)
            for (us, n) in cdf {
                c.reply.integer(us)
                c.reply.integer(n)
            }
        }
    }

    /// INFO latencystats: one line per command with a histogram.
    func latencyStatsInfo() -> [(String, String)] {
        let percentiles = config.latencyTrackingPercentiles
        var out: [(String, String)] = []
        func add(_ cmd: Command) {
            guard let h = cmd.latencyHistogram else { return }
            let v = percentiles.map { p in
                "p\(formatPercentile(p))=" + formatFixed(Double(h.value(atPercentile: p)) / 1000, 3)
            }
            out.append(("latency_percentiles_usec_\(cmd.fullName)", v.joined(separator: ",")))
        }
        for cmd in commands.all {
            add(cmd)
            for s in cmd.subcommands { add(s) }
        }
        return out
    }

    /// "50", "99.9": %f with trailing zeros (and dot) removed.
    static func formatPercentileValue(_ p: Double) -> String { formatPercentile(p) }

    /// Drops every command's latency histogram (CONFIG RESETSTAT).
    func resetLatencyHistograms() {
        for cmd in commands.all {
            cmd.latencyHistogram = nil
            for s in cmd.subcommands { s.latencyHistogram = nil }
        }
    }
}

func formatPercentile(_ p: Double) -> String {
    var s = formatFixed(p, 6)
    while s.hasSuffix("0") { s.removeLast() }
    if s.hasSuffix(".") { s.removeLast() }
    return s
}
