// Timers, blocked clients (BlockClient, BlockClientOnKeys, UnblockClient
// from any thread), and thread-safe contexts.

import CModuleABI
import Engine
import Glibc
import RESP

struct PluginTimer {
    let module: PluginModule
    let callback: UnsafeMutableRawPointer
    let data: UnsafeMutableRawPointer?
    let when: Int64
    let dbid: Int32
}

/// Completions are queued in C (tsm_completion_push) by plugin threads.
struct CompletionQueue {}

/// RedisModuleBlockedClient.
final class PluginBlockedClient {
    let module: PluginModule
    /// Nil when the command ran where it cannot block (inside MULTI).
    var client: Client?
    let replyFn: UnsafeMutableRawPointer?
    let timeoutFn: UnsafeMutableRawPointer?
    let freePrivFn: UnsafeMutableRawPointer?
    var disconnectFn: UnsafeMutableRawPointer? = nil
    var privdata: UnsafeMutableRawPointer? = nil
    var onKeys = false
    var keys: [[UInt8]] = []
    /// Replies written through thread-safe contexts, added to the client's on completion.
    let replyClient: Client
    /// Timed out or disconnected: UnblockClient only frees.
    var finished = false
    var aborted = false
    /// The engine's record of this block: if the client's differs, the block ended elsewhere (CLIENT UNBLOCK ... ERROR).
    weak var blockState: BlockState? = nil

    init(module: PluginModule, client: Client?, replyFn: UnsafeMutableRawPointer?, timeoutFn: UnsafeMutableRawPointer?,
         freePrivFn: UnsafeMutableRawPointer?, replyClient: Client) {
        self.module = module; self.client = client; self.replyFn = replyFn; self.timeoutFn = timeoutFn
        self.freePrivFn = freePrivFn; self.replyClient = replyClient
    }

    var opaque: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }
    static func from(_ p: UnsafeMutableRawPointer?) -> PluginBlockedClient? {
        p.map { Unmanaged<PluginBlockedClient>.fromOpaque($0).takeUnretainedValue() }
    }
}

extension PluginHost {
    func setupWakeup() {
        wakeFd = tsm_wakeup_create()
        if wakeFd >= 0 {
            engine.host?.watchReadable(wakeFd) { [unowned self] in
                tsm_wakeup_drain()
                self.drainCompletions()
            }
        }
    }

    // MARK: timers

    func runDueTimers() {
        guard let first = timerHeap.first, first.when <= ShardEngine.wallClockMs() else { return }
        let now = ShardEngine.wallClockMs()
        while let t = timerHeap.first, t.when <= now {
            timerHeap.removeFirst()
            guard let timer = timers.removeValue(forKey: t.id) else { continue }
            withContext(module: timer.module, client: nil) { ctx in
                ctx.pointee.dbid = timer.dbid
                tsm_call_timer(timer.callback, ctx, timer.data)
            }
        }
    }

    func addTimer(_ t: PluginTimer) -> UInt64 {
        var id = nextTimerID
        nextTimerID += 1
        while timers[id] != nil { id = nextTimerID; nextTimerID += 1 }
        timers[id] = t
        let i = timerHeap.firstIndex { $0.when > t.when } ?? timerHeap.count
        timerHeap.insert((t.when, id), at: i)
        return id
    }

    // MARK: blocked clients

    /// A client's block ended by its timeout (or CLIENT UNBLOCK): the timeout callback replies.
    func timedOut(_ bc: PluginBlockedClient, _ c: Client) {
        blockedByClient[c.id] = nil
        bc.finished = true
        withContext(module: bc.module, client: c, flags: TSM_CTX_BLOCKED_TIMEOUT) { ctx in
            ctx.pointee.bc = bc.opaque
            ctx.pointee.blocked_privdata = bc.privdata
            if let fn = bc.timeoutFn { _ = tsm_call_cmd(fn, ctx, nil, 0) } else { c.reply.null() }
            closePostponed(ctx, c)
        }
        freePrivdata(bc)
        // Blocks on keys end here; others when the plugin calls UnblockClient.
        if bc.onKeys { liveBlocked.removeValue(forKey: ObjectIdentifier(bc)) }
    }

