// The engine of one shard: databases, configuration, command dispatch,
// statistics and client registry. Single-threaded: the shard's event loop
// calls into it and nothing else touches it.

import Glibc
import Logging
import RESP

public enum ShutdownMode: Sendable { case normal, save, noSave }

public final class Server {
    public let config: Config
    public private(set) var databases: [Database] = []
    public let stats = Stats()
    public private(set) var commands: CommandTable! = nil
    public var logger: Logger

    public private(set) var clients: [Int64: Client] = [:]
    private var nextClientID: Int64 = 1
    public internal(set) var monitors: [Client] = []

    /// Cached wall clock in ms, refreshed before each command (all expiry
    /// decisions of one command see the same time).
    public private(set) var now: Int64 = 0
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
    /// Higher layers' work at the named points of each loop round, in
    /// order: all of them, and those with work at each point.
    public private(set) var stages: [ShardStage] = []
    public private(set) var sleepStages: [ShardStage] = []
    public private(set) var afterEventsStages: [ShardStage] = []
    public private(set) var beforeRepliesStages: [ShardStage] = []
    public private(set) var cronStages: [ShardStage] = []
    public private(set) var wakeupStages: [ShardStage] = []
    /// The write stream's consumer (the AOF); nil when nothing consumes it.
    public var writeStream: WriteStreamConsumer? = nil
    /// The plugin host, when plugins are loaded.
    public weak var pluginObserver: PluginEventObserver? = nil
    /// The persistence layer, when there is one (PersistenceControl.swift).
    public weak var persistence: PersistenceControl? = nil
    /// Set while a dataset is loading: commands without the `loading` flag get -LOADING.
    public var loading = false
    /// Set by the persistence layer while writes must be refused (a failed
    /// save with stop-writes-on-bgsave-error, an AOF write error): the error text.
    public var writeDeniedMessage: String? = nil
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
        let t = Server.wallClockMs()
        now = t
        startTime = t
        lastSaveTime = t / 1000
        runID = (0..<40).map { _ in String("0123456789abcdef".randomElement()!) }.joined()
        databases = (0..<config.databases).map { Database(index: $0, seed: hashSeed) }
        commands = CommandTable(Server.allCommands())
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

    @inline(__always) public func updateClock() { now = Server.wallClockMs() }

    // MARK: clients

    public func createClient(reply: ReplyEncoder) -> Client {
        let c = Client(id: nextClientID, server: self, reply: reply,
                       authenticated: config.requirePass == nil, now: now)
        nextClientID += 1
        clients[c.id] = c
        stats.totalConnectionsReceived += 1
        return c
    }

    /// Marks `c` for disconnection; the runtime closes it before waiting again.
    public func closeClientAsap(_ c: Client) {
        if c.closeASAP { return }
        c.closeASAP = true
        host?.clientClosing(c)
    }

    /// Adds a higher layer's work to every loop round (ShardInterface.swift).
    public func addStage(_ stage: ShardStage) {
        stages.append(stage)
        let p = stage.points
        if p.contains(.sleep) { sleepStages.append(stage) }
        if p.contains(.afterEvents) { afterEventsStages.append(stage) }
        if p.contains(.beforeReplies) { beforeRepliesStages.append(stage) }
        if p.contains(.cron) { cronStages.append(stage) }
        if p.contains(.wakeupDeadline) { wakeupStages.append(stage) }
    }

    /// Hides an internal connection (the supervisor's link) from client lists and counts.
    public func unlistClient(_ c: Client) {
        if clients.removeValue(forKey: c.id) != nil { stats.totalConnectionsReceived -= 1 }
        internalClients[c.id] = c
    }

    /// Internal connections (links from the supervisor and other shards): not
    /// listed, but their blocked commands still time out.
    private(set) var internalClients: [Int64: Client] = [:]

    /// Any connected client by id, internal ones included.
    func anyClient(_ id: Int64) -> Client? { clients[id] ?? internalClients[id] }

