// The supervisor process (`tessera-server`): it opens the listening sockets,
// starts the engine shard processes with them, and watches them. Each shard
// gets a private link (a socket pair speaking RESP); the supervisor PINGs it
// every second (faster when the systemd watchdog interval is shorter).
//
// Rules:
//   - A shard that exits is restarted with exponential backoff (100 ms
//     doubling to 10 s; back to 100 ms after 30 s of stable running) and
//     reloads its data from its own RDB/AOF. Exceptions: exit code 0 means
//     the shard was shut down on purpose (SHUTDOWN), so the whole server
//     stops; a shard that fails before ever answering PONG (a bad config, a
//     corrupt dump) stops the server with its exit code instead of looping.
//   - A shard that answers nothing (neither PONG nor -LOADING) for
//     `shard-timeout` ms is frozen or stuck: it is killed (SIGKILL) and
//     restarted by the rule above.
//   - systemd: READY=1 once every shard answered PONG (loaded and serving);
//     WATCHDOG=1 at half of WATCHDOG_USEC only while every shard answered a
//     PING within `shard-timeout`. A shard silent for longer is killed and
//     restarted by us, and the pings resume once the new process answers;
//     systemd's watchdog (WatchdogSec) thereby guards the supervisor itself. STATUS and EXTEND_TIMEOUT_USEC while loading,
//     RELOADING=1 on SIGHUP (forwarded to the shards) until each answers again,
//     STOPPING=1 on SIGTERM/SIGINT (forwarded; shards save per config).
//   - Shards die with the supervisor (PR_SET_PDEATHSIG in the shard), and
//     a shard's forked children die with their shard. Each shard runs in a
//     process group of its own and the supervisor is the subreaper of its
//     descendants: a new incarnation of a shard starts only once every
//     process of the old one is gone (killed and reaped), so two incarnations
//     never write the same files.

import Glibc
import Control
import CShims
import Logging

nonisolated(unsafe) var supervisorSignalPipe: Int32 = -1

public struct SupervisorOptions {
    public var shards = 1
    public var shardTimeoutMs: Int64 = 5000
    public var listeners: [Int32] = []
    public var executable = ""
    /// The arguments shards get after the internal worker flags (config file + overrides).
    public var shardArguments: [String] = []
    /// The control socket's path ("" = none) and permissions (octal text).
    public var controlSocket = ""
    public var controlSocketPermissions = "660"
    /// The Prometheus endpoint (MetricsServer.swift); port 0 = off.
    public var metricsPort = 0
    public var metricsBind = "127.0.0.1"
    /// Per shard: its shard-port listeners (cluster-aware clients); empty when off.
    public var clusterListeners: [[Int32]] = []
    /// Per shard: the internal unix listener other shards' links connect to (several shards).
    public var internalListeners: [Int32] = []
    /// The internal sockets' name prefix (abstract namespace); shard i's is prefix + i.
    public var peerPrefix = ""
    public init() {}

    /// The worker flags and inherited descriptors of shard `i` beyond the main listeners.
    func routingArguments(_ i: Int) -> (args: [String], fds: [Int32]) {
        var args: [String] = []
        var fds: [Int32] = []
        if shards > 1 {
            args += ["--shard-count", String(shards), "--shard-internal-fd", String(internalListeners[i]),
                     "--shard-peers", peerPrefix]
            fds.append(internalListeners[i])
        }
        if i < clusterListeners.count {
            args += ["--shard-count", String(shards),
                     "--shard-cluster-fds", clusterListeners[i].map(String.init).joined(separator: ",")]
            fds += clusterListeners[i]
        }
        return (args, fds)
    }
}

public final class Supervisor {
    let options: SupervisorOptions
    var logger: Logger
    public let notifier = SystemdNotifier()
    var shards: [ShardProcess]
    var stopping = false
    var exitCode: Int32 = 0
    var announcedReady = false
    var reloadRequestedAtMs: Int64? = nil
    var lastLoadingNoteMs: Int64 = 0
    let pingIntervalMs: Int64
    var signalRead: Int32 = -1
    /// When the supervisor was last continued after a stop (SIGCONT).
    var continuedAtMs: Int64 = 0
    var controlListener: Int32 = -1
    var controlPath = ""
    var controlClients: [ControlConnection] = []
    var metrics: MetricsServer? = nil
    /// One-shot deadlines (time in ms, action) of observability requests (ControlTop.swift).
    var deadlines: [(at: Int64, fire: () -> Void)] = []

