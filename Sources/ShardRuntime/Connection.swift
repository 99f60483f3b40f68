// One client socket: its query buffer, request parser and engine-side Client.

import Engine
import RESP

final class Connection {
    let fd: Int32
    let client: Client
    let query: ByteBuffer
    var parser: RequestParser
    /// True while EPOLLOUT is registered (a write did not finish).
    var wantsWrite = false
    /// The socket reported writable this round: the write waits for
    /// flushPending, after the round's AOF stage.
    var writableNow = false
    /// True while queued in the loop's list of connections to flush.
    var pendingFlush = false
    var closed = false
    /// Bytes of the half-received command at the buffer's read position that the parser already consumed.
    var parsedAhead = 0
    /// Largest query buffer content since the last clients cron (buffer resizing).
    var queryPeak = 0
    /// Replies owed in command order while forwarded commands are out (Forwarder).
    var replies = ReplyOrder()
    /// Parsing stopped until `replies` drains.
    var waitingForReplies = false
    /// This connection's own links to other shards (blocking commands).
    var privateLinks: [PeerLink] = []

    init(fd: Int32, client: Client, maxBulk: Int) {
        self.fd = fd
        self.client = client
        self.query = ByteBuffer(capacity: 16 * 1024)
        self.parser = RequestParser(maxBulkLength: maxBulk)
    }

    var output: ByteBuffer { client.reply.out }
}
