// Blocking commands' registry (Redis's blocked.c): clients blocked on keys,
// served in FIFO order per key when a key becomes ready, timed out at their
// deadline, unblocked by CLIENT UNBLOCK or disconnection.
//
// How a command blocks (the generic hook; lists, sorted sets and streams use it):
//   1. Its handler tries to serve. If it cannot (no data), it calls
//      `server.blockForKeys(c, keys:, deadline:, timeoutReply:, shouldServe:)`
//      and returns without replying. Inside EXEC (`c.denyBlocking`) that call
//      replies the timeout form at once instead, as Redis does.
//   2. Any write to a key someone is blocked on lands in `signalModifiedKey`,
//      which marks the key ready (a dictionary lookup only while clients are
//      blocked). After the top-level command (after EXEC for a transaction),
//      `handleClientsBlockedOnKeys` walks each ready key's clients in the order
//      they blocked. For each, `shouldServe(entry)` (the key's current entry,
//      nil if absent) says whether a retry can make progress (e.g. "the key
//      holds a list"); if so the command is re-run through `call` with its
//      saved arguments and `c.blockRetry` set.
//   3. The re-run either serves (replies, propagates like the non-blocking
//      form via rewritePropagation, and the client is unblocked and its
//      statistics counted once) or calls `blockForKeys` again, which during a
//      retry only notes "still blocked" — the client keeps its place in line.
// A stream command plugs in by passing the arguments to re-run in `argv`
// (e.g. XREAD with `$` replaced by the concrete last id at block time) and a
// `shouldServe` suited to it (XREADGROUP: also when the key vanished, so the
// re-run can reply its error). Concretely, in StreamReadCommands.swift:
//   - the "No blocking framework yet" branch of xreadCommand becomes
//     `c.server.blockForKeys(c, keys: req.keys, deadline: req.timeout!,
//      timeoutReply: .nullArray, argv: <argv with "$" resolved>,
//      shouldServe: isGroup ? { _ in true } : { $0?.type == .stream })`;
//   - `signalStreamReady(db, key)` gets the body
//     `if blocking.keyCount != 0 { signalKeyAsReady(db.index, Array(key)) }`
//     (XADD's signalModifiedKey already does it; XGROUP DESTROY needs it).

import RESP

struct BlockKey: Hashable {
    let db: Int
    let key: [UInt8]
}

/// How a blocked command replies when it times out.
public enum BlockTimeoutReply {
    case nullArray, null
    /// Replies by calling this (plugins' timeout callbacks).
    case custom((Client) -> Void)
}

/// What a blocked client waits for.
public final class BlockState {
    let db: Int
    /// Distinct keys, in argument order.
    let keys: [[UInt8]]
    /// Wall-clock ms; 0 = no timeout.
    let deadline: Int64
    let command: Command
    /// The arguments to re-run with.
    let argv: QueuedCommand
    let timeoutReply: BlockTimeoutReply
    let shouldServe: (Entry?) -> Bool
    let seq: Int64

    init(db: Int, keys: [[UInt8]], deadline: Int64, command: Command, argv: QueuedCommand,
         timeoutReply: BlockTimeoutReply, shouldServe: @escaping (Entry?) -> Bool, seq: Int64) {
        self.db = db; self.keys = keys; self.deadline = deadline; self.command = command
        self.argv = argv; self.timeoutReply = timeoutReply; self.shouldServe = shouldServe; self.seq = seq
    }
}

/// A min-heap of (deadline, client id, block sequence); stale entries (client
/// unblocked meanwhile) are skipped when they surface.
struct DeadlineHeap {
    struct Item { let deadline: Int64; let clientID: Int64; let seq: Int64 }
    private(set) var items: [Item] = []

    var isEmpty: Bool { items.isEmpty }
    var first: Item? { items.first }

    mutating func push(_ it: Item) {
        items.append(it)
        var i = items.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if items[p].deadline <= items[i].deadline { break }
            items.swapAt(p, i)
            i = p
        }
    }

    mutating func pop() -> Item? {
        guard !items.isEmpty else { return nil }
        let top = items[0]
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count && items[l].deadline < items[m].deadline { m = l }
                if r < items.count && items[r].deadline < items[m].deadline { m = r }
                if m == i { break }
                items.swapAt(m, i)
                i = m
            }
        }
        return top
    }
}

