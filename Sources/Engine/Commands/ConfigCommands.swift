// CONFIG GET / SET / RESETSTAT / REWRITE / HELP (Redis 7.0's config.c).

import Glibc
import CShims
import Logging

extension ShardEngine {
    static func configCommands() -> [Command] {
        let f: CommandFlags = [.admin, .noScript, .loading, .stale]
        return [
            Command("config", arity: -2, group: .server, since: "2.0.0", handler: { _ in })
                .withSubcommands([
                    Command("rewrite", arity: 2, flags: f, group: .server, since: "2.8.0", handler: configRewriteCommand),
                    Command("help", arity: 2, flags: [.loading, .stale], group: .server, since: "5.0.0",
                            handler: { replyHelp($0, configHelp) }),
                    Command("get", arity: -3, flags: f, group: .server, since: "2.0.0", handler: configGetCommand),
                    Command("resetstat", arity: 2, flags: f, group: .server, since: "2.0.0", handler: configResetStatCommand),
                    Command("set", arity: -4, flags: f, group: .server, since: "2.0.0", handler: configSetCommand),
                ]),
        ]
    }

    static let configHelp = [
        "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET <pattern> [<pattern> ...]",
        "    Return the parameters whose names match any of the glob-style patterns, with their values.",
        "SET <directive> <value> [<directive> <value> ...]",
        "    Set each <directive> to its <value>; either all of them change or none does.",
        "RESETSTAT",
        "    Reset the statistics INFO reports (commandstats and errorstats included).",
        "REWRITE",
        "    Write the running configuration back to the configuration file.",
        "HELP",
        "    Print this help.",
    ]

    /// Parameters whose values MONITOR must not show.
    static let sensitiveConfigs: Set<String> = ["requirepass", "masterauth", "masteruser"]
    /// Parameters only settable at runtime when enable-protected-configs allows it.
    static let protectedConfigs: Set<String> = ["dir", "dbfilename"]

