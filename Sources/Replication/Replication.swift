// Replication of one shard, as Redis 7.0 does it (replication.c): the
// master side (PSYNC/SYNC, the backlog, the stream to replicas, WAIT,
// min-replicas-to-write; MasterSide.swift) and the replica side (REPLICAOF,
// the handshake, loading the master's RDB, applying its stream, ACKs;
// ReplicaSide.swift). Both sides share the replication identity: two ids and
// the offset, so a promoted replica's own replicas continue partially
// (PSYNC2).
//
// The layer plugs into the engine's interface: it is a ShardStage (cron,
// pumping RDB files to replicas, waking WAIT), a WriteStreamConsumer once a
// backlog exists (every propagated write, encoded once, goes to the backlog
// and every replica), the engine's ReplicationControl (the commands), and a
// SnapshotObserver of the persistence layer (a finished save is sent).

import Glibc
import CShims
import Engine
import Logging
import Persistence
import RESP

public final class Replication: ReplicationControl, ShardStage, WriteStreamConsumer, SnapshotObserver {
    let engine: ShardEngine
    let persistence: Persistence
    var logger: Logger { engine.logger }
    var config: Config { engine.config }
    var gate: ReplicationGate { engine.replicationGate }

    // MARK: identity (PSYNC2)

    /// master_replid: the history this server's offset counts in. Kept in
    /// `engine.admin`, where DEBUG CHANGE-REPL-ID changes it.
    var replid: String {
        get { engine.admin.replid }
        set { engine.admin.replid = newValue }
    }
    /// master_replid2: the previous history, valid up to `secondReplOffset`.
    var replid2: String {
        get { engine.admin.replid2 }
        set { engine.admin.replid2 = newValue }
    }
    var secondReplOffset: Int64 = -1
    /// master_repl_offset: bytes of the stream produced (a master) or applied (a replica).
    var offset: Int64 = 0
    var backlog: Backlog? = nil
    /// When the last replica left (the backlog is freed after repl-backlog-ttl).
    var noReplicasSinceMs: Int64

    // MARK: master side (MasterSide.swift)

    var replicas: [ReplicaLink] = []
    /// REPLCONF options of connections that did not ask for a sync yet.
    var handshakes: [Int64: ReplicaHandshake] = [:]
    /// The database the stream last selected; -1: the next write emits SELECT.
    var streamDB = -1
    /// A background save for replicas runs.
    var syncSaveRunning = false
    /// The diskless transfer in progress (MasterSide.swift).
    var diskless: DisklessTransfer? = nil
    /// When replicas waiting for a diskless sync get their save (repl-diskless-sync-delay).
    var disklessStartMs: Int64 = 0
    /// WAIT callers blocked until enough replicas acknowledge their offset.
    var waiting: [WaitRequest] = []
    /// Set by WAIT: ask replicas for an ACK before the loop sleeps.
    var getAckRequested = false
    var scratch: [UInt8] = []

    // MARK: replica side (ReplicaSide.swift)

    var link: MasterLink? = nil
    /// The connection to the master once synced: its commands are the stream.
    var masterClient: Client? = nil
    /// The master's id, our offset and the database its stream had selected
    /// when the link was lost: what PSYNC asks to continue from.
    var cachedMaster: (replid: String, offset: Int64, db: Int)? = nil
    /// The master sent REPLCONF GETACK: acknowledge after the command.
    var ackRequested = false
    var lastAckSentMs: Int64 = 0

    var cronTicks = 0
    /// A FAILOVER this master started (Failover.swift).
    var failover: Failover? = nil

