// The command table against Redis 7.0's own metadata: every registered
// command must have Redis's arity, flags and key positions (COMMAND INFO
// shows them, clients and cluster routing rely on them), and key specs must
// find the keys Redis finds (COMMAND GETKEYS).

import Testing
import RESP
@testable import Engine
import EngineTestSupport

private func allCommands() -> [Command] {
    let s = ShardEngine(config: Config())
    return s.commands.all.flatMap { [$0] + $0.subcommands }
}

/// Commands Tessera adds or deliberately shapes differently from Redis 7.0.
private let notInRedis70: Set<String> = ["client|no-touch"]

@Suite struct CommandTableTests {
    @Test func metadataLoads() throws {
        let get = try #require(CommandMetadata.entry("get"))
        #expect(get.arity == 2)
        #expect(get.aclCategories == ["@read", "@string", "@fast"])
        #expect(get.keySpecs.count == 1)
        #expect(get.docs.first?.0 == "since")
        #expect(!get.docs.contains { $0.0 == "summary" || $0.0 == "complexity" })
        let configGet = try #require(CommandMetadata.entry("config|get"))
        #expect(configGet.arity == -3)
        #expect(CommandMetadata.all.count > 300)
    }

    @Test func registeredCommandsMatchRedis() {
        var problems: [String] = []
        for cmd in allCommands() where !notInRedis70.contains(cmd.fullName) {
            guard let m = CommandMetadata.entry(cmd.fullName) else {
                problems.append("\(cmd.fullName): not a Redis 7.0 command")
                continue
            }
            if m.arity != cmd.arity { problems.append("\(cmd.fullName): arity \(cmd.arity), Redis \(m.arity)") }
            let ours = Set(cmd.flagNames), redis = Set(m.flags)
            if ours != redis {
                problems.append("\(cmd.fullName): flags \(ours.sorted()), Redis \(redis.sorted())")
            }
            if (cmd.firstKey, cmd.lastKey, cmd.keyStep) != (m.firstKey, m.lastKey, m.keyStep) {
                problems.append("\(cmd.fullName): keys (\(cmd.firstKey),\(cmd.lastKey),\(cmd.keyStep)), Redis (\(m.firstKey),\(m.lastKey),\(m.keyStep))")
            }
            if cmd.subcommands.isEmpty != (m.name.contains("|") || !hasSubcommands(m.name)) {
                problems.append("\(cmd.fullName): subcommands registered: \(!cmd.subcommands.isEmpty)")
            }
        }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    private func hasSubcommands(_ name: String) -> Bool {
        CommandMetadata.all.keys.contains { $0.hasPrefix(name + "|") }
    }

    @Test func aclCategoryOrder() {
        #expect(CommandMetadata.sortCategories(["@slow", "@dangerous", "@admin", "@keyspace"])
                == ["@keyspace", "@admin", "@slow", "@dangerous"])
    }

    // MARK: key extraction

    private func keys(_ line: String, arity: Int = -2) -> [String] {
        let argv = line.split(separator: " ").map { Array($0.utf8) }
        let cmd = Command(String(decoding: argv[0], as: UTF8.self), arity: arity, group: .generic, handler: { _ in })
        return ShardEngine.commandKeys(cmd, argv).map { String(decoding: argv[$0.pos], as: UTF8.self) }
    }

    @Test func keysFromRangeSpecs() {
        #expect(keys("get a") == ["a"])
        #expect(keys("mset a 1 b 2 c 3") == ["a", "b", "c"])
        #expect(keys("mget a b c") == ["a", "b", "c"])
        #expect(keys("lmove src dst left right") == ["src", "dst"])
        #expect(keys("rename a b") == ["a", "b"])
    }

    @Test func keysFromKeynumSpecs() {
        #expect(keys("zunionstore d 2 a b") == ["d", "a", "b"])
        #expect(keys("zunionstore d 2 a b weights 1 2") == ["d", "a", "b"])
        #expect(keys("zunionstore d 5 a b") == [])
        #expect(keys("eval script 2 k1 k2 arg") == ["k1", "k2"])
        #expect(keys("eval script 0") == [])
        #expect(keys("lmpop 2 a b left") == ["a", "b"])
    }

    @Test func keysFromKeywordSpecs() {
        #expect(keys("xread count 2 streams s1 s2 0 0") == ["s1", "s2"])
        #expect(keys("georadius k 0 0 1 km store dest") == ["k", "dest"])
    }

    @Test func keysFromCustomFinders() {
        #expect(keys("sort k limit 0 1 store dst") == ["k", "dst"])
        #expect(keys("sort k by w_* get o_*") == ["k"])
        let migrate = Command("migrate", arity: -6, group: .generic, handler: { _ in })
        let margv = ["migrate", "h", "1", "", "0", "5", "keys", "a", "b"].map { Array($0.utf8) }
        #expect(ShardEngine.commandKeys(migrate, margv).map { $0.pos } == [7, 8])
        let argv = ["set", "k", "v", "get"].map { Array($0.utf8) }
        let set = Command("set", arity: -3, group: .string, handler: { _ in })
        #expect(ShardEngine.commandKeys(set, argv).map { $0.flags } == [["RW", "access", "update"]])
        #expect(ShardEngine.commandKeys(set, Array(argv.prefix(3))).map { $0.flags } == [["OW", "update"]])
    }

    @Test func derivedSpecsForCommandsRedisLacks() {
        let cmd = Command("tessera-only", arity: -2, flags: [.write], keys: (1, -1, 2), group: .generic, handler: { _ in })
        let argv = ["tessera-only", "a", "1", "b", "2"].map { Array($0.utf8) }
        #expect(ShardEngine.commandKeys(cmd, argv).map { $0.pos } == [1, 3])
        #expect(cmd.keySpecs.first?.flags == ["RW", "update"])
        #expect(!cmd.hasMovableKeys)
    }
}
