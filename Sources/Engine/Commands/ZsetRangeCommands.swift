// ZRANGE and its variants (ZREVRANGE, Z[REV]RANGEBYSCORE, Z[REV]RANGEBYLEX,
// ZRANGESTORE), ZCOUNT, ZLEXCOUNT and ZREMRANGEBY{RANK,SCORE,LEX}.

import RESP

extension Server {
    enum ZRangeType { case auto, rank, score, lex }
    enum ZRangeDirection { case auto, forward, reverse }

    /// Where ZRANGE results go: the client, or a new sorted set (ZRANGESTORE).
    struct ZRangeSink {
        let c: Client
        let withScores: Bool
        var store: ZSetValue? = nil
        var storing: Bool
        var mark = -1
        var emitted = 0

        init(_ c: Client, withScores: Bool, storing: Bool) {
            self.c = c
            self.withScores = withScores
            self.storing = storing
        }

        /// `length` is the result size when known, or -1.
        mutating func begin(_ length: Int) {
            if storing {
                let cfg = c.server.config
                store = ZSetValue(skiplist: length > cfg.zsetMaxListpackEntries)
            } else if length >= 0 {
                replyPairsHeader(c, length, withScores: withScores)
            } else {
                mark = c.reply.deferLength()
            }
        }

        mutating func emit(_ m: UnsafeRawBufferPointer, _ s: Double) {
            emitted += 1
            if let z = store {
                let cfg = c.server.config
                z.set(m, score: s, maxEntries: cfg.zsetMaxListpackEntries, maxValue: cfg.zsetMaxListpackValue)
            } else {
                replyPair(c, m, s, withScore: withScores)
            }
        }

        /// Completes the reply (or stores the result under argument 1).
        func finish() {
            if storing {
                let s = c.server, dst = c.args[1]
                if emitted > 0, let z = store {
                    s.setObject(c.db, dst, z, type: .zset)
                    s.signalModifiedKey(c.db, dst)
                    c.reply.integer(emitted)
                    s.notifyKeyspaceEvent(.zset, "zrangestore", dst, c.dbIndex)
                    s.addDirty()
                } else {
                    c.reply.integer(0)
                    if s.deleteKey(c.db, dst) {
                        s.signalModifiedKey(c.db, dst)
                        s.notifyKeyspaceEvent(.generic, "del", dst, c.dbIndex)
                        s.addDirty()
                    }
                }
            } else if mark >= 0 {
                c.reply.setDeferredLength(mark, withScores && !c.reply.isResp3 ? emitted * 2 : emitted)
            }
        }
    }

