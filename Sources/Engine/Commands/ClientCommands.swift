// CLIENT and its subcommands (Redis 7.0's networking.c clientCommand).

import RESP

extension ShardEngine {
    static func clientCommands() -> [Command] {
        let f: CommandFlags = [.noScript, .loading, .stale]
        let admin: CommandFlags = [.admin, .noScript, .loading, .stale]
        return [
            Command("client", arity: -2, group: .connection, since: "2.4.0", handler: { _ in })
                .withSubcommands([
                    Command("caching", arity: 3, flags: f, group: .connection, since: "6.0.0", handler: clientCachingCommand),
                    Command("kill", arity: -3, flags: admin, group: .connection, since: "2.4.0", handler: clientKillCommand),
                    Command("tracking", arity: -3, flags: f, group: .connection, since: "6.0.0", handler: clientTrackingCommand),
                    Command("setname", arity: 3, flags: f, group: .connection, since: "2.6.9", handler: clientSetNameCommand),
                    Command("unpause", arity: 2, flags: admin, group: .connection, since: "6.2.0", handler: clientUnpauseCommand),
                    Command("id", arity: 2, flags: f, group: .connection, since: "5.0.0", handler: { $0.reply.integer($0.id) }),
                    Command("help", arity: 2, flags: [.loading, .stale], group: .connection, since: "5.0.0",
                            handler: { replyHelp($0, clientHelp) }),
                    Command("trackinginfo", arity: 2, flags: f, group: .connection, since: "6.2.0",
                            handler: clientTrackingInfoCommand),
                    Command("no-evict", arity: 3, flags: admin, group: .connection, since: "7.0.0",
                            handler: { c in clientOnOff(c) { c.noEvict = $0 } }),
                    Command("no-touch", arity: 3, flags: f, group: .connection, since: "7.2.0",
                            summary: "Make the commands of this connection leave the access time of keys untouched",
                            handler: { c in clientOnOff(c) { c.noTouch = $0 } }),
                    Command("getredir", arity: 2, flags: f, group: .connection, since: "6.0.0", handler: { $0.reply.integer(-1) }),
                    Command("pause", arity: -3, flags: admin, group: .connection, since: "2.9.50", handler: clientPauseCommand),
                    Command("info", arity: 2, flags: f, group: .connection, since: "6.2.0",
                            handler: { c in c.reply.verbatim(clientInfoLine(c, for: c) + "\n") }),
                    Command("reply", arity: 3, flags: f, group: .connection, since: "3.2.0", handler: clientReplyCommand),
                    Command("unblock", arity: -3, flags: admin, group: .connection, since: "5.0.0", handler: clientUnblockCommand),
                    Command("getname", arity: 2, flags: f, group: .connection, since: "2.6.9", handler: clientGetNameCommand),
                    Command("list", arity: -2, flags: admin, group: .connection, since: "2.4.0", handler: clientListCommand),
                ]),
        ]
    }

    static let clientHelp = [
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CACHING (YES|NO)",
        "    Client side caching is not supported yet (see TRACKING).",
        "GETREDIR",
        "    Return the ID of the client tracking redirections go to (always -1).",
        "GETNAME",
        "    Return the name of this connection.",
        "ID",
        "    Return the ID of this connection.",
        "INFO",
        "    Return information about this connection, in CLIENT LIST format.",
        "KILL <ip:port>",
        "    Close the connection coming from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Close the connections matching all the filters. Filters are:",
        "    * ID <client-id>",
        "      The connection with this ID.",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Connections coming from this address.",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Connections made to this local address.",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Connections of this type.",
        "    * USER <username>",
        "      Connections authenticated as <username>.",
        "    * SKIPME (YES|NO)",
        "      Whether to spare the calling connection (default: yes).",
        "LIST [TYPE (NORMAL|MASTER|REPLICA|PUBSUB)] [ID <client-id> [<client-id> ...]]",
        "    Return information about the connections, optionally filtered.",
        "UNPAUSE",
        "    End a CLIENT PAUSE.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Hold commands of all clients (or only writes) for <timeout> milliseconds.",
        "REPLY (ON|OFF|SKIP)",
        "    Turn the replies to this connection on or off, or skip the next one.",
        "SETNAME <name>",
        "    Name this connection (an empty name removes it).",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock a client blocked in a blocking command.",
        "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
        "         [OPTIN] [OPTOUT] [NOLOOP]",
        "    Server assisted client side caching (not supported yet).",
        "TRACKINGINFO",
        "    Report the tracking state of this connection.",
        "NO-EVICT (ON|OFF)",
        "    Exempt this connection from client eviction.",
        "NO-TOUCH (ON|OFF)",
        "    When on, commands of this connection do not update the access time of keys.",
        "HELP",
        "    Print this help.",
    ]

