// The master side: a connection that sends PSYNC (or SYNC) becomes a
// replica. It continues from the backlog when it can (+CONTINUE), otherwise
// it gets +FULLRESYNC, a background save, the RDB file and then the stream
// produced since the save started. REPLCONF carries its port and its ACKs;
// WAIT counts the ACKs; min-replicas-to-write refuses writes without enough
// recent ones.

import Glibc
import CShims
import Engine
import RESP

/// A WAIT caller: blocked until `needed` replicas acknowledged `offset`.
struct WaitRequest {
    weak var client: Client?
    let offset: Int64
    let needed: Int
    /// Wall clock ms; 0 = no timeout.
    let deadline: Int64
}

extension Replication {
    // MARK: PSYNC / SYNC

    public func syncCommand(_ c: Client, psync: Bool) {
        // A replica that asks again (a retried PSYNC on the same link) is ignored, as Redis.
        if c.isReplicaLink { return }
        if psync && c.args.count > 3 && c.args.equals(3, "failover") && !acceptFailoverRequest(c) { return }
        if failover != nil {
            c.error(static: "NOMASTERLINK Can't SYNC while failing over")
            return
        }
        if gate.isReplica && masterClient == nil {
            c.error(static: "NOMASTERLINK Can't SYNC while not connected with my master")
            return
        }
        if engine.cluster != nil {
            c.error(static: "ERR replication from a server with several shards or shard ports is not supported yet")
            return
        }
        if c.reply.out.readableBytes > 0 {
            c.error(static: "ERR SYNC and PSYNC are invalid with pending output")
            return
        }
        let now = ShardEngine.wallClockMs()
        if psync {
            let wantedID = c.args.string(1)
            guard let from = c.args.int64(2) else {
                c.error(static: "ERR value is not an integer or out of range")
                return
            }
            if continuePartially(c, wantedID, from, now: now) {
                engine.stats.syncPartialOk += 1
                return
            }
            if wantedID != "?" { engine.stats.syncPartialErr += 1 }
        }
        startFullSync(c, oldProtocol: !psync, now: now)
    }

    /// PSYNC replid offset: continues from the backlog if `wantedID` is this
    /// history (or the previous one, up to where it ended) and the backlog
    /// still holds `from`. Replies +CONTINUE and the missing bytes.
    private func continuePartially(_ c: Client, _ wantedID: String, _ from: Int64, now: Int64) -> Bool {
        guard let b = backlog else { return false }
        let sameHistory = wantedID == replid || (wantedID == replid2 && from <= secondReplOffset)
        guard sameHistory, b.covers(from) else {
            if sameHistory {
                logger.notice("Unable to partial resync with replica \(c.addr) for lack of backlog (Replica request was: \(from)).")
            }
            return false
        }
        let r = attach(c, state: .online, now: now)
        r.ackOffset = from - 1
        c.reply.out.append(string: "+CONTINUE \(replid)\r\n")
        let missing = b.bytes(from: from)
        c.reply.out.append(missing)
        logger.notice("Partial resynchronization request from \(c.addr) accepted. Sending \(missing.count) bytes of backlog starting from offset \(from).")
        return true
    }

    private func startFullSync(_ c: Client, oldProtocol: Bool, now: Int64) {
        engine.stats.syncFull += 1
        logger.notice("Replica \(c.addr) asks for synchronization")
        if backlog == nil {
            // A new backlog starts a new history: no replica can have this one yet.
            newReplicationID()
            clearReplicationID2()
            createBacklog()
            logger.notice("Replication backlog created, my new replication IDs are '\(replid)' and '\(replid2)'")
        }
        let r = attach(c, state: .waitBgsaveStart, now: now)
        r.oldProtocol = oldProtocol
        if syncSaveRunning && diskless == nil, let peer = replicas.first(where: { $0 !== r && $0.state == .waitBgsaveEnd }) {
            // A save to the file for replicas runs: share it, with the stream the other replica gathered since.
            r.pending = peer.pending
            beginFullSync(r, at: peer.syncOffset)
            logger.notice("Waiting for end of BGSAVE for SYNC")
        } else if persistence.childRunning {
            logger.notice("Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE for SYNC")
        } else if usesDiskless(r) && configInt("repl-diskless-sync-delay") > 0 {
            // Wait a little for more replicas to share the transfer.
            if disklessStartMs == 0 { disklessStartMs = now + configInt("repl-diskless-sync-delay") * 1000 }
            let maxReplicas = configInt("repl-diskless-sync-max-replicas")
            if maxReplicas > 0 && replicas.filter({ $0.state == .waitBgsaveStart }).count >= maxReplicas { startSyncSave() }
        } else {
            startSyncSave()
        }
    }

