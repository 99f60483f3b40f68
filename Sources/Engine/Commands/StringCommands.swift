// String commands (Redis's t_string.c).

import RESP
import CShims

extension ShardEngine {
    static func stringCommands() -> [Command] {
        let wf: CommandFlags = [.write, .denyOOM, .fast]
        return [
            Command("get", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1), group: .string, handler: getCommand),
            Command("set", arity: -3, flags: [.write, .denyOOM], keys: (1, 1, 1), group: .string, handler: setCommand),
            Command("setnx", arity: 3, flags: wf, keys: (1, 1, 1), group: .string, handler: setnxCommand),
            Command("setex", arity: 4, flags: [.write, .denyOOM], keys: (1, 1, 1), group: .string, since: "2.0.0",
                    handler: { setexCommand($0, unitMs: false) }),
            Command("psetex", arity: 4, flags: [.write, .denyOOM], keys: (1, 1, 1), group: .string, since: "2.6.0",
                    handler: { setexCommand($0, unitMs: true) }),
            Command("mget", arity: -2, flags: [.readonly, .fast], keys: (1, -1, 1), group: .string, handler: mgetCommand),
            Command("mset", arity: -3, flags: [.write, .denyOOM], keys: (1, -1, 2), group: .string, since: "1.0.1",
                    handler: { msetCommand($0, nx: false) }),
            Command("msetnx", arity: -3, flags: [.write, .denyOOM], keys: (1, -1, 2), group: .string, since: "1.0.1",
                    handler: { msetCommand($0, nx: true) }),
            Command("getset", arity: 3, flags: wf, keys: (1, 1, 1), group: .string, handler: getsetCommand),
            Command("getdel", arity: 2, flags: [.write, .fast], keys: (1, 1, 1), group: .string, since: "6.2.0",
                    handler: getdelCommand),
            Command("getex", arity: -2, flags: [.write, .fast], keys: (1, 1, 1), group: .string, since: "6.2.0",
                    handler: getexCommand),
            Command("incr", arity: 2, flags: wf, keys: (1, 1, 1), group: .string, handler: { incrCommand($0, by: 1) }),
            Command("decr", arity: 2, flags: wf, keys: (1, 1, 1), group: .string, handler: { incrCommand($0, by: -1) }),
            Command("incrby", arity: 3, flags: wf, keys: (1, 1, 1), group: .string, handler: { incrbyCommand($0, negate: false) }),
            Command("decrby", arity: 3, flags: wf, keys: (1, 1, 1), group: .string, handler: { incrbyCommand($0, negate: true) }),
            Command("incrbyfloat", arity: 3, flags: wf, keys: (1, 1, 1), group: .string, since: "2.6.0",
                    handler: incrbyfloatCommand),
            Command("append", arity: 3, flags: wf, keys: (1, 1, 1), group: .string, since: "2.0.0", handler: appendCommand),
            Command("strlen", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1), group: .string, since: "2.2.0",
                    handler: strlenCommand),
            Command("getrange", arity: 4, flags: [.readonly], keys: (1, 1, 1), group: .string, since: "2.4.0",
                    handler: getrangeCommand),
            Command("substr", arity: 4, flags: [.readonly], keys: (1, 1, 1), group: .string, handler: getrangeCommand),
            Command("setrange", arity: 4, flags: [.write, .denyOOM], keys: (1, 1, 1), group: .string, since: "2.2.0",
                    handler: setrangeCommand),
            Command("lcs", arity: -3, flags: [.readonly], keys: (1, 2, 1), group: .string, since: "7.0.0", handler: lcsCommand),
        ]
    }

    /// The string value of `key` for reading; replies and returns nil on WRONGTYPE.
    enum StringLookup { case missing, wrongType, found(Entry) }

    @inline(__always)
    static func lookupString(_ c: Client, _ key: UnsafeRawBufferPointer, write: Bool = false) -> StringLookup {
        let s = c.engine
        guard let e = write ? s.lookupWrite(c.db, key) : s.lookupRead(c, key) else { return .missing }
        return e.type == .string ? .found(e) : .wrongType
    }

    static func getCommand(_ c: Client) {
        switch lookupString(c, c.args[1]) {
        case .missing: c.reply.null()
        case .wrongType: c.wrongType()
        case .found(let e): c.reply.bulk(e.stringValue)
        }
    }

    /// Parses an expire argument; replies with Redis's error and returns nil when invalid.
    /// `unitMs`: the value is in ms; `absolute`: a unix time rather than a TTL.
    static func expireTime(_ c: Client, _ i: Int, unitMs: Bool, absolute: Bool, command: String) -> Int64? {
        guard let v = c.args.int64(i) else { c.notInteger(); return nil }
        if v <= 0 {
            c.error("ERR invalid expire time in '\(command)' command")
            return nil
        }
        var ms = v
        if !unitMs {
            let (m, o) = v.multipliedReportingOverflow(by: 1000)
            if o { c.error("ERR invalid expire time in '\(command)' command"); return nil }
            ms = m
        }
        if !absolute {
            let (t, o) = ms.addingReportingOverflow(c.engine.now)
            if o { c.error("ERR invalid expire time in '\(command)' command"); return nil }
            ms = t
        }
        return ms
    }

    /// The EX/PX/EXAT/PXAT option of SET and GETEX (at most one of them).
    struct ExpireOption {
        /// Index of the option's value argument; 0 while none was given.
        private(set) var valueArg = 0
        private var unitMs = false, absolute = false

        var isGiven: Bool { valueArg > 0 }

        /// Takes argument `i` and its value if it is one of the four options
        /// and none was given yet; `i` is then left on the value.
        mutating func take(_ a: Args, _ i: inout Int) -> Bool {
            if isGiven || i + 1 >= a.count { return false }
            if a.equals(i, "ex") {
            } else if a.equals(i, "px") { unitMs = true
            } else if a.equals(i, "exat") { absolute = true
            } else if a.equals(i, "pxat") { unitMs = true; absolute = true
            } else { return false }
            i += 1
            valueArg = i
            return true
        }

        /// The expire time (nil without the option); false after replying an error.
        @inline(__always)
        func resolve(_ c: Client, command: String, _ expireAt: inout Int64?) -> Bool {
            if !isGiven { return true }
            expireAt = expireTime(c, valueArg, unitMs: unitMs, absolute: absolute, command: command)
            return expireAt != nil
        }
    }

    static func setCommand(_ c: Client) {
        let a = c.args
        var nx = false, xx = false, get = false, keepTTL = false
        var expire = ExpireOption()
        var i = 3
        while i < a.count {
            if a.equals(i, "nx") && !xx { nx = true }
            else if a.equals(i, "xx") && !nx { xx = true }
            else if a.equals(i, "get") { get = true }
            else if a.equals(i, "keepttl") && !expire.isGiven { keepTTL = true }
            else if keepTTL || !expire.take(a, &i) { c.syntaxError(); return }
            i += 1
        }
        var expireAt: Int64? = nil
        if !expire.resolve(c, command: "set", &expireAt) { return }
        let s = c.engine
        let key = a[1]
        let existing = s.lookupWrite(c.db, key)
        if get {
            if let e = existing {
                if e.type != .string { c.wrongType(); return }
                c.reply.bulk(e.stringValue)
            } else {
                s.notifyKeyspaceEvent(.keyMiss, "keymiss", key, c.dbIndex)
                c.reply.null()
            }
        }
        if (nx && existing != nil) || (xx && existing == nil) {
            if !get { c.reply.null() }
            return
        }
        s.setString(c.db, key, a[2], keepTTL: keepTTL, expireAt: expireAt)
        s.signalModifiedKey(c.db, key)
        s.notifyKeyspaceEvent(.string, "set", key, c.dbIndex)
        if let t = expireAt {
            s.notifyKeyspaceEvent(.generic, "expire", key, c.dbIndex)
            // Replayed later, a relative expire would mean another instant: propagate PXAT.
            s.rewritePropagation(c, "SET", Array(key), Array(a[2]), Array("PXAT".utf8), decimalBytes(t))
        } else if get && s.isPropagating {
            var argv: [[UInt8]] = []
            for j in 0..<a.count where j < 3 || !a.equals(j, "get") { argv.append(a.bytes(j)) }
            s.rewritePropagation(c, argv)
        }
        s.addDirty()
        if !get { c.reply.ok() }
    }

    static func setnxCommand(_ c: Client) {
        let s = c.engine
        let key = c.args[1]
        if s.lookupWrite(c.db, key) != nil { c.reply.integer(0); return }
        s.setString(c.db, key, c.args[2])
        s.signalModifiedKey(c.db, key)
        s.notifyKeyspaceEvent(.string, "set", key, c.dbIndex)
        s.addDirty()
        c.reply.integer(1)
    }

    static func setexCommand(_ c: Client, unitMs: Bool) {
        guard let t = expireTime(c, 2, unitMs: unitMs, absolute: false, command: unitMs ? "psetex" : "setex") else { return }
        let s = c.engine
        let key = c.args[1]
        s.setString(c.db, key, c.args[3], expireAt: t)
        s.signalModifiedKey(c.db, key)
        s.notifyKeyspaceEvent(.string, "set", key, c.dbIndex)
        s.notifyKeyspaceEvent(.generic, "expire", key, c.dbIndex)
        s.rewritePropagation(c, "SET", Array(key), c.args.bytes(3), Array("PXAT".utf8), decimalBytes(t))
        s.addDirty()
        c.reply.ok()
    }

    static func mgetCommand(_ c: Client) {
        c.reply.array(c.args.count - 1)
        for i in 1..<c.args.count {
            if case .found(let e) = lookupString(c, c.args[i]) { c.reply.bulk(e.stringValue) } else { c.reply.null() }
        }
    }

    static func msetCommand(_ c: Client, nx: Bool) {
        let a = c.args
        if a.count % 2 == 0 {
            c.error("ERR wrong number of arguments for '\(nx ? "msetnx" : "mset")' command")
            return
        }
        let s = c.engine
        if nx {
            var i = 1
            while i < a.count {
                if s.lookupWrite(c.db, a[i]) != nil { c.reply.integer(0); return }
                i += 2
            }
        }
        var i = 1
        while i < a.count {
            s.setString(c.db, a[i], a[i + 1])
            s.signalModifiedKey(c.db, a[i])
            s.notifyKeyspaceEvent(.string, "set", a[i], c.dbIndex)
            i += 2
        }
        s.addDirty((a.count - 1) / 2)
        if nx { c.reply.integer(1) } else { c.reply.ok() }
    }

    static func getsetCommand(_ c: Client) {
        let key = c.args[1]
        switch lookupString(c, key, write: true) {
        case .wrongType: c.wrongType(); return
        case .missing: c.reply.null()
        case .found(let e): c.reply.bulk(e.stringValue)
        }
        let s = c.engine
        s.setString(c.db, key, c.args[2])
        s.signalModifiedKey(c.db, key)
        s.notifyKeyspaceEvent(.string, "set", key, c.dbIndex)
        s.rewritePropagation(c, "SET", Array(key), c.args.bytes(2))
        s.addDirty()
    }

    static func getdelCommand(_ c: Client) {
        let key = c.args[1]
        switch lookupString(c, key) {
        case .wrongType: c.wrongType()
        case .missing: c.reply.null()
        case .found(let e):
            c.reply.bulk(e.stringValue)
            let s = c.engine
            s.deleteKey(c.db, key)
            s.signalModifiedKey(c.db, key)
            s.notifyKeyspaceEvent(.generic, "del", key, c.dbIndex)
            s.rewritePropagationAsDelete(c, key, lazy: s.config.get("lazyfree-lazy-user-del") == "yes")
            s.addDirty()
        }
    }

    static func getexCommand(_ c: Client) {
        let a = c.args
        var persist = false
        var expire = ExpireOption()
        var i = 2
        while i < a.count {
            if a.equals(i, "persist") && !expire.isGiven && !persist { persist = true }
            else if persist || !expire.take(a, &i) { c.syntaxError(); return }
            i += 1
        }
        var expireAt: Int64? = nil
        if !expire.resolve(c, command: "getex", &expireAt) { return }
        let key = a[1]
        switch lookupString(c, key) {
        case .wrongType: c.wrongType()
        case .missing: c.reply.null()
        case .found(let e):
            c.reply.bulk(e.stringValue)
            let s = c.engine
            if let t = expireAt {
                if t <= s.now {
                    s.deleteKey(c.db, key)
                    s.notifyKeyspaceEvent(.generic, "del", key, c.dbIndex)
                    s.rewritePropagationAsDelete(c, key, lazy: s.config.lazyfreeLazyExpire)
                } else {
                    s.setExpire(c.db, key, t)
                    s.notifyKeyspaceEvent(.generic, "expire", key, c.dbIndex)
                    s.rewritePropagation(c, "PEXPIREAT", Array(key), decimalBytes(t))
                }
                s.signalModifiedKey(c.db, key)
                s.addDirty()
            } else if persist && e.hasExpire {
                s.setExpire(c.db, key, nil)
                s.signalModifiedKey(c.db, key)
                s.notifyKeyspaceEvent(.generic, "persist", key, c.dbIndex)
                s.rewritePropagation(c, "PERSIST", Array(key))
                s.addDirty()
            }
        }
    }

    static func incrCommand(_ c: Client, by: Int64) { incrementBy(c, by) }

    static func incrbyCommand(_ c: Client, negate: Bool) {
        guard var by = c.intArg(2) else { return }
        if negate {
            if by == Int64.min { c.error(static: "ERR decrement would overflow"); return }
            by = -by
        }
        incrementBy(c, by)
    }

    static func incrementBy(_ c: Client, _ by: Int64) {
        let key = c.args[1]
        var current: Int64 = 0
        switch lookupString(c, key, write: true) {
        case .wrongType: c.wrongType(); return
        case .missing: break
        case .found(let e):
            guard let v = parseCanonicalInt64(e.stringValue) else { c.notInteger(); return }
            current = v
        }
        let (r, o) = current.addingReportingOverflow(by)
        if o { c.error(static: "ERR increment or decrement would overflow"); return }
        var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)
        let s = c.engine
        withUnsafeMutableBytes(of: &tmp) { raw in
            let n = writeDecimal(r, to: raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
            s.setString(c.db, key, UnsafeRawBufferPointer(rebasing: raw[0..<n]), keepTTL: true, encoding: .int)
        }
        s.signalModifiedKey(c.db, key)
        s.notifyKeyspaceEvent(.string, "incrby", key, c.dbIndex)
        s.addDirty()
        c.reply.integer(r)
    }

    static func incrbyfloatCommand(_ c: Client) {
        let key = c.args[1]
        var current: [UInt8] = [UInt8(ascii: "0")]
        switch lookupString(c, key, write: true) {
        case .wrongType: c.wrongType(); return
        case .missing: break
        case .found(let e): current = Array(e.stringValue)
        }
        var out = [CChar](repeating: 0, count: 5200)
        let incr = c.args[2]
        let n = current.withUnsafeBytes { cur in
            ts_incr_long_double(cur.baseAddress!.assumingMemoryBound(to: CChar.self), cur.count,
                                incr.baseAddress?.assumingMemoryBound(to: CChar.self), incr.count, &out, 5200)
        }
        if n == -1 { c.notFloat(); return }
        if n < 0 { c.error(static: "ERR increment would produce NaN or Infinity"); return }
        let bytes = out[0..<Int(n)].map { UInt8(bitPattern: $0) }
        let s = c.engine
        s.setString(c.db, key, bytes, keepTTL: true)
        s.signalModifiedKey(c.db, key)
        s.notifyKeyspaceEvent(.string, "incrbyfloat", key, c.dbIndex)
        // Float formatting may differ between replays: propagate the result.
        s.rewritePropagation(c, "SET", Array(key), bytes, Array("KEEPTTL".utf8))
        s.addDirty()
        c.reply.bulk(bytes)
    }

    static func checkStringLength(_ c: Client, _ size: Int) -> Bool {
        if size > c.engine.config.protoMaxBulkLen {
            c.error(static: "ERR string exceeds maximum allowed size (proto-max-bulk-len)")
            return false
        }
        return true
    }

    static func appendCommand(_ c: Client) {
        let key = c.args[1], add = c.args[2]
        let s = c.engine
        var newValue: [UInt8]
        switch lookupString(c, key, write: true) {
        case .wrongType: c.wrongType(); return
        case .missing:
            s.setString(c.db, key, add)
            s.signalModifiedKey(c.db, key)
            s.notifyKeyspaceEvent(.string, "append", key, c.dbIndex)
            s.addDirty()
            c.reply.integer(add.count)
            return
        case .found(let e):
            guard checkStringLength(c, e.stringValue.count + add.count) else { return }
            newValue = Array(e.stringValue)
        }
        newValue.append(contentsOf: add)
        s.setString(c.db, key, newValue, keepTTL: true, encoding: .raw)
        s.signalModifiedKey(c.db, key)
        s.notifyKeyspaceEvent(.string, "append", key, c.dbIndex)
        s.addDirty()
        c.reply.integer(newValue.count)
    }

    static func strlenCommand(_ c: Client) {
        switch lookupString(c, c.args[1]) {
        case .wrongType: c.wrongType()
        case .missing: c.reply.integer(0)
        case .found(let e): c.reply.integer(e.stringValue.count)
        }
    }

    static func getrangeCommand(_ c: Client) {
        guard let s0 = c.intArg(2), let e0 = c.intArg(3) else { return }
        switch lookupString(c, c.args[1]) {
        case .wrongType: c.wrongType()
        case .missing: c.reply.bulk(UnsafeRawBufferPointer(start: nil, count: 0))
        case .found(let e):
            let v = e.stringValue
            let len = Int64(v.count)
            var start = s0, end = e0
            if start < 0 && end < 0 && start > end { c.reply.bulk([]); return }
            if start < 0 { start = len + start }
            if end < 0 { end = len + end }
            if start < 0 { start = 0 }
            if end < 0 { end = 0 }
            if end >= len { end = len - 1 }
            if start > end || len == 0 { c.reply.bulk([]); return }
            c.reply.bulk(UnsafeRawBufferPointer(rebasing: v[Int(start)...Int(end)]))
        }
    }

    static func setrangeCommand(_ c: Client) {
        guard let offset = c.intArg(2) else { return }
        if offset < 0 { c.error(static: "ERR offset is out of range"); return }
        let key = c.args[1], value = c.args[3]
        let s = c.engine
        var current: [UInt8] = []
        switch lookupString(c, key, write: true) {
        case .wrongType: c.wrongType(); return
        case .missing:
            if value.count == 0 { c.reply.integer(0); return }
        case .found(let e):
            if value.count == 0 { c.reply.integer(e.stringValue.count); return }
            current = Array(e.stringValue)
        }
        // Checked before adding: a huge offset must be an error, not an overflow.
        guard offset <= Int64(c.engine.config.protoMaxBulkLen - value.count),
              checkStringLength(c, Int(offset) + value.count) else {
            c.error(static: "ERR string exceeds maximum allowed size (proto-max-bulk-len)")
            return
        }
        let needed = Int(offset) + value.count
        if current.count < needed { current.append(contentsOf: repeatElement(0, count: needed - current.count)) }
        current.withUnsafeMutableBytes { dst in
            (dst.baseAddress! + Int(offset)).copyMemory(from: value.baseAddress!, byteCount: value.count)
        }
        s.setString(c.db, key, current, keepTTL: true, encoding: .raw)
        s.signalModifiedKey(c.db, key)
        s.notifyKeyspaceEvent(.string, "setrange", key, c.dbIndex)
        s.addDirty()
        c.reply.integer(current.count)
    }
}
