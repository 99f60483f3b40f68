// An open-addressing hash table of pointers to elements that carry their own
// key bytes (set members, sorted-set skiplist nodes). Linear probing with a
// control byte per slot (0 empty, 1 deleted, 0x80|7 hash bits when full), as
// in Database.swift, so a probe rejects most mismatches without touching the
// element.
//
// SCAN walks home buckets in reverse-binary cursor order and returns only the
// elements whose home bucket is the cursor's; since a home bucket under a
// doubled or halved table derives from the old one as in Redis's chained
// dict, an element present for the whole iteration is returned at least once.
//
// Random picks are uniform: draw a slot, retry until it holds an element. The
// table shrinks when under 10% full, so that takes O(1) expected draws.

import CShims
import Glibc

/// Where an element keeps its key bytes.
public protocol MemberLayout {
    static func member(_ p: UnsafeMutableRawPointer) -> UnsafeRawBufferPointer
}

/// A fast PRNG for random picks (wyrand); not for anything secret.
nonisolated(unsafe) private var fastRandomState = UInt64.random(in: 0...UInt64.max)

@inline(__always)
func fastRandom() -> UInt64 {
    fastRandomState &+= 0xa0761d6478bd642f
    let m = fastRandomState.multipliedFullWidth(by: fastRandomState ^ 0xe7037ed1a0b428db)
    return m.high ^ m.low
}

/// A uniform integer in 0..<n (n > 0).
@inline(__always)
func fastRandom(below n: Int) -> Int {
    let m = fastRandom().multipliedFullWidth(by: UInt64(n))
    return Int(m.high)
}

/// Seed of every member table in the process.
let memberHashSeed = UInt64.random(in: 0...UInt64.max)

@inline(__always)
func memberHash(_ m: UnsafeRawBufferPointer) -> UInt64 {
    ts_hash_bytes(m.baseAddress, m.count, memberHashSeed)
}

@inline(__always)
func bytesEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    a.count == b.count && (a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0)
}

/// Byte-wise comparison, shorter first on a common prefix (Redis's sdscmp).
@inline(__always)
func compareBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
    let n = Swift.min(a.count, b.count)
    if n > 0 {
        let r = memcmp(a.baseAddress!, b.baseAddress!, n)
        if r != 0 { return Int(r) }
    }
    return a.count - b.count
}

/// The table itself; its owner frees it with `deallocate()` (elements are the owner's).
struct MemberTable<L: MemberLayout> {
    private(set) var ctrl: UnsafeMutablePointer<UInt8>?
    private(set) var slots: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
    private(set) var capacity = 0
    private(set) var count = 0
    private var tombstones = 0

    static var minCapacity: Int { 8 }

    init() {}

    init(reserving n: Int) {
        if n > 0 { rebuild(capacity: MemberTable.capacityFor(n)) }
    }

    func deallocate() {
        ctrl?.deallocate()
        slots?.deallocate()
    }

    @inline(__always) static func tag(_ h: UInt64) -> UInt8 { 0x80 | UInt8(truncatingIfNeeded: h >> 57) }

    static func capacityFor(_ n: Int) -> Int {
        var c = minCapacity
        while c * 3 < n * 4 + 4 || c < n * 2 { c <<= 1 }
        return c
    }

    /// Bytes used by the table arrays.
    var overheadBytes: Int { capacity * (1 + MemoryLayout<UnsafeMutableRawPointer?>.stride) }

    // MARK: lookup

    /// Slot of `m`, or -1.
    @inline(__always)
    func find(_ m: UnsafeRawBufferPointer) -> Int { find(m, hash: memberHash(m)) }

