// Configuration: redis.conf parsing (errors with line numbers), command-line
// overrides, CONFIG GET/SET validation and atomicity, CONFIG REWRITE output.

import Foundation
import Testing
import RESP
@testable import Engine
import EngineTestSupport

private func makeServer(_ lines: String = "") throws -> (ShardEngine, Client) {
    let config = Config()
    try ConfigFile.apply(lines, to: config, file: "test.conf")
    let s = ShardEngine(config: config)
    return (s, s.createClient(reply: ReplyEncoder()))
}

@Suite struct ConfigFileTests {
    @Test func parsesDirectivesCommentsAndQuotes() throws {
        let config = Config()
        try ConfigFile.apply("""
            # a comment
               # indented comment

            port 7000
            maxmemory 2mb
            maxmemory-policy ALLKEYS-LRU
            requirepass "with space"
            hash-max-ziplist-entries 64
            appendonly yes
            """, to: config, file: "t.conf")
        #expect(config.get("port") == "7000")
        #expect(config.get("maxmemory") == "2097152")
        #expect(config.get("maxmemory-policy") == "allkeys-lru")
        #expect(config.get("requirepass") == "with space")
        #expect(config.requirePass == Array("with space".utf8))
        #expect(config.get("hash-max-listpack-entries") == "64")
        #expect(config.hashMaxListpackEntries == 64)
        #expect(config.get("appendonly") == "yes")
    }

    @Test func saveLinesAccumulateAndEmptyClears() throws {
        let config = Config()
        try ConfigFile.apply("save 900 1\nsave 300 10\n", to: config, file: "t.conf")
        #expect(config.get("save") == "900 1 300 10")
        try ConfigFile.apply("save \"\"\n", to: config, file: "t.conf")
        #expect(config.get("save") == "")
    }

    @Test func multiWordValues() throws {
        let config = Config()
        try ConfigFile.apply("bind 127.0.0.1 -::1\nclient-output-buffer-limit normal 0 0 0 slave 1 2 3 pubsub 4 5 6", to: config, file: "t")
        #expect(config.get("bind") == "127.0.0.1 -::1")
        #expect(config.get("client-output-buffer-limit") == "normal 0 0 0 slave 1 2 3 pubsub 4 5 6")
    }

    private func failure(_ text: String) -> ConfigFileError? {
        do { try ConfigFile.apply(text, to: Config(), file: "bad.conf") } catch let e as ConfigFileError { return e } catch {}
        return nil
    }

    @Test func unknownDirectiveReportsLine() throws {
        let e = try #require(failure("port 7000\n\n# ok\nnosuchdirective 1\n"))
        #expect(e.line == 4)
        #expect(e.text == "nosuchdirective 1")
        #expect(e.reason == "Bad directive or wrong number of arguments")
        #expect(e.file == "bad.conf")
        #expect(e.description.contains("Reading the configuration file bad.conf, at line 4"))
        #expect(e.description.contains(">>> 'nosuchdirective 1'"))
    }

    @Test func missingValue() throws {
        let e = try #require(failure("port\n"))
        #expect(e.line == 1)
        #expect(e.reason == "Bad directive or wrong number of arguments")
    }