    /// The supervisor's working directory (`dir`): shard i's files live in dir/shard-<i> with several shards.
    let dataDirectory: String = {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        return getcwd(&buf, buf.count) != nil ? String(cString: buf) : "."
    }()

    public init(options: SupervisorOptions, logger: Logger) {
        self.options = options
        self.logger = logger
        shards = (0..<options.shards).map { ShardProcess(index: $0) }
        let wd = notifier.watchdogIntervalMs
        pingIntervalMs = wd > 0 ? max(100, min(1000, wd)) : 1000
    }

    /// The environment shards get: ours without systemd's per-service variables
    /// (only the supervisor talks to systemd).
    var shardEnvironment: [String] {
        var env: [String] = []
        var p = environ
        while let e = p.pointee {
            let s = String(cString: e)
            if !(s.hasPrefix("NOTIFY_SOCKET=") || s.hasPrefix("WATCHDOG_USEC=") || s.hasPrefix("WATCHDOG_PID=")
                 || s.hasPrefix("LISTEN_FDS=") || s.hasPrefix("LISTEN_PID=") || s.hasPrefix("LISTEN_FDNAMES=")) {
                env.append(s)
            }
            p += 1
        }
        return env
    }

    public func run() -> Int32 {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { logger.critical("pipe failed"); return 1 }
        for f in fds { _ = fcntl(f, F_SETFL, O_NONBLOCK); _ = ts_set_inheritable(f, 0) }
        signalRead = fds[0]
        supervisorSignalPipe = fds[1]
        for sig in [SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGCONT] {
            signal(sig) { s in
                var b = UInt8(truncatingIfNeeded: s)
                _ = write(supervisorSignalPipe, &b, 1)
            }
        }
        signal(SIGPIPE, SIG_IGN)
        _ = ts_set_child_subreaper()
        if !options.controlSocket.isEmpty && !openControlSocket(path: options.controlSocket,
                                                                  permissions: options.controlSocketPermissions) {
            return 1
        }
        if !startMetrics() { return 1 }
        notifier.status("Starting \(shards.count) shard(s)")
        let now = nowMs()
        for s in shards { start(s, now) }

        while true {
            var pfds = [pollfd(fd: signalRead, events: Int16(POLLIN), revents: 0)]
            for s in shards where s.link >= 0 { pfds.append(pollfd(fd: s.link, events: Int16(POLLIN), revents: 0)) }
            if controlListener >= 0 { pfds.append(pollfd(fd: controlListener, events: Int16(POLLIN), revents: 0)) }
            for c in controlClients { pfds.append(pollfd(fd: c.fd, events: Int16(POLLIN), revents: 0)) }
            if let m = metrics { pfds += m.pollFds }
            _ = poll(&pfds, nfds_t(pfds.count), 100)
            if pfds[0].revents != 0 { handleSignals() }
            for p in pfds.dropFirst() where p.revents != 0 {
                if let s = shards.first(where: { $0.link == p.fd }) { handleLink(s) }
                else if p.fd == controlListener { acceptControl() }
                else if let c = controlClients.first(where: { $0.fd == p.fd }) { readControl(c) }
                else if let m = metrics, m.owns(p.fd) { m.handle(p) }
            }
            tick()
            observabilityTick(nowMs())
            if stopping && shards.allSatisfy({ $0.pid == 0 && !$0.oldIncarnationLingers() }) { break }
        }
        if controlListener >= 0 { close(controlListener); unlink(controlPath) }
        metrics?.close()
        logger.notice("Tessera supervisor exiting (code \(exitCode))")
        return exitCode
    }

    func nowMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    func start(_ s: ShardProcess, _ now: Int64) {
        let routing = options.routingArguments(s.index)
        var arguments = options.shardArguments
        if options.shards > 1 {
            // Each shard keeps its own RDB/AOF files.
            let dir = dataDirectory + "/shard-\(s.index)"
            if mkdir(dir, 0o750) != 0 && ts_errno() != EEXIST {
                logger.warning("Can't create the data directory \(dir) of shard \(s.index): \(String(cString: strerror(ts_errno())))")
            }
            arguments += ["--dir", dir]
        }
        if let role = s.replicaOf { arguments += ["--replicaof", role] }
        do {
            try s.spawn(executable: options.executable, arguments: arguments, routing: routing.args,
                        listeners: options.listeners, inherited: routing.fds, environment: shardEnvironment, nowMs: now)
            logger.notice("Shard \(s.index) started, pid \(s.pid)")
        } catch {
            logger.warning("Shard \(s.index) could not be started: \(error)")
            scheduleRestart(s, now)
        }
    }

