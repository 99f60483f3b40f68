// Set commands (Redis's t_set.c): single-key commands here, the multi-key
// algebra (SINTER, SUNION, SDIFF...) in SetAlgebraCommands.swift.

import RESP

extension ShardEngine {
    static func setCommands() -> [Command] {
        let ro: CommandFlags = [.readonly]
        let rof: CommandFlags = [.readonly, .fast]
        return [
            Command("sadd", arity: -3, flags: [.write, .denyOOM, .fast], keys: (1, 1, 1), group: .set, handler: saddCommand),
            Command("srem", arity: -3, flags: [.write, .fast], keys: (1, 1, 1), group: .set, handler: sremCommand),
            Command("scard", arity: 2, flags: rof, keys: (1, 1, 1), group: .set, handler: scardCommand),
            Command("sismember", arity: 3, flags: rof, keys: (1, 1, 1), group: .set, handler: sismemberCommand),
            Command("smismember", arity: -3, flags: rof, keys: (1, 1, 1), group: .set, since: "6.2.0",
                    handler: smismemberCommand),
            Command("smembers", arity: 2, flags: ro, keys: (1, 1, 1), group: .set, handler: smembersCommand),
            Command("spop", arity: -2, flags: [.write, .fast], keys: (1, 1, 1), group: .set, handler: spopCommand),
            Command("srandmember", arity: -2, flags: ro, keys: (1, 1, 1), group: .set, handler: srandmemberCommand),
            Command("smove", arity: 4, flags: [.write, .fast], keys: (1, 2, 1), group: .set, handler: smoveCommand),
            Command("sinter", arity: -2, flags: ro, keys: (1, -1, 1), group: .set, handler: sinterCommand),
            Command("sintercard", arity: -3, flags: ro, keys: (0, 0, 0), group: .set, since: "7.0.0",
                    handler: sintercardCommand),
            Command("sinterstore", arity: -3, flags: [.write, .denyOOM], keys: (1, -1, 1), group: .set,
                    handler: sinterstoreCommand),
            Command("sunion", arity: -2, flags: ro, keys: (1, -1, 1), group: .set, handler: { sunionDiff($0, diff: false, store: false) }),
            Command("sunionstore", arity: -3, flags: [.write, .denyOOM], keys: (1, -1, 1), group: .set,
                    handler: { sunionDiff($0, diff: false, store: true) }),
            Command("sdiff", arity: -2, flags: ro, keys: (1, -1, 1), group: .set, handler: { sunionDiff($0, diff: true, store: false) }),
            Command("sdiffstore", arity: -3, flags: [.write, .denyOOM], keys: (1, -1, 1), group: .set,
                    handler: { sunionDiff($0, diff: true, store: true) }),
            Command("sscan", arity: -3, flags: ro, keys: (1, 1, 1), group: .set, since: "2.8.0", handler: sscanCommand),
        ]
    }

    @inline(__always)
    static func lookupSet(_ c: Client, _ key: UnsafeRawBufferPointer, write: Bool = false) -> TypedLookup<SetValue> {
        lookupTyped(c, key, .set, as: SetValue.self, write: write)
    }

    static func saddCommand(_ c: Client) {
        let a = c.args, key = a[1], s = c.engine
        let set: SetValue
        switch lookupSet(c, key, write: true) {
        case .wrongType: c.wrongType(); return
        case .found(let v): set = v
        case .missing:
            set = SetValue(forFirstMember: a[2])
            s.setObject(c.db, key, set, type: .set)
        }
        let maxInts = s.config.setMaxIntsetEntries
        var added = 0
        for j in 2..<a.count where set.add(a[j], maxIntsetEntries: maxInts) { added += 1 }
        if added > 0 {
            s.signalModifiedKey(c.db, key)
            s.notifyKeyspaceEvent(.set, "sadd", key, c.dbIndex)
        }
        s.addDirty(added)
        c.reply.integer(added)
    }

