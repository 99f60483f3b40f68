// Sorted-set key API: ZsetAdd/Incrby/Rem/Score and the score and lex range
// iterators (by rank over the engine's sorted set).

import CModuleABI
import Engine
import Glibc

private let ZADD_XX: Int32 = 1, ZADD_NX: Int32 = 2, ZADD_ADDED: Int32 = 4, ZADD_UPDATED: Int32 = 8
private let ZADD_NOP: Int32 = 16, ZADD_GT: Int32 = 32, ZADD_LT: Int32 = 64

private func zsetValue(_ k: PluginKey, create: Bool) -> ZSetValue?? {
    if let e = k.entry() {
        guard e.type == .zset else { return .some(nil) }
        return .some(e.object as? ZSetValue)
    }
    guard create else { return nil }
    let z = ZSetValue()
    k.key.withUnsafeBytes { k.engine.setObject(k.db, $0, z, type: .zset) }
    return .some(z)
}

private func zadd(_ p: UnsafeMutableRawPointer?, _ score: Double, _ ele: RMString?, _ flagsptr: UnsafeMutablePointer<Int32>?,
                  _ newscore: UnsafeMutablePointer<Double>?, incr: Bool) -> Int32 {
    guard let k = pkey(p), k.writable, let ele = ele, !score.isNaN else { return TSM_ERR }
    let inFlags = flagsptr?.pointee ?? 0
    if inFlags & ZADD_NX != 0, let e = k.entry(), e.type == .zset,
       (e.object as! ZSetValue).score(stringBuffer(ele)) != nil {
        flagsptr?.pointee = ZADD_NOP
        return TSM_OK
    }
    if inFlags & ZADD_XX != 0 && k.entry() == nil { flagsptr?.pointee = ZADD_NOP; return TSM_OK }
    guard let found = zsetValue(k, create: true), let z = found else { return TSM_ERR }
    var f: ZSetValue.AddFlags = []
    if inFlags & ZADD_XX != 0 { f.insert(.xx) }
    if inFlags & ZADD_NX != 0 { f.insert(.nx) }
    if inFlags & ZADD_GT != 0 { f.insert(.gt) }
    if inFlags & ZADD_LT != 0 { f.insert(.lt) }
    if incr { f.insert(.incr) }
    var ns = 0.0
    let cfg = k.engine.config
    let r = z.add(stringBuffer(ele), score: score, flags: f, maxEntries: cfg.zsetMaxListpackEntries,
                  maxValue: cfg.zsetMaxListpackValue, newScore: &ns)
    switch r {
    case .added: flagsptr?.pointee = ZADD_ADDED
    case .updated: flagsptr?.pointee = ZADD_UPDATED
    case .unchanged, .nop: flagsptr?.pointee = ZADD_NOP
    case .nan:
        k.deleteIfEmpty()
        return TSM_ERR
    }
    newscore?.pointee = ns
    if r == .added || r == .updated { k.modified(.zset, incr ? "zincr" : "zadd") }
    k.deleteIfEmpty()
    return TSM_OK
}

@_cdecl("RMX_ZsetAdd")
func RMX_ZsetAdd(_ p: UnsafeMutableRawPointer?, _ score: Double, _ ele: RMString?, _ flagsptr: UnsafeMutablePointer<Int32>?) -> Int32 {
    zadd(p, score, ele, flagsptr, nil, incr: false)
}

@_cdecl("RMX_ZsetIncrby")
func RMX_ZsetIncrby(_ p: UnsafeMutableRawPointer?, _ score: Double, _ ele: RMString?, _ flagsptr: UnsafeMutablePointer<Int32>?,
                    _ newscore: UnsafeMutablePointer<Double>?) -> Int32 {
    zadd(p, score, ele, flagsptr, newscore, incr: true)
}

@_cdecl("RMX_ZsetRem")
func RMX_ZsetRem(_ p: UnsafeMutableRawPointer?, _ ele: RMString?, _ deleted: UnsafeMutablePointer<Int32>?) -> Int32 {
    guard let k = pkey(p), k.writable, let ele = ele else { return TSM_ERR }
    guard let e = k.entry() else { deleted?.pointee = 0; return TSM_OK }
    guard e.type == .zset, let z = e.object as? ZSetValue else { return TSM_ERR }
    let removed = z.remove(stringBuffer(ele))
    deleted?.pointee = removed ? 1 : 0
    if removed { k.modified(.zset, "zrem"); k.deleteIfEmpty() }
    return TSM_OK
}

@_cdecl("RMX_ZsetScore")
func RMX_ZsetScore(_ p: UnsafeMutableRawPointer?, _ ele: RMString?, _ score: UnsafeMutablePointer<Double>?) -> Int32 {
    guard let k = pkey(p), let ele = ele, let e = k.entry(), e.type == .zset, let z = e.object as? ZSetValue,
          let s = z.score(stringBuffer(ele)) else { return TSM_ERR }
    score?.pointee = s
    return TSM_OK
}

// MARK: range iteration

private func zset(_ k: PluginKey) -> ZSetValue? {
    guard let e = k.entry(), e.type == .zset else { return nil }
    return e.object as? ZSetValue
}

@_cdecl("RMX_ZsetRangeStop")
func RMX_ZsetRangeStop(_ p: UnsafeMutableRawPointer?) {
    guard let k = pkey(p) else { return }
    k.zRanks = nil; k.zScoreRange = nil; k.zLexBounds = nil
}

