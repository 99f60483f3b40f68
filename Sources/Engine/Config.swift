// Server configuration: every directive of Config/tessera.conf, settable at
// start (file, then --name value arguments) and at runtime with CONFIG SET
// where Redis allows it. Values are kept in their canonical CONFIG GET form;
// the few the hot path reads are mirrored into typed properties.

public enum ConfigError: Error, CustomStringConvertible {
    case unknown(String)
    case invalid(String, String)
    case immutable(String)

    public var description: String {
        switch self {
        case .unknown(let n): return "Bad directive or wrong number of arguments ('\(n)')"
        case .invalid(_, let why): return why
        case .immutable(let n): return "can't set immutable config ('\(n)')"
        }
    }
}

public final class Config {
    public enum Kind {
        case bool
        case int(Int64, Int64)
        case memory(Int64, Int64)
        case enumeration([String])
        case string
        /// Validated by a custom parser returning the canonical form.
        case custom((String) -> String?)
    }

    public struct Param {
        public let name: String
        public let aliases: [String]
        public let kind: Kind
        public let defaultValue: String
        public let mutable: Bool
    }

    public private(set) var params: [Param] = []
    private var byName: [String: Int] = [:]
    private var values: [String] = []
    /// Called after a value changed (with the canonical name).
    public var didChange: [(String) -> Void] = []

    // Mirrors read on hot paths.
    public private(set) var protoMaxBulkLen = 512 * 1024 * 1024
    public private(set) var clientQueryBufferLimit = 1024 * 1024 * 1024
    public private(set) var hashMaxListpackEntries = 512
    public private(set) var hashMaxListpackValue = 64
    public private(set) var listMaxListpackSize = -2
    public private(set) var setMaxIntsetEntries = 512
    public private(set) var zsetMaxListpackEntries = 128
    public private(set) var zsetMaxListpackValue = 64
    public private(set) var streamNodeMaxBytes = 4096
    public private(set) var streamNodeMaxEntries = 100
    public private(set) var requirePass: [UInt8]? = nil
    public private(set) var maxClients = 10000
    public private(set) var hz = 10
    public private(set) var activeExpireEffort = 1
    public private(set) var databases = 16
    public private(set) var enableDebugCommand = false
    public private(set) var maxmemory: Int64 = 0
    /// maxmemory-clients as set: bytes, or "N%" of maxmemory (ShardEngine.maxmemoryClientsLimit).
    public private(set) var maxmemoryClientsSetting = "0"
    public private(set) var maxmemoryClientsEnabled = false
    public private(set) var maxmemoryPolicy = "noeviction"
    public private(set) var lazyfreeLazyExpire = false
    public private(set) var lfuLogFactor = 10
    public private(set) var lfuDecayTime = 1
    /// maxmemory-policy is allkeys-lfu or volatile-lfu (access frequency is tracked instead of idle time).
    public private(set) var lfuPolicy = false
    public private(set) var evictionPolicy: EvictionPolicy = .noeviction
    public private(set) var maxmemorySamples = 5
    public private(set) var maxmemoryEvictionTenacity = 10
    public private(set) var lazyfreeLazyEviction = false
    public private(set) var lazyfreeLazyServerDel = false
    public private(set) var lazyfreeLazyUserDel = false
    public private(set) var lazyfreeLazyUserFlush = false
    // Observability (Observability/): slowlog and latency monitor thresholds.
    public private(set) var slowlogLogSlowerThan: Int64 = 10000
    public private(set) var slowlogMaxLen = 128
    public private(set) var latencyMonitorThreshold: Int64 = 0
    public private(set) var latencyTracking = true
    public private(set) var latencyTrackingPercentiles: [Double] = [50, 99, 99.9]
    /// Commands running at least this many µs need the slowlog or the latency monitor.
    public private(set) var observeFloorUs: Int64 = 10000
    /// client-output-buffer-limit of one client class: hard and soft limits
    /// in bytes (0 = none), and how long the soft one may be exceeded.
    public struct OutputLimit { public var hard: Int64 = 0, soft: Int64 = 0, seconds: Int64 = 0 }
    /// appendfsync: when the AOF is fsynced (the AOF reads it on every flush).
    public enum AppendFsync: Sendable { case always, everysec, no }
    public private(set) var appendfsync = AppendFsync.everysec
    /// save: the snapshot points, "after `seconds` if at least `changes` writes"
    /// (the persistence cron reads them every tick).
    public private(set) var savePoints: [(seconds: Int64, changes: Int64)] = []
    public private(set) var stopWritesOnBgsaveError = true
    public private(set) var aofUseRDBPreamble = true
    /// replica-read-only, replica-serve-stale-data (checked per command on a replica).
    public private(set) var replicaReadOnly = true
    public private(set) var replicaServeStaleData = true
    /// replica-ignore-maxmemory (checked per eviction round on a replica).
    public private(set) var replicaIgnoreMaxmemory = true
    /// client-output-buffer-limit by ClientClass raw value (normal, replica, pubsub, master),
    /// parsed once per change; enforced by ShardEngine.outputLimitReached (OutputLimits.swift).
    public private(set) var outputBufferLimits = [OutputLimit](repeating: OutputLimit(), count: 4)
    public private(set) var idleTimeout = 0
    public private(set) var tcpKeepalive = 300
    /// Tessera: KEYS, FLUSHALL/FLUSHDB (synchronous) and DEBUG refuse to run.
    public private(set) var protectDangerousCommands = false
    /// rename-command directives of the configuration, in order (new name "" disables).
    public var renamedCommands: [(String, String)] = []
    /// loadmodule directives, in order: plugin path and its arguments.
    public var loadModules: [(path: String, args: [String])] = []
    /// notify-keyspace-events as Redis's NOTIFY_* bits (Notify.swift).
    public private(set) var notifyFlags: Int32 = 0

