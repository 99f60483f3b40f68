// The plugin host: loads shared objects written against the Redis Modules
// C API (dlopen, RedisModule_OnLoad), keeps their commands, data types,
// timers and blocked clients, and serves MODULE LOAD/LOADEX/UNLOAD/LIST.
//
// The API itself is split between the CModuleABI target (the GetApi table,
// strings, call replies, dictionaries and every variadic function) and the
// @_cdecl functions of this target (everything that touches the engine),
// exported as RMX_<name> and listed in Sources/CModuleABI/api_list.h.
// Everything runs on the shard's loop thread, except what plugin threads do
// through thread-safe contexts (ThreadSafeContextLock is a mutex the loop
// holds except while it waits for events) and UnblockClient (queued, then
// completed by the loop after an eventfd wakes it).

import CModuleABI
import Engine
import Glibc
import Logging
import RESP

/// One loaded plugin.
public final class PluginModule {
    public internal(set) var name: String = ""
    public internal(set) var version: Int32 = 0
    public let path: String
    public let args: [String]
    let handle: UnsafeMutableRawPointer
    /// The host that loaded it: C API calls with a context find the engine through here.
    unowned let host: PluginHost
    var commands: [Command] = []
    var types: [PluginType] = []
    var subscriptions: [(mask: Int32, fn: UnsafeMutableRawPointer)] = []
    var attribsSet = false

    init(host: PluginHost, path: String, args: [String], handle: UnsafeMutableRawPointer) {
        self.host = host
        self.path = path
        self.args = args
        self.handle = handle
    }

    var opaque: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }
    static func from(_ p: UnsafeMutableRawPointer?) -> PluginModule? {
        p.map { Unmanaged<PluginModule>.fromOpaque($0).takeUnretainedValue() }
    }
}

public enum PluginError: Error, CustomStringConvertible {
    case failed(String)
    public var description: String { switch self { case .failed(let m): return m } }
}

public final class PluginHost {
    /// The host of this process, for the C API's entry points that carry no
    /// context (ResetDataset, GetUsedMemoryRatio, GetNotifyKeyspaceEvents,
    /// IsModuleNameBusy, the client-by-id queries, Log with a NULL context):
    /// a shard is one process with one engine and one host. Calls with a
    /// context reach their host through the context's module (`ctxHost`).
    nonisolated(unsafe) static var ofProcess: PluginHost! = nil

    public let engine: ShardEngine
    var logger: Logger { engine.logger }
    public internal(set) var modules: [PluginModule] = []
    /// The plugin whose OnLoad is running (SetModuleAttribs, CreateCommand...).
    var loading: PluginModule? = nil
    /// An internal client RedisModule_Call runs commands on.
    lazy var callClient: Client = makeInternalClient()
    var callClientBusy = false

    // Timers, blocked clients and wakeups (all in PluginBlocking.swift).
    var timers: [UInt64: PluginTimer] = [:]
    var timerHeap: [(when: Int64, id: UInt64)] = []
    var nextTimerID: UInt64 = 1
    var wakeFd: Int32 = -1
    var completions = CompletionQueue()
    var blockedByClient: [Int64: PluginBlockedClient] = [:]
    /// Blocked-client handles alive until their UnblockClient completes.
    var liveBlocked: [ObjectIdentifier: PluginBlockedClient] = [:]
    var gilHeld = false
    var commandHandles: [ObjectIdentifier: PluginCommandHandle] = [:]
    /// Set by ReplicateVerbatim during a plugin command.
    var verbatimRequested = false
    var deliveringEvent = false
    var cStringCache: [String: UnsafeMutablePointer<CChar>] = [:]

    /// Installs a host on `engine` (before loading any plugin). The engine
    /// keeps it (as one of its stages).
    public static func install(on engine: ShardEngine) -> PluginHost {
        let h = PluginHost(engine: engine)
        ofProcess = h
        h.installHooks()
        return h
    }

    init(engine: ShardEngine) {
        self.engine = engine
    }

    func makeInternalClient() -> Client {
        let c = engine.createClient(reply: ReplyEncoder())
        engine.unlistClient(c)
        c.authenticated = true
        c.addr = "module:0"
        return c
    }

