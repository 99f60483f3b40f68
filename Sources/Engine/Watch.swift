// WATCH bookkeeping: which clients watch which keys, so a change to a key
// marks its watchers' transactions as doomed (dirtyCAS).

struct WatchKey: Hashable {
    let db: Int
    let key: [UInt8]
}

extension Server {
    func watch(_ c: Client, _ key: [UInt8]) {
        let wk = WatchKey(db: c.dbIndex, key: key)
        if c.watchedKeys.contains(where: { $0.db == wk.db && $0.key == key }) { return }
        c.watchedKeys.append((wk.db, key))
        watchedKeys[wk, default: []].append(c)
    }

    public func unwatchAll(_ c: Client) {
        for (db, key) in c.watchedKeys {
            let wk = WatchKey(db: db, key: key)
            watchedKeys[wk]?.removeAll { $0 === c }
            if watchedKeys[wk]?.isEmpty == true { watchedKeys[wk] = nil }
        }
        c.watchedKeys.removeAll()
        c.dirtyCAS = false
    }

    func touchWatchedKey(_ db: Int, _ key: [UInt8]) {
        if let list = watchedKeys[WatchKey(db: db, key: key)] {
            for c in list { c.dirtyCAS = true }
        }
    }

    /// FLUSHDB/FLUSHALL/SWAPDB: every watcher of a key in `db` is touched
    /// (Redis touches watched keys that existed; a flush of an empty key also
    /// aborts there only if the key existed, which this approximates by existence).
    func touchAllWatchedKeys(in db: Int) {
        let d = databases[db]
        for (wk, list) in watchedKeys where wk.db == db {
            let existed = wk.key.withUnsafeBytes { d.rawLookup($0) != nil }
            if existed { for c in list { c.dirtyCAS = true } }
        }
    }

    /// Before EXEC: a watched key that expired since WATCH also aborts the transaction.
    func watchedKeysExpired(_ c: Client) -> Bool {
        for (db, key) in c.watchedKeys {
            let d = databases[db]
            if let e = key.withUnsafeBytes({ d.rawLookup($0) }), let t = e.expireAt, t <= now { return true }
        }
        return false
    }
}
