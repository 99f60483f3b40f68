// What the plugin host (PluginHost target) needs from the engine beyond the
// public keyspace API: keyspace events for plugin subscribers, plugin-raised
// events, and ending a plugin's block on a client.

extension ShardEngine {
    /// The slow path of notifyKeyspaceEvent: plugin subscribers, then Pub/Sub.
    @inline(never)
    func notifyKeyspaceEventSlow(_ bit: Int32, _ event: StaticString, _ key: UnsafeRawBufferPointer, _ db: Int) {
        if moduleEventMask & bit != 0, let observer = pluginObserver {
            observer.keyspaceEvent(bit, UnsafeRawBufferPointer(start: event.utf8Start, count: event.utf8CodeUnitCount), key, db)
        }
        if config.notifyFlags & bit != 0 { publishKeyspaceEvent(event, key, db) }
    }

    /// A keyspace event raised by a plugin (RedisModule_NotifyKeyspaceEvent):
    /// `bit` is a NOTIFY_* class, `event` any name.
    public func notifyPluginKeyspaceEvent(_ bit: Int32, _ event: [UInt8], _ key: [UInt8], _ db: Int) {
        event.withUnsafeBytes { ev in
            key.withUnsafeBytes { k in
                if moduleEventMask & bit != 0, let observer = pluginObserver { observer.keyspaceEvent(bit, ev, k, db) }
                guard config.notifyFlags & bit != 0, !pubsub.isEmpty else { return }
                let dbDigits = Array(String(db).utf8)
                if config.notifyFlags & KeyspaceEvents.keyspace != 0 {
                    let chan = Array("__keyspace@".utf8) + dbDigits + [0x5F, 0x5F, 0x3A] + key
                    chan.withUnsafeBytes { _ = publish($0, ev) }
                }
                if config.notifyFlags & KeyspaceEvents.keyevent != 0 {
                    let chan = Array("__keyevent@".utf8) + dbDigits + [0x5F, 0x5F, 0x3A] + event
                    chan.withUnsafeBytes { _ = publish($0, k) }
                }
            }
        }
    }

    /// Ends a block a higher layer (a plugin, WAIT) started with blockForKeys,
    /// whose reply is already written: the client goes on with its pending input.
    public func endBlock(_ c: Client) {
        unblockClient(c, requeue: true)
    }

    /// Runs a command for a plugin (RedisModule_Call) on `c`, an internal
    /// client: statistics and propagation as for any command.
    public func callForPlugin(_ c: Client, _ cmd: Command) { call(c, cmd) }

    /// Adds or removes a plugin's command in the command table.
    public func registerPluginCommand(_ cmd: Command) { commands.add(cmd) }
    public func unregisterPluginCommand(_ cmd: Command) { commands.rename(cmd, to: "") }

    public func setClientDatabase(_ c: Client, _ index: Int) -> Bool {
        guard let db = database(index) else { return false }
        c.db = db
        return true
    }
}

extension Client {
    /// A blocked command is being re-run because one of its keys is ready.
    public var isRetryingBlockedCommand: Bool { blockRetry }
}
