// Consumer groups: a last-delivered ID, a read counter (7.0's entries-read),
// the group's pending entries list (PEL: ID -> owner, delivery time, delivery
// count) and its consumers, each with its own PEL of IDs. Both PELs are
// ordered by ID; the group's holds the delivery data, a consumer's only IDs.

import Glibc

/// A delivered, not yet acknowledged entry (Redis's streamNACK), by value.
struct PendingEntry {
    var deliveryTime: Int64
    var deliveryCount: Int64
    /// The owner. Consumers are deleted only after their entries leave the group PEL.
    var consumer: StreamConsumer?
}

final class StreamConsumer {
    let name: [UInt8]
    var seenTime: Int64
    var pel = SortedIDMap<Void>()

    init(name: [UInt8], seenTime: Int64) {
        self.name = name
        self.seenTime = seenTime
    }
}

final class StreamGroup {
    static let invalidEntriesRead: Int64 = -1

    let name: [UInt8]
    var lastID: StreamID
    var entriesRead: Int64
    var pel = SortedIDMap<PendingEntry>()
    /// Sorted by name bytes.
    var consumers: [StreamConsumer] = []

    init(name: [UInt8], lastID: StreamID, entriesRead: Int64) {
        self.name = name
        self.lastID = lastID
        self.entriesRead = entriesRead
    }

    func consumerIndex(_ name: UnsafeRawBufferPointer) -> Int {
        var lo = 0, hi = consumers.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            let c = compareBytes(consumers[mid].name, name)
            if c == 0 { return mid }
            if c < 0 { lo = mid + 1 } else { hi = mid }
        }
        return -lo - 1
    }

    func consumer(_ name: UnsafeRawBufferPointer) -> StreamConsumer? {
        let i = consumerIndex(name)
        return i >= 0 ? consumers[i] : nil
    }

    /// Creates a consumer; nil if it exists.
    func createConsumer(_ name: UnsafeRawBufferPointer, now: Int64) -> StreamConsumer? {
        let i = consumerIndex(name)
        if i >= 0 { return nil }
        let c = StreamConsumer(name: Array(name), seenTime: now)
        consumers.insert(c, at: -i - 1)
        return c
    }

    /// Deletes a consumer and its pending entries; returns how many it had.
    func deleteConsumer(_ c: StreamConsumer) -> Int {
        let n = c.pel.count
        c.pel.forEach { id, _ in self.pel.remove(id); return true }
        c.pel.removeAll()
        let i = c.name.withUnsafeBytes { consumerIndex($0) }
        if i >= 0 { consumers.remove(at: i) }
        return n
    }

    /// Acknowledges `id`: removes it from both PELs. False if it was not pending.
    func ack(_ id: StreamID) -> Bool {
        guard let nack = pel.remove(id) else { return false }
        nack.consumer?.pel.remove(id)
        return true
    }

    func duplicate() -> StreamGroup {
        let g = StreamGroup(name: name, lastID: lastID, entriesRead: entriesRead)
        var map: [ObjectIdentifier: StreamConsumer] = [:]
        for c in consumers {
            let d = StreamConsumer(name: c.name, seenTime: c.seenTime)
            d.pel = c.pel
            map[ObjectIdentifier(c)] = d
            g.consumers.append(d)
        }
        pel.forEach { id, n in
            var m = n
            if let o = n.consumer { m.consumer = map[ObjectIdentifier(o)] }
            g.pel.insert(id, m)
            return true
        }
        return g
    }

    var allocatedBytes: Int {
        var n = 64 + name.count + pel.count * (MemoryLayout<StreamID>.stride + MemoryLayout<PendingEntry>.stride)
        for c in consumers { n += 48 + c.name.count + c.pel.count * MemoryLayout<StreamID>.stride }
        return n
    }
}