    public init(engine: ShardEngine, persistence: Persistence) {
        self.engine = engine
        self.persistence = persistence
        noReplicasSinceMs = ShardEngine.wallClockMs()
        engine.replication = self
        engine.addStage(self)
        registeredPoints = points
        persistence.snapshotObserver = self
        // The backlog and the replicas' buffers do not count toward maxmemory (Redis's
        // freeMemoryGetNotCountedMemory): evicting would only produce more stream.
        engine.addMemoryNotCountedForEvict { [unowned self] in
            (self.backlog?.size ?? 0) + self.replicas.reduce(0) { $0 + $1.client.reply.out.readableBytes + $1.pending.count }
        }
        config.didChange.append { [unowned self] name in
            if name == "repl-backlog-size", let b = self.backlog {
                self.backlog = b.resized(to: self.backlogSize)
            }
            if name == "min-replicas-to-write" || name == "min-replicas-max-lag" {
                self.updateGoodReplicas(ShardEngine.wallClockMs())
            }
        }
        let directive = config.get("replicaof") ?? ""
        let loaded = persistence.loadedReplicationPosition
        if !directive.isEmpty {
            let parts = directive.split(separator: " ")
            becomeReplica(of: String(parts[0]), port: Int(parts[1]) ?? 6379)
            // Started as a replica: it continues from where its RDB stands, if
            // that records a position (Redis's replicationCacheMasterUsingMyself).
            cachedMaster = loaded.map { ($0.replid, $0.offset, $0.streamDB) }
            if let p = loaded {
                replid = p.replid
                offset = p.offset
            }
        } else if let p = loaded {
            // A master restarted from its RDB: its history up to the saved
            // position becomes the second id, so a replica that stood exactly
            // there (a SHUTDOWN save) continues partially, and one that had
            // received more, which this server lost, resyncs fully.
            replid2 = p.replid
            secondReplOffset = p.offset + 1
            offset = p.offset
            createBacklog()
            streamDB = -1
            // Keys that expired while the server was down are still on the replicas.
            let lazy = config.lazyfreeLazyExpire
            for (db, key) in persistence.expiredAtLoad {
                feed(PropagatedCommand(db: db, argv: [Array((lazy ? "UNLINK" : "DEL").utf8), key]))
            }
        }
        persistence.expiredAtLoad = []
        updateGoodReplicas(ShardEngine.wallClockMs())
    }

    var backlogSize: Int { Int(config.get("repl-backlog-size") ?? "") ?? 1_048_576 }
    func configInt(_ name: String) -> Int64 { Int64(config.get(name) ?? "") ?? 0 }

    // MARK: ShardStage

    /// Every round only while there is replication work: replicas, a link to
    /// a master, WAIT callers, a failover. Otherwise the cron alone.
    public var points: ShardStagePoints {
        let busy = link != nil || !replicas.isEmpty || !waiting.isEmpty || failover != nil || diskless != nil
        return busy ? [.afterEvents, .beforeReplies, .cron, .wakeupDeadline] : [.cron]
    }
    private var registeredPoints: ShardStagePoints = []

    /// Work started or ended: the loop calls the stage where it now has some.
    func activityChanged() {
        let p = points
        if p != registeredPoints {
            registeredPoints = p
            engine.stagePointsChanged()
        }
    }

    // The stage runs every round: without replicas, a link or a transfer each
    // point costs a few loads (the per-request overhead at pipeline 1).

    public func afterEvents() {
        if link != nil { pollConnecting() }
        if replicas.isEmpty { return }
        pumpRDBTransfers()
        if diskless != nil { resumeDisklessPipe() }
    }

    public func beforeReplies() {
        if failover != nil { updateFailoverStatus(ShardEngine.wallClockMs()) }
        // WAIT asked for acknowledgements: one GETACK for all of this round's callers.
        if getAckRequested {
            getAckRequested = false
            feedToReplicas(command: ["REPLCONF", "GETACK", "*"])
        }
    }