    /// repl-diskless-sync, for a replica that reads EOF-framed payloads.
    func usesDiskless(_ r: ReplicaLink) -> Bool {
        config.get("repl-diskless-sync") == "yes" && r.capaEOF && !r.oldProtocol
    }

    /// Makes `c` a replica of this server.
    private func attach(_ c: Client, state: ReplicaLink.State, now: Int64) -> ReplicaLink {
        let r = ReplicaLink(client: c, state: state, now: now)
        if let h = handshakes.removeValue(forKey: c.id) {
            r.listeningPort = h.port
            r.announcedIP = h.ip
            r.capaEOF = h.capaEOF
        }
        c.isReplicaLink = true
        c.replyMode = .on
        replicas.append(r)
        activityChanged()
        return r
    }

    /// +FULLRESYNC: the replica's stream starts after `at`.
    func beginFullSync(_ r: ReplicaLink, at: Int64) {
        r.syncOffset = at
        r.state = .waitBgsaveEnd
        if !r.oldProtocol { r.client.reply.out.append(string: "+FULLRESYNC \(replid) \(at)\r\n") }
        engine.host?.clientHasOutput(r.client)
    }

    /// Forks the save every replica waiting to start gets: streamed to them
    /// (diskless) when all of them read EOF-framed payloads, else the file.
    func startSyncSave() {
        let waitingStart = replicas.filter { $0.state == .waitBgsaveStart }
        guard !waitingStart.isEmpty, !persistence.childRunning, diskless == nil else { return }
        disklessStartMs = 0
        if waitingStart.allSatisfy(usesDiskless) {
            startDisklessSave(waitingStart)
            return
        }
        logger.notice("Starting BGSAVE for SYNC with target: disk")
        guard persistence.bgsaveForReplication() else {
            logger.warning("BGSAVE for replication failed")
            for r in waitingStart {
                r.client.error(static: "ERR BGSAVE failed, replication can't continue")
                engine.closeClientAsap(r.client)
            }
            return
        }
        syncSaveRunning = true
        // The replicas load a snapshot without a SELECT: the stream names its database again.
        streamDB = -1
        for r in waitingStart { beginFullSync(r, at: offset) }
    }

    // MARK: SnapshotObserver

    public func snapshotFinished(ok: Bool) {
        if let d = diskless {
            d.childOK = ok
            finishDisklessIfDone(d)
        } else if syncSaveRunning {
            syncSaveRunning = false
            for r in replicas where r.state == .waitBgsaveEnd {
                if ok, startSendingRDB(r) { continue }
                logger.warning("SYNC failed. BGSAVE child returned an error")
                engine.closeClientAsap(r.client)
            }
        }
        // Replicas that arrived while another child ran.
        startSyncSave()
    }

    private func startSendingRDB(_ r: ReplicaLink) -> Bool {
        let fd = open(persistence.rdbPath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            logger.warning("SYNC failed. Can't open the RDB file: \(String(cString: strerror(ts_errno())))")
            return false
        }
        var st = stat()
        fstat(fd, &st)
        r.rdbFD = fd
        r.rdbSize = Int(st.st_size)
        r.rdbQueued = 0
        r.state = .sendingRDB
        r.client.reply.out.append(string: "$\(r.rdbSize)\r\n")
        engine.host?.clientHasOutput(r.client)
        return true
    }

