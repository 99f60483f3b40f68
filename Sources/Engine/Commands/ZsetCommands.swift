// Sorted set commands (Redis's t_zset.c): the command table, member
// commands (ZADD, ZINCRBY, ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK, ZREVRANK)
// and ZSCAN. Ranges are in ZsetRangeCommands.swift, pops and random picks in
// ZsetPopCommands.swift, the algebra (ZUNION...) in ZsetAlgebraCommands.swift.

import RESP

extension ShardEngine {
    static func zsetCommands() -> [Command] {
        let ro: CommandFlags = [.readonly]
        let rof: CommandFlags = [.readonly, .fast]
        let z = CommandGroup.sortedSet
        return [
            Command("zadd", arity: -4, flags: [.write, .denyOOM, .fast], keys: (1, 1, 1), group: z, since: "1.2.0",
                    handler: { zaddGeneric($0, incrCommand: false) }),
            Command("zincrby", arity: 4, flags: [.write, .denyOOM, .fast], keys: (1, 1, 1), group: z, since: "1.2.0",
                    handler: { zaddGeneric($0, incrCommand: true) }),
            Command("zrem", arity: -3, flags: [.write, .fast], keys: (1, 1, 1), group: z, since: "1.2.0", handler: zremCommand),
            Command("zcard", arity: 2, flags: rof, keys: (1, 1, 1), group: z, since: "1.2.0", handler: zcardCommand),
            Command("zscore", arity: 3, flags: rof, keys: (1, 1, 1), group: z, since: "1.2.0", handler: zscoreCommand),
            Command("zmscore", arity: -3, flags: rof, keys: (1, 1, 1), group: z, since: "6.2.0", handler: zmscoreCommand),
            Command("zrank", arity: 3, flags: rof, keys: (1, 1, 1), group: z, since: "2.0.0",
                    handler: { zrankGeneric($0, reverse: false) }),
            Command("zrevrank", arity: 3, flags: rof, keys: (1, 1, 1), group: z, since: "2.0.0",
                    handler: { zrankGeneric($0, reverse: true) }),
            Command("zcount", arity: 4, flags: rof, keys: (1, 1, 1), group: z, since: "2.0.0", handler: zcountCommand),
            Command("zlexcount", arity: 4, flags: rof, keys: (1, 1, 1), group: z, since: "2.8.9", handler: zlexcountCommand),
            Command("zrange", arity: -4, flags: ro, keys: (1, 1, 1), group: z, since: "1.2.0",
                    handler: { zrangeGeneric($0, argStart: 1, store: false, type: .auto, direction: .auto) }),
            Command("zrangestore", arity: -5, flags: [.write, .denyOOM], keys: (1, 2, 1), group: z, since: "6.2.0",
                    handler: { zrangeGeneric($0, argStart: 2, store: true, type: .auto, direction: .auto) }),
            Command("zrevrange", arity: -4, flags: ro, keys: (1, 1, 1), group: z, since: "1.2.0",
                    handler: { zrangeGeneric($0, argStart: 1, store: false, type: .rank, direction: .reverse) }),
            Command("zrangebyscore", arity: -4, flags: ro, keys: (1, 1, 1), group: z, since: "1.0.5",
                    handler: { zrangeGeneric($0, argStart: 1, store: false, type: .score, direction: .forward) }),
            Command("zrevrangebyscore", arity: -4, flags: ro, keys: (1, 1, 1), group: z, since: "2.2.0",
                    handler: { zrangeGeneric($0, argStart: 1, store: false, type: .score, direction: .reverse) }),
            Command("zrangebylex", arity: -4, flags: ro, keys: (1, 1, 1), group: z, since: "2.8.9",
                    handler: { zrangeGeneric($0, argStart: 1, store: false, type: .lex, direction: .forward) }),
            Command("zrevrangebylex", arity: -4, flags: ro, keys: (1, 1, 1), group: z, since: "2.8.9",
                    handler: { zrangeGeneric($0, argStart: 1, store: false, type: .lex, direction: .reverse) }),
            Command("zremrangebyrank", arity: 4, flags: [.write], keys: (1, 1, 1), group: z, since: "2.0.0",
                    handler: { zremrangeGeneric($0, .rank) }),
            Command("zremrangebyscore", arity: 4, flags: [.write], keys: (1, 1, 1), group: z, since: "1.2.0",
                    handler: { zremrangeGeneric($0, .score) }),
            Command("zremrangebylex", arity: 4, flags: [.write], keys: (1, 1, 1), group: z, since: "2.8.9",
                    handler: { zremrangeGeneric($0, .lex) }),
            Command("zpopmin", arity: -2, flags: [.write, .fast], keys: (1, 1, 1), group: z, since: "5.0.0",
                    handler: { zpopMinMax($0, max: false) }),
            Command("zpopmax", arity: -2, flags: [.write, .fast], keys: (1, 1, 1), group: z, since: "5.0.0",
                    handler: { zpopMinMax($0, max: true) }),
            Command("zmpop", arity: -4, flags: [.write], keys: (0, 0, 0), group: z, since: "7.0.0", handler: zmpopCommand),
            Command("zrandmember", arity: -2, flags: ro, keys: (1, 1, 1), group: z, since: "6.2.0", handler: zrandmemberCommand),
            Command("zunion", arity: -3, flags: ro, keys: (0, 0, 0), group: z, since: "6.2.0",
                    handler: { zsetAlgebra($0, name: "zunion", store: false, op: .union) }),
            Command("zinter", arity: -3, flags: ro, keys: (0, 0, 0), group: z, since: "6.2.0",
                    handler: { zsetAlgebra($0, name: "zinter", store: false, op: .inter) }),
            Command("zdiff", arity: -3, flags: ro, keys: (0, 0, 0), group: z, since: "6.2.0",
                    handler: { zsetAlgebra($0, name: "zdiff", store: false, op: .diff) }),
            Command("zunionstore", arity: -4, flags: [.write, .denyOOM], keys: (1, 1, 1), group: z, since: "2.0.0",
                    handler: { zsetAlgebra($0, name: "zunionstore", store: true, op: .union) }),
            Command("zinterstore", arity: -4, flags: [.write, .denyOOM], keys: (1, 1, 1), group: z, since: "2.0.0",
                    handler: { zsetAlgebra($0, name: "zinterstore", store: true, op: .inter) }),
            Command("zdiffstore", arity: -4, flags: [.write, .denyOOM], keys: (1, 1, 1), group: z, since: "6.2.0",
                    handler: { zsetAlgebra($0, name: "zdiffstore", store: true, op: .diff) }),
            Command("zintercard", arity: -3, flags: ro, keys: (0, 0, 0), group: z, since: "7.0.0",
                    handler: { zsetAlgebra($0, name: "zintercard", store: false, op: .inter, cardinalityOnly: true) }),
            Command("zscan", arity: -3, flags: ro, keys: (1, 1, 1), group: z, since: "2.8.0", handler: zscanCommand),
        ]
    }

