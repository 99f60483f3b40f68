// SORT and SORT_RO (Redis's sort.c): sorts a list, set or sorted set
// numerically or lexicographically, by the element itself or by external
// keys (BY pattern, "key->field" for hash fields), with LIMIT, GET patterns
// ('#' is the element) and STORE into a list.
//
// The value types provide the elements through ValueObject.sortElements(),
// hash fields through sortHashField(_:) and the stored list through
// ListValue.fromSortResult(_:config:).

import Glibc

extension ShardEngine {
    static func sortCommands() -> [Command] {
        [
            Command("sort", arity: -2, flags: [.write, .denyOOM], keys: (1, 1, 1), group: .generic,
                    handler: { sortCommand($0, readonly: false) }),
            Command("sort_ro", arity: -2, flags: [.readonly], keys: (1, 1, 1), group: .generic, since: "7.0.0",
                    handler: { sortCommand($0, readonly: true) }),
        ]
    }

    /// One element being sorted: the element, its numeric weight, and for
    /// ALPHA with BY the external value compared (nil when missing).
    struct SortItem {
        var element: [UInt8]
        var score: Double = 0
        var compareBy: [UInt8]? = nil
    }

    /// memcmp order, shorter first on a common prefix (Redis's compareStringObjects).
    @inline(__always)
    static func compareBytes(_ a: [UInt8], _ b: [UInt8]) -> Int {
        let n = min(a.count, b.count)
        let r = a.withUnsafeBytes { pa in b.withUnsafeBytes { pb in n == 0 ? 0 : memcmp(pa.baseAddress!, pb.baseAddress!, n) } }
        if r != 0 { return Int(r) }
        return a.count - b.count
    }

    /// The bytes of `b` up to its first NUL (where Redis's C string functions stop).
    @inline(__always)
    static func cStringPrefix(_ b: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        if let z = b.firstIndex(of: 0) { return UnsafeRawBufferPointer(rebasing: b[..<z]) }
        return b
    }

    /// Parses a weight the way SORT does (strtod over the whole string; NaN
    /// and out-of-range rejected). nil if it is not a number.
    static func sortWeight(_ b: [UInt8]) -> Double? {
        var z = b
        z.append(0)
        return z.withUnsafeBufferPointer { buf -> Double? in
            let p = UnsafeRawPointer(buf.baseAddress!).assumingMemoryBound(to: CChar.self)
            var end: UnsafeMutablePointer<CChar>? = nil
            errno = 0
            let d = strtod(p, &end)
            if end!.pointee != 0 || errno == ERANGE || d.isNaN { return nil }
            return d
        }
    }

    /// Resolves a BY/GET pattern for `element` (Redis's lookupKeyByPattern):
    /// "#" is the element itself; the first '*' is replaced by the element;
    /// a "->field" after it reads that field of a hash. nil when the key (or
    /// field) is missing or of the wrong type, or the pattern has no '*'.
    static func lookupByPattern(_ c: Client, _ pattern: UnsafeRawBufferPointer, _ element: [UInt8]) -> [UInt8]? {
        let cpat = cStringPrefix(pattern)
        if cpat.count == 1 && cpat[0] == UInt8(ascii: "#") { return element }
        guard let star = cpat.firstIndex(of: UInt8(ascii: "*")) else { return nil }
        var fieldStart = -1
        var i = star + 1
        while i + 1 < cpat.count {
            if cpat[i] == UInt8(ascii: "-") && cpat[i + 1] == UInt8(ascii: ">") {
                if i + 2 < cpat.count { fieldStart = i + 2 }
                break
            }
            i += 1
        }
        let fieldLen = fieldStart >= 0 ? pattern.count - fieldStart : 0
        let postfixEnd = fieldStart >= 0 ? fieldStart - 2 : pattern.count
        var key: [UInt8] = []
        key.reserveCapacity(star + element.count + (postfixEnd - star - 1))
        key.append(contentsOf: pattern[..<star])
        key.append(contentsOf: element)
        key.append(contentsOf: pattern[(star + 1)..<postfixEnd])
        let s = c.engine
        return key.withUnsafeBytes { kb -> [UInt8]? in
            guard let e = s.lookupRead(c, kb) else { return nil }
            if fieldStart >= 0 {
                guard e.type == .hash else { return nil }
                let field = UnsafeRawBufferPointer(rebasing: pattern[fieldStart..<(fieldStart + fieldLen)])
                return e.valueObject.sortHashField(field)
            }
            guard e.type == .string else { return nil }
            return Array(e.stringValue)
        }
    }

