// The replica side: REPLICAOF, connecting to the master, the handshake as
// Redis 7.0 does it (PING, AUTH, REPLCONF listening-port / ip-address /
// capa, PSYNC), receiving and loading the RDB of a full sync, then serving
// the connection as the master link, whose commands are the stream: each
// applied command moves the offset and is passed on byte for byte to this
// replica's own replicas and backlog. ACKs go to the master every second and
// when it asks (REPLCONF GETACK).

import Glibc
import CShims
import Engine
import Persistence
import RESP

extension Replication {
    // MARK: REPLICAOF

    public func replicaofCommand(_ c: Client) {
        if c.isReplicaLink {
            c.error(static: "ERR Command is not valid when client is a replica.")
            return
        }
        if engine.cluster != nil {
            c.error(static: "ERR REPLICAOF is not supported yet with several shards or shard ports")
            return
        }
        if failover != nil {
            c.error(static: "ERR REPLICAOF not allowed while failing over.")
            return
        }
        let by = "user request from 'id=\(c.id) addr=\(c.addr) laddr=\(c.laddr) fd=\(c.fd) name=\(String(decoding: c.name ?? [], as: UTF8.self))'"
        if c.args.equals(1, "no") && c.args.equals(2, "one") {
            if gate.isReplica {
                becomeMaster()
                logger.notice("MASTER MODE enabled (\(by))")
            }
            c.reply.ok()
            return
        }
        guard let port = c.args.int64(2), port >= 0 && port <= 65535 else { c.error(static: "ERR Invalid master port"); return }
        let host = c.args.string(1)
        if let l = link, l.host.lowercased() == host.lowercased(), l.port == Int(port) {
            logger.notice("REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.")
            c.reply.simple(string: "OK Already connected to specified master")
            return
        }
        becomeReplica(of: host, port: Int(port))
        logger.notice("REPLICAOF \(host):\(port) enabled (\(by))")
        c.reply.ok()
    }

    /// Starts replicating `host:port` (REPLICAOF, or the replicaof directive).
    func becomeReplica(of host: String, port: Int) {
        if let l = link {
            // Switching masters: what was applied so far is what the next PSYNC asks to continue.
            if let mc = masterClient { cachedMaster = (replid, offset, mc.dbIndex) }
            dropLink(l)
        } else {
            // A master becoming a replica: its own history is what it can
            // continue from if the new master shares it (PSYNC2).
            cachedMaster = (replid, offset, max(streamDB, 0))
        }
        disconnectReplicas()
        engine.disconnectAllBlockedClients()
        link = MasterLink(host: host, port: port, now: ShardEngine.wallClockMs())
        // CONFIG REWRITE keeps the role across a restart.
        try? config.set("replicaof", "\(host) \(port)")
        gate.isReplica = true
        gate.masterLinkUp = false
        updateGoodReplicas(ShardEngine.wallClockMs())
        activityChanged()
        connectToMaster()
    }

    /// REPLICAOF NO ONE: keeps the data, starts a new history that
    /// remembers the master's (so its other replicas can continue with this server).
    func becomeMaster() {
        guard let l = link else { return }
        dropLink(l)
        link = nil
        cachedMaster = nil
        try? config.set("replicaof", "")
        shiftReplicationID()
        disconnectReplicas()
        gate.isReplica = false
        gate.masterLinkUp = false
        streamDB = -1
        createBacklog()
    }

    /// Ends the link whatever its state.
    private func dropLink(_ l: MasterLink) {
        if let mc = masterClient {
            masterClient = nil
            engine.closeClientAsap(mc)
        }
        l.abandon(watchedBy: engine.host)
    }

