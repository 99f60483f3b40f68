// SLOWLOG entry truncation, the latency histogram against a naive model,
// the latency monitor's series, CLIENT KILL filter parsing.

import Foundation
import Testing
import RESP
@testable import Engine
import EngineTestSupport

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

private func truncated(_ args: [[UInt8]], redacted: Set<Int> = []) -> [String] {
    SlowLog.truncatedArguments(count: args.count, redacted: { redacted.contains($0) }) { i in
        args[i].withUnsafeBytes { UnsafeRawBufferPointer(start: $0.baseAddress, count: $0.count) }
    }.map { String(decoding: $0, as: UTF8.self) }
}

@Suite struct SlowLogTests {
    @Test func shortCommandsAreKeptAsIs() {
        #expect(truncated([bytes("set"), bytes("k"), bytes("v")]) == ["set", "k", "v"])
    }

    @Test func moreThan32ArgumentsKeep31AndCountTheRest() {
        let args = [bytes("sadd"), bytes("set")] + (3...33).map { bytes(String($0)) }  // 33 args
        let t = truncated(args)
        #expect(t.count == 32)
        #expect(t[30] == "31")
        #expect(t[31] == "... (2 more arguments)")
        let exactly32 = Array(args.prefix(32))
        #expect(truncated(exactly32) == exactly32.map { String(decoding: $0, as: UTF8.self) })
    }

    @Test func longArgumentsAreCutAt128Bytes() {
        let long = [UInt8](repeating: 65, count: 129)
        let t = truncated([bytes("sadd"), bytes("set"), bytes("foo"), long])
        #expect(t[3] == String(repeating: "A", count: 128) + "... (1 more bytes)")
        let exact = [UInt8](repeating: 66, count: 128)
        #expect(truncated([exact])[0].utf8.count == 128)
    }

    @Test func redactedArgumentsAreHidden() {
        #expect(truncated([bytes("auth"), bytes("user"), bytes("pw")], redacted: [1, 2]) == ["auth", "(redacted)", "(redacted)"])
    }

    @Test func logKeepsTheNewestEntries() {
        let log = SlowLog()
        for i in 0..<20 {
            log.push(args: [bytes("cmd\(i)")], durationUs: Int64(i), peer: "x:1", name: [], maxLen: 5, time: 0)
        }
        #expect(log.count == 5)
        let newest = log.newest(10)
        #expect(newest.map(\.id) == [19, 18, 17, 16, 15])
        #expect(log.newest(2).count == 2)
        log.reset()
        #expect(log.count == 0)
        log.push(args: [], durationUs: 1, peer: "", name: [], maxLen: 5, time: 0)
        #expect(log.newest(1)[0].id == 20)  // ids keep growing across RESET, as in Redis
    }

    @Test func slowlogGetThroughTheDispatcher() {
        let s = ShardEngine(config: Config())
        try! s.config.set("slowlog-log-slower-than", "0")
        let c = s.createClient(reply: ReplyEncoder())
        _ = run(c, "set", "k", "v")
        let r = run(c, "slowlog", "get", "1")
        #expect(r.hasPrefix("*1\r\n*6\r\n:"))
        #expect(r.contains("$3\r\nset\r\n$1\r\nk\r\n$1\r\nv\r\n"))
        #expect(run(c, "slowlog", "get", "-2") == "-ERR count should be greater than or equal to -1\r\n")
    }
}

@Suite struct LatencyHistogramTests {
    /// What the histogram must report: the top of the sub-bucket of the value
    /// at the requested rank of the sorted samples.
    private func naivePercentile(_ sorted: [Int64], _ p: Double) -> Int64 {
        let target = max(1, Int((p / 100) * Double(sorted.count) + 0.5))
        let v = sorted[min(target, sorted.count) - 1]
        return LatencyHistogram.highestEquivalent(v)
    }

    @Test func percentilesMatchANaiveModel() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<5 {
            let h = LatencyHistogram()
            var values: [Int64] = []
            for _ in 0..<2000 {
                // Log-uniform from 1 µs to 100 ms, recorded in ns like the server does.
                let us = Int64(Foundation.pow(10.0, Double.random(in: 0...5, using: &rng)))
                values.append(us * 1000)
                h.record(nanoseconds: us * 1000)
            }
            values.sort()
            #expect(h.totalCount == 2000)
            for p in [0.1, 1, 25, 50, 75, 90, 99, 99.9, 100] {
                let got = h.value(atPercentile: p)
                #expect(got == naivePercentile(values, p), "p\(p)")
                // Two significant digits: within 1% of the exact sample.
                let exact = values[max(1, Int((p / 100) * 2000 + 0.5)) - 1]
                #expect(Double(got - exact) / Double(exact) < 0.01)
            }
        }
    }

    @Test func oneMicrosecondReportsLikeRedis() {
        let h = LatencyHistogram()
        h.record(nanoseconds: 1000)
        #expect(h.value(atPercentile: 50) == 1003)  // INFO latencystats shows p50=1.003
        #expect(h.cumulativeMicros().map { $0.0 } == [1])
    }

    @Test func cumulativeDistributionAtPowersOfTwo() {
        let h = LatencyHistogram()
        let us: [Int64] = [1, 1, 2, 3, 5, 100, 4000, 70_000]
        for u in us { h.record(nanoseconds: u * 1000) }
        let cdf = h.cumulativeMicros()
        // Each level counts every value up to the top of its sub-bucket.
        var expected: [(Int64, Int64)] = []
        var level: Int64 = 1024, prev: Int64 = 0
        while prev < Int64(us.count) {
            let top = LatencyHistogram.highestEquivalent(level)
            let n = Int64(us.filter { $0 * 1000 <= top }.count)
            if n > prev { expected.append((top / 1000, n)) }
            prev = n
            level *= 2
        }
        #expect(cdf.map { $0.0 } == expected.map { $0.0 })
        #expect(cdf.map { $0.1 } == expected.map { $0.1 })
        #expect(cdf.last!.1 == Int64(us.count))
    }

    @Test func valuesAreClampedToOneSecond() {
        let h = LatencyHistogram()
        h.record(nanoseconds: 5_000_000_000)
        h.record(nanoseconds: 0)
        #expect(h.totalCount == 2)
        #expect(h.value(atPercentile: 100) >= 1_000_000_000)
        #expect(h.value(atPercentile: 100) < 1_010_000_000)
    }
}

