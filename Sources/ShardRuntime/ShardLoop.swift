// The shard's event loop: one thread, epoll, non-blocking sockets. Each
// readable connection is read once, every complete command in its buffer is
// executed, and replies are flushed in one write per connection before the
// loop waits again (pipelines cost one read and one write per batch).
// The loop is the engine's ShardHost; the order of a round is documented in
// Engine/ShardInterface.swift.

import Glibc
import CShims
import Engine
import RESP
import Logging

nonisolated(unsafe) var shutdownSignal: Int32 = 0
nonisolated(unsafe) var reloadSignal: Int32 = 0

public final class ShardLoop: ShardHost {
    public let engine: ShardEngine
    private let epfd: Int32
    private var listeners: [Int32] = []
    /// How connections accepted on each listener are routed (main port by default).
    private var listenerRouting: [Int32: ClientRouting] = [:]
    /// Cross-shard routing; nil with one shard.
    var forwarder: Forwarder? = nil
    var connections: [Connection?] = []
    /// Connections whose next command waits for CLIENT PAUSE to end.
    var postponed: [Connection] = []
    private var pendingFlush: [Connection] = []
    /// Clients unblocked this round, to go on with their pending input.
    private var unblocked: [Client] = []
    /// Clients the engine asked to disconnect (closeClientAsap).
    private var pendingClose: [Client] = []
    private var running = true
    private var exitCode: Int32 = 0
    private var lastCron: Int64 = 0
    private var cronCount = 0
    let logger: Logger
    /// Marks listener fds in epoll data (the high bit; connection fds never have it).
    private static let listenerTag: UInt64 = 1 << 63

    public init(engine: ShardEngine, logger: Logger) {
        self.engine = engine
        self.logger = logger
        epfd = ts_epoll_create()
        precondition(epfd >= 0, "epoll_create1 failed")
        engine.host = self
    }

    // MARK: ShardHost

    public func clientHasOutput(_ c: Client) {
        if let conn = connection(for: c) { scheduleFlush(conn) }
    }

    public func clientUnblocked(_ c: Client) {
        unblocked.append(c)
        clientHasOutput(c)
    }

    public func clientClosing(_ c: Client) { pendingClose.append(c) }

    public func shutdownRequested(_ mode: ShutdownMode) -> Bool {
        logger.warning("User requested shutdown...")
        onShutdownStarting?()
        running = false
        return true
    }

    public func serveClientsWhileBlocked() { processEventsWhileBlocked() }

    public func prepareForkedChild() {
        // The child only writes a file: it must not hold the listening sockets.
        for fd in listeners { close(fd) }
        close(epfd)
    }

    public func relayKeyspaceEvent(channel: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer) {
        forwarder?.relay(channel, message)
    }

    /// INFO clients figures only the loop has.
    public func infoFields() -> [(String, String)] {
        var maxIn = 0, maxOut = 0
        for case let conn? in connections {
            maxIn = max(maxIn, conn.query.readableBytes)
            maxOut = max(maxOut, conn.output.readableBytes)
        }
        return [("client_recent_max_input_buffer", String(maxIn)), ("client_recent_max_output_buffer", String(maxOut))]
    }

    /// Other file descriptors the loop polls (plugins' wakeups), tagged in epoll data.
    private var watched: [Int32: () -> Void] = [:]
    private static let watchedTag: UInt64 = 1 << 61   // (1 << 62: Forwarder's links)

    public func watchReadable(_ fd: Int32, _ handler: @escaping () -> Void) {
        watched[fd] = handler
        _ = ts_epoll_ctl(epfd, EPOLL_CTL_ADD, fd, UInt32(EPOLLIN.rawValue), ShardLoop.watchedTag | UInt64(fd))
    }

    public func followSupervisorStop() {
        if isWorker { _ = ts_stop_with_parent() }
    }

    /// A shard process under a supervisor (not a loop in a test).
    public var isWorker = false

    public func unwatch(_ fd: Int32) {
        watched[fd] = nil
        _ = ts_epoll_ctl(epfd, EPOLL_CTL_DEL, fd, 0, 0)
    }

