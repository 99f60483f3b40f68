// Hash slots and the split of the slots over shards: the slot function must
// be Redis Cluster's bit for bit (clients compute it too).

import Testing
@testable import Engine
import EngineTestSupport

@Suite("Cluster topology")
struct ClusterTopologyTests {
    @Test func crc16IsXmodem() {
        // The standard CRC-16/XMODEM check value.
        #expect(Array("123456789".utf8).withUnsafeBytes { HashSlot.crc16($0) } == 0x31C3)
    }

    @Test func slotsMatchRedisCluster() {
        // Values from Redis Cluster (CLUSTER KEYSLOT).
        #expect(HashSlot.of(Array("foo".utf8)) == 12182)
        #expect(HashSlot.of(Array("bar".utf8)) == 5061)
        #expect(HashSlot.of(Array("".utf8)) == 0)
    }

    @Test func hashTagsHashOnlyTheTag() {
        let tag = HashSlot.of(Array("user1000".utf8))
        #expect(HashSlot.of(Array("{user1000}.following".utf8)) == tag)
        #expect(HashSlot.of(Array("{user1000}.followers".utf8)) == tag)
        // An empty tag, or no closing brace: the whole key counts.
        #expect(HashSlot.of(Array("foo{}{bar}".utf8)) != HashSlot.of(Array("bar".utf8)))
        #expect(HashSlot.of(Array("{}foo".utf8)) != HashSlot.of(Array("foo".utf8)))
        #expect(HashSlot.of(Array("foo{bar".utf8)) != HashSlot.of(Array("bar".utf8)))
        // Only the first {...} counts.
        #expect(HashSlot.of(Array("foo{{bar}}zap".utf8)) == HashSlot.of(Array("{bar".utf8)))
        #expect(HashSlot.of(Array("foo{bar}{zap}".utf8)) == HashSlot.of(Array("bar".utf8)))
    }

    @Test(arguments: [1, 2, 3, 4, 7, 16])
    func shardsOwnContiguousRangesCoveringEverySlot(_ n: Int) {
        let t = ClusterTopology(shardCount: n, myIndex: 0, clusterPortBase: 7000, announceHost: "127.0.0.1")
        var next = 0
        for shard in 0..<n {
            let (first, last) = t.slotRange(of: shard)
            #expect(first == next)
            #expect(last >= first)
            for s in [first, (first + last) / 2, last] { #expect(t.owner(ofSlot: s) == shard) }
            next = last + 1
        }
        #expect(next == HashSlot.count)
        #expect(Set(t.nodeIds).count == n)
        #expect(t.nodeIds.allSatisfy { $0.count == 40 && $0.allSatisfy(\.isHexDigit) })
        #expect(t.clusterPorts == (0..<n).map { 7000 + $0 })
    }

    @Test func nodeIdsAreStableAcrossRestarts() {
        let a = ClusterTopology(shardCount: 3, myIndex: 0, clusterPortBase: 7000, announceHost: "h")
        let b = ClusterTopology(shardCount: 3, myIndex: 2, clusterPortBase: 7000, announceHost: "h")
        #expect(a.nodeIds == b.nodeIds)
    }
}
