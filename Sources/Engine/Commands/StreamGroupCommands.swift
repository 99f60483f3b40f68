// Consumer group commands: XGROUP (CREATE SETID DESTROY CREATECONSUMER
// DELCONSUMER HELP), XACK, XPENDING, XCLAIM, XAUTOCLAIM.

import RESP

extension ShardEngine {
    enum XGroupSub { case create, setid, destroy, createConsumer, delConsumer }

    static func xgroupCommand() -> Command {
        let g = CommandGroup.stream
        let subs = [
            Command("create", arity: -5, flags: [.write, .denyOOM], keys: (2, 2, 1), group: g, since: "5.0.0",
                    handler: { xgroupGeneric($0, .create) }),
            Command("setid", arity: -5, flags: [.write], keys: (2, 2, 1), group: g, since: "5.0.0",
                    handler: { xgroupGeneric($0, .setid) }),
            Command("destroy", arity: 4, flags: [.write], keys: (2, 2, 1), group: g, since: "5.0.0",
                    handler: { xgroupGeneric($0, .destroy) }),
            Command("createconsumer", arity: 5, flags: [.write, .denyOOM], keys: (2, 2, 1), group: g, since: "6.2.0",
                    handler: { xgroupGeneric($0, .createConsumer) }),
            Command("delconsumer", arity: 5, flags: [.write], keys: (2, 2, 1), group: g, since: "5.0.0",
                    handler: { xgroupGeneric($0, .delConsumer) }),
            Command("help", arity: 2, flags: [.loading, .stale], group: g, since: "5.0.0", handler: { c in
                replyHelp(c, [
                    "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                    "CREATE <key> <groupname> <id|$> [option]",
                    "    Create a new consumer group. Options are:",
                    "    * MKSTREAM",
                    "      Create the empty stream if it does not exist.",
                    "    * ENTRIESREAD entries_read",
                    "      Set the group's entries_read counter (internal use).",
                    "CREATECONSUMER <key> <groupname> <consumer>",
                    "    Create a new consumer in the specified group.",
                    "DELCONSUMER <key> <groupname> <consumer>",
                    "    Remove the specified consumer.",
                    "DESTROY <key> <groupname>",
                    "    Remove the specified group.",
                    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
                    "    Set the current group ID and entries_read counter.",
                    "HELP",
                    "    Prints this help.",
                ])
            }),
        ]
        return Command("xgroup", arity: -2, group: g, since: "5.0.0", handler: { _ in }).withSubcommands(subs)
    }

    static func noGroupForKey(_ c: Client, group gi: Int, key ki: Int) {
        c.error("NOGROUP No such consumer group '\(c.args.string(gi))' for key name '\(c.args.string(ki))'")
    }

    static func xgroupGeneric(_ c: Client, _ sub: XGroupSub) {
        let a = c.args, srv = c.engine, key = a[2], gname = a[3]
        var mkstream = false
        var entriesRead = StreamGroup.invalidEntriesRead
        var i = 5
        while i < a.count {
            if sub == .create && a.equals(i, "mkstream") {
                mkstream = true
                i += 1
            } else if (sub == .create || sub == .setid) && a.equals(i, "entriesread") && i + 1 < a.count {
                guard let v = c.intArg(i + 1) else { return }
                if v < 0 && v != StreamGroup.invalidEntriesRead {
                    c.error(static: "ERR value for ENTRIESREAD must be positive or -1")
                    return
                }
                entriesRead = v
                i += 2
            } else {
                subcommandSyntaxError(c)
                return
            }
        }
        var stream: StreamValue? = nil
        switch lookupStream(c, key, write: true) {
        case .wrongType: c.wrongType(); return
        case .found(let s): stream = s
        case .missing: break
        }
        var group: StreamGroup? = nil
        if !mkstream {
            guard let s = stream else {
                c.error(static: "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.")
                return
            }
            group = s.group(gname)
            if group == nil && (sub == .setid || sub == .createConsumer || sub == .delConsumer) {
                noGroupForKey(c, group: 3, key: 2)
                return
            }
        }
        switch sub {
        case .create:
            if a.count > 8 { subcommandSyntaxError(c); return }
            let id: StreamID
            if a[4].count == 1 && a[4][0] == UInt8(ascii: "$") {
                id = stream?.lastID ?? .zero
            } else {
                guard let p = streamIDArg(c, 4, strict: true) else { return }
                id = p
            }
            let s: StreamValue
            if let existing = stream {
                s = existing
            } else {
                s = StreamValue()
                srv.setObject(c.db, key, s, type: .stream)
                srv.signalModifiedKey(c.db, key)
            }
            if s.createGroup(gname, lastID: id, entriesRead: entriesRead) != nil {
                c.reply.ok()
                srv.addDirty()
                srv.notifyKeyspaceEvent(.stream, "xgroup-create", key, c.dbIndex)
            } else {
                c.error(static: "BUSYGROUP Consumer Group name already exists")
            }
        case .setid:
            if a.count != 5 && a.count != 7 { subcommandSyntaxError(c); return }
            let s = stream!, g = group!
            let id: StreamID
            if a[4].count == 1 && a[4][0] == UInt8(ascii: "$") {
                id = s.lastID
            } else {
                guard let p = streamIDArg(c, 4) else { return }
                id = p
            }
            g.lastID = id
            g.entriesRead = entriesRead
            c.reply.ok()
            srv.addDirty()
            srv.notifyKeyspaceEvent(.stream, "xgroup-setid", key, c.dbIndex)
        case .destroy:
            if group != nil, stream!.destroyGroup(gname) {
                c.reply.integer(1)
                srv.addDirty()
                srv.notifyKeyspaceEvent(.stream, "xgroup-destroy", key, c.dbIndex)
                srv.signalStreamReady(c.db, key)
            } else {
                c.reply.integer(0)
            }
        case .createConsumer:
            if group!.createConsumer(a[4], now: srv.now) != nil {
                srv.addDirty()
                srv.notifyKeyspaceEvent(.stream, "xgroup-createconsumer", key, c.dbIndex)
                c.reply.integer(1)
            } else {
                c.reply.integer(0)
            }
        case .delConsumer:
            var pending = 0
            if let consumer = group!.consumer(a[4]) {
                pending = group!.deleteConsumer(consumer)
                srv.addDirty()
                srv.notifyKeyspaceEvent(.stream, "xgroup-delconsumer", key, c.dbIndex)
            }
            c.reply.integer(pending)
        }
    }