    private func installHooks() {
        engine.registerPluginCommand(moduleCommand())
        // The loop holds the lock plugin threads take with ThreadSafeContextLock,
        // except while it waits for events.
        tsm_gil_lock()
        gilHeld = true
        engine.addStage(self)
        engine.pluginObserver = self
        setupWakeup()
    }

    // MARK: loading

    /// Loads the plugin at `path` with `args` (MODULE LOAD, loadmodule).
    public func load(path: String, args: [String]) throws -> PluginModule {
        if modules.contains(where: { $0.path == path }) {
            throw PluginError.failed("Error loading the extension. Please check the server logs.")
        }
        var err = [CChar](repeating: 0, count: 512)
        guard let handle = tsm_dlopen(path, &err, 512) else {
            logger.warning("Module \(path) failed to load: \(String(cString: err))")
            throw PluginError.failed("Error loading the extension. Please check the server logs.")
        }
        guard let onload = tsm_dlsym(handle, "RedisModule_OnLoad") ?? tsm_dlsym(handle, "ValkeyModule_OnLoad") else {
            logger.warning("Module \(path) does not export RedisModule_OnLoad() symbol. Module not loaded.")
            _ = tsm_dlclose(handle)
            throw PluginError.failed("Error loading the extension. Please check the server logs.")
        }
        let m = PluginModule(host: self, path: path, args: args, handle: handle)
        loading = m
        let rc: Int32 = withContext(module: m, client: nil) { ctx in
            let argv = args.map { a in a.withCString { tsm_string_new(nil, $0, strlen($0)) } }
            var raw: [UnsafeMutablePointer<RedisModuleString>?] = argv
            let r = raw.withUnsafeMutableBufferPointer { tsm_call_onload(onload, ctx, $0.baseAddress, Int32(argv.count)) }
            for s in argv { tsm_string_release(s) }
            return r
        }
        loading = nil
        if rc != TSM_OK || !m.attribsSet {
            if !m.attribsSet && rc == TSM_OK { logger.warning("Module \(path) did not call RedisModule_Init()") }
            logger.warning("Module \(path) initialization failed. Module not loaded")
            unregister(m)
            _ = tsm_dlclose(handle)
            throw PluginError.failed("Error loading the extension. Please check the server logs.")
        }
        modules.append(m)
        logger.notice("Module '\(m.name)' loaded from \(path)")
        return m
    }

    /// Unloads the plugin named `name` (MODULE UNLOAD), if nothing holds its types.
    public func unload(name: String) throws {
        guard let i = modules.firstIndex(where: { $0.name == name }) else {
            throw PluginError.failed("ERR Error unloading module: no such module with that name")
        }
        let m = modules[i]
        if !m.types.isEmpty {
            throw PluginError.failed("ERR Error unloading module: the module exports one or more module-side data types, can't unload")
        }
        if liveBlocked.values.contains(where: { $0.module === m }) {
            throw PluginError.failed("ERR Error unloading module: the module has blocked clients. Please wait them unblocked and try again")
        }
        if let onunload = tsm_dlsym(m.handle, "RedisModule_OnUnload") ?? tsm_dlsym(m.handle, "ValkeyModule_OnUnload") {
            let rc: Int32 = withContext(module: m, client: nil) { ctx in tsm_call_onload(onunload, ctx, nil, 0) }
            if rc != TSM_OK {
                throw PluginError.failed("ERR Error unloading module: OnUnload failed")
            }
        }
        unregister(m)
        modules.remove(at: i)
        _ = tsm_dlclose(m.handle)
        logger.notice("Module \(name) unloaded")
    }

    /// Removes what `m` registered (commands, timers, subscriptions).
    func unregister(_ m: PluginModule) {
        for c in m.commands { engine.unregisterPluginCommand(c) }
        m.commands.removeAll()
        for t in m.types {
            engine.moduleTypes.unregister(id: t.typeID, name: t.typeName)
        }
        for (id, t) in timers where t.module === m { timers[id] = nil }
        m.subscriptions.removeAll()
        recomputeEventMask()
    }

    // MARK: contexts

