// Pub/Sub commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH, PUBSUB.
// The subscription bookkeeping and delivery live in PubSub.swift.

import RESP

extension ShardEngine {
    static func pubsubCommands() -> [Command] {
        let sub: CommandFlags = [.pubsub, .noScript, .loading, .stale]
        let pub: CommandFlags = [.pubsub, .loading, .stale, .fast]
        let intro: CommandFlags = [.pubsub, .loading, .stale]
        return [
            Command("subscribe", arity: -2, flags: sub, group: .pubsub, since: "2.0.0",
                    handler: { c in subscribeEach(c, .channel) }),
            Command("unsubscribe", arity: -1, flags: sub, group: .pubsub, since: "2.0.0",
                    handler: { c in unsubscribeEach(c, .channel) }),
            Command("psubscribe", arity: -2, flags: sub, group: .pubsub, since: "2.0.0",
                    handler: { c in subscribeEach(c, .pattern) }),
            Command("punsubscribe", arity: -1, flags: sub, group: .pubsub, since: "2.0.0",
                    handler: { c in unsubscribeEach(c, .pattern) }),
            Command("ssubscribe", arity: -2, flags: sub, keys: (1, -1, 1), group: .pubsub, since: "7.0.0",
                    handler: { c in subscribeEach(c, .shard) }),
            Command("sunsubscribe", arity: -1, flags: sub, keys: (1, -1, 1), group: .pubsub, since: "7.0.0",
                    handler: { c in unsubscribeEach(c, .shard) }),
            Command("publish", arity: 3, flags: pub, group: .pubsub, since: "2.0.0",
                    handler: { c in c.reply.integer(c.engine.publish(c.args[1], c.args[2])) }),
            Command("spublish", arity: 3, flags: pub, keys: (1, 1, 1), group: .pubsub, since: "7.0.0",
                    handler: { c in c.reply.integer(c.engine.publish(c.args[1], c.args[2], shard: true)) }),
            Command("pubsub", arity: -2, group: .pubsub, since: "2.8.0", handler: { _ in })
                .withSubcommands([
                    Command("channels", arity: -2, flags: intro, group: .pubsub, since: "2.8.0",
                            handler: { c in pubsubChannels(c, shard: false) }),
                    Command("numsub", arity: -2, flags: intro, group: .pubsub, since: "2.8.0",
                            handler: { c in pubsubNumsub(c, shard: false) }),
                    Command("numpat", arity: 2, flags: intro, group: .pubsub, since: "2.8.0",
                            handler: { c in c.reply.integer(c.engine.pubsubPatternCount) }),
                    Command("shardchannels", arity: -2, flags: intro, group: .pubsub, since: "7.0.0",
                            handler: { c in pubsubChannels(c, shard: true) }),
                    Command("shardnumsub", arity: -2, flags: intro, group: .pubsub, since: "7.0.0",
                            handler: { c in pubsubNumsub(c, shard: true) }),
                    Command("help", arity: 2, flags: [.loading, .stale], group: .pubsub, since: "6.2.0",
                            handler: { replyHelp($0, pubsubHelp) }),
                ]),
        ]
    }

    static let pubsubHelp = [
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        "HELP",
        "    Prints this help.",
    ]

    /// Commands a RESP2 client may run while subscribed (Redis's processCommand rule).
    static func allowedInSubscribedMode(_ cmd: Command) -> Bool {
        switch cmd.name {
        case "ping", "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe", "psubscribe", "punsubscribe",
             "quit", "reset":
            return true
        default:
            return false
        }
    }

    static func subscribeEach(_ c: Client, _ kind: PubSubKind) {
        let s = c.engine
        for i in 1..<c.args.count { s.subscribe(c, c.args.bytes(i), kind: kind) }
    }

    static func unsubscribeEach(_ c: Client, _ kind: PubSubKind) {
        let s = c.engine
        if c.args.count == 1 {
            s.unsubscribeAll(c, kind: kind)
            return
        }
        for i in 1..<c.args.count { s.unsubscribe(c, c.args.bytes(i), kind: kind) }
    }

    static func pubsubChannels(_ c: Client, shard: Bool) {
        if c.args.count > 3 { subcommandSyntaxError(c); return }
        let s = c.engine
        let dict = shard ? s.pubsub.shardChannels : s.pubsub.channels
        let pattern: [UInt8]? = c.args.count == 3 ? c.args.bytes(2) : nil
        var names: [[UInt8]] = []
        for name in dict.keys where pattern.map({ globMatch($0, name) }) ?? true { names.append(name) }
        c.reply.array(names.count)
        for n in names { c.reply.bulk(n) }
    }

    static func pubsubNumsub(_ c: Client, shard: Bool) {
        let s = c.engine
        let n = c.args.count - 2
        c.reply.array(n * 2)
        for i in 2..<c.args.count {
            let name = c.args.bytes(i)
            c.reply.bulk(name)
            c.reply.integer((shard ? s.pubsub.shardChannels[name] : s.pubsub.channels[name])?.count ?? 0)
        }
    }
}
