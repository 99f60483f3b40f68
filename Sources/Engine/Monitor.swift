// MONITOR: every command a client runs, as one line per command to each
// monitoring client (secrets redacted).

extension ShardEngine {
    func feedMonitors(_ c: Client, _ cmd: Command) {
        let t = ShardEngine.wallClockUs()
        var line = "+\(t / 1_000_000).\(String(format6(t % 1_000_000))) [\(c.dbIndex) \(c.isUnixSocket ? "unix:" : "")\(c.addr)]"
        // Secrets never reach MONITOR: AUTH's arguments, HELLO's AUTH user and password,
        // and whatever the command marked in c.redactedArgs (CONFIG SET requirepass).
        var redactFrom = Int.max, redactCount = 0
        if cmd.name == "auth" { redactFrom = 1; redactCount = Int.max }
        if cmd.name == "hello" {
            for i in 2..<max(2, c.args.count) where c.args.equals(i, "auth") { redactFrom = i + 1; redactCount = 2 }
        }
        for i in 0..<c.args.count {
            if (i >= redactFrom && i - redactFrom < redactCount) || c.redactedArgs.contains(i) {
                line += " \"(redacted)\""
                continue
            }
            line += " \"" + escapeRepr(c.args[i]) + "\""
        }
        line += "\r\n"
        for m in clients.monitors where m !== c {
            m.reply.out.append(string: line)
        }
    }
}


func format6(_ v: Int64) -> String {
    let s = String(v)
    return String(repeating: "0", count: max(0, 6 - s.count)) + s
}

/// Escapes bytes as Redis's sdscatrepr does, without the quotes around
/// (MONITOR's arguments, CONFIG REWRITE's strings).
func escapeRepr<Bytes: Sequence>(_ b: Bytes) -> String where Bytes.Element == UInt8 {
    var s = ""
    for c in b {
        switch c {
        case UInt8(ascii: "\\"): s += "\\\\"
        case UInt8(ascii: "\""): s += "\\\""
        case 10: s += "\\n"
        case 13: s += "\\r"
        case 9: s += "\\t"
        case 7: s += "\\a"
        case 8: s += "\\b"
        case 32...126: s.unicodeScalars.append(Unicode.Scalar(c))
        default:
            let hex = Array("0123456789abcdef")
            s += "\\x" + String(hex[Int(c >> 4)]) + String(hex[Int(c & 15)])
        }
    }
    return s
}
