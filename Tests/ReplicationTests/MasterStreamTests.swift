import Testing
import Glibc
import RESP
@testable import Engine
import Persistence
@testable import Replication
import EngineTestSupport

/// The master side driven through the engine's interface, no sockets: a
/// replica continuing from the backlog (+CONTINUE), the stream it then
/// receives (SELECT when the database changes, each write once), its ACKs
/// and what WAIT, ROLE and min-replicas-to-write make of them.
@Suite("Replication master stream", .serialized)
struct MasterStreamTests {
    final class Master {
        let engine: ShardEngine
        let replication: Replication
        let host = RecordingHost()
        let writer: Client

        init(_ extra: String = "") throws {
            let config = Config()
            try ConfigFile.apply("save \"\"\n" + extra, to: config, file: "test")
            engine = ShardEngine(config: config)
            engine.host = host
            let persistence = Persistence(engine: engine)
            replication = Replication(engine: engine, persistence: persistence)
            writer = engine.createClient(reply: ReplyEncoder())
        }

        func client() -> Client { engine.createClient(reply: ReplyEncoder()) }

        /// Everything `c` has been sent, consumed.
        func output(_ c: Client) -> String {
            let out = c.reply.out
            let s = String(decoding: UnsafeRawBufferPointer(start: out.base + out.readIndex, count: out.readableBytes), as: UTF8.self)
            out.readIndex = out.writeIndex
            return s
        }

        /// A replica attached with PSYNC at the current end of the backlog.
        func attachedReplica() -> Client {
            replication.createBacklog()
            let r = client()
            #expect(run(r, "REPLCONF", "listening-port", "7001") == "+OK\r\n")
            _ = output(r)   // the loop writes it before the replica sends PSYNC
            #expect(run(r, "PSYNC", replication.replid, String(replication.offset + 1)) == "+CONTINUE \(replication.replid)\r\n")
            _ = output(r)
            return r
        }
    }

    @Test func aReplicaContinuesFromTheBacklogAndReceivesEachWriteOnce() throws {
        let m = try Master()
        m.replication.createBacklog()
        #expect(run(m.writer, "SET", "a", "1") == "+OK\r\n")
        let offsetAfterA = m.replication.offset
        #expect(offsetAfterA > 0, "a backlog makes the stream count")
        #expect(run(m.writer, "SET", "b", "2") == "+OK\r\n")
        // A replica that had everything up to the first write gets the second one.
        let r = m.client()
        let reply = run(r, "PSYNC", m.replication.replid, String(offsetAfterA + 1))
        #expect(reply == "+CONTINUE \(m.replication.replid)\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n")
        #expect(r.isReplicaLink)
        #expect(m.engine.stats.syncPartialOk == 1)
        _ = m.output(r)
        // Later writes follow, with SELECT when the database changes.
        _ = run(m.writer, "SELECT", "3")
        _ = run(m.writer, "INCR", "n")
        #expect(m.output(r) == "*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n")
        #expect(m.host.withOutput.contains(r.id))
        // A read produces no stream.
        let before = m.replication.offset
        _ = run(m.writer, "GET", "n")
        #expect(m.replication.offset == before)
    }

    @Test func anUnknownHistoryOrAnOffsetOutsideTheBacklogIsNotContinued() throws {
        let m = try Master("repl-backlog-size 16\n")
        m.replication.createBacklog()
        _ = run(m.writer, "SET", "some-key", "a value longer than the backlog")
        let tooOld = m.client()
        // Not continued: a full sync would start (a fork), so only the refusal is checked here.
        #expect(!m.replication.backlog!.covers(1))
        #expect(run(tooOld, "PSYNC", m.replication.replid, "notanumber") == "-ERR value is not an integer or out of range\r\n")
        #expect(!tooOld.isReplicaLink)
    }

    @Test func waitCountsAcknowledgedOffsetsAndRoleListsTheReplica() throws {
        let m = try Master()
        let r = m.attachedReplica()
        _ = run(m.writer, "SET", "k", "v")
        let target = m.writer.replicationOffset
        #expect(target == m.replication.offset)
        _ = m.output(m.writer)
        #expect(run(m.writer, "WAIT", "1", "0") == "", "blocked until the replica acknowledges")
        #expect(m.writer.blocked != nil)
        #expect(run(r, "REPLCONF", "ACK", String(target)) == "", "ACKs get no reply")
        #expect(m.output(m.writer) == ":1\r\n")
        #expect(m.writer.blocked == nil)
        #expect(run(m.writer, "WAIT", "1", "0") == ":1\r\n", "already acknowledged: answered at once")
        // The replica's address is its connection's (a test client has none: "?").
        let acked = String(target)
        #expect(run(m.client(), "ROLE") == "*3\r\n$6\r\nmaster\r\n:\(m.replication.offset)\r\n*1\r\n*3\r\n$1\r\n?\r\n$4\r\n7001\r\n$\(acked.count)\r\n\(acked)\r\n")
    }

    @Test func minReplicasToWriteRefusesWritesWithoutRecentAcks() throws {
        let m = try Master("min-replicas-to-write 1\nmin-replicas-max-lag 10\n")
        #expect(run(m.writer, "SET", "k", "v") == "-NOREPLICAS Not enough good replicas to write.\r\n")
        #expect(run(m.writer, "GET", "k") == "$-1\r\n", "reads are not refused")
        let r = m.attachedReplica()
        _ = run(r, "REPLCONF", "ACK", String(m.replication.offset))
        m.replication.updateGoodReplicas(ShardEngine.wallClockMs())
        #expect(run(m.writer, "SET", "k", "v") == "+OK\r\n")
    }

    @Test func replconfRefusesUnknownOptions() throws {
        let m = try Master()
        #expect(run(m.client(), "REPLCONF", "foo", "bar") == "-ERR Unrecognized REPLCONF option: foo\r\n")
        #expect(run(m.client(), "REPLCONF", "listening-port") == "-ERR syntax error\r\n")
        #expect(run(m.client(), "REPLCONF", "capa", "eof", "capa", "psync2") == "+OK\r\n")
    }
}
