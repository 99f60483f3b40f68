// Generic keyspace commands (Redis's db.c): DEL UNLINK EXISTS TYPE RENAME
// RENAMENX MOVE COPY SWAPDB TOUCH RANDOMKEY DBSIZE FLUSHDB FLUSHALL.
// The expire family is in ExpireCommands.swift, KEYS/SCAN in
// ScanCommands.swift, OBJECT in ObjectCommand.swift, SORT in SortCommand.swift.

import Glibc

extension ShardEngine {
    static func keyCommands() -> [Command] {
        var all: [Command] = [
            Command("del", arity: -2, flags: [.write], keys: (1, -1, 1), group: .generic,
                    handler: { delCommand($0, lazy: $0.engine.config.lazyfreeLazyUserDel) }),
            Command("unlink", arity: -2, flags: [.write, .fast], keys: (1, -1, 1), group: .generic, since: "4.0.0",
                    handler: { delCommand($0, lazy: true) }),
            Command("exists", arity: -2, flags: [.readonly, .fast], keys: (1, -1, 1), group: .generic,
                    handler: existsCommand),
            Command("type", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1), group: .generic, handler: typeCommand),
            Command("rename", arity: 3, flags: [.write], keys: (1, 2, 1), group: .generic,
                    handler: { renameCommand($0, nx: false) }),
            Command("renamenx", arity: 3, flags: [.write, .fast], keys: (1, 2, 1), group: .generic,
                    handler: { renameCommand($0, nx: true) }),
            Command("move", arity: 3, flags: [.write, .fast], keys: (1, 1, 1), group: .generic, handler: moveCommand),
            Command("copy", arity: -3, flags: [.write, .denyOOM], keys: (1, 2, 1), group: .generic, since: "6.2.0",
                    handler: copyCommand),
            Command("swapdb", arity: 3, flags: [.write, .fast], group: .server, since: "4.0.0", handler: swapdbCommand),
            Command("touch", arity: -2, flags: [.readonly, .fast], keys: (1, -1, 1), group: .generic, since: "3.2.1",
                    handler: touchCommand),
            Command("randomkey", arity: 1, flags: [.readonly], group: .generic, handler: randomkeyCommand),
            Command("dbsize", arity: 1, flags: [.readonly, .fast], group: .server, handler: { $0.reply.integer($0.db.count) }),
            Command("flushdb", arity: -1, flags: [.write], group: .server, handler: flushdbCommand),
            Command("flushall", arity: -1, flags: [.write], group: .server, handler: flushallCommand),
        ]
        all += expireCommands()
        all += scanCommands()
        all.append(objectCommand())
        all += sortCommands()
        return all
    }

    // MARK: helpers

    /// True if two byte strings are equal.
    @inline(__always)
    static func bytesEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        a.count == b.count && (a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0)
    }

    /// A new entry named `key` carrying the value of `e` (RENAME, MOVE): string
    /// bytes are copied, an object is shared (retained once more, so freeing
    /// `e` afterwards leaves it alive). Access data is kept, as Redis keeps the robj.
    static func entryTransferring(_ e: Entry, to key: UnsafeRawBufferPointer, expireAt: Int64?) -> Entry {
        let n: Entry
        if e.type == .string {
            n = Entry.makeString(key: key, value: e.stringValue, encoding: StringEncoding(rawValue: e.encodingRaw) ?? .raw,
                                 lru: e.lru, expireAt: expireAt)
        } else {
            n = Entry.makeObject(key: key, object: e.object, type: e.type, lru: e.lru, expireAt: expireAt)
            n.encodingRaw = e.encodingRaw
        }
        n.lfu = e.lfu
        return n
    }

    /// A new entry named `key` holding a deep copy of the value of `e` (COPY).
    func entryCopying(_ e: Entry, to key: UnsafeRawBufferPointer, expireAt: Int64?) -> Entry {
        if e.type == .string {
            return Entry.makeString(key: key, value: e.stringValue, encoding: StringEncoding(rawValue: e.encodingRaw) ?? .raw,
                                    lru: accessStamp, expireAt: expireAt)
        }
        let copy: ValueObject = e.valueObject.duplicate()
        return Entry.makeObject(key: key, object: copy, type: e.type, lru: accessStamp, expireAt: expireAt)
    }

    /// Parses a database index argument the way Redis's getIntFromObjectOrReply
    /// does (an integer that fits in 32 bits); replies `message` (or Redis's
    /// default errors) and returns nil otherwise.
    static func dbIndexArg(_ c: Client, _ i: Int, message: StaticString? = nil) -> Int? {
        guard let v = c.args.int64(i) else {
            if let m = message { c.error(static: m) } else { c.notInteger() }
            return nil
        }
        guard v >= Int64(Int32.min) && v <= Int64(Int32.max) else {
            if let m = message { c.error(static: m) } else {
                c.error(static: "ERR value is out of range, value must between -2147483648 and 2147483647")
            }
            return nil
        }
        return Int(v)
    }

    var clusterEnabled: Bool { config.get("cluster-enabled") == "yes" }

    // MARK: DEL UNLINK EXISTS TYPE TOUCH

    /// DEL and UNLINK: UNLINK (and DEL with lazyfree-lazy-user-del) frees big
    /// values on the lazy-free thread.
    static func delCommand(_ c: Client, lazy: Bool) {
        let s = c.engine, db = c.db
        var n = 0
        for i in 1..<c.args.count {
            let key = c.args[i]
            if s.deleteKey(db, key, lazy: lazy) {
                s.signalModifiedKey(db, key)
                s.notifyKeyspaceEvent(.generic, "del", key, db.index)
                s.addDirty()
                n += 1
            }
        }
        c.reply.integer(n)
    }

    static func existsCommand(_ c: Client) {
        let s = c.engine
        var n = 0
        for i in 1..<c.args.count where s.lookupRead(c, c.args[i], touch: false) != nil { n += 1 }
        c.reply.integer(n)
    }

    static func typeCommand(_ c: Client) {
        guard let e = c.engine.lookupRead(c, c.args[1], touch: false) else { c.reply.simple("none"); return }
        if e.type == .module, let m = e.object as? ModuleValue { c.reply.simple(string: m.moduleType.typeName); return }
        c.reply.simple(e.type.name)
    }

    static func touchCommand(_ c: Client) {
        let s = c.engine
        var n = 0
        for i in 1..<c.args.count where s.lookupRead(c, c.args[i]) != nil { n += 1 }
        c.reply.integer(n)
    }

    // MARK: RENAME RENAMENX

    static func renameCommand(_ c: Client, nx: Bool) {
        let s = c.engine, db = c.db
        let src = c.args[1], dst = c.args[2]
        guard let e = s.lookupWrite(db, src) else { c.error(static: "ERR no such key"); return }
        if bytesEqual(src, dst) {
            if nx { c.reply.integer(0) } else { c.reply.ok() }
            return
        }
        if s.lookupWrite(db, dst) != nil {
            if nx { c.reply.integer(0); return }
            s.deleteKey(db, dst)
        }
        // `e` stays valid: only changes to its own key move or free it.
        transferKey(s, e, src, in: db, to: dst, in: db, events: ("rename_from", "rename_to"))
        if nx { c.reply.integer(1) } else { c.reply.ok() }
    }

    /// Moves entry `e` (key `from` of `src`) to key `to` of `dst`, which is
    /// free, and signals both sides (RENAME, MOVE).
    static func transferKey(_ s: ShardEngine, _ e: Entry, _ from: UnsafeRawBufferPointer, in src: Database,
                            to: UnsafeRawBufferPointer, in dst: Database, events: (StaticString, StaticString)) {
        dst.insertNew(entryTransferring(e, to: to, expireAt: e.expireAt))
        s.notifyKeyspaceEvent(.new, "new", to, dst.index)
        src.delete(from)
        s.signalModifiedKey(src, from)
        s.signalModifiedKey(dst, to)
        s.notifyKeyspaceEvent(.generic, events.0, from, src.index)
        s.notifyKeyspaceEvent(.generic, events.1, to, dst.index)
        s.addDirty()
    }

    // MARK: MOVE COPY SWAPDB

    static func moveCommand(_ c: Client) {
        let s = c.engine
        if s.clusterRestricted(c) { c.error(static: "ERR MOVE is not allowed in cluster mode"); return }
        let src = c.db
        guard let id = dbIndexArg(c, 2) else { return }
        guard let dst = s.database(id) else { c.error(static: "ERR DB index is out of range"); return }
        if dst === src { c.error(static: "ERR source and destination objects are the same"); return }
        let key = c.args[1]
        guard let e = s.lookupWrite(src, key) else { c.reply.integer(0); return }
        if s.lookupWrite(dst, key) != nil { c.reply.integer(0); return }
        transferKey(s, e, key, in: src, to: key, in: dst, events: ("move_from", "move_to"))
        c.reply.integer(1)
    }

    static func copyCommand(_ c: Client) {
        let s = c.engine, a = c.args
        let src = c.db
        var dst = c.db
        var replace = false
        var j = 3
        while j < a.count {
            if a.equals(j, "replace") {
                replace = true
            } else if a.equals(j, "db") && j + 1 < a.count {
                guard let id = dbIndexArg(c, j + 1) else { return }
                guard let d = s.database(id) else { c.error(static: "ERR DB index is out of range"); return }
                dst = d
                j += 1
            } else {
                c.syntaxError()
                return
            }
            j += 1
        }
        if s.clusterRestricted(c) && (src.index != 0 || dst.index != 0) {
            c.error(static: "ERR Copying to another database is not allowed in cluster mode")
            return
        }
        let key = a[1], newKey = a[2]
        if src === dst && bytesEqual(key, newKey) {
            c.error(static: "ERR source and destination objects are the same")
            return
        }
        guard let e = s.lookupRead(c, key) else { c.reply.integer(0); return }
        let exists = s.lookupWrite(dst, newKey) != nil
        if exists && !replace { c.reply.integer(0); return }
        // Copy first (the source entry may be the one replaced only when the
        // databases differ, and then it is not touched).
        let copy = s.entryCopying(e, to: newKey, expireAt: e.expireAt)
        if exists { s.deleteKey(dst, newKey) }
        dst.insertNew(copy)
        s.notifyKeyspaceEvent(.new, "new", newKey, dst.index)
        s.signalModifiedKey(dst, newKey)
        s.notifyKeyspaceEvent(.generic, "copy_to", newKey, dst.index)
        s.addDirty()
        c.reply.integer(1)
    }

    static func swapdbCommand(_ c: Client) {
        let s = c.engine
        if s.clusterRestricted(c) { c.error(static: "ERR SWAPDB is not allowed in cluster mode"); return }
        guard let a = dbIndexArg(c, 1, message: "ERR invalid first DB index"),
              let b = dbIndexArg(c, 2, message: "ERR invalid second DB index") else { return }
        guard s.database(a) != nil, s.database(b) != nil else {
            c.error(static: "ERR DB index is out of range")
            return
        }
        if a != b { s.swapDatabases(a, b) }
        s.addDirty()
        c.reply.ok()
    }

    // MARK: RANDOMKEY DBSIZE FLUSHDB FLUSHALL

    static func randomkeyCommand(_ c: Client) {
        let s = c.engine, db = c.db
        while let e = db.randomEntry() {
            if let t = e.expireAt, t <= s.now {
                // Expired: delete it and draw again (Redis's dbRandomKey).
                s.expire(db, slot: db.find(e.key))
                continue
            }
            c.reply.bulk(e.key)
            return
        }
        c.reply.null()
    }

    /// FLUSHDB/FLUSHALL's optional ASYNC|SYNC: whether to free in the background
    /// (without the option: lazyfree-lazy-user-flush), or nil after a syntax error reply.
    static func flushAsyncMode(_ c: Client) -> Bool? {
        let a = c.args
        if a.count > 2 || (a.count == 2 && !a.equals(1, "sync") && !a.equals(1, "async")) {
            c.syntaxError()
            return nil
        }
        if a.count == 2 { return a.equals(1, "async") }
        return c.engine.config.lazyfreeLazyUserFlush
    }

    static func flushdbCommand(_ c: Client) {
        guard let async = flushAsyncMode(c) else { return }
        let s = c.engine
        let removed = c.db.count
        s.flush(c.db, async: async)
        s.addDirty(removed)
        // As Redis 7.0: propagated even when the database was empty.
        s.forcePropagation(c)
        c.reply.ok()
    }

    static func flushallCommand(_ c: Client) {
        guard let async = flushAsyncMode(c) else { return }
        let s = c.engine
        var removed = 0
        for db in s.databases { removed += db.count }
        s.flushAll(async: async)
        s.addDirty(removed + 1)
        // As Redis: a running snapshot is obsolete, and with save points the empty
        // dataset is saved at once. FLUSHALL reaches the AOF even on an empty dataset.
        s.persistence?.afterFlushAll()
        s.forcePropagation(c)
        c.reply.ok()
    }
}
