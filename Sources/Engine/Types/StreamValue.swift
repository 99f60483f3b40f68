// The stream value type (Redis's t_stream.c data structure).
//
// Entries live in nodes: listpacks in Redis 7.0's exact byte layout, each
// keyed by its master ID (the ID of its first entry), kept in an array sorted
// by that ID (Redis uses a radix tree keyed by the big-endian ID; a sorted
// array of 24-byte node records is the same order at less overhead). A node:
//
//   count | deleted | num-fields | field_1 ... field_N | 0           (master entry)
//   flags | ms-diff | seq-diff | [num-fields | field value ...] | values... | lp-count
//
// IDs are deltas from the master ID; an entry whose fields are the master's
// sets the SAMEFIELDS flag and stores only its values. XDEL and trimming
// inside a node only flag entries DELETED; a node whose live count reaches
// zero is freed. Nodes fill up to stream-node-max-entries entries or
// stream-node-max-bytes bytes, as in Redis, so `~` trimming removes exactly
// the entries Redis removes.

import Glibc
import RESP
import CJemalloc

struct StreamNode {
    var master: StreamID
    var lp: UnsafeMutableRawPointer
}

/// The master entry of a node, decoded.
struct NodeHeader {
    var count: Int
    var deleted: Int
    var masterFieldCount: Int
    /// First master field element.
    var masterFields: UnsafeRawPointer
    /// First entry (after the master terminator), or the listpack's end.
    var firstEntry: UnsafeRawPointer
    /// Offsets of the count and deleted elements.
    static let countOffset = Listpack.headerSize
}

/// One entry of a node, decoded (its fields are read on demand).
struct RawEntry {
    var flagsPtr: UnsafeRawPointer
    var flags: Int64
    var id: StreamID
    var numFields: Int
    /// First field (or, with SAMEFIELDS, first value) element.
    var data: UnsafeRawPointer
    var sameFields: Bool
    /// The element after this entry's lp-count.
    var next: UnsafeRawPointer

    var isDeleted: Bool { flags & StreamValue.flagDeleted != 0 }
}

/// The fields of an entry, valid while the stream is unchanged.
struct EntryFields {
    var count: Int
    var same: Bool
    var masterFields: UnsafeRawPointer
    var data: UnsafeRawPointer

    /// Calls `body` with each field and value, in order.
    @inline(__always)
    func forEach(_ body: (LPElement, LPElement) -> Void) {
        var f = masterFields, d = data
        for _ in 0..<count {
            if same {
                let fe = Listpack.element(f), ve = Listpack.element(d)
                f += fe.size; d += ve.size
                body(fe, ve)
            } else {
                let fe = Listpack.element(d)
                d += fe.size
                let ve = Listpack.element(d)
                d += ve.size
                body(fe, ve)
            }
        }
    }
}

public final class StreamValue: ValueObject {
    static let flagDeleted: Int64 = 1
    static let flagSameFields: Int64 = 2
    static let listpackMaxSize = 1 << 30

    var nodes: [StreamNode] = []
    public internal(set) var length = 0
    public internal(set) var lastID = StreamID.zero
    public internal(set) var firstID = StreamID.zero
    public internal(set) var maxDeletedID = StreamID.zero
    public internal(set) var entriesAdded: UInt64 = 0
    /// Consumer groups, sorted by name bytes (Redis's radix tree order).
    var groups: [StreamGroup] = []

    public init() {}

    deinit { for n in nodes { free(n.lp) } }

    public var count: Int { length }
    public var encodingName: StaticString { "stream" }

    public func duplicate() -> StreamValue {
        let s = StreamValue()
        s.nodes = nodes.map { n in
            let size = Listpack.totalBytes(n.lp)
            let p = malloc(size)!
            p.copyMemory(from: n.lp, byteCount: size)
            return StreamNode(master: n.master, lp: p)
        }
        s.length = length
        s.lastID = lastID
        s.firstID = firstID
        s.maxDeletedID = maxDeletedID
        s.entriesAdded = entriesAdded
        s.groups = groups.map { $0.duplicate() }
        return s
    }

    /// Bytes held by the nodes (MEMORY USAGE).
    var allocatedBytes: Int {
        var n = nodes.capacity * MemoryLayout<StreamNode>.stride
        for node in nodes { n += malloc_usable_size(node.lp) }
        for g in groups { n += g.allocatedBytes }
        return n
    }

    // MARK: node decoding