@Suite struct LatencyMonitorTests {
    @Test func samplesInTheSameSecondKeepTheWorst() {
        let m = LatencyMonitor()
        m.addSample("command", 10, now: 100)
        m.addSample("command", 30, now: 100)
        m.addSample("command", 20, now: 100)
        m.addSample("command", 5, now: 101)
        let h = m.series["command"]!.history
        #expect(h.map(\.ms) == [30, 5])
        #expect(m.series["command"]!.max == 30)
        #expect(m.series["command"]!.latest.ms == 5)
    }

    @Test func historyIsBoundedAndResetCounts() {
        let m = LatencyMonitor()
        for t in 1...200 { m.addSample("fork", Int64(t), now: Int64(t)) }
        #expect(m.series["fork"]!.history.count == LatencyMonitor.historyLength)
        #expect(m.series["fork"]!.history.first!.time == 41)
        m.addSample("command", 1, now: 1)
        #expect(m.reset("nope") == 0)
        #expect(m.reset("FORK") == 1)
        #expect(m.names == ["command"])
        #expect(m.reset() == 1)
    }

    @Test func analysisAndDoctorNameTheCause() {
        let s = ShardEngine(config: Config())
        try! s.config.set("latency-monitor-threshold", "10")
        s.latencyAddSample("command", 5)   // below the threshold: ignored
        #expect(s.latency.names.isEmpty)
        s.latency.addSample("command", 100, now: 1000)
        s.latency.addSample("command", 300, now: 1001)
        let a = s.latency.analyze("command", now: 1010)
        #expect(a.samples == 2 && a.avg == 200 && a.mad == 100 && a.allTimeHigh == 300 && a.period == 10)
        let report = s.latencyDoctorReport()
        #expect(report.contains("command"))
        #expect(report.contains("SLOWLOG"))
    }
}

@Suite struct ClientKillFilterTests {
    typealias F = ShardEngine.ClientKillFilter

    private func parse(_ words: String...) -> Result<F, ShardEngine.ClientKillError> {
        F.parse(words.map { Array($0.utf8) })
    }

    @Test func oldFormIsAnAddressAndDoesNotSkipTheCaller() throws {
        let f = try parse("127.0.0.1:5000").get()
        #expect(f.oldForm && f.addr == Array("127.0.0.1:5000".utf8) && !f.skipMe)
    }

    @Test func everyFilter() throws {
        let f = try parse("ID", "7", "type", "pubsub", "ADDR", "1.2.3.4:5", "laddr", "127.0.0.1:6379",
                          "user", "default", "skipme", "no").get()
        #expect(f.id == 7 && f.type == .pubsub && !f.skipMe && !f.oldForm)
        #expect(f.addr == Array("1.2.3.4:5".utf8) && f.laddr == Array("127.0.0.1:6379".utf8))
        #expect(f.user == Array("default".utf8))
        #expect(try parse("type", "replica").get().type == .replica)
        #expect(try parse("type", "slave").get().type == .replica)
        #expect(try parse("type", "master").get().type == .master)
        #expect(try parse("skipme", "yes").get().skipMe)
    }

    @Test func errorsAreRedisTexts() {
        func err(_ r: Result<F, ShardEngine.ClientKillError>) -> String? {
            if case .failure(let e) = r { return e.message } else { return nil }
        }
        #expect(err(parse("id", "10", "wrong_arg")) == "ERR syntax error")
        #expect(err(parse("id", "str")) == "ERR client-id should be greater than 0")
        #expect(err(parse("id", "0")) == "ERR client-id should be greater than 0")
        #expect(err(parse("id", "-1")) == "ERR client-id should be greater than 0")
        #expect(err(parse("type", "wrong_type")) == "ERR Unknown client type 'wrong_type'")
        #expect(err(parse("user", "wrong_user")) == "ERR No such user 'wrong_user'")
        #expect(err(parse("skipme", "yes_or_no")) == "ERR syntax error")
        #expect(err(parse("bogus", "1")) == "ERR syntax error")
    }
}
