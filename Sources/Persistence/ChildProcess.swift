// Forked children that write a snapshot (BGSAVE) or rewrite the AOF while
// the shard keeps serving. The child gets a copy-on-write image of the
// dataset; it must not touch the event loop, and it leaves with _exit so no
// atexit handler or buffered stream of the parent runs twice. Before exiting
// it reports its private dirty memory (the copy-on-write cost) on a pipe.
// A child never outlives its shard: it gets SIGKILL when the shard dies
// (ts_fork_bound_to_parent), so two incarnations of a shard never write the
// same files.

import Glibc
import CShims
import Engine

public enum ChildKind: String { case rdb, aof }

final class BackgroundChild {
    let pid: pid_t
    let kind: ChildKind
    let startMs: Int64
    /// Read end of the child's report pipe (non-blocking).
    let reportFD: Int32
    var cowBytes = 0

    init(pid: pid_t, kind: ChildKind, startMs: Int64, reportFD: Int32) {
        self.pid = pid
        self.kind = kind
        self.startMs = startMs
        self.reportFD = reportFD
    }

    enum Outcome { case running, exited(Int32), signaled(Int32) }

    /// Non-blocking check whether the child ended (waitpid WNOHANG).
    func poll() -> Outcome {
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        if r == 0 { return .running }
        if r < 0 { return .exited(255) }
        readReport()
        close(reportFD)
        // WIFEXITED/WEXITSTATUS/WTERMSIG do not import into Swift: decode by hand.
        if status & 0x7f == 0 { return .exited((status >> 8) & 0xff) }
        return .signaled(status & 0x7f)
    }

    /// Kills the child (SHUTDOWN, FLUSHALL, a new dataset) and reaps it.
    func kill() {
        _ = Glibc.kill(pid, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
        close(reportFD)
    }

    private func readReport() {
        var buf = [UInt8](repeating: 0, count: 64)
        let n = buf.withUnsafeMutableBytes { read(reportFD, $0.baseAddress, 63) }
        if n > 0, let v = Int(String(decoding: buf[0..<n], as: UTF8.self)) { cowBytes = v }
    }
}

/// The file a background child writes in `dir` before its result is put in
/// place (Redis's names, with the child's pid). Named here only: the writers,
/// the shard that cleans up after a failed child, and the start-up cleanup of
/// children killed with their shard all use it.
enum ChildTempFile: CaseIterable {
    case rdb, aofRewrite

    private var affixes: (prefix: String, suffix: String) {
        switch self {
        case .rdb: return ("temp-", ".rdb")
        case .aofRewrite: return ("temp-rewriteaof-bg-", ".aof")
        }
    }

    func name(_ pid: pid_t) -> String { affixes.prefix + String(pid) + affixes.suffix }

    /// The pid in such a file's name, or nil for any other name.
    static func owner(of name: String) -> pid_t? {
        for kind in allCases {
            let (prefix, suffix) = kind.affixes
            if name.hasPrefix(prefix) && name.hasSuffix(suffix) && name.count > prefix.count + suffix.count,
               let pid = pid_t(name.dropFirst(prefix.count).dropLast(suffix.count)) {
                return pid
            }
        }
        return nil
    }
}

enum Fork {
    /// Forks; the child runs `body` and exits with its result. Returns the
    /// child (and fork duration in µs) to the parent, or throws on failure.
    static func start(kind: ChildKind, engine: ShardEngine, body: () -> Int32) throws -> (BackgroundChild, Int64) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw IOFailure("pipe") }
        for f in fds { _ = fcntl(f, F_SETFD, FD_CLOEXEC) }
        _ = fcntl(fds[0], F_SETFL, O_NONBLOCK)
        let startUs = ShardEngine.wallClockUs()
        let host = engine.host   // read before the fork: the child only calls it
        let pid = ts_fork_bound_to_parent()
        if pid < 0 {
            let e = ts_errno()
            close(fds[0]); close(fds[1])
            throw IOFailure("fork", errno: e)
        }
        if pid == 0 {
            close(fds[0])
            host?.prepareForkedChild()
            let code = body()
            let report = Array(String(privateDirtyBytes()).utf8)
            _ = report.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
            _exit(code)
        }
        close(fds[1])
        let forkUs = ShardEngine.wallClockUs() - startUs
        return (BackgroundChild(pid: pid, kind: kind, startMs: startUs / 1000, reportFD: fds[0]), forkUs)
    }

    /// This process's private dirty memory: what copy-on-write cost it so far.
    static func privateDirtyBytes() -> Int {
        guard let f = fopen("/proc/self/smaps_rollup", "r") else { return 0 }
        defer { fclose(f) }
        var total = 0
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, 256, f) != nil {
            let s = String(cString: line)
            if s.hasPrefix("Private_Dirty:") {
                let digits = s.drop { !$0.isNumber }.prefix { $0.isNumber }
                total += (Int(digits) ?? 0) * 1024
            }
        }
        return total
    }
}
