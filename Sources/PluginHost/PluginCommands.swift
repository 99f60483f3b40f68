// Plugin commands (CreateCommand, GetCommand, CreateSubcommand,
// SetCommandInfo), the handler that calls a plugin's command function with
// a context built per call, and the MODULE command.

import CModuleABI
import Engine
import Glibc

/// RedisModuleCommand: a plugin's command as GetCommand returns it.
final class PluginCommandHandle {
    let command: Command
    let module: PluginModule
    /// Nil for a pure container of subcommands.
    let fn: UnsafeMutableRawPointer?
    init(command: Command, module: PluginModule, fn: UnsafeMutableRawPointer?) {
        self.command = command; self.module = module; self.fn = fn
    }
}

extension PluginHost {
    /// Redis's command flag words (CreateCommand's strflags) -> ours; nil on an unknown word.
    static func commandFlags(_ s: String) -> CommandFlags? {
        var f: CommandFlags = [.module]
        for w in s.lowercased().split(separator: " ") {
            switch w {
            case "write": f.insert(.write)
            case "readonly": f.insert(.readonly)
            case "admin": f.insert(.admin)
            case "deny-oom": f.insert(.denyOOM)
            case "deny-script": f.insert(.noScript)
            case "allow-loading": f.insert(.loading)
            case "pubsub": f.insert(.pubsub)
            case "random", "no-cluster", "getkeys-api", "allow-busy", "may-replicate", "no-mandatory-keys",
                 "allow-stale", "no-monitor", "no-slowlog", "fast", "no-auth", "no-multi", "blocking":
                switch w {
                case "allow-stale": f.insert(.stale)
                case "no-monitor": f.insert(.skipMonitor)
                case "no-slowlog": f.insert(.skipSlowlog)
                case "fast": f.insert(.fast)
                case "no-auth": f.insert(.noAuth)
                case "no-multi": f.insert(.noMulti)
                case "may-replicate": f.insert(.mayReplicate)
                case "allow-busy": f.insert(.allowBusy)
                case "no-mandatory-keys": f.insert(.noMandatoryKeys)
                case "blocking": f.insert(.blocking)
                default: break
                }
            default: return nil
            }
        }
        return f
    }

    func makeCommand(name: String, module: PluginModule, fn: UnsafeMutableRawPointer?, flags: CommandFlags,
                     keys: (Int, Int, Int)) -> Command {
        let mod = module
        var handle: PluginCommandHandle? = nil
        let cmd = Command(name, arity: fn == nil ? -2 : -1, flags: flags, keys: keys, group: .server, since: "",
                          summary: "") { [unowned self] c in
            self.runCommand(handle!, c)
        }
        handle = PluginCommandHandle(command: cmd, module: mod, fn: fn)
        commandHandles[ObjectIdentifier(cmd)] = handle
        return cmd
    }

    /// Runs a plugin command for `c`.
    func runCommand(_ h: PluginCommandHandle, _ c: Client) {
        guard let fn = h.fn else {
            // A container without subcommands yet, called bare.
            c.error("ERR unknown subcommand or wrong number of arguments for '\(h.command.name)'")
            return
        }
        if c.isRetryingBlockedCommand, let bc = blockedByClient[c.id], bc.onKeys {
            // A key the client blocked on (BlockClientOnKeys) is ready: the reply callback decides.
            serveBlockedOnKeys(bc, c)
            return
        }
        var argv: [UnsafeMutablePointer<RedisModuleString>?] = []
        argv.reserveCapacity(c.args.count)
        for i in 0..<c.args.count { argv.append(newString(nil, c.args[i])) }
        verbatimRequested = false
        withContext(module: h.module, client: c, flags: TSM_CTX_IN_COMMAND) { ctx in
            _ = argv.withUnsafeMutableBufferPointer { tsm_call_cmd(fn, ctx, $0.baseAddress, Int32($0.count)) }
            closePostponed(ctx, c)
        }
        for s in argv { tsm_string_release(s) }
        // Plugin commands propagate only what they replicate (Replicate, Call with '!').
        if verbatimRequested {
            var all: [[UInt8]] = []
            for i in 0..<c.args.count { all.append(c.args.bytes(i)) }
            engine.rewritePropagation(c, all)
        } else {
            engine.preventPropagation(c)
        }
        verbatimRequested = false
    }