    // MARK: XACK

    static func xackCommand(_ c: Client) {
        let a = c.args, srv = c.engine
        var group: StreamGroup? = nil
        switch lookupStream(c, a[1], write: false) {
        case .wrongType: c.wrongType(); return
        case .found(let s): group = s.group(a[2])
        case .missing: break
        }
        guard let g = group else { c.reply.integer(0); return }
        var ids: [StreamID] = []
        for j in 3..<a.count {
            guard let id = streamIDArg(c, j, strict: true) else { return }
            ids.append(id)
        }
        var acked = 0
        for id in ids where g.ack(id) {
            acked += 1
            srv.addDirty()
        }
        c.reply.integer(acked)
    }

    // MARK: XPENDING

    static func xpendingCommand(_ c: Client) {
        let a = c.args, now = c.engine.now
        let justInfo = a.count == 3
        if a.count != 3 && (a.count < 6 || a.count > 9) { c.syntaxError(); return }
        var start = StreamID.zero, end = StreamID.max
        var count: Int64 = 0, minIdle: Int64 = 0
        var consumerArg = 0
        if a.count >= 6 {
            var si = 3
            if a.equals(3, "idle") {
                guard let v = c.intArg(4) else { return }
                minIdle = v
                if a.count < 8 { c.syntaxError(); return }
                si += 2
            }
            guard let n = c.intArg(si + 2) else { return }
            count = max(0, n)
            guard let (s0, e0) = streamRangeArgs(c, start: si, end: si + 1) else { return }
            start = s0; end = e0
            if si + 3 < a.count { consumerArg = si + 3 }
        }
        var group: StreamGroup? = nil
        switch lookupStream(c, a[1], write: false) {
        case .wrongType: c.wrongType(); return
        case .found(let s): group = s.group(a[2])
        case .missing: break
        }
        guard let g = group else {
            c.error("NOGROUP No such key '\(a.string(1))' or consumer group '\(a.string(2))'")
            return
        }
        if justInfo {
            c.reply.array(4)
            c.reply.integer(g.pel.count)
            if g.pel.isEmpty {
                c.reply.null()
                c.reply.null()
                c.reply.nullArray()
                return
            }
            replyStreamID(c, g.pel.first!)
            replyStreamID(c, g.pel.last!)
            let owners = g.consumers.filter { $0.pel.count > 0 }
            c.reply.array(owners.count)
            for o in owners {
                c.reply.array(2)
                c.reply.bulk(o.name)
                c.reply.bulk(decimal: Int64(o.pel.count))
            }
            return
        }
        var consumer: StreamConsumer? = nil
        if consumerArg > 0 {
            consumer = g.consumer(a[consumerArg])
            if consumer == nil { c.reply.array(0); return }
        }
        var rows: [(StreamID, PendingEntry)] = []
        if start <= end && count > 0 {
            let visit: (StreamID, PendingEntry) -> Bool = { id, n in
                if id > end { return false }
                if minIdle != 0 && now - n.deliveryTime < minIdle { return true }
                rows.append((id, n))
                return Int64(rows.count) < count
            }
            if let cons = consumer {
                cons.pel.forEach(from: start) { id, _ in
                    guard let n = g.pel.find(id) else { return true }
                    return visit(id, n)
                }
            } else {
                g.pel.forEach(from: start, visit)
            }
        }
        c.reply.array(rows.count)
        for (id, n) in rows {
            c.reply.array(4)
            replyStreamID(c, id)
            c.reply.bulk(n.consumer?.name ?? [])
            c.reply.integer(max(0, now - n.deliveryTime))
            c.reply.integer(n.deliveryCount)
        }
    }

