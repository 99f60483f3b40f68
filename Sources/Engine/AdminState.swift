// State behind the server/admin commands that has no better home: client
// pause, replication ids, memory peak, DEBUG switches. One per Server.

import Glibc

public final class AdminState {
    // CLIENT PAUSE: until when (unix ms) and whether all commands or only writes.
    public var pauseEndMs: Int64 = 0
    public var pauseAll = false
    /// Clients whose command waits for the pause to end (counted in blocked_clients).
    public var postponedClients = 0
    /// FAILOVER holds writes until the switch is done; CLIENT UNPAUSE does not end it.
    public private(set) var pausedForFailover = false

    /// Holds writes for a coordinated failover (Redis's PAUSE_DURING_FAILOVER).
    public func beginFailoverPause() {
        pausedForFailover = true
        pauseEndMs = Int64.max
    }

    public func endFailoverPause() {
        pausedForFailover = false
        if pauseEndMs == Int64.max { pauseEndMs = 0 }
    }

    /// CLIENT UNPAUSE: ends the pause CLIENT PAUSE started (not a failover's).
    public func unpauseClients() {
        pauseEndMs = pausedForFailover ? Int64.max : 0
        pauseAll = false
    }

    // Replication identity (INFO replication, DEBUG CHANGE-REPL-ID).
    public var replid = AdminState.randomHex(40)
    public var replid2 = String(repeating: "0", count: 40)

    // Memory figures for INFO memory.
    public internal(set) var startupMemory: Int
    public var peakMemory: Int
    public var peakTimeMs: Int64 = 0

    // DEBUG switches.
    public var cronPaused = false
    public var skipChecksumValidation = false
    public var disableDenyScripts = false
    public var replyBufferPeakResetTimeMs: Int64 = 5000
    public var replyBufferResizing = true

    /// Total calls of `serverCron` (cron ticks).
    public var cronLoops = 0

    init() {
        let m = MemoryStats.allocator().allocated
        startupMemory = m
        peakMemory = m
    }

    public var isPaused: Bool { pauseEndMs > 0 && ShardEngine.wallClockMs() < pauseEndMs }

    public static func randomHex(_ n: Int) -> String {
        String((0..<n).map { _ in "0123456789abcdef".randomElement()! })
    }
}

extension ShardEngine {
    /// Periodic housekeeping of the admin state; the runtime calls it each cron tick.
    public func serverCron() {
        admin.cronLoops += 1
        if admin.cronPaused { return }
        admin.refreshPeak(used: memory.used)
        if admin.pauseEndMs > 0 && now >= admin.pauseEndMs { admin.pauseEndMs = 0 }
        evictClientsIfNeeded()
    }

    /// Why a protected command (DEBUG) may not run for `c`, or nil if it may
    /// (enable-debug-command yes, or local and `c` is local).
    func protectedCommandRefusal(_ c: Client, _ cmd: Command) -> String? {
        let setting = config.get("enable-debug-command") ?? "no"
        if setting == "yes" || (setting == "local" && c.isLocal) { return nil }
        return "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server."
    }

    /// Redis's addReplySubcommandSyntaxError: a subcommand used with the wrong arguments.
    static func subcommandSyntaxError(_ c: Client) {
        let sub = String(String(decoding: c.args[1], as: UTF8.self).prefix(128))
        c.error("ERR unknown subcommand or wrong number of arguments for '\(sub)'. Try \(c.args.string(0).uppercased()) HELP.")
    }

    /// "unknown subcommand 'x'. Try CONFIG HELP." for a container command.
    func unknownSubcommandMessage(_ c: Client) -> String {
        let sub = String(String(decoding: c.args[1], as: UTF8.self).prefix(128))
        return "ERR unknown subcommand '\(sub)'. Try \(c.args.string(0).uppercased()) HELP."
    }
}

extension AdminState {
    func refreshPeak(used: Int) {
        if used > peakMemory {
            peakMemory = used
            peakTimeMs = ShardEngine.wallClockMs()
        }
    }
}

extension Client {
    /// Connected over a unix socket or from a loopback address (enable-debug-command local).
    public var isLocal: Bool {
        isUnixSocket || addr.hasPrefix("127.") || addr.hasPrefix("::1:") || addr.hasPrefix("[::1]")
    }
}

/// Redis's client types (getClientType): picks the output buffer limit class.
public enum ClientClass: Int, Sendable { case normal = 0, replica = 1, pubsub = 2, master = 3 }

extension ShardEngine {
    /// Whether CLIENT PAUSE holds `cmd` for `c`: every command with ALL; with
    /// WRITE, writes and may-replicate commands, and EXEC of a transaction with one.
    func pausePostpones(_ c: Client, _ cmd: Command) -> Bool {
        guard admin.isPaused else { return false }
        if c.clientClass == .replica || c.clientClass == .master { return false }
        if admin.pauseAll { return true }
        let writeLike: CommandFlags = [.write, .mayReplicate]
        if !cmd.flags.intersection(writeLike).isEmpty { return true }
        if cmd.name == "exec" && c.inMulti {
            return c.multiQueue.contains { !$0.command.flags.intersection(writeLike).isEmpty || ShardEngine.scriptNames.contains($0.command.name) }
        }
        return ShardEngine.scriptNames.contains(cmd.name)
    }

    static let scriptNames: Set<String> = ["eval", "evalsha", "fcall"]
}