    public func adoptMasterLink(_ fd: Int32, pendingInput: [UInt8]) -> Client {
        let conn = register(fd)
        let c = conn.client
        c.isMasterLink = true
        c.authenticated = true
        conn.parser.authenticated = true
        // The master's commands get no replies (REPLCONF ACK is written by the replication layer).
        c.replyMode = .off
        c.routing = .internalLink
        if !pendingInput.isEmpty {
            let q = conn.query
            q.reserve(pendingInput.count)
            pendingInput.withUnsafeBytes { q.append($0.baseAddress!, $0.count) }
            unblocked.append(c)   // processed this round, like a client with pending input
        }
        return c
    }

    /// Opens a TCP listener; throws a message on failure.
    public func listen(host: String, port: Int, backlog: Int) throws {
        let fd = ts_listen_tcp(host, Int32(port), Int32(backlog))
        if fd < 0 {
            throw RuntimeError.listen("Could not create server TCP listening socket \(host):\(port): \(String(cString: strerror(-fd)))")
        }
        listeners.append(fd)
        _ = ts_epoll_ctl(epfd, EPOLL_CTL_ADD, fd, UInt32(EPOLLIN.rawValue), ShardLoop.listenerTag | UInt64(fd))
    }

    /// Runs until SHUTDOWN or SIGTERM/SIGINT; returns the exit code.
    public func run() -> Int32 {
        installSignalHandlers()
        lastCron = ShardEngine.wallClockMs()
        while running {
            let cronPeriod = Int64(1000 / engine.config.hz)
            let nowMs = ShardEngine.wallClockMs()
            var wait = max(0, lastCron + cronPeriod - nowMs)
            // Wake up for the nearest blocked client's deadline too.
            if let d = engine.nextBlockedDeadline { wait = min(wait, max(0, d - nowMs)) }
            // Eviction that ran out of its time budget goes on at once (Redis's evictionTimeProc).
            if engine.evictionInProgress { wait = 0 }
            for stage in engine.stages.wakeup { if let d = stage.wakeupDeadline() { wait = min(wait, max(0, d - nowMs)) } }
            pollOnce(timeoutMs: Int32(wait))
            if engine.evictionInProgress { engine.evictionTimeProc() }
            if reloadSignal != 0 {
                reloadSignal = 0
                logger.notice("Received SIGHUP, reloading the configuration")
                onReload?()
            }
            if shutdownSignal != 0 {
                logger.warning("Received \(shutdownSignal == SIGINT ? "SIGINT" : "SIGTERM") scheduling shutdown...")
                shutdownSignal = 0
                onShutdownStarting?()
                if let p = engine.persistence, !p.prepareForShutdown(save: nil) {
                    logger.warning("SIGTERM received but errors trying to shut down the server, check the logs for more information")
                    continue
                }
                break
            }
            let now = ShardEngine.wallClockMs()
            if now - lastCron >= cronPeriod {
                lastCron = now
                cron()
            }
        }
        shutdown()
        return exitCode
    }

    public func installSignalHandlers() {
        signal(SIGPIPE, SIG_IGN)
        signal(SIGTERM) { _ in shutdownSignal = SIGTERM }
        signal(SIGINT) { _ in shutdownSignal = SIGINT }
        signal(SIGHUP) { _ in reloadSignal = 1 }
    }

    /// SIGHUP: reload the configuration (set by the executable).
    public var onReload: (() -> Void)? = nil
    /// Shutdown begins (SIGTERM/SIGINT or SHUTDOWN), before the final save.
    public var onShutdownStarting: (() -> Void)? = nil

    private var events = [UInt64](repeating: 0, count: 512)