    func handleSignals() {
        var buf = [UInt8](repeating: 0, count: 64)
        let n = buf.withUnsafeMutableBytes { read(signalRead, $0.baseAddress, 64) }
        guard n > 0 else { return }
        for sig in buf[0..<n].map(Int32.init) {
            switch sig {
            case SIGCHLD: reap()
            case SIGHUP: reload()
            case SIGTERM, SIGINT: beginStop(signal: sig)
            // Continued after a SIGSTOP: the shards stopped with us (ts_stop_with_parent).
            case SIGCONT: continueShards()
            default: break
            }
        }
    }

    /// After a SIGSTOP of the supervisor: the shards that stopped with it
    /// go on too, and the time stopped does not count against their liveness.
    func continueShards() {
        continuedAtMs = nowMs()
        for s in shards where s.pid > 0 {
            s.pingSentAtMs = nil
            kill(s.pid, SIGCONT)
        }
    }

    /// A shard that read our state just before SIGCONT may stop after it:
    /// for a second after a continue, a stopped shard is continued again.
    func recontinueLateStoppers(_ now: Int64) {
        guard now - continuedAtMs < 1000 else { return }
        for s in shards where s.pid > 0 && ts_process_stopped(s.pid) != 0 { kill(s.pid, SIGCONT) }
    }

    func beginStop(signal sig: Int32) {
        if !stopping {
            logger.warning("Received \(sig == SIGINT ? "SIGINT" : "SIGTERM"), stopping the shards")
            notifier.stopping()
        }
        stopping = true
        for s in shards where s.pid > 0 {
            s.state = .stopping
            kill(s.pid, SIGTERM)
        }
    }

    func reload() {
        logger.notice("Received SIGHUP: reloading the configuration of every shard")
        notifier.reloading()
        reloadRequestedAtMs = nowMs()
        for s in shards where s.pid > 0 { kill(s.pid, SIGHUP) }
    }

