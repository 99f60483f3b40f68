// The keyspace as commands see it (Redis's db.c): lookups that expire keys
// lazily and keep hit/miss counts and access times, the writes every type's
// commands go through, the signals a change sends (WATCH, blocked clients,
// keyspace events), and whole-database operations.

import RESP

extension ShardEngine {
    /// Looks `key` up for reading: deletes it if expired, counts hits/misses, touches LRU/LFU
    /// (unless `touch` is false, Redis's LOOKUP_NOTOUCH); a miss publishes
    /// "keymiss" unless `notify` is false (LOOKUP_NONOTIFY).
    @inline(__always)
    public func lookupRead(_ c: Client, _ key: UnsafeRawBufferPointer, touch: Bool = true, notify: Bool = true) -> Entry? {
        let db = c.db
        let slot = db.find(key)
        if slot < 0 {
            stats.keyspaceMisses += 1
            if notify { notifyKeyspaceEvent(.keyMiss, "keymiss", key, db.index) }
            return nil
        }
        let e = db.entry(atSlot: slot)
        if e.hasExpire && e.expireAt! <= now && expiredOnLookup(db, slot: slot) {
            stats.keyspaceMisses += 1
            if notify { notifyKeyspaceEvent(.keyMiss, "keymiss", key, db.index) }
            return nil
        }
        stats.keyspaceHits += 1
        if touch && !c.noTouch { touchEntry(e) }
        return e
    }

    /// Looks `key` up for writing: deletes it if expired; no hit/miss accounting.
    /// Touches LRU/LFU like Redis's lookupKeyWrite unless `touch` is false;
    /// `writing` false for callers that only ask (see `expiredOnLookup`).
    @inline(__always)
    public func lookupWrite(_ db: Database, _ key: UnsafeRawBufferPointer, touch: Bool = true,
                            writing: Bool = true) -> Entry? {
        let slot = db.find(key)
        if slot < 0 { return nil }
        let e = db.entry(atSlot: slot)
        if e.hasExpire && e.expireAt! <= now && expiredOnLookup(db, slot: slot, writing: writing) { return nil }
        if touch { touchEntry(e) }
        return e
    }

    /// True if `key` exists and is not expired (no side effects on stats or access time).
    public func exists(_ db: Database, _ key: UnsafeRawBufferPointer) -> Bool {
        lookupWrite(db, key, touch: false, writing: false) != nil
    }

    /// A lookup met the expired key at `slot`: true if it is to be treated as
    /// absent (Redis's expireIfNeeded). A master deletes it (unless clients
    /// are paused); a replica leaves the deletion to its master's DEL and only
    /// hides the key, except from the master's own commands, which see the
    /// keyspace as the master has it. A write on a writable replica deletes
    /// the expired key it is about to recreate (Redis's EXPIRE_FORCE_DELETE_EXPIRED).
    @inline(never)
    func expiredOnLookup(_ db: Database, slot: Int, writing: Bool = false) -> Bool {
        if replicationGate.isReplica {
            if replicationGate.applyingMasterStream { return false }
            // Only a writable replica's own clients write (and some reads use
            // this lookup): a read-only replica never deletes here.
            if writing && !config.replicaReadOnly { expire(db, slot: slot) }
            return true
        }
        if admin.pauseEndMs == 0 || !admin.isPaused { expire(db, slot: slot) }
        return true
    }

    /// Removes an expired key, as Redis's deleteExpiredKeyAndPropagate.
    func expire(_ db: Database, slot: Int) {
        let e = db.remove(slot: slot)
        let key = e.keyBytes
        disposeEntry(e, lazy: config.lazyfreeLazyExpire)
        stats.expiredKeys += 1
        if writeStream.isActive { propagateDeletion(db: db.index, key: Array(key), lazy: config.lazyfreeLazyExpire) }
        notifyKeyspaceEvent(.expired, "expired", key, db.index)
        signalModifiedKey(db, key)
    }

    // MARK: writes

    /// Stores a string value, replacing whatever `key` held. The expire is
    /// cleared unless `keepTTL`, or set to `expireAt` when given.
    public func setString(_ db: Database, _ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer,
                          keepTTL: Bool = false, expireAt: Int64? = nil, encoding: StringEncoding? = nil) {
        let enc = encoding ?? stringEncoding(for: value)
        let slot = db.find(key)
        if slot >= 0 {
            let old = db.entry(atSlot: slot)
            let newExpire = expireAt ?? (keepTTL ? old.expireAt : nil)
            if old.typeRaw == ValueType.string.rawValue && old.valueCount == value.count
                && old.hasExpire == (newExpire != nil) {
                // Same size, same expire layout: overwrite in place.
                if value.count > 0 { old.valuePointer.copyMemory(from: value.baseAddress!, byteCount: value.count) }
                old.encodingRaw = enc.rawValue
                if let t = newExpire { old.storeExpireAt(t) }
                old.lru = accessStamp
                return
            }
            db.replace(slot: slot, with: Entry.makeString(key: key, value: value, encoding: enc,
                                                          lru: accessStamp, expireAt: newExpire))
        } else {
            db.insertNew(Entry.makeString(key: key, value: value, encoding: enc, lru: accessStamp, expireAt: expireAt))
            notifyKeyspaceEvent(.new, "new", key, db.index)
        }
    }

    public func setString(_ db: Database, _ key: UnsafeRawBufferPointer, _ value: [UInt8],
                          keepTTL: Bool = false, expireAt: Int64? = nil, encoding: StringEncoding? = nil) {
        value.withUnsafeBytes { setString(db, key, $0, keepTTL: keepTTL, expireAt: expireAt, encoding: encoding) }
    }

