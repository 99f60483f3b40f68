// The open-addressing table under every keyed collection of the engine: the
// keyspace (Database.swift) and the member tables of hashes, sets and sorted
// sets (MemberTable.swift). It stores pointers to elements that carry their
// own key; its users say how to hash and compare them.
//
// Linear probing with one control byte per slot: 0 empty, 1 deleted,
// 0x80|7 bits of hash for a full slot, so a probe rejects most mismatches
// without touching the element. The table grows past 75% load (tombstones
// included) and shrinks under 10%, as Redis's dicts do.
//
// SCAN walks home buckets in Redis's reverse-binary cursor order; each
// bucket's probe run is read up to the next empty slot and only elements
// whose home is that bucket are returned. Since an element's home bucket
// under a doubled (or halved) table is derived from its old one exactly as in
// Redis's chained dict, an element present for the whole iteration is
// returned at least once, across resizes.

import Glibc

/// The arrays of a table that has not allocated yet: one empty slot, never written.
private let unallocatedCtrl: UnsafeMutablePointer<UInt8> = {
    let p = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
    p.initialize(to: 0)
    return p
}()
private let unallocatedSlots: UnsafeMutablePointer<UnsafeMutableRawPointer?> = {
    let p = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: 1)
    p.initialize(to: nil)
    return p
}()

/// The table; its owner frees it with `deallocate()` (elements are the owner's).
struct SlotTable {
    typealias Element = UnsafeMutableRawPointer

    private(set) var ctrl: UnsafeMutablePointer<UInt8>
    private(set) var slots: UnsafeMutablePointer<Element?>
    /// capacity - 1 (0 while unallocated).
    private(set) var mask: Int
    private(set) var count = 0
    private var tombstones = 0

    /// A table that allocates nothing until its first insert.
    init() {
        ctrl = unallocatedCtrl
        slots = unallocatedSlots
        mask = 0
    }