final class BlockingState {
    /// Clients blocked on each key, in the order they blocked.
    var byKey: [BlockKey: [Client]] = [:]
    /// Number of keys with blocked clients (the hot path tests this).
    var keyCount = 0
    var ready: [BlockKey] = []
    var readySet: Set<BlockKey> = []
    var blockedClients = 0
    /// Blocked clients with a timeout (INFO clients_in_timeout_table).
    var withTimeout = 0
    var timeouts = DeadlineHeap()
    var handling = false
    var seq: Int64 = 0

    @inline(__always) var hasReadyKeys: Bool { !ready.isEmpty }
}

extension ShardEngine {
    /// Blocks `c` on `keys` until one is served, the deadline passes (ms, 0 =
    /// never) or CLIENT UNBLOCK. When blocking is not allowed (inside EXEC) it
    /// replies the timeout form now. See the top of this file for the protocol.
    public func blockForKeys(_ c: Client, keys: [[UInt8]], deadline: Int64, timeoutReply: BlockTimeoutReply,
                             argv: [[UInt8]]? = nil, shouldServe: @escaping (Entry?) -> Bool) {
        if c.blockRetry { c.stillBlocked = true; return }
        if c.denyBlocking {
            ShardEngine.replyBlockTimeout(c, timeoutReply)
            return
        }
        guard let cmd = c.lastCommand else { return }
        var distinct: [[UInt8]] = []
        for k in keys where !distinct.contains(k) { distinct.append(k) }
        let saved: QueuedCommand
        if let argv = argv { saved = QueuedCommand(argv: argv, command: cmd) }
        else { saved = QueuedCommand(args: c.args, command: cmd) }
        blocking.seq += 1
        let st = BlockState(db: c.dbIndex, keys: distinct, deadline: deadline, command: cmd, argv: saved,
                            timeoutReply: timeoutReply, shouldServe: shouldServe, seq: blocking.seq)
        c.blocked = st
        blocking.blockedClients += 1
        for k in distinct {
            let bk = BlockKey(db: st.db, key: k)
            if blocking.byKey[bk] == nil { blocking.keyCount += 1 }
            blocking.byKey[bk, default: []].append(c)
        }
        if deadline > 0 {
            blocking.withTimeout += 1
            blocking.timeouts.push(.init(deadline: deadline, clientID: c.id, seq: st.seq))
        }
    }

    static func replyBlockTimeout(_ c: Client, _ kind: BlockTimeoutReply) {
        switch kind {
        case .nullArray: c.reply.nullArray()
        case .null: c.reply.null()
        case .custom(let reply): reply(c)
        }
    }

    /// Removes `c` from the registry. `requeue`: it stays connected, so the
    /// runtime must flush its reply and go on with its pending input.
    func unblockClient(_ c: Client, requeue: Bool) {
        guard let st = c.blocked else { return }
        for k in st.keys {
            let bk = BlockKey(db: st.db, key: k)
            guard var list = blocking.byKey[bk] else { continue }
            if let i = list.firstIndex(where: { $0 === c }) { list.remove(at: i) }
            if list.isEmpty {
                blocking.byKey[bk] = nil
                blocking.keyCount -= 1
            } else {
                blocking.byKey[bk] = list
            }
        }
        c.blocked = nil
        blocking.blockedClients -= 1
        if st.deadline > 0 { blocking.withTimeout -= 1 }
        if requeue { host?.clientUnblocked(c) }
    }

    /// A blocked command that ended outside `call` (timeout, CLIENT UNBLOCK):
    /// its call was counted when it blocked, as in Redis 7.0; only an error adds.
    private func countUnblockedCall(_ cmd: Command, failed: Bool) {
        if failed { cmd.failedCalls += 1 }
    }

    /// Marks (db, key) ready if clients are blocked on it (from signalModifiedKey).
    func signalKeyAsReady(_ db: Int, _ key: [UInt8]) {
        let bk = BlockKey(db: db, key: key)
        guard blocking.byKey[bk] != nil, !blocking.readySet.contains(bk) else { return }
        blocking.readySet.insert(bk)
        blocking.ready.append(bk)
    }

    /// SWAPDB, FLUSHDB, FLUSHALL: every blocked key of these databases may have
    /// changed (a blocked XREADGROUP must learn that its stream is gone).
    func signalBlockedKeys(inDatabases dbs: Int...) {  // none given: all databases
        if blocking.keyCount == 0 { return }
        for bk in blocking.byKey.keys where dbs.isEmpty || dbs.contains(bk.db) { signalKeyAsReady(bk.db, bk.key) }
    }

