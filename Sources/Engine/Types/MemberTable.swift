// The member tables of hashes, sets and sorted sets: a SlotTable (see
// SlotTable.swift) of pointers to elements that carry their own key bytes
// (hash field blocks, set members, sorted-set skiplist nodes), hashed with
// one process-wide seed. A layout says where an element keeps its key.
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
    private var core = SlotTable()

    static var minCapacity: Int { 8 }

    init() {}

    init(reserving n: Int) {
        if n > 0 { core = SlotTable(capacity: MemberTable.capacityFor(n)) }
    }

    private init(core: SlotTable) { self.core = core }

    func deallocate() { core.deallocate() }

    static func capacityFor(_ n: Int) -> Int { SlotTable.capacity(for: n, minimum: minCapacity) }

    @inline(__always) static func hash(of p: UnsafeMutableRawPointer) -> UInt64 { memberHash(L.member(p)) }

    var count: Int { core.count }
    var capacity: Int { core.capacity }

    /// Bytes used by the table arrays.
    var overheadBytes: Int { core.overheadBytes }

    // MARK: lookup

    /// Slot of `m`, or -1.
    @inline(__always)
    func find(_ m: UnsafeRawBufferPointer) -> Int { find(m, hash: memberHash(m)) }

    @inline(__always)
    func find(_ m: UnsafeRawBufferPointer, hash h: UInt64) -> Int {
        core.find(hash: h) { bytesEqual(L.member($0), m) }
    }

    @inline(__always) func element(at slot: Int) -> UnsafeMutableRawPointer { core.element(at: slot) }

    @inline(__always) func isFull(_ slot: Int) -> Bool { core.isFull(slot) }

    /// Replaces the element pointer at `slot` (same key bytes).
    @inline(__always) mutating func replace(slot: Int, with p: UnsafeMutableRawPointer) { core.replace(slot: slot, with: p) }

    // MARK: insert / remove

    /// Inserts an element whose key is known to be absent.
    @inline(__always)
    mutating func insertNew(_ p: UnsafeMutableRawPointer, hash h: UInt64) {
        core.insertNew(p, hash: h, minCapacity: MemberTable.minCapacity, hashOf: MemberTable.hash(of:))
    }

    mutating func insertNew(_ p: UnsafeMutableRawPointer) { insertNew(p, hash: MemberTable.hash(of: p)) }

    /// Unlinks the element at `slot` and returns it (the caller frees it).
    @discardableResult
    mutating func remove(slot i: Int) -> UnsafeMutableRawPointer {
        core.remove(slot: i, minCapacity: MemberTable.minCapacity, hashOf: MemberTable.hash(of:))
    }

    /// Makes room for `n` elements without further growth.
    mutating func reserve(_ n: Int) {
        if MemberTable.capacityFor(n) > capacity {
            core.resize(for: n, minCapacity: MemberTable.minCapacity, hashOf: MemberTable.hash(of:))
        }
    }

    /// A copy with the same layout, each element replaced by `clone` of it.
    func copy(_ clone: (UnsafeMutableRawPointer) -> UnsafeMutableRawPointer) -> MemberTable {
        MemberTable(core: core.copy(clone))
    }

    // MARK: iteration

    /// Calls `body` for every element (no changes to the table inside).
    @inline(__always)
    func forEach(_ body: (UnsafeMutableRawPointer) -> Void) { core.forEach(body) }

    /// Every element pointer, in table order.
    func allElements() -> [UnsafeMutableRawPointer] {
        var r: [UnsafeMutableRawPointer] = []
        r.reserveCapacity(count)
        forEach { r.append($0) }
        return r
    }

    /// Slots of all elements, in table order.
    func allSlots() -> [Int] { core.allSlots() }

    /// A uniformly chosen full slot (the table must not be empty).
    @inline(__always) func randomSlot() -> Int { core.randomSlot() }

    /// One SCAN step: calls `body` for each element whose home bucket is the
    /// cursor's and returns the next cursor (0 at the end).
    func scanStep(cursor: UInt64, _ body: (UnsafeMutableRawPointer) -> Void) -> UInt64 {
        core.scanStep(cursor: cursor, hashOf: MemberTable.hash(of:), body)
    }
}
