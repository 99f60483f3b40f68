// The chunk descriptors of a list (ListValue.chunks): one malloc'ed block,
//   UInt32 count | UInt32 capacity | ListChunk × capacity
// instead of a Swift Array, whose 32-byte header puts a small list's single
// descriptor in a 64-byte block; here it is 8 + 32 = 40 bytes (jemalloc's
// 48-byte class). ListChunk is a trivial struct, so moves are memmoves.
// The owner calls deallocate() (the chunks' buffers are its business).

import Glibc

struct ChunkArray: RandomAccessCollection {
    private var base: UnsafeMutableRawPointer? = nil
    private static let headerSize = 8
    private static let stride = MemoryLayout<ListChunk>.stride

    init() {}

    var startIndex: Int { 0 }
    var endIndex: Int { count }
    @inline(__always) var count: Int { base.map { Int($0.load(as: UInt32.self)) } ?? 0 }
    var capacity: Int { base.map { Int($0.load(fromByteOffset: 4, as: UInt32.self)) } ?? 0 }

    /// Bytes requested for the block (0 when empty).
    var byteCount: Int { base == nil ? 0 : ChunkArray.headerSize + capacity * ChunkArray.stride }
    /// The block, for MEMORY USAGE.
    var block: UnsafeRawPointer? { base.map { UnsafeRawPointer($0) } }

    @inline(__always) private var elements: UnsafeMutablePointer<ListChunk> {
        (base! + ChunkArray.headerSize).assumingMemoryBound(to: ListChunk.self)
    }

    @inline(__always) private func setCount(_ n: Int) {
        base!.storeBytes(of: UInt32(n), as: UInt32.self)
    }

    subscript(i: Int) -> ListChunk {
        @inline(__always) unsafeAddress { UnsafePointer(elements + i) }
        @inline(__always) nonmutating unsafeMutableAddress { elements + i }
    }

    var first: ListChunk? { count == 0 ? nil : self[0] }
    var last: ListChunk? { count == 0 ? nil : self[count - 1] }

    /// Room for one more descriptor (capacity doubles; the first block holds one).
    private mutating func reserveOneMore() {
        let n = count, cap = capacity
        if n < cap { return }
        let newCap = cap == 0 ? 1 : cap * 2
        let p = realloc(base, ChunkArray.headerSize + newCap * ChunkArray.stride)!
        p.storeBytes(of: UInt32(n), as: UInt32.self)
        p.storeBytes(of: UInt32(newCap), toByteOffset: 4, as: UInt32.self)
        base = p
    }

    mutating func append(_ c: ListChunk) {
        reserveOneMore()
        let n = count
        (elements + n).initialize(to: c)
        setCount(n + 1)
    }

    mutating func insert(_ c: ListChunk, at i: Int) {
        reserveOneMore()
        let n = count
        let e = elements
        if i < n { memmove(e + i + 1, e + i, (n - i) * ChunkArray.stride) }
        (e + i).initialize(to: c)
        setCount(n + 1)
    }

    @discardableResult
    mutating func remove(at i: Int) -> ListChunk {
        let n = count
        let e = elements
        let c = e[i]
        if i < n - 1 { memmove(e + i, e + i + 1, (n - i - 1) * ChunkArray.stride) }
        if n == 1 {
            free(base)
            base = nil
        } else {
            setCount(n - 1)
        }
        return c
    }

    @discardableResult mutating func removeFirst() -> ListChunk { remove(at: 0) }
    @discardableResult mutating func removeLast() -> ListChunk { remove(at: count - 1) }

    /// Frees the block (not the chunks' buffers).
    mutating func deallocate() {
        free(base)
        base = nil
    }
}
