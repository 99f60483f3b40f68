// CLUSTER, READONLY, READWRITE, ASKING: what cluster-aware clients (redis-py
// RedisCluster, redis-cli -c, redis-benchmark --cluster) ask before routing
// to the shard ports. Every shard is a master owning one slot range; there
// are no replicas, so the topology is static and the same on every shard.

extension ShardEngine {
    static func clusterCommands() -> [Command] {
        let f: CommandFlags = [.stale]
        return [
            Command("cluster", arity: -2, group: .cluster, since: "3.0.0", handler: { _ in }).withSubcommands([
                Command("keyslot", arity: 3, flags: f, group: .cluster, since: "3.0.0", handler: clusterKeySlotCommand),
                Command("slots", arity: 2, flags: f, group: .cluster, since: "3.0.0", handler: clusterSlotsCommand),
                Command("shards", arity: 2, flags: f, group: .cluster, since: "7.0.0", handler: clusterShardsCommand),
                Command("nodes", arity: 2, flags: f, group: .cluster, since: "3.0.0", handler: clusterNodesCommand),
                Command("info", arity: 2, flags: f, group: .cluster, since: "3.0.0", handler: clusterInfoCommand),
                Command("myid", arity: 2, flags: f, group: .cluster, since: "3.0.0", handler: clusterMyIdCommand),
                Command("countkeysinslot", arity: 3, flags: f, group: .cluster, since: "3.0.0", handler: clusterCountKeysCommand),
                Command("getkeysinslot", arity: 4, flags: f, group: .cluster, since: "3.0.0", handler: clusterGetKeysCommand),
                Command("help", arity: 2, flags: f.union(.loading), group: .cluster, since: "5.0.0", handler: clusterHelpCommand),
            ]),
            Command("readonly", arity: 1, flags: [.loading, .stale, .fast], group: .cluster, since: "3.0.0",
                    handler: clusterOKCommand),
            Command("readwrite", arity: 1, flags: [.loading, .stale, .fast], group: .cluster, since: "3.0.0",
                    handler: clusterOKCommand),
            Command("asking", arity: 1, flags: [.fast], group: .cluster, since: "3.0.0", handler: clusterOKCommand),
        ]
    }

    /// The topology when cluster support (the shard ports) is on; otherwise replies Redis's error.
    private static func clusterTopology(_ c: Client) -> ClusterTopology? {
        if let t = c.engine.cluster, t.clusterEnabled { return t }
        c.error(static: "ERR This instance has cluster support disabled")
        return nil
    }

    static func clusterHelpCommand(_ c: Client) {
        let lines = [
            "CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "COUNTKEYSINSLOT <slot>",
            "    Return the number of keys in <slot>.",
            "GETKEYSINSLOT <slot> <count>",
            "    Return key names stored by current node in a slot.",
            "INFO",
            "    Return information about the cluster.",
            "KEYSLOT <key>",
            "    Return the hash slot for <key>.",
            "MYID",
            "    Return the node id.",
            "NODES",
            "    Return cluster configuration seen by node. Output format:",
            "    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
            "SHARDS",
            "    Return information about slot range mappings and the nodes associated with them.",
            "SLOTS",
            "    Return information about slots range mappings. Each range is made of:",
            "    start, end, master and replicas IP addresses, ports and ids",
            "HELP",
            "    Print this help.",
        ]
        c.reply.array(lines.count)
        for l in lines { c.reply.simple(string: l) }
    }

    static func clusterOKCommand(_ c: Client) {
        if clusterTopology(c) != nil { c.reply.ok() }
    }

    static func clusterKeySlotCommand(_ c: Client) {
        c.reply.integer(HashSlot.of(c.args[2]))
    }

    static func clusterMyIdCommand(_ c: Client) {
        guard let t = clusterTopology(c) else { return }
        c.reply.bulk(string: t.nodeIds[t.myIndex])
    }

    static func clusterSlotsCommand(_ c: Client) {
        guard let t = clusterTopology(c) else { return }
        c.reply.array(t.shardCount)
        for shard in 0..<t.shardCount {
            let (first, last) = t.slotRange(of: shard)
            c.reply.array(3)
            c.reply.integer(first)
            c.reply.integer(last)
            c.reply.array(4)
            c.reply.bulk(string: t.announceHost)
            c.reply.integer(t.clusterPorts[shard])
            c.reply.bulk(string: t.nodeIds[shard])
            c.reply.array(0)
        }
    }