    @inline(__always) static func header(_ lp: UnsafeRawPointer) -> NodeHeader {
        var p = lp + Listpack.headerSize
        var e = Listpack.element(p)
        let count = Int(e.int); p += e.size
        e = Listpack.element(p)
        let deleted = Int(e.int); p += e.size
        e = Listpack.element(p)
        let nf = Int(e.int); p += e.size
        let fields = p
        for _ in 0..<nf { p += Listpack.skip(p) }
        p += Listpack.skip(p)  // master terminator
        return NodeHeader(count: count, deleted: deleted, masterFieldCount: nf, masterFields: fields, firstEntry: p)
    }

    /// Decodes the entry at `p` (not the listpack end).
    @inline(__always) static func entry(at p: UnsafeRawPointer, master: StreamID, header h: NodeHeader) -> RawEntry {
        var q = p
        var e = Listpack.element(q)
        let flags = e.int; q += e.size
        e = Listpack.element(q)
        let msDiff = e.int; q += e.size
        e = Listpack.element(q)
        let seqDiff = e.int; q += e.size
        let id = StreamID(ms: master.ms &+ UInt64(bitPattern: msDiff), seq: master.seq &+ UInt64(bitPattern: seqDiff))
        let same = flags & flagSameFields != 0
        var nf = h.masterFieldCount
        if !same {
            e = Listpack.element(q)
            nf = Int(e.int); q += e.size
        }
        let data = q
        for _ in 0..<(same ? nf : 2 * nf) { q += Listpack.skip(q) }
        q += Listpack.skip(q)  // lp-count
        return RawEntry(flagsPtr: p, flags: flags, id: id, numFields: nf, data: data, sameFields: same, next: q)
    }

    @inline(__always) static func isEnd(_ p: UnsafeRawPointer) -> Bool {
        p.load(as: UInt8.self) == Listpack.eof
    }

    /// Index of the node that holds `id` if present: the last node whose master <= id (0 if none).
    @inline(__always) func nodeIndex(for id: StreamID) -> Int {
        var lo = 0, hi = nodes.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) >> 1
            if nodes[mid].master <= id { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }

    // MARK: iteration

    /// Visits the live entries with start <= ID <= end, ascending (or
    /// descending with `reverse`), until `body` returns false. The stream must
    /// not change during the visit.
    func forEachEntry(from start: StreamID, to end: StreamID, reverse: Bool = false,
                      _ body: (StreamID, EntryFields) -> Bool) {
        if nodes.isEmpty || start > end { return }
        if !reverse {
            var ni = nodeIndex(for: start)
            while ni < nodes.count {
                let n = nodes[ni]
                if n.master > end { return }
                let h = StreamValue.header(n.lp)
                var p = h.firstEntry
                while !StreamValue.isEnd(p) {
                    let e = StreamValue.entry(at: p, master: n.master, header: h)
                    p = e.next
                    if e.isDeleted || e.id < start { continue }
                    if e.id > end { return }
                    let f = EntryFields(count: e.numFields, same: e.sameFields, masterFields: h.masterFields, data: e.data)
                    if !body(e.id, f) { return }
                }
                ni += 1
            }
        } else {
            var ni = nodeIndex(for: end)
            var offsets: [UnsafeRawPointer] = []
            while ni >= 0 {
                let n = nodes[ni]
                let h = StreamValue.header(n.lp)
                offsets.removeAll(keepingCapacity: true)
                var p = h.firstEntry
                while !StreamValue.isEnd(p) {
                    offsets.append(p)
                    p = StreamValue.entry(at: p, master: n.master, header: h).next
                }
                for q in offsets.reversed() {
                    let e = StreamValue.entry(at: q, master: n.master, header: h)
                    if e.isDeleted || e.id > end { continue }
                    if e.id < start { return }
                    let f = EntryFields(count: e.numFields, same: e.sameFields, masterFields: h.masterFields, data: e.data)
                    if !body(e.id, f) { return }
                }
                if n.master <= start { return }
                ni -= 1
            }
        }
    }

    /// True if a live entry has this ID.
    func contains(_ id: StreamID) -> Bool {
        var found = false
        forEachEntry(from: id, to: id) { _, _ in found = true; return false }
        return found
    }

    /// The first (or last) live entry's ID; nil when empty.
    func edgeID(first: Bool) -> StreamID? {
        var r: StreamID? = nil
        forEachEntry(from: .zero, to: .max, reverse: !first) { id, _ in r = id; return false }
        return r
    }

