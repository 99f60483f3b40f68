import Testing
@testable import RESP

@Suite("ByteBuffer")
struct ByteBufferTests {
    @Test func decimalsMatchSwiftsFormatting() {
        let b = ByteBuffer(capacity: 64)
        for v: Int64 in [0, 7, -7, 10, 99999, Int64.max, Int64.min] {
            b.writeIndex = 0
            b.appendDecimal(v)
            #expect(String(decoding: b.readableView, as: UTF8.self) == String(v))
        }
    }

    @Test func growsAndCompacts() {
        let b = ByteBuffer(capacity: 64)
        let chunk = [UInt8](repeating: 65, count: 1000)
        for _ in 0..<10 { b.append(chunk) }
        #expect(b.readableBytes == 10_000)
        b.readIndex = 9_990
        #expect(b.compact() == 9_990)
        #expect(b.readableBytes == 10 && b.readIndex == 0)
    }

    @Test func deferredHeaderIsInsertedBeforeBody() {
        let r = ReplyEncoder()
        let mark = r.deferLength()
        r.integer(1)
        r.integer(2)
        r.setDeferredLength(mark, 2)
        #expect(String(decoding: r.out.readableView, as: UTF8.self) == "*2\r\n:1\r\n:2\r\n")
    }
}