    @inline(__always)
    static func lookupZSet(_ c: Client, _ key: UnsafeRawBufferPointer, write: Bool = false) -> TypedLookup<ZSetValue> {
        lookupTyped(c, key, .zset, as: ZSetValue.self, write: write)
    }

    /// A (member, score) pair of a reply: nested [m, s] in RESP3, flat in RESP2.
    @inline(__always)
    static func replyPair(_ c: Client, _ m: UnsafeRawBufferPointer, _ s: Double, withScore: Bool = true) {
        if withScore && c.reply.isResp3 { c.reply.array(2) }
        c.reply.bulk(m)
        if withScore { c.reply.double(s) }
    }

    /// Array header for `n` pairs as ZRANGE WITHSCORES sends them.
    @inline(__always)
    static func replyPairsHeader(_ c: Client, _ n: Int, withScores: Bool) {
        c.reply.array(withScores && !c.reply.isResp3 ? n * 2 : n)
    }

    // MARK: ZADD / ZINCRBY

    static func zaddGeneric(_ c: Client, incrCommand: Bool) {
        let a = c.args, key = a[1], s = c.engine
        var flags: ZSetValue.AddFlags = incrCommand ? [.incr] : []
        var ch = false
        var idx = 2
        while idx < a.count {
            if a.equals(idx, "nx") { flags.insert(.nx) }
            else if a.equals(idx, "xx") { flags.insert(.xx) }
            else if a.equals(idx, "ch") { ch = true }
            else if a.equals(idx, "incr") { flags.insert(.incr) }
            else if a.equals(idx, "gt") { flags.insert(.gt) }
            else if a.equals(idx, "lt") { flags.insert(.lt) }
            else { break }
            idx += 1
        }
        let elements = a.count - idx
        if elements % 2 != 0 || elements == 0 { c.syntaxError(); return }
        let n = elements / 2
        let nx = flags.contains(.nx), xx = flags.contains(.xx), gt = flags.contains(.gt), lt = flags.contains(.lt)
        let incr = flags.contains(.incr)
        if nx && xx {
            c.error(static: "ERR XX and NX options at the same time are not compatible")
            return
        }
        if (gt && nx) || (lt && nx) || (gt && lt) {
            c.error(static: "ERR GT, LT, and/or NX options at the same time are not compatible")
            return
        }
        if incr && n > 1 {
            c.error(static: "ERR INCR option supports a single increment-element pair")
            return
        }
        withUnsafeTemporaryAllocation(of: Double.self, capacity: n) { scores in
            for j in 0..<n {
                guard let d = c.doubleArg(idx + 2 * j) else { return }
                scores[j] = d
            }
            let zset: ZSetValue
            switch lookupZSet(c, key, write: true) {
            case .wrongType: c.wrongType(); return
            case .found(let v): zset = v
            case .missing:
                if xx {
                    if incr { c.reply.null() } else { c.reply.integer(0) }
                    return
                }
                zset = ZSetValue(forFirstMemberLength: a[idx + 1].count, maxEntries: s.config.zsetMaxListpackEntries,
                                 maxValue: s.config.zsetMaxListpackValue)
                s.setObject(c.db, key, zset, type: .zset)
            }
            let maxEntries = s.config.zsetMaxListpackEntries, maxValue = s.config.zsetMaxListpackValue
            var added = 0, updated = 0, processed = 0
            var score = 0.0
            defer {
                if added > 0 || updated > 0 {
                    s.signalModifiedKey(c.db, key)
                    s.notifyKeyspaceEvent(.zset, incr ? "zincr" : "zadd", key, c.dbIndex)
                }
            }
            for j in 0..<n {
                var newScore = scores[j]
                switch zset.add(a[idx + 1 + 2 * j], score: scores[j], flags: flags, maxEntries: maxEntries,
                                maxValue: maxValue, newScore: &newScore) {
                case .nan:
                    c.error(static: "ERR resulting score is not a number (NaN)")
                    return
                case .added: added += 1; processed += 1
                case .updated: updated += 1; processed += 1
                case .unchanged: processed += 1
                case .nop: break
                }
                score = newScore
            }
            s.addDirty(added + updated)
            if incr {
                if processed > 0 { c.reply.double(score) } else { c.reply.null() }
            } else {
                c.reply.integer(ch ? added + updated : added)
            }
        }
    }

