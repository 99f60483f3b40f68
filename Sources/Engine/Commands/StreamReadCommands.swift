// XREAD and XREADGROUP (Redis's xreadCommand), and what XREADGROUP does to
// a consumer group: delivering new entries (PEL entries, last-delivered ID,
// entries-read) or a consumer's history, propagated as XCLAIM / XGROUP SETID /
// XGROUP CREATECONSUMER as Redis 7.0 does.

import RESP

/// What an XREAD/XREADGROUP asks for, parsed (kept while a client blocks).
struct StreamReadRequest {
    var keys: [[UInt8]]
    /// Entries after these IDs; StreamID.max stands for ">".
    var ids: [StreamID]
    var count: Int
    var group: [UInt8]? = nil
    var consumer: [UInt8] = []
    var noack = false
    /// Unix ms at which a blocked read times out; 0 = never; nil = no BLOCK.
    var timeout: Int64? = nil
}

extension ShardEngine {
    /// A stream may have new data or a group was destroyed (wakes blocked readers).
    func signalStreamReady(_ db: Database, _ key: UnsafeRawBufferPointer) {
        if blocking.keyCount != 0 { signalKeyAsReady(db.index, Array(key)) }
    }

    static func xreadCommand(_ c: Client, group isGroup: Bool) {
        defer { c.engine.preventPropagation(c) }
        if isGroup && c.blockRetry && !blockedStreamsStillExist(c) {
            // As Redis: a blocked XREADGROUP whose stream was deleted or replaced gets an error.
            c.error(static: "UNBLOCKED the stream key no longer exists")
            return
        }
        guard var req = parseStreamRead(c, group: isGroup) else { return }
        if serveStreamRead(c, &req) { return }
        guard let deadline = req.timeout else {
            c.reply.nullArray()
            return
        }
        // Block. A retry re-runs the command with "$" replaced by the last ID
        // seen now, so only entries added after this point wake the client.
        var argv = (0..<c.args.count).map { c.args.bytes($0) }
        let firstID = argv.count - req.keys.count
        for k in 0..<req.keys.count where argv[firstID + k] == [UInt8(ascii: "$")] {
            argv[firstID + k] = Array(req.ids[k].description.utf8)
        }
        c.engine.blockForKeys(c, keys: req.keys, deadline: deadline, timeoutReply: .nullArray, argv: argv,
                              shouldServe: isGroup ? { _ in true } : { $0?.type == .stream })
    }

    /// For a blocked XREADGROUP being retried: every key still holds a stream.
    static func blockedStreamsStillExist(_ c: Client) -> Bool {
        guard let st = c.blocked else { return true }
        for key in st.keys {
            let e = key.withUnsafeBytes { c.engine.lookupWrite(c.db, $0, touch: false) }
            if e == nil || e!.type != .stream { return false }
        }
        return true
    }