    // MARK: simple subcommands

    static func clientSetNameCommand(_ c: Client) {
        let n = c.args.bytes(2)
        if !validClientName(n) {
            c.error(static: "ERR Client names cannot contain spaces, newlines or special characters.")
            return
        }
        c.name = n.isEmpty ? nil : n
        c.reply.ok()
    }

    static func clientGetNameCommand(_ c: Client) {
        if let n = c.name { c.reply.bulk(n) } else { c.reply.null() }
    }

    static func clientOnOff(_ c: Client, _ set: (Bool) -> Void) {
        if c.args.equals(2, "on") { set(true) }
        else if c.args.equals(2, "off") { set(false) }
        else { c.syntaxError(); return }
        c.reply.ok()
    }

    static func clientReplyCommand(_ c: Client) {
        let a = c.args
        if a.equals(2, "on") {
            c.replyMode = .on
            c.reply.ok()
        } else if a.equals(2, "off") {
            c.replyMode = .off
        } else if a.equals(2, "skip") {
            if c.replyMode != .off { c.replyMode = .skipNext }
        } else {
            c.syntaxError()
        }
    }

    static func clientPauseCommand(_ c: Client) {
        let a = c.args
        guard let ms = a.int64(2) else {
            c.error(static: "ERR timeout is not an integer or out of range")
            return
        }
        if ms < 0 { c.error(static: "ERR timeout is negative"); return }
        var all = true
        if a.count == 4 {
            if a.equals(3, "write") { all = false }
            else if !a.equals(3, "all") { c.error(static: "ERR CLIENT PAUSE mode must be WRITE or ALL"); return }
        } else if a.count > 4 {
            subcommandSyntaxError(c)
            return
        }
        let s = c.engine
        let end = s.now &+ ms
        // A new pause never shortens one in effect, and ALL wins over WRITE.
        if !s.admin.isPaused || end > s.admin.pauseEndMs { s.admin.pauseEndMs = end }
        s.admin.pauseAll = all || (s.admin.isPaused && s.admin.pauseAll)
        c.reply.ok()
    }

    static func clientUnpauseCommand(_ c: Client) {
        c.engine.admin.unpauseClients()
        c.reply.ok()
    }