    /// ID of the last entry of node `ni`, deleted or not (lpGetEdgeStreamID).
    func lastEntryID(ofNode ni: Int) -> StreamID {
        let n = nodes[ni]
        let h = StreamValue.header(n.lp)
        var p = h.firstEntry
        var last = n.master
        while !StreamValue.isEnd(p) {
            let e = StreamValue.entry(at: p, master: n.master, header: h)
            last = e.id
            p = e.next
        }
        return last
    }

    // MARK: in-place integer edits

    /// Replaces the integer element at byte `offset` of node `ni`, resizing the listpack if needed.
    func replaceInt(node ni: Int, at offset: Int, _ v: Int64) {
        var lp = nodes[ni].lp
        let old = Listpack.element(lp + offset).size
        let new = Listpack.intEntrySize(v)
        let total = Listpack.totalBytes(lp)
        if new != old {
            if new > old && malloc_usable_size(lp) < total + new - old {
                lp = realloc(lp, total + new - old)!
                nodes[ni].lp = lp
            }
            memmove(lp + offset + new, lp + offset + old, total - offset - old)
            Listpack.setTotalBytes(lp, total + new - old)
        }
        _ = Listpack.writeInt(v, lp + offset)
    }

    // MARK: appending

    /// Appends an entry whose field/value pairs are `args[first...]`. The ID
    /// must be greater than `lastID`; the caller checked sizes.
    func append(id: StreamID, args: Args, first: Int, maxEntries: Int, maxBytes: Int) {
        let numFields = (args.count - first) / 2
        var totelelen = 0
        for i in first..<args.count { totelelen += args[i].count }

        var ni = nodes.count - 1
        if ni >= 0 {
            let lp = nodes[ni].lp
            var nodeMax = maxBytes
            if nodeMax == 0 || nodeMax > StreamValue.listpackMaxSize { nodeMax = StreamValue.listpackMaxSize }
            var full = Listpack.totalBytes(lp) + totelelen >= nodeMax
            if !full && maxEntries > 0 {
                var p = UnsafeRawPointer(lp) + Listpack.headerSize
                let c = Listpack.element(p); p += c.size
                if c.int + Listpack.int(p) >= Int64(maxEntries) { full = true }
            }
            if full {
                // Shrink the closed node to fit, as Redis does.
                let size = Listpack.totalBytes(lp)
                if malloc_usable_size(lp) > size + 16 { nodes[ni].lp = realloc(lp, size)! }
                ni = -1
            }
        }

        var flags: Int64 = 0
        var master: StreamID
        var lp: UnsafeMutableRawPointer
        var size: Int
        if ni < 0 {
            // New node with a master entry made of this entry's fields.
            master = id
            var need = Listpack.headerSize + 1 + 3 + Listpack.intEntrySize(Int64(numFields)) + 2
            var i = first
            while i < args.count { need += Listpack.entrySize(args[i]); i += 2 }
            let prealloc = maxBytes > 0 && maxBytes < 4096 ? maxBytes : 4096
            lp = malloc(Swift.max(need + 64, prealloc))!
            size = Listpack.headerSize
            size += Listpack.writeInt(1, lp + size)
            size += Listpack.writeInt(0, lp + size)
            size += Listpack.writeInt(Int64(numFields), lp + size)
            i = first
            while i < args.count { size += Listpack.writeString(args[i], lp + size); i += 2 }
            size += Listpack.writeInt(0, lp + size)
            (lp + size).storeBytes(of: Listpack.eof, as: UInt8.self)
            Listpack.setTotalBytes(lp, size + 1)
            Listpack.setNumElements(lp, 4 + numFields)
            nodes.append(StreamNode(master: id, lp: lp))
            ni = nodes.count - 1
            flags = StreamValue.flagSameFields
        } else {
            master = nodes[ni].master
            let h = StreamValue.header(nodes[ni].lp)
            if numFields == h.masterFieldCount {
                var f = h.masterFields
                var same = true
                var i = first
                while i < args.count {
                    let e = Listpack.element(f)
                    if !Listpack.equals(e, args[i]) { same = false; break }
                    f += e.size
                    i += 2
                }
                if same { flags = StreamValue.flagSameFields }
            }
            replaceInt(node: ni, at: Listpack.headerSize, Int64(h.count + 1))
        }
        let same = flags == StreamValue.flagSameFields
        // Size of the new entry.
        let msDiff = Int64(bitPattern: id.ms &- master.ms)
        let seqDiff = Int64(bitPattern: id.seq &- master.seq)
        var need = Listpack.intEntrySize(flags) + Listpack.intEntrySize(msDiff) + Listpack.intEntrySize(seqDiff)
        if !same { need += Listpack.intEntrySize(Int64(numFields)) }
        var i = first
        while i < args.count {
            if !same { need += Listpack.entrySize(args[i]) }
            need += Listpack.entrySize(args[i + 1])
            i += 2
        }
        let lpCount = Int64(numFields + 3 + (same ? 0 : numFields + 1))
        need += Listpack.intEntrySize(lpCount)

        lp = nodes[ni].lp
        let total = Listpack.totalBytes(lp)
        let cap = malloc_usable_size(lp)
        if total + need > cap {
            let grown = Swift.max(total + need, Swift.min(total * 2, total + 4096))
            lp = realloc(lp, grown)!
            nodes[ni].lp = lp
        }
        size = total - 1  // overwrite the terminator
        size += Listpack.writeInt(flags, lp + size)
        size += Listpack.writeInt(msDiff, lp + size)
        size += Listpack.writeInt(seqDiff, lp + size)
        if !same { size += Listpack.writeInt(Int64(numFields), lp + size) }
        i = first
        while i < args.count {
            if !same { size += Listpack.writeString(args[i], lp + size) }
            size += Listpack.writeString(args[i + 1], lp + size)
            i += 2
        }
        size += Listpack.writeInt(lpCount, lp + size)
        (lp + size).storeBytes(of: Listpack.eof, as: UInt8.self)
        Listpack.setTotalBytes(lp, size + 1)
        Listpack.bumpNumElements(lp, Int(lpCount) + 1)

        length += 1
        entriesAdded += 1
        lastID = id
        if length == 1 { firstID = id }
    }

