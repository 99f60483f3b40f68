// Propagation: the stream of write commands that reproduces the dataset when
// replayed (Redis's propagate/alsoPropagate). Its consumer
// (`ShardEngine.writeStream`, WriteStream.swift) are the AOF; replicas
// will be too. A write command whose `dirty` count moved is propagated with its
// own arguments unless it says otherwise:
//   - `rewritePropagation` replaces its arguments (EXPIRE -> PEXPIREAT, SET EX
//     -> SET PXAT, INCRBYFLOAT -> SET KEEPTTL, BLPOP -> LPOP...), because the
//     replay must not depend on the clock, randomness or blocking;
//   - `alsoPropagate` emits extra commands in order (expired keys' DELs, SPOP's
//     SREMs...), and `preventPropagation` drops the command's own form.
// Everything one top-level command emits reaches the consumer at once, wrapped in
// MULTI/EXEC when it is more than one command, so a replay is atomic as well.

import RESP

public struct PropagatedCommand {
    public var db: Int
    public var argv: [[UInt8]]
    public init(db: Int, argv: [[UInt8]]) { self.db = db; self.argv = argv }
}

extension ShardEngine {
    /// False when nothing consumes propagation: commands can skip building rewrites.
    @inline(__always) public var isPropagating: Bool { writeStream.isActive }

    /// Propagate `argv` instead of the running command's own arguments.
    public func rewritePropagation(_ c: Client, _ argv: [[UInt8]]) {
        guard isPropagating else { return }
        c.propagationOverride = argv
    }

    /// The running command is propagated as it is even if it changed nothing
    /// (Redis's forceCommandPropagation).
    public func forcePropagation(_ c: Client) {
        guard isPropagating else { return }
        c.propagationOverride = (0..<c.args.count).map { c.args.bytes($0) }
    }

    /// The running command itself is not propagated (what it `alsoPropagate`d still is).
    public func preventPropagation(_ c: Client) {
        guard isPropagating else { return }
        c.propagationOverride = []
    }

    /// Queues an extra command for propagation, before the running command's own form.
    public func alsoPropagate(db: Int, _ argv: [[UInt8]]) {
        guard isPropagating else { return }
        pendingPropagation.append(PropagatedCommand(db: db, argv: argv))
        if callDepth == 0 { flushPropagation(from: nil) }
    }

    /// Called by `call` after a handler ran: queues the command's own form.
    func propagateAfterCall(_ c: Client, _ cmd: Command, dirtyBefore: Int64) {
        if let override = c.propagationOverride {
            c.propagationOverride = nil
            if !override.isEmpty { pendingPropagation.append(PropagatedCommand(db: c.dbIndex, argv: override)) }
        } else if dirty != dirtyBefore && cmd.flags.contains(.write) {
            var argv: [[UInt8]] = []
            argv.reserveCapacity(c.args.count)
            for i in 0..<c.args.count { argv.append(c.args.bytes(i)) }
            pendingPropagation.append(PropagatedCommand(db: c.dbIndex, argv: argv))
        }
    }

    /// Hands what the finished top-level command queued to the write stream;
    /// `client` issued it (nil: the server itself, e.g. an expired key).
    func flushPropagation(from client: Client?) {
        guard writeStream.isActive, !pendingPropagation.isEmpty else { return }
        let stream = writeStream
        let batch = pendingPropagation
        pendingPropagation.removeAll(keepingCapacity: true)
        if batch.count == 1 {
            stream.feed(batch[0])
        } else {
            stream.feed(PropagatedCommand(db: batch[0].db, argv: [Array("MULTI".utf8)]))
            for p in batch { stream.feed(p) }
            stream.feed(PropagatedCommand(db: batch[batch.count - 1].db, argv: [Array("EXEC".utf8)]))
        }
        if let c = client { stream.fed(by: c) }
    }

    /// A key removed by the server itself (expiry, eviction) is propagated as DEL,
    /// or UNLINK when the matching lazyfree option is on.
    func propagateDeletion(db: Int, key: [UInt8], lazy: Bool) {
        alsoPropagate(db: db, [Array((lazy ? "UNLINK" : "DEL").utf8), key])
    }
}

extension ShardEngine {
    /// Runs a command read back from the AOF (Redis's fake AOF client): no
    /// permission, memory, MISCONF or LOADING checks, and its effects are not
    /// propagated again. False if the command is unknown or has a wrong arity.
    public func replay(_ c: Client) -> Bool {
        guard let cmd = resolve(c.args).runnable else { return false }
        writeStream.withoutPropagation {
            updateClock()
            call(c, cmd)
        }
        return true
    }

    /// A client for replaying commands (AOF loading): not listed, never connected.
    public func makeReplayClient() -> Client {
        let c = Client(id: 0, engine: self, reply: ReplyEncoder(), authenticated: true, now: now)
        c.addr = "aof:0"
        return c
    }
}

extension ShardEngine {
    /// Propagates the running command as `name` followed by `args` (argument
    /// vectors built only when something consumes propagation).
    public func rewritePropagation(_ c: Client, _ name: StaticString, _ args: [UInt8]...) {
        guard isPropagating else { return }
        c.propagationOverride = [Array(UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))] + args
    }

    /// Propagates the running command as a DEL of `key`, or UNLINK when `lazy`.
    public func rewritePropagationAsDelete(_ c: Client, _ key: UnsafeRawBufferPointer, lazy: Bool) {
        guard isPropagating else { return }
        c.propagationOverride = [Array((lazy ? "UNLINK" : "DEL").utf8), Array(key)]
    }
}
