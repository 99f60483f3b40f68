// The command table: one description per command drives dispatch, arity
// checks, COMMAND INFO/DOCS/GETKEYS, MULTI queuing and (later) cluster
// routing, ACL categories and plugins.

public struct CommandFlags: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let write = CommandFlags(rawValue: 1 << 0)
    public static let readonly = CommandFlags(rawValue: 1 << 1)
    public static let denyOOM = CommandFlags(rawValue: 1 << 2)
    public static let admin = CommandFlags(rawValue: 1 << 3)
    public static let pubsub = CommandFlags(rawValue: 1 << 4)
    public static let noScript = CommandFlags(rawValue: 1 << 5)
    public static let blocking = CommandFlags(rawValue: 1 << 6)
    public static let loading = CommandFlags(rawValue: 1 << 7)
    public static let stale = CommandFlags(rawValue: 1 << 8)
    public static let skipMonitor = CommandFlags(rawValue: 1 << 9)
    public static let skipSlowlog = CommandFlags(rawValue: 1 << 10)
    public static let fast = CommandFlags(rawValue: 1 << 11)
    public static let noAuth = CommandFlags(rawValue: 1 << 12)
    public static let mayReplicate = CommandFlags(rawValue: 1 << 13)
    public static let noMulti = CommandFlags(rawValue: 1 << 14)
    public static let allowBusy = CommandFlags(rawValue: 1 << 15)
    public static let sentinel = CommandFlags(rawValue: 1 << 16)
    /// Needs `enable-debug-command` (DEBUG): refused before execution otherwise.
    public static let protected = CommandFlags(rawValue: 1 << 17)
    /// No keys needed even though the command has key specs (EVAL with 0 keys...).
    public static let noMandatoryKeys = CommandFlags(rawValue: 1 << 18)
    /// Refused while a replica loads a dataset in the background (Redis's async loading).
    public static let noAsyncLoading = CommandFlags(rawValue: 1 << 19)
    /// A plugin's command (COMMAND INFO shows "module", as Redis).
    public static let module = CommandFlags(rawValue: 1 << 20)

    static let names: [(CommandFlags, String)] = [
        (.write, "write"), (.readonly, "readonly"), (.denyOOM, "denyoom"), (.module, "module"), (.admin, "admin"),
        (.pubsub, "pubsub"), (.noScript, "noscript"), (.blocking, "blocking"), (.loading, "loading"),
        (.stale, "stale"), (.skipMonitor, "skip_monitor"), (.skipSlowlog, "skip_slowlog"),
        (.fast, "fast"), (.noAuth, "no_auth"), (.mayReplicate, "may_replicate"),
        (.noMandatoryKeys, "no_mandatory_keys"), (.noAsyncLoading, "no_async_loading"), (.noMulti, "no_multi"), (.allowBusy, "allow_busy"),
    ]

    public var names: [String] { CommandFlags.names.filter { contains($0.0) }.map { $0.1 } }
}

public enum CommandGroup: String, Sendable {
    case generic, string, list, set, sortedSet = "sorted-set", hash, pubsub, transactions
    case connection, server, scripting, hyperloglog, cluster, geo, stream, bitmap

    /// The ACL category a command of this group belongs to (none for server/cluster).
    var aclCategory: String? {
        switch self {
        case .generic: return "@keyspace"
        case .sortedSet: return "@sortedset"
        case .transactions: return "@transaction"
        case .server, .cluster: return nil
        default: return "@" + rawValue
        }
    }
}

public typealias CommandHandler = (Client) -> Void

public final class Command {
    public let name: String
    /// The name the command table matches (differs from `name` after rename-command).
    var nameBytes: [UInt8]
    /// Positive: exact argument count (command name included); negative: at least -arity.
    public let arity: Int
    public let flags: CommandFlags
    public let firstKey: Int
    public let lastKey: Int
    public let keyStep: Int
    public let group: CommandGroup
    public let since: String
    public let summary: String
    let handler: CommandHandler
    /// Subcommands of a container command (CONFIG GET...). When present, the
    /// dispatcher runs the subcommand named by the second argument (its own
    /// arity check, handler and commandstats) and the container's handler is
    /// never called. Set them with `withSubcommands`.
    public private(set) var subcommands: [Command] = []
    public private(set) var parentName: String? = nil

    // commandstats
    public var calls = 0
    public var microseconds = 0
    public var rejectedCalls = 0
    public var failedCalls = 0
    /// Latency distribution (latency-tracking), created on the first call.
    public var latencyHistogram: LatencyHistogram? = nil
    /// What routing needs to know (Cluster/Routing.swift), computed on first use.
    var cachedRouting: CommandRouting? = nil

