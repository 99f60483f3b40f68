// Merging the replies of a command spread over shards into Redis's reply.

import Testing
@testable import ShardRuntime
@testable import Engine

private func b(_ s: String) -> [UInt8] { Array(s.utf8) }
private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

@Suite("Fan-out merge")
struct FanOutMergeTests {
    @Test func mgetPutsValuesBackInKeyOrder() {
        // MGET a b c d: shard 0 had keys 0 and 2, shard 1 keys 1 and 3.
        var shape = FanOutShape(kind: .mget, shardCount: 2)
        shape.positions = [[0, 2], [1, 3]]
        shape.totalKeys = 4
        let merged = FanOutMerge.merge(shape, [b("*2\r\n$1\r\na\r\n$-1\r\n"), b("*2\r\n$1\r\nb\r\n$1\r\nd\r\n")])
        #expect(text(merged) == "*4\r\n$1\r\na\r\n$1\r\nb\r\n$-1\r\n$1\r\nd\r\n")
    }

    @Test func countsAreSummed() {
        let shape = FanOutShape(kind: .countKeys, shardCount: 3)
        #expect(text(FanOutMerge.merge(shape, [b(":2\r\n"), b(":0\r\n"), b(":5\r\n")])) == ":7\r\n")
    }

    @Test func theFirstErrorWins() {
        let shape = FanOutShape(kind: .broadcast, shardCount: 2)
        #expect(text(FanOutMerge.merge(shape, [b("+OK\r\n"), b("-ERR no\r\n")])) == "-ERR no\r\n")
        #expect(text(FanOutMerge.merge(shape, [b("+OK\r\n"), b("+OK\r\n")])) == "+OK\r\n")
    }

    @Test func keysAreConcatenated() {
        let shape = FanOutShape(kind: .concat, shardCount: 2)
        let merged = FanOutMerge.merge(shape, [b("*1\r\n$1\r\nx\r\n"), b("*0\r\n")])
        #expect(text(merged) == "*1\r\n$1\r\nx\r\n")
    }

    @Test func scanCursorsEncodeTheShard() {
        var shape = FanOutShape(kind: .scan, shardCount: 3)
        shape.scanShard = 1
        // Shard 1 goes on at its cursor 5: 5·3 + 1.
        #expect(text(FanOutMerge.merge(shape, [b("*2\r\n$1\r\n5\r\n*1\r\n$1\r\nk\r\n")])) == "*2\r\n$2\r\n16\r\n*1\r\n$1\r\nk\r\n")
        // Shard 1 finished: shard 2 starts at its cursor 0.
        #expect(text(FanOutMerge.merge(shape, [b("*2\r\n$1\r\n0\r\n*0\r\n")])) == "*2\r\n$1\r\n2\r\n*0\r\n")
        // The last shard finished: the scan is over.
        shape.scanShard = 2
        #expect(text(FanOutMerge.merge(shape, [b("*2\r\n$1\r\n0\r\n*0\r\n")])) == "*2\r\n$1\r\n0\r\n*0\r\n")
    }

    @Test func infoKeyspaceIsSummed() {
        let local = "# Server\r\nredis_version:7.0.15\r\n\r\n# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n\r\n# Cluster\r\ncluster_enabled:0\r\n"
        let p0 = "# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n"
        let p1 = "# Keyspace\r\ndb0:keys=2,expires=2,avg_ttl=100\r\ndb3:keys=1,expires=0,avg_ttl=0\r\n"
        func bulk(_ s: String) -> [UInt8] { b("$\(s.utf8.count)\r\n\(s)\r\n") }
        let merged = FanOutMerge.merge(FanOutShape(kind: .info, shardCount: 2), [bulk(local), bulk(p0), bulk(p1)])
        let expected = "# Server\r\nredis_version:7.0.15\r\n\r\n# Keyspace\r\ndb0:keys=3,expires=2,avg_ttl=100\r\ndb3:keys=1,expires=0,avg_ttl=0\r\n\r\n# Cluster\r\ncluster_enabled:0\r\n"
        #expect(text(merged) == text(bulk(expected)))
    }
}