    public init() {
        registerNetwork()
        registerGeneral()
        registerLimits()
        registerPersistence()
        registerReplicationAndTessera()
        refreshMirrors()
    }

    private let yesno = Kind.bool
    private let big: Int64 = Int64.max

    /// Declares directive `n` with its kind and default (its value starts as the default).
    private func add(_ n: String, _ k: Kind, _ d: String, mutable: Bool = true, aliases: [String] = []) {
        byName[n] = params.count
        for a in aliases { byName[a] = params.count }
        params.append(Param(name: n, aliases: aliases, kind: k, defaultValue: d, mutable: mutable))
        values.append(d)
    }

    private func registerNetwork() {
        // Network
        add("bind", .string, "* -::*")
        add("port", .int(0, 65535), "6379", mutable: false)
        // Tessera's process model (the supervisor reads these; see Sources/Supervisor).
        add("shard-timeout", .int(200, 3_600_000), "30000")
        add("control-socket", .string, "", mutable: false)
        add("control-socket-perm", .string, "660", mutable: false)
        add("unixsocket", .string, "", mutable: false)
        add("unixsocketperm", .string, "0", mutable: false)  // octal, as Redis
        add("tcp-backlog", .int(0, big), "511", mutable: false)
        add("timeout", .int(0, big), "0")
        add("tcp-keepalive", .int(0, big), "300")
        add("protected-mode", yesno, "yes")
        add("maxclients", .int(1, big), "10000")
        add("io-threads", .int(1, 128), "1", mutable: false)
        add("io-threads-do-reads", yesno, "no", mutable: false)
    }

