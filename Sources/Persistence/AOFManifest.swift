// The manifest of Redis 7.0's multi-part AOF: which files of `appenddirname`
// make up the log, in order. One line per file:
//
//   file appendonly.aof.1.base.rdb seq 1 type b
//   file appendonly.aof.1.incr.aof seq 1 type i
//
// type b = base (an RDB preamble or AOF commands: the dataset at the last
// rewrite), i = incremental (commands since), h = history (obsolete, deleted
// once the new manifest is durable). Lines starting with '#' are comments.

struct AOFFileInfo: Equatable {
    enum Kind: Character { case base = "b", history = "h", incr = "i" }
    var name: String
    var seq: Int64
    var kind: Kind
}

struct AOFManifest: Equatable {
    var base: AOFFileInfo? = nil
    var incrs: [AOFFileInfo] = []
    var history: [AOFFileInfo] = []
    var baseSeq: Int64 = 0
    var incrSeq: Int64 = 0

    struct ParseError: Error, CustomStringConvertible { let description: String }

    static func parse(_ text: String) throws -> AOFManifest {
        var m = AOFManifest()
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = raw.hasSuffix("\r") ? String(raw.dropLast()) : String(raw)
            if line.hasPrefix("#") || line.allSatisfy({ $0 == " " }) { continue }
            let words = splitManifestWords(line)
            guard words.count % 2 == 0 else { throw ParseError(description: "Invalid AOF manifest file format") }
            var name: String? = nil, seq: Int64? = nil, kind: AOFFileInfo.Kind? = nil
            for i in stride(from: 0, to: words.count, by: 2) {
                switch words[i] {
                case "file": name = words[i + 1]
                case "seq": seq = Int64(words[i + 1])
                case "type": kind = words[i + 1].count == 1 ? AOFFileInfo.Kind(rawValue: words[i + 1].first!) : nil
                default: break   // unknown keys are ignored, as Redis does
                }
            }
            guard let n = name, let s = seq, let k = kind else {
                throw ParseError(description: "Invalid AOF manifest file format")
            }
            let info = AOFFileInfo(name: n, seq: s, kind: k)
            switch k {
            case .base:
                if m.base != nil { throw ParseError(description: "Found duplicate base file information") }
                m.base = info
                m.baseSeq = s
            case .incr:
                if s <= m.incrSeq { throw ParseError(description: "Found a non-monotonic sequence number") }
                m.incrs.append(info)
                m.incrSeq = s
            case .history:
                m.history.append(info)
            }
        }
        return m
    }

    var text: String {
        var out = ""
        func line(_ f: AOFFileInfo) { out += "file \(quoteIfNeeded(f.name)) seq \(f.seq) type \(f.kind.rawValue)\n" }
        if let b = base { line(b) }
        for h in history { line(h) }
        for i in incrs { line(i) }
        return out
    }

    // MARK: file names

    static func baseName(_ prefix: String, seq: Int64, rdb: Bool) -> String { "\(prefix).\(seq).base.\(rdb ? "rdb" : "aof")" }
    static func incrName(_ prefix: String, seq: Int64) -> String { "\(prefix).\(seq).incr.aof" }
    static func manifestName(_ prefix: String) -> String { "\(prefix).manifest" }

    /// Starts a new base file: the old base becomes history. Returns its name.
    mutating func newBase(prefix: String, rdb: Bool) -> String {
        if let b = base { history.append(AOFFileInfo(name: b.name, seq: b.seq, kind: .history)) }
        baseSeq += 1
        let name = AOFManifest.baseName(prefix, seq: baseSeq, rdb: rdb)
        base = AOFFileInfo(name: name, seq: baseSeq, kind: .base)
        return name
    }

    /// Starts a new incremental file. Returns its name.
    mutating func newIncr(prefix: String) -> String {
        incrSeq += 1
        let name = AOFManifest.incrName(prefix, seq: incrSeq)
        incrs.append(AOFFileInfo(name: name, seq: incrSeq, kind: .incr))
        return name
    }

    /// After a rewrite: every incr file but the last (opened when the rewrite
    /// started, holding the writes the new base does not have) is history.
    mutating func retireIncrsBeforeLast() {
        guard incrs.count > 1 else { return }
        for f in incrs.dropLast() { history.append(AOFFileInfo(name: f.name, seq: f.seq, kind: .history)) }
        incrs = [incrs.last!]
    }
}

/// Splits a manifest line into words, honouring double quotes with \-escapes.
func splitManifestWords(_ line: String) -> [String] {
    var words: [String] = []
    var cur = "", inQuotes = false, escaped = false, started = false
    for ch in line {
        if inQuotes {
            if escaped { cur.append(ch == "n" ? "\n" : ch == "t" ? "\t" : ch); escaped = false }
            else if ch == "\\" { escaped = true }
            else if ch == "\"" { inQuotes = false }
            else { cur.append(ch) }
        } else if ch == " " {
            if started { words.append(cur); cur = ""; started = false }
        } else if ch == "\"" {
            inQuotes = true; started = true
        } else {
            cur.append(ch); started = true
        }
    }
    if started { words.append(cur) }
    return words
}

func quoteIfNeeded(_ name: String) -> String {
    if !name.contains(where: { $0 == " " || $0 == "\"" || $0 == "\\" || $0 == "\n" }) { return name }
    var s = "\""
    for ch in name {
        switch ch {
        case "\"": s += "\\\""
        case "\\": s += "\\\\"
        case "\n": s += "\\n"
        default: s.append(ch)
        }
    }
    return s + "\""
}
