import Testing
import RESP
@testable import Engine
import EngineTestSupport

/// client-output-buffer-limit as one policy (OutputLimits.swift): the shard
/// runtime and Pub/Sub both ask Server.outputLimitReached.
@Suite("Output buffer limits")
struct OutputLimitTests {
    static func engine(_ limits: String) throws -> (ShardEngine, Client) {
        let config = Config()
        try config.set("client-output-buffer-limit", limits)
        let s = ShardEngine(config: config)
        return (s, s.createClient(reply: ReplyEncoder()))
    }

    @Test func limitsAreParsedOncePerClass() throws {
        let (s, _) = try Self.engine("normal 1000 500 2 pubsub 300 0 0")
        let l = s.config.outputBufferLimits
        #expect(l[ClientClass.normal.rawValue].hard == 1000 && l[ClientClass.normal.rawValue].soft == 500)
        #expect(l[ClientClass.normal.rawValue].seconds == 2)
        #expect(l[ClientClass.pubsub.rawValue].hard == 300 && l[ClientClass.pubsub.rawValue].soft == 0)
        #expect(l[ClientClass.replica.rawValue].hard == 268_435_456)
    }

    @Test func hardLimitIsReachedAtOnce() throws {
        let (s, c) = try Self.engine("normal 1000 0 0")
        c.reply.out.append([UInt8](repeating: 65, count: 999))
        #expect(!s.outputLimitReached(c))
        c.reply.out.append(66)
        #expect(s.outputLimitReached(c))
    }

    @Test func softLimitNeedsItsSecondsAndResetsBelowIt() throws {
        let (s, c) = try Self.engine("normal 0 100 1")
        c.reply.out.append([UInt8](repeating: 65, count: 200))
        s.updateClock()
        #expect(!s.outputLimitReached(c))            // the clock starts
        #expect(c.obufSoftLimitSince != 0)
        c.obufSoftLimitSince -= 2_500                  // 2.5 s over the soft limit
        #expect(s.outputLimitReached(c))
        c.reply.out.truncate(to: c.reply.out.readIndex + 10)
        #expect(!s.outputLimitReached(c))
        #expect(c.obufSoftLimitSince == 0)             // below it: the clock stops
    }

    @Test func noLimitsNeverClose() throws {
        let (s, c) = try Self.engine("normal 0 0 0")
        c.reply.out.append([UInt8](repeating: 65, count: 1 << 20))
        #expect(!s.outputLimitReached(c))
    }

    @Test func closingCountsAndMarksTheClient() throws {
        let (s, c) = try Self.engine("normal 10 0 0")
        let host = RecordingHost()
        s.host = host
        let before = s.stats.outputBufferLimitDisconnections
        s.closeForOutputLimit(c)
        #expect(c.closeASAP)
        #expect(s.stats.outputBufferLimitDisconnections == before + 1)
        #expect(host.closing == [c.id])
    }
}