    @Test func invalidValues() throws {
        #expect(failure("port abc")?.reason == "argument couldn't be parsed into an integer")
        #expect(failure("port 70000")?.reason == "argument must be between 0 and 65535 inclusive")
        #expect(failure("appendonly maybe")?.reason == "argument must be 'yes' or 'no'")
        #expect(failure("maxmemory 1zz")?.reason == "argument must be a memory value")
        #expect(failure("loglevel loud")?.reason
                == "argument(s) must be one of the following: debug, verbose, notice, warning")
        #expect(failure("save 1 2 3")?.reason == "Invalid save parameters")
        let e = try #require(failure("\n\nmaxmemory-policy \"unclosed\n"))
        #expect(e.line == 3)
        #expect(e.reason == "Unbalanced quotes in configuration line")
    }

    @Test func includeFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-conf-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let inc = dir.appendingPathComponent("inc.conf").path
        try "hz 20\nbogus 1\n".write(toFile: inc, atomically: true, encoding: .utf8)
        let config = Config()
        let e = try #require(throws: ConfigFileError.self) {
            try ConfigFile.apply("port 1\ninclude \(inc)\n", to: config, file: "main.conf")
        }
        #expect(e.file == inc)
        #expect(e.line == 2)
        #expect(config.get("hz") == "20")
    }

    @Test func commandLineOverrides() throws {
        let lines = ConfigFile.lines(fromArguments: ["--port", "7000", "--save", "", "--bind", "127.0.0.1", "::1",
                                                     "--requirepass", "a b\"c"])
        #expect(lines == "port 7000\nsave \"\"\nbind 127.0.0.1 ::1\nrequirepass \"a b\\\"c\"")
        let config = Config()
        try ConfigFile.apply("port 6000\nsave 900 1\n", to: config, file: "file")
        try ConfigFile.apply(lines, to: config, file: "(command line)")
        #expect(config.get("port") == "7000")
        #expect(config.get("save") == "")
        #expect(config.get("bind") == "127.0.0.1 ::1")
        #expect(config.get("requirepass") == "a b\"c")
    }

    @Test func commandLineErrorsNameTheSource() throws {
        let e = try #require(throws: ConfigFileError.self) {
            try ConfigFile.apply(ConfigFile.lines(fromArguments: ["--port", "x"]), to: Config(), file: "(command line)")
        }
        #expect(e.file == "(command line)")
        #expect(e.reason == "argument couldn't be parsed into an integer")
    }

    /// Hot paths (AOF flush, persistence cron) read typed fields, kept in step with CONFIG SET.
    @Test func typedFieldsFollowTheirDirectives() throws {
        let config = Config()
        #expect(config.appendfsync == .everysec && config.aofUseRDBPreamble && config.stopWritesOnBgsaveError)
        try config.set("appendfsync", "always")
        try config.set("save", "900 1 60 10000")
        try config.set("aof-use-rdb-preamble", "no")
        #expect(config.appendfsync == .always && !config.aofUseRDBPreamble)
        #expect(config.savePoints.map { [$0.seconds, $0.changes] } == [[900, 1], [60, 10000]])
        try config.set("save", "")
        try config.set("appendfsync", "no")
        #expect(config.savePoints.isEmpty && config.appendfsync == .no)
    }

    @Test func outputBufferLimitsMergeByClass() throws {
        let config = Config()
        try ConfigFile.apply("client-output-buffer-limit normal 1mb 2mb 30\nclient-output-buffer-limit replica 512mb 128mb 120",
                             to: config, file: "t")
        #expect(config.get("client-output-buffer-limit")
                == "normal 1048576 2097152 30 slave 536870912 134217728 120 pubsub 33554432 8388608 60")
        #expect(throws: ConfigError.self) { try config.set("client-output-buffer-limit", "normal 1 2") }
        #expect(throws: ConfigError.self) { try config.set("client-output-buffer-limit", "bogus 1 2 3") }
        #expect(throws: ConfigError.self) { try config.set("client-output-buffer-limit", "normal x 2 3") }
        let e = failure("client-output-buffer-limit normal 1 2")
        #expect(e?.reason == "Wrong number of arguments in buffer limit configuration.")
        #expect(failure("client-output-buffer-limit master 1 2 3")?.reason
                == "Invalid client class specified in buffer limit configuration.")
    }

    /// The bundled Config/tessera.conf loads and documents every directive Tessera knows.
    @Test func bundledConfigFile() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = root.appendingPathComponent("Config/tessera.conf").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let config = Config()
        try ConfigFile.apply(text, to: config, file: path)
        #expect(config.get("bind") == "127.0.0.1 -::1")
        #expect(config.get("port") == "6379")
        #expect(config.get("protected-mode") == "yes")
        // Every parameter appears, set or as a commented example ("# name ...").
        let words = Set(text.split(separator: "\n").compactMap { line -> String? in
            var l = line.trimmingCharacters(in: .whitespaces)
            if l.hasPrefix("#") { l = String(l.dropFirst()).trimmingCharacters(in: .whitespaces) }
            return l.split(separator: " ").first.map(String.init)
        })
        for p in config.params {
            #expect(words.contains(p.name), "Config/tessera.conf does not mention \(p.name)")
        }
    }

    @Test func runtimeSetRespectsMutability() {
        let config = Config()
        #expect(throws: ConfigError.self) { try config.set("daemonize", "yes", runtime: true) }
        #expect(throws: ConfigError.self) { try config.set("nosuch", "1") }
        #expect((try? config.set("daemonize", "yes")) != nil)
    }

    @Test func defaultsMatchRedis() {
        let config = Config()
        #expect(config.get("hash-max-listpack-entries") == "512")
        #expect(config.get("zset-max-listpack-entries") == "128")
        #expect(config.get("maxmemory-policy") == "noeviction")
        #expect(config.get("save") == "3600 1 300 100 60 10000")
    }
}

