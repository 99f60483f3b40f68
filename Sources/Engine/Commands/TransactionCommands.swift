// MULTI / EXEC / DISCARD / WATCH / UNWATCH (Redis's multi.c).
//
// Queued commands keep copies of their arguments; EXEC replays them through
// the normal call path, so statistics and WATCH invalidation behave the same
// inside and outside a transaction.

import RESP

extension ShardEngine {
    static func transactionCommands() -> [Command] {
        let f: CommandFlags = [.noScript, .loading, .stale, .fast, .allowBusy]
        return [
            Command("multi", arity: 1, flags: f, group: .transactions, since: "1.2.0", handler: multiCommand),
            Command("exec", arity: 1, flags: [.noScript, .loading, .stale, .skipSlowlog], group: .transactions,
                    since: "1.2.0", handler: execCommand),
            Command("discard", arity: 1, flags: f, group: .transactions, since: "2.0.0", handler: discardCommand),
            Command("watch", arity: -2, flags: f, keys: (1, -1, 1), group: .transactions, since: "2.2.0",
                    handler: watchCommand),
            Command("unwatch", arity: 1, flags: f, group: .transactions, since: "2.2.0", handler: unwatchCommand),
        ]
    }

    static func multiCommand(_ c: Client) {
        if c.inMulti { c.error(static: "ERR MULTI calls can not be nested"); return }
        c.inMulti = true
        c.multiQueue = []
        c.multiError = false
        c.reply.ok()
    }

    static func discardTransaction(_ c: Client) {
        c.inMulti = false
        c.multiQueue = []
        c.multiError = false
        c.engine.unwatchAll(c)
    }

    static func discardCommand(_ c: Client) {
        if !c.inMulti { c.error(static: "ERR DISCARD without MULTI"); return }
        discardTransaction(c)
        c.reply.ok()
    }

    static func execCommand(_ c: Client) {
        if !c.inMulti { c.error(static: "ERR EXEC without MULTI"); return }
        let s = c.engine
        if c.multiError {
            discardTransaction(c)
            c.error(static: "EXECABORT Transaction discarded because of previous errors.")
            return
        }
        if c.dirtyCAS || s.watchedKeysExpired(c) {
            discardTransaction(c)
            c.reply.nullArray()
            return
        }
        let queue = c.multiQueue
        c.inMulti = false
        c.multiQueue = []
        // Unwatch before running: the transaction's own writes must not flag it.
        s.unwatchAll(c)
        let savedArgs = c.args
        // Blocking commands inside a transaction time out at once (Redis's CLIENT_DENY_BLOCKING).
        c.denyBlocking = true
        defer { c.denyBlocking = false }
        c.reply.array(queue.count)
        for q in queue {
            q.bytes.withUnsafeBytes { raw in
                q.spans.withUnsafeBufferPointer { spans in
                    // An empty argument buffer still needs a valid base pointer.
                    let base = raw.baseAddress ?? UnsafeRawPointer(bitPattern: 8)!
                    c.args = Args(base: base, spans: spans)
                    s.call(c, q.command)
                }
            }
        }
        c.args = savedArgs
    }

    static func watchCommand(_ c: Client) {
        if c.inMulti { c.error(static: "ERR WATCH inside MULTI is not allowed"); return }
        let s = c.engine
        for i in 1..<c.args.count { s.watch(c, c.args.bytes(i)) }
        c.reply.ok()
    }

    static func unwatchCommand(_ c: Client) {
        c.engine.unwatchAll(c)
        c.reply.ok()
    }
}
