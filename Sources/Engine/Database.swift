// One logical database (SELECT 0..15): an open-addressing hash table of
// entries (a SlotTable, see SlotTable.swift, for probing, resizing and SCAN's
// guarantees), plus a dense index of the keys that have an expire so the
// active expiry cycle can sample them in O(1).
//
// Why not Dictionary: it needs a temporary key allocation for each lookup and
// two allocations per entry; here a lookup hashes the bytes straight from the
// query buffer and an entry is one allocation (see Entry.swift).

import Glibc
import CShims

public final class Database {
    public let index: Int
    private var table: SlotTable
    private let seed: UInt64

    /// Entries that have an expire, in no particular order.
    private(set) var expiring: [UnsafeMutableRawPointer] = []
    public var expiresCount: Int { expiring.count }
    /// Running average TTL (ms) of sampled keys, as Redis's `avg_ttl`.
    public var avgTTL: Int64 = 0
    /// Where the active expiry cycle stopped (position in `expiring`).
    var expireCursor = 0

    static let minCapacity = 16

    init(index: Int, seed: UInt64) {
        self.index = index
        self.seed = seed
        table = SlotTable(capacity: Database.minCapacity)
    }

    deinit {
        removeAll()
        table.deallocate()
    }

    public var count: Int { table.count }
    var capacity: Int { table.capacity }

    @inline(__always) func hash(_ key: UnsafeRawBufferPointer) -> UInt64 { Database.hash(key, seed) }

    @inline(__always) static func hash(_ key: UnsafeRawBufferPointer, _ seed: UInt64) -> UInt64 {
        ts_hash_bytes(key.baseAddress, key.count, seed)
    }

    // MARK: lookup

    /// Slot index of `key`, or -1.
    @inline(__always)
    func find(_ key: UnsafeRawBufferPointer) -> Int {
        table.find(hash: hash(key)) { Entry($0).keyEquals(key) }
    }

    /// The entry for `key`, without expiry checks.
    @inline(__always)
    public func rawLookup(_ key: UnsafeRawBufferPointer) -> Entry? {
        let i = find(key)
        return i < 0 ? nil : Entry(table.element(at: i))
    }

    @inline(__always) func entry(atSlot i: Int) -> Entry { Entry(table.element(at: i)) }

    // MARK: insert / replace / delete

    /// Inserts an entry whose key is known to be absent.
    func insertNew(_ e: Entry) {
        // The hashOf closures capture the seed, not `self`: no retain per insert.
        let seed = self.seed
        table.insertNew(e.ptr, hash: hash(e.key), minCapacity: Database.minCapacity) { Database.hash(Entry($0).key, seed) }
        if e.hasExpire { addToExpiring(e) }
    }

    /// Inserts `e` unless its key is present (loading a dataset: one hash per
    /// key). False, and nothing inserted, if the key exists.
    func insertIfAbsent(_ e: Entry) -> Bool {
        let key = e.key
        let h = hash(key)
        if table.find(hash: h, { Entry($0).keyEquals(key) }) >= 0 { return false }
        let seed = self.seed
        table.insertNew(e.ptr, hash: h, minCapacity: Database.minCapacity) { Database.hash(Entry($0).key, seed) }
        if e.hasExpire { addToExpiring(e) }
        return true
    }

    /// Makes room for `n` more entries at once (an RDB's RESIZEDB hint), so
    /// loading does not grow and rehash the table step by step.
    public func reserve(_ n: Int) {
        guard n > 0, SlotTable.capacity(for: count + n, minimum: Database.minCapacity) > capacity else { return }
        let seed = self.seed
        table.resize(for: count + n, minCapacity: Database.minCapacity) { Database.hash(Entry($0).key, seed) }
    }

    /// Replaces the entry at slot `i` with `e` (same key), freeing the old one.
    func replace(slot i: Int, with e: Entry) {
        let old = Entry(table.element(at: i))
        if old.hasExpire { removeFromExpiring(old) }
        table.replace(slot: i, with: e.ptr)
        if e.hasExpire { addToExpiring(e) }
        if let dispose = disposeReplaced { dispose(old) } else { old.destroy() }
    }

    /// Frees the entries `replace` drops, when set (lazyfree-lazy-server-del).
    var disposeReplaced: ((Entry) -> Void)? = nil

    /// Points slot `i` at a reallocated copy of its entry (same key, same expire state).
    func moved(slot i: Int, to e: Entry) {
        table.replace(slot: i, with: e.ptr)
        if e.hasExpire { expiring[e.expireIndex] = e.ptr }
    }

    /// Unlinks slot `i` and returns its entry (the caller frees it).
    @discardableResult
    func remove(slot i: Int) -> Entry {
        let e = Entry(table.element(at: i))
        if e.hasExpire { removeFromExpiring(e) }
        let seed = self.seed
        table.remove(slot: i, minCapacity: Database.minCapacity) { Database.hash(Entry($0).key, seed) }
        return e
    }

    /// Deletes `key`; true if it existed.
    @discardableResult
    public func delete(_ key: UnsafeRawBufferPointer) -> Bool {
        let i = find(key)
        if i < 0 { return false }
        remove(slot: i).destroy()
        return true
    }

