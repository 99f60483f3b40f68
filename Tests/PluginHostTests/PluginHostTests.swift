import CModuleABI
import Glibc
import Engine
import Testing
@testable import PluginHost

@Suite struct ModuleTypeIDTests {
    @Test func encodesNameAndVersion() throws {
        let id = try #require(moduleTypeID(name: "bloomfilt", encver: 3))
        let (name, ver) = ValueSerializer.moduleTypeName(id)
        #expect(name == "bloomfilt")
        #expect(ver == 3)
        #expect(id & 1023 == 3)
    }

    @Test func knownRedisIDs() throws {
        // "AAAAAAAAA" is all zero characters: only the version remains.
        #expect(moduleTypeID(name: "AAAAAAAAA", encver: 5) == 5)
        // '_' is the last character (63): all name bits set.
        #expect(moduleTypeID(name: "_________", encver: 0) == ((UInt64(1) << 54) - 1) << 10)
    }

    @Test func rejectsBadNames() {
        #expect(moduleTypeID(name: "short", encver: 0) == nil)
        #expect(moduleTypeID(name: "bad name!", encver: 0) == nil)
        #expect(moduleTypeID(name: "okokokoko", encver: 1024) == nil)
    }
}

@Suite struct CallFormatTests {
    @Test func argumentsAndFlags() {
        var n: Int32 = 0
        let f = tsm_call_format_flags("!3cslbvE", &n)
        #expect(n == 5)
        #expect(f & Int32(TSM_CALL_REPLICATE) != 0)
        #expect(f & Int32(TSM_CALL_RESP3) != 0)
        #expect(f & Int32(TSM_CALL_ERRORS_AS_REPLIES) != 0)
        #expect(f & Int32(TSM_CALL_NO_AOF) == 0)
    }

    @Test func unknownLetterIsRejected() {
        var n: Int32 = 0
        #expect(tsm_call_format_flags("cx", &n) & Int32(TSM_CALL_BAD_FORMAT) != 0)
    }

    @Test func apiTableLookup() {
        #expect(tsm_api_lookup("RedisModule_ReplyWithLongLong") != nil)
        #expect(tsm_api_lookup("ValkeyModule_ReplyWithLongLong") == tsm_api_lookup("RedisModule_ReplyWithLongLong"))
        #expect(tsm_api_lookup("RedisModule_NoSuchFunction") == nil)
        #expect(tsm_api_lookup("ReplyWithLongLong") == nil)
        #expect(tsm_api_count() > 200)
    }

    @Test func callReplyParsing() throws {
        let proto = "*3\r\n:1\r\n$3\r\nfoo\r\n%1\r\n+k\r\n,1.5\r\n"
        let r = try #require(proto.withCString { tsm_callreply_parse(nil, $0, strlen($0)) })
        defer { tsm_callreply_free(r) }
        #expect(r.pointee.type == 3)
        #expect(r.pointee.len == 3)
        #expect(r.pointee.elements[0].integer == 1)
        #expect(r.pointee.elements[1].len == 3)
        #expect(r.pointee.elements[2].type == 5)
        #expect(r.pointee.elements[2].elements[1].dval == 1.5)
        #expect(r.pointee.protolen == proto.utf8.count)
    }
}