    /// Serves clients blocked on ready keys (Redis's handleClientsBlockedOnKeys),
    /// repeating while serving makes more keys ready (BLMOVE's push side).
    func handleClientsBlockedOnKeys() {
        if blocking.handling { return }
        blocking.handling = true
        defer { blocking.handling = false }
        while !blocking.ready.isEmpty {
            let batch = blocking.ready
            blocking.ready = []
            blocking.readySet.removeAll(keepingCapacity: true)
            for bk in batch {
                guard let queue = blocking.byKey[bk] else { continue }
                let db = databases[bk.db]
                for c in queue {
                    guard let st = c.blocked, !c.closeASAP else { continue }
                    updateClock()
                    let entry = bk.key.withUnsafeBytes { lookupWrite(db, $0, touch: false) }
                    if !st.shouldServe(entry) { continue }
                    retryBlocked(c, st)
                }
            }
        }
    }

    /// Re-runs the blocked command of `c` (see the top of this file).
    private func retryBlocked(_ c: Client, _ st: BlockState) {
        let savedArgs = c.args
        c.blockRetry = true
        c.stillBlocked = false
        st.argv.bytes.withUnsafeBytes { raw in
            st.argv.spans.withUnsafeBufferPointer { spans in
                c.args = Args(base: raw.baseAddress ?? UnsafeRawPointer(bitPattern: 8)!, spans: spans)
                call(c, st.command)
            }
        }
        c.blockRetry = false
        c.stillBlocked = false
        c.args = savedArgs
    }

    /// The earliest deadline of a blocked client (ms), if any: the runtime
    /// wakes up for it.
    public var nextBlockedDeadline: Int64? { blocking.timeouts.first?.deadline }

    /// Times out the blocked clients whose deadline passed.
    public func handleBlockedClientsTimeout() {
        guard !blocking.timeouts.isEmpty else { return }
        let t = ShardEngine.wallClockMs()
        while let top = blocking.timeouts.first, top.deadline <= t {
            _ = blocking.timeouts.pop()
            guard let c = clients.any(top.clientID), let st = c.blocked, st.seq == top.seq else { continue }
            ShardEngine.replyBlockTimeout(c, st.timeoutReply)
            unblockClient(c, requeue: true)
            countUnblockedCall(st.command, failed: false)
        }
    }

    /// CLIENT UNBLOCK: true if `id` was blocked (it gets its timeout reply or an error).
    /// A master becoming a replica (REPLICAOF): clients blocked on keys are
    /// answered with an error and disconnected, as Redis does, so a pop the
    /// master's stream will make is not also served here.
    public func disconnectAllBlockedClients() {
        for c in clients.values where c.blocked != nil && !c.isMasterLink {
            c.error(static: "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)")
            unblockClient(c, requeue: true)
            c.closeAfterReply = true
        }
    }

    func unblockClientByID(_ id: Int64, withError: Bool) -> Bool {
        guard let c = clients[id], let st = c.blocked else { return false }
        if withError {
            c.error(static: "UNBLOCKED client unblocked via CLIENT UNBLOCK")
        } else {
            ShardEngine.replyBlockTimeout(c, st.timeoutReply)
        }
        unblockClient(c, requeue: true)
        countUnblockedCall(st.command, failed: withError)
        return true
    }

    public var blockedClientCount: Int { blocking.blockedClients }
    var blockedClientsWithTimeout: Int { blocking.withTimeout }
    var blockingKeyCount: Int { blocking.keyCount }

    /// Parses a blocking timeout in seconds (may be fractional) into an
    /// absolute deadline in ms (0 = forever); replies Redis's error and
    /// returns nil when invalid.
    static func blockDeadline(_ c: Client, _ i: Int) -> Int64? {
        // Redis parses a long double (hex and huge exponents included).
        var parsed = c.args.double(i)
        #if arch(x86_64) || arch(i386)
        if parsed == nil, let x = Float80(c.args.string(i)), !x.isNaN { parsed = Double(x) }
        #endif
        guard let d = parsed, !d.isNaN else {
            c.error(static: "ERR timeout is not a float or out of range")
            return nil
        }
        let ms = (d * 1000).rounded(.up)
        // Redis converts to a 64-bit integer: huge values wrap negative there.
        if ms < 0 || ms >= 9.2e18 { c.error(static: "ERR timeout is negative"); return nil }
        let t = Int64(ms)
        return t > 0 ? c.engine.now + t : 0
    }
}

extension QueuedCommand {
    /// A saved command from owned argument arrays (blocked commands re-run with these).
    init(argv: [[UInt8]], command: Command) {
        bytes = []
        spans = []
        for a in argv {
            spans.append(ArgSpan(offset: bytes.count, count: a.count))
            bytes += a
        }
        self.command = command
    }
}