    /// One round: wait for events (at most `timeoutMs`), serve them, write replies.
    private func pollOnce(timeoutMs: Int32) {
        for stage in engine.stages.sleep { stage.beforeSleep() }
        let n = events.withUnsafeMutableBufferPointer {
            ts_epoll_wait(epfd, $0.baseAddress, 256, timeoutMs)
        }
        for stage in engine.stages.sleep { stage.afterSleep() }
        if n > 0 {
            for i in 0..<Int(n) {
                let data = events[2 * i], ev = UInt32(truncatingIfNeeded: events[2 * i + 1])
                if data & ShardLoop.listenerTag != 0 {
                    accept(Int32(truncatingIfNeeded: data & 0xFFFF_FFFF))
                    continue
                }
                if data & Forwarder.linkTag != 0 {
                    forwarder?.handle(event: data, ev)
                    continue
                }
                if data & ShardLoop.watchedTag != 0 {
                    watched[Int32(truncatingIfNeeded: data & 0xFFFF_FFFF)]?()
                    continue
                }
                let fd = Int(data)
                guard fd < connections.count, let conn = connections[fd] else { continue }
                let readable = ev & (UInt32(EPOLLIN.rawValue) | UInt32(EPOLLERR.rawValue) | UInt32(EPOLLHUP.rawValue)) != 0
                if readable { readFrom(conn) }
                if ev & UInt32(EPOLLOUT.rawValue) != 0 && !conn.closed {
                    // The write waits for flushPending, after this round's AOF
                    // stage: output produced this round (replies to what was
                    // just read, a served blocked client, a Pub/Sub message)
                    // may stand on writes not yet in the AOF.
                    conn.writableNow = true
                    scheduleFlush(conn)
                }
            }
        }
        if !postponed.isEmpty && !engine.admin.isPaused { resumePostponed() }
        // Blocked clients whose deadline passed, then those unblocked meanwhile.
        engine.handleBlockedClientsTimeout()
        for stage in engine.stages.afterEvents { stage.afterEvents() }
        serveUnblockedClients()
        if let f = forwarder {
            resumeForwarded(f)
            f.flushLinks()
        }
        // Before any reply leaves: the AOF gets this round's writes (and fsync per policy).
        for stage in engine.stages.beforeReplies { stage.beforeReplies() }
        flushPending()
    }

    /// Serves clients during a long operation of the loop thread (loading the
    /// dataset at startup): commands get -LOADING meanwhile. At most every 100 ms.
    public func processEventsWhileBlocked() {
        let now = ShardEngine.wallClockMs()
        if now - lastBlockedPoll < 100 { return }
        lastBlockedPoll = now
        for _ in 0..<4 { pollOnce(timeoutMs: 0) }
    }
    private var lastBlockedPoll: Int64 = 0

    // MARK: accept / read / write

    private func accept(_ lfd: Int32) {
        let routing = listenerRouting[lfd] ?? .forwarding
        // Accept a bounded batch so one busy listener cannot starve clients.
        for _ in 0..<64 {
            let fd = ts_accept4(lfd, nil, nil)
            if fd < 0 { return }
            if routing == .internalLink {
                adoptShardLink(fd)
                continue
            }
            if engine.clients.count >= engine.config.maxClients {
                let msg: StaticString = "-ERR max number of clients reached\r\n"
                _ = Glibc.write(fd, msg.utf8Start, msg.utf8CodeUnitCount)
                close(fd)
                engine.stats.rejectedConnections += 1
                continue
            }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            setKeepAlive(fd)
            register(fd).client.routing = routing
        }
    }

    /// A link from another shard (or from this one, for fan-outs): trusted
    /// only from our own user, never counted or listed as a client.
    private func adoptShardLink(_ fd: Int32) {
        if ts_peer_uid(fd) != Int32(bitPattern: getuid()) {
            close(fd)
            return
        }
        let conn = register(fd)
        conn.client.routing = .internalLink
        conn.client.authenticated = true
        conn.client.name = Array("tessera-shard-link".utf8)
        conn.parser.authenticated = true
        engine.unlistClient(conn.client)
    }

    /// Turns on cross-shard routing: `internalListener` receives the other
    /// shards' links; `peerNames` are every shard's internal socket names.
    /// (With one shard and shard ports on, there is nothing to forward to but
    /// the shard ports still need Redis Cluster's checks: pass -1 and no names.)
    public func enableForwarding(topology: ClusterTopology, internalListener: Int32, peerNames: [String]) {
        if internalListener >= 0 { adoptListener(internalListener, routing: .internalLink) }
        forwarder = Forwarder(engine: engine, topology: topology, peerNames: peerNames, epfd: epfd, logger: logger)
    }

