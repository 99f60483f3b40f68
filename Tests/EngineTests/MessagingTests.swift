// Pub/Sub, keyspace notifications and the blocking registry: the parts that
// need no sockets (flag parsing, channel globbing, delivery into reply
// buffers, FIFO service, timeouts, propagation of served pops).

import Testing
import RESP
@testable import Engine
import EngineTestSupport

private func makeServer() -> ShardEngine { ShardEngine(config: Config()) }
private func newClient(_ s: ShardEngine) -> Client { s.createClient(reply: ReplyEncoder()) }

/// Takes (and clears) what a client has in its reply buffer.
private func drain(_ c: Client) -> String {
    let out = c.reply.out
    let s = String(decoding: UnsafeRawBufferPointer(start: out.base + out.readIndex, count: out.readableBytes),
                   as: UTF8.self)
    out.readIndex = 0
    out.writeIndex = 0
    return s
}

@Suite struct NotifyFlagTests {
    @Test func parsesEveryClass() {
        let pairs: [(String, Int32)] = [
            ("K", KeyspaceEvents.keyspace), ("E", KeyspaceEvents.keyevent), ("g", KeyspaceEvents.generic),
            ("$", KeyspaceEvents.string), ("l", KeyspaceEvents.list), ("s", KeyspaceEvents.set),
            ("h", KeyspaceEvents.hash), ("z", KeyspaceEvents.zset), ("x", KeyspaceEvents.expired),
            ("e", KeyspaceEvents.evicted), ("t", KeyspaceEvents.stream), ("m", KeyspaceEvents.keyMiss),
            ("d", KeyspaceEvents.module), ("n", KeyspaceEvents.new),
        ]
        for (ch, bit) in pairs { #expect(KeyspaceEvents.flags(ch) == bit, "\(ch)") }
        #expect(KeyspaceEvents.flags("") == 0)
        #expect(KeyspaceEvents.flags("A") == KeyspaceEvents.all)
        #expect(KeyspaceEvents.flags("A")! & KeyspaceEvents.keyMiss == 0)
        #expect(KeyspaceEvents.flags("A")! & KeyspaceEvents.new == 0)
        #expect(KeyspaceEvents.flags("KEq") == nil)
        #expect(KeyspaceEvents.flags("k") == nil)
    }

    @Test func canonicalStringMatchesRedis() {
        let cases: [(String, String)] = [
            ("KEA", "AKE"), ("gKE", "gKE"), ("$lshzxeKE", "$lshzxeKE"), ("KA", "AK"), ("EA", "AE"),
            ("AKEnm", "AKEm"), ("Kn", "nK"), ("g$lshzxetd", "A"), ("mEK", "KEm"), ("dtx", "xtd"), ("", ""),
        ]
        for (given, shown) in cases {
            #expect(KeyspaceEvents.string(KeyspaceEvents.flags(given)!) == shown, "\(given)")
        }
    }

    @Test func configKeepsNewClassButShowsRedisForm() throws {
        let cfg = Config()
        try cfg.set("notify-keyspace-events", "AEn", runtime: true)
        #expect(cfg.get("notify-keyspace-events") == "AE")
        #expect(cfg.notifyFlags & KeyspaceEvents.new != 0)
        #expect(throws: ConfigError.self) { try cfg.set("notify-keyspace-events", "Z", runtime: true) }
    }

    @Test func eventsReachSubscribersOnlyForEnabledClasses() throws {
        let s = makeServer()
        let sub = newClient(s), w = newClient(s)
        _ = run(sub, "PSUBSCRIBE", "__key*")
        _ = drain(sub)
        _ = run(w, "SET", "k", "v")
        #expect(drain(sub).isEmpty)
        try s.config.set("notify-keyspace-events", "El", runtime: true)
        _ = run(w, "SET", "k", "v")
        _ = run(w, "RPUSH", "l", "a")
        #expect(drain(sub) == "*4\r\n$8\r\npmessage\r\n$6\r\n__key*\r\n$20\r\n__keyevent@0__:rpush\r\n$1\r\nl\r\n")
    }
}

@Suite struct PubSubTests {
    @Test func channelGlobbing() {
        func m(_ p: String, _ s: String) -> Bool { globMatch(Array(p.utf8), Array(s.utf8)) }
        #expect(m("news.*", "news.tech"))
        #expect(!m("news.*", "new.tech"))
        #expect(m("h?llo", "hello") && m("h?llo", "hallo") && !m("h?llo", "hllo"))
        #expect(m("h[ae]llo", "hello") && !m("h[ae]llo", "hillo"))
        #expect(m("h[^e]llo", "hallo") && !m("h[^e]llo", "hello"))
        #expect(m("h[a-b]llo", "hbllo") && !m("h[a-b]llo", "hcllo"))
        #expect(m("x\\*y", "x*y") && !m("x\\*y", "xzy"))
        #expect(!m("*", "") && m("*", "__keyspace@0__:foo"))  // as Redis: "*" needs a character
        #expect(m("__keyevent@*__:set", "__keyevent@12__:set"))
    }

