// ZPOPMIN, ZPOPMAX, ZMPOP and ZRANDMEMBER.

import RESP

extension ShardEngine {
    /// Redis's genericZpopCommand: pops up to `count` (nil: a single pop)
    /// elements from the first existing key of `keys` (argument indexes).
    /// Returns the argument index of the key served and how many were popped.
    /// When every key is missing, `onEmpty` (the blocking variants) runs
    /// instead of the empty reply.
    @discardableResult
    static func genericZpop(_ c: Client, keys: Range<Int>, max: Bool, emitKey: Bool, count: Int?,
                            nested: Bool, nilWhenEmpty: Bool, onEmpty: ((Client) -> Void)? = nil) -> (Int, Int)? {
        let s = c.engine
        var zset: ZSetValue? = nil
        var keyIndex = 0
        for i in keys {
            switch lookupZSet(c, c.args[i], write: true) {
            case .wrongType: c.wrongType(); return nil
            case .missing: continue
            case .found(let z): zset = z; keyIndex = i
            }
            break
        }
        guard let z = zset else {
            if let f = onEmpty { f(c) }
            else if nilWhenEmpty { c.reply.nullArray() } else { c.reply.array(0) }
            return nil
        }
        if count == 0 { c.reply.array(0); return nil }
        let key = c.args[keyIndex]
        let n = Swift.min(count ?? 1, z.count)
        switch (nested, emitKey) {
        case (false, false): c.reply.array(n * 2)
        case (true, false): c.reply.array(n)
        case (false, true):
            c.reply.array(n * 2 + 1)
            c.reply.bulk(key)
        case (true, true):
            c.reply.array(2)
            c.reply.bulk(key)
            c.reply.array(n)
        }
        let llen = z.count
        var left = n
        z.walk(from: max ? llen - 1 : 0, reverse: max) { m, sc in
            if nested { c.reply.array(2) }
            c.reply.bulk(m)
            c.reply.double(sc)
            left -= 1
            return left > 0
        }
        if max { z.deleteRange(rank: llen - n, to: llen - 1) } else { z.deleteRange(rank: 0, to: n - 1) }
        s.addDirty(n)
        s.notifyKeyspaceEvent(.zset, max ? "zpopmax" : "zpopmin", key, c.dbIndex)
        s.signalModifiedKey(c.db, key)
        if z.count == 0 {
            s.deleteKey(c.db, key)
            s.notifyKeyspaceEvent(.generic, "del", key, c.dbIndex)
        }
        return (keyIndex, n)
    }

    static func zpopMinMax(_ c: Client, max: Bool) {
        if c.args.count > 3 { c.syntaxError(); return }
        var count: Int? = nil
        if c.args.count == 3 {
            guard let n = SZArgs.positiveLong(c, 2) else { return }
            count = n
        }
        genericZpop(c, keys: 1..<2, max: max, emitKey: false, count: count,
                    nested: c.reply.isResp3 && count != nil, nilWhenEmpty: false)
    }

    static func zmpopCommand(_ c: Client) {
        guard let (keys, max, count) = parseZmpopArgs(c, numkeysIndex: 1) else { return }
        genericZpop(c, keys: keys, max: max, emitKey: true, count: count, nested: true, nilWhenEmpty: true)
    }

    /// Parses ZMPOP-style arguments from `ni` (numkeys): key argument range,
    /// MAX or MIN, count; nil after an error reply.
    static func parseZmpopArgs(_ c: Client, numkeysIndex ni: Int) -> (Range<Int>, Bool, Int)? {
        let a = c.args
        guard let numkeys = SZArgs.numKeys(c, ni) else { return nil }
        if numkeys >= a.count - ni - 1 { c.syntaxError(); return nil }
        let whereIdx = numkeys + ni + 1
        let max: Bool
        if a.equals(whereIdx, "min") { max = false }
        else if a.equals(whereIdx, "max") { max = true }
        else { c.syntaxError(); return nil }
        var count = -1
        var j = whereIdx + 1
        while j < a.count {
            let more = a.count - 1 - j
            if count == -1 && a.equals(j, "count") && more > 0 {
                j += 1
                guard let n = SZArgs.rangeLong(c, j, min: 1, max: Int.max, "count should be greater than 0") else { return nil }
                count = n
            } else {
                c.syntaxError()
                return nil
            }
            j += 1
        }
        if count == -1 { count = 1 }
        return ((ni + 1)..<(ni + 1 + numkeys), max, count)
    }

    static func zrandmemberCommand(_ c: Client) {
        let a = c.args
        if a.count >= 3 {
            guard let l = SZArgs.rangeLong(c, 2, min: -Int.max, max: Int.max) else { return }
            var withScores = false
            if a.count > 4 || (a.count == 4 && !a.equals(3, "withscores")) {
                c.syntaxError()
                return
            } else if a.count == 4 {
                withScores = true
                if l < -Int.max / 2 || l > Int.max / 2 {
                    c.error(static: "ERR value is out of range")
                    return
                }
            }
            zrandmemberWithCount(c, l, withScores: withScores)
            return
        }
        switch lookupZSet(c, a[1]) {
        case .wrongType: c.wrongType()
        case .missing: c.reply.null()
        case .found(let z): z.withRandomElement { m, _ in c.reply.bulk(m) }
        }
    }

    static func zrandmemberWithCount(_ c: Client, _ l: Int, withScores: Bool) {
        let z: ZSetValue
        switch lookupZSet(c, c.args[1]) {
        case .wrongType: c.wrongType(); return
        case .missing: c.reply.array(0); return
        case .found(let v): z = v
        }
        let size = z.count
        let unique = l >= 0
        let count = unique ? l : -l
        if count == 0 { c.reply.array(0); return }
        if !unique || count == 1 {
            replyPairsHeader(c, count, withScores: withScores)
            z.randomElements(count) { m, sc in replyPair(c, m, sc, withScore: withScores) }
            return
        }
        replyPairsHeader(c, Swift.min(count, size), withScores: withScores)
        if count >= size {
            // The whole set, highest first (Redis iterates from the tail).
            z.walk(from: size - 1, reverse: true) { m, sc in
                replyPair(c, m, sc, withScore: withScores)
                return true
            }
            return
        }
        z.randomDistinct(count) { m, sc in replyPair(c, m, sc, withScore: withScores) }
    }
}
