// ReplyWith* and friends: replies go to the context's client (none: dropped,
// as for Redis contexts without a client).

import CModuleABI
import Engine
import Glibc
import RESP

typealias Ctx = UnsafeMutablePointer<RedisModuleCtx>
typealias RMString = UnsafeMutablePointer<RedisModuleString>

@inline(__always) private func target(_ ctx: Ctx?) -> Client? { ctxClient(ctx) }

private func pushPostponed(_ ctx: Ctx, _ mark: Int, _ kind: Int32) {
    let i = Int(ctx.pointee.postponed_count)
    guard i < Int(TSM_MAX_POSTPONED) else { return }
    withUnsafeMutablePointer(to: &ctx.pointee.postponed) {
        $0.withMemoryRebound(to: Int.self, capacity: Int(TSM_MAX_POSTPONED)) { $0[i] = mark }
    }
    withUnsafeMutablePointer(to: &ctx.pointee.postponed_kind) {
        $0.withMemoryRebound(to: Int32.self, capacity: Int(TSM_MAX_POSTPONED)) { $0[i] = kind }
    }
    ctx.pointee.postponed_count += 1
}

private func setPostponed(_ ctx: Ctx?, _ n: Int, _ kind: Int32) {
    guard let ctx = ctx, let c = target(ctx), ctx.pointee.postponed_count > 0 else { return }
    // The latest postponed aggregate of this kind.
    var i = Int(ctx.pointee.postponed_count) - 1
    var found = -1
    withUnsafePointer(to: &ctx.pointee.postponed_kind) {
        $0.withMemoryRebound(to: Int32.self, capacity: Int(TSM_MAX_POSTPONED)) { kinds in
            while i >= 0 { if kinds[i] == kind { found = i; break }; i -= 1 }
        }
    }
    guard found >= 0 else { return }
    let mark = withUnsafeMutablePointer(to: &ctx.pointee.postponed) {
        $0.withMemoryRebound(to: Int.self, capacity: Int(TSM_MAX_POSTPONED)) { p -> Int in
            let m = p[found]
            // Close the gap in the stack.
            var j = found
            while j < Int(ctx.pointee.postponed_count) - 1 { p[j] = p[j + 1]; j += 1 }
            return m
        }
    }
    withUnsafeMutablePointer(to: &ctx.pointee.postponed_kind) {
        $0.withMemoryRebound(to: Int32.self, capacity: Int(TSM_MAX_POSTPONED)) { p in
            var j = found
            while j < Int(ctx.pointee.postponed_count) - 1 { p[j] = p[j + 1]; j += 1 }
        }
    }
    ctx.pointee.postponed_count -= 1
    let k: ReplyEncoder.AggregateKind = kind == 1 ? .map : (kind == 2 ? .set : .array)
    let before = c.reply.out.writeIndex
    c.reply.setDeferredLength(mark, n, kind: k)
    shiftPostponed(ctx, after: mark, by: c.reply.out.writeIndex - before)
}

/// Marks after an inserted header move by its length.
func shiftPostponed(_ ctx: Ctx, after mark: Int, by delta: Int) {
    let n = Int(ctx.pointee.postponed_count)
    withUnsafeMutablePointer(to: &ctx.pointee.postponed) {
        $0.withMemoryRebound(to: Int.self, capacity: Int(TSM_MAX_POSTPONED)) { p in
            for j in 0..<n where p[j] >= mark { p[j] += delta }
        }
    }
}

private func aggregate(_ ctx: Ctx?, _ len: Int, _ kind: Int32) -> Int32 {
    guard let ctx = ctx, let c = target(ctx) else { return TSM_OK }
    if len == -1 {
        pushPostponed(ctx, c.reply.deferLength(), kind)
        return TSM_OK
    }
    switch kind {
    case 1: c.reply.map(len)
    case 2: c.reply.set(len)
    default: c.reply.array(len)
    }
    return TSM_OK
}

