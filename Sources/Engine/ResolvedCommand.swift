// A request's command, looked up once: the name (and the subcommand of a
// container command such as CLIENT or CONFIG) found in the command table and
// the arity checked. Routing (Cluster/Routing.swift), execution
// (ShardEngine.execute), AOF replay and statistics all take this one value, so a
// request costs one lookup however many layers look at it.

public struct ResolvedCommand {
    public enum Failure { case unknownCommand, unknownSubcommand }

    /// The command to run (the subcommand of a container command); nil when
    /// the name or the subcommand is unknown.
    public let command: Command?
    public let failure: Failure?
    /// Whether the argument count fits the command's arity.
    public let arityOK: Bool

    /// Runnable: known, with a fitting argument count.
    @inline(__always) public var runnable: Command? { arityOK ? command : nil }

    /// Whether, on the main port, the command must see its connection's
    /// earlier (forwarded) replies before it runs (CommandRouting).
    public var waitsForEarlierReplies: Bool { command?.routing.waitsForEarlierReplies ?? false }
}

extension ShardEngine {
    /// Looks the command of `args` up (Redis's lookupCommand + the arity check of processCommand).
    @inline(__always)
    public func resolve(_ args: Args) -> ResolvedCommand {
        guard var cmd = commands.lookup(args[0]) else {
            return ResolvedCommand(command: nil, failure: .unknownCommand, arityOK: false)
        }
        if !cmd.subcommands.isEmpty && args.count >= 2 {
            guard let sub = cmd.subcommand(args[1]) else {
                return ResolvedCommand(command: nil, failure: .unknownSubcommand, arityOK: false)
            }
            cmd = sub
        }
        let arityOK = cmd.arity > 0 ? args.count == cmd.arity : args.count >= -cmd.arity
        return ResolvedCommand(command: cmd, failure: nil, arityOK: arityOK)
    }
}
