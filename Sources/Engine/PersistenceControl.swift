// What the engine needs from the persistence layer (RDB snapshots, AOF),
// which sits above it: the commands that save or reload, the final save at
// shutdown, and the state that refuses writes (MISCONF) or all commands
// (LOADING). The Persistence target implements it; without one (unit tests)
// the commands answer that persistence is not available.

public protocol PersistenceControl: AnyObject {
    /// SAVE: a synchronous snapshot. Replies itself.
    func saveCommand(_ c: Client)
    /// BGSAVE [SCHEDULE]. Replies itself.
    func bgsaveCommand(_ c: Client, schedule: Bool)
    /// BGREWRITEAOF. Replies itself.
    func bgrewriteaofCommand(_ c: Client)
    /// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]. Replies itself.
    func debugReload(_ c: Client, merge: Bool, flush: Bool, save: Bool)
    /// DEBUG LOADAOF. Replies itself.
    func debugLoadAOF(_ c: Client)
    /// The work before exiting: final RDB save (`save` nil = per config) and AOF flush.
    /// False if the server must not exit (the save failed).
    func prepareForShutdown(save: Bool?) -> Bool
    /// After FLUSHALL: stop a running snapshot child, save the empty dataset if save points are set.
    func afterFlushAll()
    /// A CONFIG SET of a persistence parameter took effect (appendonly, dir...).
    /// Returns an error message to refuse it.
    func configChanged(_ name: String) -> String?
}

extension ShardEngine {
    static func persistenceCommands() -> [Command] {
        let f: CommandFlags = [.admin, .noScript, .noAsyncLoading]
        return [
            Command("save", arity: 1, flags: f.union(.noMulti), group: .server, since: "1.0.0", handler: { c in
                guard let p = c.engine.persistence else { return notAvailable(c) }
                p.saveCommand(c)
            }),
            Command("bgsave", arity: -1, flags: f, group: .server, since: "1.0.0", handler: { c in
                var schedule = false
                if c.args.count == 2 && c.args.equals(1, "schedule") { schedule = true }
                else if c.args.count > 1 { c.syntaxError(); return }
                guard let p = c.engine.persistence else { return notAvailable(c) }
                p.bgsaveCommand(c, schedule: schedule)
            }),
            Command("bgrewriteaof", arity: 1, flags: f, group: .server, since: "1.0.0", handler: { c in
                guard let p = c.engine.persistence else { return notAvailable(c) }
                p.bgrewriteaofCommand(c)
            }),
        ]
    }

    static func notAvailable(_ c: Client) {
        c.error(static: "ERR persistence is not available in this process")
    }

}

/// Why writes are refused with -MISCONF (Redis's writeCommandsDeniedByDiskError).
/// The persistence layer records each failure where it happens; the command
/// path reads one flag, and builds the refusal only when it is set.
public final class DiskErrors {
    /// The last background save failed.
    public var lastBgsaveFailed = false { didSet { update() } }
    /// The AOF's write or fsync error as the MISCONF text; nil when it writes fine (or is off).
    public var aofFailure: String? = nil { didSet { update() } }
    /// Some failure is recorded (it may still not deny writes, see `denial`).
    public private(set) var any = false

    init() {}

    private func update() { any = lastBgsaveFailed || aofFailure != nil }

    /// The reply refusing a write now, or nil. A failed save denies writes
    /// only while stop-writes-on-bgsave-error is on and save points are set.
    func denial(_ config: Config) -> String? {
        if lastBgsaveFailed && config.stopWritesOnBgsaveError && !config.savePoints.isEmpty {
            return DiskErrors.rdbMessage
        }
        return aofFailure
    }

    static let rdbMessage =
        "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error."
}
