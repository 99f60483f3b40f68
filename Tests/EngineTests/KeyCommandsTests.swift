// Generic key commands run through Server.execute, including the parts that
// need aggregate values (SORT, COPY/RENAME/MOVE of objects), with small fake
// value types standing in for the real list/set/zset/hash types.

import Testing
import RESP
@testable import Engine
import EngineTestSupport

/// A decoded reply.
indirect enum Reply: Equatable, CustomStringConvertible {
    case simple(String), error(String), int(Int64), bulk([UInt8]), null, array([Reply])

    static func b(_ s: String) -> Reply { .bulk(Array(s.utf8)) }
    static func strings(_ a: [String]) -> Reply { .array(a.map { .b($0) }) }

    var description: String {
        switch self {
        case .simple(let s): return "+\(s)"
        case .error(let s): return "-\(s)"
        case .int(let i): return ":\(i)"
        case .bulk(let b): return "\"\(String(decoding: b, as: UTF8.self))\""
        case .null: return "nil"
        case .array(let a): return "[" + a.map(\.description).joined(separator: ", ") + "]"
        }
    }
}

/// Parses one RESP2 reply from `b` starting at `i`.
func parseReply(_ b: [UInt8], _ i: inout Int) -> Reply {
    let t = b[i]
    var j = i + 1
    while b[j] != 13 { j += 1 }
    let line = String(decoding: b[(i + 1)..<j], as: UTF8.self)
    i = j + 2
    switch t {
    case UInt8(ascii: "+"): return .simple(line)
    case UInt8(ascii: "-"): return .error(line)
    case UInt8(ascii: ":"): return .int(Int64(line)!)
    case UInt8(ascii: "$"):
        let n = Int(line)!
        if n < 0 { return .null }
        let v = Array(b[i..<(i + n)])
        i += n + 2
        return .bulk(v)
    default:
        let n = Int(line)!
        if n < 0 { return .null }
        return .array((0..<n).map { _ in parseReply(b, &i) })
    }
}

/// A server and one client; `run` executes a command and decodes its reply.
final class Harness {
    let engine: ShardEngine
    let client: Client

    init(config: Config = Config()) {
        engine = ShardEngine(config: config)
        client = engine.createClient(reply: ReplyEncoder())
    }

    @discardableResult
    func run(_ args: String...) -> Reply { run(args.map { Array($0.utf8) }) }

    @discardableResult
    func run(_ args: [[UInt8]]) -> Reply {
        var buf: [UInt8] = []
        var spans: [ArgSpan] = []
        for a in args {
            spans.append(ArgSpan(offset: buf.count, count: a.count))
            buf += a
        }
        buf.append(0)
        buf.withUnsafeBytes { raw in
            spans.withUnsafeBufferPointer { sp in
                client.args = Args(base: raw.baseAddress!, spans: sp)
                engine.execute(client)
            }
        }
        let out = Array(client.reply.out.readableView)
        client.reply.out.reset()
        var i = 0
        return parseReply(out, &i)
    }

    var db: Database { client.db }

    func entry(_ k: String, db: Int? = nil) -> Entry? {
        let d = db.map { engine.databases[$0] } ?? client.db
        return Array(k.utf8).withUnsafeBytes { d.rawLookup($0) }
    }

    func putObject(_ k: String, _ o: AnyObject, type: ValueType) {
        Array(k.utf8).withUnsafeBytes { engine.setObject(client.db, $0, o, type: type) }
    }
}

// MARK: - fake value types

final class FakeSeq: ValueObject {
    var items: [[UInt8]]
    var duplicates = 0
    init(_ items: [String]) { self.items = items.map { Array($0.utf8) } }
    init(bytes: [[UInt8]]) { items = bytes }
    var count: Int { items.count }
    var encodingName: StaticString { "fakeseq" }
    func duplicate() -> FakeSeq { duplicates += 1; return FakeSeq(bytes: items) }
    func sortElements() -> [[UInt8]] { items }
}

final class FakeHash: ValueObject {
    var fields: [[UInt8]: [UInt8]]
    init(_ f: [String: String]) {
        fields = Dictionary(uniqueKeysWithValues: f.map { (Array($0.key.utf8), Array($0.value.utf8)) })
    }
    var count: Int { fields.count }
    var encodingName: StaticString { "fakehash" }
    func duplicate() -> FakeHash { let h = FakeHash([:]); h.fields = fields; return h }
    func sortHashField(_ field: UnsafeRawBufferPointer) -> [UInt8]? { fields[Array(field)] }
}

