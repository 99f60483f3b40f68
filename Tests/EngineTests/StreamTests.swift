// Streams: ID parsing and order, the listpack encoder against the RDB
// decoder, node packing, trimming and deletion against a naive model,
// consumer-group PEL consistency against a naive model, propagation and
// serialization round trips.

import Testing
import RESP
@testable import Engine
import EngineTestSupport

private func b(_ s: String) -> [UInt8] { Array(s.utf8) }

private func parse(_ s: String, missingSeq: UInt64 = 0, strict: Bool = false, star: Bool = false) -> (StreamID, Bool)? {
    b(s).withUnsafeBytes { StreamID.parse($0, missingSeq: missingSeq, strict: strict, allowSeqStar: star) }
        .map { ($0.id, $0.seqGiven) }
}

nonisolated(unsafe) private var liveServers: [ShardEngine] = []

private func makeClient(_ lines: [(String, String)] = []) -> Client {
    let cfg = Config()
    for (k, v) in lines { try! cfg.set(k, v) }
    let s = ShardEngine(config: cfg)
    liveServers.append(s)  // clients hold their server unowned
    return s.createClient(reply: ReplyEncoder())
}

private func stream(_ c: Client, _ key: String = "s") -> StreamValue? {
    b(key).withUnsafeBytes { c.engine.lookupWrite(c.db, $0) }.map { $0.object as! StreamValue }
}

/// IDs of the live entries, ascending or descending.
private func ids(_ s: StreamValue, reverse: Bool = false, from: StreamID = .zero, to: StreamID = .max) -> [StreamID] {
    var r: [StreamID] = []
    s.forEachEntry(from: from, to: to, reverse: reverse) { id, _ in r.append(id); return true }
    return r
}

private func group(_ s: StreamValue, _ name: String) -> StreamGroup? {
    b(name).withUnsafeBytes { s.group($0) }
}

private struct Rng {
    var state: UInt64
    mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state >> 33
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

@Suite struct StreamTests {
    // MARK: IDs

    @Test func idParsing() {
        #expect(parse("1-2")! == (StreamID(ms: 1, seq: 2), true))
        #expect(parse("5")!.0 == StreamID(ms: 5, seq: 0))
        #expect(parse("5", missingSeq: UInt64.max)!.0 == StreamID(ms: 5, seq: UInt64.max))
        #expect(parse("-")!.0 == .zero)
        #expect(parse("+")!.0 == .max)
        #expect(parse("-", strict: true) == nil)
        #expect(parse("+", strict: true) == nil)
        #expect(parse("18446744073709551615-18446744073709551615")!.0 == .max)
        #expect(parse("18446744073709551616-0") == nil)
        #expect(parse("5-*") == nil)
        #expect(parse("5-*", star: true)! == (StreamID(ms: 5, seq: 0), false))
        #expect(parse("-5") == nil)
        #expect(parse("5--1") == nil)
        #expect(parse("5-") == nil)
        #expect(parse("") == nil)
        #expect(parse("abc") == nil)
        #expect(parse("1-2-3") == nil)
        // strtoull leniency that Redis inherits: leading zeros and '+'.
        #expect(parse("007-01")!.0 == StreamID(ms: 7, seq: 1))
        #expect(parse("+3")!.0 == StreamID(ms: 3, seq: 0))
        #expect(parse(String(repeating: "1", count: 128)) == nil)
    }

    @Test func idOrderAndSteps() {
        let a = StreamID(ms: 1, seq: UInt64.max), c = StreamID(ms: 2, seq: 0)
        #expect(a < c && !(c < a))
        #expect(a.incremented == c)
        #expect(c.decremented == a)
        #expect(StreamID.max.incremented == nil)
        #expect(StreamID.zero.decremented == nil)
        #expect(StreamID(ms: 12, seq: 345).text == b("12-345"))
        #expect(StreamID(bigEndian: StreamID(ms: 0x0102, seq: 7).bigEndianBytes) == StreamID(ms: 0x0102, seq: 7))
    }

    // MARK: listpack encoding