    private func registerGeneral() {
        // General
        add("daemonize", yesno, "no", mutable: false)
        add("supervised", .enumeration(["upstart", "systemd", "auto", "no"]), "no", mutable: false)
        add("pidfile", .string, "", mutable: false)
        add("loglevel", .enumeration(["debug", "verbose", "notice", "warning"]), "notice")
        add("logfile", .string, "", mutable: false)
        add("syslog-enabled", yesno, "no", mutable: false)
        add("databases", .int(1, Int64(Int32.max)), "16", mutable: false)
        add("always-show-logo", yesno, "no", mutable: false)
        add("set-proc-title", yesno, "yes", mutable: false)
        add("enable-debug-command", .enumeration(["yes", "no", "local"]), "no", mutable: false)
        add("enable-protected-configs", .enumeration(["yes", "no", "local"]), "no", mutable: false)
        add("enable-module-command", .enumeration(["yes", "no", "local"]), "no", mutable: false)
        add("hz", .int(0, big), "10")
        add("dynamic-hz", yesno, "yes")
        add("active-expire-effort", .int(1, 10), "1")
        add("activerehashing", yesno, "yes")
        add("crash-log-enabled", yesno, "yes")
        add("crash-memcheck-enabled", yesno, "yes")
        add("busy-reply-threshold", .int(0, big), "5000", aliases: ["lua-time-limit"])
        // Security
        add("requirepass", .string, "")
        add("acllog-max-len", .int(0, big), "128")
    }

    private func registerLimits() {
        // Limits
        add("proto-max-bulk-len", .memory(1024 * 1024, big), "536870912")
        add("client-query-buffer-limit", .memory(1024 * 1024, big), "1073741824")
        add("client-output-buffer-limit", .string, "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60")
        add("maxmemory", .memory(0, big), "0")
        add("maxmemory-policy", .enumeration(["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
                                              "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"]), "noeviction")
        add("maxmemory-samples", .int(1, 64), "5")
        add("maxmemory-eviction-tenacity", .int(0, 100), "10")
        add("maxmemory-clients", .string, "0")
        add("lfu-log-factor", .int(0, big), "10")
        add("lfu-decay-time", .int(0, big), "1")
        add("lazyfree-lazy-eviction", yesno, "no")
        add("lazyfree-lazy-expire", yesno, "no")
        add("lazyfree-lazy-server-del", yesno, "no")
        add("lazyfree-lazy-user-del", yesno, "no")
        add("lazyfree-lazy-user-flush", yesno, "no")
        add("replica-lazy-flush", yesno, "no")
        // Encodings
        add("hash-max-listpack-entries", .int(0, big), "512", aliases: ["hash-max-ziplist-entries"])
        add("hash-max-listpack-value", .int(0, big), "64", aliases: ["hash-max-ziplist-value"])
        add("list-max-listpack-size", .int(Int64(Int32.min), Int64(Int32.max)), "-2", aliases: ["list-max-ziplist-size"])
        add("list-compress-depth", .int(0, Int64(Int32.max)), "0")
        add("set-max-intset-entries", .int(0, big), "512")
        add("zset-max-listpack-entries", .int(0, big), "128", aliases: ["zset-max-ziplist-entries"])
        add("zset-max-listpack-value", .int(0, big), "64", aliases: ["zset-max-ziplist-value"])
        add("hll-sparse-max-bytes", .memory(0, big), "3000")
        add("stream-node-max-bytes", .memory(0, big), "4096")
        add("stream-node-max-entries", .int(0, big), "100")
    }

    private func registerPersistence() {
        // Persistence (the persistence issue gives these their effect)
        add("save", .custom(Config.canonicalSave), "3600 1 300 100 60 10000")
        add("dbfilename", .string, "dump.rdb")
        add("dir", .string, ".")
        add("rdbcompression", yesno, "yes")
        add("rdbchecksum", yesno, "yes")
        add("rdb-del-sync-files", yesno, "no")
        add("stop-writes-on-bgsave-error", yesno, "yes")
        add("appendonly", yesno, "no")
        add("appendfilename", .string, "appendonly.aof", mutable: false)
        add("appenddirname", .string, "appendonlydir", mutable: false)
        add("appendfsync", .enumeration(["always", "everysec", "no"]), "everysec")
        add("no-appendfsync-on-rewrite", yesno, "no")
        add("auto-aof-rewrite-percentage", .int(0, big), "100")
        add("auto-aof-rewrite-min-size", .memory(0, big), "67108864")
        add("aof-load-truncated", yesno, "yes")
        add("aof-use-rdb-preamble", yesno, "yes")
        add("aof-timestamp-enabled", yesno, "no")
        add("aof-rewrite-incremental-fsync", yesno, "yes")
        add("rdb-save-incremental-fsync", yesno, "yes")
        add("rdb-key-save-delay", .int(Int64(Int32.min), Int64(Int32.max)), "0")
        add("key-load-delay", .int(Int64(Int32.min), Int64(Int32.max)), "0")
        // Observability (the observability issue gives these their effect)
        add("slowlog-log-slower-than", .int(-1, big), "10000")
        add("slowlog-max-len", .int(0, big), "128")
        add("latency-monitor-threshold", .int(0, big), "0")
        add("latency-tracking", yesno, "yes")
        add("latency-tracking-info-percentiles", .string, "50 99 99.9")
        add("notify-keyspace-events", .string, "")
    }