    func freePrivdata(_ bc: PluginBlockedClient) {
        guard let fn = bc.freePrivFn, let pd = bc.privdata else { return }
        bc.privdata = nil
        withContext(module: bc.module, client: nil) { ctx in tsm_call_free_privdata(fn, ctx, pd) }
    }

    func clientDisconnected(_ c: Client) {
        guard let bc = blockedByClient.removeValue(forKey: c.id) else { return }
        bc.finished = true
        bc.client = nil
        if let fn = bc.disconnectFn {
            withContext(module: bc.module, client: nil, flags: TSM_CTX_BLOCKED_DISCONNECTED) { ctx in
                tsm_call_disconnect(fn, ctx, bc.opaque)
            }
        }
        if bc.onKeys { freePrivdata(bc); liveBlocked.removeValue(forKey: ObjectIdentifier(bc)) }
    }

    /// Completes the UnblockClient calls queued by any thread.
    func drainCompletions() {
        var bcp: UnsafeMutableRawPointer? = nil, pd: UnsafeMutableRawPointer? = nil
        while tsm_completion_pop(&bcp, &pd) != 0 {
            guard let bc = PluginBlockedClient.from(bcp) else { continue }
            complete(bc, privdata: pd)
        }
    }

    func complete(_ bc: PluginBlockedClient, privdata: UnsafeMutableRawPointer?) {
        defer { liveBlocked.removeValue(forKey: ObjectIdentifier(bc)) }
        if privdata != nil { bc.privdata = privdata }
        guard !bc.finished, let c = bc.client, c.blocked != nil, c.blocked === bc.blockState else {
            if let c = bc.client, blockedByClient[c.id] === bc { blockedByClient[c.id] = nil }
            freePrivdata(bc)
            return
        }
        bc.finished = true
        blockedByClient[c.id] = nil
        if !bc.aborted {
            withContext(module: bc.module, client: c, flags: TSM_CTX_BLOCKED_REPLY) { ctx in
                ctx.pointee.bc = bc.opaque
                ctx.pointee.blocked_privdata = bc.privdata
                if let fn = bc.replyFn { _ = tsm_call_cmd(fn, ctx, nil, 0) }
                closePostponed(ctx, c)
            }
            let out = bc.replyClient.reply.out
            if out.readableBytes > 0 { c.reply.out.append(out.base + out.readIndex, out.readableBytes) }
        }
        freePrivdata(bc)
        engine.endBlock(c)
    }

    /// BlockClientOnKeys: a key is ready; the reply callback serves or keeps waiting.
    func serveBlockedOnKeys(_ bc: PluginBlockedClient, _ c: Client) {
        var served = false
        withContext(module: bc.module, client: c, flags: TSM_CTX_BLOCKED_REPLY) { ctx in
            ctx.pointee.bc = bc.opaque
            ctx.pointee.blocked_privdata = bc.privdata
            let ready = bc.keys.first { k in k.withUnsafeBytes { engine.exists(c.db, $0) } } ?? bc.keys.first ?? []
            let readyKey = newString(nil, ready)
            ctx.pointee.blocked_ready_key = readyKey
            let mark = c.reply.out.writeIndex
            if let fn = bc.replyFn { served = tsm_call_cmd(fn, ctx, nil, 0) == TSM_OK }
            if served { closePostponed(ctx, c) } else { c.reply.out.truncate(to: mark); ctx.pointee.postponed_count = 0 }
            tsm_string_release(readyKey)
        }
        if served {
            bc.finished = true
            blockedByClient[c.id] = nil
            freePrivdata(bc)
            liveBlocked.removeValue(forKey: ObjectIdentifier(bc))
        } else {
            // Still waiting: during a retry this only notes "still blocked".
            engine.blockForKeys(c, keys: bc.keys, deadline: 0, timeoutReply: .null) { _ in true }
        }
    }
}

// MARK: API: timers

@_cdecl("RMX_CreateTimer")
func RMX_CreateTimer(_ ctx: Ctx?, _ period: Int64, _ callback: UnsafeMutableRawPointer?, _ data: UnsafeMutableRawPointer?) -> UInt64 {
    guard let m = ctxModule(ctx), let cb = callback else { return 0 }
    let host = ctxHost(ctx)
    return host.addTimer(PluginTimer(module: m, callback: cb, data: data, when: ShardEngine.wallClockMs() + max(0, period),
                                     dbid: Int32(ctxDatabase(ctx).index)))
}

