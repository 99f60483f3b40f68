// Where a command runs when the keyspace is split across shards.
//
// A connection on the main port may send any command: the shard that
// accepted it runs commands whose keys it owns and hands the others to the
// owning shard (the runtime forwards them over an internal link and relays
// the reply in order). A connection on a shard port speaks Redis Cluster:
// keys of another shard get -MOVED, keys of several slots -CROSSSLOT.
// Internal links between shards always run locally (the sender routed).

/// How a connection's commands are routed.
public enum ClientRouting: UInt8 {
    /// Main port: forward to the owning shard, split or fan out where Redis allows.
    case forwarding
    /// A shard port (cluster-aware clients): -MOVED / -CROSSSLOT like Redis Cluster.
    case cluster
    /// A link from another shard (or our own fan-out): always local.
    case internalLink
}

/// What the runtime does with the command in `Client.args`.
public enum Route {
    case local
    /// Run on that shard, reply relayed.
    case forward(Int)
    /// Run on that shard over the client's own link (blocking commands:
    /// they must not hold up the shared link while they wait).
    case forwardExclusive(Int)
    /// EXEC of a transaction whose commands all live on that shard: the
    /// queued commands go there as MULTI ... EXEC (over the client's own link
    /// when they change the connection's state: SELECT, HELLO).
    case transaction(Int, exclusive: Bool)
    /// Reply this error (CROSSSLOT, MOVED...).
    case error(String)
    /// EXEC of a transaction that cannot run where its keys are (spanning
    /// shards: -CROSSSLOT): discarded with this error.
    case discardTransaction(String)
    /// Runs on several shards; the runtime merges the replies.
    case fanOut(FanOut)
}

/// The commands that run on several shards from the main port, and how their replies merge.
public enum FanOut {
    /// MGET across shards: keys split by shard, values put back in order.
    case mget
    /// MSET across shards: pairs split by shard; OK.
    case mset
    /// DEL/EXISTS/UNLINK/TOUCH across shards: keys split; integer replies summed.
    case countKeys
    /// DBSIZE, PUBLISH, SPUBLISH: the same command everywhere, integers summed.
    case sum
    /// KEYS: the same command everywhere, arrays concatenated.
    case concat
    /// FLUSHALL, FLUSHDB, SWAPDB, SAVE, BGSAVE, BGREWRITEAOF, CONFIG SET,
    /// CONFIG RESETSTAT, CLIENT PAUSE/UNPAUSE, MODULE LOAD/LOADEX/UNLOAD: the same command everywhere;
    /// the first error, else shard 0's reply.
    case broadcast
    /// SCAN: the cursor says which shard continues.
    case scan
    /// RANDOMKEY: a key of a random non-empty shard.
    case randomKey
    /// INFO with the keyspace section: the keyspace lines summed over shards.
    case info
    /// PUBSUB NUMSUB / SHARDNUMSUB: the counts per channel summed.
    case numsub
    /// PUBSUB CHANNELS / SHARDCHANNELS: the union of the names.
    case union
}

public let crossSlotError = "CROSSSLOT Keys in request don't hash to the same slot"

/// How a command's keys are found.
enum KeyLayout {
    case none
    /// Command.firstKey/lastKey/keyStep describe every key.
    case range
    /// Keys found with key specs or a custom finder (numkeys, STREAMS...).
    case specs
}

/// What routing needs to know about a command, computed once per command
/// (the names and key specs are strings; the per-command path must not hash them).
struct CommandRouting {
    let keys: KeyLayout
    let fanOut: FanOut?
    let localOnly: Bool
    let isExec: Bool
    let isWatch: Bool
    /// Must see every earlier reply of its connection delivered before it
    /// runs: blocking commands, subscriptions, transactions, connection state.
    let waitsForEarlierReplies: Bool
}

extension Command {
    var routing: CommandRouting {
        if let r = cachedRouting { return r }
        let name = fullName
        let finder = ShardEngine.customKeyFinder(name)
        let specs = keySpecs.filter { !$0.notKey }
        let keys: KeyLayout
        if specs.isEmpty && finder == nil {
            keys = firstKey > 0 ? .range : .none
        } else if firstKey > 0 && finder == nil && specs.allSatisfy({
            if case .index = $0.begin, case .range(_, _, let limit) = $0.find { return limit == 0 }
            return false
        }) {
            keys = .range
        } else {
            keys = .specs
        }
        let r = CommandRouting(keys: keys, fanOut: ShardEngine.fanOutCommands[name],
                               localOnly: ShardEngine.localOnlyCommands.contains(name),
                               isExec: name == "exec", isWatch: name == "watch",
                               waitsForEarlierReplies: flags.contains(.blocking) || flags.contains(.pubsub)
                                   || ["multi", "exec", "discard", "watch", "unwatch", "quit", "reset", "hello",
                                       "monitor"].contains(name) || name.hasPrefix("client|"))
        cachedRouting = r
        return r
    }
}

