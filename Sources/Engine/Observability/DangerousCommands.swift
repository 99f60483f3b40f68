// rename-command (redis.conf) and Tessera's protect-dangerous-commands.

extension ShardEngine {
    /// Names of every top-level command (validates rename-command in the config file).
    static let commandNames: Set<String> = Set(allCommands().map(\.name))

    /// Applies the configuration's rename-command directives to the command table.
    /// The command keeps its own name in COMMAND INFO, INFO commandstats and
    /// CLIENT LIST, as in Redis; only lookup uses the new name.
    func applyRenamedCommands() {
        for (old, new) in config.renamedCommands {
            guard let cmd = commands.lookup(old) else { continue }
            commands.rename(cmd, to: new)
        }
    }

    /// With protect-dangerous-commands yes: why `cmd` may not run, or nil.
    /// KEYS, DEBUG and the synchronous FLUSHALL/FLUSHDB block the server for as
    /// long as the dataset is big; the error names the non-blocking alternative.
    func dangerousCommandRefusal(_ c: Client, _ cmd: Command) -> String? {
        switch cmd.name {
        case "keys":
            return "ERR KEYS is disabled by protect-dangerous-commands: it blocks the server while it walks every key. Use SCAN with MATCH (and COUNT) instead."
        case "flushall", "flushdb":
            let args = c.args
            if args.count == 2 && args.equals(1, "async") { return nil }
            let up = cmd.name.uppercased()
            return "ERR \(up) is disabled by protect-dangerous-commands: deleting every key in one go blocks the server. Use \(up) ASYNC instead."
        case "debug":
            return "ERR DEBUG is disabled by protect-dangerous-commands: it can block or crash the server. Set protect-dangerous-commands no in the configuration to allow it."
        default:
            return nil
        }
    }
}
