// A client connection's state as the engine sees it: selected database,
// protocol version, transaction and WATCH state, reply buffer. The socket
// itself belongs to the shard runtime.

import RESP

public final class Client {
    public let id: Int64
    public unowned let engine: ShardEngine
    public let reply: ReplyEncoder
    public var db: Database
    /// Arguments of the command being executed.
    public var args: Args
    public var name: [UInt8]? = nil
    /// The supervisor's link: its commands (liveness PINGs, metrics scrapes) stay out
    /// of commandstats, latencystats, SLOWLOG, MONITOR and the traffic counters.
    public var isInternal = false
    public var authenticated: Bool
    public var user: String = "default"

    // Identity and bookkeeping for CLIENT LIST / INFO.
    public var fd: Int32 = -1
    public var addr = "?:0"
    public var laddr = "?:0"
    public let createdAt: Int64
    public var lastInteraction: Int64
    public var lastCommand: Command? = nil
    public var lastCommandName: String { lastCommand?.fullName ?? "NULL" }
    public var isUnixSocket = false

    // Transactions.
    public var inMulti = false
    var multiQueue: [QueuedCommand] = []
    var multiError = false
    /// Set when a watched key changed: EXEC will abort.
    public var dirtyCAS = false
    var watchedKeys: [WatchedKey] = []
    /// How this connection's commands are routed when the keyspace spans shards.
    public var routing: ClientRouting = .forwarding

    public enum ReplyMode { case on, off, skip, skipNext }
    public var replyMode: ReplyMode = .on
    public var noEvict = false
    public var noTouch = false
    public var isMonitor = false
    /// How the running command is propagated instead of its own arguments
    /// ([] = not at all); see Propagation.swift.
    var propagationOverride: [[UInt8]]? = nil
    /// Replies must not be written yet: the writes behind them are not
    /// durable (set and cleared only by the write stream's consumer, the AOF).
    public var replyHeld = false
    /// Arguments MONITOR must not show (passwords), cleared after each command.
    public var redactedArgs: [Int] = []

    /// Held by CLIENT PAUSE: the command stays in the query buffer until the pause ends.
    public var postponed = false
    /// A replica of this server (Redis's CLIENT_SLAVE), set by the replication
    /// layer when the connection asks for a sync.
    public var isReplicaLink = false
    /// This replica's link to its master (CLIENT_MASTER): its commands are the
    /// master's write stream, applied without replies or write refusals.
    public var isMasterLink = false
    /// The replication offset just after this client's last write reached the
    /// stream (WAIT counts the replicas that acknowledged it).
    public var replicationOffset: Int64 = 0
    /// Redis's client type, which picks the client-output-buffer-limit class
    /// and CLIENT LIST/KILL TYPE.
    public var clientClass: ClientClass {
        if isMasterLink { return .master }
        if isReplicaLink { return .replica }
        return inPubSub ? .pubsub : .normal
    }

    /// Close once pending replies are written (QUIT, protocol errors).
    public var closeAfterReply = false
    /// Close as soon as possible, replies dropped (CLIENT KILL).
    public var closeASAP = false

    // Pub/Sub (PubSub.swift): subscriptions, allocated on the first SUBSCRIBE.
    var subscriptions: ClientSubscriptions? = nil
    /// Redis's CLIENT_PUBSUB: subscribed to something (RESP2 allows only a few commands then).
    public internal(set) var inPubSub = false
    /// When the reply buffer went over the soft output limit (0: it is under).
    var obufSoftLimitSince: Int64 = 0
    /// Pub/Sub pushes written during this client's own command while its
    /// replies are silenced (CLIENT REPLY OFF/SKIP): they are kept.
    var pushRanges: [(Int, Int)] = []

    // Blocking commands (Blocking.swift).
    /// What the client waits for while blocked (BLPOP...); nil otherwise.
    public internal(set) var blocked: BlockState? = nil
    /// Redis's CLIENT_DENY_BLOCKING: blocking commands time out at once (inside EXEC).
    public var denyBlocking = false
    /// Set while a blocked command is re-run because one of its keys is ready.
    var blockRetry = false
    /// Set by blockForKeys during such a retry: nothing to serve yet.
    var stillBlocked = false

    /// Query/reply buffer sizes as last seen by the runtime (CLIENT LIST).
    public var queryBufferSize = 0
    public var queryBufferPeak = 0
    public var queryBufferCapacity = 0
    public var replyBufferSize: () -> Int = { 0 }

    static let emptySpans: UnsafeMutableBufferPointer<ArgSpan> = .allocate(capacity: 0)

    init(id: Int64, engine: ShardEngine, reply: ReplyEncoder, authenticated: Bool, now: Int64) {
        self.id = id
        self.engine = engine
        self.reply = reply
        self.db = engine.databases[0]
        self.authenticated = authenticated
        self.createdAt = now
        self.lastInteraction = now
        self.args = Args(base: UnsafeRawPointer(bitPattern: 8)!, spans: UnsafeBufferPointer(Client.emptySpans))
    }

    @inline(__always) public var dbIndex: Int { db.index }

    /// Writes an error reply and counts it in errorstats.
    public func error(_ message: String) {
        engine.stats.countError(message)
        reply.error(message)
    }

    @inline(__always) public func error(static message: StaticString) {
        engine.stats.countError(message)
        reply.error(static: message)
    }

    public func wrongType() { error(static: "WRONGTYPE Operation against a key holding the wrong kind of value") }
    public func syntaxError() { error(static: "ERR syntax error") }
    public func notInteger() { error(static: "ERR value is not an integer or out of range") }
    public func notFloat() { error(static: "ERR value is not a valid float") }
    public func wrongArity() {
        error("ERR wrong number of arguments for '\(String(decoding: args[0], as: UTF8.self).lowercased())' command")
    }

    /// The integer argument `i`, or an error reply (and nil).
    public func intArg(_ i: Int) -> Int64? {
        if let v = args.int64(i) { return v }
        notInteger()
        return nil
    }

    /// The float argument `i`, or an error reply (and nil).
    public func doubleArg(_ i: Int) -> Double? {
        if let v = args.double(i) { return v }
        notFloat()
        return nil
    }

    public var displayName: String { name.map { String(decoding: $0, as: UTF8.self) } ?? "" }
}

/// A command queued by MULTI: its arguments copied out of the query buffer.
struct QueuedCommand {
    var bytes: [UInt8]
    var spans: [ArgSpan]
    let command: Command

    init(args: Args, command: Command) {
        var total = 0
        for i in 0..<args.count { total += args.spans[i].count }
        bytes = []
        bytes.reserveCapacity(total)
        spans = []
        spans.reserveCapacity(args.count)
        for i in 0..<args.count {
            spans.append(ArgSpan(offset: bytes.count, count: args.spans[i].count))
            bytes.append(contentsOf: args[i])
        }
        self.command = command
    }
}