    @Test func listpackElementsRoundTrip() throws {
        let values: [Int64] = [0, 1, 127, 128, -1, -4096, 4095, 4096, -4097, 32767, -32768, 32768,
                               8_388_607, -8_388_608, 8_388_608, Int64(Int32.max), Int64(Int32.min),
                               Int64(Int32.max) + 1, Int64.max, Int64.min]
        let strings: [[UInt8]] = [[], b("a"), [UInt8](repeating: 120, count: 63), [UInt8](repeating: 120, count: 64),
                                  [UInt8](repeating: 121, count: 4095), [UInt8](repeating: 122, count: 4096),
                                  b("007"), b("-0"), b("12345678901234567890")]
        var size = Listpack.headerSize
        for v in values { size += Listpack.intEntrySize(v) }
        for s in strings { size += s.withUnsafeBytes { Listpack.entrySize($0) } }
        size += 1
        let lp = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
        defer { lp.deallocate() }
        var at = Listpack.headerSize
        for v in values {
            let e = Listpack.writeInt(v, lp + at)
            #expect(e == Listpack.intEntrySize(v))
            let d = Listpack.element(lp + at)
            #expect(d.isInt && d.int == v && d.size == e)
            at += e
        }
        for s in strings { at += s.withUnsafeBytes { Listpack.writeString($0, lp + at) } }
        lp.storeBytes(of: 0xFF, toByteOffset: at, as: UInt8.self)
        Listpack.setTotalBytes(lp, size)
        Listpack.setNumElements(lp, values.count + strings.count)
        #expect(at + 1 == size)
        // The RDB decoder (written independently from the spec) reads it back.
        let decoded = try PackedFormats.listpack(Array(UnsafeRawBufferPointer(start: lp, count: size)))
        #expect(decoded == values.map { decimalBytes($0) } + strings)
    }

    // MARK: nodes

    @Test func nodesFillUpToMaxEntries() throws {
        let c = makeClient([("stream-node-max-entries", "10")])
        for i in 1...95 { _ = run(c, "XADD", "s", "\(i)-1", "f", "v\(i)") }
        let s = try #require(stream(c))
        #expect(s.nodes.count == 10)
        #expect(s.length == 95)
        // Each node is a valid listpack holding a master entry and its entries.
        for n in s.nodes {
            let blob = Array(UnsafeRawBufferPointer(start: n.lp, count: Listpack.totalBytes(n.lp)))
            #expect(ValueSerializer.validateStreamListpack(blob))
            let elems = try PackedFormats.listpack(blob)
            #expect(Listpack.numElements(n.lp) == elems.count)
            let h = StreamValue.header(n.lp)
            #expect(elems[0] == decimalBytes(Int64(h.count)))
            #expect(elems[3] == b("f"))  // master field
        }
        #expect(s.nodes.map { $0.master.ms } == [1, 11, 21, 31, 41, 51, 61, 71, 81, 91])
        // Different fields are stored in full (no SAMEFIELDS flag).
        _ = run(c, "XADD", "s", "96-0", "g", "1", "h", "2")
        #expect(run(c, "XRANGE", "s", "96", "96") == "*1\r\n*2\r\n$4\r\n96-0\r\n*4\r\n$1\r\ng\r\n$1\r\n1\r\n$1\r\nh\r\n$1\r\n2\r\n")
    }

