// WATCH bookkeeping: which clients watch which keys, so a change to a key
// marks its watchers' transactions as doomed (dirtyCAS).

struct WatchKey: Hashable {
    let db: Int
    let key: [UInt8]
}

/// One key a client watches. `expiredAtWatch`: the key was already logically
/// expired when watched, so its (lazy) deletion is not a change, as in Redis.
struct WatchedKey {
    let db: Int
    let key: [UInt8]
    var expiredAtWatch: Bool
}

extension ShardEngine {
    func watch(_ c: Client, _ key: [UInt8]) {
        let wk = WatchKey(db: c.dbIndex, key: key)
        if c.watchedKeys.contains(where: { $0.db == wk.db && $0.key == key }) { return }
        let expired = key.withUnsafeBytes { k -> Bool in
            guard let e = c.db.rawLookup(k), let t = e.expireAt else { return false }
            return t <= now
        }
        c.watchedKeys.append(WatchedKey(db: wk.db, key: key, expiredAtWatch: expired))
        watchedKeys[wk, default: []].append(c)
    }

    public func unwatchAll(_ c: Client) {
        for w in c.watchedKeys {
            let wk = WatchKey(db: w.db, key: w.key)
            watchedKeys[wk]?.removeAll { $0 === c }
            if watchedKeys[wk]?.isEmpty == true { watchedKeys[wk] = nil }
        }
        c.watchedKeys.removeAll()
        c.dirtyCAS = false
    }

    func touchWatchedKey(_ db: Int, _ key: [UInt8]) {
        guard let list = watchedKeys[WatchKey(db: db, key: key)] else { return }
        let gone = key.withUnsafeBytes { databases[db].rawLookup($0) == nil }
        for c in list {
            if let i = c.watchedKeys.firstIndex(where: { $0.db == db && $0.key == key }),
               c.watchedKeys[i].expiredAtWatch {
                // Deleting a key that was already expired when watched changes nothing.
                if gone { c.watchedKeys[i].expiredAtWatch = false; continue }
            }
            c.dirtyCAS = true
        }
    }

    /// FLUSHDB/FLUSHALL (`replacedWith` nil) and SWAPDB (called for both
    /// directions, before swapping): Redis's touchAllWatchedKeysInDb. A watched
    /// key of `emptied` is a change if it exists in `emptied` or in the
    /// database taking its place, except that a key already stale when watched
    /// stays unchanged while it is gone or still stale, and a missing key
    /// replaced by a stale one becomes "stale when watched".
    func touchAllWatchedKeys(in emptied: Int, replacedWith: Int? = nil) {
        let e = databases[emptied]
        let r = replacedWith.map { databases[$0] }
        for (wk, list) in watchedKeys where wk.db == emptied {
            let (existsInEmptied, inReplacement, staleInReplacement) = wk.key.withUnsafeBytes { k -> (Bool, Bool, Bool) in
                let re = r?.rawLookup(k)
                let stale = re.map { x in x.expireAt.map { $0 <= now } ?? false } ?? false
                return (e.rawLookup(k) != nil, re != nil, stale)
            }
            if !existsInEmptied && !inReplacement { continue }
            for c in list {
                guard let i = c.watchedKeys.firstIndex(where: { $0.db == emptied && $0.key == wk.key }) else { continue }
                if c.watchedKeys[i].expiredAtWatch {
                    if !inReplacement { c.watchedKeys[i].expiredAtWatch = false; continue }
                    if staleInReplacement { continue }
                } else if !existsInEmptied && staleInReplacement {
                    c.watchedKeys[i].expiredAtWatch = true
                    continue
                }
                c.dirtyCAS = true
            }
        }
    }

    /// SWAPDB a b, before the swap.
    func touchWatchedKeysForSwap(_ a: Int, _ b: Int) {
        touchAllWatchedKeys(in: a, replacedWith: b)
        touchAllWatchedKeys(in: b, replacedWith: a)
    }

    /// Before EXEC: a watched key that expired since WATCH also aborts the transaction.
    func watchedKeysExpired(_ c: Client) -> Bool {
        for w in c.watchedKeys where !w.expiredAtWatch {
            let d = databases[w.db]
            if let e = w.key.withUnsafeBytes({ d.rawLookup($0) }), let t = e.expireAt, t <= now { return true }
        }
        return false
    }
}
