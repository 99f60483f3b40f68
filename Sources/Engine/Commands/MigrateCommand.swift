// MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
//         [AUTH password | AUTH2 username password] [KEYS key ...]
//
// Moves keys to another Redis-compatible server: each value is serialized
// as DUMP does and sent as RESTORE (with the remaining TTL), after AUTH and
// SELECT; a key the target accepted is deleted here unless COPY. Like Redis,
// the transfer is synchronous (the shard waits up to `timeout` ms for each
// step); keys that do not exist are skipped, and +NOKEY answers when none
// does. SLOWLOG and MONITOR show AUTH/AUTH2 credentials as "(redacted)".

import Glibc

extension ShardEngine {
    static func migrateCommands() -> [Command] {
        [
            Command("migrate", arity: -6, flags: [.write], keys: (3, 3, 1), group: .generic, since: "2.6.0",
                    handler: migrateCommand),
        ]
    }

    static func migrateCommand(_ c: Client) {
        let a = c.args, s = c.engine
        var copy = false, replace = false
        var auth: [[UInt8]] = []
        var firstKey = 3, numKeys = 1
        var j = 6
        while j < a.count {
            let more = a.count - j - 1
            if a.equals(j, "copy") { copy = true }
            else if a.equals(j, "replace") { replace = true }
            else if a.equals(j, "auth") && more >= 1 {
                auth = [a.bytes(j + 1)]
                c.redactedArgs.append(j + 1)    // never shown by MONITOR or SLOWLOG
                j += 1
            } else if a.equals(j, "auth2") && more >= 2 {
                auth = [a.bytes(j + 1), a.bytes(j + 2)]
                c.redactedArgs += [j + 1, j + 2]
                j += 2
            }
            else if a.equals(j, "keys") {
                if a[3].count != 0 {
                    c.error(static: "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string")
                    return
                }
                firstKey = j + 1
                numKeys = a.count - j - 1
                break
            } else { c.syntaxError(); return }
            j += 1
        }
        guard var timeout = c.intArg(5), let dbid = c.intArg(4) else { return }
        if timeout <= 0 { timeout = 1000 }
        guard let port = Int32(exactly: Int64(a.string(2)) ?? -1), port > 0, port <= 65535 else {
            c.error(static: "ERR value is not an integer or out of range")
            return
        }
        // The keys that exist, with their payloads and remaining TTLs.
        var keys: [[UInt8]] = []
        var restores: [[[UInt8]]] = []
        let compress = s.config.get("rdbcompression") == "yes"
        for k in firstKey..<(firstKey + numKeys) {
            guard let e = s.lookupRead(c, a[k], touch: false, notify: false) else { continue }
            var ttl: Int64 = 0
            if let t = e.expireAt { ttl = max(1, t - s.now) }
            let key = a.bytes(k)
            var cmd: [[UInt8]] = [Array("RESTORE".utf8), key, Array(String(ttl).utf8), ValueSerializer.dumpPayload(e, compress: compress)]
            if replace { cmd.append(Array("REPLACE".utf8)) }
            keys.append(key)
            restores.append(cmd)
        }
        if keys.isEmpty {
            s.preventPropagation(c)
            c.reply.simple("NOKEY")
            return
        }
        guard let conn = MigrateConnection(host: a.string(1), port: port, timeoutMs: Int(timeout)) else {
            c.error(static: "IOERR error or timeout connecting to the client")
            return
        }
        defer { conn.close() }
        var batch: [[[UInt8]]] = []
        if !auth.isEmpty { batch.append([Array("AUTH".utf8)] + auth) }
        batch.append([Array("SELECT".utf8), Array(String(dbid).utf8)])
        batch += restores
        var out: [UInt8] = []
        for argv in batch { out += encodeMigrateCommand(argv) }
        guard conn.write(out) else {
            c.error(static: "IOERR error or timeout writing to target instance")
            return
        }
        var targetError: String? = nil
        var moved: [[UInt8]] = []
        var readFailed = false
        for (i, _) in batch.enumerated() {
            guard let line = conn.readReply() else { readFailed = true; break }
            let isRestore = i >= batch.count - restores.count
            if line.first == UInt8(ascii: "-") {
                if targetError == nil { targetError = String(decoding: line.dropFirst(), as: UTF8.self) }
            } else if isRestore {
                moved.append(keys[i - (batch.count - restores.count)])
            }
            if !isRestore && targetError != nil { break }   // AUTH or SELECT refused: nothing was restored
        }
        if readFailed && moved.isEmpty {
            c.error(static: "IOERR error or timeout reading to target instance")
            return
        }
        if !copy {
            for key in moved {
                key.withUnsafeBytes { k in
                    if s.deleteKey(c.db, k) {
                        s.signalModifiedKey(c.db, k)
                        s.notifyKeyspaceEvent(.generic, "del", k, c.dbIndex)
                        s.addDirty(1)
                    }
                }
            }
        }
        if copy || moved.isEmpty { s.preventPropagation(c) }
        else { s.rewritePropagation(c, [Array("DEL".utf8)] + moved) }
        if readFailed {
            c.error(static: "IOERR error or timeout reading to target instance")
        } else if let e = targetError {
            c.error("ERR Target instance replied with error: \(e)")
        } else {
            c.reply.ok()
        }
    }
}

func encodeMigrateCommand(_ argv: [[UInt8]]) -> [UInt8] {
    var out = Array("*\(argv.count)\r\n".utf8)
    for a in argv {
        out += Array("$\(a.count)\r\n".utf8)
        out += a
        out += [13, 10]
    }
    return out
}

/// A blocking TCP connection with a per-operation timeout (MIGRATE waits, as Redis does).
final class MigrateConnection {
    let fd: Int32
    let timeoutMs: Int
    var buffer: [UInt8] = []

    init?(host: String, port: Int32, timeoutMs: Int) {
        self.timeoutMs = timeoutMs
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>? = nil
        guard getaddrinfo(host, String(port), &hints, &res) == 0, let ai = res else { return nil }
        defer { freeaddrinfo(res) }
        let fd = socket(ai.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        if connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) != 0 && errno != EINPROGRESS {
            Glibc.close(fd)
            return nil
        }
        self.fd = fd
        // Only a timeout fails the connection here; a refused one fails the first
        // write, as in Redis ("error or timeout writing to target instance").
        guard wait(POLLOUT) else { Glibc.close(fd); return nil }
    }

    func wait(_ events: Int32) -> Bool {
        var p = pollfd(fd: fd, events: Int16(events), revents: 0)
        return poll(&p, 1, Int32(timeoutMs)) == 1
    }

    func write(_ bytes: [UInt8]) -> Bool {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n > 0 { done += n; continue }
            if n < 0 && (errno == EAGAIN || errno == EINTR) { if !wait(POLLOUT) { return false }; continue }
            return false
        }
        return true
    }

    /// The first line of the next reply (the target answers RESTORE, AUTH and SELECT with one line).
    func readReply() -> [UInt8]? {
        while true {
            if let nl = buffer.firstIndex(of: 10) {
                var line = Array(buffer[..<nl])
                buffer.removeFirst(nl + 1)
                if line.last == 13 { line.removeLast() }
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n > 0 { buffer += chunk[0..<n]; continue }
            if n < 0 && (errno == EAGAIN || errno == EINTR) { if !wait(POLLIN) { return nil }; continue }
            return nil
        }
    }

    func close() { Glibc.close(fd) }
}
