// Glob-style matching with Redis's rules (stringmatchlen): * ? [abc] [^a] [a-z]
// and backslash escapes. Used by KEYS, SCAN MATCH, CONFIG GET, PUBSUB.

public func globMatch(_ pattern: UnsafeRawBufferPointer, _ string: UnsafeRawBufferPointer, nocase: Bool = false) -> Bool {
    var nesting = 0
    var skipLonger = false
    return matchImpl(pattern, 0, string, 0, nocase, &nesting, &skipLonger)
}

public func globMatch(_ pattern: [UInt8], _ string: [UInt8], nocase: Bool = false) -> Bool {
    pattern.withUnsafeBytes { p in string.withUnsafeBytes { s in globMatch(p, s, nocase: nocase) } }
}

@inline(__always) private func lower(_ c: UInt8) -> UInt8 { c >= 65 && c <= 90 ? c | 0x20 : c }

private func matchImpl(_ p: UnsafeRawBufferPointer, _ pi0: Int, _ s: UnsafeRawBufferPointer, _ si0: Int,
                       _ nocase: Bool, _ nesting: inout Int, _ skipLonger: inout Bool) -> Bool {
    var pi = pi0, si = si0
    let plen = p.count, slen = s.count
    // Guard against pathological patterns, like Redis does.
    if nesting > 1000 { return false }
    nesting += 1
    defer { nesting -= 1 }
    while pi < plen && si < slen {
        switch p[pi] {
        case UInt8(ascii: "*"):
            while pi + 1 < plen && p[pi + 1] == UInt8(ascii: "*") { pi += 1 }
            if pi + 1 == plen { return true }
            while si < slen {
                if matchImpl(p, pi + 1, s, si, nocase, &nesting, &skipLonger) { return true }
                if skipLonger { return false }
                si += 1
            }
            // The rest of the pattern matches no suffix of the string, so no
            // earlier '*' can help by matching more: stop backtracking (this
            // keeps patterns like "a*a*a*...b" linear, as Redis does).
            skipLonger = true
            return false
        case UInt8(ascii: "?"):
            si += 1
        case UInt8(ascii: "["):
            pi += 1
            let not = pi < plen && p[pi] == UInt8(ascii: "^")
            if not { pi += 1 }
            var matched = false
            while true {
                if pi < plen && p[pi] == UInt8(ascii: "\\") && pi + 1 < plen {
                    pi += 1
                    if p[pi] == s[si] { matched = true }
                } else if pi >= plen {
                    pi -= 1
                    break
                } else if p[pi] == UInt8(ascii: "]") {
                    break
                } else if pi + 2 < plen && p[pi + 1] == UInt8(ascii: "-") {
                    var start = p[pi], end = p[pi + 2]
                    var c = s[si]
                    if start > end { swap(&start, &end) }
                    if nocase { start = lower(start); end = lower(end); c = lower(c) }
                    pi += 2
                    if c >= start && c <= end { matched = true }
                } else {
                    if nocase { if lower(p[pi]) == lower(s[si]) { matched = true } }
                    else if p[pi] == s[si] { matched = true }
                }
                pi += 1
            }
            if not { matched = !matched }
            if !matched { return false }
            si += 1
        case UInt8(ascii: "\\"):
            if pi + 1 < plen { pi += 1 }
            fallthrough
        default:
            if nocase { if lower(p[pi]) != lower(s[si]) { return false } }
            else if p[pi] != s[si] { return false }
            si += 1
        }
        pi += 1
        if si == slen {
            while pi < plen && p[pi] == UInt8(ascii: "*") { pi += 1 }
            break
        }
    }
    return pi == plen && si == slen
}