    /// Postponed lengths a command left unset would corrupt the stream: set them to 0.
    func closePostponed(_ ctx: UnsafeMutablePointer<RedisModuleCtx>, _ c: Client) {
        while ctx.pointee.postponed_count > 0 {
            ctx.pointee.postponed_count -= 1
            let mark = withUnsafePointer(to: &ctx.pointee.postponed) {
                $0.withMemoryRebound(to: Int.self, capacity: Int(TSM_MAX_POSTPONED)) { $0[Int(ctx.pointee.postponed_count)] }
            }
            c.reply.setDeferredLength(mark, 0, kind: .array)
        }
    }

    // MARK: MODULE

    func moduleCommand() -> Command {
        Command("module", arity: -2, group: .server, since: "4.0.0") { _ in }.withSubcommands([
            Command("help", arity: 2, flags: [.loading, .stale], group: .server, since: "5.0.0") { c in
                let lines = [
                    "MODULE <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                    "LIST",
                    "    Return a list of loaded modules.",
                    "LOAD <path> [<arg> ...]",
                    "    Load a module library from <path>, passing to it any optional arguments.",
                    "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
                    "    Load a module library from <path>, while passing it module configurations and optional arguments.",
                    "UNLOAD <name>",
                    "    Unload a module.",
                    "HELP",
                    "    Print this help.",
                ]
                c.reply.array(lines.count)
                for l in lines { c.reply.simple(string: l) }
            },
            Command("list", arity: 2, flags: [.admin, .noScript], group: .server, since: "4.0.0") { c in
                guard PluginHost.moduleCommandAllowed(c) else { return }
                let h = self
                c.reply.array(h.modules.count)
                for m in h.modules {
                    c.reply.map(4)
                    c.reply.bulk(string: "name"); c.reply.bulk(string: m.name)
                    c.reply.bulk(string: "ver"); c.reply.integer(Int64(m.version))
                    c.reply.bulk(string: "path"); c.reply.bulk(string: m.path)
                    c.reply.bulk(string: "args"); c.reply.array(m.args.count)
                    for a in m.args { c.reply.bulk(string: a) }
                }
            },
            Command("load", arity: -3, flags: [.admin, .noScript, .noAsyncLoading], group: .server, since: "4.0.0") { c in
                guard PluginHost.moduleCommandAllowed(c) else { return }
                let h = self
                let path = c.args.string(2)
                let args = (3..<max(3, c.args.count)).map { c.args.string($0) }
                h.loadFromCommand(c, path: path, args: args)
            },
            Command("loadex", arity: -3, flags: [.admin, .noScript, .noAsyncLoading], group: .server, since: "7.0.0") { c in
                guard PluginHost.moduleCommandAllowed(c) else { return }
                let h = self
                let path = c.args.string(2)
                var args: [String] = []
                let i = 3
                if i < c.args.count {
                    if c.args.equals(i, "config") {
                        guard i + 2 < c.args.count else { c.syntaxError(); return }
                        // Module configurations (RegisterXxxConfig) are not supported.
                        c.error("ERR Error loading the extension. Please check the server logs.")
                        return
                    } else if c.args.equals(i, "args") {
                        args = ((i + 1)..<max(i + 1, c.args.count)).map { c.args.string($0) }
                    } else {
                        c.syntaxError()
                        return
                    }
                }
                h.loadFromCommand(c, path: path, args: args)
            },
            Command("unload", arity: 3, flags: [.admin, .noScript, .noAsyncLoading], group: .server, since: "4.0.0") { c in
                guard PluginHost.moduleCommandAllowed(c) else { return }
                let h = self
                do {
                    try h.unload(name: c.args.string(2))
                    c.reply.ok()
                } catch {
                    c.error("\(error)")
                }
            },
        ])
    }

    func loadFromCommand(_ c: Client, path: String, args: [String]) {
        do {
            _ = try load(path: path, args: args)
            c.reply.ok()
        } catch {
            c.error("ERR Error loading the extension. Please check the server logs.")
        }
    }