    /// Connections whose forwarded replies all arrived go on with their commands.
    private func resumeForwarded(_ f: Forwarder) {
        while !f.resumable.isEmpty {
            let batch = f.resumable
            f.resumable.removeAll()
            for conn in batch where !conn.closed {
                if conn.query.readableBytes > 0 && !conn.client.closeAfterReply { processInput(conn) }
                if !conn.closed { scheduleFlush(conn) }
            }
        }
    }

    /// Makes `fd` a client connection of this loop.
    @discardableResult
    private func register(_ fd: Int32) -> Connection {
        let client = engine.createClient(reply: ReplyEncoder())
        client.fd = fd
        client.addr = sockname(fd, peer: true)
        client.laddr = sockname(fd, peer: false)
        let conn = Connection(fd: fd, client: client, maxBulk: engine.config.protoMaxBulkLen)
        conn.parser.authenticated = client.authenticated
        client.replyBufferSize = { [unowned conn] in conn.output.readableBytes }
        if Int(fd) >= connections.count {
            connections.append(contentsOf: repeatElement(nil, count: Int(fd) + 1 - connections.count + 64))
        }
        connections[Int(fd)] = conn
        _ = ts_epoll_ctl(epfd, EPOLL_CTL_ADD, fd, UInt32(EPOLLIN.rawValue), UInt64(fd))
        return conn
    }

    /// Serves a listening socket opened by someone else (the supervisor).
    public func adoptListener(_ fd: Int32, routing: ClientRouting = .forwarding) {
        _ = fcntl(fd, F_SETFL, O_NONBLOCK)
        listeners.append(fd)
        listenerRouting[fd] = routing
        _ = ts_epoll_ctl(epfd, EPOLL_CTL_ADD, fd, UInt32(EPOLLIN.rawValue), ShardLoop.listenerTag | UInt64(fd))
    }

    /// Serves the supervisor's private link (a socket pair end): an
    /// authenticated client that is never timed out; when it closes, the
    /// supervisor is gone and the shard stops.
    public func adoptSupervisorLink(_ fd: Int32) {
        _ = fcntl(fd, F_SETFL, O_NONBLOCK)
        let conn = register(fd)
        conn.client.authenticated = true
        conn.client.name = Array("tessera-supervisor".utf8)
        conn.client.isInternal = true
        // The supervisor asks each shard about itself (DBSIZE, INFO): never forwarded.
        conn.client.routing = .internalLink
        conn.parser.authenticated = true
        // Internal: not a client operators count or list (connected_clients, CLIENT LIST).
        engine.unlistClient(conn.client)
        supervisorLink = conn
    }
    private var supervisorLink: Connection? = nil

    private func sockname(_ fd: Int32, peer: Bool) -> String {
        var buf = [CChar](repeating: 0, count: 128)
        _ = ts_sockname(fd, peer ? 1 : 0, &buf, 128)
        return String(cString: buf)
    }

    private func readFrom(_ conn: Connection) {
        let q = conn.query
        let want = max(16 * 1024, conn.parser.pendingBulkBytes - q.readableBytes)
        q.reserve(want)
        let n = Glibc.read(conn.fd, q.base + q.writeIndex, q.writableBytes)
        if n == 0 { closeConnection(conn); return }
        if n < 0 {
            let e = ts_errno()
            if e == EAGAIN || e == EINTR { return }
            closeConnection(conn)
            return
        }
        q.writeIndex += n
        if conn.client.isMasterLink { engine.stats.netReplInputBytes += n }
        else if !conn.client.isInternal { engine.stats.netInputBytes += n }
        if q.readableBytes > conn.queryPeak { conn.queryPeak = q.readableBytes }
        if conn.client.closeAfterReply { q.readIndex = q.writeIndex; return }
        processInput(conn)
        if conn.closed { return }
        if q.readableBytes > engine.config.clientQueryBufferLimit && !conn.client.isMasterLink {
            logger.warning("Closing client that reached max query buffer length: id=\(conn.client.id) addr=\(conn.client.addr) qbuf=\(q.readableBytes)")
            engine.stats.queryBufferLimitDisconnections += 1
            closeConnection(conn)
            return
        }
        scheduleFlush(conn)
    }