@_cdecl("RMX_WrongArity")
func RMX_WrongArity(_ ctx: Ctx?) -> Int32 {
    guard let c = target(ctx) else { return TSM_OK }
    c.error("ERR wrong number of arguments for '\(String(decoding: c.args[0], as: UTF8.self).lowercased())' command")
    return TSM_OK
}

@_cdecl("RMX_ReplyWithLongLong")
func RMX_ReplyWithLongLong(_ ctx: Ctx?, _ v: Int64) -> Int32 { target(ctx)?.reply.integer(v); return TSM_OK }

@_cdecl("RMX_ReplyWithError")
func RMX_ReplyWithError(_ ctx: Ctx?, _ err: UnsafePointer<CChar>?) -> Int32 {
    guard let c = target(ctx) else { return TSM_OK }
    var msg = cString(err)
    // Like Redis: an error without a code gets "-ERR ".
    if msg.hasPrefix("-") { msg.removeFirst() }
    c.error(msg)
    return TSM_OK
}

@_cdecl("RMX_ReplyWithSimpleString")
func RMX_ReplyWithSimpleString(_ ctx: Ctx?, _ s: UnsafePointer<CChar>?) -> Int32 {
    target(ctx)?.reply.simple(string: cString(s)); return TSM_OK
}

@_cdecl("RMX_ReplyWithArray")
func RMX_ReplyWithArray(_ ctx: Ctx?, _ len: Int) -> Int32 { aggregate(ctx, len, 0) }
@_cdecl("RMX_ReplyWithMap")
func RMX_ReplyWithMap(_ ctx: Ctx?, _ len: Int) -> Int32 { aggregate(ctx, len, 1) }
@_cdecl("RMX_ReplyWithSet")
func RMX_ReplyWithSet(_ ctx: Ctx?, _ len: Int) -> Int32 { aggregate(ctx, len, 2) }
/// Attributes are RESP3-only and Tessera sends none: refused, as Redis does for RESP2 clients.
@_cdecl("RMX_ReplyWithAttribute")
func RMX_ReplyWithAttribute(_ ctx: Ctx?, _ len: Int) -> Int32 { TSM_ERR }

@_cdecl("RMX_ReplySetArrayLength")
func RMX_ReplySetArrayLength(_ ctx: Ctx?, _ len: Int) { setPostponed(ctx, len, 0) }
@_cdecl("RMX_ReplySetMapLength")
func RMX_ReplySetMapLength(_ ctx: Ctx?, _ len: Int) { setPostponed(ctx, len, 1) }
@_cdecl("RMX_ReplySetSetLength")
func RMX_ReplySetSetLength(_ ctx: Ctx?, _ len: Int) { setPostponed(ctx, len, 2) }
@_cdecl("RMX_ReplySetAttributeLength")
func RMX_ReplySetAttributeLength(_ ctx: Ctx?, _ len: Int) {}

@_cdecl("RMX_ReplyWithStringBuffer")
func RMX_ReplyWithStringBuffer(_ ctx: Ctx?, _ buf: UnsafePointer<CChar>?, _ len: Int) -> Int32 {
    target(ctx)?.reply.bulk(UnsafeRawBufferPointer(start: buf, count: buf == nil ? 0 : len)); return TSM_OK
}

@_cdecl("RMX_ReplyWithCString")
func RMX_ReplyWithCString(_ ctx: Ctx?, _ buf: UnsafePointer<CChar>?) -> Int32 {
    target(ctx)?.reply.bulk(UnsafeRawBufferPointer(start: buf, count: buf.map { strlen($0) } ?? 0)); return TSM_OK
}

@_cdecl("RMX_ReplyWithString")
func RMX_ReplyWithString(_ ctx: Ctx?, _ s: RMString?) -> Int32 {
    target(ctx)?.reply.bulk(stringBuffer(s)); return TSM_OK
}

