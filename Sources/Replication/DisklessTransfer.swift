// Diskless full sync (repl-diskless-sync): a forked child writes the save
// into a pipe and the master relays it to the replicas as it comes, framed
// as Redis frames a payload of unknown length: `$EOF:<40 random chars>\r\n`,
// the RDB, the same 40 chars. The pipe is read only while every receiving
// replica's output is small, so a slow replica holds the child back instead
// of the master buffering the dataset. A replica goes online with its first
// ACK, sent once it loaded the payload.

import Glibc
import CShims
import Engine

final class DisklessTransfer {
    let pipeFD: Int32
    let mark: [UInt8]
    var watching = false
    var pipeEOF = false
    /// The child's outcome, once reaped.
    var childOK: Bool? = nil
    var buffer = [UInt8](repeating: 0, count: 256 * 1024)

    init(pipeFD: Int32) {
        self.pipeFD = pipeFD
        self.mark = Array(AdminState.randomHex(40).utf8)
    }
}

extension Replication {
    /// Output a receiving replica may hold before the pipe waits for it.
    static let disklessHighWater = 4 << 20

    func startDisklessSave(_ waiting: [ReplicaLink]) {
        logger.notice("Starting BGSAVE for SYNC with target: replicas sockets")
        guard let fd = persistence.bgsaveToPipe() else {
            for r in waiting {
                r.client.error(static: "ERR BGSAVE failed, replication can't continue")
                engine.closeClientAsap(r.client)
            }
            return
        }
        let d = DisklessTransfer(pipeFD: fd)
        diskless = d
        syncSaveRunning = true
        // The replicas load a snapshot without a SELECT: the stream names its database again.
        streamDB = -1
        for r in waiting {
            beginFullSync(r, at: offset)
            r.state = .streamingRDB
            r.client.reply.out.append(string: "$EOF:")
            r.client.reply.out.append(d.mark)
            r.client.reply.out.append(string: "\r\n")
        }
        watchPipe(d)
    }

    private func watchPipe(_ d: DisklessTransfer) {
        guard !d.watching, !d.pipeEOF else { return }
        d.watching = true
        engine.host?.watchReadable(d.pipeFD) { [unowned self] in self.readPipe() }
    }

    private func unwatchPipe(_ d: DisklessTransfer) {
        guard d.watching else { return }
        d.watching = false
        engine.host?.unwatch(d.pipeFD)
    }

    /// The child wrote more: pass it on (or wait while a replica is behind).
    func readPipe() {
        guard let d = diskless else { return }
        let receivers = replicas.filter { $0.state == .streamingRDB }
        if receivers.contains(where: { $0.client.reply.out.readableBytes >= Replication.disklessHighWater }) {
            unwatchPipe(d)
            return
        }
        let n = d.buffer.withUnsafeMutableBytes { read(d.pipeFD, $0.baseAddress, $0.count) }
        if n > 0 {
            for r in receivers {
                d.buffer.withUnsafeBytes { r.client.reply.out.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                engine.host?.clientHasOutput(r.client)
            }
            return
        }
        if n < 0 && (ts_errno() == EAGAIN || ts_errno() == EINTR) { return }
        if n < 0 {
            logger.warning("Diskless rdb transfer, read error from the child's pipe: \(String(cString: strerror(ts_errno())))")
            d.childOK = false
        }
        unwatchPipe(d)
        close(d.pipeFD)
        d.pipeEOF = true
        finishDisklessIfDone(d)
    }

    /// Each round: a paused pipe resumes once the replicas caught up.
    func resumeDisklessPipe() {
        guard let d = diskless, !d.watching, !d.pipeEOF else { return }
        let behind = replicas.contains {
            $0.state == .streamingRDB && $0.client.reply.out.readableBytes >= Replication.disklessHighWater / 2
        }
        if !behind { watchPipe(d) }
    }

    /// Both the pipe's end and the child's exit are known: close the frame.
    func finishDisklessIfDone(_ d: DisklessTransfer) {
        guard d.pipeEOF, let ok = d.childOK else { return }
        diskless = nil
        syncSaveRunning = false
        for r in replicas where r.state == .streamingRDB {
            if ok {
                r.client.reply.out.append(d.mark)
                r.state = .waitOnlineAck
                r.ackTimeMs = ShardEngine.wallClockMs()
                engine.host?.clientHasOutput(r.client)
                logger.notice("Streamed RDB transfer with replica \(r.ip):\(r.listeningPort) succeeded (socket). Waiting for REPLCONF ACK from replica to enable streaming")
            } else {
                logger.warning("SYNC failed. Diskless transfer child returned an error")
                engine.closeClientAsap(r.client)
            }
        }
        startSyncSave()
    }
}