    /// Executes every complete command in the query buffer.
    ///
    /// A half-received command stays in the buffer from its first byte (its
    /// parsed arguments point into it); `conn.parsedAhead` remembers how far
    /// the parser got so the next read resumes there instead of rescanning.
    func processInput(_ conn: Connection) {
        let q = conn.query
        let client = conn.client
        if client.postponed || conn.waitingForReplies { return }
        conn.parser.maxBulkLength = engine.config.protoMaxBulkLen
        var pos = q.readIndex + conn.parsedAhead
        conn.parsedAhead = 0
        // A pipeline can build a huge reply in one batch: enforce the hard limit as it grows.
        let hardLimit = Int(engine.config.outputBufferLimits[client.clientClass.rawValue].hard)
        while pos < q.writeIndex && !client.closeAfterReply && !client.closeASAP && !client.postponed && client.blocked == nil
                && !conn.waitingForReplies {
            conn.parser.authenticated = client.authenticated
            let start = conn.parser.isMidCommand ? q.readIndex : pos
            let outcome = conn.parser.parse(q.base, pos: &pos, end: q.writeIndex)
            switch outcome {
            case .command:
                // CLIENT LIST shows the running command as part of the query buffer, as Redis.
                client.queryBufferSize = q.writeIndex - q.readIndex
                client.queryBufferCapacity = q.capacity
                var outcome = Forwarder.Outcome.done
                conn.parser.args.withUnsafeBufferPointer { spans in
                    client.args = Args(base: UnsafeRawPointer(q.base), spans: spans)
                    if let f = forwarder { outcome = f.dispatch(conn) } else { engine.execute(client) }
                }
                if outcome != .done && !conn.replies.isEmpty {
                    // Waits for the forwarded replies before it (or its own) arrive.
                    conn.waitingForReplies = true
                    if outcome == .waitThenRetry {
                        q.readIndex = start
                        break
                    }
                }
                if client.postponed {
                    // Held by CLIENT PAUSE: parse it again when the pause ends.
                    q.readIndex = start
                    postponed.append(conn)
                    engine.admin.postponedClients = postponed.count
                    break
                }
                q.readIndex = pos
                if client.isMasterLink { appliedFromMaster(client, q, from: start, to: pos) }
                if hardLimit > 0 && conn.output.readableBytes >= hardLimit && client.replyMode == .on
                    && closeIfOverOutputLimit(conn) {
                    return
                }
            case .empty:
                if client.isMasterLink { appliedFromMaster(client, q, from: start, to: pos) }
                q.readIndex = pos
            case .incomplete:
                q.readIndex = start
                conn.parsedAhead = pos - start
                compact(conn)
                return
            case .error(let e):
                client.error(e.message)
                client.closeAfterReply = true
                pos = q.writeIndex
                q.readIndex = pos
            }
        }
        compact(conn)
    }

    /// The master's stream moved the replica's offset by these bytes.
    private func appliedFromMaster(_ c: Client, _ q: ByteBuffer, from: Int, to: Int) {
        engine.replication?.appliedFromMaster(c, UnsafeRawBufferPointer(start: q.base + from, count: to - from))
    }

    private func compact(_ conn: Connection) {
        let q = conn.query
        if q.readIndex == q.writeIndex && conn.parsedAhead == 0 {
            q.readIndex = 0
            q.writeIndex = 0
            if q.capacity > 1024 * 1024 { q.reset(shrinkTo: 1024 * 1024) }
            // A command with very many arguments grew the argument array: give
            // it back (it counts toward used_memory and maxmemory).
            conn.parser.releaseLargeArgs()
        } else if q.readIndex > 0 {
            let shift = q.compact()
            conn.parser.rebase(by: shift)
        }
        conn.client.queryBufferSize = q.readableBytes
        conn.client.queryBufferCapacity = q.capacity
    }

    func scheduleFlush(_ conn: Connection) {
        if !conn.pendingFlush && !conn.closed {
            conn.pendingFlush = true
            pendingFlush.append(conn)
        }
    }

