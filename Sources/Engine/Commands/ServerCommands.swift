// Server/admin commands: the family's table, plus TIME, LASTSAVE, SHUTDOWN
// and MONITOR. CLIENT, COMMAND, CONFIG, INFO, DEBUG and MEMORY have their own files.

import Glibc

extension ShardEngine {
    static func serverCommands() -> [Command] {
        var all: [Command] = []
        all += clientCommands()
        all += commandCommands()
        all += configCommands()
        all += debugCommands()
        all += memoryCommands()
        all += [
            Command("info", arity: -1, flags: [.loading, .stale], group: .server, handler: infoCommand),
            Command("time", arity: 1, flags: [.loading, .stale, .fast], group: .server, since: "2.6.0",
                    handler: timeCommand),
            Command("lastsave", arity: 1, flags: [.loading, .stale, .fast], group: .server,
                    handler: { $0.reply.integer($0.engine.lastSaveTime) }),
            Command("shutdown", arity: -1, flags: [.admin, .noScript, .loading, .stale, .noMulti, .allowBusy],
                    group: .server, handler: shutdownCommand),
            Command("monitor", arity: 1, flags: [.admin, .noScript, .loading, .stale], group: .server,
                    handler: monitorCommand),
        ]
        return all
    }

    static func timeCommand(_ c: Client) {
        let us = ShardEngine.wallClockUs()
        c.reply.array(2)
        c.reply.bulk(decimal: us / 1_000_000)
        c.reply.bulk(decimal: us % 1_000_000)
    }

    /// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT].
    ///
    /// The final save (SAVE, or save points configured, unless NOSAVE) and the
    /// AOF flush are the persistence layer's; when they fail the server keeps
    /// running ("Errors trying to SHUTDOWN") unless FORCE is given. There is
    /// nothing to wait for (no replicas), so NOW changes nothing and ABORT
    /// always finds no shutdown in progress.
    static func shutdownCommand(_ c: Client) {
        let a = c.args
        var save = false, noSave = false, now = false, force = false, abort = false
        for i in 1..<a.count {
            if a.equals(i, "nosave") { noSave = true }
            else if a.equals(i, "save") { save = true }
            else if a.equals(i, "now") { now = true }
            else if a.equals(i, "force") { force = true }
            else if a.equals(i, "abort") { abort = true }
            else { c.syntaxError(); return }
        }
        if (abort && a.count != 2) || (save && noSave) { c.syntaxError(); return }
        let s = c.engine
        if abort {
            c.error(static: "ERR No shutdown in progress.")
            return
        }
        _ = now
        if let p = s.persistence {
            if !p.prepareForShutdown(save: save ? true : (noSave ? false : nil)) && !force {
                s.logger.warning("Errors trying to shut down the server. Check the logs for more information.")
                c.error(static: "ERR Errors trying to SHUTDOWN. Check logs.")
                return
            }
        } else if (save || (!noSave && !(s.config.get("save") ?? "").isEmpty)) && !force {
            s.logger.warning("Error trying to save the DB, can't exit: persistence is not available in this process.")
            s.logger.warning("Errors trying to shut down the server. Check the logs for more information.")
            c.error(static: "ERR Errors trying to SHUTDOWN. Check logs.")
            return
        }
        let mode: ShutdownMode = save ? .save : (noSave ? .noSave : .normal)
        guard let host = s.host, host.shutdownRequested(mode) else {
            c.error(static: "ERR Errors trying to SHUTDOWN. Check logs.")
            return
        }
        // Like Redis, no reply: the connection closes as the server exits.
        s.closeClientAsap(c)
    }

    static func monitorCommand(_ c: Client) {
        // A client already monitoring gets no reply, as in Redis.
        if c.isMonitor { return }
        c.engine.addMonitor(c)
        c.reply.ok()
    }
}
