// The replies a main-port connection owes its client, in the order it sent
// its commands. A command forwarded to another shard (or fanned out to
// several) takes a slot when it is sent; a command run here while earlier
// replies are still owed has its reply held in a slot behind them. Replies
// leave only from the head, so the client sees them in command order,
// whichever shard answers first.

import RESP
import DequeModule

/// One owed reply: empty until it arrives (or holds a local reply).
final class PendingReply {
    /// The connection it is owed to (what a link's reply is routed back to).
    /// Strong: a link may deliver after the connection closed (`conn.closed`
    /// says so); the cycle with `Connection.replies` ends when the slot leaves
    /// the queue or the connection closes (removeAll).
    let conn: Connection
    var bytes: [UInt8]? = nil
    /// CLIENT REPLY OFF/SKIP: the reply is dropped when it arrives.
    var silent = false

    init(_ conn: Connection, bytes: [UInt8]? = nil, silent: Bool = false) {
        self.conn = conn
        self.bytes = bytes
        self.silent = silent
    }
}

struct ReplyOrder {
    private var slots = Deque<PendingReply>()

    /// Nothing owed: a reply produced now can go straight to the output.
    var isEmpty: Bool { slots.isEmpty }
    var count: Int { slots.count }

    /// A slot for a reply that will arrive later (a forwarded command).
    mutating func reserve(for conn: Connection, silent: Bool = false) -> PendingReply {
        let slot = PendingReply(conn, silent: silent)
        slots.append(slot)
        return slot
    }

    /// A reply produced here while earlier ones are owed: it waits behind them.
    mutating func hold(_ bytes: [UInt8], for conn: Connection) {
        slots.append(PendingReply(conn, bytes: bytes))
    }

    /// The reply of `slot` arrived: it and every ready reply after it go to
    /// `output` if it is at the head. Returns whether any bytes were moved.
    mutating func arrived(_ slot: PendingReply, _ reply: UnsafeRawBufferPointer, into output: ByteBuffer) -> Bool {
        if slots.first === slot {
            // The common case (nothing owed before it): straight to the output.
            if !slot.silent { output.append(reply) }
            slots.removeFirst()
            _ = moveReady(into: output)
            return true
        }
        slot.bytes = Array(reply)
        return false
    }

    /// Moves the replies that are ready at the head, in order, to `output`.
    mutating func moveReady(into output: ByteBuffer) -> Bool {
        var moved = false
        while let head = slots.first, let bytes = head.bytes {
            if !head.silent { output.append(bytes) }
            slots.removeFirst()
            moved = true
        }
        return moved
    }

    /// The connection closed: nothing is owed any more.
    mutating func removeAll() { slots.removeAll() }
}