@Suite struct ConfigCommandTests {
    @Test func getPatternsAndAliases() throws {
        let (s, c) = try makeServer()
        defer { withExtendedLifetime(s) {} }
        #expect(run(c, "CONFIG", "GET", "maxmemory") == "*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n")
        // An exact name is answered under the spelling used.
        #expect(run(c, "CONFIG", "GET", "MAXMEMORY", "maxmemory") == "*2\r\n$9\r\nMAXMEMORY\r\n$1\r\n0\r\n")
        #expect(run(c, "CONFIG", "GET", "hash-max-ziplist-entries") == "*2\r\n$24\r\nhash-max-ziplist-entries\r\n$3\r\n512\r\n")
        #expect(run(c, "CONFIG", "GET", "nosuch", "nosuch*") == "*0\r\n")
        let glob = run(c, "CONFIG", "GET", "maxmemory-polic?")
        #expect(glob == "*2\r\n$16\r\nmaxmemory-policy\r\n$10\r\nnoeviction\r\n")
        #expect(run(c, "CONFIG", "GET") == "-ERR wrong number of arguments for 'config|get' command\r\n")
        c.reply.proto = 3
        #expect(run(c, "CONFIG", "GET", "maxmemory") == "%1\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n")
    }

    @Test func setValidatesAndIsAtomic() throws {
        let (s, c) = try makeServer()
        defer { withExtendedLifetime(s) {} }
        #expect(run(c, "CONFIG", "SET", "maxmemory-policy", "ALLKEYS-LRU", "hz", "20") == "+OK\r\n")
        #expect(s.config.maxmemoryPolicy == "allkeys-lru")
        #expect(s.config.hz == 20)
        #expect(run(c, "CONFIG", "SET", "nosuch", "1") == "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n")
        #expect(run(c, "CONFIG", "SET", "hz", "1", "x") == "-ERR syntax error\r\n")
        #expect(run(c, "CONFIG", "SET", "daemonize", "yes")
                == "-ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config\r\n")
        #expect(run(c, "CONFIG", "SET", "dir", "/tmp")
                == "-ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config\r\n")
        #expect(run(c, "CONFIG", "SET", "hz", "1", "HZ", "2")
                == "-ERR CONFIG SET failed (possibly related to argument 'HZ') - duplicate parameter\r\n")
        #expect(run(c, "CONFIG", "SET", "maxmemory", "1foo")
                == "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value\r\n")
        // Nothing changes when one of several parameters is invalid.
        #expect(run(c, "CONFIG", "SET", "hz", "30", "maxmemory-policy", "bogus").hasPrefix(
            "-ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of"))
        #expect(s.config.hz == 20)
        #expect(s.config.maxmemoryPolicy == "allkeys-lru")
        // Aliases set the canonical parameter; errors name the canonical one.
        #expect(run(c, "CONFIG", "SET", "hash-max-ziplist-entries", "7") == "+OK\r\n")
        #expect(s.config.hashMaxListpackEntries == 7)
        #expect(run(c, "CONFIG", "SET", "hash-max-ziplist-entries", "x")
                == "-ERR CONFIG SET failed (possibly related to argument 'hash-max-listpack-entries') - argument couldn't be parsed into an integer\r\n")
    }

    @Test func setRunsChangeHooksAndRedactsSecrets() throws {
        let (s, c) = try makeServer()
        defer { withExtendedLifetime(s) {} }
        var changed: [String] = []
        s.config.didChange.append { changed.append($0) }
        #expect(run(c, "CONFIG", "SET", "maxclients", "50", "requirepass", "pw") == "+OK\r\n")
        #expect(changed == ["maxclients", "requirepass"])
        #expect(s.config.maxClients == 50)
        #expect(s.config.requirePass == Array("pw".utf8))
    }

    @Test func resetStat() throws {
        let (s, c) = try makeServer()
        defer { withExtendedLifetime(s) {} }
        _ = run(c, "SET", "a", "b")
        _ = run(c, "GET")
        _ = run(c, "NOSUCH")
        #expect(s.stats.totalErrorReplies == 2)
        #expect(run(c, "CONFIG", "RESETSTAT") == "+OK\r\n")
        #expect(s.stats.totalErrorReplies == 0)
        #expect(s.stats.errors.isEmpty)
        let get = try #require(s.commands.lookup("get"))
        #expect(get.rejectedCalls == 0 && get.calls == 0)
        #expect(run(c, "CONFIG", "REWRITE") == "-ERR The server is running without a config file\r\n")
    }
}