    @Test func publishCountsAndDeliveryOrder() {
        let s = makeServer()
        let host = RecordingHost()
        s.host = host
        let a = newClient(s), b = newClient(s), p = newClient(s), pub = newClient(s)
        #expect(run(a, "SUBSCRIBE", "ch", "other") == "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$5\r\nother\r\n:2\r\n")
        _ = run(b, "SUBSCRIBE", "ch")
        _ = run(p, "PSUBSCRIBE", "c*", "*h")
        for c in [a, b, p] { _ = drain(c) }
        #expect(run(pub, "PUBLISH", "ch", "hi") == ":4\r\n")
        #expect(drain(a) == "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n")
        #expect(drain(p).components(separatedBy: "pmessage").count == 3)
        // Every receiver is reported to the loop, which writes it this round.
        #expect(Set(host.withOutput) == Set([a.id, b.id, p.id]))
        #expect(run(pub, "PUBSUB", "NUMPAT") == ":2\r\n")
        s.removeClient(a)
        #expect(run(pub, "PUBSUB", "NUMSUB", "ch", "other") == "*4\r\n$2\r\nch\r\n:1\r\n$5\r\nother\r\n:0\r\n")
    }

    @Test func subscribedModeAndReset() {
        let s = makeServer()
        let c = newClient(s)
        _ = run(c, "SUBSCRIBE", "x")
        #expect(c.inPubSub)
        #expect(run(c, "GET", "k").hasPrefix("-ERR Can't execute 'get': only (P|S)SUBSCRIBE"))
        #expect(run(c, "PING") == "*2\r\n$4\r\npong\r\n$0\r\n\r\n")
        #expect(run(c, "RESET") == "+RESET\r\n")
        #expect(!c.inPubSub)
        #expect(run(c, "PUBSUB", "NUMSUB", "x") == "*2\r\n$1\r\nx\r\n:0\r\n")
    }

    @Test func hardOutputLimitClosesSubscriber() throws {
        let s = makeServer()
        try s.config.set("client-output-buffer-limit", "pubsub 1000 0 0", runtime: true)
        let sub = newClient(s), pub = newClient(s)
        _ = run(sub, "SUBSCRIBE", "ch")
        let big = String(repeating: "x", count: 600)
        #expect(run(pub, "PUBLISH", "ch", big) == ":1\r\n")
        #expect(!sub.closeASAP)
        #expect(run(pub, "PUBLISH", "ch", big) == ":1\r\n")
        #expect(sub.closeASAP)
        #expect(s.stats.outputBufferLimitDisconnections == 1)
        // A client being closed receives nothing more.
        #expect(run(pub, "PUBLISH", "ch", big) == ":0\r\n")
    }
}

@Suite struct BlockingTests {
    @Test func fifoServiceAcrossManyClients() {
        let s = makeServer()
        let host = RecordingHost()
        s.host = host
        let pusher = newClient(s)
        var waiters: [Client] = []
        for _ in 0..<50 {
            let c = newClient(s)
            #expect(run(c, "BLPOP", "q", "0") == "")
            waiters.append(c)
        }
        #expect(s.blockedClientCount == 50)
        var args = ["RPUSH", "q"]
        for i in 0..<50 { args.append(String(i)) }
        var bytes: [UInt8] = [], spans: [ArgSpan] = []
        for a in args { spans.append(ArgSpan(offset: bytes.count, count: a.utf8.count)); bytes += Array(a.utf8) }
        bytes.withUnsafeBytes { raw in
            spans.withUnsafeBufferPointer { sp in
                pusher.args = Args(base: raw.baseAddress!, spans: sp)
                s.execute(pusher)
            }
        }
        for (i, c) in waiters.enumerated() {
            let v = String(i)
            #expect(drain(c) == "*2\r\n$1\r\nq\r\n$\(v.utf8.count)\r\n\(v)\r\n")
        }
        #expect(s.blockedClientCount == 0)
        #expect(host.unblocked.count == 50)
    }