// MARK: - basic commands

@Test func delExistsTypeTouch() {
    let h = Harness()
    h.run("MSET", "a", "1", "b", "2")
    h.putObject("l", FakeSeq(["x"]), type: .list)
    #expect(h.run("EXISTS", "a", "a", "l", "nokey") == .int(3))
    #expect(h.run("TYPE", "l") == .simple("list"))
    #expect(h.run("TYPE", "nokey") == .simple("none"))
    #expect(h.run("TOUCH", "a", "a", "nokey") == .int(2))
    #expect(h.run("DEL", "a", "a", "l", "nokey") == .int(2))
    #expect(h.run("UNLINK", "b") == .int(1))
    #expect(h.run("DBSIZE") == .int(0))
    #expect(h.run("DEL") == .error("ERR wrong number of arguments for 'del' command"))
}

@Test func renameMovesObjectAndTTL() {
    let h = Harness()
    let list = FakeSeq(["a", "b"])
    h.putObject("l", list, type: .list)
    #expect(h.run("PEXPIRE", "l", "100000") == .int(1))
    h.run("SET", "dst", "x")
    #expect(h.run("RENAME", "l", "dst") == .simple("OK"))
    #expect(h.entry("l") == nil)
    let e = h.entry("dst")!
    #expect(e.type == .list)
    #expect(e.object === list)
    #expect(e.expireAt != nil)
    #expect(h.db.expiresCount == 1)
    #expect(h.db.expiresIndexIsConsistent())
    #expect(h.run("RENAME", "dst", "dst") == .simple("OK"))
    #expect(h.run("RENAMENX", "dst", "dst") == .int(0))
    #expect(h.run("RENAME", "nokey", "x") == .error("ERR no such key"))
    h.run("SET", "plain", "1")
    #expect(h.run("RENAME", "plain", "dst") == .simple("OK"))
    #expect(h.run("TTL", "dst") == .int(-1))
    #expect(h.db.expiresCount == 0)
}

@Test func renamedObjectIsReleasedWhenDeleted() {
    let h = Harness()
    weak var weakList: FakeSeq?
    do {
        let list = FakeSeq(["a"])
        weakList = list
        h.putObject("l", list, type: .list)
    }
    h.run("RENAME", "l", "l2")
    h.run("MOVE", "l2", "3")
    #expect(weakList != nil)
    h.run("SELECT", "3")
    h.run("DEL", "l2")
    #expect(weakList == nil)
}

@Test func moveKeepsTTLAndRefusesExisting() {
    let h = Harness()
    h.run("SET", "a", "1", "EX", "100")
    #expect(h.run("MOVE", "a", "1") == .int(1))
    #expect(h.entry("a") == nil)
    #expect(h.entry("a", db: 1)?.expireAt != nil)
    h.run("SET", "a", "2")
    #expect(h.run("MOVE", "a", "1") == .int(0))
    #expect(h.run("MOVE", "a", "0") == .error("ERR source and destination objects are the same"))
    #expect(h.run("MOVE", "a", "16") == .error("ERR DB index is out of range"))
    #expect(h.engine.databases[1].expiresIndexIsConsistent())
}

@Test func copyDuplicatesAggregatesAndKeepsTTL() {
    let h = Harness()
    let list = FakeSeq(["a", "b"])
    h.putObject("l", list, type: .list)
    h.run("EXPIRE", "l", "100")
    #expect(h.run("COPY", "l", "l2") == .int(1))
    let copy = h.entry("l2")!
    #expect(copy.type == .list)
    #expect(copy.object !== list)
    #expect(list.duplicates == 1)
    #expect(copy.expireAt == h.entry("l")!.expireAt)
    #expect(h.run("COPY", "l", "l2") == .int(0))
    #expect(h.run("COPY", "l", "l2", "REPLACE") == .int(1))
    #expect(h.run("COPY", "l", "l", "DB", "2") == .int(1))
    #expect(h.entry("l", db: 2)?.type == .list)
    // Strings keep their encoding.
    h.run("SET", "n", "12345")
    h.run("COPY", "n", "n2")
    #expect(h.run("OBJECT", "ENCODING", "n2") == .b("int"))
    #expect(h.run("COPY", "l", "l") == .error("ERR source and destination objects are the same"))
    #expect(h.run("COPY", "l", "x", "DB", "99") == .error("ERR DB index is out of range"))
}

