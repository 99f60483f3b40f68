// Cross-shard routing in the shard's loop (docs/ARCHITECTURE.md, "The
// keyspace across shards"). The engine decides where a command runs
// (ShardEngine.route); this file moves it there: forwards it over a link to the
// owning shard, splits or fans it out, and puts every reply back in the
// client's command order.
//
// Ordering: while a connection waits for a forwarded reply, its next
// commands still run (or go out) at once; a local reply produced meanwhile is
// held in the connection's queue until the replies before it arrived.
// Commands whose effect depends on what came before on the connection
// (blocking commands, MULTI/EXEC/WATCH, subscriptions) wait until the queue
// is empty.

import Glibc
import CShims
import Engine
import RESP
import Logging
import DequeModule

final class Forwarder {
    let engine: ShardEngine
    let topology: ClusterTopology
    /// Abstract unix socket names of every shard's internal listener.
    let peerNames: [String]
    let epfd: Int32
    let logger: Logger
    /// Shared links, [RESP 2, RESP 3][shard].
    private var shared: [[PeerLink?]]
    /// Every open link by id (epoll data carries the id).
    private var links: [PeerLink?] = []
    private var linksToFlush: [PeerLink] = []
    /// Connections whose queue drained while they waited: the loop resumes them.
    var resumable: [Connection] = []
    /// Connections that received relayed replies: the loop writes them this round.
    var withOutput: [Connection] = []
    static let linkTag: UInt64 = 1 << 62

    init(engine: ShardEngine, topology: ClusterTopology, peerNames: [String], epfd: Int32, logger: Logger) {
        self.engine = engine
        self.topology = topology
        self.peerNames = peerNames
        self.epfd = epfd
        self.logger = logger
        shared = [Array(repeating: nil, count: topology.shardCount), Array(repeating: nil, count: topology.shardCount)]
        engine.relaysKeyspaceEvents = topology.shardCount > 1
    }

    /// A keyspace notification goes to the other shards' subscribers too
    /// (only when notify-keyspace-events is on: this is one message per event
    /// and shard).
    func relay(_ channel: UnsafeRawBufferPointer, _ message: UnsafeRawBufferPointer) {
        for shard in 0..<topology.shardCount where shard != topology.myIndex {
            guard let link = sharedLink(shard, proto: 2) else { continue }
            link.append([Array("PUBLISH".utf8), Array(channel), Array(message)])
            link.waiters.append(.discard)
            queueFlush(link)
        }
    }

    enum Outcome {
        /// Done (run, forwarded or queued); go on with the next command.
        case done
        /// Not run: parse it again once the connection's replies arrived.
        case waitThenRetry
        /// Sent; take no further command until its reply arrived.
        case sentThenWait
    }

    // MARK: dispatch

    func dispatch(_ conn: Connection) -> Outcome {
        let c = conn.client
        let resolved = engine.resolve(c.args)
        switch engine.route(c, resolved) {
        case .local:
            if conn.replies.isEmpty {
                engine.execute(c, resolved)
                return .done
            }
            if resolved.waitsForEarlierReplies { return .waitThenRetry }
            runHoldingReply(conn) { engine.execute(c, resolved) }
            return .done
        case .forward(let shard):
            guard let link = sharedLink(shard, proto: c.reply.proto) else { return failLocally(conn, shard) }
            send(conn, over: link)
            return .done
        case .forwardExclusive(let shard):
            if !conn.replies.isEmpty { return .waitThenRetry }
            guard let link = privateLink(conn, shard) else { return failLocally(conn, shard) }
            send(conn, over: link)
            return .sentThenWait
        case .transaction(let shard, let exclusive):
            if !conn.replies.isEmpty { return .waitThenRetry }
            let proto = c.reply.proto
            guard let link = exclusive ? privateLink(conn, shard) : sharedLink(shard, proto: proto) else {
                return failLocally(conn, shard)
            }
            link.select(c.dbIndex)
            link.append([Array("MULTI".utf8)])
            link.waiters.append(.discard)
            let transaction = engine.takeTransaction(c)
            for argv in transaction {
                link.append(argv)
                link.waiters.append(.discard)
            }
            link.append([Array("EXEC".utf8)])
            awaitReply(conn, on: link)
            if exclusive {
                // Its SELECT/HELLO now hold for the client (and its own link).
                engine.applyConnectionState(c, of: transaction)
                link.db = c.dbIndex
                link.proto = c.reply.proto
            }
            return .sentThenWait
        case .discardTransaction(let message):
            if !conn.replies.isEmpty { return .waitThenRetry }
            _ = engine.takeTransaction(c)
            c.error(message)
            return .done
        case .error(let message):
            // Inside MULTI the error (MOVED, CROSSSLOT) fails the transaction, as Redis.
            runHoldingReply(conn) { engine.reject(c, nil, message) }
            return .done
        case .fanOut(let kind):
            return fanOut(conn, kind)
        }
    }

