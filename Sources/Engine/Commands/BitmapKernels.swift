// Word-at-a-time loops behind BITCOUNT, BITPOS and BITOP. Bits are numbered
// from the most significant bit of the first byte, so a 64-bit word loaded
// from memory is byte-swapped (big-endian view) before counting leading zeros.

import Glibc

enum BitmapKernels {
    enum Op { case and, or, xor, not }

    @inline(__always)
    private static func word(_ p: UnsafeRawPointer, _ byteOffset: Int) -> UInt64 {
        p.loadUnaligned(fromByteOffset: byteOffset, as: UInt64.self)
    }

    /// Number of set bits in `n` bytes at `p`.
    static func popcount(_ p: UnsafeRawPointer, _ n: Int) -> Int {
        var i = 0
        var c0 = 0, c1 = 0, c2 = 0, c3 = 0
        while i + 32 <= n {
            c0 &+= word(p, i).nonzeroBitCount
            c1 &+= word(p, i + 8).nonzeroBitCount
            c2 &+= word(p, i + 16).nonzeroBitCount
            c3 &+= word(p, i + 24).nonzeroBitCount
            i += 32
        }
        while i + 8 <= n {
            c0 &+= word(p, i).nonzeroBitCount
            i += 8
        }
        let b = p.assumingMemoryBound(to: UInt8.self)
        while i < n {
            c1 &+= b[i].nonzeroBitCount
            i += 1
        }
        return c0 &+ c1 &+ c2 &+ c3
    }

    /// Number of set bits among bits `first...last` of `v` (0 when first > last).
    static func countBits(_ v: UnsafeRawBufferPointer, from first: Int, through last: Int) -> Int {
        if first > last { return 0 }
        let p = v.baseAddress!
        let b0 = first >> 3, b1 = last >> 3
        var n = popcount(p + b0, b1 - b0 + 1)
        // Take out the bits of the edge bytes that lie outside the range.
        let head = p.load(fromByteOffset: b0, as: UInt8.self) & ~UInt8(truncatingIfNeeded: 0xFF >> (first & 7))
        let tail = p.load(fromByteOffset: b1, as: UInt8.self) & UInt8(truncatingIfNeeded: 0xFF >> ((last & 7) + 1))
        n -= head.nonzeroBitCount + tail.nonzeroBitCount
        return n
    }

    /// Position of the first bit equal to `bit` among bits `first...last` of
    /// `v`, or -1.
    static func firstBit(_ v: UnsafeRawBufferPointer, _ bit: Bool, from first: Int, through last: Int) -> Int {
        if first > last { return -1 }
        let p = v.baseAddress!
        let b = p.assumingMemoryBound(to: UInt8.self)
        @inline(__always) func isSet(_ i: Int) -> Bool { b[i >> 3] & (UInt8(0x80) >> UInt8(i & 7)) != 0 }
        var i = first
        // Up to the next byte boundary one bit at a time.
        while i <= last && i & 7 != 0 {
            if isSet(i) == bit { return i }
            i += 1
        }
        // Whole words: skip runs of words holding none of the wanted bit.
        let skipWord: UInt64 = bit ? 0 : ~0
        while i + 255 <= last {
            let o = i >> 3
            let w0 = word(p, o), w1 = word(p, o + 8), w2 = word(p, o + 16), w3 = word(p, o + 24)
            let none = bit ? (w0 | w1 | w2 | w3) == 0 : (w0 & w1 & w2 & w3) == ~0
            if !none { break }
            i += 256
        }
        while i + 63 <= last {
            let w = word(p, i >> 3)
            if w != skipWord {
                let x = UInt64(bigEndian: w)
                return i + (bit ? x : ~x).leadingZeroBitCount
            }
            i += 64
        }
        let skipByte: UInt8 = bit ? 0 : 0xFF
        while i + 7 <= last {
            let x = b[i >> 3]
            if x != skipByte { return i + (bit ? x : ~x).leadingZeroBitCount }
            i += 8
        }
        while i <= last {
            if isSet(i) == bit { return i }
            i += 1
        }
        return -1
    }

    /// BITOP: combines `sources` (shorter ones padded with zeros) into `out`,
    /// whose size is the longest source's.
    static func combine(_ op: Op, _ sources: [UnsafeRawBufferPointer], into out: UnsafeMutableRawBufferPointer) {
        let n = out.count
        let o = out.baseAddress!
        let first = sources[0]
        if first.count > 0 { o.copyMemory(from: first.baseAddress!, byteCount: first.count) }
        if first.count < n { memset(o + first.count, 0, n - first.count) }
        switch op {
        case .not:
            var i = 0
            while i + 8 <= n {
                o.storeBytes(of: ~word(o, i), toByteOffset: i, as: UInt64.self)
                i += 8
            }
            while i < n {
                o.storeBytes(of: ~o.load(fromByteOffset: i, as: UInt8.self), toByteOffset: i, as: UInt8.self)
                i += 1
            }
        case .and:
            var valid = first.count  // bytes past this are already zero
            for s in sources.dropFirst() {
                valid = min(valid, s.count)
                if valid > 0 { apply(o, s.baseAddress!, valid) { $0 & $1 } byte: { $0 & $1 } }
            }
            if valid < n { memset(o + valid, 0, n - valid) }
        case .or:
            for s in sources.dropFirst() where s.count > 0 {
                apply(o, s.baseAddress!, s.count) { $0 | $1 } byte: { $0 | $1 }
            }
        case .xor:
            for s in sources.dropFirst() where s.count > 0 {
                apply(o, s.baseAddress!, s.count) { $0 ^ $1 } byte: { $0 ^ $1 }
            }
        }
    }

    /// o[0..<n] = f(o[0..<n], s[0..<n]), a word at a time.
    @inline(__always)
    private static func apply(_ o: UnsafeMutableRawPointer, _ s: UnsafeRawPointer, _ n: Int,
                              _ f: (UInt64, UInt64) -> UInt64, byte g: (UInt8, UInt8) -> UInt8) {
        var i = 0
        while i + 32 <= n {
            o.storeBytes(of: f(word(o, i), word(s, i)), toByteOffset: i, as: UInt64.self)
            o.storeBytes(of: f(word(o, i + 8), word(s, i + 8)), toByteOffset: i + 8, as: UInt64.self)
            o.storeBytes(of: f(word(o, i + 16), word(s, i + 16)), toByteOffset: i + 16, as: UInt64.self)
            o.storeBytes(of: f(word(o, i + 24), word(s, i + 24)), toByteOffset: i + 24, as: UInt64.self)
            i += 32
        }
        while i + 8 <= n {
            o.storeBytes(of: f(word(o, i), word(s, i)), toByteOffset: i, as: UInt64.self)
            i += 8
        }
        while i < n {
            let r = g(o.load(fromByteOffset: i, as: UInt8.self), s.load(fromByteOffset: i, as: UInt8.self))
            o.storeBytes(of: r, toByteOffset: i, as: UInt8.self)
            i += 1
        }
    }
}
