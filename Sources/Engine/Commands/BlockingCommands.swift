// Blocking list and sorted-set commands: BLPOP BRPOP BLMOVE BRPOPLPUSH
// BLMPOP BZPOPMIN BZPOPMAX BZMPOP. Each serves like its non-blocking form
// when it can (same helpers), otherwise blocks through Blocking.swift; a
// served pop is propagated as the non-blocking command, as Redis 7.0 does.

import RESP

extension ShardEngine {
    static func blockingCommands() -> [Command] {
        let f: CommandFlags = [.write, .noScript, .blocking]
        return [
            Command("blpop", arity: -3, flags: f, keys: (1, -2, 1), group: .list, since: "2.0.0",
                    handler: { blockingPop($0, front: true) }),
            Command("brpop", arity: -3, flags: f, keys: (1, -2, 1), group: .list, since: "2.0.0",
                    handler: { blockingPop($0, front: false) }),
            Command("brpoplpush", arity: 4, flags: [.write, .denyOOM, .noScript, .blocking], keys: (1, 2, 1),
                    group: .list, since: "2.2.0", handler: brpoplpushCommand),
            Command("blmove", arity: 6, flags: [.write, .denyOOM, .noScript, .blocking], keys: (1, 2, 1),
                    group: .list, since: "6.2.0", handler: blmoveCommand),
            Command("blmpop", arity: -5, flags: [.write, .blocking], keys: (0, 0, 0), group: .list, since: "7.0.0",
                    handler: blmpopCommand),
            Command("bzpopmin", arity: -3, flags: f.union(.fast), keys: (1, -2, 1), group: .sortedSet, since: "5.0.0",
                    handler: { bzpop($0, max: false) }),
            Command("bzpopmax", arity: -3, flags: f.union(.fast), keys: (1, -2, 1), group: .sortedSet, since: "5.0.0",
                    handler: { bzpop($0, max: true) }),
            Command("bzmpop", arity: -5, flags: [.write, .blocking], keys: (0, 0, 0), group: .sortedSet, since: "7.0.0",
                    handler: bzmpopCommand),
        ]
    }

    static let servesList: (Entry?) -> Bool = { $0?.type == .list }
    static let servesZSet: (Entry?) -> Bool = { $0?.type == .zset }

    static func keyArgs(_ c: Client, _ r: Range<Int>) -> [[UInt8]] { r.map { c.args.bytes($0) } }

    // MARK: lists

    /// BLPOP/BRPOP key [key ...] timeout
    static func blockingPop(_ c: Client, front: Bool) {
        let a = c.args
        let last = a.count - 1
        guard let deadline = blockDeadline(c, last) else { return }
        for i in 1..<last {
            let key = a[i]
            switch lookupList(c, key, write: true) {
            case .wrongType: c.wrongType(); return
            case .missing: continue
            case .found(let list):
                c.reply.array(2)
                c.reply.bulk(key)
                list.pop(front: front) { c.reply.bulk($0) }
                listElementsRemoved(c, key, list, front: front, 1)
                c.engine.rewritePropagation(c, [Array((front ? "LPOP" : "RPOP").utf8), a.bytes(i)])
                return
            }
        }
        c.engine.blockForKeys(c, keys: keyArgs(c, 1..<last), deadline: deadline, timeoutReply: .nullArray,
                              shouldServe: servesList)
    }

    /// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]
    static func blmpopCommand(_ c: Client) {
        guard let (first, n, front, count) = parseMpopArgs(c, numkeysIndex: 2) else { return }
        guard let deadline = blockDeadline(c, 1) else { return }
        switch mpopFromLists(c, first..<(first + n), front: front, count: count) {
        case .failed: return
        case .served(let i, let k):
            c.engine.rewritePropagation(c, [Array((front ? "LPOP" : "RPOP").utf8), c.args.bytes(i), Array(String(k).utf8)])
        case .empty:
            c.engine.blockForKeys(c, keys: keyArgs(c, first..<(first + n)), deadline: deadline,
                                  timeoutReply: .nullArray, shouldServe: servesList)
        }
    }

    static func blmoveCommand(_ c: Client) {
        guard let from = listSide(c, 3), let to = listSide(c, 4) else { return }
        guard let deadline = blockDeadline(c, 5) else { return }
        blmoveGeneric(c, fromFront: from, toFront: to, deadline: deadline)
    }

    static func brpoplpushCommand(_ c: Client) {
        guard let deadline = blockDeadline(c, 3) else { return }
        blmoveGeneric(c, fromFront: false, toFront: true, deadline: deadline)
    }

    /// BLMOVE / BRPOPLPUSH: LMOVE when the source has elements, otherwise block on it.
    static func blmoveGeneric(_ c: Client, fromFront: Bool, toFront: Bool, deadline: Int64) {
        let s = c.engine
        switch lookupList(c, c.args[1], write: true) {
        case .wrongType: c.wrongType()
        case .found:
            let dirtyBefore = s.dirty
            lmoveGeneric(c, fromFront: fromFront, toFront: toFront)
            if s.dirty != dirtyBefore && s.isPropagating {
                let src = c.args.bytes(1), dst = c.args.bytes(2)
                if c.args.count == 4 {
                    s.rewritePropagation(c, [Array("RPOPLPUSH".utf8), src, dst])
                } else {
                    s.rewritePropagation(c, [Array("LMOVE".utf8), src, dst,
                                             Array((fromFront ? "LEFT" : "RIGHT").utf8),
                                             Array((toFront ? "LEFT" : "RIGHT").utf8)])
                }
            }
        case .missing:
            s.blockForKeys(c, keys: [c.args.bytes(1)], deadline: deadline, timeoutReply: .null, shouldServe: servesList)
        }
    }

    // MARK: sorted sets

    /// BZPOPMIN/BZPOPMAX key [key ...] timeout
    static func bzpop(_ c: Client, max: Bool) {
        let last = c.args.count - 1
        guard let deadline = blockDeadline(c, last) else { return }
        let served = genericZpop(c, keys: 1..<last, max: max, emitKey: true, count: nil, nested: false,
                                 nilWhenEmpty: true) { c in
            c.engine.blockForKeys(c, keys: keyArgs(c, 1..<last), deadline: deadline, timeoutReply: .nullArray,
                                  shouldServe: servesZSet)
        }
        if let (i, _) = served {
            c.engine.rewritePropagation(c, [Array((max ? "ZPOPMAX" : "ZPOPMIN").utf8), c.args.bytes(i)])
        }
    }

    /// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
    static func bzmpopCommand(_ c: Client) {
        guard let (keys, max, count) = parseZmpopArgs(c, numkeysIndex: 2) else { return }
        guard let deadline = blockDeadline(c, 1) else { return }
        let served = genericZpop(c, keys: keys, max: max, emitKey: true, count: count, nested: true,
                                 nilWhenEmpty: true) { c in
            c.engine.blockForKeys(c, keys: keyArgs(c, keys), deadline: deadline, timeoutReply: .nullArray,
                                  shouldServe: servesZSet)
        }
        if let (i, n) = served {
            c.engine.rewritePropagation(c, [Array((max ? "ZPOPMAX" : "ZPOPMIN").utf8), c.args.bytes(i),
                                            Array(String(n).utf8)])
        }
    }
}