    /// Runs `body` (which writes one reply); if earlier replies are still
    /// owed, its reply waits in the queue behind them.
    private func runHoldingReply(_ conn: Connection, _ body: () -> Void) {
        if conn.replies.isEmpty { body(); return }
        let out = conn.output
        let mark = out.writeIndex
        body()
        if conn.client.postponed { return }
        let bytes = Array(UnsafeRawBufferPointer(start: out.base + mark, count: out.writeIndex - mark))
        out.truncate(to: mark)
        conn.replies.hold(bytes, for: conn)
    }

    private func send(_ conn: Connection, over link: PeerLink) {
        link.select(conn.client.dbIndex)
        link.append(conn.client.args)
        awaitReply(conn, on: link)
    }

    /// The link's next reply (to what was just appended) belongs to `conn`, in its command order.
    private func awaitReply(_ conn: Connection, on link: PeerLink) {
        let reply = conn.replies.reserve(for: conn, silent: takeReplySilence(conn.client))
        link.waiters.append(.reply(reply))
        engine.stats.forwardedCommands += 1
        queueFlush(link)
    }

    /// CLIENT REPLY OFF / SKIP apply to forwarded commands too: their replies are dropped on arrival.
    private func takeReplySilence(_ c: Client) -> Bool {
        switch c.replyMode {
        case .on: return false
        case .off: return true
        case .skipNext: c.replyMode = .skip; return false
        case .skip: c.replyMode = .on; return true
        }
    }

    private func failLocally(_ conn: Connection, _ shard: Int) -> Outcome {
        runHoldingReply(conn) { conn.client.error("TRYAGAIN shard \(shard) is not reachable at the moment") }
        return .done
    }

    // MARK: fan-out

