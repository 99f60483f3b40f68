// Streams in RDB / DUMP payloads: RDB_TYPE_STREAM_LISTPACKS_2 (19), Redis
// 7.0's layout, written; types 15 (6.x) and 19 read.
//
//   nodes: len, then per node the 16-byte big-endian master ID and the
//          listpack, both as strings
//   length, last ID (ms, seq), first ID, max deleted ID, entries added  [lens]
//   groups: len, per group: name, last ID, entries-read (-1 as 2^64-1),
//           PEL (len; 16-byte ID, 8-byte LE delivery ms, delivery count),
//           consumers (len; name, 8-byte LE seen ms, PEL of 16-byte IDs)

import Glibc

extension RDBWriter {
    mutating func millis(_ t: Int64) {
        withUnsafeBytes(of: t.littleEndian) { bytes.append(contentsOf: $0) }
    }
}

extension RDBReader {
    mutating func streamID() throws -> StreamID {
        StreamID(ms: try length64(), seq: try length64())
    }

    mutating func rawStreamID() throws -> StreamID {
        StreamID(bigEndian: Array(try take(16)))
    }
}

extension ValueSerializer {
    static func writeStream(_ s: StreamValue, into w: inout RDBWriter) {
        w.byte(RDBType.streamListpacks2.rawValue)
        writeStreamBody(s, into: &w)
    }

    /// The value without its type byte.
    static func writeStreamBody(_ s: StreamValue, into w: inout RDBWriter) {
        w.length(s.nodes.count)
        for n in s.nodes {
            w.string(n.master.bigEndianBytes)
            w.string(UnsafeRawBufferPointer(start: n.lp, count: Listpack.totalBytes(n.lp)))
        }
        w.length(s.length)
        for id in [s.lastID, s.firstID, s.maxDeletedID] { w.length64(id.ms); w.length64(id.seq) }
        w.length64(s.entriesAdded)
        w.length(s.groups.count)
        for g in s.groups {
            w.string(g.name)
            w.length64(g.lastID.ms)
            w.length64(g.lastID.seq)
            w.length64(UInt64(bitPattern: g.entriesRead))
            w.length(g.pel.count)
            g.pel.forEach { id, n in
                w.raw(id.bigEndianBytes)
                w.millis(n.deliveryTime)
                w.length64(UInt64(bitPattern: n.deliveryCount))
                return true
            }
            w.length(g.consumers.count)
            for c in g.consumers {
                w.string(c.name)
                w.millis(c.seenTime)
                w.length(c.pel.count)
                c.pel.forEach { id, _ in w.raw(id.bigEndianBytes); return true }
            }
        }
    }

