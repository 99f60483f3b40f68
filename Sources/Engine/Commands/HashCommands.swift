// Hash commands (Redis's t_hash.c).

import Glibc
import RESP
import CShims

extension ShardEngine {
    static func hashCommands() -> [Command] {
        let wf: CommandFlags = [.write, .denyOOM, .fast]
        let rf: CommandFlags = [.readonly, .fast]
        return [
            Command("hset", arity: -4, flags: wf, keys: (1, 1, 1), group: .hash, since: "2.0.0",
                    handler: { hsetCommand($0, isHmset: false) }),
            Command("hsetnx", arity: 4, flags: wf, keys: (1, 1, 1), group: .hash, since: "2.0.0", handler: hsetnxCommand),
            Command("hget", arity: 3, flags: rf, keys: (1, 1, 1), group: .hash, since: "2.0.0", handler: hgetCommand),
            Command("hmset", arity: -4, flags: wf, keys: (1, 1, 1), group: .hash, since: "2.0.0",
                    handler: { hsetCommand($0, isHmset: true) }),
            Command("hmget", arity: -3, flags: rf, keys: (1, 1, 1), group: .hash, since: "2.0.0", handler: hmgetCommand),
            Command("hdel", arity: -3, flags: [.write, .fast], keys: (1, 1, 1), group: .hash, since: "2.0.0",
                    handler: hdelCommand),
            Command("hexists", arity: 3, flags: rf, keys: (1, 1, 1), group: .hash, since: "2.0.0", handler: hexistsCommand),
            Command("hlen", arity: 2, flags: rf, keys: (1, 1, 1), group: .hash, since: "2.0.0", handler: hlenCommand),
            Command("hstrlen", arity: 3, flags: rf, keys: (1, 1, 1), group: .hash, since: "3.2.0", handler: hstrlenCommand),
            Command("hkeys", arity: 2, flags: [.readonly], keys: (1, 1, 1), group: .hash, since: "2.0.0",
                    handler: { hgetallGeneric($0, fields: true, values: false) }),
            Command("hvals", arity: 2, flags: [.readonly], keys: (1, 1, 1), group: .hash, since: "2.0.0",
                    handler: { hgetallGeneric($0, fields: false, values: true) }),
            Command("hgetall", arity: 2, flags: [.readonly], keys: (1, 1, 1), group: .hash, since: "2.0.0",
                    handler: { hgetallGeneric($0, fields: true, values: true) }),
            Command("hincrby", arity: 4, flags: wf, keys: (1, 1, 1), group: .hash, since: "2.0.0", handler: hincrbyCommand),
            Command("hincrbyfloat", arity: 4, flags: wf, keys: (1, 1, 1), group: .hash, since: "2.6.0",
                    handler: hincrbyfloatCommand),
            Command("hscan", arity: -3, flags: [.readonly], keys: (1, 1, 1), group: .hash, since: "2.8.0",
                    handler: hscanCommand),
            Command("hrandfield", arity: -2, flags: [.readonly], keys: (1, 1, 1), group: .hash, since: "6.2.0",
                    handler: hrandfieldCommand),
        ]
    }

    @inline(__always)
    static func lookupHash(_ c: Client, _ key: UnsafeRawBufferPointer, write: Bool) -> TypedLookup<HashValue> {
        lookupTyped(c, key, .hash, as: HashValue.self, write: write)
    }

    /// The hash at `key` for writing, created if absent (Redis's
    /// hashTypeLookupWriteOrCreate); nil after a WRONGTYPE reply.
    static func hashForWrite(_ c: Client, _ key: UnsafeRawBufferPointer) -> HashValue? {
        switch lookupHash(c, key, write: true) {
        case .wrongType: c.wrongType(); return nil
        case .found(let h): return h
        case .missing:
            let h = HashValue()
            c.engine.setObject(c.db, key, h, type: .hash)
            return h
        }
    }

    @inline(__always)
    static func hashSet(_ c: Client, _ h: HashValue, _ f: UnsafeRawBufferPointer, _ v: UnsafeRawBufferPointer) -> Bool {
        let cfg = c.engine.config
        return h.set(f, v, maxEntries: cfg.hashMaxListpackEntries, maxValue: cfg.hashMaxListpackValue)
    }