extension ShardEngine {
    /// Calls `body` with the slot of each key argument of `cmd` in `args`, in
    /// order, until it returns false.
    @inline(__always)
    func forEachKeySlot(_ cmd: Command, _ args: Args, _ body: (Int, Int) -> Bool) {
        switch cmd.routing.keys {
        case .none:
            return
        case .range:
            let last = cmd.lastKey < 0 ? args.count + cmd.lastKey : cmd.lastKey
            var i = cmd.firstKey
            let step = max(cmd.keyStep, 1)
            while i <= last && i < args.count {
                if !body(i, HashSlot.of(args[i])) { return }
                i += step
            }
        case .specs:
            let argv = (0..<args.count).map { args.bytes($0) }
            for k in ShardEngine.commandKeys(cmd, argv) where !body(k.pos, HashSlot.of(argv[k.pos])) { return }
        }
    }

    /// Decides where the command in `c.args`, looked up as `resolved`, runs
    /// (see the top of this file).
    public func route(_ c: Client, _ resolved: ResolvedCommand) -> Route {
        guard let topology = cluster, c.routing != .internalLink else { return .local }
        if topology.shardCount == 1 && c.routing == .forwarding { return .local }
        let args = c.args
        // Unknown commands, arity errors, MULTI queuing... are the local shard's business.
        guard let cmd = resolved.runnable else { return .local }
        if c.routing == .cluster { return clusterRoute(c, cmd, topology) }
        let routing = cmd.routing
        if c.inMulti { return routing.isExec ? transactionRoute(c, topology) : .local }
        if let fan = routing.fanOut {
            switch fan {
            case .mset where args.count % 2 == 0:
                return .local  // a key without its value: the local shard replies the arity error
            case .mget, .mset, .countKeys:
                break  // split only when the keys span shards (below)
            case .info:
                return infoNeedsKeyspace(args) ? .fanOut(.info) : .local
            default:
                return .fanOut(fan)
            }
        }
        if routing.localOnly { return .local }
        var shard = -1
        var spans = false
        forEachKeySlot(cmd, args) { _, slot in
            let owner = topology.owner(ofSlot: slot)
            if shard < 0 { shard = owner } else if owner != shard { spans = true; return false }
            return true
        }
        if spans {
            if let fan = routing.fanOut { return .fanOut(fan) }
            return .error(crossSlotError)
        }
        if shard < 0 || shard == topology.myIndex { return .local }
        if routing.isWatch {
            return .error("ERR WATCH of keys owned by another shard is not supported on the main port: use the shard ports (cluster clients) or keys of one shard")
        }
        return cmd.flags.contains(.blocking) ? .forwardExclusive(shard) : .forward(shard)
    }

    /// A shard port: Redis Cluster's rules (one slot per command, -MOVED for slots of another shard).
    private func clusterRoute(_ c: Client, _ cmd: Command, _ topology: ClusterTopology) -> Route {
        if c.inMulti && cmd.routing.isExec {
            var slot = -1
            var crossSlot = false
            forEachQueuedKeySlot(c) { s in
                if slot < 0 { slot = s } else if s != slot { crossSlot = true }
            }
            return crossSlot ? .discardTransaction(crossSlotError) : .local
        }
        var slot = -1
        var crossSlot = false
        forEachKeySlot(cmd, args: c.args) { s in
            if slot < 0 { slot = s } else if s != slot { crossSlot = true; return false }
            return true
        }
        if crossSlot { return .error(crossSlotError) }
        if slot >= 0 {
            let owner = topology.owner(ofSlot: slot)
            if owner != topology.myIndex {
                return .error("MOVED \(slot) \(topology.announceHost):\(topology.clusterPorts[owner])")
            }
        }
        return .local
    }

    private func forEachKeySlot(_ cmd: Command, args: Args, _ body: (Int) -> Bool) {
        forEachKeySlot(cmd, args) { _, slot in body(slot) }
    }

    /// The slot of every key of every command queued by MULTI.
    private func forEachQueuedKeySlot(_ c: Client, _ body: (Int) -> Void) {
        for q in c.multiQueue {
            q.bytes.withUnsafeBytes { raw in
                q.spans.withUnsafeBufferPointer { spans in
                    let args = Args(base: raw.baseAddress ?? UnsafeRawPointer(bitPattern: 8)!, spans: spans)
                    forEachKeySlot(q.command, args) { _, slot in body(slot); return true }
                }
            }
        }
    }

