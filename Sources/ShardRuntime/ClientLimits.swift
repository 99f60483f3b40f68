// Connection safety of the shard loop: CLIENT PAUSE holding, output buffer
// limits, idle timeout, TCP keepalive, query buffer resizing, the open files
// limit behind maxclients and the listen backlog check.

import Glibc
import CShims
import Engine
import Logging

extension ShardLoop {
    // MARK: CLIENT PAUSE

    /// Runs the commands held by CLIENT PAUSE once it ended (timeout or CLIENT UNPAUSE).
    func resumePostponed() {
        let held = postponed
        postponed.removeAll()
        for conn in held where !conn.closed {
            conn.client.postponed = false
        }
        engine.admin.postponedClients = 0
        for conn in held where !conn.closed {
            processInput(conn)
            scheduleFlush(conn)
        }
    }

    // MARK: output buffer limits

    /// Closes `conn` now if its client is over its output limit (the policy
    /// is the engine's: ShardEngine.outputLimitReached).
    func closeIfOverOutputLimit(_ conn: Connection) -> Bool {
        guard conn.output.readableBytes > 0, engine.outputLimitReached(conn.client) else { return false }
        engine.closeForOutputLimit(conn.client)
        closeConnection(conn)
        return true
    }

    // MARK: sockets

    /// SO_KEEPALIVE with Redis's timings: first probe after `tcp-keepalive`
    /// seconds idle, then every third of it, 3 probes.
    func setKeepAlive(_ fd: Int32) {
        let interval = Int32(clamping: engine.config.tcpKeepalive)
        if interval <= 0 { return }
        var one: Int32 = 1
        let size = socklen_t(MemoryLayout<Int32>.size)
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, size)
        var idle = interval
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPIDLE, &idle, size)
        var intvl = max(1, interval / 3)
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPINTVL, &intvl, size)
        var count: Int32 = 3
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPCNT, &count, size)
    }

    /// Warns when the kernel caps the listen backlog below `tcp-backlog`.
    public func checkBacklog(_ backlog: Int) {
        guard let f = fopen("/proc/sys/net/core/somaxconn", "r") else { return }
        defer { fclose(f) }
        var buf = [CChar](repeating: 0, count: 32)
        guard fgets(&buf, 32, f) != nil,
              let somaxconn = Int(String(String(cString: buf).filter { $0.isNumber })) else { return }
        if somaxconn < backlog {
            logger.warning("WARNING: The TCP backlog setting of \(backlog) cannot be enforced because /proc/sys/net/core/somaxconn is set to the lower value of \(somaxconn).")
        }
    }

    /// Raises RLIMIT_NOFILE to maxclients + 32 as Redis does; when the system
    /// refuses, lowers maxclients to what the limit allows and says so.
    public func adjustOpenFilesLimit() {
        let reserved = 32
        let maxClients = engine.config.maxClients
        let wanted = rlim_t(maxClients + reserved)
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) != 0 {
            logger.warning("Unable to obtain the current NOFILE limit (\(String(cString: strerror(errno)))), assuming 1024 and setting the max clients configuration accordingly.")
            try? engine.config.set("maxclients", String(1024 - reserved))
            return
        }
        let old = limit.rlim_cur
        if old >= wanted { return }
        var best = wanted
        var lastError: Int32 = 0
        while best > old {
            var l = rlimit(rlim_cur: best, rlim_max: max(best, limit.rlim_max))
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &l) == 0 { break }
            lastError = errno
            l = rlimit(rlim_cur: best, rlim_max: limit.rlim_max)
            if best <= limit.rlim_max && setrlimit(Int32(RLIMIT_NOFILE.rawValue), &l) == 0 { break }
            best = best > 16 ? best - 16 : old
        }
        if best < old { best = old }
        if best < wanted {
            let allowed = Int(best) - reserved
            if allowed < 1 {
                logger.warning("Your current 'ulimit -n' of \(old) is not enough for the server to start. Please increase your open file limit to at least \(wanted). Exiting.")
                exit(1)
            }
            logger.warning("You requested maxclients of \(maxClients) requiring at least \(wanted) max file descriptors.")
            logger.warning("Server can't set maximum open files to \(wanted) because of OS error: \(String(cString: strerror(lastError))).")
            logger.warning("Current maximum open files is \(best). maxclients has been reduced to \(allowed) to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'.")
            try? engine.config.set("maxclients", String(allowed))
        } else {
            logger.notice("Increased maximum number of open files to \(wanted) (it was originally set to \(old)).")
        }
    }

    // MARK: clients cron

    /// Once per cron tick: idle timeout, soft output limits that expired,
    /// query buffers of idle clients given back, oversized ones shrunk.
    func clientsCron() {
        let now = engine.now
        let timeoutMs = Int64(engine.config.idleTimeout) * 1000
        var toClose: [Connection] = []
        for case let conn? in connections where !conn.closed {
            let c = conn.client
            // Links between shards and clients waiting for a forwarded (maybe blocking) reply are not idle.
            if timeoutMs > 0 && !c.isMonitor && !c.postponed && c.blocked == nil && !c.inPubSub
                && c.clientClass == .normal && c.routing != .internalLink && conn.replies.isEmpty
                && now - c.lastInteraction > timeoutMs {
                toClose.append(conn)
                continue
            }
            if !c.closeASAP && closeIfOverOutputLimit(conn) { continue }
            let q = conn.query
            if q.readableBytes == 0 && conn.parsedAhead == 0 && !c.postponed {
                let idle = now - c.lastInteraction
                if idle > 2000 && q.capacity > 0 {
                    q.release()
                } else if q.capacity > 32 * 1024 && q.capacity / 2 > conn.queryPeak {
                    q.shrinkIfIdle(to: max(conn.queryPeak, 16 * 1024), factor: 1)
                }
                c.queryBufferCapacity = q.capacity
                c.queryBufferSize = 0
            }
            conn.queryPeak = q.readableBytes
        }
        for conn in toClose {
            logger.info("Closing idle client")
            closeConnection(conn)
        }
    }
}
