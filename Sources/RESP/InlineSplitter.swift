// Splits an inline command line into arguments with Redis's quoting rules
// (sdssplitargs): "double quotes" with \n \r \t \b \a \\ \" \xHH escapes,
// 'single quotes' with only \' escaped, a closing quote must be followed by
// a space or the end of the line.
//
// Unescaping never makes an argument longer than its source text, so the
// result is written in place over the line and arguments point into it.

enum InlineSplitter {
    static func split(_ p: UnsafeMutablePointer<UInt8>, from: Int, to end: Int, into args: inout [ArgSpan]) -> Bool {
        var i = from
        while true {
            while i < end && isSpace(p[i]) { i += 1 }
            if i >= end { return true }
            let outStart = i
            var out = i
            var inDouble = false, inSingle = false, done = false
            while !done {
                if inDouble {
                    if i >= end { return false }
                    let c = p[i]
                    if c == UInt8(ascii: "\\") && i + 3 < end && p[i + 1] == UInt8(ascii: "x")
                        && isHex(p[i + 2]) && isHex(p[i + 3]) {
                        p[out] = hexValue(p[i + 2]) << 4 | hexValue(p[i + 3])
                        out += 1; i += 4
                    } else if c == UInt8(ascii: "\\") && i + 1 < end {
                        let e = p[i + 1]
                        switch e {
                        case UInt8(ascii: "n"): p[out] = 10
                        case UInt8(ascii: "r"): p[out] = 13
                        case UInt8(ascii: "t"): p[out] = 9
                        case UInt8(ascii: "b"): p[out] = 8
                        case UInt8(ascii: "a"): p[out] = 7
                        default: p[out] = e
                        }
                        out += 1; i += 2
                    } else if c == UInt8(ascii: "\"") {
                        if i + 1 < end && !isSpace(p[i + 1]) { return false }
                        done = true; i += 1
                    } else {
                        p[out] = c; out += 1; i += 1
                    }
                } else if inSingle {
                    if i >= end { return false }
                    let c = p[i]
                    if c == UInt8(ascii: "\\") && i + 1 < end && p[i + 1] == UInt8(ascii: "'") {
                        p[out] = UInt8(ascii: "'"); out += 1; i += 2
                    } else if c == UInt8(ascii: "'") {
                        if i + 1 < end && !isSpace(p[i + 1]) { return false }
                        done = true; i += 1
                    } else {
                        p[out] = c; out += 1; i += 1
                    }
                } else {
                    if i >= end { done = true; break }
                    let c = p[i]
                    if isSpace(c) { done = true; i += 1 }
                    else if c == UInt8(ascii: "\"") { inDouble = true; i += 1 }
                    else if c == UInt8(ascii: "'") { inSingle = true; i += 1 }
                    else { p[out] = c; out += 1; i += 1 }
                }
            }
            args.append(ArgSpan(offset: outStart, count: out - outStart))
        }
    }

    @inline(__always) static func isSpace(_ c: UInt8) -> Bool {
        c == 32 || c == 9 || c == 10 || c == 13 || c == 11 || c == 12
    }
    @inline(__always) static func isHex(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70)
    }
    @inline(__always) static func hexValue(_ c: UInt8) -> UInt8 {
        c <= 57 ? c - 48 : (c | 0x20) - 87
    }
}

/// Splits a whole redis.conf-style line (same quoting rules) in place.
public func splitInline(_ p: UnsafeMutablePointer<UInt8>, count: Int, into out: inout [ArgSpan]) -> Bool {
    InlineSplitter.split(p, from: 0, to: count, into: &out)
}