    static func zrangeGeneric(_ c: Client, argStart: Int, store: Bool, type t0: ZRangeType, direction d0: ZRangeDirection) {
        let a = c.args
        var type = t0, direction = d0
        var withScores = false
        var offset = 0, limit = -1
        var j = argStart + 3
        while j < a.count {
            let left = a.count - j - 1
            if !store && a.equals(j, "withscores") {
                withScores = true
            } else if a.equals(j, "limit") && left >= 2 {
                guard let o = SZArgs.long(c, j + 1), let l = SZArgs.long(c, j + 2) else { return }
                offset = o
                limit = l
                j += 2
            } else if direction == .auto && a.equals(j, "rev") {
                direction = .reverse
            } else if type == .auto && a.equals(j, "bylex") {
                type = .lex
            } else if type == .auto && a.equals(j, "byscore") {
                type = .score
            } else {
                c.syntaxError()
                return
            }
            j += 1
        }
        if direction == .auto { direction = .forward }
        if type == .auto { type = .rank }
        if limit != -1 && type == .rank {
            c.error(static: "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
            return
        }
        if withScores && type == .lex {
            c.error(static: "ERR syntax error, WITHSCORES not supported in combination with BYLEX")
            return
        }
        let reverse = direction == .reverse
        var minIdx = argStart + 1, maxIdx = argStart + 2
        if reverse && type != .rank { swap(&minIdx, &maxIdx) }

        var start = 0, end = 0
        var scoreRange = ScoreRange(min: 0, max: 0)
        var lexRange: LexRange? = nil
        switch type {
        case .rank, .auto:
            guard let s0 = SZArgs.long(c, minIdx), let e0 = SZArgs.long(c, maxIdx) else { return }
            start = s0; end = e0
        case .score:
            guard let r = ScoreRange.parse(a[minIdx], a[maxIdx]) else {
                c.error(static: "ERR min or max is not a float")
                return
            }
            scoreRange = r
        case .lex:
            guard let r = LexRange.parse(a[minIdx], a[maxIdx]) else {
                c.error(static: "ERR min or max not valid string range item")
                return
            }
            lexRange = r
        }

        var sink = ZRangeSink(c, withScores: withScores || store, storing: store)
        let zset: ZSetValue
        switch lookupZSet(c, a[argStart]) {
        case .wrongType: c.wrongType(); return
        case .missing:
            if store { sink.begin(-1); sink.finish() } else { c.reply.array(0) }
            return
        case .found(let z): zset = z
        }

        switch type {
        case .rank, .auto:
            let llen = zset.count
            if start < 0 { start = llen + start }
            if end < 0 { end = llen + end }
            if start < 0 { start = 0 }
            if start > end || start >= llen {
                sink.begin(0)
                sink.finish()
                return
            }
            if end >= llen { end = llen - 1 }
            var left = end - start + 1
            sink.begin(left)
            zset.walk(from: reverse ? llen - 1 - start : start, reverse: reverse) { m, s in
                sink.emit(m, s)
                left -= 1
                return left > 0
            }
        case .score:
            sink.begin(-1)
            if offset > 0 && offset >= zset.count { break }
            let first = reverse ? zset.lastInRange(scoreRange) : zset.firstInRange(scoreRange)
            guard let f = first, offset >= 0 else { break }
            let from = reverse ? f - offset : f + offset
            var left = limit
            if left == 0 { break }
            zset.walk(from: from, reverse: reverse) { m, s in
                if reverse ? !scoreRange.gteMin(s) : !scoreRange.lteMax(s) { return false }
                sink.emit(m, s)
                left &-= 1
                return left != 0
            }
        case .lex:
            sink.begin(-1)
            let range = lexRange!
            if offset >= zset.count { break }
            let first = reverse ? zset.lastInLexRange(range) : zset.firstInLexRange(range)
            guard let f = first, offset >= 0 else { break }
            let from = reverse ? f - offset : f + offset
            var left = limit
            if left == 0 { break }
            zset.walk(from: from, reverse: reverse) { m, s in
                if reverse ? !range.gteMin(m) : !range.lteMax(m) { return false }
                sink.emit(m, s)
                left &-= 1
                return left != 0
            }
        }
        sink.finish()
    }

    // MARK: ZCOUNT / ZLEXCOUNT

    static func zcountCommand(_ c: Client) {
        guard let range = ScoreRange.parse(c.args[2], c.args[3]) else {
            c.error(static: "ERR min or max is not a float")
            return
        }
        switch lookupZSet(c, c.args[1]) {
        case .wrongType: c.wrongType()
        case .missing: c.reply.integer(0)
        case .found(let z):
            c.reply.integer(countInRange(z, first: z.firstInRange(range), last: { z.lastInRange(range) },
                                         inRange: { _, s in range.lteMax(s) }))
        }
    }

    static func zlexcountCommand(_ c: Client) {
        guard let range = LexRange.parse(c.args[2], c.args[3]) else {
            c.error(static: "ERR min or max not valid string range item")
            return
        }
        switch lookupZSet(c, c.args[1]) {
        case .wrongType: c.wrongType()
        case .missing: c.reply.integer(0)
        case .found(let z):
            c.reply.integer(countInRange(z, first: z.firstInLexRange(range), last: { z.lastInLexRange(range) },
                                         inRange: { m, _ in range.lteMax(m) }))
        }
    }

    /// Redis's counting: a listpack walks from the first element while in
    /// range; a skiplist subtracts the ranks of the first and last elements.
    static func countInRange(_ z: ZSetValue, first: Int?, last: () -> Int?,
                             inRange: (UnsafeRawBufferPointer, Double) -> Bool) -> Int {
        guard let f = first else { return 0 }
        if z.isListpack {
            var n = 0
            z.walk(from: f, reverse: false) { m, s in
                if !inRange(m, s) { return false }
                n += 1
                return true
            }
            return n
        }
        var n = z.count - f
        if let l = last() { n -= z.count - (l + 1) }
        return n
    }

    // MARK: ZREMRANGEBY*

    static func zremrangeGeneric(_ c: Client, _ type: ZRangeType) {
        let a = c.args, key = a[1], s = c.server
        var start = 0, end = 0
        var scoreRange = ScoreRange(min: 0, max: 0)
        var lexRange: LexRange? = nil
        let event: StaticString
        switch type {
        case .rank, .auto:
            event = "zremrangebyrank"
            guard let s0 = SZArgs.long(c, 2), let e0 = SZArgs.long(c, 3) else { return }
            start = s0; end = e0
        case .score:
            event = "zremrangebyscore"
            guard let r = ScoreRange.parse(a[2], a[3]) else { c.error(static: "ERR min or max is not a float"); return }
            scoreRange = r
        case .lex:
            event = "zremrangebylex"
            guard let r = LexRange.parse(a[2], a[3]) else {
                c.error(static: "ERR min or max not valid string range item")
                return
            }
            lexRange = r
        }
        let zset: ZSetValue
        switch lookupZSet(c, key, write: true) {
        case .wrongType: c.wrongType(); return
        case .missing: c.reply.integer(0); return
        case .found(let z): zset = z
        }
        var from = 0, deleted = 0
        switch type {
        case .rank, .auto:
            let llen = zset.count
            if start < 0 { start = llen + start }
            if end < 0 { end = llen + end }
            if start < 0 { start = 0 }
            if start > end || start >= llen { c.reply.integer(0); return }
            if end >= llen { end = llen - 1 }
            from = start
            deleted = end - start + 1
        case .score:
            if let f = zset.removalStart(scoreRange) {
                from = f
                zset.walk(from: f, reverse: false) { _, sc in
                    if !scoreRange.lteMax(sc) { return false }
                    deleted += 1
                    return true
                }
            }
        case .lex:
            let range = lexRange!
            if let f = zset.removalStart(range) {
                from = f
                zset.walk(from: f, reverse: false) { m, _ in
                    if !range.lteMax(m) { return false }
                    deleted += 1
                    return true
                }
            }
        }
        var keyRemoved = false
        if deleted > 0 {
            zset.deleteRange(rank: from, to: from + deleted - 1)
            if zset.count == 0 {
                s.deleteKey(c.db, key)
                keyRemoved = true
            }
            s.signalModifiedKey(c.db, key)
            s.notifyKeyspaceEvent(.zset, event, key, c.dbIndex)
            if keyRemoved { s.notifyKeyspaceEvent(.generic, "del", key, c.dbIndex) }
        }
        s.addDirty(deleted)
        c.reply.integer(deleted)
    }
}
