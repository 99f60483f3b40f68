// Writing a connection's pending output to its non-blocking socket: shared
// by client connections (ShardLoop) and links to other shards (Forwarder).

import Glibc
import CShims
import RESP

enum DrainResult {
    /// Everything was written (the buffer is reset for reuse).
    case drained
    /// The socket is full: wait for EPOLLOUT.
    case blocked
    /// The peer is gone.
    case failed
}

/// Writes `out` to `fd` until it is empty or the socket is full; `written` counts the bytes sent.
func drain(_ out: ByteBuffer, to fd: Int32, written: inout Int) -> DrainResult {
    while out.readableBytes > 0 {
        let n = Glibc.write(fd, out.base + out.readIndex, out.readableBytes)
        if n < 0 {
            let e = ts_errno()
            if e == EINTR { continue }
            return e == EAGAIN ? .blocked : .failed
        }
        out.readIndex += n
        written += n
    }
    out.readIndex = 0
    out.writeIndex = 0
    return .drained
}

/// Turns EPOLLOUT interest on or off for `fd` (EPOLLIN stays on).
func setWriteInterest(_ epfd: Int32, _ fd: Int32, data: UInt64, _ on: Bool) {
    let events = UInt32(EPOLLIN.rawValue) | (on ? UInt32(EPOLLOUT.rawValue) : 0)
    _ = ts_epoll_ctl(epfd, EPOLL_CTL_MOD, fd, events, data)
}
