// cell: a rate limiter plugin written in Swift, exporting the same C ABI as
// C plugins (RedisModule_OnLoad) and calling the server through the function
// pointers GetApi hands out.
//
//   CL.THROTTLE key max_burst count_per_period period [quantity]
//
// Generic cell rate algorithm (GCRA), with redis-cell's reply:
//   1) 0 allowed / 1 limited
//   2) the limit (max_burst + 1)
//   3) remaining requests
//   4) seconds until a retry can succeed (-1 when allowed)
//   5) seconds until the limit resets to its maximum
// The key holds the theoretical arrival time (ns) as a string, expiring
// when the bucket is full again; replicas and the AOF get a plain SET ... PX.

import Glibc

/// The API functions the plugin uses, fetched once in OnLoad.
struct API {
    var setModuleAttribs: cell_SetModuleAttribsFn? = nil
    var isModuleNameBusy: cell_IsModuleNameBusyFn? = nil
    var createCommand: cell_CreateCommandFn? = nil
    var wrongArity: cell_CtxFn? = nil
    var replyWithError: cell_ReplyWithErrorFn? = nil
    var replyWithLongLong: cell_ReplyWithLongLongFn? = nil
    var replyWithArray: cell_ReplyWithArrayFn? = nil
    var stringPtrLen: cell_StringPtrLenFn? = nil
    var stringToLongLong: cell_StringToLongLongFn? = nil
    var openKey: cell_OpenKeyFn? = nil
    var closeKey: cell_CloseKeyFn? = nil
    var keyType: cell_KeyTypeFn? = nil
    var stringDMA: cell_StringDMAFn? = nil
    var stringSet: cell_StringSetFn? = nil
    var setExpire: cell_SetExpireFn? = nil
    var createString: cell_CreateStringFn? = nil
    var freeString: cell_FreeStringFn? = nil
    var replicate: UnsafeMutableRawPointer? = nil
}

nonisolated(unsafe) var api = API()

private func fetch<T>(_ getapi: cell_GetApi, _ name: String, _ slot: inout T?) -> Bool {
    var p: UnsafeMutableRawPointer? = nil
    guard getapi("RedisModule_" + name, &p) == REDISMODULE_OK, let f = p else { return false }
    slot = unsafeBitCast(f, to: T.self)
    return true
}

private func fetchRaw(_ getapi: cell_GetApi, _ name: String) -> UnsafeMutableRawPointer? {
    var p: UnsafeMutableRawPointer? = nil
    return getapi("RedisModule_" + name, &p) == REDISMODULE_OK ? p : nil
}

@_cdecl("RedisModule_OnLoad")
public func onLoad(_ ctx: OpaquePointer?, _ argv: UnsafeMutablePointer<OpaquePointer?>?, _ argc: Int32) -> Int32 {
    guard let ctx = ctx, let getapi = cell_getapi(ctx) else { return REDISMODULE_ERR }
    var ok = fetch(getapi, "SetModuleAttribs", &api.setModuleAttribs)
    _ = fetch(getapi, "IsModuleNameBusy", &api.isModuleNameBusy)
    ok = ok && fetch(getapi, "CreateCommand", &api.createCommand)
    ok = ok && fetch(getapi, "WrongArity", &api.wrongArity)
    ok = ok && fetch(getapi, "ReplyWithError", &api.replyWithError)
    ok = ok && fetch(getapi, "ReplyWithLongLong", &api.replyWithLongLong)
    ok = ok && fetch(getapi, "ReplyWithArray", &api.replyWithArray)
    ok = ok && fetch(getapi, "StringPtrLen", &api.stringPtrLen)
    ok = ok && fetch(getapi, "StringToLongLong", &api.stringToLongLong)
    ok = ok && fetch(getapi, "OpenKey", &api.openKey)
    ok = ok && fetch(getapi, "CloseKey", &api.closeKey)
    ok = ok && fetch(getapi, "KeyType", &api.keyType)
    ok = ok && fetch(getapi, "StringDMA", &api.stringDMA)
    ok = ok && fetch(getapi, "StringSet", &api.stringSet)
    ok = ok && fetch(getapi, "SetExpire", &api.setExpire)
    ok = ok && fetch(getapi, "CreateString", &api.createString)
    ok = ok && fetch(getapi, "FreeString", &api.freeString)
    api.replicate = fetchRaw(getapi, "Replicate")
    guard ok, api.replicate != nil else { return REDISMODULE_ERR }
    if let busy = api.isModuleNameBusy, busy("cell") != 0 { return REDISMODULE_ERR }
    _ = api.setModuleAttribs!(ctx, "cell", 1, REDISMODULE_APIVER_1)
    let throttle: RedisModuleCmdFunc = { ctx, argv, argc in throttleCommand(ctx, argv, argc) }
    return api.createCommand!(ctx, "cl.throttle", throttle, "write deny-oom", 1, 1, 1)
}