    // MARK: deleting

    /// Flags entry `id` deleted (freeing its node if it was the last live one). False if absent.
    func delete(_ id: StreamID) -> Bool {
        if nodes.isEmpty { return false }
        let ni = nodeIndex(for: id)
        let n = nodes[ni]
        let h = StreamValue.header(n.lp)
        var p = h.firstEntry
        while !StreamValue.isEnd(p) {
            let e = StreamValue.entry(at: p, master: n.master, header: h)
            if e.id > id { return false }
            if e.id == id {
                if e.isDeleted { return false }
                markDeleted(node: ni, entry: e, header: h)
                return true
            }
            p = e.next
        }
        return false
    }

    /// Flags one live entry deleted and updates the node's counters; frees the node when it empties.
    private func markDeleted(node ni: Int, entry e: RawEntry, header h: NodeHeader) {
        length -= 1
        if h.count == 1 {
            free(nodes[ni].lp)
            nodes.remove(at: ni)
            return
        }
        // flags 0/2 -> 1/3: still one 7-bit byte, written in place.
        UnsafeMutableRawPointer(mutating: e.flagsPtr).storeBytes(of: UInt8(e.flags | StreamValue.flagDeleted), as: UInt8.self)
        replaceInt(node: ni, at: NodeHeader.countOffset, Int64(h.count - 1))
        let lp = nodes[ni].lp
        let delOffset = NodeHeader.countOffset + Listpack.skip(lp + NodeHeader.countOffset)
        replaceInt(node: ni, at: delOffset, Int64(h.deleted + 1))
    }

    // MARK: trimming

    enum TrimStrategy { case none, maxlen(Int), minid(StreamID) }

    /// Removes entries from the head (Redis's streamTrim): whole nodes, then,
    /// unless `approx`, entries inside the first remaining node. `limit` > 0
    /// caps the entries removed. Returns how many were removed.
    func trim(_ strategy: TrimStrategy, approx: Bool, limit: Int) -> Int {
        if case .none = strategy { return 0 }
        var deleted = 0
        while !nodes.isEmpty {
            if case .maxlen(let maxlen) = strategy, length <= maxlen { break }
            let n = nodes[0]
            let h = StreamValue.header(n.lp)
            let entries = h.count
            if limit > 0 && deleted + entries > limit { break }
            let removeNode: Bool
            switch strategy {
            case .maxlen(let maxlen): removeNode = length - entries >= maxlen
            case .minid(let minid): removeNode = lastEntryID(ofNode: 0) < minid
            case .none: removeNode = false
            }
            if removeNode {
                free(n.lp)
                nodes.remove(at: 0)
                length -= entries
                deleted += entries
                continue
            }
            if approx { break }
            // Flag entries of this node deleted until the goal is met.
            var fromNode = 0
            var p = h.firstEntry
            var lp = n.lp
            while !StreamValue.isEnd(p) {
                let e = StreamValue.entry(at: p, master: n.master, header: h)
                let stop: Bool
                switch strategy {
                case .maxlen(let maxlen): stop = length <= maxlen
                case .minid(let minid): stop = e.id >= minid
                case .none: stop = true
                }
                if stop { break }
                if !e.isDeleted {
                    UnsafeMutableRawPointer(mutating: e.flagsPtr).storeBytes(of: UInt8(e.flags | StreamValue.flagDeleted), as: UInt8.self)
                    fromNode += 1
                    length -= 1
                }
                p = e.next
            }
            deleted += fromNode
            if fromNode > 0 {
                replaceInt(node: 0, at: NodeHeader.countOffset, Int64(entries - fromNode))
                lp = nodes[0].lp
                let delOffset = NodeHeader.countOffset + Listpack.skip(lp + NodeHeader.countOffset)
                replaceInt(node: 0, at: delOffset, Int64(h.deleted + fromNode))
            }
            break
        }
        if length == 0 {
            firstID = .zero
        } else if deleted > 0 {
            firstID = edgeID(first: true) ?? .zero
        }
        return deleted
    }

