// Server/admin commands: the family's table, plus TIME, LASTSAVE, SHUTDOWN
// and MONITOR. CLIENT, COMMAND, CONFIG, INFO, DEBUG and MEMORY have their own files.

import Glibc

extension Server {
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
                    handler: { $0.reply.integer($0.server.lastSaveTime) }),
            Command("shutdown", arity: -1, flags: [.admin, .noScript, .loading, .stale, .noMulti, .allowBusy],
                    group: .server, handler: shutdownCommand),
            Command("monitor", arity: 1, flags: [.admin, .noScript, .loading, .stale], group: .server,
                    handler: monitorCommand),
        ]
        return all
    }

    static func timeCommand(_ c: Client) {
        let us = Server.wallClockUs()
        c.reply.array(2)
        c.reply.bulk(decimal: us / 1_000_000)
        c.reply.bulk(decimal: us % 1_000_000)
    }

    /// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT].
    ///
    /// Tessera has no persistence yet, so a save can never succeed: SHUTDOWN
    /// SAVE, or a plain SHUTDOWN while save points are configured, behaves as
    /// Redis does when the final save fails ("Errors trying to SHUTDOWN"),
    /// unless FORCE is given. NOW and FORCE are accepted; there is nothing to
    /// wait for (no replicas) so ABORT always finds no shutdown in progress.
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
        let s = c.server
        if abort {
            c.error(static: "ERR No shutdown in progress.")
            return
        }
        _ = now
        let wantsSave = save || (!noSave && !(s.config.get("save") ?? "").isEmpty)
        if wantsSave && !force {
            s.logger.warning("Error trying to save the DB, can't exit: persistence is not available in this version.")
            s.logger.warning("Errors trying to shut down the server. Check the logs for more information.")
            c.error(static: "ERR Errors trying to SHUTDOWN. Check logs.")
            return
        }
        let mode: ShutdownMode = save ? .save : (noSave ? .noSave : .normal)
        guard let stop = s.onShutdown, stop(mode) else {
            c.error(static: "ERR Errors trying to SHUTDOWN. Check logs.")
            return
        }
        // Like Redis, no reply: the connection closes as the server exits.
        s.closeClientAsap(c)
    }

    static func monitorCommand(_ c: Client) {
        // A client already monitoring gets no reply, as in Redis.
        if c.isMonitor { return }
        c.server.addMonitor(c)
        c.reply.ok()
    }
}