    /// Parses the arguments and resolves "$"; nil after an error reply.
    static func parseStreamRead(_ c: Client, group isGroup: Bool) -> StreamReadRequest? {
        let a = c.args, srv = c.engine
        var timeout: Int64? = nil
        var count: Int64 = 0
        var streamsArg = 0, streamsCount = 0
        var groupArg = 0
        var noack = false
        var i = 1
        while i < a.count {
            let more = a.count - i - 1
            if a.equals(i, "block") && more > 0 {
                i += 1
                guard let t = a.int64(i) else { c.error(static: "ERR timeout is not an integer or out of range"); return nil }
                if t < 0 { c.error(static: "ERR timeout is negative"); return nil }
                if t > 0 {
                    if t > Int64.max - srv.now { c.error(static: "ERR timeout is out of range"); return nil }
                    timeout = t + srv.now
                } else {
                    timeout = 0
                }
            } else if a.equals(i, "count") && more > 0 {
                i += 1
                guard let v = c.intArg(i) else { return nil }
                count = max(0, v)
            } else if a.equals(i, "streams") && more > 0 {
                streamsArg = i + 1
                streamsCount = a.count - streamsArg
                if streamsCount % 2 != 0 {
                    c.error(static: "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.")
                    return nil
                }
                streamsCount /= 2
                break
            } else if a.equals(i, "group") && more >= 2 {
                if !isGroup {
                    c.error(static: "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.")
                    return nil
                }
                groupArg = i + 1
                i += 2
            } else if a.equals(i, "noack") {
                if !isGroup {
                    c.error(static: "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.")
                    return nil
                }
                noack = true
            } else {
                c.syntaxError()
                return nil
            }
            i += 1
        }
        if streamsArg == 0 { c.syntaxError(); return nil }
        if isGroup && groupArg == 0 { c.error(static: "ERR Missing GROUP option for XREADGROUP"); return nil }

        var req = StreamReadRequest(keys: [], ids: [], count: Int(count))
        req.timeout = timeout
        req.noack = noack
        if groupArg > 0 {
            req.group = a.bytes(groupArg)
            req.consumer = a.bytes(groupArg + 1)
        }
        for k in 0..<streamsCount {
            let key = a[streamsArg + k]
            let idArg = streamsArg + streamsCount + k
            var stream: StreamValue? = nil
            if let e = srv.lookupRead(c, key) {
                if e.type != .stream { c.wrongType(); return nil }
                stream = unsafeDowncast(e.object, to: StreamValue.self)
            }
            if groupArg > 0 {
                if stream == nil || stream!.group(a[groupArg]) == nil {
                    c.error("NOGROUP No such key '\(a.string(streamsArg + k))' or consumer group '\(a.string(groupArg))' in XREADGROUP with GROUP option")
                    return nil
                }
            }
            let idb = a[idArg]
            let id: StreamID
            if idb.count == 1 && idb[0] == UInt8(ascii: "$") {
                if isGroup {
                    c.error(static: "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.")
                    return nil
                }
                id = stream?.lastID ?? .zero
            } else if idb.count == 1 && idb[0] == UInt8(ascii: ">") {
                if !isGroup {
                    c.error(static: "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.")
                    return nil
                }
                id = .max
            } else {
                guard let r = StreamID.parse(idb, strict: true) else { c.error(static: invalidStreamID); return nil }
                id = r.id
            }
            req.keys.append(Array(key))
            req.ids.append(id)
        }
        return req
    }

    /// Serves what can be served now; true if it replied (some stream had data).
    static func serveStreamRead(_ c: Client, _ req: inout StreamReadRequest) -> Bool {
        let srv = c.engine
        var mark = 0
        var served = 0
        for k in 0..<req.keys.count {
            let key = req.keys[k]
            guard let e = key.withUnsafeBytes({ srv.lookupRead(c, $0) }), e.type == .stream else { continue }
            let s = unsafeDowncast(e.object, to: StreamValue.self)
            var gt = req.ids[k]
            var history = false
            var serve = false
            var group: StreamGroup? = nil
            if let gname = req.group {
                guard let g = gname.withUnsafeBytes({ s.group($0) }) else { continue }
                group = g
                if gt != .max {
                    serve = true
                    history = true
                } else if s.length > 0, let maxID = s.edgeID(first: false), maxID > g.lastID {
                    serve = true
                    gt = g.lastID
                }
            } else if s.length > 0, let maxID = s.edgeID(first: false), maxID > gt {
                serve = true
            }
            if !serve { continue }
            served += 1
            if served == 1 { mark = c.reply.deferLength() }
            let start = gt.incremented ?? .max
            if !c.reply.isResp3 { c.reply.array(2) }
            c.reply.bulk(key)
            if let g = group {
                let consumer = consumerForRead(c, s, g, key: key, req: req)
                if history {
                    replyConsumerHistory(c, s, g, consumer, from: start, count: req.count)
                } else {
                    deliverNewEntries(c, s, g, consumer, key: key, from: start, count: req.count, noack: req.noack)
                }
                srv.addDirty()
            } else {
                replyStreamRange(c, s, start, .max, count: req.count, rev: false)
            }
        }
        if served > 0 {
            c.reply.setDeferredLength(mark, served, kind: c.reply.isResp3 ? .map : .array)
            return true
        }
        return false
    }

    /// The reading consumer, created (and announced) if new.
    static func consumerForRead(_ c: Client, _ s: StreamValue, _ g: StreamGroup, key: [UInt8],
                                req: StreamReadRequest) -> StreamConsumer {
        let srv = c.engine
        if let existing = req.consumer.withUnsafeBytes({ g.consumer($0) }) {
            existing.seenTime = srv.now
            return existing
        }
        let created = req.consumer.withUnsafeBytes { g.createConsumer($0, now: srv.now) }!
        srv.addDirty()
        srv.notifyKeyspaceEvent(.stream, "xgroup-createconsumer", key, c.dbIndex)
        if req.noack {
            srv.alsoPropagate(db: c.dbIndex, [Array("XGROUP".utf8), Array("CREATECONSUMER".utf8), key, g.name, req.consumer])
        }
        return created
    }