@_cdecl("RMX_StopTimer")
func RMX_StopTimer(_ ctx: Ctx?, _ id: UInt64, _ data: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32 {
    let host = ctxHost(ctx)
    guard let t = host.timers[id], t.module === ctxModule(ctx) else { return TSM_ERR }
    host.timers[id] = nil
    host.timerHeap.removeAll { $0.id == id }
    data?.pointee = t.data
    return TSM_OK
}

@_cdecl("RMX_GetTimerInfo")
func RMX_GetTimerInfo(_ ctx: Ctx?, _ id: UInt64, _ remaining: UnsafeMutablePointer<UInt64>?,
                      _ data: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32 {
    let host = ctxHost(ctx)
    guard let t = host.timers[id], t.module === ctxModule(ctx) else { return TSM_ERR }
    remaining?.pointee = UInt64(max(0, t.when - ShardEngine.wallClockMs()))
    data?.pointee = t.data
    return TSM_OK
}

// MARK: API: blocking

private func block(_ ctx: Ctx?, _ reply: UnsafeMutableRawPointer?, _ timeout: UnsafeMutableRawPointer?,
                   _ freePriv: UnsafeMutableRawPointer?, _ ms: Int64, keys: [[UInt8]]?, privdata: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    let host = ctxHost(ctx)
    guard let m = ctxModule(ctx) else { return nil }
    let c = ctxClient(ctx)
    let replyClient = host.makeInternalClient()
    replyClient.reply.proto = c?.reply.proto ?? 2
    let bc = PluginBlockedClient(module: m, client: c, replyFn: reply, timeoutFn: timeout, freePrivFn: freePriv,
                                 replyClient: replyClient)
    bc.privdata = privdata
    host.liveBlocked[ObjectIdentifier(bc)] = bc
    guard let client = c, ctx!.pointee.flags & TSM_CTX_IN_COMMAND != 0 else {
        bc.client = nil
        bc.finished = true
        return bc.opaque
    }
    if client.inMulti || client.denyBlocking {
        client.error(static: "ERR Blocking module command called from transaction")
        bc.client = nil
        bc.finished = true
        return bc.opaque
    }
    let deadline = ms > 0 ? ShardEngine.wallClockMs() + ms : 0
    host.blockedByClient[client.id] = bc
    if let keys = keys {
        bc.onKeys = true
        bc.keys = keys
        host.engine.blockForKeys(client, keys: keys, deadline: deadline,
                                 timeoutReply: .custom({ [unowned host] c in host.timedOut(bc, c) })) { _ in true }
    } else {
        host.engine.blockForKeys(client, keys: [], deadline: deadline,
                                 timeoutReply: .custom({ [unowned host] c in host.timedOut(bc, c) })) { _ in false }
    }
    bc.blockState = client.blocked
    return bc.opaque
}

@_cdecl("RMX_BlockClient")
func RMX_BlockClient(_ ctx: Ctx?, _ reply: UnsafeMutableRawPointer?, _ timeout: UnsafeMutableRawPointer?,
                     _ freePriv: UnsafeMutableRawPointer?, _ ms: Int64) -> UnsafeMutableRawPointer? {
    block(ctx, reply, timeout, freePriv, ms, keys: nil, privdata: nil)
}

@_cdecl("RMX_BlockClientOnKeys")
func RMX_BlockClientOnKeys(_ ctx: Ctx?, _ reply: UnsafeMutableRawPointer?, _ timeout: UnsafeMutableRawPointer?,
                           _ freePriv: UnsafeMutableRawPointer?, _ ms: Int64, _ keys: UnsafeMutablePointer<RMString?>?,
                           _ numkeys: Int32, _ privdata: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    let k = (0..<Int(max(0, numkeys))).map { stringBytes(keys?[$0]) }
    return block(ctx, reply, timeout, freePriv, ms, keys: k, privdata: privdata)
}

/// Any thread: the completion runs on the loop.
@_cdecl("RMX_UnblockClient")
func RMX_UnblockClient(_ p: UnsafeMutableRawPointer?, _ privdata: UnsafeMutableRawPointer?) -> Int32 {
    guard let p = p else { return TSM_ERR }
    tsm_completion_push(p, privdata)
    return TSM_OK
}

@_cdecl("RMX_AbortBlock")
func RMX_AbortBlock(_ p: UnsafeMutableRawPointer?) -> Int32 {
    guard let bc = PluginBlockedClient.from(p) else { return TSM_ERR }
    bc.aborted = true
    tsm_completion_push(p, nil)
    return TSM_OK
}

@_cdecl("RMX_SignalKeyAsReady")
func RMX_SignalKeyAsReady(_ ctx: Ctx?, _ key: RMString?) -> Int32 {
    ctxHost(ctx).engine.signalModifiedKey(ctxDatabase(ctx), stringBytes(key))
    return TSM_OK
}

@_cdecl("RMX_IsBlockedReplyRequest")
func RMX_IsBlockedReplyRequest(_ ctx: Ctx?) -> Int32 { (ctx?.pointee.flags ?? 0) & TSM_CTX_BLOCKED_REPLY != 0 ? 1 : 0 }
@_cdecl("RMX_IsBlockedTimeoutRequest")
func RMX_IsBlockedTimeoutRequest(_ ctx: Ctx?) -> Int32 { (ctx?.pointee.flags ?? 0) & TSM_CTX_BLOCKED_TIMEOUT != 0 ? 1 : 0 }
@_cdecl("RMX_GetBlockedClientPrivateData")
func RMX_GetBlockedClientPrivateData(_ ctx: Ctx?) -> UnsafeMutableRawPointer? { ctx?.pointee.blocked_privdata }
@_cdecl("RMX_GetBlockedClientHandle")
func RMX_GetBlockedClientHandle(_ ctx: Ctx?) -> UnsafeMutableRawPointer? { ctx?.pointee.bc }
@_cdecl("RMX_GetBlockedClientReadyKey")
func RMX_GetBlockedClientReadyKey(_ ctx: Ctx?) -> RMString? { ctx?.pointee.blocked_ready_key }
@_cdecl("RMX_BlockedClientDisconnected")
func RMX_BlockedClientDisconnected(_ ctx: Ctx?) -> Int32 { (ctx?.pointee.flags ?? 0) & TSM_CTX_BLOCKED_DISCONNECTED != 0 ? 1 : 0 }

@_cdecl("RMX_SetDisconnectCallback")
func RMX_SetDisconnectCallback(_ p: UnsafeMutableRawPointer?, _ fn: UnsafeMutableRawPointer?) {
    PluginBlockedClient.from(p)?.disconnectFn = fn
}

// MARK: API: thread-safe contexts

@_cdecl("RMX_GetThreadSafeContext")
func RMX_GetThreadSafeContext(_ p: UnsafeMutableRawPointer?) -> Ctx? {
    let ctx = Ctx.allocate(capacity: 1)
    if let bc = PluginBlockedClient.from(p) {
        tsm_ctx_init(ctx, bc.module.opaque, Unmanaged.passUnretained(bc.replyClient).toOpaque())
        ctx.pointee.bc = p
        ctx.pointee.dbid = Int32(bc.client?.dbIndex ?? 0)
    } else {
        tsm_ctx_init(ctx, nil, nil)
    }
    ctx.pointee.flags = TSM_CTX_THREAD_SAFE
    return ctx
}

@_cdecl("RMX_GetDetachedThreadSafeContext")
func RMX_GetDetachedThreadSafeContext(_ parent: Ctx?) -> Ctx? {
    let ctx = Ctx.allocate(capacity: 1)
    tsm_ctx_init(ctx, parent?.pointee.module, nil)
    ctx.pointee.flags = TSM_CTX_THREAD_SAFE
    return ctx
}

@_cdecl("RMX_FreeThreadSafeContext")
func RMX_FreeThreadSafeContext(_ ctx: Ctx?) {
    guard let ctx = ctx else { return }
    tsm_ctx_finish(ctx)
    ctx.deallocate()
}