    /// The master link closed: keep the master's id and the offset reached,
    /// so the next PSYNC can continue.
    func masterLinkLost() {
        cachedMaster = (replid, offset, masterClient?.dbIndex ?? 0)
        masterClient = nil
        gate.masterLinkUp = false
        guard let l = link else { return }
        l.state = .connect
        l.fd = -1
        l.downSinceMs = ShardEngine.wallClockMs()
        logger.notice("Connection with master lost.")
        logger.notice("* Caching the disconnected master state.")
    }

    // MARK: connecting and the handshake

    func connectToMaster() {
        guard let l = link, l.state == .connect else { return }
        let now = ShardEngine.wallClockMs()
        logger.notice("Connecting to MASTER \(l.host):\(l.port)")
        let fd = ts_connect_tcp(l.host, Int32(l.port))
        guard fd >= 0 else {
            logger.warning("Unable to connect to MASTER: \(String(cString: strerror(-fd)))")
            return
        }
        l.fd = fd
        l.state = .connecting
        l.sinceMs = now
        logger.notice("MASTER <-> REPLICA sync started")
    }

    /// A non-blocking connect finished: start the handshake with PING.
    func checkConnected(_ l: MasterLink) {
        let r = ts_connect_result(l.fd)
        if r == 0 { return }
        if r < 0 {
            logger.warning("Error condition on socket for SYNC: \(String(cString: strerror(-r)))")
            failHandshake(l)
            return
        }
        logger.notice("Non blocking connect for SYNC fired the event.")
        l.state = .handshake
        l.sinceMs = ShardEngine.wallClockMs()
        engine.host?.watchReadable(l.fd) { [unowned self, unowned l] in self.masterReadable(l) }
        send(l, [["PING"]])
        l.expected = [.pong]
    }

    private func send(_ l: MasterLink, _ commands: [[String]]) {
        var bytes: [UInt8] = []
        for argv in commands { bytes.appendCommand(argv.map { Array($0.utf8) }) }
        let n = bytes.withUnsafeBytes { write(l.fd, $0.baseAddress, $0.count) }
        if n != bytes.count {
            logger.warning("Error writing to MASTER during the handshake: \(String(cString: strerror(ts_errno())))")
            failHandshake(l)
        }
    }

    /// The handshake or transfer failed: close, retry from the cron.
    func failHandshake(_ l: MasterLink) {
        l.abandon(watchedBy: engine.host)
        l.state = .connect
    }

    /// The master's socket is readable (before it is the master link client).
    func masterReadable(_ l: MasterLink) {
        var buf = [UInt8](repeating: 0, count: 64 * 1024)
        let n = buf.withUnsafeMutableBytes { read(l.fd, $0.baseAddress, $0.count) }
        if n == 0 || (n < 0 && ts_errno() != EAGAIN && ts_errno() != EINTR) {
            logger.warning(l.state == .transfer ? "I/O error trying to sync with MASTER: connection lost"
                                                : "Master closed the connection during the handshake")
            failHandshake(l)
            return
        }
        if n < 0 { return }
        l.lastIOMs = ShardEngine.wallClockMs()
        engine.stats.netReplInputBytes += n
        l.input.append(contentsOf: buf[0..<n])
        if l.state == .handshake { handshakeReplies(l) }
        if l.state == .transfer { receivePayload(l) }
    }

    /// Consumes the handshake's reply lines in order.
    private func handshakeReplies(_ l: MasterLink) {
        while l.state == .handshake, let line = takeLine(l) {
            guard !l.expected.isEmpty else { return }
            // Empty lines are keepalives a master sends while it prepares the reply to PSYNC.
            if line.isEmpty { continue }
            let step = l.expected.removeFirst()
            let isError = line.hasPrefix("-")
            switch step {
            case .pong:
                // -NOAUTH/-NOPERM: the master wants AUTH, which comes next.
                if isError && !line.hasPrefix("-NOAUTH") && !line.hasPrefix("-NOPERM") && !line.hasPrefix("-ERR operation not permitted") {
                    logger.warning("Error reply to PING from master: '\(line)'")
                    return failHandshake(l)
                }
                logger.notice("Master replied to PING, replication can continue...")
                sendHandshake(l)
            case .auth:
                if isError { logger.warning("Unable to AUTH to MASTER: \(line)"); return failHandshake(l) }
            case .listeningPort:
                if isError { logger.notice("(Non critical) Master does not understand REPLCONF listening-port: \(line)") }
            case .ipAddress:
                if isError { logger.warning("Master does not understand REPLCONF ip-address: \(line)"); return failHandshake(l) }
            case .capa:
                if isError { logger.notice("(Non critical) Master does not understand REPLCONF capa: \(line)") }
                // PSYNC only once the other replies are read: a master refuses it with output pending.
                sendPsync(l)
            case .psync:
                psyncReply(l, line)
            }
        }
    }

