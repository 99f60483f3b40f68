// Running a command (Redis's processCommand and call in server.c): the
// checks between the lookup and the handler, the one place a refusal is
// recorded, the per-command statistics, MONITOR's feed and CLIENT REPLY's
// truncation. The loop hands every parsed request to `execute`.

import RESP

extension ShardEngine {
    /// Runs the command in `c.args`. The reply goes to `c.reply`.
    public func execute(_ c: Client) {
        execute(c, resolve(c.args))
    }

    /// Runs the command in `c.args`, already looked up by the caller (the
    /// forwarder resolves once for routing and execution). Inlined into
    /// `execute(_:)`: the one-shard path pays for no extra call or copy.
    @inline(__always)
    public func execute(_ c: Client, _ resolved: ResolvedCommand) {
        let args = c.args
        let startUs = ShardEngine.wallClockUs()
        now = startUs / 1000
        c.lastInteraction = now
        let replyMark = c.reply.out.writeIndex
        if !c.pushRanges.isEmpty { c.pushRanges.removeAll() }
        defer { applyReplyMode(c, mark: replyMark) }

        guard resolved.command != nil else {
            if resolved.failure == .unknownSubcommand {
                reject(c, nil, unknownSubcommandMessage(c))
            } else {
                reject(c, nil, unknownCommandMessage(args))
            }
            return
        }
        // Borrowed from `resolved` for the rest (a `let` binding would cost a
        // retain per request).
        admit(c, resolved.command.unsafelyUnwrapped, arityOK: resolved.arityOK, startUs: startUs)
    }