    // MARK: set / get

    static func hsetCommand(_ c: Client, isHmset: Bool) {
        let a = c.args
        if a.count % 2 == 1 { c.wrongArity(); return }
        let key = a[1]
        guard let h = hashForWrite(c, key) else { return }
        if h.isListpack {
            // Convert up front when any argument is too long (hashTypeTryConversion).
            let limit = c.engine.config.hashMaxListpackValue
            for i in 2..<a.count where a[i].count > limit { h.convertToTable(); break }
        }
        var created = 0
        var i = 2
        while i < a.count {
            if hashSet(c, h, a[i], a[i + 1]) { created += 1 }
            i += 2
        }
        if isHmset { c.reply.ok() } else { c.reply.integer(created) }
        let s = c.engine
        s.signalModifiedKey(c.db, key)
        s.notifyKeyspaceEvent(.hash, "hset", key, c.dbIndex)
        s.addDirty((a.count - 2) / 2)
    }

    static func hsetnxCommand(_ c: Client) {
        let key = c.args[1]
        guard let h = hashForWrite(c, key) else { return }
        if h.contains(c.args[2]) { c.reply.integer(0); return }
        _ = hashSet(c, h, c.args[2], c.args[3])
        c.reply.integer(1)
        let s = c.engine
        s.signalModifiedKey(c.db, key)
        s.notifyKeyspaceEvent(.hash, "hset", key, c.dbIndex)
        s.addDirty()
    }

    static func hgetCommand(_ c: Client) {
        switch lookupHash(c, c.args[1], write: false) {
        case .wrongType: c.wrongType()
        case .missing: c.reply.null()
        case .found(let h):
            if let v = h.get(c.args[2]) { c.reply.bulk(v) } else { c.reply.null() }
        }
    }

    static func hmgetCommand(_ c: Client) {
        let a = c.args
        var hash: HashValue? = nil
        switch lookupHash(c, a[1], write: false) {
        case .wrongType: c.wrongType(); return
        case .missing: break
        case .found(let h): hash = h
        }
        c.reply.array(a.count - 2)
        for i in 2..<a.count {
            if let v = hash?.get(a[i]) { c.reply.bulk(v) } else { c.reply.null() }
        }
    }

    static func hdelCommand(_ c: Client) {
        switch lookupHash(c, c.args[1], write: true) {
        case .wrongType: c.wrongType()
        case .missing: c.reply.integer(0)
        case .found(let h): removeMembers(c, h, .hash, event: "hdel") { $0.delete($1) }
        }
    }

    static func hexistsCommand(_ c: Client) {
        switch lookupHash(c, c.args[1], write: false) {
        case .wrongType: c.wrongType()
        case .missing: c.reply.integer(0)
        case .found(let h): c.reply.integer(h.contains(c.args[2]) ? 1 : 0)
        }
    }

    static func hlenCommand(_ c: Client) {
        switch lookupHash(c, c.args[1], write: false) {
        case .wrongType: c.wrongType()
        case .missing: c.reply.integer(0)
        case .found(let h): c.reply.integer(h.count)
        }
    }

    static func hstrlenCommand(_ c: Client) {
        switch lookupHash(c, c.args[1], write: false) {
        case .wrongType: c.wrongType()
        case .missing: c.reply.integer(0)
        case .found(let h): c.reply.integer(h.get(c.args[2])?.count ?? 0)
        }
    }

    /// HKEYS, HVALS, HGETALL (a map in RESP3).
    static func hgetallGeneric(_ c: Client, fields: Bool, values: Bool) {
        let both = fields && values
        switch lookupHash(c, c.args[1], write: false) {
        case .wrongType: c.wrongType()
        case .missing: if both { c.reply.map(0) } else { c.reply.array(0) }
        case .found(let h):
            let r = c.reply
            if both { r.map(h.count) } else { r.array(h.count) }
            h.forEach { f, v in
                if fields { r.bulk(f) }
                if values { r.bulk(v) }
            }
        }
    }

    // MARK: increments