    public func removeAll() {
        table.forEach { Entry($0).destroy() }
        table.deallocate()
        table = SlotTable(capacity: Database.minCapacity)
        expiring = []
        expireCursor = 0
        avgTTL = 0
    }

    /// Exchanges the whole content with another database (SWAPDB).
    func swapContents(with other: Database) {
        swap(&table, &other.table)
        swap(&expiring, &other.expiring)
        swap(&expireCursor, &other.expireCursor)
        swap(&avgTTL, &other.avgTTL)
        // Hashes depend on the seed: rehash both in place if seeds differ.
        if seed != other.seed {
            rehash()
            other.rehash()
        }
    }

    private func rehash() {
        let seed = self.seed
        table.resize(for: count, minCapacity: Database.minCapacity, force: true) { Database.hash(Entry($0).key, seed) }
    }

    // MARK: expires index

    private func addToExpiring(_ e: Entry) {
        e.expireIndex = expiring.count
        expiring.append(e.ptr)
    }

    private func removeFromExpiring(_ e: Entry) {
        let pos = e.expireIndex
        let last = expiring.removeLast()
        if pos < expiring.count {
            expiring[pos] = last
            Entry(last).expireIndex = pos
        }
    }

    /// Sets or clears the expire of the entry at slot `i`; may reallocate it.
    @discardableResult
    func setExpire(slot i: Int, _ at: Int64?) -> Entry {
        let e = Entry(table.element(at: i))
        switch (e.hasExpire, at) {
        case (true, let t?):
            e.storeExpireAt(t)
            return e
        case (false, nil):
            return e
        case (true, nil):
            removeFromExpiring(e)
            e.flags &= ~Entry.flagHasExpire
            let p = realloc(e.ptr, e.allocationSize)!
            table.replace(slot: i, with: p)
            return Entry(p)
        case (false, let t?):
            let p = realloc(e.ptr, e.allocationSize + Entry.expireBlockSize)!
            let n = Entry(p)
            n.flags |= Entry.flagHasExpire
            n.storeExpireAt(t)
            table.replace(slot: i, with: p)
            addToExpiring(n)
            return n
        }
    }

    /// The entry at position `k` of the expires index (for the expiry cycle).
    func expiringEntry(at k: Int) -> Entry { Entry(expiring[k]) }

    // MARK: iteration

    /// One SCAN step: calls `body` for each entry whose home bucket is the
    /// cursor's, returns the next cursor (0 when the iteration is complete).
    public func scanStep(cursor: UInt64, _ body: (Entry) -> Void) -> UInt64 {
        let seed = self.seed
        return table.scanStep(cursor: cursor, hashOf: { Database.hash(Entry($0).key, seed) }) { body(Entry($0)) }
    }

    /// Calls `body` for every entry (no changes to the table allowed inside).
    public func forEach(_ body: (Entry) -> Void) {
        table.forEach { body(Entry($0)) }
    }

    /// A random entry (nil if empty).
    public func randomEntry() -> Entry? {
        if count == 0 { return nil }
        var i = Int.random(in: 0..<capacity)
        while !table.isFull(i) { i = table.next(i) }
        return Entry(table.element(at: i))
    }

    /// Bytes used by the table itself (for MEMORY/INFO overhead figures).
    public var tableOverheadBytes: Int { table.overheadBytes }

    /// Bytes spent on expires: the index array and each key's expire block.
    public var expiresOverheadBytes: Int {
        expiring.isEmpty ? 0 : allocSize(32 + expiring.capacity * 8) + expiring.count * Entry.expireBlockSize
    }

    // MARK: eviction and lazy free (Evict.swift, LazyFree.swift)

    /// Appends up to `count` entries found in consecutive slots from the one
    /// `random` picks (Redis's dictGetSomeKeys: cheap, roughly uniform).
    func sampleEntries(_ count: Int, random: UInt64, into out: inout [UnsafeMutableRawPointer]) {
        let n = table.count
        if n == 0 { return }
        let want = min(count, n)
        var i = table.home(random)
        var got = 0
        while got < want {
            if table.isFull(i) { out.append(table.element(at: i)); got += 1 }
            i = table.next(i)
        }
    }

    /// Appends up to `count` entries with an expire, from consecutive positions
    /// of the expires index starting at the one `random` picks.
    func sampleExpiring(_ count: Int, random: UInt64, into out: inout [UnsafeMutableRawPointer]) {
        let n = expiring.count
        if n == 0 { return }
        var k = Int(random % UInt64(n))
        for _ in 0..<min(count, n) {
            out.append(expiring[k])
            k += 1
            if k == n { k = 0 }
        }
    }

    /// Empties the database at once and returns the old content, to be freed
    /// elsewhere (FLUSHDB/FLUSHALL ASYNC).
    func detachContents() -> DetachedEntries {
        let old = table
        table = SlotTable(capacity: Database.minCapacity)
        expiring = []
        expireCursor = 0
        avgTTL = 0
        return DetachedEntries(table: old)
    }
}

/// A database's former table, owned by whoever frees it (the lazy-free thread).
struct DetachedEntries: @unchecked Sendable {
    let table: SlotTable
    func destroy() {
        table.forEach { Entry($0).destroy() }
        table.deallocate()
    }
}