@_cdecl("RMX_ReplyWithEmptyString")
func RMX_ReplyWithEmptyString(_ ctx: Ctx?) -> Int32 { target(ctx)?.reply.bulk([]); return TSM_OK }

@_cdecl("RMX_ReplyWithVerbatimStringType")
func RMX_ReplyWithVerbatimStringType(_ ctx: Ctx?, _ buf: UnsafePointer<CChar>?, _ len: Int, _ ext: UnsafePointer<CChar>?) -> Int32 {
    guard let c = target(ctx) else { return TSM_OK }
    let body = UnsafeRawBufferPointer(start: buf, count: buf == nil ? 0 : len)
    if c.reply.proto < 3 { c.reply.bulk(body); return TSM_OK }
    let format = Array(cString(ext).utf8.prefix(3))
    c.reply.out.append(string: "=\(len + 4)\r\n")
    format.withUnsafeBytes { c.reply.out.append($0.baseAddress!, $0.count) }
    c.reply.out.append(string: ":")
    if len > 0 { c.reply.out.append(body.baseAddress!, len) }
    c.reply.out.append(string: "\r\n")
    return TSM_OK
}

@_cdecl("RMX_ReplyWithVerbatimString")
func RMX_ReplyWithVerbatimString(_ ctx: Ctx?, _ buf: UnsafePointer<CChar>?, _ len: Int) -> Int32 {
    "txt".withCString { RMX_ReplyWithVerbatimStringType(ctx, buf, len, $0) }
}

@_cdecl("RMX_ReplyWithNull")
func RMX_ReplyWithNull(_ ctx: Ctx?) -> Int32 { target(ctx)?.reply.null(); return TSM_OK }
@_cdecl("RMX_ReplyWithNullArray")
func RMX_ReplyWithNullArray(_ ctx: Ctx?) -> Int32 { target(ctx)?.reply.nullArray(); return TSM_OK }
@_cdecl("RMX_ReplyWithEmptyArray")
func RMX_ReplyWithEmptyArray(_ ctx: Ctx?) -> Int32 { target(ctx)?.reply.array(0); return TSM_OK }
@_cdecl("RMX_ReplyWithBool")
func RMX_ReplyWithBool(_ ctx: Ctx?, _ b: Int32) -> Int32 { target(ctx)?.reply.bool(b != 0); return TSM_OK }
@_cdecl("RMX_ReplyWithDouble")
func RMX_ReplyWithDouble(_ ctx: Ctx?, _ d: Double) -> Int32 { target(ctx)?.reply.double(d); return TSM_OK }

@_cdecl("RMX_ReplyWithBigNumber")
func RMX_ReplyWithBigNumber(_ ctx: Ctx?, _ buf: UnsafePointer<CChar>?, _ len: Int) -> Int32 {
    guard let c = target(ctx) else { return TSM_OK }
    let s = String(decoding: UnsafeRawBufferPointer(start: buf, count: buf == nil ? 0 : len), as: UTF8.self)
    c.reply.bigNumber(s)
    return TSM_OK
}

/// long double arrives as x87 80-bit: a C shim converts it (tsm_ld_format).
@_cdecl("RMX_ReplyWithLongDouble")
func RMX_ReplyWithLongDouble(_ ctx: Ctx?, _ ld: Float80) -> Int32 {
    guard let c = target(ctx) else { return TSM_OK }
    // Redis replies a human-friendly decimal as a bulk string.
    let s = RM_CreateStringFromLongDouble(nil, ld, 1)
    c.reply.bulk(stringBuffer(s))
    tsm_string_release(s)
    return TSM_OK
}

@_cdecl("RMX_ReplyWithCallReply")
func RMX_ReplyWithCallReply(_ ctx: Ctx?, _ r: UnsafeMutablePointer<RedisModuleCallReply>?) -> Int32 {
    guard let c = target(ctx), let r = r, let proto = r.pointee.proto else { return TSM_OK }
    c.reply.out.append(UnsafeRawPointer(proto), r.pointee.protolen)
    return TSM_OK
}