    /// Tops up the output of replicas receiving their RDB, a chunk at a time
    /// so a large file never sits in memory; then their gathered stream.
    func pumpRDBTransfers() {
        for r in replicas where r.state == .sendingRDB {
            let out = r.client.reply.out
            while out.readableBytes < Replication.rdbChunk && r.rdbQueued < r.rdbSize {
                let want = min(256 * 1024, r.rdbSize - r.rdbQueued)
                out.reserve(want)
                let n = read(r.rdbFD, out.base + out.writeIndex, want)
                if n <= 0 {
                    logger.warning("Read error sending DB to replica: \(n < 0 ? String(cString: strerror(ts_errno())) : "file shrank")")
                    r.closeRDB()
                    engine.closeClientAsap(r.client)
                    break
                }
                out.writeIndex += n
                r.rdbQueued += n
            }
            if r.rdbFD >= 0 && r.rdbQueued == r.rdbSize {
                r.closeRDB()
                putOnline(r)
            }
            engine.host?.clientHasOutput(r.client)
        }
    }

    /// The replica has its RDB: the stream gathered since follows, then the live stream.
    func putOnline(_ r: ReplicaLink) {
        r.client.reply.out.append(r.pending)
        r.pending = []
        r.state = .online
        r.ackTimeMs = ShardEngine.wallClockMs()
        engine.host?.clientHasOutput(r.client)
        logger.notice("Synchronization with replica \(r.ip):\(r.listeningPort) succeeded")
    }

    // MARK: REPLCONF

    public func replconfCommand(_ c: Client) {
        let a = c.args
        guard a.count % 2 == 1 else { c.syntaxError(); return }
        var i = 1
        while i < a.count {
            let value = a.string(i + 1)
            if a.equals(i, "listening-port") {
                guard let port = Int(value) else { c.error(static: "ERR value is not an integer or out of range"); return }
                handshakes[c.id, default: ReplicaHandshake()].port = port
                replicaLink(c)?.listeningPort = port
            } else if a.equals(i, "ip-address") {
                handshakes[c.id, default: ReplicaHandshake()].ip = value
                replicaLink(c)?.announcedIP = value
            } else if a.equals(i, "capa") {
                if a.equals(i + 1, "eof") {
                    handshakes[c.id, default: ReplicaHandshake()].capaEOF = true
                    replicaLink(c)?.capaEOF = true
                }
            } else if a.equals(i, "rdb-only") || a.equals(i, "rdb-filter-only") {
                // Options of redis-cli --rdb; a full sync here always includes the stream.
            } else if a.equals(i, "ack") {
                // Replicas' acknowledgements get no reply.
                guard let r = replicaLink(c), let off = a.int64(i + 1) else { return }
                if off > r.ackOffset { r.ackOffset = off }
                r.ackTimeMs = ShardEngine.wallClockMs()
                if r.state == .waitOnlineAck { putOnline(r) }
                wakeWaiters()
                return
            } else if a.equals(i, "getack") {
                if c.isMasterLink { ackRequested = true }
                return
            } else {
                c.error("ERR Unrecognized REPLCONF option: \(a.string(i))")
                return
            }
            i += 2
        }
        c.reply.ok()
    }

    func replicaLink(_ c: Client) -> ReplicaLink? {
        c.isReplicaLink ? replicas.first { $0.client === c } : nil
    }

    // MARK: WAIT

    public func waitCommand(_ c: Client) {
        if gate.isReplica {
            c.error(static: "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.")
            return
        }
        guard let needed = c.args.int64(1) else { c.error(static: "ERR value is not an integer or out of range"); return }
        guard let timeout = c.args.int64(2) else { c.error(static: "ERR timeout is not an integer or out of range"); return }
        guard timeout >= 0 else { c.error(static: "ERR timeout is negative"); return }
        let target = c.replicationOffset
        let acked = ackedCount(target)
        if acked >= needed || c.inMulti || c.denyBlocking {
            c.reply.integer(Int64(acked))
            return
        }
        let deadline = timeout > 0 ? ShardEngine.wallClockMs() + timeout : 0
        waiting.append(WaitRequest(client: c, offset: target, needed: Int(needed), deadline: deadline))
        engine.blockForKeys(c, keys: [], deadline: 0, timeoutReply: .custom({ _ in })) { _ in false }
        getAckRequested = true
        activityChanged()
    }

