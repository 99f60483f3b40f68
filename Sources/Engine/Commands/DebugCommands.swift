// DEBUG: the testing and troubleshooting subcommands Redis's test suite and
// tools use. Only runs when enable-debug-command is "yes" (or "local" for
// local connections); the dispatcher refuses it otherwise (.protected).

import Glibc
import RESP
import CJemalloc

extension ShardEngine {
    static func debugCommands() -> [Command] {
        [Command("debug", arity: -2, flags: [.admin, .noScript, .loading, .stale, .protected], group: .server,
                 handler: debugCommand)]
    }

    static let debugHelp = [
        "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANGE-REPL-ID",
        "    Give the server new replication IDs.",
        "CONFIG-REWRITE-FORCE-ALL",
        "    Like CONFIG REWRITE, but write every parameter, defaults included.",
        "DIGEST",
        "    Return a hex signature of the whole dataset (see DIGEST-VALUE for coverage).",
        "DIGEST-VALUE <key> [<key> ...]",
        "    Return a hex signature of the value of each key.",
        "ERROR <string>",
        "    Reply with <string> as an error (for client tests).",
        "HTSTATS <dbid>",
        "    Report statistics of the hash table of database <dbid>.",
        "HTSTATS-KEY <key>",
        "    Report statistics of the hash table holding <key>'s value.",
        "JMAP",
        "    Write the allocator's statistics to the server log.",
        "LOG <message>",
        "    Write <message> to the server log.",
        "MALLCTL <key> [<val>]",
        "    Read (and optionally set) an integer tunable of the allocator.",
        "MALLCTL-STR <key> [<val>]",
        "    Read (and optionally set) a string tunable of the allocator.",
        "OBJECT <key>",
        "    Show low level details about <key> and its value.",
        "PAUSE-CRON <0|1>",
        "    Stop or resume the periodic housekeeping.",
        "POPULATE <count> [<prefix>] [<size>]",
        "    Create string keys <prefix>:0 .. <prefix>:<count-1> (prefix 'key') holding value:<n>,",
        "    padded or cut to <size> bytes when given. Existing keys are left alone.",
        "PROTOCOL <type>",
        "    Reply with a sample value of <type>: string, integer, double, bignum, null, array,",
        "    set, map, attrib, push, verbatim, true, false.",
        "QUICKLIST-PACKED-THRESHOLD <size>",
        "    Size from which list elements get a node of their own (0 restores 1GB).",
        "LOADAOF",
        "    Write the AOF buffers to disk and load the AOF back into memory.",
        "RELOAD [MERGE] [NOFLUSH] [NOSAVE]",
        "    Save the RDB file and load it back: NOSAVE loads the existing file, NOFLUSH",
        "    keeps the current dataset, MERGE lets loaded keys replace existing ones.",
        "REPLYBUFFER PEAK-RESET-TIME <NEVER|RESET|milliseconds>",
        "    Set how often the reply buffer peak is reset.",
        "REPLYBUFFER RESIZING <0|1>",
        "    Enable or disable reply buffer resizing.",
        "SET-ACTIVE-EXPIRE <0|1>",
        "    Disable (0) or enable (1) the background expiry of keys.",
        "SET-DISABLE-DENY-SCRIPTS <0|1>",
        "    Allow commands that scripts may not run from scripts (for tests).",
        "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
        "    Skip checksum validation of RDB and RESTORE payloads.",
        "SLEEP <seconds>",
        "    Block the server for <seconds> (decimals allowed).",
        "STRINGMATCH-LEN",
        "    Fuzz the glob matcher with long patterns.",
        "HELP",
        "    Print this help.",
    ]

