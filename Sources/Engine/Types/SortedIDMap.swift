// An ordered map from stream IDs to small values: the pending entries lists
// of consumer groups and consumers (Redis keeps them in radix trees). Keys
// and values live in sorted chunks of at most `maxChunk` slots, so inserting
// or removing anywhere moves at most one chunk's worth of memory, lookups are
// two binary searches, and there is no allocation per entry.

struct SortedIDMap<V> {
    struct Chunk {
        var keys: [StreamID]
        var values: [V]
    }

    private(set) var chunks: [Chunk] = []
    private(set) var count = 0
    static var maxChunk: Int { 128 }

    var isEmpty: Bool { count == 0 }

    /// Index of the chunk that holds `id` or would receive it.
    @inline(__always) private func chunkIndex(_ id: StreamID) -> Int {
        var lo = 0, hi = chunks.count - 1
        // last chunk whose first key <= id (0 if none)
        while lo < hi {
            let mid = (lo + hi + 1) >> 1
            if chunks[mid].keys[0] <= id { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }

    /// Position of the first key >= id in `keys`.
    @inline(__always) private static func lowerBound(_ keys: [StreamID], _ id: StreamID) -> Int {
        var lo = 0, hi = keys.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if keys[mid] < id { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    func find(_ id: StreamID) -> V? {
        if chunks.isEmpty { return nil }
        let ci = chunkIndex(id)
        let k = chunks[ci].keys
        let i = SortedIDMap.lowerBound(k, id)
        return i < k.count && k[i] == id ? chunks[ci].values[i] : nil
    }

    func contains(_ id: StreamID) -> Bool { find(id) != nil }

    /// Inserts `id` -> `v`; false (and no change) if `id` is present.
    @discardableResult
    mutating func insert(_ id: StreamID, _ v: V) -> Bool {
        if chunks.isEmpty {
            chunks.append(Chunk(keys: [id], values: [v]))
            count = 1
            return true
        }
        let ci = chunkIndex(id)
        let i = SortedIDMap.lowerBound(chunks[ci].keys, id)
        if i < chunks[ci].keys.count && chunks[ci].keys[i] == id { return false }
        chunks[ci].keys.insert(id, at: i)
        chunks[ci].values.insert(v, at: i)
        count += 1
        if chunks[ci].keys.count > SortedIDMap.maxChunk {
            // Split; appends (the common case) leave a full chunk behind.
            let n = chunks[ci].keys.count
            let at = i == n - 1 ? n - 1 : n / 2
            let right = Chunk(keys: Array(chunks[ci].keys[at...]), values: Array(chunks[ci].values[at...]))
            chunks[ci].keys.removeSubrange(at...)
            chunks[ci].values.removeSubrange(at...)
            chunks.insert(right, at: ci + 1)
        }
        return true
    }

    /// Applies `f` to the value of `id`; false if absent.
    @discardableResult
    mutating func update(_ id: StreamID, _ f: (inout V) -> Void) -> Bool {
        if chunks.isEmpty { return false }
        let ci = chunkIndex(id)
        let i = SortedIDMap.lowerBound(chunks[ci].keys, id)
        guard i < chunks[ci].keys.count && chunks[ci].keys[i] == id else { return false }
        f(&chunks[ci].values[i])
        return true
    }

    @discardableResult
    mutating func remove(_ id: StreamID) -> V? {
        if chunks.isEmpty { return nil }
        let ci = chunkIndex(id)
        let i = SortedIDMap.lowerBound(chunks[ci].keys, id)
        guard i < chunks[ci].keys.count && chunks[ci].keys[i] == id else { return nil }
        chunks[ci].keys.remove(at: i)
        let v = chunks[ci].values.remove(at: i)
        count -= 1
        if chunks[ci].keys.isEmpty {
            chunks.remove(at: ci)
        } else if ci + 1 < chunks.count && chunks[ci].keys.count + chunks[ci + 1].keys.count <= SortedIDMap.maxChunk / 2 {
            let next = chunks.remove(at: ci + 1)
            chunks[ci].keys += next.keys
            chunks[ci].values += next.values
        }
        return v
    }

    mutating func removeAll() { chunks = []; count = 0 }

    var first: StreamID? { chunks.first?.keys.first }
    var last: StreamID? { chunks.last?.keys.last }

    /// Visits entries with key >= `from` in ascending order until `body` returns false.
    func forEach(from: StreamID = .zero, _ body: (StreamID, V) -> Bool) {
        if chunks.isEmpty { return }
        var ci = chunkIndex(from)
        var i = SortedIDMap.lowerBound(chunks[ci].keys, from)
        while ci < chunks.count {
            let c = chunks[ci]
            while i < c.keys.count {
                if !body(c.keys[i], c.values[i]) { return }
                i += 1
            }
            ci += 1
            i = 0
        }
    }

    /// The first key >= `from`, if any.
    func firstKey(atOrAfter from: StreamID) -> StreamID? {
        var r: StreamID? = nil
        forEach(from: from) { k, _ in r = k; return false }
        return r
    }
}
