// COMMAND and its subcommands: introspection of the command table
// (COMMAND INFO/DOCS/COUNT/LIST/GETKEYS/GETKEYSANDFLAGS).

import RESP

extension ShardEngine {
    static func commandCommands() -> [Command] {
        let f: CommandFlags = [.loading, .stale]
        return [
            Command("command", arity: -1, flags: f, group: .server, since: "2.8.13", handler: commandCommand)
                .withSubcommands([
                    Command("count", arity: 2, flags: f, group: .server, since: "2.8.13",
                            handler: { $0.reply.integer($0.engine.commands.all.count) }),
                    Command("docs", arity: -2, flags: f, group: .server, since: "7.0.0", handler: commandDocsCommand),
                    Command("info", arity: -2, flags: f, group: .server, since: "2.8.13", handler: commandInfoCommand),
                    Command("getkeysandflags", arity: -4, flags: f, group: .server, since: "7.0.0",
                            handler: { commandGetKeysCommand($0, withFlags: true) }),
                    Command("getkeys", arity: -4, flags: f, group: .server, since: "2.8.13",
                            handler: { commandGetKeysCommand($0, withFlags: false) }),
                    Command("list", arity: -2, flags: f, group: .server, since: "7.0.0", handler: commandListCommand),
                    Command("help", arity: 2, flags: f, group: .server, since: "5.0.0",
                            handler: { replyHelp($0, commandHelp) }),
                ]),
        ]
    }

    static let commandHelp = [
        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "(no subcommand)",
        "    Return details about all commands.",
        "COUNT",
        "    Return the total number of commands in this server.",
        "LIST",
        "    Return a list of all commands in this server.",
        "LIST FILTERBY (MODULE <module-name>|ACLCAT <category>|PATTERN <pattern>)",
        "    Return a list of commands, keeping those that match the filter:",
        "    * MODULE <module-name>: commands of the named module (Tessera has none).",
        "    * ACLCAT <category>: commands in the ACL category.",
        "    * PATTERN <pattern>: commands whose name matches the glob-style pattern.",
        "INFO [<command-name> ...]",
        "    Return details about the named commands, or all of them when none is named.",
        "DOCS [<command-name> ...]",
        "    Return the documentation of the named commands, or all of them when none is named.",
        "GETKEYS <full-command>",
        "    Return the keys of a complete command line.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys of a complete command line, each with its access flags.",
        "HELP",
        "    Print this help.",
    ]

    /// Replies a HELP text as an array of status lines, as Redis's addReplyHelp.
    static func replyHelp(_ c: Client, _ lines: [String]) {
        c.reply.array(lines.count)
        for l in lines { c.reply.simple(string: l) }
    }

    /// Resolves "get" or "config|get" (case-insensitive).
    func lookupCommand(fullName: String) -> Command? {
        let parts = fullName.lowercased().split(separator: "|", omittingEmptySubsequences: false)
        guard let top = commands.lookup(String(parts[0])) else { return nil }
        if parts.count == 1 { return top }
        if parts.count == 2 { return top.subcommand(String(parts[1])) }
        return nil
    }

    // MARK: COMMAND / COMMAND INFO

    static func commandCommand(_ c: Client) {
        let all = c.engine.commands.all
        c.reply.array(all.count)
        for cmd in all { writeCommandInfo(c.reply, cmd) }
    }

    static func commandInfoCommand(_ c: Client) {
        let s = c.engine
        if c.args.count == 2 { commandCommand(c); return }
        c.reply.array(c.args.count - 2)
        for i in 2..<c.args.count {
            if let cmd = s.lookupCommand(fullName: c.args.string(i)) { writeCommandInfo(c.reply, cmd) }
            else { c.reply.null() }
        }
    }

    /// One command's COMMAND INFO entry (10 elements, subcommands nested).
    static func writeCommandInfo(_ r: ReplyEncoder, _ cmd: Command) {
        r.array(10)
        r.bulk(string: cmd.fullName)
        r.integer(cmd.arity)
        let flags = cmd.flagNames
        r.set(flags.count)
        for f in flags { r.simple(string: f) }
        r.integer(cmd.firstKey)
        r.integer(cmd.lastKey)
        r.integer(cmd.keyStep)
        let acl = cmd.aclCategories
        r.set(acl.count)
        for a in acl { r.simple(string: a) }
        let tips = cmd.tips
        r.set(tips.count)
        for t in tips { r.bulk(string: t) }
        let specs = cmd.keySpecs
        r.set(specs.count)
        for k in specs { k.node.write(to: r) }
        // Redis: an empty set without subcommands, an array of entries with them.
        if cmd.subcommands.isEmpty { r.set(0) } else { r.array(cmd.subcommands.count) }
        for sub in cmd.subcommands { writeCommandInfo(r, sub) }
    }

    // MARK: COMMAND DOCS

