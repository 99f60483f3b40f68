// Redis's reading of a start/end index pair (LRANGE, LTRIM, ZRANGE by rank,
// ZREMRANGEBYRANK): negative indexes count from the end, start is raised to
// 0 and end lowered to the last element.

/// The element indexes `start...end` select in a sequence of `count`
/// elements, or nil when they select none.
@inline(__always)
func clampedIndexRange(_ start: Int, _ end: Int, count: Int) -> ClosedRange<Int>? {
    var start = start, end = end
    if start < 0 { start = count + start }
    if end < 0 { end = count + end }
    if start < 0 { start = 0 }
    if start > end || start >= count { return nil }
    if end >= count { end = count - 1 }
    return start...end
}