    private func fanOut(_ conn: Connection, _ kind: FanOut) -> Outcome {
        let c = conn.client
        let args = c.args
        let n = topology.shardCount
        var subs: [(shard: Int, argv: [[UInt8]])] = []
        var positions: [[Int]] = []
        var scanShard = 0
        switch kind {
        case .mget, .countKeys, .mset:
            let step = kind == .mset ? 2 : 1
            var byShard = [[Int]](repeating: [], count: n)
            var i = 1
            while i < args.count {
                byShard[topology.owner(ofSlot: HashSlot.of(args[i]))].append(i)
                i += step
            }
            for shard in 0..<n where !byShard[shard].isEmpty {
                var argv = [args.bytes(0)]
                for k in byShard[shard] {
                    argv.append(args.bytes(k))
                    if step == 2 { argv.append(args.bytes(k + 1)) }
                }
                subs.append((shard, argv))
                positions.append(byShard[shard].map { ($0 - 1) / step })
            }
        case .scan:
            guard let cursor = UInt64(String(decoding: args[1], as: UTF8.self)) else {
                // Not a cursor: the local shard replies the error.
                runHoldingReply(conn) { engine.execute(c) }
                return .done
            }
            let (shard, local) = FanOutMerge.decodeCursor(cursor, shards: n)
            // A cursor naming no shard (made up by the client): start that shard over... as Redis
            // does with an unknown cursor, the scan just goes on from somewhere valid.
            scanShard = min(shard, n - 1)
            var argv = (0..<args.count).map { args.bytes($0) }
            argv[1] = Array(String(local).utf8)
            subs.append((scanShard, argv))
        case .info:
            subs.append((topology.myIndex, (0..<args.count).map { args.bytes($0) }))
            for shard in 0..<n { subs.append((shard, [Array("INFO".utf8), Array("keyspace".utf8)])) }
        case .sum, .concat, .broadcast, .randomKey, .numsub, .union:
            let argv = (0..<args.count).map { args.bytes($0) }
            for shard in 0..<n { subs.append((shard, argv)) }
        }
        let reply = conn.replies.reserve(for: conn)
        var shape = FanOutShape(kind: kind, shardCount: n)
        shape.positions = positions
        shape.totalKeys = kind == .mset ? (args.count - 1) / 2 : args.count - 1
        shape.scanShard = scanShard
        let request = FanOutRequest(shape: shape, reply: reply, parts: subs.count)
        for (index, sub) in subs.enumerated() {
            guard let link = sharedLink(sub.shard, proto: c.reply.proto) else {
                request.parts[index] = Array("-TRYAGAIN shard \(sub.shard) is not reachable at the moment\r\n".utf8)
                request.remaining -= 1
                continue
            }
            link.select(c.dbIndex)
            link.append(sub.argv)
            link.waiters.append(.part(request, index))
            if sub.shard != topology.myIndex { engine.stats.forwardedCommands += 1 }
            queueFlush(link)
        }
        if request.remaining == 0 { complete(request) }
        // The local part runs when the loopback link is read: commands after
        // this one must not run before it (DEL a b; SET b ...).
        return .sentThenWait
    }

    private func complete(_ request: FanOutRequest) {
        request.reply.bytes = FanOutMerge.merge(request.shape, request.parts)
        deliver(request.reply.conn)
    }

    // MARK: replies

    /// Moves the replies that are ready, in order, to the client's output.
    private func deliver(_ conn: Connection, moved: Bool = false) {
        if conn.closed { conn.replies.removeAll(); return }
        if conn.replies.moveReady(into: conn.output) || moved { withOutput.append(conn) }
        if conn.replies.isEmpty && conn.waitingForReplies {
            conn.waitingForReplies = false
            resumable.append(conn)
        }
    }

    private func received(_ frame: UnsafeRawBufferPointer, on link: PeerLink) -> Bool {
        guard let waiter = link.waiters.popFirst() else { return false }
        switch waiter {
        case .discard:
            break
        case .reply(let reply):
            let conn = reply.conn
            if conn.closed { break }
            deliver(conn, moved: conn.replies.arrived(reply, frame, into: conn.output))
        case .part(let request, let index):
            request.parts[index] = Array(frame)
            request.remaining -= 1
            if request.remaining == 0 { complete(request) }
        }
        return true
    }

    // MARK: links

    private func sharedLink(_ shard: Int, proto: Int) -> PeerLink? {
        let p = proto == 3 ? 1 : 0
        if let l = shared[p][shard], !l.closed { return l }
        let l = openLink(shard, proto: proto)
        shared[p][shard] = l
        return l
    }

    private func privateLink(_ conn: Connection, _ shard: Int) -> PeerLink? {
        if let l = conn.privateLinks.first(where: { $0.shard == shard && !$0.closed && $0.proto == conn.client.reply.proto }) {
            return l
        }
        guard let l = openLink(shard, proto: conn.client.reply.proto) else { return nil }
        l.owner = conn
        conn.privateLinks.append(l)
        return l
    }

    private func openLink(_ shard: Int, proto: Int) -> PeerLink? {
        let fd = ts_connect_unix(peerNames[shard], 1)
        if fd < 0 {
            logger.warning("Cannot connect to shard \(shard): \(String(cString: strerror(-fd)))")
            return nil
        }
        let id = links.firstIndex(where: { $0 == nil }) ?? links.count
        let link = PeerLink(id: id, shard: shard, proto: proto, fd: fd)
        if id == links.count { links.append(link) } else { links[id] = link }
        _ = ts_epoll_ctl(epfd, EPOLL_CTL_ADD, fd, UInt32(EPOLLIN.rawValue), Forwarder.linkTag | UInt64(id))
        if proto == 3 {
            link.append([Array("HELLO".utf8), Array("3".utf8)])
            link.waiters.append(.discard)
        }
        return link
    }