@Suite struct ConfigRewriteTests {
    @Test func keepsCommentsReplacesAndAppends() throws {
        let config = Config()
        let old = """
            # my comment
            port 7413
            save 900 1
            save 300 10
            hash-max-ziplist-entries 100

            include /etc/extra.conf
            # trailing comment
            dir /tmp

            """
        try ConfigFile.apply(old.replacingOccurrences(of: "include /etc/extra.conf", with: ""), to: config, file: "t")
        try config.set("save", "60 5")
        try config.set("maxmemory", "104857600")
        try config.set("hash-max-listpack-entries", "128")
        try config.set("loglevel", "warning")
        try config.set("client-output-buffer-limit", "normal 1048576 2000 30 slave 268435456 67108864 60 pubsub 33554432 8388608 60")
        let out = ConfigRewriter.rewrittenContent(old: old, config: config)
        #expect(out == """
            # my comment
            port 7413
            save 60 5

            hash-max-listpack-entries 128

            include /etc/extra.conf
            # trailing comment
            dir "/tmp"

            # Generated by CONFIG REWRITE
            loglevel warning
            client-output-buffer-limit normal 1mb 2000 30
            maxmemory 100mb

            """)
        // A second rewrite is stable.
        #expect(ConfigRewriter.rewrittenContent(old: out, config: config) == out)
    }

    @Test func emptySaveAndDefaults() throws {
        let config = Config()
        try config.set("save", "")
        let out = ConfigRewriter.rewrittenContent(old: "port 6379\n", config: config)
        #expect(out == "port 6379\n\n# Generated by CONFIG REWRITE\nsave \"\"\n")
        let all = ConfigRewriter.rewrittenContent(old: "", config: Config(), forceAll: true)
        #expect(all.contains("\nmaxmemory-policy noeviction\n"))
        #expect(all.contains("\nsave 3600 1\nsave 300 100\nsave 60 10000\n"))
    }

    @Test func rewriteFileRoundTrip() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-rw-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("t.conf").path
        try "# hello\nport 7000\nrequirepass \"x y\"\n".write(toFile: path, atomically: true, encoding: .utf8)
        let config = Config()
        try ConfigFile.apply(try String(contentsOfFile: path, encoding: .utf8), to: config, file: path)
        try config.set("requirepass", "new \"secret\"")
        try config.set("hz", "50")
        try ConfigRewriter.rewrite(path: path, config: config)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text == "# hello\nport 7000\nrequirepass \"new \\\"secret\\\"\"\n\n# Generated by CONFIG REWRITE\nhz 50\n")
        let again = Config()
        try ConfigFile.apply(text, to: again, file: path)
        #expect(again.get("requirepass") == "new \"secret\"")
        #expect(again.get("hz") == "50")
    }
}