    /// Stores a new object value under `key` (replacing any value; expire cleared unless kept).
    public func setObject(_ db: Database, _ key: UnsafeRawBufferPointer, _ object: AnyObject, type: ValueType,
                          keepTTL: Bool = false, expireAt: Int64? = nil) {
        let slot = db.find(key)
        if slot >= 0 {
            let old = db.entry(atSlot: slot)
            let t = expireAt ?? (keepTTL ? old.expireAt : nil)
            db.replace(slot: slot, with: Entry.makeObject(key: key, object: object, type: type, lru: accessStamp, expireAt: t))
        } else {
            db.insertNew(Entry.makeObject(key: key, object: object, type: type, lru: accessStamp, expireAt: expireAt))
            notifyKeyspaceEvent(.new, "new", key, db.index)
        }
    }

    /// Adds a string read from an RDB file or a master's payload: no
    /// notifications, one hash. Nil (nothing added) if `key` is present.
    public func addLoadedString(_ db: Database, _ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer,
                                expireAt: Int64?) -> Entry? {
        let e = Entry.makeString(key: key, value: value, encoding: stringEncoding(for: value),
                                 lru: accessStamp, expireAt: expireAt)
        if db.insertIfAbsent(e) { return e }
        e.destroy()
        return nil
    }

    /// Adds an aggregate read from an RDB file, as `addLoadedString`.
    public func addLoadedObject(_ db: Database, _ key: UnsafeRawBufferPointer, _ object: AnyObject, type: ValueType,
                                expireAt: Int64?) -> Entry? {
        let e = Entry.makeObject(key: key, object: object, type: type, lru: accessStamp, expireAt: expireAt)
        if db.insertIfAbsent(e) { return e }
        e.destroy()
        return nil
    }

    /// Deletes `key` if present (expired keys count as absent). True if a live key was deleted.
    /// The value is freed in the background if `lazy` (default: lazyfree-lazy-server-del) and big.
    @discardableResult
    public func deleteKey(_ db: Database, _ key: UnsafeRawBufferPointer, lazy: Bool? = nil) -> Bool {
        let slot = db.find(key)
        if slot < 0 { return false }
        let e = db.entry(atSlot: slot)
        if e.hasExpire && e.expireAt! <= now && expiredOnLookup(db, slot: slot) { return false }
        disposeEntry(db.remove(slot: slot), lazy: lazy ?? config.lazyfreeLazyServerDel)
        return true
    }

    /// Sets (or with nil, removes) the expire of an existing key. False if the key is absent.
    @discardableResult
    public func setExpire(_ db: Database, _ key: UnsafeRawBufferPointer, _ at: Int64?) -> Bool {
        let slot = db.find(key)
        if slot < 0 { return false }
        db.setExpire(slot: slot, at)
        return true
    }

    /// Called after every change of `key` (Redis's signalModifiedKey): invalidates WATCH.
    @inline(__always)
    public func signalModifiedKey(_ db: Database, _ key: UnsafeRawBufferPointer) {
        if !watchedKeys.isEmpty { touchWatchedKey(db.index, Array(key)) }
        if blocking.keyCount != 0 { signalKeyAsReady(db.index, Array(key)) }
    }

    public func signalModifiedKey(_ db: Database, _ key: [UInt8]) {
        if !watchedKeys.isEmpty { touchWatchedKey(db.index, key) }
        if blocking.keyCount != 0 { signalKeyAsReady(db.index, key) }
    }

    /// Counts a change for persistence ("changes since last save").
    @inline(__always) public func addDirty(_ n: Int = 1) { dirty += Int64(n) }

    public enum KeyspaceEventClass { case generic, string, list, set, hash, zset, expired, evicted, stream, keyMiss, new }

    /// Keyspace notifications hook (Redis's notifyKeyspaceEvent; Notify.swift
    /// publishes). One bit test when the class is off.
    @inline(__always)
    public func notifyKeyspaceEvent(_ cls: KeyspaceEventClass, _ event: StaticString, _ key: [UInt8], _ db: Int) {
        if (config.notifyFlags | moduleEventMask) & cls.bit == 0 { return }
        key.withUnsafeBytes { notifyKeyspaceEventSlow(cls.bit, event, $0, db) }
    }

    @inline(__always)
    public func notifyKeyspaceEvent(_ cls: KeyspaceEventClass, _ event: StaticString, _ key: UnsafeRawBufferPointer, _ db: Int) {
        if (config.notifyFlags | moduleEventMask) & cls.bit == 0 { return }
        notifyKeyspaceEventSlow(cls.bit, event, key, db)
    }

    // MARK: databases

    public func database(_ i: Int) -> Database? { i >= 0 && i < databases.count ? databases[i] : nil }

    /// Empties every database; with `async` the content is freed on the lazy-free thread.
    public func flushAll(async: Bool = false) {
        for db in databases {
            touchAllWatchedKeys(in: db.index)
            if async { flushAsync(db) } else { db.removeAll() }
        }
        signalBlockedKeys()
    }

    public func flush(_ db: Database, async: Bool = false) {
        touchAllWatchedKeys(in: db.index)
        if async { flushAsync(db) } else { db.removeAll() }
        signalBlockedKeys(inDatabases: db.index)
    }

    public func swapDatabases(_ a: Int, _ b: Int) {
        touchWatchedKeysForSwap(a, b)
        databases[a].swapContents(with: databases[b])
        signalBlockedKeys(inDatabases: a, b)
    }

}
