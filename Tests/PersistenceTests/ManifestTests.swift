import Testing
@testable import Persistence

@Suite struct ManifestTests {
    @Test func parsesRedisManifest() throws {
        let text = """
        file appendonly.aof.3.base.rdb seq 3 type b
        file appendonly.aof.2.incr.aof seq 2 type h
        file appendonly.aof.5.incr.aof seq 5 type i
        file appendonly.aof.6.incr.aof seq 6 type i

        """
        let m = try AOFManifest.parse(text)
        #expect(m.base?.name == "appendonly.aof.3.base.rdb")
        #expect(m.incrs.map(\.seq) == [5, 6])
        #expect(m.history.count == 1)
        #expect(m.baseSeq == 3 && m.incrSeq == 6)
    }

    @Test func roundTripsAndQuotesNames() throws {
        var m = AOFManifest()
        _ = m.newBase(prefix: "my file", rdb: true)
        _ = m.newIncr(prefix: "my file")
        let again = try AOFManifest.parse(m.text)
        #expect(again == m)
        #expect(m.text.contains("\"my file.1.base.rdb\""))
    }

    @Test func rejectsBadManifests() {
        #expect(throws: AOFManifest.ParseError.self) { try AOFManifest.parse("file a seq 1\n") }
        #expect(throws: AOFManifest.ParseError.self) {
            try AOFManifest.parse("file a seq 1 type b\nfile b seq 2 type b\n")
        }
        #expect(throws: AOFManifest.ParseError.self) {
            try AOFManifest.parse("file a seq 2 type i\nfile b seq 1 type i\n")
        }
    }

    @Test func rewriteRetiresOldIncrs() {
        var m = AOFManifest()
        _ = m.newBase(prefix: "a", rdb: true)
        _ = m.newIncr(prefix: "a")
        _ = m.newIncr(prefix: "a")
        _ = m.newBase(prefix: "a", rdb: true)
        m.retireIncrsBeforeLast()
        #expect(m.incrs.map(\.name) == ["a.2.incr.aof"])
        #expect(Set(m.history.map(\.name)) == ["a.1.base.rdb", "a.1.incr.aof"])
    }
}
