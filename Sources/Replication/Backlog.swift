// The replication backlog (Redis's repl_backlog): the last `size` bytes of
// the write stream, by stream offset, so a replica that lost its link can
// continue from where it stopped (PSYNC +CONTINUE) instead of loading the
// whole dataset again. A ring buffer: appending never moves old bytes.

struct Backlog {
    private var ring: [UInt8]
    /// Where the next byte goes in `ring`.
    private var head = 0
    /// Bytes held (at most ring.count).
    private(set) var histlen = 0
    /// Stream offset of the last byte appended (master_repl_offset).
    private(set) var endOffset: Int64

    /// An empty backlog of `size` bytes whose next byte has offset `endOffset + 1`.
    init(size: Int, endOffset: Int64) {
        ring = [UInt8](repeating: 0, count: max(1, size))
        self.endOffset = endOffset
    }

    var size: Int { ring.count }

    /// repl_backlog_first_byte_offset: the offset of the oldest byte held.
    var firstOffset: Int64 { endOffset - Int64(histlen) + 1 }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        endOffset += Int64(bytes.count)
        var src = bytes
        // Only the last ring.count bytes can be kept.
        if src.count > ring.count { src = UnsafeRawBufferPointer(rebasing: src[(src.count - ring.count)...]) }
        ring.withUnsafeMutableBytes { dst in
            var from = 0
            while from < src.count {
                let n = min(src.count - from, dst.count - head)
                dst.baseAddress!.advanced(by: head).copyMemory(from: src.baseAddress!.advanced(by: from), byteCount: n)
                head = (head + n) % dst.count
                from += n
            }
        }
        histlen = min(ring.count, histlen + src.count)
    }

    mutating func append(_ bytes: [UInt8]) { bytes.withUnsafeBytes { append($0) } }

    /// True if a replica that wants the stream from `offset` on can be served
    /// from here (offset may be one past the end: nothing missed).
    func covers(_ offset: Int64) -> Bool {
        histlen > 0 ? offset >= firstOffset && offset <= endOffset + 1 : offset == endOffset + 1
    }

    /// The bytes from stream offset `offset` to the end; `covers(offset)` must hold.
    func bytes(from offset: Int64) -> [UInt8] {
        let count = Int(endOffset - offset + 1)
        if count <= 0 { return [] }
        var out = [UInt8]()
        out.reserveCapacity(count)
        let start = (head - count + ring.count) % ring.count
        if start + count <= ring.count {
            out.append(contentsOf: ring[start..<(start + count)])
        } else {
            out.append(contentsOf: ring[start...])
            out.append(contentsOf: ring[0..<(count - (ring.count - start))])
        }
        return out
    }

    /// A backlog of another size holding as much of this one's tail as fits
    /// (CONFIG SET repl-backlog-size).
    func resized(to newSize: Int) -> Backlog {
        var b = Backlog(size: newSize, endOffset: firstOffset - 1)
        b.append(bytes(from: firstOffset))
        return b
    }
}