    static func clientUnblockCommand(_ c: Client) {
        let a = c.args
        guard let id = a.int64(2) else { c.notInteger(); return }
        var withError = false
        if a.count == 4 {
            if a.equals(3, "error") { withError = true }
            else if !a.equals(3, "timeout") {
                c.error(static: "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
                return
            }
        } else if a.count > 4 {
            subcommandSyntaxError(c)
            return
        }
        c.reply.integer(c.engine.unblockClientByID(id, withError: withError) ? 1 : 0)
    }

    static func clientTrackingCommand(_ c: Client) {
        if c.args.equals(2, "off") {
            c.reply.ok()
        } else if c.args.equals(2, "on") {
            c.error(static: "ERR CLIENT TRACKING is not supported yet")
        } else {
            c.syntaxError()
        }
    }

    static func clientCachingCommand(_ c: Client) {
        c.error(static: "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
    }

    static func clientTrackingInfoCommand(_ c: Client) {
        c.reply.map(3)
        c.reply.bulk(string: "flags"); c.reply.set(1); c.reply.bulk(string: "off")
        c.reply.bulk(string: "redirect"); c.reply.integer(-1)
        c.reply.bulk(string: "prefixes"); c.reply.array(0)
    }

    // MARK: LIST / INFO

    /// Redis's client types: "normal", "replica" ("slave"), "master", "pubsub".
    enum ClientType { case normal, replica, master, pubsub }

    static func clientType(named b: [UInt8]) -> ClientType? {
        switch String(decoding: b, as: UTF8.self).lowercased() {
        case "normal": return .normal
        case "slave", "replica": return .replica
        case "master": return .master
        case "pubsub": return .pubsub
        default: return nil
        }
    }

    /// The client's type from its class (monitors are "normal", as in Redis).
    static func clientType(of c: Client) -> ClientType {
        switch c.clientClass {
        case .normal: return .normal
        case .replica: return .replica
        case .pubsub: return .pubsub
        case .master: return .master
        }
    }

    static func clientListCommand(_ c: Client) {
        let a = c.args, s = c.engine
        var out = ""
        if a.count == 4 && a.equals(2, "type") {
            guard let t = clientType(named: a.bytes(3)) else {
                c.error("ERR Unknown client type '\(a.string(3))'")
                return
            }
            for cl in s.clients.byID where clientType(of: cl) == t { out += clientInfoLine(cl, for: c) + "\n" }
        } else if a.count > 3 && a.equals(2, "id") {
            for i in 3..<a.count {
                guard let id = a.int64(i) else { c.error(static: "ERR Invalid client ID"); return }
                if let cl = s.clients[id] { out += clientInfoLine(cl, for: c) + "\n" }
            }
        } else if a.count != 2 {
            c.syntaxError()
            return
        } else {
            for cl in s.clients.byID { out += clientInfoLine(cl, for: c) + "\n" }
        }
        c.reply.verbatim(out)
    }

    /// One CLIENT LIST line (without the newline) describing `cl`; `caller` is
    /// the client running the command (only its own arguments are readable).
    static func clientInfoLine(_ cl: Client, for caller: Client) -> String {
        let s = cl.engine
        let now = s.now
        var flags = ""
        if cl.clientClass == .replica { flags += "S" }
        if cl.clientClass == .master { flags += "M" }
        if cl.clientClass == .pubsub { flags += "P" }
        if cl.isMonitor { flags += "O" }
        if cl.inMulti { flags += "x" }
        if cl.blocked != nil || cl.postponed { flags += "b" }
        if cl.dirtyCAS { flags += "d" }
        if cl.closeAfterReply { flags += "c" }
        if cl.closeASAP { flags += "A" }
        if cl.isUnixSocket { flags += "U" }
        if cl.noEvict { flags += "e" }
        if cl.noTouch { flags += "T" }
        if flags.isEmpty { flags = "N" }
        var argvMem = 0
        if cl === caller { for i in 0..<cl.args.count { argvMem += cl.args.spans[i].count } }
        var multiMem = 0
        for q in cl.multiQueue { multiMem += q.bytes.count + q.spans.count * MemoryLayout<ArgSpan>.stride }
        let qbuf = cl.queryBufferSize
        let qbufFree = max(0, cl.queryBufferCapacity - qbuf)
        let rbs = cl.reply.out.capacity
        // Redis's 16 KB static reply buffer (obl), then the reply list (oll blocks, omem bytes).
        let pending = cl.replyBufferSize()
        let obl = min(pending, 16 * 1024)
        let omem = max(0, pending - 16 * 1024)
        let oll = (omem + 16 * 1024 - 1) / (16 * 1024)
        let totMem = cl.queryBufferCapacity + rbs + argvMem + multiMem + 1024
        var f = "id=\(cl.id) addr=\(cl.addr) laddr=\(cl.laddr) fd=\(cl.fd) name=\(cl.displayName)"
        f += " age=\((now - cl.createdAt) / 1000) idle=\((now - cl.lastInteraction) / 1000) flags=\(flags)"
        let subs = cl.subscriptions
        f += " db=\(cl.dbIndex) sub=\(subs?.channels.count ?? 0) psub=\(subs?.patterns.count ?? 0)"
        f += " ssub=\(subs?.shardChannels.count ?? 0) multi=\(cl.inMulti ? cl.multiQueue.count : -1)"
        f += " qbuf=\(qbuf) qbuf-free=\(qbufFree) argv-mem=\(argvMem) multi-mem=\(multiMem) rbs=\(rbs) rbp=\(rbs)"
        f += " obl=\(obl) oll=\(oll) omem=\(omem) tot-mem=\(totMem + omem) events=r cmd=\(cl.lastCommandName)"
        f += " user=\(cl.user) redir=-1 resp=\(cl.reply.proto)"
        return f
    }

    // MARK: KILL

    /// The filters of CLIENT KILL (both forms), parsed without side effects.
    struct ClientKillFilter: Equatable {
        var addr: [UInt8]? = nil
        var laddr: [UInt8]? = nil
        var user: [UInt8]? = nil
        var id: Int64? = nil
        var type: ClientType? = nil
        var skipMe = true
        /// CLIENT KILL ip:port (replies +OK / -ERR No such client).
        var oldForm = false

        /// Parses the arguments after KILL; the error text on failure.
        /// `userExists` says whether a USER filter names a known user.
        static func parse(_ a: [[UInt8]], userExists: ([UInt8]) -> Bool = { $0 == Array("default".utf8) })
            -> Result<ClientKillFilter, ClientKillError> {
            var f = ClientKillFilter()
            if a.count == 1 {
                f.addr = a[0]
                f.skipMe = false
                f.oldForm = true
                return .success(f)
            }
            func eq(_ i: Int, _ s: String) -> Bool { String(decoding: a[i], as: UTF8.self).lowercased() == s }
            var i = 0
            while i < a.count {
                guard i + 1 < a.count else { return .failure(ClientKillError("ERR syntax error")) }
                let v = a[i + 1]
                let vs = String(decoding: v, as: UTF8.self)
                if eq(i, "id") {
                    guard let n = Int64(vs), n >= 1 else {
                        return .failure(ClientKillError("ERR client-id should be greater than 0"))
                    }
                    f.id = n
                } else if eq(i, "type") {
                    guard let t = clientType(named: v) else {
                        return .failure(ClientKillError("ERR Unknown client type '\(vs)'"))
                    }
                    f.type = t
                } else if eq(i, "addr") {
                    f.addr = v
                } else if eq(i, "laddr") {
                    f.laddr = v
                } else if eq(i, "user") {
                    guard userExists(v) else { return .failure(ClientKillError("ERR No such user '\(vs)'")) }
                    f.user = v
                } else if eq(i, "skipme") {
                    switch vs.lowercased() {
                    case "yes": f.skipMe = true
                    case "no": f.skipMe = false
                    default: return .failure(ClientKillError("ERR syntax error"))
                    }
                } else {
                    return .failure(ClientKillError("ERR syntax error"))
                }
                i += 2
            }
            return .success(f)
        }

        /// Whether `cl` matches every filter (`caller` runs the command).
        func matches(_ cl: Client, caller: Client) -> Bool {
            if let v = addr, Array(cl.addr.utf8) != v { return false }
            if let v = laddr, Array(cl.laddr.utf8) != v { return false }
            if let v = id, cl.id != v { return false }
            if let t = type, clientType(of: cl) != t { return false }
            if let u = user, Array(cl.user.utf8) != u { return false }
            if cl === caller && skipMe { return false }
            return true
        }
    }

    struct ClientKillError: Error, Equatable {
        let message: String
        init(_ m: String) { message = m }
    }

    static func clientKillCommand(_ c: Client) {
        let a = c.args, s = c.engine
        let f: ClientKillFilter
        switch ClientKillFilter.parse((2..<a.count).map { a.bytes($0) }) {
        case .success(let x): f = x
        case .failure(let e): c.error(e.message); return
        }
        let oldForm = f.oldForm
        var killed = 0
        for cl in s.clients.byID where f.matches(cl, caller: c) {
            killed += 1
            if cl === c {
                c.closeAfterReply = true
            } else {
                s.closeClientAsap(cl)
            }
        }
        if oldForm {
            if killed == 0 { c.error(static: "ERR No such client") } else { c.reply.ok() }
        } else {
            c.reply.integer(killed)
        }
    }
}
