// The control socket (`control-socket`, a unix socket with
// `control-socket-perm` permissions): tessera-ctl, or `redis-cli -s PATH`,
// sends RESP commands to the supervisor, which answers from what it knows
// (shards, restarts) and from the shards (through their links):
//
//   PING                      +PONG
//   STATUS                    per shard: index, pid, state, uptime, restarts,
//                             keys, used_memory, ops/s, last save (a map)
//   SHARDS                    index, pid, state, restarts per shard
//   TOP                       per shard: the live figures of `tessera-ctl top` (ControlTop.swift)
//   RESTART-SHARD <n>         graceful restart of one shard (it saves per config)
//   RELOAD                    what SIGHUP does
//   SAVE | BGSAVE             on every shard
//   CONFIG GET <name>         from shard 0
//   CONFIG SET <name> <value> on every shard
//   INFO [section]            the shards' INFO (with "# Shard <i>" headers when several)
//   PLUGINS LIST              the modules loaded in shard 0
//   SHUTDOWN [NOSAVE|SAVE]    stops the server

import Glibc
import CShims
import Control

final class ControlConnection {
    let fd: Int32
    var reader = RESPReplyReader()
    var closed = false
    init(fd: Int32) { self.fd = fd }

    func reply(_ v: RESPValue) {
        let bytes = encodeRESPValue(v)
        var done = 0
        while done < bytes.count && !closed {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n <= 0 {
                if n < 0 && (ts_errno() == EAGAIN || ts_errno() == EINTR) { usleep(1000); continue }
                closed = true
                return
            }
            done += n
        }
    }
}

