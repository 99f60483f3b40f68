// Merging the replies of a command that ran on several shards into the one
// reply Redis would give (Forwarder.fanOut sends the parts).

import Engine
import RESP

enum FanOutMerge {
    static func merge(_ r: FanOutShape, _ parts: [[UInt8]]) -> [UInt8] {
        if let error = parts.first(where: { RESPFrame.isError($0) }) {
            // SCAN/RANDOMKEY/INFO parts carry no partial meaning: the first error is the answer.
            return error
        }
        switch r.kind {
        case .mget:
            var values = [[UInt8]](repeating: [], count: r.totalKeys)
            for (part, frame) in parts.enumerated() {
                guard let elements = RESPFrame.elements(frame), elements.count == r.positions[part].count else {
                    return protocolError
                }
                for (i, e) in elements.enumerated() { values[r.positions[part][i]] = e }
            }
            return RESPFrame.arrayHeader(values.count) + values.joined()
        case .mset:
            return Array("+OK\r\n".utf8)
        case .countKeys, .sum:
            var total = 0
            for frame in parts {
                guard let v = RESPFrame.integerValue(frame) else { return protocolError }
                total += v
            }
            return Array(":\(total)\r\n".utf8)
        case .concat:
            var all: [[UInt8]] = []
            for frame in parts {
                guard let elements = RESPFrame.elements(frame) else { return protocolError }
                all += elements
            }
            return RESPFrame.arrayHeader(all.count) + all.joined()
        case .broadcast:
            return parts[0]
        case .randomKey:
            let found = parts.filter { RESPFrame.bulkValue($0) != nil }
            return found.randomElement() ?? parts[0]
        case .scan:
            return scanReply(r, parts[0])
        case .info:
            return infoReply(parts)
        case .numsub:
            // [channel, count, channel, count...] in the same order from every shard.
            guard var merged = RESPFrame.elements(parts[0]) else { return protocolError }
            for frame in parts.dropFirst() {
                guard let elements = RESPFrame.elements(frame), elements.count == merged.count else { return protocolError }
                var i = 1
                while i < merged.count {
                    guard let a = RESPFrame.integerValue(merged[i]), let b = RESPFrame.integerValue(elements[i]) else {
                        return protocolError
                    }
                    merged[i] = Array(":\(a + b)\r\n".utf8)
                    i += 2
                }
            }
            return RESPFrame.arrayHeader(merged.count) + merged.joined()
        case .union:
            var seen = Set<[UInt8]>()
            var all: [[UInt8]] = []
            for frame in parts {
                guard let elements = RESPFrame.elements(frame) else { return protocolError }
                for e in elements where seen.insert(e).inserted { all.append(e) }
            }
            return RESPFrame.arrayHeader(all.count) + all.joined()
        }
    }

    static let protocolError = Array("-ERR unexpected reply from a shard while merging\r\n".utf8)

    /// The client's SCAN cursor carries the shard in its low bits: a
    /// shard's own cursor is a position in 64-bit hash space (see
    /// SlotTable), so it gives up those bits, rounded up: the rounded
    /// cursor still falls in the same home slot (slots are far wider than
    /// 2^bits), so no key is skipped. When shard s finishes, the scan goes on
    /// at shard s+1's cursor 0; after the last shard, 0 ends it.
    static func shardBits(_ shards: Int) -> Int { shards <= 1 ? 0 : Int.bitWidth - (shards - 1).leadingZeroBitCount }

    static func encodeCursor(local: UInt64, shard: Int, shards: Int) -> UInt64 {
        let bits = shardBits(shards)
        let mask: UInt64 = (1 << bits) - 1
        var high = local >> bits
        if local & mask != 0 { high &+= 1 }
        return (high << bits) | UInt64(shard)
    }

    static func decodeCursor(_ cursor: UInt64, shards: Int) -> (shard: Int, local: UInt64) {
        let mask: UInt64 = (1 << shardBits(shards)) - 1
        return (Int(cursor & mask), cursor & ~mask)
    }

    static func scanReply(_ r: FanOutShape, _ part: [UInt8]) -> [UInt8] {
        guard let elements = RESPFrame.elements(part), elements.count == 2,
              let cursorText = RESPFrame.bulkValue(elements[0]),
              let local = UInt64(String(decoding: cursorText, as: UTF8.self)) else { return protocolError }
        let next: UInt64
        if local != 0 {
            next = encodeCursor(local: local, shard: r.scanShard, shards: r.shardCount)
        } else {
            next = r.scanShard + 1 < r.shardCount ? UInt64(r.scanShard + 1) : 0
        }
        let text = Array(String(next).utf8)
        return RESPFrame.arrayHeader(2) + Array("$\(text.count)\r\n".utf8) + text + Array("\r\n".utf8) + elements[1]
    }

    /// The first part is this shard's INFO; the others are every shard's
    /// keyspace section, summed into the reply's keyspace section.
    static func infoReply(_ parts: [[UInt8]]) -> [UInt8] {
        guard var text = RESPFrame.bulkValue(parts[0]) else { return protocolError }
        let verbatim = parts[0].first == UInt8(ascii: "=")
        if verbatim { text = Array(text.dropFirst(4)) }  // "txt:"
        var keys = [Int: (keys: Int, expires: Int, ttlWeighted: Double)]()
        for frame in parts.dropFirst() {
            guard var body = RESPFrame.bulkValue(frame) else { continue }
            if frame.first == UInt8(ascii: "=") { body = Array(body.dropFirst(4)) }
            for line in String(decoding: body, as: UTF8.self).split(separator: "\r\n") where line.hasPrefix("db") {
                guard let colon = line.firstIndex(of: ":"), let db = Int(line[line.index(line.startIndex, offsetBy: 2)..<colon]) else { continue }
                var fields = [String: Int]()
                for kv in line[line.index(after: colon)...].split(separator: ",") {
                    let pair = kv.split(separator: "=")
                    if pair.count == 2, let v = Int(pair[1]) { fields[String(pair[0])] = v }
                }
                let e = fields["expires"] ?? 0
                var acc = keys[db] ?? (0, 0, 0)
                acc.keys += fields["keys"] ?? 0
                acc.expires += e
                acc.ttlWeighted += Double(fields["avg_ttl"] ?? 0) * Double(e)
                keys[db] = acc
            }
        }
        let merged = keys.keys.sorted().map { db -> String in
            let v = keys[db]!
            let avg = v.expires > 0 ? Int(v.ttlWeighted / Double(v.expires)) : 0
            return "db\(db):keys=\(v.keys),expires=\(v.expires),avg_ttl=\(avg)\r\n"
        }.joined()
        var payload = text
        let header = Array("# Keyspace\r\n".utf8)
        if let start = firstIndex(of: header, in: text) {
            let body = start + header.count
            // The section ends at the blank line before the next "# Section", or at the end.
            let end = firstIndex(of: Array("\r\n#".utf8), in: text, from: body).map { $0 } ?? text.count
            payload = Array(text[..<body]) + Array(merged.utf8) + Array(text[end...])
        }
        if verbatim { return Array("=\(payload.count + 4)\r\ntxt:".utf8) + payload + Array("\r\n".utf8) }
        return Array("$\(payload.count)\r\n".utf8) + payload + Array("\r\n".utf8)
    }

    static func firstIndex(of needle: [UInt8], in hay: [UInt8], from: Int = 0) -> Int? {
        guard needle.count <= hay.count else { return nil }
        var i = from
        while i + needle.count <= hay.count {
            if hay[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}