    func ackedCount(_ target: Int64) -> Int {
        replicas.reduce(0) { $0 + ($1.state == .online && $1.ackOffset >= target ? 1 : 0) }
    }

    /// Answers the WAIT callers whose replicas acknowledged enough.
    func wakeWaiters() {
        guard !waiting.isEmpty else { return }
        waiting.removeAll { w in
            let acked = ackedCount(w.offset)
            guard acked >= w.needed else { return false }
            finishWait(w, acked)
            return true
        }
    }

    func expireWaits(_ now: Int64) {
        guard !waiting.isEmpty else { return }
        waiting.removeAll { w in
            guard let c = w.client, !c.closeASAP, c.blocked != nil else { return true }
            guard w.deadline > 0 && now >= w.deadline else { return false }
            finishWait(w, ackedCount(w.offset))
            return true
        }
    }

    private func finishWait(_ w: WaitRequest, _ acked: Int) {
        guard let c = w.client, c.blocked != nil else { return }
        c.reply.integer(Int64(acked))
        engine.endBlock(c)
    }

    // MARK: cron

    /// Pings, keepalives, timeouts, min-replicas and the backlog's time to live.
    func masterCron(_ now: Int64) {
        if !gate.isReplica && !replicas.isEmpty && cronSeconds % max(1, configInt("repl-ping-replica-period")) == 0 {
            feedToReplicas(command: ["PING"])
        }
        // Replicas waiting for their RDB get newlines, so their read timeout does not fire.
        for r in replicas where r.state == .waitBgsaveStart || r.state == .waitBgsaveEnd {
            r.client.reply.out.append(UInt8(ascii: "\n"))
            engine.host?.clientHasOutput(r.client)
        }
        let timeoutMs = configInt("repl-timeout") * 1000
        for r in replicas where (r.state == .online || r.state == .waitOnlineAck) && now - r.ackTimeMs > timeoutMs && !r.client.closeASAP {
            logger.warning("Disconnecting timedout replica (streaming sync): \(r.ip):\(r.listeningPort)")
            engine.closeClientAsap(r.client)
        }
        // Replicas that arrived while a child ran (startSyncSave waits for none to run).
        if disklessStartMs == 0 { startSyncSave() }
        let ttl = configInt("repl-backlog-ttl") * 1000
        if backlog != nil && replicas.isEmpty && !gate.isReplica && ttl > 0 && now - noReplicasSinceMs > ttl {
            // A later replica cannot continue this history anyway: a new id.
            newReplicationID()
            clearReplicationID2()
            freeBacklog()
            logger.notice("Replication backlog freed after \(ttl / 1000) seconds without connected replicas.")
        }
        updateGoodReplicas(now)
    }

    var cronSeconds: Int64 { Int64(cronTicks / max(1, config.hz)) }

    func goodReplicaCount(_ now: Int64) -> Int {
        let maxLag = configInt("min-replicas-max-lag") * 1000
        return replicas.reduce(0) { $0 + ($1.state == .online && now - $1.ackTimeMs <= maxLag ? 1 : 0) }
    }

    /// min-replicas-to-write: writes are refused while fewer replicas than
    /// that acknowledged within min-replicas-max-lag seconds.
    func updateGoodReplicas(_ now: Int64) {
        let minReplicas = configInt("min-replicas-to-write")
        let maxLag = configInt("min-replicas-max-lag")
        gate.tooFewGoodReplicas = !gate.isReplica && minReplicas > 0 && maxLag > 0
            && goodReplicaCount(now) < minReplicas
    }

    /// Drops every replica (this server's history changed; they reconnect
    /// and continue with the new id where they can).
    func disconnectReplicas() {
        for r in replicas { engine.closeClientAsap(r.client) }
    }
}
