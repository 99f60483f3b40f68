// FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms]: a master hands its
// role to one of its replicas without losing a write (Redis 7.0's
// coordinated failover). Writes are held; once the target replica (or any,
// without TO) has acknowledged the whole stream — or the timeout passed with
// FORCE — this server becomes a replica of it and sends PSYNC <id> <offset>
// FAILOVER, which makes the target a master that continues this server's
// history. A refusal or a timeout without FORCE aborts: writes resume here.

import Engine

/// A failover this master started.
struct Failover {
    var host: String?
    var port: Int
    /// Wall clock ms; 0 = no timeout.
    var deadline: Int64
    var force: Bool
    /// This server is already a replica of the target, sending PSYNC FAILOVER.
    var inProgress = false
}

extension Replication {
    public func failoverCommand(_ c: Client) {
        let a = c.args
        if engine.cluster != nil {
            c.error(static: "ERR FAILOVER not allowed in cluster mode. Use CLUSTER FAILOVER command instead.")
            return
        }
        if a.count == 2 && a.equals(1, "abort") {
            guard failover != nil else { c.error(static: "ERR No failover in progress."); return }
            abortFailover("Failover manually aborted")
            c.reply.ok()
            return
        }
        var timeout: Int64 = 0, force = false, port = 0
        var host: String? = nil
        var j = 1
        while j < a.count {
            if a.equals(j, "timeout") && j + 1 < a.count && timeout == 0 {
                guard let t = a.int64(j + 1) else { c.error(static: "ERR value is not an integer or out of range"); return }
                guard t > 0 else { c.error(static: "ERR FAILOVER timeout must be greater than 0"); return }
                timeout = t
                j += 2
            } else if a.equals(j, "to") && j + 2 < a.count && host == nil {
                guard let p = a.int64(j + 2) else { c.error(static: "ERR value is not an integer or out of range"); return }
                host = a.string(j + 1)
                port = Int(p)
                j += 3
            } else if a.equals(j, "force") && !force {
                force = true
                j += 1
            } else {
                c.syntaxError()
                return
            }
        }
        if failover != nil { c.error(static: "ERR FAILOVER already in progress."); return }
        if gate.isReplica { c.error(static: "ERR FAILOVER is not valid when server is a replica."); return }
        if replicas.isEmpty { c.error(static: "ERR FAILOVER requires connected replicas."); return }
        if force && (timeout == 0 || host == nil) {
            c.error(static: "ERR FAILOVER with force option requires both a timeout and target HOST and IP.")
            return
        }
        if let h = host {
            guard let r = replica(at: h, port) else { c.error(static: "ERR FAILOVER target HOST and PORT is not a replica."); return }
            guard r.state == .online else { c.error(static: "ERR FAILOVER target replica is not online."); return }
            logger.notice("FAILOVER requested to \(h):\(port).")
        } else {
            logger.notice("FAILOVER requested to any replica.")
        }
        failover = Failover(host: host, port: port, deadline: timeout > 0 ? ShardEngine.wallClockMs() + timeout : 0,
                            force: force)
        engine.admin.beginFailoverPause()
        activityChanged()
        c.reply.ok()
    }

    private func replica(at host: String, _ port: Int) -> ReplicaLink? {
        replicas.first { $0.ip == host && $0.listeningPort == port }
    }

    /// INFO's master_failover_state.
    var failoverStateName: String {
        guard let f = failover else { return "no-failover" }
        return f.inProgress ? "failover-in-progress" : "waiting-for-sync"
    }

    /// Each round and cron tick while waiting: is a target in sync, or is time up?
    func updateFailoverStatus(_ now: Int64) {
        guard var f = failover, !f.inProgress else { return }
        if f.deadline > 0 && now >= f.deadline {
            if f.force, let h = f.host {
                logger.notice("FAILOVER to \(h):\(f.port) time out exceeded, failing over.")
                startFailingOver(&f, to: h, f.port)
            } else {
                abortFailover("Replica never caught up before timeout")
            }
            return
        }
        let target: ReplicaLink?
        if let h = f.host {
            target = replica(at: h, f.port)
        } else {
            target = replicas.first { $0.state == .online && $0.ackOffset == offset }
        }
        guard let r = target, r.ackOffset == offset else { return }
        logger.notice("Failover target \(r.ip):\(r.listeningPort) is synced, failing over.")
        startFailingOver(&f, to: r.ip, r.listeningPort)
    }

    private func startFailingOver(_ f: inout Failover, to host: String, _ port: Int) {
        f.host = host
        f.port = port
        f.inProgress = true
        failover = f
        becomeReplica(of: host, port: port)
    }

    /// The target answered PSYNC FAILOVER: the switch is done.
    func failoverSucceeded() {
        guard failover?.inProgress == true else { return }
        clearFailover()
    }

    func abortFailover(_ reason: String) {
        guard let f = failover else { return }
        if let h = f.host { logger.notice("FAILOVER to \(h):\(f.port) aborted: \(reason)") }
        else { logger.notice("FAILOVER to any replica aborted: \(reason)") }
        if f.inProgress { becomeMaster() }
        clearFailover()
    }

    private func clearFailover() {
        failover = nil
        engine.admin.endFailoverPause()
    }

    /// PSYNC <id> <offset> FAILOVER from this replica's master: it hands over
    /// its role. False (after the error reply) if the request is refused.
    func acceptFailoverRequest(_ c: Client) -> Bool {
        let wantedID = c.args.string(1)
        logger.warning("Failover request received for replid \(wantedID).")
        guard gate.isReplica else {
            c.error(static: "ERR PSYNC FAILOVER can't be sent to a master.")
            return false
        }
        guard wantedID == replid else {
            c.error(static: "ERR PSYNC FAILOVER replid must match my replid.")
            return false
        }
        becomeMaster()
        logger.notice("MASTER MODE enabled (failover request from 'id=\(c.id) addr=\(c.addr)')")
        return true
    }
}