    static func commandDocsCommand(_ c: Client) {
        let s = c.engine
        if c.args.count == 2 {
            let all = s.commands.all
            c.reply.map(all.count)
            for cmd in all { c.reply.bulk(string: cmd.fullName); writeCommandDocs(c.reply, cmd) }
            return
        }
        let mark = c.reply.deferLength()
        var n = 0
        for i in 2..<c.args.count {
            guard let cmd = s.lookupCommand(fullName: c.args.string(i)) else { continue }
            c.reply.bulk(string: cmd.fullName)
            writeCommandDocs(c.reply, cmd)
            n += 1
        }
        c.reply.setDeferredLength(mark, n, kind: .map)
    }

    static func writeCommandDocs(_ r: ReplyEncoder, _ cmd: Command) {
        var fields: [(String, MetaNode)]
        if let m = CommandMetadata.entry(cmd.fullName) {
            fields = m.docs
        } else {
            fields = [("since", .bulk(cmd.since)), ("group", .bulk(cmd.group.rawValue))]
        }
        // Our own one-line summary where a command has one (Redis's prose is not shipped).
        if !cmd.summary.isEmpty { fields.insert(("summary", .bulk(cmd.summary)), at: 0) }
        let subs = cmd.subcommands
        r.map(fields.count + (subs.isEmpty ? 0 : 1))
        for (k, v) in fields { r.bulk(string: k); v.write(to: r) }
        if !subs.isEmpty {
            r.bulk(string: "subcommands")
            r.map(subs.count)
            for sub in subs { r.bulk(string: sub.fullName); writeCommandDocs(r, sub) }
        }
    }

    // MARK: COMMAND LIST

    static func commandListCommand(_ c: Client) {
        let a = c.args
        var filter: ((Command) -> Bool)? = nil
        if a.count == 5 && a.equals(2, "filterby") {
            let value = a.bytes(4)
            if a.equals(3, "module") {
                filter = { _ in false }
            } else if a.equals(3, "aclcat") {
                let cat = "@" + String(decoding: value, as: UTF8.self).lowercased()
                filter = { $0.aclCategories.contains(cat) }
            } else if a.equals(3, "pattern") {
                filter = { globMatch(value, Array($0.fullName.utf8), nocase: true) }
            } else {
                c.syntaxError()
                return
            }
        } else if a.count != 2 {
            c.syntaxError()
            return
        }
        var names: [String] = []
        for cmd in c.engine.commands.all {
            if filter?(cmd) ?? true { names.append(cmd.fullName) }
            for sub in cmd.subcommands where filter?(sub) ?? true { names.append(sub.fullName) }
        }
        c.reply.array(names.count)
        for n in names { c.reply.bulk(string: n) }
    }

    // MARK: COMMAND GETKEYS / GETKEYSANDFLAGS

    static func commandGetKeysCommand(_ c: Client, withFlags: Bool) {
        let argv = (2..<c.args.count).map { c.args.bytes($0) }
        var cmd = argv[0].withUnsafeBytes { c.engine.commands.lookup($0) }
        if let top = cmd, !top.subcommands.isEmpty, argv.count >= 2 {
            cmd = argv[1].withUnsafeBytes { top.subcommand($0) }
        }
        guard let cmd else { c.error(static: "ERR Invalid command specified"); return }
        if !cmd.keySpecs.contains(where: { !$0.notKey }) && customKeyFinder(cmd.fullName) == nil {
            c.error(static: "ERR The command has no key arguments")
            return
        }
        if (cmd.arity > 0 && cmd.arity != argv.count) || argv.count < -cmd.arity {
            c.error(static: "ERR Invalid number of arguments specified for command")
            return
        }
        let keys = commandKeys(cmd, argv)
        if keys.isEmpty {
            if cmd.flags.contains(.noMandatoryKeys) || CommandMetadata.entry(cmd.fullName)?.flags.contains("no_mandatory_keys") == true {
                c.reply.array(0)
            } else {
                c.error(static: "ERR Invalid arguments specified for command")
            }
            return
        }
        c.reply.array(keys.count)
        for k in keys {
            if withFlags {
                c.reply.array(2)
                c.reply.bulk(argv[k.pos])
                c.reply.set(k.flags.count)
                for f in k.flags { c.reply.simple(string: f) }
            } else {
                c.reply.bulk(argv[k.pos])
            }
        }
    }

    /// Key positions (and key-spec flags) in `argv` (argv[0] is the command name),
    /// as Redis's getKeysFromCommandWithSpecs. Empty when the arguments are invalid.
    public static func commandKeys(_ cmd: Command, _ argv: [[UInt8]]) -> [(pos: Int, flags: [String])] {
        let specs = cmd.keySpecs
        // Specs first, unless their flags depend on the arguments (SET ... GET, BITFIELD).
        let variableFlags = specs.contains { $0.flags.contains("variable_flags") }
        if !variableFlags, let keys = keysUsingSpecs(specs, argv, arity: cmd.arity) { return keys }
        if let finder = customKeyFinder(cmd.fullName) { return finder(argv) }
        return []
    }