    // MARK: consumer groups

    /// Position of group `name` in `groups`, or where it would be inserted (negative - 1).
    func groupIndex(_ name: UnsafeRawBufferPointer) -> Int {
        var lo = 0, hi = groups.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            let c = compareBytes(groups[mid].name, name)
            if c == 0 { return mid }
            if c < 0 { lo = mid + 1 } else { hi = mid }
        }
        return -lo - 1
    }

    func group(_ name: UnsafeRawBufferPointer) -> StreamGroup? {
        let i = groupIndex(name)
        return i >= 0 ? groups[i] : nil
    }

    /// Creates a group; nil if the name exists.
    func createGroup(_ name: UnsafeRawBufferPointer, lastID: StreamID, entriesRead: Int64) -> StreamGroup? {
        let i = groupIndex(name)
        if i >= 0 { return nil }
        let g = StreamGroup(name: Array(name), lastID: lastID, entriesRead: entriesRead)
        groups.insert(g, at: -i - 1)
        return g
    }

    func destroyGroup(_ name: UnsafeRawBufferPointer) -> Bool {
        let i = groupIndex(name)
        if i < 0 { return false }
        groups.remove(at: i)
        return true
    }

    // MARK: lag bookkeeping (Redis 7.0)

    /// True if [start, end] (nil: open) may contain a deleted entry (streamRangeHasTombstones).
    func rangeHasTombstones(_ start: StreamID?, _ end: StreamID?) -> Bool {
        if length == 0 || maxDeletedID.isZero { return false }
        if firstID > maxDeletedID { return false }
        let s = start ?? .zero, e = end ?? .max
        return s <= maxDeletedID && maxDeletedID <= e
    }

    /// The logical read counter of `id`, or nil when it can't be known
    /// (streamEstimateDistanceFromFirstEverEntry).
    func estimateDistanceFromFirstEverEntry(_ id: StreamID) -> Int64? {
        if entriesAdded == 0 { return 0 }
        if length == 0 && id <= lastID { return Int64(bitPattern: entriesAdded) }
        if id == lastID { return Int64(bitPattern: entriesAdded) }
        if id > lastID { return nil }
        if maxDeletedID.isZero || maxDeletedID < firstID {
            if id < firstID { return Int64(bitPattern: entriesAdded) - Int64(length) }
            if id == firstID { return Int64(bitPattern: entriesAdded) - Int64(length) + 1 }
        }
        return nil
    }

    /// A group's lag, or nil when it can't be computed (streamReplyWithCGLag).
    func lag(of g: StreamGroup) -> Int64? {
        if entriesAdded == 0 { return 0 }
        if g.entriesRead != StreamGroup.invalidEntriesRead && !rangeHasTombstones(g.lastID, nil) {
            return Int64(bitPattern: entriesAdded) - g.entriesRead
        }
        if let r = estimateDistanceFromFirstEverEntry(g.lastID) { return Int64(bitPattern: entriesAdded) - r }
        return nil
    }
}

/// memcmp order, a prefix first (Redis's radix tree order).
@inline(__always)
func compareBytes(_ a: [UInt8], _ b: UnsafeRawBufferPointer) -> Int {
    a.withUnsafeBytes { x in
        let n = min(x.count, b.count)
        if n > 0 {
            let c = memcmp(x.baseAddress!, b.baseAddress!, n)
            if c != 0 { return Int(c) }
        }
        return x.count - b.count
    }
}
