// A connection from this shard to another shard's internal listener (or to
// its own, for the local part of a fan-out). Commands go out in RESP; the
// replies come back in the same order, so a FIFO of waiters says what each
// reply is for.

import Glibc
import CShims
import Engine
import RESP
import DequeModule

/// What a link's next reply is for.
enum LinkWaiter {
    /// The reply to a command we added (SELECT, HELLO, MULTI, QUEUED...).
    case discard
    case reply(PendingReply)
    case part(FanOutRequest, Int)
}

final class PeerLink {
    let id: Int
    let shard: Int
    /// The RESP version the link speaks (the clients it serves speak it too).
    var proto: Int
    let fd: Int32
    let output = ByteBuffer(capacity: 4096)
    let input = ByteBuffer(capacity: 16 * 1024)
    var waiters = Deque<LinkWaiter>()
    /// The database the link's connection has selected on the peer.
    var db = 0
    var wantsWrite = false
    var queuedForFlush = false
    var closed = false
    /// The connection this link belongs to (blocking commands), nil for a shared link.
    weak var owner: Connection?

    init(id: Int, shard: Int, proto: Int, fd: Int32) {
        self.id = id
        self.shard = shard
        self.proto = proto
        self.fd = fd
    }

    func append(_ args: Args) {
        var out = output
        out.appendCommandHeader(args.count)
        for i in 0..<args.count { out.appendBulkArgument(args[i]) }
    }

    func append(_ argv: [[UInt8]]) {
        var out = output
        out.appendCommand(argv)
    }

    /// Makes the peer's connection use database `db` for what follows.
    func select(_ db: Int) {
        if db == self.db { return }
        append([Array("SELECT".utf8), Array(String(db).utf8)])
        waiters.append(.discard)
        self.db = db
    }
}

/// A command spread over several shards: the parts' replies, merged when the last arrives.
final class FanOutRequest {
    let reply: PendingReply
    var shape: FanOutShape
    var parts: [[UInt8]]
    var remaining: Int

    init(shape: FanOutShape, reply: PendingReply, parts: Int) {
        self.shape = shape
        self.reply = reply
        self.parts = Array(repeating: [], count: parts)
        self.remaining = parts
    }
}

/// What merging a fan-out's parts needs to know besides the parts.
struct FanOutShape {
    let kind: FanOut
    var shardCount = 1
    /// MGET: the positions (in the original key list) of each part's keys.
    var positions: [[Int]] = []
    var totalKeys = 0
    /// SCAN: the shard that continued the scan.
    var scanShard = 0
}