    static func hincrbyCommand(_ c: Client) {
        guard let incr = c.intArg(3) else { return }
        let key = c.args[1], field = c.args[2]
        guard let h = hashForWrite(c, key) else { return }
        var value: Int64 = 0
        if let cur = h.get(field) {
            guard let v = parseCanonicalInt64(cur) else {
                c.error(static: "ERR hash value is not an integer")
                return
            }
            value = v
        }
        let (r, overflow) = value.addingReportingOverflow(incr)
        if overflow { c.error(static: "ERR increment or decrement would overflow"); return }
        var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &tmp) { raw in
            let n = writeDecimal(r, to: raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
            _ = hashSet(c, h, field, UnsafeRawBufferPointer(rebasing: raw[0..<n]))
        }
        c.reply.integer(r)
        let s = c.engine
        s.signalModifiedKey(c.db, key)
        s.notifyKeyspaceEvent(.hash, "hincrby", key, c.dbIndex)
        s.addDirty()
    }

    /// Parses a long double exactly as Redis's string2ld.
    static func parseLongDouble(_ b: UnsafeRawBufferPointer) -> Float80? {
        if b.count == 0 || b.count >= 5 * 1024 { return nil }
        var buf = [CChar](repeating: 0, count: b.count + 1)
        buf.withUnsafeMutableBytes { $0.copyMemory(from: b) }
        if isspace(Int32(UInt8(bitPattern: buf[0]))) != 0 { return nil }
        return buf.withUnsafeMutableBufferPointer { p -> Float80? in
            let base = p.baseAddress!
            var end: UnsafeMutablePointer<CChar>? = nil
            errno = 0
            let v = strtold(base, &end)
            if end! - base != b.count { return nil }
            if errno == ERANGE && (v.isInfinite || v == 0) { return nil }
            if errno == EINVAL || v.isNaN { return nil }
            return v
        }
    }

    static func hincrbyfloatCommand(_ c: Client) {
        guard let incr = parseLongDouble(c.args[3]) else { c.notFloat(); return }
        if incr.isNaN || incr.isInfinite { c.error(static: "ERR value is NaN or Infinity"); return }
        let key = c.args[1], field = c.args[2]
        guard let h = hashForWrite(c, key) else { return }
        var value: Float80 = 0
        if let cur = h.get(field) {
            guard let v = parseLongDouble(cur) else { c.error(static: "ERR hash value is not a float"); return }
            value = v
        }
        value += incr
        if value.isNaN || value.isInfinite {
            c.error(static: "ERR increment would produce NaN or Infinity")
            return
        }
        var out = [CChar](repeating: 0, count: 5200)
        let n = Int(ts_format_long_double_human(&out, 5200, value))
        let bytes = out[0..<n].map { UInt8(bitPattern: $0) }
        bytes.withUnsafeBytes { _ = hashSet(c, h, field, $0) }
        c.reply.bulk(bytes)
        let s = c.engine
        s.signalModifiedKey(c.db, key)
        s.notifyKeyspaceEvent(.hash, "hincrbyfloat", key, c.dbIndex)
        s.rewritePropagation(c, "HSET", Array(key), Array(field), bytes)
        s.addDirty()
    }

    // MARK: HSCAN

