// The "hashtable" encoding of a hash: an open-addressing table (linear
// probing, 7-bit tags in a control array, as Database.swift) whose slots point
// to one malloc'd block per field:
//
//   UInt32 field length, UInt32 value length, field bytes, value bytes
//
// One allocation per field (Redis needs a dictEntry and two sds strings).
//
// Iteration for HSCAN walks home buckets in reverse-binary cursor order, like
// Database.scanStep, so the SCAN guarantees hold across resizes: a field
// present for the whole scan is returned at least once.

import Glibc
import CShims

final class FieldTable {
    private(set) var ctrl: UnsafeMutablePointer<UInt8>
    private(set) var slots: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    private(set) var capacity: Int
    private var mask: Int
    private(set) var count = 0
    private var tombstones = 0
    let seed: UInt64

    static let minCapacity = 8
    static let globalSeed = UInt64.random(in: 0...UInt64.max)

    init(capacityFor n: Int, seed: UInt64 = FieldTable.globalSeed) {
        self.seed = seed
        var cap = FieldTable.minCapacity
        while cap * 3 < n * 4 + 4 || cap < n * 2 { cap <<= 1 }
        capacity = cap
        mask = cap - 1
        ctrl = .allocate(capacity: cap)
        ctrl.initialize(repeating: 0, count: cap)
        slots = .allocate(capacity: cap)
        slots.initialize(repeating: nil, count: cap)
    }

    deinit {
        for i in 0..<capacity where ctrl[i] >= 0x80 { free(slots[i]!) }
        ctrl.deallocate()
        slots.deallocate()
    }

    func duplicate() -> FieldTable {
        let t = FieldTable(capacityFor: 0, seed: seed)
        t.ctrl.deallocate()
        t.slots.deallocate()
        t.capacity = capacity
        t.mask = mask
        t.ctrl = .allocate(capacity: capacity)
        t.ctrl.initialize(from: ctrl, count: capacity)
        t.slots = .allocate(capacity: capacity)
        for i in 0..<capacity {
            if ctrl[i] >= 0x80 {
                let p = slots[i]!
                let size = FieldTable.blockSize(p)
                let q = malloc(size)!
                memcpy(q, p, size)
                t.slots[i] = q
            } else {
                t.slots[i] = nil
            }
        }
        t.count = count
        t.tombstones = tombstones
        return t
    }

    // MARK: blocks

    @inline(__always) static func fieldLength(_ p: UnsafeRawPointer) -> Int { Int(p.load(as: UInt32.self)) }
    @inline(__always) static func valueLength(_ p: UnsafeRawPointer) -> Int { Int(p.load(fromByteOffset: 4, as: UInt32.self)) }
    @inline(__always) static func blockSize(_ p: UnsafeRawPointer) -> Int { 8 + fieldLength(p) + valueLength(p) }

