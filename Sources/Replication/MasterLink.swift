// This replica's connection to its master before it becomes the master
// link client: connecting, the handshake replies still expected, and the
// RDB payload being received into a temp file.

import Glibc
import CShims
import Engine

final class MasterLink {
    let host: String
    let port: Int

    enum State { case connect, connecting, handshake, transfer, connected }
    var state: State = .connect
    /// When the current state began (connect and handshake timeouts).
    var sinceMs: Int64
    /// When the link went down (nil: it was never up).
    var downSinceMs: Int64? = nil
    var fd: Int32 = -1
    /// Bytes read and not yet consumed (handshake lines, the payload header).
    var input: [UInt8] = []

    /// Replies the handshake still waits for, in order.
    enum Expected { case pong, auth, listeningPort, ipAddress, capa, psync }
    var expected: [Expected] = []

    // The full sync in progress: +FULLRESYNC's id and offset, the temp file.
    var syncID = ""
    var syncOffset: Int64 = 0
    var tempName = ""
    var fileFD: Int32 = -1
    /// Payload size ($<size>); -1 until the header arrived; with an EOF mark, the bytes so far.
    var transferSize: Int64 = -1
    var eofMark: [UInt8]? = nil
    var transferRead: Int64 = 0
    var lastIOMs: Int64

    init(host: String, port: Int, now: Int64) {
        self.host = host
        self.port = port
        self.sinceMs = now
        self.lastIOMs = now
    }

    var inHandshake: Bool { state == .connecting || state == .handshake }

    /// ROLE's name of the state.
    var roleState: String {
        switch state {
        case .connect: return "connect"
        case .connecting: return "connecting"
        case .handshake: return "handshake"
        case .transfer: return "sync"
        case .connected: return "connected"
        }
    }

    /// Closes what the link holds before it is a client (socket, temp file).
    func abandon(watchedBy host: ShardHost?) {
        if fd >= 0 {
            host?.unwatch(fd)
            close(fd)
            fd = -1
        }
        abandonTransfer()
        input = []
        expected = []
    }

    func abandonTransfer() {
        if fileFD >= 0 { close(fileFD); fileFD = -1 }
        if !tempName.isEmpty { unlink(tempName); tempName = "" }
        transferSize = -1
        eofMark = nil
        transferRead = 0
    }

    /// INFO's master_sync_* fields while a full sync transfers.
    func syncFields(now: Int64) -> [(String, String)] {
        guard state == .transfer else { return [] }
        let total = eofMark == nil ? max(transferSize, 0) : -1
        let left = total >= 0 ? total - transferRead : -1
        let perc = total > 0 ? Double(transferRead) * 100 / Double(total) : 0
        return [
            ("master_sync_total_bytes", String(total)),
            ("master_sync_read_bytes", String(transferRead)),
            ("master_sync_left_bytes", String(left)),
            ("master_sync_perc", formatPercent(perc)),
            ("master_sync_last_io_seconds_ago", String((now - lastIOMs) / 1000)),
        ]
    }

    private func formatPercent(_ v: Double) -> String {
        let hundredths = Int((v * 100).rounded())
        let frac = hundredths % 100
        return "\(hundredths / 100).\(frac < 10 ? "0" : "")\(frac)"
    }
}