    func reap() {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { return }
            // Not a shard: an orphaned child of a dead shard (we are the subreaper).
            guard let s = shards.first(where: { $0.pid == pid }) else { continue }
            // WIFEXITED/WEXITSTATUS do not import: decode by hand.
            let exited = status & 0x7f == 0
            let code = exited ? (status >> 8) & 0xff : 0
            let sig = exited ? 0 : status & 0x7f
            s.pid = 0
            s.closeLink()
            _ = s.oldIncarnationLingers()   // its children go now, not when they finish
            let now = nowMs()
            let how = exited ? "exited with code \(code)" : "was killed by signal \(sig)"
            if stopping {
                s.state = .down
                if exited && code != 0 { exitCode = code }
                logger.notice("Shard \(s.index) \(how)")
                continue
            }
            if s.restartRequested {
                s.restartRequested = false
                s.state = .down
                s.backoffMs = 0
                s.restartAtMs = now
                s.restarts += 1
                announcedReady = false
                logger.notice("Shard \(s.index) \(how); restarting it as requested")
                continue
            }
            if exited && code == 0 {
                logger.notice("Shard \(s.index) shut down (SHUTDOWN): stopping the server")
                s.state = .down
                notifier.stopping()
                beginStop(signal: SIGTERM)
                continue
            }
            if !s.everReady && exited {
                logger.critical("Shard \(s.index) \(how) before it could serve: stopping the server")
                s.state = .down
                exitCode = code == 0 ? 1 : code
                notifier.stopping()
                beginStop(signal: SIGTERM)
                continue
            }
            logger.warning("Shard \(s.index) (pid \(pid)) \(how)")
            s.state = .down
            announcedReady = false
            scheduleRestart(s, now)
        }
    }

    func scheduleRestart(_ s: ShardProcess, _ now: Int64) {
        if now - s.startedAtMs > 30_000 { s.backoffMs = 0 }
        s.backoffMs = s.backoffMs == 0 ? 100 : min(10_000, s.backoffMs * 2)
        s.restartAtMs = now + s.backoffMs
        s.restarts += 1
        logger.notice("Restarting shard \(s.index) in \(s.backoffMs) ms (restart #\(s.restarts))")
        notifier.status("Shard \(s.index) is restarting")
    }

    func handleLink(_ s: ShardProcess) {
        if !s.readLink() {
            // The shard closed its end: it is exiting; SIGCHLD follows.
            s.closeLink()
            return
        }
        while let reply = try? s.reader.next() {
            s.lastReplyAtMs = nowMs()
            if !s.pending.isEmpty { s.pending.removeFirst()(reply) }
        }
    }

    func pingReplied(_ s: ShardProcess, _ reply: RESPValue, sentAt: Int64) {
        s.pingSentAtMs = nil
        switch reply {
        case .simple("PONG"):
            if s.state != .stopping {
                s.state = .ready
                s.everReady = true
                // REPLICAOF may have changed the role since the shard started.
                s.request(["CONFIG", "GET", "replicaof"]) { [weak s] reply in
                    if case .array(let items?)? = reply, items.count == 2, let v = items[1].text { s?.replicaOf = v }
                }
            }
            if let r = reloadRequestedAtMs, sentAt >= r, shards.allSatisfy({ $0.state == .ready }) {
                reloadRequestedAtMs = nil
                notifier.ready(status: readyStatus())
            }
        case .error(let e) where e.hasPrefix("LOADING"):
            if s.state != .stopping { s.state = .loading }
            // How far it got, for systemd's STATUS= line.
            s.request(["INFO", "persistence"]) { [unowned s] reply in
                guard case .bulk(let bytes?)? = reply,
                      let line = String(decoding: bytes, as: UTF8.self).split(separator: "\r\n")
                        .first(where: { $0.hasPrefix("loading_loaded_perc:") })
                else { return }
                s.loadingPercent = String(line.dropFirst("loading_loaded_perc:".count))
            }
        default:
            break
        }
    }

    func readyStatus() -> String {
        "Ready: \(shards.count) shard(s) serving"
    }

    func tick() {
        let now = nowMs()
        recontinueLateStoppers(now)
        for s in shards {
            if s.pid == 0, let at = s.restartAtMs, at <= now, !stopping {
                if s.oldIncarnationLingers() {
                    if now - at > 1000 && !s.lingerReported {
                        s.lingerReported = true
                        logger.warning("Shard \(s.index): processes of the previous incarnation (group \(s.group)) are still exiting")
                    }
                    continue
                }
                start(s, now)
                continue
            }
            guard s.pid > 0, s.link >= 0 else { continue }
            if let sent = s.pingSentAtMs {
                if now - sent > options.shardTimeoutMs && s.state != .stopping {
                    logger.warning("Shard \(s.index) (pid \(s.pid)) did not answer for \(now - sent) ms: killing it")
                    killpg(s.group, SIGKILL)
                    s.pingSentAtMs = nil
                }
            } else if now - s.lastPingSentAtMs >= pingIntervalMs {
                s.pingSentAtMs = now
                s.lastPingSentAtMs = now
                s.request(["PING"]) { [unowned self, unowned s] reply in
                    if let r = reply { self.pingReplied(s, r, sentAt: now) }
                }
            }
        }
        if stopping { return }
        let allReady = shards.allSatisfy { $0.state == .ready }
        if allReady && !announcedReady {
            announcedReady = true
            logger.notice("All \(shards.count) shard(s) ready")
            notifier.ready(status: readyStatus())
        }
        if shards.contains(where: { $0.state == .loading }) && now - lastLoadingNoteMs >= 1000 {
            lastLoadingNoteMs = now
            let progress = shards.filter { $0.state == .loading }
                .map { "shard \($0.index) \($0.loadingPercent.map { $0 + "%" } ?? "starting")" }
                .joined(separator: ", ")
            notifier.send("STATUS=Loading the dataset: \(progress)\nEXTEND_TIMEOUT_USEC=10000000")
        }
        // WATCHDOG=1 only while every shard answers.
        if shards.allSatisfy({ $0.pid > 0 && now - $0.lastReplyAtMs <= options.shardTimeoutMs }) {
            notifier.watchdog(nowMs: now)
        }
    }
}