    private func sendHandshake(_ l: MasterLink) {
        var commands: [[String]] = []
        let pass = config.get("masterauth") ?? ""
        if !pass.isEmpty {
            let user = config.get("masteruser") ?? ""
            commands.append(user.isEmpty ? ["AUTH", pass] : ["AUTH", user, pass])
            l.expected.append(.auth)
        }
        let announcedPort = configInt("replica-announce-port")
        commands.append(["REPLCONF", "listening-port", String(announcedPort > 0 ? Int(announcedPort) : engine.port)])
        l.expected.append(.listeningPort)
        if let ip = config.get("replica-announce-ip"), !ip.isEmpty {
            commands.append(["REPLCONF", "ip-address", ip])
            l.expected.append(.ipAddress)
        }
        commands.append(["REPLCONF", "capa", "eof", "capa", "psync2"])
        l.expected.append(.capa)
        send(l, commands)
    }

    private func sendPsync(_ l: MasterLink) {
        var commands: [[String]] = []
        var psync: [String]
        if let cm = cachedMaster {
            logger.notice("Trying a partial resynchronization (request \(cm.replid):\(cm.offset + 1)).")
            psync = ["PSYNC", cm.replid, String(cm.offset + 1)]
        } else {
            logger.notice("Partial resynchronization not possible (no cached master)")
            psync = ["PSYNC", "?", "-1"]
        }
        // A master handing over its role (FAILOVER) asks the target to take it.
        if failover?.inProgress == true { psync.append("FAILOVER") }
        commands.append(psync)
        l.expected.append(.psync)
        send(l, commands)
    }

    private func psyncReply(_ l: MasterLink, _ line: String) {
        if line.hasPrefix("+FULLRESYNC") {
            let parts = line.split(separator: " ")
            guard parts.count == 3, let off = Int64(parts[2]) else {
                logger.warning("Master replied with wrong +FULLRESYNC syntax.")
                return failHandshake(l)
            }
            l.syncID = String(parts[1])
            l.syncOffset = off
            logger.notice("Full resync from master: \(l.syncID):\(off)")
            cachedMaster = nil
            failoverSucceeded()
            beginTransfer(l)
        } else if line.hasPrefix("+CONTINUE") {
            logger.notice("Successful partial resynchronization with master.")
            failoverSucceeded()
            let newID = line.split(separator: " ").dropFirst().first.map(String.init)
            if let id = newID, id.count == 40, id != cachedMaster?.replid {
                // The master changed history (it was promoted): ours continues as the second id.
                replid2 = cachedMaster?.replid ?? replid
                secondReplOffset = offset + 1
                replid = id
                logger.notice("Master replication ID changed to \(id)")
                disconnectReplicas()
            } else if let cm = cachedMaster {
                replid = cm.replid
            }
            offset = cachedMaster?.offset ?? offset
            let db = cachedMaster?.db ?? 0
            cachedMaster = nil
            logger.notice("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.")
            attachMasterClient(l, pending: l.input)
            // The stream goes on in the database it had selected.
            if let mc = masterClient { _ = engine.setClientDatabase(mc, db) }
        } else if failover?.inProgress == true {
            logger.warning("Unexpected reply to PSYNC from master: \(line)")
            abortFailover("Failover target rejected psync request")
        } else if line.hasPrefix("-NOMASTERLINK") || line.hasPrefix("-LOADING") {
            logger.notice("Master is currently unable to PSYNC but should be in the future: \(line)")
            failHandshake(l)
        } else {
            logger.warning("Unexpected reply to PSYNC from master: \(line)")
            failHandshake(l)
        }
    }