    /// Clients just unblocked (served, timed out, CLIENT UNBLOCK) go on with
    /// the commands they sent meanwhile.
    private func serveUnblockedClients() {
        while !unblocked.isEmpty {
            let batch = unblocked
            unblocked.removeAll()
            for c in batch where c.blocked == nil {
                guard let conn = connection(for: c), !conn.closed else { continue }
                if conn.query.readableBytes > 0 && !c.closeAfterReply { processInput(conn) }
                if !conn.closed { scheduleFlush(conn) }
            }
        }
    }

    private func flushPending() {
        // MONITOR output and CLIENT KILL may target connections other than the
        // ones that read this round.
        for m in engine.clients.monitors where m.reply.out.readableBytes > 0 {
            if let conn = connection(for: m) { scheduleFlush(conn) }
        }
        // So do replies relayed from other shards.
        if let f = forwarder, !f.withOutput.isEmpty {
            for conn in f.withOutput { scheduleFlush(conn) }
            f.withOutput.removeAll(keepingCapacity: true)
        }
        var i = 0
        while i < pendingFlush.count {
            let conn = pendingFlush[i]
            conn.pendingFlush = false
            let writable = !conn.wantsWrite || conn.writableNow
            conn.writableNow = false
            if !conn.closed {
                if conn.client.closeASAP { closeConnection(conn) }
                else if closeIfOverOutputLimit(conn) {}
                else if writable && !conn.client.replyHeld { write(conn) }
            }
            i += 1
        }
        pendingFlush.removeAll(keepingCapacity: true)
        if !pendingClose.isEmpty {
            for c in pendingClose {
                if let conn = connection(for: c) { closeConnection(conn) }
            }
            pendingClose.removeAll()
        }
    }

    private func write(_ conn: Connection) {
        var written = 0
        let result = drain(conn.output, to: conn.fd, written: &written)
        if conn.client.isReplicaLink { engine.stats.netReplOutputBytes += written }
        else if !conn.client.isInternal { engine.stats.netOutputBytes += written }
        switch result {
        case .blocked:
            if !conn.wantsWrite {
                conn.wantsWrite = true
                setWriteInterest(epfd, conn.fd, data: UInt64(conn.fd), true)
            }
            return
        case .failed:
            closeConnection(conn)
            return
        case .drained:
            break
        }
        if conn.output.capacity > 1024 * 1024 { conn.output.reset(shrinkTo: 1024 * 1024) }
        if conn.wantsWrite {
            conn.wantsWrite = false
            setWriteInterest(epfd, conn.fd, data: UInt64(conn.fd), false)
        }
        if conn.client.closeAfterReply { closeConnection(conn) }
    }

    func closeConnection(_ conn: Connection) {
        if conn.closed { return }
        conn.closed = true
        if let f = forwarder { f.connectionClosed(conn) }
        if conn.client.postponed {
            postponed.removeAll { $0 === conn }
            engine.admin.postponedClients = postponed.count
        }
        _ = ts_epoll_ctl(epfd, EPOLL_CTL_DEL, conn.fd, 0, 0)
        close(conn.fd)
        connections[Int(conn.fd)] = nil
        engine.removeClient(conn.client)
    }

    func connection(for client: Client) -> Connection? {
        let fd = Int(client.fd)
        guard fd >= 0 && fd < connections.count, let c = connections[fd], c.client === client else { return nil }
        return c
    }

    // MARK: periodic work

    private func cron() {
        cronCount += 1
        followSupervisorStop()
        engine.updateClock()
        engine.stats.sample(now: engine.now)
        engine.activeExpireCycle()
        engine.serverCron()
        for stage in engine.stages.cron { stage.cron() }
        clientsCron()
    }

    private func shutdown() {
        for case let conn? in connections { closeConnection(conn) }
        for fd in listeners { close(fd) }
        logger.notice("Tessera is now ready to exit, bye bye...")
    }
}

public enum RuntimeError: Error, CustomStringConvertible {
    case listen(String)
    public var description: String {
        switch self { case .listen(let m): return m }
    }
}
