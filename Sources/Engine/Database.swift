// One logical database (SELECT 0..15): an open-addressing hash table of
// entries with linear probing, plus a dense index of the keys that have an
// expire so the active expiry cycle can sample them in O(1).
//
// Why not Dictionary: it needs a temporary key allocation for each lookup and
// two allocations per entry; here a lookup hashes the bytes straight from the
// query buffer and an entry is one allocation (see Entry.swift).
//
// Control bytes: 0 empty, 1 deleted, 0x80|7 bits of hash for a full slot, so a
// probe rejects most non-matching slots without touching the entry.
//
// SCAN walks home buckets in Redis's reverse-binary cursor order; each bucket's
// probe run is read up to the next empty slot and only entries whose home is
// that bucket are returned. Since a key's home bucket under a doubled (or
// halved) table is derived from its old one exactly as in Redis's chained
// dict, SCAN keeps Redis's guarantee across resizes.

import Glibc
import CShims

public final class Database {
    public let index: Int
    private var ctrl: UnsafeMutablePointer<UInt8>
    private var slots: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    private(set) var capacity: Int
    private var mask: Int
    public private(set) var count = 0
    private var tombstones = 0
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
        capacity = Database.minCapacity
        mask = capacity - 1
        ctrl = .allocate(capacity: capacity)
        ctrl.initialize(repeating: 0, count: capacity)
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: nil, count: capacity)
    }

    deinit {
        removeAll()
        ctrl.deallocate()
        slots.deallocate()
    }

    @inline(__always) func hash(_ key: UnsafeRawBufferPointer) -> UInt64 {
        ts_hash_bytes(key.baseAddress, key.count, seed)
    }

    @inline(__always) static func tag(_ h: UInt64) -> UInt8 { 0x80 | UInt8(truncatingIfNeeded: h >> 57) }

    // MARK: lookup

    /// Slot index of `key`, or -1.
    @inline(__always)
    func find(_ key: UnsafeRawBufferPointer) -> Int {
        let h = hash(key)
        let t = Database.tag(h)
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let c = ctrl[i]
            if c == 0 { return -1 }
            if c == t && Entry(slots[i]!).keyEquals(key) { return i }
            i = (i + 1) & mask
        }
    }

    /// The entry for `key`, without expiry checks.
    @inline(__always)
    public func rawLookup(_ key: UnsafeRawBufferPointer) -> Entry? {
        let i = find(key)
        return i < 0 ? nil : Entry(slots[i]!)
    }

    @inline(__always) func entry(atSlot i: Int) -> Entry { Entry(slots[i]!) }

    // MARK: insert / replace / delete

    /// Inserts an entry whose key is known to be absent.
    func insertNew(_ e: Entry) {
        if (count + tombstones + 1) * 4 > capacity * 3 { resize(for: count + 1) }
        let h = hash(e.key)
        var i = Int(truncatingIfNeeded: h) & mask
        while ctrl[i] >= 0x80 { i = (i + 1) & mask }
        if ctrl[i] == 1 { tombstones -= 1 }
        ctrl[i] = Database.tag(h)
        slots[i] = e.ptr
        count += 1
        if e.hasExpire { addToExpiring(e) }
    }

    /// Replaces the entry at slot `i` with `e` (same key), freeing the old one.
    func replace(slot i: Int, with e: Entry) {
        let old = Entry(slots[i]!)
        if old.hasExpire { removeFromExpiring(old) }
        slots[i] = e.ptr
        if e.hasExpire { addToExpiring(e) }
        old.destroy()
    }

    /// Points slot `i` at a reallocated copy of its entry (same key, same expire state).
    func moved(slot i: Int, to e: Entry) {
        slots[i] = e.ptr
        if e.hasExpire { expiring[e.expireIndex] = e.ptr }
    }

    /// Unlinks slot `i` and returns its entry (the caller frees it).
    @discardableResult
    func remove(slot i: Int) -> Entry {
        let e = Entry(slots[i]!)
        if e.hasExpire { removeFromExpiring(e) }
        slots[i] = nil
        count -= 1
        if ctrl[(i + 1) & mask] == 0 {
            // Nothing probes past an empty slot, so this slot and the deleted
            // ones right before it can become empty too.
            ctrl[i] = 0
            var j = (i - 1) & mask
            while ctrl[j] == 1 { ctrl[j] = 0; tombstones -= 1; j = (j - 1) & mask }
        } else {
            ctrl[i] = 1
            tombstones += 1
        }
        if capacity > Database.minCapacity && count * 10 < capacity { resize(for: count) }
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
        for i in 0..<capacity where ctrl[i] >= 0x80 { Entry(slots[i]!).destroy() }
        ctrl.deallocate()
        slots.deallocate()
        capacity = Database.minCapacity
        mask = capacity - 1
        ctrl = .allocate(capacity: capacity)
        ctrl.initialize(repeating: 0, count: capacity)
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: nil, count: capacity)
        count = 0
        tombstones = 0
        expiring = []
        expireCursor = 0
        avgTTL = 0
    }

    /// Exchanges the whole content with another database (SWAPDB).
    func swapContents(with other: Database) {
        swap(&ctrl, &other.ctrl)
        swap(&slots, &other.slots)
        swap(&capacity, &other.capacity)
        swap(&mask, &other.mask)
        swap(&count, &other.count)
        swap(&tombstones, &other.tombstones)
        swap(&expiring, &other.expiring)
        swap(&expireCursor, &other.expireCursor)
        swap(&avgTTL, &other.avgTTL)
        // Hashes depend on the seed: rehash both in place if seeds differ.
        if seed != other.seed {
            resize(for: count, force: true)
            other.resize(for: other.count, force: true)
        }
    }

    private func resize(for n: Int, force: Bool = false) {
        var newCap = Database.minCapacity
        while newCap * 3 < n * 4 + 4 || newCap < n * 2 { newCap <<= 1 }
        if newCap == capacity && tombstones == 0 && !force { return }
        let oldCtrl = ctrl, oldSlots = slots, oldCap = capacity
        capacity = newCap
        mask = newCap - 1
        ctrl = .allocate(capacity: newCap)
        ctrl.initialize(repeating: 0, count: newCap)
        slots = .allocate(capacity: newCap)
        slots.initialize(repeating: nil, count: newCap)
        tombstones = 0
        for i in 0..<oldCap where oldCtrl[i] >= 0x80 {
            let p = oldSlots[i]!
            let h = hash(Entry(p).key)
            var j = Int(truncatingIfNeeded: h) & mask
            while ctrl[j] != 0 { j = (j + 1) & mask }
            ctrl[j] = Database.tag(h)
            slots[j] = p
        }
        oldCtrl.deallocate()
        oldSlots.deallocate()
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
        let e = Entry(slots[i]!)
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
            slots[i] = p
            return Entry(p)
        case (false, let t?):
            let p = realloc(e.ptr, e.allocationSize + Entry.expireBlockSize)!
            let n = Entry(p)
            n.flags |= Entry.flagHasExpire
            n.storeExpireAt(t)
            slots[i] = p
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
        if count == 0 { return 0 }
        let m = UInt64(mask)
        let bucket = Int(cursor & m)
        var i = bucket
        while ctrl[i] != 0 {
            if ctrl[i] >= 0x80 {
                let e = Entry(slots[i]!)
                if Int(truncatingIfNeeded: hash(e.key)) & mask == bucket { body(e) }
            }
            i = (i + 1) & mask
            if i == bucket { break }
        }
        var v = cursor | ~m
        v = v.bitSwapped
        v &+= 1
        v = v.bitSwapped
        return v
    }

    /// Calls `body` for every entry (no changes to the table allowed inside).
    public func forEach(_ body: (Entry) -> Void) {
        for i in 0..<capacity where ctrl[i] >= 0x80 { body(Entry(slots[i]!)) }
    }

    /// A random entry (nil if empty).
    public func randomEntry() -> Entry? {
        if count == 0 { return nil }
        var i = Int.random(in: 0..<capacity)
        while ctrl[i] < 0x80 { i = (i + 1) & mask }
        return Entry(slots[i]!)
    }

    /// Bytes used by the table itself (for MEMORY/INFO overhead figures).
    public var tableOverheadBytes: Int { capacity * (1 + MemoryLayout<UnsafeMutableRawPointer?>.stride) }
}

extension UInt64 {
    @inline(__always) var bitSwapped: UInt64 {
        var v = self
        v = ((v >> 1) & 0x5555555555555555) | ((v & 0x5555555555555555) << 1)
        v = ((v >> 2) & 0x3333333333333333) | ((v & 0x3333333333333333) << 2)
        v = ((v >> 4) & 0x0F0F0F0F0F0F0F0F) | ((v & 0x0F0F0F0F0F0F0F0F) << 4)
        return v.byteSwapped
    }
}