    public func wakeupDeadline() -> Int64? {
        if replicas.isEmpty && waiting.isEmpty { return nil }
        // An RDB whose socket drained: refill without waiting for the cron.
        for r in replicas where r.state == .sendingRDB && r.client.reply.out.readableBytes < Replication.rdbChunk {
            return 0
        }
        var earliest: Int64? = nil
        for w in waiting where w.deadline > 0 { earliest = min(earliest ?? w.deadline, w.deadline) }
        return earliest
    }

    public func cron() {
        cronTicks += 1
        activityChanged()
        let now = ShardEngine.wallClockMs()
        expireWaits(now)
        if disklessStartMs != 0 && now >= disklessStartMs { startSyncSave() }
        if failover != nil { updateFailoverStatus(now) }
        // The rest once a second, as Redis's replicationCron.
        if cronTicks % max(1, config.hz) != 0 { return }
        replicaCron(now)
        masterCron(now)
    }

    // MARK: identity changes

    /// A new history: a new master_replid (Redis's changeReplicationId).
    func newReplicationID() {
        replid = AdminState.randomHex(40)
    }

    /// Forgets the previous history (clearReplicationId2).
    func clearReplicationID2() {
        replid2 = String(repeating: "0", count: 40)
        secondReplOffset = -1
    }

    /// A promoted replica keeps its master's history as the second id, so
    /// the other replicas of that master can continue with it (shiftReplicationId).
    func shiftReplicationID() {
        replid2 = replid
        // The next byte this server produces is the first of the new history.
        secondReplOffset = offset + 1
        newReplicationID()
        logger.notice("Setting secondary replication ID to \(replid2), valid up to offset: \(secondReplOffset). New replication ID is \(replid)")
    }

    /// Creates the backlog (the first replica, or a replica that needs one
    /// for its own replicas) and starts consuming the write stream.
    func createBacklog() {
        guard backlog == nil else { return }
        backlog = Backlog(size: backlogSize, endOffset: offset)
        engine.writeStream.add(self)
    }

    func freeBacklog() {
        backlog = nil
        engine.writeStream.remove(self)
    }

    // MARK: WriteStreamConsumer

    public func feed(_ p: PropagatedCommand) {
        // A replica's replicas get its master's stream byte for byte (appliedFromMaster).
        if gate.isReplica { return }
        scratch.removeAll(keepingCapacity: true)
        if p.db != streamDB {
            scratch.appendCommand([Array("SELECT".utf8), decimalBytes(Int64(p.db))])
            streamDB = p.db
        }
        scratch.appendCommand(p.argv)
        scratch.withUnsafeBytes { feedBytes($0) }
    }

    /// SnapshotObserver: the position an RDB written now stands at (read by
    /// the forked child, so it is the position at the fork).
    public var replicationPosition: RDBReplicationInfo? {
        if gate.isReplica {
            guard masterClient != nil else { return nil }
            return RDBReplicationInfo(replid: replid, offset: offset, streamDB: masterClient?.dbIndex ?? 0)
        }
        guard backlog != nil else { return nil }
        return RDBReplicationInfo(replid: replid, offset: offset, streamDB: max(streamDB, 0))
    }

    public func fed(by c: Client) {
        c.replicationOffset = offset
    }

    /// Adds bytes to the stream: the backlog, then every replica.
    func feedBytes(_ bytes: UnsafeRawBufferPointer) {
        guard backlog != nil else { return }
        backlog!.append(bytes)
        offset = backlog!.endOffset
        for r in replicas {
            switch r.state {
            case .online:
                r.client.reply.out.append(bytes)
                engine.host?.clientHasOutput(r.client)
            case .waitBgsaveEnd, .sendingRDB, .streamingRDB, .waitOnlineAck:
                r.pending.append(contentsOf: bytes)
            case .waitBgsaveStart:
                break
            }
        }
    }

    /// Feeds a command that is not a write of the dataset (PING, REPLCONF GETACK): no SELECT.
    func feedToReplicas(command: [String]) {
        scratch.removeAll(keepingCapacity: true)
        scratch.appendCommand(command.map { Array($0.utf8) })
        scratch.withUnsafeBytes { feedBytes($0) }
    }