    @inline(__always) static func field(_ p: UnsafeRawPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: p + 8, count: fieldLength(p))
    }

    @inline(__always) static func value(_ p: UnsafeRawPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: p + 8 + fieldLength(p), count: valueLength(p))
    }

    static func makeBlock(_ f: UnsafeRawBufferPointer, _ v: UnsafeRawBufferPointer) -> UnsafeMutableRawPointer {
        let p = malloc(8 + f.count + v.count)!
        p.storeBytes(of: UInt32(f.count), as: UInt32.self)
        p.storeBytes(of: UInt32(v.count), toByteOffset: 4, as: UInt32.self)
        if f.count > 0 { memcpy(p + 8, f.baseAddress!, f.count) }
        if v.count > 0 { memcpy(p + 8 + f.count, v.baseAddress!, v.count) }
        return p
    }

    @inline(__always) func hash(_ f: UnsafeRawBufferPointer) -> UInt64 {
        ts_hash_bytes(f.baseAddress, f.count, seed)
    }

    @inline(__always) static func tag(_ h: UInt64) -> UInt8 { 0x80 | UInt8(truncatingIfNeeded: h >> 57) }

    // MARK: lookup

    /// Slot of field `f`, or -1.
    @inline(__always) func find(_ f: UnsafeRawBufferPointer) -> Int {
        let h = hash(f)
        let t = FieldTable.tag(h)
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let c = ctrl[i]
            if c == 0 { return -1 }
            if c == t {
                let p = slots[i]!
                if FieldTable.fieldLength(p) == f.count
                    && (f.count == 0 || memcmp(p + 8, f.baseAddress!, f.count) == 0) { return i }
            }
            i = (i + 1) & mask
        }
    }

    @inline(__always) func block(at slot: Int) -> UnsafeMutableRawPointer { slots[slot]! }

    @inline(__always) func isFull(_ slot: Int) -> Bool { ctrl[slot] >= 0x80 }

    // MARK: changes

    /// Adds a field known to be absent.
    func insertNew(_ f: UnsafeRawBufferPointer, _ v: UnsafeRawBufferPointer) {
        insertBlock(FieldTable.makeBlock(f, v))
    }

    func insertBlock(_ p: UnsafeMutableRawPointer) {
        if (count + tombstones + 1) * 4 > capacity * 3 { resize(for: count + 1) }
        let h = hash(FieldTable.field(p))
        var i = Int(truncatingIfNeeded: h) & mask
        while ctrl[i] >= 0x80 { i = (i + 1) & mask }
        if ctrl[i] == 1 { tombstones -= 1 }
        ctrl[i] = FieldTable.tag(h)
        slots[i] = p
        count += 1
    }

    /// Replaces the value of the field at `slot`.
    func setValue(at slot: Int, _ v: UnsafeRawBufferPointer) {
        var p = slots[slot]!
        let fl = FieldTable.fieldLength(p)
        if FieldTable.valueLength(p) != v.count {
            p = realloc(p, 8 + fl + v.count)!
            p.storeBytes(of: UInt32(v.count), toByteOffset: 4, as: UInt32.self)
            slots[slot] = p
        }
        if v.count > 0 { memcpy(p + 8 + fl, v.baseAddress!, v.count) }
    }

    /// Sets `f` to `v`; true if the field is new.
    @discardableResult
    func set(_ f: UnsafeRawBufferPointer, _ v: UnsafeRawBufferPointer) -> Bool {
        let i = find(f)
        if i >= 0 { setValue(at: i, v); return false }
        insertNew(f, v)
        return true
    }

    /// Removes the field at `slot`.
    func remove(slot i: Int) {
        free(slots[i]!)
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
        // Shrink below 10% fill, as Redis's dicts do.
        if capacity > FieldTable.minCapacity && count * 10 < capacity { resize(for: count) }
    }

    @discardableResult
    func delete(_ f: UnsafeRawBufferPointer) -> Bool {
        let i = find(f)
        if i < 0 { return false }
        remove(slot: i)
        return true
    }

    private func resize(for n: Int) {
        var newCap = FieldTable.minCapacity
        while newCap * 3 < n * 4 + 4 || newCap < n * 2 { newCap <<= 1 }
        if newCap == capacity && tombstones == 0 { return }
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
            let h = hash(FieldTable.field(p))
            var j = Int(truncatingIfNeeded: h) & mask
            while ctrl[j] != 0 { j = (j + 1) & mask }
            ctrl[j] = FieldTable.tag(h)
            slots[j] = p
        }
        oldCtrl.deallocate()
        oldSlots.deallocate()
    }

    // MARK: iteration

    func forEach(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) {
        for i in 0..<capacity where ctrl[i] >= 0x80 {
            let p = slots[i]!
            body(FieldTable.field(p), FieldTable.value(p))
        }
    }

    /// One HSCAN step: calls `body` for each field whose home bucket is the
    /// cursor's; returns the next cursor (0 when done).
    func scanStep(cursor: UInt64, _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) -> UInt64 {
        if count == 0 { return 0 }
        let m = UInt64(mask)
        let bucket = Int(cursor & m)
        var i = bucket
        while ctrl[i] != 0 {
            if ctrl[i] >= 0x80 {
                let p = slots[i]!
                let f = FieldTable.field(p)
                if Int(truncatingIfNeeded: hash(f)) & mask == bucket { body(f, FieldTable.value(p)) }
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

    /// A uniformly chosen full slot (the table must not be empty).
    func randomSlot() -> Int {
        while true {
            let i = Int.random(in: 0..<capacity)
            if ctrl[i] >= 0x80 { return i }
        }
    }

    /// Slots of all fields.
    func allSlots() -> [Int] {
        var r: [Int] = []
        r.reserveCapacity(count)
        for i in 0..<capacity where ctrl[i] >= 0x80 { r.append(i) }
        return r
    }

    var allocatedBytes: Int {
        var n = capacity * (1 + MemoryLayout<UnsafeMutableRawPointer?>.stride)
        for i in 0..<capacity where ctrl[i] >= 0x80 { n += FieldTable.blockSize(slots[i]!) }
        return n
    }
}
