// The interface between a shard's engine and the layers around it. The
// engine (this target) defines it; the layers above implement it:
//
//   ShardHost            the loop that drives the engine (ShardRuntime's
//                        ShardLoop): what only the loop can do for a client
//                        or the process.
//   ShardStage           work of a higher layer at a named point of every
//                        loop round (Persistence, plugins; replication and
//                        scripting next).
//   WriteStreamConsumer  the stream of propagated writes (the AOF; replicas
//                        next).
//   PluginEventObserver  what plugins watch (keyspace events, disconnects of
//                        clients they block).
//
// One loop round, in the order ShardLoop.pollOnce runs it:
//   1. stages' beforeSleep, wait for events (at most until the earliest of
//      the cron tick, blocked clients' deadlines and stages' wakeupDeadline),
//      stages' afterSleep
//   2. serve the events: read, parse and execute commands (replies gather in
//      each client's output buffer)
//   3. blocked clients whose deadline passed, stages' afterEvents, clients
//      the host was told were unblocked, requests forwarded to other shards
//   4. stages' beforeReplies: the AOF writes (and with appendfsync always
//      fsyncs) everything this round propagated
//   5. write the output of every client that has some, then close the
//      clients that asked to be closed
// and hz times a second the cron: expiry, server cron, stages' cron.
// Step 4 before step 5 is the durability rule: no reply to a write leaves
// before the write is in the AOF (and on disk with appendfsync always).

/// What the engine asks of the loop that drives it.
public protocol ShardHost: AnyObject {
    /// `c` has output that is not the reply to a command it sent this round
    /// (a Pub/Sub message, a served or timed-out blocked client, a reply
    /// released after an fsync, a forwarded reply): write it this round.
    func clientHasOutput(_ c: Client)
    /// `c` was unblocked: this round, go on with the commands it sent meanwhile.
    func clientUnblocked(_ c: Client)
    /// `c` is to be disconnected before the loop waits again (`c.closeASAP` is set).
    func clientClosing(_ c: Client)
    /// SHUTDOWN succeeded so far: stop the loop. False if it can't.
    func shutdownRequested(_ mode: ShutdownMode) -> Bool
    /// A long operation on the loop thread (loading a dataset) lets the loop
    /// serve clients meanwhile; they get -LOADING for most commands.
    func serveClientsWhileBlocked()
    /// First thing in a forked child: let go of what only the shard may hold
    /// (listening sockets, the epoll instance).
    func prepareForkedChild()
    /// Calls `handler` on the loop thread whenever `fd` is readable.
    func watchReadable(_ fd: Int32, _ handler: @escaping () -> Void)
    /// Stops watching `fd` (it is not closed).
    func unwatch(_ fd: Int32)
    /// Serves `fd`, a connection this shard opened to its master, as the
    /// master link: a client whose commands are the master's stream
    /// (`Client.isMasterLink`), starting with `pendingInput` already read.
    func adoptMasterLink(_ fd: Int32, pendingInput: [UInt8]) -> Client
    /// With several shards: hands a keyspace notification (channel, message)
    /// to the other shards, whose subscribers may want it.
    func relayKeyspaceEvent(channel: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer)
    /// If the supervisor is stopped (SIGSTOP), stops this shard too until it
    /// is continued: the pair behaves as the one process tools think they
    /// stopped (a replica must not acknowledge writes meanwhile).
    func followSupervisorStop()
    /// INFO fields only the loop knows (client buffer peaks); merged into
    /// their sections.
    func infoFields() -> [(String, String)]
}

/// The points of a round a stage has work at (the loop calls a stage only
/// there: an empty point costs nothing per round).
public struct ShardStagePoints: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// beforeSleep and afterSleep.
    public static let sleep = ShardStagePoints(rawValue: 1)
    public static let afterEvents = ShardStagePoints(rawValue: 2)
    public static let beforeReplies = ShardStagePoints(rawValue: 4)
    public static let cron = ShardStagePoints(rawValue: 8)
    public static let wakeupDeadline = ShardStagePoints(rawValue: 16)
}

/// Work a higher layer does at fixed points of every loop round (see the
/// round above). Stages run in the order they were added; each implements
/// only what it needs and says which points those are. A stage whose work
/// comes and goes (replication without replicas) changes its `points` and
/// calls `ShardEngine.stagePointsChanged`, so an idle point costs nothing.
public protocol ShardStage: AnyObject {
    var points: ShardStagePoints { get }
    func beforeSleep()
    func afterSleep()
    func afterEvents()
    /// After the round's commands ran, before any of their replies leave.
    func beforeReplies()
    /// hz times a second.
    func cron()
    /// The earliest time (wall clock ms) the stage needs the loop awake for.
    func wakeupDeadline() -> Int64?
    /// The INFO section the stage reports (its fields replace the engine's
    /// fields of the same name, the others are appended to the section, or
    /// form a section of their own if the name is not one of Redis's).
    var infoSection: String? { get }
    func infoFields() -> [(String, String)]
}

extension ShardStage {
    public func beforeSleep() {}
    public func afterSleep() {}
    public func afterEvents() {}
    public func beforeReplies() {}
    public func cron() {}
    public func wakeupDeadline() -> Int64? { nil }
    public var infoSection: String? { nil }
    public func infoFields() -> [(String, String)] { [] }
}

/// A consumer of the write stream (Propagation.swift): every command that
/// reproduces a change, in order, each top-level command's part at once
/// (wrapped in MULTI/EXEC when it is more than one command).
public protocol WriteStreamConsumer: AnyObject {
    func feed(_ p: PropagatedCommand)
    /// `c`'s command just fed the stream: its reply must not leave before
    /// what was fed is durable by the consumer's rules (the AOF holds it when
    /// an fsync of appendfsync always fails).
    func fed(by c: Client)
}

/// What plugins watch in the engine (PluginHost implements it).
public protocol PluginEventObserver: AnyObject {
    /// A keyspace event of a class some plugin subscribed to (`ShardEngine.moduleEventMask`).
    func keyspaceEvent(_ bit: Int32, _ event: UnsafeRawBufferPointer, _ key: UnsafeRawBufferPointer, _ db: Int)
    /// A client blocked by a plugin disconnects.
    func blockedClientDisconnected(_ c: Client)
}

/// The stages added to an engine, in order: all of them, and those with
/// work at each point (the loop walks only those).
public struct ShardStages {
    public private(set) var all: [ShardStage] = []
    public private(set) var sleep: [ShardStage] = []
    public private(set) var afterEvents: [ShardStage] = []
    public private(set) var beforeReplies: [ShardStage] = []
    public private(set) var cron: [ShardStage] = []
    public private(set) var wakeup: [ShardStage] = []

    mutating func add(_ stage: ShardStage) {
        all.append(stage)
        rebuildPoints()
    }

    /// Lists each point's stages again from their current `points`, in the
    /// order the stages were added.
    mutating func rebuildPoints() {
        sleep = all.filter { $0.points.contains(.sleep) }
        afterEvents = all.filter { $0.points.contains(.afterEvents) }
        beforeReplies = all.filter { $0.points.contains(.beforeReplies) }
        cron = all.filter { $0.points.contains(.cron) }
        wakeup = all.filter { $0.points.contains(.wakeupDeadline) }
    }
}