    // MARK: ReplicationControl: links, ROLE, INFO

    public func linkClosed(_ c: Client) {
        if c === masterClient {
            masterLinkLost()
        } else if let i = replicas.firstIndex(where: { $0.client === c }) {
            let r = replicas.remove(at: i)
            r.closeRDB()
            logger.notice("Connection with replica \(r.ip):\(r.listeningPort) lost.")
            if replicas.isEmpty { noReplicasSinceMs = ShardEngine.wallClockMs() }
            updateGoodReplicas(ShardEngine.wallClockMs())
        }
        handshakes[c.id] = nil
    }

    public func roleCommand(_ c: Client) {
        if let l = link {
            c.reply.array(5)
            c.reply.bulk(string: "slave")
            c.reply.bulk(string: l.host)
            c.reply.integer(Int64(l.port))
            c.reply.bulk(string: l.roleState)
            c.reply.integer(masterClient != nil ? offset : -1)
            return
        }
        c.reply.array(3)
        c.reply.bulk(string: "master")
        c.reply.integer(offset)
        let online = replicas.filter { $0.state == .online }
        c.reply.array(online.count)
        for r in online {
            c.reply.array(3)
            c.reply.bulk(string: r.ip)
            c.reply.bulk(string: String(r.listeningPort))
            c.reply.bulk(string: String(r.ackOffset))
        }
    }

    public func replicationInfo() -> [(String, String)] {
        let now = ShardEngine.wallClockMs()
        var f: [(String, String)] = []
        if let l = link {
            f.append(("role", "slave"))
            f.append(("master_host", l.host))
            f.append(("master_port", String(l.port)))
            f.append(("master_link_status", masterClient != nil ? "up" : "down"))
            let lastIO = masterClient.map { (now - $0.lastInteraction) / 1000 } ?? -1
            f.append(("master_last_io_seconds_ago", String(lastIO)))
            f.append(("master_sync_in_progress", l.state == .transfer ? "1" : "0"))
            f.append(("slave_read_repl_offset", String(offset)))
            f.append(("slave_repl_offset", String(offset)))
            f += l.syncFields(now: now)
            if masterClient == nil {
                f.append(("master_link_down_since_seconds", l.downSinceMs.map { String((now - $0) / 1000) } ?? "-1"))
            }
            f.append(("slave_priority", config.get("replica-priority") ?? "100"))
            f.append(("slave_read_only", config.replicaReadOnly ? "1" : "0"))
            f.append(("replica_announced", config.get("replica-announced") == "yes" ? "1" : "0"))
        } else {
            f.append(("role", "master"))
        }
        f.append(("connected_slaves", String(replicas.count)))
        if config.get("min-replicas-to-write") != "0" {
            f.append(("min_slaves_good_slaves", String(goodReplicaCount(now))))
        }
        for (i, r) in replicas.enumerated() {
            let lag = (now - r.ackTimeMs) / 1000
            f.append(("slave\(i)", "ip=\(r.ip),port=\(r.listeningPort),state=\(r.stateName),offset=\(r.ackOffset),lag=\(lag)"))
        }
        f += [
            ("master_failover_state", failoverStateName),
            ("master_replid", replid), ("master_replid2", replid2),
            ("master_repl_offset", String(offset)), ("second_repl_offset", String(secondReplOffset)),
            ("repl_backlog_active", backlog != nil ? "1" : "0"),
            ("repl_backlog_size", String(backlog?.size ?? backlogSize)),
            ("repl_backlog_first_byte_offset", String(backlog.map { $0.histlen > 0 ? $0.firstOffset : $0.endOffset + 1 } ?? 0)),
            ("repl_backlog_histlen", String(backlog?.histlen ?? 0)),
        ]
        return f
    }

    static let rdbChunk = 1 << 20
}
