// Score and lexicographic ranges of sorted-set commands, parsed as Redis does
// (zslParseRange: strtod with an optional "(" for exclusive bounds;
// zslParseLexRange: "[x" inclusive, "(x" exclusive, "-" and "+" the extremes).

import Glibc

/// A score or lex range, as the range queries of ZSetValue see it.
public protocol ZSetRange {
    /// True when no element can be in the range.
    var isEmpty: Bool { get }
    /// The element (member, score) is not before the range's start.
    func gteMin(_ member: UnsafeRawBufferPointer, _ score: Double) -> Bool
    /// The element (member, score) is not after the range's end.
    func lteMax(_ member: UnsafeRawBufferPointer, _ score: Double) -> Bool
    /// True when the range follows the set's (score, member) order, so a
    /// linear scan needs no check of the set's ends first.
    static var followsSetOrder: Bool { get }
    /// Parses min and max; nil if either is not a valid bound.
    static func parse(_ min: UnsafeRawBufferPointer, _ max: UnsafeRawBufferPointer) -> Self?
    /// Redis's reply when `parse` fails.
    static var parseError: StaticString { get }
}

public struct ScoreRange: ZSetRange {
    public var min: Double
    public var max: Double
    public var minEx: Bool
    public var maxEx: Bool

    public init(min: Double, max: Double, minEx: Bool = false, maxEx: Bool = false) {
        self.min = min; self.max = max; self.minEx = minEx; self.maxEx = maxEx
    }

    @inline(__always) public func gteMin(_ v: Double) -> Bool { minEx ? v > min : v >= min }
    @inline(__always) public func lteMax(_ v: Double) -> Bool { maxEx ? v < max : v <= max }
    @inline(__always) public func contains(_ v: Double) -> Bool { gteMin(v) && lteMax(v) }

    @inline(__always) public func gteMin(_ m: UnsafeRawBufferPointer, _ s: Double) -> Bool { gteMin(s) }
    @inline(__always) public func lteMax(_ m: UnsafeRawBufferPointer, _ s: Double) -> Bool { lteMax(s) }

    /// True when no score can be in the range.
    public var isEmpty: Bool { min > max || (min == max && (minEx || maxEx)) }

    public static var followsSetOrder: Bool { true }
    public static var parseError: StaticString { "ERR min or max is not a float" }

    /// Parses min and max; nil if either is not a valid bound.
    public static func parse(_ min: UnsafeRawBufferPointer, _ max: UnsafeRawBufferPointer) -> ScoreRange? {
        guard let (a, ax) = parseBound(min), let (b, bx) = parseBound(max) else { return nil }
        return ScoreRange(min: a, max: b, minEx: ax, maxEx: bx)
    }

    /// One bound: strtod over the whole argument (as a C string), "(" prefix for exclusive.
    static func parseBound(_ arg: UnsafeRawBufferPointer) -> (Double, Bool)? {
        var ex = false
        var bytes = arg
        if arg.count > 0 && arg[0] == UInt8(ascii: "(") {
            ex = true
            bytes = UnsafeRawBufferPointer(rebasing: arg[1...])
        }
        guard let v = strtodWhole(bytes) else { return nil }
        return (v, ex)
    }
}

/// C's strtod over the bytes up to the first NUL, which must all be consumed
/// (what Redis does on a C string); NaN rejected. Empty parses as 0.
func strtodWhole(_ b: UnsafeRawBufferPointer) -> Double? {
    return withUnsafeTemporaryAllocation(of: CChar.self, capacity: b.count + 1) { buf -> Double? in
        let p = buf.baseAddress!
        if b.count > 0 { UnsafeMutableRawPointer(p).copyMemory(from: b.baseAddress!, byteCount: b.count) }
        p[b.count] = 0
        var end: UnsafeMutablePointer<CChar>? = nil
        let v = strtod(p, &end)
        if end!.pointee != 0 || v.isNaN { return nil }
        return v
    }
}

public struct LexRange: ZSetRange {
    public enum Bound {
        case minusInf, plusInf
        case value(UnsafeRawBufferPointer)
    }
    public var min: Bound
    public var max: Bound
    public var minEx: Bool
    public var maxEx: Bool

    /// Compares as Redis's sdscmplex, where "-" and "+" are shared singletons.
    static func cmp(_ a: Bound, _ b: Bound) -> Int {
        switch (a, b) {
        case (.minusInf, .minusInf), (.plusInf, .plusInf): return 0
        case (.minusInf, _), (_, .plusInf): return -1
        case (.plusInf, _), (_, .minusInf): return 1
        case (.value(let x), .value(let y)): return compareBytes(x, y)
        }
    }

    @inline(__always) public func gteMin(_ v: UnsafeRawBufferPointer) -> Bool {
        let c = LexRange.cmp(.value(v), min)
        return minEx ? c > 0 : c >= 0
    }

    @inline(__always) public func lteMax(_ v: UnsafeRawBufferPointer) -> Bool {
        let c = LexRange.cmp(.value(v), max)
        return maxEx ? c < 0 : c <= 0
    }

    @inline(__always) public func gteMin(_ m: UnsafeRawBufferPointer, _ s: Double) -> Bool { gteMin(m) }
    @inline(__always) public func lteMax(_ m: UnsafeRawBufferPointer, _ s: Double) -> Bool { lteMax(m) }

    public var isEmpty: Bool {
        let c = LexRange.cmp(min, max)
        return c > 0 || (c == 0 && (minEx || maxEx))
    }

    /// Members are in order only among equal scores (what BYLEX assumes).
    public static var followsSetOrder: Bool { false }
    public static var parseError: StaticString { "ERR min or max not valid string range item" }

    /// Parses min and max; nil if either is not a valid item. The range points
    /// into the arguments, so it is valid during the command only.
    public static func parse(_ min: UnsafeRawBufferPointer, _ max: UnsafeRawBufferPointer) -> LexRange? {
        guard let (a, ax) = parseItem(min), let (b, bx) = parseItem(max) else { return nil }
        return LexRange(min: a, max: b, minEx: ax, maxEx: bx)
    }

    static func parseItem(_ arg: UnsafeRawBufferPointer) -> (Bound, Bool)? {
        if arg.count == 0 { return nil }
        switch arg[0] {
        case UInt8(ascii: "+"): return arg.count == 1 ? (.plusInf, true) : nil
        case UInt8(ascii: "-"): return arg.count == 1 ? (.minusInf, true) : nil
        case UInt8(ascii: "("): return (.value(UnsafeRawBufferPointer(rebasing: arg[1...])), true)
        case UInt8(ascii: "["): return (.value(UnsafeRawBufferPointer(rebasing: arg[1...])), false)
        default: return nil
        }
    }
}

/// A score as Redis stores it in a listpack (d2string): integral values in
/// ±2^62 as integers, the rest "%.17g", and inf/-inf.
func listpackScoreBytes(_ d: Double) -> [UInt8] {
    if d.isFinite && d >= -4611686018427387903.0 && d <= 4611686018427387903.0 {
        let l = Int64(d)
        if Double(l) == d {
            if l == 0 && d.sign == .minus { return Array("-0".utf8) }
            return decimalBytes(l)
        }
    }
    return formatDouble(d)
}