@Test func expireFamilyOnObjects() {
    let h = Harness()
    h.putObject("l", FakeSeq(["a"]), type: .list)
    #expect(h.run("EXPIRE", "l", "100", "GT") == .int(0))
    #expect(h.run("EXPIRE", "l", "100", "LT") == .int(1))
    #expect(h.run("TTL", "l") == .int(100))
    #expect(h.run("PERSIST", "l") == .int(1))
    #expect(h.run("TTL", "l") == .int(-1))
    #expect(h.run("EXPIRE", "l", "-1") == .int(1))
    #expect(h.entry("l") == nil)
    #expect(h.engine.stats.expiredKeys == 0)
}

@Test func lazyExpiryThroughCommands() {
    let h = Harness()
    h.run("SET", "k", "v")
    h.run("SET", "keep", "v")
    let past = h.engine.now - 1
    _ = Array("k".utf8).withUnsafeBytes { h.engine.setExpire(h.db, $0, past) }
    #expect(h.run("DBSIZE") == .int(2))
    #expect(h.run("KEYS", "*") == .strings(["keep"]))
    #expect(h.run("DBSIZE") == .int(2))  // KEYS skips, does not delete
    #expect(h.run("SCAN", "0", "COUNT", "100") == .array([.b("0"), .strings(["keep"])]))
    #expect(h.run("DBSIZE") == .int(1))  // SCAN deletes what it skips
    #expect(h.engine.stats.expiredKeys == 1)
}

@Test func randomkeySkipsAndDeletesExpired() {
    let h = Harness()
    for i in 0..<50 { h.run("SET", "dead\(i)", "v", "PX", "100000") }
    h.run("SET", "live", "v")
    for i in 0..<50 { _ = Array("dead\(i)".utf8).withUnsafeBytes { h.engine.setExpire(h.db, $0, h.engine.now - 1) } }
    #expect(h.run("RANDOMKEY") == .b("live"))
    h.run("DEL", "live")
    #expect(h.run("RANDOMKEY") == .null)
    #expect(h.db.count == 0)
}

@Test func scanCommandWithTypeAndMatch() {
    let h = Harness()
    for i in 0..<300 { h.run("SET", "s\(i)", "v") }
    for i in 0..<30 { h.putObject("l\(i)", FakeSeq(["x"]), type: .list) }
    var cursor = "0"
    var strings = Set<String>(), lists = Set<String>()
    repeat {
        guard case .array(let r) = h.run("SCAN", cursor, "COUNT", "7", "TYPE", "LIST"),
              case .bulk(let c) = r[0], case .array(let keys) = r[1] else { Issue.record("bad reply"); return }
        cursor = String(decoding: c, as: UTF8.self)
        for case .bulk(let k) in keys { lists.insert(String(decoding: k, as: UTF8.self)) }
    } while cursor != "0"
    repeat {
        guard case .array(let r) = h.run("SCAN", cursor, "MATCH", "s1*"),
              case .bulk(let c) = r[0], case .array(let keys) = r[1] else { Issue.record("bad reply"); return }
        cursor = String(decoding: c, as: UTF8.self)
        for case .bulk(let k) in keys { strings.insert(String(decoding: k, as: UTF8.self)) }
    } while cursor != "0"
    #expect(lists == Set((0..<30).map { "l\($0)" }))
    #expect(strings == Set((0..<300).map { "s\($0)" }.filter { $0.hasPrefix("s1") }))
}

@Test func flushAndSwapdb() {
    let h = Harness()
    h.run("SET", "a", "1")
    h.run("SELECT", "1")
    h.run("SET", "b", "1", "EX", "100")
    #expect(h.run("SWAPDB", "0", "1") == .simple("OK"))
    #expect(h.run("GET", "a") == .b("1"))
    #expect(h.run("TTL", "b") == .int(-2))
    h.run("SELECT", "0")
    #expect(h.run("TTL", "b") == .int(100))
    #expect(h.run("FLUSHDB", "ASYNC") == .simple("OK"))
    #expect(h.run("DBSIZE") == .int(0))
    #expect(h.engine.databases[1].count == 1)
    #expect(h.run("FLUSHALL", "SYNC") == .simple("OK"))
    #expect(h.engine.databases[1].count == 0)
    #expect(h.run("FLUSHALL", "LAZY") == .error("ERR syntax error"))
}

