// A growable byte buffer with a read cursor, owned by one connection.
//
// Used for both directions: the query buffer (socket -> parser) and the reply
// buffer (encoder -> socket). Memory is raw and reused across commands, so the
// steady state allocates nothing.

import Glibc

public final class ByteBuffer {
    public private(set) var base: UnsafeMutableRawPointer
    public private(set) var capacity: Int
    /// First unread byte.
    public var readIndex = 0
    /// One past the last written byte.
    public var writeIndex = 0

    public init(capacity: Int = 16 * 1024) {
        self.capacity = max(capacity, 64)
        base = malloc(self.capacity)!
    }

    deinit { free(base) }

    @inlinable public var readableBytes: Int { writeIndex - readIndex }
    @inlinable public var writableBytes: Int { capacity - writeIndex }
    @inlinable public var isEmpty: Bool { readIndex == writeIndex }

    /// Makes room for `n` more bytes after `writeIndex`.
    @inline(__always)
    public func reserve(_ n: Int) {
        if capacity - writeIndex < n { grow(n) }
    }

    @inline(never)
    private func grow(_ n: Int) {
        var newCap = max(capacity, 1024)
        while newCap - writeIndex < n { newCap *= 2 }
        base = realloc(base, newCap)!
        capacity = newCap
    }

    /// Moves unread bytes to the front; returns how far they moved.
    @discardableResult
    public func compact() -> Int {
        let shift = readIndex
        if shift == 0 { return 0 }
        let n = writeIndex - readIndex
        if n > 0 { memmove(base, base + readIndex, n) }
        readIndex = 0
        writeIndex = n
        return shift
    }

    /// Drops all content and, if the buffer grew large, gives memory back.
    public func reset(shrinkTo limit: Int = 64 * 1024) {
        readIndex = 0
        writeIndex = 0
        if capacity > limit {
            free(base)
            capacity = 16 * 1024
            base = malloc(capacity)!
        }
    }

    /// Gives the memory of an empty buffer back (capacity 0 until the next reserve).
    public func release() {
        guard readIndex == writeIndex, capacity > 0 else { return }
        free(base)
        base = malloc(1)!
        capacity = 0
        readIndex = 0
        writeIndex = 0
    }

    /// Shrinks an idle buffer's capacity back to `to` if it is empty and larger
    /// than `factor` times that.
    public func shrinkIfIdle(to: Int, factor: Int = 4) {
        if readIndex == writeIndex && capacity > to * factor {
            free(base)
            capacity = to
            base = malloc(capacity)!
            readIndex = 0
            writeIndex = 0
        }
    }

    @inline(__always)
    public func append(_ p: UnsafeRawPointer, _ n: Int) {
        reserve(n)
        (base + writeIndex).copyMemory(from: p, byteCount: n)
        writeIndex += n
    }

    @inline(__always)
    public func append(_ b: UInt8) {
        reserve(1)
        base.storeBytes(of: b, toByteOffset: writeIndex, as: UInt8.self)
        writeIndex += 1
    }

    @inline(__always)
    public func append(_ s: StaticString) {
        append(s.utf8Start, s.utf8CodeUnitCount)
    }

    @inline(__always)
    public func append(_ bytes: UnsafeRawBufferPointer) {
        if let p = bytes.baseAddress { append(p, bytes.count) }
    }

    public func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    public func append(string s: String) {
        var s = s
        s.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    /// Appends the decimal form of `v`.
    @inline(__always)
    public func appendDecimal(_ v: Int64) {
        reserve(21)
        let p = (base + writeIndex).assumingMemoryBound(to: UInt8.self)
        writeIndex += writeDecimal(v, to: p)
    }

    /// Removes bytes written after `mark` (used to discard a reply).
    public func truncate(to mark: Int) { writeIndex = mark }

    /// Inserts `bytes` at `offset`, shifting what follows (for deferred headers).
    public func insert(_ bytes: UnsafeRawBufferPointer, at offset: Int) {
        let n = bytes.count
        reserve(n)
        memmove(base + offset + n, base + offset, writeIndex - offset)
        (base + offset).copyMemory(from: bytes.baseAddress!, byteCount: n)
        writeIndex += n
    }

    public var readableView: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + readIndex, count: writeIndex - readIndex)
    }
}

/// Writes the decimal digits of `v` at `p`; returns the count (at most 20).
@inline(__always)
public func writeDecimal(_ v: Int64, to p: UnsafeMutablePointer<UInt8>) -> Int {
    var u = v.magnitude
    var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch
    return withUnsafeMutableBytes(of: &tmp) { raw -> Int in
        let t = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var n = 0
        repeat {
            t[n] = UInt8(truncatingIfNeeded: u % 10) + 48
            u /= 10
            n += 1
        } while u != 0
        var o = 0
        if v < 0 { p[0] = UInt8(ascii: "-"); o = 1 }
        for i in 0..<n { p[o + i] = t[n - 1 - i] }
        return o + n
    }
}
