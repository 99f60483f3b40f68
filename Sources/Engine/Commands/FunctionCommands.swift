// FUNCTION and SCRIPT, as far as a server without a scripting engine can
// answer them truthfully: there are no libraries and no cached scripts, so
// FLUSH has nothing to remove, LIST is empty and EXISTS is 0. Loading code
// (FUNCTION LOAD/RESTORE, EVAL, SCRIPT LOAD) is refused with an error that says
// so. Clients and Redis's test suite call FUNCTION FLUSH / SCRIPT FLUSH to
// reset a server, which therefore works.

extension ShardEngine {
    static func functionCommands() -> [Command] {
        let unsupported: CommandHandler = { c in
            c.error("ERR \(c.args.string(0).uppercased()) \(c.args.count > 1 ? c.args.string(1).uppercased() + " " : "")is not supported: Tessera has no scripting engine yet")
        }
        let function = Command("function", arity: -2, group: .scripting, since: "7.0.0", handler: { _ in })
            .withSubcommands([
                Command("flush", arity: -2, flags: [.write, .noScript], group: .scripting, since: "7.0.0",
                        handler: flushScriptsCommand),
                Command("list", arity: -2, flags: [.noScript], group: .scripting, since: "7.0.0",
                        handler: { $0.reply.array(0) }),
                Command("stats", arity: 2, flags: [.noScript, .allowBusy], group: .scripting, since: "7.0.0",
                        handler: functionStatsCommand),
                Command("kill", arity: 2, flags: [.noScript, .allowBusy], group: .scripting, since: "7.0.0",
                        handler: { $0.error(static: "NOTBUSY No scripts in execution right now.") }),
                Command("load", arity: -3, flags: [.write, .denyOOM, .noScript], group: .scripting, since: "7.0.0",
                        handler: unsupported),
                Command("delete", arity: 3, flags: [.write, .noScript], group: .scripting, since: "7.0.0",
                        handler: { $0.error(static: "ERR Library not found") }),
                Command("dump", arity: 2, flags: [.noScript], group: .scripting, since: "7.0.0", handler: unsupported),
                Command("restore", arity: -3, flags: [.write, .denyOOM, .noScript], group: .scripting,
                        since: "7.0.0", handler: unsupported),
            ])
        let script = Command("script", arity: -2, group: .scripting, since: "2.6.0", handler: { _ in })
            .withSubcommands([
                Command("flush", arity: -2, flags: [.noScript], group: .scripting, since: "2.6.0",
                        handler: flushScriptsCommand),
                Command("exists", arity: -3, flags: [.noScript], group: .scripting, since: "2.6.0", handler: { c in
                    c.reply.array(c.args.count - 2)
                    for _ in 2..<c.args.count { c.reply.integer(0) }
                }),
                Command("kill", arity: 2, flags: [.noScript, .allowBusy], group: .scripting, since: "2.6.0",
                        handler: { $0.error(static: "NOTBUSY No scripts in execution right now.") }),
                Command("load", arity: 3, flags: [.noScript, .stale], group: .scripting, since: "2.6.0",
                        handler: unsupported),
            ])
        return [function, script]
    }

    /// FUNCTION FLUSH / SCRIPT FLUSH [ASYNC|SYNC]: there is nothing to flush.
    static func flushScriptsCommand(_ c: Client) {
        if c.args.count > 3 || (c.args.count == 3 && !c.args.equals(2, "async") && !c.args.equals(2, "sync")) {
            if c.args.equals(0, "script") { c.error(static: "ERR SCRIPT FLUSH only support SYNC|ASYNC option") }
            else { c.error(static: "ERR FUNCTION FLUSH only supports SYNC|ASYNC option") }
            return
        }
        c.reply.ok()
    }

    static func functionStatsCommand(_ c: Client) {
        c.reply.map(2)
        c.reply.bulk(string: "running_script"); c.reply.null()
        c.reply.bulk(string: "engines"); c.reply.map(0)
    }
}
