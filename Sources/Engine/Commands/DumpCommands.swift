// DUMP and RESTORE: a key's value in Redis's serialized form (RDB value +
// RDB version + CRC64), portable between Tessera and Redis.

extension ShardEngine {
    static func dumpCommands() -> [Command] {
        [
            Command("dump", arity: 2, flags: [.readonly], keys: (1, 1, 1), group: .generic, since: "2.6.0",
                    handler: dumpCommand),
            Command("restore", arity: -4, flags: [.write, .denyOOM], keys: (1, 1, 1), group: .generic, since: "2.6.0",
                    handler: restoreCommand),
        ]
    }

    static func dumpCommand(_ c: Client) {
        guard let e = c.engine.lookupRead(c, c.args[1]) else { c.reply.null(); return }
        c.reply.bulk(ValueSerializer.dumpPayload(e, compress: c.engine.config.get("rdbcompression") == "yes"))
    }

    static func restoreCommand(_ c: Client) {
        let a = c.args
        let s = c.engine
        var replace = false, absTTL = false
        var idle: Int64 = -1, freq: Int64 = -1
        var i = 4
        while i < a.count {
            let more = i + 1 < a.count
            if a.equals(i, "replace") { replace = true }
            else if a.equals(i, "absttl") { absTTL = true }
            else if a.equals(i, "idletime") && more && freq == -1 {
                guard let v = c.intArg(i + 1) else { return }
                if v < 0 { c.error(static: "ERR Invalid IDLETIME value, must be >= 0"); return }
                idle = v; i += 1
            } else if a.equals(i, "freq") && more && idle == -1 {
                guard let v = c.intArg(i + 1) else { return }
                if v < 0 || v > 255 { c.error(static: "ERR Invalid FREQ value, must be >= 0 and <= 255"); return }
                freq = v; i += 1
            } else { c.syntaxError(); return }
            i += 1
        }
        guard let ttl = c.intArg(2) else { return }
        if ttl < 0 { c.error(static: "ERR Invalid TTL value, must be >= 0"); return }
        let key = a[1]
        if !replace && s.lookupWrite(c.db, key) != nil {
            c.error(static: "BUSYKEY Target key name already exists.")
            return
        }
        let payload = a.bytes(3)
        guard ValueSerializer.verifyPayload(payload, checkCRC: !s.admin.skipChecksumValidation) else {
            c.error(static: "ERR DUMP payload version or checksum are wrong")
            return
        }
        var r = RDBReader(Array(payload[0..<(payload.count - 10)]))
        let value: ValueSerializer.Value
        do {
            let type = try r.byte()
            value = try ValueSerializer.read(type: type, &r, config: s.config, moduleTypes: s.moduleTypes)
            if r.remaining != 0 { throw RDBError("trailing bytes") }
        } catch {
            c.error(static: "ERR Bad data format")
            return
        }
        var expireAt: Int64? = nil
        if ttl > 0 { expireAt = absTTL ? ttl : s.now + ttl }
        var deleted = false
        if replace { deleted = s.deleteKey(c.db, key) }
        if let t = expireAt, t <= s.now {
            // Already expired: nothing is created (a replaced key is gone).
            if deleted {
                s.signalModifiedKey(c.db, key)
                s.notifyKeyspaceEvent(.generic, "del", key, c.dbIndex)
                s.rewritePropagation(c, "DEL", Array(key))
                s.addDirty()
            }
            c.reply.ok()
            return
        }
        switch value {
        case .string(let bytes): s.setString(c.db, key, bytes, expireAt: expireAt)
        case .object(let o, let type): s.setObject(c.db, key, o, type: type, expireAt: expireAt)
        }
        if let e = c.db.rawLookup(key) {
            if idle >= 0 { e.lru = s.lruClock &- UInt32(truncatingIfNeeded: idle) & 0xFFFFFF }
            if freq >= 0 { e.lfu = UInt8(freq) }
        }
        s.signalModifiedKey(c.db, key)
        s.notifyKeyspaceEvent(.generic, "restore", key, c.dbIndex)
        if let t = expireAt, !absTTL, s.isPropagating {
            // A relative TTL means another instant when replayed: make it absolute.
            var argv = (0..<a.count).map { a.bytes($0) }
            argv[2] = decimalBytes(t)
            argv.append(Array("ABSTTL".utf8))
            s.rewritePropagation(c, argv)
        }
        s.addDirty()
        c.reply.ok()
    }
}
