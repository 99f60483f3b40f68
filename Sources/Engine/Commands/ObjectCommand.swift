// OBJECT ENCODING | FREQ | IDLETIME | REFCOUNT | HELP (Redis's objectCommand).
// OBJECT is a container command: its subcommands are full Command entries,
// dispatched by ShardEngine.execute (Command.withSubcommands).

extension ShardEngine {
    static func objectCommand() -> Command {
        let subs = [
            Command("encoding", arity: 3, flags: [.readonly], keys: (2, 2, 1), group: .generic, since: "2.2.3",
                    handler: objectEncodingCommand),
            Command("freq", arity: 3, flags: [.readonly], keys: (2, 2, 1), group: .generic, since: "4.0.0",
                    handler: objectFreqCommand),
            Command("help", arity: 2, flags: [.loading, .stale], group: .generic, since: "6.2.0",
                    handler: objectHelpCommand),
            Command("idletime", arity: 3, flags: [.readonly], keys: (2, 2, 1), group: .generic, since: "2.2.3",
                    handler: objectIdletimeCommand),
            Command("refcount", arity: 3, flags: [.readonly], keys: (2, 2, 1), group: .generic, since: "2.2.3",
                    handler: objectRefcountCommand),
        ]
        // The dispatcher runs the subcommands (arity checks, errors, commandstats).
        return Command("object", arity: -2, group: .generic, since: "2.2.3", handler: { _ in })
            .withSubcommands(subs)
    }

    /// The key of an OBJECT subcommand, looked up without touching it; replies null if missing.
    static func objectLookup(_ c: Client) -> Entry? {
        guard let e = c.engine.lookupRead(c, c.args[2], touch: false, notify: false) else { c.reply.null(); return nil }
        return e
    }

    static func objectEncodingCommand(_ c: Client) {
        guard let e = objectLookup(c) else { return }
        e.encodingName.withUTF8Buffer { c.reply.bulk(UnsafeRawBufferPointer($0)) }
    }

    static func objectFreqCommand(_ c: Client) {
        guard let e = objectLookup(c) else { return }
        let s = c.engine
        guard s.config.lfuPolicy else {
            c.error(static: "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
            return
        }
        c.reply.integer(Int(s.lfuDecayedCounter(e)))
    }

    static func objectIdletimeCommand(_ c: Client) {
        guard let e = objectLookup(c) else { return }
        let s = c.engine
        if s.config.lfuPolicy {
            c.error(static: "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
            return
        }
        c.reply.integer(s.idleTimeMs(e) / 1000)
    }

    /// Redis shares the integers 0...9999 between keys (refcount reported as
    /// INT_MAX) unless an LRU/LFU maxmemory policy needs per-key access data.
    static func objectRefcountCommand(_ c: Client) {
        guard let e = objectLookup(c) else { return }
        let s = c.engine
        if e.type == .string && e.encodingRaw == StringEncoding.int.rawValue,
           let v = parseCanonicalInt64(e.stringValue), v >= 0 && v < 10000 {
            let policy = s.config.maxmemoryPolicy
            let shared = s.config.maxmemory == 0 || !(policy.hasSuffix("-lru") || policy.hasSuffix("-lfu"))
            if shared { c.reply.integer(Int64(Int32.max)); return }
        }
        c.reply.integer(1)
    }

    static let objectHelpLines: [StaticString] = [
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the internal representation used to store the value of <key>.",
        "FREQ <key>",
        "    Return the logarithmic access frequency counter of <key> (LFU policies only).",
        "IDLETIME <key>",
        "    Return the approximate number of seconds since <key> was last accessed",
        "    (not available under LFU policies).",
        "REFCOUNT <key>",
        "    Return the number of references to the value of <key>.",
        "HELP",
        "    Print this help.",
    ]

    static func objectHelpCommand(_ c: Client) {
        c.reply.array(objectHelpLines.count)
        for l in objectHelpLines { c.reply.simple(l) }
    }
}
