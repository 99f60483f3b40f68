// A replica connected to this server, as the master side sees it: where it
// is in its sync, what it acknowledged, and the stream it has not been sent
// yet while its RDB is prepared and transferred.

import Glibc
import Engine

/// What a connection said with REPLCONF before it asked for a sync.
struct ReplicaHandshake {
    var port = 0
    var ip: String? = nil
    var capaEOF = false
}

final class ReplicaLink {
    unowned let client: Client

    enum State: Equatable {
        /// Waits for a background save to start (another child runs).
        case waitBgsaveStart
        /// +FULLRESYNC sent; the save for it runs; the stream gathers in `pending`.
        case waitBgsaveEnd
        /// The RDB file goes out in chunks, then `pending`.
        case sendingRDB
        /// Diskless: the save streams from the child's pipe, framed by an EOF mark.
        case streamingRDB
        /// Diskless: all sent; `pending` follows the replica's first ACK
        /// (it acknowledges once it loaded the payload).
        case waitOnlineAck
        /// Receives the stream as it is produced.
        case online
    }
    var state: State

    /// REPLCONF listening-port / ip-address (INFO's slaveN, ROLE).
    var listeningPort = 0
    var announcedIP: String? = nil
    /// SYNC instead of PSYNC: no +FULLRESYNC line.
    var oldProtocol = false
    /// REPLCONF capa eof: it reads a payload framed by an EOF mark (diskless).
    var capaEOF = false
    /// The stream offset its full sync starts after (+FULLRESYNC's offset).
    var syncOffset: Int64 = 0
    /// The last offset it acknowledged (REPLCONF ACK) and when (ms).
    var ackOffset: Int64 = 0
    var ackTimeMs: Int64

    /// Stream bytes produced since its save started, sent after the RDB.
    var pending: [UInt8] = []
    /// The RDB being sent: file, size and bytes already queued.
    var rdbFD: Int32 = -1
    var rdbSize = 0
    var rdbQueued = 0

    init(client: Client, state: State, now: Int64) {
        self.client = client
        self.state = state
        self.ackTimeMs = now
    }

    /// The address INFO and ROLE show: the announced IP, else the peer's.
    var ip: String {
        if let a = announcedIP { return a }
        let addr = client.addr
        guard let colon = addr.lastIndex(of: ":") else { return addr }
        return String(addr[..<colon])
    }

    /// Redis's names of the states (INFO's slaveN state=).
    var stateName: String {
        switch state {
        case .waitBgsaveStart, .waitBgsaveEnd: return "wait_bgsave"
        case .sendingRDB, .streamingRDB, .waitOnlineAck: return "send_bulk"
        case .online: return "online"
        }
    }

    func closeRDB() {
        if rdbFD >= 0 { close(rdbFD); rdbFD = -1 }
    }
}
