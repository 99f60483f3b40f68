// SLOWLOG: commands that ran longer than `slowlog-log-slower-than`
// microseconds, newest first, at most `slowlog-max-len` of them. The duration
// is the one ShardEngine.call measured for commandstats (no extra clock read).

import Glibc

public struct SlowLogEntry {
    public let id: Int64
    public let time: Int64
    public let durationUs: Int64
    public let args: [[UInt8]]
    public let peer: String
    public let name: [UInt8]
}

public final class SlowLog {
    /// At most this many arguments are kept; the last kept one says how many were left out.
    public static let maxArgs = 32
    /// Longer arguments are cut to this many bytes plus a note of how many were left out.
    public static let maxArgBytes = 128

    /// Newest last (GET walks it backwards).
    public private(set) var entries: [SlowLogEntry] = []
    var head = 0
    public private(set) var nextID: Int64 = 0

    public init() {}

    public var count: Int { entries.count - head }

    /// The arguments as stored in an entry: at most 32 (the 32nd replaced by
    /// "... (N more arguments)"), each at most 128 bytes ("... (N more bytes)"),
    /// positions in `redacted` shown as "(redacted)".
    public static func truncatedArguments(count argc: Int, redacted: (Int) -> Bool = { _ in false },
                                          _ arg: (Int) -> UnsafeRawBufferPointer) -> [[UInt8]] {
        let kept = min(argc, maxArgs)
        var out: [[UInt8]] = []
        out.reserveCapacity(kept)
        for j in 0..<kept {
            if kept != argc && j == kept - 1 {
                out.append(Array("... (\(argc - kept + 1) more arguments)".utf8))
            } else if redacted(j) {
                out.append(Array("(redacted)".utf8))
            } else {
                let a = arg(j)
                if a.count > maxArgBytes {
                    var b = Array(a[0..<maxArgBytes])
                    b += Array("... (\(a.count - maxArgBytes) more bytes)".utf8)
                    out.append(b)
                } else {
                    out.append(Array(a))
                }
            }
        }
        return out
    }

    public func push(args: [[UInt8]], durationUs: Int64, peer: String, name: [UInt8], maxLen: Int, time: Int64) {
        entries.append(SlowLogEntry(id: nextID, time: time, durationUs: durationUs, args: args, peer: peer, name: name))
        nextID += 1
        trim(maxLen)
    }

    public func trim(_ maxLen: Int) {
        if count > maxLen { head += count - maxLen }
        if head > 1024 && head * 2 > entries.count {
            entries.removeFirst(head)
            head = 0
        }
    }

    public func reset() {
        entries.removeAll()
        head = 0
    }

    /// The newest `n` entries, newest first.
    public func newest(_ n: Int) -> [SlowLogEntry] {
        var out: [SlowLogEntry] = []
        var i = entries.count - 1
        while i >= head && out.count < n { out.append(entries[i]); i -= 1 }
        return out
    }
}

extension ShardEngine {
    /// Argument positions of the running command that must never be shown
    /// (MONITOR, SLOWLOG): AUTH's arguments, HELLO's AUTH user and password,
    /// MIGRATE's AUTH/AUTH2 credentials, and whatever the command marked in
    /// c.redactedArgs (CONFIG SET requirepass).
    func isRedactedArgument(_ c: Client, _ cmd: Command, _ i: Int) -> Bool {
        if i == 0 { return false }
        if !c.redactedArgs.isEmpty && c.redactedArgs.contains(i) { return true }
        switch cmd.name {
        case "auth": return true
        case "hello":
            var j = 2
            while j < c.args.count {
                if c.args.equals(j, "auth") { if i == j + 1 || i == j + 2 { return true }; j += 3 } else { j += 2 }
            }
            return false
        case "migrate":
            var j = 6
            while j < c.args.count {
                if c.args.equals(j, "auth") { if i == j + 1 { return true }; j += 2 }
                else if c.args.equals(j, "auth2") { if i == j + 1 || i == j + 2 { return true }; j += 3 }
                else if c.args.equals(j, "keys") { break }
                else { j += 1 }
            }
            return false
        default: return false
        }
    }

    /// Called by `call` for every command outside the hot path's fast exit:
    /// slowlog, latency monitor events (durations in µs).
    func recordSlowCommand(_ c: Client, _ cmd: Command, _ elapsed: Int64) {
        let threshold = config.slowlogLogSlowerThan
        if threshold >= 0 && elapsed >= threshold && !cmd.flags.contains(.skipSlowlog) {
            let args = c.args
            let argv = SlowLog.truncatedArguments(count: args.count,
                                                  redacted: { self.isRedactedArgument(c, cmd, $0) }, { args[$0] })
            slowlog.push(args: argv, durationUs: elapsed, peer: c.addr,
                         name: c.name ?? [], maxLen: config.slowlogMaxLen, time: Int64(Glibc.time(nil)))
        }
        let ms = elapsed / 1000
        let lt = config.latencyMonitorThreshold
        if lt > 0 && ms >= lt {
            latency.addSample(cmd.flags.contains(.fast) ? "fast-command" : "command", ms)
        }
    }

    // MARK: SLOWLOG command

    static func slowlogCommands() -> [Command] {
        let f: CommandFlags = [.admin, .loading, .stale]
        return [
            Command("slowlog", arity: -2, group: .server, since: "2.2.12", handler: { _ in })
                .withSubcommands([
                    Command("get", arity: -2, flags: f, group: .server, since: "2.2.12", handler: slowlogGetCommand),
                    Command("help", arity: 2, flags: [.loading, .stale], group: .server, since: "6.2.0",
                            handler: { replyHelp($0, slowlogHelp) }),
                    Command("len", arity: 2, flags: f, group: .server, since: "2.2.12",
                            handler: { $0.reply.integer($0.engine.slowlog.count) }),
                    Command("reset", arity: 2, flags: f, group: .server, since: "2.2.12",
                            handler: { $0.engine.slowlog.reset(); $0.reply.ok() }),
                ]),
        ]
    }

    static let slowlogHelp = [
        "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
        "HELP",
        "    Print this help.",
    ]

    static func slowlogGetCommand(_ c: Client) {
        let log = c.engine.slowlog
        var n = 10
        if c.args.count > 3 { subcommandSyntaxError(c); return }
        if c.args.count == 3 {
            guard let v = c.args.int64(2), v >= -1 else {
                c.error(static: "ERR count should be greater than or equal to -1")
                return
            }
            n = v == -1 ? log.count : Int(clamping: v)
        }
        let list = log.newest(n)
        c.reply.array(list.count)
        for e in list {
            c.reply.array(6)
            c.reply.integer(e.id)
            c.reply.integer(e.time)
            c.reply.integer(e.durationUs)
            c.reply.array(e.args.count)
            for a in e.args { c.reply.bulk(a) }
            c.reply.bulk(string: e.peer)
            c.reply.bulk(e.name)
        }
    }
}
