// List commands (Redis's t_list.c), non-blocking ones.

import RESP

extension ShardEngine {
    static func listCommands() -> [Command] {
        let wf: CommandFlags = [.write, .denyOOM, .fast]
        return [
            Command("lpush", arity: -3, flags: wf, keys: (1, 1, 1), group: .list,
                    handler: { pushCommand($0, front: true, onlyExisting: false) }),
            Command("rpush", arity: -3, flags: wf, keys: (1, 1, 1), group: .list,
                    handler: { pushCommand($0, front: false, onlyExisting: false) }),
            Command("lpushx", arity: -3, flags: wf, keys: (1, 1, 1), group: .list, since: "2.2.0",
                    handler: { pushCommand($0, front: true, onlyExisting: true) }),
            Command("rpushx", arity: -3, flags: wf, keys: (1, 1, 1), group: .list, since: "2.2.0",
                    handler: { pushCommand($0, front: false, onlyExisting: true) }),
            Command("lpop", arity: -2, flags: [.write, .fast], keys: (1, 1, 1), group: .list,
                    handler: { popCommand($0, front: true) }),
            Command("rpop", arity: -2, flags: [.write, .fast], keys: (1, 1, 1), group: .list,
                    handler: { popCommand($0, front: false) }),
            Command("llen", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1), group: .list, handler: llenCommand),
            Command("lrange", arity: 4, flags: [.readonly], keys: (1, 1, 1), group: .list, handler: lrangeCommand),
            Command("lindex", arity: 3, flags: [.readonly], keys: (1, 1, 1), group: .list, handler: lindexCommand),
            Command("lset", arity: 4, flags: [.write, .denyOOM], keys: (1, 1, 1), group: .list, handler: lsetCommand),
            Command("linsert", arity: 5, flags: [.write, .denyOOM], keys: (1, 1, 1), group: .list, since: "2.2.0",
                    handler: linsertCommand),
            Command("lrem", arity: 4, flags: [.write], keys: (1, 1, 1), group: .list, handler: lremCommand),
            Command("ltrim", arity: 4, flags: [.write], keys: (1, 1, 1), group: .list, handler: ltrimCommand),
            Command("lpos", arity: -3, flags: [.readonly], keys: (1, 1, 1), group: .list, since: "6.0.6",
                    handler: lposCommand),
            Command("lmove", arity: 5, flags: [.write, .denyOOM], keys: (1, 2, 1), group: .list, since: "6.2.0",
                    handler: lmoveCommand),
            Command("rpoplpush", arity: 3, flags: [.write, .denyOOM], keys: (1, 2, 1), group: .list, since: "1.2.0",
                    handler: rpoplpushCommand),
            // LMPOP's keys are movable (numkeys); COMMAND reports 0 0 0 like Redis.
            Command("lmpop", arity: -4, flags: [.write], keys: (0, 0, 0), group: .list, since: "7.0.0",
                    handler: lmpopCommand),
        ]
    }

    // MARK: shared helpers (also for the blocking variants)

    @inline(__always)
    static func lookupList(_ c: Client, _ key: UnsafeRawBufferPointer, write: Bool) -> TypedLookup<ListValue> {
        lookupTyped(c, key, .list, as: ListValue.self, write: write)
    }

    /// Creates an empty list under `key` (absent). The one place a list key
    /// comes into existence: blocking pops hook in here (signal key as ready).
    static func createListKey(_ c: Client, _ key: UnsafeRawBufferPointer) -> ListValue {
        let l = ListValue(fill: c.engine.config.listMaxListpackSize)
        c.engine.setObject(c.db, key, l, type: .list)
        return l
    }

    /// Bookkeeping after `n` elements were popped from `list` at `key`
    /// (Redis's listElementsRemoved): event, key deletion when empty, WATCH, dirty.
    static func listElementsRemoved(_ c: Client, _ key: UnsafeRawBufferPointer, _ list: ListValue,
                                    front: Bool, _ n: Int) {
        let s = c.engine
        s.notifyKeyspaceEvent(.list, front ? "lpop" : "rpop", key, c.dbIndex)
        if list.count == 0 {
            s.deleteKey(c.db, key)
            s.notifyKeyspaceEvent(.generic, "del", key, c.dbIndex)
        }
        s.signalModifiedKey(c.db, key)
        s.addDirty(n)
    }

    /// Parses LEFT/RIGHT; replies a syntax error otherwise.
    static func listSide(_ c: Client, _ i: Int) -> Bool? {
        if c.args.equals(i, "left") { return true }
        if c.args.equals(i, "right") { return false }
        c.syntaxError()
        return nil
    }

    // MARK: push / pop

    static func pushCommand(_ c: Client, front: Bool, onlyExisting: Bool) {
        let key = c.args[1]
        let s = c.engine
        let list: ListValue
        switch lookupList(c, key, write: true) {
        case .wrongType: c.wrongType(); return
        case .found(let l): list = l
        case .missing:
            if onlyExisting { c.reply.integer(0); return }
            list = createListKey(c, key)
        }
        for i in 2..<c.args.count { list.push(c.args[i], front: front) }
        s.addDirty(c.args.count - 2)
        c.reply.integer(list.count)
        s.signalModifiedKey(c.db, key)
        s.notifyKeyspaceEvent(.list, front ? "lpush" : "rpush", key, c.dbIndex)
    }

    static func popCommand(_ c: Client, front: Bool) {
        let a = c.args
        if a.count > 3 { c.wrongArity(); return }
        let hasCount = a.count == 3
        var count = 0
        if hasCount {
            guard let v = a.int64(2), v >= 0 else {
                c.error(static: "ERR value is out of range, must be positive")
                return
            }
            count = Int(v)
        }
        let key = a[1]
        let list: ListValue
        switch lookupList(c, key, write: true) {
        case .wrongType: c.wrongType(); return
        case .missing: if hasCount { c.reply.nullArray() } else { c.reply.null() }; return
        case .found(let l): list = l
        }
        if !hasCount {
            list.pop(front: front) { c.reply.bulk($0) }
            listElementsRemoved(c, key, list, front: front, 1)
            return
        }
        if count == 0 { c.reply.array(0); return }
        let n = min(count, list.count)
        c.reply.array(n)
        for _ in 0..<n { list.pop(front: front) { c.reply.bulk($0) } }
        listElementsRemoved(c, key, list, front: front, n)
    }

    // MARK: reading

    static func llenCommand(_ c: Client) {
        switch lookupList(c, c.args[1], write: false) {
        case .wrongType: c.wrongType()
        case .missing: c.reply.integer(0)
        case .found(let l): c.reply.integer(l.count)
        }
    }

    /// Replies elements start...end (Redis index rules) of `list`.
    static func replyListRange(_ c: Client, _ list: ListValue, _ start: Int64, _ end: Int64) {
        guard let range = clampedIndexRange(Int(start), Int(end), count: list.count) else { c.reply.array(0); return }
        var remaining = range.count
        c.reply.array(remaining)
        let r = c.reply
        list.forEach(from: range.lowerBound) { d in
            r.bulk(d)
            remaining -= 1
            return remaining > 0
        }
    }

    static func lrangeCommand(_ c: Client) {
        guard let start = c.intArg(2), let end = c.intArg(3) else { return }
        switch lookupList(c, c.args[1], write: false) {
        case .wrongType: c.wrongType()
        case .missing: c.reply.array(0)
        case .found(let l): replyListRange(c, l, start, end)
        }
    }

    static func lindexCommand(_ c: Client) {
        let list: ListValue
        switch lookupList(c, c.args[1], write: false) {
        case .wrongType: c.wrongType(); return
        case .missing: c.reply.null(); return
        case .found(let l): list = l
        }
        guard var index = c.intArg(2) else { return }
        if index < 0 { index += Int64(list.count) }
        if index < 0 || index >= Int64(list.count) { c.reply.null(); return }
        if let d = list.element(at: Int(index)) { c.reply.bulk(d) } else { c.reply.null() }
    }

    static func lposCommand(_ c: Client) {
        let a = c.args
        var rank: Int64 = 1, count: Int64 = -1, maxlen: Int64 = 0
        var j = 3
        while j < a.count {
            let more = j + 1 < a.count
            if more && a.equals(j, "rank") {
                j += 1
                guard let v = c.intArg(j) else { return }
                if v == 0 {
                    c.error(static: "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
                    return
                }
                rank = v
            } else if more && a.equals(j, "count") {
                j += 1
                guard let v = a.int64(j), v >= 0 else { c.error(static: "ERR COUNT can't be negative"); return }
                count = v
            } else if more && a.equals(j, "maxlen") {
                j += 1
                guard let v = a.int64(j), v >= 0 else { c.error(static: "ERR MAXLEN can't be negative"); return }
                maxlen = v
            } else {
                c.syntaxError()
                return
            }
            j += 1
        }
        var fromTail = false
        if rank < 0 {
            rank = 0 &- rank  // Int64.min stays negative, as in Redis
            fromTail = true
        }
        let list: ListValue
        switch lookupList(c, a[1], write: false) {
        case .wrongType: c.wrongType(); return
        case .missing: if count != -1 { c.reply.array(0) } else { c.reply.null() }; return
        case .found(let l): list = l
        }
        let ele = a[2]
        let llen = Int64(list.count)
        var index: Int64 = 0, matches: Int64 = 0, found: Int64 = -1, emitted = 0
        let mark = count != -1 ? c.reply.deferLength() : -1
        let body: (UnsafeRawBufferPointer) -> Bool = { d in
            if maxlen != 0 && index >= maxlen { return false }
            if PackedCodec.equal(d, ele) {
                matches += 1
                if matches >= rank {
                    let pos = fromTail ? llen - index - 1 : index
                    if count == -1 { found = pos; return false }
                    c.reply.integer(pos)
                    emitted += 1
                    if count != 0 && matches - rank + 1 >= count { return false }
                }
            }
            index += 1
            return true
        }
        if fromTail { list.forEachReversed(from: list.count - 1, body) } else { list.forEach(from: 0, body) }
        if count != -1 {
            c.reply.setDeferredLength(mark, emitted)
        } else if found >= 0 {
            c.reply.integer(found)
        } else {
            c.reply.null()
        }
    }

    // MARK: changing the middle

    static func lsetCommand(_ c: Client) {
        let key = c.args[1]
        let list: ListValue
        switch lookupList(c, key, write: true) {
        case .wrongType: c.wrongType(); return
        case .missing: c.error(static: "ERR no such key"); return
        case .found(let l): list = l
        }
        guard var index = c.intArg(2) else { return }
        if index < 0 { index += Int64(list.count) }
        if index < 0 || index >= Int64(list.count) { c.error(static: "ERR index out of range"); return }
        list.set(at: Int(index), c.args[3])
        c.reply.ok()
        let s = c.engine
        s.signalModifiedKey(c.db, key)
        s.notifyKeyspaceEvent(.list, "lset", key, c.dbIndex)
        s.addDirty()
    }

    static func linsertCommand(_ c: Client) {
        let a = c.args
        let after: Bool
        if a.equals(2, "after") { after = true }
        else if a.equals(2, "before") { after = false }
        else { c.syntaxError(); return }
        let key = a[1]
        let list: ListValue
        switch lookupList(c, key, write: true) {
        case .wrongType: c.wrongType(); return
        case .missing: c.reply.integer(0); return
        case .found(let l): list = l
        }
        if !list.insert(a[4], pivot: a[3], after: after) { c.reply.integer(-1); return }
        let s = c.engine
        s.signalModifiedKey(c.db, key)
        s.notifyKeyspaceEvent(.list, "linsert", key, c.dbIndex)
        s.addDirty()
        c.reply.integer(list.count)
    }

    static func lremCommand(_ c: Client) {
        guard let toRemove = c.intArg(2) else { return }
        let key = c.args[1]
        let list: ListValue
        switch lookupList(c, key, write: true) {
        case .wrongType: c.wrongType(); return
        case .missing: c.reply.integer(0); return
        case .found(let l): list = l
        }
        let fromTail = toRemove < 0
        let limit = toRemove == Int64.min ? Int.max : Int(abs(toRemove))
        let removed = list.remove(c.args[3], limit: limit, fromTail: fromTail)
        let s = c.engine
        if removed > 0 {
            s.signalModifiedKey(c.db, key)
            s.notifyKeyspaceEvent(.list, "lrem", key, c.dbIndex)
            s.addDirty(removed)
        }
        if list.count == 0 {
            s.deleteKey(c.db, key)
            s.notifyKeyspaceEvent(.generic, "del", key, c.dbIndex)
        }
        c.reply.integer(removed)
    }

    static func ltrimCommand(_ c: Client) {
        guard let start0 = c.intArg(2), let end0 = c.intArg(3) else { return }
        let key = c.args[1]
        let list: ListValue
        switch lookupList(c, key, write: true) {
        case .wrongType: c.wrongType(); return
        case .missing: c.reply.ok(); return
        case .found(let l): list = l
        }
        let llen = list.count
        var ltrim = llen, rtrim = 0
        if let keep = clampedIndexRange(Int(start0), Int(end0), count: llen) {
            ltrim = keep.lowerBound
            rtrim = llen - keep.upperBound - 1
        }
        list.removeFirst(ltrim)
        list.removeLast(rtrim)
        let s = c.engine
        s.notifyKeyspaceEvent(.list, "ltrim", key, c.dbIndex)
        if list.count == 0 {
            s.deleteKey(c.db, key)
            s.notifyKeyspaceEvent(.generic, "del", key, c.dbIndex)
        }
        s.signalModifiedKey(c.db, key)
        s.addDirty(Int(ltrim + rtrim))
        c.reply.ok()
    }

    // MARK: moving between lists

    static func lmoveCommand(_ c: Client) {
        guard let from = listSide(c, 3), let to = listSide(c, 4) else { return }
        lmoveGeneric(c, fromFront: from, toFront: to)
    }

    static func rpoplpushCommand(_ c: Client) {
        lmoveGeneric(c, fromFront: false, toFront: true)
    }

    /// Pops from args[1] and pushes to args[2], replying the element (or null).
    static func lmoveGeneric(_ c: Client, fromFront: Bool, toFront: Bool) {
        let src = c.args[1], dst = c.args[2]
        let s = c.engine
        let srcList: ListValue
        switch lookupList(c, src, write: true) {
        case .wrongType: c.wrongType(); return
        case .missing: c.reply.null(); return
        case .found(let l): srcList = l
        }
        var dstList: ListValue? = nil
        switch lookupList(c, dst, write: true) {
        case .wrongType: c.wrongType(); return
        case .found(let l): dstList = l
        case .missing: break
        }
        guard let value = srcList.pop(front: fromFront) else { c.reply.null(); return }
        let target = dstList ?? createListKey(c, dst)
        s.signalModifiedKey(c.db, dst)
        value.withUnsafeBytes { target.push($0, front: toFront) }
        s.notifyKeyspaceEvent(.list, toFront ? "lpush" : "rpush", dst, c.dbIndex)
        c.reply.bulk(value)
        s.notifyKeyspaceEvent(.list, fromFront ? "lpop" : "rpop", src, c.dbIndex)
        if srcList.count == 0 {
            s.deleteKey(c.db, src)
            s.notifyKeyspaceEvent(.generic, "del", src, c.dbIndex)
        }
        s.signalModifiedKey(c.db, src)
        s.addDirty()
    }

    /// Parses LMPOP-style arguments from `numkeysIndex`: (first key index,
    /// number of keys, front, count), or nil after an error reply.
    static func parseMpopArgs(_ c: Client, numkeysIndex ni: Int) -> (Int, Int, Bool, Int)? {
        let a = c.args
        guard let numkeys = a.int64(ni), numkeys >= 1 else {
            c.error(static: "ERR numkeys should be greater than 0")
            return nil
        }
        if numkeys >= Int64(a.count) { c.syntaxError(); return nil }
        let whereIndex = ni + Int(numkeys) + 1
        if whereIndex >= a.count { c.syntaxError(); return nil }
        guard let front = listSide(c, whereIndex) else { return nil }
        var count: Int64 = -1
        var j = whereIndex + 1
        while j < a.count {
            if count == -1 && a.equals(j, "count") && j + 1 < a.count {
                j += 1
                guard let v = a.int64(j), v >= 1 else {
                    c.error(static: "ERR count should be greater than 0")
                    return nil
                }
                count = v
            } else {
                c.syntaxError()
                return nil
            }
            j += 1
        }
        return (ni + 1, Int(numkeys), front, count == -1 ? 1 : Int(count))
    }

    static func lmpopCommand(_ c: Client) {
        guard let (first, n, front, count) = parseMpopArgs(c, numkeysIndex: 1) else { return }
        if case .empty = mpopFromLists(c, first..<(first + n), front: front, count: count) { c.reply.nullArray() }
    }

    enum MpopOutcome { case served(key: Int, count: Int), empty, failed }

    /// Pops up to `count` elements from the first non-empty list among the
    /// argument indexes `keys`, replying [key, [elements]] (LMPOP/BLMPOP).
    /// Nothing is replied when all are empty; WRONGTYPE is replied (`failed`).
    static func mpopFromLists(_ c: Client, _ keys: Range<Int>, front: Bool, count: Int) -> MpopOutcome {
        for i in keys {
            let key = c.args[i]
            switch lookupList(c, key, write: true) {
            case .wrongType: c.wrongType(); return .failed
            case .missing: continue
            case .found(let list):
                let k = min(count, list.count)
                c.reply.array(2)
                c.reply.bulk(key)
                c.reply.array(k)
                for _ in 0..<k { list.pop(front: front) { c.reply.bulk($0) } }
                listElementsRemoved(c, key, list, front: front, k)
                return .served(key: i, count: k)
            }
        }
        return .empty
    }
}
