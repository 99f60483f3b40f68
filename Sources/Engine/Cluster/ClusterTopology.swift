// How the keyspace is split across this server's shards
// (docs/ARCHITECTURE.md, "The keyspace across shards"). Shard i owns one
// contiguous range of the 16384 hash slots; the ranges are a pure function
// of the shard count, so every shard (and a restarted one) computes the same
// map without talking to the others.

public final class ClusterTopology {
    public let shardCount: Int
    /// This process's shard.
    public let myIndex: Int
    /// Per-shard ports for cluster-aware clients (`shard-ports` base + i), or
    /// empty when they are off.
    public let clusterPorts: [Int]
    /// The address CLUSTER SLOTS/NODES announce for the shard ports.
    public let announceHost: String
    /// Stable 40-hex-digit node ids, one per shard (CLUSTER MYID/NODES).
    public let nodeIds: [String]
    /// The shard owning each slot.
    private let owners: [UInt16]

    public init(shardCount: Int, myIndex: Int, clusterPortBase: Int, announceHost: String) {
        self.shardCount = shardCount
        self.myIndex = myIndex
        self.clusterPorts = clusterPortBase > 0 ? (0..<shardCount).map { clusterPortBase + $0 } : []
        self.announceHost = announceHost
        var owners = [UInt16](repeating: 0, count: HashSlot.count)
        for shard in 0..<shardCount {
            let (first, last) = ClusterTopology.slotRange(shard, of: shardCount)
            for s in first...last { owners[s] = UInt16(shard) }
        }
        self.owners = owners
        self.nodeIds = (0..<shardCount).map { ClusterTopology.nodeId(shard: $0, port: clusterPortBase) }
    }

    /// True when the shard ports (and so the CLUSTER command) are on.
    public var clusterEnabled: Bool { !clusterPorts.isEmpty }

    @inline(__always) public func owner(ofSlot slot: Int) -> Int { Int(owners[slot]) }

    /// First and last slot of `shard` among `count` shards (even split).
    public static func slotRange(_ shard: Int, of count: Int) -> (Int, Int) {
        (shard * HashSlot.count / count, (shard + 1) * HashSlot.count / count - 1)
    }

    public func slotRange(of shard: Int) -> (Int, Int) { ClusterTopology.slotRange(shard, of: shardCount) }

    /// A node id derived from the shard index and port base: stable across
    /// restarts (clients cache them) and distinct per shard.
    static func nodeId(shard: Int, port: Int) -> String {
        var state = UInt64(truncatingIfNeeded: port) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(shard) &+ 0x7465_7373_6572_6100
        var hex = ""
        while hex.count < 40 {
            // SplitMix64 steps.
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            let part = String(z, radix: 16)
            hex += String(repeating: "0", count: 16 - part.count) + part
        }
        return String(hex.prefix(40))
    }
}
