// The fsync thread of appendfsync everysec (Redis's bio AOF fsync job): the
// loop hands it a file descriptor and never waits for the disk itself. The
// result of the last fsync is kept for the loop (an fsync error refuses writes).

import Foundation
import Glibc

final class BackgroundFsync: @unchecked Sendable {
    private let cond = NSCondition()
    private var pendingFD: Int32 = -1
    private var running = false
    private var started = false
    private var lastErrno: Int32 = 0
    private var failed = false

    /// Queues an fsync of `fd` unless one is already queued or running.
    func request(_ fd: Int32) {
        cond.lock()
        if !started {
            started = true
            let t = Thread { [unowned self] in self.work() }
            t.name = "aof-fsync"
            t.start()
        }
        if pendingFD < 0 && !running {
            pendingFD = fd
            cond.signal()
        }
        cond.unlock()
    }

    /// True while an fsync is queued or in progress.
    var inProgress: Bool {
        cond.lock(); defer { cond.unlock() }
        return pendingFD >= 0 || running
    }

    /// The error of the last background fsync, if it failed.
    var lastError: Int32? {
        cond.lock(); defer { cond.unlock() }
        return failed ? lastErrno : nil
    }

    /// Waits until no fsync is queued or running (before closing the file).
    func drain() {
        cond.lock()
        while pendingFD >= 0 || running { cond.wait() }
        cond.unlock()
    }

    private func work() {
        cond.lock()
        while true {
            while pendingFD < 0 { cond.wait() }
            let fd = pendingFD
            pendingFD = -1
            running = true
            cond.unlock()
            let r = fdatasync(fd)
            let e = errno
            cond.lock()
            running = false
            // EBADF/EINVAL: the file was closed or switched meanwhile; not a disk error.
            if r != 0 && e != EBADF && e != EINVAL { failed = true; lastErrno = e } else if r == 0 { failed = false }
            cond.broadcast()
        }
    }
}