    // MARK: XCLAIM

    static func xclaimCommand(_ c: Client) {
        let a = c.args, srv = c.engine, key = a[1]
        defer { srv.preventPropagation(c) }
        let s: StreamValue
        var group: StreamGroup? = nil
        switch lookupStream(c, key, write: false) {
        case .wrongType: c.wrongType(); return
        case .found(let v): s = v; group = v.group(a[2])
        case .missing: s = StreamValue()
        }
        guard let g = group else {
            c.error("NOGROUP No such key '\(a.string(1))' or consumer group '\(a.string(2))'")
            return
        }
        guard let mi = a.int64(4) else { c.error(static: "ERR Invalid min-idle-time argument for XCLAIM"); return }
        let minIdle = max(0, mi)
        var ids: [StreamID] = []
        var j = 5
        while j < a.count, let r = StreamID.parse(a[j], strict: true) {
            ids.append(r.id)
            j += 1
        }
        let lastIDArg = j - 1
        let now = srv.now
        var deliveryTime: Int64 = -1
        var retryCount: Int64 = -1
        var force = false, justID = false
        var lastID = StreamID.zero
        while j < a.count {
            let more = a.count - 1 - j
            if a.equals(j, "force") {
                force = true
            } else if a.equals(j, "justid") {
                justID = true
            } else if a.equals(j, "idle") && more > 0 {
                j += 1
                guard let v = a.int64(j) else { c.error(static: "ERR Invalid IDLE option argument for XCLAIM"); return }
                deliveryTime = now &- v
            } else if a.equals(j, "time") && more > 0 {
                j += 1
                guard let v = a.int64(j) else { c.error(static: "ERR Invalid TIME option argument for XCLAIM"); return }
                deliveryTime = v
            } else if a.equals(j, "retrycount") && more > 0 {
                j += 1
                guard let v = a.int64(j) else { c.error(static: "ERR Invalid RETRYCOUNT option argument for XCLAIM"); return }
                retryCount = v
            } else if a.equals(j, "lastid") && more > 0 {
                j += 1
                guard let id = streamIDArg(c, j, strict: true) else { return }
                lastID = id
            } else {
                c.error("ERR Unrecognized XCLAIM option '\(a.string(j))'")
                return
            }
            j += 1
        }
        var propagateLastID = false
        if lastID > g.lastID {
            g.lastID = lastID
            propagateLastID = true
        }
        if deliveryTime != -1 {
            if deliveryTime < 0 || deliveryTime > now { deliveryTime = now }
        } else {
            deliveryTime = now
        }
        var consumer: StreamConsumer? = nil
        let mark = c.reply.deferLength()
        var n = 0
        if lastIDArg >= 5 {
            for k in 5...lastIDArg {
                let id = ids[k - 5]
                var nack = g.pel.find(id)
                if !s.contains(id) {
                    if nack != nil {
                        propagateXClaim(c, key: Array(key), group: g, id: id, consumer: nil, idText: a.bytes(k))
                        propagateLastID = false
                        srv.addDirty()
                        _ = g.ack(id)
                    }
                    continue
                }
                if force && nack == nil {
                    let fresh = PendingEntry(deliveryTime: now, deliveryCount: 1, consumer: nil)
                    g.pel.insert(id, fresh)
                    nack = fresh
                }
                guard var entry = nack else { continue }
                if entry.consumer != nil && minIdle != 0 && now - entry.deliveryTime < minIdle { continue }
                if consumer == nil { consumer = claimingConsumer(c, g, key: key, now: now) }
                transfer(&entry, id, to: consumer!)
                entry.deliveryTime = deliveryTime
                if retryCount >= 0 { entry.deliveryCount = retryCount } else if !justID { entry.deliveryCount += 1 }
                g.pel.update(id) { $0 = entry }
                if justID {
                    replyStreamID(c, id)
                } else {
                    s.forEachEntry(from: id, to: id) { eid, f in replyStreamEntry(c, eid, f); return false }
                }
                n += 1
                propagateXClaim(c, key: Array(key), group: g, id: id, consumer: consumer, idText: a.bytes(k))
                propagateLastID = false
                srv.addDirty()
            }
        }
        if propagateLastID {
            if srv.isPropagating { propagateGroupSetID(c, key: Array(key), group: g) }
            srv.addDirty()
        }
        c.reply.setDeferredLength(mark, n)
    }