    /// A table of `capacity` slots (a power of two).
    init(capacity: Int) {
        ctrl = .allocate(capacity: capacity)
        ctrl.initialize(repeating: 0, count: capacity)
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: nil, count: capacity)
        mask = capacity - 1
    }

    func deallocate() {
        if mask == 0 { return }
        ctrl.deallocate()
        slots.deallocate()
    }

    /// Number of slots (0 while unallocated).
    var capacity: Int { mask == 0 ? 0 : mask + 1 }

    /// Bytes used by the table arrays.
    var overheadBytes: Int { capacity * (1 + MemoryLayout<Element?>.stride) }

    // MARK: pure helpers

    @inline(__always) static func tag(_ h: UInt64) -> UInt8 { 0x80 | UInt8(truncatingIfNeeded: h >> 57) }

    /// The smallest power of two, at least `minimum`, that holds `n`
    /// elements at most 75% full and at most half full.
    static func capacity(for n: Int, minimum: Int) -> Int {
        var c = minimum
        while c * 3 < n * 4 + 4 || c < n * 2 { c <<= 1 }
        return c
    }

    /// The SCAN cursor after `cursor` for a table of `mask + 1` buckets:
    /// the high bits are set, then the reversed cursor is incremented.
    @inline(__always) static func nextCursor(after cursor: UInt64, mask: Int) -> UInt64 {
        var v = cursor | ~UInt64(mask)
        v = v.bitSwapped
        v &+= 1
        return v.bitSwapped
    }

    // MARK: lookup

    /// Slot of the element with hash `h` for which `matches` holds, or -1.
    @inline(__always)
    func find(hash h: UInt64, _ matches: (Element) -> Bool) -> Int {
        let t = SlotTable.tag(h)
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let c = ctrl[i]
            if c == 0 { return -1 }
            if c == t && matches(slots[i]!) { return i }
            i = (i + 1) & mask
        }
    }

    @inline(__always) func element(at slot: Int) -> Element { slots[slot]! }

    @inline(__always) func isFull(_ slot: Int) -> Bool { ctrl[slot] >= 0x80 }

    /// Replaces the element pointer at `slot` (same key).
    @inline(__always) mutating func replace(slot: Int, with p: Element) { slots[slot] = p }

    // MARK: insert / remove

    /// Inserts an element with hash `h` whose key is known to be absent,
    /// growing first if needed (`hashOf` gives any element's hash).
    @inline(__always)
    mutating func insertNew(_ p: Element, hash h: UInt64, minCapacity: Int, hashOf: (Element) -> UInt64) {
        // mask + 1 is 1 while unallocated, which forces the first allocation.
        if (count + tombstones + 1) * 4 > (mask + 1) * 3 { resize(for: count + 1, minCapacity: minCapacity, hashOf: hashOf) }
        var i = Int(truncatingIfNeeded: h) & mask
        while ctrl[i] >= 0x80 { i = (i + 1) & mask }
        if ctrl[i] == 1 { tombstones -= 1 }
        ctrl[i] = SlotTable.tag(h)
        slots[i] = p
        count += 1
    }

    /// Unlinks the element at `slot` and returns it (the caller frees it);
    /// shrinks the table when it gets under 10% full.
    @discardableResult
    mutating func remove(slot i: Int, minCapacity: Int, hashOf: (Element) -> UInt64) -> Element {
        let p = slots[i]!
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
        if mask + 1 > minCapacity && count * 10 < mask + 1 { resize(for: count, minCapacity: minCapacity, hashOf: hashOf) }
        return p
    }

    /// Rebuilds the table sized for `n` elements (without tombstones). Does
    /// nothing if that is the current size and there is nothing to clean,
    /// unless `force` (to rehash with another hash function). Kept out of
    /// line: inserts and removes stay small where it is not needed.
    @inline(never)
    mutating func resize(for n: Int, minCapacity: Int, force: Bool = false, hashOf: (Element) -> UInt64) {
        let newCap = SlotTable.capacity(for: n, minimum: minCapacity)
        if newCap == capacity && tombstones == 0 && !force { return }
        let old = self
        self = SlotTable(capacity: newCap)
        count = old.count
        for i in 0..<old.capacity where old.ctrl[i] >= 0x80 {
            let p = old.slots[i]!
            let h = hashOf(p)
            var j = Int(truncatingIfNeeded: h) & mask
            while ctrl[j] != 0 { j = (j + 1) & mask }
            ctrl[j] = SlotTable.tag(h)
            slots[j] = p
        }
        old.deallocate()
    }

    /// A copy of the table whose element in each slot is `clone` of this one's.
    func copy(_ clone: (Element) -> Element) -> SlotTable {
        if mask == 0 { return SlotTable() }
        var t = SlotTable(capacity: capacity)
        t.ctrl.update(from: ctrl, count: capacity)
        for i in 0..<capacity where ctrl[i] >= 0x80 { t.slots[i] = clone(slots[i]!) }
        t.count = count
        t.tombstones = tombstones
        return t
    }

    // MARK: iteration

    /// Calls `body` for every element (no changes to the table inside).
    @inline(__always)
    func forEach(_ body: (Element) -> Void) {
        if mask == 0 { return }
        for i in 0...mask where ctrl[i] >= 0x80 { body(slots[i]!) }
    }

    /// Slots of all elements, in table order.
    func allSlots() -> [Int] {
        var r: [Int] = []
        r.reserveCapacity(count)
        if mask == 0 { return r }
        for i in 0...mask where ctrl[i] >= 0x80 { r.append(i) }
        return r
    }

    /// A uniformly chosen full slot (the table must not be empty). The table
    /// is at least 10% full, so this takes O(1) expected draws.
    @inline(__always)
    func randomSlot() -> Int {
        while true {
            let i = Int(truncatingIfNeeded: fastRandom()) & mask
            if ctrl[i] >= 0x80 { return i }
        }
    }

    /// One SCAN step: calls `body` for each element whose home bucket is the
    /// cursor's (by `hashOf`) and returns the next cursor (0 at the end).
    func scanStep(cursor: UInt64, hashOf: (Element) -> UInt64, _ body: (Element) -> Void) -> UInt64 {
        if count == 0 { return 0 }
        let bucket = Int(truncatingIfNeeded: cursor) & mask
        var i = bucket
        while ctrl[i] != 0 {
            if ctrl[i] >= 0x80 {
                let p = slots[i]!
                if Int(truncatingIfNeeded: hashOf(p)) & mask == bucket { body(p) }
            }
            i = (i + 1) & mask
            if i == bucket { break }
        }
        return SlotTable.nextCursor(after: cursor, mask: mask)
    }
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