    @Test func nodesSplitOnBytes() throws {
        let c = makeClient([("stream-node-max-bytes", "200")])
        let big = String(repeating: "x", count: 50)
        for i in 1...20 { _ = run(c, "XADD", "s", "\(i)-0", "f", big) }
        let s = try #require(stream(c))
        #expect(s.nodes.count > 5)
        for n in s.nodes { #expect(Listpack.totalBytes(n.lp) < 200 + 60) }
        #expect(ids(s).count == 20)
    }

    // MARK: deletion and trimming vs a naive model

    @Test func deleteAndRangeMatchModel() throws {
        let c = makeClient([("stream-node-max-entries", "7")])
        var model: [StreamID] = []
        var rng = Rng(state: 42)
        for i in 1...300 {
            let id = StreamID(ms: UInt64(i / 3 + 1), seq: UInt64(i % 3))
            _ = run(c, "XADD", "s", id.description, "a", "\(i)", "b", i % 5 == 0 ? "x\(i)" : "\(i * 7)")
            model.append(id)
        }
        let s = try #require(stream(c))
        for _ in 0..<200 {
            let victim = model.isEmpty || rng.below(4) == 0
                ? StreamID(ms: UInt64(rng.below(120)), seq: UInt64(rng.below(3))) : model[rng.below(model.count)]
            let expected = model.contains(victim) ? 1 : 0
            #expect(run(c, "XDEL", "s", victim.description) == ":\(expected)\r\n")
            model.removeAll { $0 == victim }
            #expect(s.length == model.count)
            if rng.below(10) == 0 {
                #expect(ids(s) == model)
                #expect(ids(s, reverse: true) == model.reversed())
                let lo = StreamID(ms: UInt64(rng.below(110)), seq: 0), hi = StreamID(ms: UInt64(rng.below(110)), seq: 2)
                #expect(ids(s, from: lo, to: hi) == model.filter { $0 >= lo && $0 <= hi })
                #expect(ids(s, reverse: true, from: lo, to: hi) == model.filter { $0 >= lo && $0 <= hi }.reversed())
            }
            #expect(s.firstID == (model.first ?? .zero))
        }
        // Nodes whose entries are all gone are freed.
        for n in s.nodes { #expect(StreamValue.header(n.lp).count > 0) }
    }

    @Test func exactAndApproxTrim() throws {
        let c = makeClient([("stream-node-max-entries", "10")])
        for i in 1...100 { _ = run(c, "XADD", "s", "\(i)-0", "f", "\(i)") }
        let s = try #require(stream(c))
        // ~ removes whole nodes only.
        #expect(run(c, "XTRIM", "s", "MAXLEN", "~", "55") == ":40\r\n")
        #expect(s.length == 60)
        #expect(run(c, "XTRIM", "s", "MAXLEN", "55") == ":5\r\n")
        #expect(ids(s).first == StreamID(ms: 46, seq: 0))
        #expect(s.firstID == StreamID(ms: 46, seq: 0))
        #expect(run(c, "XTRIM", "s", "MINID", "~", "58") == ":5\r\n")
        #expect(run(c, "XTRIM", "s", "MINID", "58") == ":7\r\n")
        #expect(ids(s).first == StreamID(ms: 58, seq: 0))
        // LIMIT caps work in whole nodes.
        #expect(run(c, "XTRIM", "s", "MAXLEN", "~", "0", "LIMIT", "15") == ":13\r\n")
        #expect(run(c, "XTRIM", "s", "MAXLEN", "0") == ":30\r\n")
        #expect(s.length == 0 && s.nodes.isEmpty && s.firstID == .zero)
        #expect(run(c, "XLEN", "s") == ":0\r\n")
    }

    // MARK: consumer groups vs a naive model

    @Test func pelConsistency() throws {
        let c = makeClient([("stream-node-max-entries", "5")])
        var rng = Rng(state: 7)
        var pending: [StreamID: String] = [:]     // model: id -> owner
        var next = 1
        _ = run(c, "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
        let consumers = ["alice", "bob", "carol"]
        for _ in 0..<600 {
            switch rng.below(6) {
            case 0, 1:
                _ = run(c, "XADD", "s", "\(next)-0", "k", "\(next)")
                next += 1
            case 2:
                let who = consumers[rng.below(3)]
                let out = run(c, "XREADGROUP", "GROUP", "g", who, "COUNT", "\(1 + rng.below(4))", "STREAMS", "s", ">")
                for id in extractIDs(out) { pending[id] = who }
            case 3:
                if let id = pending.keys.randomElementSeeded(&rng) {
                    #expect(run(c, "XACK", "s", "g", id.description) == ":1\r\n")
                    pending[id] = nil
                }
            case 4:
                let who = consumers[rng.below(3)]
                let out = run(c, "XAUTOCLAIM", "s", "g", who, "0", "0", "COUNT", "3", "JUSTID")
                for id in extractIDs(out).dropFirst() where pending[id] != nil { pending[id] = who }
            default:
                if let id = pending.keys.randomElementSeeded(&rng) {
                    let who = consumers[rng.below(3)]
                    _ = run(c, "XCLAIM", "s", "g", who, "0", id.description, "JUSTID")
                    pending[id] = who
                }
            }
            let cur = try #require(stream(c))
            let g = try #require(group(cur, "g"))
            #expect(g.pel.count == pending.count)
        }
        let s = try #require(stream(c))
        let g = try #require(group(s, "g"))
        var seen = 0
        g.pel.forEach { id, e in
            #expect(e.consumer.map { String(decoding: $0.name, as: UTF8.self) } == pending[id])
            #expect(e.consumer?.pel.contains(id) == true)
            seen += 1
            return true
        }
        #expect(seen == pending.count)
        #expect(g.consumers.reduce(0) { $0 + $1.pel.count } == pending.count)
        // Group and consumer PELs are in ID order.
        var prev: StreamID? = nil
        g.pel.forEach { id, _ in if let p = prev { #expect(p < id) }; prev = id; return true }
        // Deleting a consumer drops its entries from the group PEL.
        let bobs = pending.values.filter { $0 == "bob" }.count
        #expect(run(c, "XGROUP", "DELCONSUMER", "s", "g", "bob") == ":\(bobs)\r\n")
        #expect(g.pel.count == pending.count - bobs)
    }

    @Test func sortedIDMapAgainstModel() {
        var m = SortedIDMap<Int>()
        var model: [StreamID: Int] = [:]
        var rng = Rng(state: 99)
        for step in 0..<20000 {
            let id = StreamID(ms: UInt64(rng.below(3000)), seq: UInt64(rng.below(2)))
            if rng.below(3) == 0 {
                #expect((m.remove(id) != nil) == (model.removeValue(forKey: id) != nil))
            } else {
                let inserted = m.insert(id, step)
                #expect(inserted == (model[id] == nil))
                if inserted { model[id] = step }
            }
        }
        #expect(m.count == model.count)
        var keys: [StreamID] = []
        m.forEach { k, v in #expect(model[k] == v); keys.append(k); return true }
        #expect(keys == model.keys.sorted())
        #expect(m.first == keys.first && m.last == keys.last)
        let probe = StreamID(ms: 1500, seq: 1)
        #expect(m.firstKey(atOrAfter: probe) == keys.first { $0 >= probe })
    }

    // MARK: propagation

    @Test func propagationRewrites() throws {
        let c = makeClient([("stream-node-max-entries", "10")])
        var got: [[String]] = []
        let stream = RecordingStream { p in got.append(p.argv.map { String(decoding: $0, as: UTF8.self) }) }
        c.engine.writeStream.add(stream)
        let out = run(c, "XADD", "s", "*", "f", "v")
        let id = String(out.split(separator: "\r\n")[1])
        #expect(got.last == ["XADD", "s", id, "f", "v"])
        #expect(run(c, "XADD", "s", "5-*", "f", "v").hasPrefix("-ERR The ID specified in XADD is equal or smaller"))
        let out2 = run(c, "XADD", "s", "MAXLEN", "~", "1", "LIMIT", "5", "99999999999999-1", "f", "v")
        #expect(out2.contains("99999999999999-1"))
        #expect(got.last == ["XADD", "s", "MAXLEN", "=", "2", "99999999999999-1", "f", "v"])
        got.removeAll()
        _ = run(c, "XGROUP", "CREATE", "s", "g", "0")
        _ = run(c, "XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "s", ">")
        // MULTI, XCLAIM ..., EXEC is not needed for a single command.
        let claim = try #require(got.last)
        #expect(Array(claim[0...5]) == ["XCLAIM", "s", "g", "alice", "0", id])
        #expect(claim[6] == "TIME" && claim[8] == "RETRYCOUNT" && claim[9] == "1")
        #expect(Array(claim[10...13]) == ["FORCE", "JUSTID", "LASTID", id])
        got.removeAll()
        _ = run(c, "XREADGROUP", "GROUP", "g", "bob", "NOACK", "STREAMS", "s", ">")
        #expect(got.contains { $0.starts(with: ["XGROUP", "CREATECONSUMER", "s", "g", "bob"]) })
        #expect(got.contains { $0.starts(with: ["XGROUP", "SETID", "s", "g", "99999999999999-1", "ENTRIESREAD"]) })
        #expect(!got.contains { $0.first == "XREADGROUP" })
    }

    // MARK: serialization

    @Test func serializationRoundTrip() throws {
        let c = makeClient([("stream-node-max-entries", "4")])
        for i in 1...30 { _ = run(c, "XADD", "s", "\(i)-\(i % 2)", "a", "\(i)", "b", i % 4 == 0 ? "x" : "\(i)") }
        _ = run(c, "XADD", "s", "31-0", "other", "fields")
        _ = run(c, "XDEL", "s", "3-1", "10-0")
        _ = run(c, "XGROUP", "CREATE", "s", "g", "0", "ENTRIESREAD", "0")
        _ = run(c, "XREADGROUP", "GROUP", "g", "alice", "COUNT", "5", "STREAMS", "s", ">")
        _ = run(c, "XGROUP", "CREATECONSUMER", "s", "g", "idle")
        let s = try #require(stream(c))
        var w = RDBWriter(compress: true)
        ValueSerializer.writeStream(s, into: &w)
        var r = RDBReader(w.bytes)
        #expect(try r.byte() == 19)
        let back = try ValueSerializer.readStream(&r, v2: true)
        #expect(r.remaining == 0)
        #expect(ids(back) == ids(s))
        #expect(back.lastID == s.lastID && back.firstID == s.firstID && back.maxDeletedID == s.maxDeletedID)
        #expect(back.entriesAdded == s.entriesAdded)
        var w2 = RDBWriter(compress: true)
        ValueSerializer.writeStream(back, into: &w2)
        #expect(w2.bytes == w.bytes)
        // A corrupt node is refused, not walked.
        var bad = w.bytes
        bad[40] ^= 0xFF
        var r2 = RDBReader(bad)
        _ = try r2.byte()
        #expect(throws: RDBError.self) { _ = try ValueSerializer.readStream(&r2, v2: true) }
    }
}

private func extractIDs(_ reply: String) -> [StreamID] {
    reply.split(separator: "\r\n").compactMap { line in
        let s = String(line)
        guard s.contains("-"), !s.hasPrefix("$"), !s.hasPrefix("*"), !s.hasPrefix(":") else { return nil }
        return StreamID.parse(Array(s.utf8), strict: true)
    }
}

extension Dictionary.Keys where Element == StreamID {
    fileprivate func randomElementSeeded(_ rng: inout Rng) -> StreamID? {
        if isEmpty { return nil }
        let sorted = self.sorted()
        return sorted[rng.below(sorted.count)]
    }
}
