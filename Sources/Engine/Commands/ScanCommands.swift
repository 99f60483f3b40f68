// KEYS and SCAN (Redis's keysCommand / scanGenericCommand for the keyspace).

import Glibc

extension ShardEngine {
    static func scanCommands() -> [Command] {
        [
            Command("keys", arity: 2, flags: [.readonly], group: .generic, handler: keysCommand),
            Command("scan", arity: -2, flags: [.readonly], group: .generic, since: "2.8.0", handler: scanCommand),
        ]
    }

    /// KEYS pattern: every live key matching; expired keys are skipped, not deleted (as Redis).
    static func keysCommand(_ c: Client) {
        let pattern = c.args[1]
        let all = pattern.count == 1 && pattern[0] == UInt8(ascii: "*")
        let now = c.engine.now
        let reply = c.reply
        let mark = reply.deferLength()
        var n = 0
        c.db.forEach { e in
            if all || globMatch(pattern, e.key) {
                if let t = e.expireAt, t <= now { return }
                reply.bulk(e.key)
                n += 1
            }
        }
        reply.setDeferredLength(mark, n)
    }

    /// Parses a SCAN cursor as Redis does (strtoul: no leading space, no
    /// trailing garbage, no overflow; a leading '-' wraps, as in C). Replies
    /// "ERR invalid cursor" and returns nil if invalid.
    static func parseScanCursor(_ c: Client, _ i: Int) -> UInt64? {
        var bytes = c.args.bytes(i)
        bytes.append(0)
        let parsed: UInt64? = bytes.withUnsafeMutableBufferPointer { buf -> UInt64? in
            let start = UnsafeMutableRawPointer(buf.baseAddress!).assumingMemoryBound(to: CChar.self)
            if isspace(Int32(buf[0])) != 0 { return nil }
            var end: UnsafeMutablePointer<CChar>? = nil
            errno = 0
            let v = strtoul(start, &end, 10)
            if errno == ERANGE || end == nil || end!.pointee != 0 { return nil }
            return UInt64(v)
        }
        if parsed == nil { c.error(static: "ERR invalid cursor") }
        return parsed
    }

    /// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
    static func scanCommand(_ c: Client) {
        guard let cursor = parseScanCursor(c, 1) else { return }
        let a = c.args
        var count: Int64 = 10
        var pattern: UnsafeRawBufferPointer? = nil
        var typeName: UnsafeRawBufferPointer? = nil
        var i = 2
        while i < a.count {
            let left = a.count - i
            if a.equals(i, "count") && left >= 2 {
                guard let v = c.intArg(i + 1) else { return }
                if v < 1 { c.syntaxError(); return }
                count = v
            } else if a.equals(i, "match") && left >= 2 {
                let p = a[i + 1]
                pattern = p.count == 1 && p[0] == UInt8(ascii: "*") ? nil : p
            } else if a.equals(i, "type") && left >= 2 {
                typeName = a[i + 1]
            } else {
                c.syntaxError()
                return
            }
            i += 2
        }

        // Collect first: filtering may delete expired keys, which may shrink
        // the table, so nothing is changed while the table is walked.
        let db = c.db
        var keys: [[UInt8]] = []
        var next = cursor
        var budget = count > Int64.max / 10 ? Int64.max : count * 10
        repeat {
            next = db.scanStep(cursor: next) { keys.append($0.keyBytes) }
            budget -= 1
        } while next != 0 && budget >= 0 && Int64(keys.count) < count

        let s = c.engine
        var out: [[UInt8]] = []
        out.reserveCapacity(keys.count)
        for k in keys {
            let keep = k.withUnsafeBytes { kb -> Bool in
                if let p = pattern, !globMatch(p, kb) { return false }
                if let t = typeName {
                    let name = s.lookupRead(c, kb, touch: false)?.type.name ?? "none"
                    if !t.equalsIgnoringCase(name) { return false }
                }
                let slot = db.find(kb)
                if slot >= 0, let t = db.entry(atSlot: slot).expireAt, t <= s.now {
                    s.expire(db, slot: slot)
                    return false
                }
                return true
            }
            if keep { out.append(k) }
        }
        c.reply.array(2)
        c.reply.bulk(Array(String(next).utf8))
        c.reply.array(out.count)
        for k in out { c.reply.bulk(k) }
    }
}