    /// SORT's options as parsed (argument positions point into `c.args`).
    struct SortOptions {
        var desc = false, alpha = false, dontSort = false
        var limitStart: Int64 = 0, limitCount: Int64 = -1
        var storeArg = 0, byArg = 0
        var getArgs: [Int] = []
    }

    /// Parses SORT's options; nil after replying an error.
    static func parseSortOptions(_ c: Client, readonly: Bool) -> SortOptions? {
        let a = c.args, s = c.engine
        var o = SortOptions()
        var j = 2
        while j < a.count {
            let left = a.count - j - 1
            if a.equals(j, "asc") {
                o.desc = false
            } else if a.equals(j, "desc") {
                o.desc = true
            } else if a.equals(j, "alpha") {
                o.alpha = true
            } else if a.equals(j, "limit") && left >= 2 {
                guard let st = c.intArg(j + 1), let cnt = c.intArg(j + 2) else { return nil }
                o.limitStart = st
                o.limitCount = cnt
                j += 2
            } else if !readonly && a.equals(j, "store") && left >= 1 {
                o.storeArg = j + 1
                j += 1
            } else if a.equals(j, "by") && left >= 1 {
                o.byArg = j + 1
                // BY without '*' means "don't sort" (e.g. BY nosort).
                if !cStringPrefix(a[j + 1]).contains(UInt8(ascii: "*")) {
                    o.dontSort = true
                } else if s.keysSpanProcesses(c) {
                    c.error(static: "ERR BY option of SORT denied in Cluster mode.")
                    return nil
                }
                j += 1
            } else if a.equals(j, "get") && left >= 1 {
                if s.keysSpanProcesses(c) { c.error(static: "ERR GET option of SORT denied in Cluster mode."); return nil }
                o.getArgs.append(j + 1)
                j += 1
            } else {
                c.syntaxError()
                return nil
            }
            j += 1
        }
        return o
    }

