// ZRANGE and its variants (ZREVRANGE, Z[REV]RANGEBYSCORE, Z[REV]RANGEBYLEX,
// ZRANGESTORE), ZCOUNT, ZLEXCOUNT and ZREMRANGEBY{RANK,SCORE,LEX}.

import RESP

extension ShardEngine {
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
                let cfg = c.engine.config
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
                let cfg = c.engine.config
                z.set(m, score: s, maxEntries: cfg.zsetMaxListpackEntries, maxValue: cfg.zsetMaxListpackValue)
            } else {
                replyPair(c, m, s, withScore: withScores)
            }
        }

        /// Completes the reply (or stores the result under argument 1).
        func finish() {
            if storing {
                let s = c.engine, dst = c.args[1]
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
        guard let spec = parseZRange(c, type, minIdx, maxIdx) else { return }

        var sink = ZRangeSink(c, withScores: withScores || store, storing: store)
        let zset: ZSetValue
        switch lookupZSet(c, a[argStart]) {
        case .wrongType: c.wrongType(); return
        case .missing:
            if store { sink.begin(-1); sink.finish() } else { c.reply.array(0) }
            return
        case .found(let z): zset = z
        }

        switch spec {
        case .rank(let start, let end):
            let llen = zset.count
            guard let ranks = clampedIndexRange(start, end, count: llen) else {
                sink.begin(0)
                sink.finish()
                return
            }
            var left = ranks.count
            sink.begin(left)
            zset.walk(from: reverse ? llen - 1 - ranks.lowerBound : ranks.lowerBound, reverse: reverse) { m, s in
                sink.emit(m, s)
                left -= 1
                return left > 0
            }
        case .score(let range):
            emitRange(zset, range, reverse: reverse, offset: offset, limit: limit, &sink)
        case .lex(let range):
            emitRange(zset, range, reverse: reverse, offset: offset, limit: limit, &sink)
        }
        sink.finish()
    }

    /// ZRANGE BYSCORE / BYLEX: the elements of `range` after skipping
    /// `offset`, at most `limit` of them (all if negative).
    static func emitRange<R: ZSetRange>(_ zset: ZSetValue, _ range: R, reverse: Bool, offset: Int, limit: Int,
                                        _ sink: inout ZRangeSink) {
        sink.begin(-1)
        if offset >= zset.count { return }
        let first = reverse ? zset.lastInRange(range) : zset.firstInRange(range)
        guard let f = first, offset >= 0 else { return }
        var left = limit
        if left == 0 { return }
        zset.walk(from: reverse ? f - offset : f + offset, reverse: reverse) { m, s in
            if reverse ? !range.gteMin(m, s) : !range.lteMax(m, s) { return false }
            sink.emit(m, s)
            left &-= 1
            return left != 0
        }
    }

    /// A parsed ZRANGE / ZREMRANGEBY* range.
    enum ZRangeSpec {
        case rank(Int, Int)
        case score(ScoreRange)
        case lex(LexRange)
    }

    /// Parses arguments `minIdx` and `maxIdx` as a range of `type`; replies
    /// Redis's error and returns nil when they are not valid.
    static func parseZRange(_ c: Client, _ type: ZRangeType, _ minIdx: Int, _ maxIdx: Int) -> ZRangeSpec? {
        switch type {
        case .rank, .auto:
            guard let s = SZArgs.long(c, minIdx), let e = SZArgs.long(c, maxIdx) else { return nil }
            return .rank(s, e)
        case .score: return parseBounds(c, ScoreRange.self, minIdx, maxIdx).map { .score($0) }
        case .lex: return parseBounds(c, LexRange.self, minIdx, maxIdx).map { .lex($0) }
        }
    }

    static func parseBounds<R: ZSetRange>(_ c: Client, _: R.Type, _ minIdx: Int, _ maxIdx: Int) -> R? {
        guard let r = R.parse(c.args[minIdx], c.args[maxIdx]) else {
            c.error(static: R.parseError)
            return nil
        }
        return r
    }

    // MARK: ZCOUNT / ZLEXCOUNT

    static func zcountCommand(_ c: Client) { zcountGeneric(c, ScoreRange.self) }

    static func zlexcountCommand(_ c: Client) { zcountGeneric(c, LexRange.self) }

    static func zcountGeneric<R: ZSetRange>(_ c: Client, _: R.Type) {
        guard let range = parseBounds(c, R.self, 2, 3) else { return }
        switch lookupZSet(c, c.args[1]) {
        case .wrongType: c.wrongType()
        case .missing: c.reply.integer(0)
        case .found(let z): c.reply.integer(countInRange(z, range))
        }
    }

    /// Redis's counting: a listpack walks from the first element while in
    /// range; a skiplist subtracts the ranks of the first and last elements.
    static func countInRange<R: ZSetRange>(_ z: ZSetValue, _ range: R) -> Int {
        guard let f = z.firstInRange(range) else { return 0 }
        if z.isListpack {
            var n = 0
            z.walk(from: f, reverse: false) { m, s in
                if !range.lteMax(m, s) { return false }
                n += 1
                return true
            }
            return n
        }
        var n = z.count - f
        if let l = z.lastInRange(range) { n -= z.count - (l + 1) }
        return n
    }

    // MARK: ZREMRANGEBY*

    static func zremrangeGeneric(_ c: Client, _ type: ZRangeType) {
        let key = c.args[1], s = c.engine
        guard let spec = parseZRange(c, type, 2, 3) else { return }
        let zset: ZSetValue
        switch lookupZSet(c, key, write: true) {
        case .wrongType: c.wrongType(); return
        case .missing: c.reply.integer(0); return
        case .found(let z): zset = z
        }
        let event: StaticString
        var from = 0, deleted = 0
        switch spec {
        case .rank(let start, let end):
            event = "zremrangebyrank"
            guard let ranks = clampedIndexRange(start, end, count: zset.count) else { c.reply.integer(0); return }
            from = ranks.lowerBound
            deleted = ranks.count
        case .score(let range):
            event = "zremrangebyscore"
            (from, deleted) = removalSpan(zset, range)
        case .lex(let range):
            event = "zremrangebylex"
            (from, deleted) = removalSpan(zset, range)
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

    /// First rank and number of the elements ZREMRANGEBYSCORE / BYLEX delete.
    static func removalSpan<R: ZSetRange>(_ zset: ZSetValue, _ range: R) -> (from: Int, count: Int) {
        guard let f = zset.removalStart(range) else { return (0, 0) }
        var n = 0
        zset.walk(from: f, reverse: false) { m, s in
            if !range.lteMax(m, s) { return false }
            n += 1
            return true
        }
        return (f, n)
    }
}