    private func queueFlush(_ link: PeerLink) {
        if !link.queuedForFlush {
            link.queuedForFlush = true
            linksToFlush.append(link)
        }
    }

    /// Writes what the links have queued (the loop calls it before waiting).
    func flushLinks() {
        var i = 0
        while i < linksToFlush.count {
            let link = linksToFlush[i]
            link.queuedForFlush = false
            if !link.closed && !link.wantsWrite { write(link) }
            i += 1
        }
        linksToFlush.removeAll(keepingCapacity: true)
    }

    private func write(_ link: PeerLink) {
        var written = 0
        switch drain(link.output, to: link.fd, written: &written) {
        case .blocked:
            if !link.wantsWrite {
                link.wantsWrite = true
                setWriteInterest(epfd, link.fd, data: Forwarder.linkTag | UInt64(link.id), true)
            }
        case .failed:
            fail(link)
        case .drained:
            if link.wantsWrite {
                link.wantsWrite = false
                setWriteInterest(epfd, link.fd, data: Forwarder.linkTag | UInt64(link.id), false)
            }
        }
    }

    /// An epoll event on a link.
    func handle(event data: UInt64, _ ev: UInt32) {
        let id = Int(data & 0xFFFF_FFFF)
        guard id < links.count, let link = links[id] else { return }
        if ev & UInt32(EPOLLOUT.rawValue) != 0 { write(link) }
        if link.closed { return }
        if ev & (UInt32(EPOLLIN.rawValue) | UInt32(EPOLLERR.rawValue) | UInt32(EPOLLHUP.rawValue)) != 0 { read(link) }
    }

    private func read(_ link: PeerLink) {
        let input = link.input
        while true {
            input.reserve(16 * 1024)
            let n = Glibc.read(link.fd, input.base + input.writeIndex, input.writableBytes)
            if n == 0 { fail(link); return }
            if n < 0 {
                let e = ts_errno()
                if e == EINTR { continue }
                if e != EAGAIN { fail(link); return }
                break
            }
            input.writeIndex += n
            while input.readableBytes > 0 {
                guard let len = RESPFrame.length(input.base, input.readIndex, input.writeIndex) else { break }
                guard len > 0, received(UnsafeRawBufferPointer(start: input.base + input.readIndex, count: len), on: link) else {
                    logger.warning("Unexpected reply from shard \(link.shard): closing the link")
                    fail(link)
                    return
                }
                input.readIndex += len
            }
            if input.readIndex == input.writeIndex { input.readIndex = 0; input.writeIndex = 0 } else { _ = input.compact() }
            if n < 16 * 1024 { break }
        }
    }

    /// The peer went away (restarting): what it owed fails with an error.
    private func fail(_ link: PeerLink) {
        if link.closed { return }
        link.closed = true
        _ = ts_epoll_ctl(epfd, EPOLL_CTL_DEL, link.fd, 0, 0)
        close(link.fd)
        links[link.id] = nil
        if let owner = link.owner { owner.privateLinks.removeAll { $0 === link } }
        let message = Array("-TRYAGAIN shard \(link.shard) closed the connection before replying; the command may or may not have run\r\n".utf8)
        while let waiter = link.waiters.popFirst() {
            switch waiter {
            case .discard: break
            case .reply(let reply):
                reply.bytes = message
                deliver(reply.conn)
            case .part(let request, let index):
                request.parts[index] = message
                request.remaining -= 1
                if request.remaining == 0 { complete(request) }
            }
        }
        link.output.release()
        link.input.release()
    }

    /// The connection closed: its own links go too (a blocked command on the peer is released).
    func connectionClosed(_ conn: Connection) {
        for link in conn.privateLinks { fail(link) }
        conn.privateLinks.removeAll()
        conn.replies.removeAll()
    }
}
