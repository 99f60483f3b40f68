// Argument parsing and SCAN plumbing shared by the set and sorted-set
// commands, with Redis's exact error texts (object.c's get*FromObjectOrReply,
// db.c's parseScanCursorOrReply / scanGenericCommand).

import Glibc
import RESP

enum SZArgs {
    /// getLongFromObjectOrReply: an integer, else `message` or Redis's default error.
    static func long(_ c: Client, _ i: Int, _ message: String? = nil) -> Int? {
        if let v = c.args.int64(i) { return Int(v) }
        if let m = message { c.error("ERR " + m) } else { c.notInteger() }
        return nil
    }

    /// getRangeLongFromObjectOrReply.
    static func rangeLong(_ c: Client, _ i: Int, min: Int, max: Int, _ message: String? = nil) -> Int? {
        guard let v = long(c, i, message) else { return nil }
        if v < min || v > max {
            if let m = message { c.error("ERR " + m) }
            else { c.error("ERR value is out of range, value must between \(min) and \(max)") }
            return nil
        }
        return v
    }

    /// getPositiveLongFromObjectOrReply.
    static func positiveLong(_ c: Client, _ i: Int, _ message: String? = nil) -> Int? {
        rangeLong(c, i, min: 0, max: Int.max, message ?? "value is out of range, must be positive")
    }

    /// A SCAN cursor as strtoul reads it (no leading space, whole string, in range).
    static func scanCursor(_ c: Client, _ i: Int) -> UInt64? {
        let b = c.args[i]
        let ok = b.count == 0 || !(b[0] == 32 || (b[0] >= 9 && b[0] <= 13))
        if ok && b.count < 128 {
            let v: UInt64? = withUnsafeTemporaryAllocation(of: CChar.self, capacity: b.count + 1) { buf in
                let p = buf.baseAddress!
                if b.count > 0 { UnsafeMutableRawPointer(p).copyMemory(from: b.baseAddress!, byteCount: b.count) }
                p[b.count] = 0
                var end: UnsafeMutablePointer<CChar>? = nil
                errno = 0
                let r = strtoul(p, &end, 10)
                if end!.pointee != 0 || errno == ERANGE { return nil }
                return UInt64(r)
            }
            if let v = v { return v }
        }
        c.error(static: "ERR invalid cursor")
        return nil
    }

    struct ScanOptions {
        var count = 10
        var pattern: UnsafeRawBufferPointer? = nil
    }

    /// Parses COUNT / MATCH from argument 3 on; replies and returns nil on error.
    static func scanOptions(_ c: Client) -> ScanOptions? {
        var o = ScanOptions()
        var i = 3
        let a = c.args
        while i < a.count {
            let left = a.count - i
            if a.equals(i, "count") && left >= 2 {
                guard let n = long(c, i + 1) else { return nil }
                if n < 1 { c.syntaxError(); return nil }
                o.count = Swift.min(n, Int.max / 32)  // room for the x2 and x10 below
                i += 2
            } else if a.equals(i, "match") && left >= 2 {
                let p = a[i + 1]
                o.pattern = (p.count == 1 && p[0] == UInt8(ascii: "*")) ? nil : p
                i += 2
            } else {
                c.syntaxError()
                return nil
            }
        }
        return o
    }

    /// Writes a SCAN reply: the cursor and the flat list of items.
    static func replyScan(_ c: Client, cursor: UInt64, items: [[UInt8]]) {
        c.reply.array(2)
        c.reply.bulk(Array(String(cursor).utf8))
        c.reply.array(items.count)
        for it in items { c.reply.bulk(it) }
    }

    /// The numkeys argument of SINTERCARD/ZMPOP ("numkeys should be greater than 0").
    static func numKeys(_ c: Client, _ i: Int) -> Int? {
        rangeLong(c, i, min: 1, max: Int.max, "numkeys should be greater than 0")
    }
}