private func rangeOver(_ k: PluginKey, _ z: ZSetValue, first: Bool, _ inRange: (UnsafeRawBufferPointer, Double) -> Bool) -> Int32 {
    var lo = -1, hi = -1, i = 0
    z.walk(from: 0, reverse: false) { m, s in
        if inRange(m, s) { if lo < 0 { lo = i }; hi = i }
        i += 1
        return true
    }
    guard lo >= 0 else { k.zRanks = nil; return TSM_ERR }
    k.zRanks = (first ? lo : hi, lo, hi)
    return TSM_OK
}

@_cdecl("RMX_ZsetFirstInScoreRange")
func RMX_ZsetFirstInScoreRange(_ p: UnsafeMutableRawPointer?, _ min: Double, _ max: Double, _ minex: Int32, _ maxex: Int32) -> Int32 {
    scoreRange(p, min, max, minex, maxex, first: true)
}

@_cdecl("RMX_ZsetLastInScoreRange")
func RMX_ZsetLastInScoreRange(_ p: UnsafeMutableRawPointer?, _ min: Double, _ max: Double, _ minex: Int32, _ maxex: Int32) -> Int32 {
    scoreRange(p, min, max, minex, maxex, first: false)
}

private func scoreRange(_ p: UnsafeMutableRawPointer?, _ min: Double, _ max: Double, _ minex: Int32, _ maxex: Int32, first: Bool) -> Int32 {
    guard let k = pkey(p), let z = zset(k) else { return TSM_ERR }
    return rangeOver(k, z, first: first) { _, s in
        (minex != 0 ? s > min : s >= min) && (maxex != 0 ? s < max : s <= max)
    }
}

/// A lex bound: "-", "+", "[x" or "(x"; nil if malformed.
private func lexBound(_ s: RMString?) -> (bytes: [UInt8]?, inf: Int, ex: Bool)? {
    let b = stringBytes(s)
    guard let c = b.first else { return nil }
    if b.count == 1 && c == UInt8(ascii: "-") { return (nil, -1, false) }
    if b.count == 1 && c == UInt8(ascii: "+") { return (nil, 1, false) }
    if c == UInt8(ascii: "[") { return (Array(b.dropFirst()), 0, false) }
    if c == UInt8(ascii: "(") { return (Array(b.dropFirst()), 0, true) }
    return nil
}

private func lexCompare(_ a: UnsafeRawBufferPointer, _ b: [UInt8]) -> Int {
    let n = Swift.min(a.count, b.count)
    let c = n == 0 ? 0 : b.withUnsafeBytes { memcmp(a.baseAddress!, $0.baseAddress!, n) }
    if c != 0 { return c < 0 ? -1 : 1 }
    return a.count < b.count ? -1 : (a.count > b.count ? 1 : 0)
}

private func lexRange(_ p: UnsafeMutableRawPointer?, _ min: RMString?, _ max: RMString?, first: Bool) -> Int32 {
    guard let k = pkey(p), let z = zset(k), let lo = lexBound(min), let hi = lexBound(max) else { return TSM_ERR }
    return rangeOver(k, z, first: first) { m, _ in
        let geMin: Bool
        if lo.inf == -1 { geMin = true } else if lo.inf == 1 { geMin = false }
        else { let c = lexCompare(m, lo.bytes!); geMin = lo.ex ? c > 0 : c >= 0 }
        let leMax: Bool
        if hi.inf == 1 { leMax = true } else if hi.inf == -1 { leMax = false }
        else { let c = lexCompare(m, hi.bytes!); leMax = hi.ex ? c < 0 : c <= 0 }
        return geMin && leMax
    }
}

@_cdecl("RMX_ZsetFirstInLexRange")
func RMX_ZsetFirstInLexRange(_ p: UnsafeMutableRawPointer?, _ min: RMString?, _ max: RMString?) -> Int32 {
    lexRange(p, min, max, first: true)
}

@_cdecl("RMX_ZsetLastInLexRange")
func RMX_ZsetLastInLexRange(_ p: UnsafeMutableRawPointer?, _ min: RMString?, _ max: RMString?) -> Int32 {
    lexRange(p, min, max, first: false)
}

@_cdecl("RMX_ZsetRangeCurrentElement")
func RMX_ZsetRangeCurrentElement(_ p: UnsafeMutableRawPointer?, _ score: UnsafeMutablePointer<Double>?) -> RMString? {
    guard let k = pkey(p), let r = k.zRanks, let z = zset(k), r.cur >= r.first, r.cur <= r.last, r.cur < z.count else { return nil }
    return z.withElement(atRank: r.cur) { m, s in
        score?.pointee = s
        return newString(k.ctx, m)
    }
}

@_cdecl("RMX_ZsetRangeNext")
func RMX_ZsetRangeNext(_ p: UnsafeMutableRawPointer?) -> Int32 {
    guard let k = pkey(p), let r = k.zRanks else { return 0 }
    if r.cur + 1 > r.last { k.zRanks = (r.last + 1, r.first, r.last); return 0 }
    k.zRanks = (r.cur + 1, r.first, r.last)
    return 1
}

@_cdecl("RMX_ZsetRangePrev")
func RMX_ZsetRangePrev(_ p: UnsafeMutableRawPointer?) -> Int32 {
    guard let k = pkey(p), let r = k.zRanks else { return 0 }
    if r.cur - 1 < r.first { k.zRanks = (r.first - 1, r.first, r.last); return 0 }
    k.zRanks = (r.cur - 1, r.first, r.last)
    return 1
}

@_cdecl("RMX_ZsetRangeEndReached")
func RMX_ZsetRangeEndReached(_ p: UnsafeMutableRawPointer?) -> Int32 {
    guard let k = pkey(p), let r = k.zRanks else { return 1 }
    return r.cur < r.first || r.cur > r.last ? 1 : 0
}
