// LCS: longest common subsequence of two strings, with Redis's IDX ranges
// (reported from the end of the strings backwards) and MINMATCHLEN filtering.

extension ShardEngine {
    static func lcsCommand(_ c: Client) {
        let a = c.args
        var getLen = false, getIdx = false, withMatchLen = false
        var minMatchLen: Int64 = 0
        var i = 3
        while i < a.count {
            if a.equals(i, "idx") { getIdx = true }
            else if a.equals(i, "len") { getLen = true }
            else if a.equals(i, "withmatchlen") { withMatchLen = true }
            else if a.equals(i, "minmatchlen") && i + 1 < a.count {
                guard let v = c.intArg(i + 1) else { return }
                minMatchLen = max(0, v)
                i += 1
            } else { c.syntaxError(); return }
            i += 1
        }
        var strings: [[UInt8]] = []
        for k in 1...2 {
            guard let e = c.engine.lookupRead(c, a[k]) else { strings.append([]); continue }
            if e.type != .string {
                c.error(static: "ERR The specified keys must contain string values")
                return
            }
            strings.append(Array(e.stringValue))
        }
        if getIdx && getLen {
            c.error(static: "ERR If you want both the length and indexes, please just use IDX.")
            return
        }
        let x = strings[0], y = strings[1]
        let alen = x.count, blen = y.count
        let width = blen + 1
        var table = [UInt32](repeating: 0, count: (alen + 1) * width)
        if alen > 0 && blen > 0 {
            for p in 1...alen {
                for q in 1...blen {
                    if x[p - 1] == y[q - 1] {
                        table[p * width + q] = table[(p - 1) * width + q - 1] + 1
                    } else {
                        table[p * width + q] = max(table[(p - 1) * width + q], table[p * width + q - 1])
                    }
                }
            }
        }
        let total = Int(table[alen * width + blen])
        if getLen && !getIdx { c.reply.integer(total); return }
        var result = [UInt8](repeating: 0, count: total)
        var idx = total
        var ranges: [(Int, Int, Int, Int, Int)] = []
        var aStart = alen, aEnd = 0, bStart = 0, bEnd = 0
        var p = alen, q = blen
        while p > 0 && q > 0 {
            var emit = false
            if x[p - 1] == y[q - 1] {
                result[idx - 1] = x[p - 1]
                if aStart == alen {
                    aStart = p - 1; aEnd = p - 1; bStart = q - 1; bEnd = q - 1
                } else if aStart == p && bStart == q {
                    aStart -= 1; bStart -= 1
                } else {
                    emit = true
                }
                if aStart == 0 || bStart == 0 { emit = true }
                idx -= 1; p -= 1; q -= 1
            } else {
                if table[(p - 1) * width + q] > table[p * width + q - 1] { p -= 1 } else { q -= 1 }
                if aStart != alen { emit = true }
            }
            if emit {
                let matchLen = aEnd - aStart + 1
                if minMatchLen == 0 || matchLen >= minMatchLen {
                    ranges.append((aStart, aEnd, bStart, bEnd, matchLen))
                }
                aStart = alen
            }
        }
        if !getIdx { c.reply.bulk(result); return }
        c.reply.map(2)
        c.reply.bulk(string: "matches")
        c.reply.array(ranges.count)
        for r in ranges {
            c.reply.array(withMatchLen ? 3 : 2)
            c.reply.array(2); c.reply.integer(r.0); c.reply.integer(r.1)
            c.reply.array(2); c.reply.integer(r.2); c.reply.integer(r.3)
            if withMatchLen { c.reply.integer(r.4) }
        }
        c.reply.bulk(string: "len")
        c.reply.integer(total)
    }
}