    static func debugCommand(_ c: Client) {
        let a = c.args, s = c.engine
        let n = a.count
        func is_(_ name: StaticString, _ argc: ClosedRange<Int>) -> Bool { a.equals(1, name) && argc.contains(n) }
        if is_("help", 2...2) {
            replyHelp(c, debugHelp)
        } else if is_("sleep", 3...3) {
            let secs = strtod(a.string(2), nil)
            let us = Int64(secs * 1_000_000)
            if us > 0 {
                var ts = timespec(tv_sec: Int(us / 1_000_000), tv_nsec: Int(us % 1_000_000) * 1000)
                nanosleep(&ts, nil)
            }
            c.reply.ok()
        } else if is_("object", 3...3) {
            debugObject(c)
        } else if is_("set-active-expire", 3...3) {
            s.activeExpireEnabled = atoi(a.string(2)) != 0
            c.reply.ok()
        } else if is_("change-repl-id", 2...2) {
            s.admin.replid = AdminState.randomHex(40)
            s.admin.replid2 = String(repeating: "0", count: 40)
            s.logger.warning("Changing replication IDs after receiving DEBUG change-repl-id")
            c.reply.ok()
        } else if is_("quicklist-packed-threshold", 3...3) {
            guard let v = parseMemory(a.string(2)), v <= Int64(UInt32.max) else {
                c.error(static: "ERR argument must be a memory value bigger than 1 and smaller than 4gb")
                return
            }
            s.debugQuicklistPackedThreshold = v == 0 ? 1 << 30 : Int(v)
            c.reply.ok()
        } else if is_("jmap", 2...2) {
            s.logger.notice("\(jemallocStatsText())")
            c.reply.ok()
        } else if is_("log", 3...3) {
            s.logger.warning("DEBUG LOG: \(a.string(2))")
            c.reply.ok()
        } else if is_("pause-cron", 3...3) {
            s.admin.cronPaused = atoi(a.string(2)) != 0
            c.reply.ok()
        } else if is_("replybuffer", 4...4) {
            debugReplyBuffer(c)
        } else if is_("stringmatch-len", 2...2) || is_("stringmatch-test", 2...2) {
            globFuzz()
            c.reply.simple("Apparently Redis did not crash: test passed")
        } else if is_("set-skip-checksum-validation", 3...3) {
            s.admin.skipChecksumValidation = atoi(a.string(2)) != 0
            c.reply.ok()
        } else if is_("set-disable-deny-scripts", 3...3) {
            s.admin.disableDenyScripts = atoi(a.string(2)) != 0
            c.reply.ok()
        } else if is_("protocol", 3...3) {
            debugProtocol(c)
        } else if is_("digest", 2...2) {
            c.reply.simple(string: s.datasetDigest().hex)
        } else if is_("digest-value", 2...Int.max) {
            c.reply.array(n - 2)
            for i in 2..<n {
                var d = DebugDigest()
                if let e = s.lookupWrite(c.db, a[i], touch: false) { s.digestValue(e, into: &d) }
                c.reply.simple(string: d.hex)
            }
        } else if is_("htstats", 3...4) {
            debugHTStats(c)
        } else if is_("htstats-key", 3...4) {
            debugHTStatsKey(c)
        } else if is_("reload", 2...Int.max) {
            var merge = false, flush = true, save = true
            for i in 2..<n {
                if a.equals(i, "merge") { merge = true }
                else if a.equals(i, "noflush") { flush = false }
                else if a.equals(i, "nosave") { save = false }
                else { c.error(static: "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options."); return }
            }
            guard let p = s.persistence else { return notAvailable(c) }
            p.debugReload(c, merge: merge, flush: flush, save: save)
        } else if is_("loadaof", 2...2) {
            guard let p = s.persistence else { return notAvailable(c) }
            p.debugLoadAOF(c)
        } else if is_("populate", 3...5) {
            debugPopulate(c)
        } else if is_("error", 3...3) {
            // A raw error reply (not an error of the server: not counted in errorstats).
            c.reply.error(a.string(2))
        } else if is_("config-rewrite-force-all", 2...2) {
            guard let path = s.configFile else {
                c.error(static: "ERR CONFIG-REWRITE-FORCE-ALL failed: the server is running without a config file")
                return
            }
            do {
                try ConfigRewriter.rewrite(path: path, config: s.config, forceAll: true)
                c.reply.ok()
            } catch {
                c.error("ERR CONFIG-REWRITE-FORCE-ALL failed: \(error)")
            }
        } else if is_("mallctl", 3...4) {
            debugMallctl(c)
        } else if is_("mallctl-str", 3...4) {
            debugMallctlString(c)
        } else {
            subcommandSyntaxError(c)
        }
    }

    // MARK: PROTOCOL

    static func debugProtocol(_ c: Client) {
        let r = c.reply
        let t = c.args.string(2).lowercased()
        switch t {
        case "string": r.bulk(string: "Hello World")
        case "integer": r.integer(12345)
        case "double": r.double(3.141)
        case "bignum": r.bigNumber("1234567999999999999999999999999999999")
        case "null": r.null()
        case "array":
            r.array(3)
            for i in 0..<3 { r.integer(i) }
        case "set":
            r.set(3)
            for i in 0..<3 { r.integer(i) }
        case "map":
            r.map(3)
            for i in 0..<3 { r.integer(i); r.bool(i == 1) }
        case "attrib":
            if r.isResp3 {
                r.attribute(1)
                r.bulk(string: "key-popularity")
                r.array(2)
                r.bulk(string: "key:123")
                r.integer(90)
            }
            r.bulk(string: "Some real reply following the attribute")
        case "push":
            if !r.isResp3 { c.error(static: "ERR RESP2 is not supported by this command"); return }
            r.push(2)
            r.bulk(string: "server-cpu-usage")
            r.integer(42)
            r.bulk(string: "Some real reply following the push reply")
        case "verbatim": r.verbatim("This is a verbatim\nstring")
        case "true": r.bool(true)
        case "false": r.bool(false)
        default:
            c.error(static: "ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false")
        }
    }

    // MARK: POPULATE