    private func registerReplicationAndTessera() {
        // Replication (the Replication target)
        add("replica-read-only", yesno, "yes", aliases: ["slave-read-only"])
        add("repl-backlog-size", .memory(1, big), "1048576")
        add("repl-backlog-ttl", .int(0, big), "3600")
        add("repl-timeout", .int(1, big), "60")
        add("repl-ping-replica-period", .int(1, big), "10", aliases: ["repl-ping-slave-period"])
        add("min-replicas-to-write", .int(0, big), "0", aliases: ["min-slaves-to-write"])
        add("min-replicas-max-lag", .int(0, big), "10", aliases: ["min-slaves-max-lag"])
        add("repl-diskless-sync", yesno, "yes")
        add("repl-diskless-sync-delay", .int(0, big), "5")
        add("repl-diskless-sync-max-replicas", .int(0, big), "0")
        add("repl-diskless-load", .enumeration(["disabled", "on-empty-db", "swapdb"]), "disabled")
        add("repl-disable-tcp-nodelay", yesno, "no")
        add("replica-serve-stale-data", yesno, "yes", aliases: ["slave-serve-stale-data"])
        add("replica-priority", .int(0, Int64(Int32.max)), "100", aliases: ["slave-priority"])
        add("replica-announce-ip", .string, "", aliases: ["slave-announce-ip"])
        add("replica-announce-port", .int(0, 65535), "0", aliases: ["slave-announce-port"])
        add("replica-announced", yesno, "yes")
        add("replica-ignore-maxmemory", yesno, "yes", aliases: ["slave-ignore-maxmemory"])
        add("replica-ignore-disk-write-errors", yesno, "no")
        // What a replica does when a command from its master fails (Redis 7.0):
        // Tessera goes on, as Redis's default "ignore", whatever the value.
        add("propagation-error-behavior", .enumeration(["ignore", "panic", "panic-on-replicas"]), "ignore")
        add("masterauth", .string, "")
        add("masteruser", .string, "")
        add("lua-replicate-commands", yesno, "yes")
        add("cluster-enabled", yesno, "no", mutable: false)
        add("replicaof", .string, "", mutable: false, aliases: ["slaveof"])
        // Tessera
        add("shards", .string, "1", mutable: false)
        add("shard-ports", .int(0, 65535), "0", mutable: false)
        add("cluster-announce-ip", .string, "", mutable: false)
        add("metrics-port", .int(0, 65535), "0", mutable: false)
        add("metrics-bind", .string, "127.0.0.1", mutable: false)
        add("watchdog", yesno, "yes", mutable: false)
        add("protect-dangerous-commands", yesno, "no", mutable: false)
    }

    /// Debugging knobs CONFIG GET answers only when asked by exact name (Redis's HIDDEN_CONFIG).
    static let hidden: Set<String> = ["rdb-key-save-delay", "key-load-delay"]

    public func param(_ name: String) -> Param? {
        byName[name.lowercased()].map { params[$0] }
    }

    public func get(_ name: String) -> String? {
        byName[name.lowercased()].map { values[$0] }
    }