    // MARK: XAUTOCLAIM

    /// XCLAIM/XAUTOCLAIM's consumer (argument 3): the existing one, seen now, or
    /// a new one (a write, notified as xgroup-createconsumer).
    static func claimingConsumer(_ c: Client, _ g: StreamGroup, key: UnsafeRawBufferPointer, now: Int64) -> StreamConsumer {
        if let existing = g.consumer(c.args[3]) {
            existing.seenTime = now
            return existing
        }
        let created = g.createConsumer(c.args[3], now: now)!  // absent: checked above
        c.engine.addDirty()
        c.engine.notifyKeyspaceEvent(.stream, "xgroup-createconsumer", key, c.dbIndex)
        return created
    }

    /// Moves a pending entry from its consumer's PEL to `consumer`'s.
    static func transfer(_ entry: inout PendingEntry, _ id: StreamID, to consumer: StreamConsumer) {
        if entry.consumer === consumer { return }
        entry.consumer?.pel.remove(id)
        consumer.pel.insert(id, ())
        entry.consumer = consumer
    }

    static func xautoclaimCommand(_ c: Client) {
        let a = c.args, srv = c.engine, key = a[1]
        defer { srv.preventPropagation(c) }
        guard let mi = a.int64(4) else { c.error(static: "ERR Invalid min-idle-time argument for XAUTOCLAIM"); return }
        let minIdle = max(0, mi)
        guard let (s0, sx) = streamIntervalArg(c, 5, missingSeq: 0) else { return }
        var start = s0
        if sx {
            guard let n = start.incremented else { c.error(static: "ERR invalid start ID for the interval"); return }
            start = n
        }
        var count = 100
        var justID = false
        var j = 6
        while j < a.count {
            let more = a.count - 1 - j
            if a.equals(j, "count") && more > 0 {
                guard let v = a.int64(j + 1), v >= 1, v <= Int64.max / 16 else {
                    c.error(static: "ERR COUNT must be > 0")
                    return
                }
                count = Int(v)
                j += 1
            } else if a.equals(j, "justid") {
                justID = true
            } else {
                c.syntaxError()
                return
            }
            j += 1
        }
        let s: StreamValue
        var group: StreamGroup? = nil
        switch lookupStream(c, key, write: false) {
        case .wrongType: c.wrongType(); return
        case .found(let v): s = v; group = v.group(a[2])
        case .missing: s = StreamValue()
        }
        guard let g = group else {
            c.error("NOGROUP No such key '\(a.string(1))' or consumer group '\(a.string(2))'")
            return
        }
        let now = srv.now
        var attempts = count.multipliedReportingOverflow(by: 10).overflow ? Int.max : count * 10
        var consumer: StreamConsumer? = nil
        var deletedIDs: [StreamID] = []
        c.reply.array(3)
        let cursorMark = c.reply.out.writeIndex
        let mark = c.reply.deferLength()
        var n = 0
        var cursor: StreamID? = start
        let keyBytes = Array(key)
        while attempts > 0 && count > 0, let from = cursor, let id = g.pel.firstKey(atOrAfter: from) {
            attempts -= 1
            cursor = id.incremented
            guard var entry = g.pel.find(id) else { continue }
            if !s.contains(id) {
                propagateXClaim(c, key: keyBytes, group: g, id: id, consumer: nil)
                srv.addDirty()
                _ = g.ack(id)
                deletedIDs.append(id)
                count -= 1
                continue
            }
            if minIdle != 0 && now - entry.deliveryTime < minIdle { continue }
            if consumer == nil { consumer = claimingConsumer(c, g, key: key, now: now) }
            transfer(&entry, id, to: consumer!)
            entry.deliveryTime = now
            if !justID { entry.deliveryCount += 1 }
            g.pel.update(id) { $0 = entry }
            if justID {
                replyStreamID(c, id)
            } else {
                s.forEachEntry(from: id, to: id) { eid, f in replyStreamEntry(c, eid, f); return false }
            }
            n += 1
            count -= 1
            propagateXClaim(c, key: keyBytes, group: g, id: id, consumer: consumer)
            srv.addDirty()
        }
        c.reply.setDeferredLength(mark, n)
        let next = cursor.flatMap { g.pel.firstKey(atOrAfter: $0) } ?? .zero
        // The cursor goes before the claimed entries.
        var bulk: [UInt8] = [UInt8(ascii: "$")]
        next.withText { t in
            bulk += decimalBytes(Int64(t.count)) + [13, 10]
            bulk += Array(t)
            bulk += [13, 10]
        }
        bulk.withUnsafeBytes { c.reply.out.insert($0, at: cursorMark) }
        c.reply.array(deletedIDs.count)
        for id in deletedIDs { replyStreamID(c, id) }
    }
}