    /// One "\r\n"-terminated line from the input, without the terminator.
    private func takeLine(_ l: MasterLink) -> String? {
        guard let nl = l.input.firstIndex(of: 10) else { return nil }
        var end = nl
        if end > 0 && l.input[end - 1] == 13 { end -= 1 }
        let line = String(decoding: l.input[0..<end], as: UTF8.self)
        l.input.removeFirst(nl + 1)
        return line
    }

    // MARK: the RDB payload of a full sync

    private func beginTransfer(_ l: MasterLink) {
        l.tempName = "temp-\(ShardEngine.wallClockMs() / 1000).\(getpid()).rdb"
        l.fileFD = open(l.tempName, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard l.fileFD >= 0 else {
            logger.warning("Opening the temp file needed for MASTER <-> REPLICA synchronization: \(String(cString: strerror(ts_errno())))")
            return failHandshake(l)
        }
        l.state = .transfer
        l.transferSize = -1
        l.transferRead = 0
        l.eofMark = nil
        l.sinceMs = ShardEngine.wallClockMs()
    }

    /// Writes payload bytes to the temp file; loads it once complete.
    private func receivePayload(_ l: MasterLink) {
        if l.transferSize < 0 && l.eofMark == nil {
            // Newlines are the master's keepalive while it prepares the RDB.
            while l.input.first == 10 { l.input.removeFirst() }
            guard let line = takeLine(l) else { return }
            if line.hasPrefix("-") {
                logger.warning("MASTER aborted replication with an error: \(line)")
                return failHandshake(l)
            }
            guard line.hasPrefix("$") else {
                logger.warning("Bad protocol from MASTER, the first byte is not '$' (we received '\(line)'), are you sure the host and port are right?")
                return failHandshake(l)
            }
            if line.hasPrefix("$EOF:") && line.utf8.count == 45 {
                l.eofMark = Array(line.utf8.dropFirst(5))
                l.transferSize = 0
                logger.notice("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk")
            } else if let size = Int64(line.dropFirst()), size >= 0 {
                l.transferSize = size
                logger.notice("MASTER <-> REPLICA sync: receiving \(size) bytes from master to disk")
            } else {
                logger.warning("Bad protocol from MASTER: '\(line)'")
                return failHandshake(l)
            }
        }
        var take = l.input.count
        if l.eofMark == nil { take = min(take, Int(l.transferSize - l.transferRead)) }
        if take > 0 {
            let written = l.input.withUnsafeBytes { write(l.fileFD, $0.baseAddress, take) }
            guard written == take else {
                logger.warning("Write error or short write writing to the DB dump file needed for MASTER <-> REPLICA synchronization: \(String(cString: strerror(ts_errno())))")
                return failHandshake(l)
            }
            l.transferRead += Int64(take)
            l.input.removeFirst(take)
        }
        if let mark = l.eofMark {
            // The payload ends with the 40-byte mark (nothing follows it before our first ACK).
            guard l.transferRead >= 40, markAtEnd(l, mark) else { return }
            l.transferRead -= 40
            ftruncate(l.fileFD, off_t(l.transferRead))
        } else if l.transferRead < l.transferSize {
            return
        }
        finishFullSync(l)
    }

    private func markAtEnd(_ l: MasterLink, _ mark: [UInt8]) -> Bool {
        var tail = [UInt8](repeating: 0, count: 40)
        let n = tail.withUnsafeMutableBytes { pread(l.fileFD, $0.baseAddress, 40, off_t(l.transferRead - 40)) }
        return n == 40 && tail == mark
    }

    private func finishFullSync(_ l: MasterLink) {
        if fsync(l.fileFD) != 0 {
            logger.warning("Failed trying to sync the temp DB to disk in MASTER <-> REPLICA synchronization: \(String(cString: strerror(ts_errno())))")
            return failHandshake(l)
        }
        close(l.fileFD)
        l.fileFD = -1
        engine.host?.unwatch(l.fd)
        logger.notice("MASTER <-> REPLICA sync: Flushing old data")
        logger.notice("MASTER <-> REPLICA sync: Loading DB in memory")
        do {
            let r = try persistence.loadFromMaster(rdbAt: l.tempName)
            l.tempName = ""
            logger.notice("Done loading RDB, keys loaded: \(r.keysLoaded), keys expired: \(r.keysExpired).")
        } catch {
            logger.warning("Failed trying to load the MASTER synchronization DB from disk: \(error)")
            return failHandshake(l)
        }
        replid = l.syncID
        offset = l.syncOffset
        clearReplicationID2()
        // This replica's own replicas must load the new dataset too; its backlog starts over.
        disconnectReplicas()
        freeBacklog()
        createBacklog()
        streamDB = -1
        logger.notice("MASTER <-> REPLICA sync: Finished with success")
        attachMasterClient(l, pending: l.input)
    }

    /// The socket becomes the master link client; `pending` is stream already read.
    private func attachMasterClient(_ l: MasterLink, pending: [UInt8]) {
        guard let host = engine.host else { return }
        host.unwatch(l.fd)
        l.input = []
        masterClient = host.adoptMasterLink(l.fd, pendingInput: pending)
        l.fd = -1   // the loop owns the socket now
        l.state = .connected
        l.downSinceMs = nil
        gate.masterLinkUp = true
        createBacklog()
        sendAck()
    }

    // MARK: the stream

    public func appliedFromMaster(_ c: Client, _ bytes: UnsafeRawBufferPointer) {
        if backlog != nil { feedBytes(bytes) } else { offset += Int64(bytes.count) }
        if ackRequested {
            ackRequested = false
            sendAck()
        }
    }

    /// REPLCONF ACK <offset> to the master.
    func sendAck() {
        guard let mc = masterClient else { return }
        // A stopped replica acknowledges nothing (WAIT must not count it).
        engine.host?.followSupervisorStop()
        var out = mc.reply.out   // a class: appends to the client's buffer
        out.appendCommand([Array("REPLCONF".utf8), Array("ACK".utf8), decimalBytes(offset)])
        engine.host?.clientHasOutput(mc)
        lastAckSentMs = ShardEngine.wallClockMs()
    }

    /// Once a second: connect, time out a stuck handshake or transfer or a
    /// silent master, acknowledge.
    func replicaCron(_ now: Int64) {
        guard let l = link else { return }
        let timeoutMs = configInt("repl-timeout") * 1000
        switch l.state {
        case .connect:
            connectToMaster()
        case .connecting, .handshake:
            if now - l.sinceMs > timeoutMs {
                logger.warning("Timeout connecting to the MASTER...")
                failHandshake(l)
            }
        case .transfer:
            if now - l.lastIOMs > timeoutMs {
                logger.warning("Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in tessera.conf to a larger value.")
                failHandshake(l)
            }
        case .connected:
            guard let mc = masterClient else { return }
            if now - mc.lastInteraction > timeoutMs {
                logger.warning("MASTER timeout: no data nor PING received...")
                engine.closeClientAsap(mc)
            } else {
                sendAck()
            }
        }
    }

    /// Each round while connecting: did the connection complete?
    func pollConnecting() {
        if let l = link, l.state == .connecting { checkConnected(l) }
    }
}