    /// Sets a value at startup (any parameter) or at runtime (`runtime`: mutable ones only).
    public func set(_ name: String, _ value: String, runtime: Bool = false) throws {
        guard let idx = byName[name.lowercased()] else { throw ConfigError.unknown(name) }
        let p = params[idx]
        if runtime && !p.mutable { throw ConfigError.immutable(p.name) }
        var canonical = try Config.canonical(p, value)
        if p.name == "client-output-buffer-limit" {
            // Like Redis, a value may name only some client classes; the others keep their limits.
            canonical = Config.mergeOutputBufferLimits(canonical, into: values[idx])
        }
        values[idx] = canonical
        // Redis keeps the flags, not the string: "AEn" reads back as "AE" but keeps 'n'.
        if p.name == "notify-keyspace-events" { notifyFlags = KeyspaceEvents.flags(value) ?? 0 }
        refreshMirrors()
        for f in didChange { f(p.name) }
    }

    /// All (name, value) pairs whose name matches the glob `pattern`, aliases included as Redis does.
    public func matching(_ pattern: [UInt8]) -> [(String, String)] {
        var out: [(String, String)] = []
        for (i, p) in params.enumerated() where !Config.hidden.contains(p.name) {
            for n in [p.name] + p.aliases where globMatch(pattern, Array(n.utf8), nocase: true) {
                out.append((n, values[i]))
            }
        }
        return out
    }

    public var nonDefaultValues: [(String, String)] {
        params.indices.filter { values[$0] != params[$0].defaultValue }.map { (params[$0].name, values[$0]) }
    }

    private func refreshMirrors() {
        func int(_ n: String) -> Int { Int(get(n)!) ?? 0 }
        switch get("appendfsync")! { case "always": appendfsync = .always; case "no": appendfsync = .no; default: appendfsync = .everysec }
        let save = get("save")!.split(separator: " ").compactMap { Int64($0) }
        savePoints = stride(from: 0, to: save.count - 1, by: 2).map { (save[$0], save[$0 + 1]) }
        stopWritesOnBgsaveError = get("stop-writes-on-bgsave-error") == "yes"
        aofUseRDBPreamble = get("aof-use-rdb-preamble") == "yes"
        replicaReadOnly = get("replica-read-only") == "yes"
        replicaServeStaleData = get("replica-serve-stale-data") == "yes"
        replicaIgnoreMaxmemory = get("replica-ignore-maxmemory") == "yes"
        protoMaxBulkLen = int("proto-max-bulk-len")
        clientQueryBufferLimit = int("client-query-buffer-limit")
        hashMaxListpackEntries = int("hash-max-listpack-entries")
        hashMaxListpackValue = int("hash-max-listpack-value")
        listMaxListpackSize = int("list-max-listpack-size")
        setMaxIntsetEntries = int("set-max-intset-entries")
        zsetMaxListpackEntries = int("zset-max-listpack-entries")
        zsetMaxListpackValue = int("zset-max-listpack-value")
        let pass = get("requirepass")!
        requirePass = pass.isEmpty ? nil : Array(pass.utf8)
        maxClients = int("maxclients")
        hz = max(1, min(500, int("hz")))
        activeExpireEffort = int("active-expire-effort")
        databases = int("databases")
        enableDebugCommand = get("enable-debug-command") != "no"
        maxmemory = Int64(get("maxmemory")!) ?? 0
        maxmemoryClientsSetting = get("maxmemory-clients")!
        maxmemoryClientsEnabled = maxmemoryClientsSetting != "0" && maxmemoryClientsSetting != "0%"
        maxmemoryPolicy = get("maxmemory-policy")!
        lfuLogFactor = int("lfu-log-factor")
        lfuDecayTime = int("lfu-decay-time")
        lfuPolicy = maxmemoryPolicy.hasSuffix("-lfu")
        lazyfreeLazyExpire = get("lazyfree-lazy-expire") == "yes"
        evictionPolicy = EvictionPolicy(rawValue: maxmemoryPolicy) ?? .noeviction
        maxmemorySamples = int("maxmemory-samples")
        maxmemoryEvictionTenacity = int("maxmemory-eviction-tenacity")
        lazyfreeLazyEviction = get("lazyfree-lazy-eviction") == "yes"
        lazyfreeLazyServerDel = get("lazyfree-lazy-server-del") == "yes"
        lazyfreeLazyUserDel = get("lazyfree-lazy-user-del") == "yes"
        lazyfreeLazyUserFlush = get("lazyfree-lazy-user-flush") == "yes"
        streamNodeMaxBytes = int("stream-node-max-bytes")
        streamNodeMaxEntries = int("stream-node-max-entries")
        slowlogLogSlowerThan = Int64(get("slowlog-log-slower-than")!) ?? 10000
        slowlogMaxLen = int("slowlog-max-len")
        latencyMonitorThreshold = Int64(get("latency-monitor-threshold")!) ?? 0
        latencyTracking = get("latency-tracking") == "yes"
        latencyTrackingPercentiles = get("latency-tracking-info-percentiles")!.split(separator: " ").compactMap { Double($0) }
        var floor = Int64.max
        if slowlogLogSlowerThan >= 0 { floor = slowlogLogSlowerThan }
        if latencyMonitorThreshold > 0 { floor = min(floor, latencyMonitorThreshold * 1000) }
        observeFloorUs = floor
        let parts = get("client-output-buffer-limit")!.split(separator: " ")
        for i in stride(from: 0, to: parts.count - 3, by: 4) {
            let cls: ClientClass
            switch parts[i] { case "normal": cls = .normal; case "slave": cls = .replica; case "pubsub": cls = .pubsub; default: continue }
            outputBufferLimits[cls.rawValue] = OutputLimit(hard: Int64(parts[i + 1]) ?? 0, soft: Int64(parts[i + 2]) ?? 0,
                                                           seconds: Int64(parts[i + 3]) ?? 0)
        }
        idleTimeout = int("timeout")
        tcpKeepalive = int("tcp-keepalive")
        protectDangerousCommands = get("protect-dangerous-commands") == "yes"
    }

