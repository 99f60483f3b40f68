// RedisModule_Call (the variadic front end is C: it builds the argument
// vector and calls RMX_CallArgv), Replicate and ReplicateVerbatim.

import CModuleABI
import Engine
import Glibc
import RESP

extension PluginHost {
    /// A client for one Call: the shared one, or a new one when Calls nest.
    func takeCallClient() -> Client {
        if !callClientBusy { callClientBusy = true; return callClient }
        return makeInternalClient()
    }

    func releaseCallClient(_ c: Client) {
        if c === callClient { callClientBusy = false }
    }
}

private func errorReply(_ ctx: Ctx?, _ msg: String) -> UnsafeMutablePointer<RedisModuleCallReply>? {
    let proto = Array("-\(msg)\r\n".utf8)
    return proto.withUnsafeBytes { tsm_callreply_parse(ctx, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count) }
}

@_cdecl("RMX_CallArgv")
func RMX_CallArgv(_ ctx: Ctx?, _ name: UnsafePointer<CChar>?, _ argv: UnsafeMutablePointer<RMString?>?, _ argc: Int32,
                  _ flags: Int32) -> UnsafeMutablePointer<RedisModuleCallReply>? {
    let host = ctxHost(ctx)
    let engine = host.engine
    let errorsAsReplies = flags & Int32(TSM_CALL_ERRORS_AS_REPLIES) != 0
    // Arguments: the command name, then argv.
    var bytes: [UInt8] = []
    var spans: [ArgSpan] = []
    let cmdName = cString(name)
    spans.append(ArgSpan(offset: 0, count: cmdName.utf8.count))
    bytes += Array(cmdName.utf8)
    for i in 0..<Int(argc) {
        let b = stringBuffer(argv?[i])
        spans.append(ArgSpan(offset: bytes.count, count: b.count))
        bytes += b
    }
    guard var cmd = engine.commands.lookup(cmdName) else {
        if errorsAsReplies { return errorReply(ctx, "ERR Unknown Redis command '\(cmdName)'.") }
        errno = ENOENT
        return nil
    }
    let total = Int(argc) + 1
    if !cmd.subcommands.isEmpty && total >= 2 {
        let sub = bytes.withUnsafeBytes { raw in
            cmd.subcommand(UnsafeRawBufferPointer(rebasing: raw[spans[1].offset..<(spans[1].offset + spans[1].count)]))
        }
        guard let s = sub else {
            if errorsAsReplies { return errorReply(ctx, "ERR Unknown Redis command '\(cmdName)'.") }
            errno = ENOENT
            return nil
        }
        cmd = s
    }
    if (cmd.arity > 0 && total != cmd.arity) || total < -cmd.arity {
        if errorsAsReplies { return errorReply(ctx, "ERR Wrong number of args calling Redis command '\(cmdName)'.") }
        errno = EINVAL
        return nil
    }
    if flags & Int32(TSM_CALL_NO_WRITES) != 0 && cmd.flags.contains(.write) {
        if errorsAsReplies { return errorReply(ctx, "ERR Write command '\(cmdName)' was called while write is not allowed.") }
        errno = ENOSPC
        return nil
    }
    let c = host.takeCallClient()
    defer { host.releaseCallClient(c) }
    c.db = ctxDatabase(ctx)
    c.denyBlocking = true
    if flags & Int32(TSM_CALL_RESP3) != 0 { c.reply.proto = 3 }
    else if flags & Int32(TSM_CALL_RESP_AUTO) != 0 { c.reply.proto = ctxClient(ctx)?.reply.proto ?? 2 }
    else { c.reply.proto = 2 }
    let out = c.reply.out
    out.readIndex = 0
    out.writeIndex = 0
    // Without '!' the command's effects are not propagated.
    let replicate = flags & Int32(TSM_CALL_REPLICATE) != 0
    if !replicate { engine.writeStream.suspend() }
    engine.updateClock()
    bytes.withUnsafeBytes { raw in
        spans.withUnsafeBufferPointer { sp in
            c.args = Args(base: raw.baseAddress ?? UnsafeRawPointer(bitPattern: 8)!, spans: sp)
            engine.callForPlugin(c, cmd)
        }
    }
    if !replicate { engine.writeStream.resume() }
    let reply = tsm_callreply_parse(ctx, UnsafeRawPointer(out.base + out.readIndex).assumingMemoryBound(to: CChar.self),
                                    out.readableBytes)
    out.readIndex = 0
    out.writeIndex = 0
    return reply
}

@_cdecl("RMX_ReplicateArgv")
func RMX_ReplicateArgv(_ ctx: Ctx?, _ name: UnsafePointer<CChar>?, _ argv: UnsafeMutablePointer<RMString?>?, _ argc: Int32) -> Int32 {
    let engine = ctxHost(ctx).engine
    guard engine.commands.lookup(cString(name)) != nil else { return TSM_ERR }
    var all: [[UInt8]] = [Array(cString(name).utf8)]
    for i in 0..<Int(argc) { all.append(stringBytes(argv?[i])) }
    engine.alsoPropagate(db: ctxDatabase(ctx).index, all)
    return TSM_OK
}

@_cdecl("RMX_ReplicateVerbatim")
func RMX_ReplicateVerbatim(_ ctx: Ctx?) -> Int32 {
    ctxHost(ctx).verbatimRequested = true
    return TSM_OK
}
