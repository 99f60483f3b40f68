// Expire commands (Redis's expire.c): EXPIRE PEXPIRE EXPIREAT PEXPIREAT
// with NX/XX/GT/LT, TTL PTTL EXPIRETIME PEXPIRETIME, PERSIST.

extension ShardEngine {
    static func expireCommands() -> [Command] {
        let wf: CommandFlags = [.write, .fast]
        let rf: CommandFlags = [.readonly, .fast]
        return [
            Command("expire", arity: -3, flags: wf, keys: (1, 1, 1), group: .generic,
                    handler: { expireCommand($0, relative: true, seconds: true, name: "expire") }),
            Command("pexpire", arity: -3, flags: wf, keys: (1, 1, 1), group: .generic, since: "2.6.0",
                    handler: { expireCommand($0, relative: true, seconds: false, name: "pexpire") }),
            Command("expireat", arity: -3, flags: wf, keys: (1, 1, 1), group: .generic, since: "1.2.0",
                    handler: { expireCommand($0, relative: false, seconds: true, name: "expireat") }),
            Command("pexpireat", arity: -3, flags: wf, keys: (1, 1, 1), group: .generic, since: "2.6.0",
                    handler: { expireCommand($0, relative: false, seconds: false, name: "pexpireat") }),
            Command("ttl", arity: 2, flags: rf, keys: (1, 1, 1), group: .generic,
                    handler: { ttlCommand($0, ms: false, absolute: false) }),
            Command("pttl", arity: 2, flags: rf, keys: (1, 1, 1), group: .generic, since: "2.6.0",
                    handler: { ttlCommand($0, ms: true, absolute: false) }),
            Command("expiretime", arity: 2, flags: rf, keys: (1, 1, 1), group: .generic, since: "7.0.0",
                    handler: { ttlCommand($0, ms: false, absolute: true) }),
            Command("pexpiretime", arity: 2, flags: rf, keys: (1, 1, 1), group: .generic, since: "7.0.0",
                    handler: { ttlCommand($0, ms: true, absolute: true) }),
            Command("persist", arity: 2, flags: wf, keys: (1, 1, 1), group: .generic, since: "2.2.0",
                    handler: persistCommand),
        ]
    }

    struct ExpireCondition: OptionSet {
        let rawValue: UInt8
        static let nx = ExpireCondition(rawValue: 1)
        static let xx = ExpireCondition(rawValue: 2)
        static let gt = ExpireCondition(rawValue: 4)
        static let lt = ExpireCondition(rawValue: 8)
    }

    /// Parses NX/XX/GT/LT from argument `from` on; replies Redis's error and returns nil if invalid.
    static func parseExpireCondition(_ c: Client, from: Int) -> ExpireCondition? {
        let a = c.args
        var cond: ExpireCondition = []
        for i in from..<max(from, a.count) {
            if a.equals(i, "nx") { cond.insert(.nx) }
            else if a.equals(i, "xx") { cond.insert(.xx) }
            else if a.equals(i, "gt") { cond.insert(.gt) }
            else if a.equals(i, "lt") { cond.insert(.lt) }
            else {
                c.error("ERR Unsupported option " + String(decoding: a[i].prefix { $0 != 0 }, as: UTF8.self))
                return nil
            }
        }
        if cond.contains(.nx) && !cond.isDisjoint(with: [.xx, .gt, .lt]) {
            c.error(static: "ERR NX and XX, GT or LT options at the same time are not compatible")
            return nil
        }
        if cond.contains(.gt) && cond.contains(.lt) {
            c.error(static: "ERR GT and LT options at the same time are not compatible")
            return nil
        }
        return cond
    }

    /// EXPIRE/PEXPIRE (relative to now) and EXPIREAT/PEXPIREAT (unix time).
    /// A time not in the future deletes the key (and still replies 1).
    static func expireCommand(_ c: Client, relative: Bool, seconds: Bool, name: String) {
        guard let cond = parseExpireCondition(c, from: 3) else { return }
        guard var when = c.intArg(2) else { return }
        let s = c.engine
        if seconds {
            if when > Int64.max / 1000 || when < Int64.min / 1000 {
                c.error("ERR invalid expire time in '\(name)' command")
                return
            }
            when *= 1000
        }
        let base = relative ? s.now : 0
        if when > Int64.max - base {
            c.error("ERR invalid expire time in '\(name)' command")
            return
        }
        when += base

        let db = c.db, key = c.args[1]
        guard let e = s.lookupWrite(db, key) else { c.reply.integer(0); return }
        if !cond.isEmpty {
            let current = e.expireAt
            // No expire counts as an infinite TTL: GT never applies, LT always does.
            if cond.contains(.nx) && current != nil { c.reply.integer(0); return }
            if cond.contains(.xx) && current == nil { c.reply.integer(0); return }
            if cond.contains(.gt) && (current == nil || when <= current!) { c.reply.integer(0); return }
            if cond.contains(.lt), let cur = current, when >= cur { c.reply.integer(0); return }
        }
        if when <= s.now {
            s.deleteKey(db, key)
            s.addDirty()
            s.signalModifiedKey(db, key)
            s.notifyKeyspaceEvent(.generic, "del", key, db.index)
            s.rewritePropagationAsDelete(c, key, lazy: s.config.lazyfreeLazyExpire)
        } else {
            s.setExpire(db, key, when)
            s.signalModifiedKey(db, key)
            s.notifyKeyspaceEvent(.generic, "expire", key, db.index)
            if s.isPropagating {
                // Always as PEXPIREAT with the absolute time; NX/XX/GT/LT stay.
                var argv = [Array("PEXPIREAT".utf8), Array(key), decimalBytes(when)]
                for j in 3..<c.args.count { argv.append(c.args.bytes(j)) }
                s.rewritePropagation(c, argv)
            }
            s.addDirty()
        }
        c.reply.integer(1)
    }

    /// TTL/PTTL (remaining time) and EXPIRETIME/PEXPIRETIME (absolute unix time):
    /// -2 for a missing key, -1 without an expire; seconds are rounded to nearest.
    static func ttlCommand(_ c: Client, ms: Bool, absolute: Bool) {
        let s = c.engine
        guard let e = s.lookupRead(c, c.args[1], touch: false) else { c.reply.integer(-2); return }
        guard let t = e.expireAt else { c.reply.integer(-1); return }
        var v = absolute ? t : t - s.now
        if v < 0 { v = 0 }
        c.reply.integer(ms ? v : (v &+ 500) / 1000)  // wraps like Redis near Int64.max
    }

    static func persistCommand(_ c: Client) {
        let s = c.engine, db = c.db, key = c.args[1]
        guard let e = s.lookupWrite(db, key), e.hasExpire else { c.reply.integer(0); return }
        s.setExpire(db, key, nil)
        s.signalModifiedKey(db, key)
        s.notifyKeyspaceEvent(.generic, "persist", key, db.index)
        s.addDirty()
        c.reply.integer(1)
    }
}