    static func sremCommand(_ c: Client) {
        switch lookupSet(c, c.args[1], write: true) {
        case .wrongType: c.wrongType()
        case .missing: c.reply.integer(0)
        case .found(let set): removeMembers(c, set, .set, event: "srem") { $0.remove($1) }
        }
    }

    static func scardCommand(_ c: Client) {
        switch lookupSet(c, c.args[1]) {
        case .wrongType: c.wrongType()
        case .missing: c.reply.integer(0)
        case .found(let set): c.reply.integer(set.count)
        }
    }

    static func sismemberCommand(_ c: Client) {
        switch lookupSet(c, c.args[1]) {
        case .wrongType: c.wrongType()
        case .missing: c.reply.integer(0)
        case .found(let set): c.reply.integer(set.contains(c.args[2]) ? 1 : 0)
        }
    }

    static func smismemberCommand(_ c: Client) {
        var set: SetValue? = nil
        switch lookupSet(c, c.args[1]) {
        case .wrongType: c.wrongType(); return
        case .missing: break
        case .found(let v): set = v
        }
        c.reply.array(c.args.count - 2)
        for j in 2..<c.args.count {
            c.reply.integer(set?.contains(c.args[j]) == true ? 1 : 0)
        }
    }

    static func smembersCommand(_ c: Client) {
        switch lookupSet(c, c.args[1]) {
        case .wrongType: c.wrongType()
        case .missing: c.reply.set(0)
        case .found(let set):
            c.reply.set(set.count)
            set.forEach { c.reply.bulk($0) }
        }
    }

    static func spopCommand(_ c: Client) {
        let a = c.args
        if a.count == 3 { spopWithCount(c); return }
        if a.count > 3 { c.syntaxError(); return }
        let key = a[1], s = c.engine
        switch lookupSet(c, key, write: true) {
        case .wrongType: c.wrongType()
        case .missing: c.reply.null()
        case .found(let set):
            // The member is random: propagate which one as SREM.
            set.popRandom { m in
                c.reply.bulk(m)
                s.rewritePropagation(c, "SREM", Array(key), Array(m))
            }
            s.notifyKeyspaceEvent(.set, "spop", key, c.dbIndex)
            if set.count == 0 {
                s.deleteKey(c.db, key)
                s.notifyKeyspaceEvent(.generic, "del", key, c.dbIndex)
            }
            s.signalModifiedKey(c.db, key)
            s.addDirty()
        }
    }

    static func spopWithCount(_ c: Client) {
        guard let count = SZArgs.positiveLong(c, 2) else { return }
        let key = c.args[1], s = c.engine
        let set: SetValue
        switch lookupSet(c, key, write: true) {
        case .wrongType: c.wrongType(); return
        case .missing: c.reply.set(0); return
        case .found(let v): set = v
        }
        if count == 0 { c.reply.set(0); return }
        let size = set.count
        s.notifyKeyspaceEvent(.set, "spop", key, c.dbIndex)
        s.addDirty(Swift.min(count, size))
        if count >= size {
            c.reply.set(size)
            set.forEach { c.reply.bulk($0) }
            s.rewritePropagation(c, "DEL", Array(key))
            s.deleteKey(c.db, key)
            s.notifyKeyspaceEvent(.generic, "del", key, c.dbIndex)
            s.signalModifiedKey(c.db, key)
            return
        }
        c.reply.set(count)
        // The members are random: propagate them as SREMs (a MULTI/EXEC when more than one).
        var batch: [[UInt8]] = []
        let propagating = s.isPropagating
        set.popRandom(count: count) { m in
            c.reply.bulk(m)
            if propagating {
                if batch.isEmpty { batch = [Array("SREM".utf8), Array(key)] }
                batch.append(Array(m))
                if batch.count == 1026 { s.alsoPropagate(db: c.dbIndex, batch); batch = [] }
            }
        }
        if !batch.isEmpty { s.alsoPropagate(db: c.dbIndex, batch) }
        s.preventPropagation(c)
        s.signalModifiedKey(c.db, key)
    }