    static func configGetCommand(_ c: Client) {
        let config = c.engine.config
        var seen = Set<String>()
        var out: [(String, String)] = []
        for i in 2..<c.args.count {
            let pattern = c.args.bytes(i)
            if !pattern.contains(where: { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "[") }) {
                // An exact name (or alias) is answered under the name as given.
                let name = String(decoding: pattern, as: UTF8.self)
                if seen.contains(name.lowercased()) { continue }
                if let v = config.get(name) {
                    seen.insert(name.lowercased())
                    out.append((name, v))
                }
                continue
            }
            for (name, value) in config.matching(pattern) where !seen.contains(name) {
                seen.insert(name)
                out.append((name, value))
            }
        }
        c.reply.map(out.count)
        for (k, v) in out {
            c.reply.bulk(string: k)
            // Like Redis, "dir" shows the absolute working directory.
            c.reply.bulk(string: k.lowercased() == "dir" ? currentDirectory() ?? v : v)
        }
    }

    static func configSetCommand(_ c: Client) {
        let a = c.args, s = c.engine, config = s.config
        if a.count % 2 != 0 { c.syntaxError(); return }
        var unknown: String? = nil
        var failure: (arg: String, reason: String)? = nil
        var changes: [(param: Config.Param, value: String)] = []
        var i = 2
        while i < a.count {
            let typed = a.string(i)
            defer { i += 2 }
            guard let p = config.param(typed) else {
                if unknown == nil { unknown = typed }
                continue
            }
            if sensitiveConfigs.contains(p.name) { c.redactedArgs.append(i + 1) }
            if unknown != nil || failure != nil { continue }
            if !p.mutable && p.name == "port" {
                // Redis can move its listener; here the supervisor owns it. Setting the
                // same port is a no-op; another one is checked (Redis's error when it is
                // taken) and then refused.
                let v = a.string(i + 1)
                if v != config.get("port") { failure = (typed, portChangeRefusal(s, v)) }
            } else if !p.mutable && (try? Config.canonical(p, a.string(i + 1))) == config.get(p.name) {
                continue    // an immutable parameter restated with its current value: a no-op
            } else if !p.mutable {
                failure = (typed, "can't set immutable config")
            } else if protectedConfigs.contains(p.name) && !protectedConfigAllowed(c) {
                failure = (typed, "can't set protected config")
            } else if changes.contains(where: { $0.param.name == p.name }) {
                failure = (typed, "duplicate parameter")
            } else {
                changes.append((p, a.string(i + 1)))
            }
        }
        if let u = unknown {
            c.error("ERR Unknown option or number of arguments for CONFIG SET - '\(u)'")
            return
        }
        if let f = failure {
            c.error("ERR CONFIG SET failed (possibly related to argument '\(f.arg)') - \(f.reason)")
            return
        }
        // Validate everything before changing anything: all or nothing.
        var canonical: [(String, String)] = []
        for (p, v) in changes {
            do {
                let value = try Config.canonical(p, v)
                if let why = runtimeCheck(s, p.name, value) { throw ConfigError.invalid(p.name, why) }
                // notify-keyspace-events: Config.set needs the raw classes ("AEn" reads back as "AE" but keeps 'n').
                canonical.append((p.name, p.name == "notify-keyspace-events" ? v : value))
            } catch let e as ConfigError {
                c.error("ERR CONFIG SET failed (possibly related to argument '\(p.name)') - \(e.description)")
                return
            } catch {
                c.error("ERR CONFIG SET failed (possibly related to argument '\(p.name)')")
                return
            }
        }
        let previous = canonical.map { (name: $0.0, value: config.get($0.0)!) }
        for (name, value) in canonical {
            try? config.set(name, value, runtime: true)
            applyAtRuntime(s, name, value)
        }
        // Persistence parameters take effect in the persistence layer, which may
        // refuse (turning the AOF on needs a rewrite to start): undo them all then.
        if let p = s.persistence {
            for (name, _) in canonical {
                if let why = p.configChanged(name) {
                    for old in previous { try? config.set(old.name, old.value, runtime: true) }
                    c.error("ERR CONFIG SET failed (possibly related to argument '\(name)') - \(why)")
                    return
                }
            }
        }
        c.reply.ok()
    }

    static func currentDirectory() -> String? {
        var buf = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buf, 4096) != nil else { return nil }
        return String(cString: buf)
    }

    static func protectedConfigAllowed(_ c: Client) -> Bool {
        let setting = c.engine.config.get("enable-protected-configs") ?? "no"
        return setting == "yes" || (setting == "local" && c.isLocal)
    }

    /// Checks that need the running server (a directory that must exist...).
    /// Why CONFIG SET port cannot move the listener: the port is taken, or (free)
    /// the supervisor owns the listening sockets.
    static func portChangeRefusal(_ s: ShardEngine, _ value: String) -> String {
        guard let port = Int32(value), port >= 0, port <= 65535 else { return "argument couldn't be parsed into an integer" }
        let fd = ts_listen_tcp("0.0.0.0", port, 1)
        if fd < 0 { return "Unable to listen on this port: \(String(cString: strerror(-fd)))" }
        close(fd)
        return "can't set immutable config (the supervisor owns the listening sockets: change port in the config file and restart)"
    }

    static func runtimeCheck(_ s: ShardEngine, _ name: String, _ value: String) -> String? {
        if name == "dir" {
            var st = stat()
            if stat(value, &st) != 0 { return String(cString: strerror(errno)) }
            if st.st_mode & S_IFMT != S_IFDIR { return String(cString: strerror(ENOTDIR)) }
        }
        return nil
    }

    /// Effects Config.didChange hooks do not cover.
    static func applyAtRuntime(_ s: ShardEngine, _ name: String, _ value: String) {
        switch name {
        case "dir": _ = chdir(value)
        case "loglevel":
            let levels: [String: Logger.Level] = ["debug": .debug, "verbose": .info, "notice": .notice, "warning": .warning]
            s.logger.logLevel = levels[value] ?? .notice
        default: break
        }
    }

    static func configResetStatCommand(_ c: Client) {
        c.engine.resetStatistics()
        c.reply.ok()
    }

    static func configRewriteCommand(_ c: Client) {
        let s = c.engine
        guard let path = s.configFile else {
            c.error(static: "ERR The server is running without a config file")
            return
        }
        do {
            try ConfigRewriter.rewrite(path: path, config: s.config)
            s.logger.notice("CONFIG REWRITE executed with success.")
            c.reply.ok()
        } catch {
            s.logger.warning("CONFIG REWRITE failed: \(error)")
            c.error("ERR Rewriting config file: \(error)")
        }
    }
}

extension ShardEngine {
    /// CONFIG RESETSTAT: server counters, commandstats, errorstats, latency.
    public func resetStatistics() {
        stats.reset()
        for cmd in commands.all {
            for x in [cmd] + cmd.subcommands {
                x.calls = 0
                x.microseconds = 0
                x.rejectedCalls = 0
                x.failedCalls = 0
            }
        }
        admin.peakMemory = memory.used
        resetEvictionStats()
        lazyFree.resetFreedCount()
        resetLatencyHistograms()
    }
}
