// Smaller API families: database-wide calls, Pub/Sub, client names and
// information, LRU/LFU, memory, and calls Tessera accepts without effect
// (Yield, blocked-client time measurement, server-event support queries).

import CModuleABI
import Engine
import Glibc

@_cdecl("RMX_SignalModifiedKey")
func RMX_SignalModifiedKey(_ ctx: Ctx?, _ key: RMString?) -> Int32 {
    ctxHost(ctx).engine.signalModifiedKey(ctxDatabase(ctx), stringBytes(key))
    return TSM_OK
}

@_cdecl("RMX_DbSize")
func RMX_DbSize(_ ctx: Ctx?) -> UInt64 { UInt64(ctxDatabase(ctx).count) }

@_cdecl("RMX_RandomKey")
func RMX_RandomKey(_ ctx: Ctx?) -> RMString? {
    let s = ctxHost(ctx).engine
    let db = ctxDatabase(ctx)
    for _ in 0..<16 {
        guard let e = db.randomEntry() else { return nil }
        let key = e.keyBytes
        if key.withUnsafeBytes({ s.exists(db, $0) }) { return newString(ctx, key) }
    }
    return nil
}

@_cdecl("RMX_ResetDataset")
func RMX_ResetDataset(_ restartAOF: Int32, _ async: Int32) {
    PluginHost.ofProcess.engine.flushAll(async: async != 0)
}

@_cdecl("RMX_PublishMessage")
func RMX_PublishMessage(_ ctx: Ctx?, _ channel: RMString?, _ message: RMString?) -> Int32 {
    Int32(ctxHost(ctx).engine.publish(stringBuffer(channel), stringBuffer(message)))
}

@_cdecl("RMX_PublishMessageShard")
func RMX_PublishMessageShard(_ ctx: Ctx?, _ channel: RMString?, _ message: RMString?) -> Int32 {
    Int32(ctxHost(ctx).engine.publish(stringBuffer(channel), stringBuffer(message), shard: true))
}

private func client(_ id: UInt64) -> Client? { PluginHost.ofProcess.engine.clients[Int64(bitPattern: id)] }

@_cdecl("RMX_GetClientNameById")
func RMX_GetClientNameById(_ ctx: Ctx?, _ id: UInt64) -> RMString? {
    guard let c = client(id), let name = c.name else { errno = ENOENT; return nil }
    return newString(ctx, name)
}

@_cdecl("RMX_SetClientNameById")
func RMX_SetClientNameById(_ id: UInt64, _ name: RMString?) -> Int32 {
    guard let c = client(id) else { errno = ENOENT; return TSM_ERR }
    let n = stringBytes(name)
    if n.contains(where: { $0 <= 32 || $0 > 126 }) { errno = EINVAL; return TSM_ERR }
    c.name = n.isEmpty ? nil : n
    return TSM_OK
}

/// RedisModuleClientInfoV1: version, flags, id, addr[46], port, db.
@_cdecl("RMX_GetClientInfoById")
func RMX_GetClientInfoById(_ ci: UnsafeMutableRawPointer?, _ id: UInt64) -> Int32 {
    guard let c = client(id) else { return TSM_ERR }
    guard let ci = ci else { return TSM_OK }
    guard ci.load(as: UInt64.self) == 1 else { return TSM_ERR }
    var flags: UInt64 = 0
    if c.inPubSub { flags |= 1 << 1 }
    if c.blocked != nil { flags |= 1 << 2 }
    if c.isUnixSocket { flags |= 1 << 4 }
    if c.inMulti { flags |= 1 << 5 }
    ci.storeBytes(of: flags, toByteOffset: 8, as: UInt64.self)
    ci.storeBytes(of: UInt64(c.id), toByteOffset: 16, as: UInt64.self)
    var host = c.addr, port: UInt16 = 0
    if let colon = c.addr.lastIndex(of: ":") {
        host = String(c.addr[..<colon])
        port = UInt16(c.addr[c.addr.index(after: colon)...]) ?? 0
    }
    let bytes = Array(host.utf8.prefix(45)) + [0]
    for (i, b) in bytes.enumerated() { ci.storeBytes(of: b, toByteOffset: 24 + i, as: UInt8.self) }
    ci.storeBytes(of: port, toByteOffset: 70, as: UInt16.self)
    ci.storeBytes(of: UInt16(c.dbIndex), toByteOffset: 72, as: UInt16.self)
    return TSM_OK
}

@_cdecl("RMX_GetCurrentCommandName")
func RMX_GetCurrentCommandName(_ ctx: Ctx?) -> UnsafePointer<CChar>? {
    guard let c = ctxClient(ctx), let cmd = c.lastCommand else { return nil }
    return ctxHost(ctx).cachedCString(cmd.fullName)
}

