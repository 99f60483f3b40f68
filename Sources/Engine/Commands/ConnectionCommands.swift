// Connection commands: PING ECHO SELECT QUIT RESET HELLO AUTH
// (CLIENT and COMMAND live in their own files).

extension ShardEngine {
    static func connectionCommands() -> [Command] {
        let f: CommandFlags = [.fast, .loading, .stale]
        return [
            Command("ping", arity: -1, flags: [.fast], group: .connection, handler: pingCommand),
            Command("echo", arity: 2, flags: f, group: .connection, handler: { $0.reply.bulk($0.args[1]) }),
            Command("select", arity: 2, flags: f, group: .connection, handler: selectCommand),
            Command("quit", arity: -1, flags: [.allowBusy, .noAuth, .noScript, .fast, .loading, .stale], group: .connection,
                    handler: { c in c.reply.ok(); c.closeAfterReply = true }),
            Command("reset", arity: 1, flags: [.noScript, .loading, .stale, .fast, .noAuth, .allowBusy],
                    group: .connection, since: "6.2.0", handler: resetCommand),
            Command("hello", arity: -1, flags: [.noScript, .loading, .stale, .fast, .noAuth, .allowBusy],
                    group: .connection, since: "6.0.0", handler: helloCommand),
            Command("auth", arity: -2, flags: [.noScript, .loading, .stale, .fast, .noAuth, .allowBusy],
                    group: .connection, handler: authCommand),
        ]
    }

    static func pingCommand(_ c: Client) {
        if c.args.count > 2 { c.wrongArity(); return }
        if c.inPubSub && c.reply.proto == 2 {
            // Subscribed RESP2 clients get PING as a message-shaped array.
            c.reply.array(2)
            c.reply.bulk(string: "pong")
            if c.args.count == 2 { c.reply.bulk(c.args[1]) } else { c.reply.bulk(string: "") }
            return
        }
        if c.args.count == 2 { c.reply.bulk(c.args[1]) } else { c.reply.simple("PONG") }
    }

    static func selectCommand(_ c: Client) {
        guard let i = c.args.int64(1) else { c.error(static: "ERR value is not an integer or out of range"); return }
        if c.routing == .cluster && i != 0 { c.error(static: "ERR SELECT is not allowed in cluster mode"); return }
        guard let db = c.engine.database(Int(i)) else { c.error(static: "ERR DB index is out of range"); return }
        c.db = db
        c.reply.ok()
    }

    static func resetCommand(_ c: Client) {
        let s = c.engine
        if c.inMulti { c.inMulti = false; c.multiQueue = []; c.multiError = false }
        s.unwatchAll(c)
        s.pubsubRemoveClient(c)
        c.db = s.databases[0]
        c.reply.proto = 2
        c.replyMode = .on
        c.noEvict = false
        c.noTouch = false
        c.name = nil
        if c.isMonitor { c.isMonitor = false; s.clients.removeMonitor(c) }
        c.authenticated = s.config.requirePass == nil
        c.user = "default"
        c.reply.simple("RESET")
    }

    /// Checks a password; on failure replies WRONGPASS and returns false.
    static func checkPassword(_ c: Client, user: [UInt8]?, pass: [UInt8]) -> Bool {
        let s = c.engine
        let userOK = user == nil || user! == Array("default".utf8)
        if userOK, let required = s.config.requirePass, required == pass {
            c.authenticated = true
            return true
        }
        if userOK && s.config.requirePass == nil && user != nil {
            // "default" user with nopass accepts any password.
            c.authenticated = true
            return true
        }
        c.error(static: "WRONGPASS invalid username-password pair or user is disabled.")
        return false
    }

    static func authCommand(_ c: Client) {
        let a = c.args
        if a.count > 3 { c.syntaxError(); return }
        if a.count == 2 && c.engine.config.requirePass == nil {
            c.error(static: "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
            return
        }
        let user: [UInt8]? = a.count == 3 ? a.bytes(1) : nil
        if checkPassword(c, user: user, pass: a.bytes(a.count - 1)) { c.reply.ok() }
    }

    static func helloCommand(_ c: Client) {
        let a = c.args
        var proto = c.reply.proto
        var i = 1
        if a.count >= 2 {
            guard let v = a.int64(1) else {
                c.error(static: "ERR Protocol version is not an integer or out of range")
                return
            }
            if v < 2 || v > 3 {
                c.error(static: "NOPROTO unsupported protocol version")
                return
            }
            proto = Int(v)
            i = 2
        }
        var setName: [UInt8]? = nil
        while i < a.count {
            let more = a.count - i - 1
            if a.equals(i, "auth") && more >= 2 {
                if !checkPassword(c, user: a.bytes(i + 1), pass: a.bytes(i + 2)) { return }
                i += 3
            } else if a.equals(i, "setname") && more >= 1 {
                let n = a.bytes(i + 1)
                if !validClientName(n) {
                    c.error(static: "ERR Client names cannot contain spaces, newlines or special characters.")
                    return
                }
                setName = n
                i += 2
            } else {
                c.error("ERR Syntax error in HELLO option '\(a.string(i))'")
                return
            }
        }
        if !c.authenticated {
            c.error(static: "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
            return
        }
        if let n = setName { c.name = n.isEmpty ? nil : n }
        c.reply.proto = proto
        c.reply.map(7)
        c.reply.bulk(string: "server"); c.reply.bulk(string: "redis")
        c.reply.bulk(string: "version"); c.reply.bulk(string: ShardEngine.redisVersion)
        c.reply.bulk(string: "proto"); c.reply.integer(proto)
        c.reply.bulk(string: "id"); c.reply.integer(c.id)
        c.reply.bulk(string: "mode"); c.reply.bulk(string: "standalone")
        c.reply.bulk(string: "role"); c.reply.bulk(string: c.engine.replicationGate.isReplica ? "replica" : "master")
        c.reply.bulk(string: "modules"); c.reply.array(0)
    }

    /// Names may not contain spaces or control characters (CLIENT SETNAME rules).
    static func validClientName(_ n: [UInt8]) -> Bool {
        n.allSatisfy { $0 > 32 && $0 < 127 }
    }

    /// The Redis version we are compatible with, reported to clients.
    public static let redisVersion = "7.0.15"
    public static let tesseraVersion = "0.1.0"
}
