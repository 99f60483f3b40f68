// SINTER, SINTERCARD, SINTERSTORE, SUNION(STORE), SDIFF(STORE).

import RESP

extension ShardEngine {
    /// Looks up the sets named by arguments `from..<to` (nil for missing keys);
    /// replies WRONGTYPE and returns nil if one is not a set.
    static func lookupSets(_ c: Client, _ from: Int, _ to: Int) -> [SetValue?]? {
        var sets: [SetValue?] = []
        sets.reserveCapacity(to - from)
        for j in from..<to {
            switch lookupSet(c, c.args[j]) {
            case .wrongType: c.wrongType(); return nil
            case .missing: sets.append(nil)
            case .found(let v): sets.append(v)
            }
        }
        return sets
    }

    /// Stores `result` under `dst` (or deletes `dst` when empty) and replies its size.
    static func storeSetResult(_ c: Client, _ dst: UnsafeRawBufferPointer, _ result: SetValue, event: StaticString) {
        let s = c.engine
        if result.count > 0 {
            s.setObject(c.db, dst, result, type: .set)
            s.signalModifiedKey(c.db, dst)
            c.reply.integer(result.count)
            s.notifyKeyspaceEvent(.set, event, dst, c.dbIndex)
            s.addDirty()
        } else {
            c.reply.integer(0)
            if s.deleteKey(c.db, dst) {
                s.addDirty()
                s.signalModifiedKey(c.db, dst)
                s.notifyKeyspaceEvent(.generic, "del", dst, c.dbIndex)
            }
        }
    }

    enum SinterMode { case reply, cardinality(limit: Int), store }

    static func sinterCommand(_ c: Client) { sinterGeneric(c, from: 1, to: c.args.count, mode: .reply) }

    static func sinterstoreCommand(_ c: Client) { sinterGeneric(c, from: 2, to: c.args.count, mode: .store) }

    static func sintercardCommand(_ c: Client) {
        let a = c.args
        guard let numkeys = SZArgs.numKeys(c, 1) else { return }
        if numkeys > a.count - 2 {
            c.error(static: "ERR Number of keys can't be greater than number of args")
            return
        }
        var limit = 0
        var j = 2 + numkeys
        while j < a.count {
            let more = a.count - 1 - j
            if a.equals(j, "limit") && more > 0 {
                j += 1
                guard let l = SZArgs.positiveLong(c, j, "LIMIT can't be negative") else { return }
                limit = l
            } else {
                c.syntaxError()
                return
            }
            j += 1
        }
        sinterGeneric(c, from: 2, to: 2 + numkeys, mode: .cardinality(limit: limit))
    }

    static func sinterGeneric(_ c: Client, from: Int, to: Int, mode: SinterMode) {
        guard let found = lookupSets(c, from, to) else { return }
        let s = c.engine
        if found.contains(where: { $0 == nil }) {
            switch mode {
            case .store:
                let dst = c.args[1]
                if s.deleteKey(c.db, dst) {
                    s.signalModifiedKey(c.db, dst)
                    s.notifyKeyspaceEvent(.generic, "del", dst, c.dbIndex)
                    s.addDirty()
                }
                c.reply.integer(0)
            case .cardinality: c.reply.integer(0)
            case .reply: c.reply.set(0)
            }
            return
        }
        // Smallest first (stable, like the qsort Redis uses on equal sizes).
        let sets = found.map { $0! }.enumerated().sorted { ($0.element.count, $0.offset) < ($1.element.count, $1.offset) }.map { $0.element }
        let first = sets[0]
        var cardinality = 0
        switch mode {
        case .cardinality(let limit):
            var done = false
            first.forEach { m in
                if done { return }
                for k in 1..<sets.count where sets[k] !== first && !sets[k].contains(m) { return }
                cardinality += 1
                if limit > 0 && cardinality >= limit { done = true }
            }
            c.reply.integer(cardinality)
        case .reply:
            let mark = c.reply.deferLength()
            first.forEach { m in
                for k in 1..<sets.count where sets[k] !== first && !sets[k].contains(m) { return }
                c.reply.bulk(m)
                cardinality += 1
            }
            c.reply.setDeferredLength(mark, cardinality, kind: .set)
        case .store:
            let result = SetValue()
            let maxInts = s.config.setMaxIntsetEntries
            first.forEach { m in
                for k in 1..<sets.count where sets[k] !== first && !sets[k].contains(m) { return }
                result.add(m, maxIntsetEntries: maxInts)
            }
            storeSetResult(c, c.args[1], result, event: "sinterstore")
        }
    }

    static func sunionDiff(_ c: Client, diff: Bool, store: Bool) {
        let from = store ? 2 : 1
        guard let sets = lookupSets(c, from, c.args.count) else { return }
        let maxInts = c.engine.config.setMaxIntsetEntries
        let result = SetValue()
        if !diff {
            for case let set? in sets { set.forEach { result.add($0, maxIntsetEntries: maxInts) } }
        } else if let first = sets[0], !sets.dropFirst().contains(where: { $0 === first }) {
            // Algorithm 1 (probe every other set for each member of the first)
            // or 2 (add the first, remove the others), whichever costs less.
            var work1 = 0, work2 = 0
            for case let set? in sets { work1 += first.count; work2 += set.count }
            work1 /= 2
            if work1 <= work2 {
                let others = sets.dropFirst().compactMap { $0 }.sorted { $0.count > $1.count }
                first.forEach { m in
                    for o in others where o.contains(m) { return }
                    result.add(m, maxIntsetEntries: maxInts)
                }
            } else {
                first.forEach { result.add($0, maxIntsetEntries: maxInts) }
                for case let set? in sets.dropFirst() {
                    if result.count == 0 { break }
                    set.forEach { result.remove($0) }
                }
            }
        }
        if store {
            storeSetResult(c, c.args[1], result, event: diff ? "sdiffstore" : "sunionstore")
        } else {
            c.reply.set(result.count)
            result.forEach { c.reply.bulk($0) }
        }
    }
}
