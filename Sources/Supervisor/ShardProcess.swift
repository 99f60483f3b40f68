// One engine shard as the supervisor sees it: its process, the private link
// (a socket pair carrying RESP: PING for liveness, INFO/CONFIG/SAVE for
// management), and its restart history.

import Glibc
import Control
import RESP
import CShims

final class ShardProcess {
    enum State: String { case down, loading, ready, stopping }

    let index: Int
    var pid: pid_t = 0
    /// The process group of the current or the last incarnation: the shard and
    /// whatever it forked (snapshot and rewrite children). Kept after the shard
    /// exits until the group is empty, so a new incarnation never starts while
    /// a process of the old one could still write the shard's files.
    var group: pid_t = 0
    /// Whether the wait for the last incarnation's group was logged.
    var lingerReported = false
    var link: Int32 = -1
    var state = State.down
    /// Whether this process instance answered PONG at least once.
    var everReady = false
    /// The shard's replicaof setting as last seen ("" a master, "host port" a
    /// replica; nil not known yet): a restarted shard keeps its role, so a
    /// crashed replica does not come back as a second master.
    var replicaOf: String? = nil
    var startedAtMs: Int64 = 0
    var restarts = 0
    var backoffMs: Int64 = 0
    var restartAtMs: Int64? = nil
    /// When the outstanding PING was sent (nil: none outstanding).
    var pingSentAtMs: Int64? = nil
    var lastPingSentAtMs: Int64 = 0
    var lastReplyAtMs: Int64 = 0
    var reader = RESPReplyReader()
    /// Completions of the commands sent on the link, in order (replies come in order).
    var pending: [(RESPValue?) -> Void] = []
    /// loading_loaded_perc while the shard loads its dataset (STATUS= progress).
    var loadingPercent: String? = nil
    /// Set by `tessera-ctl restart-shard`: restart even after a clean exit.
    var restartRequested = false

    init(index: Int) { self.index = index }

    /// Sends a command; `done` gets its reply, or nil if the shard went away first.
    func request(_ args: [String], _ done: @escaping (RESPValue?) -> Void) {
        guard link >= 0 else { done(nil); return }
        pending.append(done)
        send(args)
    }

    /// Fails every outstanding request (the link closed).
    func failPending() {
        let p = pending
        pending = []
        for done in p { done(nil) }
    }

    /// Starts the shard: `argv[0]` is the executable; `listeners` are inherited.
    /// `routing` are the worker flags for several shards / shard ports, whose descriptors are `inherited`.
    func spawn(executable: String, arguments: [String], routing: [String] = [], listeners: [Int32],
               inherited: [Int32] = [], environment: [String], nowMs: Int64) throws {
        var pair: [Int32] = [0, 0]
        guard ts_socketpair(&pair) == 0 else { throw SupervisorError("socketpair: \(String(cString: strerror(ts_errno())))") }
        let workerArgs = [executable, "--shard-worker", String(index),
                          "--shard-listen-fds", listeners.map(String.init).joined(separator: ","),
                          "--shard-link", String(pair[1])] + routing + arguments
        let keep = listeners + inherited + [pair[1]]
        let child: pid_t = withCStrings(workerArgs) { argv in
            withCStrings(environment) { envp in
                keep.withUnsafeBufferPointer { k in ts_spawn(executable, argv, envp, k.baseAddress, Int32(k.count)) }
            }
        }
        close(pair[1])
        if child < 0 {
            close(pair[0])
            throw SupervisorError("fork: \(String(cString: strerror(ts_errno())))")
        }
        _ = fcntl(pair[0], F_SETFL, O_NONBLOCK)
        pid = child
        group = child
        lingerReported = false
        link = pair[0]
        state = .loading
        loadingPercent = nil
        everReady = false
        startedAtMs = nowMs
        pingSentAtMs = nil
        lastPingSentAtMs = 0
        lastReplyAtMs = nowMs
        restartAtMs = nil
        reader = RESPReplyReader()
    }

    func send(_ args: [String]) {
        guard link >= 0 else { return }
        let bytes = encodeRESPCommand(args)
        _ = bytes.withUnsafeBytes { Glibc.write(link, $0.baseAddress, $0.count) }
    }

    /// Reads what the link has; false when it is closed.
    func readLink() -> Bool {
        var buf = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.read(link, $0.baseAddress, $0.count) }
            if n > 0 { buf.withUnsafeBytes { reader.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }; continue }
            if n == 0 { return false }
            let e = ts_errno()
            return e == EAGAIN || e == EINTR
        }
    }

    /// Ends what is left of the last incarnation (SIGKILL to its group) and
    /// tells whether any of it still exists; false once the group is gone.
    func oldIncarnationLingers() -> Bool {
        guard pid == 0, group != 0 else { return false }
        if ts_process_group_exists(group) == 0 {
            group = 0
            return false
        }
        _ = killpg(group, SIGKILL)
        return true
    }

    func closeLink() {
        if link >= 0 { close(link) }
        link = -1
        failPending()
    }
}

struct SupervisorError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Runs `body` with a NULL-terminated C array of the strings.
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var ptrs: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    ptrs.append(nil)
    defer { for p in ptrs { free(p) } }
    return ptrs.withUnsafeBufferPointer { body($0.baseAddress!) }
}