    @inline(__always)
    func find(_ m: UnsafeRawBufferPointer, hash h: UInt64) -> Int {
        guard let ctrl = ctrl, let slots = slots else { return -1 }
        let t = MemberTable.tag(h)
        let mask = capacity - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let c = ctrl[i]
            if c == 0 { return -1 }
            if c == t && bytesEqual(L.member(slots[i]!), m) { return i }
            i = (i + 1) & mask
        }
    }

    @inline(__always) func element(at slot: Int) -> UnsafeMutableRawPointer { slots![slot]! }

    @inline(__always) func isFull(_ slot: Int) -> Bool { ctrl![slot] >= 0x80 }

    /// Replaces the element pointer at `slot` (same key bytes).
    @inline(__always) mutating func replace(slot: Int, with p: UnsafeMutableRawPointer) { slots![slot] = p }

    // MARK: insert / remove

    /// Inserts an element whose key is known to be absent.
    mutating func insertNew(_ p: UnsafeMutableRawPointer, hash h: UInt64) {
        if (count + tombstones + 1) * 4 > capacity * 3 { rebuild(capacity: MemberTable.capacityFor(count + 1)) }
        let ctrl = self.ctrl!, slots = self.slots!
        let mask = capacity - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while ctrl[i] >= 0x80 { i = (i + 1) & mask }
        if ctrl[i] == 1 { tombstones -= 1 }
        ctrl[i] = MemberTable.tag(h)
        slots[i] = p
        count += 1
    }

    mutating func insertNew(_ p: UnsafeMutableRawPointer) { insertNew(p, hash: memberHash(L.member(p))) }

    /// Unlinks the element at `slot` and returns it (the caller frees it).
    @discardableResult
    mutating func remove(slot i: Int) -> UnsafeMutableRawPointer {
        let ctrl = self.ctrl!, slots = self.slots!
        let mask = capacity - 1
        let p = slots[i]!
        slots[i] = nil
        count -= 1
        if ctrl[(i + 1) & mask] == 0 {
            ctrl[i] = 0
            var j = (i - 1) & mask
            while ctrl[j] == 1 { ctrl[j] = 0; tombstones -= 1; j = (j - 1) & mask }
        } else {
            ctrl[i] = 1
            tombstones += 1
        }
        if capacity > MemberTable.minCapacity && count * 10 < capacity {
            rebuild(capacity: MemberTable.capacityFor(count))
        }
        return p
    }

    /// Makes room for `n` elements without further growth.
    mutating func reserve(_ n: Int) {
        let c = MemberTable.capacityFor(n)
        if c > capacity { rebuild(capacity: c) }
    }

    private mutating func rebuild(capacity newCap: Int) {
        let oldCtrl = ctrl, oldSlots = slots, oldCap = capacity
        let nc = UnsafeMutablePointer<UInt8>.allocate(capacity: newCap)
        nc.initialize(repeating: 0, count: newCap)
        let ns = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: newCap)
        ns.initialize(repeating: nil, count: newCap)
        let mask = newCap - 1
        if let oc = oldCtrl, let os = oldSlots {
            for i in 0..<oldCap where oc[i] >= 0x80 {
                let p = os[i]!
                let h = memberHash(L.member(p))
                var j = Int(truncatingIfNeeded: h) & mask
                while nc[j] != 0 { j = (j + 1) & mask }
                nc[j] = MemberTable.tag(h)
                ns[j] = p
            }
            oc.deallocate()
            os.deallocate()
        }
        ctrl = nc
        slots = ns
        capacity = newCap
        tombstones = 0
    }

    // MARK: iteration

    /// Calls `body` for every element (no changes to the table inside).
    @inline(__always)
    func forEach(_ body: (UnsafeMutableRawPointer) -> Void) {
        guard let ctrl = ctrl, let slots = slots else { return }
        for i in 0..<capacity where ctrl[i] >= 0x80 { body(slots[i]!) }
    }

    /// Every element pointer, in table order.
    func allElements() -> [UnsafeMutableRawPointer] {
        var r: [UnsafeMutableRawPointer] = []
        r.reserveCapacity(count)
        forEach { r.append($0) }
        return r
    }

    /// A uniformly chosen full slot (the table must not be empty).
    @inline(__always)
    func randomSlot() -> Int {
        let ctrl = self.ctrl!
        let mask = capacity - 1
        while true {
            let i = Int(truncatingIfNeeded: fastRandom()) & mask
            if ctrl[i] >= 0x80 { return i }
        }
    }

    /// One SCAN step: calls `body` for each element whose home bucket is the
    /// cursor's and returns the next cursor (0 at the end).
    func scanStep(cursor: UInt64, _ body: (UnsafeMutableRawPointer) -> Void) -> UInt64 {
        guard count > 0, let ctrl = ctrl, let slots = slots else { return 0 }
        let mask = capacity - 1
        let m = UInt64(mask)
        let bucket = Int(cursor & m)
        var i = bucket
        while ctrl[i] != 0 {
            if ctrl[i] >= 0x80 {
                let p = slots[i]!
                if Int(truncatingIfNeeded: memberHash(L.member(p))) & mask == bucket { body(p) }
            }
            i = (i + 1) & mask
            if i == bucket { break }
        }
        var v = cursor | ~m
        v = v.bitSwapped
        v &+= 1
        return v.bitSwapped
    }
}
