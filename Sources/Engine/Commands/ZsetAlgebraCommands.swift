// ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD. Plain sets are
// accepted as inputs, every member with score 1.

import Glibc
import RESP

/// A scratch (member, score) element: Double score, UInt32 length, bytes.
enum ScoredMemberLayout: MemberLayout {
    @inline(__always)
    static func member(_ p: UnsafeMutableRawPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: p + 12, count: Int(p.load(fromByteOffset: 8, as: UInt32.self)))
    }
    @inline(__always) static func score(_ p: UnsafeMutableRawPointer) -> Double { p.load(as: Double.self) }
    @inline(__always) static func setScore(_ p: UnsafeMutableRawPointer, _ s: Double) { p.storeBytes(of: s, as: Double.self) }

    static func make(_ m: UnsafeRawBufferPointer, _ s: Double) -> UnsafeMutableRawPointer {
        let p = malloc(12 + m.count)!
        p.storeBytes(of: s, as: Double.self)
        p.storeBytes(of: UInt32(m.count), toByteOffset: 8, as: UInt32.self)
        if m.count > 0 { (p + 12).copyMemory(from: m.baseAddress!, byteCount: m.count) }
        return p
    }
}

/// The result of a sorted-set operation being built: member -> score.
struct ZAccumulator {
    var table: MemberTable<ScoredMemberLayout>

    init(reserving n: Int) { table = MemberTable(reserving: n) }

    func deallocate() {
        table.forEach { free($0) }
        table.deallocate()
    }

    var count: Int { table.count }

    /// Adds a new member, or combines its score with `combine` if present.
    mutating func add(_ m: UnsafeRawBufferPointer, _ s: Double, combine: (Double, Double) -> Double) {
        let h = memberHash(m)
        let slot = table.find(m, hash: h)
        if slot >= 0 {
            let p = table.element(at: slot)
            ScoredMemberLayout.setScore(p, combine(ScoredMemberLayout.score(p), s))
        } else {
            table.insertNew(ScoredMemberLayout.make(m, s), hash: h)
        }
    }

    mutating func remove(_ m: UnsafeRawBufferPointer) {
        let slot = table.find(m)
        if slot >= 0 { free(table.remove(slot: slot)) }
    }

    /// Elements in (score, member) order.
    func sorted() -> [UnsafeMutableRawPointer] {
        var all = table.allElements()
        all.sort { a, b in
            let sa = ScoredMemberLayout.score(a), sb = ScoredMemberLayout.score(b)
            if sa != sb { return sa < sb }
            return compareBytes(ScoredMemberLayout.member(a), ScoredMemberLayout.member(b)) < 0
        }
        return all
    }
}

extension ShardEngine {
    enum ZSetOp { case union, inter, diff }
    enum ZAggregate { case sum, min, max }

    /// An input of ZUNION/ZINTER/ZDIFF: a sorted set, a set, or nothing.
    struct ZSource {
        var zset: ZSetValue? = nil
        var set: SetValue? = nil
        var weight = 1.0

        var count: Int { zset?.count ?? set?.count ?? 0 }
        var object: AnyObject? { zset ?? set }

        func forEach(_ body: (UnsafeRawBufferPointer, Double) -> Void) {
            if let z = zset { z.forEach(body) } else if let s = set { s.forEach { body($0, 1.0) } }
        }

        func score(_ m: UnsafeRawBufferPointer) -> Double? {
            if let z = zset { return z.score(m) }
            if let s = set { return s.contains(m) ? 1.0 : nil }
            return nil
        }
    }

    @inline(__always)
    static func aggregate(_ target: Double, _ v: Double, _ how: ZAggregate) -> Double {
        switch how {
        case .sum:
            let r = target + v
            return r.isNaN ? 0 : r
        case .min: return v < target ? v : target
        case .max: return v > target ? v : target
        }
    }