private func argInt(_ s: OpaquePointer?) -> Int64? {
    var v: Int64 = 0
    return api.stringToLongLong!(s, &v) == REDISMODULE_OK ? v : nil
}

private func nowNs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// Whole seconds, rounded up (a wait of 1.2 s is reported as 2).
private func seconds(_ ns: Int64) -> Int64 { ns <= 0 ? 0 : (ns + 999_999_999) / 1_000_000_000 }

/// The outcome of one GCRA decision.
struct Decision: Equatable {
    var limited: Bool
    var limit: Int64
    var remaining: Int64
    var retryAfterNs: Int64   // -1 when allowed
    var resetAfterNs: Int64
    var newTAT: Int64?        // to store when allowed
}

/// The GCRA decision for a bucket whose theoretical arrival time is `tat` (nil: empty).
func gcra(now: Int64, tat stored: Int64?, maxBurst: Int64, count: Int64, periodNs: Int64, quantity: Int64) -> Decision {
    let limit = maxBurst + 1
    let emission = periodNs / count
    let tolerance = emission * limit
    let increment = emission * quantity
    let tat = stored ?? now
    let newTAT = max(tat, now) + increment
    let allowAt = newTAT - tolerance
    let diff = now - allowAt
    var d = Decision(limited: false, limit: limit, remaining: 0, retryAfterNs: -1, resetAfterNs: 0, newTAT: nil)
    let ttl: Int64
    if diff < 0 {
        d.limited = true
        d.retryAfterNs = increment <= tolerance ? -diff : -1
        ttl = tat - now
    } else {
        ttl = newTAT - now
        d.newTAT = newTAT
    }
    let next = tolerance - ttl
    d.remaining = next > -emission ? max(0, next / emission) : 0
    d.resetAfterNs = max(0, ttl)
    return d
}

private func throttleCommand(_ ctx: OpaquePointer?, _ argv: UnsafeMutablePointer<OpaquePointer?>?, _ argc: Int32) -> Int32 {
    guard let argv = argv, argc == 5 || argc == 6 else { return api.wrongArity!(ctx) }
    guard let maxBurst = argInt(argv[2]), let count = argInt(argv[3]), let period = argInt(argv[4]) else {
        return api.replyWithError!(ctx, "ERR value is not an integer or out of range")
    }
    let quantity = argc == 6 ? argInt(argv[5]) : 1
    guard let qty = quantity else { return api.replyWithError!(ctx, "ERR value is not an integer or out of range") }
    guard maxBurst >= 0, count > 0, period > 0, period <= 1_000_000_000, qty >= 0 else {
        return api.replyWithError!(ctx, "ERR invalid throttle arguments (max_burst >= 0, count > 0, period > 0, quantity >= 0)")
    }
    guard let key = api.openKey!(ctx, argv[1], REDISMODULE_READ | REDISMODULE_WRITE) else {
        return api.replyWithError!(ctx, "ERR cannot open key")
    }
    defer { api.closeKey!(key) }
    var stored: Int64? = nil
    let type = api.keyType!(key)
    if type == REDISMODULE_KEYTYPE_STRING {
        var len = 0
        if let p = api.stringDMA!(key, &len, REDISMODULE_READ) {
            let s = String(decoding: UnsafeRawBufferPointer(start: p, count: len), as: UTF8.self)
            stored = Int64(s)
        }
    } else if type != REDISMODULE_KEYTYPE_EMPTY {
        return api.replyWithError!(ctx, REDISMODULE_ERRORMSG_WRONGTYPE)
    }
    let now = nowNs()
    let d = gcra(now: now, tat: stored, maxBurst: maxBurst, count: count, periodNs: period * 1_000_000_000, quantity: qty)
    if let tat = d.newTAT {
        let text = String(tat)
        let value = text.withCString { api.createString!(ctx, $0, strlen($0)) }
        _ = api.stringSet!(key, value)
        let ttlMs = max(1, (tat - now + 999_999) / 1_000_000)
        _ = api.setExpire!(key, ttlMs)
        _ = cell_replicate_set_px(api.replicate, ctx, argv[1], value, ttlMs)
        api.freeString!(ctx, value)
    }
    _ = api.replyWithArray!(ctx, 5)
    _ = api.replyWithLongLong!(ctx, d.limited ? 1 : 0)
    _ = api.replyWithLongLong!(ctx, d.limit)
    _ = api.replyWithLongLong!(ctx, d.remaining)
    _ = api.replyWithLongLong!(ctx, d.retryAfterNs < 0 ? -1 : seconds(d.retryAfterNs))
    _ = api.replyWithLongLong!(ctx, seconds(d.resetAfterNs))
    return REDISMODULE_OK
}