    /// Interprets key specs; nil when a spec is invalid for these arguments or incomplete.
    static func keysUsingSpecs(_ specs: [KeySpec], _ argv: [[UInt8]], arity: Int) -> [(pos: Int, flags: [String])]? {
        let argc = argv.count
        var out: [(pos: Int, flags: [String])] = []
        for spec in specs where !spec.notKey {
            var first = 0
            switch spec.begin {
            case .index(let i): first = i
            case .keyword(let kw, let from):
                let start = from > 0 ? from : argc + from
                let end = from > 0 ? argc - 1 : 1
                var i = start
                let kwBytes = Array(kw.lowercased().utf8)
                while i != end {
                    if i >= argc || i < 1 { break }
                    if argv[i].map({ $0 >= 65 && $0 <= 90 ? $0 | 0x20 : $0 }) == kwBytes { first = i + 1; break }
                    i += start <= end ? 1 : -1
                }
                if first == 0 { continue }
            case .unknown:
                return nil
            }
            var last = 0, step = 1
            switch spec.find {
            case .range(let lastKey, let keyStep, let limit):
                step = keyStep
                if lastKey >= 0 { last = first + lastKey }
                else if limit == 0 { last = argc + lastKey }
                else { last = first + ((argc - first) / limit + lastKey) }
            case .keynum(let idx, let firstKey, let keyStep):
                step = keyStep
                if idx >= argc - first { return nil }
                guard let n = argv[first + idx].withUnsafeBytes({ parseCanonicalInt64($0) }), n >= 0 else { return nil }
                first += firstKey
                last = first + Int(n) - 1
            case .unknown:
                return nil
            }
            if last >= argc || last < first || first >= argc { return nil }
            var i = first
            while i <= last {
                if i >= argc || i < first { if arity < 0 { i += step; continue } else { return nil } }
                out.append((i, spec.flags))
                i += max(step, 1)
            }
            if spec.incomplete { return nil }
        }
        return out
    }

    /// Key finders for the commands whose keys key specs cannot describe fully
    /// (Redis's getkeys procs for SORT, MIGRATE, GEORADIUS...).
    static func customKeyFinder(_ name: String) -> (([[UInt8]]) -> [(pos: Int, flags: [String])])? {
        func lower(_ a: [UInt8]) -> String { String(decoding: a, as: UTF8.self).lowercased() }
        switch name {
        case "set":
            return { argv in
                let get = argv.count > 3 && argv[3...].contains { lower($0) == "get" }
                return [(1, get ? ["RW", "access", "update"] : ["OW", "update"])]
            }
        case "bitfield":
            return { argv in
                var readonly = true
                var i = 2
                while i < argv.count {
                    let remaining = argv.count - i - 1
                    let o = lower(argv[i])
                    if o == "get" && remaining >= 2 { i += 2 }
                    else if (o == "set" || o == "incrby") && remaining >= 3 { readonly = false; break }
                    else if o == "overflow" && remaining >= 1 { i += 1 }
                    else { readonly = false; break }
                    i += 1
                }
                return [(1, readonly ? ["RO", "access"] : ["RW", "access", "update"])]
            }
        case "sort_ro":
            // Its BY/GET key spec is "unknown" (keys come from the data): only the sorted key counts.
            return { _ in [(1, ["RO", "access"])] }
        case "sort":
            return { argv in
                var keys: [(pos: Int, flags: [String])] = [(1, ["RO", "access"])]
                var store = 0
                var i = 2
                while i < argv.count {
                    switch lower(argv[i]) {
                    case "limit": i += 2
                    case "get", "by": i += 1
                    case "store": if i + 1 < argv.count { store = i + 1 }; i += 1
                    default: break
                    }
                    i += 1
                }
                if store > 0 { keys.append((store, ["OW", "update"])) }
                return keys
            }
        case "migrate":
            return { argv in
                var first = 3, num = 1
                if argv.count > 6 {
                    var i = 6
                    while i < argv.count {
                        let o = lower(argv[i])
                        if o == "auth" { i += 1 }
                        else if o == "auth2" { i += 2 }
                        else if o == "keys" {
                            if !argv[3].isEmpty { return [] }
                            first = i + 1
                            num = argv.count - first
                            break
                        }
                        i += 1
                    }
                }
                return (first..<(first + num)).filter { $0 < argv.count }.map { ($0, ["RW", "access", "delete"]) }
            }
        case "georadius", "georadiusbymember":
            return { argv in
                var keys: [(pos: Int, flags: [String])] = [(1, ["RO", "access"])]
                var i = 5
                while i < argv.count {
                    let o = lower(argv[i])
                    if (o == "store" || o == "storedist") && i + 1 < argv.count {
                        keys.append((i + 1, ["OW", "update"]))
                        i += 1
                    }
                    i += 1
                }
                return keys
            }
        default:
            return nil
        }
    }
}
