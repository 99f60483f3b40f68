// What the engine needs from the replication layer (the Replication target,
// which sits above it) and what it keeps of replication itself: the role
// that changes how commands are admitted (-READONLY, -MASTERDOWN,
// -NOREPLICAS), expiry on a replica, and the commands that the layer
// answers. Without a layer (unit tests) the commands answer as a master with
// no replicas.

public protocol ReplicationControl: AnyObject {
    /// REPLICAOF / SLAVEOF host port | NO ONE. Replies itself.
    func replicaofCommand(_ c: Client)
    /// ROLE. Replies itself.
    func roleCommand(_ c: Client)
    /// PSYNC replid offset, or SYNC (`psync` false). Replies itself.
    func syncCommand(_ c: Client, psync: Bool)
    /// REPLCONF option value ... Replies itself (ACK gets no reply).
    func replconfCommand(_ c: Client)
    /// WAIT numreplicas timeout. Replies itself, now or when unblocked.
    func waitCommand(_ c: Client)
    /// FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms]. Replies itself.
    func failoverCommand(_ c: Client)
    /// The master link `c` just applied `bytes` of the master's stream (one
    /// command, or keepalive newlines): the replica's offset moves by them.
    func appliedFromMaster(_ c: Client, _ bytes: UnsafeRawBufferPointer)
    /// A replica or the master link disconnected.
    func linkClosed(_ c: Client)
    /// INFO replication, every field of Redis 7.0 in its order.
    func replicationInfo() -> [(String, String)]
}

/// The replication facts the command path reads: one flag (`gated`) unless
/// this server is a replica or lacks the replicas min-replicas-to-write asks for.
public final class ReplicationGate {
    /// This server replicates a master (Redis's server.masterhost != NULL).
    public var isReplica = false { didSet { update() } }
    /// The link to the master is up and synced (REPL_STATE_CONNECTED).
    public var masterLinkUp = false { didSet { update() } }
    /// Fewer replicas acknowledged recently than min-replicas-to-write asks for.
    public var tooFewGoodReplicas = false { didSet { update() } }
    /// Set while the master link's command runs (expired keys stay visible to it).
    public internal(set) var applyingMasterStream = false
    /// One of the above needs a look before a command runs.
    public private(set) var gated = false

    init() {}

    private func update() { gated = isReplica || tooFewGoodReplicas }
}

extension ShardEngine {
    /// The refusal replication imposes on `cmd` from `c`, in Redis's order
    /// (processCommand): -NOREPLICAS, -READONLY, -MASTERDOWN.
    func replicationRefusal(_ c: Client, _ cmd: Command) -> StaticString? {
        let gate = replicationGate
        if c.isMasterLink { return nil }
        let write = cmd.flags.contains(.write)
        if write && gate.tooFewGoodReplicas && !gate.isReplica {
            return "NOREPLICAS Not enough good replicas to write."
        }
        if gate.isReplica && write && config.replicaReadOnly {
            return "READONLY You can't write against a read only replica."
        }
        if gate.isReplica && !gate.masterLinkUp && !config.replicaServeStaleData && !cmd.flags.contains(.stale) {
            return "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
        }
        return nil
    }

    static func replicationCommands() -> [Command] {
        let admin: CommandFlags = [.admin, .noScript]
        func layer(_ c: Client) -> ReplicationControl? {
            if let r = c.engine.replication { return r }
            c.error(static: "ERR replication is not available in this process")
            return nil
        }
        func replicaof(_ name: String, _ since: String) -> Command {
            Command(name, arity: 3, flags: admin.union([.stale, .noAsyncLoading]), group: .server, since: since) { c in
                layer(c)?.replicaofCommand(c)
            }
        }
        return [
            replicaof("replicaof", "5.0.0"),
            replicaof("slaveof", "1.0.0"),
            Command("role", arity: 1, flags: [.noScript, .loading, .stale, .fast], group: .server, since: "2.8.12") { c in
                if let r = c.engine.replication { return r.roleCommand(c) }
                c.reply.array(3)
                c.reply.bulk(string: "master")
                c.reply.integer(0)
                c.reply.array(0)
            },
            Command("psync", arity: -3, flags: admin.union([.noAsyncLoading, .noMulti]), group: .server, since: "2.8.0") { c in
                layer(c)?.syncCommand(c, psync: true)
            },
            Command("sync", arity: 1, flags: admin.union([.noAsyncLoading, .noMulti]), group: .server, since: "1.0.0") { c in
                layer(c)?.syncCommand(c, psync: false)
            },
            Command("replconf", arity: -1, flags: admin.union([.loading, .stale, .allowBusy]), group: .server, since: "3.0.0") { c in
                layer(c)?.replconfCommand(c)
            },
            Command("wait", arity: 3, flags: [.noScript], group: .generic, since: "3.0.0") { c in
                if let r = c.engine.replication { return r.waitCommand(c) }
                c.reply.integer(0)
            },
            Command("failover", arity: -1, flags: admin.union(.stale), group: .server, since: "6.2.0") { c in
                layer(c)?.failoverCommand(c)
            },
        ]
    }
}
