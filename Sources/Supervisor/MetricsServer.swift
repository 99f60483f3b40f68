// The Prometheus endpoint (`metrics-port`, `metrics-bind`): a minimal HTTP/1.x
// server in the supervisor's poll loop. `GET /metrics` asks every shard over
// its private link (INFO everything, SLOWLOG LEN, SLOWLOG GET 1, LATENCY
// LATEST, CONFIG GET databases; replies come back in order) and answers once
// every shard replied, or after `timeoutMs` with what it has: a shard that did
// not answer in time is reported with tessera_shard_up 0 / redis_up 0.
// One request per connection (Connection: close); requests over 8 KiB or
// silent for 10 s are dropped.

import Glibc
import Control
import CShims

final class MetricsConnection {
    let fd: Int32
    var request: [UInt8] = []
    var output: [UInt8] = []
    var sent = 0
    var acceptedAtMs: Int64
    /// Set while a scrape for this connection is under way.
    var scrape: MetricsScrape? = nil
    init(fd: Int32, now: Int64) { self.fd = fd; acceptedAtMs = now }
}

/// One scrape in progress: the samples, filled in as the shards answer.
final class MetricsScrape {
    var samples: [ShardSample]
    var waiting: Set<Int>
    let deadlineMs: Int64
    var finished = false
    init(samples: [ShardSample], deadlineMs: Int64) {
        self.samples = samples
        self.waiting = Set(samples.map(\.index))
        self.deadlineMs = deadlineMs
    }
}

final class MetricsServer {
    unowned let supervisor: Supervisor
    let listener: Int32
    var connections: [MetricsConnection] = []
    var timeoutMs: Int64 = 3000

    init(supervisor: Supervisor, listener: Int32) {
        self.supervisor = supervisor
        self.listener = listener
    }