    static func sortCommand(_ c: Client, readonly: Bool) {
        let a = c.args, s = c.engine
        guard let o = parseSortOptions(c, readonly: readonly) else { return }
        let desc = o.desc
        var alpha = o.alpha, dontSort = o.dontSort
        let limitStart = o.limitStart, limitCount = o.limitCount
        let storeArg = o.storeArg, getArgs = o.getArgs
        var byArg = o.byArg

        let value = s.lookupRead(c, a[1])
        if let e = value, e.type != .list && e.type != .set && e.type != .zset {
            c.wrongType()
            return
        }
        let type = value?.type ?? .list
        // An unsorted set would come out in hash order: force a stable ALPHA
        // sort when the result is stored (replication/AOF see the same order).
        if dontSort && type == .set && storeArg != 0 {
            dontSort = false
            alpha = true
            byArg = 0
        }
        var elements = value?.valueObject.sortElements() ?? []

        let len = Int64(elements.count)
        var start = limitStart < 0 ? 0 : limitStart
        // Saturating: LIMIT offsets near Int64.max must clamp, not wrap.
        var end = limitCount < 0 ? len - 1 : {
            let (e, overflow) = start.addingReportingOverflow(limitCount - 1)
            return overflow ? Int64.max : e
        }()
        if start >= len {
            start = len - 1
            end = len - 2
        }
        if end >= len { end = len - 1 }

        var items: [SortItem]
        if dontSort && (type == .list || type == .zset) {
            // Natural order (reversed for DESC), only the LIMIT range.
            if desc { elements.reverse() }
            items = end >= start ? elements[Int(start)...Int(end)].map { SortItem(element: $0) } : []
            end -= start
            start = 0
        } else {
            items = elements.map { SortItem(element: $0) }
        }
        elements = []

        var conversionError = false
        if !dontSort {
            let byPattern: UnsafeRawBufferPointer? = byArg != 0 ? a[byArg] : nil
            for k in items.indices {
                let weight: [UInt8]
                if let p = byPattern {
                    guard let w = lookupByPattern(c, p, items[k].element) else { continue }
                    weight = w
                } else {
                    weight = items[k].element
                }
                if alpha {
                    if byPattern != nil { items[k].compareBy = weight }
                } else if let d = sortWeight(weight) {
                    items[k].score = d
                } else {
                    conversionError = true
                }
            }
            let byExternal = byPattern != nil
            let ordered: (SortItem, SortItem) -> Int = { x, y in
                if !alpha {
                    if x.score > y.score { return 1 }
                    if x.score < y.score { return -1 }
                    return compareBytes(x.element, y.element)
                }
                if byExternal {
                    switch (x.compareBy, y.compareBy) {
                    case (nil, nil): return 0
                    case (nil, _): return -1
                    case (_, nil): return 1
                    case let (p?, q?): return compareBytes(p, q)
                    }
                }
                return compareBytes(x.element, y.element)
            }
            if desc { items.sort { ordered($0, $1) > 0 } } else { items.sort { ordered($0, $1) < 0 } }
        }

        let span = end >= start ? Int(end - start + 1) : 0
        let outputLen = getArgs.isEmpty ? span : getArgs.count * span
        if conversionError {
            c.error(static: "ERR One or more scores can't be converted into double")
            return
        }
        sortReply(c, items, from: start, to: end, getArgs: getArgs, storeArg: storeArg, outputLen: outputLen)
    }

    /// Replies the sorted range (or stores it with STORE and replies its length).
    private static func sortReply(_ c: Client, _ items: [SortItem], from start: Int64, to end: Int64,
                                  getArgs: [Int], storeArg: Int, outputLen: Int) {
        let a = c.args, s = c.engine
        let span = end >= start ? Int(end - start + 1) : 0
        if storeArg == 0 {
            c.reply.array(outputLen)
            if span == 0 { return }
            for k in Int(start)...Int(end) {
                if getArgs.isEmpty { c.reply.bulk(items[k].element) }
                for g in getArgs {
                    if let v = lookupByPattern(c, a[g], items[k].element) { c.reply.bulk(v) } else { c.reply.null() }
                }
            }
            return
        }

        var result: [[UInt8]] = []
        result.reserveCapacity(outputLen)
        if span > 0 {
            for k in Int(start)...Int(end) {
                if getArgs.isEmpty { result.append(items[k].element) }
                for g in getArgs { result.append(lookupByPattern(c, a[g], items[k].element) ?? []) }
            }
        }
        let db = c.db, storeKey = a[storeArg]
        if outputLen > 0 {
            guard let list = ListValue.fromSortResult(result, config: s.config) else {
                c.error(static: "ERR SORT STORE is not supported by this build")
                return
            }
            s.setObject(db, storeKey, list, type: .list)
            s.signalModifiedKey(db, storeKey)
            s.notifyKeyspaceEvent(.list, "sortstore", storeKey, db.index)
            s.addDirty(outputLen)
        } else if s.deleteKey(db, storeKey) {
            s.signalModifiedKey(db, storeKey)
            s.notifyKeyspaceEvent(.generic, "del", storeKey, db.index)
            s.addDirty()
        }
        c.reply.integer(outputLen)
    }
}