    public func removeClient(_ c: Client) {
        unwatchAll(c)
        if c.subscriptions != nil { pubsubRemoveClient(c) }
        if c.blocked != nil {
            pluginObserver?.blockedClientDisconnected(c)
            unblockClient(c, requeue: false)
        }
        if c.isMonitor { monitors.removeAll { $0 === c } }
        clients[c.id] = nil
        internalClients[c.id] = nil
    }

    // MARK: dispatch

    /// Runs the command in `c.args`. The reply goes to `c.reply`.
    public func execute(_ c: Client) {
        execute(c, resolve(c.args))
    }

    /// Runs the command in `c.args`, already looked up by the caller (the
    /// forwarder resolves once for routing and execution). Inlined into
    /// `execute(_:)`: the one-shard path pays for no extra call or copy.
    @inline(__always)
    public func execute(_ c: Client, _ resolved: ResolvedCommand) {
        let args = c.args
        let startUs = Server.wallClockUs()
        now = startUs / 1000
        c.lastInteraction = now
        let replyMark = c.reply.out.writeIndex
        if !c.pushRanges.isEmpty { c.pushRanges.removeAll() }
        defer { applyReplyMode(c, mark: replyMark) }

        guard resolved.command != nil else {
            if resolved.failure == .unknownSubcommand {
                reject(c, nil, unknownSubcommandMessage(c))
            } else {
                reject(c, nil, unknownCommandMessage(args))
            }
            return
        }
        // Borrowed from `resolved` for the rest (a `let` binding would cost a
        // retain per request).
        admit(c, resolved.command.unsafelyUnwrapped, arityOK: resolved.arityOK, startUs: startUs)
    }