// MARK: - OBJECT

@Test func objectSubcommands() throws {
    let h = Harness()
    h.run("SET", "s", "hello")
    h.putObject("l", FakeSeq(["x"]), type: .list)
    #expect(h.run("OBJECT", "encoding", "s") == .b("embstr"))
    #expect(h.run("OBJECT", "ENCODING", "l") == .b("fakeseq"))
    #expect(h.run("OBJECT", "REFCOUNT", "l") == .int(1))
    h.run("SET", "n", "42")
    #expect(h.run("OBJECT", "REFCOUNT", "n") == .int(2147483647))
    h.entry("s")!.lru = h.engine.lruClock &- 30
    #expect(h.run("OBJECT", "IDLETIME", "s") == .int(30))
    #expect(h.run("OBJECT", "IDLETIME", "s") == .int(30))  // OBJECT does not touch
    h.run("GET", "s")
    #expect(h.run("OBJECT", "IDLETIME", "s") == .int(0))
    #expect(h.run("OBJECT", "FREQ", "nokey") == .null)
    guard case .error(let e) = h.run("OBJECT", "FREQ", "s") else { Issue.record("expected error"); return }
    #expect(e.hasPrefix("ERR An LFU maxmemory policy is not selected"))
    #expect(h.run("OBJECT", "nope") == .error("ERR unknown subcommand 'nope'. Try OBJECT HELP."))
    #expect(h.run("OBJECT", "encoding") == .error("ERR wrong number of arguments for 'object|encoding' command"))
    guard case .array(let help) = h.run("OBJECT", "HELP") else { Issue.record("expected array"); return }
    #expect(help.count > 5)

    try h.engine.config.set("maxmemory-policy", "allkeys-lfu")
    h.run("SET", "t", "v")
    #expect(h.run("OBJECT", "FREQ", "t") == .int(5))
    for _ in 0..<3 { h.run("GET", "t") }
    guard case .int(let f) = h.run("OBJECT", "FREQ", "t") else { Issue.record("expected int"); return }
    #expect(f >= 6)
    guard case .error(let e2) = h.run("OBJECT", "IDLETIME", "t") else { Issue.record("expected error"); return }
    #expect(e2.hasPrefix("ERR An LFU maxmemory policy is selected, idle time not tracked."))
}

// MARK: - SORT

private func sortFixture() -> Harness {
    let h = Harness()
    h.putObject("l", FakeSeq(["3", "1", "2", "10"]), type: .list)
    h.run("MSET", "w_1", "30", "w_2", "20", "w_3", "10", "w_10", "5", "o_1", "one", "o_2", "two", "o_3", "three")
    for (k, v) in [(1, 9), (2, 8), (3, 7), (10, 10)] { h.putObject("h_\(k)", FakeHash(["f": "\(v)"]), type: .hash) }
    return h
}