    static func zsetAlgebra(_ c: Client, name: String, store: Bool, op: ZSetOp, cardinalityOnly: Bool = false) {
        let a = c.args
        let numkeysIndex = store ? 2 : 1
        guard let setnum = SZArgs.long(c, numkeysIndex) else { return }
        if setnum < 1 {
            c.error("ERR at least 1 input key is needed for '\(name)' command")
            return
        }
        if setnum > a.count - (numkeysIndex + 1) { c.syntaxError(); return }
        var src: [ZSource] = []
        src.reserveCapacity(setnum)
        var j = numkeysIndex + 1
        for _ in 0..<setnum {
            var source = ZSource()
            if let e = c.engine.lookupRead(c, a[j]) {
                switch e.type {
                case .zset: source.zset = unsafeDowncast(e.object, to: ZSetValue.self)
                case .set: source.set = unsafeDowncast(e.object, to: SetValue.self)
                default: c.wrongType(); return
                }
            }
            src.append(source)
            j += 1
        }
        guard let options = parseAlgebraOptions(c, &src, from: j, op: op, store: store,
                                                cardinalityOnly: cardinalityOnly) else { return }
        let how = options.how, withScores = options.withScores, limit = options.limit
        if op != .diff {
            // Smallest first; ties keep their order (the order scores are summed in matters).
            src = src.enumerated().sorted { ($0.element.count, $0.offset) < ($1.element.count, $1.offset) }.map { $0.element }
        }

        var acc = ZAccumulator(reserving: 0)
        defer { acc.deallocate() }
        var cardinality = 0
        switch op {
        case .inter:
            let first = src[0]
            if first.count > 0 {
                var done = false
                first.forEach { m, s0 in
                    if done { return }
                    var score = first.weight * s0
                    if score.isNaN { score = 0 }
                    for k in 1..<src.count {
                        if src[k].object === first.object {
                            score = aggregate(score, s0 * src[k].weight, how)
                        } else if let v = src[k].score(m) {
                            score = aggregate(score, v * src[k].weight, how)
                        } else {
                            return
                        }
                    }
                    if cardinalityOnly {
                        cardinality += 1
                        if limit > 0 && cardinality >= limit { done = true }
                    } else {
                        acc.add(m, score) { _, n in n }
                    }
                }
            }
        case .union:
            if let biggest = src.last { acc.table.reserve(biggest.count) }
            for source in src where source.count > 0 {
                source.forEach { m, s0 in
                    var score = source.weight * s0
                    if score.isNaN { score = 0 }
                    acc.add(m, score) { old, new in aggregate(old, new, how) }
                }
            }
        case .diff:
            let first = src[0]
            if first.count > 0 && !src.dropFirst().contains(where: { $0.object != nil && $0.object === first.object }) {
                var work1 = 0, work2 = 0
                for source in src { work1 += first.count; work2 += source.count }
                work1 /= 2
                if work1 <= work2 {
                    let others = src.dropFirst().sorted { $0.count > $1.count }
                    first.forEach { m, s0 in
                        for o in others where o.score(m) != nil { return }
                        acc.add(m, s0) { _, n in n }
                    }
                } else {
                    first.forEach { m, s0 in acc.add(m, s0) { _, n in n } }
                    for source in src.dropFirst() where source.count > 0 {
                        if acc.count == 0 { break }
                        source.forEach { m, _ in acc.remove(m) }
                    }
                }
            }
        }

        if cardinalityOnly {
            c.reply.integer(cardinality)
            return
        }
        let result = acc.sorted()
        if store {
            storeAlgebraResult(c, result, op: op)
            return
        }
        replyPairsHeader(c, result.count, withScores: withScores)
        for p in result { replyPair(c, ScoredMemberLayout.member(p), ScoredMemberLayout.score(p), withScore: withScores) }
    }

    struct AlgebraOptions {
        var how = ZAggregate.sum
        var withScores = false
        var limit = 0
    }

    /// WEIGHTS, AGGREGATE, WITHSCORES and LIMIT after the source keys (from
    /// argument `j`); weights go into `src`. Nil after replying an error.
    static func parseAlgebraOptions(_ c: Client, _ src: inout [ZSource], from start: Int, op: ZSetOp, store: Bool,
                                    cardinalityOnly: Bool) -> AlgebraOptions? {
        let a = c.args, setnum = src.count
        var o = AlgebraOptions()
        var j = start
        var remaining = a.count - j
        while remaining > 0 {
            if op != .diff && !cardinalityOnly && remaining >= setnum + 1 && a.equals(j, "weights") {
                j += 1; remaining -= 1
                for i in 0..<setnum {
                    guard let w = a.double(j) else { c.error(static: "ERR weight value is not a float"); return nil }
                    src[i].weight = w
                    j += 1; remaining -= 1
                }
            } else if op != .diff && !cardinalityOnly && remaining >= 2 && a.equals(j, "aggregate") {
                j += 1; remaining -= 1
                if a.equals(j, "sum") { o.how = .sum }
                else if a.equals(j, "min") { o.how = .min }
                else if a.equals(j, "max") { o.how = .max }
                else { c.syntaxError(); return nil }
                j += 1; remaining -= 1
            } else if remaining >= 1 && !store && !cardinalityOnly && a.equals(j, "withscores") {
                j += 1; remaining -= 1
                o.withScores = true
            } else if cardinalityOnly && remaining >= 2 && a.equals(j, "limit") {
                j += 1; remaining -= 1
                guard let l = SZArgs.positiveLong(c, j, "LIMIT can't be negative") else { return nil }
                o.limit = l
                j += 1; remaining -= 1
            } else {
                c.syntaxError()
                return nil
            }
        }
        return o
    }

    /// ZUNIONSTORE/ZINTERSTORE/ZDIFFSTORE: the result replaces the destination (an empty one deletes it).
    static func storeAlgebraResult(_ c: Client, _ result: [UnsafeMutableRawPointer], op: ZSetOp) {
        let s = c.engine, dst = c.args[1]
        if result.isEmpty {
            c.reply.integer(0)
            if s.deleteKey(c.db, dst) {
                s.signalModifiedKey(c.db, dst)
                s.notifyKeyspaceEvent(.generic, "del", dst, c.dbIndex)
                s.addDirty()
            }
            return
        }
        var longest = 0
        for p in result { longest = Swift.max(longest, ScoredMemberLayout.member(p).count) }
        let z = ZSetValue.fromSorted(count: result.count, longest: longest, maxEntries: s.config.zsetMaxListpackEntries,
                                     maxValue: s.config.zsetMaxListpackValue) { add in
            for p in result { add(ScoredMemberLayout.member(p), ScoredMemberLayout.score(p)) }
        }
        s.setObject(c.db, dst, z, type: .zset)
        s.signalModifiedKey(c.db, dst)
        c.reply.integer(z.count)
        let event: StaticString = op == .union ? "zunionstore" : (op == .inter ? "zinterstore" : "zdiffstore")
        s.notifyKeyspaceEvent(.zset, event, dst, c.dbIndex)
        s.addDirty()
    }
}