    /// enable-module-command: no / local / yes, as Redis.
    static func moduleCommandAllowed(_ c: Client) -> Bool {
        let mode = c.engine.config.get("enable-module-command") ?? "no"
        if mode == "yes" { return true }
        if mode == "local" && (c.isUnixSocket || c.addr.hasPrefix("127.0.0.1:") || c.addr.hasPrefix("[::1]:") || c.addr.hasPrefix("::1:")) {
            return true
        }
        c.error("ERR MODULE command not allowed. If the enable-module-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.")
        return false
    }
}

// MARK: API functions

@_cdecl("RMX_SetModuleAttribs")
func RMX_SetModuleAttribs(_ ctx: UnsafeMutablePointer<RedisModuleCtx>?, _ name: UnsafePointer<CChar>?, _ ver: Int32, _ apiver: Int32) {
    guard let m = ctxModule(ctx), !m.attribsSet else { return }
    m.name = cString(name)
    m.version = ver
    m.attribsSet = true
}

@_cdecl("RMX_IsModuleNameBusy")
func RMX_IsModuleNameBusy(_ name: UnsafePointer<CChar>?) -> Int32 {
    let n = cString(name)
    return PluginHost.ofProcess.modules.contains { $0.name == n } ? 1 : 0
}

@_cdecl("RMX_CreateCommand")
func RMX_CreateCommand(_ ctx: UnsafeMutablePointer<RedisModuleCtx>?, _ name: UnsafePointer<CChar>?,
                       _ fn: UnsafeMutableRawPointer?, _ strflags: UnsafePointer<CChar>?,
                       _ first: Int32, _ last: Int32, _ step: Int32) -> Int32 {
    let host = ctxHost(ctx)
    guard let m = ctxModule(ctx), host.loading === m else { return TSM_ERR }
    let n = cString(name)
    guard !n.isEmpty, !n.contains(" "), !n.contains("|"), let flags = PluginHost.commandFlags(cString(strflags)) else { return TSM_ERR }
    if host.engine.commands.lookup(n) != nil { return TSM_ERR }
    let cmd = host.makeCommand(name: n, module: m, fn: fn, flags: flags, keys: (Int(first), Int(last), Int(step)))
    host.engine.registerPluginCommand(cmd)
    m.commands.append(cmd)
    return TSM_OK
}

@_cdecl("RMX_GetCommand")
func RMX_GetCommand(_ ctx: UnsafeMutablePointer<RedisModuleCtx>?, _ name: UnsafePointer<CChar>?) -> UnsafeMutableRawPointer? {
    let host = ctxHost(ctx)
    guard let m = ctxModule(ctx), let cmd = m.commands.first(where: { $0.name == cString(name).lowercased() }),
          let h = host.commandHandles[ObjectIdentifier(cmd)] else { return nil }
    return Unmanaged.passUnretained(h).toOpaque()
}

@_cdecl("RMX_CreateSubcommand")
func RMX_CreateSubcommand(_ parent: UnsafeMutableRawPointer?, _ name: UnsafePointer<CChar>?,
                          _ fn: UnsafeMutableRawPointer?, _ strflags: UnsafePointer<CChar>?,
                          _ first: Int32, _ last: Int32, _ step: Int32) -> Int32 {
    guard let parent = parent, let fn = fn else { return TSM_ERR }
    let p = Unmanaged<PluginCommandHandle>.fromOpaque(parent).takeUnretainedValue()
    let host = p.module.host
    guard host.loading != nil else { return TSM_ERR }
    // One level only, and the parent must be a pure container (created without a function), as Redis.
    guard p.command.parentName == nil, p.fn == nil, let flags = PluginHost.commandFlags(cString(strflags)) else { return TSM_ERR }
    let n = cString(name).lowercased()
    if p.command.subcommand(n) != nil { return TSM_ERR }
    let sub = host.makeCommand(name: n, module: p.module, fn: fn, flags: flags, keys: (Int(first), Int(last), Int(step)))
    p.command.withSubcommands(p.command.subcommands + [sub])
    return TSM_OK
}

/// Accepted; COMMAND DOCS does not show plugin command documentation.
@_cdecl("RMX_SetCommandInfo")
func RMX_SetCommandInfo(_ cmd: UnsafeMutableRawPointer?, _ info: UnsafeRawPointer?) -> Int32 {
    cmd == nil || info == nil ? TSM_ERR : TSM_OK
}
