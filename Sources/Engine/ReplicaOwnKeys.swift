// A writable replica (replica-read-only no) that sets a TTL on a key of its
// own must expire it itself: its master's stream never mentions that key,
// and a replica runs no active expiry. Redis keeps such keys in
// slaveKeysWithExpire and expires them from the cron; so does this.

struct ReplicaOwnKey: Hashable {
    let db: Int
    let key: [UInt8]
}

extension ShardEngine {
    /// After a write by a client other than the master link on a replica:
    /// the command's keys that now have a TTL are remembered.
    func rememberReplicaOwnExpires(_ c: Client, _ cmd: Command) {
        let argv = (0..<c.args.count).map { c.args.bytes($0) }
        for k in ShardEngine.commandKeys(cmd, argv) where k.pos < argv.count {
            let key = argv[k.pos]
            if let e = key.withUnsafeBytes({ c.db.rawLookup($0) }), e.hasExpire {
                replicaOwnExpires.insert(ReplicaOwnKey(db: c.dbIndex, key: key))
            }
        }
    }

    /// From the cron on a replica: deletes the remembered keys whose TTL
    /// passed (not propagated: they are this replica's own), forgets the ones
    /// gone or persisted.
    func expireReplicaOwnKeys() {
        guard !replicaOwnExpires.isEmpty else { return }
        for k in replicaOwnExpires {
            guard let db = database(k.db) else { replicaOwnExpires.remove(k); continue }
            let done: Bool = k.key.withUnsafeBytes { key in
                let slot = db.find(key)
                if slot < 0 { return true }
                let e = db.entry(atSlot: slot)
                guard let at = e.expireAt else { return true }
                guard at <= now else { return false }
                disposeEntry(db.remove(slot: slot), lazy: config.lazyfreeLazyExpire)
                stats.expiredKeys += 1
                notifyKeyspaceEvent(.expired, "expired", key, db.index)
                signalModifiedKey(db, key)
                return true
            }
            if done { replicaOwnExpires.remove(k) }
        }
    }
}