    static func readStream(_ r: inout RDBReader, v2: Bool) throws -> StreamValue {
        let s = StreamValue()
        let nodeCount = try r.plainLength()
        var last = StreamID.zero
        for i in 0..<nodeCount {
            let key = try r.string()
            guard key.count == 16 else { throw RDBError("stream node key is not 16 bytes") }
            let master = StreamID(bigEndian: key)
            if i > 0 && master <= last { throw RDBError("stream node keys out of order") }
            last = master
            let blob = try r.string()
            guard validateStreamListpack(blob) else { throw RDBError("invalid stream listpack") }
            let p = malloc(blob.count)!
            blob.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: blob.count) }
            let h = StreamValue.header(p)
            if h.count == 0 && h.deleted == 0 { free(p); throw RDBError("empty stream listpack") }
            s.nodes.append(StreamNode(master: master, lp: p))
        }
        s.length = try r.plainLength()
        s.lastID = try r.streamID()
        if v2 {
            s.firstID = try r.streamID()
            s.maxDeletedID = try r.streamID()
            s.entriesAdded = try r.length64()
        } else {
            s.firstID = s.edgeID(first: true) ?? .zero
            s.entriesAdded = UInt64(s.length)
        }
        let groupCount = try r.plainLength()
        for _ in 0..<groupCount {
            let name = try r.string()
            let lastID = try r.streamID()
            var entriesRead: Int64
            if v2 {
                entriesRead = Int64(bitPattern: try r.length64())
            } else {
                entriesRead = s.estimateDistanceFromFirstEverEntry(lastID) ?? StreamGroup.invalidEntriesRead
            }
            guard let g = name.withUnsafeBytes({ s.createGroup($0, lastID: lastID, entriesRead: entriesRead) }) else {
                throw RDBError("duplicate stream group")
            }
            let pelCount = try r.plainLength()
            for _ in 0..<pelCount {
                let id = try r.rawStreamID()
                let t = Int64(bitPattern: try r.uint64LE())
                let n = Int64(bitPattern: try r.length64())
                if !g.pel.insert(id, PendingEntry(deliveryTime: t, deliveryCount: n, consumer: nil)) {
                    throw RDBError("duplicate stream PEL entry")
                }
            }
            let consumerCount = try r.plainLength()
            for _ in 0..<consumerCount {
                let cname = try r.string()
                let seen = Int64(bitPattern: try r.uint64LE())
                guard let c = cname.withUnsafeBytes({ g.createConsumer($0, now: seen) }) else {
                    throw RDBError("duplicate stream consumer")
                }
                let n = try r.plainLength()
                for _ in 0..<n {
                    let id = try r.rawStreamID()
                    var ok = false
                    g.pel.update(id) { e in
                        if e.consumer == nil { e.consumer = c; ok = true }
                    }
                    if !ok { throw RDBError("consumer PEL entry not in the group PEL") }
                    c.pel.insert(id, ())
                }
            }
            var orphan = false
            g.pel.forEach { _, e in orphan = e.consumer == nil; return !orphan }
            if orphan { throw RDBError("stream PEL entry without a consumer") }
        }
        return s
    }

    /// Checks a listpack's bounds and a stream node's structure (Redis's deep
    /// streamValidateListpackIntegrity) before the stream code walks it.
    static func validateStreamListpack(_ b: [UInt8]) -> Bool {
        guard b.count >= 7 else { return false }
        let total = Int(b[0]) | Int(b[1]) << 8 | Int(b[2]) << 16 | Int(b[3]) << 24
        guard total == b.count, b[total - 1] == 0xFF else { return false }
        var ints: [Int64?] = []
        let ok = b.withUnsafeBytes { raw -> Bool in
            let base = raw.baseAddress!
            var i = 6
            while i < total - 1 {
                let e = b[i]
                var l: Int
                if e & 0x80 == 0 { l = 1 }
                else if e & 0xC0 == 0x80 { l = 1 + Int(e & 0x3F) }
                else if e & 0xE0 == 0xC0 { l = 2 }
                else if e & 0xF0 == 0xE0 {
                    guard i + 1 < total - 1 else { return false }
                    l = 2 + (Int(e & 0x0F) << 8 | Int(b[i + 1]))
                } else if e == 0xF0 {
                    guard i + 4 < total - 1 else { return false }
                    l = 5 + (Int(b[i + 1]) | Int(b[i + 2]) << 8 | Int(b[i + 3]) << 16 | Int(b[i + 4]) << 24)
                } else if e == 0xF1 { l = 3 } else if e == 0xF2 { l = 4 } else if e == 0xF3 { l = 5 }
                else if e == 0xF4 { l = 9 } else { return false }
                let size = l + Listpack.backlenSize(l)
                guard i + size <= total - 1 else { return false }
                let el = Listpack.element(base + i)
                guard el.size == size else { return false }
                ints.append(el.isInt ? el.int : parseCanonicalInt64(UnsafeRawBufferPointer(start: el.str, count: el.len)))
                i += size
            }
            return i == total - 1
        }
        guard ok else { return false }
        // Stream structure over the element list.
        var k = 0
        func next() -> Int64?? { if k >= ints.count { return nil }; k += 1; return .some(ints[k - 1]) }
        guard let c0 = next(), let count = c0, let d0 = next(), let deleted = d0,
              let f0 = next(), let masterFields = f0, count >= 0, deleted >= 0, masterFields >= 0 else { return false }
        for _ in 0..<masterFields { guard next() != nil else { return false } }
        guard let z0 = next(), z0 == 0 else { return false }
        var entries = count + deleted
        while entries > 0 {
            entries -= 1
            guard let fl = next(), let flags = fl, next() != nil, next() != nil else { return false }
            var fields = masterFields
            var extra: Int64 = 3
            if flags & StreamValue.flagSameFields == 0 {
                guard let nf = next(), let n = nf, n >= 0 else { return false }
                fields = n
                for _ in 0..<n { guard next() != nil else { return false } }
                extra += n + 1
            }
            for _ in 0..<fields { guard next() != nil else { return false } }
            guard let lc = next(), let lpCount = lc, lpCount == fields + extra else { return false }
        }
        return k == ints.count
    }
}