    var pollFds: [pollfd] {
        [pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
            + connections.map { c in
                pollfd(fd: c.fd, events: Int16(c.output.count > c.sent ? POLLOUT : (c.scrape == nil ? POLLIN : 0)), revents: 0)
            }
    }

    func owns(_ fd: Int32) -> Bool { fd == listener || connections.contains { $0.fd == fd } }

    func handle(_ p: pollfd) {
        if p.fd == listener { accept(); return }
        guard let c = connections.first(where: { $0.fd == p.fd }) else { return }
        if c.output.count > c.sent { flush(c); return }
        if c.scrape == nil { read(c) }
        if p.revents & Int16(POLLHUP | POLLERR) != 0 && c.scrape == nil && c.output.isEmpty { drop(c) }
    }

    func accept() {
        let now = supervisor.nowMs()
        while true {
            let fd = ts_accept4(listener, nil, nil)
            if fd < 0 { return }
            if connections.count >= 64 { Glibc.close(fd); continue }
            connections.append(MetricsConnection(fd: fd, now: now))
        }
    }

    func read(_ c: MetricsConnection) {
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.read(c.fd, $0.baseAddress, $0.count) }
            if n > 0 {
                c.request.append(contentsOf: buf[0..<n])
                if c.request.count > 8192 { respond(c, status: "431 Request Header Fields Too Large", body: Array("request too large\n".utf8)); return }
                continue
            }
            if n == 0 || (ts_errno() != EAGAIN && ts_errno() != EINTR) { drop(c); return }
            break
        }
        guard let end = headerEnd(c.request) else { return }
        let line = String(decoding: c.request[..<end], as: UTF8.self).split(separator: "\r\n").first ?? ""
        let parts = line.split(separator: " ")
        guard parts.count >= 2 else { respond(c, status: "400 Bad Request", body: Array("bad request\n".utf8)); return }
        let method = parts[0], target = parts[1].split(separator: "?").first.map(String.init) ?? ""
        guard method == "GET" || method == "HEAD" else {
            respond(c, status: "405 Method Not Allowed", body: Array("only GET\n".utf8), extra: "Allow: GET, HEAD\r\n")
            return
        }
        switch target {
        case "/metrics":
            scrape(c, headOnly: method == "HEAD")
        case "/", "":
            respond(c, status: "200 OK", body: Array("<html><head><title>Tessera</title></head><body><h1>Tessera</h1><p><a href=\"/metrics\">Metrics</a></p></body></html>\n".utf8),
                    contentType: "text/html; charset=utf-8")
        default:
            respond(c, status: "404 Not Found", body: Array("not found: use /metrics\n".utf8))
        }
    }

    func headerEnd(_ b: [UInt8]) -> Int? {
        guard b.count >= 4 else {
            return nil
        }
        for i in 0...(b.count - 4) where b[i] == 13 && b[i + 1] == 10 && b[i + 2] == 13 && b[i + 3] == 10 { return i }
        // Tolerate bare LF line ends (hand-typed requests).
        for i in 0...(b.count - 2) where b[i] == 10 && b[i + 1] == 10 { return i }
        return nil
    }

    /// Asks every shard, then answers `c` when all replied or at the deadline.
    func scrape(_ c: MetricsConnection, headOnly: Bool) {
        let now = supervisor.nowMs()
        let shards = supervisor.shards
        let samples = shards.map { s in
            ShardSample(index: s.index, pid: s.pid, state: s.state.rawValue, restarts: s.restarts,
                        uptimeSeconds: s.pid > 0 ? (now - s.startedAtMs) / 1000 : 0)
        }
        let sc = MetricsScrape(samples: samples, deadlineMs: now + timeoutMs)
        c.scrape = sc
        let finish: () -> Void = { [unowned self, unowned c] in
            guard !sc.finished else { return }
            sc.finished = true
            c.scrape = nil
            let body = MetricsExporter.render(sc.samples)
            self.respond(c, status: "200 OK", body: body, contentType: "text/plain; version=0.0.4; charset=utf-8",
                         headOnly: headOnly)
        }
        for (pos, s) in shards.enumerated() {
            let i = s.index
            guard s.link >= 0, s.state == .ready || s.state == .loading else { sc.waiting.remove(i); continue }
            s.request(["INFO", "everything"]) { r in
                if !sc.finished, case .bulk(let b?)? = r { sc.samples[pos].info = String(decoding: b, as: UTF8.self) }
            }
            s.request(["SLOWLOG", "LEN"]) { r in
                if !sc.finished, case .integer(let n)? = r { sc.samples[pos].slowlogLength = n }
            }
            s.request(["SLOWLOG", "GET", "1"]) { r in
                if !sc.finished, case .array(let rows?)? = r, case .array(let e?)? = rows.first, e.count >= 3,
                   case .integer(let id) = e[0], case .integer(let us) = e[2] {
                    sc.samples[pos].slowlogLast = (id, us)
                }
            }
            s.request(["LATENCY", "LATEST"]) { r in
                guard !sc.finished, case .array(let rows?)? = r else { return }
                for row in rows {
                    if case .array(let f?) = row, f.count >= 4, let ev = f[0].text,
                       case .integer(let t) = f[1], case .integer(let last) = f[2], case .integer(let mx) = f[3] {
                        sc.samples[pos].latencyLatest.append((ev, t, last, mx))
                    }
                }
            }
            s.request(["CONFIG", "GET", "databases"]) { r in
                guard !sc.finished else { return }
                if case .array(let kv?)? = r, kv.count == 2, let n = kv[1].text.flatMap({ Int($0) }) {
                    sc.samples[pos].databases = n
                }
                sc.waiting.remove(i)
                if sc.waiting.isEmpty { finish() }
            }
        }
        if sc.waiting.isEmpty { finish() }
        pendingScrapes.append((sc, finish))
    }

    var pendingScrapes: [(MetricsScrape, () -> Void)] = []

    /// Answers scrapes whose deadline passed; drops idle connections.
    func tick(_ now: Int64) {
        for (sc, finish) in pendingScrapes where !sc.finished && now >= sc.deadlineMs {
            // Shards still silent count as down for this scrape.
            for i in sc.samples.indices where sc.waiting.contains(sc.samples[i].index) { sc.samples[i].info = nil }
            finish()
        }
        pendingScrapes.removeAll { $0.0.finished }
        for c in connections where c.scrape == nil && c.output.isEmpty && now - c.acceptedAtMs > 10_000 { drop(c) }
    }

    func respond(_ c: MetricsConnection, status: String, body: [UInt8], contentType: String = "text/plain; charset=utf-8",
                 extra: String = "", headOnly: Bool = false) {
        let head = "HTTP/1.1 \(status)\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n\(extra)Connection: close\r\n\r\n"
        c.output = Array(head.utf8) + (headOnly ? [] : body)
        c.sent = 0
        flush(c)
    }

    func flush(_ c: MetricsConnection) {
        while c.sent < c.output.count {
            let n = c.output.withUnsafeBytes { Glibc.write(c.fd, $0.baseAddress! + c.sent, c.output.count - c.sent) }
            if n > 0 { c.sent += n; continue }
            if n < 0 && (ts_errno() == EAGAIN || ts_errno() == EINTR) { return }
            break
        }
        drop(c)
    }

    func drop(_ c: MetricsConnection) {
        guard let i = connections.firstIndex(where: { $0 === c }) else { return }
        if let sc = c.scrape { sc.finished = true }
        Glibc.close(c.fd)
        connections.remove(at: i)
    }

    func close() {
        for c in connections { Glibc.close(c.fd) }
        connections = []
        Glibc.close(listener)
    }
}

extension Supervisor {
    /// Opens the metrics listener when `metrics-port` is set; false (logged) when it cannot.
    func startMetrics() -> Bool {
        guard options.metricsPort > 0 else { return true }
        let fd = ts_listen_tcp(options.metricsBind, Int32(options.metricsPort), 64)
        if fd < 0 {
            logger.critical("Could not open the metrics endpoint \(options.metricsBind):\(options.metricsPort): \(String(cString: strerror(-fd)))")
            return false
        }
        metrics = MetricsServer(supervisor: self, listener: fd)
        logger.notice("Prometheus metrics on http://\(options.metricsBind):\(options.metricsPort)/metrics")
        return true
    }
}