@_cdecl("RMX_GetLRU")
func RMX_GetLRU(_ p: UnsafeMutableRawPointer?, _ idle: UnsafeMutablePointer<Int64>?) -> Int32 {
    guard let k = pkey(p), let e = k.entry() else { return TSM_ERR }
    let s = k.engine
    if s.config.get("maxmemory-policy")?.hasSuffix("lfu") == true { idle?.pointee = -1; return TSM_OK }
    let now = s.lruClock
    let lru = e.lru & 0xFFFFFF
    let secs = now >= lru ? now - lru : (0xFFFFFF - lru + now)
    idle?.pointee = Int64(secs) * 1000
    return TSM_OK
}

@_cdecl("RMX_SetLRU")
func RMX_SetLRU(_ p: UnsafeMutableRawPointer?, _ idleMs: Int64) -> Int32 {
    guard let k = pkey(p), let e = k.entry() else { return TSM_ERR }
    if k.engine.config.get("maxmemory-policy")?.hasSuffix("lfu") == true { return TSM_ERR }
    let secs = UInt32(clamping: max(0, idleMs / 1000))
    e.lru = (k.engine.lruClock &- secs) & 0xFFFFFF
    return TSM_OK
}

@_cdecl("RMX_GetLFU")
func RMX_GetLFU(_ p: UnsafeMutableRawPointer?, _ freq: UnsafeMutablePointer<Int64>?) -> Int32 {
    guard let k = pkey(p), let e = k.entry() else { return TSM_ERR }
    freq?.pointee = k.engine.config.get("maxmemory-policy")?.hasSuffix("lfu") == true ? Int64(e.lfu) : -1
    return TSM_OK
}

@_cdecl("RMX_SetLFU")
func RMX_SetLFU(_ p: UnsafeMutableRawPointer?, _ freq: Int64) -> Int32 {
    guard let k = pkey(p), let e = k.entry(), freq >= 0, freq <= 255 else { return TSM_ERR }
    guard k.engine.config.get("maxmemory-policy")?.hasSuffix("lfu") == true else { return TSM_ERR }
    e.lfu = UInt8(freq)
    return TSM_OK
}

@_cdecl("RMX_GetUsedMemoryRatio")
func RMX_GetUsedMemoryRatio() -> Float {
    let s = PluginHost.ofProcess.engine
    let max = s.config.maxmemory
    return max > 0 ? Float(s.memory.used) / Float(max) : 0
}

@_cdecl("RMX_GetContextFlagsAll")
func RMX_GetContextFlagsAll() -> Int32 { (1 << 24) - 1 }

@_cdecl("RMX_GetKeyspaceNotificationFlagsAll")
func RMX_GetKeyspaceNotificationFlagsAll() -> Int32 { (1 << 15) - 1 }

/// RedisModuleEvent arrives by value (two 64-bit fields). Server events are not delivered: SubscribeToServerEvent is missing, so nothing is supported.
@_cdecl("RMX_IsSubEventSupported")
func RMX_IsSubEventSupported(_ eventID: UInt64, _ eventDataVer: UInt64, _ subevent: Int64) -> Int32 { 0 }

/// Plugins run on the loop: there is nothing to yield to.
@_cdecl("RMX_Yield")
func RMX_Yield(_ ctx: Ctx?, _ flags: Int32, _ busyReply: UnsafePointer<CChar>?) {}

@_cdecl("RMX_BlockedClientMeasureTimeStart")
func RMX_BlockedClientMeasureTimeStart(_ bc: UnsafeMutableRawPointer?) -> Int32 { TSM_OK }

@_cdecl("RMX_BlockedClientMeasureTimeEnd")
func RMX_BlockedClientMeasureTimeEnd(_ bc: UnsafeMutableRawPointer?) -> Int32 { TSM_OK }

/// Push replies (RESP3 >) are not produced by plugins.
@_cdecl("RMX_ReplySetPushLength")
func RMX_ReplySetPushLength(_ ctx: Ctx?, _ len: Int) {}

extension PluginHost {
    /// A C string that stays valid for the process (command names).
    func cachedCString(_ s: String) -> UnsafePointer<CChar> {
        if let p = cStringCache[s] { return UnsafePointer(p) }
        let p = strdup(s)!
        cStringCache[s] = p
        return UnsafePointer(p)
    }
}

/// Channel positions come from nowhere: Tessera does not ask plugins for them.
@_cdecl("RMX_IsChannelsPositionRequest")
func RMX_IsChannelsPositionRequest(_ ctx: Ctx?) -> Int32 { 0 }

@_cdecl("RMX_ChannelAtPosWithFlags")
func RMX_ChannelAtPosWithFlags(_ ctx: Ctx?, _ pos: Int32, _ flags: Int32) {}

/// No ACL users yet: every client is "default" (as Client.user says).
@_cdecl("RMX_GetClientUserNameById")
func RMX_GetClientUserNameById(_ ctx: Ctx?, _ id: UInt64) -> RMString? {
    guard let c = client(id) else { errno = ENOENT; return nil }
    return newString(ctx, Array(c.user.utf8))
}

@_cdecl("RMX_GetCurrentUserName")
func RMX_GetCurrentUserName(_ ctx: Ctx?) -> RMString? {
    guard let c = ctxClient(ctx) else { return nil }
    return newString(ctx, Array(c.user.utf8))
}