    @Test func wrongTypeKeepsWaitingAndMultiWakesAfterExec() {
        let s = makeServer()
        let w = newClient(s), o = newClient(s)
        _ = run(w, "BLPOP", "k", "0")
        _ = run(o, "SET", "k", "str")
        #expect(s.blockedClientCount == 1)
        _ = run(o, "DEL", "k")
        _ = run(o, "MULTI")
        _ = run(o, "LPUSH", "k", "a")
        _ = run(o, "LPUSH", "k", "b")
        #expect(s.blockedClientCount == 1)
        _ = run(o, "EXEC")
        #expect(drain(w) == "*2\r\n$1\r\nk\r\n$1\r\nb\r\n")
        #expect(s.blockedClientCount == 0)
    }

    @Test func insideExecTimesOutAtOnce() {
        let s = makeServer()
        let c = newClient(s)
        _ = run(c, "MULTI")
        _ = run(c, "BLPOP", "none", "0")
        _ = run(c, "BLMOVE", "none", "d", "LEFT", "LEFT", "0")
        #expect(run(c, "EXEC") == "*2\r\n*-1\r\n$-1\r\n")
        #expect(s.blockedClientCount == 0)
    }

    @Test func timeoutsAndUnblock() {
        let s = makeServer()
        let a = newClient(s), b = newClient(s), admin = newClient(s)
        _ = run(a, "BLPOP", "k", "0.01")
        _ = run(b, "BZPOPMIN", "z", "0")
        #expect(s.nextBlockedDeadline != nil)
        var spins = 0
        while s.blockedClientCount == 2 && spins < 1000 { s.handleBlockedClientsTimeout(); spins += 1; usleepMs(1) }
        #expect(drain(a) == "*-1\r\n")
        #expect(s.nextBlockedDeadline == nil)
        #expect(run(admin, "CLIENT", "UNBLOCK", String(b.id), "ERROR") == ":1\r\n")
        #expect(drain(b) == "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n")
        #expect(run(admin, "CLIENT", "UNBLOCK", String(b.id)) == ":0\r\n")
    }

    @Test func disconnectCleansUp() {
        let s = makeServer()
        let a = newClient(s), o = newClient(s)
        _ = run(a, "BRPOP", "k1", "k2", "0")
        #expect(s.blockingKeyCount == 2)
        s.removeClient(a)
        #expect(s.blockedClientCount == 0 && s.blockingKeyCount == 0)
        #expect(run(o, "RPUSH", "k1", "x") == ":1\r\n")
        #expect(run(o, "LLEN", "k1") == ":1\r\n")
    }

    @Test func servedPopsPropagateAsNonBlockingForms() {
        let s = makeServer()
        var log: [String] = []
        let stream = RecordingStream { p in log.append(p.argv.map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ")) }
        s.writeStream.add(stream)
        let w = newClient(s), m = newClient(s), o = newClient(s)
        _ = run(w, "BLPOP", "k", "0")
        _ = run(m, "BLMOVE", "src", "dst", "RIGHT", "LEFT", "0")
        _ = run(o, "RPUSH", "k", "a", "b")
        _ = run(o, "RPUSH", "src", "x")
        _ = run(o, "ZADD", "z", "1", "m", "2", "n")
        _ = run(o, "BZMPOP", "0", "1", "z", "MAX", "COUNT", "5")
        _ = run(o, "BRPOP", "k", "0")
        #expect(log == ["RPUSH k a b", "LPOP k", "RPUSH src x", "LMOVE src dst RIGHT LEFT",
                        "ZADD z 1 m 2 n", "ZPOPMAX z 2", "RPOP k"])
    }
}

private func usleepMs(_ ms: Int) {
    let deadline = ShardEngine.wallClockUs() + Int64(ms) * 1000
    while ShardEngine.wallClockUs() < deadline {}
}
