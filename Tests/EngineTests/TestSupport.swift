// Helpers shared by the engine's unit tests.

import RESP
@testable import Engine

/// Runs one command on `c` through the dispatcher and returns the raw reply.
func run(_ c: Client, _ args: String...) -> String {
    var bytes: [UInt8] = []
    var spans: [ArgSpan] = []
    for a in args {
        spans.append(ArgSpan(offset: bytes.count, count: a.utf8.count))
        bytes += Array(a.utf8)
    }
    let mark = c.reply.out.writeIndex
    bytes.withUnsafeBytes { raw in
        spans.withUnsafeBufferPointer { sp in
            c.args = Args(base: raw.baseAddress ?? UnsafeRawPointer(bitPattern: 8)!, spans: sp)
            c.server.execute(c)
        }
    }
    let out = UnsafeRawBufferPointer(rebasing: c.reply.out.readableView[(mark - c.reply.out.readIndex)...])
    return String(decoding: out, as: UTF8.self)
}
