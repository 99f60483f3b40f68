// Logging, client and context information, keyspace events for plugins.

import CModuleABI
import Engine
import Glibc
import Logging

private func log(_ module: PluginModule?, _ level: String, _ msg: String) {
    let logger = (module?.host ?? PluginHost.ofProcess).engine.logger
    let text = module.map { "<\($0.name)> \(msg)" } ?? "<module> \(msg)"
    switch level {
    case "debug": logger.debug("\(text)")
    case "verbose": logger.info("\(text)")
    case "warning": logger.warning("\(text)")
    default: logger.notice("\(text)")
    }
}

@_cdecl("RMX_LogMessage")
func RMX_LogMessage(_ ctx: Ctx?, _ level: UnsafePointer<CChar>?, _ msg: UnsafePointer<CChar>?) {
    log(ctxModule(ctx) ?? PluginHost.ofProcess.loading, cString(level), cString(msg))
}

@_cdecl("RMX_LogIOMessage")
func RMX_LogIOMessage(_ io: UnsafeMutableRawPointer?, _ level: UnsafePointer<CChar>?, _ msg: UnsafePointer<CChar>?) {
    log(PluginIO.from(io)?.type.module, cString(level), cString(msg))
}

@_cdecl("RMX_GetClientId")
func RMX_GetClientId(_ ctx: Ctx?) -> UInt64 {
    guard let c = ctxClient(ctx), c.id > 0 else { return 0 }
    // Contexts of blocked replies written from threads use an internal client: report the real one.
    if let bcp = ctx?.pointee.bc, let bc = PluginBlockedClient.from(bcp), let real = bc.client { return UInt64(real.id) }
    return UInt64(c.id)
}

private let CTX_MULTI: Int32 = 1 << 1, CTX_MASTER: Int32 = 1 << 2, CTX_AOF: Int32 = 1 << 6, CTX_RDB: Int32 = 1 << 7
private let CTX_MAXMEMORY: Int32 = 1 << 8, CTX_EVICT: Int32 = 1 << 9, CTX_LOADING: Int32 = 1 << 13
private let CTX_DENY_BLOCKING: Int32 = 1 << 21, CTX_RESP3: Int32 = 1 << 22

@_cdecl("RMX_GetContextFlags")
func RMX_GetContextFlags(_ ctx: Ctx?) -> Int32 {
    let s = ctxHost(ctx).engine
    var f = CTX_MASTER
    if let c = ctxClient(ctx) {
        if c.inMulti || c.denyBlocking { f |= CTX_MULTI }
        if c.denyBlocking { f |= CTX_DENY_BLOCKING }
        if c.reply.proto == 3 { f |= CTX_RESP3 }
    }
    if s.config.get("appendonly") == "yes" { f |= CTX_AOF }
    if let save = s.config.get("save"), !save.isEmpty { f |= CTX_RDB }
    if s.config.maxmemory > 0 {
        f |= CTX_MAXMEMORY
        if s.config.get("maxmemory-policy") != "noeviction" { f |= CTX_EVICT }
    }
    if s.loading { f |= CTX_LOADING }
    return f
}

@_cdecl("RMX_SubscribeToKeyspaceEvents")
func RMX_SubscribeToKeyspaceEvents(_ ctx: Ctx?, _ types: Int32, _ cb: UnsafeMutableRawPointer?) -> Int32 {
    guard let m = ctxModule(ctx), let cb = cb else { return TSM_ERR }
    m.subscriptions.append((types, cb))
    ctxHost(ctx).recomputeEventMask()
    return TSM_OK
}

@_cdecl("RMX_NotifyKeyspaceEvent")
func RMX_NotifyKeyspaceEvent(_ ctx: Ctx?, _ type: Int32, _ event: UnsafePointer<CChar>?, _ key: RMString?) -> Int32 {
    guard ctx != nil else { return TSM_ERR }
    let s = ctxHost(ctx).engine
    s.notifyPluginKeyspaceEvent(type, Array(cString(event).utf8), stringBytes(key), ctxDatabase(ctx).index)
    return TSM_OK
}

@_cdecl("RMX_GetNotifyKeyspaceEvents")
func RMX_GetNotifyKeyspaceEvents() -> Int32 { PluginHost.ofProcess.engine.config.notifyFlags }

extension PluginHost {
    func recomputeEventMask() {
        var mask: Int32 = 0
        for m in modules { for s in m.subscriptions { mask |= s.mask } }
        if let l = loading { for s in l.subscriptions { mask |= s.mask } }
        engine.moduleEventMask = mask
    }

    /// Delivers a keyspace event to the plugins subscribed to its class.
    public func keyspaceEvent(_ bit: Int32, _ event: UnsafeRawBufferPointer, _ key: UnsafeRawBufferPointer, _ db: Int) {
        if deliveringEvent { return }   // no re-entrancy, as Redis
        deliveringEvent = true
        defer { deliveringEvent = false }
        var ev = Array(event)
        ev.append(0)
        for m in modules {
            for s in m.subscriptions where s.mask & bit != 0 {
                withContext(module: m, client: nil) { ctx in
                    ctx.pointee.dbid = Int32(db)
                    let k = newString(nil, key)
                    ev.withUnsafeBufferPointer { e in
                        _ = tsm_call_notify(s.fn, ctx, bit, UnsafeRawPointer(e.baseAddress!).assumingMemoryBound(to: CChar.self), k)
                    }
                    tsm_string_release(k)
                }
            }
        }
    }
}
