// Test doubles of the engine's interface (Engine/ShardInterface.swift),
// shared by the unit tests of the engine and of the layers above it: they
// record what the engine asked, with no loop and no sockets.

import Engine

/// A ShardHost that records what the engine asked of it (no loop, no sockets).
public final class RecordingHost: ShardHost {
    public init() {}
    public var withOutput: [Int64] = []
    public var unblocked: [Int64] = []
    public var closing: [Int64] = []
    public var shutdowns: [ShutdownMode] = []

    public func clientHasOutput(_ c: Client) { withOutput.append(c.id) }
    public func clientUnblocked(_ c: Client) { unblocked.append(c.id) }
    public func clientClosing(_ c: Client) { closing.append(c.id) }
    public func shutdownRequested(_ mode: ShutdownMode) -> Bool { shutdowns.append(mode); return true }
    public func serveClientsWhileBlocked() {}
    public func prepareForkedChild() {}
    public func watchReadable(_ fd: Int32, _ handler: @escaping () -> Void) {}
    public func unwatch(_ fd: Int32) {}
    public func followSupervisorStop() {}
    public func adoptMasterLink(_ fd: Int32, pendingInput: [UInt8]) -> Client {
        fatalError("RecordingHost has no sockets")
    }
    public func relayKeyspaceEvent(channel: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer) {}
    public func infoFields() -> [(String, String)] { [] }
}

/// A write-stream consumer that keeps what it was fed.
public final class RecordingStream: WriteStreamConsumer {
    public var commands: [PropagatedCommand] = []
    public var feeders: [Int64] = []
    let onFeed: (PropagatedCommand) -> Void

    public init(_ onFeed: @escaping (PropagatedCommand) -> Void = { _ in }) { self.onFeed = onFeed }

    public func feed(_ p: PropagatedCommand) {
        commands.append(p)
        onFeed(p)
    }

    public func fed(by c: Client) { feeders.append(c.id) }
}