    /// Parses a SCAN cursor as Redis does (strtoul: optional sign, decimal,
    /// nothing else; an empty string is 0). Replies "invalid cursor" otherwise.
    private static func hscanCursor(_ c: Client, _ i: Int) -> UInt64? {
        let b = c.args[i]
        if b.isEmpty { return 0 }
        var j = 0
        var negative = false
        if b[0] == UInt8(ascii: "+") || b[0] == UInt8(ascii: "-") { negative = b[0] == UInt8(ascii: "-"); j = 1 }
        var v: UInt64 = 0
        let digitsStart = j
        var overflow = false
        while j < b.count, b[j] >= 48, b[j] <= 57 {
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(b[j] - 48))
            if o1 || o2 { overflow = true }
            v = s
            j += 1
        }
        if j == digitsStart || j != b.count || overflow {
            c.error(static: "ERR invalid cursor")
            return nil
        }
        return negative ? 0 &- v : v
    }

    static func hscanCommand(_ c: Client) {
        guard let cursor = hscanCursor(c, 2) else { return }
        let a = c.args
        let h: HashValue
        switch lookupHash(c, a[1], write: false) {
        case .wrongType: c.wrongType(); return
        case .missing:
            c.reply.array(2)
            c.reply.bulk(decimal: 0)
            c.reply.array(0)
            return
        case .found(let v): h = v
        }
        var count = 10
        var pattern: UnsafeRawBufferPointer? = nil
        var i = 3
        while i < a.count {
            let more = i + 1 < a.count
            if more && a.equals(i, "count") {
                guard let v = c.intArg(i + 1) else { return }
                if v < 1 { c.syntaxError(); return }
                count = Int(v)
                i += 2
            } else if more && a.equals(i, "match") {
                let p = a[i + 1]
                pattern = (p.count == 1 && p[0] == UInt8(ascii: "*")) ? nil : p
                i += 2
            } else {
                c.syntaxError()
                return
            }
        }
        var items: [(UnsafeRawBufferPointer, UnsafeRawBufferPointer)] = []
        let next = h.scan(cursor: cursor, count: count) { f, v in
            if let p = pattern, !globMatch(p, f) { return }
            items.append((f, v))
        }
        let r = c.reply
        r.array(2)
        r.bulk(decimal: Int64(bitPattern: next))
        r.array(items.count * 2)
        for (f, v) in items {
            r.bulk(f)
            r.bulk(v)
        }
    }

    // MARK: HRANDFIELD

    static func hrandfieldCommand(_ c: Client) {
        let a = c.args
        if a.count >= 3 {
            guard let l = c.intArg(2) else { return }
            if l == Int64.min {
                c.error(static: "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
                return
            }
            if a.count > 4 || (a.count == 4 && !a.equals(3, "withvalues")) { c.syntaxError(); return }
            let withValues = a.count == 4
            if withValues && (l > Int64.max / 2 || l < -(Int64.max / 2)) {
                c.error(static: "ERR value is out of range")
                return
            }
            hrandfieldWithCount(c, l, withValues)
            return
        }
        switch lookupHash(c, a[1], write: false) {
        case .wrongType: c.wrongType()
        case .missing: c.reply.null()
        case .found(let h): c.reply.bulk(h.pair(h.randomHandle()).0)
        }
    }

    private static func hrandfieldWithCount(_ c: Client, _ l: Int64, _ withValues: Bool) {
        let h: HashValue
        switch lookupHash(c, c.args[1], write: false) {
        case .wrongType: c.wrongType(); return
        case .missing: c.reply.array(0); return
        case .found(let v): h = v
        }
        let r = c.reply
        let size = h.count
        let unique = l >= 0
        let count = Int(unique ? l : -l)
        if count == 0 { r.array(0); return }
        let resp3 = r.isResp3
        func emit(_ handle: Int) {
            let (f, v) = h.pair(handle)
            if withValues && resp3 { r.array(2) }
            r.bulk(f)
            if withValues { r.bulk(v) }
        }
        // Repetitions allowed (negative count), or a single element.
        if !unique || count == 1 {
            r.array(withValues && !resp3 ? count * 2 : count)
            if h.isListpack {
                let handles = h.allHandles()
                for _ in 0..<count { emit(handles[Int.random(in: 0..<handles.count)]) }
            } else {
                for _ in 0..<count { emit(h.randomHandle()) }
            }
            return
        }
        let n = min(count, size)
        r.array(withValues && !resp3 ? n * 2 : n)
        if count >= size {
            // The whole hash.
            h.forEach { f, v in
                if withValues && resp3 { r.array(2) }
                r.bulk(f)
                if withValues { r.bulk(v) }
            }
            return
        }
        if h.isListpack || count * 3 > size {
            // Partial Fisher-Yates over all pairs.
            var handles = h.allHandles()
            for i in 0..<n {
                let j = Int.random(in: i..<handles.count)
                handles.swapAt(i, j)
                emit(handles[i])
            }
            return
        }
        // Few out of many: sample until enough distinct fields.
        var picked = Set<Int>()
        picked.reserveCapacity(n)
        while picked.count < n {
            let s = h.randomHandle()
            if picked.insert(s).inserted { emit(s) }
        }
    }
}