    static func debugPopulate(_ c: Client) {
        let a = c.args, s = c.engine
        guard let count = a.int64(2), count >= 0 else {
            c.error(static: "ERR value is out of range, must be positive")
            return
        }
        let prefix = a.count >= 4 ? a.bytes(3) : Array("key".utf8)
        var size = 0
        if a.count == 5 {
            guard let v = a.int64(4), v >= 0 else { c.error(static: "ERR value is out of range, must be positive"); return }
            size = Int(v)
        }
        let db = c.db
        var key = prefix + [UInt8(ascii: ":")]
        let keyBase = key.count
        for j in 0..<count {
            key.removeSubrange(keyBase...)
            key += decimalBytes(j)
            let exists = key.withUnsafeBytes { s.lookupWrite(db, $0, touch: false) != nil }
            if exists { continue }
            var value = Array("value:".utf8) + decimalBytes(j)
            if size > 0 {
                if value.count > size { value.removeSubrange(size...) }
                else { value += [UInt8](repeating: 0, count: size - value.count) }
            }
            // Like Redis, POPULATE creates plain strings (no integer encoding).
            let enc: StringEncoding = value.count <= 44 ? .embstr : .raw
            key.withUnsafeBytes { s.setString(db, $0, value, encoding: enc) }
        }
        c.reply.ok()
    }

    // MARK: REPLYBUFFER

    static func debugReplyBuffer(_ c: Client) {
        let a = c.args, s = c.engine
        if a.equals(2, "peak-reset-time") {
            if a.equals(3, "never") { s.admin.replyBufferPeakResetTimeMs = -1 }
            else if a.equals(3, "reset") { s.admin.replyBufferPeakResetTimeMs = 5000 }
            else if let v = c.intArg(3) { s.admin.replyBufferPeakResetTimeMs = v }
            else { return }
        } else if a.equals(2, "resizing") {
            s.admin.replyBufferResizing = atoi(a.string(3)) != 0
        } else {
            c.error("ERR unknown subcommand or wrong number of arguments for 'replybuffer'. Try DEBUG HELP.")
            return
        }
        c.reply.ok()
    }

    // MARK: allocator

    static func jemallocStatsText() -> String {
        final class Sink { var text = "" }
        let sink = Sink()
        let opaque = Unmanaged.passUnretained(sink).toOpaque()
        malloc_stats_print({ ctx, msg in
            guard let ctx, let msg else { return }
            Unmanaged<Sink>.fromOpaque(ctx).takeUnretainedValue().text += String(cString: msg)
        }, opaque, "a")
        return sink.text
    }

    static func debugMallctl(_ c: Client) {
        let key = c.args.string(2)
        var old: Int64 = 0
        var len = 8
        var rc = key.withCString { mallctl($0, &old, &len, nil, 0) }
        if rc == EINVAL {
            // Narrower types: unsigned, bool.
            var o32: UInt32 = 0
            len = 4
            rc = key.withCString { mallctl($0, &o32, &len, nil, 0) }
            if rc == 0 { old = Int64(o32) } else {
                var o8: UInt8 = 0
                len = 1
                rc = key.withCString { mallctl($0, &o8, &len, nil, 0) }
                old = Int64(o8)
            }
        }
        if rc != 0 { c.error("ERR \(String(cString: strerror(rc)))"); return }
        if c.args.count == 4 {
            guard let v = c.intArg(3) else { return }
            var new = v
            var newLen = len
            var tmp8 = UInt8(truncatingIfNeeded: v), tmp32 = UInt32(truncatingIfNeeded: v)
            let wrc: Int32 = key.withCString { k in
                switch newLen {
                case 1: return mallctl(k, nil, nil, &tmp8, 1)
                case 4: return mallctl(k, nil, nil, &tmp32, 4)
                default: newLen = 8; return mallctl(k, nil, nil, &new, 8)
                }
            }
            if wrc != 0 { c.error("ERR \(String(cString: strerror(wrc)))"); return }
        }
        c.reply.integer(old)
    }

    static func debugMallctlString(_ c: Client) {
        let key = c.args.string(2)
        var old: UnsafePointer<CChar>? = nil
        var len = MemoryLayout<UnsafePointer<CChar>?>.size
        let rc = key.withCString { mallctl($0, &old, &len, nil, 0) }
        if rc != 0 { c.error("ERR \(String(cString: strerror(rc)))"); return }
        let oldText = old.map { String(cString: $0) } ?? ""
        if c.args.count == 4 {
            // jemalloc keeps the pointer: the copy is intentionally never freed.
            var new: UnsafePointer<CChar>? = UnsafePointer(strdup(c.args.string(3)))
            let wrc = key.withCString { mallctl($0, nil, nil, &new, MemoryLayout<UnsafePointer<CChar>?>.size) }
            if wrc != 0 { c.error("ERR \(String(cString: strerror(wrc)))"); return }
        }
        c.reply.bulk(string: oldText)
    }

    /// Runs the glob matcher over random long patterns (it must not crash or hang).
    static func globFuzz() {
        let alphabet = Array("ab*?[]^-\\".utf8)
        for _ in 0..<1000 {
            let p = (0..<Int.random(in: 0...64)).map { _ in alphabet.randomElement()! }
            let s = (0..<Int.random(in: 0...64)).map { _ in alphabet.randomElement()! }
            _ = globMatch(p, s)
        }
    }
}
