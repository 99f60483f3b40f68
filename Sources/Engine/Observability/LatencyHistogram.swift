// Per-command latency histogram (INFO latencystats, LATENCY HISTOGRAM).
//
// A high-dynamic-range layout with two significant decimal digits, values in
// nanoseconds from 1 ns to 1 s: 23 power-of-two buckets of 128 linear
// sub-buckets each (the first bucket 256), so the value reported for a
// percentile is the top of its sub-bucket, exactly as Redis reports it.
// Recording is one index computation and one increment.

public final class LatencyHistogram {
    public static let lowest: Int64 = 1
    public static let highest: Int64 = 1_000_000_000
    static let subBucketHalfCountMagnitude = 7
    static let subBucketHalfCount = 1 << subBucketHalfCountMagnitude   // 128
    static let subBucketMask: Int64 = (1 << (subBucketHalfCountMagnitude + 1)) - 1  // 255
    static let bucketCount: Int = {
        var untrackable: Int64 = 256
        var n = 1
        while untrackable <= highest { untrackable <<= 1; n += 1 }
        return n
    }()
    public static let countsLength = (bucketCount + 1) * subBucketHalfCount

    let counts: UnsafeMutablePointer<Int64>
    public private(set) var totalCount: Int64 = 0
    public private(set) var maxIndex = 0

    public init() {
        counts = .allocate(capacity: LatencyHistogram.countsLength)
        counts.initialize(repeating: 0, count: LatencyHistogram.countsLength)
    }

    deinit { counts.deallocate() }

    public func reset() {
        counts.update(repeating: 0, count: LatencyHistogram.countsLength)
        totalCount = 0
        maxIndex = 0
    }

    @inline(__always)
    static func bucketIndex(_ v: Int64) -> Int {
        // Position of the highest set bit, with values below 256 in bucket 0.
        (64 - (v | subBucketMask).leadingZeroBitCount) - (subBucketHalfCountMagnitude + 1)
    }

    @inline(__always)
    static func index(of v: Int64) -> Int {
        let b = bucketIndex(v)
        let sub = Int(v >> Int64(b))
        return ((b + 1) << subBucketHalfCountMagnitude) + (sub - subBucketHalfCount)
    }

    /// The lowest value counted at `index`.
    static func value(at index: Int) -> Int64 {
        var b = (index >> subBucketHalfCountMagnitude) - 1
        var sub = (index & (subBucketHalfCount - 1)) + subBucketHalfCount
        if b < 0 { sub -= subBucketHalfCount; b = 0 }
        return Int64(sub) << Int64(b)
    }

    static func lowestEquivalent(_ v: Int64) -> Int64 {
        let b = bucketIndex(v)
        return (v >> Int64(b)) << Int64(b)
    }

    static func highestEquivalent(_ v: Int64) -> Int64 {
        let b = bucketIndex(v)
        return lowestEquivalent(v) + (Int64(1) << Int64(b)) - 1
    }

    /// Records one value in nanoseconds (clamped to 1 ns ... 1 s).
    @inline(__always)
    public func record(nanoseconds ns: Int64) {
        let v = ns < LatencyHistogram.lowest ? LatencyHistogram.lowest
            : (ns > LatencyHistogram.highest ? LatencyHistogram.highest : ns)
        let i = LatencyHistogram.index(of: v)
        counts[i] &+= 1
        totalCount &+= 1
        if i > maxIndex { maxIndex = i }
    }

    /// The value below which `percentile` % of the recorded values fall, in ns
    /// (the top of its sub-bucket; the bottom for the 0th percentile).
    public func value(atPercentile percentile: Double) -> Int64 {
        let p = min(percentile, 100)
        let target = max(1, Int64((p / 100) * Double(totalCount) + 0.5))
        var cumulative: Int64 = 0
        var found = 0
        var i = 0
        while i <= maxIndex {
            cumulative += counts[i]
            if cumulative >= target { found = i; break }
            i += 1
        }
        if totalCount == 0 { return 0 }
        let v = LatencyHistogram.value(at: found)
        return percentile == 0 ? LatencyHistogram.lowestEquivalent(v) : LatencyHistogram.highestEquivalent(v)
    }

    /// Cumulative counts at power-of-two levels starting at 1024 ns, as
    /// (top of the level in µs, values up to it); levels that add nothing are
    /// left out. This is LATENCY HISTOGRAM's `histogram_usec`.
    public func cumulativeMicros() -> [(Int64, Int64)] {
        var out: [(Int64, Int64)] = []
        var level: Int64 = 1024
        var cumulative: Int64 = 0, previous: Int64 = 0
        var i = 0
        while cumulative < totalCount {
            let top = LatencyHistogram.index(of: min(level, LatencyHistogram.highest))
            while i <= top && i < LatencyHistogram.countsLength { cumulative += counts[i]; i += 1 }
            if level >= LatencyHistogram.highest { cumulative = totalCount }
            if cumulative > previous {
                out.append((LatencyHistogram.highestEquivalent(level) / 1000, cumulative))
            }
            previous = cumulative
            level *= 2
        }
        return out
    }
}
