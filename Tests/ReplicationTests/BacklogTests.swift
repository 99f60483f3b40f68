import Testing
@testable import Replication

@Suite struct BacklogTests {
    @Test func keepsTheLastSizeBytesByOffset() {
        var b = Backlog(size: 8, endOffset: 0)
        #expect(b.covers(1))
        #expect(!b.covers(2))
        b.append(Array("abcde".utf8))
        #expect(b.endOffset == 5)
        #expect(b.firstOffset == 1)
        #expect(b.bytes(from: 3) == Array("cde".utf8))
        b.append(Array("fghij".utf8))   // wraps: holds "cdefghij"
        #expect(b.histlen == 8)
        #expect(b.firstOffset == 3)
        #expect(!b.covers(2))
        #expect(b.covers(3) && b.covers(11))
        #expect(!b.covers(12))
        #expect(b.bytes(from: 3) == Array("cdefghij".utf8))
        #expect(b.bytes(from: 9) == Array("ij".utf8))
        #expect(b.bytes(from: 11) == [])
    }

    @Test func anAppendLargerThanTheRingKeepsItsTail() {
        var b = Backlog(size: 4, endOffset: 100)
        b.append(Array("0123456789".utf8))
        #expect(b.endOffset == 110)
        #expect(b.firstOffset == 107)
        #expect(b.bytes(from: 107) == Array("6789".utf8))
    }

    @Test func resizingKeepsWhatFits() {
        var b = Backlog(size: 8, endOffset: 0)
        b.append(Array("abcdefgh".utf8))
        let small = b.resized(to: 3)
        #expect(small.endOffset == 8)
        #expect(small.bytes(from: small.firstOffset) == Array("fgh".utf8))
        let big = b.resized(to: 16)
        #expect(big.bytes(from: 1) == Array("abcdefgh".utf8))
    }
}