    /// EXEC on the main port: the transaction runs where all its keys are.
    private func transactionRoute(_ c: Client, _ topology: ClusterTopology) -> Route {
        if c.multiError { return .local }
        // Commands that need every shard cannot be part of one shard's transaction.
        if let q = c.multiQueue.first(where: { q in
            guard let fan = q.command.routing.fanOut else { return false }
            return fan != .mget && fan != .mset && fan != .countKeys
        }) {
            return .discardTransaction("ERR \(q.command.fullName.uppercased()) inside MULTI needs every shard: not supported with several shards")
        }
        var shard = c.watchedKeys.isEmpty ? -1 : topology.myIndex
        var spans = false
        forEachQueuedKeySlot(c) { slot in
            let owner = topology.owner(ofSlot: slot)
            if shard < 0 { shard = owner } else if owner != shard { spans = true }
        }
        if spans { return .discardTransaction(crossSlotError) }
        if shard < 0 || shard == topology.myIndex { return .local }
        // The other shard runs it for us: SELECT and HELLO are carried over
        // (on the client's own link); other connection-state commands would
        // change the link's connection, not the client's.
        if let q = c.multiQueue.first(where: { ShardEngine.connectionStateCommands.contains($0.command.name) }) {
            return .discardTransaction("ERR \(q.command.fullName.uppercased()) inside a transaction that runs on another shard is not supported")
        }
        let changesState = c.multiQueue.contains { $0.command.name == "select" || $0.command.name == "hello" }
        return .transaction(shard, exclusive: changesState)
    }

    static let connectionStateCommands: Set<String> = ["client", "reset", "auth", "readonly",
                                                        "readwrite", "asking", "quit", "monitor"]

    /// The database and protocol a client has after a transaction that ran
    /// elsewhere: its SELECT and HELLO commands, as they would have applied.
    public func applyConnectionState(_ c: Client, of transaction: [[[UInt8]]]) {
        for argv in transaction where argv.count >= 2 {
            let name = String(decoding: argv[0], as: UTF8.self).lowercased()
            let value = Int(String(decoding: argv[1], as: UTF8.self))
            if name == "select", let i = value, let db = database(i) {
                c.db = db
            } else if name == "hello", let v = value, v == 2 || v == 3 {
                c.reply.proto = v
            }
        }
    }

    /// Whether `c` must follow Redis Cluster's restrictions (database 0 only,
    /// no MOVE/SWAPDB): a shard-port connection, or cluster-enabled.
    func clusterRestricted(_ c: Client) -> Bool { clusterEnabled || c.routing == .cluster }

    /// Whether key patterns (SORT BY/GET) may name keys this shard does not have.
    func keysSpanProcesses(_ c: Client) -> Bool { clusterRestricted(c) || (cluster?.shardCount ?? 1) > 1 }

    /// Ends the client's transaction without running it; returns the queued
    /// commands' arguments (to run them elsewhere), or nothing.
    public func takeTransaction(_ c: Client) -> [[[UInt8]]] {
        let queue = c.multiQueue
        c.inMulti = false
        c.multiQueue = []
        c.multiError = false
        unwatchAll(c)
        return queue.map { q in q.spans.map { Array(q.bytes[$0.offset..<($0.offset + $0.count)]) } }
    }

    private func infoNeedsKeyspace(_ args: Args) -> Bool {
        if args.count == 1 { return true }
        for i in 1..<args.count {
            if args.equals(i, "keyspace") || args.equals(i, "all") || args.equals(i, "everything")
                || args.equals(i, "default") { return true }
        }
        return false
    }

    static let fanOutCommands: [String: FanOut] = [
        "mget": .mget, "mset": .mset,
        "del": .countKeys, "exists": .countKeys, "unlink": .countKeys, "touch": .countKeys,
        "dbsize": .sum, "publish": .sum, "spublish": .sum,
        "keys": .concat,
        "flushall": .broadcast, "flushdb": .broadcast, "swapdb": .broadcast,
        "save": .broadcast, "bgsave": .broadcast, "bgrewriteaof": .broadcast, "config|set": .broadcast,
        "config|resetstat": .broadcast, "client|pause": .broadcast, "client|unpause": .broadcast,
        "module|load": .broadcast, "module|loadex": .broadcast, "module|unload": .broadcast,
        "scan": .scan, "randomkey": .randomKey, "info": .info,
        "pubsub|numsub": .numsub, "pubsub|shardnumsub": .numsub, "pubsub|numpat": .sum,
        "pubsub|channels": .union, "pubsub|shardchannels": .union,
    ]

    /// Commands with key-like arguments that are this connection's own state.
    static let localOnlyCommands: Set<String> = ["ssubscribe", "sunsubscribe", "cluster|keyslot",
                                                 "cluster|countkeysinslot", "cluster|getkeysinslot"]
}
