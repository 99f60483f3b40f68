// Stream commands (Redis's t_stream.c): XADD XRANGE XREVRANGE XLEN XDEL
// XTRIM XSETID here; XREAD/XREADGROUP in StreamReadCommands.swift, consumer
// groups in StreamGroupCommands.swift, XINFO in StreamInfoCommand.swift.

import RESP

extension ShardEngine {
    static func streamCommands() -> [Command] {
        let g = CommandGroup.stream
        return [
            Command("xadd", arity: -5, flags: [.write, .denyOOM, .fast], keys: (1, 1, 1), group: g, since: "5.0.0",
                    handler: xaddCommand),
            Command("xrange", arity: -4, flags: [.readonly], keys: (1, 1, 1), group: g, since: "5.0.0",
                    handler: { xrangeCommand($0, rev: false) }),
            Command("xrevrange", arity: -4, flags: [.readonly], keys: (1, 1, 1), group: g, since: "5.0.0",
                    handler: { xrangeCommand($0, rev: true) }),
            Command("xlen", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1), group: g, since: "5.0.0",
                    handler: xlenCommand),
            Command("xdel", arity: -3, flags: [.write, .fast], keys: (1, 1, 1), group: g, since: "5.0.0",
                    handler: xdelCommand),
            Command("xtrim", arity: -4, flags: [.write], keys: (1, 1, 1), group: g, since: "5.0.0",
                    handler: xtrimCommand),
            Command("xsetid", arity: -3, flags: [.write, .denyOOM, .fast], keys: (1, 1, 1), group: g, since: "5.0.0",
                    handler: xsetidCommand),
            Command("xread", arity: -4, flags: [.readonly, .blocking], group: g, since: "5.0.0",
                    handler: { xreadCommand($0, group: false) }),
            Command("xreadgroup", arity: -7, flags: [.write, .blocking], group: g, since: "5.0.0",
                    handler: { xreadCommand($0, group: true) }),
            Command("xack", arity: -4, flags: [.write, .fast], keys: (1, 1, 1), group: g, since: "5.0.0",
                    handler: xackCommand),
            Command("xpending", arity: -3, flags: [.readonly], keys: (1, 1, 1), group: g, since: "5.0.0",
                    handler: xpendingCommand),
            Command("xclaim", arity: -6, flags: [.write, .fast], keys: (1, 1, 1), group: g, since: "5.0.0",
                    handler: xclaimCommand),
            Command("xautoclaim", arity: -6, flags: [.write, .fast], keys: (1, 1, 1), group: g, since: "6.2.0",
                    handler: xautoclaimCommand),
            xgroupCommand(),
            xinfoCommand(),
        ]
    }

    // MARK: shared helpers

    static let invalidStreamID: StaticString = "ERR Invalid stream ID specified as stream command argument"

    /// The stream at `key`: replies WRONGTYPE (and returns .wrongType) for other types.
    @inline(__always)
    static func lookupStream(_ c: Client, _ key: UnsafeRawBufferPointer, write: Bool) -> TypedLookup<StreamValue> {
        lookupTyped(c, key, .stream, as: StreamValue.self, write: write)
    }

    /// Parses argument `i` as an ID, replying Redis's error when invalid.
    @inline(__always)
    static func streamIDArg(_ c: Client, _ i: Int, missingSeq: UInt64 = 0, strict: Bool = false) -> StreamID? {
        if let r = StreamID.parse(c.args[i], missingSeq: missingSeq, strict: strict) { return r.id }
        c.error(static: invalidStreamID)
        return nil
    }

    /// An interval bound: "(" makes it exclusive (then "-"/"+" are invalid).
    static func streamIntervalArg(_ c: Client, _ i: Int, missingSeq: UInt64) -> (StreamID, Bool)? {
        let a = c.args[i]
        if a.count > 1 && a[0] == UInt8(ascii: "(") {
            guard let r = StreamID.parse(UnsafeRawBufferPointer(rebasing: a[1...]), missingSeq: missingSeq, strict: true) else {
                c.error(static: invalidStreamID)
                return nil
            }
            return (r.id, true)
        }
        guard let r = StreamID.parse(a, missingSeq: missingSeq) else {
            c.error(static: invalidStreamID)
            return nil
        }
        return (r.id, false)
    }

    /// Parses [start end] interval arguments (exclusive bounds moved inward); nil after an error reply.
    static func streamRangeArgs(_ c: Client, start si: Int, end ei: Int) -> (StreamID, StreamID)? {
        guard let (s0, sx) = streamIntervalArg(c, si, missingSeq: 0) else { return nil }
        var start = s0
        if sx {
            guard let n = start.incremented else { c.error(static: "ERR invalid start ID for the interval"); return nil }
            start = n
        }
        guard let (e0, ex) = streamIntervalArg(c, ei, missingSeq: UInt64.max) else { return nil }
        var end = e0
        if ex {
            guard let p = end.decremented else { c.error(static: "ERR invalid end ID for the interval"); return nil }
            end = p
        }
        return (start, end)
    }

    @inline(__always) static func replyStreamID(_ c: Client, _ id: StreamID) {
        id.withText { c.reply.bulk($0) }
    }

    /// One entry: [id, [field, value, ...]].
    @inline(__always) static func replyStreamEntry(_ c: Client, _ id: StreamID, _ f: EntryFields) {
        c.reply.array(2)
        replyStreamID(c, id)
        c.reply.array(f.count * 2)
        f.forEach { fe, ve in
            Listpack.withBytes(fe) { c.reply.bulk($0) }
            Listpack.withBytes(ve) { c.reply.bulk($0) }
        }
    }

    /// Replies entries start...end (at most `count` when > 0) as an array; returns how many.
    @discardableResult
    static func replyStreamRange(_ c: Client, _ s: StreamValue, _ start: StreamID, _ end: StreamID,
                                 count: Int, rev: Bool) -> Int {
        let mark = c.reply.deferLength()
        var n = 0
        s.forEachEntry(from: start, to: end, reverse: rev) { id, f in
            replyStreamEntry(c, id, f)
            n += 1
            return count == 0 || n < count
        }
        c.reply.setDeferredLength(mark, n)
        return n
    }

    // MARK: XADD / XTRIM argument parsing

    struct StreamTrimArgs {
        var strategy = StreamValue.TrimStrategy.none
        var approx = false
        var limit = 0
        var limitGiven = false
        /// Index of the MAXLEN/MINID value argument.
        var argIndex = 0
        /// Index of the LIMIT keyword, if given.
        var limitIndex = 0
        var noMkStream = false
        var id: StreamID? = nil
        var seqGiven = true
        /// XADD: index of the ID argument.
        var idIndex = 0
    }

    /// Redis's streamParseAddOrTrimArgsOrReply; nil after an error reply.
    static func parseStreamTrimArgs(_ c: Client, xadd: Bool) -> StreamTrimArgs? {
        let a = c.args
        var t = StreamTrimArgs()
        var hasStrategy = false
        var i = 2
        while i < a.count {
            let more = a.count - 1 - i
            if xadd && a[i].count == 1 && a[i][0] == UInt8(ascii: "*") {
                break
            } else if (a.equals(i, "maxlen") || a.equals(i, "minid")) && more > 0 {
                let maxlen = a.equals(i, "maxlen")
                if hasStrategy {
                    c.error(static: "ERR syntax error, MAXLEN and MINID options at the same time are not compatible")
                    return nil
                }
                t.approx = false
                let next = a[i + 1]
                if more >= 2 && next.count == 1 && next[0] == UInt8(ascii: "~") {
                    t.approx = true
                    i += 1
                } else if more >= 2 && next.count == 1 && next[0] == UInt8(ascii: "=") {
                    i += 1
                }
                if maxlen {
                    guard let v = c.intArg(i + 1) else { return nil }
                    if v < 0 { c.error(static: "ERR The MAXLEN argument must be >= 0."); return nil }
                    t.strategy = .maxlen(Int(v))
                } else {
                    guard let r = StreamID.parse(a[i + 1], strict: true) else {
                        c.error(static: invalidStreamID)
                        return nil
                    }
                    t.strategy = .minid(r.id)
                }
                i += 1
                hasStrategy = true
                t.argIndex = i
            } else if a.equals(i, "limit") && more > 0 {
                guard let v = c.intArg(i + 1) else { return nil }
                if v < 0 { c.error(static: "ERR The LIMIT argument must be >= 0."); return nil }
                t.limit = Int(v)
                t.limitGiven = true
                t.limitIndex = i
                i += 1
            } else if xadd && a.equals(i, "nomkstream") {
                t.noMkStream = true
            } else if xadd {
                guard let r = StreamID.parse(a[i], strict: true, allowSeqStar: true) else {
                    c.error(static: invalidStreamID)
                    return nil
                }
                t.id = r.id
                t.seqGiven = r.seqGiven
                break
            } else {
                c.syntaxError()
                return nil
            }
            i += 1
        }
        t.idIndex = i
        if t.limit != 0 && !hasStrategy {
            c.error(static: "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
            return nil
        }
        if !xadd && !hasStrategy {
            c.error(static: "ERR syntax error, XTRIM must be called with a trimming strategy")
            return nil
        }
        if t.limitGiven {
            if !t.approx {
                c.error(static: "ERR syntax error, LIMIT cannot be used without the special ~ option")
                return nil
            }
        } else if t.approx {
            var l = 100 * c.engine.config.streamNodeMaxEntries
            if l <= 0 { l = 10000 }
            if l > 1_000_000 { l = 1_000_000 }
            t.limit = l
        } else {
            t.limit = 0
        }
        return t
    }

    /// The propagated form of an XADD/XTRIM whose `~` trim must replay exactly:
    /// "~" becomes "=", the threshold the resulting length (MAXLEN) or first
    /// ID (MINID), and LIMIT is dropped (it only applies with "~").
    static func exactTrimArgv(_ c: Client, _ s: StreamValue, _ t: StreamTrimArgs, idText: [UInt8]?) -> [[UInt8]] {
        var argv: [[UInt8]] = []
        var i = 0
        while i < c.args.count {
            if t.limitGiven && i == t.limitIndex { i += 2; continue }
            if t.approx && i == t.argIndex - 1 {
                argv.append([UInt8(ascii: "=")])
            } else if t.approx && i == t.argIndex {
                if case .maxlen = t.strategy {
                    argv.append(decimalBytes(Int64(s.length)))
                } else {
                    argv.append(s.firstEntryIDIncludingDeleted.text)
                }
            } else if let idText, i == t.idIndex {
                argv.append(idText)
            } else {
                argv.append(c.args.bytes(i))
            }
            i += 1
        }
        return argv
    }

    // MARK: XADD

    static func xaddCommand(_ c: Client) {
        guard let t = parseStreamTrimArgs(c, xadd: true) else { return }
        let a = c.args, s = c.engine, key = a[1]
        let fieldPos = t.idIndex + 1
        if a.count - fieldPos < 2 || (a.count - fieldPos) % 2 == 1 {
            c.wrongArity()
            return
        }
        if let id = t.id, t.seqGiven, id.isZero {
            c.error(static: "ERR The ID specified in XADD must be greater than 0-0")
            return
        }
        let stream: StreamValue
        var created = false
        switch lookupStream(c, key, write: true) {
        case .wrongType: c.wrongType(); return
        case .found(let v): stream = v
        case .missing:
            if t.noMkStream { c.reply.null(); return }
            stream = StreamValue()
            created = true
        }
        if stream.lastID == .max {
            c.error(static: "ERR The stream has exhausted the last possible ID, unable to add more items")
            return
        }
        // The new ID.
        var id: StreamID
        if let given = t.id {
            if t.seqGiven {
                id = given
            } else if stream.lastID.ms == given.ms {
                if stream.lastID.seq == UInt64.max {
                    // Redis reports this overflow with the ERANGE message (its errno is not EDOM here).
                    c.error(static: "ERR Elements are too large to be stored")
                    return
                }
                id = StreamID(ms: given.ms, seq: stream.lastID.seq + 1)
            } else {
                id = given
            }
        } else {
            let now = UInt64(max(0, ShardEngine.wallClockMs()))
            id = now > stream.lastID.ms ? StreamID(ms: now, seq: 0) : stream.lastID.incremented!
        }
        if id <= stream.lastID {
            c.error(static: "ERR The ID specified in XADD is equal or smaller than the target stream top item")
            return
        }
        var total = 0
        for i in fieldPos..<a.count { total += a[i].count }
        if total > StreamValue.listpackMaxSize {
            c.error(static: "ERR Elements are too large to be stored")
            return
        }
        if created { s.setObject(c.db, key, stream, type: .stream) }
        stream.append(id: id, args: a, first: fieldPos,
                      maxEntries: s.config.streamNodeMaxEntries, maxBytes: s.config.streamNodeMaxBytes)
        replyStreamID(c, id)
        s.signalModifiedKey(c.db, key)
        s.notifyKeyspaceEvent(.stream, "xadd", key, c.dbIndex)
        s.addDirty()
        if stream.trim(t.strategy, approx: t.approx, limit: t.limit) > 0 {
            s.notifyKeyspaceEvent(.stream, "xtrim", key, c.dbIndex)
        }
        if s.isPropagating && (t.approx || t.limitGiven || t.id == nil || !t.seqGiven) {
            s.rewritePropagation(c, exactTrimArgv(c, stream, t, idText: (t.id == nil || !t.seqGiven) ? id.text : nil))
        }
        s.signalStreamReady(c.db, key)
    }

    // MARK: XRANGE / XREVRANGE / XLEN

    static func xrangeCommand(_ c: Client, rev: Bool) {
        let a = c.args
        guard let (start, end) = rev ? streamRangeArgs(c, start: 3, end: 2) : streamRangeArgs(c, start: 2, end: 3)
        else { return }
        var count: Int64 = -1
        var j = 4
        while j < a.count {
            if a.equals(j, "count") && a.count - j - 1 >= 1 {
                guard let v = c.intArg(j + 1) else { return }
                count = max(0, v)
                j += 2
            } else {
                c.syntaxError()
                return
            }
        }
        switch lookupStream(c, a[1], write: false) {
        case .missing: c.reply.array(0)
        case .wrongType: c.wrongType()
        case .found(let s):
            if count == 0 { c.reply.nullArray(); return }
            replyStreamRange(c, s, start, end, count: count < 0 ? 0 : Int(count), rev: rev)
        }
    }

    static func xlenCommand(_ c: Client) {
        switch lookupStream(c, c.args[1], write: false) {
        case .missing: c.reply.integer(0)
        case .wrongType: c.wrongType()
        case .found(let s): c.reply.integer(s.length)
        }
    }

    // MARK: XDEL / XTRIM / XSETID

    static func xdelCommand(_ c: Client) {
        let a = c.args, key = a[1], srv = c.engine
        let s: StreamValue
        switch lookupStream(c, key, write: true) {
        case .missing: c.reply.integer(0); return
        case .wrongType: c.wrongType(); return
        case .found(let v): s = v
        }
        var ids: [StreamID] = []
        ids.reserveCapacity(a.count - 2)
        for i in 2..<a.count {
            guard let id = streamIDArg(c, i, strict: true) else { return }
            ids.append(id)
        }
        var deleted = 0
        var firstEntry = false
        for id in ids where s.delete(id) {
            if id == s.firstID { firstEntry = true }
            if id > s.maxDeletedID { s.maxDeletedID = id }
            deleted += 1
        }
        if deleted > 0 {
            if s.length == 0 { s.firstID = .zero }
            else if firstEntry { s.firstID = s.edgeID(first: true) ?? .zero }
            srv.signalModifiedKey(c.db, key)
            srv.notifyKeyspaceEvent(.stream, "xdel", key, c.dbIndex)
            srv.addDirty(deleted)
        }
        c.reply.integer(deleted)
    }

    static func xtrimCommand(_ c: Client) {
        guard let t = parseStreamTrimArgs(c, xadd: false) else { return }
        let key = c.args[1], srv = c.engine
        let s: StreamValue
        switch lookupStream(c, key, write: true) {
        case .missing: c.reply.integer(0); return
        case .wrongType: c.wrongType(); return
        case .found(let v): s = v
        }
        let deleted = s.trim(t.strategy, approx: t.approx, limit: t.limit)
        if deleted > 0 {
            srv.notifyKeyspaceEvent(.stream, "xtrim", key, c.dbIndex)
            if t.approx && srv.isPropagating { srv.rewritePropagation(c, exactTrimArgv(c, s, t, idText: nil)) }
            srv.signalModifiedKey(c.db, key)
            srv.addDirty(deleted)
        }
        c.reply.integer(deleted)
    }

    static func xsetidCommand(_ c: Client) {
        let a = c.args, key = a[1], srv = c.engine
        guard let id = streamIDArg(c, 2, strict: true) else { return }
        var entriesAdded: Int64 = -1
        var maxDeleted = StreamID.zero
        var i = 3
        while i < a.count {
            let more = a.count - 1 - i
            if a.equals(i, "entriesadded") && more > 0 {
                guard let v = c.intArg(i + 1) else { return }
                if v < 0 { c.error(static: "ERR entries_added must be positive"); return }
                entriesAdded = v
                i += 2
            } else if a.equals(i, "maxdeletedid") && more > 0 {
                guard let m = streamIDArg(c, i + 1, strict: true) else { return }
                if id < m {
                    c.error(static: "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
                    return
                }
                maxDeleted = m
                i += 2
            } else {
                c.syntaxError()
                return
            }
        }
        let s: StreamValue
        switch lookupStream(c, key, write: true) {
        case .missing: c.error(static: "ERR no such key"); return
        case .wrongType: c.wrongType(); return
        case .found(let v): s = v
        }
        if s.length > 0 {
            let maxID = s.edgeID(first: false) ?? .zero
            if id < maxID {
                c.error(static: "ERR The ID specified in XSETID is smaller than the target stream top item")
                return
            }
            if entriesAdded != -1 && Int64(s.length) > entriesAdded {
                c.error(static: "ERR The entries_added specified in XSETID is smaller than the target stream length")
                return
            }
        }
        s.lastID = id
        if entriesAdded != -1 { s.entriesAdded = UInt64(entriesAdded) }
        if !maxDeleted.isZero { s.maxDeletedID = maxDeleted }
        c.reply.ok()
        srv.addDirty()
        srv.notifyKeyspaceEvent(.stream, "xsetid", key, c.dbIndex)
    }
}

extension StreamValue {
    /// The first entry's ID, deleted or not; the maximum ID when there is none
    /// (streamGetEdgeID without skipping tombstones).
    var firstEntryIDIncludingDeleted: StreamID {
        guard let n = nodes.first else { return .max }
        let h = StreamValue.header(n.lp)
        if StreamValue.isEnd(h.firstEntry) { return .max }
        return StreamValue.entry(at: h.firstEntry, master: n.master, header: h).id
    }
}