@Test func sortNumericAlphaLimit() {
    let h = sortFixture()
    #expect(h.run("SORT", "l") == .strings(["1", "2", "3", "10"]))
    #expect(h.run("SORT", "l", "DESC") == .strings(["10", "3", "2", "1"]))
    #expect(h.run("SORT", "l", "ALPHA") == .strings(["1", "10", "2", "3"]))
    #expect(h.run("SORT", "l", "LIMIT", "1", "2") == .strings(["2", "3"]))
    #expect(h.run("SORT", "l", "LIMIT", "0", "-1") == .strings(["1", "2", "3", "10"]))
    #expect(h.run("SORT", "l", "LIMIT", "3", "10") == .strings(["10"]))
    #expect(h.run("SORT", "l", "LIMIT", "10", "10") == .strings([]))
    #expect(h.run("SORT", "l", "LIMIT", "-5", "1") == .strings(["1"]))
    #expect(h.run("SORT", "l", "LIMIT", "0", "0") == .strings([]))
    #expect(h.run("SORT", "l", "LIMIT", "1", "9223372036854775807") == .strings(["2", "3", "10"]))
    h.putObject("m", FakeSeq(["1.5", "-2", "1e2", "+3", " 4", ""]), type: .list)
    #expect(h.run("SORT", "m") == .strings(["-2", "", "1.5", "+3", " 4", "1e2"]))
    h.putObject("bad", FakeSeq(["b", "a", "nan"]), type: .list)
    #expect(h.run("SORT", "bad") == .error("ERR One or more scores can't be converted into double"))
    #expect(h.run("SORT", "bad", "ALPHA") == .strings(["a", "b", "nan"]))
    #expect(h.run("SORT", "nokey") == .strings([]))
    h.run("SET", "str", "x")
    #expect(h.run("SORT", "str") == .error("WRONGTYPE Operation against a key holding the wrong kind of value"))
    #expect(h.run("SORT", "l", "FOO") == .error("ERR syntax error"))
    #expect(h.run("SORT", "l", "LIMIT", "0") == .error("ERR syntax error"))
    #expect(h.run("SORT", "l", "LIMIT", "a", "b") == .error("ERR value is not an integer or out of range"))
    #expect(h.run("SORT_RO", "l", "STORE", "x") == .error("ERR syntax error"))
}

@Test func sortByAndGet() {
    let h = sortFixture()
    #expect(h.run("SORT", "l", "BY", "w_*") == .strings(["10", "3", "2", "1"]))
    #expect(h.run("SORT", "l", "BY", "w_*", "DESC") == .strings(["1", "2", "3", "10"]))
    #expect(h.run("SORT", "l", "BY", "w_*", "ALPHA") == .strings(["3", "2", "1", "10"]))
    #expect(h.run("SORT", "l", "BY", "w_*", "GET", "o_*") == .array([.null, .b("three"), .b("two"), .b("one")]))
    #expect(h.run("SORT", "l", "BY", "w_*", "GET", "o_*", "GET", "#", "GET", "nokey_*") == .array([
        .null, .b("10"), .null, .b("three"), .b("3"), .null, .b("two"), .b("2"), .null, .b("one"), .b("1"), .null]))
    #expect(h.run("SORT", "l", "BY", "h_*->f", "GET", "h_*->f", "GET", "#") ==
            .strings(["7", "3", "8", "2", "9", "1", "10", "10"]))
    #expect(h.run("SORT", "l", "GET", "h_*->nofield") == .array([.null, .null, .null, .null]))
    // "->" at the very end is not a field reference; the key "h_1->" does not exist.
    #expect(h.run("SORT", "l", "GET", "h_*->") == .array([.null, .null, .null, .null]))
    // A hash read as a plain key, and a string read as a hash, are missing.
    #expect(h.run("SORT", "l", "GET", "h_*") == .array([.null, .null, .null, .null]))
    #expect(h.run("SORT", "l", "GET", "w_*->f") == .array([.null, .null, .null, .null]))
    #expect(h.run("SORT", "l", "BY", "nosort") == .strings(["3", "1", "2", "10"]))
    #expect(h.run("SORT", "l", "BY", "nosort", "DESC") == .strings(["10", "2", "1", "3"]))
    #expect(h.run("SORT", "l", "BY", "nosort", "LIMIT", "1", "2") == .strings(["1", "2"]))
    #expect(h.run("SORT", "l", "BY", "nosort", "DESC", "LIMIT", "1", "2") == .strings(["2", "1"]))
    #expect(h.run("SORT", "l", "BY", "nosort", "GET", "o_*") == .array([.b("three"), .b("one"), .b("two"), .null]))
    // Missing weights sort as 0, ties broken by the element.
    #expect(h.run("SORT", "l", "BY", "nokey_*") == .strings(["1", "10", "2", "3"]))
    // ALPHA BY with missing values: missing first.
    h.run("DEL", "w_3")
    #expect(h.run("SORT", "l", "BY", "w_*", "ALPHA") == .strings(["3", "2", "1", "10"]))
    #expect(h.run("SORT", "l", "BY", "w_*", "ALPHA", "DESC") == .strings(["10", "1", "2", "3"]))
}

