// XINFO STREAM [FULL [COUNT n]] | GROUPS | CONSUMERS | HELP, with Redis
// 7.0's fields (entries-added, max-deleted-entry-id, recorded-first-entry-id,
// entries-read, lag; consumers' seen-time).

import RESP

extension ShardEngine {
    static func xinfoCommand() -> Command {
        let g = CommandGroup.stream
        let subs = [
            Command("consumers", arity: 4, flags: [.readonly], keys: (2, 2, 1), group: g, since: "5.0.0",
                    handler: xinfoConsumersCommand),
            Command("groups", arity: 3, flags: [.readonly], keys: (2, 2, 1), group: g, since: "5.0.0",
                    handler: xinfoGroupsCommand),
            Command("stream", arity: -3, flags: [.readonly], keys: (2, 2, 1), group: g, since: "5.0.0",
                    handler: xinfoStreamCommand),
            Command("help", arity: 2, flags: [.loading, .stale], group: g, since: "5.0.0", handler: { c in
                replyHelp(c, [
                    "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                    "CONSUMERS <key> <groupname>",
                    "    Show consumers of <groupname>.",
                    "GROUPS <key>",
                    "    Show the stream consumer groups.",
                    "STREAM <key> [FULL [COUNT <count>]",
                    "    Show information about the stream.",
                    "HELP",
                    "    Prints this help.",
                ])
            }),
        ]
        return Command("xinfo", arity: -2, group: g, since: "5.0.0", handler: { _ in }).withSubcommands(subs)
    }

    /// The stream for an XINFO subcommand; replies "no such key" / WRONGTYPE otherwise.
    static func xinfoStream(_ c: Client) -> StreamValue? {
        switch lookupStream(c, c.args[2], write: false) {
        case .missing: c.error(static: "ERR no such key"); return nil
        case .wrongType: c.wrongType(); return nil
        case .found(let s): return s
        }
    }

    @inline(__always) static func field(_ c: Client, _ name: StaticString) {
        name.withUTF8Buffer { c.reply.bulk(UnsafeRawBufferPointer($0)) }
    }

    static func xinfoConsumersCommand(_ c: Client) {
        guard let s = xinfoStream(c) else { return }
        guard let g = s.group(c.args[3]) else { noGroupForKey(c, group: 3, key: 2); return }
        let now = c.engine.now
        c.reply.array(g.consumers.count)
        for cons in g.consumers {
            c.reply.map(3)
            field(c, "name"); c.reply.bulk(cons.name)
            field(c, "pending"); c.reply.integer(cons.pel.count)
            field(c, "idle"); c.reply.integer(max(0, now - cons.seenTime))
        }
    }

    static func replyEntriesRead(_ c: Client, _ g: StreamGroup) {
        if g.entriesRead != StreamGroup.invalidEntriesRead { c.reply.integer(g.entriesRead) } else { c.reply.null() }
    }

    static func replyLag(_ c: Client, _ s: StreamValue, _ g: StreamGroup) {
        if let l = s.lag(of: g) { c.reply.integer(l) } else { c.reply.null() }
    }

    static func xinfoGroupsCommand(_ c: Client) {
        guard let s = xinfoStream(c) else { return }
        c.reply.array(s.groups.count)
        for g in s.groups {
            c.reply.map(6)
            field(c, "name"); c.reply.bulk(g.name)
            field(c, "consumers"); c.reply.integer(g.consumers.count)
            field(c, "pending"); c.reply.integer(g.pel.count)
            field(c, "last-delivered-id"); replyStreamID(c, g.lastID)
            field(c, "entries-read"); replyEntriesRead(c, g)
            field(c, "lag"); replyLag(c, s, g)
        }
    }

