// MEMORY USAGE's byte counts: the real sizes of the allocations behind a key
// (jemalloc's malloc_usable_size of the blocks we hold, nallocx for buffers
// whose start we do not hold, such as Swift arrays' storage). Aggregates with
// one allocation per element are sampled like Redis's objectComputeSize: the
// first `samples` elements are measured and their average is multiplied by
// the element count (samples 0: every element).

import CJemalloc
import Glibc

/// Real size of a block of `n` requested bytes (jemalloc's size classes).
@inline(__always) func allocSize(_ n: Int) -> Int { n <= 0 ? 0 : Int(nallocx(n, 0)) }

/// Real size of a malloc'ed block.
@inline(__always) func blockSize(_ p: UnsafeRawPointer?) -> Int { p.map { malloc_usable_size(UnsafeMutableRawPointer(mutating: $0)) } ?? 0 }

/// Real size of a class instance's allocation.
@inline(__always) func instanceSize(_ o: AnyObject) -> Int { malloc_usable_size(Unmanaged.passUnretained(o).toOpaque()) }

/// Storage of a Swift array: a 32-byte header plus `capacity` elements.
@inline(__always) func arrayStorageSize(capacity: Int, stride: Int) -> Int { capacity == 0 ? 0 : allocSize(32 + capacity * stride) }

/// The two arrays of a SlotTable (control bytes and element pointers).
@inline(__always) func slotTableSize(capacity: Int) -> Int {
    capacity == 0 ? 0 : allocSize(capacity) + allocSize(capacity * MemoryLayout<UnsafeMutableRawPointer?>.stride)
}

/// Sum of `size` over the elements of `table`, sampled: measures at most
/// `samples` elements (0: all) and extrapolates to the whole table.
func sampledElementBytes<L: MemberLayout>(_ table: MemberTable<L>, samples: Int,
                                          _ size: (UnsafeMutableRawPointer) -> Int) -> Int {
    let n = table.count
    if n == 0 { return 0 }
    let limit = samples <= 0 ? n : min(samples, n)
    var seen = 0, bytes = 0, slot = 0
    let cap = table.capacity
    while seen < limit && slot < cap {
        if table.isFull(slot) {
            bytes += size(table.element(at: slot))
            seen += 1
        }
        slot += 1
    }
    if seen == 0 { return 0 }
    return seen == n ? bytes : Int(Double(bytes) / Double(seen) * Double(n))
}

extension SetValue {
    public func memoryUsage(samples: Int) -> Int {
        var n = instanceSize(self)
        if isIntset { return n + blockSize(intsetBlock) }
        n += blockSize(tablePtr) + slotTableSize(capacity: table.capacity)
        n += sampledElementBytes(table, samples: samples) { blockSize($0) }
        return n
    }
}

extension HashValue {
    public func memoryUsage(samples: Int) -> Int {
        var n = instanceSize(self)
        guard let t = table else { return n + blockSize(lp) }
        n += blockSize(t) + slotTableSize(capacity: t.pointee.capacity)
        n += sampledElementBytes(t.pointee, samples: samples) { blockSize($0) }
        return n
    }
}

extension ZSetValue {
    public func memoryUsage(samples: Int) -> Int {
        var n = instanceSize(self)
        if isListpack { return n + blockSize(lp.buf) }
        let s = sl!
        n += blockSize(s.header) + slotTableSize(capacity: s.dict.capacity)
        n += sampledElementBytes(s.dict, samples: samples) { blockSize($0) }
        return n
    }
}

extension ListValue {
    public func memoryUsage(samples: Int) -> Int {
        // The chunk array's block: its 8-byte header, then the chunk descriptors.
        var n = instanceSize(self) + blockSize(chunks.block)
        let total = chunks.count
        if total == 0 { return n }
        let limit = samples <= 0 ? total : min(samples, total)
        var bytes = 0
        for i in 0..<limit { bytes += blockSize(chunks[i].buf) }
        n += limit == total ? bytes : Int(Double(bytes) / Double(limit) * Double(total))
        return n
    }
}
