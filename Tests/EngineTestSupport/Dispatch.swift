// Running a command through the engine's dispatcher the way the loop does,
// without a loop: shared by the unit tests of the engine and the layers above.

import Engine
import RESP

/// Runs one command on `c` through the dispatcher and returns the raw reply.
public func run(_ c: Client, _ args: String...) -> String { run(c, arguments: args) }

public func run(_ c: Client, arguments args: [String]) -> String {
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
            c.engine.execute(c)
        }
    }
    let out = UnsafeRawBufferPointer(rebasing: c.reply.out.readableView[(mark - c.reply.out.readIndex)...])
    return String(decoding: out, as: UTF8.self)
}