    static func xinfoStreamCommand(_ c: Client) {
        let a = c.args
        var full = false
        var count: Int64 = 10
        let optc = a.count - 3
        if optc > 0 {
            if optc != 1 && optc != 3 { subcommandSyntaxError(c); return }
            if !a.equals(3, "full") { subcommandSyntaxError(c); return }
            full = true
            if optc == 3 {
                if !a.equals(4, "count") { subcommandSyntaxError(c); return }
                guard let v = c.intArg(5) else { return }
                count = v < 0 ? 10 : v
            }
        }
        guard let s = xinfoStream(c) else { return }
        let now = c.engine.now
        _ = now
        c.reply.map(full ? 9 : 10)
        field(c, "length"); c.reply.integer(s.length)
        field(c, "radix-tree-keys"); c.reply.integer(s.nodes.count)
        field(c, "radix-tree-nodes"); c.reply.integer(s.radixTreeNodes)
        field(c, "last-generated-id"); replyStreamID(c, s.lastID)
        field(c, "max-deleted-entry-id"); replyStreamID(c, s.maxDeletedID)
        field(c, "entries-added"); c.reply.integer(Int64(bitPattern: s.entriesAdded))
        field(c, "recorded-first-entry-id"); replyStreamID(c, s.firstID)
        if !full {
            field(c, "groups"); c.reply.integer(s.groups.count)
            field(c, "first-entry")
            var emitted = false
            s.forEachEntry(from: .zero, to: .max) { id, f in replyStreamEntry(c, id, f); emitted = true; return false }
            if !emitted { c.reply.null() }
            field(c, "last-entry")
            emitted = false
            s.forEachEntry(from: .zero, to: .max, reverse: true) { id, f in replyStreamEntry(c, id, f); emitted = true; return false }
            if !emitted { c.reply.null() }
            return
        }
        let limit = Int(count)
        field(c, "entries")
        replyStreamRange(c, s, .zero, .max, count: limit, rev: false)
        field(c, "groups")
        c.reply.array(s.groups.count)
        for g in s.groups {
            c.reply.map(7)
            field(c, "name"); c.reply.bulk(g.name)
            field(c, "last-delivered-id"); replyStreamID(c, g.lastID)
            field(c, "entries-read"); replyEntriesRead(c, g)
            field(c, "lag"); replyLag(c, s, g)
            field(c, "pel-count"); c.reply.integer(g.pel.count)
            field(c, "pending")
            var rows: [(StreamID, PendingEntry)] = []
            g.pel.forEach { id, n in
                if limit != 0 && rows.count >= limit { return false }
                rows.append((id, n))
                return true
            }
            c.reply.array(rows.count)
            for (id, n) in rows {
                c.reply.array(4)
                replyStreamID(c, id)
                c.reply.bulk(n.consumer?.name ?? [])
                c.reply.integer(n.deliveryTime)
                c.reply.integer(n.deliveryCount)
            }
            field(c, "consumers")
            c.reply.array(g.consumers.count)
            for cons in g.consumers {
                c.reply.map(4)
                field(c, "name"); c.reply.bulk(cons.name)
                field(c, "seen-time"); c.reply.integer(cons.seenTime)
                field(c, "pel-count"); c.reply.integer(cons.pel.count)
                field(c, "pending")
                var ids: [StreamID] = []
                cons.pel.forEach { id, _ in
                    if limit != 0 && ids.count >= limit { return false }
                    ids.append(id)
                    return true
                }
                c.reply.array(ids.count)
                for id in ids {
                    let n = g.pel.find(id)
                    c.reply.array(3)
                    replyStreamID(c, id)
                    c.reply.integer(n?.deliveryTime ?? 0)
                    c.reply.integer(n?.deliveryCount ?? 0)
                }
            }
        }
    }
}

extension StreamValue {
    /// What Redis's radix tree of these node keys would count as nodes
    /// (rax->numnodes): the root, every child of a branching point, and every
    /// key end, over the 16-byte big-endian master IDs.
    var radixTreeNodes: Int {
        if nodes.isEmpty { return 1 }
        let keys = nodes.map { $0.master.bigEndianBytes }
        var positions = Set<[UInt8]>()
        for k in keys { positions.insert(k) }
        for i in 1..<keys.count {
            var l = 0
            while l < 16 && keys[i - 1][l] == keys[i][l] { l += 1 }
            if l > 0 { positions.insert(Array(keys[i][0..<l])) }
            if l < 16 {
                positions.insert(Array(keys[i - 1][0...l]))
                positions.insert(Array(keys[i][0...l]))
            }
        }
        return 1 + positions.count
    }
}
