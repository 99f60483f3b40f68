import Testing
import Glibc
import RESP
@testable import Engine
@testable import Persistence
import EngineTestSupport

/// The durability rule of a loop round (Engine/ShardInterface.swift): with
/// appendfsync always, a write's reply may leave only once the write is in
/// the AOF and fsynced. The loop runs the commands of a round, then every
/// stage's beforeReplies, then writes replies; these tests drive the same
/// steps through the interface, with no loop and no sockets.
@Suite("AOF stage before replies", .serialized)
struct AOFStageTests {
    final class Shard {
        let dir: String
        let engine: ShardEngine
        let persistence: Persistence
        let host = RecordingHost()
        let client: Client

        init() throws {
            dir = "/tmp/tessera-aof-stage-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            #expect(mkdir(dir, 0o700) == 0)
            let config = Config()
            try ConfigFile.apply("appendonly yes\nappendfsync always\nsave \"\"\nappenddirname \(dir)/aof\n",
                                 to: config, file: "test")
            engine = ShardEngine(config: config)
            engine.host = host
            persistence = Persistence(engine: engine)
            #expect(persistence.loadAtStartup())
            client = engine.createClient(reply: ReplyEncoder())
        }

        deinit { _ = system("rm -rf '\(dir)'") }

        /// Step 2 of a round: the command runs; its reply waits in the client's buffer.
        func run(_ args: String...) -> String { EngineTestSupport.run(client, arguments: args) }

        /// Step 4: every stage's work before replies leave.
        func beforeReplies() { for stage in engine.stages.beforeReplies { stage.beforeReplies() } }

        /// What the AOF's current incr file holds.
        var incrFile: String {
            let name = persistence.aof.manifest.incrs.last!.name
            guard let bytes = try? FileIO.readFile(persistence.aof.path(name)) else { return "" }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    static let setCommand = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"

    @Test func theWriteReachesTheFileInTheStageNotBefore() throws {
        let shard = try Shard()
        let before = shard.incrFile
        #expect(shard.run("SET", "k", "v") == "+OK\r\n")
        #expect(shard.incrFile == before, "nothing may reach the file while the round's commands run")
        shard.beforeReplies()
        #expect(shard.incrFile.hasSuffix(Self.setCommand))
        #expect(!shard.client.replyHeld, "written and fsynced: the reply may leave")
    }

    @Test func aFailedWriteHoldsTheReplyUntilTheAOFRecovers() throws {
        let shard = try Shard()
        let aof = shard.persistence.aof
        let file = aof.fd
        let full = open("/dev/full", O_WRONLY)   // every write fails with ENOSPC
        try #require(full >= 0)
        aof.fd = full
        #expect(shard.run("SET", "k", "v") == "+OK\r\n")
        shard.beforeReplies()
        #expect(shard.client.replyHeld, "the write is not on disk: the reply must wait")
        #expect(shard.engine.diskErrors.aofFailure?.hasPrefix("MISCONF") == true)
        #expect(shard.host.withOutput.isEmpty)
        #expect(shard.run("SET", "k2", "v2").hasPrefix("-MISCONF"))

        // The disk is back: the cron's retry writes, fsyncs and releases the reply.
        aof.fd = file
        close(full)
        shard.persistence.cron()
        #expect(!shard.client.replyHeld)
        #expect(shard.host.withOutput == [shard.client.id])
        #expect(shard.incrFile.hasSuffix(Self.setCommand))
        #expect(shard.engine.diskErrors.aofFailure == nil)
    }

    @Test func onlyClientsThatWroteAreHeld() throws {
        let shard = try Shard()
        let reader = shard.engine.createClient(reply: ReplyEncoder())
        let aof = shard.persistence.aof
        let file = aof.fd
        let full = open("/dev/full", O_WRONLY)
        try #require(full >= 0)
        aof.fd = full
        #expect(shard.run("SET", "k", "v") == "+OK\r\n")
        shard.beforeReplies()
        #expect(shard.client.replyHeld)
        #expect(!reader.replyHeld)
        aof.fd = file
        close(full)
        shard.persistence.cron()
        #expect(!shard.client.replyHeld)
    }
}