    static func srandmemberCommand(_ c: Client) {
        let a = c.args
        if a.count == 3 { srandmemberWithCount(c); return }
        if a.count > 3 { c.syntaxError(); return }
        switch lookupSet(c, a[1]) {
        case .wrongType: c.wrongType()
        case .missing: c.reply.null()
        case .found(let set): set.withRandomMember { c.reply.bulk($0) }
        }
    }

    static func srandmemberWithCount(_ c: Client) {
        guard let l = SZArgs.rangeLong(c, 2, min: -Int.max, max: Int.max) else { return }
        let set: SetValue
        switch lookupSet(c, c.args[1]) {
        case .wrongType: c.wrongType(); return
        case .missing: c.reply.array(0); return
        case .found(let v): set = v
        }
        let unique = l >= 0
        let count = unique ? l : -l
        if count == 0 { c.reply.array(0); return }
        let size = set.count
        if !unique || count == 1 {
            c.reply.array(count)
            for _ in 0..<count {
                set.withRandomMember { c.reply.bulk($0) }
                if c.closeASAP { break }
            }
            return
        }
        if count >= size {
            c.reply.array(size)
            set.forEach { c.reply.bulk($0) }
            return
        }
        c.reply.array(count)
        set.randomDistinct(count) { c.reply.bulk($0) }
    }

    static func smoveCommand(_ c: Client) {
        let a = c.args, src = a[1], dst = a[2], member = a[3], s = c.engine
        let srcEntry = s.lookupWrite(c.db, src)
        let dstEntry = s.lookupWrite(c.db, dst)
        guard let se = srcEntry else { c.reply.integer(0); return }
        if se.type != .set || (dstEntry != nil && dstEntry!.type != .set) { c.wrongType(); return }
        let srcSet = unsafeDowncast(se.object, to: SetValue.self)
        if bytesEqual(src, dst) {
            c.reply.integer(srcSet.contains(member) ? 1 : 0)
            return
        }
        if !srcSet.remove(member) { c.reply.integer(0); return }
        s.notifyKeyspaceEvent(.set, "srem", src, c.dbIndex)
        if srcSet.count == 0 {
            s.deleteKey(c.db, src)
            s.notifyKeyspaceEvent(.generic, "del", src, c.dbIndex)
        }
        let dstSet: SetValue
        if let de = dstEntry {
            dstSet = unsafeDowncast(de.object, to: SetValue.self)
        } else {
            dstSet = SetValue(forFirstMember: member)
            s.setObject(c.db, dst, dstSet, type: .set)
        }
        s.signalModifiedKey(c.db, src)
        s.addDirty()
        if dstSet.add(member, maxIntsetEntries: s.config.setMaxIntsetEntries) {
            s.addDirty()
            s.signalModifiedKey(c.db, dst)
            s.notifyKeyspaceEvent(.set, "sadd", dst, c.dbIndex)
        }
        c.reply.integer(1)
    }

    static func sscanCommand(_ c: Client) {
        guard let cursor = SZArgs.scanCursor(c, 2) else { return }
        let set: SetValue
        switch lookupSet(c, c.args[1]) {
        case .wrongType: c.wrongType(); return
        case .missing:
            c.reply.array(2); c.reply.bulk(string: "0"); c.reply.array(0)
            return
        case .found(let v): set = v
        }
        guard let opts = SZArgs.scanOptions(c) else { return }
        var items: [[UInt8]] = []
        var next: UInt64 = 0
        if set.isIntset {
            set.forEach { items.append(Array($0)) }
        } else {
            var cur = cursor
            var maxIterations = opts.count * 10
            repeat {
                cur = set.scanStep(cursor: cur) { items.append(Array($0)) }
                maxIterations -= 1
            } while cur != 0 && maxIterations >= 0 && items.count < opts.count
            next = cur
        }
        if let p = opts.pattern {
            items.removeAll { m in !m.withUnsafeBytes { globMatch(p, $0) } }
        }
        SZArgs.replyScan(c, cursor: next, items: items)
    }
}