    // MARK: member commands

    static func zremCommand(_ c: Client) {
        switch lookupZSet(c, c.args[1], write: true) {
        case .wrongType: c.wrongType()
        case .missing: c.reply.integer(0)
        case .found(let z): removeMembers(c, z, .zset, event: "zrem") { $0.remove($1) }
        }
    }

    static func zcardCommand(_ c: Client) {
        switch lookupZSet(c, c.args[1]) {
        case .wrongType: c.wrongType()
        case .missing: c.reply.integer(0)
        case .found(let z): c.reply.integer(z.count)
        }
    }

    static func zscoreCommand(_ c: Client) {
        switch lookupZSet(c, c.args[1]) {
        case .wrongType: c.wrongType()
        case .missing: c.reply.null()
        case .found(let z):
            if let sc = z.score(c.args[2]) { c.reply.double(sc) } else { c.reply.null() }
        }
    }

    static func zmscoreCommand(_ c: Client) {
        var zset: ZSetValue? = nil
        switch lookupZSet(c, c.args[1]) {
        case .wrongType: c.wrongType(); return
        case .missing: break
        case .found(let z): zset = z
        }
        c.reply.array(c.args.count - 2)
        for j in 2..<c.args.count {
            if let sc = zset?.score(c.args[j]) { c.reply.double(sc) } else { c.reply.null() }
        }
    }

    static func zrankGeneric(_ c: Client, reverse: Bool) {
        switch lookupZSet(c, c.args[1]) {
        case .wrongType: c.wrongType()
        case .missing: c.reply.null()
        case .found(let z):
            if let r = z.rank(c.args[2]) { c.reply.integer(reverse ? z.count - 1 - r : r) } else { c.reply.null() }
        }
    }

    // MARK: ZSCAN

    static func zscanCommand(_ c: Client) {
        guard let cursor = SZArgs.scanCursor(c, 2) else { return }
        let zset: ZSetValue
        switch lookupZSet(c, c.args[1]) {
        case .wrongType: c.wrongType(); return
        case .missing:
            c.reply.array(2); c.reply.bulk(string: "0"); c.reply.array(0)
            return
        case .found(let z): zset = z
        }
        guard let opts = SZArgs.scanOptions(c) else { return }
        var items: [[UInt8]] = []
        var next: UInt64 = 0
        if zset.isListpack {
            zset.forEach { m, sc in items.append(Array(m)); items.append(listpackScoreBytes(sc)) }
        } else {
            var cur = cursor
            let count = opts.count * 2
            var maxIterations = count * 10
            repeat {
                cur = zset.scanStep(cursor: cur) { m, sc in items.append(Array(m)); items.append(formatDouble(sc)) }
                maxIterations -= 1
            } while cur != 0 && maxIterations >= 0 && items.count < count
            next = cur
        }
        if let p = opts.pattern {
            var kept: [[UInt8]] = []
            kept.reserveCapacity(items.count)
            var i = 0
            while i < items.count {
                if items[i].withUnsafeBytes({ globMatch(p, $0) }) { kept.append(items[i]); kept.append(items[i + 1]) }
                i += 2
            }
            items = kept
        }
        SZArgs.replyScan(c, cursor: next, items: items)
    }
}
