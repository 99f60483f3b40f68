// RESPFrame: where one reply ends in a stream (shards relay each other's
// replies frame by frame), for every RESP2/RESP3 type, split at every byte.

import Testing
@testable import RESP

private func frameLength(_ s: String) -> Int? {
    let b = Array(s.utf8)
    return b.withUnsafeBytes { RESPFrame.length($0) }
}

@Suite("RESPFrame")
struct FrameTests {
    static let complete: [String] = [
        "+OK\r\n", "-ERR bad\r\n", ":42\r\n", ":-7\r\n", "$3\r\nfoo\r\n", "$-1\r\n", "$0\r\n\r\n",
        "*2\r\n$1\r\na\r\n:1\r\n", "*-1\r\n", "*0\r\n", "_\r\n", "#t\r\n", ",3.5\r\n", "(123\r\n",
        "=8\r\ntxt:abcd\r\n", "!3\r\nerr\r\n", "%2\r\n+a\r\n:1\r\n+b\r\n*1\r\n_\r\n", "~2\r\n:1\r\n:2\r\n",
        ">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$2\r\nhi\r\n", "|1\r\n+key\r\n+val\r\n:5\r\n",
        "*2\r\n*2\r\n$1\r\n\r\r\n$1\r\n\n\r\n%0\r\n",
    ]

    @Test(arguments: complete)
    func findsTheEndOfEveryType(_ reply: String) {
        #expect(frameLength(reply) == reply.utf8.count)
        // Followed by more bytes: still just this frame.
        #expect(frameLength(reply + "+NEXT\r\n") == reply.utf8.count)
        // Cut anywhere: incomplete.
        let bytes = Array(reply.utf8)
        for cut in 0..<bytes.count {
            let partial = Array(bytes[0..<cut])
            #expect(partial.withUnsafeBytes { RESPFrame.length($0) } == nil)
        }
    }

    @Test func rejectsWhatIsNotRESP() {
        #expect(frameLength("hello\r\n") == -1)
        #expect(frameLength("$abc\r\nxyz\r\n") == -1)
    }

    @Test func readsValuesOutOfFrames() {
        #expect(RESPFrame.integerValue(Array(":-12\r\n".utf8)) == -12)
        #expect(RESPFrame.integerValue(Array("+OK\r\n".utf8)) == nil)
        #expect(RESPFrame.bulkValue(Array("$5\r\nhello\r\n".utf8)) == Array("hello".utf8))
        #expect(RESPFrame.bulkValue(Array("$-1\r\n".utf8)) == nil)
        let elements = RESPFrame.elements(Array("*3\r\n$1\r\na\r\n$-1\r\n*1\r\n:1\r\n".utf8))
        #expect(elements == [Array("$1\r\na\r\n".utf8), Array("$-1\r\n".utf8), Array("*1\r\n:1\r\n".utf8)])
        #expect(RESPFrame.elements(Array("*-1\r\n".utf8)) == nil)
        #expect(RESPFrame.isError(Array("-ERR x\r\n".utf8)))
    }
}