    /// The checks of processCommand between the lookup and the call: arity,
    /// permissions, MISCONF, LOADING, memory, pause, MULTI queuing.
    @inline(__always)
    private func admit(_ c: Client, _ cmd: Command, arityOK: Bool, startUs: Int64) {
        let args = c.args
        if !arityOK {
            reject(c, cmd, "ERR wrong number of arguments for '\(cmd.fullName)' command")
            return
        }
        if cmd.flags.contains(.protected), let refusal = protectedCommandRefusal(c, cmd) {
            reject(c, cmd, refusal)
            return
        }
        if config.protectDangerousCommands, let refusal = dangerousCommandRefusal(c, cmd) {
            reject(c, cmd, refusal)
            return
        }
        if !c.authenticated && !cmd.flags.contains(.noAuth) {
            reject(c, cmd, static: "NOAUTH Authentication required.")
            return
        }
        if let denied = writeDeniedMessage, cmd.flags.contains(.write) || cmd.name == "ping" {
            reject(c, cmd, denied)
            return
        }
        if c.inPubSub && c.reply.proto == 2 && !Server.allowedInSubscribedMode(cmd) {
            reject(c, cmd, "ERR Can't execute '\(cmd.fullName)': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
            return
        }
        if loading && !cmd.flags.contains(.loading) {
            reject(c, cmd, static: "LOADING Redis is loading the dataset in memory")
            return
        }
        if c.inMulti && cmd.flags.contains(.noMulti) {
            reject(c, cmd, static: "ERR Command not allowed inside a transaction")
            return
        }
        if config.maxmemoryClientsEnabled && evictClientsBeforeCommand(c) { return }
        if config.maxmemory > 0 && !checkMaxmemory(c, cmd) { return }
        if admin.pauseEndMs != 0 && pausePostpones(c, cmd) {
            // CLIENT PAUSE: the runtime keeps the command in the query buffer and runs it later.
            c.postponed = true
            return
        }
        if c.inMulti && !Server.transactionControl.contains(cmd.name) {
            c.multiQueue.append(QueuedCommand(args: args, command: cmd))
            c.reply.simple("QUEUED")
            return
        }
        call(c, cmd, startUs: startUs)
    }

    static let transactionControl: Set<String> = ["exec", "discard", "multi", "watch", "quit", "reset"]

    /// Refuses a command before it runs (Redis's rejectCommand): a transaction
    /// being queued is flagged (EXEC will answer EXECABORT), the command's
    /// `rejected_calls` counts it, and the error is the reply. Every refusal
    /// goes through here or its StaticString twin.
    public func reject(_ c: Client, _ cmd: Command?, _ message: String) {
        noteRejection(c, cmd)
        c.error(message)
    }

    public func reject(_ c: Client, _ cmd: Command?, static message: StaticString) {
        noteRejection(c, cmd)
        c.error(static: message)
    }

    @inline(__always) private func noteRejection(_ c: Client, _ cmd: Command?) {
        if c.inMulti { c.multiError = true }
        cmd?.rejectedCalls += 1
    }

    /// "ERR unknown command 'x', with args beginning with: 'a' 'b' " (each
    /// part cut to 128 bytes, as Redis).
    func unknownCommandMessage(_ args: Args) -> String {
        var rest = ""
        var i = 1
        while i < args.count && rest.utf8.count < 128 {
            let a = String(decoding: args[i], as: UTF8.self)
            rest += "'" + String(a.prefix(128 - rest.utf8.count)) + "' "
            i += 1
        }
        let name = String(String(decoding: args[0], as: UTF8.self).prefix(128))
        return "ERR unknown command '\(name)', with args beginning with: \(rest)"
    }

    /// Runs a command whose arity and permissions were checked, keeping its statistics.
    func call(_ c: Client, _ cmd: Command, startUs: Int64? = nil) {
        let errorsBefore = stats.totalErrorReplies
        // Set before running: CLIENT LIST/INFO show the running command as "cmd", as Redis.
        c.lastCommand = cmd
        let start = startUs ?? Server.wallClockUs()
        let dirtyBefore = dirty
        callDepth += 1
        cmd.handler(c)
        callDepth -= 1
        if writeStream != nil {
            propagateAfterCall(c, cmd, dirtyBefore: dirtyBefore)
            if callDepth == 0 { flushPropagation(from: c) }
        }
        if c.blockRetry {
            // A blocked command re-run because a key is ready (Blocking.swift). Its
            // call was counted when it blocked; a served retry adds time and errors.
            if !c.stillBlocked {
                unblockClient(c, requeue: true)
                cmd.microseconds += Int(Server.wallClockUs() - start)
                if stats.totalErrorReplies != errorsBefore { cmd.failedCalls += 1 }
            }
            return
        }
        if c.isInternal {
            if !c.redactedArgs.isEmpty { c.redactedArgs.removeAll() }
            if callDepth == 0 && blocking.hasReadyKeys { handleClientsBlockedOnKeys() }
            return
        }
        let elapsed = Server.wallClockUs() - start
        cmd.calls += 1
        cmd.microseconds += Int(elapsed)
        if config.latencyTracking {
            if cmd.latencyHistogram == nil { cmd.latencyHistogram = LatencyHistogram() }
            cmd.latencyHistogram.unsafelyUnwrapped.record(nanoseconds: elapsed &* 1000)
        }
        if elapsed >= config.observeFloorUs { recordSlowCommand(c, cmd, elapsed) }
        if stats.totalErrorReplies != errorsBefore { cmd.failedCalls += 1 }
        stats.totalCommandsProcessed += 1
        // Like Redis, MONITOR sees a command after it ran; admin commands are never shown.
        if !monitors.isEmpty && !cmd.flags.contains(.skipMonitor) && !cmd.flags.contains(.admin) {
            feedMonitors(c, cmd)
        }
        if !c.redactedArgs.isEmpty { c.redactedArgs.removeAll() }
        if callDepth == 0 && blocking.hasReadyKeys { handleClientsBlockedOnKeys() }
    }

    private func applyReplyMode(_ c: Client, mark: Int) {
        if c.postponed { return }
        switch c.replyMode {
        case .on: return
        case .off: truncateReplies(c, to: mark)
        case .skipNext: c.replyMode = .skip
        case .skip:
            truncateReplies(c, to: mark)
            c.replyMode = .on
        }
    }

    /// Drops the command's replies but keeps Pub/Sub pushes (Redis's CLIENT_PUSHING).
    private func truncateReplies(_ c: Client, to mark: Int) {
        if c.pushRanges.isEmpty { c.reply.out.truncate(to: mark); return }
        var kept: [UInt8] = []
        let out = c.reply.out
        for (s, e) in c.pushRanges where s >= mark && e <= out.writeIndex {
            kept += UnsafeRawBufferPointer(start: out.base + s, count: e - s)
        }
        c.pushRanges.removeAll()
        out.truncate(to: mark)
        if !kept.isEmpty { kept.withUnsafeBytes { out.append($0.baseAddress!, $0.count) } }
    }

    // MARK: keyspace access with lazy expiry

    /// Looks `key` up for reading: deletes it if expired, counts hits/misses, touches LRU/LFU
    /// (unless `touch` is false, Redis's LOOKUP_NOTOUCH); a miss publishes
    /// "keymiss" unless `notify` is false (LOOKUP_NONOTIFY).
    @inline(__always)
    public func lookupRead(_ c: Client, _ key: UnsafeRawBufferPointer, touch: Bool = true, notify: Bool = true) -> Entry? {
        let db = c.db
        let slot = db.find(key)
        if slot < 0 {
            stats.keyspaceMisses += 1
            if notify { notifyKeyspaceEvent(.keyMiss, "keymiss", key, db.index) }
            return nil
        }
        let e = db.entry(atSlot: slot)
        if e.hasExpire && e.expireAt! <= now {
            if admin.pauseEndMs == 0 || !admin.isPaused { expire(db, slot: slot) }
            stats.keyspaceMisses += 1
            if notify { notifyKeyspaceEvent(.keyMiss, "keymiss", key, db.index) }
            return nil
        }
        stats.keyspaceHits += 1
        if touch && !c.noTouch { touchEntry(e) }
        return e
    }

    /// Looks `key` up for writing: deletes it if expired; no hit/miss accounting.
    /// Touches LRU/LFU like Redis's lookupKeyWrite unless `touch` is false.
    @inline(__always)
    public func lookupWrite(_ db: Database, _ key: UnsafeRawBufferPointer, touch: Bool = true) -> Entry? {
        let slot = db.find(key)
        if slot < 0 { return nil }
        let e = db.entry(atSlot: slot)
        if e.hasExpire && e.expireAt! <= now {
            if admin.pauseEndMs == 0 || !admin.isPaused { expire(db, slot: slot) }
            return nil
        }
        if touch { touchEntry(e) }
        return e
    }

    /// True if `key` exists and is not expired (no side effects on stats or access time).
    public func exists(_ db: Database, _ key: UnsafeRawBufferPointer) -> Bool {
        lookupWrite(db, key, touch: false) != nil
    }

    /// Removes an expired key, as Redis's deleteExpiredKeyAndPropagate.
    func expire(_ db: Database, slot: Int) {
        let e = db.remove(slot: slot)
        let key = e.keyBytes
        disposeEntry(e, lazy: config.lazyfreeLazyExpire)
        stats.expiredKeys += 1
        if writeStream != nil { propagateDeletion(db: db.index, key: Array(key), lazy: config.lazyfreeLazyExpire) }
        notifyKeyspaceEvent(.expired, "expired", key, db.index)
        signalModifiedKey(db, key)
    }

    // MARK: writes

    /// Stores a string value, replacing whatever `key` held. The expire is
    /// cleared unless `keepTTL`, or set to `expireAt` when given.
    public func setString(_ db: Database, _ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer,
                          keepTTL: Bool = false, expireAt: Int64? = nil, encoding: StringEncoding? = nil) {
        let enc = encoding ?? stringEncoding(for: value)
        let slot = db.find(key)
        if slot >= 0 {
            let old = db.entry(atSlot: slot)
            let newExpire = expireAt ?? (keepTTL ? old.expireAt : nil)
            if old.typeRaw == ValueType.string.rawValue && old.valueCount == value.count
                && old.hasExpire == (newExpire != nil) {
                // Same size, same expire layout: overwrite in place.
                if value.count > 0 { old.valuePointer.copyMemory(from: value.baseAddress!, byteCount: value.count) }
                old.encodingRaw = enc.rawValue
                if let t = newExpire { old.storeExpireAt(t) }
                old.lru = accessStamp
                return
            }
            db.replace(slot: slot, with: Entry.makeString(key: key, value: value, encoding: enc,
                                                          lru: accessStamp, expireAt: newExpire))
        } else {
            db.insertNew(Entry.makeString(key: key, value: value, encoding: enc, lru: accessStamp, expireAt: expireAt))
            notifyKeyspaceEvent(.new, "new", key, db.index)
        }
    }

    public func setString(_ db: Database, _ key: UnsafeRawBufferPointer, _ value: [UInt8],
                          keepTTL: Bool = false, expireAt: Int64? = nil, encoding: StringEncoding? = nil) {
        value.withUnsafeBytes { setString(db, key, $0, keepTTL: keepTTL, expireAt: expireAt, encoding: encoding) }
    }

    /// Stores a new object value under `key` (replacing any value; expire cleared unless kept).
    public func setObject(_ db: Database, _ key: UnsafeRawBufferPointer, _ object: AnyObject, type: ValueType,
                          keepTTL: Bool = false, expireAt: Int64? = nil) {
        let slot = db.find(key)
        if slot >= 0 {
            let old = db.entry(atSlot: slot)
            let t = expireAt ?? (keepTTL ? old.expireAt : nil)
            db.replace(slot: slot, with: Entry.makeObject(key: key, object: object, type: type, lru: accessStamp, expireAt: t))
        } else {
            db.insertNew(Entry.makeObject(key: key, object: object, type: type, lru: accessStamp, expireAt: expireAt))
            notifyKeyspaceEvent(.new, "new", key, db.index)
        }
    }

    /// Deletes `key` if present (expired keys count as absent). True if a live key was deleted.
    /// The value is freed in the background if `lazy` (default: lazyfree-lazy-server-del) and big.
    @discardableResult
    public func deleteKey(_ db: Database, _ key: UnsafeRawBufferPointer, lazy: Bool? = nil) -> Bool {
        let slot = db.find(key)
        if slot < 0 { return false }
        let e = db.entry(atSlot: slot)
        if e.hasExpire && e.expireAt! <= now {
            expire(db, slot: slot)
            return false
        }
        disposeEntry(db.remove(slot: slot), lazy: lazy ?? config.lazyfreeLazyServerDel)
        return true
    }

    /// Sets (or with nil, removes) the expire of an existing key. False if the key is absent.
    @discardableResult
    public func setExpire(_ db: Database, _ key: UnsafeRawBufferPointer, _ at: Int64?) -> Bool {
        let slot = db.find(key)
        if slot < 0 { return false }
        db.setExpire(slot: slot, at)
        return true
    }

    /// Called after every change of `key` (Redis's signalModifiedKey): invalidates WATCH.
    @inline(__always)
    public func signalModifiedKey(_ db: Database, _ key: UnsafeRawBufferPointer) {
        if !watchedKeys.isEmpty { touchWatchedKey(db.index, Array(key)) }
        if blocking.keyCount != 0 { signalKeyAsReady(db.index, Array(key)) }
    }

    public func signalModifiedKey(_ db: Database, _ key: [UInt8]) {
        if !watchedKeys.isEmpty { touchWatchedKey(db.index, key) }
        if blocking.keyCount != 0 { signalKeyAsReady(db.index, key) }
    }

    /// Counts a change for persistence ("changes since last save").
    @inline(__always) public func addDirty(_ n: Int = 1) { dirty += Int64(n) }

    public enum KeyspaceEventClass { case generic, string, list, set, hash, zset, expired, evicted, stream, keyMiss, new }

    /// Keyspace notifications hook (Redis's notifyKeyspaceEvent; Notify.swift
    /// publishes). One bit test when the class is off.
    @inline(__always)
    public func notifyKeyspaceEvent(_ cls: KeyspaceEventClass, _ event: StaticString, _ key: [UInt8], _ db: Int) {
        if (config.notifyFlags | moduleEventMask) & cls.bit == 0 { return }
        key.withUnsafeBytes { notifyKeyspaceEventSlow(cls.bit, event, $0, db) }
    }

    @inline(__always)
    public func notifyKeyspaceEvent(_ cls: KeyspaceEventClass, _ event: StaticString, _ key: UnsafeRawBufferPointer, _ db: Int) {
        if (config.notifyFlags | moduleEventMask) & cls.bit == 0 { return }
        notifyKeyspaceEventSlow(cls.bit, event, key, db)
    }

    // MARK: databases

    public func database(_ i: Int) -> Database? { i >= 0 && i < databases.count ? databases[i] : nil }

    /// Empties every database; with `async` the content is freed on the lazy-free thread.
    public func flushAll(async: Bool = false) {
        for db in databases {
            touchAllWatchedKeys(in: db.index)
            if async { flushAsync(db) } else { db.removeAll() }
        }
        signalBlockedKeys()
    }

    public func flush(_ db: Database, async: Bool = false) {
        touchAllWatchedKeys(in: db.index)
        if async { flushAsync(db) } else { db.removeAll() }
        signalBlockedKeys(inDatabases: db.index)
    }

    public func swapDatabases(_ a: Int, _ b: Int) {
        touchWatchedKeysForSwap(a, b)
        databases[a].swapContents(with: databases[b])
        signalBlockedKeys(inDatabases: a, b)
    }

    // MARK: monitor

    private func feedMonitors(_ c: Client, _ cmd: Command) {
        let t = Server.wallClockUs()
        var line = "+\(t / 1_000_000).\(String(format6(t % 1_000_000))) [\(c.dbIndex) \(c.isUnixSocket ? "unix:" : "")\(c.addr)]"
        // Secrets never reach MONITOR: AUTH's arguments, HELLO's AUTH user and password,
        // and whatever the command marked in c.redactedArgs (CONFIG SET requirepass).
        var redactFrom = Int.max, redactCount = 0
        if cmd.name == "auth" { redactFrom = 1; redactCount = Int.max }
        if cmd.name == "hello" {
            for i in 2..<max(2, c.args.count) where c.args.equals(i, "auth") { redactFrom = i + 1; redactCount = 2 }
        }
        for i in 0..<c.args.count {
            if (i >= redactFrom && i - redactFrom < redactCount) || c.redactedArgs.contains(i) {
                line += " \"(redacted)\""
                continue
            }
            line += " \"" + escapeRepr(c.args[i]) + "\""
        }
        line += "\r\n"
        for m in monitors where m !== c {
            m.reply.out.append(string: line)
        }
    }

    public func addMonitor(_ c: Client) {
        c.isMonitor = true
        monitors.append(c)
    }
}

func format6(_ v: Int64) -> String {
    let s = String(v)
    return String(repeating: "0", count: max(0, 6 - s.count)) + s
}

/// Escapes bytes as Redis's sdscatrepr does, without the quotes around
/// (MONITOR's arguments, CONFIG REWRITE's strings).
func escapeRepr<Bytes: Sequence>(_ b: Bytes) -> String where Bytes.Element == UInt8 {
    var s = ""
    for c in b {
        switch c {
        case UInt8(ascii: "\\"): s += "\\\\"
        case UInt8(ascii: "\""): s += "\\\""
        case 10: s += "\\n"
        case 13: s += "\\r"
        case 9: s += "\\t"
        case 7: s += "\\a"
        case 8: s += "\\b"
        case 32...126: s.unicodeScalars.append(Unicode.Scalar(c))
        default:
            let hex = Array("0123456789abcdef")
            s += "\\x" + String(hex[Int(c >> 4)]) + String(hex[Int(c & 15)])
        }
    }
    return s
}
