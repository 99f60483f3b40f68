// Every command family contributes its table here.

extension ShardEngine {
    static func allCommands() -> [Command] {
        var all: [Command] = []
        all += stringCommands()
        all += bitmapCommands()
        all += keyCommands()
        all += dumpCommands()
        all += migrateCommands()
        all += listCommands()
        all += hashCommands()
        all += setCommands()
        all += zsetCommands()
        all += streamCommands()
        all += connectionCommands()
        all += serverCommands()
        all += transactionCommands()
        all += persistenceCommands()
        all += replicationCommands()
        all += functionCommands()
        all += slowlogCommands()
        all += latencyCommands()
        all += pubsubCommands()
        all += blockingCommands()
        all += clusterCommands()
        return all
    }
}