extension Supervisor {
    /// Opens the control socket; false (logged) if it cannot.
    func openControlSocket(path: String, permissions: String) -> Bool {
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return false }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            logger.warning("control-socket path too long: \(path)")
            close(fd)
            return false
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { dst in
            for (i, b) in bytes.enumerated() { dst[i] = b }
        }
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if ok != 0 || listen(fd, 64) != 0 {
            logger.warning("Could not open the control socket \(path): \(String(cString: strerror(ts_errno())))")
            close(fd)
            return false
        }
        chmod(path, mode_t(Int(permissions, radix: 8) ?? 0o660))
        controlListener = fd
        controlPath = path
        logger.notice("Control socket listening on \(path)")
        return true
    }

    func acceptControl() {
        while true {
            let fd = ts_accept4(controlListener, nil, nil)
            if fd < 0 { return }
            controlClients.append(ControlConnection(fd: fd))
        }
    }

    func readControl(_ c: ControlConnection) {
        var buf = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = buf.withUnsafeMutableBytes { read(c.fd, $0.baseAddress, $0.count) }
            if n > 0 { buf.withUnsafeBytes { c.reader.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }; continue }
            if n == 0 || (ts_errno() != EAGAIN && ts_errno() != EINTR) { c.closed = true }
            break
        }
        while !c.closed, let req = try? c.reader.next() {
            guard case .array(let items?) = req else { c.reply(.error("ERR Protocol error: expected an array of strings")); continue }
            handleControl(c, items.compactMap { $0.text })
        }
        if c.closed {
            close(c.fd)
            controlClients.removeAll { $0 === c }
        }
    }

    func handleControl(_ c: ControlConnection, _ args: [String]) {
        guard let name = args.first?.lowercased() else { c.reply(.error("ERR empty command")); return }
        switch (name, args.count) {
        case ("ping", 1):
            c.reply(.simple("PONG"))
        case ("shards", 1):
            c.reply(.array(shards.map { s in
                .array([.bulkString("shard"), .integer(Int64(s.index)), .bulkString("pid"), .integer(Int64(s.pid)),
                        .bulkString("state"), .bulkString(s.state.rawValue), .bulkString("restarts"), .integer(Int64(s.restarts))])
            }))
        case ("status", 1):
            fanOut(["INFO", "everything"]) { [unowned self] replies in
                c.reply(.array(self.shards.map { s in self.statusEntry(s, replies[s.index]) }))
            }
        case ("top", 1):
            controlTop(c)
        case ("restart-shard", 2):
            guard let i = Int(args[1]), i >= 0, i < shards.count else { c.reply(.error("ERR no such shard: \(args[1])")); return }
            let s = shards[i]
            guard s.pid > 0 else { c.reply(.error("ERR shard \(i) is not running (it restarts by itself)")); return }
            s.restartRequested = true
            kill(s.pid, SIGTERM)
            logger.notice("Restart of shard \(i) requested on the control socket")
            c.reply(.simple("OK"))
        case ("reload", 1):
            reload()
            c.reply(.simple("OK"))
        case ("save", 1), ("bgsave", 1):
            fanOut([name.uppercased()]) { replies in
                if let err = replies.first(where: { if case .error = $0 { return true }; return $0 == nil }) {
                    c.reply(err ?? .error("ERR a shard went away"))
                } else {
                    c.reply(replies.first.flatMap { $0 } ?? .simple("OK"))
                }
            }
        case ("config", 3) where args[1].lowercased() == "get":
            forward(to: 0, ["CONFIG", "GET", args[2]], c)
        case ("config", 4) where args[1].lowercased() == "set":
            fanOut(["CONFIG", "SET", args[2], args[3]]) { replies in
                c.reply(replies.first(where: { if case .error = $0 { return true }; return $0 == nil }).flatMap { $0 } ?? .simple("OK"))
            }
        case ("info", 1), ("info", 2):
            let cmd = ["INFO"] + args.dropFirst()
            fanOut(cmd) { [unowned self] replies in
                if self.shards.count == 1 { c.reply(replies[0] ?? .error("ERR shard 0 is not running")); return }
                var text = ""
                for (i, r) in replies.enumerated() { text += "# Shard \(i)\r\n" + (r?.text ?? "(not running)\r\n") }
                c.reply(.bulkString(text))
            }
        case ("plugins", 2) where args[1].lowercased() == "list":
            forward(to: 0, ["MODULE", "LIST"], c, orElse: .array([]))
        case ("shutdown", _) where args.count <= 2:
            c.reply(.simple("OK"))
            let mode = args.count == 2 ? args[1].uppercased() : ""
            if mode == "NOSAVE" || mode == "SAVE" {
                stopping = true
                notifier.stopping()
                for s in shards where s.pid > 0 { s.state = .stopping; s.send(["SHUTDOWN", mode]) }
            } else {
                beginStop(signal: SIGTERM)
            }
        default:
            c.reply(.error("ERR unknown control command '\(args.joined(separator: " "))'"))
        }
    }

    /// Sends `args` to every shard; `done` gets the replies by shard index (nil: not running).
    func fanOut(_ args: [String], _ done: @escaping ([RESPValue?]) -> Void) {
        var replies = [RESPValue?](repeating: nil, count: shards.count)
        var left = shards.count
        for s in shards {
            let i = s.index
            s.request(args) { r in
                replies[i] = r
                left -= 1
                if left == 0 { done(replies) }
            }
        }
    }

    func forward(to i: Int, _ args: [String], _ c: ControlConnection, orElse fallback: RESPValue? = nil) {
        shards[i].request(args) { r in
            if let fb = fallback, case .error = r ?? .error("") { c.reply(fb); return }
            c.reply(r ?? .error("ERR shard \(i) is not running"))
        }
    }

    /// "link up to host:port, offset N" on a replica; "2 replicas, max lag 0 s,
    /// offset N" on a master (INFO replication's fields).
    static func replicationSummary(_ f: [String: String]) -> String {
        if f["role"] == "slave" {
            let link = f["master_link_status"] ?? "down"
            return "link \(link) to \(f["master_host"] ?? "?"):\(f["master_port"] ?? "?"), offset \(f["slave_repl_offset"] ?? "0")"
                + (link == "up" ? ", last io \(f["master_last_io_seconds_ago"] ?? "-1") s ago" : "")
        }
        let n = Int(f["connected_slaves"] ?? "0") ?? 0
        var maxLag = 0, minOffset = Int.max
        for i in 0..<n {
            for part in (f["slave\(i)"] ?? "").split(separator: ",") {
                if part.hasPrefix("lag=") { maxLag = max(maxLag, Int(part.dropFirst(4)) ?? 0) }
                if part.hasPrefix("offset=") { minOffset = min(minOffset, Int(part.dropFirst(7)) ?? 0) }
            }
        }
        let offset = Int(f["master_repl_offset"] ?? "0") ?? 0
        if n == 0 { return "no replicas, offset \(offset)" }
        return "\(n) replica\(n == 1 ? "" : "s"), max lag \(maxLag) s, \(offset - minOffset) bytes behind, offset \(offset)"
    }

    func statusEntry(_ s: ShardProcess, _ info: RESPValue?) -> RESPValue {
        var fields: [String: String] = [:]
        for line in (info?.text ?? "").split(whereSeparator: \.isNewline) {
            if let colon = line.firstIndex(of: ":") { fields[String(line[..<colon])] = String(line[line.index(after: colon)...]) }
        }
        var keys = 0
        for (k, v) in fields where k.hasPrefix("db") {
            if let part = v.split(separator: ",").first, part.hasPrefix("keys=") { keys += Int(part.dropFirst(5)) ?? 0 }
        }
        let now = nowMs()
        let pairs: [(String, RESPValue)] = [
            ("shard", .integer(Int64(s.index))), ("pid", .integer(Int64(s.pid))), ("state", .bulkString(s.state.rawValue)),
            ("uptime_seconds", .integer(s.pid > 0 ? (now - s.startedAtMs) / 1000 : 0)),
            ("restarts", .integer(Int64(s.restarts))), ("keys", .integer(Int64(keys))),
            ("used_memory", .integer(Int64(fields["used_memory"] ?? "0") ?? 0)),
            ("ops_per_sec", .integer(Int64(fields["instantaneous_ops_per_sec"] ?? "0") ?? 0)),
            ("connected_clients", .integer(Int64(fields["connected_clients"] ?? "0") ?? 0)),
            ("rdb_last_save_time", .integer(Int64(fields["rdb_last_save_time"] ?? "0") ?? 0)),
            ("rdb_last_bgsave_status", .bulkString(fields["rdb_last_bgsave_status"] ?? "-")),
            ("aof_enabled", .integer(Int64(fields["aof_enabled"] ?? "0") ?? 0)),
            // Replication: the role, and the link (a replica) or the replicas' lag (a master).
            ("role", .bulkString(fields["role"] ?? "-")),
            ("replication", .bulkString(Supervisor.replicationSummary(fields))),
        ]
        return .array(pairs.flatMap { [RESPValue.bulkString($0.0), $0.1] })
    }
}
