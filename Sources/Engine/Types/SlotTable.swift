// The open-addressing table under every keyed collection of the engine: the
// keyspace (Database.swift) and the member tables of hashes, sets and sorted
// sets (MemberTable.swift). It stores pointers to elements that carry their
// own key; its users say how to hash and compare them.
//
// Linear probing with one control byte per slot: 0 empty, 1 deleted,
// 0x80|7 low bits of hash for a full slot, so a probe rejects most
// mismatches without touching the element. An element's home slot is the
// high part of hash × capacity ("fastrange"), so the capacity need not be a
// power of two: it climbs a ladder of m·2^k (m = 4, 5, 6, 7), growing past
// 80% load (tombstones included) to at most 2/3 full, and shrinks under 10%.
// At 1M keys the keyspace table then has 1.31M slots (11.8 bytes per key)
// where doubling at 75% would give 2.1M (18.9 bytes per key).
//
// Homes are in hash order, so SCAN's cursor is a position in hash space:
// each step returns the elements whose home is the slot the cursor falls in
// (reading that slot's probe run up to the next empty slot) and returns the
// hash where the next home slot starts. Whatever the table's size when each
// step runs, every hash at or above the cursor is still ahead, so an element
// present for the whole iteration is returned at least once, across resizes.

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
    /// Number of slots (1 while unallocated: the shared empty slot).
    private(set) var slotCount: Int
    private(set) var count = 0
    private var tombstones = 0

    /// A table that allocates nothing until its first insert.
    init() {
        ctrl = unallocatedCtrl
        slots = unallocatedSlots
        slotCount = 1
    }

    /// A table of `capacity` slots.
    init(capacity: Int) {
        ctrl = .allocate(capacity: capacity)
        ctrl.initialize(repeating: 0, count: capacity)
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: nil, count: capacity)
        slotCount = capacity
    }

    @inline(__always) private var isAllocated: Bool { ctrl != unallocatedCtrl }

    func deallocate() {
        if !isAllocated { return }
        ctrl.deallocate()
        slots.deallocate()
    }

    /// Number of slots (0 while unallocated).
    var capacity: Int { isAllocated ? slotCount : 0 }

    /// Bytes used by the table arrays.
    var overheadBytes: Int { capacity * (1 + MemoryLayout<Element?>.stride) }

    // MARK: pure helpers

    @inline(__always) static func tag(_ h: UInt64) -> UInt8 { 0x80 | (UInt8(truncatingIfNeeded: h) & 0x7F) }

    /// The home slot of hash `h` in a table of `n` slots: the high word of h × n.
    @inline(__always) static func home(_ h: UInt64, _ n: Int) -> Int {
        Int(truncatingIfNeeded: h.multipliedFullWidth(by: UInt64(n)).high)
    }
    @inline(__always) func home(_ h: UInt64) -> Int { SlotTable.home(h, slotCount) }
    /// The slot after `i`, wrapping.
    @inline(__always) func next(_ i: Int) -> Int { i + 1 == slotCount ? 0 : i + 1 }
    @inline(__always) private func previous(_ i: Int) -> Int { i == 0 ? slotCount - 1 : i - 1 }

    /// The capacity after `c` on the ladder m·2^k, m in 4...7 (doubling below 4).
    static func nextCapacity(after c: Int) -> Int {
        if c < 4 { return c * 2 }
        let k = (Int.bitWidth - 1 - c.leadingZeroBitCount) - 2
        return ((c >> k) + 1) << k
    }

    /// The smallest ladder capacity, at least `minimum`, that holds `n`
    /// elements at most 2/3 full (and one more under the 80% growth mark).
    static func capacity(for n: Int, minimum: Int) -> Int {
        var c = minimum
        while c * 2 < n * 3 || c * 4 < (n + 1) * 5 { c = nextCapacity(after: c) }
        return c
    }

    /// The SCAN cursor after the step over home slot `slot` of a table of
    /// `n` slots: the first hash whose home is slot + 1 (0 after the last slot).
    @inline(__always) static func nextCursor(afterSlot slot: Int, slots n: Int) -> UInt64 {
        if slot + 1 >= n { return 0 }
        let (q, r) = UInt64(n).dividingFullWidth((high: UInt64(slot + 1), low: 0))
        return r == 0 ? q : q + 1
    }

    // MARK: lookup

    /// Slot of the element with hash `h` for which `matches` holds, or -1.
    @inline(__always)
    func find(hash h: UInt64, _ matches: (Element) -> Bool) -> Int {
        let t = SlotTable.tag(h)
        var i = home(h)
        while true {
            let c = ctrl[i]
            if c == 0 { return -1 }
            if c == t && matches(slots[i]!) { return i }
            i = next(i)
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
        // slotCount is 1 while unallocated, which forces the first allocation.
        if (count + tombstones + 1) * 5 > slotCount * 4 { resize(for: count + 1, minCapacity: minCapacity, hashOf: hashOf) }
        var i = home(h)
        while ctrl[i] >= 0x80 { i = next(i) }
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
        if ctrl[next(i)] == 0 {
            // Nothing probes past an empty slot, so this slot and the deleted
            // ones right before it can become empty too.
            ctrl[i] = 0
            var j = previous(i)
            while ctrl[j] == 1 { ctrl[j] = 0; tombstones -= 1; j = previous(j) }
        } else {
            ctrl[i] = 1
            tombstones += 1
        }
        if slotCount > minCapacity && count * 10 < slotCount { resize(for: count, minCapacity: minCapacity, hashOf: hashOf) }
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
            var j = home(h)
            while ctrl[j] != 0 { j = next(j) }
            ctrl[j] = SlotTable.tag(h)
            slots[j] = p
        }
        old.deallocate()
    }

    /// A copy of the table whose element in each slot is `clone` of this one's.
    func copy(_ clone: (Element) -> Element) -> SlotTable {
        if !isAllocated { return SlotTable() }
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
        if !isAllocated { return }
        for i in 0..<slotCount where ctrl[i] >= 0x80 { body(slots[i]!) }
    }

    /// Slots of all elements, in table order.
    func allSlots() -> [Int] {
        var r: [Int] = []
        r.reserveCapacity(count)
        if !isAllocated { return r }
        for i in 0..<slotCount where ctrl[i] >= 0x80 { r.append(i) }
        return r
    }

    /// A uniformly chosen full slot (the table must not be empty). The table
    /// is at least 10% full, so this takes O(1) expected draws.
    @inline(__always)
    func randomSlot() -> Int {
        while true {
            let i = home(fastRandom())
            if ctrl[i] >= 0x80 { return i }
        }
    }

    /// One SCAN step: calls `body` for each element whose home slot is the
    /// one the cursor (a hash) falls in, by `hashOf`, and returns the next
    /// cursor (0 at the end).
    func scanStep(cursor: UInt64, hashOf: (Element) -> UInt64, _ body: (Element) -> Void) -> UInt64 {
        if count == 0 { return 0 }
        let bucket = home(cursor)
        var i = bucket
        while ctrl[i] != 0 {
            if ctrl[i] >= 0x80 {
                let p = slots[i]!
                if home(hashOf(p)) == bucket { body(p) }
            }
            i = next(i)
            if i == bucket { break }
        }
        return SlotTable.nextCursor(afterSlot: bucket, slots: slotCount)
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
