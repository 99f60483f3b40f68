// LZF compression as used by RDB for strings (liblzf's format): literal runs
// of up to 32 bytes and back-references of 3..264 bytes within 8 KiB.

public enum LZF {
    /// Decompresses `input` into exactly `outputCount` bytes, or nil if malformed.
    public static func decompress(_ input: UnsafeRawBufferPointer, outputCount: Int) -> [UInt8]? {
        var out = [UInt8]()
        out.reserveCapacity(outputCount)
        var i = 0
        let n = input.count
        while i < n {
            let ctrl = Int(input[i]); i += 1
            if ctrl < 32 {
                let len = ctrl + 1
                if i + len > n || out.count + len > outputCount { return nil }
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[i..<(i + len)]))
                i += len
            } else {
                var len = ctrl >> 5
                if len == 7 {
                    if i >= n { return nil }
                    len += Int(input[i]); i += 1
                }
                if i >= n { return nil }
                let back = ((ctrl & 0x1f) << 8) + Int(input[i]) + 1
                i += 1
                len += 2
                if back > out.count || out.count + len > outputCount { return nil }
                var from = out.count - back
                for _ in 0..<len { out.append(out[from]); from += 1 }
            }
        }
        return out.count == outputCount ? out : nil
    }

    /// Compresses `input`; nil when the result would not be smaller.
    public static func compress(_ input: UnsafeRawBufferPointer) -> [UInt8]? {
        let n = input.count
        if n < 4 { return nil }
        let hashBits = 14
        var table = [Int](repeating: -1, count: 1 << hashBits)
        var out = [UInt8]()
        out.reserveCapacity(n)
        var literalStart = 0
        var i = 0
        func flushLiterals(upTo end: Int) {
            var s = literalStart
            while s < end {
                let len = min(32, end - s)
                out.append(UInt8(len - 1))
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[s..<(s + len)]))
                s += len
            }
        }
        while i + 2 < n {
            let v = (Int(input[i]) << 16) | (Int(input[i + 1]) << 8) | Int(input[i + 2])
            let h = ((v >> (24 - hashBits)) ^ v) & ((1 << hashBits) - 1)
            let ref = table[h]
            table[h] = i
            let off = i - ref - 1
            if ref >= 0 && off < 8192 && input[ref] == input[i] && input[ref + 1] == input[i + 1]
                && input[ref + 2] == input[i + 2] {
                var len = 3
                let maxLen = min(264, n - i)
                while len < maxLen && input[ref + len] == input[i + len] { len += 1 }
                flushLiterals(upTo: i)
                let l = len - 2
                if l < 7 {
                    out.append(UInt8((l << 5) | (off >> 8)))
                } else {
                    out.append(UInt8((7 << 5) | (off >> 8)))
                    out.append(UInt8(l - 7))
                }
                out.append(UInt8(off & 0xff))
                i += len
                literalStart = i
                if out.count >= n { return nil }
            } else {
                i += 1
            }
        }
        flushLiterals(upTo: n)
        return out.count < n ? out : nil
    }
}