@Test func sortSetsAndSortedSets() {
    let h = Harness()
    h.putObject("st", FakeSeq(["5", "2", "9"]), type: .set)
    #expect(h.run("SORT", "st") == .strings(["2", "5", "9"]))
    h.putObject("z", FakeSeq(["c", "a", "b"]), type: .zset)
    #expect(h.run("SORT", "z", "ALPHA") == .strings(["a", "b", "c"]))
    #expect(h.run("SORT", "z", "BY", "nosort", "ALPHA") == .strings(["c", "a", "b"]))
    #expect(h.run("SORT", "z", "BY", "nosort", "LIMIT", "1", "1") == .strings(["a"]))
    #expect(h.run("SORT", "z", "BY", "nosort", "DESC", "LIMIT", "0", "2") == .strings(["b", "a"]))
    h.putObject("hash", FakeHash([:]), type: .hash)
    #expect(h.run("SORT", "hash") == .error("WRONGTYPE Operation against a key holding the wrong kind of value"))
}

@Test func sortStoreEmptyResultDeletesDestination() {
    let h = Harness()
    h.run("SET", "dst", "x")
    #expect(h.run("SORT", "nokey", "STORE", "dst") == .int(0))
    #expect(h.entry("dst") == nil)
}

@Test func sortStoreBuildsAList() {
    let h = sortFixture()
    h.run("SET", "dst", "x", "EX", "100")
    #expect(h.run("SORT", "l", "STORE", "dst") == .int(4))
    #expect(h.run("TYPE", "dst") == .simple("list"))
    #expect(h.run("TTL", "dst") == .int(-1))
    #expect(h.run("LRANGE", "dst", "0", "-1") == .strings(["1", "2", "3", "10"]))
    #expect(h.run("SORT", "l", "BY", "w_*", "LIMIT", "0", "2", "GET", "o_*", "STORE", "dst") == .int(2))
    #expect(h.run("LRANGE", "dst", "0", "-1") == .strings(["", "three"]))
    // An unsorted set is stored sorted (ALPHA), so the result does not depend on hash order.
    h.run("SADD", "st", "5", "2", "9", "10")
    #expect(h.run("SORT", "st", "BY", "nosort", "STORE", "dst") == .int(4))
    #expect(h.run("LRANGE", "dst", "0", "-1") == .strings(["10", "2", "5", "9"]))
    #expect(h.run("OBJECT", "ENCODING", "dst") == .b("quicklist"))
}

@Test func copyOfRealAggregatesIsDeep() {
    let h = Harness()
    h.run("RPUSH", "l", "a", "b")
    h.run("HSET", "h", "f", "v")
    h.run("SADD", "s", "1", "2")
    h.run("ZADD", "z", "1", "x")
    for k in ["l", "h", "s", "z"] { #expect(h.run("COPY", k, k + "2") == .int(1)) }
    h.run("RPUSH", "l2", "c")
    h.run("HSET", "h2", "g", "w")
    h.run("SADD", "s2", "3")
    h.run("ZADD", "z2", "2", "y")
    #expect(h.run("LLEN", "l") == .int(2))
    #expect(h.run("HLEN", "h") == .int(1))
    #expect(h.run("SCARD", "s") == .int(2))
    #expect(h.run("ZCARD", "z") == .int(1))
    #expect(h.run("OBJECT", "ENCODING", "s2") == .b("intset"))
}

@Test func writesTouchTheAccessTimeAndInspectionDoesNot() {
    let h = Harness()
    h.run("RPUSH", "l", "a")
    h.entry("l")!.lru = h.engine.lruClock &- 50
    for cmd in [["EXISTS", "l"], ["TYPE", "l"], ["TTL", "l"], ["OBJECT", "ENCODING", "l"], ["SCAN", "0"]] {
        h.run(cmd.map { Array($0.utf8) })
    }
    #expect(h.run("OBJECT", "IDLETIME", "l") == .int(50))
    h.run("RPUSH", "l", "b")
    #expect(h.run("OBJECT", "IDLETIME", "l") == .int(0))
    h.entry("l")!.lru = h.engine.lruClock &- 50
    h.run("EXPIRE", "l", "100")
    #expect(h.run("OBJECT", "IDLETIME", "l") == .int(0))
    h.entry("l")!.lru = h.engine.lruClock &- 50
    h.run("RENAME", "l", "l2")
    #expect(h.run("OBJECT", "IDLETIME", "l2") == .int(0))
}
