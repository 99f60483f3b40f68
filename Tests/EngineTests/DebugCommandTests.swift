// DEBUG: digests independent of encodings and order, RDB size figures
// against values taken from redis-server 7.0.15, POPULATE, PROTOCOL.

import Testing
import RESP
@testable import Engine
import EngineTestSupport

private func makeServer(debug: String = "yes") throws -> (ShardEngine, Client) {
    let config = Config()
    try config.set("enable-debug-command", debug)
    let s = ShardEngine(config: config)
    return (s, s.createClient(reply: ReplyEncoder()))
}

@Suite struct DebugCommandTests {
    @Test func refusedUnlessEnabled() throws {
        let (s, c) = try makeServer(debug: "no")
        defer { withExtendedLifetime(s) {} }
        #expect(run(c, "DEBUG", "SLEEP", "0").hasPrefix("-ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\""))
        #expect(s.commands.lookup("debug")?.rejectedCalls == 1)
    }

    @Test func digestIsOrderAndEncodingIndependent() throws {
        let (s, c) = try makeServer()
        defer { withExtendedLifetime(s) {} }
        #expect(run(c, "DEBUG", "DIGEST") == "+0000000000000000000000000000000000000000\r\n")
        _ = run(c, "CONFIG", "SET", "hash-max-listpack-entries", "2")
        _ = run(c, "HSET", "small", "a", "1", "b", "2")
        _ = run(c, "HSET", "big", "b", "2", "a", "1", "c", "3")
        _ = run(c, "HDEL", "big", "c")
        #expect(run(c, "OBJECT", "ENCODING", "big") == "$9\r\nhashtable\r\n")
        let d = run(c, "DEBUG", "DIGEST-VALUE", "small", "big")
        let lines = d.split(separator: "\r\n")
        #expect(lines.count == 3 && lines[1] == lines[2])
        let before = run(c, "DEBUG", "DIGEST")
        _ = run(c, "RPUSH", "l", "x", "y")
        let withList = run(c, "DEBUG", "DIGEST")
        #expect(withList != before)
        _ = run(c, "DEL", "l")
        _ = run(c, "RPUSH", "l", "y", "x")
        #expect(run(c, "DEBUG", "DIGEST") != withList)  // list order matters
        _ = run(c, "DEL", "l")
        #expect(run(c, "DEBUG", "DIGEST") == before)
        _ = run(c, "SET", "s", "v")
        let plain = run(c, "DEBUG", "DIGEST")
        _ = run(c, "EXPIRE", "s", "100")
        #expect(run(c, "DEBUG", "DIGEST") != plain)  // expires are covered
    }

    @Test func objectSizesMatchRedis() throws {
        let (s, c) = try makeServer()
        defer { withExtendedLifetime(s) {} }
        func figures(_ key: String) -> String {
            let line = run(c, "DEBUG", "OBJECT", key).dropLast()  // "\r\n" is one Character
            return line.split(separator: " ").filter {
                $0.hasPrefix("encoding:") || $0.hasPrefix("serializedlength:") || $0.hasPrefix("ql_")
            }.joined(separator: " ")
        }
        _ = run(c, "RPUSH", "l", "a", "b", "c")
        _ = run(c, "HSET", "h", "a", "1")
        _ = run(c, "SADD", "s", "1", "2")
        _ = run(c, "SADD", "s2", "a", "b")
        _ = run(c, "SADD", "s3", "1", "100000")
        _ = run(c, "ZADD", "z", "1", "a", "2.5", "b")
        _ = run(c, "SET", "str", "hello")
        _ = run(c, "SET", "int", "-200")
        // Figures from redis-server 7.0.15 for the same values.
        #expect(figures("l") == "encoding:quicklist serializedlength:19 ql_nodes:1 ql_avg_node:3.00 ql_listpack_max:-2 ql_compressed:0 ql_uncompressed_size:16")
        #expect(figures("h") == "encoding:listpack serializedlength:13")
        #expect(figures("s") == "encoding:intset serializedlength:13")
        #expect(figures("s2") == "encoding:hashtable serializedlength:5")
        #expect(figures("s3") == "encoding:intset serializedlength:17")
        #expect(figures("z") == "encoding:listpack serializedlength:21")
        #expect(figures("str") == "encoding:embstr serializedlength:6")
        #expect(figures("int") == "encoding:int serializedlength:3")
        #expect(run(c, "DEBUG", "OBJECT", "nokey") == "-ERR no such key\r\n")
    }

    @Test func populate() throws {
        let (s, c) = try makeServer()
        defer { withExtendedLifetime(s) {} }
        _ = run(c, "SET", "key:1", "mine")
        #expect(run(c, "DEBUG", "POPULATE", "3") == "+OK\r\n")
        #expect(run(c, "GET", "key:0") == "$7\r\nvalue:0\r\n")
        #expect(run(c, "GET", "key:1") == "$4\r\nmine\r\n")  // existing keys are kept
        #expect(run(c, "DEBUG", "POPULATE", "2", "p", "10") == "+OK\r\n")
        #expect(run(c, "GET", "p:1") == "$10\r\nvalue:1\0\0\0\r\n")
        #expect(run(c, "DEBUG", "POPULATE", "1", "q", "3") == "+OK\r\n")
        #expect(run(c, "GET", "q:0") == "$3\r\nval\r\n")
        #expect(run(c, "DEBUG", "POPULATE", "-1") == "-ERR value is out of range, must be positive\r\n")
        #expect(run(c, "DBSIZE") == ":6\r\n")
    }

    @Test func protocolTypes() throws {
        let (s, c) = try makeServer()
        defer { withExtendedLifetime(s) {} }
        #expect(run(c, "DEBUG", "PROTOCOL", "map") == "*6\r\n:0\r\n:0\r\n:1\r\n:1\r\n:2\r\n:0\r\n")
        #expect(run(c, "DEBUG", "PROTOCOL", "push") == "-ERR RESP2 is not supported by this command\r\n")
        c.reply.proto = 3
        #expect(run(c, "DEBUG", "PROTOCOL", "map") == "%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n")
        #expect(run(c, "DEBUG", "PROTOCOL", "bignum") == "(1234567999999999999999999999999999999\r\n")
        #expect(run(c, "DEBUG", "PROTOCOL", "attrib")
                == "|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n$39\r\nSome real reply following the attribute\r\n")
        #expect(run(c, "DEBUG", "PROTOCOL", "verbatim") == "=29\r\ntxt:This is a verbatim\nstring\r\n")
        #expect(run(c, "DEBUG", "nosuch") == "-ERR unknown subcommand or wrong number of arguments for 'nosuch'. Try DEBUG HELP.\r\n")
    }
}