    static func canonical(_ p: Param, _ v: String) throws -> String {
        switch p.kind {
        case .bool:
            switch v.lowercased() {
            case "yes": return "yes"
            case "no": return "no"
            default: throw ConfigError.invalid(p.name, "argument must be 'yes' or 'no'")
            }
        case .int(let lo, let hi):
            guard let n = Int64(v) else { throw ConfigError.invalid(p.name, "argument couldn't be parsed into an integer") }
            guard n >= lo && n <= hi else {
                throw ConfigError.invalid(p.name, "argument must be between \(lo) and \(hi) inclusive")
            }
            return String(n)
        case .memory(_, _) where p.name == "maxmemory-clients" && v.hasSuffix("%"):
            // A percentage of maxmemory, as Redis 7.0 accepts for this directive.
            guard let n = Int64(v.dropLast()), n >= 0 else {
                throw ConfigError.invalid(p.name, "argument must be a memory or percent value")
            }
            guard n <= 100 else { throw ConfigError.invalid(p.name, "percentage argument must be less or equal to 100") }
            return "\(n)%"
        case .memory(let lo, let hi):
            guard let n = parseMemory(v) else { throw ConfigError.invalid(p.name, "argument must be a memory value") }
            guard n >= lo && n <= hi else {
                throw ConfigError.invalid(p.name, "argument must be between \(lo) and \(hi) inclusive")
            }
            return String(n)
        case .enumeration(let allowed):
            let l = v.lowercased()
            guard allowed.contains(l) else {
                throw ConfigError.invalid(p.name, "argument(s) must be one of the following: " + allowed.joined(separator: ", "))
            }
            return l
        case .string where p.name == "client-output-buffer-limit":
            return try canonicalOutputBufferLimits(v)
        case .string where p.name == "maxmemory-clients":
            // Bytes, or a percentage of maxmemory ("10%"), as in Redis 7.0.
            if v.hasSuffix("%") {
                guard let pct = Int64(v.dropLast()), pct >= 0 else { throw ConfigError.invalid(p.name, "argument must be a memory or percent value") }
                guard pct <= 100 else { throw ConfigError.invalid(p.name, "percentage argument must be less or equal to 100") }
                return "\(pct)%"
            }
            guard let n = parseMemory(v), n >= 0 else { throw ConfigError.invalid(p.name, "argument must be a memory or percent value") }
            return String(n)
        case .string where p.name == "replicaof":
            // "host port", as the directive takes it (REPLICAOF changes it at run time).
            let parts = v.split(separator: " ")
            guard v.isEmpty || (parts.count == 2 && Int(parts[1]).map({ $0 > 0 && $0 < 65536 }) == true) else {
                throw ConfigError.invalid(p.name, "replicaof takes a host and a port")
            }
            return v
        case .string where p.name == "notify-keyspace-events":
            guard let f = KeyspaceEvents.flags(v) else {
                throw ConfigError.invalid(p.name, "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
            }
            return KeyspaceEvents.string(f)
        case .string:
            return v
        case .custom(let f):
            guard let c = f(v) else { throw ConfigError.invalid(p.name, "Invalid save parameters") }
            return c
        }
    }

    /// "<class> <hard> <soft> <seconds> ..." with classes normal/replica(slave)/pubsub
    /// and memory units, in the canonical form "slave 268435456 67108864 60".
    static func canonicalOutputBufferLimits(_ v: String) throws -> String {
        let p = "client-output-buffer-limit"
        let parts = v.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        if parts.isEmpty || parts.count % 4 != 0 {
            throw ConfigError.invalid(p, "Wrong number of arguments in buffer limit configuration.")
        }
        var out: [String] = []
        for i in stride(from: 0, to: parts.count, by: 4) {
            var cls = parts[i].lowercased()
            if cls == "replica" { cls = "slave" }
            guard ["normal", "slave", "pubsub"].contains(cls) else {
                throw ConfigError.invalid(p, "Invalid client class specified in buffer limit configuration.")
            }
            guard let hard = parseMemory(parts[i + 1]), let soft = parseMemory(parts[i + 2]),
                  let secs = Int64(parts[i + 3]), secs >= 0 else {
                throw ConfigError.invalid(p, "Error in hard, soft or soft_seconds setting in buffer limit configuration.")
            }
            out += [cls, String(hard), String(soft), String(secs)]
        }
        return out.joined(separator: " ")
    }

    /// `update`'s classes replace those of `current`, in the order normal, slave, pubsub.
    static func mergeOutputBufferLimits(_ update: String, into current: String) -> String {
        var limits: [String: [Substring]] = [:]
        for value in [current, update] {
            let parts = value.split(separator: " ")
            for i in stride(from: 0, to: parts.count - 3, by: 4) { limits[String(parts[i])] = Array(parts[i..<(i + 4)]) }
        }
        return ["normal", "slave", "pubsub"].compactMap { limits[$0]?.joined(separator: " ") }.joined(separator: " ")
    }

    static func canonicalSave(_ v: String) -> String? {
        let parts = v.split(separator: " ", omittingEmptySubsequences: true)
        if parts.isEmpty { return "" }
        if parts.count % 2 != 0 { return nil }
        for p in parts where Int(p) == nil || Int(p)! < 0 { return nil }
        return parts.joined(separator: " ")
    }
}

/// Parses "100", "1k", "5mb", "2GB" the way Redis's memtoull does.
public func parseMemory(_ s: String) -> Int64? {
    let l = s.lowercased()
    let units: [(String, Int64)] = [("kb", 1024), ("mb", 1024 * 1024), ("gb", 1024 * 1024 * 1024),
                                    ("k", 1000), ("m", 1_000_000), ("g", 1_000_000_000), ("b", 1)]
    for (u, mul) in units where l.hasSuffix(u) {
        guard let n = Int64(l.dropLast(u.count)), n >= 0 else { return nil }
        let (r, o) = n.multipliedReportingOverflow(by: mul)
        return o ? nil : r
    }
    guard let n = Int64(l), n >= 0 else { return nil }
    return n
}