    static func clusterShardsCommand(_ c: Client) {
        guard let t = clusterTopology(c) else { return }
        c.reply.array(t.shardCount)
        for shard in 0..<t.shardCount {
            let (first, last) = t.slotRange(of: shard)
            c.reply.map(2)
            c.reply.bulk(string: "slots")
            c.reply.array(2)
            c.reply.integer(first)
            c.reply.integer(last)
            c.reply.bulk(string: "nodes")
            c.reply.array(1)
            c.reply.map(7)
            c.reply.bulk(string: "id"); c.reply.bulk(string: t.nodeIds[shard])
            c.reply.bulk(string: "port"); c.reply.integer(t.clusterPorts[shard])
            c.reply.bulk(string: "ip"); c.reply.bulk(string: t.announceHost)
            c.reply.bulk(string: "endpoint"); c.reply.bulk(string: t.announceHost)
            c.reply.bulk(string: "role"); c.reply.bulk(string: "master")
            c.reply.bulk(string: "replication-offset"); c.reply.integer(0)
            c.reply.bulk(string: "health"); c.reply.bulk(string: "online")
        }
    }

    static func clusterNodesCommand(_ c: Client) {
        guard let t = clusterTopology(c) else { return }
        var text = ""
        for shard in 0..<t.shardCount {
            let (first, last) = t.slotRange(of: shard)
            let port = t.clusterPorts[shard]
            let flags = shard == t.myIndex ? "myself,master" : "master"
            let pong = shard == t.myIndex ? 0 : c.engine.now
            text += "\(t.nodeIds[shard]) \(t.announceHost):\(port)@\(port + 10000) \(flags) - 0 \(pong) \(shard + 1) connected \(first)-\(last)\n"
        }
        c.reply.verbatim(text)
    }

    static func clusterInfoCommand(_ c: Client) {
        guard let t = clusterTopology(c) else { return }
        let fields: [(String, Int)] = [
            ("cluster_slots_assigned", HashSlot.count), ("cluster_slots_ok", HashSlot.count),
            ("cluster_slots_pfail", 0), ("cluster_slots_fail", 0),
            ("cluster_known_nodes", t.shardCount), ("cluster_size", t.shardCount),
            ("cluster_current_epoch", t.shardCount), ("cluster_my_epoch", t.myIndex + 1),
            ("cluster_stats_messages_sent", 0), ("cluster_stats_messages_received", 0),
            ("total_cluster_links_buffer_limit_exceeded", 0),
        ]
        c.reply.verbatim("cluster_state:ok\r\n" + fields.map { "\($0.0):\($0.1)\r\n" }.joined())
    }

    private static func slotArgument(_ c: Client, _ i: Int) -> Int? {
        guard let slot = c.args.int64(i), slot >= 0, slot < HashSlot.count else {
            c.error(static: "ERR Invalid slot")
            return nil
        }
        return Int(slot)
    }

    /// Keys of db 0 in `slot` (a scan: Tessera keeps no per-slot index, these are admin commands).
    private static func keys(inSlot slot: Int, of c: Client, limit: Int) -> [[UInt8]] {
        var out: [[UInt8]] = []
        c.engine.databases[0].forEach { e in
            if out.count < limit && HashSlot.of(e.key) == slot { out.append(e.keyBytes) }
        }
        return out
    }

    static func clusterCountKeysCommand(_ c: Client) {
        guard clusterTopology(c) != nil, let slot = slotArgument(c, 2) else { return }
        c.reply.integer(keys(inSlot: slot, of: c, limit: Int.max).count)
    }

    static func clusterGetKeysCommand(_ c: Client) {
        guard clusterTopology(c) != nil, let slot = slotArgument(c, 2) else { return }
        guard let n = c.args.int64(3), n >= 0 else { c.error(static: "ERR Invalid number of keys"); return }
        let found = keys(inSlot: slot, of: c, limit: Int(n))
        c.reply.array(found.count)
        for k in found { c.reply.bulk(k) }
    }
}