    /// The checks of processCommand between the lookup and the call: arity,
    /// permissions, MISCONF, LOADING, memory, pause, MULTI queuing.
    @inline(__always)
    private func admit(_ c: Client, _ cmd: Command, arityOK: Bool, startUs: Int64) {
        let args = c.args
        if !arityOK {
            reject(c, cmd, "ERR wrong number of arguments for '\(cmd.fullName)' command")
            return
        }
        if cmd.flags.contains(.protected), let refusal = protectedCommandRefusal(c, cmd) {
            reject(c, cmd, refusal)
            return
        }
        if config.protectDangerousCommands, let refusal = dangerousCommandRefusal(c, cmd) {
            reject(c, cmd, refusal)
            return
        }
        if !c.authenticated && !cmd.flags.contains(.noAuth) {
            reject(c, cmd, static: "NOAUTH Authentication required.")
            return
        }
        if diskErrors.any, !c.isMasterLink, cmd.flags.contains(.write) || cmd.name == "ping", let denied = diskErrors.denial(config) {
            reject(c, cmd, denied)
            return
        }
        if replicationGate.gated {
            replicationGate.applyingMasterStream = c.isMasterLink
            if let refusal = replicationRefusal(c, cmd) {
                reject(c, cmd, static: refusal)
                return
            }
        }
        if c.inPubSub && c.reply.proto == 2 && !ShardEngine.allowedInSubscribedMode(cmd) {
            reject(c, cmd, "ERR Can't execute '\(cmd.fullName)': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
            return
        }
        if loading && !cmd.flags.contains(.loading) {
            reject(c, cmd, static: "LOADING Redis is loading the dataset in memory")
            return
        }
        if c.inMulti && cmd.flags.contains(.noMulti) {
            reject(c, cmd, static: "ERR Command not allowed inside a transaction")
            return
        }
        if config.maxmemoryClientsEnabled && evictClientsBeforeCommand(c) { return }
        if config.maxmemory > 0 && !replicationGate.isReplica && !checkMaxmemory(c, cmd) { return }
        if admin.pauseEndMs != 0 && pausePostpones(c, cmd) {
            // CLIENT PAUSE: the runtime keeps the command in the query buffer and runs it later.
            c.postponed = true
            return
        }
        if c.inMulti && !ShardEngine.transactionControl.contains(cmd.name) {
            c.multiQueue.append(QueuedCommand(args: args, command: cmd))
            c.reply.simple("QUEUED")
            return
        }
        call(c, cmd, startUs: startUs)
    }

    static let transactionControl: Set<String> = ["exec", "discard", "multi", "watch", "quit", "reset"]

    /// Refuses a command before it runs (Redis's rejectCommand): a transaction
    /// being queued is flagged (EXEC will answer EXECABORT), the command's
    /// `rejected_calls` counts it, and the error is the reply. Every refusal
    /// goes through here or its StaticString twin.
    public func reject(_ c: Client, _ cmd: Command?, _ message: String) {
        noteRejection(c, cmd)
        c.error(message)
    }

    public func reject(_ c: Client, _ cmd: Command?, static message: StaticString) {
        noteRejection(c, cmd)
        c.error(static: message)
    }

    @inline(__always) private func noteRejection(_ c: Client, _ cmd: Command?) {
        if c.inMulti { c.multiError = true }
        cmd?.rejectedCalls += 1
    }

    /// "ERR unknown command 'x', with args beginning with: 'a' 'b' " (each
    /// part cut to 128 bytes, as Redis).
    func unknownCommandMessage(_ args: Args) -> String {
        var rest = ""
        var i = 1
        while i < args.count && rest.utf8.count < 128 {
            let a = String(decoding: args[i], as: UTF8.self)
            rest += "'" + String(a.prefix(128 - rest.utf8.count)) + "' "
            i += 1
        }
        let name = String(String(decoding: args[0], as: UTF8.self).prefix(128))
        return "ERR unknown command '\(name)', with args beginning with: \(rest)"
    }

    /// Runs a command whose arity and permissions were checked, keeping its statistics.
    func call(_ c: Client, _ cmd: Command, startUs: Int64? = nil) {
        let errorsBefore = stats.totalErrorReplies
        // Set before running: CLIENT LIST/INFO show the running command as "cmd", as Redis.
        c.lastCommand = cmd
        let start = startUs ?? ShardEngine.wallClockUs()
        let dirtyBefore = dirty
        callDepth += 1
        cmd.handler(c)
        callDepth -= 1
        if replicationGate.isReplica && !c.isMasterLink && dirty != dirtyBefore && cmd.flags.contains(.write) {
            rememberReplicaOwnExpires(c, cmd)
        }
        if writeStream.isActive {
            propagateAfterCall(c, cmd, dirtyBefore: dirtyBefore)
            if callDepth == 0 { flushPropagation(from: c) }
        }
        if c.blockRetry {
            // A blocked command re-run because a key is ready (Blocking.swift). Its
            // call was counted when it blocked; a served retry adds time and errors.
            if !c.stillBlocked {
                unblockClient(c, requeue: true)
                cmd.microseconds += Int(ShardEngine.wallClockUs() - start)
                if stats.totalErrorReplies != errorsBefore { cmd.failedCalls += 1 }
            }
            return
        }
        if c.isInternal {
            if !c.redactedArgs.isEmpty { c.redactedArgs.removeAll() }
            if callDepth == 0 && blocking.hasReadyKeys { handleClientsBlockedOnKeys() }
            return
        }
        let elapsed = ShardEngine.wallClockUs() - start
        cmd.calls += 1
        cmd.microseconds += Int(elapsed)
        if config.latencyTracking {
            if cmd.latencyHistogram == nil { cmd.latencyHistogram = LatencyHistogram() }
            cmd.latencyHistogram.unsafelyUnwrapped.record(nanoseconds: elapsed &* 1000)
        }
        if elapsed >= config.observeFloorUs { recordSlowCommand(c, cmd, elapsed) }
        if stats.totalErrorReplies != errorsBefore { cmd.failedCalls += 1 }
        stats.totalCommandsProcessed += 1
        // Like Redis, MONITOR sees a command after it ran; admin commands are never shown.
        if !clients.monitors.isEmpty && !cmd.flags.contains(.skipMonitor) && !cmd.flags.contains(.admin) {
            feedMonitors(c, cmd)
        }
        if !c.redactedArgs.isEmpty { c.redactedArgs.removeAll() }
        if callDepth == 0 && blocking.hasReadyKeys { handleClientsBlockedOnKeys() }
    }

    private func applyReplyMode(_ c: Client, mark: Int) {
        if c.postponed { return }
        switch c.replyMode {
        case .on: return
        case .off: truncateReplies(c, to: mark)
        case .skipNext: c.replyMode = .skip
        case .skip:
            truncateReplies(c, to: mark)
            c.replyMode = .on
        }
    }

    /// Drops the command's replies but keeps Pub/Sub pushes (Redis's CLIENT_PUSHING).
    private func truncateReplies(_ c: Client, to mark: Int) {
        if c.pushRanges.isEmpty { c.reply.out.truncate(to: mark); return }
        var kept: [UInt8] = []
        let out = c.reply.out
        for (s, e) in c.pushRanges where s >= mark && e <= out.writeIndex {
            kept += UnsafeRawBufferPointer(start: out.base + s, count: e - s)
        }
        c.pushRanges.removeAll()
        out.truncate(to: mark)
        if !kept.isEmpty { kept.withUnsafeBytes { out.append($0.baseAddress!, $0.count) } }
    }

}
