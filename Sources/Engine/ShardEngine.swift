// The engine of one shard: databases, configuration, command dispatch,
// statistics and client registry. Single-threaded: the shard's event loop
// calls into it and nothing else touches it.

import Glibc
import Logging
import RESP

public enum ShutdownMode: Sendable { case normal, save, noSave }

public final class ShardEngine {
    public let config: Config
    public private(set) var databases: [Database] = []
    public let stats = Stats()
    public private(set) var commands: CommandTable! = nil
    public var logger: Logger

    /// Connected clients and internal links (ClientRegistry.swift).
    public let clients = ClientRegistry()

    /// Cached wall clock in ms, refreshed before each command (all expiry
    /// decisions of one command see the same time).
    public internal(set) var now: Int64 = 0
    /// LRU clock in seconds, for OBJECT IDLETIME.
    public var lruClock: UInt32 { UInt32(truncatingIfNeeded: now / 1000) & 0xFFFFFF }
    /// State of the generator behind the LFU counter's probabilistic increment (LRU.swift).
    var lfuRandomState: UInt64 = 0x9E37_79B9_7F4A_7C15

    public let startTime: Int64
    public let runID: String
    public var port = 6379
    /// The keyspace split across shards; nil with one shard and no shard ports.
    public var cluster: ClusterTopology? = nil
    /// Set by the runtime: whether keyspace notifications go to other shards too.
    public var relaysKeyspaceEvents = false
    public var configFile: String? = nil
    public var executablePath = ""
    /// Writes since the last save.
    public var dirty: Int64 = 0
    public var lastSaveTime: Int64
    public var activeExpireEnabled = true
    /// DEBUG SET-ACTIVE-EXPIRE etc. flip these for the test suite.
    public var debugQuicklistPackedThreshold = 1 << 30

    /// Keys watched by clients (WATCH), by database.
    var watchedKeys: [WatchKey: [Client]] = [:]

    /// The loop driving this engine (ShardInterface.swift); nil in unit tests.
    public weak var host: ShardHost? = nil
    /// Higher layers' work at the named points of each loop round.
    public private(set) var stages = ShardStages()
    /// Where propagated writes go (WriteStream.swift): the AOF, replicas.
    public let writeStream = WriteStream()
    /// The plugin host, when plugins are loaded.
    public weak var pluginObserver: PluginEventObserver? = nil
    /// The replication layer, when there is one (ReplicationControl.swift).
    public weak var replication: ReplicationControl? = nil
    /// Role facts the command path checks (ReplicationControl.swift).
    public let replicationGate = ReplicationGate()
    /// Keys a writable replica gave a TTL itself (ReplicaOwnKeys.swift).
    var replicaOwnExpires = Set<ReplicaOwnKey>()
    /// The persistence layer, when there is one (PersistenceControl.swift).
    public weak var persistence: PersistenceControl? = nil
    /// Set while a dataset is loading: commands without the `loading` flag get -LOADING.
    public var loading = false
    /// Data types plugins registered (values of them load from RDB and RESTORE).
    public let moduleTypes = ModuleTypeRegistry()
    /// Failed saves and AOF writes, which refuse writes (-MISCONF).
    public let diskErrors = DiskErrors()
    var pendingPropagation: [PropagatedCommand] = []
    /// Nesting of `call` (EXEC runs its commands through `call` too).
    public internal(set) var callDepth = 0
    /// Keyspace event classes plugins subscribed to (they see them whatever notify-keyspace-events says).
    public var moduleEventMask: Int32 = 0

    let hashSeed = UInt64.random(in: 0...UInt64.max)

    /// State of the server/admin commands (CLIENT PAUSE, replication ids, memory peak...).
    public let admin = AdminState()
    /// used_memory, cheap per command (MemoryAccounting.swift).
    public let memory = MemoryAccounting()
    /// The lazy-free thread (LazyFree.swift); started on first use.
    public private(set) lazy var lazyFree = LazyFree(accounting: memory)
    /// Eviction pool and state (Evict.swift).
    let eviction = EvictionState()

    /// SLOWLOG entries and the latency monitor's event series (Observability/).
    public let slowlog = SlowLog()
    public let latency = LatencyMonitor()

    /// Pub/Sub subscriptions (PubSub.swift).
    let pubsub = PubSubState()
    /// Clients blocked on keys (Blocking.swift).
    let blocking = BlockingState()

    public init(config: Config, logger: Logger = Logger(label: "tessera")) {
        self.config = config
        self.logger = logger
        let t = ShardEngine.wallClockMs()
        now = t
        startTime = t
        lastSaveTime = t / 1000
        runID = (0..<40).map { _ in String("0123456789abcdef".randomElement()!) }.joined()
        databases = (0..<config.databases).map { Database(index: $0, seed: hashSeed) }
        commands = CommandTable(ShardEngine.allCommands())
        config.didChange.append { [unowned self] name in
            if name == "lazyfree-lazy-server-del" { self.applyLazyServerDel() }
            if name == "maxmemory" { self.maxmemoryChanged() }
        }
        applyLazyServerDel()
        admin.startupMemory = memory.used
        admin.peakMemory = max(admin.peakMemory, admin.startupMemory)
        applyRenamedCommands()
    }

    // MARK: clock

    @inline(__always)
    public static func wallClockMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    @inline(__always)
    public static func wallClockUs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
    }

    @inline(__always) public func updateClock() { now = ShardEngine.wallClockMs() }

    // MARK: clients

    public func createClient(reply: ReplyEncoder) -> Client {
        let c = Client(id: clients.takeID(), engine: self, reply: reply,
                       authenticated: config.requirePass == nil, now: now)
        clients.add(c)
        stats.totalConnectionsReceived += 1
        return c
    }

    /// Marks `c` for disconnection; the runtime closes it before waiting again.
    public func closeClientAsap(_ c: Client) {
        if c.closeASAP { return }
        c.closeASAP = true
        host?.clientClosing(c)
    }

    /// Hides an internal connection (the supervisor's link, another shard's)
    /// from client lists and counts.
    public func unlistClient(_ c: Client) {
        if clients.unlist(c) { stats.totalConnectionsReceived -= 1 }
    }

    public func removeClient(_ c: Client) {
        unwatchAll(c)
        if c.subscriptions != nil { pubsubRemoveClient(c) }
        if c.blocked != nil {
            pluginObserver?.blockedClientDisconnected(c)
            unblockClient(c, requeue: false)
        }
        if c.isMasterLink || c.isReplicaLink { replication?.linkClosed(c) }
        clients.remove(c)
    }

    public func addMonitor(_ c: Client) {
        c.isMonitor = true
        clients.addMonitor(c)
    }

    /// Adds a higher layer's work to every loop round (ShardInterface.swift).
    public func addStage(_ stage: ShardStage) { stages.add(stage) }

    /// A stage's `points` changed (ShardInterface.swift).
    public func stagePointsChanged() { stages.rebuildPoints() }
}