    public init(_ name: String, arity: Int, flags: CommandFlags = [], keys: (Int, Int, Int) = (0, 0, 0),
                group: CommandGroup, since: String = "1.0.0", summary: String = "",
                handler: @escaping CommandHandler) {
        self.name = name.lowercased()
        self.nameBytes = Array(self.name.utf8)
        self.arity = arity
        self.flags = flags
        self.firstKey = keys.0
        self.lastKey = keys.1
        self.keyStep = keys.2
        self.group = group
        self.since = since
        self.summary = summary
        self.handler = handler
    }

    public var fullName: String { parentName.map { "\($0)|\(name)" } ?? name }

    /// Makes this a container command (CONFIG, CLIENT, OBJECT...) of `subs`.
    @discardableResult
    public func withSubcommands(_ subs: [Command]) -> Command {
        for s in subs { s.parentName = name }
        subcommands = subs
        return self
    }

    /// The subcommand named `name` (case-insensitive), if this is a container.
    @inline(__always)
    public func subcommand(_ name: UnsafeRawBufferPointer) -> Command? {
        for s in subcommands where s.nameBytes.count == name.count {
            var equal = true
            for i in 0..<name.count {
                var b = name[i]
                if b >= 65 && b <= 90 { b |= 0x20 }
                if b != s.nameBytes[i] { equal = false; break }
            }
            if equal { return s }
        }
        return nil
    }

    public func subcommand(_ name: String) -> Command? {
        var n = name
        return n.withUTF8 { subcommand(UnsafeRawBufferPointer($0)) }
    }

    /// ACL categories in Redis's order: Redis's own list for the commands it
    /// has, otherwise derived from flags and group.
    public var aclCategories: [String] {
        if let m = CommandMetadata.entry(fullName) { return m.aclCategories }
        var c: [String] = []
        if flags.contains(.write) { c.append("@write") }
        if flags.contains(.readonly) && group != .scripting { c.append("@read") }
        if let g = group.aclCategory { c.append(g) }
        if flags.contains(.admin) { c.append("@admin"); c.append("@dangerous") }
        if flags.contains(.pubsub) { c.append("@pubsub") }
        if flags.contains(.fast) { c.append("@fast") } else { c.append("@slow") }
        if flags.contains(.blocking) { c.append("@blocking") }
        return CommandMetadata.sortCategories(Array(Set(c)))
    }

    /// Positions of key arguments in `args` (for COMMAND GETKEYS and routing).
    public func keyPositions(argc: Int) -> [Int] {
        if firstKey <= 0 { return [] }
        let last = lastKey < 0 ? argc + lastKey : lastKey
        var r: [Int] = []
        var i = firstKey
        while i <= last && i < argc { r.append(i); i += max(keyStep, 1) }
        return r
    }
}

/// Name -> command, matched case-insensitively without allocating.
public final class CommandTable {
    private var buckets: [[Command]] = Array(repeating: [], count: 512)
    public private(set) var all: [Command] = []

    init(_ commands: [Command]) {
        for c in commands { add(c) }
    }

    func add(_ c: Command) {
        buckets[CommandTable.bucket(c.nameBytes.withUnsafeBytes { $0 })].append(c)
        all.append(c)
    }

    @inline(__always)
    static func bucket(_ name: UnsafeRawBufferPointer) -> Int {
        var h: UInt32 = 2166136261
        for b in name { h = (h ^ UInt32(b | 0x20)) &* 16777619 }
        return Int(h & 511)
    }

    @inline(__always)
    public func lookup(_ name: UnsafeRawBufferPointer) -> Command? {
        for c in buckets[CommandTable.bucket(name)] where c.nameBytes.count == name.count {
            var equal = true
            c.nameBytes.withUnsafeBufferPointer { n in
                for i in 0..<name.count {
                    var b = name[i]
                    if b >= 65 && b <= 90 { b |= 0x20 }
                    if b != n[i] { equal = false; break }
                }
            }
            if equal { return c }
        }
        return nil
    }

    public func lookup(_ name: String) -> Command? {
        var n = name
        return n.withUTF8 { lookup(UnsafeRawBufferPointer($0)) }
    }

    /// rename-command: `c` answers to `newName` only; an empty name removes it.
    func rename(_ c: Command, to newName: String) {
        let old = CommandTable.bucket(c.nameBytes.withUnsafeBytes { $0 })
        buckets[old].removeAll { $0 === c }
        if newName.isEmpty {
            all.removeAll { $0 === c }
            return
        }
        c.nameBytes = Array(newName.lowercased().utf8)
        buckets[CommandTable.bucket(c.nameBytes.withUnsafeBytes { $0 })].append(c)
    }
}