    /// Runs `body` with a fresh context for `module` on `client`; AutoMemory
    /// and pool allocations are released afterwards.
    func withContext<R>(module: PluginModule?, client: Client?, flags: Int32 = 0,
                        _ body: (UnsafeMutablePointer<RedisModuleCtx>) -> R) -> R {
        let ctx = UnsafeMutablePointer<RedisModuleCtx>.allocate(capacity: 1)
        tsm_ctx_init(ctx, module?.opaque, client.map { Unmanaged.passUnretained($0).toOpaque() })
        ctx.pointee.flags = flags
        ctx.pointee.dbid = Int32(client?.dbIndex ?? 0)
        defer {
            tsm_ctx_finish(ctx)
            ctx.deallocate()
        }
        return body(ctx)
    }
}

/// The engine client a context replies to and works on, if any.
@inline(__always)
func ctxClient(_ ctx: UnsafeMutablePointer<RedisModuleCtx>?) -> Client? {
    guard let p = ctx?.pointee.client else { return nil }
    return Unmanaged<Client>.fromOpaque(p).takeUnretainedValue()
}

func ctxModule(_ ctx: UnsafeMutablePointer<RedisModuleCtx>?) -> PluginModule? {
    PluginModule.from(ctx?.pointee.module)
}

/// The host a context belongs to: its module's (contexts without a module,
/// such as a thread-safe context made without a blocked client, belong to
/// the process's host).
func ctxHost(_ ctx: UnsafeMutablePointer<RedisModuleCtx>?) -> PluginHost {
    ctxModule(ctx)?.host ?? PluginHost.ofProcess
}

/// The database a context works on: its client's, else the one SelectDb chose.
func ctxDatabase(_ ctx: UnsafeMutablePointer<RedisModuleCtx>?) -> Database {
    if let c = ctxClient(ctx) { return c.db }
    let s = ctxHost(ctx).engine
    return s.database(Int(ctx?.pointee.dbid ?? 0)) ?? s.databases[0]
}

func stringBytes(_ s: UnsafeMutablePointer<RedisModuleString>?) -> [UInt8] {
    guard let s = s, s.pointee.len > 0 else { return [] }
    return Array(UnsafeRawBufferPointer(start: s.pointee.ptr, count: s.pointee.len))
}

func stringBuffer(_ s: UnsafeMutablePointer<RedisModuleString>?) -> UnsafeRawBufferPointer {
    guard let s = s, s.pointee.len > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
    return UnsafeRawBufferPointer(start: s.pointee.ptr, count: s.pointee.len)
}

func newString(_ ctx: UnsafeMutablePointer<RedisModuleCtx>?, _ b: UnsafeRawBufferPointer) -> UnsafeMutablePointer<RedisModuleString> {
    tsm_string_new(ctx, b.baseAddress?.assumingMemoryBound(to: CChar.self), b.count)
}

func newString(_ ctx: UnsafeMutablePointer<RedisModuleCtx>?, _ b: [UInt8]) -> UnsafeMutablePointer<RedisModuleString> {
    b.withUnsafeBytes { newString(ctx, $0) }
}

func cString(_ p: UnsafePointer<CChar>?) -> String { p.map { String(cString: $0) } ?? "" }

/// The plugin host's part of every loop round (ShardInterface.swift).
extension PluginHost: ShardStage, PluginEventObserver {
    public var points: ShardStagePoints { [.sleep, .afterEvents, .wakeupDeadline] }

    /// Plugin threads may take the lock (ThreadSafeContextLock) only while
    /// the loop waits for events.
    public func beforeSleep() {
        if gilHeld { tsm_gil_unlock(); gilHeld = false }
    }

    public func afterSleep() {
        if !gilHeld { tsm_gil_lock(); gilHeld = true }
    }

    /// Timers that are due, and what plugin threads completed meanwhile.
    public func afterEvents() {
        runDueTimers()
        drainCompletions()
    }

    public func wakeupDeadline() -> Int64? { timerHeap.first?.when }

    public var infoSection: String? { "modules" }

    public func infoFields() -> [(String, String)] {
        modules.map { m in
            ("module", "name=\(m.name),ver=\(m.version),api=1,filters=0,usedby=[],using=[],options=[]")
        }
    }

    public func blockedClientDisconnected(_ c: Client) { clientDisconnected(c) }
}
