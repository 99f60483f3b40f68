// Replies leave a main-port connection in command order, whichever shard
// answers first (ReplyOrder, used by the Forwarder). No sockets: the replies
// are handed to the queue as a link would deliver them.

import Testing
import RESP
@testable import ShardRuntime
@testable import Engine

@Suite("Reply order of a pipeline")
struct ReplyOrderTests {
    final class Pipeline {
        let engine = ShardEngine(config: Config())
        let conn: Connection
        init() {
            conn = Connection(fd: -1, client: engine.createClient(reply: ReplyEncoder()), maxBulk: 512 << 20)
        }
        var output: String { String(decoding: conn.output.readableView, as: UTF8.self) }
        func arrive(_ slot: PendingReply, _ reply: String) -> Bool {
            Array(reply.utf8).withUnsafeBytes { conn.replies.arrived(slot, $0, into: conn.output) }
        }
    }

    /// GET a (forwarded), PING (run here), GET c (forwarded); c's shard
    /// answers first, then a's: the client reads a, PONG, c.
    @Test func laterRepliesWaitForEarlierOnes() {
        let p = Pipeline()
        let a = p.conn.replies.reserve(for: p.conn)
        p.conn.replies.hold(Array("+PONG\r\n".utf8), for: p.conn)
        let c = p.conn.replies.reserve(for: p.conn)
        #expect(!p.arrive(c, "$1\r\nc\r\n"))
        #expect(p.output.isEmpty, "nothing may overtake the first owed reply")
        #expect(p.arrive(a, "$1\r\na\r\n"))
        #expect(p.output == "$1\r\na\r\n+PONG\r\n$1\r\nc\r\n")
        #expect(p.conn.replies.isEmpty)
    }

    @Test func aReplyAtTheHeadGoesStraightOut() {
        let p = Pipeline()
        let a = p.conn.replies.reserve(for: p.conn)
        let b = p.conn.replies.reserve(for: p.conn)
        #expect(p.arrive(a, ":1\r\n"))
        #expect(p.output == ":1\r\n")
        #expect(p.conn.replies.count == 1)
        #expect(p.arrive(b, ":2\r\n"))
        #expect(p.output == ":1\r\n:2\r\n")
    }

    /// CLIENT REPLY OFF/SKIP: a silenced forwarded reply keeps its place but is dropped.
    @Test func silencedRepliesKeepTheirPlaceButAreDropped() {
        let p = Pipeline()
        let a = p.conn.replies.reserve(for: p.conn, silent: true)
        let b = p.conn.replies.reserve(for: p.conn)
        #expect(!p.arrive(b, "+OK\r\n"))
        #expect(p.arrive(a, "+IGNORED\r\n"))
        #expect(p.output == "+OK\r\n")
    }

    @Test func heldLocalRepliesLeaveOnceTheHeadArrives() {
        let p = Pipeline()
        let a = p.conn.replies.reserve(for: p.conn)
        for i in 0..<3 { p.conn.replies.hold(Array(":\(i)\r\n".utf8), for: p.conn) }
        let movedEarly = p.conn.replies.moveReady(into: p.conn.output)
        #expect(!movedEarly)
        #expect(p.arrive(a, "+first\r\n"))
        #expect(p.output == "+first\r\n:0\r\n:1\r\n:2\r\n")
    }
}