    /// A consumer's pending entries from `start` (XREADGROUP with an explicit ID).
    static func replyConsumerHistory(_ c: Client, _ s: StreamValue, _ group: StreamGroup, _ consumer: StreamConsumer,
                                     from start: StreamID, count: Int) {
        let now = c.engine.now
        var ids: [StreamID] = []
        consumer.pel.forEach(from: start) { id, _ in
            ids.append(id)
            return count == 0 || ids.count < count
        }
        c.reply.array(ids.count)
        for id in ids {
            var found = false
            s.forEachEntry(from: id, to: id) { eid, f in
                replyStreamEntry(c, eid, f)
                found = true
                return false
            }
            if found {
                group.pel.update(id) { $0.deliveryTime = now; $0.deliveryCount += 1 }
            } else {
                c.reply.array(2)
                replyStreamID(c, id)
                c.reply.nullArray()
            }
        }
    }

    /// New entries for a group (">"): moves the last-delivered ID and read
    /// counter, adds PEL entries unless NOACK, propagates the effect.
    static func deliverNewEntries(_ c: Client, _ s: StreamValue, _ g: StreamGroup, _ consumer: StreamConsumer,
                                  key: [UInt8], from start: StreamID, count: Int, noack: Bool) {
        let srv = c.engine, now = srv.now
        var propagateLastID = false
        var delivered: [StreamID] = []
        let mark = c.reply.deferLength()
        var n = 0
        s.forEachEntry(from: start, to: .max) { id, f in
            if id > g.lastID {
                if g.entriesRead != StreamGroup.invalidEntriesRead && !s.rangeHasTombstones(id, nil) {
                    g.entriesRead += 1
                } else if s.entriesAdded > 0 {
                    g.entriesRead = s.estimateDistanceFromFirstEverEntry(id) ?? StreamGroup.invalidEntriesRead
                }
                g.lastID = id
                if noack { propagateLastID = true }
            }
            replyStreamEntry(c, id, f)
            if !noack { delivered.append(id) }
            n += 1
            return count == 0 || n < count
        }
        c.reply.setDeferredLength(mark, n)
        for id in delivered {
            let fresh = PendingEntry(deliveryTime: now, deliveryCount: 1, consumer: consumer)
            if !g.pel.insert(id, fresh) {
                // Already pending (XGROUP SETID moved the group back): reassign it.
                if let old = g.pel.find(id)?.consumer { old.pel.remove(id) }
                g.pel.update(id) { $0 = fresh }
            }
            consumer.pel.insert(id, ())
            if srv.isPropagating { propagateXClaim(c, key: key, group: g, id: id, consumer: consumer) }
        }
        if propagateLastID && srv.isPropagating { propagateGroupSetID(c, key: key, group: g) }
    }

    /// XCLAIM key group consumer 0 id TIME ms RETRYCOUNT n FORCE JUSTID LASTID last-id.
    static func propagateXClaim(_ c: Client, key: [UInt8], group g: StreamGroup, id: StreamID,
                                consumer: StreamConsumer?, idText: [UInt8]? = nil) {
        let srv = c.engine
        guard srv.isPropagating else { return }
        let nack = g.pel.find(id)
        let owner = consumer ?? nack?.consumer
        srv.alsoPropagate(db: c.dbIndex, [
            Array("XCLAIM".utf8), key, g.name, owner?.name ?? [], [UInt8(ascii: "0")], idText ?? id.text,
            Array("TIME".utf8), decimalBytes(nack?.deliveryTime ?? srv.now),
            Array("RETRYCOUNT".utf8), decimalBytes(nack?.deliveryCount ?? 0),
            Array("FORCE".utf8), Array("JUSTID".utf8), Array("LASTID".utf8), g.lastID.text,
        ])
    }

    /// XGROUP SETID key group last-id ENTRIESREAD n.
    static func propagateGroupSetID(_ c: Client, key: [UInt8], group g: StreamGroup) {
        c.engine.alsoPropagate(db: c.dbIndex, [
            Array("XGROUP".utf8), Array("SETID".utf8), key, g.name, g.lastID.text,
            Array("ENTRIESREAD".utf8), decimalBytes(g.entriesRead),
        ])
    }
}
